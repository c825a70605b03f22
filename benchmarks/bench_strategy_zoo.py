"""Case D: one selection round of every strategy on a 60,000 × 784 MNIST pool, vs entropy.

The model is the benchmarks' 784-256-10 skorch MLP, with dropout 0.5 after the
hidden layer (BALD and BatchBALD need it), trained for 10 epochs on 1,000
random MNIST training images. Every strategy is used the way
:class:`skal.ActiveLearner` uses it: given the fitted net with ``prefit=True``
and ``random_state=0``, fitted on the 1,000 labeled samples, then timed on one
``query(X_pool, batch_size)`` over the whole 60,000-image training set,
forward passes included (and, for VAAL, training its VAE and discriminator).
Each strategy is warmed up first on a 2,000-sample pool (numba compilation,
torch start-up), untimed.

Entropy sampling is timed first and last; the ratio of each strategy is to the
mean of those two runs, so a machine that slows down during the run shows up
as a gap between them. Beside each ratio is the per-round selection time that
DISTIL (Beck et al. 2021, Table 12, MNIST, GPU) reports, and its ratio to
DISTIL's entropy.

Meta-strategies (not in ``all_strategies()``: they wrap another one) run as
the named configurations of ``META_CASES``, after the strategies:
``"StochasticBatch(EntropySampling, power)"`` is power-entropy (Kirsch et al.,
TMLR 2023), which should cost about what entropy does.

Prints one JSON line per strategy, then a summary line.

Run: ``SKAL_DATA=../shared/data python benchmarks/bench_strategy_zoo.py``
(``--strategies BALD GLISTER`` for a subset, a ``META_CASES`` key included,
``--pool-size 10000`` for a quicker run).
"""

import argparse
import os
import time

import numpy as np

from _common import emit, load_mnist, trained_mlp

# DISTIL, Table 12: selection time per round on MNIST, seconds
DISTIL_SECONDS = {
    "EntropySampling": 15.5,
    "BADGE": 23.3,
    "GLISTER": 62.7,
    "FASS": 62.4,
    "CoreSet": 26.5,
    "BALD": 528.5,
    "BatchBALD": 641.3,
    "VAAL": 34.2,
    "AdversarialDeepFool": 1587.0,
}


def _power_entropy():
    from skal import EntropySampling, StochasticBatch

    return StochasticBatch(EntropySampling(), mode="power", beta=1.0)


# meta-strategies, as configured instances (a callable returning an unfitted one)
META_CASES = {"StochasticBatch(EntropySampling, power)": _power_entropy}


def _strategies(names):
    import skal

    found = {**dict(skal.all_strategies()), **META_CASES}
    unknown = sorted(set(names or ()) - set(found))
    if unknown:
        raise SystemExit(f"Unknown strategies {unknown}; choose from {sorted(found)}.")
    default = sorted(dict(skal.all_strategies())) + list(META_CASES)
    return {name: found[name] for name in (names or default)}


def _prepared(Strategy, net, X_lab, y_lab):
    strategy = Strategy()
    params = {"estimator": net, "prefit": True}
    if "random_state" in strategy.get_params():
        params["random_state"] = 0
    return strategy.set_params(**params).fit(X_lab, y_lab)


def _time_query(strategy, X_pool, batch_size):
    tic = time.perf_counter()
    picks = strategy.query(X_pool, batch_size=batch_size)
    seconds = time.perf_counter() - tic
    assert len(np.unique(picks)) == batch_size
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strategies", nargs="+", help="class names (default: all)")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--pool-size", type=int, default=None)
    args = parser.parse_args()

    import torch

    from skal import EntropySampling

    torch.set_num_threads(os.cpu_count() or 1)
    X, y = load_mnist(train=True)
    X_pool = X if args.pool_size is None else X[: args.pool_size]
    labeled = np.random.RandomState(0).permutation(len(y))[:1000]
    X_lab, y_lab = X[labeled], y[labeled]
    net = trained_mlp(X_lab, y_lab, dropout=0.5)
    warm = X[-2000:]

    def run(name, Strategy):
        strategy = _prepared(Strategy, net, X_lab, y_lab)
        strategy.query(warm, batch_size=min(args.batch_size, len(warm)))  # warm-up
        return _time_query(_prepared(Strategy, net, X_lab, y_lab), X_pool, args.batch_size)

    entropy_first = run("EntropySampling", EntropySampling)
    records = []
    for name, Strategy in _strategies(args.strategies).items():
        if name == "EntropySampling":
            continue
        try:
            seconds = run(name, Strategy)
            error = None
        except Exception as exc:  # report and go on: one strategy must not hide the rest
            seconds, error = float("nan"), f"{type(exc).__name__}: {exc}"
        records.append((name, seconds, error))
    entropy_last = run("EntropySampling", EntropySampling)
    entropy = (entropy_first + entropy_last) / 2
    d_entropy = DISTIL_SECONDS["EntropySampling"]
    emit(case="D", strategy="EntropySampling", seconds=entropy,
         seconds_first=entropy_first, seconds_last=entropy_last, ratio_to_entropy=1.0,
         distil_seconds=d_entropy, distil_ratio=1.0, n_pool=len(X_pool),
         batch_size=args.batch_size)
    for name, seconds, error in records:
        distil = DISTIL_SECONDS.get(name)
        emit(case="D", strategy=name, seconds=seconds, ratio_to_entropy=seconds / entropy,
             distil_seconds=distil,
             distil_ratio=None if distil is None else distil / d_entropy,
             n_pool=len(X_pool), batch_size=args.batch_size, error=error)
    ratios = [s / entropy for _, s, _ in records if np.isfinite(s)]
    emit(case="D", strategy="summary", n_strategies=len(records),
         within_10x_of_entropy=int(sum(r <= 10 for r in ratios)),
         max_ratio=max(ratios) if ratios else None,
         failed=[name for name, _, error in records if error])


if __name__ == "__main__":
    main()
