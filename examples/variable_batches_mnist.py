"""Variable-sized batches on MNIST: BADGE ranks the pool; do 0s and 1s come first?

The setup of the seed blog "An Extension to BADGE Active Learning for
Variable-Sized Batches": a small CNN is trained on half of MNIST's training set
with every 0 and 1 removed; 15,000 held-out training images (0s and 1s
included) are the unlabeled pool. A good ranking puts the unseen classes near
the top, and diverse ones. We report the share of 0s and 1s among the first 10
and 100 picks of BADGE's ranking and of entropy sampling's, time the full BADGE
ordering and the first 100 of the lazy one, and draw the picks as image grids.

Run: ``SKAL_DATA=../shared/data python examples/variable_batches_mnist.py``
(writes docs/results/variable_batches/). ``--quick`` (or ``SKAL_QUICK=1``) is a
tiny run for the test suite: 500 training images, 1 epoch, a pool of 300; it writes to a new
temporary folder unless ``--output`` is given.
"""

import argparse
import os
import tempfile
import json
import time
from pathlib import Path

import numpy as np
import torch
from skorch import NeuralNetClassifier

from skal import BADGE, EntropySampling
from skal.datasets import load_mnist
from skal.embeddings import gradient_embedding
from skal.selection import KMeansPlusPlusRanking, OuterProduct
from skal.toy import LeNetModule


def grid(images, labels, title, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(images)
    cols = 10
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 1.0 + 0.6))
    for ax in axes.ravel():
        ax.axis("off")
    for k, (img, lab) in enumerate(zip(images, labels)):
        ax = axes.ravel()[k]
        ax.imshow(img, cmap="gray_r" if lab > 1 else "Reds")
        ax.set_title(f"#{k + 1}: {lab}", fontsize=7, color="crimson" if lab <= 1 else "black")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--pool", type=int, default=15000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="docs/results/variable_batches")
    parser.add_argument("--n-train", type=int, default=None,
                        help="use only the first N training images (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="a tiny run for the test suite (also SKAL_QUICK=1)")
    args = parser.parse_args(argv)
    if args.quick or os.environ.get("SKAL_QUICK") == "1":
        parser.set_defaults(epochs=1, pool=300, n_train=500, output=None)
        args = parser.parse_args(argv)
        if args.output is None:  # never over the committed results
            args.output = tempfile.mkdtemp(prefix="skal_quick_")
        print(f"quick mode: writing to {args.output}")
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)

    X, y = load_mnist(train=True)
    X = (X[:, None] / 255.0).astype(np.float32)
    perm = np.random.RandomState(args.seed).permutation(len(y))
    half, rest = perm[: len(y) // 2], perm[len(y) // 2 :]
    train = half[y[half] > 1]
    if args.n_train is not None:
        train = train[: args.n_train]
    pool = rest[: args.pool]

    net = NeuralNetClassifier(
        LeNetModule, criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.Adam,
        lr=1e-3, max_epochs=args.epochs, batch_size=128, train_split=None, verbose=0,
        iterator_valid__batch_size=1024,
    )
    tic = time.perf_counter()
    net.fit(X[train], y[train])
    train_s = time.perf_counter() - tic

    X_pool, y_pool = X[pool], y[pool]
    badge = BADGE(net, prefit=True, random_state=args.seed)
    tic = time.perf_counter()
    lazy = badge.lazy_rank(X_pool)
    first100 = lazy.take(100)
    lazy_s = time.perf_counter() - tic
    tic = time.perf_counter()
    full = badge.rank(X_pool)
    full_s = time.perf_counter() - tic
    assert np.array_equal(full[:100], first100)
    tic = time.perf_counter()
    entropy = EntropySampling(net, prefit=True).rank(X_pool)
    entropy_s = time.perf_counter() - tic

    # the selection alone, on precomputed factors (the CNN's forward pass over the
    # pool dominates the strategy-level times above)
    tic = time.perf_counter()
    h, e = gradient_embedding(net, X_pool, return_factors=True)
    forward_s = time.perf_counter() - tic
    tic = time.perf_counter()
    KMeansPlusPlusRanking(OuterProduct(h, e), random_state=args.seed).take(len(h))
    engine_full_s = time.perf_counter() - tic
    tic = time.perf_counter()
    KMeansPlusPlusRanking(OuterProduct(h, e), random_state=args.seed).take(100)
    engine_100_s = time.perf_counter() - tic

    def share(order, k):
        return float(np.isin(y_pool[order[:k]], [0, 1]).mean())

    result = {
        "n_train": int(len(train)), "n_pool": int(len(pool)),
        "pool_share_of_0_and_1": float(np.isin(y_pool, [0, 1]).mean()),
        "epochs": args.epochs, "train_seconds": train_s,
        "badge": {"share_0_1_first_10": share(full, 10), "share_0_1_first_100": share(full, 100),
                  "zeros_in_first_100": int((y_pool[full[:100]] == 0).sum()),
                  "ones_in_first_100": int((y_pool[full[:100]] == 1).sum()),
                  "distinct_labels_first_100": int(len(np.unique(y_pool[full[:100]]))),
                  "seconds_full_ordering": full_s,
                  "seconds_lazy_first_100": lazy_s,
                  "seconds_forward_pass_embeddings": forward_s,
                  "seconds_engine_full_ordering": engine_full_s,
                  "seconds_engine_first_100": engine_100_s},
        "entropy": {"share_0_1_first_10": share(entropy, 10),
                    "share_0_1_first_100": share(entropy, 100),
                    "zeros_in_first_100": int((y_pool[entropy[:100]] == 0).sum()),
                    "ones_in_first_100": int((y_pool[entropy[:100]] == 1).sum()),
                    "distinct_labels_first_100": int(len(np.unique(y_pool[entropy[:100]]))),
                    "seconds_full_ranking": entropy_s},
        "badge_first_100_labels": y_pool[full[:100]].tolist(),
        "entropy_first_100_labels": y_pool[entropy[:100]].tolist(),
    }
    (out / "results.json").write_text(json.dumps(result, indent=1))
    grid(X_pool[full[:50], 0], y_pool[full[:50]],
         "BADGE: first 50 picks (0s and 1s in red; never seen in training)",
         out / "badge_first_50.png")
    grid(X_pool[entropy[:50], 0], y_pool[entropy[:50]],
         "Entropy sampling: first 50 picks (0s and 1s in red)", out / "entropy_first_50.png")
    print(json.dumps({k: v for k, v in result.items() if not k.endswith("labels")}, indent=1))
    return result


if __name__ == "__main__":
    main()
