"""``python -m skal compare``: strategies against random sampling, on identical trials.

Classification data sets (digits, MNIST, Fashion-MNIST, CIFAR-10) are scored by
accuracy; regression data sets (diabetes, friedman1) by
``neg_root_mean_squared_error``, kept with its sign (greater is better) in the
printed table, the files and the plots, as the library records it.
"""

import csv
import json
import sys
from pathlib import Path

import numpy as np

from ._common import UserError, from_library
from ._demo import check_learning_args
from ._strategy_names import check_name

__all__ = ["add_parser", "run"]

_CLASSIFICATION_DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")
_REGRESSION_DATASETS = ("diabetes", "friedman1")
_DATASETS = _CLASSIFICATION_DATASETS + _REGRESSION_DATASETS
# the defaults of --strategies; the regression ones serve a regressor
_DEFAULT_STRATEGIES = {False: ["random", "entropy", "badge"],
                       True: ["random", "greedy", "lcmd", "maxdet"]}
# the models of --model that suit each kind of data set (mlp suits both)
_MODELS = {False: ("mlp", "logreg"), True: ("mlp", "ridge")}
_SCORING = {False: "accuracy", True: "neg_root_mean_squared_error"}


def add_parser(commands):
    """Register ``compare`` on ``commands`` (argparse subparsers)."""
    from ._strategy_names import aliases

    compare = commands.add_parser(
        "compare",
        help="compare strategies against random sampling: curves, efficiency, penalty matrix",
        description=(
            "Run simulated active learning with several strategies on identical trials "
            "(same initial sets and folds) and compare them with random sampling. Writes "
            "rounds.csv/.json (every round of every trial), summary.csv/.json (final "
            "score ± std, labeling efficiency, area under the learning curve, mean "
            "query and fit time, strategies beaten per round) and four PNG plots. "
            "Classification data sets are scored by accuracy; the regression data sets "
            "(diabetes, friedman1) by neg_root_mean_squared_error, the negated RMSE "
            "(greater is better) of targets standardized on the pool, shown with its "
            "sign as -RMSE."
        ),
    )
    compare.add_argument("--dataset", choices=_DATASETS, default="digits",
                         help="classification: digits (bundled with scikit-learn) or "
                         "mnist, fashion-mnist, cifar10 (read from --data-home); "
                         "regression: diabetes (bundled with scikit-learn) or friedman1 "
                         "(generated: --pool-size + --test-size samples, noise 1, seeded "
                         "by --seed) (default: digits)")
    compare.add_argument("--data-home", default=None,
                         help="folder with MNIST/, FashionMNIST/, CIFAR10/ "
                         "(default: $SKAL_DATA, else ~/skal_data)")
    compare.add_argument("--strategies", nargs="+", default=None,
                         help="class names or short names: "
                         f"{' '.join(aliases())}; or FIRST>THEN@N to switch "
                         "strategy at N labels, e.g. 'random>badge@50'; or MODE-NAME "
                         "for a stochastic batch, e.g. 'power-entropy'; a regression data "
                         "set takes only strategies that serve a regressor (default: "
                         f"{' '.join(_DEFAULT_STRATEGIES[False])}; for regression "
                         f"{' '.join(_DEFAULT_STRATEGIES[True])})")
    compare.add_argument("--model", choices=("mlp", "logreg", "ridge"), default="mlp",
                         help="mlp: a skorch MLP (a classifier, or a regressor on a "
                         "regression data set); logreg: LogisticRegression "
                         "(classification); ridge: Ridge (regression) (default: mlp)")
    compare.add_argument("--hidden", type=int, default=64, help="MLP width (default: 64)")
    compare.add_argument("--dropout", type=float, default=None,
                         help="MLP dropout after the hidden layer (default: 0.5 when "
                         "bald or batchbald is compared, else 0)")
    compare.add_argument("--epochs", type=int, default=30,
                         help="MLP epochs per round (default: 30)")
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
                         help="image datasets: random pool subset size; friedman1: pool "
                         "samples generated (default: 10000)")
    compare.add_argument("--test-size", type=int, default=2000,
                         help="image datasets: random test subset size; friedman1: test "
                         "samples generated (default: 2000)")
    compare.add_argument("--n-jobs", type=int, default=1, help="parallel trials (default: 1)")
    compare.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    compare.add_argument("--output", default="skal-compare", help="output folder")
    compare.add_argument("--verbose", type=int, default=0, help="1: progress bar")
    compare.set_defaults(run=run)
    return compare


