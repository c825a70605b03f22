"""The base of the prefilters: the inner strategy ranks the top candidates only.

:class:`~skal.SubsetSampling` and :class:`~skal.ProxyPrefilter` (in
:mod:`skal.strategies._two_stage`) choose the candidates at random or by a cheap
uncertainty score; this base hands them to the wrapped strategy and ranks the
rest after them.
"""

from numbers import Integral

from ..selection import CandidateRanking
from ..utils._data import take
from ..utils._docstring import Substitution
from ..utils._sklearn_compat import Interval
from ._strategy import _META_PARAMS_DOC, _RANDOM_STATE_INNER, BaseMetaStrategy

__all__ = ["BasePrefilter"]


class _Points:
    """What the meta-strategies' rankings take: the rows and per-sample data."""

    def __init__(self, X, priority=None, part=None, seeds=None):
        self.X = X
        self.priority = priority
        self.part = part
        self.seeds = seeds


class _PrefilterRanking(CandidateRanking):
    """Candidates (highest priority) ranked by the inner strategy, then the rest.

    The candidates go to the inner strategy's lazy ranking in pool order.
    """

    def __init__(self, make_inner, points, n_candidates):
        self._make_inner = make_inner
        super().__init__(points, points.priority, n_candidates)
        del self._make_inner  # a closure: the ranking must stay picklable

    def _inner_ranking(self, points, candidates):
        return self._make_inner(take(points.X, candidates))

    def _add_candidates(self, points, rows):
        self._inner.add(take(points.X, rows))

    def _scores_of(self, points):
        return points.priority


@Substitution(meta_params=_META_PARAMS_DOC, random_state_inner=_RANDOM_STATE_INNER)
class BasePrefilter(BaseMetaStrategy):
    """Base of SubsetSampling and ProxyPrefilter: inner strategy on the top candidates.

    Warning: This class should not be used directly. Use derived classes
    instead.

    Subclasses implement ``_priority(X, estimator, offset)``. The
    ``n_candidates`` samples of highest priority go to the inner strategy,
    which ranks them; the other samples follow by decreasing priority.

    Parameters
    ----------
    %(meta_params)s

    random_state : int, RandomState instance or None, default=None
        Seed of the prefilter's own random choices. %(random_state_inner)s

    See Also
    --------
    skal.SubsetSampling : Candidates drawn at random.
    skal.ProxyPrefilter : Candidates of highest uncertainty.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import BADGE, ProxyPrefilter
    >>> from skal.base import BasePrefilter
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=300).fit(X[::10], y[::10])
    >>> strategy = ProxyPrefilter(BADGE(random_state=0), n_candidates=20,
    ...                           estimator=clf, prefit=True)
    >>> isinstance(strategy, BasePrefilter)
    True
    >>> strategy.rank(X).shape  # the 20 candidates first, then the others
    (150,)
    """

    _parameter_constraints = {
        **BaseMetaStrategy._parameter_constraints,
        "n_candidates": [Interval(Integral, 1, None, closed="left")],
    }

    def _ordering(self, X, estimator, n_select):
        if n_select is not None and n_select > self.n_candidates:
            raise ValueError(
                f"batch_size={n_select} is larger than n_candidates={self.n_candidates}: "
                f"{type(self).__name__} lets its inner strategy choose among "
                f"{self.n_candidates} candidates only. Raise n_candidates to at least "
                f"{n_select}, or lower batch_size."
            )
        return super()._ordering(X, estimator, n_select)

    def _points(self, X, estimator, offset=0):
        return _Points(X, priority=self._priority(X, estimator, offset))

    def _ranking(self, points, estimator):
        (seed,), _ = self._seeds(1)
        return _PrefilterRanking(
            lambda rows: self._inner(estimator, seed).lazy_rank(rows),
            points,
            self.n_candidates,
        )
