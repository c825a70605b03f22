"""Reproduce the seed paper's MNIST table: BADGE vs random, subset and proxy BADGE.

Setup ("An Implementation and Acceleration of the BADGE Active Learning
Algorithm"): a 784-256-10 MLP, the 60,000 training images as the pool, the
10,000 test images as the test set, 100 random initial labels, 10 rounds of
100, five trials. Strategies: random, BADGE, BADGE on a random subset of 5,000
candidates, and BADGE on the 5,000 most promising candidates by least
confidence, margin or entropy; entropy sampling for its query time. Every strategy runs the same five trials (same
initial sets). The MLP is retrained from scratch each round (Adam, lr 1e-3,
``--epochs`` epochs; the paper trains to high train accuracy).

Run: ``SKAL_DATA=../shared/data python examples/reproduce_badge_mnist.py``
(writes docs/results/badge_mnist/: rounds.csv/.json, summary.json, plots).
``--quick`` (or ``SKAL_QUICK=1``) is a tiny run for the test suite: a pool of
500, 200 candidates, 300 labels, 1 epoch, 1 trial, no worker processes; it writes to a new
temporary folder unless ``--output`` is given.
"""

import argparse
import os
import tempfile
import csv
import json
import time
from pathlib import Path

import numpy as np
import torch

from skal import BADGE, ActiveLearner, EntropySampling, RandomSampling
from skal.datasets import load_mnist
from skal.model_selection import compare_strategies
from skal.plotting import save_comparison_plots
from skal.strategies import ProxyPrefilter, SubsetSampling
from skal.toy import make_skorch_classifier

PAPER = {  # final accuracy at 1,100 labels, mean query time per round (s)
    "random": (88.93, None),
    "BADGE": (91.37, 70.56),
    "subset BADGE (5,000)": (91.33, 4.86),
    "proxy BADGE (least confidence, 5,000)": (91.89, 7.78),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--pool", type=int, default=60000)
    parser.add_argument("--candidates", type=int, default=5000)
    parser.add_argument("--output", default="docs/results/badge_mnist")
    parser.add_argument("--budget", type=int, default=1100)
    parser.add_argument("--quick", action="store_true",
                        help="a tiny run for the test suite (also SKAL_QUICK=1)")
    args = parser.parse_args(argv)
    if args.quick or os.environ.get("SKAL_QUICK") == "1":
        parser.set_defaults(trials=1, epochs=1, n_jobs=1, pool=500, candidates=200,
                            budget=300, output=None)
        args = parser.parse_args(argv)
        if args.output is None:  # never over the committed results
            args.output = tempfile.mkdtemp(prefix="skal_quick_")
        print(f"quick mode: writing to {args.output}")
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)

    X, y = load_mnist(train=True)
    X_test, y_test = load_mnist(train=False)
    X = (X.reshape(len(X), -1)[: args.pool] / 255.0).astype(np.float32)
    y = y[: args.pool]
    X_test = (X_test.reshape(len(X_test), -1) / 255.0).astype(np.float32)

    net = make_skorch_classifier(
        784, 10, hidden_units=256, max_epochs=args.epochs, optimizer=torch.optim.Adam,
        lr=1e-3, batch_size=64, iterator_valid__batch_size=1024,
    )
    learner = ActiveLearner(net, initial_size=100, batch_size=100, budget=args.budget)
    m = args.candidates
    strategies = {
        "random": RandomSampling(),
        "entropy": EntropySampling(),
        "BADGE": BADGE(),
        f"subset BADGE ({m:,})": SubsetSampling(BADGE(), n_candidates=m),
        f"proxy BADGE (least confidence, {m:,})": ProxyPrefilter(
            BADGE(), proxy="least_confidence", n_candidates=m),
        f"proxy BADGE (margin, {m:,})": ProxyPrefilter(BADGE(), proxy="margin", n_candidates=m),
        f"proxy BADGE (entropy, {m:,})": ProxyPrefilter(BADGE(), proxy="entropy", n_candidates=m),
    }
    tic = time.perf_counter()
    comparison = compare_strategies(
        learner, strategies, X, y, X_test=X_test, y_test=y_test, n_repeats=args.trials,
        n_jobs=args.n_jobs, random_state=0, scoring="accuracy", verbose=1,
    )
    wall = time.perf_counter() - tic

    records = comparison.to_records()
    with open(out / "rounds.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    (out / "rounds.json").write_text(json.dumps(records))
    rows = comparison.summary(as_frame=False)
    for row in rows:
        paper = PAPER.get(row["strategy"], (None, None))
        row["paper_final_accuracy_pct"], row["paper_query_seconds"] = paper
    summary = {"rows": rows, "names": comparison.names,
               "penalty": comparison.penalty.tolist(), "wall_seconds": wall,
               "command": "SKAL_DATA=../shared/data python examples/reproduce_badge_mnist.py "
               + " ".join(argv or []), "epochs": args.epochs, "trials": args.trials}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    save_comparison_plots(comparison, out)
    acc = f"acc@{args.budget} %"
    print(f"{'strategy':>40} {acc:>16} {'paper %':>8} {'query s':>8} {'paper s':>8}")
    for row in rows:
        final = 100 * row["final_score_mean"]
        std = 100 * row["final_score_std"]
        paper_acc, paper_s = row["paper_final_accuracy_pct"], row["paper_query_seconds"]
        print(f"{row['strategy']:>40} {final:>9.2f} ± {std:4.2f} "
              f"{paper_acc if paper_acc else '':>8} {row['query_time_mean']:>8.2f} "
              f"{paper_s if paper_s else '':>8}")
    print(f"wall time {wall:.0f} s")
    return comparison


if __name__ == "__main__":
    main()
