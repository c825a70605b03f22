"""Regression results (issue 22, item 4): skal's regression strategies, and bmdal_reg's.

Three data sets, targets standardized with the pool's mean and deviation (so an
RMSE of 1 is no better than predicting the mean):

- ``diabetes``: scikit-learn's bundled ``load_diabetes`` (442 samples), a
  300-sample pool and the other 142 as test set, features standardized;
  20 random labels then 5 rounds of 20;
- ``friedman1``: ``make_friedman1`` (10 features, noise 1), a 20,000-sample
  pool and 5,000 test samples (bmdal_reg's "fried"); 64 labels then 4 rounds
  of 64;
- ``rotated-mnist``: MNIST digits (``$SKAL_DATA``) each rotated by an angle
  drawn uniformly in [−60°, 60°], the angle the target; a 10,000-image pool
  and 2,000 test images; 64 labels then 4 rounds of 64.

The model is a skorch ``NeuralNetRegressor``, an MLP with two hidden layers of
64 (128 for MNIST) and ReLU, trained from scratch every round for
``--epochs`` epochs of Adam (lr 3e-3, batches of 32). Every strategy runs
inside ``compare_strategies`` on the same ``--trials`` trials: the same
initial labeled sets and the same net seeds. Strategies: random;
``QueryByCommittee()`` (the variance of 5 bagged nets); ``GreedySampling(approach="x")``
(GSx) and ``GreedySampling(approach="xy")`` (iGS); ``LCMD()`` and ``MAXDET()`` (their
defaults: the sketched gradient kernel, the paper's LCMD-TP and MAXDET-P);
and, when ``bmdal_reg`` imports (``pip install bmdal-reg``; not a skal
dependency), bmdal_reg's own LCMD and MAXDET through its ``select_batch``,
with the same configurations, on the same nets, as strategies of the same
comparison. Each round's test RMSE and each round's selection time
(``query_time``) are recorded for every strategy.

Writes, per data set, ``rounds.csv`` (every round of every trial),
``summary.csv``/``.json`` and the comparison plots into
``<output>/<dataset>/``, and one JSON line per data set on stdout. Scores are
``neg_root_mean_squared_error``: negated RMSE, greater is better.

Run: ``SKAL_DATA=../shared/data python benchmarks/bench_regression_results.py``
(``--datasets diabetes friedman1``, ``--trials 5``, ``--n-jobs 2``,
``--output docs/results/regression``; ``--strategies random LCMD bmdal_reg-LCMD
--seed 1`` for more trials of a few strategies: another seed draws other trials on the
same data, which ``--data-seed`` draws).
"""

import argparse
import csv
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from skorch import NeuralNetRegressor
from torch import nn

from _common import emit
from skal import (
    LCMD,
    MAXDET,
    ActiveLearner,
    GreedySampling,
    QueryByCommittee,
    RandomSampling,
)
from skal.base import BaseStrategy
from skal.model_selection import compare_strategies
from skal.plotting import save_comparison_plots
from skal.selection import BaseRanking


class MLP(nn.Module):
    def __init__(self, n_features=10, hidden=64):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(),
                                    nn.Linear(hidden, hidden), nn.ReLU(),
                                    nn.Linear(hidden, 1))

    def forward(self, X):
        return self.layers(X)


def make_net(n_features, hidden, epochs):
    return NeuralNetRegressor(MLP, module__n_features=n_features, module__hidden=hidden,
                              max_epochs=epochs, lr=3e-3, batch_size=32,
                              optimizer=torch.optim.Adam, train_split=None, verbose=0)


# -- bmdal_reg as a strategy of the comparison -------------------------------------------


def have_bmdal():
    np.Inf = np.inf  # bmdal_reg 3.0.2 predates NumPy 2
    try:
        import bmdal_reg.bmdal.algorithms  # noqa: F401
    except Exception:
        return False
    return True


