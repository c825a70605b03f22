"""Forward passes over a pool: net state, errors, chunks, probabilities.

A skorch net runs its passes with its own ``batch_size``, ``device`` and
iterator; skal leaves its train/eval flags and torch's global generators as
they were, turns shape errors into clear ones, and, with
``pool_chunk_size``, splits a pass into chunks made of the very batches of
one pass.
"""

import copy
from contextlib import contextmanager

import numpy as np

from .._config import config_context, get_config
from ..exceptions import EmbeddingError
from ..utils._data import is_dataset, num_samples, take
from ..utils._random import TORCH_RNG_LOCK
from ._estimators import _final_net, _name, check_predict_proba


@contextmanager
def _modes_kept(module):
    """Restore the train/eval flag of every submodule of ``module`` on exit, even after an error."""
    modes = [(m, m.training) for m in module.modules()]
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


@contextmanager
def _net_state_kept(estimator):
    """Leave a skorch net (or a Pipeline ending in one) as it was given.

    skorch's inference puts the module in eval mode and leaves it there, and
    each torch ``DataLoader`` iterator draws a seed from the global torch
    generator: the train/eval mode of every submodule and the global CPU
    generator are restored on exit, even after an error. Other estimators
    pass through untouched.
    """
    module = getattr(_final_net(estimator), "module_", None)
    if module is None:
        yield
        return
    import torch

    with _modes_kept(module), torch.random.fork_rng(devices=[]):
        yield


@contextmanager
def _torch_seeded(net, seed):
    """Seed torch (CPU and the net's CUDA device), leaving the global generators as they were.

    Does nothing if ``seed`` or ``net`` is None. The block holds a process-wide
    lock: torch's generators are global, so seeded fits in threads of one
    process (a Dask worker running two trials) take turns.
    """
    if seed is None or net is None:
        yield
        return
    import torch

    devices = []
    device = getattr(net, "device", None)
    if device is not None and torch.device(device).type == "cuda" and torch.cuda.is_available():
        index = torch.device(device).index
        devices = [torch.cuda.current_device() if index is None else index]
    with TORCH_RNG_LOCK, torch.random.fork_rng(devices=devices):
        torch.random.default_generator.manual_seed(seed)
        for index in devices:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


def _sample_shape(X):
    """Shape of one sample of a pool (None if it cannot be told cheaply)."""
    if hasattr(X, "shape") and len(X.shape) >= 1:
        return tuple(X.shape[1:])
    if is_dataset(X) and len(X):
        item = X[0]
        x = item[0] if isinstance(item, (tuple, list)) else item
        return tuple(x.shape) if hasattr(x, "shape") else None
    return None


def _first_layer(module):
    """A description of what the first layer with weights expects, or ''."""
    import torch

    for mod in module.modules():
        if isinstance(mod, torch.nn.Linear):
            return f"its first layer is Linear(in_features={mod.in_features}, ...)"
        if isinstance(mod, torch.nn.modules.conv._ConvNd):
            dims = len(mod.kernel_size)
            return (
                f"its first layer is {type(mod).__name__}(in_channels={mod.in_channels}"
                f", ...), which takes samples of shape ({mod.in_channels}, "
                + ", ".join(["size"] * dims) + ")"
            )
        if next(mod.parameters(recurse=False), None) is not None:
            return ""
    return ""


@contextmanager
def _forward_errors(estimator, X):
    """Turn torch's shape errors in a skorch net's forward pass into clear ones."""
    try:
        yield
    except RuntimeError as exc:
        import torch

        net = _final_net(estimator)
        if isinstance(exc, torch.OutOfMemoryError) or net is None:
            raise
        shape = _sample_shape(X)
        expected = _first_layer(net.module_) if hasattr(net, "module_") else ""
        raise ValueError(
            f"{_name(net)} could not run its forward pass on the pool "
            f"({type(X).__name__}"
            + (f" of samples shaped {shape}" if shape is not None else "")
            + ")"
            + (f"; {expected}" if expected else "")
            + f". Pass samples shaped like the ones the net was trained on. "
            f"torch said: {exc}"
        ) from exc


def _check_finite(A, estimator, what):
    if np.isfinite(np.add.reduce(A, axis=None, dtype=np.float64)):
        return  # one reduction, no n x d mask (NaN and inf propagate into the sum)
    bad = ~np.isfinite(A).all(axis=tuple(range(1, A.ndim)))
    if bad.any():
        raise EmbeddingError(
            f"{_name(estimator)} produced non-finite {what} (NaN or infinity) for "
            f"{int(bad.sum())} of {bad.size} samples, e.g. sample "
            f"{int(np.flatnonzero(bad)[0])}: the model has probably diverged during "
            "training. Refit it (for a network, with a lower learning rate, or "
            "gradient clipping) and query again; no pick is possible from "
            "non-finite outputs."
        )


