"""Greedy sampling for regression: GSx, GSy and iGS (Wu, Lin and Huang, 2019)."""

import numpy as np

from ..base import BaseStrategy
from ..base._strategy import _regresses
from ..embeddings._passes import predict_values
from ..selection import BaseRanking, KCenterGreedyRanking
from ..utils._data import num_samples
from ..utils._sklearn_compat import StrOptions

__all__ = ["GreedySampling"]

# Rows of the pool whose distances to every reference are computed at once.
_BLOCK = 1 << 20


def _euclidean(X, X_sq, R):
    """``‖x_n − r_m‖`` from one matrix product: ``√max(‖x‖² + ‖r‖² − 2 x·r, 0)``.

    The product form costs a BLAS call where a loop over pairs would cost
    ``n · m · d`` scalar steps; an exact duplicate may come out a rounding
    error above 0 instead of 0 (its score stays the smallest there is).
    """
    D = R @ X.T if len(R) < len(X) else (X @ R.T).T
    D = (X_sq[np.newaxis, :] + np.einsum("md,md->m", R, R)[:, np.newaxis]) - 2.0 * D
    np.maximum(D, 0.0, out=D)
    return np.sqrt(D, out=D).T


def _features(X):
    """The samples' features as a float64 matrix (n_samples, n_features)."""
    X = np.asarray(X, dtype=np.float64)
    return X.reshape(X.shape[0], -1)


