"""
===================================
Quickstart: the next batch to label
===================================

A small skorch network is trained on 100 labeled digits (scikit-learn's bundled
8×8 images). BADGE picks the next 20 images to send to the annotators; entropy
sampling is shown beside it. Then :class:`~skal.ActiveLearner` simulates a few
rounds of query → label → refit, with every label known.
"""

# %%
# A fitted skorch net and a pool
# ------------------------------
# Any ``nn.Module`` wrapped by skorch works unchanged; :mod:`skal.toy` builds a
# small MLP. ``prefit=True`` tells the strategy to use the fitted net as it is.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_digits

from skal import BADGE, ActiveLearner, EntropySampling, RandomSampling
from skal.toy import make_skorch_classifier

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, y_train = X[:100], y[:100]
X_pool, y_pool = X[100:1500], y[100:1500]
X_test, y_test = X[1500:], y[1500:]

net_params = {"max_epochs": 30, "optimizer": torch.optim.Adam, "lr": 0.01}
net = make_skorch_classifier(64, 10, **net_params).fit(X_train, y_train)
print(f"test accuracy with 100 labels: {net.score(X_test, y_test):.3f}")

badge = BADGE(estimator=net, prefit=True, random_state=0)
entropy = EntropySampling(estimator=net, prefit=True)
picks = {
    "BADGE": badge.query(X_pool, batch_size=20),
    "entropy": entropy.query(X_pool, batch_size=20),
}

# %%
# What each strategy picked
# -------------------------
# Row indices into the pool, most valuable first. The true labels are shown
# here; in real labeling they are what the annotators will tell us.
fig, axes = plt.subplots(2, 20, figsize=(12, 1.8))
for row, (name, batch) in zip(axes, picks.items()):
    for ax, i in zip(row, batch):
        ax.imshow(X_pool[i].reshape(8, 8), cmap="gray_r")
        ax.set_title(str(y_pool[i]), fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name, rotation=0, ha="right", va="center")
fig.suptitle("The next 20 images to label (true digit above each)")
fig.tight_layout()

pd.DataFrame(
    {name: np.bincount(y_pool[batch], minlength=10) for name, batch in picks.items()},
    index=pd.Index(range(10), name="digit"),
).T

# %%
# Simulated rounds with ``ActiveLearner``
# ---------------------------------------
# With every label known, ``fit`` simulates pool-based active learning: 30
# random labels, then rounds of 30 picks until 180 labels. ``history_`` holds
# each round's test score and timings.
curves = {}
for strategy in (RandomSampling(random_state=0), EntropySampling(), BADGE(random_state=0)):
    learner = ActiveLearner(
        make_skorch_classifier(64, 10, **net_params), strategy,
        initial_size=30, batch_size=30, budget=180, random_state=0,
    ).fit(X[:1500], y[:1500], X_val=X_test, y_val=y_test)
    curves[type(strategy).__name__] = learner.history_

pd.DataFrame({name: h["score"] for name, h in curves.items()},
             index=pd.Index(curves["BADGE"]["n_labeled"], name="labels")).round(3)

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for name, history in curves.items():
    ax.plot(history["n_labeled"], history["score"], marker="o", label=name)
ax.set_xlabel("labeled samples")
ax.set_ylabel("test accuracy")
ax.set_title("One trial on digits (see the comparison example for many)")
ax.legend()
fig.tight_layout()
plt.show()

# sphinx_gallery_thumbnail_number = 2
