"""What strategies look at: probabilities, penultimate and gradient embeddings.

Every function here takes a *fitted* estimator, either a skorch net or a
scikit-learn classifier, and a pool ``X``, and works batch by batch where the
estimator does (skorch nets use their own ``batch_size``, ``device`` and
iterator). Nothing of size ``n_samples × n_hidden × n_classes`` is built unless
:func:`gradient_embedding` is asked for the dense form.
"""

import copy
from contextlib import contextmanager

import numpy as np
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline

from ._config import config_context, get_config
from .exceptions import EmbeddingError
from .utils._data import is_dataset, is_numeric_frame, num_samples, take
from .utils._sklearn_compat import ACTIVATIONS, LinearClassifierMixin

__all__ = ["check_embedding", "check_predict_proba", "gradient_embedding", "penultimate_embedding", "predict_proba"]


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
                "NeuralNetClassifier."
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


def _is_skorch_net(estimator):
    try:
        from skorch import NeuralNet
    except ImportError:  # pragma: no cover - skorch is a hard dependency
        return False
    return isinstance(estimator, NeuralNet)


@contextmanager
def _net_state_kept(estimator):
    """Leave a skorch net (or a Pipeline ending in one) as it was given.

    skorch's inference puts the module in eval mode and leaves it there, and
    each torch ``DataLoader`` iterator draws a seed from the global torch
    generator: the train/eval mode of every submodule and the global CPU
    generator are restored on exit, even after an error. Other estimators
    pass through untouched.
    """
    net = _final_estimator(estimator)
    module = getattr(net, "module_", None) if _is_skorch_net(net) else None
    if module is None:
        yield
        return
    import torch

    modes = [(m, m.training) for m in module.modules()]
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        for m, training in modes:
            m.training = training


def _name(estimator):
    return type(estimator).__name__


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

        net = _final_estimator(estimator)
        if isinstance(exc, torch.OutOfMemoryError) or not _is_skorch_net(net):
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
    net = _final_estimator(estimator)
    if size is None or n <= size or not _is_skorch_net(net):
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


def check_predict_proba(estimator, purpose="this strategy"):
    """Raise a clear error unless ``estimator`` has ``predict_proba``.

    Parameters
    ----------
    estimator : estimator object
        The classifier to check.
    purpose : str, default="this strategy"
        Who needs the probabilities, for the error message.

    Raises
    ------
    EmbeddingError
        If ``estimator`` has no ``predict_proba``; the message says how to get one.

    Examples
    --------
    >>> from sklearn.svm import SVC
    >>> from skal.embeddings import check_predict_proba
    >>> check_predict_proba(SVC(probability=True))
    >>> check_predict_proba(SVC(), purpose="BADGE")
    Traceback (most recent call last):
    ...
    skal.exceptions.EmbeddingError: BADGE needs class probabilities, but SVC has no predict_proba. ...
    """
    if not hasattr(estimator, "predict_proba"):
        raise EmbeddingError(
            f"{purpose} needs class probabilities, but {_name(estimator)} has no "
            "predict_proba. Use a probabilistic classifier (e.g. LogisticRegression "
            "or a skorch NeuralNetClassifier), wrap it in "
            "sklearn.calibration.CalibratedClassifierCV, or set probability=True "
            "on SVC."
        )


def check_embedding(estimator, purpose="this strategy"):
    """Raise a clear error unless skal can embed samples with ``estimator``.

    Skorch nets (the input of the last linear layer), ``MLPClassifier``
    (the last hidden layer) and linear models (the features), alone or as a
    Pipeline's last step, give an embedding.

    Parameters
    ----------
    estimator : estimator object
        The classifier to check.
    purpose : str, default="this strategy"
        Who needs the embedding, for the error message.

    Raises
    ------
    EmbeddingError
        If ``estimator`` provides no embedding; the message names those that do.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal.embeddings import check_embedding
    >>> check_embedding(LogisticRegression())
    >>> check_embedding(RandomForestClassifier(), purpose="BADGE")
    Traceback (most recent call last):
    ...
    skal.exceptions.EmbeddingError: BADGE needs an embedding of the pool, but RandomForestClassifier provides none: ...
    """
    from sklearn.neural_network import MLPClassifier

    from .utils._sklearn_compat import LinearClassifierMixin

    final = _final_estimator(estimator)
    if not isinstance(final, (LinearClassifierMixin, MLPClassifier)) and not (
        _is_skorch_net(final)
    ):
        raise EmbeddingError(
            f"{purpose} needs an embedding of the pool, but "
            f"{type(final).__name__} provides none: only skorch nets (input of "
            "the last linear layer), MLPClassifier (last hidden layer) and linear "
            "models (the features) do. Use one of those, or an uncertainty "
            "strategy such as EntropySampling, which needs only predict_proba."
        )


