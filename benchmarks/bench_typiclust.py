"""TypiClust side by side with scikit-activeml's, on a 20,000-sample MNIST pool (PCA-50).

Both select ``--batch-size`` samples given ``--n-labeled`` labeled ones (drawn at
random): skal's ``TypiClust(n_new_clusters=batch_size, random_state=0)`` fitted on
the labeled set (no estimator: the raw PCA features), and
``skactiveml.pool.TypiClust(random_state=0)`` (its defaults: scikit-learn's
``KMeans`` with ``n_clusters = n_labeled + batch_size``). Each is timed best of
``--repeats`` in the same process; printed: seconds, the ratio skal / skactiveml,
and the 1-NN accuracy on the rest of the pool with the labeled set plus the picks
(a measure of how good the picks are for a tiny budget). scikit-activeml is not a
dependency of skal: install it beside (``pip install scikit-activeml``); the
script says so and stops when it is missing.

Run: ``SKAL_DATA=../shared/data python benchmarks/bench_typiclust.py``
"""

import argparse
import time

import numpy as np

from _common import emit, load_mnist


def one_nn_accuracy(X, y, labeled, rest):
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(1).fit(X[labeled], y[labeled])
    return float((clf.predict(X[rest]) == y[rest]).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pool-size", type=int, default=20000)
    parser.add_argument("--n-labeled", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--methods", nargs="+", default=["auto", "scan"])
    args = parser.parse_args()
    try:
        from skactiveml.pool import TypiClust as SkTypiClust
    except ImportError:
        raise SystemExit("scikit-activeml is not installed: pip install scikit-activeml")
    from sklearn.decomposition import PCA

    from skal import TypiClust

    X, y = load_mnist()
    X, y = X[: args.pool_size], y[: args.pool_size]
    X = PCA(50, random_state=0).fit_transform(X).astype(np.float32)
    rng = np.random.RandomState(0)
    for n_labeled in args.n_labeled:
        labeled = rng.choice(len(X), n_labeled, replace=False)
        pool = np.setdiff1d(np.arange(len(X)), labeled)
        times, accuracy = {}, {}

        def skal_query(method):
            strategy = TypiClust(n_new_clusters=args.batch_size, random_state=0,
                                 method=method).fit(X[labeled], y[labeled])
            return pool[strategy.query(X[pool], args.batch_size)]

        def sk_query():
            y_missing = np.full(len(X), np.nan)
            y_missing[labeled] = y[labeled]
            return SkTypiClust(random_state=0).query(X, y_missing, batch_size=args.batch_size)

        runs = {f"skal_{m}": (lambda m=m: skal_query(m)) for m in args.methods}
        runs["skactiveml"] = sk_query
        for _ in range(args.repeats):  # alternate, best of each
            for name, run in runs.items():
                tic = time.perf_counter()
                picks = run()
                seconds = time.perf_counter() - tic
                times[name] = min(times.get(name, np.inf), seconds)
                rest = np.setdiff1d(pool, picks)
                accuracy[name] = one_nn_accuracy(X, y, np.r_[labeled, picks], rest)
        for name in runs:
            emit(case="typiclust", method=name, n_labeled=n_labeled,
                 batch_size=args.batch_size, pool_size=len(X), seconds=round(times[name], 4),
                 one_nn_accuracy=round(accuracy[name], 4))
        emit(case="typiclust", method="ratios", n_labeled=n_labeled,
             **{f"{name}/skactiveml": round(times[name] / times["skactiveml"], 3)
                for name in runs if name != "skactiveml"})


if __name__ == "__main__":
    main()
