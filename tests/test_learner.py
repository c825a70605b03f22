"""ActiveLearner: simulated rounds, real labeling, retraining, delegation, and
its life as a scikit-learn estimator (Pipeline, GridSearchCV, clone, pickle).

The simulated rounds are checked against a slow reference loop that replays
them by hand.
"""

import math
import re
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from skal import (
    BADGE,
    ActiveLearner,
    CoreSet,
    EntropySampling,
    MarginSampling,
    RandomSampling,
)
from skal.exceptions import UpdateResetWarning
from skal.toy import make_skorch_classifier


@pytest.fixture(scope="module")
def data():
    """(X, y, X_val, y_val): 90 + 60 samples, 5 features, 3 classes, float64."""
    X, y = make_classification(
        n_samples=150,
        n_features=5,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=0,
    )
    return X[:90], y[:90], X[90:], y[90:]


def three_classes_initial(y, per_class=3):
    """The first ``per_class`` indices of every class, interleaved."""
    firsts = [np.flatnonzero(y == c)[:per_class] for c in np.unique(y)]
    return np.array([i for group in zip(*firsts) for i in group])


def entropy(row):
    return -sum(p * math.log(p) for p in row if p > 0)


def entropy_ranking(proba):
    """Decreasing entropy, ties to the lower index (slow and obvious)."""
    scores = [entropy(list(map(float, row))) for row in proba]
    return sorted(range(len(scores)), key=lambda j: (-scores[j], j))


def replay_entropy_rounds(X, y, initial, batch_size, budget, X_val, y_val):
    """Active learning by hand: LogisticRegression + entropy, fresh fit each round."""
    order = [int(i) for i in initial]
    clf = LogisticRegression().fit(X[order], y[order])
    scores, rounds = [clf.score(X_val, y_val)], [order.copy()]
    while len(order) < budget:
        labeled = set(order)
        pool = [i for i in range(len(X)) if i not in labeled]
        k = min(batch_size, budget - len(order))
        best = entropy_ranking(clf.predict_proba(X[pool]))[:k]
        # a fresh strategy, given this round's estimator, picks the same
        fresh = EntropySampling(clf, prefit=True).fit(X[order], y[order])
        assert fresh.query(X[pool], batch_size=k).tolist() == best
        picks = [pool[j] for j in best]
        rounds.append(picks)
        order += picks
        clf = LogisticRegression().fit(X[order], y[order])
        scores.append(clf.score(X_val, y_val))
    return order, rounds, clf, scores


# -- simulation: bookkeeping --------------------------------------------------------


def check_bookkeeping(learner, n_samples):
    """labeled_indices_, label_round_ and history_ tell one consistent story."""
    order = learner.labeled_indices_
    n_labeled = learner.history_["n_labeled"]
    assert len(set(order.tolist())) == len(order) == n_labeled[-1]
    assert np.all((order >= 0) & (order < n_samples))
    np.testing.assert_array_equal(learner.history_["round"], np.arange(len(n_labeled)))
    assert learner.n_rounds_ == len(n_labeled) - 1
    assert learner.label_round_.shape == (n_samples,)
    starts = np.concatenate([[0], n_labeled[:-1]])
    for r, (start, stop) in enumerate(zip(starts, n_labeled)):
        np.testing.assert_array_equal(learner.label_round_[order[start:stop]], r)
    unlabeled = np.setdiff1d(np.arange(n_samples), order)
    np.testing.assert_array_equal(learner.label_round_[unlabeled], -1)
    np.testing.assert_array_equal(
        np.bincount(learner.label_round_[order], minlength=len(n_labeled)),
        np.diff(np.concatenate([[0], n_labeled])),
    )


def test_history_follows_initial_size_plus_batches_capped_by_budget(data):
    X, y, _, _ = data
    learner = ActiveLearner(
        LogisticRegression(), EntropySampling(), batch_size=7, initial_size=10, budget=40,
        random_state=0,
    ).fit(X, y)
    # 10, then +7 per round, the last round only +2 to reach the budget
    assert learner.history_["n_labeled"].tolist() == [10, 17, 24, 31, 38, 40]
    assert learner.n_rounds_ == 5
    assert len(learner.labeled_indices_) == 40
    assert np.sum(learner.label_round_ == -1) == 90 - 40
    # no validation set: no score column (issue 23)
    assert sorted(learner.history_) == ["fit_time", "n_labeled", "query_time", "round"]
    check_bookkeeping(learner, 90)


def test_budget_none_labels_every_sample(data):
    X, y, _, _ = data
    learner = ActiveLearner(
        LogisticRegression(), RandomSampling(), batch_size=10, initial_size=10, random_state=0
    ).fit(X[:45], y[:45])
    assert learner.history_["n_labeled"].tolist() == [10, 20, 30, 40, 45]
    assert sorted(learner.labeled_indices_.tolist()) == list(range(45))
    assert np.all(learner.label_round_ >= 0)
    check_bookkeeping(learner, 45)


def test_fractional_budget_and_initial_size(data):
    X, y, _, _ = data
    learner = ActiveLearner(
        LogisticRegression(), EntropySampling(), batch_size=5, initial_size=0.1, budget=0.5,
        random_state=0,
    ).fit(X[:45], y[:45])
    # initial: ceil(0.1 * 45) = ceil(4.5) = 5; budget: floor(0.5 * 45) = floor(22.5) = 22
    assert learner.history_["n_labeled"].tolist() == [5, 10, 15, 20, 22]
    check_bookkeeping(learner, 45)


def test_budget_equal_to_initial_set_runs_no_round(data):
    X, y, _, _ = data
    learner = ActiveLearner(LogisticRegression(), initial_size=12, budget=12, random_state=0)
    learner.fit(X, y)
    assert learner.n_rounds_ == 0
    assert learner.history_["n_labeled"].tolist() == [12]
    check_bookkeeping(learner, 90)


def test_times_are_recorded(data):
    X, y, _, _ = data
    learner = ActiveLearner(
        LogisticRegression(), EntropySampling(), batch_size=10, budget=40, random_state=0
    ).fit(X, y)
    history = learner.history_
    assert np.all(history["fit_time"] >= 0)
    assert np.isnan(history["query_time"][0])
    assert np.all(history["query_time"][1:] >= 0)
    assert "score" not in history  # no validation set: no score column (issue 23)


