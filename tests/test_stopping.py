"""Stopping criteria: each against a hand-computed reference, and in the learner."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import (
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
)

from skal import (
    ActiveLearner,
    EntropySampling,
    MaxUncertainty,
    MinExpectedError,
    StabilizingPredictions,
    ValidationPlateau,
)
from skal.model_selection import active_learning_curve, compare_strategies
from skal.stopping import RoundState
from skal.toy import make_skorch_classifier

CRITERIA = [
    StabilizingPredictions(stop_set_size=50, random_state=0),
    MaxUncertainty(threshold=0.2),
    MinExpectedError(threshold=0.05),
    ValidationPlateau(patience=2, min_delta=0.01),
]


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:1200], y[:1200], X[1200:], y[1200:]


class _Scripted:
    """Predicts the next array of a script at each call, whatever X is."""

    def __init__(self, script):
        self.script = iter(script)

    def predict(self, X):
        return np.asarray(next(self.script))


def _logistic(coef=1.0):
    """A fitted 1-D LogisticRegression with p(1 | x) = sigmoid(coef * x)."""
    clf = LogisticRegression()
    clf.classes_ = np.array([0, 1])
    clf.coef_ = np.array([[coef]])
    clf.intercept_ = np.array([0.0])
    clf.n_features_in_ = 1
    return clf


def _state(estimator, X, pool, n_round=0, score=None):
    return RoundState(estimator, X, np.asarray(pool), n_round, 0, score=score)


# -- the criteria alone --------------------------------------------------------------


def test_kappa_window_by_hand():
    # kappa([0,0,1,1], [0,1,1,1]): p_o = 3/4, p_e = 1/2 * 1/4 + 1/2 * 3/4 = 1/2,
    # kappa = (3/4 - 1/2) / (1 - 1/2) = 1/2; identical predictions give 1
    script = [[0, 0, 1, 1], [0, 1, 1, 1], [0, 1, 1, 1], [0, 1, 1, 1], [0, 1, 1, 1]]
    X = np.zeros((4, 1))
    stops = {}
    for threshold in (0.99, 0.8):
        estimator = _Scripted(script)
        criterion = StabilizingPredictions(stop_set_size=4, window=3, threshold=threshold)
        stops[threshold] = [
            criterion.should_stop(_state(estimator, X, [0, 1, 2, 3], r)) for r in range(5)
        ]
        np.testing.assert_allclose(criterion.values_, [np.nan, 0.5, 1, 1, 1])
        np.testing.assert_array_equal(criterion.stop_set_, [0, 1, 2, 3])
    # the paper's rule: the *mean* of the last 3 kappas (5/6 after round 3) reaches it
    assert stops[0.8] == [False, False, False, True, True]
    assert stops[0.99] == [False, False, False, False, True]


def test_kappa_of_a_single_class_is_one():
    criterion = StabilizingPredictions(stop_set_size=3, window=1)
    estimator = _Scripted([[2, 2, 2], [2, 2, 2]])
    X = np.zeros((3, 1))
    assert not criterion.should_stop(_state(estimator, X, [0, 1, 2]))
    assert criterion.should_stop(_state(estimator, X, [0, 1, 2], 1))
    assert criterion.values_[-1] == 1.0
    assert "mean kappa of the last 1" in criterion.reason_


def test_stop_set_is_seeded_and_drawn_from_the_pool():
    X = np.arange(100.0)[:, None]
    pool = np.arange(20, 100)
    sets = []
    for _ in range(2):
        criterion = StabilizingPredictions(stop_set_size=0.25, random_state=3)
        criterion.should_stop(_state(_logistic(), X, pool))
        sets.append(criterion.stop_set_)
    np.testing.assert_array_equal(sets[0], sets[1])
    assert sets[0].size == 20 and np.isin(sets[0], pool).all()


def test_uncertainty_thresholds_on_known_probabilities():
    # p(1 | x) = sigmoid(x): x = 0, ln 3, ln 9 give max p = 1/2, 3/4, 9/10, so the
    # least confidences are 1/2, 1/4, 1/10: max 1/2, mean 17/60
    X = np.array([[0.0], [np.log(3)], [np.log(9)], [5.0]])
    clf = _logistic()
    pool = [0, 1, 2]
    for Criterion, value in [(MaxUncertainty, 0.5), (MinExpectedError, 17 / 60)]:
        above = Criterion(threshold=value - 1e-6)
        assert not above.should_stop(_state(clf, X, pool))
        assert above.values_ == [pytest.approx(value)] and above.reason_ is None
        below = Criterion(threshold=value + 1e-6)
        assert below.should_stop(_state(clf, X, pool))
        assert below.reason_.startswith(Criterion.__name__)
    # an empty pool has no value and never stops
    criterion = MinExpectedError(threshold=1.0)
    assert not criterion.should_stop(_state(clf, X, []))
    assert np.isnan(criterion.values_[-1])


def test_plateau_by_hand():
    # best 0.5 -> 0.6 (improves) -> 0.6 (wait 1) -> 0.65 (> 0.6 + 0.02: improves)
    # -> 0.64 (wait 1) -> 0.66 (not > 0.67: wait 2 = patience)
    scores = [0.5, 0.6, 0.6, 0.65, 0.64, 0.66]
    criterion = ValidationPlateau(patience=2, min_delta=0.02)
    stops = [criterion.should_stop(_state(None, None, [], r, s)) for r, s in enumerate(scores)]
    assert stops == [False, False, False, False, False, True]
    assert criterion.values_ == scores
    assert "for 2 fits" in criterion.reason_ and "best 0.6600" in criterion.reason_


def test_plateau_needs_a_score():
    with pytest.raises(ValueError, match="pass X_val and y_val"):
        ValidationPlateau().should_stop(_state(None, None, []))


@pytest.mark.parametrize("criterion", CRITERIA, ids=lambda c: type(c).__name__)
def test_clone_pickle_get_params(criterion):
    params = criterion.get_params()
    assert clone(criterion).get_params() == params
    assert pickle.loads(pickle.dumps(criterion)).get_params() == params
    assert type(criterion)().set_params(**params).get_params() == params
    fitted = clone(criterion)
    fitted.values_ = [0.5]
    assert not hasattr(clone(fitted), "values_")


@pytest.mark.parametrize(
    "criterion, match",
    [
        (StabilizingPredictions(window=0), "window"),
        (StabilizingPredictions(stop_set_size=1.5), "stop_set_size"),
        (MaxUncertainty(threshold=2.0), "threshold"),
        (ValidationPlateau(patience=0), "patience"),
        (ValidationPlateau(min_delta=-1.0), "min_delta"),
    ],
)
def test_invalid_parameters(criterion, match, digits_split):
    X, y, X_val, y_val = digits_split
    learner = ActiveLearner(LogisticRegression(), budget=30, stopping=criterion)
    with pytest.raises(InvalidParameterError, match=match):
        learner.fit(X[:200], y[:200], X_val=X_val, y_val=y_val)


# -- in the learner ------------------------------------------------------------------


def _learner(**params):
    params = {"batch_size": 20, "initial_size": 30, "budget": 400, "random_state": 0,
              **params}
    return ActiveLearner(LogisticRegression(max_iter=500), EntropySampling(), **params)


def test_stops_at_the_first_round_below_threshold(digits_split):
    """The stop round of MinExpectedError, against the full run's estimators."""
    X, y, _, _ = digits_split
    full = _learner(keep_estimators=True).fit(X, y)
    errors = []
    for r, estimator in enumerate(full.round_estimators_):
        pool = np.flatnonzero((full.label_round_ == -1) | (full.label_round_ > r))
        errors.append(np.mean(1 - estimator.predict_proba(X[pool]).max(axis=1)))
    threshold = 0.08
    expected = int(np.argmax(np.asarray(errors) < threshold))
    assert 0 < expected < full.n_rounds_

    learner = _learner(stopping=MinExpectedError(threshold)).fit(X, y)
    assert learner.stopped_
    assert learner.stop_round_ == learner.n_rounds_ == expected
    assert learner.stop_n_labeled_ == 30 + 20 * expected == len(learner.labeled_indices_)
    assert learner.stop_reason_.startswith("MinExpectedError: the mean expected error")
    np.testing.assert_allclose(learner.history_["stop_value"], errors[: expected + 1])
    assert learner.history_["stop"].tolist() == [False] * expected + [True]
    # stopping changes no pick: the labeled set is the full run's prefix
    np.testing.assert_array_equal(
        learner.labeled_indices_, full.labeled_indices_[: learner.stop_n_labeled_]
    )
    np.testing.assert_array_equal(learner.history_["n_labeled"],
                                  full.history_["n_labeled"][: expected + 1])


