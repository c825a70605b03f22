"""
============================================
Variable batches: ``rank`` and ``lazy_rank``
============================================

A labeling team rarely knows its batch size in advance: it takes items from the
top of a list until the day ends, and tomorrow new unlabeled data arrives.
``rank`` orders the whole pool, and any prefix of the ranking is what ``query``
returns for that batch size. ``lazy_rank`` gives the same order one index at a
time, and new samples can join mid-way.

The setup follows the BADGE variable-batch study, on scikit-learn's digits: the
network is trained without any 0 or 1, and the pool contains them. A good
ranking puts these unseen classes near the top, and keeps the top diverse.
"""

# %%
# A net that has never seen a 0 or a 1
# -------------------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_digits

from skal import BADGE, EntropySampling, RandomSampling
from skal.toy import make_skorch_classifier

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
rng = np.random.RandomState(0)
order = rng.permutation(len(y))
X, y = X[order], y[order]
seen = y[:600] >= 2  # the training half, without 0s and 1s
X_train, y_train = X[:600][seen], y[:600][seen]
X_pool, y_pool = X[600:1500], y[600:1500]
X_new, y_new = X[1500:], y[1500:]  # tomorrow's data

net = make_skorch_classifier(64, 10, max_epochs=30, optimizer=torch.optim.Adam,
                             lr=0.01).fit(X_train, y_train)
print(f"trained on {len(y_train)} images of the digits 2-9; "
      f"the pool of {len(y_pool)} is {np.isin(y_pool, [0, 1]).mean():.0%} 0s and 1s")

strategies = {
    "BADGE": BADGE(estimator=net, prefit=True, random_state=0),
    "entropy": EntropySampling(estimator=net, prefit=True),
    "random": RandomSampling(random_state=0),
}
strategies["random"].fit(X_train, y_train)
rankings = {name: s.rank(X_pool) for name, s in strategies.items()}

# %%
# Any prefix of a ranking is a batch
# ----------------------------------
# ``query(X_pool, k)`` returns the ranking's first ``k`` for every ``k``
# (stochastic strategies with a fixed ``random_state``).
for k in (1, 10, 100):
    assert np.array_equal(strategies["BADGE"].query(X_pool, k), rankings["BADGE"][:k])

ks = np.arange(1, 201)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for name, ranking in rankings.items():
    unseen = np.isin(y_pool[ranking[:200]], [0, 1])
    axes[0].plot(ks, np.cumsum(unseen) / ks, label=name)
    distinct = [len(np.unique(y_pool[ranking[:k]])) for k in ks]
    axes[1].plot(ks, distinct, label=name)
axes[0].axhline(np.isin(y_pool, [0, 1]).mean(), color="gray", linestyle=":", label="base rate")
axes[0].set(xlabel="batch size k", ylabel="share of 0s and 1s in the first k",
            title="Unseen classes at the top")
axes[1].set(xlabel="batch size k", ylabel="distinct digits in the first k",
            title="Diversity at the top")
axes[0].legend()
fig.tight_layout()

# %%
summary = pd.DataFrame({
    name: {
        "0s and 1s in the first 10": int(np.isin(y_pool[r[:10]], [0, 1]).sum()),
        "0s and 1s in the first 50": int(np.isin(y_pool[r[:50]], [0, 1]).sum()),
        "distinct digits in the first 50": len(np.unique(y_pool[r[:50]])),
    }
    for name, r in rankings.items()
}).T
summary

# %%
# The first 30 of BADGE's ranking
# -------------------------------
fig, axes = plt.subplots(2, 15, figsize=(10, 1.8))
for rank, (ax, i) in enumerate(zip(axes.ravel(), rankings["BADGE"][:30])):
    ax.imshow(X_pool[i].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"#{rank + 1}: {y_pool[i]}", fontsize=7)
    ax.axis("off")
fig.suptitle("BADGE's first 30 (rank: true digit)")
fig.tight_layout()

# %%
# A ranking that new data can join: ``lazy_rank``
# -----------------------------------------------
# Today the team labels 25 items. Overnight 297 new images arrive; tomorrow's
# items are picked among the remaining old ones and the new ones alike. New
# samples are numbered after the pool (index ``len(X_pool) + j``).
lazy = strategies["BADGE"].lazy_rank(X_pool)
today = lazy.take(25)
assert np.array_equal(today, rankings["BADGE"][:25])  # the same order as rank()
lazy.add(X_new)
tomorrow = lazy.take(25)
is_new = tomorrow >= len(X_pool)
labels = np.concatenate([y_pool, y_new])[tomorrow]
print(f"today: {len(today)} picks; tomorrow: {len(tomorrow)} picks, "
      f"{is_new.sum()} of them from the new data")
print("tomorrow's digits:", labels.tolist())
plt.show()
