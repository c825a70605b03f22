"""Command line: ``python -m skal demo`` and ``python -m skal compare``.

The demo compares random sampling, entropy sampling and BADGE on
scikit-learn's bundled digits with a small skorch MLP, prints a learning-curve
table (mean test accuracy over trials, per number of labels) and writes a plot.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from .utils._random import MAX_RANDOM_STATE, draw_seed

__all__ = ["main"]


def _check_args(args):
    """The first nonsensical option value, as a one-line message; None if all are fine.

    Checked before any trial runs, so that a typo costs nothing and prints one
    line instead of a traceback from deep inside the trials.
    """
    if args.command == "rank":
        return None  # checked by the rank command itself (skal/_rank_cli.py)
    positive = ["trials", "initial_size", "batch_size", "budget", "epochs"]
    if args.command == "compare":
        positive += ["hidden", "pool_size", "test_size"]
    for name in positive:
        value = getattr(args, name)
        if value < 1:
            return f"--{name.replace('_', '-')} must be a positive integer; got {value}."
    if args.budget < args.initial_size:
        return (
            f"--budget {args.budget} is smaller than --initial-size {args.initial_size}: "
            "the budget counts every label, the initial ones included. Raise --budget or "
            "lower --initial-size."
        )
    if not 0 <= args.seed <= MAX_RANDOM_STATE:
        return f"--seed must lie in [0, {MAX_RANDOM_STATE}]; got {args.seed}."
    if args.command == "demo" and not 0 < args.test_size < 1:
        return f"--test-size must be a fraction in (0, 1); got {args.test_size}."
    if args.command == "compare":
        if args.cv is not None and args.cv < 2:
            return f"--cv must be at least 2 folds; got {args.cv}."
        if args.n_jobs == 0:
            return "--n-jobs must not be 0: pass a positive number of jobs, or -1 for all CPUs."
        if args.dropout is not None and not 0 <= args.dropout < 1:
            return f"--dropout must lie in [0, 1); got {args.dropout}."
    return None


def _demo(args):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from skal import BADGE, ActiveLearner, EntropySampling, RandomSampling
    import torch

    from skal.toy import make_skorch_classifier

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_pool, X_test, y_pool, y_test = train_test_split(
        X, y, test_size=args.test_size, stratify=y, random_state=args.seed
    )
    strategies = {
        "random": RandomSampling(),
        "entropy": EntropySampling(),
        "badge": BADGE(),
    }
    rng = np.random.RandomState(args.seed)
    trial_seeds = draw_seed(rng, size=args.trials)
    # one throw-away fit, so that torch's one-time start-up cost is not billed to
    # whichever strategy happens to run first in the time column
    make_skorch_classifier(64, 10, max_epochs=1).fit(X_pool[:20], y_pool[:20])
    curves, times = {}, {}
    for name, strategy in strategies.items():
        scores, query_time, fit_time = [], 0.0, 0.0
        for trial, seed in enumerate(trial_seeds):
            net = make_skorch_classifier(
                64,
                10,
                hidden_units=64,
                max_epochs=args.epochs,
                optimizer=torch.optim.Adam,
                lr=0.01,
                seed=int(seed),
            )
            try:
                learner = ActiveLearner(
                    net,
                    strategy,
                    batch_size=args.batch_size,
                    initial_size=args.initial_size,
                    budget=args.budget,
                    random_state=int(seed),
                ).fit(X_pool, y_pool, X_val=X_test, y_val=y_test)
            except ValueError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            scores.append(learner.history_["score"])
            query_time += np.nansum(learner.history_["query_time"])
            fit_time += learner.history_["fit_time"].sum()
            n_labeled = learner.history_["n_labeled"]
        curves[name] = np.vstack(scores)
        times[name] = (query_time / args.trials, fit_time / args.trials)

    names = list(strategies)
    header = f"{'labels':>7} " + " ".join(f"{n:>16}" for n in names)
    print(
        f"Test accuracy on digits ({len(y_test)} test images), mean ± std over "
        f"{args.trials} trials; skorch MLP, Adam, {args.epochs} epochs per round (reset)."
    )
    print(header)
    for r, n in enumerate(n_labeled):
        cells = [f"{curves[k][:, r].mean():.3f} ± {curves[k][:, r].std():.3f}" for k in names]
        print(f"{n:>7} " + " ".join(f"{c:>16}" for c in cells))
    print(
        "time per trial (s): "
        + ", ".join(f"{k} query {q:.2f} / fit {f:.2f}" for k, (q, f) in times.items())
    )

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    results = {
        "n_labeled": n_labeled.tolist(),
        "scores": {k: v.tolist() for k, v in curves.items()},
        "time_per_trial": {k: {"query": q, "fit": f} for k, (q, f) in times.items()},
    }
    (out / "learning_curves.json").write_text(json.dumps(results, indent=1))
    _plot(n_labeled, curves, out / "learning_curves.png", args.trials)
    print(f"wrote {out / 'learning_curves.png'} and {out / 'learning_curves.json'}")
    return 0


_DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")


def _load_dataset(name, data_home, pool_size, test_size, seed):
    """(X_pool, y_pool, X_test, y_test) as float32 features in [0, 1]."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from skal import datasets

    if name == "digits":
        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).astype(np.float32)
        X_pool, X_test, y_pool, y_test = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=seed
        )
        return X_pool, y_pool, X_test, y_test
    loader = {"mnist": datasets.load_mnist, "fashion-mnist": datasets.load_fashion_mnist,
              "cifar10": datasets.load_cifar10}[name]
    X, y = loader(data_home=data_home, train=True)
    X_test, y_test = loader(data_home=data_home, train=False)
    rng = np.random.RandomState(seed)
    pool = rng.permutation(len(y))[:pool_size]
    test = rng.permutation(len(y_test))[:test_size]

    def flat(A):
        return (A.reshape(len(A), -1) / 255.0).astype(np.float32)

    return flat(X[pool]), y[pool], flat(X_test[test]), y_test[test]