def test_seeded_stop_set_changes_no_pick(digits_split):
    X, y, _, _ = digits_split
    full = _learner().fit(X, y)
    learner = _learner(stopping=StabilizingPredictions(stop_set_size=300, threshold=0.95))
    learner.fit(X, y)
    assert learner.stopped_ and learner.stop_round_ >= 3
    np.testing.assert_array_equal(
        learner.labeled_indices_, full.labeled_indices_[: learner.stop_n_labeled_]
    )
    # the seed comes from the learner's random_state: the same stop set every run
    again = _learner(stopping=StabilizingPredictions(stop_set_size=300, threshold=0.95))
    np.testing.assert_array_equal(again.fit(X, y).stopping_.stop_set_,
                                  learner.stopping_.stop_set_)
    assert learner.stopping.get_params()["random_state"] is None  # the param is untouched
    assert not hasattr(learner.stopping, "values_")


def test_validation_plateau_in_the_learner(digits_split):
    X, y, X_val, y_val = digits_split
    learner = _learner(stopping=ValidationPlateau(patience=2)).fit(X, y, X_val=X_val,
                                                                   y_val=y_val)
    scores = learner.history_["score"]
    np.testing.assert_array_equal(learner.history_["stop_value"], scores)
    # reference: the first round after which 2 scores in a row did not beat the best
    best, waited, expected = -np.inf, 0, None
    for r, s in enumerate(scores):
        best, waited = (s, 0) if s > best else (best, waited + 1)
        if waited == 2:
            expected = r
            break
    assert learner.stop_round_ == expected == learner.n_rounds_
    with pytest.raises(ValueError, match="needs a validation score each round"):
        _learner(stopping=ValidationPlateau()).fit(X, y)