def test_verbose_prints_one_line_per_round(data, capsys):
    X, y, _, _ = data
    learner = ActiveLearner(
        LogisticRegression(), batch_size=10, budget=30, random_state=0, verbose=1
    ).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == learner.n_rounds_ + 1 == 3
    for r, line in enumerate(lines):
        assert f"round {r}:" in line


# -- simulation: against the slow reference loop ---------------------------------------------


def test_rounds_match_a_hand_replayed_reference(data):
    X, y, X_val, y_val = data
    initial = three_classes_initial(y)  # 9 samples, every class
    X_before, y_before = X.copy(), y.copy()
    learner = ActiveLearner(
        LogisticRegression(), EntropySampling(), batch_size=6, budget=36, random_state=0
    ).fit(X, y, initial_indices=initial, X_val=X_val, y_val=y_val)
    order, rounds, clf, scores = replay_entropy_rounds(X, y, initial, 6, 36, X_val, y_val)

    # 9, +6, +6, +6, +6, and a last partial round of 3
    assert learner.history_["n_labeled"].tolist() == [9, 15, 21, 27, 33, 36]
    np.testing.assert_array_equal(learner.labeled_indices_[:9], initial)  # in the given order
    assert learner.labeled_indices_.tolist() == order
    for r, picks in enumerate(rounds):
        np.testing.assert_array_equal(np.sort(np.flatnonzero(learner.label_round_ == r)),
                                      np.sort(picks))
    np.testing.assert_allclose(learner.history_["score"], scores)
    np.testing.assert_allclose(learner.estimator_.coef_, clf.coef_, rtol=1e-10)
    assert learner.history_["score"][-1] == learner.estimator_.score(X_val, y_val)
    assert learner.score(X_val, y_val) == learner.history_["score"][-1]
    np.testing.assert_array_equal(learner.classes_, [0, 1, 2])
    # the final strategy uses the final estimator, prefit
    assert learner.strategy_.estimator is learner.estimator_
    assert learner.strategy_.prefit is True
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    check_bookkeeping(learner, 90)


def test_strategy_with_its_own_seed_is_replayable(data):
    """RandomSampling(random_state=5): the learner keeps that seed, so every
    round is a fresh RandomSampling(prefit=True, random_state=5) query."""
    X, y, _, _ = data
    initial = three_classes_initial(y)
    learner = ActiveLearner(
        LogisticRegression(), RandomSampling(random_state=5), batch_size=8, budget=41,
        random_state=0,
    ).fit(X, y, initial_indices=initial)
    order = initial.tolist()
    while len(order) < 41:
        pool = np.setdiff1d(np.arange(90), order)
        k = min(8, 41 - len(order))
        order += pool[RandomSampling(prefit=True, random_state=5).query(X[pool], k)].tolist()
    assert learner.labeled_indices_.tolist() == order
    assert learner.strategy_.random_state == 5


def test_caller_objects_are_not_fitted_or_changed(data):
    X, y, _, _ = data
    estimator = LogisticRegression()
    strategy = EntropySampling(estimator=LinearSVC())  # replaced inside the learner
    learner = ActiveLearner(estimator, strategy, budget=30, random_state=0).fit(X, y)
    assert not hasattr(estimator, "coef_")
    assert strategy.get_params()["estimator"].__class__ is LinearSVC
    assert strategy.prefit is False
    assert not hasattr(strategy, "n_features_in_")
    assert learner.strategy_ is not strategy
    assert isinstance(learner.strategy_.estimator, LogisticRegression)


def test_default_strategy_is_entropy(data):
    X, y, _, _ = data
    initial = three_classes_initial(y)
    default = ActiveLearner(LogisticRegression(), batch_size=5, budget=25).fit(
        X, y, initial_indices=initial
    )
    entropy_ = ActiveLearner(LogisticRegression(), EntropySampling(), batch_size=5, budget=25)
    entropy_.fit(X, y, initial_indices=initial)
    assert isinstance(default.strategy_, EntropySampling)
    np.testing.assert_array_equal(default.labeled_indices_, entropy_.labeled_indices_)


def test_scoring_string_is_used_for_the_validation_score(data):
    X, y, X_val, y_val = data
    learner = ActiveLearner(
        LogisticRegression(), scoring="balanced_accuracy", batch_size=10, budget=40,
        random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val)
    assert len(learner.history_["score"]) == learner.n_rounds_ + 1 == 4
    assert learner.history_["score"][-1] == pytest.approx(
        balanced_accuracy_score(y_val, learner.predict(X_val)), abs=1e-12
    )


def test_sparse_input_gives_the_dense_result(data):
    X, y, X_val, _ = data
    make = lambda: ActiveLearner(  # noqa: E731
        LogisticRegression(), EntropySampling(), batch_size=10, budget=40, random_state=0
    )
    dense, sparse = make().fit(X, y), make().fit(sp.csr_matrix(X), y)
    np.testing.assert_array_equal(sparse.labeled_indices_, dense.labeled_indices_)
    np.testing.assert_array_equal(
        sparse.query(sp.csr_matrix(X_val), batch_size=5), dense.query(X_val, batch_size=5)
    )


# -- simulation: seeds ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "strategy", [RandomSampling(), BADGE(), EntropySampling(), CoreSet()], ids=repr
)
def test_same_random_state_same_result(strategy, data):
    X, y, X_val, _ = data
    make = lambda: ActiveLearner(  # noqa: E731
        LogisticRegression(), strategy, batch_size=7, initial_size=10, budget=38,
        random_state=11,
    )
    first, second = make().fit(X, y), make().fit(X, y)
    np.testing.assert_array_equal(first.labeled_indices_, second.labeled_indices_)
    np.testing.assert_array_equal(first.label_round_, second.label_round_)
    np.testing.assert_array_equal(first.predict(X_val), second.predict(X_val))
    np.testing.assert_array_equal(
        first.query(X_val, batch_size=5), second.query(X_val, batch_size=5)
    )
    if "random_state" in strategy.get_params():
        # the learner derived a seed; the caller's strategy keeps None
        assert isinstance(first.strategy_.random_state, int)
        assert strategy.random_state is None


@pytest.mark.parametrize("strategy", [RandomSampling(), BADGE()], ids=repr)
def test_per_round_seeds_come_from_the_learner(strategy, data):
    """Same initial set, different learner seeds: the seedless strategy picks
    differently, so its seeds come from the learner's random_state."""
    X, y, _, _ = data
    initial = three_classes_initial(y)
    picks = [
        ActiveLearner(
            LogisticRegression(), strategy, batch_size=10, budget=39, random_state=seed
        ).fit(X, y, initial_indices=initial).labeled_indices_[len(initial):].tolist()
        for seed in (0, 1)
    ]
    assert picks[0] != picks[1]