class _OneBatch(BaseRanking):
    """bmdal_reg's batch, chosen at the first ``take`` (of exactly one batch)."""

    def __init__(self, select, n_points):
        self._select = select
        super().__init__(n_points)

    def _take(self, k):
        return np.asarray(self._select(k), dtype=np.intp)

    def _add(self, points):
        raise NotImplementedError("bmdal_reg selects one batch; nothing joins it")


class BmdalReg(BaseStrategy):
    """bmdal_reg's ``select_batch`` (LCMD-TP or MAXDET-P, sketched gradients) on skal's net."""

    _serves_regression = True
    _uses_labeled_set = True

    def __init__(self, estimator=None, *, prefit=False, method="lcmd", sigma=1e-3,
                 random_state=None):
        super().__init__(estimator=estimator, prefit=prefit)
        self.method = method
        self.sigma = sigma
        self.random_state = random_state

    def _fit(self, X, y):
        self.X_labeled_ = np.asarray(X, dtype=np.float32)

    def _points(self, X, estimator, offset=0):
        return np.asarray(X, dtype=np.float32)

    def _ranking(self, points, estimator):
        def select(k):
            np.Inf = np.inf  # in every worker process too: bmdal_reg 3.0.2 predates NumPy 2
            from bmdal_reg.bmdal.algorithms import select_batch
            from bmdal_reg.bmdal.feature_data import TensorFeatureData

            torch.manual_seed(int(self.random_state or 0))  # its sketch: torch's generator
            data = {"train": TensorFeatureData(torch.as_tensor(self.X_labeled_)),
                    "pool": TensorFeatureData(torch.as_tensor(points))}
            sketch = [("rp", [512])]
            if self.method == "lcmd":
                config = dict(selection_method="lcmd", kernel_transforms=sketch)
            else:
                config = dict(selection_method="maxdet", sel_with_train=False,
                              maxdet_sigma=self.sigma, allow_float64=True,
                              kernel_transforms=sketch + [("train", [self.sigma, None])])
            idx, _ = select_batch(batch_size=k, models=[estimator.module_], data=data,
                                  y_train=None, base_kernel="grad", verbosity=0, **config)
            return idx.cpu().numpy()

        return _OneBatch(select, len(points))

    def _transform(self, X, estimator):
        return np.asarray(X, dtype=np.float32)


# -- data --------------------------------------------------------------------------------


def _standardized(X, y, X_test, y_test):
    mu, sd = X.mean(axis=0), X.std(axis=0) + 1e-12
    ym, ys = y.mean(), y.std()
    return (((X - mu) / sd).astype(np.float32), ((y - ym) / ys).astype(np.float32),
            ((X_test - mu) / sd).astype(np.float32), ((y_test - ym) / ys).astype(np.float32))


def load(name, seed):
    """(X_pool, y_pool, X_test, y_test, hidden, initial, batch, rounds)."""
    rng = np.random.RandomState(seed)
    if name == "diabetes":
        from sklearn.datasets import load_diabetes

        X, y = load_diabetes(return_X_y=True)
        order = rng.permutation(len(y))
        pool, test = order[:300], order[300:]
        return (*_standardized(X[pool], y[pool], X[test], y[test]), 64, 20, 20, 5)
    if name == "friedman1":
        from sklearn.datasets import make_friedman1

        X, y = make_friedman1(n_samples=25000, n_features=10, noise=1.0, random_state=seed)
        return (*_standardized(X[:20000], y[:20000], X[20000:], y[20000:]), 64, 64, 64, 4)
    if name == "rotated-mnist":
        from scipy.ndimage import rotate

        from skal.datasets import load_mnist

        home = os.environ.get("SKAL_DATA")
        if not home:
            raise SystemExit("rotated-mnist reads MNIST from $SKAL_DATA (e.g. "
                             "SKAL_DATA=../shared/data); nothing is downloaded.")
        images, _ = load_mnist(data_home=home, train=True)
        chosen = rng.permutation(len(images))[:12000]
        angles = rng.uniform(-60.0, 60.0, size=len(chosen))
        X = np.stack([rotate(images[i].astype(np.float32) / 255.0, a, reshape=False, order=1)
                      for i, a in zip(chosen, angles)]).reshape(len(chosen), -1)
        y = angles
        X_pool, X_test = X[:10000], X[10000:]
        ym, ys = y[:10000].mean(), y[:10000].std()
        return (X_pool.astype(np.float32), ((y[:10000] - ym) / ys).astype(np.float32),
                X_test.astype(np.float32), ((y[10000:] - ym) / ys).astype(np.float32),
                128, 64, 64, 4)
    raise SystemExit(f"unknown data set {name!r}: diabetes, friedman1, rotated-mnist")


