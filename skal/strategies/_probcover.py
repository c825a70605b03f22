"""ProbCover: greedy maximum coverage of δ-balls."""

import heapq
import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state

from ..selection import BaseRanking
from ..utils._docstring import Substitution
from ..utils._random import draw_seed
from ..utils._sklearn_compat import Interval, StrOptions
from ..base import BaseRepresentationStrategy
from ._representation import _LABELED_SET_DOC, _REPRESENTATION_PARAMS_DOC

__all__ = ["ProbCover"]


# largest block of float64 distances held at once
_BLOCK_BYTES = 64 * 2**20


@Substitution(representation_params=_REPRESENTATION_PARAMS_DOC, labeled_set=_LABELED_SET_DOC)
class ProbCover(BaseRepresentationStrategy):
    """Choose samples whose δ-balls cover the most of what is not yet covered.

    ProbCover (Yehuda, Dekel, Hacohen and Weinshall, 2022) is made for low
    budgets: it maximizes the *probability coverage* of the labeled set, the
    share of samples within distance ``δ`` of a labeled sample. Each next
    pick is the pool sample whose ball ``B(x, δ) = {x' : ‖x − x'‖ < δ}``
    holds the most pool samples not yet covered, the greedy algorithm for
    maximum coverage (within ``1 − 1/e`` of the best set of each size).
    The labeled set's balls are covered from the start. Needs no labels:
    with none, it chooses a first labeled set (``ActiveLearner``'s
    ``initial_strategy``).

    Parameters
    ----------
    %(representation_params)s

    delta : float or "auto", default="auto"
        The ball radius ``δ``, in the representation's Euclidean distance.
        ``"auto"``: the paper's purity heuristic, the largest ``δ`` for which
        at least a share ``alpha`` of the balls are *pure*, i.e. hold samples
        of one k-means cluster only, with one cluster per class (see Notes).

    alpha : float, default=0.95
        The share of pure balls that ``delta="auto"`` keeps (the paper: 0.95).

    n_classes : int or None, default=None
        Number of k-means clusters for ``delta="auto"``: the number of
        classes. ``None``: the estimator's ``classes_`` when it is used, else
        the number of distinct labels given to ``fit``. Needed (or a number
        ``delta``) when neither exists, e.g. as ``initial_strategy``.

    n_candidates : int or None, default=2000
        How many pool samples the greedy coverage picks from (for what
        follows, see ``beyond_candidates``): a uniformly random subsample of
        the pool, drawn with ``random_state`` (all of it when the pool is not
        larger). Their balls still count the
        whole pool, so coverage is exact; only the centers are subsampled.
        ``None`` makes every pool sample a candidate: the paper's algorithm
        exactly, at a cost quadratic in the pool size. See Notes.

    beyond_candidates : {"random", "greedy"}, default="random"
        How the ranking goes on once no candidate's ball holds an uncovered
        sample, while samples that are not candidates still do (only with
        ``n_candidates`` smaller than the pool):

        - ``"random"``: the rest of the pool in a random order, drawn with
          ``random_state``, as after full coverage. Costs nothing more; the
          picks that follow add coverage by chance only.
        - ``"greedy"``: the greedy coverage goes on over every remaining pool
          sample, candidate or not, until the whole pool is covered; then the
          rest in a random order. Each of these picks is the paper's greedy
          step over the whole pool, given the picks before. It costs the
          distances from every pool sample to the samples left uncovered,
          up to those of ``n_candidates=None`` when the candidates covered
          little (see Notes).

        The greedy picks among the candidates come first either way, so a
        batch that the candidates fill is the same.

    random_state : int, RandomState instance or None, default=None
        Seed of the candidate subsample, of the k-means of ``delta="auto"``
        and of the random order of the samples after the greedy picks.

    Attributes
    ----------
    estimator_ : estimator object or None
        The fitted estimator (``estimator`` itself when ``prefit=True``);
        None when no estimator is used.

    X_labeled_ : array-like of shape (n_labeled, ...) or None
        The labeled set given to ``fit`` with its labels; None after
        ``fit(X)`` without labels.

    classes_ : ndarray of shape (n_classes,) or None
        The distinct labels given to ``fit``; None without labels.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    TypiClust : The same authors' typical-sample strategy for low budgets.
    CoreSet : K-center greedy, which minimizes the covering radius instead.
    FacilityLocationSampling : Representative samples by a soft coverage.

    Notes
    -----
    %(labeled_set)s

    **The ranking.** Greedy steps pick the candidate whose ball holds the
    most uncovered pool samples (ties to the lower index); its ball is then
    covered, which removes those samples from every other ball (the graph's
    edges into them). A sample is covered by its own ball, so with
    ``n_candidates=None`` greedy steps go on until the whole pool is
    covered. Then no pick adds coverage, and the rest of the pool follows
    in a random order (the paper: random), drawn with ``random_state``: each
    sample gets a uniform random key and the rest go by increasing key. A
    pick in that random tail covers itself only.

    With fewer candidates than pool samples, the candidates' balls may stop
    adding coverage before the pool is covered: the samples outside every
    candidate's and labeled ball are still uncovered, and each of them, at
    least, would cover itself. ``beyond_candidates="random"`` (the default)
    goes on in the random order there already, so some of the next picks
    add coverage and others add none. ``beyond_candidates="greedy"`` goes on
    with greedy steps over all the remaining pool samples (the ball of the
    sample that holds the most uncovered samples, ties to the lower index),
    until the pool is covered, then in the random order. The paper has no
    candidates (its greedy runs over the whole pool, ``n_candidates=None``);
    ``"greedy"`` gives its picks from that point on, given the candidates'
    picks before.

    ``lazy_rank(X).add(X_new)``: the new samples join the pool as candidates
    and as samples to cover; a new sample is covered if it lies in the ball
    of a labeled sample or of a greedy pick. Gains are updated and the
    greedy steps resume if the new samples left something to cover (over
    the candidates first, then, with ``beyond_candidates="greedy"``, over
    the rest). ``δ`` and the candidate subsample of the initial pool stay.
    The ranking keeps the pool's representation for that (``4 n d`` bytes).

    **The purity heuristic** (``delta="auto"``): labeled set and pool are
    clustered by k-means (:class:`sklearn.cluster.KMeans`) into
    ``n_classes`` clusters. The ball of a sample ``x`` is pure for every
    ``δ`` up to ``d(x)``, its distance to the nearest sample of another
    cluster; the share of pure balls is the share of ``d(x) ≥ δ``. So the
    largest ``δ`` with a share of at least ``alpha`` is found exactly, as an
    order statistic of ``d`` over the balls' centers, with no grid over
    ``δ`` (the paper searches a grid); skal takes one part in a million less,
    so that rounding cannot put the other cluster's sample in the ball. The centers are the candidates: the
    whole pool with ``n_candidates=None``, else the random subsample, an
    unbiased estimate of the share.

    **Cost and memory.** No ``n × n`` matrix is ever built. For ``c``
    candidates, ``n`` pool and ``L`` labeled samples of ``d`` dimensions:
    distances are computed in blocks of at most 64 MiB (float64), in
    ``O(c (n + L) d)`` for the heuristic, ``O(c n d)`` for the graph and
    ``O(L n d)`` for the labeled set's coverage. The graph is a sparse
    matrix holding one edge per (candidate, pool sample) pair closer than
    ``δ``, stored twice (both directions) at 5 bytes an edge (an int32
    index and a bool): ``10 · Σ |B(x, δ)|`` bytes over the candidates.
    A greedy step costs ``O(c)`` plus the edges into the newly covered
    samples. With ``n_candidates=None`` the distances cost ``O(n² d)``.
    ``beyond_candidates="greedy"``, once the candidates stop adding
    coverage with ``u`` samples still uncovered, builds a second graph the
    same way, in ``O(n u d)``: one edge per (pool sample, uncovered sample)
    pair closer than ``δ``, ``10 · Σ |B(x, δ)|`` bytes over the uncovered
    samples, and a step costs ``O(n)`` plus the edges into the newly
    covered samples. It is built again (lazily) after ``add``.

    References
    ----------
    .. [1] O. Yehuda, A. Dekel, G. Hacohen and D. Weinshall, "Active
       Learning Through a Covering Lens", NeurIPS 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from skal import ProbCover
    >>> X = np.array([[0.0], [0.1], [0.2], [0.3], [5.0], [5.1], [9.0]])
    >>> strategy = ProbCover(delta=0.25, random_state=0).fit(X)  # no labels
    >>> strategy.query(X, batch_size=3)  # the densest ball first
    array([1, 4, 6])
    """

    _aliases = ("probcover",)

    _parameter_constraints = {
        **BaseRepresentationStrategy._parameter_constraints,
        "delta": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "alpha": [Interval(Real, 0, 1, closed="right")],
        "n_classes": [Interval(Integral, 2, None, closed="left"), None],
        "n_candidates": [Interval(Integral, 1, None, closed="left"), None],
        "beyond_candidates": [StrOptions({"random", "greedy"})],
    }

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        embedding="auto",
        delta="auto",
        alpha=0.95,
        n_classes=None,
        n_candidates=2000,
        beyond_candidates="random",
        random_state=None,
    ):
        super().__init__(estimator=estimator, prefit=prefit)
        self.embedding = embedding
        self.delta = delta
        self.alpha = alpha
        self.n_classes = n_classes
        self.n_candidates = n_candidates
        self.beyond_candidates = beyond_candidates
        self.random_state = random_state

    def _fit(self, X, y):
        super()._fit(X, y)
        self.classes_ = None if y is None else np.unique(y)

    def _n_classes(self, estimator):
        if self.n_classes is not None:
            return self.n_classes
        classes = getattr(estimator, "classes_", None) if self._uses_estimator() else None
        if classes is None:
            classes = getattr(self, "classes_", None)
        if classes is None:
            raise ValueError(
                "ProbCover(delta='auto') clusters the data into one k-means cluster "
                "per class to choose δ, but the number of classes is unknown: fit "
                "was given no labels and no classifier is used. Pass "
                "n_classes=<number of classes>, or a radius, e.g. delta=0.5."
            )
        if len(classes) < 2:
            raise ValueError(
                f"ProbCover(delta='auto') needs at least 2 classes to choose δ by "
                f"cluster purity; the labels given to fit hold {len(classes)}. Pass "
                "n_classes=<number of classes>, or a radius, e.g. delta=0.5."
            )
        return len(classes)

    def _ranking(self, points, estimator):
        points = np.asarray(points, dtype=np.float32)
        labeled = self._labeled_points(estimator)
        n = len(points)
        rng = check_random_state(self.random_state)
        kmeans_seed, tail_seed = draw_seed(rng, size=2)
        if self.n_candidates is None or n <= self.n_candidates:
            candidates = np.arange(n)
        else:
            candidates = np.sort(rng.permutation(n)[: self.n_candidates])
        delta = self.delta
        if isinstance(delta, str):  # "auto"
            Z = points if labeled is None else np.vstack([points, labeled])
            n_clusters = min(self._n_classes(estimator), len(Z))
            clusters = KMeans(
                n_clusters=n_clusters, n_init=1, random_state=kmeans_seed
            ).fit_predict(Z)
            delta = _purity_delta(Z, clusters, candidates, self.alpha)
        return _ProbCoverRanking(
            points,
            labeled,
            float(delta),
            candidates,
            np.random.RandomState(tail_seed),
            greedy_beyond=self.beyond_candidates == "greedy",
        )


