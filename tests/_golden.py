"""The golden-picks cases: every strategy on digits, with a LogisticRegression and
with a skorch MLP (dropout 0.3, so that BALD and BatchBALD apply).

The picks pin skal's own code, not an upstream library's training: the two
fitted estimators are stored as parameters in ``tests/golden_estimators.json``
(the LogisticRegression's ``coef_``, ``intercept_`` and ``classes_``, the MLP's
``state_dict``) and rebuilt from them, so the picks depend on skal and on
deterministic arithmetic only, whatever scikit-learn or torch would fit today.

``python -m tests._golden`` checks, in this environment, that the rebuilt
estimators give exactly the picks of freshly fitted ones (it refits, records
both and compares them);
``python -m tests._golden --record`` records the parameters and the picks anew
(a deliberate change of picks only: say so in its issue);
``python -m tests._golden --add`` records only the cases the picks file lacks
(a new strategy), leaving every recorded pick as it is.
``tests/test_golden.py`` checks that the current code returns exactly the
recorded picks.
"""

import json
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
PICKS_FILE = HERE / "golden_picks.json"
ESTIMATORS_FILE = HERE / "golden_estimators.json"
MLP_PARAMS = dict(hidden_units=32, max_epochs=5, batch_size=64, module__dropout=0.3)


def _data():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return X[:300], y[:300], X[300:800]


def fit_estimators(X_lab, y_lab):
    """The estimators as they were first fitted (the training depends on upstream)."""
    import torch
    from sklearn.linear_model import LogisticRegression

    from skal.toy import make_skorch_classifier

    return {
        "logreg": LogisticRegression(max_iter=500).fit(X_lab, y_lab),
        "mlp": make_skorch_classifier(
            64, 10, optimizer=torch.optim.SGD, lr=0.05, **MLP_PARAMS
        ).fit(X_lab, y_lab),
    }


def estimator_parameters(estimators):
    """The fitted parameters as JSON-ready lists (float32 and float64 both exact)."""
    logreg, mlp = estimators["logreg"], estimators["mlp"]
    return {
        "logreg": {name: getattr(logreg, name).tolist()
                   for name in ("coef_", "intercept_", "classes_")},
        "mlp": {
            "state_dict": {k: v.detach().cpu().numpy().astype(np.float64).tolist()
                           for k, v in mlp.module_.state_dict().items()},
            "classes_": np.asarray(mlp.classes_).tolist(),
        },
    }


def rebuild_estimators(parameters):
    """The fitted estimators, rebuilt from their parameters without training."""
    import torch
    from sklearn.linear_model import LogisticRegression

    from skal.toy import make_skorch_classifier

    def logreg():
        p = parameters["logreg"]
        est = LogisticRegression(max_iter=500)
        est.coef_ = np.asarray(p["coef_"], dtype=np.float64)
        est.intercept_ = np.asarray(p["intercept_"], dtype=np.float64)
        est.classes_ = np.asarray(p["classes_"])
        est.n_features_in_ = est.coef_.shape[1]
        est.n_iter_ = np.array([0], dtype=np.int32)
        return est

    def mlp():
        p = parameters["mlp"]
        # the training parameters too: GLISTER takes a gradient step with them
        net = make_skorch_classifier(
            64, 10, optimizer=torch.optim.SGD, lr=0.05, **MLP_PARAMS
        ).initialize()
        state = {k: torch.tensor(np.asarray(v, dtype=np.float32))
                 for k, v in p["state_dict"].items()}
        net.module_.load_state_dict(state)
        net.classes_inferred_ = np.asarray(p["classes_"])
        return net

    return {"logreg": logreg, "mlp": mlp}