def test_different_random_state_different_initial_set(data):
    X, y, _, _ = data
    initial_sets = [
        set(
            ActiveLearner(LogisticRegression(), initial_size=15, budget=15, random_state=s)
            .fit(X, y).labeled_indices_.tolist()
        )
        for s in (0, 1)
    ]
    assert initial_sets[0] != initial_sets[1]


# -- retrain='reset' and 'update' -----------------------------------------------------------


def replay_update(estimator, X, y, order, n_labeled):
    """retrain='update' by hand: warm_start on, continue on every labeled sample."""
    est = clone(estimator).set_params(warm_start=True)
    for n in n_labeled:
        est.fit(X[order[:n]], y[order[:n]])
    return est


@pytest.mark.parametrize(
    "estimator",
    [SGDClassifier(max_iter=15, tol=None, random_state=0), LogisticRegression(max_iter=5)],
    ids=["sgd", "logreg"],
)
def test_update_continues_training_sklearn(estimator, data):
    X, y, _, _ = data
    initial = three_classes_initial(y)  # every class from the start: no reset round

    def run(retrain):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # few iterations: convergence warnings
            return ActiveLearner(
                estimator, RandomSampling(), batch_size=10, budget=49, retrain=retrain,
                random_state=0,
            ).fit(X, y, initial_indices=initial)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        update, reset = run("update"), run("reset")
        order = update.labeled_indices_
        continued = replay_update(estimator, X, y, order, update.history_["n_labeled"])
        fresh = clone(estimator).fit(X[reset.labeled_indices_], y[reset.labeled_indices_])

    assert update.estimator_.warm_start is True
    np.testing.assert_allclose(update.estimator_.coef_, continued.coef_, rtol=1e-10)
    # 'reset' is a fresh fit on the final labeled set, 'update' is not
    np.testing.assert_allclose(reset.estimator_.coef_, fresh.coef_, rtol=1e-10)
    fresh_on_update_set = clone(estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh_on_update_set.fit(X[order], y[order])
    assert not np.allclose(update.estimator_.coef_, fresh_on_update_set.coef_, rtol=1e-3)


def test_update_restarts_the_round_that_brings_a_new_class(data):
    X, y, _, _ = data
    initial = np.flatnonzero(y < 2)[:8]  # classes 0 and 1 only
    estimator = LogisticRegression(max_iter=5)
    with pytest.warns(UpdateResetWarning, match=r"classes \[2\]"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*(converge|ITERATIONS).*")
            learner = ActiveLearner(
                estimator, EntropySampling(), batch_size=10, budget=58, retrain="update",
                random_state=0,
            ).fit(X, y, initial_indices=initial)

    # by hand: continue, except from scratch in the round where class 2 arrives
    order = learner.labeled_indices_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = None
        for n in learner.history_["n_labeled"]:
            labels = y[order[:n]]
            if est is None or np.setdiff1d(labels, est.classes_).size:
                est = clone(estimator).set_params(warm_start=True)
            est.fit(X[order[:n]], labels)
    np.testing.assert_array_equal(learner.classes_, [0, 1, 2])
    np.testing.assert_allclose(learner.estimator_.coef_, est.coef_, rtol=1e-10)


def test_update_through_partial_fit(data):
    """GaussianNB has partial_fit but no warm_start: each round partial_fits
    on every labeled sample, as documented."""
    X, y, _, _ = data
    initial = three_classes_initial(y)
    learner = ActiveLearner(
        GaussianNB(), RandomSampling(), batch_size=10, budget=39, retrain="update",
        random_state=0,
    ).fit(X, y, initial_indices=initial)
    order = learner.labeled_indices_
    n_labeled = learner.history_["n_labeled"]
    est = GaussianNB().fit(X[order[: n_labeled[0]]], y[order[: n_labeled[0]]])
    for n in n_labeled[1:]:
        est.partial_fit(X[order[:n]], y[order[:n]], classes=est.classes_)
    np.testing.assert_allclose(learner.estimator_.theta_, est.theta_)
    np.testing.assert_allclose(learner.estimator_.class_count_, est.class_count_)


def _module_weights(net):
    return np.concatenate(
        [p.detach().cpu().numpy().ravel() for p in net.module_.parameters()]
    )


def test_skorch_update_continues_and_reset_starts_afresh(digits):
    X, y, _, _ = digits
    X, y = X[:200], y[:200]
    net = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=2)

    def run(retrain):
        return ActiveLearner(
            net, RandomSampling(), batch_size=20, initial_size=40, budget=100,
            retrain=retrain, random_state=0,
        ).fit(X, y)

    update, reset = run("update"), run("reset")
    np.testing.assert_array_equal(update.labeled_indices_, reset.labeled_indices_)
    order = update.labeled_indices_
    assert update.n_rounds_ == reset.n_rounds_ == 3

    # 'update' keeps training the same net: its history grows every round
    assert update.estimator_.warm_start is True
    assert len(update.estimator_.history) == 2 * (update.n_rounds_ + 1)
    # 'reset' trains a fresh net on all labeled samples each round
    assert len(reset.estimator_.history) == 2
    fresh = clone(net).fit(X[order], y[order])
    np.testing.assert_allclose(_module_weights(reset.estimator_), _module_weights(fresh),
                               atol=1e-6)
    assert not np.allclose(_module_weights(update.estimator_), _module_weights(fresh),
                           atol=1e-3)
    assert not hasattr(net, "module_")  # the caller's net is never initialized


# -- real labeling ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def partly_labeled(data):
    X, y, _, _ = data
    y_known = np.full(len(y), -1)
    known = np.concatenate([np.arange(0, 90, 4), three_classes_initial(y)])
    y_known[known] = y[known]
    return X, y, y_known


def test_real_labeling_trains_on_labeled_rows_only(partly_labeled):
    X, _, y_known = partly_labeled
    y_before = y_known.copy()
    learner = ActiveLearner(LogisticRegression(), EntropySampling()).fit(X, y_known)
    labeled = np.flatnonzero(y_known != -1)
    reference = LogisticRegression().fit(X[labeled], y_known[labeled])
    np.testing.assert_allclose(learner.estimator_.coef_, reference.coef_, rtol=1e-10)
    np.testing.assert_allclose(learner.estimator_.intercept_, reference.intercept_, rtol=1e-10)
    np.testing.assert_array_equal(learner.labeled_indices_, labeled)
    np.testing.assert_array_equal(learner.label_round_, np.where(y_known != -1, 0, -1))
    assert learner.n_rounds_ == 0
    assert learner.history_["n_labeled"].tolist() == [labeled.size]
    np.testing.assert_array_equal(learner.classes_, [0, 1, 2])
    np.testing.assert_array_equal(y_known, y_before)


def test_real_labeling_query_and_rank(partly_labeled):
    X, _, y_known = partly_labeled
    y_before = y_known.copy()
    learner = ActiveLearner(LogisticRegression(), EntropySampling(), batch_size=6).fit(
        X, y_known
    )
    unlabeled = np.flatnonzero(y_known == -1)

    picks = learner.query(X, y_known)
    assert len(picks) == 6 and len(set(picks.tolist())) == 6
    assert np.all(y_known[picks] == -1)
    # by hand: the unlabeled rows in decreasing entropy
    expected = unlabeled[entropy_ranking(learner.estimator_.predict_proba(X[unlabeled]))]
    np.testing.assert_array_equal(picks, expected[:6])
    np.testing.assert_array_equal(learner.query(X, y_known, batch_size=11), expected[:11])

    ranking = learner.rank(X, y_known)
    assert sorted(ranking.tolist()) == unlabeled.tolist()
    np.testing.assert_array_equal(ranking, expected)
    np.testing.assert_array_equal(y_known, y_before)


def test_real_labeling_next_round_keeps_every_label(partly_labeled):
    X, y, y_known = partly_labeled
    y_known = y_known.copy()
    learner = ActiveLearner(LogisticRegression(), EntropySampling()).fit(X, y_known)
    before = set(learner.labeled_indices_.tolist())
    picks = learner.query(X, y_known, batch_size=10)
    y_known[picks] = y[picks]  # the annotators answer
    learner.fit(X, y_known)
    after = set(learner.labeled_indices_.tolist())
    assert before <= after
    assert after == before | set(picks.tolist())
    assert np.all(y_known[learner.query(X, y_known, batch_size=10)] == -1)


def test_real_labeling_with_float_labels(partly_labeled):
    X, _, y_known = partly_labeled
    as_float = y_known.astype(np.float64)  # -1.0 marks the unlabeled rows
    learner_f = ActiveLearner(LogisticRegression(), EntropySampling()).fit(X, as_float)
    learner_i = ActiveLearner(LogisticRegression(), EntropySampling()).fit(X, y_known)
    np.testing.assert_array_equal(learner_f.labeled_indices_, learner_i.labeled_indices_)
    np.testing.assert_array_equal(learner_f.query(X, as_float), learner_i.query(X, y_known))


def test_query_without_y_ranks_every_row(partly_labeled, data):
    X, _, y_known = partly_labeled
    _, _, X_val, _ = data
    learner = ActiveLearner(LogisticRegression(), EntropySampling()).fit(X, y_known)
    ranking = learner.rank(X)
    assert sorted(ranking.tolist()) == list(range(len(X)))
    expected = entropy_ranking(learner.estimator_.predict_proba(X))
    assert ranking.tolist() == expected
    np.testing.assert_array_equal(learner.query(X, batch_size=7), expected[:7])
    # on new data
    new = learner.query(X_val, batch_size=5)
    assert new.tolist() == entropy_ranking(learner.estimator_.predict_proba(X_val))[:5]


# -- delegation ------------------------------------------------------------------------------


def test_prediction_methods_delegate_to_the_final_estimator(data):
    X, y, X_val, y_val = data
    learner = ActiveLearner(LogisticRegression(), budget=40, random_state=0).fit(X, y)
    est = learner.estimator_
    np.testing.assert_array_equal(learner.predict(X_val), est.predict(X_val))
    np.testing.assert_array_equal(learner.predict_proba(X_val), est.predict_proba(X_val))
    np.testing.assert_array_equal(learner.predict_log_proba(X_val), est.predict_log_proba(X_val))
    np.testing.assert_array_equal(
        learner.decision_function(X_val), est.decision_function(X_val)
    )
    assert learner.score(X_val, y_val) == est.score(X_val, y_val)
    weights = np.linspace(0.1, 2.0, len(y_val))
    assert learner.score(X_val, y_val, sample_weight=weights) == est.score(
        X_val, y_val, sample_weight=weights
    )
    np.testing.assert_array_equal(learner.classes_, est.classes_)


def test_no_predict_proba_when_the_estimator_has_none(data):
    X, y, X_val, _ = data
    learner = ActiveLearner(LinearSVC(), RandomSampling(), budget=30, random_state=0)
    assert not hasattr(learner, "predict_proba")
    assert hasattr(learner, "decision_function")
    learner.fit(X, y)
    assert not hasattr(learner, "predict_proba")
    assert not hasattr(learner, "predict_log_proba")
    np.testing.assert_array_equal(
        learner.decision_function(X_val), learner.estimator_.decision_function(X_val)
    )
    np.testing.assert_array_equal(learner.predict(X_val), learner.estimator_.predict(X_val))


# -- Pipeline, GridSearchCV, clone, pickle -------------------------------------------------------


def test_in_a_pipeline(data):
    X, y, X_val, _ = data
    params = dict(batch_size=8, initial_size=10, budget=34, random_state=0)
    pipe = make_pipeline(
        StandardScaler(), ActiveLearner(LogisticRegression(), EntropySampling(), **params)
    ).fit(X, y)
    scaler = StandardScaler().fit(X)
    by_hand = ActiveLearner(LogisticRegression(), EntropySampling(), **params).fit(
        scaler.transform(X), y
    )
    np.testing.assert_array_equal(pipe.predict(X_val), by_hand.predict(scaler.transform(X_val)))
    np.testing.assert_array_equal(pipe[-1].labeled_indices_, by_hand.labeled_indices_)


def test_grid_search_over_strategy_and_its_seed(data):
    X, y, _, _ = data
    learner = ActiveLearner(
        LogisticRegression(), batch_size=8, initial_size=10, budget=30, random_state=0
    )
    grid = {"strategy": [BADGE(), RandomSampling()], "strategy__random_state": [0, 1]}
    search = GridSearchCV(learner, grid, cv=2).fit(X, y)
    assert sorted(search.best_params_) == ["strategy", "strategy__random_state"]
    assert type(search.best_params_["strategy"]) in (BADGE, RandomSampling)
    assert search.best_params_["strategy__random_state"] in (0, 1)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_
    # a strategy seed set by the search is kept, not replaced by a derived one
    assert best.strategy_.random_state == search.best_params_["strategy__random_state"]
    assert type(best.strategy_) is type(search.best_params_["strategy"])


def test_clone_and_pickle_of_a_fitted_learner(partly_labeled, data):
    X, y, y_known = partly_labeled
    _, _, X_val, _ = data
    learner = ActiveLearner(
        LogisticRegression(), BADGE(), batch_size=8, budget=40, random_state=0
    ).fit(X, y)

    restored = pickle.loads(pickle.dumps(learner))
    np.testing.assert_array_equal(restored.predict(X_val), learner.predict(X_val))
    np.testing.assert_array_equal(restored.predict_proba(X_val), learner.predict_proba(X_val))
    np.testing.assert_array_equal(restored.query(X_val, batch_size=6),
                                  learner.query(X_val, batch_size=6))
    np.testing.assert_array_equal(restored.rank(X, y_known), learner.rank(X, y_known))
    np.testing.assert_array_equal(restored.labeled_indices_, learner.labeled_indices_)

    cloned = clone(learner)
    assert not hasattr(cloned, "estimator_")
    assert cloned.get_params()["budget"] == 40
    cloned.fit(X, y)
    np.testing.assert_array_equal(cloned.labeled_indices_, learner.labeled_indices_)
    np.testing.assert_array_equal(cloned.predict(X_val), learner.predict(X_val))


@pytest.mark.parametrize(
    "strategy",
    [
        EntropySampling(LogisticRegression()),
        MarginSampling(LogisticRegression()),
        BADGE(LogisticRegression(), random_state=0),
        CoreSet(LogisticRegression()),
        RandomSampling(random_state=0),
    ],
    ids=lambda s: type(s).__name__,
)
def test_clone_and_pickle_of_strategies(strategy, data):
    X, y, X_val, _ = data
    fitted = clone(strategy).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.query(X_val, 7), fitted.query(X_val, 7))
    np.testing.assert_array_equal(restored.rank(X_val), fitted.rank(X_val))
    np.testing.assert_array_equal(restored.transform(X_val), fitted.transform(X_val))
    refitted = clone(fitted).fit(X, y)
    np.testing.assert_array_equal(refitted.rank(X_val), fitted.rank(X_val))