def _regression(args):
    """Whether ``--dataset`` is a regression data set."""
    return args.dataset in _REGRESSION_DATASETS


def _check(args):
    regression = _regression(args)
    if args.strategies is None:
        args.strategies = list(_DEFAULT_STRATEGIES[regression])
    if args.model not in _MODELS[regression]:
        kind, other = ("regression", "classification") if regression else (
            "classification", "regression")
        raise UserError(
            f"--model {args.model} is a {other} model, but --dataset {args.dataset} is a "
            f"{kind} data set: use --model {' or '.join(reversed(_MODELS[regression]))}."
        )
    check_learning_args(args, ["trials", "initial_size", "batch_size", "budget", "epochs",
                               "hidden", "pool_size", "test_size"])
    if args.cv is not None and args.cv < 2:
        raise UserError(f"--cv must be at least 2 folds; got {args.cv}.")
    if args.n_jobs == 0:
        raise UserError("--n-jobs must not be 0: pass a positive number of jobs, or -1 for "
                        "all CPUs.")
    if args.dropout is not None and not 0 <= args.dropout < 1:
        raise UserError(f"--dropout must lie in [0, 1); got {args.dropout}.")
    for name in args.strategies:  # a typo costs nothing: checked before importing torch
        with from_library():
            check_name(name)


def _standardized(X_pool, y_pool, X_test, y_test):
    """Features and targets standardized with the pool's means and deviations.

    Features as float32 for the nets. Targets standardized make the RMSE read
    in standard deviations of the pool's targets (1.0: no better than
    predicting their mean) and suit the MLP's default learning rate.
    """
    mean, std = X_pool.mean(axis=0), X_pool.std(axis=0)
    std[std == 0] = 1.0
    y_mean, y_std = y_pool.mean(), y_pool.std() or 1.0

    def features(A):
        return ((A - mean) / std).astype(np.float32)

    return (features(X_pool), (y_pool - y_mean) / y_std,
            features(X_test), (y_test - y_mean) / y_std)


def load_dataset(name, data_home, pool_size, test_size, seed):
    """(X_pool, y_pool, X_test, y_test) as float32 features.

    Image and digit features lie in [0, 1]; the regression data sets' features
    and targets are standardized with the pool's statistics.
    """
    from sklearn.datasets import load_diabetes, load_digits, make_friedman1
    from sklearn.model_selection import train_test_split

    from .. import datasets

    if name == "diabetes":
        X, y = load_diabetes(return_X_y=True)
        return _standardized(*_reorder(train_test_split(X, y, test_size=0.3,
                                                        random_state=seed)))
    if name == "friedman1":
        X, y = make_friedman1(n_samples=pool_size + test_size, noise=1.0, random_state=seed)
        return _standardized(X[:pool_size], y[:pool_size], X[pool_size:], y[pool_size:])
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).astype(np.float32)
        X_pool, X_test, y_pool, y_test = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=seed
        )
        return X_pool, y_pool, X_test, y_test
    loader = {"mnist": datasets.load_mnist, "fashion-mnist": datasets.load_fashion_mnist,
              "cifar10": datasets.load_cifar10}[name]
    try:
        X, y = loader(data_home=data_home, train=True)
        X_test, y_test = loader(data_home=data_home, train=False)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from exc
    rng = np.random.RandomState(seed)
    pool = rng.permutation(len(y))[:pool_size]
    test = rng.permutation(len(y_test))[:test_size]

    def flat(A):
        return (A.reshape(len(A), -1) / 255.0).astype(np.float32)

    return flat(X[pool]), y[pool], flat(X_test[test]), y_test[test]


def _reorder(split):
    """train_test_split's (X_pool, X_test, y_pool, y_test) as (X_pool, y_pool, X_test, y_test)."""
    X_pool, X_test, y_pool, y_test = split
    return X_pool, y_pool, X_test, y_test


