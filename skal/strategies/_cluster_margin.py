"""Cluster-Margin: the lowest-margin samples, spread round-robin over HAC clusters."""

from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.metrics import pairwise_distances_argmin, pairwise_distances_chunked
from sklearn.utils import check_random_state

from ..base import _SHARED_PARAMS_DOC, BaseEmbeddingStrategy
from ..embeddings import check_predict_proba, penultimate_embedding, predict_proba
from ..selection import BaseRanking, CandidateRanking
from ..uncertainty import margin_score
from ..utils._data import take
from ..utils._docstring import Substitution
from ..utils._sklearn_compat import Interval

__all__ = ["ClusterMargin"]


class _MarginPoints(NamedTuple):
    """Margin scores of a pool, and the embeddings of its rows ``rows``."""

    scores: np.ndarray
    rows: np.ndarray  # positions embedded: the pool's by decreasing score, added ones all
    embedding: np.ndarray  # (len(rows), n_hidden), row i is the sample rows[i]


def _default_threshold(Z):
    """Mean distance from each row of ``Z`` to its nearest distinct row.

    (A mean, not a median: the median is often the distance of a mutual pair
    of nearest neighbours, that is, exactly a merge height, where rounding
    would decide.)
    """
    if len(Z) < 2:
        return 0.0

    def nearest(D, start):
        D = np.where(D > 0, D, np.inf)
        return D.min(axis=1)

    nearest = np.concatenate(list(pairwise_distances_chunked(Z, reduce_func=nearest)))
    nearest = nearest[np.isfinite(nearest)]
    return float(np.mean(nearest)) if nearest.size else 0.0


def _hac_labels(Z, distance_threshold):
    """Average-linkage HAC of ``Z``: a cluster label per row."""
    if distance_threshold <= 0:  # nothing to merge
        return np.arange(len(Z))
    if len(Z) < 2:
        return np.zeros(len(Z), dtype=np.intp)
    return AgglomerativeClustering(
        n_clusters=None,
        distance_threshold=distance_threshold,
        linkage="average",
        metric="euclidean",
    ).fit_predict(Z)


class _RoundRobin(BaseRanking):
    """Round-robin over clusters in a fixed cycle, members by increasing priority.

    ``cycle[label]`` is the position of each cluster in the cycle; a take
    continues the cycle where the previous one stopped, skipping exhausted
    clusters. Added points join their cluster and are ordered among its
    members not yet yielded by priority.
    """

    def __init__(self, labels, priority, n_clusters):
        self._pos = np.asarray(labels, dtype=np.intp)  # cycle position per point
        self._priority = np.asarray(priority, dtype=np.float64)
        self._m = int(n_clusters)
        self._left = np.ones(len(self._pos), dtype=bool)
        self._cursor = 0
        self._order = self._remaining_order()
        self._next = 0
        super().__init__(len(self._pos))

    def _remaining_order(self):
        left = np.flatnonzero(self._left)
        pos, pri = self._pos[left], self._priority[left]
        by_member = left[np.lexsort((left, pri, pos))]  # cluster, then priority
        pos_sorted = self._pos[by_member]
        starts = np.searchsorted(pos_sorted, pos_sorted, side="left")
        within = np.arange(len(by_member)) - starts  # rank inside its cluster
        turn = (pos_sorted - self._cursor) % self._m
        return by_member[np.lexsort((turn, within))]

    def _take(self, k):
        out = self._order[self._next:self._next + k]
        self._next += len(out)
        self._left[out] = False
        self._cursor = (int(self._pos[out[-1]]) + 1) % self._m
        return out

    def _add(self, points):
        labels, priority = points
        self._pos = np.concatenate([self._pos, np.asarray(labels, dtype=np.intp)])
        self._priority = np.concatenate([self._priority, priority])
        self._left = np.concatenate([self._left, np.ones(len(labels), dtype=bool)])
        self._order, self._next = self._remaining_order(), 0
        return len(labels)


