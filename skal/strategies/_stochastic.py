"""Stochastic batch acquisition: sample a batch in proportion to any strategy's score."""

from numbers import Real

import numpy as np
from scipy.special import logsumexp
from scipy.stats import rankdata

from ..base import (
    _META_ATTRIBUTES_DOC,
    _META_PARAMS_DOC,
    _RANDOM_STATE_INNER,
    BaseMetaStrategy,
    BaseScoreStrategy,
)
from ..selection import BaseRanking
from ..utils._docstring import Substitution
from ..utils._sklearn_compat import Interval, StrOptions

__all__ = ["StochasticBatch"]

# Scores this far below 0 (relative to max(1, max |score|)) are rounding of a
# score that is 0 in exact arithmetic, e.g. 1 - max p of a float32 net.
_ROUNDING = 4 * float(np.finfo(np.float32).eps)


def _log_weights(scores, mode, beta):
    """Unnormalized log-probability of each sample being picked (``-inf``: never first).

    ``scores`` is every sample the ranking has seen; softrank's ranks are
    over all of them.
    """
    if mode == "power":
        scale = max(1.0, float(np.max(np.abs(scores), initial=0.0)))
        if scores.size and scores.min() < -_ROUNDING * scale:
            raise ValueError(
                f"mode='power' samples in proportion to score**beta, so it needs "
                f"scores >= 0; the strategy gave {scores.min():.4g}. Use "
                "mode='softmax' or mode='softrank', which take any real score."
            )
        if beta == 0:
            return np.zeros_like(scores)
        positive = scores > 0
        out = np.full_like(scores, -np.inf)
        out[positive] = beta * np.log(scores[positive])
        return out
    if beta == 0:
        return np.zeros_like(scores)
    if mode == "softmax":
        return beta * scores
    # softrank: rank 1 is the highest score; equal scores share the best rank
    return -beta * np.log(rankdata(-scores, method="min"))


def _gumbel_noise(seed, offset, n):
    """Standard Gumbel noise of samples ``offset, ..., offset + n - 1`` of a stream.

    Sample ``i`` gets ``-log(-log(u_i))`` of the ``i``-th uniform ``u_i`` of
    ``RandomState(seed)``, so its noise depends only on ``seed`` and ``i``.
    """
    rng = np.random.RandomState(seed)
    rng.random_sample(offset)  # the uniforms of the samples before these
    exponential = -np.log1p(-rng.random_sample(n))  # -log(1 - u) ~ Exp(1)
    # u = 0 (probability 2**-53) would give +inf
    return -np.log(np.maximum(exponential, np.finfo(np.float64).tiny))


class _Draw:
    """The scores and Gumbel noise of some samples, what the ranking takes."""

    def __init__(self, scores, noise):
        self.scores = scores
        self.noise = noise


class _GumbelTopKRanking(BaseRanking):
    """Decreasing ``log p_i + G_i``: a Plackett–Luce sample (sampling without replacement).

    Samples of probability 0 (``log p = -inf``) come after all others, in the
    order of their noise alone; samples of infinite weight before all others,
    likewise. Added samples join the order by their own keys; in softrank
    mode the ranks, hence the keys of the samples not yet taken, are
    recomputed over every sample seen.
    """

    def __init__(self, draw, mode, beta):
        self._mode = mode
        self._beta = beta
        self._scores = np.empty(0)
        self._noise = np.empty(0)
        self._queue = np.empty(0, dtype=np.intp)
        super().__init__(0)
        self.add(draw)

    def _order(self, candidates):
        log_weights = _log_weights(self._scores, self._mode, self._beta)[candidates]
        finite = np.isfinite(log_weights)
        level = np.where(finite, 1, np.where(log_weights > 0, 2, 0))
        key = np.where(finite, log_weights, 0.0) + self._noise[candidates]
        return candidates[np.lexsort((candidates, -key, -level))]

    def _take(self, k):
        out, self._queue = self._queue[:k], self._queue[k:]
        return out

    def _add(self, draw):
        new = np.arange(self.n_points, self.n_points + draw.scores.size, dtype=np.intp)
        self._scores = np.concatenate([self._scores, draw.scores])
        self._noise = np.concatenate([self._noise, draw.noise])
        self._queue = self._order(np.concatenate([self._queue, new]))
        return draw.scores.size


