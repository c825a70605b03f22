"""The golden-picks cases: every strategy on digits, with a LogisticRegression and
with a seeded skorch MLP (dropout 0.3, so that BALD and BatchBALD apply).

``python tests/_golden.py OUT.json`` records them all;
``python -m tests._golden --add tests/golden_picks.json`` records only the cases
the file lacks (a new strategy), leaving every recorded pick as it is.
``tests/test_golden.py`` checks that the current code returns exactly the recorded picks. They were
recorded on main a95106a (before issue 10 changed the way pools are read), so
they pin "no pick changes" for every later refactor.
"""

import json
import sys
import warnings

import numpy as np


def cases():
    """``[(key, make_strategy)]``; ``make_strategy()`` builds a fitted strategy."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    import skal
    from skal.toy import make_skorch_classifier

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_lab, y_lab, X_pool = X[:300], y[:300], X[300:800]
    estimators = {
        "logreg": lambda: LogisticRegression(max_iter=500).fit(X_lab, y_lab),
        "mlp": lambda: make_skorch_classifier(
            64, 10, hidden_units=32, max_epochs=5, module__dropout=0.3
        ).fit(X_lab, y_lab),
    }
    classes = dict(skal.all_strategies())
    meta = {
        "SubsetSampling(BADGE)": lambda: skal.SubsetSampling(
            skal.BADGE(random_state=0), n_candidates=200, random_state=0),
        "ProxyPrefilter(BADGE)": lambda: skal.ProxyPrefilter(
            skal.BADGE(random_state=0), n_candidates=200),
        "PartitionedStrategy(BADGE)": lambda: skal.PartitionedStrategy(
            skal.BADGE(), n_partitions=3, random_state=0),
        "StochasticBatch(EntropySampling)": lambda: skal.StochasticBatch(
            skal.EntropySampling(), mode="power", beta=1.0, random_state=0),
        "SwitchingStrategy(RandomSampling>BADGE@100)": lambda: skal.SwitchingStrategy(
            skal.RandomSampling(), skal.BADGE(), switch_at=100, random_state=0),
    }
    out = []
    for est_name, make_estimator in estimators.items():
        for name in sorted(classes) + sorted(meta):

            def make(name=name, make_estimator=make_estimator):
                if name in meta:
                    strategy = meta[name]()
                else:
                    strategy = classes[name]()
                    if "random_state" in strategy.get_params():
                        strategy.set_params(random_state=0)
                strategy.set_params(estimator=make_estimator(), prefit=True)
                return strategy.fit(X_lab, y_lab)

            out.append((f"{name}|{est_name}", make))
    return out, X_pool


def record(skip=()):
    picks = {}
    cases_, X_pool = cases()
    for key, make in cases_:
        if key in skip:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                strategy = make()
                query = strategy.query(X_pool, 30)
                rank = strategy.rank(X_pool)[:60]
        except Exception as exc:  # e.g. BALD with a LogisticRegression
            picks[key] = {"error": type(exc).__name__}
            continue
        picks[key] = {"query": query.tolist(), "rank60": rank.tolist()}
    return picks


if __name__ == "__main__":
    import skal

    print("skal from", skal.__file__, file=sys.stderr)
    if sys.argv[1] == "--add":  # append the cases of new strategies only
        with open(sys.argv[2]) as f:
            picks = json.load(f)
        new = record(skip=set(picks))
        print("recorded:", sorted(new), file=sys.stderr)
        picks.update(new)
        with open(sys.argv[2], "w") as f:
            json.dump(picks, f, indent=0, sort_keys=True)
    else:
        with open(sys.argv[1], "w") as f:
            json.dump(record(), f, indent=0, sort_keys=True)