# -- a skorch net end to end ----------------------------------------------------------------


@pytest.mark.parametrize("strategy", [BADGE(), CoreSet()], ids=repr)
def test_skorch_net_end_to_end(strategy, digits):
    X, y, X_pool, y_pool = digits
    X_val, y_val = X_pool[:150], y_pool[:150]
    net = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=3)

    def run():
        return ActiveLearner(
            net, strategy, batch_size=20, initial_size=50, budget=110, random_state=0
        ).fit(X, y, X_val=X_val, y_val=y_val)

    learner = run()
    assert learner.history_["n_labeled"].tolist() == [50, 70, 90, 110]
    check_bookkeeping(learner, len(X))
    assert learner.history_["score"][-1] == pytest.approx(learner.estimator_.score(X_val, y_val))
    assert np.all((learner.history_["score"] >= 0) & (learner.history_["score"] <= 1))
    assert set(learner.predict(X_val).tolist()) <= set(range(10))
    np.testing.assert_allclose(learner.predict_proba(X_val).sum(axis=1), 1.0, atol=1e-5)

    picks = learner.query(X_pool[150:], batch_size=5)
    assert len(set(picks.tolist())) == 5
    ranking = learner.rank(X_pool[150:250])
    assert sorted(ranking.tolist()) == list(range(100))

    again = run()
    np.testing.assert_array_equal(again.labeled_indices_, learner.labeled_indices_)
    np.testing.assert_array_equal(again.predict(X_val), learner.predict(X_val))

    restored = pickle.loads(pickle.dumps(learner))
    np.testing.assert_array_equal(restored.predict(X_val), learner.predict(X_val))


