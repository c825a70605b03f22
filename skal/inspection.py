"""See what a strategy picked: a 2-D map of what it selects on, and class counts.

- :func:`embedding_map`: 2-D coordinates of the pool in the space a strategy
  selects in (BADGE's gradient embedding, CoreSet's penultimate embedding),
  by landmark MDS or PCA, computed from BADGE's factors without building the
  ``n × H × C`` embedding;
- :func:`picks_summary`: how many picks fall in each predicted (and, when
  known, true) class, against the pool.

:func:`skal.plotting.plot_embedding` draws the map with the picks on it.
"""

from numbers import Integral

import numpy as np
from scipy.sparse.linalg import LinearOperator, svds
from sklearn.utils import check_random_state

from .embeddings import penultimate_embedding, predict_proba
from .embeddings._estimators import _name
from .exceptions import EmbeddingError
from .selection import OuterProduct
from .utils._data import num_samples
from .utils._random import draw_seed

__all__ = ["embedding_map", "picks_summary"]

_METHODS = ("landmark_mds", "pca")


class _Points:
    """Dense rows ``Z`` or factors ``(h, e)`` with ``g_i = h_i ⊗ e_i``, in float64."""

    def __init__(self, points):
        if isinstance(points, OuterProduct):
            self.h = np.asarray(points.h, dtype=np.float64)
            self.e = np.asarray(points.e, dtype=np.float64)
            self.Z = None
            self.sq_norms = (self.h**2).sum(1) * (self.e**2).sum(1)
        else:
            self.Z = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
            self.sq_norms = (self.Z**2).sum(1)
        self.n = self.sq_norms.size

    def gram(self, rows, cols):
        """Inner products between the points ``rows`` and the points ``cols``."""
        if self.Z is not None:
            return self.Z[rows] @ self.Z[cols].T
        return (self.h[rows] @ self.h[cols].T) * (self.e[rows] @ self.e[cols].T)

    def sq_distances(self, cols):
        """Squared distances of every point to the points ``cols``: (n, len(cols))."""
        rows = slice(None)
        D = self.sq_norms[:, None] + self.sq_norms[cols][None, :] - 2 * self.gram(rows, cols)
        return np.maximum(D, 0.0)


def _check_picks(picks, n):
    """``picks`` as a 1-D integer array of positions in a pool of ``n`` samples."""
    picks = np.asarray(picks)
    if picks.ndim != 1 or picks.dtype.kind not in "iu" or (
        picks.size and (picks.min() < 0 or picks.max() >= n)
    ):
        raise ValueError(
            f"picks must be a 1-D array of positions in X (0 to {n - 1}); got {picks!r}."
        )
    return picks


def _selected_on(strategy, X):
    """What ``strategy`` selects on, for each sample of ``X``: array or OuterProduct."""
    X, estimator = strategy._validate_pool(X)
    points = strategy._points(X, estimator)
    if isinstance(points, OuterProduct) or (
        isinstance(points, np.ndarray) and points.ndim == 2
    ):
        return points
    if estimator is None:
        raise EmbeddingError(
            f"{type(strategy).__name__} selects on no embedding and has no estimator "
            "to embed the pool; use BADGE, CoreSet or another embedding strategy."
        )
    # scores only (uncertainty sampling): map the estimator's penultimate embedding
    return penultimate_embedding(estimator, X)


def _landmark_mds(points, n_landmarks, rng):
    """Landmark MDS (de Silva & Tenenbaum, 2004) to two dimensions."""
    m = min(n_landmarks, points.n)
    landmarks = np.sort(rng.choice(points.n, size=m, replace=False))
    D = points.sq_distances(landmarks)  # (n, m) squared distances
    delta = D[landmarks]  # (m, m)
    J = np.eye(m) - 1.0 / m
    B = -0.5 * J @ delta @ J
    values, vectors = np.linalg.eigh((B + B.T) / 2)
    top = np.argsort(values)[::-1][:2]
    values, vectors = values[top], vectors[:, top]
    positive = values > values.max(initial=0.0) * 1e-12
    pinv = np.zeros((2, m))
    pinv[positive] = (vectors[:, positive] / np.sqrt(values[positive])).T
    return -0.5 * (D - delta.mean(axis=0)) @ pinv.T


def _pca(points, rng):
    """The first two principal components, from the factors when given."""
    if points.Z is not None:
        Z = points.Z - points.Z.mean(axis=0)
        if min(Z.shape) <= 2:
            return np.pad(Z, ((0, 0), (0, max(0, 2 - Z.shape[1]))))[:, :2]
        U, S, _ = svds(Z, k=2, random_state=draw_seed(rng))
        out = U * S
    else:
        h, e = points.h, points.e
        H, C = h.shape[1], e.shape[1]
        mean = h.T @ e / points.n  # mean of h_i ⊗ e_i, as an (H, C) matrix

        def matvec(v):
            V = np.asarray(v).reshape(H, C)
            return ((h @ V) * e).sum(1) - (mean * V).sum()

        def rmatvec(u):
            u = np.asarray(u).ravel()
            return (h.T @ (u[:, None] * e) - u.sum() * mean).ravel()

        if min(points.n, H * C) <= 3:
            dense = (h[:, :, None] * e[:, None, :]).reshape(points.n, -1) - mean.ravel()
            return _pca(_Points(dense), rng)
        op = LinearOperator(
            (points.n, H * C), matvec=matvec, rmatvec=rmatvec, dtype=np.float64
        )
        U, S, _ = svds(op, k=2, random_state=draw_seed(rng))
        out = U * S
    out = out[:, np.argsort(-S, kind="stable")]  # largest component first
    signs = np.sign(out[np.argmax(np.abs(out), axis=0), [0, 1]])
    return out * np.where(signs == 0, 1, signs)  # a deterministic orientation