class _OutputGreedyRanking(BaseRanking):
    """GSy and iGS over a growing pool: farthest-first in ``d(n, m)``.

    ``d(n, m) = |f_n − y_m|`` (``X`` None) or ``‖x_n − x_m‖ · |f_n − y_m|``;
    each next point maximizes its minimum over the references ``m``: the
    labeled set (``y_m`` its true labels) and the points picked so far (``y_m``
    their predictions ``f_m``). Ties go to the lowest index.
    """

    def __init__(self, points, ref_X, ref_y):
        X, f = points
        self._use_x = X is not None
        self._X = X
        self._sq = None if X is None else np.einsum("nd,nd->n", X, X)
        self._f = np.asarray(f, dtype=np.float64)
        self._ref_X = ref_X
        self._ref_y = np.asarray(ref_y, dtype=np.float64)
        self._picked = []
        self._available = np.ones(len(self._f), dtype=bool)
        self._min = self._distances_to_references(X, self._f)
        super().__init__(len(self._f))

    def _pairs(self, X, f, ref_X, ref_y, X_sq=None):
        """``d(n, m)`` for rows ``n`` of ``(X, f)`` and references ``m``."""
        d = np.abs(f[:, np.newaxis] - ref_y[np.newaxis, :])
        if self._use_x:
            d *= _euclidean(X, np.einsum("nd,nd->n", X, X) if X_sq is None else X_sq, ref_X)
        return d

    def _distances_to_references(self, X, f):
        """``min_m d(n, m)`` over the labeled set and the picks so far."""
        ref_y = self._ref_y
        ref_X = self._ref_X
        if self._picked:
            picked = np.asarray(self._picked)
            ref_y = np.concatenate([ref_y, self._f[picked]])
            if self._use_x:
                ref_X = np.concatenate([ref_X, self._X[picked]])
        out = np.empty(len(f))
        step = max(1, _BLOCK // max(len(ref_y), 1))
        for start in range(0, len(f), step):
            stop = start + step
            out[start:stop] = self._pairs(
                None if X is None else X[start:stop], f[start:stop], ref_X, ref_y
            ).min(axis=1)
        return out

    def _take(self, k):
        out = np.empty(k, dtype=np.intp)
        for j in range(k):
            i = int(np.argmax(np.where(self._available, self._min, -np.inf)))
            out[j] = i
            self._available[i] = False
            self._picked.append(i)
            # the pick is a reference from now on, its prediction standing for its label
            new = self._pairs(self._X, self._f, None if self._X is None else self._X[i:i + 1],
                              self._f[i:i + 1], X_sq=self._sq)[:, 0]
            np.minimum(self._min, new, out=self._min)
        return out

    def _add(self, points):
        X, f = points
        f = np.asarray(f, dtype=np.float64)
        self._min = np.concatenate([self._min, self._distances_to_references(X, f)])
        self._f = np.concatenate([self._f, f])
        if self._use_x:
            self._X = np.concatenate([self._X, X])
            self._sq = np.concatenate([self._sq, np.einsum("nd,nd->n", X, X)])
        self._available = np.concatenate([self._available, np.ones(len(f), dtype=bool)])
        return len(f)


class GreedySampling(BaseStrategy):
    """Greedy sampling for regression: GSx, GSy and iGS (Wu, Lin and Huang, 2019).

    Each next pick is the pool sample farthest from the samples whose labels
    are known, the labeled set and the samples already picked, where "far"
    depends on ``approach``. For a pool sample ``x_n`` and a reference
    ``x_m`` with label ``y_m``:

    - ``"x"`` (GSx): ``d(n, m) = ‖x_n − x_m‖``, the Euclidean distance of
      the input features: farthest-first traversal of the input space;
    - ``"y"`` (GSy): ``d(n, m) = |f(x_n) − y_m|``, with ``f`` the fitted
      regressor: samples whose predicted output is far from every known output;
    - ``"xy"`` (iGS, improved greedy sampling): ``d(n, m) = ‖x_n − x_m‖ ·
      |f(x_n) − y_m|``, both at once.

    The next pick is ``argmax_n min_m d(n, m)``, ties to the lowest pool
    index (for ``"xy"`` the minimum is taken of the product, as in the
    paper, not the product of the two minima).

    Parameters
    ----------
    estimator : estimator object, default=None
        The regressor ``f`` whose predictions ``"y"`` and ``"xy"`` compare
        with the labels: a scikit-learn regressor or a skorch
        ``NeuralNetRegressor`` with one output. Ignored by ``"x"``. ``None`` is
        allowed only inside :class:`~skal.ActiveLearner`, which supplies its
        own fitted estimator every round.

    approach : {"x", "y", "xy"}, default="xy"
        Which distance the picks maximize (above).

    prefit : bool, default=False
        Whether ``estimator`` is already fitted. If True, ``query``, ``rank``
        and ``transform`` work without calling ``fit`` (``fit`` then only
        records the labeled set; ``"y"`` and ``"xy"`` need it for the labels).
        If False, ``fit(X, y)`` fits a clone of ``estimator``.

    random_state : int, RandomState instance or None, default=None
        Seed of the first pick of ``"x"`` when there is no labeled set
        (``prefit=True`` and ``fit`` never called); with a labeled set every
        approach is deterministic.

    Attributes
    ----------
    estimator_ : estimator object or None
        The fitted regressor (``estimator`` itself when ``prefit=True``);
        None for ``"x"``.

    X_labeled_ : ndarray of shape (n_labeled, n_features)
        The labeled set given to ``fit``: the initial references.

    y_labeled_ : ndarray of shape (n_labeled,) or None
        Its labels (the true ``y_m`` of ``"y"`` and ``"xy"``), None if ``fit``
        was given none.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    CoreSet : Farthest-first in a classifier's penultimate embedding.
    QueryByCommittee : The variance of a committee of regressors.
    skal.selection.KCenterGreedyRanking : The engine of ``"x"``.

    Notes
    -----
    The paper picks one sample at a time, labels it and refits the model.
    A batch cannot wait for labels: a sample picked earlier in the same batch
    (or ranking) is a reference with its prediction ``f(x_m)`` standing for
    its unknown label (as the paper's batch version does), so ``"y"`` and
    ``"xy"`` spread a batch over the predicted outputs too. The labeled
    set's references use its true labels.

    ``"x"`` runs on skal's k-center greedy engine with the labeled set as
    the initial centers. Without a labeled set its first pick is drawn
    uniformly at random from ``random_state`` (as :class:`CoreSet` does; the
    paper starts from the sample closest to the pool's centroid), and
    ``"y"`` and ``"xy"``, which need the labels, raise an error that says to
    call ``fit(X_labeled, y_labeled)``. ``"x"`` and ``"xy"`` read the
    samples' features themselves, so their pool must be numbers; ``"y"``
    reads the pool only through the regressor.

    ``transform`` returns what the picks are computed from: the features
    (``"x"``), the predictions as a column (``"y"``), or the features with
    the predictions as a last column, ``np.column_stack([X, f(X)])``
    (``"xy"``). Cost per pick: ``O(n · n_features)`` (``"y"``: ``O(n)``),
    plus ``O(n · n_labeled · n_features)`` once.

    References
    ----------
    .. [1] D. Wu, C.-T. Lin and J. Huang, "Active learning for regression
       using greedy sampling", Information Sciences 474 (2019), pp. 90-105.
    .. [2] H. Yu and S. Kim, "Passive sampling for regression", ICDM 2010
       (GSx).

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.linear_model import Ridge
    >>> from skal import GreedySampling
    >>> X, y = make_friedman1(n_samples=300, random_state=0)
    >>> strategy = GreedySampling(Ridge(), approach="xy").fit(X[:20], y[:20])
    >>> picks = strategy.query(X[20:], batch_size=5)
    >>> picks.shape
    (5,)
    >>> bool((picks == strategy.rank(X[20:])[:5]).all())
    True
    >>> strategy.transform(X[20:]).shape  # the 10 features and the prediction
    (280, 11)

    GSx needs no regressor:

    >>> gsx = GreedySampling(approach="x").fit(X[:20])
    >>> ranking = gsx.lazy_rank(X[20:])
    >>> bool((ranking.take(5) == gsx.query(X[20:], batch_size=5)).all())
    True
    """

    _parameter_constraints = {
        **BaseStrategy._parameter_constraints,
        "approach": [StrOptions({"x", "y", "xy"})],
        "random_state": ["random_state"],
    }

    _serves_regression = True  # built for regressors
    _uses_labeled_set = True  # fit records the labeled set: the initial references

    _aliases = ("greedy",)

    def __init__(self, estimator=None, *, approach="xy", prefit=False, random_state=None):
        super().__init__(estimator=estimator, prefit=prefit)
        self.approach = approach
        self.random_state = random_state

    def _uses_x(self):
        return isinstance(self.approach, str) and "x" in self.approach

    def _uses_y(self):
        return isinstance(self.approach, str) and "y" in self.approach

    @property
    def _needs_estimator(self):
        return self._uses_y()

    @property
    def _needs_pool_values(self):
        if self._uses_x():
            return (
                f"GreedySampling(approach={self.approach!r}) measures Euclidean "
                "distances between the samples' features. Use approach='y', which "
                "reads the pool only through the regressor, for other pools."
            )
        return None

    # -- the regressor -------------------------------------------------------------

    def _require_estimator(self):
        if self._owner()[0] is None:
            raise ValueError(
                f"GreedySampling(approach={self.approach!r}) has no regressor to ask. "
                f"Pass one, e.g. GreedySampling(Ridge(), approach={self.approach!r}), use it "
                "inside ActiveLearner, which supplies its own, or use approach='x', "
                "which needs none."
            )
        return super()._require_estimator()

    def _check_estimator(self, estimator):
        if self._uses_y() and not _regresses(estimator):
            raise ValueError(
                f"GreedySampling(approach={self.approach!r}) compares a regressor's "
                f"predictions with the labels, but {type(estimator).__name__} is not a "
                "regressor. Pass a regressor, e.g. GreedySampling(Ridge(), "
                f"approach={self.approach!r}), or use approach='x', which needs no "
                "estimator."
            )

    def _check_targets(self, y, estimator):
        if self._needs_estimator:
            self._require_estimator()  # a classifier: this error, not a label-type one
        return super()._check_targets(y, estimator)

    # -- the labeled set ---------------------------------------------------------------

    def _fit(self, X, y):
        self.X_labeled_ = X
        self.y_labeled_ = None if y is None else np.asarray(y)

    def _labeled_features(self):
        X_labeled = getattr(self, "X_labeled_", None)
        if X_labeled is None or num_samples(X_labeled) == 0:
            return None
        return _features(X_labeled)

    def _labeled_targets(self):
        y_labeled = getattr(self, "y_labeled_", None)
        if y_labeled is None or len(y_labeled) == 0:
            raise ValueError(
                f"GreedySampling(approach={self.approach!r}) measures distances to the "
                "labels of the labeled set, and was given none: call "
                "fit(X_labeled, y_labeled) first (with prefit=True, fit only records "
                "the labeled set), or use approach='x', which needs no labels."
            )
        return np.asarray(y_labeled, dtype=np.float64)

    # -- what the picks are computed from ------------------------------------------------

    def _predictions(self, X, estimator):
        return predict_values(estimator, X,
                              purpose=f"GreedySampling(approach={self.approach!r})")

    def _points(self, X, estimator, offset=0):
        if self.approach == "x":
            return _features(X)
        return (_features(X) if self._uses_x() else None, self._predictions(X, estimator))

    def _ranking(self, points, estimator):
        if self.approach == "x":
            return KCenterGreedyRanking(points, X_centers=self._labeled_features(),
                                        random_state=self.random_state, dtype=np.float64)
        return _OutputGreedyRanking(points, self._labeled_features() if self._uses_x()
                                    else None, self._labeled_targets())

    def _transform(self, X, estimator):
        if self.approach == "x":
            return _features(X)
        predictions = self._predictions(X, estimator)[:, np.newaxis]
        if self.approach == "y":
            return predictions
        return np.column_stack([_features(X), predictions])
