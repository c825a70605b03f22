"""Bad input: every error names the offending value and the fix, and leaves the
caller's arrays untouched."""

import itertools
import re
import warnings

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError

from skal import (
    BADGE,
    ActiveLearner,
    CoreSet,
    EntropySampling,
    LeastConfidence,
    MarginSampling,
    RandomSampling,
)
from skal.exceptions import EmbeddingError, SkalException, SkalWarning, UpdateResetWarning
from skal.toy import make_skorch_classifier

UNCERTAINTY = [LeastConfidence, MarginSampling, EntropySampling]
NEEDS_ESTIMATOR = UNCERTAINTY + [BADGE, CoreSet]
ALL_STRATEGIES = NEEDS_ESTIMATOR + [RandomSampling]

N, N_FEATURES = 45, 3


@pytest.fixture(scope="module")
def data():
    """(X, y): 45 samples, 3 features, 3 balanced classes (float64)."""
    rng = np.random.RandomState(0)
    y = np.arange(N) % 3
    X = rng.randn(N, N_FEATURES) + 2.0 * y[:, None]
    return X, y


@pytest.fixture(scope="module")
def clf(data):
    X, y = data
    return LogisticRegression().fit(X, y)


def make(cls, estimator=None, prefit=False):
    params = {"prefit": prefit}
    if "random_state" in cls().get_params():
        params["random_state"] = 0
    return cls(estimator, **params)


def raises_untouched(exc, match, func, *arrays):
    """Assert ``func()`` raises ``exc`` matching ``match`` and mutates no array."""
    copies = [np.array(a, copy=True) for a in arrays]
    with pytest.raises(exc, match=match) as info:
        func()
    for array, copy in zip(arrays, copies):
        np.testing.assert_array_equal(array, copy)  # NaN == NaN here
        assert array.dtype == copy.dtype
    return info.value


POOL_METHODS = ["query", "rank", "transform"]


def call(obj, method, X, y=None):
    if method == "fit":
        return lambda: obj.fit(X, y)
    if method == "query":
        return lambda: obj.query(X, batch_size=2)
    return lambda: getattr(obj, method)(X)


# -- batch_size -------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_STRATEGIES)
def test_batch_size_larger_than_pool(cls, clf, data):
    X, _ = data
    pool = X[:5]
    raises_untouched(
        ValueError,
        r"batch_size=6 is larger than the pool \(5 unlabeled samples\).*"
        r"batch_size <= 5.*rank\(X\)",
        lambda: make(cls, clf, prefit=True).query(pool, batch_size=6),
        pool,
    )


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, 2.0, "3", None])
def test_batch_size_not_a_positive_integer(batch_size, clf, data):
    X, _ = data
    for cls in ALL_STRATEGIES:
        raises_untouched(
            ValueError,
            re.escape(f"batch_size={batch_size!r} must be a positive integer"),
            lambda: make(cls, clf, prefit=True).query(X, batch_size=batch_size),
            X,
        )


def test_learner_batch_size_parameter_is_validated(data):
    X, y = data
    for bad in (0, 2.5):
        raises_untouched(
            InvalidParameterError,
            rf"'batch_size' parameter of ActiveLearner must be an int.*Got {bad}",
            lambda: ActiveLearner(LogisticRegression(), batch_size=bad).fit(X, y),
            X,
            y,
        )


def test_learner_query_batch_size_errors(data):
    X, y = data
    learner = ActiveLearner(LogisticRegression(), budget=20, random_state=0).fit(X, y)
    raises_untouched(
        ValueError,
        r"batch_size=0 must be a positive integer",
        lambda: learner.query(X, batch_size=0),
        X,
    )
    raises_untouched(
        ValueError,
        r"batch_size=4 is larger than the pool \(3 unlabeled samples\).*batch_size <= 3",
        lambda: learner.query(X[:3], batch_size=4),
        X,
    )
    y_part = np.full(N, -1)
    y_part[3:] = y[3:]  # only 3 unlabeled
    raises_untouched(
        ValueError,
        r"batch_size=4 is larger than the pool \(3 unlabeled samples\)",
        lambda: learner.query(X, y_part, batch_size=4),
        X,
        y_part,
    )