def embedding_map(strategy, X, *, method="landmark_mds", n_landmarks=500, random_state=None):
    """Two-dimensional coordinates of the pool in the space a strategy selects in.

    It shows what a strategy sees: whether its picks spread over the pool or
    cluster in one region of its embedding, which no plot of the raw inputs
    can tell.

    Parameters
    ----------
    strategy : fitted strategy
        A strategy that can ``query`` ``X``. The space is what it selects
        on: BADGE's gradient embedding (from its factors, never built), the
        penultimate embedding for CoreSet and the k-means strategies, or, for
        strategies that rank by a score, the estimator's penultimate
        embedding.
    X : pool
        The pool, as ``query`` takes it.
    method : {"landmark_mds", "pca"}, default="landmark_mds"
        Landmark MDS (de Silva & Tenenbaum, 2004), as the variable-batch
        study of BADGE uses: classical MDS of ``n_landmarks`` random samples,
        then every sample placed from its distances to them. It preserves
        distances, which is what k-means++ and k-center look at. ``"pca"``:
        the first two principal components, computed from the factors with
        an implicit SVD for BADGE.
    n_landmarks : int, default=500
        Landmark MDS only: landmarks (fewer if the pool is smaller). Cost
        ``O(n · n_landmarks · (H + C))``.
    random_state : int, RandomState instance or None, default=None
        Seed of the landmarks (or of the SVD's start vector).

    Returns
    -------
    coordinates : ndarray of shape (n_samples, 2)
        One row per pool sample, the first column along the direction of
        largest spread.

    See Also
    --------
    skal.plotting.plot_embedding : Draw these coordinates with the picks.
    picks_summary : The picks counted per class.

    References
    ----------
    .. [1] V. de Silva and J. B. Tenenbaum, "Sparse multidimensional scaling
       using landmark points", Technical report, Stanford University, 2004.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import BADGE
    >>> from skal.inspection import embedding_map
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=300).fit(X[:100], y[:100])
    >>> embedding_map(BADGE(clf, prefit=True), X[100:600], random_state=0).shape
    (500, 2)
    """
    if method not in _METHODS:
        raise ValueError(f"method={method!r} is not one of {list(_METHODS)}.")
    if not isinstance(n_landmarks, Integral) or n_landmarks < 3:
        raise ValueError(f"n_landmarks={n_landmarks!r} must be an integer >= 3.")
    rng = check_random_state(random_state)
    points = _Points(_selected_on(strategy, X))
    if method == "pca":
        return _pca(points, rng)
    return _landmark_mds(points, n_landmarks, rng)


def picks_summary(strategy, X, picks, y=None):
    """Count the picks per predicted class (and per true class), against the pool.

    The first thing to check in a batch: does it cover the classes the model
    lacks?

    Parameters
    ----------
    strategy : fitted strategy
        Its estimator predicts the classes (a strategy without one, such as
        ``RandomSampling``, gives only the true-class counts).
    X : pool
        The pool the picks index.
    picks : array-like of int
        Positions in ``X``, e.g. ``strategy.query(X, 100)``.
    y : array-like of shape (n_samples,), default=None
        True labels of the pool, when known (in a simulation).

    Returns
    -------
    summary : dict of ndarrays
        One entry per class (sorted): ``"class"``; ``"picked_predicted"``
        and ``"pool_predicted"``, the picks and the pool samples the
        estimator predicts as that class; with ``y``, ``"picked_true"`` and
        ``"pool_true"``. ``pandas.DataFrame(summary)`` gives a table.

    See Also
    --------
    embedding_map : Where the picks lie in the strategy's space.
    skal.plotting.plot_embedding : The picks drawn on that map.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import MarginSampling
    >>> from skal.inspection import picks_summary
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression().fit(X[::10], y[::10])
    >>> strategy = MarginSampling(clf, prefit=True)
    >>> summary = picks_summary(strategy, X, strategy.query(X, 10), y=y)
    >>> int(summary["picked_true"].sum()), summary["pool_true"].tolist()
    (10, [50, 50, 50])
    """
    n = num_samples(X)
    picks = _check_picks(picks, n)
    X_valid, estimator = strategy._validate_pool(X)
    classes, out = None, {}
    if estimator is not None:
        proba = predict_proba(estimator, X_valid, purpose="picks_summary")
        classes = np.asarray(getattr(estimator, "classes_", []))
        if classes.size != proba.shape[1]:
            # a net with more outputs than the classes it saw (e.g. trained without
            # some digits): columns are the labels themselves, as skorch's predict says
            classes = np.arange(proba.shape[1])
        predicted = classes[np.argmax(proba, axis=1)]
    if y is not None:
        y = np.asarray(y)
        if len(y) != n:
            raise ValueError(f"y has {len(y)} labels but X has {n} samples.")
        classes = np.union1d(classes, np.unique(y)) if classes is not None else np.unique(y)
    if classes is None:
        raise EmbeddingError(
            f"{_name(strategy)} has no estimator to predict classes; pass y, the true "
            "labels of the pool."
        )
    classes = np.unique(classes)
    out["class"] = classes

    def counts(values):
        found, count = np.unique(values, return_counts=True)
        table = dict(zip(found.tolist(), count.tolist()))
        return np.array([table.get(c, 0) for c in classes.tolist()], dtype=np.int64)

    if estimator is not None:
        out["picked_predicted"] = counts(predicted[picks])
        out["pool_predicted"] = counts(predicted)
    if y is not None:
        out["picked_true"] = counts(y[picks])
        out["pool_true"] = counts(y)
    return out