class _ClusterMarginRanking(CandidateRanking):
    """The ``n_margin`` lowest-margin samples round-robin over clusters, then by margin."""

    def __init__(self, points, *, n_margin, max_cluster_samples, distance_threshold,
                 random_state):
        self._max_cluster_samples = max_cluster_samples
        self._distance_threshold = distance_threshold
        self._rng = check_random_state(random_state)
        super().__init__(points, points.scores, n_margin, candidate_order="score")

    def _inner_ranking(self, points, candidates):
        # candidates are the first len(candidates) of points.rows (same order)
        n_clustered = min(self._max_cluster_samples, len(points.rows))
        Z = points.embedding
        threshold = self._distance_threshold
        if threshold is None:
            threshold = _default_threshold(Z[:n_clustered])
        labels = _hac_labels(Z[:n_clustered], threshold)
        if len(candidates) > n_clustered:  # the other candidates: nearest centroid
            centroids = self._centroids(Z[:n_clustered], labels)
            extra = pairwise_distances_argmin(Z[n_clustered:len(candidates)], centroids)
            labels = np.concatenate([labels, extra])
        labels = labels[:len(candidates)]
        # the cycle: clusters by their number of candidates, smallest first; ties
        # to the cluster holding the lower-margin candidate
        used, first, size = np.unique(labels, return_index=True, return_counts=True)
        cycle = used[np.lexsort((first, size))]
        position = np.empty(labels.max() + 1, dtype=np.intp)
        position[cycle] = np.arange(len(cycle))
        self._labels = labels  # HAC label of each candidate
        self._embedding = Z[:len(candidates)]
        self._cycle_centroids = self._centroids(self._embedding, labels)[cycle]
        priority = self._rng.random_sample(len(candidates))
        return _RoundRobin(position[labels], priority, len(cycle))

    @staticmethod
    def _centroids(Z, labels):
        counts = np.bincount(labels)
        sums = np.zeros((len(counts), Z.shape[1]), dtype=np.float64)
        np.add.at(sums, labels, Z)
        return sums / np.maximum(counts, 1)[:, np.newaxis]

    def _add_candidates(self, points, rows):
        Z = points.embedding[rows]
        position = pairwise_distances_argmin(Z, self._cycle_centroids)
        self._inner.add((position, self._rng.random_sample(len(rows))))

    def _scores_of(self, points):
        return points.scores


