"""
=====================================
Choosing a strategy with GridSearchCV
=====================================

Strategies and :class:`~skal.ActiveLearner` are scikit-learn estimators: they
clone, sit in a :class:`~sklearn.pipeline.Pipeline`, and
:class:`~sklearn.model_selection.GridSearchCV` searches over the strategy and
its parameters like any other hyper-parameter.

Each candidate is scored by its whole learning curve, not only by the model at
the end of the budget: :func:`skal.metrics.make_learning_curve_scorer` with
``"aulc"`` is the area under the learning curve (the mean test score over the
rounds), measured on each cross-validation fold's held-out part.
"""

# %%
# A pipeline with an active learner in it
# ---------------------------------------
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skal import BADGE, ActiveLearner, EntropySampling, MarginSampling, RandomSampling
from skal.metrics import make_learning_curve_scorer

X, y = load_digits(return_X_y=True)
X, y = X[:900], y[:900]

pipe = make_pipeline(
    StandardScaler(),
    ActiveLearner(LogisticRegression(max_iter=300), EntropySampling(),
                  initial_size=20, batch_size=20, budget=140,
                  keep_estimators=True, random_state=0),
)
param_grid = {
    "activelearner__strategy": [RandomSampling(random_state=0), EntropySampling(),
                                MarginSampling(), BADGE(random_state=0)],
    "activelearner__batch_size": [10, 40],
}
search = GridSearchCV(pipe, param_grid, scoring=make_learning_curve_scorer("aulc"),
                      cv=3, n_jobs=2).fit(X, y)
print("best:", search.best_params_)

# %%
# Every candidate, ranked
# -----------------------
# ``cv_results_`` is scikit-learn's usual table.
results = pd.DataFrame(search.cv_results_)
table = pd.DataFrame({
    "strategy": [type(s).__name__ for s in results["param_activelearner__strategy"]],
    "batch_size": results["param_activelearner__batch_size"],
    "AULC (mean)": results["mean_test_score"].round(3),
    "AULC (std)": results["std_test_score"].round(3),
    "rank": results["rank_test_score"],
}).sort_values("rank")
table

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for batch_size, group in table.groupby("batch_size"):
    group = group.sort_values("strategy")
    ax.errorbar(group["strategy"], group["AULC (mean)"], yerr=group["AULC (std)"],
                marker="o", capsize=3, linestyle="none", label=f"batch_size={batch_size}")
ax.set_ylabel("area under the learning curve")
ax.set_title("3-fold cross-validated AULC, 20 to 140 labels")
ax.legend()
fig.tight_layout()
plt.show()
