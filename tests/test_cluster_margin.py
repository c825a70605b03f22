"""ClusterMargin against a slow reference written from the paper (Citovsky et al., 2021)."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError

from skal import ClusterMargin, MarginSampling
from skal.exceptions import EmbeddingError
from skal.model_selection import resolve_strategy


def reference_cluster_margin(Z, proba, n_margin, max_cluster_samples, eps, seed):
    """The paper's Cluster-Margin on tiny arrays: margins, naive HAC, round-robin."""
    n = len(proba)
    top2 = np.sort(proba, axis=1)[:, ::-1]
    score = [1.0 - (row[0] - row[1]) for row in top2]
    order = sorted(range(n), key=lambda i: (-score[i], i))
    clustered, candidates = order[:max_cluster_samples], order[:n_margin]

    def dist(i, j):
        return float(np.sqrt(((Z[i] - Z[j]) ** 2).sum()))

    if eps is None:  # mean distance to the nearest distinct clustered sample
        nearest = []
        for i in clustered:
            d = [dist(i, j) for j in clustered if dist(i, j) > 0]
            if d:
                nearest.append(min(d))
        eps = float(np.mean(nearest))
    # average-linkage HAC: merge the closest pair while its distance is below eps
    clusters = [[i] for i in clustered]
    while len(clusters) > 1:
        best = None
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                d = np.mean([dist(i, j) for i in clusters[a] for j in clusters[b]])
                if best is None or d < best[0]:
                    best = (d, a, b)
        if best[0] >= eps:
            break
        _, a, b = best
        clusters[a] = clusters[a] + clusters.pop(b)
    cluster_of = {i: k for k, members in enumerate(clusters) for i in members}
    centroids = [np.mean([Z[i] for i in members], axis=0) for members in clusters]
    for i in candidates:  # candidates that were not clustered: nearest centroid
        if i not in cluster_of:
            cluster_of[i] = int(np.argmin([((Z[i] - c) ** 2).sum() for c in centroids]))
    priority = dict(zip(candidates, np.random.RandomState(seed).random_sample(len(candidates))))
    groups = {}
    for i in candidates:  # in margin order, so groups[k][0] is its lowest margin
        groups.setdefault(cluster_of[i], []).append(i)
    queues = sorted(groups.values(), key=lambda g: (len(g), candidates.index(g[0])))
    queues = [sorted(g, key=lambda i: priority[i]) for g in queues]
    picks = []
    while any(queues):  # one from each cluster in turn, smallest cluster first
        for queue in queues:
            if queue:
                picks.append(queue.pop(0))
    return picks + order[n_margin:]


@pytest.fixture(scope="module")
def setting():
    rng = np.random.RandomState(0)
    centers = rng.randn(4, 3) * 3
    X = np.vstack([c + 0.4 * rng.randn(15, 3) for c in centers])
    y = np.repeat([0, 1, 2, 0], 15)
    clf = LogisticRegression(C=0.1).fit(X, y)
    X_pool = np.vstack([c + 0.6 * rng.randn(12, 3) for c in centers])
    return clf, X_pool


@pytest.mark.parametrize(
    "n_margin, max_cluster_samples, eps",
    [(20, 30, None), (48, 48, None), (25, 30, 1.5), (30, 12, None), (10, 5, 2.0)],
)
def test_rank_matches_reference(setting, n_margin, max_cluster_samples, eps):
    clf, X_pool = setting
    strategy = ClusterMargin(clf, prefit=True, n_margin=n_margin,
                             max_cluster_samples=max_cluster_samples,
                             distance_threshold=eps, random_state=3)
    expected = reference_cluster_margin(X_pool, clf.predict_proba(X_pool), n_margin,
                                        max_cluster_samples, eps, seed=3)
    assert strategy.rank(X_pool).tolist() == expected
    assert strategy.query(X_pool, 7).tolist() == expected[:7]