def _chunk_bounds(estimator, X):
    """``[(start, stop), ...]`` of the chunks a pass is split into, or None.

    See :func:`skal.set_config`: chunks of ``pool_chunk_size`` samples,
    rounded up to a multiple of a skorch net's batch size. Only a skorch net's
    passes are split: its chunks are made of the very batches of one pass, so
    the outputs are bit for bit the same. (A scikit-learn model computes the
    whole array at once, and BLAS may round a smaller block differently.)
    """
    size = get_config()["pool_chunk_size"]
    n = num_samples(X)
    net = _final_net(estimator)
    if size is None or n <= size or net is None:
        return None
    batch = net.get_params_for("iterator_valid").get("batch_size", net.batch_size)
    if isinstance(batch, int) and batch > 0:
        size = -(-size // batch) * batch
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def _chunk_task(function, estimator, X, args):
    # a copy: threads of one process must not share a net's forward hooks;
    # and a chunk is never split again (the config is per thread)
    with _net_state_kept(estimator), config_context(pool_chunk_size=None):
        return function(copy.deepcopy(estimator), X, *args)


def _in_chunks(function, estimator, X, *args):
    """``[function(estimator, X, *args)]``, or its values on chunks of ``X``.

    The chunks are joblib tasks (:class:`sklearn.utils.parallel.Parallel`, so
    ``joblib.parallel_config`` decides where they run, e.g. on a Dask cluster).
    """
    bounds = _chunk_bounds(estimator, X)
    if bounds is None:
        return [function(estimator, X, *args)]
    from sklearn.utils.parallel import Parallel, delayed

    return Parallel()(
        delayed(_chunk_task)(function, estimator, take(X, np.arange(a, b)), args)
        for a, b in bounds
    )


def _proba_pass(estimator, X):
    with _forward_errors(estimator, X):
        return np.asarray(estimator.predict_proba(X), dtype=np.float64)


def predict_proba(estimator, X, *, purpose="this strategy"):
    """Class probabilities of a fitted classifier, as a float64 array.

    Unlike calling ``estimator.predict_proba`` directly, a large pool is split
    into chunks when :func:`skal.set_config` sets ``pool_chunk_size``, and a
    wrong shape or a non-finite probability raises a clear error.

    Parameters
    ----------
    estimator : fitted classifier
        A scikit-learn classifier or a skorch ``NeuralNetClassifier``; its own
        ``predict_proba`` is used, so skorch's output convention (module
        returning probabilities for ``NLLLoss`` or logits for
        ``CrossEntropyLoss``, via ``predict_nonlinearity``) is respected.
    X : array-like of shape (n_samples, ...)
        The samples.
    purpose : str, default="this strategy"
        Who needs the probabilities, for the error message.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        The probability of each class (columns in the order of
        ``estimator.classes_``) for each sample.

    Raises
    ------
    EmbeddingError
        If ``estimator`` has no ``predict_proba``.

    See Also
    --------
    check_predict_proba : The check made first, without computing anything.
    skal.uncertainty.entropy_score : A score computed from these probabilities.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.embeddings import predict_proba
    >>> X, y = load_iris(return_X_y=True)
    >>> predict_proba(LogisticRegression().fit(X, y), X[:2]).shape
    (2, 3)
    """
    check_predict_proba(estimator, purpose)
    parts = _in_chunks(_proba_pass, estimator, X)
    proba = parts[0] if len(parts) == 1 else np.concatenate(parts)
    if proba.ndim != 2:
        raise EmbeddingError(
            f"{_name(estimator)}.predict_proba returned an array of shape "
            f"{proba.shape}; {purpose} needs shape (n_samples, n_classes)."
        )
    _check_finite(proba, estimator, "probabilities")
    return proba


def _predict_pass(estimator, X):
    with _forward_errors(estimator, X):
        return np.asarray(estimator.predict(X), dtype=np.float64)


def predict_values(estimator, X, *, purpose="this strategy"):
    """A fitted regressor's predictions, one float64 per sample.

    As :func:`predict_proba` for regressors: ``estimator.predict`` on the
    pool (in chunks when :func:`skal.set_config` sets ``pool_chunk_size``),
    a skorch regressor's column of outputs flattened, and a clear error for a
    model with several outputs or a non-finite prediction.

    Parameters
    ----------
    estimator : fitted regressor
        A scikit-learn regressor or a skorch ``NeuralNetRegressor`` with one
        output.
    X : array-like of shape (n_samples, ...)
        The samples.
    purpose : str, default="this strategy"
        Who needs the predictions, for the error message.

    Returns
    -------
    predictions : ndarray of shape (n_samples,)
        ``f(x)`` for each sample.
    """
    if not hasattr(estimator, "predict"):
        raise EmbeddingError(
            f"{purpose} needs the estimator's predictions, but {_name(estimator)} "
            "has no predict method."
        )
    parts = _in_chunks(_predict_pass, estimator, X)
    values = parts[0] if len(parts) == 1 else np.concatenate(parts)
    n = num_samples(X)
    if values.size != n:
        raise EmbeddingError(
            f"{_name(estimator)}.predict returned an array of shape {values.shape} for "
            f"{n} samples; {purpose} needs one prediction per sample (a regressor "
            "with a single output)."
        )
    values = values.reshape(n)
    _check_finite(values, estimator, "predictions")
    return values
