"""TypiClust: the most typical sample of each uncovered k-means cluster."""

import heapq
from numbers import Integral

import numpy as np
from sklearn.metrics import pairwise_distances_argmin
from sklearn.neighbors import NearestNeighbors

from ..selection import BaseRanking
from ..utils._docstring import Substitution
from ..utils._sklearn_compat import Interval, StrOptions
from ._kmeans import _seeded_kmeans
from ..base import _KMEANSPP_METHOD_DOC, BaseRepresentationStrategy
from ._representation import _LABELED_SET_DOC, _REPRESENTATION_PARAMS_DOC

__all__ = ["TypiClust"]


@Substitution(
    representation_params=_REPRESENTATION_PARAMS_DOC, labeled_set=_LABELED_SET_DOC,
    method=_KMEANSPP_METHOD_DOC,
)
class TypiClust(BaseRepresentationStrategy):
    """Choose the most typical sample of each cluster that holds no labeled sample.

    TypiClust (Hacohen, Dekel and Weinshall, 2022) is made for low budgets,
    where labeling *typical* samples beats labeling uncertain ones. Labeled
    set and pool are clustered together by k-means into ``n_labeled +
    n_new_clusters`` clusters (at most ``max_clusters``); the first picks are
    the most typical pool sample of each cluster, clusters without a labeled
    sample first, largest first. Typicality is the inverse of the mean
    distance to the ``n_neighbors`` nearest pool samples of the same
    cluster: a sample in a dense region. Needs no labels: with none, it
    chooses a first labeled set (``ActiveLearner``'s ``initial_strategy``).

    Parameters
    ----------
    %(representation_params)s

    n_new_clusters : int, default=100
        Clusters beyond the labeled set: k-means makes ``min(n_labeled +
        n_new_clusters, max_clusters)`` clusters (at most the number of
        samples), so that about ``n_new_clusters`` of them hold no labeled
        sample. Set it to your batch size for the method of the paper (``|L|
        + B`` clusters); it is a parameter, not the batch size, so that
        ``query(X, k)`` is always the first ``k`` of ``rank(X)``.

    max_clusters : int or None, default=500
        Most clusters k-means makes (the paper's code: 500); ``None`` for no
        cap.

    n_neighbors : int, default=20
        ``K`` of the typicality: the number of nearest pool samples of the same
        cluster whose mean distance it inverts (the paper: 20). Clusters of
        fewer than ``2 K`` pool samples use ``⌊m / 2⌋`` of their ``m``, as
        the paper's code does.

    min_cluster_size : int, default=6
        Clusters of fewer samples (labeled and pool together) come after all
        the others: the paper's code never picks from clusters of 5 samples
        or fewer (outliers). ``1`` treats every cluster alike.

    %(method)s

    random_state : int, RandomState instance or None, default=None
        Seed of the k-means++ seeding of k-means; the rest is deterministic.

    Attributes
    ----------
    estimator_ : estimator object or None
        The fitted estimator (``estimator`` itself when ``prefit=True``);
        None when no estimator is used.

    X_labeled_ : array-like of shape (n_labeled, ...) or None
        The labeled set given to ``fit`` with its labels; None after
        ``fit(X)`` without labels.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    ProbCover : The same authors' covering strategy for low budgets.
    KMeansSampling : Nearest samples to k-means centers of the pool alone.
    FacilityLocationSampling : Representative samples, without a labeled set.

    Notes
    -----
    %(labeled_set)s

    **The ranking.** Each cluster's pool samples are ordered by decreasing
    typicality (ties to the lower index). Clusters are ordered by increasing
    number of labeled samples, then decreasing size (labeled and pool
    samples), then cluster label; clusters smaller than
    ``min_cluster_size`` go after all the others. ``rank`` is round-robin
    over that order: round ``r`` takes the ``r``-th most typical sample of
    every cluster that still has one, and the small clusters follow once
    the others are exhausted. So the first picks are one per uncovered
    cluster, largest first, exactly as the paper selects a batch; the picks
    after one per cluster go on in the same cycle.

    **Typicality** is ``1 / mean ‖x − x_i‖`` over the ``K`` nearest other pool
    samples ``x_i`` of the cluster (Euclidean distance, as the paper defines
    it; the paper's code uses squared distances and adds ``1e-5``), with
    ``K = min(n_neighbors, ⌊m / 2⌋)`` for a cluster of ``m`` pool samples; a
    cluster of one pool sample gives it typicality 0. It is computed once
    per ranking; the paper's code recomputes it among the samples not yet
    picked before a second pick from the same cluster, which gives the same
    first pick of every cluster.

    ``lazy_rank(X).add(X_new)`` assigns each new sample to its nearest
    k-means center; it joins that cluster's order with its typicality among
    the cluster's pool samples (the new one included in ``m``). Centers,
    the cluster order and earlier typicalities stay as they were. The
    ranking keeps the pool's representation for that (``4 n d`` bytes).

    k-means runs on labeled set and pool together, as in the paper (that is
    what ``n_labeled + n_new_clusters`` counts): k-means++ seeding by skal's
    engine (:func:`~skal.selection.kmeans_plusplus_ordering`), then Lloyd's
    iterations (:class:`sklearn.cluster.KMeans`, one initialization). Cost:
    one representation pass over labeled set and pool, k-means
    ``O(n_iter · N · n_clusters · d)`` for ``N`` samples of ``d``
    dimensions, and the typicality ``O(Σ m_c² d)`` over the clusters (each
    by :class:`sklearn.neighbors.NearestNeighbors`, in chunks: no
    ``m_c × m_c`` matrix is held whole).

    References
    ----------
    .. [1] G. Hacohen, A. Dekel and D. Weinshall, "Active Learning on a
       Budget: Opposite Strategies Suit High and Low Budgets", ICML 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from skal import TypiClust
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal(8, 1, (20, 2))])
    >>> strategy = TypiClust(n_new_clusters=2, random_state=0).fit(X)  # no labels
    >>> picks = strategy.query(X, batch_size=2)  # one typical sample per blob
    >>> sorted(int(i >= 30) for i in picks)
    [0, 1]
    """

    _aliases = ("typiclust",)

    _parameter_constraints = {
        **BaseRepresentationStrategy._parameter_constraints,
        "n_new_clusters": [Interval(Integral, 1, None, closed="left")],
        "max_clusters": [Interval(Integral, 1, None, closed="left"), None],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "min_cluster_size": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"auto", "lazy", "scan"})],
    }

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        embedding="auto",
        n_new_clusters=100,
        max_clusters=500,
        n_neighbors=20,
        min_cluster_size=6,
        method="auto",
        random_state=None,
    ):
        super().__init__(estimator=estimator, prefit=prefit)
        self.embedding = embedding
        self.n_new_clusters = n_new_clusters
        self.max_clusters = max_clusters
        self.n_neighbors = n_neighbors
        self.min_cluster_size = min_cluster_size
        self.method = method
        self.random_state = random_state

    def _ranking(self, points, estimator):
        points = np.asarray(points, dtype=np.float32)
        labeled = self._labeled_points(estimator)
        n_labeled = 0 if labeled is None else len(labeled)
        Z = points if labeled is None else np.vstack([points, labeled])
        n_clusters = n_labeled + self.n_new_clusters
        if self.max_clusters is not None:
            n_clusters = min(n_clusters, self.max_clusters)
        kmeans = _seeded_kmeans(Z, min(n_clusters, len(Z)), self.random_state,
                                method=self.method)
        return _TypiClustRanking(
            points,
            kmeans.labels_,
            kmeans.cluster_centers_,
            n_neighbors=self.n_neighbors,
            min_cluster_size=self.min_cluster_size,
        )


