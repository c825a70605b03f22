"""Diversity-only baselines on penultimate embeddings: k-means and k-means++ sampling."""

import heapq
from numbers import Integral

import numpy as np
from sklearn.cluster import KMeans

from ..base import (
    _DEVICE_DOC,
    _KMEANSPP_METHOD_DOC,
    _LAYER_DOC,
    _SHARED_PARAMS_DOC,
    BaseEmbeddingStrategy,
)
from ..selection import BaseRanking, KMeansPlusPlusRanking, kmeans_plusplus_ordering
from ..utils._docstring import Substitution
from ..utils._sklearn_compat import Interval, StrOptions

__all__ = ["KMeansPlusPlusSampling", "KMeansSampling"]

@Substitution(shared_params=_SHARED_PARAMS_DOC, layer=_LAYER_DOC, method=_KMEANSPP_METHOD_DOC)
class KMeansSampling(BaseEmbeddingStrategy):
    """Choose the samples nearest to the k-means centers of the pool's embeddings.

    The pool's penultimate embeddings are clustered by k-means into
    ``n_clusters`` clusters; the first ``n_clusters`` picks are the sample
    nearest to each center (largest cluster first). This is DISTIL's
    ``KMeansSampling`` (Beck et al., 2021) when ``n_clusters`` equals the
    batch size: a diversity-only baseline that ignores uncertainty.

    Parameters
    ----------
    %(shared_params)s

    n_clusters : int, default=100
        Number of k-means clusters (clipped to the pool size). Set it to your
        batch size for the method of the paper; it is a parameter, not the
        batch size, so that ``query(X, k)`` is always the first ``k`` of
        ``rank(X)``.

    %(layer)s

    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where the k-means++ seeding of the centers runs (skal's engine, as
        for :class:`KMeansPlusPlusSampling`); Lloyd's iterations then run on
        the CPU (:class:`sklearn.cluster.KMeans`), and the estimator's
        forward pass on the estimator's own device. ``"cuda"`` without a GPU
        falls back to the CPU with a :class:`~skal.exceptions.DeviceWarning`.

    %(method)s

    random_state : int, RandomState instance or None, default=None
        Seed of the k-means++ seeding that initializes k-means.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator (``estimator`` itself when ``prefit=True``).

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    KMeansPlusPlusSampling : K-means++ seeding on the same embeddings, no Lloyd steps.
    CoreSet : K-center greedy, covering the pool from the labeled set.
    BADGE : K-means++ on gradient embeddings (uncertainty and diversity).

    Notes
    -----
    The full ranking is round-robin over the clusters: clusters in order of
    decreasing size (ties to the lower cluster label), and within each
    cluster the samples by increasing distance to its center (ties to the
    lower index). Round ``r`` takes the ``r``-th nearest sample of every
    cluster that still has one. ``lazy_rank(X).add(X_new)`` assigns new
    samples to their nearest center; they join that cluster's queue, and the
    centers do not move.

    k-means starts from k-means++ seeding by skal's exact engine (one
    initialization), then runs Lloyd's iterations with
    :class:`sklearn.cluster.KMeans` (its default iteration cap and
    tolerance); scikit-learn's own greedy k-means++ seeding cost more than
    the iterations on the 60,000-image benchmark pool. Cost: one forward pass plus k-means, ``O(n_iter · n · n_clusters · H)``,
    and ``O(n log n)`` for the ordering.

    References
    ----------
    .. [1] N. Beck, D. Sivasubramanian, A. Dani, G. Ramakrishnan and R. Iyer,
       "Effective Evaluation of Deep Active Learning on Image Classification
       Tasks", arXiv:2106.15324, 2021 (DISTIL).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import KMeansSampling
    >>> X = np.array([[0.0], [0.1], [0.2], [0.6], [10.0], [10.1], [10.5]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 0, 0, 1, 1, 1])
    >>> strategy = KMeansSampling(clf, prefit=True, n_clusters=2, random_state=0)
    >>> strategy.query(X, batch_size=2)  # nearest to each center, largest cluster first
    array([2, 5])
    """

    _aliases = ("kmeans",)
    _serves_regression = True  # clusters in the embedding only

    _parameter_constraints = {
        **BaseEmbeddingStrategy._parameter_constraints,
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"auto", "lazy", "scan"})],
    }

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        n_clusters=100,
        layer=None,
        device="cpu",
        method="auto",
        random_state=None,
    ):
        super().__init__(
            estimator=estimator,
            prefit=prefit,
            layer=layer,
            device=device,
            random_state=random_state,
        )
        self.n_clusters = n_clusters
        self.method = method

    def _ranking(self, points, estimator):
        points = np.asarray(points, dtype=np.float32)
        kmeans = _seeded_kmeans(points, min(self.n_clusters, len(points)),
                                self.random_state, self.device, method=self.method)
        return _ClusterRoundRobin(points, kmeans.cluster_centers_, kmeans.labels_)


def _seeded_kmeans(points, n_clusters, random_state, device="cpu", *, method="auto"):
    """A fitted ``KMeans``: k-means++ seeding by skal's engine, then Lloyd's iterations.

    The seeding is skal's exact D² sampling (one uniform draw per center from
    ``random_state``), so the clusters depend only on the seed, not on
    scikit-learn's greedy local trials.
    """
    seeds = kmeans_plusplus_ordering(
        points, n_clusters, init="random", random_state=random_state, device=device,
        method=method,
    )
    return KMeans(n_clusters=n_clusters, init=points[seeds], n_init=1).fit(points)