def test_object_labels_with_unlabeled_marker():
    """String classes in an object array, -1 for unknown (SelfTrainingClassifier's convention)."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from skal import ActiveLearner, EntropySampling

    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    y_known = names.copy()
    unknown = np.ones(len(y), dtype=bool)
    unknown[[0, 1, 50, 51, 100, 101]] = False
    y_known[unknown] = -1
    before = y_known.copy()
    learner = ActiveLearner(LogisticRegression(), EntropySampling()).fit(X, y_known)
    assert list(learner.classes_) == ["setosa", "versicolor", "virginica"]
    picks = learner.query(X, y_known, batch_size=4)
    assert unknown[picks].all()
    assert set(learner.predict(X[:3])) <= set(names)
    np.testing.assert_array_equal(y_known, before)


# -- initial_strategy: seed sets chosen before any label ------------------------


def test_initial_strategy_chooses_the_initial_set(blobs):
    from skal import RandomSampling

    X, y, _ = blobs
    seed = RandomSampling(random_state=5)
    learner = ActiveLearner(
        LogisticRegression(), initial_size=7, initial_strategy=seed, budget=7,
        random_state=0,
    ).fit(X, y)
    expected = RandomSampling(random_state=5).fit(X).query(X, batch_size=7)
    np.testing.assert_array_equal(learner.labeled_indices_, expected)
    assert learner.initial_strategy is seed  # cloned, not fitted in place
    assert not hasattr(seed, "n_features_in_")


def test_initial_strategy_is_seeded_from_random_state(blobs):
    from skal import RandomSampling

    X, y, _ = blobs
    runs = [
        ActiveLearner(
            LogisticRegression(), initial_size=8, initial_strategy=RandomSampling(),
            budget=8, random_state=rs,
        ).fit(X, y).labeled_indices_
        for rs in (1, 1, 2)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_initial_strategy_needing_a_classifier_is_refused(blobs):
    X, y, _ = blobs
    learner = ActiveLearner(
        LogisticRegression(), initial_strategy=EntropySampling(), random_state=0
    )
    with pytest.raises(ValueError, match="initial_strategy=EntropySampling.*before any label"):
        learner.fit(X, y)


# -- missing_label: the unlabeled marker (issue 11, item 1) --------------------------------


@pytest.fixture(scope="module")
def iris_names():
    """(X, y, names, unknown): iris, its class names, and a mask of unlabeled rows
    (two labeled samples per class)."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    unknown = np.ones(len(y), dtype=bool)
    unknown[[0, 1, 50, 51, 100, 101]] = False
    return X, y, names, unknown


