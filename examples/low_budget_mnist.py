"""Low budget on MNIST: 10 to 100 labels, where typical samples beat uncertain ones.

TypiClust (Hacohen et al., ICML 2022) and ProbCover (Yehuda et al., NeurIPS
2022) were made for the first few dozen labels, where uncertainty-based
strategies are known to do worse than random. This compares, on a MNIST pool,
with a 784-256-10 skorch MLP trained from scratch every round:

- random sampling, margin sampling and BADGE, from a random first set;
- TypiClust, which also chooses the first 10 labels (``initial_strategy``: no
  label is needed);
- ProbCover, from the random first set: in this representation its first
  picks without labels are nearly all 1s (the densest digit: the largest
  δ-balls are there), and a first set of one class cannot train a classifier;
- the budget switch of the TCM pattern: TypiClust until ``--switch-at``
  labels, then margin sampling.

Labels go from 10 to 100 in steps of 10, over ``--trials`` trials (trial ``k``
has the same seed, hence the same random first set, for every strategy).
TypiClust and ProbCover compare samples in a fixed representation: a 50-component
PCA fitted on the pool's pixels, L2-normalized (unlabeled data; the papers use
L2-normalized self-supervised features, SimCLR, which skal does not train). We report the accuracy at each
label count, the gap to random at 10-30 labels, the labeling efficiency against
random and the penalty matrix.

Run: ``SKAL_DATA=../shared/data python examples/low_budget_mnist.py``
(writes docs/results/low_budget/). ``--quick`` (or ``SKAL_QUICK=1``) is a tiny
run for the test suite: a 1,000-image pool, 10 to 30 labels, 2 epochs, 2
trials; it writes to a new temporary folder unless ``--output`` is given.
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer

from skal import (
    BADGE,
    ActiveLearner,
    MarginSampling,
    ProbCover,
    RandomSampling,
    SwitchingStrategy,
    TypiClust,
)
from skal.datasets import load_mnist
from skal.metrics import labeling_efficiency, penalty_matrix
from skal.model_selection import active_learning_curve
from skal.toy import make_skorch_classifier


def configurations(representation, batch_size, switch_at):
    """name -> (strategy, initial_strategy); None means a random first set."""
    typiclust = TypiClust(embedding=representation, n_new_clusters=batch_size)
    probcover = ProbCover(embedding=representation, n_classes=10)
    return {
        "RandomSampling": (RandomSampling(), None),
        "MarginSampling": (MarginSampling(), None),
        "BADGE": (BADGE(), None),
        "TypiClust": (typiclust, clone(typiclust)),
        "ProbCover": (probcover, None),
        f"TypiClust>Margin@{switch_at}": (
            SwitchingStrategy(clone(typiclust), MarginSampling(), switch_at=switch_at),
            clone(typiclust),
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool-size", type=int, default=20000)
    parser.add_argument("--test-size", type=int, default=10000)
    parser.add_argument("--initial", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--switch-at", type=int, default=50)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", default="docs/results/low_budget")
    parser.add_argument("--quick", action="store_true",
                        help="a tiny run for the test suite (also SKAL_QUICK=1)")
    args = parser.parse_args(argv)
    if args.quick or os.environ.get("SKAL_QUICK") == "1":
        parser.set_defaults(pool_size=1000, test_size=1000, budget=30, switch_at=20,
                            trials=2, epochs=2, n_jobs=1, output=None)
        args = parser.parse_args(argv)
        if args.output is None:  # never over the committed results
            args.output = tempfile.mkdtemp(prefix="skal_quick_")
        print(f"quick mode: writing to {args.output}")
    del args.quick  # settings record the sizes used
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)

    X, y = load_mnist(train=True)
    X_test, y_test = load_mnist(train=False)
    pool = np.random.RandomState(0).permutation(len(y))[: args.pool_size]
    X = (X[pool].reshape(len(pool), -1) / 255.0).astype(np.float32)
    y = y[pool]
    X_test = (X_test[: args.test_size].reshape(-1, 784) / 255.0).astype(np.float32)
    y_test = y_test[: args.test_size]
    # frozen: ActiveLearner clones its strategies each trial, and a clone of a
    # fitted PCA would be an unfitted one; a FrozenEstimator is cloned as it is
    representation = FrozenEstimator(
        make_pipeline(PCA(n_components=50, random_state=0), Normalizer()).fit(X)
    )

    net = make_skorch_classifier(784, 10, hidden_units=256, max_epochs=args.epochs,
                                 optimizer=torch.optim.Adam, lr=1e-3, batch_size=32,
                                 iterator_valid__batch_size=1024)
    results, scores = {}, {}
    for name, (strategy, initial) in configurations(
        representation, args.batch_size, args.switch_at
    ).items():
        learner = ActiveLearner(net, strategy, initial_size=args.initial,
                                initial_strategy=initial, batch_size=args.batch_size,
                                budget=args.budget)
        tic = time.perf_counter()
        curves = active_learning_curve(learner, X, y, X_test=X_test, y_test=y_test,
                                       n_repeats=args.trials, n_jobs=args.n_jobs,
                                       random_state=0, scoring="accuracy")
        seconds = time.perf_counter() - tic
        scores[name] = np.asarray(curves["test_scores"])
        n_labeled = np.asarray(curves["n_labeled"])
        results[name] = {
            "seconds": seconds,
            "mean": scores[name].mean(axis=0).tolist(),
            "std": scores[name].std(axis=0).tolist(),
            "query_seconds_mean": float(np.nanmean(curves["query_times"])),
        }
        print(f"{name:>24}: " + " ".join(f"{m:.3f}" for m in results[name]["mean"])
              + f"  ({seconds:.0f} s)")

    random = scores["RandomSampling"]
    for name in scores:
        gap = scores[name] - random  # paired by trial
        results[name]["gap_to_random"] = gap.mean(axis=0).tolist()
        results[name]["labeling_efficiency"] = float(
            labeling_efficiency(n_labeled, scores[name], random)
        )
    names, P = penalty_matrix(scores)
    results["penalty"] = {"names": names, "P": P.tolist(),
                          "beaten_per_round": dict(zip(names, P.sum(axis=0).tolist()))}
    results["n_labeled"] = n_labeled.tolist()
    results["settings"] = vars(args)
    (out / "results.json").write_text(json.dumps(results, indent=1))

    print("labels:", n_labeled.tolist())
    for name in scores:
        gap = results[name]["gap_to_random"]
        print(f"{name:>24}: gap to random at {n_labeled[:3].tolist()} labels "
              + " ".join(f"{g:+.3f}" for g in gap[:3])
              + f"; labeling efficiency {results[name]['labeling_efficiency']:.2f}")
    print("penalty matrix (row beats column, fraction of rounds):")
    for name, row in zip(names, P):
        print(f"{name:>24}: " + " ".join(f"{v:.1f}" for v in row))
    _plot(n_labeled, results, scores, out / "accuracy_vs_labels.png")
    return results


def _plot(n_labeled, results, scores, path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    for name in scores:
        mean, std = np.array(results[name]["mean"]), np.array(results[name]["std"])
        ax.plot(n_labeled, mean, marker="o", label=name)
        ax.fill_between(n_labeled, mean - std, mean + std, alpha=0.15)
    ax.set_xlabel("labeled samples")
    ax.set_ylabel("test accuracy")
    ax.set_title("MNIST, low budget: mean ± std over trials")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