def test_a_list_stops_at_the_first_criterion(digits_split):
    X, y, _, _ = digits_split
    criteria = [MaxUncertainty(threshold=0.01), MinExpectedError(threshold=0.08)]
    learner = _learner(stopping=criteria).fit(X, y)
    only = _learner(stopping=MinExpectedError(threshold=0.08)).fit(X, y)
    assert learner.stop_round_ == only.stop_round_
    assert learner.stop_reason_ == only.stop_reason_
    assert learner.history_["stop_value"].shape == (learner.n_rounds_ + 1, 2)
    assert isinstance(learner.stopping_, list) and len(learner.stopping_) == 2
    with pytest.raises(ValueError, match="holds no criterion"):
        _learner(stopping=[]).fit(X, y)


def test_never_stops_runs_the_whole_budget(digits_split):
    X, y, _, _ = digits_split
    learner = _learner(budget=110, stopping=MaxUncertainty(threshold=1e-9)).fit(X, y)
    assert not learner.stopped_ and learner.stop_round_ is None
    assert learner.stop_reason_ is None and learner.stop_n_labeled_ is None
    assert learner.history_["n_labeled"][-1] == 110
    assert not learner.history_["stop"].any()


def test_without_stopping_nothing_changes(digits_split):
    X, y, _, _ = digits_split
    learner = _learner(budget=70).fit(X, y)
    assert not hasattr(learner, "stopped_") and "stop" not in learner.history_


def test_real_labeling_counts_fits_of_the_same_learner(digits_split):
    X, y, _, _ = digits_split
    y_known = np.full(len(y), -1)
    y_known[:40] = y[:40]
    learner = ActiveLearner(
        LogisticRegression(max_iter=500), random_state=0, warm_start=True,
        stopping=StabilizingPredictions(stop_set_size=200, window=1, threshold=0.99),
    )
    # without warm_start every fit starts afresh: a criterion never sees two fits
    cold = clone(learner).set_params(warm_start=False)
    for _ in range(2):
        assert len(cold.fit(X, y_known).stopping_.values_) == 1 and not cold.stopped_
    learner.fit(X, y_known)
    assert not learner.stopped_ and np.isnan(learner.stopping_.values_[0])
    stop_set = learner.stopping_.stop_set_
    assert np.all(y_known[stop_set] == -1)
    # the same labels again: the same model, kappa 1 with the previous fit
    learner.fit(X, y_known)
    assert learner.stopped_ and learner.stop_round_ == 1
    assert learner.stopping_.values_[1] == 1.0
    np.testing.assert_array_equal(learner.stopping_.stop_set_, stop_set)
    assert "kappa" in learner.stop_reason_
    # new labels: a new model, compared with the previous one on the same stop set
    to_label = learner.query(X, y_known, batch_size=100)
    y_known[to_label] = y[to_label]
    learner.fit(X, y_known)
    assert len(learner.stopping_.values_) == 3 and learner.stopping_.values_[2] < 0.99
    assert not learner.stopped_
    # a clone starts afresh; so does a change of parameters
    fresh = clone(learner).fit(X, y_known)
    assert len(fresh.stopping_.values_) == 1
    learner.set_params(stopping__threshold=0.5).fit(X, y_known)
    assert len(learner.stopping_.values_) == 1


def test_real_labeling_plateau(digits_split):
    X, y, X_val, y_val = digits_split
    y_known = np.full(len(y), -1)
    y_known[:60] = y[:60]
    learner = ActiveLearner(LogisticRegression(max_iter=500), warm_start=True,
                            stopping=ValidationPlateau(patience=1))
    learner.fit(X, y_known, X_val=X_val, y_val=y_val)
    assert not learner.stopped_
    learner.fit(X, y_known, X_val=X_val, y_val=y_val)  # same score: no improvement
    assert learner.stopped_ and learner.stopping_.values_[0] == learner.stopping_.values_[1]