def _compare(args):
    import csv

    import torch

    from skal import ActiveLearner, DispersionSampling, FacilityLocationSampling
    from skal.model_selection import compare_strategies, resolve_strategy
    from skal.plotting import save_comparison_plots
    from skal.toy import make_skorch_classifier

    try:
        strategies = {}
        for name in args.strategies:
            strategy = resolve_strategy(name)
            # a switch spec ("random>badge@50") names itself
            strategies[name if ">" in name else type(strategy).__name__] = strategy
        X, y, X_test, y_test = _load_dataset(
            args.dataset, args.data_home, args.pool_size, args.test_size, args.seed
        )
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    n_classes = int(max(y.max(), y_test.max())) + 1
    if args.model == "logreg":
        from sklearn.linear_model import LogisticRegression

        estimator = LogisticRegression(max_iter=500)
    else:
        dropout = args.dropout
        if dropout is None:  # MC-dropout strategies need dropout in the net
            needs = {"BALD", "BatchBALD"} & set(strategies)
            dropout = 0.5 if needs else 0.0
        estimator = make_skorch_classifier(
            X.shape[1], n_classes, hidden_units=args.hidden, max_epochs=args.epochs,
            optimizer=torch.optim.Adam, lr=0.01, module__dropout=dropout,
        )
    seed_set = {"random": None, "facility-location": FacilityLocationSampling(),
                "dispersion": DispersionSampling()}[args.initial_strategy]
    learner = ActiveLearner(
        estimator, batch_size=args.batch_size, initial_size=args.initial_size,
        initial_strategy=seed_set, budget=args.budget,
    )
    split = dict(cv=args.cv) if args.cv else dict(X_test=X_test, y_test=y_test)
    if args.cv:
        X, y = np.concatenate([X, X_test]), np.concatenate([y, y_test])
    try:
        comparison = compare_strategies(
            learner, strategies, X, y, n_repeats=args.trials, n_jobs=args.n_jobs,
            random_state=args.seed, verbose=args.verbose, scoring="accuracy", **split,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # every trial failed
        print(f"error: {exc}", file=sys.stderr)
        return 1

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    records = comparison.to_records()
    rows = comparison.summary()
    for stem, table in (("rounds", records), ("summary", rows)):
        with open(out / f"{stem}.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(table[0]))
            writer.writeheader()
            writer.writerows(table)
        (out / f"{stem}.json").write_text(json.dumps(table, indent=1))
    plots = save_comparison_plots(comparison, out)

    print(
        f"{args.dataset}: pool {len(y)}, {len(comparison.trials)} trials, labels "
        f"{comparison.n_labeled[0]}..{comparison.n_labeled[-1]} "
        f"(+{args.batch_size}/round), model {args.model}"
    )
    w = max([16] + [len(r["strategy"]) for r in rows])
    print(f"{'strategy':>{w}} {'final accuracy':>16} {'label eff.':>10} {'AULC':>7} "
          f"{'query s':>8} {'fit s':>7} {'beats/round':>11}")
    for r in rows:
        print(f"{r['strategy']:>{w}} {r['final_score_mean']:>8.3f} ± {r['final_score_std']:.3f} "
              f"{r['labeling_efficiency']:>10.2f} {r['aulc_mean']:>7.3f} "
              f"{r['query_time_mean']:>8.3f} {r['fit_time_mean']:>7.3f} "
              f"{r['strategies_beaten_per_round']:>11.2f}")
    print(f"beats/round: how many of the other {len(rows) - 1} strategies a strategy beats "
          "in a round (paired t-test across trials), averaged over the rounds.")
    for e in comparison.errors:
        print(f"failed: {e['strategy']} trial {e['trial']} (seed {e['seed']}): {e['error']}")
    print(f"wrote {out / 'rounds.csv'}, {out / 'summary.csv'} (and .json), "
          + ", ".join(str(p) for p in plots.values()))
    return 0


def _plot(n_labeled, curves, path, n_trials):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
    for name, scores in curves.items():
        mean, std = scores.mean(axis=0), scores.std(axis=0)
        ax.plot(n_labeled, mean, marker="o", markersize=3, label=name)
        ax.fill_between(n_labeled, mean - std, mean + std, alpha=0.2)
    ax.set_xlabel("number of labeled samples")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"Active learning on digits (mean ± std over {n_trials} trials)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _parser():
    from skal.model_selection import strategy_aliases

    parser = argparse.ArgumentParser(
        prog="python -m skal", description="skal: deep active learning for scikit-learn."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="random vs entropy vs BADGE on the bundled digits with a skorch MLP",
        description=(
            "Simulate active learning on scikit-learn's bundled digits with a small "
            "skorch MLP, comparing random sampling, entropy sampling and BADGE; print a "
            "learning-curve table and write learning_curves.png/.json."
        ),
    )
    demo.add_argument("--trials", type=int, default=3, help="repetitions (default: 3)")
    demo.add_argument("--initial-size", type=int, default=20, help="initial random labels (default: 20)")
    demo.add_argument("--batch-size", type=int, default=20, help="labels per round (default: 20)")
    demo.add_argument("--budget", type=int, default=200, help="total labels (default: 200)")
    demo.add_argument("--epochs", type=int, default=30, help="training epochs per round (default: 30)")
    demo.add_argument("--test-size", type=float, default=0.3, help="held-out fraction (default: 0.3)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument("--output", default="skal-demo", help="output folder (default: skal-demo)")
    demo.set_defaults(func=_demo)

    compare = commands.add_parser(
        "compare",
        help="compare strategies against random sampling: curves, efficiency, penalty matrix",
        description=(
            "Run simulated active learning with several strategies on identical trials "
            "(same initial sets and folds) and compare them with random sampling. Writes "
            "rounds.csv/.json (every round of every trial), summary.csv/.json (final "
            "accuracy ± std, labeling efficiency, area under the learning curve, mean "
            "query and fit time, strategies beaten per round) and four PNG plots."
        ),
    )
    compare.add_argument("--dataset", choices=_DATASETS, default="digits",
                         help="digits is bundled with scikit-learn; the others are read "
                         "from --data-home (default: digits)")
    compare.add_argument("--data-home", default=None,
                         help="folder with MNIST/, FashionMNIST/, CIFAR10/ "
                         "(default: $SKAL_DATA, else ~/skal_data)")
    compare.add_argument("--strategies", nargs="+", default=["random", "entropy", "badge"],
                         help="class names or short names: "
                         f"{' '.join(strategy_aliases())}; or FIRST>THEN@N to switch "
                         "strategy at N labels, e.g. 'random>badge@50'; or MODE-NAME "
                         "for a stochastic batch, e.g. 'power-entropy' "
                         "(default: random entropy badge)")
    compare.add_argument("--model", choices=("mlp", "logreg"), default="mlp",
                         help="skorch MLP or LogisticRegression (default: mlp)")
    compare.add_argument("--hidden", type=int, default=64, help="MLP width (default: 64)")
    compare.add_argument("--dropout", type=float, default=None,
                         help="MLP dropout after the hidden layer (default: 0.5 when "
                         "bald or batchbald is compared, else 0)")
    compare.add_argument("--epochs", type=int, default=30, help="MLP epochs per round (default: 30)")
    compare.add_argument("--trials", type=int, default=3, help="repeats per fold (default: 3)")
    compare.add_argument("--cv", type=int, default=None,
                         help="cross-validation folds instead of the fixed test split")
    compare.add_argument("--initial-size", type=int, default=20, help="default: 20")
    compare.add_argument("--initial-strategy", default="random",
                         choices=("random", "facility-location", "dispersion"),
                         help="how the initial labeled set is chosen before any label: "
                         "uniformly at random, or a seed set covering the pool "
                         "(default: random)")
    compare.add_argument("--batch-size", type=int, default=20, help="default: 20")
    compare.add_argument("--budget", type=int, default=200, help="total labels (default: 200)")
    compare.add_argument("--pool-size", type=int, default=10000,
                         help="image datasets: random pool subset size (default: 10000)")
    compare.add_argument("--test-size", type=int, default=2000,
                         help="image datasets: random test subset size (default: 2000)")
    compare.add_argument("--n-jobs", type=int, default=1, help="parallel trials (default: 1)")
    compare.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    compare.add_argument("--output", default="skal-compare", help="output folder")
    compare.add_argument("--verbose", type=int, default=0, help="1: progress bar")
    compare.set_defaults(func=_compare)

    from ._rank_cli import add_rank_parser

    add_rank_parser(commands)
    return parser


def main(argv=None):
    """Entry point of ``python -m skal``.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``None`` reads ``sys.argv``.

    Returns
    -------
    status : int
        The exit status.
    """
    args = _parser().parse_args(argv)
    problem = _check_args(args)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    tic = time.perf_counter()
    status = args.func(args)
    if status == 0:
        print(f"done in {time.perf_counter() - tic:.1f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