def _reference_picks(X, y, unknown):
    """Picks of the integer-labeled run with -1 markers, the behaviour kept from before."""
    y_int = np.where(unknown, -1, y)
    learner = ActiveLearner(LogisticRegression(), EntropySampling()).fit(X, y_int)
    return learner.query(X, y_int, batch_size=5), learner.rank(X, y_int)


@pytest.mark.parametrize(
    "make_y, missing_label",
    [
        (lambda names, unknown: np.where(unknown, None, names), None),
        (lambda names, unknown: np.where(unknown, np.nan, names), None),
        (lambda names, unknown: np.where(unknown, np.nan, names), np.nan),
        (lambda names, unknown: np.where(unknown, "unknown", names).astype(str), "unknown"),
        (lambda names, unknown: [-1 if u else str(n) for n, u in zip(names, unknown)], -1),
        (lambda names, unknown: np.where(unknown, -1, names), -1),
        (lambda names, unknown: np.where(unknown, "-1", names).astype(str), "-1"),
    ],
    ids=["None", "nan", "nan-marker", "unknown-str-array", "list-with-int", "object-int",
         "str-marker"],
)
def test_missing_label_marks_unlabeled_string_labels(make_y, missing_label, iris_names):
    X, y, names, unknown = iris_names
    y_known = make_y(names, unknown)
    before = copy_of(y_known)
    learner = ActiveLearner(
        LogisticRegression(), EntropySampling(), missing_label=missing_label
    ).fit(X, y_known)
    assert list(learner.classes_) == ["setosa", "versicolor", "virginica"]
    np.testing.assert_array_equal(learner.labeled_indices_, np.flatnonzero(~unknown))
    assert learner.n_rounds_ == 0
    picks, ranking = _reference_picks(X, y, unknown)
    np.testing.assert_array_equal(learner.query(X, y_known, batch_size=5), picks)
    np.testing.assert_array_equal(learner.rank(X, y_known), ranking)
    assert_same(y_known, before)


def copy_of(y):
    return list(y) if isinstance(y, list) else y.copy()


def assert_same(y, before):
    assert type(y) is type(before)
    assert len(y) == len(before)
    assert all((a is b) or (a == b) or (a != a and b != b) for a, b in zip(y, before))


def test_missing_label_none_with_a_pandas_series(iris_names):
    pd = pytest.importorskip("pandas")
    X, y, names, unknown = iris_names
    y_known = pd.Series(names, dtype="string", copy=True)  # pandas < 3 would share names
    y_known[unknown] = pd.NA
    before = y_known.copy()
    learner = ActiveLearner(LogisticRegression(), missing_label=None).fit(X, y_known)
    assert list(learner.classes_) == ["setosa", "versicolor", "virginica"]
    picks, _ = _reference_picks(X, y, unknown)
    np.testing.assert_array_equal(learner.query(X, y_known, batch_size=5), picks)
    pd.testing.assert_series_equal(y_known, before)


def test_missing_label_on_numbers_with_nan(iris_names):
    X, y, _, unknown = iris_names
    y_float = np.where(unknown, np.nan, y.astype(float))
    learner = ActiveLearner(LogisticRegression(), missing_label=None).fit(X, y_float)
    picks, _ = _reference_picks(X, y, unknown)
    np.testing.assert_array_equal(learner.query(X, y_float, batch_size=5), picks)
    np.testing.assert_array_equal(learner.classes_, [0.0, 1.0, 2.0])


@pytest.mark.parametrize(
    "make_y, params, match",
    [
        # a NumPy string array turns -1 into '-1': never read as a class silently
        (lambda names, u: np.where(u, "-1", names).astype(str), {},
         r"y holds labels as strings, and '-1' reads as missing_label=-1, which is a "
         r"number.*pass missing_label='-1'.*missing_label=None"),
        (lambda names, u: np.array([str(v) for v in np.where(u, -1, names)]), {},
         r"'-1' reads as missing_label=-1"),
        (lambda names, u: np.where(u, "-1", names), {},  # object array of strings
         r"'-1' reads as missing_label=-1"),
        # missing values the marker does not match
        (lambda names, u: np.where(u, None, names), {},
         r"y\[2\] is None, a missing value, but missing_label=-1 marks the unlabeled "
         r"samples\. Pass missing_label=None"),
        (lambda names, u: np.where(u, np.nan, names), {"missing_label": "unknown"},
         r"y\[2\] is nan, a missing value, but missing_label='unknown'.*missing_label=None"),
        (lambda names, u: np.where(u, np.nan, np.arange(len(u)) % 3), {},
         r"y\[2\] is nan, a missing value, but missing_label=-1.*missing_label=None"),
        # a string marker for numbers that hold the number
        (lambda names, u: np.where(u, -1, np.arange(len(u)) % 3), {"missing_label": "-1"},
         r"missing_label='-1' is a string, but y holds numbers, among them -1\. Pass "
         r"missing_label=-1"),
    ],
    ids=["str-array", "str-list-converted", "object-str", "None", "nan-vs-str-marker",
         "float-nan", "str-marker-on-ints"],
)
def test_ambiguous_markers_are_errors(make_y, params, match, iris_names):
    X, _, names, unknown = iris_names
    y_known = make_y(names, unknown)
    before = y_known.copy()
    learner = ActiveLearner(LogisticRegression(), **params)
    with pytest.raises(ValueError, match=match):
        learner.fit(X, y_known)
    assert_same(y_known, before)
    # query and rank read y with the same marker, and refuse the same y
    fitted = ActiveLearner(LogisticRegression(), budget=20, random_state=0, **params).fit(
        X, np.arange(len(X)) % 3 if "missing_label" not in params else names)
    for method in (fitted.query, fitted.rank):
        with pytest.raises(ValueError, match=match):
            method(X, y_known)


def test_query_uses_the_learners_marker(iris_names):
    X, y, names, unknown = iris_names
    y_known = np.where(unknown, None, names)
    learner = ActiveLearner(LogisticRegression(), missing_label=None).fit(X, y_known)
    with pytest.raises(ValueError, match=r"y marks no sample as unlabeled \(None\)"):
        learner.query(X, names)
    with pytest.raises(ValueError, match=r"pass the same y as to fit, with None for unlabeled"):
        learner.query(X, y_known[:5])


