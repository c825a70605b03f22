"""Redundancy (DISTIL §4.4): entropy sampling degrades as a pool fills with duplicates; BADGE holds.

A fixed set of unique MNIST training images is kept once and a disjoint set is
repeated ×1 (no redundancy), ×2, ×5 and ×10 (class ratios unchanged;
:func:`skal.datasets.make_redundant`). For each factor, random sampling,
entropy sampling and BADGE run the same trials with a 784-256-10 MLP; we
report final accuracy, labeling efficiency against random and the penalty
matrix, per factor.

Run: ``SKAL_DATA=../shared/data python examples/redundancy_mnist.py``
(writes docs/results/redundancy/). ``--power-entropy`` adds "PowerEntropy",
``StochasticBatch(EntropySampling(), mode="power", beta=1)`` (Kirsch et al.,
TMLR 2023): entropy's batch drawn at random in proportion to the scores.
``--quick`` (or ``SKAL_QUICK=1``) is a tiny run for the test suite: factors
1 and 2, 200 unique and 100 redundant images, 200 labels, 1 epoch, 1 trial,
no worker processes, power-entropy included; it writes to a new temporary
folder unless ``--output`` is given.
"""

import argparse
import os
import tempfile
import json
import time
from pathlib import Path

import numpy as np
import torch

from skal import ActiveLearner, EntropySampling, StochasticBatch
from skal.datasets import load_mnist, make_redundant
from skal.model_selection import compare_strategies
from skal.plotting import save_comparison_plots
from skal.toy import make_skorch_classifier


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 2, 5, 10])
    parser.add_argument("--n-unique", type=int, default=2000)
    parser.add_argument("--n-redundant", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", default="docs/results/redundancy")
    parser.add_argument("--power-entropy", action="store_true",
                        help="also run StochasticBatch(EntropySampling(), mode='power')")
    parser.add_argument("--quick", action="store_true",
                        help="a tiny run for the test suite (also SKAL_QUICK=1)")
    args = parser.parse_args(argv)
    if args.quick or os.environ.get("SKAL_QUICK") == "1":
        parser.set_defaults(factors=[1, 2], n_unique=200, n_redundant=100, trials=1,
                            epochs=1, budget=200, n_jobs=1, output=None, power_entropy=True)
        args = parser.parse_args(argv)
        if args.output is None:  # never over the committed results
            args.output = tempfile.mkdtemp(prefix="skal_quick_")
        print(f"quick mode: writing to {args.output}")
    del args.quick  # settings record the sizes used
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)

    X, y = load_mnist(train=True)
    X_test, y_test = load_mnist(train=False)
    X = (X.reshape(len(X), -1) / 255.0).astype(np.float32)
    X_test = (X_test.reshape(len(X_test), -1)[:5000] / 255.0).astype(np.float32)
    y_test = y_test[:5000]
    net = make_skorch_classifier(784, 10, hidden_units=256, max_epochs=args.epochs,
                                 optimizer=torch.optim.Adam, lr=1e-3, batch_size=64,
                                 iterator_valid__batch_size=1024)
    learner = ActiveLearner(net, initial_size=100, batch_size=100, budget=args.budget)
    strategies = {"EntropySampling": "entropy", "BADGE": "badge"}
    if args.power_entropy:
        strategies["PowerEntropy"] = StochasticBatch(EntropySampling(), mode="power", beta=1.0)
    results = {}
    for factor in args.factors:
        X_pool, y_pool, _ = make_redundant(X, y, n_unique=args.n_unique,
                                           n_redundant=args.n_redundant, factor=factor,
                                           random_state=0)
        tic = time.perf_counter()
        comparison = compare_strategies(
            learner, strategies, X_pool, y_pool, X_test=X_test, y_test=y_test,
            n_repeats=args.trials, n_jobs=args.n_jobs, random_state=0, scoring="accuracy",
        )
        save_comparison_plots(comparison, out / f"x{factor}")
        results[f"x{factor}"] = {
            "pool_size": int(len(y_pool)), "seconds": time.perf_counter() - tic,
            "summary": comparison.summary(as_frame=False), "names": comparison.names,
            "penalty": comparison.penalty.tolist(), "n_labeled": comparison.n_labeled.tolist(),
            "scores": {k: v.tolist() for k, v in comparison.scores.items()},
        }
        print(f"x{factor}: pool {len(y_pool)}")
        for row in comparison.summary(as_frame=False):
            print(f"  {row['strategy']:>16} final {row['final_score_mean']:.4f} ± "
                  f"{row['final_score_std']:.4f}  efficiency {row['labeling_efficiency']:.2f}  "
                  f"AULC {row['aulc_mean']:.4f}  "
                  f"beats/round {row['strategies_beaten_per_round']:.2f}")
    results["settings"] = vars(args)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    _plot_vs_factor(results, args.factors, out / "final_accuracy_vs_redundancy.png")
    return results


def _plot_vs_factor(results, factors, path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    for name in results[f"x{factors[0]}"]["names"]:
        means, stds = [], []
        for f in factors:
            row = next(r for r in results[f"x{f}"]["summary"] if r["strategy"] == name)
            means.append(row["final_score_mean"])
            stds.append(row["final_score_std"])
        ax.errorbar(factors, means, yerr=stds, marker="o", capsize=3, label=name)
    ax.set_xscale("log")
    ax.set_xticks(factors, [f"×{f}" for f in factors])
    ax.set_xlabel("copies of each redundant sample")
    ax.set_ylabel("test accuracy at the final budget")
    ax.set_title("Redundant pools: final accuracy (mean ± std over trials)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
