"""Meta-strategies that make any strategy cheaper on a large pool.

BADGE and CoreSet cost ``O(k · n)`` distance work for a batch of ``k`` from a
pool of ``n``. Three wrappers bound that cost by running the wrapped
("inner") strategy on part of the pool only:

- :class:`SubsetSampling` runs it on a uniformly random candidate subset;
- :class:`ProxyPrefilter` runs it on the candidates that a cheap uncertainty
  score (one ``predict_proba`` pass) finds most promising;
- :class:`PartitionedStrategy` runs it on each of ``n_partitions`` random
  chunks of the pool and merges the picks (DISTIL's ``PartitionStrategy``).

Each is itself a strategy (clone, pickle, ``GridSearchCV`` over
``strategy__*``, inside :class:`~skal.ActiveLearner`) and returns indices into
the *original* pool.
"""

import functools
from numbers import Integral

import numpy as np

from ..base import (
    _META_ATTRIBUTES_DOC,
    _META_OWNER_DOC,
    _META_STRATEGY_DOC,
    _RANDOM_STATE_INNER,
    BaseMetaStrategy,
    BasePrefilter,
)
from ..base._prefilter import _Points
from ..embeddings import check_predict_proba, predict_proba
from ..selection import BaseRanking
from ..uncertainty import _BY_NAME as _SCORES
from ..utils._data import num_samples, take
from ..utils._docstring import Substitution
from ..utils._sklearn_compat import Interval, StrOptions

__all__ = ["PartitionedStrategy", "ProxyPrefilter", "SubsetSampling"]


@Substitution(
    meta_strategy=_META_STRATEGY_DOC,
    meta_owner=_META_OWNER_DOC,
    meta_attributes=_META_ATTRIBUTES_DOC,
    random_state_inner=_RANDOM_STATE_INNER,
)
class SubsetSampling(BasePrefilter):
    """Run a strategy on a uniformly random subset of the pool.

    The classic way to make BADGE (or CoreSet) affordable on a large pool:
    draw ``n_candidates`` pool samples uniformly at random (the whole pool if
    it is smaller) and let the inner strategy choose among them. Its cost is
    that of the inner strategy on ``n_candidates`` samples, whatever the pool
    size.

    Parameters
    ----------
    %(meta_strategy)s

    n_candidates : int, default=5000
        Size of the random candidate subset. ``query`` with a larger
        ``batch_size`` raises a ``ValueError``.

    %(meta_owner)s

    random_state : int, RandomState instance or None, default=None
        Seed of the candidate draw. %(random_state_inner)s

    Attributes
    ----------
    %(meta_attributes)s

    See Also
    --------
    ProxyPrefilter : Candidates by uncertainty instead of at random.
    PartitionedStrategy : The inner strategy on every part of the pool.

    Notes
    -----
    Each pool sample gets a priority drawn uniformly from [0, 1) (as in
    :class:`~skal.RandomSampling`); the candidates are the ``n_candidates``
    of highest priority, passed to the inner strategy in pool order.
    ``rank`` is the inner strategy's ranking of the candidates (mapped back
    to pool indices), then the other samples by decreasing priority, i.e. in
    random order. For an int ``random_state``, ``query(X, k)`` is the first
    ``k`` of ``rank(X)``; with ``n_candidates >= len(X)``, both equal the
    inner strategy's own (for the same inner seed). ``lazy_rank`` yields the
    same order; a sample added to it draws its priority from the same stream
    and joins the candidates iff that priority is above the lowest candidate
    priority of the initial pool (always when the initial pool had at most
    ``n_candidates`` samples), so it competes at the same rate as the initial
    pool did. ``transform`` is the inner strategy's ``transform`` of the
    whole pool.

    References
    ----------
    .. [1] J. T. Ash, C. Zhang, A. Krishnamurthy, J. Langford and A. Agarwal,
       "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower
       Bounds", ICLR 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import BADGE
    >>> from skal.strategies._two_stage import SubsetSampling
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=200).fit(X[:100], y[:100])
    >>> strategy = SubsetSampling(BADGE(), n_candidates=300, estimator=clf,
    ...                           prefit=True, random_state=0)
    >>> picks = strategy.query(X[100:], batch_size=10)
    >>> picks.shape, bool(picks.max() < len(X) - 100)
    ((10,), True)
    >>> bool(np.all(picks == strategy.rank(X[100:])[:10]))
    True
    """

    def __init__(
        self, strategy, *, n_candidates=5000, estimator=None, prefit=False, random_state=None
    ):
        super().__init__(
            strategy, estimator=estimator, prefit=prefit, random_state=random_state
        )
        self.n_candidates = n_candidates

    def _priority(self, X, estimator, offset):
        _, rng = self._seeds(1)  # the inner seed comes first
        rng.random_sample(offset)  # the priorities of the samples before these
        return rng.random_sample(num_samples(X))

    def _transform(self, X, estimator):
        (seed,), _ = self._seeds(1)
        return self._inner(estimator, seed).transform(X)