def predict_proba(estimator, X, *, purpose="this strategy"):
    """Class probabilities of a fitted classifier, as a float64 array.

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

    Raises
    ------
    EmbeddingError
        If ``estimator`` has no ``predict_proba``.

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


def _resolve_layer(module, layer):
    """The submodules whose input may be the embedding."""
    import torch

    if layer is None:
        linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
        if not linears:
            raise EmbeddingError(
                f"The module {type(module).__name__} has no torch.nn.Linear layer, so "
                "skal cannot find its penultimate layer on its own. Pass layer=<name> "
                "with the name (as in module_.named_modules()) of the layer whose "
                "input is the embedding."
            )
        return linears
    named = dict(module.named_modules())
    if layer not in named:
        valid = [name for name in named if name]
        raise EmbeddingError(
            f"layer={layer!r} is not a submodule of {type(module).__name__}. "
            f"Valid names (from module_.named_modules()): {valid}."
        )
    return [named[layer]]


def _skorch_penultimate(net, X, layer, need_proba, append_bias):
    """Input of the last linear layer (or ``layer``) of a skorch net, in one pass.

    A forward pre-hook on every candidate layer remembers the most recent
    input; a forward hook on the whole module copies, once per batch, the input
    of the candidate that ran last into one preallocated float32 array on the
    CPU (with a trailing column of ones if ``append_bias`` and that layer has a
    bias). Returns ``(H, proba or None, final_layer, bias_appended)``.
    """
    import torch

    module = net.module_
    candidates = _resolve_layer(module, layer)
    n_samples = num_samples(X)
    state = {"input": None, "layer": None, "final": None, "out": None, "pos": 0}

    def remember_input(mod, inputs):
        state["input"], state["layer"] = inputs[0], mod

    def commit(mod, inputs, output):
        if state["input"] is None:
            raise EmbeddingError(
                f"layer={layer!r} was not called in the forward pass of "
                f"{type(module).__name__}; name a layer that the forward pass uses."
            )
        h = state["input"].detach()
        h = h.reshape(h.shape[0], -1).to(device="cpu", dtype=torch.float32)
        if state["final"] is None:
            state["final"] = state["layer"]
            bias = append_bias and getattr(state["layer"], "bias", None) is not None
            state["out"] = np.empty((n_samples, h.shape[1] + bias), dtype=np.float32)
            if bias:
                state["out"][:, -1] = 1.0
        elif state["layer"] is not state["final"]:
            raise EmbeddingError(
                "The last linear layer called in the forward pass changed between "
                "batches; pass layer=<name> to choose the embedding layer explicitly."
            )
        pos = state["pos"]
        state["out"][pos : pos + h.shape[0], : h.shape[1]] = h.numpy()
        state["pos"] = pos + h.shape[0]
        state["input"] = state["layer"] = None

    handles = [m.register_forward_pre_hook(remember_input) for m in candidates]
    handles.append(module.register_forward_hook(commit))
    try:
        if need_proba:
            proba = predict_proba(net, X)
        else:
            proba = None
            with _forward_errors(net, X):
                for _ in net.forward_iter(X, training=False):
                    pass
    finally:
        for handle in handles:
            handle.remove()
    bias_appended = append_bias and getattr(state["final"], "bias", None) is not None
    return state["out"], proba, state["final"], bias_appended


def _sklearn_penultimate(estimator, X):
    """(embedding, has_bias) for scikit-learn classifiers that have one."""
    if isinstance(estimator, Pipeline):
        Xt = estimator[:-1].transform(X) if len(estimator) > 1 else X
        return _sklearn_penultimate(estimator[-1], Xt)
    if isinstance(estimator, MLPClassifier):
        activation = ACTIVATIONS[estimator.activation]  # works in place
        H = X.toarray() if hasattr(X, "toarray") else np.asarray(X, dtype=np.float64)
        for coef, intercept in zip(estimator.coefs_[:-1], estimator.intercepts_[:-1]):
            H = H @ coef + intercept
            activation(H)
        return np.asarray(H, dtype=np.float64), True
    if isinstance(estimator, LinearClassifierMixin):
        if hasattr(X, "toarray"):
            X = X.toarray()
        return np.array(X, dtype=np.float64), bool(  # a copy: never the caller's X
            getattr(estimator, "fit_intercept", True)
        )
    raise EmbeddingError(
        f"{_name(estimator)} provides no embedding: only skorch nets (input of the "
        "last linear layer), MLPClassifier (last hidden layer) and linear models "
        "(the features) do. Use one of those, or an uncertainty strategy such as "
        "EntropySampling, which needs only predict_proba."
    )


def _embedding(estimator, X, layer=None, need_proba=False, append_bias=False):
    """``(H, proba or None, final_layer or None)`` for any supported estimator.

    With ``append_bias``, ``H`` ends with a column of ones when the last layer
    has a bias (or intercept). A pass split into chunks (``pool_chunk_size``)
    gives the same arrays.
    """
    estimator = _unwrap(estimator)
    parts = _in_chunks(_embedding_pass, estimator, X, layer, need_proba, append_bias)
    if len(parts) == 1:
        return parts[0]
    H = np.concatenate([part[0] for part in parts])
    proba = None if parts[0][1] is None else np.concatenate([part[1] for part in parts])
    return H, proba, parts[0][2]


def _embedding_pass(estimator, X, layer, need_proba, append_bias):
    if _is_skorch_net(estimator):
        H, proba, final, _ = _skorch_penultimate(estimator, X, layer, need_proba, append_bias)
        _check_finite(H, estimator, "penultimate embeddings")
        return H, proba, final
    if isinstance(estimator, Pipeline) and _is_skorch_net(estimator[-1]):
        Xt = estimator[:-1].transform(X) if len(estimator) > 1 else X
        return _embedding_pass(estimator[-1], Xt, layer, need_proba, append_bias)
    if layer is not None:
        raise EmbeddingError(
            f"layer={layer!r} applies to skorch nets only; {_name(estimator)} is not "
            "one. Leave layer=None."
        )
    H, has_bias = _sklearn_penultimate(estimator, X)
    _check_finite(H, estimator, "penultimate embeddings")
    if append_bias and has_bias:
        H = np.hstack([H, np.ones((H.shape[0], 1), dtype=H.dtype)])
    proba = predict_proba(estimator, X) if need_proba else None
    return H, proba, None


def penultimate_embedding(estimator, X, *, layer=None):
    """Penultimate-layer embedding of a pool under a fitted classifier.

    Parameters
    ----------
    estimator : fitted classifier
        A skorch net (the embedding is the input of the last ``torch.nn.Linear``
        called in the forward pass, found with forward hooks, so the module
        needs no change), an ``MLPClassifier`` (its last hidden layer), a linear
        model (the features themselves), or a ``Pipeline`` ending in one of those.
    X : array-like of shape (n_samples, ...)
        The pool.
    layer : str, default=None
        skorch nets only: the name (as in ``net.module_.named_modules()``) of
        the layer whose *input* is the embedding. ``None`` means the last
        ``torch.nn.Linear`` called in the forward pass.

    Returns
    -------
    embedding : ndarray of shape (n_samples, n_hidden)
        float32 for skorch nets (what the network computes, gathered into one
        preallocated array), float64 for scikit-learn models.

    Raises
    ------
    EmbeddingError
        If the estimator has no embedding (e.g. ``RandomForestClassifier``).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neural_network import MLPClassifier
    >>> from skal.embeddings import penultimate_embedding
    >>> X, y = load_iris(return_X_y=True)
    >>> mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0)
    >>> penultimate_embedding(mlp.fit(X, y), X).shape
    (150, 8)
    """
    return _embedding(estimator, X, layer)[0]


def _gradient_factors(estimator, X, layer=None):
    """``(h, e)`` with ``g_i = h_i ⊗ e_i`` (bias as a trailing 1 in ``h``)."""
    H, proba, final = _embedding(estimator, X, layer, need_proba=True, append_bias=True)
    if final is not None:
        import torch

        if not isinstance(final, torch.nn.Linear):
            raise EmbeddingError(
                f"The gradient embedding needs the input of a linear output layer, "
                f"but layer={layer!r} is a {type(final).__name__}. Name the final "
                "torch.nn.Linear layer, or leave layer=None."
            )
    E = proba.astype(H.dtype)
    E[np.arange(E.shape[0]), np.argmax(proba, axis=1)] -= 1.0
    return H, E


def gradient_embedding(estimator, X, *, layer=None, return_factors=False):
    """BADGE gradient embedding of a pool (Ash et al., 2020).

    For sample ``i`` with penultimate embedding ``h_i`` (a constant 1 appended
    when the last layer has a bias) and probabilities ``p_i``, the embedding is
    the gradient of the cross-entropy loss of the hypothesized label
    ``argmax p_i`` with respect to the last layer's weights:
    ``g_i = h_i ⊗ (p_i − onehot(argmax p_i))``.

    Parameters
    ----------
    estimator : fitted classifier
        See :func:`penultimate_embedding`; it must also have ``predict_proba``.
    X : array-like of shape (n_samples, ...)
        The pool.
    layer : str, default=None
        See :func:`penultimate_embedding`. The named layer must be the final
        ``torch.nn.Linear``.
    return_factors : bool, default=False
        If True, return the factors ``(h, e)`` instead of the dense embedding:
        ``O(n·(H + C))`` memory instead of ``O(n·H·C)``.

    Returns
    -------
    embedding : ndarray of shape (n_samples, (n_hidden + bias) * n_classes)
        Row ``i`` is ``np.outer(h_i, e_i).ravel()``. Only if
        ``return_factors=False``.
    h, e : ndarrays of shapes (n_samples, n_hidden + bias) and (n_samples, n_classes)
        Only if ``return_factors=True``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.embeddings import gradient_embedding
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression().fit(X, y)
    >>> gradient_embedding(clf, X).shape  # 4 features + bias, 3 classes
    (150, 15)
    >>> h, e = gradient_embedding(clf, X, return_factors=True)
    >>> h.shape, e.shape
    ((150, 5), (150, 3))
    """
    h, e = _gradient_factors(estimator, X, layer)
    if return_factors:
        return h, e
    return (h[:, :, None] * e[:, None, :]).reshape(h.shape[0], -1)