def _nearest_center(points, centers):
    """Label of the nearest center and the squared distance to it (float64)."""
    points = np.asarray(points, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    d2 = (
        (points**2).sum(1)[:, None]
        - 2.0 * points @ centers.T
        + (centers**2).sum(1)[None, :]
    )
    labels = np.argmin(d2, axis=1)
    return labels, np.maximum(d2[np.arange(len(points)), labels], 0.0)


class _ClusterRoundRobin(BaseRanking):
    """Round-robin over clusters (largest first), nearest-to-center first within each."""

    def __init__(self, points, centers, labels):
        self._centers = np.asarray(centers, dtype=np.float64)
        n_clusters = len(self._centers)
        # distances to the *assigned* center, recomputed in float64 so that the
        # order does not depend on KMeans' internal rounding
        diff = np.asarray(points, dtype=np.float64) - self._centers[labels]
        d2 = np.einsum("ij,ij->i", diff, diff)
        sizes = np.bincount(labels, minlength=n_clusters)
        self._cluster_order = np.lexsort((np.arange(n_clusters), -sizes))
        self._heaps = [[] for _ in range(n_clusters)]
        for i, (label, dist) in enumerate(zip(labels.tolist(), d2.tolist())):
            self._heaps[label].append((dist, i))
        for heap in self._heaps:
            heapq.heapify(heap)
        self._position = 0  # next cluster in the round-robin cycle
        super().__init__(len(labels))

    def _take(self, k):
        out = []
        n_clusters = len(self._cluster_order)
        while len(out) < k:
            heap = self._heaps[self._cluster_order[self._position]]
            self._position = (self._position + 1) % n_clusters
            if heap:
                out.append(heapq.heappop(heap)[1])
        return out

    def _add(self, points):
        """Add points (embeddings): each joins its nearest center's queue."""
        points = np.asarray(points)
        if points.ndim != 2 or points.shape[1] != self._centers.shape[1]:
            raise ValueError(
                f"New points must be embeddings with {self._centers.shape[1]} "
                f"columns, like the pool; got shape {points.shape}."
            )
        labels, d2 = _nearest_center(points, self._centers)
        new = range(self.n_points, self.n_points + len(points))
        for label, dist, i in zip(labels.tolist(), d2.tolist(), new):
            heapq.heappush(self._heaps[label], (dist, i))
        return len(points)


@Substitution(
    shared_params=_SHARED_PARAMS_DOC, layer=_LAYER_DOC, device=_DEVICE_DOC,
    method=_KMEANSPP_METHOD_DOC,
)
class KMeansPlusPlusSampling(BaseEmbeddingStrategy):
    """Choose samples by k-means++ seeding on the penultimate embeddings.

    A cheap, diversity-only baseline: BADGE's selection engine on the
    penultimate embedding instead of the gradient embedding, so it ignores
    the model's uncertainty. Each next sample is drawn with probability
    proportional to its squared distance to the nearest sample chosen so far.

    Parameters
    ----------
    %(shared_params)s

    %(layer)s

    init : {"random", "largest_norm"}, default="random"
        First pick: uniformly random (standard k-means++) or the embedding of
        largest norm.

    %(method)s

    %(device)s

    random_state : int, RandomState instance or None, default=None
        Seed of the k-means++ draws.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator (``estimator`` itself when ``prefit=True``).

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    BADGE : The same seeding on gradient embeddings.
    KMeansSampling : Nearest samples to k-means centers.
    skal.selection.kmeans_plusplus_ordering : The engine on arrays.

    Notes
    -----
    The labeled set is not used (use :class:`CoreSet` to cover the pool from
    it). Cost: one forward pass plus ``O(k · n · H)`` for ``k`` picks, with
    exact pruning (see :doc:`/engine`); ``rank`` is ``k = n``.

    References
    ----------
    .. [1] D. Arthur and S. Vassilvitskii, "k-means++: The Advantages of
       Careful Seeding", SODA 2007.
    .. [2] J. T. Ash, C. Zhang, A. Krishnamurthy, J. Langford and A. Agarwal,
       "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower
       Bounds", ICLR 2020 (its k-means++ baseline).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import KMeansPlusPlusSampling
    >>> X = np.array([[0.0], [0.1], [10.0], [10.1]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> picks = KMeansPlusPlusSampling(clf, prefit=True, random_state=0).query(X, 2)
    >>> sorted(int(X[i, 0] > 5) for i in picks)  # one from each group
    [0, 1]
    """

    _aliases = ("kmeans++",)
    _serves_regression = True  # distances in the embedding only

    _parameter_constraints = {
        **BaseEmbeddingStrategy._parameter_constraints,
        "init": [StrOptions({"random", "largest_norm"})],
        "method": [StrOptions({"auto", "lazy", "scan"})],
    }

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        layer=None,
        init="random",
        method="auto",
        device="cpu",
        random_state=None,
    ):
        super().__init__(
            estimator=estimator,
            prefit=prefit,
            layer=layer,
            device=device,
            random_state=random_state,
        )
        self.init = init
        self.method = method

    def _ranking(self, points, estimator):
        return KMeansPlusPlusRanking(
            points, init=self.init, random_state=self.random_state, device=self.device,
            method=self.method,
        )