def test_missing_label_is_a_validated_parameter(data):
    from sklearn.utils._param_validation import InvalidParameterError

    X, y, _, _ = data
    with pytest.raises(InvalidParameterError, match=r"'missing_label' parameter.*Got \[-1\]"):
        ActiveLearner(LogisticRegression(), missing_label=[-1]).fit(X, y)


def test_a_list_of_labels_is_not_mutated_and_matches_the_object_array(iris_names):
    X, _, names, unknown = iris_names
    as_list = [-1 if u else str(n) for n, u in zip(names, unknown)]
    as_object = np.array(as_list, dtype=object)
    from_list = ActiveLearner(LogisticRegression()).fit(X, as_list)
    from_array = ActiveLearner(LogisticRegression()).fit(X, as_object)
    np.testing.assert_array_equal(from_list.labeled_indices_, from_array.labeled_indices_)
    np.testing.assert_array_equal(from_list.rank(X, as_list), from_array.rank(X, as_object))
    assert as_list.count(-1) == unknown.sum()


# -- -1 as a real class (issue 11, item 2) ---------------------------------------------------


def test_minus_one_as_one_of_three_classes_is_reported(iris_names):
    """Labels {-1, 0, 1}: the -1 rows are no more than the labeled ones, so the
    learner says what it does with them and how to keep them as a class."""
    from skal.learner import MissingLabelWarning

    X, y, _, _ = iris_names
    y_signed = y - 1
    with pytest.warns(MissingLabelWarning, match=(
        r"y marks 50 of 150 samples as unlabeled with missing_label=-1, no more than are "
        r"labeled \(100\)\. If -1 is a class of y.*pass missing_label=None"
    )):
        learner = ActiveLearner(LogisticRegression(), budget=30, random_state=0).fit(
            X, y_signed
        )
    np.testing.assert_array_equal(learner.classes_, [0, 1])
    # the fix the warning names: a marker that is not a class
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingLabelWarning)
        learner = ActiveLearner(
            LogisticRegression(), budget=30, random_state=0, missing_label=None
        ).fit(X, y_signed)
    np.testing.assert_array_equal(learner.classes_, [-1, 0, 1])
    assert learner.n_rounds_ == 2  # a simulation, as intended


def test_minus_one_plus_one_labels_name_the_marker(iris_names):
    X, y, _, _ = iris_names
    y_pm = np.where(y == 0, -1, 1)
    with pytest.raises(ValueError, match=(
        r"contains only one class \(1\).*y marks 50 samples with missing_label=-1, which "
        r"are treated as unlabeled: if -1 is a class \(e\.g\. labels -1/\+1\), pass "
        r"missing_label=None"
    )):
        ActiveLearner(LogisticRegression()).fit(X, y_pm)
    learner = ActiveLearner(
        LogisticRegression(), budget=30, random_state=0, missing_label=None
    ).fit(X, y_pm)
    np.testing.assert_array_equal(learner.classes_, [-1, 1])


def test_real_labeling_with_few_labels_does_not_warn(partly_labeled):
    from skal.learner import MissingLabelWarning

    X, _, y_known = partly_labeled
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingLabelWarning)
        ActiveLearner(LogisticRegression()).fit(X, y_known)


# -- a plain skorch net: seeded per round, default train_split (items 3 and 5) --------------


def plain_net(**params):
    """A skorch net as a user writes it: no seed, skorch's default train_split."""
    import torch
    from skorch import NeuralNetClassifier

    from skal.toy import MLPClassifierModule

    defaults = dict(
        module__n_features=64, module__n_classes=10, module__hidden_units=16,
        criterion=torch.nn.CrossEntropyLoss, max_epochs=3, lr=0.1, verbose=0,
    )
    return NeuralNetClassifier(MLPClassifierModule, **{**defaults, **params})


def test_plain_skorch_net_with_the_default_train_split_fits(digits):
    """skorch's default ValidSplit(5) cannot split 10 labeled samples of 10
    classes: those rounds fit without it, with one warning that says so."""
    from skal.learner import TrainSplitWarning

    X, y, _, _ = digits
    net = plain_net()
    with pytest.warns(TrainSplitWarning) as record:
        learner = ActiveLearner(net, BADGE(), budget=40, random_state=0).fit(X, y)
    messages = [str(w.message) for w in record if w.category is TrainSplitWarning]
    assert len(messages) == 1
    assert re.search(
        r"train_split=ValidSplit\(5, stratified=True\) cannot split the 10 labeled samples "
        r"of round 0 \(n_splits=5 cannot be greater than the number of members in each "
        r"class\)\. ActiveLearner fits the net of such a round without an internal "
        r"validation split \(train_split=None\).*give the net train_split=None",
        messages[0],
    )
    assert learner.history_["n_labeled"].tolist() == [10, 20, 30, 40]
    assert net.train_split is not None  # the caller's net is left alone
    # a net given train_split=None never warns
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainSplitWarning)
        ActiveLearner(plain_net(train_split=None), BADGE(), budget=20, random_state=0).fit(X, y)


def test_train_split_is_kept_where_it_can_split(digits):
    """Only the rounds whose labeled set the split cannot split lose it."""
    from skorch.dataset import ValidSplit

    from skal.learner import TrainSplitWarning

    X, y, _, _ = digits
    net = plain_net(train_split=ValidSplit(0.2, stratified=True, random_state=0))
    with pytest.warns(TrainSplitWarning, match=r"round 0"):
        learner = ActiveLearner(
            net, RandomSampling(), initial_size=10, batch_size=90, budget=100,
            random_state=0, keep_estimators=True,
        ).fit(X, y)
    first, last = learner.round_estimators_
    assert first.train_split is None and "valid_loss" not in first.history[-1]
    assert isinstance(last.train_split, ValidSplit) and "valid_loss" in last.history[-1]


def _weights(net):
    return np.concatenate([p.detach().numpy().ravel() for p in net.module_.parameters()])