@Substitution(
    meta_params=_META_PARAMS_DOC,
    meta_attributes=_META_ATTRIBUTES_DOC,
    random_state_inner=_RANDOM_STATE_INNER,
)
class StochasticBatch(BaseMetaStrategy):
    """Sample the batch at random, in proportion to a score-based strategy's scores.

    Taking the top ``k`` scores fills a batch with near-duplicates of the
    most uncertain sample. Kirsch et al. [1]_ sample the batch instead:
    without replacement, with probability ``p_i`` growing with the score
    ``s_i`` of the wrapped strategy (entropy, margin...). It costs the
    wrapped strategy's scoring pass plus a sort, and recovers much of the
    diversity of batch-aware methods such as BADGE. The wrapped strategy
    must rank by a score per sample (a :class:`~skal.base.BaseScoreStrategy`:
    :class:`~skal.EntropySampling`, :class:`~skal.MarginSampling`,
    :class:`~skal.LeastConfidence`, :class:`~skal.RandomSampling`...), given
    as an object or by its registry name: ``StochasticBatch("entropy")``.

    Parameters
    ----------
    %(meta_params)s

    mode : {"power", "softmax", "softrank"}, default="power"
        How a score becomes a sampling weight: ``"power"``, ``p_i ∝ s_i**beta``
        (scores must be ``>= 0``); ``"softmax"``, ``p_i ∝ exp(beta · s_i)``;
        ``"softrank"``, ``p_i ∝ r_i**(-beta)``, with ``r_i`` the rank of
        ``s_i`` in the pool (1 for the highest score; equal scores share the
        best of their ranks).

    beta : float, default=1.0
        Inverse temperature, ``>= 0``. ``0`` samples uniformly at random;
        as ``beta`` grows, the batch tends to the wrapped strategy's top
        ``k``.

    random_state : int, RandomState instance or None, default=None
        Seed of the sampling noise. %(random_state_inner)s

    Attributes
    ----------
    %(meta_attributes)s

    See Also
    --------
    EntropySampling : The usual strategy to wrap (``mode="power"``,
        ``beta=1``: the paper's PowerEntropy).
    BADGE : Diversity by k-means++ seeding on gradient embeddings.

    Notes
    -----
    **One draw for the whole ranking.** Each sample gets independent
    standard Gumbel noise ``G_i``, and ``rank`` sorts by decreasing
    ``log p_i + G_i`` (Gumbel-top-k). This is exactly sampling without
    replacement in proportion to ``p``, one sample after another (the
    Plackett–Luce distribution): the first is ``i`` with probability
    ``p_i / Σ p``, the next ``j`` with probability ``p_j / (Σ p − p_i)``,
    and so on. ``query(X, k)`` is the first ``k`` of ``rank(X)`` for an int
    ``random_state``. ``transform`` returns ``p_i / Σ p``, the probability
    that each sample is picked first, as a column.

    **Zero scores** (``mode="power"``): a sample of score 0 has ``p_i = 0``,
    so it comes after every sample of positive score; the samples of score
    0 follow in uniformly random order (the limit of giving them all the
    same tiny score). Scores within float32 rounding below 0 count as 0;
    more negative ones raise a ``ValueError``.

    **Lazy rankings.** The noise of the ``i``-th sample of a ranking (pool
    samples first, then added ones in the order they came) is drawn from one
    stream seeded once per ranking, so it depends on ``i`` only, not on how
    the samples were split between the pool and additions: with a
    deterministic inner strategy, adding samples before any pick gives the
    ranking of the concatenated pool. Added samples are scored by the inner
    strategy alone. With ``"power"`` and ``"softmax"`` their weights depend
    on their own scores only; with ``"softrank"`` the ranks are recomputed
    over every sample seen (those already picked included), so the samples
    not yet picked are reordered by their ranks in the grown pool.

    References
    ----------
    .. [1] A. Kirsch, S. Farquhar, P. Atighehchian, A. Jesson,
       F. Branchaud-Charron and Y. Gal, "Stochastic Batch Acquisition: A
       Simple Baseline for Deep Active Learning", TMLR 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import EntropySampling, StochasticBatch
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=1000).fit(X[:100], y[:100])
    >>> strategy = StochasticBatch(EntropySampling(clf, prefit=True), mode="power",
    ...                            beta=1.0, random_state=0)
    >>> picks = strategy.query(X[100:], batch_size=10)
    >>> bool(np.all(picks == strategy.rank(X[100:])[:10]))
    True
    >>> p = strategy.transform(X[100:]).ravel()   # probability of being picked first
    >>> bool(np.isclose(p.sum(), 1.0))
    True
    """

    _parameter_constraints = {
        **BaseMetaStrategy._parameter_constraints,
        "mode": [StrOptions({"power", "softmax", "softrank"})],
        "beta": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        strategy,
        *,
        estimator=None,
        prefit=False,
        mode="power",
        beta=1.0,
        random_state=None,
    ):
        super().__init__(
            strategy, estimator=estimator, prefit=prefit, random_state=random_state
        )
        self.mode = mode
        self.beta = beta

    def _validate_params(self):
        super()._validate_params()
        strategy = self._inner_strategy()  # a name: resolve_strategy's error if unknown
        if not isinstance(strategy, BaseScoreStrategy):
            from . import all_strategies

            scored = [n for n, c in all_strategies() if issubclass(c, BaseScoreStrategy)]
            raise ValueError(
                f"StochasticBatch samples in proportion to a score per sample, but "
                f"{type(strategy).__name__} does not rank by one (it is not a "
                f"skal.base.BaseScoreStrategy). Wrap a score-based strategy: "
                f"{', '.join(scored)}."
            )

    @property
    def _needs_pool_values(self):
        # the inner strategy scores the pool as validated here
        return getattr(self._inner_strategy(), "_needs_pool_values", None)

    # -- the draw ------------------------------------------------------------------

    def _ranking_context(self):
        # one inner seed and one noise seed per ranking, shared by added samples
        seeds, _ = self._seeds(2)
        return {"seeds": (int(seeds[0]), int(seeds[1]))}

    def _scores(self, X, estimator, offset, inner_seed):
        inner = self._inner(estimator, inner_seed)
        # BaseScoreStrategy's template method: the score ``rank`` sorts by
        scores = np.asarray(inner._priority(X, estimator, offset), dtype=np.float64)
        if scores.ndim == 2:
            scores = scores[:, 0]  # later columns only break ties
        if np.isnan(scores).any():
            raise ValueError(
                f"{type(inner).__name__} gave NaN scores; StochasticBatch needs a "
                "number per sample."
            )
        return scores

    def _points(self, X, estimator, offset=0, seeds=None):
        if seeds is None:
            seeds = self._ranking_context()["seeds"]
        scores = self._scores(X, estimator, offset, seeds[0])
        _log_weights(scores, self.mode, self.beta)  # raises on scores the mode refuses
        return _Draw(scores, _gumbel_noise(seeds[1], offset, scores.size))

    def _ranking(self, points, estimator):
        return _GumbelTopKRanking(points, self.mode, float(self.beta))

    def _transform(self, X, estimator):
        seeds = self._ranking_context()["seeds"]
        log_weights = _log_weights(
            self._scores(X, estimator, 0, seeds[0]), self.mode, float(self.beta)
        )
        if np.isposinf(log_weights).any():
            proba = np.isposinf(log_weights).astype(np.float64)
        elif np.isneginf(log_weights).all():
            proba = np.ones_like(log_weights)  # all of score 0: uniform
        else:
            return np.exp(log_weights - logsumexp(log_weights))[:, np.newaxis]
        return (proba / proba.sum())[:, np.newaxis]
