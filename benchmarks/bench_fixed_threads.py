"""Case F: what a fixed thread count per fit costs (``skal.set_config(n_threads=...)``).

An ActiveLearner simulation on MNIST (a 784-256-10 MLP trained with Adam, the
seed paper's setup, scaled down: 500 initial labels, rounds of 500 up to 3,000,
entropy sampling and BADGE over a 20,000-image pool), timed with
``n_threads=1`` (skal's default, bit-identical histories on any core count)
against ``n_threads=None`` (the process's own thread count: every core), in
the same run and alternating, median of the repeats. Also for a
``compare_strategies`` call with ``n_jobs=2`` (one trial per core, where a
fixed single thread is what joblib's workers would use anyway).

Printed: one JSON line per measurement, then the ratios ``n_threads=1`` over
``n_threads=None``.

Run: ``SKAL_DATA=../shared/data python benchmarks/bench_fixed_threads.py``
"""

import os
import time

import numpy as np

from _common import emit, load_mnist


def _learner(strategy):
    import torch

    from skal import ActiveLearner
    from skal.toy import make_skorch_classifier

    net = make_skorch_classifier(
        784, 10, hidden_units=256, max_epochs=10, lr=0.001, optimizer=torch.optim.Adam,
        batch_size=64,
    )
    return ActiveLearner(net, strategy, initial_size=500, batch_size=500, budget=3000,
                         random_state=0)


def main(repeats=3):
    import torch

    import skal
    from skal import BADGE, EntropySampling
    from skal.model_selection import compare_strategies

    torch.set_num_threads(os.cpu_count() or 1)
    X, y = load_mnist(train=True)
    X_test, y_test = load_mnist(train=False)
    pool = np.random.RandomState(0).permutation(len(y))[:20_000]
    X, y = X[pool], y[pool]
    X_test, y_test = X_test[:2000], y_test[:2000]
    _learner(EntropySampling()).set_params(budget=1000).fit(X, y)  # warm-up
    compare_strategies(_learner(None).set_params(budget=1000), ["entropy"], X[:4000],
                       y[:4000], cv=2, n_jobs=2, random_state=0)  # starts the workers

    times = {}
    for _ in range(repeats):
        for n_threads in (1, None):
            for name, strategy in (("entropy", EntropySampling()), ("badge", BADGE())):
                with skal.config_context(n_threads=n_threads):
                    tic = time.perf_counter()
                    learner = _learner(strategy).fit(X, y, X_val=X_test, y_val=y_test)
                    seconds = time.perf_counter() - tic
                fit = float(np.nansum(learner.history_["fit_time"]))
                query = float(np.nansum(learner.history_["query_time"]))
                times.setdefault((name, n_threads), []).append((seconds, fit, query))
                emit(case="F", what=f"ActiveLearner {name}", n_threads=n_threads,
                     seconds=round(seconds, 2), fit_seconds=round(fit, 2),
                     query_seconds=round(query, 2),
                     final_score=float(learner.history_["score"][-1]))
            with skal.config_context(n_threads=n_threads):
                tic = time.perf_counter()
                compare_strategies(_learner(None).set_params(budget=1500), ["entropy"],
                                   X[:4000], y[:4000], cv=2, n_jobs=2, random_state=0)
                seconds = time.perf_counter() - tic
            times.setdefault(("compare n_jobs=2", n_threads), []).append((seconds, 0, 0))
            emit(case="F", what="compare_strategies n_jobs=2", n_threads=n_threads,
                 seconds=round(seconds, 2))
    for what in ("entropy", "badge", "compare n_jobs=2"):
        one = np.median([t[0] for t in times[(what, 1)]])
        every = np.median([t[0] for t in times[(what, None)]])
        emit(case="F", what=what, median_seconds_n_threads_1=round(float(one), 2),
             median_seconds_n_threads_none=round(float(every), 2),
             ratio_1_over_none=round(float(one / every), 3), repeats=repeats,
             cores=os.cpu_count())


if __name__ == "__main__":
    main()
