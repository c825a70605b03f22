"""
============================
BADGE's first picks on MNIST
============================

A small MLP is trained on 300 labeled MNIST images; BADGE (Ash et al., ICLR
2020) then ranks a pool of 5,000 unlabeled ones. Its first picks are images the
network is unsure about *and* that differ from each other: k-means++ seeding on
gradient embeddings, computed from their factors without building them.

MNIST is read from ``$SKAL_DATA/MNIST/raw`` (:func:`skal.datasets.load_mnist`,
which never downloads). Without those files, this example falls back to
scikit-learn's bundled 8×8 digits and says so in its output.
"""

# %%
# The data: MNIST from ``$SKAL_DATA``, or digits
# ----------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

from skal import BADGE
from skal.datasets import load_mnist
from skal.inspection import picks_summary
from skal.plotting import plot_embedding
from skal.toy import make_skorch_classifier

try:
    images, labels = load_mnist(train=True)
    dataset, side = "MNIST", 28
except FileNotFoundError:
    digits = load_digits()
    images, labels = digits.images, digits.target
    dataset, side = "digits", 8
    print("MNIST files not found ($SKAL_DATA/MNIST/raw is missing): "
          "falling back to scikit-learn's bundled 8x8 digits.")
print(f"data set: {dataset}, {len(labels)} images of {side}x{side} pixels")

rng = np.random.RandomState(0)
order = rng.permutation(len(labels))[:300 + 5000]
X = (images[order].reshape(len(order), -1) / images.max()).astype(np.float32)
y = labels[order].astype(np.int64)
X_train, y_train = X[:300], y[:300]
X_pool, y_pool = X[300:], y[300:]

# %%
# A net trained on 300 labels, and BADGE's first picks
# ----------------------------------------------------
net = make_skorch_classifier(X.shape[1], 10, max_epochs=30).fit(X_train, y_train)
print(f"accuracy on the pool: {net.score(X_pool, y_pool):.3f}")

badge = BADGE(estimator=net, prefit=True, random_state=0)
picks = badge.query(X_pool, batch_size=40)
predicted = net.predict(X_pool[picks])

fig, axes = plt.subplots(4, 10, figsize=(10, 4.6))
for rank, (ax, i) in enumerate(zip(axes.ravel(), picks)):
    ax.imshow(X_pool[i].reshape(side, side), cmap="gray_r")
    color = "black" if predicted[rank] == y_pool[i] else "crimson"
    ax.set_title(f"#{rank + 1}: {y_pool[i]} ({predicted[rank]})", fontsize=8, color=color)
    ax.axis("off")
fig.suptitle(f"BADGE's first 40 picks on {dataset}: rank: true digit (predicted), "
             "mistakes in red")
fig.tight_layout()

# %%
# Which classes the batch covers
# ------------------------------
# :func:`skal.inspection.picks_summary` counts the picks per predicted and per
# true class, against the pool.
pd.DataFrame(picks_summary(badge, X_pool, picks, y=y_pool)).set_index("class")

# %%
# The picks on a map of BADGE's gradient embedding
# ------------------------------------------------
# :func:`skal.plotting.plot_embedding` maps the pool's gradient embeddings to
# 2-D by landmark MDS and draws the picks in rank order: they spread over the
# map rather than crowd one uncertain region.
fig, ax = plt.subplots(figsize=(7, 6))
plot_embedding(badge, X_pool, picks, y=y_pool, n_landmarks=300, random_state=0, ax=ax)
ax.set_title(f"BADGE's first 40 picks on {dataset} (numbers: rank)")
fig.tight_layout()
plt.show()
