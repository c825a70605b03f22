"""KMeansSampling and KMeansPlusPlusSampling against slow references."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression

from skal.embeddings import penultimate_embedding
from skal.selection import kmeans_plusplus_ordering
from skal.strategies._kmeans import KMeansPlusPlusSampling, KMeansSampling


def _reference_round_robin(Z, n_clusters, random_state):
    """DISTIL's nearest-to-center picks, then round-robin, written the obvious way."""
    Z32 = Z.astype(np.float32)
    seeds = kmeans_plusplus_ordering(Z32, n_clusters, init="random", random_state=random_state)
    km = KMeans(n_clusters=n_clusters, init=Z32[seeds], n_init=1).fit(Z32)
    centers = km.cluster_centers_.astype(np.float64)
    members = []
    for c in range(n_clusters):
        idx = [i for i in range(len(Z)) if km.labels_[i] == c]
        dist = [float(np.sum((Z[i].astype(np.float64) - centers[c]) ** 2)) for i in idx]
        members.append([i for _, i in sorted(zip(dist, idx))])
    order = sorted(range(n_clusters), key=lambda c: (-len(members[c]), c))
    ranking = []
    for r in range(max(len(m) for m in members)):
        for c in order:
            if r < len(members[c]):
                ranking.append(members[c][r])
    return np.array(ranking)


@pytest.fixture(scope="module")
def lin(blobs):
    X, y, X_pool = blobs
    return LogisticRegression().fit(X, y), X_pool


@pytest.mark.parametrize("n_clusters", [1, 3, 7, 100])
def test_kmeans_sampling_matches_reference(lin, n_clusters):
    clf, X_pool = lin
    strategy = KMeansSampling(clf, prefit=True, n_clusters=n_clusters, random_state=0)
    expected = _reference_round_robin(X_pool, min(n_clusters, len(X_pool)), 0)
    np.testing.assert_array_equal(strategy.rank(X_pool), expected)


def test_kmeans_sampling_first_picks_are_nearest_to_each_center(lin):
    clf, X_pool = lin
    k = 5
    picks = KMeansSampling(clf, prefit=True, n_clusters=k, random_state=1).query(X_pool, k)
    seeds = kmeans_plusplus_ordering(X_pool, k, init="random", random_state=1)
    km = KMeans(n_clusters=k, init=X_pool[seeds], n_init=1).fit(X_pool)
    nearest = {
        int(np.argmin(((X_pool - c) ** 2).sum(1) + np.where(km.labels_ == j, 0, np.inf)))
        for j, c in enumerate(km.cluster_centers_)
    }
    assert set(picks.tolist()) == nearest


def test_kmeans_sampling_hand_case():
    X = np.array([[0.0], [0.1], [0.2], [0.6], [10.0], [10.1], [10.5]])
    clf = LogisticRegression().fit(X, [0, 0, 0, 0, 1, 1, 1])
    ranking = KMeansSampling(clf, prefit=True, n_clusters=2, random_state=0).rank(X)
    # cluster {0, .1, .2, .6} (center .225) then {10, 10.1, 10.5} (center 10.2)
    np.testing.assert_array_equal(ranking, [2, 5, 1, 4, 0, 6, 3])


def test_kmeans_sampling_lazy_add_joins_nearest_cluster():
    X = np.array([[0.0], [0.1], [0.2], [0.6], [10.0], [10.1], [10.5]])
    clf = LogisticRegression().fit(X, [0, 0, 0, 0, 1, 1, 1])
    strategy = KMeansSampling(clf, prefit=True, n_clusters=2, random_state=0)
    ranking = strategy.lazy_rank(X)
    assert ranking.take(2).tolist() == [2, 5]
    # 10.19 is nearer to the second center than anything left in it
    assert ranking.add(np.array([[10.19], [0.25]])).tolist() == [7, 8]
    assert ranking.take(4).tolist() == [8, 7, 1, 4]
    assert sorted(ranking.take(10).tolist() + [2, 5, 8, 7, 1, 4]) == list(range(9))
    assert next(iter(ranking), None) is None


def test_kmeans_sampling_skorch(fitted_net, digits):
    _, _, X_pool, _ = digits
    strategy = KMeansSampling(fitted_net, prefit=True, n_clusters=10, random_state=0)
    Z = penultimate_embedding(fitted_net, X_pool)
    np.testing.assert_array_equal(strategy.rank(X_pool), _reference_round_robin(Z, 10, 0))


def test_kmeanspp_sampling_is_the_engine_on_penultimate_embeddings(fitted_net, digits):
    _, _, X_pool, _ = digits
    Z = penultimate_embedding(fitted_net, X_pool)
    for init in ("random", "largest_norm"):
        strategy = KMeansPlusPlusSampling(
            fitted_net, prefit=True, init=init, random_state=3
        )
        np.testing.assert_array_equal(
            strategy.rank(X_pool),
            kmeans_plusplus_ordering(Z, init=init, random_state=3),
        )
        # the picks spread over the embedding: the first 10 are distinct points
        # of the pool farther apart than random ones on average
        picks = strategy.query(X_pool, 10)
        d = lambda idx: np.mean(  # noqa: E731
            [np.linalg.norm(Z[a] - Z[b]) for a in idx for b in idx if a < b]
        )
        rand = np.random.RandomState(0).choice(len(Z), 10, replace=False)
        assert d(picks) > d(rand)


def test_kmeanspp_sampling_largest_norm_first(lin):
    clf, X_pool = lin
    first = KMeansPlusPlusSampling(clf, prefit=True, init="largest_norm").query(X_pool, 1)
    assert first[0] == np.argmax(np.linalg.norm(X_pool, axis=1))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_clusters": 0}, "n_clusters"),
        ({"n_clusters": 2.5}, "n_clusters"),
    ],
)
def test_kmeans_sampling_bad_params(lin, params, match):
    clf, X_pool = lin
    with pytest.raises(ValueError, match=match):
        KMeansSampling(clf, prefit=True, **params).query(X_pool, 2)


def test_kmeanspp_bad_init(lin):
    clf, X_pool = lin
    with pytest.raises(ValueError, match="init"):
        KMeansPlusPlusSampling(clf, prefit=True, init="kmeans").query(X_pool, 2)


def test_estimator_without_embedding_gets_a_clear_error(blobs):
    from sklearn.ensemble import RandomForestClassifier

    from skal.exceptions import EmbeddingError

    X, y, X_pool = blobs
    for Strategy in (KMeansSampling, KMeansPlusPlusSampling):
        with pytest.raises(EmbeddingError, match="RandomForestClassifier"):
            Strategy(RandomForestClassifier(n_estimators=3)).fit(X, y)


def test_clone_keeps_params():
    s = KMeansSampling(n_clusters=7, random_state=2)
    assert clone(s).get_params()["n_clusters"] == 7


def test_kmeans_sampling_seeds_on_its_device(blobs):
    # device is not ignored: the k-means++ seeding runs in the engine on it
    # (here: CUDA asked for, none available, so the engine says it falls back)
    import torch

    from skal.exceptions import DeviceWarning

    if torch.cuda.is_available():
        pytest.skip("the fallback warning needs a machine without CUDA")
    X, y, X_pool = blobs
    cpu = KMeansSampling(LogisticRegression(), n_clusters=4, random_state=0).fit(X, y)
    cuda = clone(cpu).set_params(device="cuda").fit(X, y)
    with pytest.warns(DeviceWarning, match="CUDA is not available"):
        picks = cuda.query(X_pool, batch_size=8)
    np.testing.assert_array_equal(picks, cpu.query(X_pool, batch_size=8))
