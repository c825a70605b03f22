"""Meta-strategies: SubsetSampling, ProxyPrefilter, PartitionedStrategy.

Candidate sets and orders are derived by hand on tiny pools (a fake classifier
with a fixed probability table, an inner strategy that ranks by one feature),
or compared with the inner strategy run by itself on the same rows.
"""

import math
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skal import BADGE, ActiveLearner, CoreSet, EntropySampling, RandomSampling
from skal.base import BaseStrategy
from skal.exceptions import EmbeddingError
from skal.selection import ScoreRanking
from skal.strategies._two_stage import PartitionedStrategy, ProxyPrefilter, SubsetSampling

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


class TableClassifier(ClassifierMixin, BaseEstimator):
    """A fake classifier: ``predict_proba(X)`` is ``table[X[:, 0]]`` (column 0 is a row id)."""

    def __init__(self, table=None):
        self.table = table

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict_proba(self, X):
        return np.asarray(self.table, dtype=float)[np.asarray(X)[:, 0].astype(int)]

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


class ByFeature(BaseStrategy):
    """A deterministic inner strategy: decreasing ``X[:, 1]``, ties to the lower index."""

    _needs_estimator = False

    def _points(self, X, estimator, offset=0):
        return np.asarray(X)[:, 1]

    def _ranking(self, points, estimator):
        return ScoreRanking(points)

    def _transform(self, X, estimator):
        return np.asarray(X)[:, [1]]


# Six samples, three classes. Scores (least confidence / margin / entropy):
#   0: 0.00 / 0.00 / 0.000      3: 0.40 / 0.60 / 0.950
#   1: 0.55 / 1.00 / 0.949      4: 0.60 / 0.95 / 1.081
#   2: 0.50 / 0.75 / 1.040      5: 0.50 / 1.00 / 0.693
TABLE = np.array([
    [1.00, 0.00, 0.00],
    [0.45, 0.45, 0.10],
    [0.50, 0.25, 0.25],
    [0.60, 0.20, 0.20],
    [0.40, 0.35, 0.25],
    [0.50, 0.50, 0.00],
])
# column 0: row id into TABLE; column 1: what ByFeature ranks by (higher first)
X_TABLE = np.array([[0, 6.0], [1, 1.0], [2, 5.0], [3, 2.0], [4, 3.0], [5, 4.0]])


@pytest.fixture(scope="module")
def table_clf():
    return TableClassifier(TABLE).fit(X_TABLE, [0, 1, 2, 0, 1, 2])