def test_plain_skorch_net_is_seeded_per_trial_and_round(digits):
    import torch

    X, y, X_val, y_val = digits

    def run(random_state, retrain="reset"):
        return ActiveLearner(
            plain_net(train_split=None), EntropySampling(), batch_size=20, initial_size=30,
            budget=70, retrain=retrain, random_state=random_state, keep_estimators=True,
        ).fit(X, y, X_val=X_val[:200], y_val=y_val[:200])

    first, again, other = run(0), run(0), run(1)
    # the fits leave the global torch generator as it was
    state = torch.random.get_rng_state()
    ActiveLearner(plain_net(train_split=None), RandomSampling(), initial_size=30,
                  budget=50, random_state=0).fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), state)
    np.testing.assert_array_equal(first.labeled_indices_, again.labeled_indices_)
    np.testing.assert_array_equal(first.history_["score"], again.history_["score"])
    for a, b in zip(first.round_estimators_, again.round_estimators_):
        np.testing.assert_array_equal(_weights(a), _weights(b))
    assert not np.array_equal(_weights(first.round_estimators_[0]),
                              _weights(other.round_estimators_[0]))
    update, update_again = run(0, "update"), run(0, "update")
    np.testing.assert_array_equal(_weights(update.estimator_), _weights(update_again.estimator_))


def test_round_seeds_do_not_draw_from_the_pick_generator(data, monkeypatch):
    """Seeding torch must not change the picks of a seeded run: they equal the
    picks of the same run with torch seeding switched off, also for a
    RandomState instance (whose state is read, not advanced)."""
    import contextlib

    from skal import _rounds as learner_module

    X, y, _, _ = data
    X = X.astype(np.float32)
    net = make_skorch_classifier(5, 3, hidden_units=8, max_epochs=2)

    def run(random_state):
        return ActiveLearner(net, BADGE(), batch_size=7, budget=40,
                             random_state=random_state).fit(X, y).labeled_indices_

    seeded = [run(3), run(np.random.RandomState(3))]
    monkeypatch.setattr(learner_module, "_torch_seeded",
                        lambda net, seed: contextlib.nullcontext())
    unseeded = [run(3), run(np.random.RandomState(3))]
    np.testing.assert_array_equal(seeded, unseeded)


# -- defaults: budget, progress, repeated warnings (item 9) ----------------------------------


def test_default_budget_is_ten_rounds():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    learner = ActiveLearner(LogisticRegression(max_iter=200), random_state=0).fit(X, y)
    assert learner.n_rounds_ == 10
    assert learner.history_["n_labeled"].tolist() == list(range(10, 111, 10))
    # capped at the pool; budget=None still labels every sample
    small = ActiveLearner(LogisticRegression(), batch_size=20, random_state=0).fit(X[:60], y[:60])
    assert small.history_["n_labeled"].tolist() == [10, 30, 50, 60]
    assert ActiveLearner(LogisticRegression()).get_params()["budget"] == "auto"


def test_verbose_shows_progress_towards_the_budget(data, capsys):
    X, y, _, _ = data
    ActiveLearner(LogisticRegression(), batch_size=10, budget=30, random_state=0,
                  verbose=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "[ActiveLearner] round 0: 10 of 30 labeled",
        "[ActiveLearner] round 1: 20 of 30 labeled",
        "[ActiveLearner] round 2: 30 of 30 labeled",
    ]


def test_a_warning_repeated_every_round_is_shown_once(data):
    from sklearn.exceptions import ConvergenceWarning

    X, y, _, _ = data
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        learner = ActiveLearner(
            LogisticRegression(max_iter=1), batch_size=10, budget=60, random_state=0
        ).fit(X, y)
    convergence = [w for w in record if issubclass(w.category, ConvergenceWarning)]
    assert learner.n_rounds_ == 5
    assert len(convergence) == 1
    assert re.search(r"\[6 times in the 6 estimator fits of ActiveLearner\.fit; shown once\]",
                     str(convergence[0].message))
    # filters still apply to the category
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ConvergenceWarning)
        ActiveLearner(LogisticRegression(max_iter=1), batch_size=10, budget=60,
                      random_state=0).fit(X, y)
    assert not [w for w in record if issubclass(w.category, ConvergenceWarning)]


# -- Datasets: n_features_in_ only where the input has features (issue 19 item 5) ----


@pytest.fixture(scope="module")
def digits_dataset():
    import torch
    from sklearn.datasets import load_digits
    from torch.utils.data import TensorDataset

    X, y = load_digits(return_X_y=True)
    X, y = (X[:300] / 16).astype(np.float32), y[:300]
    return X, y, TensorDataset(torch.from_numpy(X), torch.from_numpy(y))


def test_a_learner_fitted_on_a_dataset_predicts_scores_and_queries_arrays_too(
    digits_dataset,
):
    X, y, dataset = digits_dataset
    learner = ActiveLearner(
        make_skorch_classifier(64, 10, max_epochs=3), BADGE(), batch_size=10,
        initial_size=20, budget=40, random_state=0,
    ).fit(dataset, y)
    # a TensorDataset's items are (x, y) pairs: it has no features to count
    assert not hasattr(learner, "n_features_in_")
    np.testing.assert_array_equal(learner.predict(X), learner.predict(dataset))
    np.testing.assert_array_equal(learner.predict_proba(X), learner.predict_proba(dataset))
    assert learner.score(X, y) == learner.score(dataset, y)
    np.testing.assert_array_equal(
        learner.query(X, batch_size=5), learner.query(dataset, batch_size=5)
    )
    np.testing.assert_array_equal(learner.rank(X), learner.rank(dataset))


def test_refitting_on_a_dataset_forgets_the_arrays_feature_count(digits_dataset):
    X, y, dataset = digits_dataset
    learner = ActiveLearner(
        make_skorch_classifier(64, 10, max_epochs=2), batch_size=10, initial_size=20,
        budget=30, random_state=0,
    )
    assert learner.fit(X, y).n_features_in_ == 64
    assert learner.predict(dataset).shape == (300,)  # arrays-fitted reads a Dataset
    assert not hasattr(learner.fit(dataset, y), "n_features_in_")
    with pytest.raises(ValueError, match="X has 63 features"):
        learner.fit(X, y).predict(X[:, :63])  # arrays still checked


def test_a_strategy_fitted_on_a_dataset_queries_arrays_and_datasets_alike(digits_dataset):
    X, y, dataset = digits_dataset
    net = make_skorch_classifier(64, 10, max_epochs=3).fit(X[:100], y[:100])
    strategy = BADGE(net, prefit=True, random_state=0).fit(
        torch_subset(dataset, range(100)), y[:100]
    )
    assert not hasattr(strategy, "n_features_in_")
    np.testing.assert_array_equal(
        strategy.query(X[100:], 10),
        strategy.query(torch_subset(dataset, range(100, 300)), 10),
    )


def torch_subset(dataset, indices):
    from torch.utils.data import Subset

    return Subset(dataset, list(indices))