# -- in compare_strategies -------------------------------------------------------------


def test_compare_strategies_reports_the_stop(digits_split):
    X, y, X_test, y_test = digits_split
    learner = ActiveLearner(LogisticRegression(max_iter=500), initial_size=20,
                            batch_size=20, budget=200, stopping=MinExpectedError(0.3))
    comparison = compare_strategies(learner, ["entropy"], X, y, X_test=X_test,
                                    y_test=y_test, n_repeats=2, random_state=0)
    # every trial runs to the budget: the curves are complete
    assert comparison.n_labeled[-1] == 200
    rows = {row["strategy"]: row for row in comparison.summary(as_frame=False)}
    for name, row in rows.items():
        rounds = comparison.stop_rounds[name].astype(int)
        scores = comparison.scores[name]
        assert row["labels_at_stop"] == pytest.approx(comparison.n_labeled[rounds].mean())
        assert row["score_at_stop"] == pytest.approx(scores[[0, 1], rounds].mean())
        assert row["score_at_budget"] == pytest.approx(row["final_score_mean"])
        assert 0 <= row["stopped_fraction"] <= 1
    # the stop round of each trial is the one a lone learner stops at
    for t, trial in enumerate(comparison.trials):
        alone = clone(learner).set_params(
            strategy=EntropySampling(), random_state=trial["seed"],
            estimator__random_state=trial["seed"],
        ).fit(X, y, X_val=X_test, y_val=y_test)
        expected = alone.stop_round_ if alone.stopped_ else comparison.n_labeled.size - 1
        assert comparison.stop_rounds["EntropySampling"][t] == expected
        assert comparison.stopped["EntropySampling"][t] == alone.stopped_
    assert rows["EntropySampling"]["stopped_fraction"] == 1.0
    assert rows["EntropySampling"]["labels_at_stop"] < 200


def test_compare_strategies_without_stopping_has_no_stop_columns(digits_split):
    X, y, X_test, y_test = digits_split
    learner = ActiveLearner(LogisticRegression(max_iter=500), initial_size=20,
                            batch_size=20, budget=60)
    comparison = compare_strategies(learner, ["entropy"], X, y, X_test=X_test,
                                    y_test=y_test, random_state=0)
    assert comparison.stop_rounds is None
    assert "labels_at_stop" not in comparison.summary(as_frame=False)[0]


def test_active_learning_curve_records_the_stop(digits_split):
    X, y, X_test, y_test = digits_split
    learner = ActiveLearner(LogisticRegression(max_iter=500), EntropySampling(),
                            initial_size=20, batch_size=20, budget=160,
                            stopping=MinExpectedError(0.3))
    curves = active_learning_curve(learner, X, y, X_test=X_test, y_test=y_test,
                                   n_repeats=2, random_state=0)
    assert curves["test_scores"].shape == (2, 8)  # the whole budget, all the same
    assert curves["stopped"].tolist() == [True, True]
    assert np.all(curves["stop_rounds"] < 7)
    assert "stop_rounds" not in active_learning_curve(
        clone(learner).set_params(stopping=None, budget=60), X, y, X_test=X_test,
        y_test=y_test, random_state=0,
    )


@pytest.mark.parametrize("criterion", CRITERIA, ids=lambda c: type(c).__name__)
def test_sklearn_init_checks(criterion):
    name = type(criterion).__name__
    check_no_attributes_set_in_init(name, type(criterion)())
    check_parameters_default_constructible(name, type(criterion)())


def test_skorch_net_and_a_dataset_pool(digits):
    """The criteria read a torch Dataset pool through the net's own batching."""
    from torch.utils.data import TensorDataset
    import torch

    X_train, y_train, X_pool, y_pool = digits
    X = np.concatenate([X_train, X_pool])
    y = np.concatenate([y_train, y_pool])
    dataset = TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    net = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=3)
    criteria = [StabilizingPredictions(stop_set_size=100, window=1, threshold=-1.0),
                MinExpectedError(threshold=0.0)]
    learner = ActiveLearner(net, batch_size=20, initial_size=40, budget=100,
                            random_state=0, stopping=criteria).fit(dataset, y)
    # the kappa criterion fires at the first round it has a kappa (threshold -1)
    assert learner.stopped_ and learner.stop_round_ == 1 == learner.n_rounds_
    assert learner.stop_reason_.startswith("StabilizingPredictions")
    values = learner.history_["stop_value"]
    assert values.shape == (2, 2) and np.isnan(values[0, 0]) and 0 < values[1, 1] < 1