def cases(estimators=None):
    """``[(key, make_strategy)]``; ``make_strategy()`` builds a fitted strategy.

    ``estimators`` maps "logreg" and "mlp" to functions returning a fitted
    estimator; by default, the recorded ones, rebuilt.
    """
    import skal

    X_lab, y_lab, X_pool = _data()
    if estimators is None:
        estimators = rebuild_estimators(json.loads(ESTIMATORS_FILE.read_text()))
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
    # The k-means++ users with method="scan" (issue 20): the picks of skal 0.1.0,
    # recorded before the lazy engine, for users who reproduce a published run.
    scan = {"method": "scan"}
    meta.update({
        f"{name}(method=scan)": (lambda name=name: classes[name](**scan, random_state=0))
        for name in sorted(classes) if "method" in classes[name]().get_params()
    })
    meta.update({
        "SubsetSampling(BADGE(method=scan))": lambda: skal.SubsetSampling(
            skal.BADGE(random_state=0, **scan), n_candidates=200, random_state=0),
        "ProxyPrefilter(BADGE(method=scan))": lambda: skal.ProxyPrefilter(
            skal.BADGE(random_state=0, **scan), n_candidates=200),
        "PartitionedStrategy(BADGE(method=scan))": lambda: skal.PartitionedStrategy(
            skal.BADGE(**scan), n_partitions=3, random_state=0),
        "SwitchingStrategy(RandomSampling>BADGE(method=scan)@100)":
            lambda: skal.SwitchingStrategy(skal.RandomSampling(), skal.BADGE(**scan),
                                           switch_at=100, random_state=0),
    })
    # A committee bagged inside fit would pin the bootstrapped members' own fits (an
    # upstream library's numbers): its cases use the two recorded estimators as prefit
    # members (one case per disagreement, recorded under "|logreg" only).
    committee = classes.pop("QueryByCommittee")
    for disagreement in ("vote_entropy", "consensus_entropy", "kl_max"):
        key = "QueryByCommittee" + ("" if disagreement == "vote_entropy"
                                    else f"({disagreement})")
        meta[key] = (lambda d=disagreement: committee(
            [estimators["logreg"](), estimators["mlp"]()], disagreement=d, prefit=True))
    # The strategies made for regression get a regressor rebuilt from the recorded
    # logistic regression's first row (no fit: no upstream numbers), under "|logreg"
    # only; their labels are the recorded classes read as numbers.
    def ridge():
        from sklearn.linear_model import Ridge

        logreg = estimators["logreg"]()
        est = Ridge()
        est.coef_, est.intercept_ = logreg.coef_[0].copy(), float(logreg.intercept_[0])
        est.n_features_in_ = logreg.n_features_in_
        return est

    regression = {
        f"GreedySampling({approach})": (lambda a=approach: skal.GreedySampling(
            ridge(), approach=a, prefit=True, random_state=0)) for approach in ("x", "y", "xy")
    }
    for name in ("LCMD", "MAXDET", "MAXDIST", "KMEANSPP"):  # the rebuilt regressor's
        # last-layer kernel
        regression[f"{name}(ll)"] = (lambda name=name: classes[name](
            ridge(), prefit=True, kernel="ll", random_state=0))
    meta.update(regression)
    out = []
    for est_name, make_estimator in estimators.items():
        for name in sorted(classes) + sorted(meta):
            own = name.startswith("QueryByCommittee") or name in regression
            if own and est_name != "logreg":
                continue

            def make(name=name, make_estimator=make_estimator):
                if name.startswith("QueryByCommittee"):
                    return meta[name]().fit(X_lab, y_lab)
                if name in regression:
                    return meta[name]().fit(X_lab, y_lab.astype(np.float64))
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


def record(estimators=None, skip=()):
    picks = {}
    cases_, X_pool = cases(estimators)
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


def _versions():
    import sklearn
    import torch

    return f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, torch {torch.__version__}"


def _write(path, obj):
    path.write_text(json.dumps(obj, indent=0, sort_keys=True) + "\n")


def main(argv):
    import skal

    print("skal from", skal.__file__, "with", _versions(), file=sys.stderr)
    X_lab, y_lab, _ = _data()
    if argv[:1] == ["--add"]:  # append the cases of new strategies only
        picks = json.loads(PICKS_FILE.read_text())
        new = record(skip=set(picks))
        print("recorded:", sorted(new), file=sys.stderr)
        _write(PICKS_FILE, {**picks, **new})
        return 0
    fitted = fit_estimators(X_lab, y_lab)
    parameters = estimator_parameters(fitted)
    from_fit = record({k: (lambda est=est: est) for k, est in fitted.items()})
    from_parameters = record(rebuild_estimators(parameters))
    differ = sorted(k for k in from_fit if from_fit[k] != from_parameters[k])
    print(f"{len(from_fit)} cases: {len(from_fit) - len(differ)} give the same picks from "
          f"the fitted and the rebuilt estimators; differ: {differ}", file=sys.stderr)
    if argv[:1] == ["--record"]:
        if differ:
            print("not recorded: rebuilt estimators must pick as fitted ones", file=sys.stderr)
            return 1
        _write(ESTIMATORS_FILE, parameters)
        _write(PICKS_FILE, from_parameters)
        print("recorded", PICKS_FILE, "and", ESTIMATORS_FILE, file=sys.stderr)
    else:  # how the recorded picks compare with this environment's fits
        recorded = json.loads(PICKS_FILE.read_text())
        changed = sorted(k for k in recorded if recorded[k] != from_fit.get(k))
        print(f"recorded picks that this environment's fitted estimators do not give: "
              f"{changed}", file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
