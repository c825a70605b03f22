"""Case D, regression rows: one selection round of each regression strategy on 60,000 MNIST.

The classification rows of case D (``bench_strategy_zoo.py``) time every
strategy with a 784-256-10 classifier. The regression strategies need a
regressor: here a skorch ``NeuralNetRegressor``, 784-256-1 with ReLU, trained
for 10 epochs on 1,000 random MNIST training images with the digit's value
as a (stand-in) numeric target. Every strategy is used as
:class:`skal.ActiveLearner` uses it: given the fitted net with
``prefit=True`` and ``random_state=0``, fitted on the 1,000 labeled samples
(``QueryByCommittee`` bags its members there, untimed, as a round's strategy
fit is), then timed on one ``query(X_pool, batch_size)`` over the 60,000
images, forward passes included, after an untimed warm-up on 2,000 images.

Ratios are to ``RandomSampling`` (the issue's baseline for regression; it
reads nothing of the pool, so its time is the floor of any query) and to one
prediction pass of the net over the pool (``net.predict``), timed first and
last (the mean of the two), which plays entropy's part in the classification
rows.

Prints one JSON line per strategy, then a summary line.

Run: ``SKAL_DATA=../shared/data python benchmarks/bench_regression_zoo.py``
(``--pool-size 10000`` for a quicker run).
"""

import argparse
import os
import time

import numpy as np

from _common import emit, load_mnist


def _net():
    import torch
    from skorch import NeuralNetRegressor
    from torch import nn

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Sequential(nn.Linear(784, 256), nn.ReLU())
            self.out = nn.Linear(256, 1)

        def forward(self, X):
            return self.out(self.hidden(X))

    torch.manual_seed(0)
    return NeuralNetRegressor(MLP, max_epochs=10, lr=1e-3, batch_size=64,
                              optimizer=torch.optim.Adam, train_split=None, verbose=0,
                              iterator_valid__batch_size=1024)


def _cases():
    from skal import (
        KMEANSPP,
        LCMD,
        MAXDET,
        MAXDIST,
        CoreSet,
        GreedySampling,
        KMeansSampling,
        QueryByCommittee,
        RandomSampling,
    )

    return {
        "RandomSampling": RandomSampling,
        "QueryByCommittee(variance, 5 bagged nets)": lambda: QueryByCommittee(n_members=5),
        "GreedySampling(x)": lambda: GreedySampling(approach="x"),
        "GreedySampling(y)": lambda: GreedySampling(approach="y"),
        "GreedySampling(xy)": lambda: GreedySampling(approach="xy"),
        "LCMD": LCMD,
        "MAXDET": MAXDET,
        "LCMD(ll)": lambda: LCMD(kernel="ll"),
        "MAXDET(ll)": lambda: MAXDET(kernel="ll"),
        "MAXDIST": MAXDIST,
        "KMEANSPP": KMEANSPP,
        "CoreSet": CoreSet,
        "KMeansSampling": KMeansSampling,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--pool-size", type=int, default=None)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    X, y = load_mnist(train=True)
    X_pool = X if args.pool_size is None else X[: args.pool_size]
    labeled = np.random.RandomState(0).permutation(len(y))[:1000]
    X_lab, y_lab = X[labeled], y[labeled].astype(np.float32)
    net = _net().fit(X_lab, y_lab.reshape(-1, 1))
    warm = X[-2000:]

    def prepared(make):
        strategy = make()
        params = {"estimator": net, "prefit": True}
        if "random_state" in strategy.get_params():
            params["random_state"] = 0
        return strategy.set_params(**params).fit(X_lab, y_lab)

    def predict_pass():
        net.predict(warm)
        tic = time.perf_counter()
        net.predict(X_pool)
        return time.perf_counter() - tic

    forward_first = predict_pass()
    records = []
    for name, make in _cases().items():
        try:
            prepared(make).query(warm, batch_size=args.batch_size)  # warm-up
            strategy = prepared(make)
            tic = time.perf_counter()
            picks = strategy.query(X_pool, batch_size=args.batch_size)
            seconds = time.perf_counter() - tic
            assert len(np.unique(picks)) == args.batch_size
            error = None
        except Exception as exc:  # report and go on
            seconds, error = float("nan"), f"{type(exc).__name__}: {exc}"
        records.append((name, seconds, error))
    forward = (forward_first + predict_pass()) / 2
    random_seconds = dict((n, s) for n, s, _ in records)["RandomSampling"]
    emit(case="D-regression", strategy="predict", seconds=forward, n_pool=len(X_pool))
    for name, seconds, error in records:
        emit(case="D-regression", strategy=name, seconds=seconds,
             ratio_to_random=seconds / random_seconds, ratio_to_predict=seconds / forward,
             n_pool=len(X_pool), batch_size=args.batch_size, error=error)
    emit(case="D-regression", strategy="summary", n_strategies=len(records),
         max_ratio_to_predict=max(s / forward for _, s, _ in records if np.isfinite(s)),
         failed=[name for name, _, error in records if error])


if __name__ == "__main__":
    main()
