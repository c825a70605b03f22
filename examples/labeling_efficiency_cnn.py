"""Labeling efficiency against random sampling with DISTIL's LeNet-like CNN.

MNIST and Fashion-MNIST; entropy, margin, least confidence, BADGE and CoreSet
against random sampling on identical trials; labeling efficiency the DISTIL way
(labels random needs to reach a test accuracy / labels the strategy needs).
Sized for two CPU cores (about ten minutes per dataset): a random pool of
``--pool`` training images, ``--test`` test images, 100 initial labels,
rounds of 100 to ``--budget``, ``--epochs`` epochs of Adam per round (reset).
The DISTIL study used the full pools, larger budgets and training to
convergence, so absolute accuracies here are lower.

Run: ``SKAL_DATA=../shared/data python examples/labeling_efficiency_cnn.py``
(writes docs/results/labeling_efficiency_cnn/<dataset>/). ``--quick`` (or
``SKAL_QUICK=1``) is a tiny run for the test suite: a pool of 500, 200 test
images, 300 labels, 1 epoch, 1 trial, no worker processes; it writes to a new
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

from skal import ActiveLearner
from skal.datasets import load_fashion_mnist, load_mnist
from skal.model_selection import compare_strategies
from skal.plotting import save_comparison_plots
from skal.toy import LeNetModule

LOADERS = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(LOADERS))
    parser.add_argument("--pool", type=int, default=10000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--budget", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", default="docs/results/labeling_efficiency_cnn")
    parser.add_argument("--quick", action="store_true",
                        help="a tiny run for the test suite (also SKAL_QUICK=1)")
    args = parser.parse_args(argv)
    if args.quick or os.environ.get("SKAL_QUICK") == "1":
        parser.set_defaults(pool=500, test=200, budget=300, epochs=1, trials=1, n_jobs=1,
                            output=None)
        args = parser.parse_args(argv)
        if args.output is None:  # never over the committed results
            args.output = tempfile.mkdtemp(prefix="skal_quick_")
        print(f"quick mode: writing to {args.output}")
    del args.quick  # settings record the sizes used
    for dataset in args.datasets:
        X, y = LOADERS[dataset](train=True)
        X_test, y_test = LOADERS[dataset](train=False)
        rng = np.random.RandomState(0)
        pool = rng.permutation(len(y))[: args.pool]
        test = rng.permutation(len(y_test))[: args.test]
        X = (X[pool, None] / 255.0).astype(np.float32)
        X_test = (X_test[test, None] / 255.0).astype(np.float32)
        y, y_test = y[pool], y_test[test]
        net = NeuralNetClassifier(
            LeNetModule, criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.Adam,
            lr=1e-3, max_epochs=args.epochs, batch_size=32, train_split=None, verbose=0,
            iterator_train__shuffle=True, iterator_valid__batch_size=512,
        )
        learner = ActiveLearner(net, initial_size=100, batch_size=100, budget=args.budget)
        tic = time.perf_counter()
        comparison = compare_strategies(
            learner, ["entropy", "margin", "least-confidence", "badge", "coreset"],
            X, y, X_test=X_test, y_test=y_test, n_repeats=args.trials, n_jobs=args.n_jobs,
            random_state=0, scoring="accuracy", verbose=1,
        )
        out = Path(args.output) / dataset
        out.mkdir(parents=True, exist_ok=True)
        save_comparison_plots(comparison, out)
        (out / "rounds.json").write_text(json.dumps(comparison.to_records()))
        efficiency = {n: {"targets": t.tolist(),
                          "efficiency": [e if np.isfinite(e) else None for e in eff]}
                      for n, (t, eff) in comparison.efficiency.items()}
        (out / "summary.json").write_text(json.dumps({
            "summary": comparison.summary(as_frame=False), "names": comparison.names,
            "penalty": comparison.penalty.tolist(), "efficiency_curve": efficiency,
            "seconds": time.perf_counter() - tic, "settings": vars(args),
        }, indent=1))
        print(f"{dataset}: pool {len(y)}, test {len(y_test)}, labels "
              f"{comparison.n_labeled.tolist()}, {args.trials} trials, "
              f"{time.perf_counter() - tic:.0f} s")
        for row in comparison.summary(as_frame=False):
            print(f"  {row['strategy']:>16} final {row['final_score_mean']:.4f} ± "
                  f"{row['final_score_std']:.4f}  efficiency {row['labeling_efficiency']:.2f}  "
                  f"AULC {row['aulc_mean']:.4f}  query {row['query_time_mean']:.2f} s  "
                  f"fit {row['fit_time_mean']:.2f} s  "
                  f"beats/round {row['strategies_beaten_per_round']:.2f}")


if __name__ == "__main__":
    main()