@Substitution(shared_params=_SHARED_PARAMS_DOC)
class ClusterMargin(BaseEmbeddingStrategy):
    """Cluster-Margin: low-margin samples, round-robin over HAC clusters (Citovsky et al., 2021).

    Built for large batches, where the most uncertain samples are often
    near-duplicates. The ``n_margin`` pool samples with the smallest margin
    between their two most likely classes are the candidates. They are
    grouped by hierarchical agglomerative clustering (average linkage, a
    distance threshold ε) of the penultimate embeddings, and the batch takes
    one candidate from each cluster in turn, smallest cluster first, then a
    second from each cluster that has one, and so on: a batch spreads over
    the clusters instead of piling into one.

    Parameters
    ----------
    %(shared_params)s

    n_margin : int, default=1000
        ``k_m``, the number of lowest-margin candidates (ties to the lower
        index). The paper uses 10 × the batch size; the default is 10 × the
        default batch of 100. Since ``rank`` cannot depend on the batch size,
        it is a parameter: set it to about 10 × your batch size.

    max_cluster_samples : int, default=2000
        How many samples are clustered: the ``max_cluster_samples`` lowest-margin
        pool samples (all of them when the pool is smaller), which include the
        candidates when ``n_margin <= max_cluster_samples``. Candidates beyond
        it join the cluster of the nearest centroid. Average-linkage HAC costs
        ``O(m²)`` memory and time in ``m = max_cluster_samples``.

    distance_threshold : float, default=None
        The threshold ε: clusters whose average-linkage distance is at least ε are not
        merged (scikit-learn's ``AgglomerativeClustering``). ``None`` takes
        the mean, over the clustered samples, of the distance to their
        nearest neighbour among them that is not an exact duplicate: samples
        closer than a typical neighbour (duplicates included) share a cluster.

    layer : str, default=None
        For skorch nets only: the name of the layer whose *input* is the
        embedding. ``None`` means the last ``torch.nn.Linear`` called in the
        forward pass (the penultimate activations).

    random_state : int, RandomState instance or None, default=None
        Seed of the order of the candidates within each cluster (the paper
        picks a random member of each cluster).

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator (``estimator`` itself when ``prefit=True``).

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    MarginSampling : The same candidates, without the clusters.
    BADGE : Uncertainty and diversity at once, for smaller batches.

    Notes
    -----
    What ``rank`` means: the first ``min(n_margin, n_pool)`` positions are the
    candidates, round-robin over their clusters. The clusters are ordered by
    how many candidates they hold, fewest first (ties: the cluster holding
    the lower-margin candidate first); each turn takes the next member of a
    cluster, members in a random order drawn from ``random_state``. The
    remaining positions are the other samples by increasing margin, as
    :class:`MarginSampling` orders them. ``query(X, k)`` is the first ``k`` of
    ``rank(X)``: for ``k <= n_margin`` it is the paper's batch.

    Clustering once: the paper clusters the pool once, before the first
    round. skal strategies keep nothing between rounds (each round fits
    afresh on the current model), so the clustering is redone at each
    ``query``, on the current embeddings, of the ``max_cluster_samples``
    lowest-margin samples rather than the whole pool. Cost: one
    ``predict_proba`` pass over the pool, one embedding pass over
    ``max(n_margin, max_cluster_samples)`` samples, and HAC on
    ``max_cluster_samples`` of them.

    ``lazy_rank(X).add(X_new)``: a new sample becomes a candidate if its
    margin score is above the lowest candidate score of the initial pool; it
    joins the cluster (among those holding candidates) with the nearest
    centroid and takes its turn there by a random priority. The clusters do
    not change. The other new samples join the rest, by margin.
    ``transform`` returns the penultimate embedding.

    References
    ----------
    .. [1] G. Citovsky, G. DeSalvo, C. Gentile, L. Karydas, A. Rajagopalan,
       A. Rostamizadeh and S. Kumar, "Batch Active Learning at Scale",
       NeurIPS 2021.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ClusterMargin
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=200).fit(X[:100], y[:100])
    >>> strategy = ClusterMargin(clf, prefit=True, n_margin=50, random_state=0)
    >>> picks = strategy.query(X[100:], batch_size=5)
    >>> picks.shape
    (5,)
    >>> bool((picks == strategy.rank(X[100:])[:5]).all())
    True
    """

    _aliases = ("cluster-margin", "clustermargin")

    _parameter_constraints = {
        **{k: v for k, v in BaseEmbeddingStrategy._parameter_constraints.items()
           if k != "device"},
        "n_margin": [Interval(Integral, 1, None, closed="left")],
        "max_cluster_samples": [Interval(Integral, 1, None, closed="left")],
        "distance_threshold": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        n_margin=1000,
        max_cluster_samples=2000,
        distance_threshold=None,
        layer=None,
        random_state=None,
    ):
        self.estimator = estimator
        self.prefit = prefit
        self.n_margin = n_margin
        self.max_cluster_samples = max_cluster_samples
        self.distance_threshold = distance_threshold
        self.layer = layer
        self.random_state = random_state

    def _check_estimator(self, estimator):
        super()._check_estimator(estimator)
        check_predict_proba(estimator, purpose="ClusterMargin")

    def _points(self, X, estimator, offset=0):
        scores = margin_score(predict_proba(estimator, X, purpose="ClusterMargin"))
        if offset == 0:  # the pool: embed only the samples that may be clustered
            order = np.argsort(-scores, kind="stable")
            order = order[:max(self.n_margin, self.max_cluster_samples)]
        else:  # added samples: all of them, in their order
            order = np.arange(len(scores))
        rows = np.sort(order)
        Z = np.asarray(penultimate_embedding(estimator, take(X, rows), layer=self.layer),
                       dtype=np.float64)
        where = np.empty(len(scores), dtype=np.intp)
        where[rows] = np.arange(len(rows))
        return _MarginPoints(scores, order, Z[where[order]])

    def _ranking(self, points, estimator):
        return _ClusterMarginRanking(
            points,
            n_margin=self.n_margin,
            max_cluster_samples=self.max_cluster_samples,
            distance_threshold=self.distance_threshold,
            random_state=self.random_state,
        )