@pytest.fixture(scope="module")
def digits_small():
    """(X_labeled, y_labeled, X_pool, y_pool): 60 labeled and 240 pool digits."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return X[:60], y[:60], X[60:300], y[60:300]


def unique_permutation(ranking, n):
    return sorted(np.asarray(ranking).tolist()) == list(range(n))


def entropy(row):
    return -sum(p * math.log(p) for p in row if p > 0)


# --------------------------------------------------------------------------
# scikit-learn's estimator checks
# --------------------------------------------------------------------------

META = [
    SubsetSampling(EntropySampling(LogisticRegression()), random_state=0),
    SubsetSampling(BADGE(LogisticRegression(), random_state=0), random_state=0),
    ProxyPrefilter(EntropySampling(LogisticRegression())),
    ProxyPrefilter(BADGE(LogisticRegression(), random_state=0), proxy="margin"),
    PartitionedStrategy(EntropySampling(LogisticRegression()), random_state=0),
    PartitionedStrategy(BADGE(LogisticRegression(), random_state=0), random_state=0),
]

_CHECKS = parametrize_with_checks(META)
# check_array_api_input skips itself unless SCIPY_ARRAY_API is set in the
# environment; strategies do not claim array API support, so leave it out
# rather than report a skip.
_PARAMS = [
    p for p in _CHECKS.args[1]
    if "check_array_api" not in getattr(p[1], "func", p[1]).__name__
]


@pytest.mark.parametrize(_CHECKS.args[0], _PARAMS, **_CHECKS.kwargs)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_the_estimator_checks_ran():
    names = {getattr(check, "func", check).__name__ for _, check in _PARAMS}
    assert {"check_fit_idempotent", "check_estimators_pickle",
            "check_transformer_general", "check_estimators_overwrite_params"} <= names
    assert len(_PARAMS) >= 6 * 40


# --------------------------------------------------------------------------
# ProxyPrefilter, by hand
# --------------------------------------------------------------------------


@pytest.mark.parametrize("proxy, candidates", [
    ("least_confidence", {1, 4}),  # 0.60, 0.55
    ("margin", {1, 5}),            # 1.00, 1.00 (4 has 0.95)
    ("entropy", {2, 4}),           # 1.081, 1.040
])
def test_proxy_candidates_are_the_top_m_by_the_proxy(table_clf, proxy, candidates):
    strategy = ProxyPrefilter(ByFeature(), proxy=proxy, n_candidates=2,
                              estimator=table_clf, prefit=True)
    ranking = strategy.rank(X_TABLE)
    assert set(ranking[:2].tolist()) == candidates
    # the inner strategy orders the candidates: decreasing X[:, 1]
    assert ranking[:2].tolist() == sorted(candidates, key=lambda i: -X_TABLE[i, 1])
    assert unique_permutation(ranking, 6)


def test_proxy_rank_by_hand(table_clf):
    strategy = ProxyPrefilter(ByFeature(), n_candidates=2, estimator=table_clf, prefit=True)
    # candidates {1, 4} by least confidence, ordered by the inner feature (3 > 1);
    # then the rest by least confidence: 2 (0.5), 5 (0.5, tie -> lower index), 3, 0
    np.testing.assert_array_equal(strategy.rank(X_TABLE), [4, 1, 2, 5, 3, 0])
    np.testing.assert_array_equal(strategy.query(X_TABLE, batch_size=1), [4])
    np.testing.assert_array_equal(strategy.query(X_TABLE, batch_size=2), [4, 1])
    np.testing.assert_allclose(strategy.transform(X_TABLE).ravel(),
                               [0.0, 0.55, 0.5, 0.4, 0.6, 0.5])


def test_proxy_picks_are_indices_into_the_original_pool(table_clf):
    # the same rows shuffled: the picks follow the rows, not their positions
    perm = np.array([3, 5, 0, 4, 2, 1])
    strategy = ProxyPrefilter(ByFeature(), n_candidates=2, estimator=table_clf, prefit=True)
    picks = strategy.query(X_TABLE[perm], batch_size=2)
    np.testing.assert_array_equal(perm[picks], [4, 1])
    np.testing.assert_array_equal(picks, [3, 5])


def test_proxy_with_all_candidates_equals_the_inner_strategy(table_clf):
    inner = ByFeature()
    meta = ProxyPrefilter(inner, n_candidates=6, estimator=table_clf, prefit=True)
    np.testing.assert_array_equal(meta.rank(X_TABLE), [0, 2, 5, 4, 3, 1])
    np.testing.assert_array_equal(meta.rank(X_TABLE), inner.set_params(prefit=True).rank(X_TABLE))


def test_proxy_entropy_inside_matches_entropy_ranking_on_candidates(table_clf):
    strategy = ProxyPrefilter(EntropySampling(), n_candidates=3, estimator=table_clf,
                              prefit=True)
    # least confidence keeps {4, 1, 2} (0.6, 0.55, 0.5 — 2 beats 5 on the tie);
    # entropy orders them 4, 2, 1
    ranking = strategy.rank(X_TABLE)
    np.testing.assert_array_equal(ranking[:3], [4, 2, 1])
    scores = [entropy(TABLE[i]) for i in ranking[:3]]
    assert scores == sorted(scores, reverse=True)


def test_proxy_lazy_add_joins_candidates_or_the_rest(table_clf):
    strategy = ProxyPrefilter(ByFeature(), n_candidates=2, estimator=table_clf, prefit=True)
    lazy = strategy.lazy_rank(X_TABLE)
    assert lazy.take(1).tolist() == [4]
    # the lowest candidate score is 0.55 (sample 1). New sample 6 is row 4 of the
    # table again (0.6 > 0.55: a candidate) with the largest feature; 7 is row 3
    # (0.4) and 8 is row 1 (0.55, not above the threshold): both join the rest
    new = lazy.add(np.array([[4, 9.0], [3, 9.0], [1, 9.0]]))
    assert new.tolist() == [6, 7, 8]
    # candidates left: 1 (feature 1) and 6 (feature 9) -> 6, 1; then the rest by
    # least confidence: 8 (0.55), 2, 5 (0.5), 3, 7 (0.4, tie -> lower index), 0
    assert lazy.take(10).tolist() == [6, 1, 8, 2, 5, 3, 7, 0]
    assert lazy.take(3).tolist() == []


# --------------------------------------------------------------------------
# SubsetSampling
# --------------------------------------------------------------------------


@pytest.mark.parametrize("inner", [
    BADGE(LogisticRegression(), random_state=0),
    EntropySampling(LogisticRegression()),
    CoreSet(LogisticRegression()),
], ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("Meta, params", [
    (SubsetSampling, {"n_candidates": 100, "random_state": 3}),
    (SubsetSampling, {"n_candidates": 5000}),
    (ProxyPrefilter, {"n_candidates": 100, "proxy": "entropy"}),
    (PartitionedStrategy, {"n_partitions": 1, "random_state": 3}),
], ids=["subset", "subset-default", "proxy", "partitioned-1"])
def test_meta_equals_inner_when_it_sees_the_whole_pool(blobs, inner, Meta, params):
    X, y, X_pool = blobs  # 100 pool samples
    meta = Meta(inner, **params).fit(X, y)
    alone = clone(inner).fit(X, y)
    np.testing.assert_array_equal(meta.rank(X_pool), alone.rank(X_pool))
    np.testing.assert_array_equal(meta.query(X_pool, 7), alone.query(X_pool, 7))
    np.testing.assert_allclose(meta.transform(X_pool),
                               alone.transform(X_pool) if Meta is not ProxyPrefilter
                               else [[entropy(p)] for p in alone.estimator_.predict_proba(X_pool)],
                               rtol=1e-6)


def test_subset_candidates_are_a_uniform_subset(fitted_logreg, blobs):
    _, _, X_pool = blobs
    X_pool = X_pool[:20]
    scores = EntropySampling(fitted_logreg, prefit=True).transform(X_pool).ravel()
    counts = np.zeros(20)
    sets = set()
    for seed in range(300):
        strategy = SubsetSampling(EntropySampling(), n_candidates=5, estimator=fitted_logreg,
                                  prefit=True, random_state=seed)
        ranking = strategy.rank(X_pool)
        head = ranking[:5]
        # the inner strategy orders the candidates: decreasing entropy
        assert np.all(np.diff(scores[head]) <= 0)
        counts[head] += 1
        sets.add(frozenset(head.tolist()))
    # each sample is a candidate with probability 5/20: 75 of 300 expected
    assert counts.min() > 40 and counts.max() < 115
    assert len(sets) > 200  # C(20, 5) = 15504 possible sets
    # without the subset, entropy would always pick the same five
    assert counts[np.argsort(-scores)[:5]].max() < 300


def test_subset_rest_is_random_not_by_score(fitted_logreg, blobs):
    _, _, X_pool = blobs
    scores = EntropySampling(fitted_logreg, prefit=True).transform(X_pool).ravel()
    ranking = SubsetSampling(EntropySampling(), n_candidates=10, estimator=fitted_logreg,
                             prefit=True, random_state=0).rank(X_pool)
    assert np.all(np.diff(scores[ranking[:10]]) <= 0)
    assert np.any(np.diff(scores[ranking[10:]]) > 0)  # the rest is in random order
    assert unique_permutation(ranking, len(X_pool))


def test_subset_lazy_add(fitted_logreg, blobs):
    _, _, X_pool = blobs
    strategy = SubsetSampling(BADGE(), n_candidates=20, estimator=fitted_logreg,
                              prefit=True, random_state=0)
    lazy = strategy.lazy_rank(X_pool[:60])
    np.testing.assert_array_equal(lazy.take(60), strategy.rank(X_pool[:60]))
    lazy = strategy.lazy_rank(X_pool[:60])
    first = lazy.take(10)
    assert lazy.add(X_pool[60:]).tolist() == list(range(60, 100))
    rest = lazy.take(1000)
    assert unique_permutation(np.r_[first, rest], 100)
    assert lazy.ranked.tolist() == np.r_[first, rest].tolist()


# --------------------------------------------------------------------------
# PartitionedStrategy
# --------------------------------------------------------------------------


def test_partitioned_round_robin_by_hand():
    # 12 samples, 3 parts of 4; the inner strategy ranks by X[:, 1] within a part
    X = np.c_[np.arange(12), np.arange(12) * 7 % 12].astype(float)
    strategy = PartitionedStrategy(ByFeature(), n_partitions=3, prefit=True, random_state=0)
    ranking = strategy.rank(X)
    assert unique_permutation(ranking, 12)
    parts = [set(ranking[j::3].tolist()) for j in range(3)]
    assert [len(p) for p in parts] == [4, 4, 4]
    for j in range(3):  # each part's picks come in the inner strategy's order
        assert np.all(np.diff(X[ranking[j::3], 1]) < 0)
    # query(k) takes k // 3 from each part and the remainder from the first parts
    for k, expected in [(1, [1, 0, 0]), (2, [1, 1, 0]), (7, [3, 2, 2]), (8, [3, 3, 2])]:
        picks = strategy.query(X, batch_size=k)
        np.testing.assert_array_equal(picks, ranking[:k])
        assert [len(p & set(picks.tolist())) for p in parts] == expected
    # another seed, other parts
    other = PartitionedStrategy(ByFeature(), n_partitions=3, prefit=True, random_state=1)
    assert [set(other.rank(X)[j::3].tolist()) for j in range(3)] != parts


def test_partitioned_runs_the_inner_strategy_on_each_part(fitted_logreg, blobs):
    X, y, X_pool = blobs  # 100 pool samples -> 4 parts of 25
    inner = BADGE(random_state=5)
    strategy = PartitionedStrategy(inner, n_partitions=4, estimator=fitted_logreg,
                                   prefit=True, random_state=0)
    ranking = strategy.rank(X_pool)
    assert unique_permutation(ranking, 100)
    alone = clone(inner).set_params(estimator=fitted_logreg, prefit=True)
    for j in range(4):
        part = np.sort(ranking[j::4])
        assert part.size == 25
        np.testing.assert_array_equal(ranking[j::4], part[alone.rank(X_pool[part])])


def test_partitioned_uneven_parts_and_more_parts_than_samples(fitted_logreg, blobs):
    _, _, X_pool = blobs
    strategy = PartitionedStrategy(EntropySampling(), n_partitions=3, estimator=fitted_logreg,
                                   prefit=True, random_state=0)
    ranking = strategy.rank(X_pool[:10])  # parts of 4, 3, 3
    assert unique_permutation(ranking, 10)
    tiny = strategy.set_params(n_partitions=10)
    assert unique_permutation(tiny.rank(X_pool[:3]), 3)
    np.testing.assert_array_equal(tiny.query(X_pool[:3], 2), tiny.rank(X_pool[:3])[:2])


def test_partitioned_lazy_add_keeps_parts_balanced():
    X = np.c_[np.arange(9), np.arange(9)].astype(float)
    strategy = PartitionedStrategy(ByFeature(), n_partitions=3, prefit=True, random_state=0)
    lazy = strategy.lazy_rank(X)
    full = strategy.rank(X)
    first = lazy.take(4)
    np.testing.assert_array_equal(first, full[:4])
    X_new = np.c_[np.arange(9, 15), np.full(6, 100.0) + np.arange(6)]  # 2 per part
    assert lazy.add(X_new).tolist() == list(range(9, 15))
    nxt = lazy.take(3)
    # the round-robin goes on at part 1, and each part's next pick is now a new
    # sample (its feature beats every old one)
    assert set(nxt.tolist()) <= set(range(9, 15))
    rest = lazy.take(100)
    everything = np.r_[first, nxt, rest]
    assert unique_permutation(everything, 15)


# --------------------------------------------------------------------------
# every meta-strategy: the ranking contract
# --------------------------------------------------------------------------

CONTRACT = [
    SubsetSampling(BADGE(LogisticRegression()), n_candidates=30, random_state=0),
    SubsetSampling(CoreSet(LogisticRegression()), n_candidates=30, random_state=0),
    ProxyPrefilter(BADGE(LogisticRegression()), n_candidates=30, random_state=0),
    ProxyPrefilter(RandomSampling(), proxy="margin", n_candidates=30, random_state=0,
                   estimator=LogisticRegression()),
    PartitionedStrategy(BADGE(LogisticRegression()), n_partitions=3, random_state=0),
    PartitionedStrategy(RandomSampling(), n_partitions=4, random_state=0),
]


@pytest.mark.parametrize("strategy", CONTRACT, ids=lambda s: f"{type(s).__name__}-"
                         f"{type(s.strategy).__name__}")
def test_rank_is_a_permutation_query_its_prefix_same_seed_same_result(strategy, blobs):
    X, y, X_pool = blobs
    fitted = clone(strategy).fit(X, y)
    ranking = fitted.rank(X_pool)
    assert unique_permutation(ranking, len(X_pool))
    for k in (1, 7, 30):
        np.testing.assert_array_equal(fitted.query(X_pool, batch_size=k), ranking[:k])
    np.testing.assert_array_equal(fitted.rank(X_pool), ranking)
    np.testing.assert_array_equal(clone(strategy).fit(X, y).rank(X_pool), ranking)
    np.testing.assert_array_equal(list(fitted.lazy_rank(X_pool)), ranking)
    # a RandomState instance or None: still a permutation
    for seed in (np.random.RandomState(0), None):
        assert unique_permutation(
            clone(strategy).set_params(random_state=seed).fit(X, y).rank(X_pool), len(X_pool))


@pytest.mark.parametrize("strategy", [s for s in CONTRACT if "BADGE" in repr(s)],
                         ids=lambda s: type(s).__name__)
def test_seed_of_the_meta_strategy_seeds_the_inner_one(strategy, blobs):
    X, y, X_pool = blobs
    rankings = {tuple(clone(strategy).set_params(random_state=s).fit(X, y).rank(X_pool)[:30])
                for s in range(4)}
    assert len(rankings) == 4  # BADGE(random_state=None) inside, seeded through the meta
    # an explicit inner seed is used as it is
    a = clone(strategy).set_params(strategy__random_state=1).fit(X, y)
    b = clone(strategy).set_params(strategy__random_state=2).fit(X, y)
    assert not np.array_equal(a.rank(X_pool), b.rank(X_pool))


# --------------------------------------------------------------------------
# estimator ownership, labeled set, transform
# --------------------------------------------------------------------------


def test_meta_owns_the_estimator_and_leaves_the_inner_strategy_alone(blobs):
    X, y, X_pool = blobs
    inner = BADGE(random_state=0)
    meta = SubsetSampling(inner, n_candidates=40, estimator=LogisticRegression(),
                          random_state=0).fit(X, y)
    assert inner.estimator is None and inner.prefit is False
    assert not hasattr(inner, "estimator_")
    assert meta.strategy_.estimator is meta.estimator_
    assert meta.strategy_.prefit is True
    assert meta.estimator_ is not meta.estimator  # a fitted clone
    # the meta's estimator wins over the inner strategy's
    wrong = SubsetSampling(BADGE(LinearSVC(), random_state=0), n_candidates=40,
                           estimator=LogisticRegression(), random_state=0).fit(X, y)
    np.testing.assert_array_equal(wrong.rank(X_pool), meta.rank(X_pool))


def test_inner_estimator_is_used_when_the_meta_has_none(blobs, fitted_logreg):
    X, y, X_pool = blobs
    inner_prefit = SubsetSampling(BADGE(fitted_logreg, prefit=True, random_state=0),
                                  n_candidates=40, random_state=0)
    outer_prefit = SubsetSampling(BADGE(random_state=0), n_candidates=40,
                                  estimator=fitted_logreg, prefit=True, random_state=0)
    np.testing.assert_array_equal(inner_prefit.rank(X_pool), outer_prefit.rank(X_pool))
    # the meta's prefit=True counts for the inner strategy's estimator too
    both = SubsetSampling(BADGE(fitted_logreg, random_state=0), n_candidates=40, prefit=True,
                          random_state=0)
    np.testing.assert_array_equal(both.rank(X_pool), outer_prefit.rank(X_pool))
    # and fit(X, y) with prefit=False fits a clone of the inner strategy's estimator
    fitted = SubsetSampling(BADGE(LogisticRegression(), random_state=0), n_candidates=40,
                            random_state=0).fit(X, y)
    np.testing.assert_array_equal(fitted.rank(X_pool), outer_prefit.rank(X_pool))


@pytest.mark.parametrize("Meta, params", [
    (SubsetSampling, {"n_candidates": 30, "random_state": 0}),
    (ProxyPrefilter, {"n_candidates": 30}),
    (PartitionedStrategy, {"n_partitions": 2, "random_state": 0}),
])
def test_coreset_inside_sees_the_labeled_set(blobs, Meta, params):
    X, y, X_pool = blobs
    meta = Meta(CoreSet(LogisticRegression()), **params).fit(X, y)
    assert meta.strategy_.X_labeled_.shape == X.shape
    ranking = meta.rank(X_pool)
    # the first pick is, among the samples the inner strategy saw first, the
    # farthest from the labeled set (LogisticRegression's embedding: the features)
    dist = np.min(np.linalg.norm(X_pool[:, None, :] - X[None, :, :], axis=2), axis=1)
    if Meta is PartitionedStrategy:
        seen = np.sort(ranking[0::2])
    else:
        seen = np.sort(ranking[:30])
    assert ranking[0] == seen[np.argmax(dist[seen])]
    # without the labeled set (prefit, no fit) the first pick is random instead
    firsts = {
        int(Meta(CoreSet(), estimator=meta.estimator_, prefit=True, **params)
            .set_params(strategy__random_state=s).rank(X_pool)[0])
        for s in range(6)
    }
    assert len(firsts) > 1


def test_transform_is_the_inner_transform_or_the_proxy_score(blobs, fitted_logreg):
    _, _, X_pool = blobs
    badge = BADGE(fitted_logreg, prefit=True, random_state=0)
    G = badge.transform(X_pool)
    for meta in (SubsetSampling(badge, n_candidates=10, random_state=0),
                 PartitionedStrategy(badge, n_partitions=3, random_state=0)):
        np.testing.assert_allclose(meta.transform(X_pool), G)
    proba = fitted_logreg.predict_proba(X_pool)
    proxy = ProxyPrefilter(badge, proxy="margin", n_candidates=10)
    top2 = np.sort(proba, axis=1)[:, -2:]
    np.testing.assert_allclose(proxy.transform(X_pool).ravel(), 1 - (top2[:, 1] - top2[:, 0]),
                               atol=1e-6)


def test_sparse_pool_gives_the_dense_ranking(blobs):
    X, y, X_pool = blobs
    meta = ProxyPrefilter(EntropySampling(LogisticRegression()), n_candidates=20).fit(X, y)
    np.testing.assert_array_equal(meta.rank(sp.csr_matrix(X_pool)), meta.rank(X_pool))
    with pytest.raises(TypeError, match="[Ss]parse"):
        SubsetSampling(BADGE(LogisticRegression())).fit(sp.csr_matrix(X), y)


def test_clone_and_pickle_keep_the_ranking(blobs):
    X, y, X_pool = blobs
    for strategy in CONTRACT:
        fitted = clone(strategy).fit(X, y)
        again = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(again.rank(X_pool), fitted.rank(X_pool))
        assert repr(clone(strategy)) == repr(strategy)


def test_nested_params():
    meta = SubsetSampling(BADGE(init="random"), n_candidates=10)
    params = meta.get_params()
    assert params["strategy__init"] == "random" and params["n_candidates"] == 10
    meta.set_params(strategy__random_state=3, n_candidates=20)
    assert meta.strategy.random_state == 3 and meta.n_candidates == 20


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize("Meta", [SubsetSampling, ProxyPrefilter])
def test_batch_larger_than_n_candidates(Meta, blobs):
    X, y, X_pool = blobs
    meta = Meta(EntropySampling(LogisticRegression()), n_candidates=3).fit(X, y)
    with pytest.raises(ValueError, match=r"batch_size=5 is larger than n_candidates=3"):
        meta.query(X_pool, batch_size=5)
    assert meta.query(X_pool, batch_size=3).shape == (3,)
    assert unique_permutation(meta.rank(X_pool), len(X_pool))  # rank still orders it all


@pytest.mark.parametrize("meta", [
    ProxyPrefilter(EntropySampling(LogisticRegression()), proxy="variance"),
    SubsetSampling(EntropySampling(LogisticRegression()), n_candidates=0),
    ProxyPrefilter(EntropySampling(LogisticRegression()), n_candidates=2.5),
    PartitionedStrategy(EntropySampling(LogisticRegression()), n_partitions=0),
    PartitionedStrategy(LogisticRegression()),
], ids=["proxy", "n_candidates", "float-n_candidates", "n_partitions", "not-strategy"])
def test_invalid_params(meta, blobs):
    X, y, X_pool = blobs
    with pytest.raises(InvalidParameterError):
        clone(meta, safe=False).fit(X, y)


def test_invalid_proxy_with_prefit_raises_at_query(fitted_logreg, blobs):
    _, _, X_pool = blobs
    meta = ProxyPrefilter(EntropySampling(), proxy="Entropy", estimator=fitted_logreg,
                          prefit=True)
    with pytest.raises(InvalidParameterError, match="proxy"):
        meta.query(X_pool, batch_size=2)


def test_not_fitted_and_no_estimator(blobs):
    X, y, X_pool = blobs
    with pytest.raises(NotFittedError):
        SubsetSampling(EntropySampling(LogisticRegression())).query(X_pool, 3)
    with pytest.raises(NotFittedError):
        PartitionedStrategy(BADGE(LogisticRegression())).rank(X_pool)
    with pytest.raises(ValueError, match="no classifier"):
        ProxyPrefilter(BADGE()).fit(X, y)
    # prefit=True on an unfitted estimator: the clear NotFittedError of skal
    with pytest.raises(NotFittedError, match="prefit=True"):
        SubsetSampling(BADGE(), estimator=LogisticRegression(), prefit=True).rank(X_pool)


def test_inner_strategy_requirements_are_checked(blobs):
    X, y, _ = blobs
    with pytest.raises(EmbeddingError, match="BADGE needs an embedding"):
        SubsetSampling(BADGE(), estimator=TableClassifier(TABLE)).fit(X, y)
    with pytest.raises(EmbeddingError, match="ProxyPrefilter"):
        ProxyPrefilter(RandomSampling(), estimator=LinearSVC()).fit(X, y)


def test_inner_strategy_needing_no_estimator(blobs):
    X, _, X_pool = blobs
    for meta in (SubsetSampling(RandomSampling(), n_candidates=10, random_state=0),
                 PartitionedStrategy(RandomSampling(), random_state=0)):
        fitted = meta.fit(X)  # no y, no estimator
        assert fitted.estimator_ is None
        assert unique_permutation(fitted.rank(X_pool), len(X_pool))


# --------------------------------------------------------------------------
# in the ActiveLearner and GridSearchCV
# --------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", [
    SubsetSampling(BADGE(), n_candidates=50),
    ProxyPrefilter(BADGE(), proxy="entropy", n_candidates=50),
    PartitionedStrategy(BADGE(), n_partitions=3),
    PartitionedStrategy(CoreSet(), n_partitions=2),
], ids=lambda s: f"{type(s).__name__}-{type(s.strategy).__name__}")
def test_active_learner_end_to_end(strategy, digits_small):
    X_lab, y_lab, X_pool, y_pool = digits_small
    X, y = np.r_[X_lab, X_pool], np.r_[y_lab, y_pool]

    def run():
        return ActiveLearner(LogisticRegression(max_iter=300), strategy, batch_size=20,
                             initial_size=30, budget=90,
                             random_state=0).fit(X, y)

    first, second = run(), run()
    assert first.history_["n_labeled"].tolist() == [30, 50, 70, 90]
    assert len(set(first.labeled_indices_.tolist())) == 90
    # reproducible: the learner seeds the meta-strategy, which seeds BADGE inside
    np.testing.assert_array_equal(first.labeled_indices_, second.labeled_indices_)
    # the final strategy: estimator and labeled set handed down to the inner clone
    final = first.strategy_
    assert final.estimator_ is first.estimator_
    assert final.strategy_.estimator is first.estimator_
    if isinstance(final.strategy, CoreSet):
        assert len(final.strategy_.X_labeled_) == 90
    # real labeling: picks are unlabeled rows of X
    y_known = np.full(len(y), -1)
    y_known[:60] = y[:60]
    learner = ActiveLearner(LogisticRegression(max_iter=300), strategy,
                            random_state=0).fit(X, y_known)
    picks = learner.query(X, y_known, batch_size=15)
    assert len(set(picks.tolist())) == 15 and np.all(picks >= 60)


def test_grid_search_over_nested_params(digits_small):
    X_lab, y_lab, X_pool, y_pool = digits_small
    X, y = np.r_[X_lab, X_pool], np.r_[y_lab, y_pool]
    learner = ActiveLearner(LogisticRegression(max_iter=300),
                            SubsetSampling(BADGE(), n_candidates=40),
                            batch_size=20, initial_size=20, budget=60, random_state=0)
    search = GridSearchCV(learner, {
        "strategy__n_candidates": [20, 80],
        "strategy__strategy__random_state": [0, None],
        "strategy__random_state": [1, None],
    }, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 8
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_
    assert best.strategy.n_candidates in (20, 80)
    assert isinstance(best.strategy_, SubsetSampling)
    # the grid reached the meta-strategy and the inner one
    final = best.strategy_
    assert final.n_candidates == search.best_params_["strategy__n_candidates"]
    assert final.strategy.random_state == search.best_params_["strategy__strategy__random_state"]
    seen = {p["strategy__strategy__random_state"] for p in search.cv_results_["params"]}
    assert seen == {0, None}
