"""Which pools an estimator reads as the user holds them.

The part of knowing an estimator that the pool check needs
(:func:`skal.utils._data.check_pool`): unwrapping a ``FrozenEstimator`` and a
``Pipeline``, telling a skorch net apart, and deciding whether a pool goes to
the estimator as given or as a NumPy array. :mod:`skal.embeddings` builds on it.
"""

from sklearn.base import is_regressor
from sklearn.pipeline import Pipeline

from ._data import is_numeric_frame
from ._skorch_compat import NeuralNet


def _is_regressor(estimator):
    """Whether ``estimator`` is a regressor; False for anything that is not an estimator."""
    try:
        return bool(is_regressor(estimator))
    except Exception:  # not an estimator
        return False


def _unwrap(estimator):
    """The fitted estimator inside a ``FrozenEstimator`` (any depth), else itself."""
    try:
        from sklearn.frozen import FrozenEstimator
    except ImportError:  # pragma: no cover - scikit-learn < 1.6
        return estimator
    while isinstance(estimator, FrozenEstimator):
        estimator = estimator.estimator
    return estimator


def _final_estimator(estimator):
    """The last step of a Pipeline (unwrapped), else the estimator itself."""
    estimator = _unwrap(estimator)
    if isinstance(estimator, Pipeline) and len(estimator):
        return _unwrap(estimator[-1])
    return estimator


def _is_skorch_net(estimator):
    """Whether ``estimator`` itself is a skorch net (a Pipeline is not)."""
    return isinstance(estimator, NeuralNet)


def _name(estimator):
    return type(estimator).__name__


def _reads_as_given(X, kind, estimator):
    """Whether ``estimator`` reads the pool ``X`` (of :func:`pool_kind` ``kind``) as given.

    A torch Dataset or a dict of arrays always goes as it is (a clear error
    for an estimator other than a skorch net, which cannot read one); a tensor
    does for a skorch net; a DataFrame does for a Pipeline (which preprocesses
    it itself, e.g. with a ``ColumnTransformer``), for an estimator fitted
    with feature names, and when its columns are not all numbers. Everything
    else is validated into a NumPy array, as scikit-learn estimators do.
    """
    estimator = _unwrap(estimator)
    final = _final_estimator(estimator)
    if kind in ("dataset", "dict"):
        if final is not None and not _is_skorch_net(final):
            raise ValueError(
                f"{_name(final)} reads arrays, not a pool of type {type(X).__name__}: "
                "torch Datasets and dicts of arrays are for skorch nets. Pass a NumPy "
                "array (e.g. np.stack([x for x, _ in dataset])) or use a skorch "
                + ("NeuralNetRegressor." if _is_regressor(final) else "NeuralNetClassifier.")
            )
        return True
    if estimator is None:
        return False
    if kind == "tensor":
        return _is_skorch_net(final)
    if kind == "frame":
        return (
            isinstance(estimator, Pipeline)
            or hasattr(estimator, "feature_names_in_")
            or not is_numeric_frame(X)
        )
    return False
