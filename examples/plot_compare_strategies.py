"""
==========================================================
Is it worth it? Labeling efficiency and the penalty matrix
==========================================================

:func:`skal.model_selection.compare_strategies` runs several strategies on
identical trials (the same folds, initial labeled sets and seeds) and adds
random sampling as the baseline. From the learning curves it reports:

- the **labeling efficiency** against random sampling: the labels random needs
  to reach a test score, divided by the labels the strategy needs
  (:func:`skal.metrics.labeling_efficiency`); 2 means half the labels;
- the **area under the learning curve** (:func:`skal.metrics.area_under_learning_curve`);
- the **penalty matrix**: the fraction of rounds in which one strategy beats
  another by a paired t-test across trials (:func:`skal.metrics.penalty_matrix`).

:mod:`skal.plotting` draws each of them.
"""

# %%
# Identical trials for every strategy
# -----------------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from skal import ActiveLearner
from skal.metrics import area_under_learning_curve, labeling_efficiency, penalty_matrix
from skal.model_selection import compare_strategies
from skal.plotting import plot_labeling_efficiency, plot_learning_curves, plot_penalty_matrix

X, y = load_digits(return_X_y=True)
X = X / 16
learner = ActiveLearner(LogisticRegression(max_iter=300),
                        initial_size=20, batch_size=20, budget=200)
comparison = compare_strategies(learner, ["entropy", "margin", "badge", "coreset"], X, y,
                                cv=3, n_repeats=2, random_state=0, n_jobs=2)
print(f"{len(comparison.trials)} trials; labels after each round: "
      f"{comparison.n_labeled.tolist()}")

# %%
# The summary table
# -----------------
summary = comparison.summary().set_index("strategy")  # a DataFrame (pandas installed)
summary[["final_score_mean", "final_score_std", "labeling_efficiency", "aulc_mean",
         "strategies_beaten_per_round", "query_time_mean"]].set_axis(
    ["accuracy", "± std", "label efficiency", "AULC", "beats / round", "query s"],
    axis="columns").round(3)

# %%
# Learning curves and labeling efficiency along them
# --------------------------------------------------
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
plot_learning_curves(comparison, ax=axes[0])
plot_labeling_efficiency(comparison, ax=axes[1])
fig.tight_layout()

# %%
# The penalty matrix
# ------------------
# Cell (i, j): the fraction of rounds in which strategy i beats strategy j
# (two-tailed paired t-test across the 6 trials, alpha = 0.05).
fig, ax = plt.subplots(figsize=(5.5, 4.5))
plot_penalty_matrix(comparison, ax=ax)
fig.tight_layout()

# %%
# The same numbers from :mod:`skal.metrics`
# -----------------------------------------
# The metrics are plain functions of the per-trial scores, usable on curves
# from anywhere: ``scores`` has shape ``(n_trials, n_rounds)``.
n_labeled = comparison.n_labeled
random_scores = comparison.scores["RandomSampling"]
rows = {}
for name in comparison.names:
    scores = comparison.scores[name]
    rows[name] = {
        "labeling efficiency": labeling_efficiency(n_labeled, scores, random_scores),
        "AULC": np.mean([area_under_learning_curve(n_labeled, s) for s in scores]),
    }
pd.DataFrame(rows).T.round(3)

# %%
names, penalty = penalty_matrix({name: comparison.scores[name] for name in comparison.names})
pd.DataFrame(penalty, index=names, columns=names).round(2)