def _mean_knn_distance(Z, n_neighbors):
    """Mean Euclidean distance of each row of ``Z`` to its ``K`` nearest other rows.

    ``K = min(n_neighbors, ⌊m / 2⌋)`` for ``m`` rows; ``inf`` for a single row.
    """
    m = len(Z)
    k = min(n_neighbors, m // 2)
    if k == 0:
        return np.full(m, np.inf)
    # kneighbors() without X leaves each row out of its own neighbors
    distances, _ = NearestNeighbors(n_neighbors=k).fit(Z).kneighbors()
    return distances.mean(axis=1)


def _typiclust_order(labels, n_pool, n_clusters, min_cluster_size):
    """The cluster order of TypiClust.

    ``labels[:n_pool]`` are the pool's clusters, the rest the labeled set's.
    Returns ``(order, n_first)``: ``order`` lists the clusters, the first
    ``n_first`` of them the clusters of at least ``min_cluster_size`` samples;
    clusters without a labeled sample first, then larger first.
    """
    labels = np.asarray(labels)
    sizes = np.bincount(labels, minlength=n_clusters)
    existing = np.bincount(labels[n_pool:], minlength=n_clusters)
    small = sizes < min_cluster_size
    order = np.lexsort((np.arange(n_clusters), -sizes, existing, small))
    return order, int(np.count_nonzero(~small))


class _TypiClustRanking(BaseRanking):
    """Round-robin over the clusters in TypiClust's order, most typical first in each."""

    def __init__(self, points, labels, centers, n_neighbors, min_cluster_size):
        n_pool = len(points)
        n_clusters = len(centers)
        order, n_first = _typiclust_order(labels, n_pool, n_clusters, min_cluster_size)
        self._points = np.asarray(points, dtype=np.float32)
        self._centers = np.asarray(centers)
        self._n_neighbors = n_neighbors
        pool_labels = np.asarray(labels[:n_pool])
        self._members = [[] for _ in range(n_clusters)]
        for i, label in enumerate(pool_labels.tolist()):
            self._members[label].append(i)
        # A cluster's typicality (a k-NN search among its pool samples) is computed
        # when the round-robin first reaches it: a batch needs only its clusters.
        # Samples added before then wait in the heap; the pop order is that of
        # (key, index) either way.
        self._initial = [np.array(m, dtype=np.intp) for m in self._members]
        self._typical = np.zeros(n_clusters, dtype=bool)
        self._heaps = [[] for _ in range(n_clusters)]
        # tiers: the clusters of at least min_cluster_size samples, then the rest
        self._tiers = [order[:n_first].tolist(), order[n_first:].tolist()]
        self._tier_of = np.empty(n_clusters, dtype=np.intp)
        self._tier_of[order[:n_first]] = 0
        self._tier_of[order[n_first:]] = 1
        self._left = [
            sum(len(self._members[c]) for c in tier) for tier in self._tiers
        ]
        self._position = [0, 0]  # next cluster of each tier's round-robin cycle
        super().__init__(n_pool)

    def _take(self, k):
        out = []
        while len(out) < k:
            t = 0 if self._left[0] else 1
            tier = self._tiers[t]
            heap = self._heap(tier[self._position[t]])
            self._position[t] = (self._position[t] + 1) % len(tier)
            if heap:
                out.append(heapq.heappop(heap)[1])
                self._left[t] -= 1
        return out

    def _heap(self, cluster):
        """The cluster's queue, most typical first (its typicality computed once)."""
        heap = self._heaps[cluster]
        if not self._typical[cluster]:
            self._typical[cluster] = True
            members = self._initial[cluster]
            if members.size:
                keys = _mean_knn_distance(
                    np.asarray(self._points[members], dtype=np.float64), self._n_neighbors
                )
                heap.extend(zip(keys.tolist(), members.tolist()))
                heapq.heapify(heap)
            self._initial[cluster] = None
        return heap

    def _add(self, points):
        """Add points (representations): each joins its nearest center's cluster."""
        points = np.asarray(points, dtype=np.float32)
        if points.ndim != 2 or points.shape[1] != self._points.shape[1]:
            raise ValueError(
                f"New points must be representations with {self._points.shape[1]} "
                f"columns, like the pool; got shape {points.shape}."
            )
        labels = pairwise_distances_argmin(
            points.astype(np.float64), self._centers.astype(np.float64)
        )
        start = self.n_points
        self._points = np.vstack([self._points, points])
        for offset, label in enumerate(labels.tolist()):
            i = start + offset
            members = self._members[label]
            m = len(members) + 1
            k = min(self._n_neighbors, m // 2)
            if k == 0:
                key = np.inf
            else:
                d = np.linalg.norm(
                    self._points[members].astype(np.float64)
                    - self._points[i].astype(np.float64),
                    axis=1,
                )
                key = float(np.sort(d)[:k].mean())
            members.append(i)
            heapq.heappush(self._heaps[label], (key, i))
            self._left[self._tier_of[label]] += 1
        return len(points)
