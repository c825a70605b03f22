"""The lazy ranking interface: one base class, and the rankings strategies share.

A lazy ranking yields pool indices in priority order, ``k`` at a time
(``take``), over a pool that may grow between picks (``add``). Every ranking
in skal, from the k-means++ engine to a meta-strategy's interleaving, is a
:class:`BaseRanking`: the base class keeps the bookkeeping (the pool size,
the indices yielded so far, the iterator protocol, the indices new points
get), and a subclass writes only how to pick and how to grow.
"""

from abc import ABCMeta, abstractmethod

import numpy as np

__all__ = ["BaseRanking", "CandidateRanking", "ScoreRanking"]


class BaseRanking(metaclass=ABCMeta):
    """Base class for lazy rankings: indices in priority order, on a growing pool.

    Subclasses implement ``_take(k)``, which returns the next ``k`` indices
    (``k`` is at least 1 and at most the number of points not yet yielded),
    and ``_add(points, **kwargs)``, which makes new points available and
    returns how many there are; while ``_add`` runs, ``n_points`` is still
    the pool size before the call, i.e. the first index the new points get.
    A subclass calls ``super().__init__(n_points)`` with its initial pool size.

    Parameters
    ----------
    n_points : int, default=0
        Number of points in the initial pool.

    See Also
    --------
    ScoreRanking : Ranking by decreasing score.
    KMeansPlusPlusRanking : The k-means++ seeding order, lazily.
    skal.BaseStrategy.lazy_rank : The rankings strategies return.

    Examples
    --------
    A ranking by increasing value, in about ten lines:

    >>> import numpy as np
    >>> from skal.selection import BaseRanking
    >>> class Smallest(BaseRanking):
    ...     def __init__(self, values):
    ...         self._values = np.asarray(values, dtype=float)
    ...         super().__init__(len(self._values))
    ...     def _take(self, k):
    ...         rest = np.setdiff1d(np.arange(self.n_points), self.ranked)
    ...         return rest[np.argsort(self._values[rest], kind="stable")[:k]]
    ...     def _add(self, values):
    ...         self._values = np.concatenate([self._values, values])
    ...         return len(values)
    >>> ranking = Smallest([3.0, 1.0, 2.0])
    >>> next(ranking)
    1
    >>> ranking.add([0.5]).tolist()
    [3]
    >>> ranking.take(10).tolist()
    [3, 2, 0]
    >>> ranking.ranked.tolist()
    [1, 3, 2, 0]
    """

    def __init__(self, n_points=0):
        self._n = int(n_points)
        self._ranked = np.empty(0, dtype=np.intp)
        self._n_ranked = 0

    @property
    def n_points(self):
        """Number of points in the pool, added ones included."""
        return self._n

    @property
    def ranked(self):
        """Indices yielded so far, in order (a copy)."""
        return self._ranked[: self._n_ranked].copy()

    def __iter__(self):
        return self

    def __next__(self):
        out = self.take(1)
        if not len(out):
            raise StopIteration
        return int(out[0])

    def take(self, k):
        """The next ``k`` indices (fewer if the pool runs out).

        Parameters
        ----------
        k : int
            How many; a value below 1 returns none.

        Returns
        -------
        indices : ndarray of shape (min(k, n_remaining),)
            Pool indices, in priority order, none of them yielded before.
        """
        k = min(int(k), self._n - self._n_ranked)
        if k <= 0:
            return np.empty(0, dtype=np.intp)
        out = np.asarray(self._take(k), dtype=np.intp)
        self._record(out)
        return out

    def add(self, points, **kwargs):
        """Add points to the pool; they can be picked from the next ``take`` on.

        Parameters
        ----------
        points : object
            The new points, in the form the ranking was built from.
        **kwargs : dict
            Per-point data some rankings take (see the subclass).

        Returns
        -------
        indices : ndarray
            The indices the new points get: ``n_points`` before the call, and up.
            Indices already yielded never change.
        """
        n0 = self._n
        m = int(self._add(points, **kwargs))
        self._n = n0 + m
        return np.arange(n0, n0 + m, dtype=np.intp)

    def _record(self, out):
        end = self._n_ranked + out.size
        if end > self._ranked.size:
            grown = np.empty(max(end, 2 * self._ranked.size, 16), dtype=np.intp)
            grown[: self._n_ranked] = self._ranked[: self._n_ranked]
            self._ranked = grown
        self._ranked[self._n_ranked:end] = out
        self._n_ranked = end

    @abstractmethod
    def _take(self, k):
        """The next ``k`` indices, ``1 <= k <= n_points - len(ranked)``."""

    @abstractmethod
    def _add(self, points, **kwargs):
        """Make ``points`` available; return how many they are."""