@Substitution(
    meta_strategy=_META_STRATEGY_DOC,
    meta_owner=_META_OWNER_DOC,
    random_state_inner=_RANDOM_STATE_INNER,
)
class ProxyPrefilter(BasePrefilter):
    """Run a strategy on the candidates a cheap uncertainty score finds most promising.

    One ``predict_proba`` pass scores the whole pool with an uncertainty
    proxy; the ``n_candidates`` highest-scoring samples go to the inner
    strategy (e.g. BADGE), which chooses among them. The expensive strategy
    never sees the samples the model is already sure about.

    Parameters
    ----------
    %(meta_strategy)s

    proxy : {"least_confidence", "margin", "entropy"}, default="least_confidence"
        The proxy score: that of :class:`~skal.LeastConfidence`
        (``1 − max p``), :class:`~skal.MarginSampling` (``1 − (p₍₁₎ − p₍₂₎)``)
        or :class:`~skal.EntropySampling` (``−Σ p log p``).

    n_candidates : int, default=5000
        How many of the highest-scoring samples the inner strategy sees.
        ``query`` with a larger ``batch_size`` raises a ``ValueError``.

    %(meta_owner)s

    random_state : int, RandomState instance or None, default=None
        The prefilter itself is deterministic. %(random_state_inner)s

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator (the prefit one itself when prefit): it gives
        the proxy scores and is passed to the inner strategy.

    strategy_ : strategy object
        A clone of ``strategy`` with ``estimator=estimator_``, ``prefit=True``,
        fitted on the labeled set; each query uses a copy of it.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    SubsetSampling : Candidates at random instead of by uncertainty.
    PartitionedStrategy : The inner strategy on every part of the pool.

    Notes
    -----
    The candidates are the ``n_candidates`` samples of highest proxy score
    (ties to the lower index), passed to the inner strategy in pool order.
    ``rank`` is the inner strategy's ranking of the candidates (mapped back
    to pool indices), then the other samples by decreasing proxy score (ties
    to the lower index), so ``query(X, k)`` is the first ``k`` of ``rank(X)``
    (for a deterministic or seeded inner strategy). With
    ``n_candidates >= len(X)`` both equal the inner strategy's own.
    ``lazy_rank`` yields the same order; a sample added to it joins the
    candidates iff its proxy score is above the lowest candidate score of the
    initial pool (always when the initial pool had at most ``n_candidates``
    samples), else the rest. ``transform`` returns the proxy score, shape
    ``(n_samples, 1)``. Cost: one forward pass over the pool, then the inner
    strategy on ``n_candidates`` samples.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import BADGE
    >>> from skal.strategies._two_stage import ProxyPrefilter
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=200).fit(X[:100], y[:100])
    >>> strategy = ProxyPrefilter(BADGE(random_state=0), proxy="margin",
    ...                           n_candidates=200, estimator=clf, prefit=True)
    >>> picks = strategy.query(X[100:], batch_size=10)
    >>> top200 = np.argsort(-strategy.transform(X[100:]).ravel(), kind="stable")[:200]
    >>> bool(np.isin(picks, top200).all())
    True
    """

    _parameter_constraints = {
        **BasePrefilter._parameter_constraints,
        "proxy": [StrOptions(set(_SCORES))],
    }

    def __init__(
        self,
        strategy,
        *,
        proxy="least_confidence",
        n_candidates=5000,
        estimator=None,
        prefit=False,
        random_state=None,
    ):
        super().__init__(
            strategy, estimator=estimator, prefit=prefit, random_state=random_state
        )
        self.proxy = proxy
        self.n_candidates = n_candidates

    @property
    def _needs_estimator(self):
        return True  # the proxy needs predict_proba

    def _check_estimator(self, estimator):
        check_predict_proba(estimator, purpose=f"ProxyPrefilter(proxy={self.proxy!r})")
        super()._check_estimator(estimator)

    def _priority(self, X, estimator, offset):
        proba = predict_proba(estimator, X, purpose=f"ProxyPrefilter(proxy={self.proxy!r})")
        return _SCORES[self.proxy](proba)

    def _transform(self, X, estimator):
        return self._priority(X, estimator, 0)[:, np.newaxis]


