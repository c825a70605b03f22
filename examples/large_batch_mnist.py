"""Large batches on MNIST: Cluster-Margin against margin sampling and BADGE at batch 1,000.

Cluster-Margin (Citovsky et al., NeurIPS 2021) was built for batches of
thousands: it takes the ``k_m`` lowest-margin pool samples (``n_margin``,
about 10 × the batch), groups them by average-linkage agglomerative
clustering of the penultimate embeddings, and fills the batch round-robin
over the clusters, smallest first, so that a large batch does not pile into
near-duplicates. The paper reports that it matches or beats margin sampling
and BADGE at large batches while costing far less than BADGE.

Setup: the 60,000 MNIST training images are the pool, the 10,000 test images
measure accuracy, and a 784-256-10 skorch MLP (Adam, lr 1e-3) is trained from
scratch every round. Each trial starts from 1,000 random labels (the same for
every strategy in a trial), then three rounds of 1,000 labels (budget 4,000).
:func:`skal.model_selection.compare_strategies` runs random sampling (the
baseline), margin sampling, BADGE and ClusterMargin with ``n_margin`` = 10 ×
the batch; ClusterMargin runs once per ``--max-cluster-samples`` value (how
many of the lowest-margin samples the HAC clusters: 10,000 clusters all the
candidates, as the paper does; skal's default 2,000 clusters the first 2,000
and assigns the other candidates to the nearest cluster centroid). We report
the accuracy after each round (mean ± std over trials), the selection time
per round and the labeling efficiency against random.

Run: ``SKAL_DATA=../shared/data python examples/large_batch_mnist.py``
(writes docs/results/large_batch/). ``--quick`` (or ``SKAL_QUICK=1``) is a tiny
run for the test suite: a 2,000-image pool, 1,000 test images, 100 initial
labels and two rounds of 100, 1 epoch, 1 trial, no worker processes; it writes
to a new temporary folder unless ``--output`` is given.
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from skal import BADGE, ActiveLearner, ClusterMargin, MarginSampling
from skal.datasets import load_mnist
from skal.model_selection import compare_strategies
from skal.plotting import save_comparison_plots
from skal.toy import make_skorch_classifier


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool-size", type=int, default=60000)
    parser.add_argument("--test-size", type=int, default=10000)
    parser.add_argument("--initial", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--budget", type=int, default=4000)
    parser.add_argument("--n-margin", type=int, default=None,
                        help="ClusterMargin's k_m (default: 10 x the batch size)")
    parser.add_argument("--max-cluster-samples", type=int, nargs="+", default=[10000, 2000],
                        help="one ClusterMargin per value")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", default="docs/results/large_batch")
    parser.add_argument("--quick", action="store_true",
                        help="a tiny run for the test suite (also SKAL_QUICK=1)")
    args = parser.parse_args(argv)
    if args.quick or os.environ.get("SKAL_QUICK") == "1":
        parser.set_defaults(pool_size=2000, test_size=1000, initial=100, batch_size=100,
                            budget=300, max_cluster_samples=[1000, 200], trials=1, epochs=1,
                            n_jobs=1, output=None)
        args = parser.parse_args(argv)
        if args.output is None:  # never over the committed results
            args.output = tempfile.mkdtemp(prefix="skal_quick_")
        print(f"quick mode: writing to {args.output}")
    del args.quick  # settings record the sizes used
    if args.n_margin is None:
        args.n_margin = 10 * args.batch_size
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)

    X, y = load_mnist(train=True)
    X_test, y_test = load_mnist(train=False)
    pool = np.random.RandomState(0).permutation(len(y))[: args.pool_size]
    X = (X[pool].reshape(len(pool), -1) / 255.0).astype(np.float32)
    y = y[pool]
    X_test = (X_test[: args.test_size].reshape(-1, 784) / 255.0).astype(np.float32)
    y_test = y_test[: args.test_size]

    net = make_skorch_classifier(784, 10, hidden_units=256, max_epochs=args.epochs,
                                 optimizer=torch.optim.Adam, lr=1e-3, batch_size=128,
                                 iterator_valid__batch_size=1024)
    learner = ActiveLearner(net, initial_size=args.initial, batch_size=args.batch_size,
                            budget=args.budget)
    strategies = {"MarginSampling": MarginSampling(), "BADGE": BADGE()}
    for m in args.max_cluster_samples:
        strategies[f"ClusterMargin(m={m})"] = ClusterMargin(
            n_margin=args.n_margin, max_cluster_samples=m, random_state=0)

    tic = time.perf_counter()
    comparison = compare_strategies(
        learner, strategies, X, y, X_test=X_test, y_test=y_test, n_repeats=args.trials,
        n_jobs=args.n_jobs, random_state=0, scoring="accuracy",
    )
    seconds = time.perf_counter() - tic
    save_comparison_plots(comparison, out)

    n_labeled = comparison.n_labeled
    results = {"n_labeled": n_labeled.tolist(), "names": comparison.names,
               "seconds": seconds, "penalty": comparison.penalty.tolist()}
    for row in comparison.summary(as_frame=False):
        name = row["strategy"]
        scores = comparison.scores[name]
        query = comparison.query_times[name][:, 1:]  # round 0 is the random first set
        results[name] = {
            "accuracy_mean": np.nanmean(scores, axis=0).tolist(),
            "accuracy_std": np.nanstd(scores, axis=0).tolist(),
            "query_seconds_mean": np.nanmean(query, axis=0).tolist(),
            "query_seconds_std": np.nanstd(query, axis=0).tolist(),
            "fit_seconds_mean": np.nanmean(comparison.fit_times[name], axis=0).tolist(),
            "labeling_efficiency": row["labeling_efficiency"],
            "aulc_mean": row["aulc_mean"],
            "n_failed_trials": row["n_failed_trials"],
            "scores": scores.tolist(),
            "query_seconds": query.tolist(),
        }
    results["settings"] = vars(args)
    (out / "results.json").write_text(json.dumps(results, indent=1))

    print(f"labels: {n_labeled.tolist()}  ({seconds:.0f} s)")
    for name in comparison.names:
        r = results[name]
        accuracy = " ".join(f"{m:.4f}±{s:.4f}"
                            for m, s in zip(r["accuracy_mean"], r["accuracy_std"]))
        query = " ".join(f"{q:.1f}" for q in r["query_seconds_mean"])
        print(f"{name:>22}: {accuracy}  selection s/round {query}  "
              f"efficiency {r['labeling_efficiency']:.2f}")
    _plot(n_labeled, comparison.names, results, out / "accuracy_and_selection_time.png")
    return results


def _plot(n_labeled, names, results, path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    rounds = np.arange(1, len(n_labeled))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        mean = np.array(results[name]["accuracy_mean"])
        std = np.array(results[name]["accuracy_std"])
        ax.errorbar(n_labeled, mean, yerr=std, marker="o", capsize=3, label=name)
        bx.bar(rounds + (i - (len(names) - 1) / 2) * width,
               results[name]["query_seconds_mean"], width,
               yerr=results[name]["query_seconds_std"], capsize=2, label=name)
    ax.set_xlabel("labeled samples")
    ax.set_ylabel("test accuracy")
    ax.set_title("MNIST, batch 1,000: mean ± std over trials")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    bx.set_xticks(rounds, [f"round {r}" for r in rounds])
    bx.set_ylabel("selection time (s)")
    bx.set_title("Time to select each batch")
    bx.grid(alpha=0.3, axis="y")
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
