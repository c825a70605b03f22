"""FASS against a slow reference: filter by uncertainty, then greedy on the definition."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skal import ActiveLearner
from skal.exceptions import EmbeddingError
from skal.strategies._fass import FASS
from tests.test_seed import assert_greedy


def entropy(P):
    return np.array([-sum(p * np.log(p) for p in row if p > 0) for row in P])


def reference_parts(clf, X_pool, n_candidates, score=entropy):
    """(candidates most uncertain first, the rest by decreasing uncertainty)."""
    u = score(np.asarray(clf.predict_proba(X_pool), dtype=np.float64))
    order = sorted(range(len(u)), key=lambda j: (-u[j], j))
    return order[:n_candidates], order[n_candidates:]


@pytest.fixture(scope="module")
def setting(blobs, fitted_logreg):
    X, y, X_pool = blobs
    return fitted_logreg, X[:20], y[:20], X_pool


def test_rank_matches_reference(setting):
    clf, X_lab, y_lab, X_pool = setting
    strategy = FASS(clf, prefit=True, n_candidates=15, gamma=0.5).fit(X_lab, y_lab)
    ranking = strategy.rank(X_pool)
    cand, rest = reference_parts(clf, X_pool, 15)
    assert sorted(ranking[:15].tolist()) == sorted(cand)
    assert ranking[15:].tolist() == rest  # then the rest by uncertainty
    # the candidates in the greedy order of the nearest-neighbour objective,
    # the labeled set covering the candidates of its (true) class
    local = [cand.index(j) for j in ranking[:15]]
    Z = X_pool[cand].astype(np.float64)
    labels = clf.predict(X_pool[cand])
    clear = assert_greedy(local, Z, gamma=0.5, labels=labels, X_selected=X_lab,
                          selected_labels=y_lab)
    assert clear >= 3


def test_without_labeled_set_and_without_classes(setting):
    clf, X_lab, y_lab, X_pool = setting
    prefit = FASS(clf, prefit=True, n_candidates=12, gamma=0.5, per_class=False)
    ranking = prefit.rank(X_pool)  # no fit: no labeled set
    cand, _ = reference_parts(clf, X_pool, 12)
    local = [cand.index(j) for j in ranking[:12]]
    assert assert_greedy(local, X_pool[cand].astype(np.float64), gamma=0.5) >= 3


def test_hand_built_case():
    # two classes on a line; the classifier is unsure near 0
    X = np.array([[-3.0], [-2.0], [2.0], [3.0]])
    clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    X_pool = np.array([[-0.3], [-0.2], [-0.25], [0.2], [0.3], [9.0]])
    strategy = FASS(clf, prefit=True, n_candidates=5, gamma=1.0)
    ranking = strategy.rank(X_pool)
    # candidates: all but 9.0; class 0 = {-0.3, -0.25, -0.2}, class 1 = {0.2, 0.3}.
    # The middle of class 0 (index 2) covers most; then the best of class 1
    # (equal gains: the more uncertain one, 0.2); the far, sure sample is last.
    assert ranking[:2].tolist() == [2, 3]
    assert ranking[-1] == 5


@pytest.mark.parametrize("uncertainty", ["entropy", "margin", "least_confidence"])
def test_filter_uses_the_chosen_uncertainty(setting, uncertainty):
    clf, X_lab, y_lab, X_pool = setting
    strategy = FASS(clf, prefit=True, n_candidates=10, uncertainty=uncertainty)
    P = np.asarray(clf.predict_proba(X_pool), dtype=np.float64)
    scores = {
        "entropy": entropy(P),
        "margin": 1 - (np.sort(P, axis=1)[:, -1] - np.sort(P, axis=1)[:, -2]),
        "least_confidence": 1 - P.max(axis=1),
    }[uncertainty]
    np.testing.assert_allclose(strategy.transform(X_pool).ravel(), scores, atol=1e-12)
    cand, rest = reference_parts(clf, X_pool, 10, score=lambda _: scores)
    ranking = strategy.rank(X_pool)
    assert sorted(ranking[:10].tolist()) == sorted(cand)
    assert ranking[10:].tolist() == rest


def test_prefix_rank_and_lazy_rank(setting):
    clf, X_lab, y_lab, X_pool = setting
    strategy = FASS(clf, prefit=True, n_candidates=30).fit(X_lab, y_lab)
    ranking = strategy.rank(X_pool)
    assert sorted(ranking.tolist()) == list(range(len(X_pool)))
    for k in (1, 10, 30, 31, 70, len(X_pool)):  # also beyond n_candidates
        np.testing.assert_array_equal(strategy.query(X_pool, k), ranking[:k])
    lazy = strategy.lazy_rank(X_pool[:80])
    np.testing.assert_array_equal(lazy.take(5), strategy.rank(X_pool[:80])[:5])
    assert lazy.add(X_pool[80:]).tolist() == list(range(80, 100))
    rest = lazy.take(1000)
    assert sorted(lazy.ranked.tolist()) == list(range(100))
    assert len(rest) == 95


def test_lazy_add_uncertain_sample_joins_the_candidates():
    X = np.array([[-3.0], [-2.0], [2.0], [3.0]])
    clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    X_pool = np.array([[-1.0], [1.0], [8.0], [-8.0]])
    lazy = FASS(clf, prefit=True, n_candidates=2, gamma=1.0).lazy_rank(X_pool)
    assert sorted(lazy.take(1).tolist() + [next(lazy)]) == [0, 1]
    assert lazy.add(np.array([[0.0], [20.0]])).tolist() == [4, 5]
    assert next(lazy) == 4  # the most uncertain sample of all: a candidate
    rest = lazy.take(10).tolist()  # the rest by uncertainty: 20.0 is the surest
    assert sorted(rest[:2]) == [2, 3] and rest[2] == 5


def test_works_with_skorch_net(fitted_net, digits):
    X, y, X_pool, _ = digits
    params = {n: p.detach().clone() for n, p in fitted_net.module_.named_parameters()}
    fitted_net.module_.train()
    strategy = FASS(fitted_net, prefit=True, n_candidates=60).fit(X[:50], y[:50])
    ranking = strategy.rank(X_pool)
    assert sorted(ranking.tolist()) == list(range(len(X_pool)))
    np.testing.assert_array_equal(strategy.query(X_pool, 20), ranking[:20])
    u = strategy.transform(X_pool).ravel()
    top = np.argsort(-u, kind="stable")[:60]
    assert set(ranking[:60].tolist()) == set(top.tolist())
    assert fitted_net.module_.training  # mode restored
    for n, p in fitted_net.module_.named_parameters():
        assert bool((p.detach() == params[n]).all())
    fitted_net.module_.eval()


def test_inside_active_learner(blobs):
    X, y, X_pool = blobs
    X_all = np.vstack([X, X_pool])
    y_all = np.concatenate([y, np.zeros(len(X_pool), dtype=y.dtype)])
    y_all[len(X):] = LogisticRegression().fit(X, y).predict(X_pool)
    learner = ActiveLearner(
        LogisticRegression(), FASS(n_candidates=40), batch_size=10, initial_size=10,
        budget=40, random_state=0,
    ).fit(X_all, y_all)
    assert len(learner.labeled_indices_) == 40


def test_same_result_twice(setting):
    clf, X_lab, y_lab, X_pool = setting
    a = FASS(clf, prefit=True, n_candidates=25).fit(X_lab, y_lab)
    b = FASS(clf, prefit=True, n_candidates=25).fit(X_lab, y_lab)
    np.testing.assert_array_equal(a.rank(X_pool), b.rank(X_pool))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_candidates": 0}, "n_candidates"),
        ({"n_candidates": 2.5}, "n_candidates"),
        ({"uncertainty": "variance"}, "uncertainty"),
        ({"gamma": -1.0}, "gamma"),
    ],
)
def test_bad_parameters(setting, params, match):
    clf, X_lab, y_lab, _ = setting
    with pytest.raises(InvalidParameterError, match=match):
        FASS(clf, **params).fit(X_lab, y_lab)


def test_estimator_without_embedding_or_probabilities(setting):
    _, X_lab, y_lab, X_pool = setting
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X_lab, y_lab)
    with pytest.raises(EmbeddingError, match="provides none"):
        FASS(forest, prefit=True).query(X_pool, 3)
    svc = LinearSVC().fit(X_lab, y_lab)
    with pytest.raises(EmbeddingError, match="predict_proba"):
        FASS(svc, prefit=True).query(X_pool, 3)


@parametrize_with_checks([FASS(LogisticRegression())])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