def _estimator(args, strategies, X, y, y_test, regression):
    """The model of ``--model`` for the data set's kind."""
    import torch

    if args.model == "logreg":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=500)
    if args.model == "ridge":
        from sklearn.linear_model import Ridge

        return Ridge()
    dropout = args.dropout
    if dropout is None:  # MC-dropout strategies need dropout in the net
        dropout = 0.5 if {"BALD", "BatchBALD"} & set(strategies) else 0.0
    if regression:
        from skorch import NeuralNetRegressor

        from ..toy import MLPClassifierModule

        # the same perceptron with one output: the regression's prediction (MSE loss,
        # skorch's default for a regressor); ActiveLearner fits it on float32 columns
        return NeuralNetRegressor(
            MLPClassifierModule, module__n_features=X.shape[1], module__n_classes=1,
            module__hidden_units=args.hidden, module__dropout=dropout,
            max_epochs=args.epochs, optimizer=torch.optim.Adam, lr=0.01, batch_size=64,
            train_split=None, verbose=0,
        )
    from ..toy import make_skorch_classifier

    n_classes = int(max(y.max(), y_test.max())) + 1
    return make_skorch_classifier(
        X.shape[1], n_classes, hidden_units=args.hidden, max_epochs=args.epochs,
        optimizer=torch.optim.Adam, lr=0.01, module__dropout=dropout,
    )


def run(args):
    """Run the comparison; 0 on success, 1 when every trial failed."""
    _check(args)
    from ..strategies._names import _named_strategies

    with from_library():
        strategies = _named_strategies(args.strategies)
    X, y, X_test, y_test = load_dataset(
        args.dataset, args.data_home, args.pool_size, args.test_size, args.seed
    )

    from ..learner import ActiveLearner
    from ..model_selection import compare_strategies
    from ..plotting import save_comparison_plots
    from ..strategies import DispersionSampling, FacilityLocationSampling

    regression = _regression(args)
    estimator = _estimator(args, strategies, X, y, y_test, regression)
    seed_set = {"random": None, "facility-location": FacilityLocationSampling(),
                "dispersion": DispersionSampling()}[args.initial_strategy]
    learner = ActiveLearner(
        estimator, batch_size=args.batch_size, initial_size=args.initial_size,
        initial_strategy=seed_set, budget=args.budget,
    )
    split = dict(cv=args.cv) if args.cv else dict(X_test=X_test, y_test=y_test)
    if args.cv:
        X, y = np.concatenate([X, X_test]), np.concatenate([y, y_test])
    from ..exceptions import TrialsFailedError

    with from_library():
        try:
            comparison = compare_strategies(
                learner, strategies, X, y, n_repeats=args.trials, n_jobs=args.n_jobs,
                random_state=args.seed, verbose=args.verbose, scoring=_SCORING[regression],
                **split,
            )
        except TrialsFailedError as exc:  # the work failed, not the input: status 1
            print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
            return 1

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    records = comparison.to_records()
    rows = comparison.summary(as_frame=False)
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
    score = "final -RMSE" if regression else "final accuracy"
    print(f"{'strategy':>{w}} {score:>16} {'label eff.':>10} {'AULC':>7} "
          f"{'query s':>8} {'fit s':>7} {'beats/round':>11}")
    for r in rows:
        print(f"{r['strategy']:>{w}} {r['final_score_mean']:>8.3f} ± {r['final_score_std']:.3f} "
              f"{r['labeling_efficiency']:>10.2f} {r['aulc_mean']:>7.3f} "
              f"{r['query_time_mean']:>8.3f} {r['fit_time_mean']:>7.3f} "
              f"{r['strategies_beaten_per_round']:>11.2f}")
    print(f"beats/round: how many of the other {len(rows) - 1} strategies a strategy beats "
          "in a round (paired t-test across trials), averaged over the rounds.")
    if regression:
        print("-RMSE: neg_root_mean_squared_error, the negated RMSE of targets standardized "
              "on the pool (greater is better; -1 is no better than predicting the mean); "
              "final score, AULC and the files all keep this sign.")
    for e in comparison.errors:
        print(f"failed: {e['strategy']} trial {e['trial']} (seed {e['seed']}): {e['error']}")
    print(f"wrote {out / 'rounds.csv'}, {out / 'summary.csv'} (and .json), "
          + ", ".join(str(p) for p in plots.values()))
    return 0
