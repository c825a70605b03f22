"""Bytes per pool sample of a saved lazy ranking (docs/pools.md, "A ranking that survives a restart").

For each strategy: ``joblib.dump`` of ``lazy_rank(pool)`` after 20 picks, for pools of
10,000 and 20,000 random 784-d samples, with a 784-256-10 skorch net; prints the size
difference divided by 10,000 (what one more pool sample costs in the file).

Run: ``python benchmarks/bench_ranking_bytes.py``
"""

import io
import warnings

import joblib
import numpy as np

from _common import emit


def main():
    from skal import BADGE, CoreSet, EntropySampling
    from skal.toy import make_skorch_classifier

    warnings.simplefilter("ignore")
    rng = np.random.RandomState(0)
    X = rng.rand(22000, 784).astype(np.float32)
    y = rng.randint(0, 10, 2000)
    net = make_skorch_classifier(784, 10, hidden_units=256, max_epochs=1).fit(X[:2000], y)
    for cls in (EntropySampling, CoreSet, BADGE):
        strategy = cls(net, prefit=True)
        sizes = []
        for n in (10000, 20000):
            ranking = strategy.lazy_rank(X[2000 : 2000 + n])
            ranking.take(20)
            buffer = io.BytesIO()
            joblib.dump(ranking, buffer)
            sizes.append(buffer.getbuffer().nbytes)
        emit(case="ranking_bytes", strategy=cls.__name__,
             bytes_per_sample=(sizes[1] - sizes[0]) / 10000)


if __name__ == "__main__":
    main()