class ScoreRanking(BaseRanking):
    """Lazy ranking by decreasing score, ties to the lower index; the pool can grow.

    It is the ranking of every strategy that scores samples one by one (the
    uncertainty strategies, BALD, random sampling): taking ``k`` indices
    costs ``O(k)`` after one sort.

    Parameters
    ----------
    scores : array-like of shape (n_samples,) or (n_samples, n_keys)
        Priority of each point (higher first). With several columns, points
        are compared column by column: the second column breaks ties in the
        first, and so on; the lower index breaks the remaining ties.

    See Also
    --------
    CandidateRanking : The highest-scored points reordered by an inner ranking.
    skal.base.BaseScoreStrategy : The strategies that rank this way.

    Examples
    --------
    >>> from skal.selection import ScoreRanking
    >>> ranking = ScoreRanking([0.2, 0.9, 0.2])
    >>> next(ranking)
    1
    >>> ranking.add([0.5]).tolist()
    [3]
    >>> ranking.take(5).tolist()
    [3, 0, 2]
    >>> ScoreRanking([[1.0, 0.1], [1.0, 0.7], [0.0, 9.0]]).take(3).tolist()
    [1, 0, 2]
    """

    def __init__(self, scores):
        self._scores = self._keys(scores)
        self._queue = self._sorted(np.arange(len(self._scores)))
        super().__init__(len(self._scores))

    @property
    def scores(self):
        """Each point's score (its first key), an ndarray of shape (n_points,)."""
        return self._scores[:, 0]

    @staticmethod
    def _keys(scores):
        keys = np.asarray(scores, dtype=np.float64)
        return keys.reshape(len(keys), -1) if keys.ndim != 1 else keys[:, np.newaxis]

    def _sorted(self, candidates):
        keys = self._scores[candidates]
        columns = tuple(-keys[:, j] for j in reversed(range(keys.shape[1])))
        return candidates[np.lexsort((candidates,) + columns)]

    def _take(self, k):
        out, self._queue = self._queue[:k], self._queue[k:]
        return out

    def _add(self, scores):
        scores = self._keys(scores)
        if scores.shape[1] != self._scores.shape[1]:
            raise ValueError(
                f"New scores have {scores.shape[1]} key(s) per point; the pool's have "
                f"{self._scores.shape[1]}."
            )
        new = np.arange(self.n_points, self.n_points + len(scores))
        self._scores = np.concatenate([self._scores, scores])
        self._queue = self._sorted(np.concatenate([self._queue, new]))
        return len(scores)


class CandidateRanking(BaseRanking):
    """The highest-scored points first, in an inner ranking's order; then the rest by score.

    The candidates are the ``n_candidates`` points of highest score (ties to
    the lower index). They are handed to an inner ranking, built by
    ``_inner_ranking(points, candidates)``, which decides their order; once
    it runs out, the other points follow by decreasing score. A point added
    later joins the candidates iff its score is strictly above the lowest
    candidate score of the initial pool (always, if the initial pool had at
    most ``n_candidates`` points); otherwise it joins the rest.

    Subclasses implement ``_inner_ranking(points, candidates)`` (a ranking
    over ``candidates``, positions into ``points``, in the order given),
    ``_add_candidates(points, rows)`` (grow that ranking with the new points
    at positions ``rows``) and ``_scores_of(points)`` (the scores of new
    points).

    Parameters
    ----------
    points : object
        The initial pool, in whatever form the subclass reads.
    scores : array-like of shape (n_samples,)
        Score of each point of ``points``: higher is a candidate.
    n_candidates : int
        How many points the inner ranking orders.
    candidate_order : {"index", "score"}, default="index"
        The order in which candidates (initial and added) are handed to the
        inner ranking: pool order, or by decreasing score (ties to the lower
        index), which is what breaks the inner ranking's ties.

    See Also
    --------
    ScoreRanking : The order by score alone.
    skal.ProxyPrefilter : A strategy that ranks this way.

    Examples
    --------
    Candidates ordered by increasing index parity, as a toy inner ranking:

    >>> import numpy as np
    >>> from skal.selection import CandidateRanking, ScoreRanking
    >>> class OddFirst(CandidateRanking):
    ...     def _inner_ranking(self, points, candidates):
    ...         return ScoreRanking(candidates % 2)
    ...     def _add_candidates(self, points, rows):
    ...         self._inner.add(rows % 2)
    ...     def _scores_of(self, points):
    ...         return np.asarray(points, dtype=float)
    >>> scores = np.array([0.9, 0.1, 0.8, 0.7, 0.2])
    >>> OddFirst(scores, scores, n_candidates=3).take(5).tolist()
    [3, 0, 2, 4, 1]
    """

    def __init__(self, points, scores, n_candidates, *, candidate_order="index"):
        if candidate_order not in ("index", "score"):
            raise ValueError(
                f"candidate_order={candidate_order!r} is not one of 'index', 'score'."
            )
        self.candidate_order = candidate_order
        scores = np.asarray(scores, dtype=np.float64)
        n = scores.size
        order = np.argsort(-scores, kind="stable")
        m = min(int(n_candidates), n)
        self._threshold = scores[order[m - 1]] if m < n else -np.inf
        cand = order[:m] if candidate_order == "score" else np.sort(order[:m])
        rest = np.sort(order[m:])
        self._cand = cand.astype(np.intp)
        self._rest = rest.astype(np.intp)
        self._rest_ranking = ScoreRanking(scores[rest])
        super().__init__(n)
        self._inner = self._inner_ranking(points, self._cand)

    def _take(self, k):
        first = self._cand[np.asarray(self._inner.take(k), dtype=np.intp)]
        second = self._rest[self._rest_ranking.take(k - first.size)]
        return np.concatenate([first, second])

    def _add(self, points):
        scores = np.asarray(self._scores_of(points), dtype=np.float64)
        new = np.arange(self.n_points, self.n_points + scores.size, dtype=np.intp)
        join = scores > self._threshold
        if join.any():
            rows = np.flatnonzero(join)
            if self.candidate_order == "score":
                rows = rows[np.argsort(-scores[rows], kind="stable")]
            self._add_candidates(points, rows)
            self._cand = np.concatenate([self._cand, new[rows]])
        if (~join).any():
            self._rest_ranking.add(scores[~join])
            self._rest = np.concatenate([self._rest, new[~join]])
        return scores.size

    @abstractmethod
    def _inner_ranking(self, points, candidates):
        """A ranking over the rows ``candidates`` of ``points``, in that order."""

    @abstractmethod
    def _add_candidates(self, points, rows):
        """Add the rows ``rows`` of the new ``points`` to ``self._inner``."""

    @abstractmethod
    def _scores_of(self, points):
        """Scores of new ``points`` (compared with the candidate threshold)."""
