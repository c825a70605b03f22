"""What did BADGE pick? Its first picks on a map of its gradient embedding (MNIST).

The setup of ``variable_batches_mnist.py`` (from the BADGE variable-batch
study): a LeNet trained on half of MNIST's training set with every 0 and 1
removed; 15,000 held-out images, 0s and 1s included, are the pool. The pool's
BADGE gradient embeddings (from their factors, never built) are mapped to 2-D
by landmark MDS, and BADGE's first 100 picks are drawn on the map in rank
order, coloured by their true class. The picks summary counts them per
predicted and true class.

Run: ``SKAL_DATA=../shared/data python examples/embedding_map_mnist.py``
(writes docs/results/variable_batches/badge_embedding_map.png and
picks_summary.json). ``--quick`` (or ``SKAL_QUICK=1``) is a tiny run for the
test suite: 500 training images, 1 epoch, a pool of 300, 20 picks; it writes to a new
temporary folder unless ``--output`` is given.
"""

import argparse
import os
import tempfile
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch
from skorch import NeuralNetClassifier

from skal import BADGE
from skal.datasets import load_mnist
from skal.inspection import picks_summary
from skal.plotting import plot_embedding
from skal.toy import LeNetModule


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--pool", type=int, default=15000)
    parser.add_argument("--picks", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="docs/results/variable_batches")
    parser.add_argument("--n-train", type=int, default=None,
                        help="use only the first N training images (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="a tiny run for the test suite (also SKAL_QUICK=1)")
    args = parser.parse_args(argv)
    if args.quick or os.environ.get("SKAL_QUICK") == "1":
        parser.set_defaults(epochs=1, pool=300, picks=20, n_train=500, output=None)
        args = parser.parse_args(argv)
        if args.output is None:  # never over the committed results
            args.output = tempfile.mkdtemp(prefix="skal_quick_")
        print(f"quick mode: writing to {args.output}")
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)

    X, y = load_mnist(train=True)
    X = (X[:, None] / 255.0).astype(np.float32)
    perm = np.random.RandomState(args.seed).permutation(len(y))
    half, rest = perm[: len(y) // 2], perm[len(y) // 2 :]
    train = half[y[half] > 1]  # no 0s, no 1s
    if args.n_train is not None:
        train = train[: args.n_train]
    pool = rest[: args.pool]
    net = NeuralNetClassifier(
        LeNetModule, criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.Adam,
        lr=1e-3, max_epochs=args.epochs, batch_size=128, train_split=None, verbose=0,
        iterator_valid__batch_size=1024,
    ).fit(X[train], y[train])

    X_pool, y_pool = X[pool], y[pool]
    badge = BADGE(net, prefit=True, random_state=args.seed)
    picks = badge.query(X_pool, batch_size=args.picks)
    fig, ax = plt.subplots(figsize=(7.5, 6), layout="constrained")
    plot_embedding(badge, X_pool, picks, y=y_pool, n_annotated=20, random_state=args.seed,
                   ax=ax)
    ax.set_title(
        f"BADGE's first {args.picks} picks on its gradient embedding (landmark MDS)\n"
        "LeNet trained without 0s and 1s; pool of "
        f"{len(pool):,} MNIST images, coloured by true class", fontsize=9,
    )
    fig.savefig(out / "badge_embedding_map.png", dpi=120)
    summary = picks_summary(badge, X_pool, picks, y=y_pool)
    table = {key: value.tolist() for key, value in summary.items()}
    (out / "picks_summary.json").write_text(json.dumps(table, indent=1))
    print("class  picked(predicted)  picked(true)  pool(true)")
    for row in zip(*(table[k] for k in ("class", "picked_predicted", "picked_true",
                                        "pool_true"))):
        print("{:>5}  {:>17}  {:>12}  {:>10}".format(*row))
    return table


if __name__ == "__main__":
    main()