def _distance_blocks(A, B):
    """``(start, d2)``: squared Euclidean distances of row blocks of ``A`` to ``B``.

    float64, each block at most ``_BLOCK_BYTES``; no ``len(A) × len(B)``
    matrix is held whole.
    """
    B = np.asarray(B, dtype=np.float64)
    b_sq = np.einsum("ij,ij->i", B, B)
    rows = max(1, _BLOCK_BYTES // (8 * max(1, len(B))))
    for start in range(0, len(A), rows):
        block = np.asarray(A[start : start + rows], dtype=np.float64)
        d2 = block @ B.T
        d2 *= -2.0
        d2 += np.einsum("ij,ij->i", block, block)[:, None]
        d2 += b_sq[None, :]
        np.maximum(d2, 0.0, out=d2)
        yield start, d2


def _radius_graph(A, B, delta):
    """Sparse ``len(A) × len(B)`` boolean matrix: ``‖A_i − B_j‖ < delta``.

    Built block by block (:func:`_distance_blocks`); CSR with int32 indices.
    """
    delta2 = float(delta) ** 2
    indptr = [np.zeros(1, dtype=np.int64)]
    indices = []
    total = 0
    for _, d2 in _distance_blocks(A, B):
        mask = d2 < delta2
        counts = mask.sum(axis=1)
        indices.append(np.nonzero(mask)[1].astype(np.int32))
        indptr.append(total + np.cumsum(counts))
        total += int(counts.sum())
    indices = np.concatenate(indices) if indices else np.empty(0, dtype=np.int32)
    indptr = np.concatenate(indptr)
    data = np.ones(len(indices), dtype=bool)
    return sp.csr_matrix((data, indices, indptr), shape=(len(A), len(B)))


def _purity_delta(Z, clusters, centers, alpha):
    """The largest δ for which a share ``alpha`` of the balls around ``Z[centers]`` are pure.

    A ball ``{x' : ‖x − x'‖ < δ}`` is pure when all its samples share the
    k-means cluster of ``x``; that holds for every ``δ`` up to the distance
    from ``x`` to the nearest sample of another cluster.
    """
    clusters = np.asarray(clusters)
    centers = np.asarray(centers)
    nearest_other = np.empty(len(centers))
    for start, d2 in _distance_blocks(Z[centers], Z):
        own = clusters[centers[start : start + len(d2)]]
        d2[clusters[None, :] == own[:, None]] = np.inf
        nearest_other[start : start + len(d2)] = np.sqrt(d2.min(axis=1))
    m = len(centers)
    # smallest count >= alpha * m (rounded so that 0.95 * 100 asks for 95)
    needed = max(1, math.ceil(round(alpha * m, 9)))
    # the ball of the sample at this order statistic stays pure up to its radius
    # exactly; one part in a million less keeps it pure despite rounding
    delta = float(np.sort(nearest_other)[m - needed]) * (1 - 1e-6)
    if not np.isfinite(delta):
        raise ValueError(
            "ProbCover(delta='auto') found every ball pure at any radius: the data "
            "form a single k-means cluster. Pass a radius, e.g. delta=0.5, or "
            "n_classes >= 2."
        )
    if delta == 0.0:
        raise ValueError(
            "ProbCover(delta='auto') chose δ = 0: more than a share "
            f"1 - alpha = {1 - alpha:.3g} of the samples have an exact duplicate in "
            "another k-means cluster. Pass a radius, e.g. delta=0.5, or a lower alpha."
        )
    return delta


class _ProbCoverRanking(BaseRanking):
    """Greedy maximum coverage of δ-balls, then a random order.

    The greedy runs over the candidates; with ``greedy_beyond``, once they add
    no coverage, over every sample not yet picked (:meth:`_beyond_pick`).
    """

    def __init__(self, points, labeled, delta, candidates, rng, greedy_beyond=False):
        n = len(points)
        self._greedy_beyond = greedy_beyond
        self._beyond = None  # the graph of the greedy beyond the candidates
        self._covers_all = False  # no ball holds an uncovered sample (with _beyond)
        self._points = np.asarray(points, dtype=np.float32)
        self._labeled = labeled
        self._delta = delta
        self._rng = rng
        self._candidates = np.asarray(candidates, dtype=np.intp)
        self._graph = _radius_graph(self._points[self._candidates], self._points, delta)
        self._covered = np.zeros(n, dtype=bool)
        if labeled is not None:
            self._covered |= self._in_balls(labeled, self._points)
        self._selected = np.zeros(n, dtype=bool)
        self._greedy = []  # picks whose ball is covered
        keys = rng.random_sample(n)
        self._tail = list(zip(keys.tolist(), range(n)))
        heapq.heapify(self._tail)
        self._reindex()
        super().__init__(n)

    def _in_balls(self, centers, points):
        """Whether each of ``points`` lies in the ball of one of ``centers``."""
        inside = np.zeros(len(points), dtype=bool)
        if centers is not None and len(centers):
            delta2 = self._delta**2
            for start, d2 in _distance_blocks(points, centers):
                inside[start : start + len(d2)] = (d2 < delta2).any(axis=1)
        return inside

    def _reindex(self):
        """Transposed graph, candidate positions and gains, from graph and coverage."""
        self._graph_t = self._graph.T.tocsr()
        self._position = np.full(len(self._covered), -1, dtype=np.intp)
        self._position[self._candidates] = np.arange(len(self._candidates))
        self._gain = np.asarray(
            self._graph @ (~self._covered).astype(np.int64), dtype=np.int64
        )
        self._gain[self._selected[self._candidates]] = -1

    def _cover(self, samples):
        """Mark ``samples`` covered and take them out of every ball's gain."""
        samples = samples[~self._covered[samples]]
        if len(samples):
            self._covered[samples] = True
            into = self._graph_t[samples].indices
            self._gain -= np.bincount(into, minlength=len(self._gain))
            if self._beyond is not None:
                columns = self._beyond.column[samples]
                into = self._beyond.graph_t[columns[columns >= 0]].indices
                self._beyond.gain -= np.bincount(into, minlength=len(self._covered))

    def _beyond_pick(self):
        """The sample, candidate or not, whose ball holds the most uncovered samples.

        Ties to the lower index; -1 when no ball holds any (full coverage).
        The graph from every sample to the samples uncovered now is built at
        the first call (after ``add``: again), and kept up to date by
        :meth:`_cover`. Every uncovered sample covers at least itself, so -1
        means the pool is covered: the graph is dropped, and later calls
        return -1 at once until ``add``.
        """
        if self._covers_all:
            return -1
        if self._beyond is None:
            uncovered = np.flatnonzero(~self._covered)
            if len(uncovered):
                self._beyond = _BeyondGraph(
                    self._points, uncovered, self._delta, self._selected
                )
        if self._beyond is not None:
            best = int(np.argmax(self._beyond.gain))
            if self._beyond.gain[best] > 0:
                return best
        self._beyond, self._covers_all = None, True
        return -1

    def _take(self, k):
        out = []
        while len(out) < k:
            best = int(np.argmax(self._gain)) if len(self._gain) else -1
            if best >= 0 and self._gain[best] > 0:
                i = int(self._candidates[best])
                self._cover(self._graph[best].indices.astype(np.intp))
                self._greedy.append(i)
            elif self._greedy_beyond and (beyond := self._beyond_pick()) >= 0:
                i = beyond
                ball = self._beyond.graph[i].indices
                self._cover(self._beyond.uncovered[ball])
                self._greedy.append(i)
            else:  # full coverage: the rest in random order
                i = heapq.heappop(self._tail)[1]
                while self._selected[i]:
                    i = heapq.heappop(self._tail)[1]
                self._cover(np.array([i], dtype=np.intp))
            self._selected[i] = True
            if self._position[i] >= 0:
                self._gain[self._position[i]] = -1
            if self._beyond is not None:
                self._beyond.gain[i] = -1
            out.append(i)
        return out

    def _add(self, points):
        """Add points (representations): new candidates and new samples to cover."""
        points = np.asarray(points, dtype=np.float32)
        if points.ndim != 2 or points.shape[1] != self._points.shape[1]:
            raise ValueError(
                f"New points must be representations with {self._points.shape[1]} "
                f"columns, like the pool; got shape {points.shape}."
            )
        n, m = len(self._points), len(points)
        self._points = np.vstack([self._points, points])
        # edges from the new samples to every sample; the graph is symmetric, so
        # the old candidates' edges into the new samples are their transpose
        rows_new = _radius_graph(points, self._points, self._delta)
        cols_new = rows_new[:, self._candidates].T
        self._graph = sp.vstack(
            [sp.hstack([self._graph, cols_new]), rows_new], format="csr"
        )
        self._candidates = np.concatenate([self._candidates, np.arange(n, n + m)])
        covered = self._in_balls(self._labeled, points)
        if self._greedy:
            covered |= np.asarray(
                rows_new[:, np.asarray(self._greedy)].sum(axis=1)
            ).ravel() > 0
        self._covered = np.concatenate([self._covered, covered])
        self._selected = np.concatenate([self._selected, np.zeros(m, dtype=bool)])
        for key, i in zip(self._rng.random_sample(m).tolist(), range(n, n + m)):
            heapq.heappush(self._tail, (key, i))
        self._beyond, self._covers_all = None, False  # built again when needed
        self._reindex()
        return m


class _BeyondGraph:
    """The δ-balls of every pool sample, restricted to the samples ``uncovered``.

    ``graph`` (CSR, ``n × u``): row ``x`` holds the columns of the uncovered
    samples in ``B(x, δ)``; ``graph_t`` its transpose; ``column`` maps a pool
    sample to its column (-1 for none); ``gain`` counts, per sample, the
    uncovered samples its ball holds (-1 once ``selected``).
    """

    def __init__(self, points, uncovered, delta, selected):
        self.uncovered = np.asarray(uncovered, dtype=np.intp)
        self.column = np.full(len(points), -1, dtype=np.intp)
        self.column[self.uncovered] = np.arange(len(self.uncovered))
        self.graph = _radius_graph(points, points[self.uncovered], delta)
        self.graph_t = self.graph.T.tocsr()
        self.gain = np.diff(self.graph.indptr).astype(np.int64)
        self.gain[selected] = -1
