"""Random sampling: the baseline every strategy is measured against."""

from sklearn.utils import check_random_state

from ..base import BaseScoreStrategy, BaseStrategy
from ..utils._data import num_samples

__all__ = ["RandomSampling"]


class RandomSampling(BaseScoreStrategy):
    """Choose samples uniformly at random.

    The baseline of every active-learning comparison: labeling efficiency is
    measured against it. It needs no estimator.

    Parameters
    ----------
    estimator : estimator object, default=None
        Ignored; accepted so that every strategy has the same parameters.

    prefit : bool, default=False
        If True, ``query`` and ``rank`` work without calling ``fit``.

    random_state : int, RandomState instance or None, default=None
        Seed of the random priorities.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during ``fit``.

    estimator_ : None
        No estimator is used.

    See Also
    --------
    EntropySampling : The usual first alternative to random sampling.

    Notes
    -----
    Each pool sample gets a priority drawn uniformly from [0, 1); ``rank``
    orders by decreasing priority (a uniformly random permutation) and
    ``transform`` returns the priorities. For a given ``random_state`` the
    priorities depend only on the pool size, so ``query(X, k)`` is the first
    ``k`` of ``rank(X)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skal import RandomSampling
    >>> X_pool = np.arange(20.0).reshape(10, 2)
    >>> strategy = RandomSampling(prefit=True, random_state=0)
    >>> picks = strategy.query(X_pool, batch_size=3)
    >>> picks.shape
    (3,)
    >>> bool(np.all(picks == strategy.rank(X_pool)[:3]))
    True
    """

    _aliases = ("random",)

    _parameter_constraints = {
        **BaseStrategy._parameter_constraints,
        "random_state": ["random_state"],
    }
    _needs_estimator = False
    _accept_sparse = True

    def __init__(self, estimator=None, *, prefit=False, random_state=None):
        super().__init__(estimator=estimator, prefit=prefit)
        self.random_state = random_state

    def _priority(self, X, estimator, offset=0):
        rng = check_random_state(self.random_state)
        rng.random_sample(offset)  # the priorities of the samples before these
        return rng.random_sample(num_samples(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # priorities are random: a subset of the pool gets fresh draws
        tags.non_deterministic = True
        return tags