# -- empty pool -------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_STRATEGIES)
def test_empty_pool(cls, clf, data):
    X, y = data
    empty = X[:0]
    for strategy in (make(cls, clf, prefit=True), make(cls, LogisticRegression()).fit(X, y)):
        for method in POOL_METHODS:
            raises_untouched(
                ValueError,
                r"pool X is empty \(0 samples\).*at least one",
                call(strategy, method, empty),
                empty,
            )


def test_learner_empty_input(data):
    X, y = data
    empty = r"pool X is empty \(0 samples\).*at least one"  # as the strategies say
    raises_untouched(
        ValueError,
        empty,
        lambda: ActiveLearner(LogisticRegression()).fit(X[:0], y[:0]),
        X,
    )
    learner = ActiveLearner(LogisticRegression(), budget=20, random_state=0).fit(X, y)
    for method in ("query", "rank"):
        raises_untouched(ValueError, empty, call(learner, method, X[:0]), X)


# -- NaN and inf --------------------------------------------------------------------


def _with(X, value):
    bad = X.copy()
    bad[4, 1] = value
    return bad


NONFINITE = [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")]


@pytest.mark.parametrize("cls", ALL_STRATEGIES)
@pytest.mark.parametrize("value, word", NONFINITE)
def test_nonfinite_in_fit(cls, value, word, data):
    X, y = data
    bad = _with(X, value)
    raises_untouched(
        ValueError,
        rf"Input X contains {word}",
        lambda: make(cls, LogisticRegression()).fit(bad, y),
        bad,
        y,
    )


@pytest.mark.parametrize("cls", ALL_STRATEGIES)
def test_nonfinite_in_pool(cls, clf, data):
    X, y = data
    for strategy in (make(cls, clf, prefit=True), make(cls, LogisticRegression()).fit(X, y)):
        for value, word in NONFINITE:
            bad = _with(X, value)
            for method in POOL_METHODS:
                raises_untouched(
                    ValueError, rf"Input X contains {word}", call(strategy, method, bad), bad
                )


@pytest.mark.parametrize("value, word", NONFINITE)
def test_nonfinite_in_learner(value, word, data):
    X, y = data
    bad = _with(X, value)
    raises_untouched(
        ValueError,
        rf"Input X contains {word}",
        lambda: ActiveLearner(LogisticRegression()).fit(bad, y),
        bad,
        y,
    )
    learner = ActiveLearner(LogisticRegression(), budget=20, random_state=0).fit(X, y)
    for method in ("query", "rank", "predict"):
        raises_untouched(ValueError, rf"Input X contains {word}", call(learner, method, bad), bad)


# -- number of features -------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_STRATEGIES)
def test_pool_features_differ_from_fit(cls, data):
    X, y = data
    strategy = make(cls, LogisticRegression()).fit(X, y)
    narrow = X[:, :2].copy()
    for method in POOL_METHODS:
        raises_untouched(
            ValueError,
            rf"X has 2 features, but {cls.__name__} is expecting 3 features",
            call(strategy, method, narrow),
            narrow,
        )


@pytest.mark.parametrize("cls", NEEDS_ESTIMATOR)
def test_pool_features_differ_from_prefit_estimator(cls, clf, data):
    X, _ = data
    narrow = X[:, :2].copy()
    wide = np.hstack([X, X])
    for (pool, n), method in itertools.product(((narrow, 2), (wide, 6)), POOL_METHODS):
        raises_untouched(
            ValueError,
            rf"X has {n} features, but the estimator LogisticRegression was fitted on 3; "
            r"pass a pool with the same features",
            call(make(cls, clf, prefit=True), method, pool),
            pool,
        )


def test_learner_features_differ(data):
    X, y = data
    learner = ActiveLearner(LogisticRegression(), budget=20, random_state=0).fit(X, y)
    narrow = X[:, :2].copy()
    for method in ("query", "rank", "predict", "predict_proba"):
        raises_untouched(
            ValueError,
            r"X has 2 features, but ActiveLearner is expecting 3 features",
            call(learner, method, narrow),
            narrow,
        )


# -- single class ------------------------------------------------------------------------


@pytest.mark.parametrize("cls", NEEDS_ESTIMATOR)
def test_strategy_fit_on_a_single_class(cls, data):
    X, _ = data
    y_one = np.zeros(N, dtype=int)
    raises_untouched(
        ValueError,
        r"class \(0\).*at least two.*Label samples of another class",
        lambda: make(cls, LogisticRegression()).fit(X, y_one),
        X,
        y_one,
    )
    y_str = np.array(["cat"] * N)
    raises_untouched(
        ValueError,
        r"class \('cat'\).*at least two",
        lambda: make(cls, LogisticRegression()).fit(X, y_str),
        X,
        y_str,
    )


def test_learner_initial_set_with_a_single_class(data):
    X, y = data
    initial = np.array([0, 3, 6, 9])  # all of class 0
    initial_before = initial.copy()
    raises_untouched(
        ValueError,
        r"\(4 samples\) contains .*class \(0\).*at least two.*initial_indices covering two",
        lambda: ActiveLearner(LogisticRegression(), budget=20).fit(
            X, y, initial_indices=initial
        ),
        X,
        y,
    )
    np.testing.assert_array_equal(initial, initial_before)


def test_learner_real_labeling_with_a_single_class(data):
    X, y = data
    y_part = np.full(N, -1)
    y_part[[0, 3, 6]] = 0
    raises_untouched(
        ValueError,
        r"\(3 samples\) contains .*class \(0\).*at least two",
        lambda: ActiveLearner(LogisticRegression()).fit(X, y_part),
        X,
        y_part,
    )


# -- estimators without what the strategy needs ---------------------------------------------


@pytest.mark.parametrize("cls", UNCERTAINTY + [BADGE])
def test_estimator_without_predict_proba(cls, data):
    X, y = data
    svc = LinearSVC().fit(X, y)
    errors = [
        raises_untouched(
            EmbeddingError,
            rf"{cls.__name__} needs class probabilities, but LinearSVC has no predict_proba.*"
            r"CalibratedClassifierCV",
            func,
            X,
            y,
        )
        for func in (
            lambda: make(cls, LinearSVC()).fit(X, y),
            lambda: make(cls, svc, prefit=True).query(X, 3),
            lambda: make(cls, svc, prefit=True).rank(X),
            lambda: make(cls, svc, prefit=True).transform(X),
        )
    ]
    for error in errors:
        assert isinstance(error, ValueError)
        assert isinstance(error, SkalException)


@pytest.mark.parametrize("strategy", [None, EntropySampling(), MarginSampling()])
def test_learner_with_estimator_without_predict_proba(strategy, data):
    X, y = data
    error = raises_untouched(
        EmbeddingError,
        r"LinearSVC has no predict_proba",
        lambda: ActiveLearner(LinearSVC(), strategy, budget=20, random_state=0).fit(X, y),
        X,
        y,
    )
    assert isinstance(error, ValueError)


@pytest.mark.parametrize("cls", [BADGE, CoreSet])
def test_embedding_strategies_reject_random_forest(cls, data):
    X, y = data
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    for func in (
        lambda: make(cls, RandomForestClassifier(n_estimators=3)).fit(X, y),
        lambda: make(cls, forest, prefit=True).query(X, 3),
        lambda: make(cls, forest, prefit=True).transform(X),
        lambda: ActiveLearner(
            RandomForestClassifier(n_estimators=3, random_state=0), cls(), budget=20
        ).fit(X, y),
    ):
        error = raises_untouched(
            EmbeddingError,
            rf"{cls.__name__} needs an embedding.*RandomForestClassifier provides none.*"
            r"EntropySampling",
            func,
            X,
            y,
        )
        assert isinstance(error, ValueError)


# -- estimator None, unfitted estimators, unfitted strategies ----------------------------------


@pytest.mark.parametrize("cls", NEEDS_ESTIMATOR)
def test_strategy_without_estimator_used_standalone(cls, data):
    X, y = data
    match = (
        rf"{cls.__name__}\(estimator=None\) has no classifier to ask\. Pass one.*"
        r"ActiveLearner"
    )
    raises_untouched(ValueError, match, lambda: make(cls).fit(X, y), X, y)
    raises_untouched(ValueError, match, lambda: make(cls, prefit=True).query(X, 2), X)
    raises_untouched(ValueError, match, lambda: make(cls, prefit=True).rank(X), X)


@pytest.mark.parametrize("cls", NEEDS_ESTIMATOR)
def test_unfitted_estimator_with_prefit(cls, data):
    X, y = data
    for method in ["fit"] + POOL_METHODS:
        error = raises_untouched(
            NotFittedError,
            r"prefit=True but its estimator LogisticRegression is not fitted\. Fit the "
            r"estimator first, or set prefit=False",
            call(make(cls, LogisticRegression(), prefit=True), method, X, y),
            X,
            y,
        )
        assert isinstance(error, ValueError)  # NotFittedError is one too


@pytest.mark.parametrize("cls", [EntropySampling, BADGE, CoreSet])
def test_unfitted_skorch_net_with_prefit(cls, data):
    X, _ = data
    net = make_skorch_classifier(N_FEATURES, 3, max_epochs=1)
    X32 = X.astype(np.float32)
    raises_untouched(
        NotFittedError,
        r"prefit=True but its estimator SeededNeuralNetClassifier is not fitted",
        lambda: make(cls, net, prefit=True).query(X32, 2),
        X32,
    )
    assert not hasattr(net, "module_")


@pytest.mark.parametrize("cls", ALL_STRATEGIES)
def test_strategy_used_before_fit(cls, data):
    X, _ = data
    for method in POOL_METHODS:
        raises_untouched(
            NotFittedError,
            rf"This {cls.__name__} instance is not fitted yet\. Call 'fit'",
            call(make(cls, LogisticRegression()), method, X),
            X,
        )


@pytest.mark.parametrize("method", ["query", "rank", "predict", "predict_proba"])
def test_learner_used_before_fit(method, data):
    X, _ = data
    raises_untouched(
        NotFittedError,
        r"This ActiveLearner instance is not fitted yet",
        call(ActiveLearner(LogisticRegression()), method, X),
        X,
    )


# -- labels the estimator has not seen ---------------------------------------------------


@pytest.mark.parametrize("cls", NEEDS_ESTIMATOR)
def test_prefit_strategy_fit_with_unseen_label(cls, data):
    X, y = data
    two = y < 2
    clf01 = LogisticRegression().fit(X[two], y[two])
    coef_before = clf01.coef_.copy()
    raises_untouched(
        ValueError,
        r"y contains labels \[2\] that the prefit estimator was not fitted on \(its "
        r"classes_ are \[0, 1\]\)\. Refit the estimator with every class, or set prefit=False",
        lambda: make(cls, clf01, prefit=True).fit(X, y),
        X,
        y,
    )
    np.testing.assert_array_equal(clf01.classes_, [0, 1])
    np.testing.assert_array_equal(clf01.coef_, coef_before)


def test_learner_update_warns_and_resets_when_a_round_adds_a_class(data):
    """A warm-started scikit-learn model cannot take a new class: that round is
    trained from scratch, with an UpdateResetWarning naming the class and the fix."""
    X, y = data
    initial = np.flatnonzero(y < 2)[:10]  # classes 0 and 1 only
    estimator = LogisticRegression(warm_start=True)

    def run(retrain):
        return ActiveLearner(
            estimator, EntropySampling(), batch_size=5, retrain=retrain, random_state=0
        ).fit(X, y, initial_indices=initial)

    X_before, y_before = X.copy(), y.copy()
    with pytest.warns(UpdateResetWarning) as record:
        learner = run("update")
    messages = [str(w.message) for w in record if issubclass(w.category, UpdateResetWarning)]
    # class 2 arrives in exactly one round
    assert len(messages) == 1
    assert re.search(
        r"classes \[2\] that LogisticRegression was not fitted on \(its classes_ are "
        r"\[0, 1\]\).*trained from scratch.*initial set with every class",
        messages[0],
    )
    assert isinstance(record[0].message, SkalWarning)
    np.testing.assert_array_equal(learner.classes_, [0, 1, 2])
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    assert not hasattr(estimator, "coef_")  # the caller's estimator is never fitted
    # retrain='reset' never needs to warn
    with warnings.catch_warnings():
        warnings.simplefilter("error", UpdateResetWarning)
        assert set(run("reset").classes_) == {0, 1, 2}


# -- y not 1-D, inconsistent lengths -----------------------------------------------------


@pytest.mark.parametrize("cls", NEEDS_ESTIMATOR)
@pytest.mark.parametrize("prefit", [False, True])
def test_strategy_fit_with_2d_y(cls, prefit, clf, data):
    X, y = data
    y2 = np.column_stack([y, y])
    estimator = clf if prefit else LogisticRegression()
    raises_untouched(
        ValueError,
        r"y should be a 1d array, got an array of shape \(45, 2\)",
        lambda: make(cls, estimator, prefit=prefit).fit(X, y2),
        X,
        y2,
    )


def test_learner_fit_with_2d_y(data):
    X, y = data
    y2 = np.column_stack([y, y])
    raises_untouched(
        ValueError,
        r"y should be a 1d array, got an array of shape \(45, 2\)",
        lambda: ActiveLearner(LogisticRegression()).fit(X, y2),
        X,
        y2,
    )


def test_inconsistent_lengths(data):
    X, y = data
    short = y[:-1]
    for func in (
        lambda: EntropySampling(LogisticRegression()).fit(X, short),
        lambda: ActiveLearner(LogisticRegression()).fit(X, short),
    ):
        raises_untouched(ValueError, r"inconsistent numbers of samples: \[45, 44\]", func, X)


def test_learner_query_with_y_of_wrong_length(data):
    X, y = data
    learner = ActiveLearner(LogisticRegression(), budget=20, random_state=0).fit(X, y)
    y_short = np.full(5, -1)
    raises_untouched(
        ValueError,
        r"y has 5 entries but X has 45 samples; pass the same y as to fit, with -1",
        lambda: learner.query(X, y_short),
        X,
        y_short,
    )
    raises_untouched(
        ValueError,
        r"y marks no sample as unlabeled \(-1\)",
        lambda: learner.rank(X, y),
        X,
        y,
    )


# -- ActiveLearner settings -----------------------------------------------------------------


def test_learner_budget_larger_than_n(data):
    X, y = data
    raises_untouched(
        ValueError,
        r"budget=46 is larger than the number of samples \(45\)\. Pass budget <= 45, or "
        r"budget=None",
        lambda: ActiveLearner(LogisticRegression(), budget=46).fit(X, y),
        X,
        y,
    )


def test_learner_initial_size_larger_than_n(data):
    X, y = data
    raises_untouched(
        ValueError,
        r"initial_size=46 asks for 46 labeled samples, but X has only 45 sample\(s\)\. "
        r"Lower initial_size",
        lambda: ActiveLearner(LogisticRegression(), initial_size=46).fit(X, y),
        X,
        y,
    )


def test_learner_initial_set_larger_than_budget(data):
    X, y = data
    raises_untouched(
        ValueError,
        r"initial labeled set \(20 samples\) is larger than budget=10 \(10 samples\)\. "
        r"Raise the budget or lower initial_size",
        lambda: ActiveLearner(LogisticRegression(), initial_size=20, budget=10).fit(X, y),
        X,
        y,
    )
    # the same with a fractional budget: 0.1 * 45 -> 4 samples
    raises_untouched(
        ValueError,
        r"initial labeled set \(10 samples\) is larger than budget=0\.1 \(4 samples\)",
        lambda: ActiveLearner(LogisticRegression(), budget=0.1).fit(X, y),
        X,
        y,
    )
    raises_untouched(
        ValueError,
        r"initial labeled set \(6 samples\) is larger than budget=5 \(5 samples\)",
        lambda: ActiveLearner(LogisticRegression(), budget=5).fit(
            X, y, initial_indices=np.arange(6)
        ),
        X,
        y,
    )


@pytest.mark.parametrize(
    "initial_indices, match",
    [
        ([0, 45], r"initial_indices must lie in \[0, 45\); got values from 0 to 45"),
        ([-1, 2, 3], r"initial_indices must lie in \[0, 45\); got values from -1 to 3"),
        ([0, 1, 1], r"initial_indices contains repeated indices"),
        ([0.0, 1.0], r"initial_indices must be a non-empty array of integer indices.*"
                     r"got \[0\.0, 1\.0\]"),
        ([], r"initial_indices must be a non-empty array of integer indices"),
    ],
)
def test_learner_bad_initial_indices(initial_indices, match, data):
    X, y = data
    raises_untouched(
        ValueError,
        match,
        lambda: ActiveLearner(LogisticRegression(), budget=20).fit(
            X, y, initial_indices=initial_indices
        ),
        X,
        y,
    )


def test_learner_initial_indices_with_real_labeling(data):
    X, y = data
    y_part = np.where(np.arange(N) < 12, y, -1)
    raises_untouched(
        ValueError,
        r"initial_indices applies to simulation only; with samples marked -1",
        lambda: ActiveLearner(LogisticRegression()).fit(X, y_part, initial_indices=[0, 1, 2]),
        X,
        y_part,
    )


def test_learner_validation_set_needs_both_halves(data):
    X, y = data
    for kwargs in ({"X_val": X}, {"y_val": y}):
        raises_untouched(
            ValueError,
            r"Pass both X_val and y_val, or neither",
            lambda: ActiveLearner(LogisticRegression(), budget=20).fit(X, y, **kwargs),
            X,
            y,
        )


def test_learner_every_sample_unlabeled(data):
    X, _ = data
    y_none = np.full(N, -1)
    raises_untouched(
        ValueError,
        r"Every sample of y is marked -1 \(unlabeled\); there is nothing to train on\. "
        r"Label a first batch.*FacilityLocationSampling\(prefit=True\)\.query.*RandomSampling",
        lambda: ActiveLearner(LogisticRegression()).fit(X, y_none),
        X,
        y_none,
    )


def test_learner_update_needs_warm_start_or_partial_fit(data):
    X, y = data
    knn = KNeighborsClassifier(n_neighbors=3)
    assert "warm_start" not in knn.get_params() and not hasattr(knn, "partial_fit")
    raises_untouched(
        ValueError,
        r"retrain='update' needs an estimator that can continue training.*"
        r"KNeighborsClassifier has neither\. Use retrain='reset'",
        lambda: ActiveLearner(knn, RandomSampling(), retrain="update", budget=20).fit(X, y),
        X,
        y,
    )


@pytest.mark.parametrize(
    "params, name",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": -2}, "batch_size"),
        ({"retrain": "bogus"}, "retrain"),
        ({"initial_size": 0}, "initial_size"),
        ({"initial_size": 1.5}, "initial_size"),
        ({"budget": 0}, "budget"),
        ({"budget": 0.0}, "budget"),
        ({"budget": 2.5}, "budget"),
        ({"scoring": "not_a_scorer"}, "scoring"),
        ({"strategy": 3}, "strategy"),  # a name ("entropy") is valid (issue 23)
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_learner_invalid_parameters(params, name, data):
    X, y = data
    value = next(iter(params.values()))
    raises_untouched(
        InvalidParameterError,
        rf"The '{name}' parameter of ActiveLearner must be .*Got {re.escape(repr(value))}",
        lambda: ActiveLearner(LogisticRegression(), **params).fit(X, y),
        X,
        y,
    )


def test_learner_estimator_without_fit_or_predict(data):
    X, y = data
    raises_untouched(
        InvalidParameterError,
        r"The 'estimator' parameter of ActiveLearner must be an object implementing "
        r"'fit' and 'predict'",
        lambda: ActiveLearner(RandomSampling()).fit(X, y),
        X,
        y,
    )


@pytest.mark.parametrize(
    "strategy, name, value",
    [
        (lambda est: BADGE(est, init="bogus"), "init", "'bogus'"),
        (lambda est: EntropySampling(est, prefit="yes"), "prefit", "'yes'"),
        (lambda est: CoreSet(est, layer=3), "layer", "3"),
    ],
    ids=["BADGE-init", "EntropySampling-prefit", "CoreSet-layer"],
)
def test_strategy_invalid_parameters_at_fit(strategy, name, value, data):
    X, y = data
    raises_untouched(
        InvalidParameterError,
        rf"The '{name}' parameter of .* must be .*Got {value}",
        lambda: strategy(LogisticRegression()).fit(X, y),
        X,
        y,
    )


@pytest.mark.parametrize(
    "strategy, name, value",
    [
        (lambda est: BADGE(est, prefit=True, init="bogus"), "init", "'bogus'"),
        (lambda est: LeastConfidence(est, prefit="yes"), "prefit", "'yes'"),
    ],
    ids=["BADGE-init", "LeastConfidence-prefit"],
)
def test_strategy_invalid_parameters_without_fit(strategy, name, value, clf, data):
    """A prefit strategy is used without fit; its parameters must still be checked.

    BADGE(init="bogus") must not silently run as init="random", nor
    LeastConfidence(prefit="yes") as prefit=True.
    """
    X, _ = data
    raises_untouched(
        InvalidParameterError,
        rf"The '{name}' parameter of .* must be .*Got {value}",
        lambda: strategy(clf).query(X, 3),
        X,
    )