def test_hand_built_duplicates_spread_over_clusters():
    # three groups on the decision boundary x0 = 0; the first is 6 near-copies of
    # one point, the most uncertain of all: margin piles into it, ClusterMargin
    # takes one of it and one of each other group first
    clf = LogisticRegression().fit(np.array([[-3.0, 0], [3.0, 0]]), [0, 1])
    X = np.array(
        [[0.0, 0.0]] * 6
        + [[0.3, 5.0], [0.35, 5.1]]
        + [[-0.4, -5.0], [-0.45, -5.1], [-0.5, -5.0]]
        + [[4.0, 0.0], [5.0, 0.0]]
    )
    X[:6, 1] += 1e-3 * np.arange(6)
    margin = MarginSampling(clf, prefit=True).rank(X)
    assert set(margin[:3].tolist()) <= set(range(6))
    strategy = ClusterMargin(clf, prefit=True, n_margin=11, distance_threshold=1.0,
                             random_state=0)
    picks = strategy.query(X, 3)
    # smallest cluster first: the pair, then the triple, then the copies
    assert picks[0] in (6, 7) and picks[1] in (8, 9, 10) and picks[2] < 6
    assert strategy.rank(X)[11:].tolist() == [11, 12]  # then by margin


def test_lazy_rank_and_add(setting):
    clf, X_pool = setting
    strategy = ClusterMargin(clf, prefit=True, n_margin=20, random_state=0)
    assert list(strategy.lazy_rank(X_pool)) == strategy.rank(X_pool).tolist()
    ranking = strategy.lazy_rank(X_pool)
    first = ranking.take(5)
    assert first.tolist() == strategy.rank(X_pool)[:5].tolist()
    # a copy of the most uncertain candidate is a candidate: it comes before every
    # sample that is not; a confident sample joins the rest
    most = strategy.rank(X_pool)[0]
    boundary = MarginSampling(clf, prefit=True).rank(X_pool)[0]
    new = ranking.add(np.vstack([X_pool[boundary], X_pool[most] * 0 + 100.0]))
    rest = ranking.take(len(X_pool) + 2)
    order = first.tolist() + rest.tolist()
    assert sorted(order) == list(range(len(X_pool) + 2))
    candidates = set(order[:21])
    assert new[0] in candidates and new[1] not in candidates


def test_same_seed_same_picks_other_seed_other_order(setting):
    clf, X_pool = setting
    a = ClusterMargin(clf, prefit=True, n_margin=30, random_state=0).rank(X_pool)
    b = ClusterMargin(clf, prefit=True, n_margin=30, random_state=0).rank(X_pool)
    c = ClusterMargin(clf, prefit=True, n_margin=30, random_state=1).rank(X_pool)
    assert a.tolist() == b.tolist()
    assert sorted(a[:30].tolist()) == sorted(c[:30].tolist())  # the same candidates
    assert a[30:].tolist() == c[30:].tolist()


def test_pool_smaller_than_n_margin_is_clustered_whole(setting):
    clf, X_pool = setting
    strategy = ClusterMargin(clf, prefit=True, random_state=0)  # n_margin=1000
    expected = reference_cluster_margin(X_pool, clf.predict_proba(X_pool), 1000, 2000,
                                        None, seed=0)
    assert strategy.rank(X_pool).tolist() == expected


def test_alias_and_errors(setting):
    clf, X_pool = setting
    assert isinstance(resolve_strategy("cluster-margin"), ClusterMargin)
    with pytest.raises(InvalidParameterError, match="n_margin"):
        ClusterMargin(clf, prefit=True, n_margin=0).rank(X_pool)
    with pytest.raises(InvalidParameterError, match="distance_threshold"):
        ClusterMargin(clf, prefit=True, distance_threshold=-1.0).rank(X_pool)
    svc = LinearSVC().fit(X_pool, np.arange(len(X_pool)) % 2)
    with pytest.raises(EmbeddingError, match="predict_proba"):
        ClusterMargin(svc, prefit=True).rank(X_pool)