def _lazy_rank(strategy, rows):
    return strategy.lazy_rank(rows)


def _grown(ranking, rows):
    ranking.add(rows)
    return ranking  # from another process, the updated copy is what counts


class _PartitionRanking(BaseRanking):
    """Round-robin interleaving of one inner lazy ranking per partition.

    ``make_strategy(seed)`` gives the inner strategy of a partition; the
    partitions' rankings are built (and grown) as joblib tasks, so that
    ``joblib.parallel_config`` spreads them over processes or a Dask cluster.
    """

    def __init__(self, make_strategy, points, n_partitions, n_jobs=None):
        self._make_strategy = make_strategy
        self._n_jobs = n_jobs
        self._seeds = points.seeds
        self._inners = [None] * n_partitions
        self._maps = [np.empty(0, dtype=np.intp) for _ in range(n_partitions)]
        self._remaining = np.zeros(n_partitions, dtype=np.int64)
        self._cursor = 0  # the partition whose turn it is
        super().__init__(0)
        self.add(points)

    def _add(self, points):
        """Add samples (a ``_Points`` with their partitions)."""
        from sklearn.utils.parallel import Parallel, delayed

        part = np.asarray(points.part)
        new = np.arange(self.n_points, self.n_points + part.size, dtype=np.intp)
        parts, tasks = [], []
        for j in range(len(self._inners)):
            idx = np.flatnonzero(part == j)  # pool order within the partition
            if not idx.size:
                continue
            rows = take(points.X, idx)
            if self._inners[j] is None:
                tasks.append(delayed(_lazy_rank)(self._make_strategy(self._seeds[j]), rows))
            else:
                tasks.append(delayed(_grown)(self._inners[j], rows))
            parts.append(j)
            self._maps[j] = np.concatenate([self._maps[j], new[idx]])
            self._remaining[j] += idx.size
        for j, ranking in zip(parts, Parallel(n_jobs=self._n_jobs)(tasks)):
            self._inners[j] = ranking
        return part.size

    def _schedule(self, k):
        """Partition of each of the next ``k`` picks (round-robin, skipping empty ones)."""
        rem = self._remaining
        n_parts = rem.size
        seq = []
        cursor = self._cursor
        if cursor:  # finish the current turn: partitions cursor, ..., n_parts - 1
            turn = cursor + np.flatnonzero(rem[cursor:] > 0)
            turn = turn[:k]
            seq.append(turn)
            rem[turn] -= 1
            k -= turn.size
            cursor = 0 if k else (int(turn[-1]) + 1 if turn.size else cursor) % n_parts
        while k > 0:
            active = np.flatnonzero(rem > 0)
            if not active.size:
                break
            full = min(int(rem[active].min()), k // active.size)
            if full:
                seq.append(np.tile(active, full))
                rem[active] -= full
                k -= full * active.size
                cursor = 0
            else:  # a last, partial turn
                turn = active[:k]
                seq.append(turn)
                rem[turn] -= 1
                k = 0
                cursor = (int(turn[-1]) + 1) % n_parts
        self._cursor = cursor
        return np.concatenate(seq) if seq else np.empty(0, dtype=np.intp)

    def _take(self, k):
        seq = self._schedule(k)
        out = np.empty(seq.size, dtype=np.intp)
        for j in np.unique(seq):
            where = seq == j
            local = np.asarray(self._inners[j].take(int(where.sum())), dtype=np.intp)
            out[where] = self._maps[j][local]
        return out


@Substitution(
    meta_strategy=_META_STRATEGY_DOC,
    meta_owner=_META_OWNER_DOC,
    random_state_inner=_RANDOM_STATE_INNER,
)
class PartitionedStrategy(BaseMetaStrategy):
    """Run a strategy on each of several random parts of the pool and merge the picks.

    The pool is split uniformly at random into ``n_partitions`` parts of
    equal size (±1); a batch of ``k`` takes ``k // n_partitions`` samples
    from each part, chosen by the inner strategy within that part, plus one
    more from each of the first ``k %% n_partitions`` parts in turn (DISTIL's
    ``PartitionStrategy``). BADGE's ``O(k · n)`` becomes ``O(k · n /
    n_partitions)``, and its memory that of one part; diversity is only
    enforced within each part.

    Parameters
    ----------
    %(meta_strategy)s

    n_partitions : int, default=10
        Number of parts. A pool with fewer samples has some parts empty.

    %(meta_owner)s

    random_state : int, RandomState instance or None, default=None
        Seed of the split into parts. %(random_state_inner)s Drawn seeds differ from part to part; a set inner
        seed is used in every part.

    n_jobs : int, default=None
        The parts are ranked as joblib tasks (the inner strategy's forward
        pass and its ranking engine, per part): ``n_jobs`` of them at a time.
        ``None`` means 1 unless in a :func:`joblib.parallel_config` context,
        which also chooses where they run (``backend="dask"`` for a Dask
        cluster: each task carries the fitted estimator and its part of the
        pool, and returns the part's lazy ranking, engine state and estimator
        included). The picks do not depend on ``n_jobs`` or the backend.

    Attributes
    ----------
    estimator_ : estimator object or None
        The fitted estimator (the prefit one itself when prefit), passed to
        the inner strategy; None if the inner strategy needs none.

    strategy_ : strategy object
        A clone of ``strategy`` with ``estimator=estimator_``, ``prefit=True``,
        fitted on the labeled set; each part uses a copy of it.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    SubsetSampling : The inner strategy on one random subset only.
    ProxyPrefilter : The inner strategy on the most uncertain candidates.

    Notes
    -----
    Each sample gets a uniform random key; in increasing key order, the
    ``i``-th sample goes to part ``i %% n_partitions``. Within a part, samples
    keep their pool order. ``rank`` interleaves the inner strategy's
    rankings of the parts round-robin: the first of part 0, of part 1, ...,
    of the last part, then the second of each, and so on, skipping parts that
    have run out; so every prefix takes equally (±1) from each part, and
    ``query(X, k)`` is the first ``k`` of ``rank(X)`` for an int
    ``random_state``. With ``n_partitions=1`` both equal the inner
    strategy's own (for the same inner seed). ``lazy_rank`` yields the same
    order; added samples continue the key order (so they spread evenly over
    the parts) and join their part's inner ranking, and the round-robin goes
    on where it was. ``transform`` is the inner strategy's ``transform`` of
    the whole pool.

    References
    ----------
    .. [1] N. Beck, D. Sivasubramanian, A. Dani, G. Ramakrishnan and R. Iyer,
       "Effective Evaluation of Deep Active Learning on Image Classification
       Tasks", arXiv:2106.15324, 2021 (DISTIL).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import BADGE
    >>> from skal.strategies._two_stage import PartitionedStrategy
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=200).fit(X[:100], y[:100])
    >>> strategy = PartitionedStrategy(BADGE(), n_partitions=4, estimator=clf,
    ...                                prefit=True, random_state=0)
    >>> ranking = strategy.rank(X[100:])
    >>> sorted(ranking.tolist()) == list(range(len(X) - 100))
    True
    >>> bool(np.all(strategy.query(X[100:], batch_size=10) == ranking[:10]))
    True
    """

    _parameter_constraints = {
        **BaseMetaStrategy._parameter_constraints,
        "n_partitions": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        strategy,
        *,
        n_partitions=10,
        estimator=None,
        prefit=False,
        random_state=None,
        n_jobs=None,
    ):
        super().__init__(
            strategy, estimator=estimator, prefit=prefit, random_state=random_state
        )
        self.n_partitions = n_partitions
        self.n_jobs = n_jobs

    def _points(self, X, estimator, offset=0):
        seeds, rng = self._seeds(self.n_partitions)
        rng.random_sample(offset)  # the keys of the samples before these
        keys = rng.random_sample(num_samples(X))
        position = np.empty(keys.size, dtype=np.int64)
        position[np.argsort(keys, kind="stable")] = offset + np.arange(keys.size)
        return _Points(X, part=position % self.n_partitions, seeds=seeds)

    def _ranking(self, points, estimator):
        return _PartitionRanking(
            functools.partial(self._inner, estimator),  # picklable: rankings can be saved
            points,
            self.n_partitions,
            n_jobs=self.n_jobs,
        )

    def _transform(self, X, estimator):
        seeds, _ = self._seeds(self.n_partitions)
        return self._inner(estimator, seeds[0]).transform(X)