def strategies(with_bmdal):
    out = {
        "random": RandomSampling(),
        "QBC-variance": QueryByCommittee(n_members=5),
        "GSx": GreedySampling(approach="x"),
        "iGS": GreedySampling(approach="xy"),
        "LCMD": LCMD(),
        "MAXDET": MAXDET(),
    }
    if with_bmdal:
        out["bmdal_reg-LCMD"] = BmdalReg(method="lcmd")
        out["bmdal_reg-MAXDET"] = BmdalReg(method="maxdet")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+",
                        default=["diabetes", "friedman1", "rotated-mnist"])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="draws the trials")
    parser.add_argument("--data-seed", type=int, default=0,
                        help="draws the data sets' split, Friedman's samples, the rotations")
    parser.add_argument("--output", default="docs/results/regression")
    parser.add_argument("--no-bmdal", action="store_true", help="skal's strategies only")
    parser.add_argument("--strategies", nargs="+", default=None,
                        help="a subset of the names (default: all), e.g. random LCMD "
                             "bmdal_reg-LCMD")
    args = parser.parse_args()
    bmdal = not args.no_bmdal and have_bmdal()
    for name in args.datasets:
        X, y, X_test, y_test, hidden, initial, batch, rounds = load(name, args.data_seed)
        learner = ActiveLearner(
            make_net(X.shape[1], hidden, args.epochs), initial_size=initial,
            batch_size=batch, budget=initial + rounds * batch,
            scoring="neg_root_mean_squared_error",
        )
        tic = time.perf_counter()
        chosen = strategies(bmdal)
        if args.strategies:
            chosen = {name: chosen[name] for name in args.strategies}
        comparison = compare_strategies(
            learner, chosen, X, y, X_test=X_test, y_test=y_test,
            n_repeats=args.trials, n_jobs=args.n_jobs, random_state=args.seed,
        )
        seconds = time.perf_counter() - tic
        out = Path(args.output) / name
        out.mkdir(parents=True, exist_ok=True)
        rows = comparison.summary(as_frame=False)
        for stem, table in (("rounds", comparison.to_records()), ("summary", rows)):
            with open(out / f"{stem}.csv", "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(table[0]))
                writer.writeheader()
                writer.writerows(table)
            (out / f"{stem}.json").write_text(json.dumps(table, indent=1, default=float))
        save_comparison_plots(comparison, out)
        names = comparison.names
        emit(benchmark="regression_results", dataset=name, pool=len(y), test=len(y_test),
             initial=initial, batch_size=batch, rounds=rounds, trials=args.trials,
             epochs=args.epochs, bmdal_reg=bmdal, seconds=round(seconds, 1),
             n_labeled=comparison.n_labeled.tolist(),
             rmse={s: (-np.nanmean(comparison.scores[s], axis=0)).round(4).tolist()
                   for s in names},
             rmse_se={s: (np.nanstd(comparison.scores[s], axis=0, ddof=1)
                          / np.sqrt(comparison.scores[s].shape[0])).round(4).tolist()
                      for s in names},
             query_seconds={s: np.nanmean(comparison.query_times[s][:, 1:], axis=0)
                            .round(4).tolist() for s in names},
             errors=[{k: str(v) for k, v in e.items()} for e in comparison.errors])


if __name__ == "__main__":
    main()
