"""Penultimate-layer and gradient embeddings (BADGE's ``h ⊗ (p − onehot)``).

A skorch net's embedding is the input of its last ``torch.nn.Linear`` (or of
a named layer), caught with forward hooks in one pass; an ``MLPClassifier``'s
is its last hidden layer and a linear model's its features. Nothing of size
``n_samples × n_hidden × n_classes`` is built unless :func:`gradient_embedding`
is asked for the dense form.
"""

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.linear_model._base import LinearModel
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline

from ..exceptions import EmbeddingError
from ..utils._data import num_samples
from ..utils._sklearn_compat import ACTIVATIONS, LinearClassifierMixin
from ..utils._skorch_compat import predict_proba_batches
from ._estimators import (
    _check_linear_layer,
    _final_input,
    _final_net,
    _is_skorch_net,
    _name,
    _unwrap,
)
from ._passes import _check_finite, _forward_errors, _in_chunks, predict_proba


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


def _skorch_penultimate(net, X, layer, need_proba, append_bias, loss_gradient=False):
    """Input of the last linear layer (or ``layer``) of a skorch net, in one pass.

    A forward pre-hook on every candidate layer remembers the most recent
    input; a forward hook on the whole module copies, once per batch, the input
    of the candidate that ran last into its rows of one preallocated float32
    array on the CPU (with a trailing column of ones if ``append_bias`` and that
    layer has a bias), and looks for non-finite values in those rows while they
    are in cache. With ``loss_gradient``, the second value is
    ``p − onehot(argmax p)`` in float32 (see :func:`_loss_gradient`) instead of
    the probabilities: when the net's ``predict_proba`` is skorch's own, each
    batch of probabilities is written into its rows of a second preallocated
    array, and no array of probabilities is built. Returns ``(H, proba or E or
    None, final_layer, bias_appended)``; non-finite values raise
    :class:`~skal.exceptions.EmbeddingError`.
    """
    import torch

    batches = predict_proba_batches(net, X) if need_proba and loss_gradient else None
    if need_proba and loss_gradient and batches is None:  # the net's own predict_proba
        return _with_loss_gradient(*_skorch_penultimate(net, X, layer, True, append_bias))
    module = net.module_
    candidates = _resolve_layer(module, layer)
    n_samples = num_samples(X)
    state = {"input": None, "layer": None, "final": None, "out": None, "pos": 0,
             "bias": False, "finite": True}

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
            state["bias"] = append_bias and getattr(state["layer"], "bias", None) is not None
            state["out"] = np.empty((n_samples, h.shape[1] + state["bias"]), dtype=np.float32)
        elif state["layer"] is not state["final"]:
            raise EmbeddingError(
                "The last linear layer called in the forward pass changed between "
                "batches; pass layer=<name> to choose the embedding layer explicitly."
            )
        pos = state["pos"]
        rows = state["out"][pos : pos + h.shape[0]]
        # the one copy: for a float32 net on the CPU, h is a view of the layer's input
        rows[:, : h.shape[1]] = h.numpy()
        if state["bias"]:
            rows[:, -1] = 1.0
        state["finite"] = state["finite"] and bool(np.isfinite(rows).all())
        state["pos"] = pos + h.shape[0]
        state["input"] = state["layer"] = None

    second, finite = None, True
    handles = [m.register_forward_pre_hook(remember_input) for m in candidates]
    handles.append(module.register_forward_hook(commit))
    try:
        if batches is not None:
            with _forward_errors(net, X):
                second, finite = _write_loss_gradient(batches, n_samples)
        elif need_proba:
            second = predict_proba(net, X)
        else:
            with _forward_errors(net, X):
                for _ in net.forward_iter(X, training=False):
                    pass
    finally:
        for handle in handles:
            handle.remove()
    if batches is not None and second is None:  # no batch, or not (batch, n_classes):
        # predict_proba raises the error skal gives for such probabilities
        return _with_loss_gradient(*_skorch_penultimate(net, X, layer, True, append_bias))
    if not finite:
        _check_finite(second, net, "probabilities")
    if state["out"] is None or not state["finite"]:
        _check_finite(state["out"], net, "penultimate embeddings")
    return state["out"], second, state["final"], state["bias"]


def _with_loss_gradient(H, proba, final, bias_appended):
    """:func:`_skorch_penultimate`'s values with ``proba`` turned into ``E``."""
    return H, _loss_gradient(proba, H.dtype), final, bias_appended


def _write_loss_gradient(batches, n_samples):
    """``(E, finite)``: the batches of probabilities written into one float32 array as
    ``p − onehot(argmax p)``, each while it is in cache; ``(None, True)`` if there is
    no batch or one is not 2-D."""
    E, pos, finite = None, 0, True
    for proba in batches:
        if proba.ndim != 2:
            return None, True
        if E is None:
            E = np.empty((n_samples, proba.shape[1]), dtype=np.float32)
        rows = E[pos : pos + proba.shape[0]]
        rows[...] = proba
        rows[np.arange(rows.shape[0]), np.argmax(proba, axis=1)] -= 1.0
        finite = finite and bool(np.isfinite(rows).all())
        pos += proba.shape[0]
    return E, finite


def _sklearn_penultimate(estimator, X):
    """(embedding, has_bias) for scikit-learn classifiers and regressors that have one."""
    if isinstance(estimator, Pipeline):
        return _sklearn_penultimate(*_final_input(estimator, X))
    if isinstance(estimator, (MLPClassifier, MLPRegressor)):
        activation = ACTIVATIONS[estimator.activation]  # works in place
        H = X.toarray() if hasattr(X, "toarray") else np.asarray(X, dtype=np.float64)
        for coef, intercept in zip(estimator.coefs_[:-1], estimator.intercepts_[:-1]):
            H = H @ coef + intercept
            activation(H)
        return np.asarray(H, dtype=np.float64), True
    if isinstance(estimator, (LinearClassifierMixin, LinearModel, LinearRegression)):
        if hasattr(X, "toarray"):
            X = X.toarray()
        return np.array(X, dtype=np.float64), bool(  # a copy: never the caller's X
            getattr(estimator, "fit_intercept", True)
        )
    raise EmbeddingError(
        f"{_name(estimator)} provides no embedding: only skorch nets (input of the "
        "last linear layer), MLPClassifier and MLPRegressor (last hidden layer) and "
        "linear models (the features) do. Use one of those, or an uncertainty strategy such as "
        "EntropySampling, which needs only predict_proba."
    )


def _embedding(estimator, X, layer=None, need_proba=False, append_bias=False,
               loss_gradient=False):
    """``(H, proba or None, final_layer or None)`` for any supported estimator.

    With ``append_bias``, ``H`` ends with a column of ones when the last layer
    has a bias (or intercept). With ``need_proba`` and ``loss_gradient``, the
    second value is ``_loss_gradient(proba, H.dtype)`` instead of ``proba``
    (for a skorch net, written batch by batch, without an array of
    probabilities). A pass split into chunks (``pool_chunk_size``) gives the
    same arrays.
    """
    estimator = _unwrap(estimator)
    parts = _in_chunks(
        _embedding_pass, estimator, X, layer, need_proba, append_bias, loss_gradient
    )
    if len(parts) == 1:
        return parts[0]
    H = np.concatenate([part[0] for part in parts])
    proba = None if parts[0][1] is None else np.concatenate([part[1] for part in parts])
    return H, proba, parts[0][2]


def _embedding_pass(estimator, X, layer, need_proba, append_bias, loss_gradient=False):
    if _is_skorch_net(estimator):
        H, proba, final, _ = _skorch_penultimate(
            estimator, X, layer, need_proba, append_bias, loss_gradient
        )
        return H, proba, final
    if _final_net(estimator) is not None:  # a Pipeline ending in a skorch net
        net, Xt = _final_input(estimator, X)
        return _embedding_pass(net, Xt, layer, need_proba, append_bias, loss_gradient)
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
    if need_proba and loss_gradient:
        proba = _loss_gradient(proba, H.dtype)
    return H, proba, None


def penultimate_embedding(estimator, X, *, layer=None):
    """Penultimate-layer embedding of a pool under a fitted classifier.

    The embedding is what the classifier's last layer sees: the features a
    representation strategy (:class:`~skal.CoreSet`, :class:`~skal.KMeansSampling`,
    :class:`~skal.TypiClust`...) measures distances in.

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
        For skorch nets only: the name (as in ``net.module_.named_modules()``) of
        the layer whose *input* is the embedding. ``None`` means the last
        ``torch.nn.Linear`` called in the forward pass.

    Returns
    -------
    embedding : ndarray of shape (n_samples, n_hidden)
        The embedding, one row per sample: float32 for skorch nets (what the
        network computes, gathered into one preallocated array), float64 for
        scikit-learn models.

    Raises
    ------
    EmbeddingError
        If the estimator has no embedding (e.g. ``RandomForestClassifier``).

    See Also
    --------
    gradient_embedding : BADGE's embedding, built on this one.
    check_embedding : Check that an estimator has an embedding, before fitting.

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


def _loss_gradient(proba, dtype):
    """``p − onehot(argmax p)`` in ``dtype``: the gradient of the cross-entropy of
    the predicted label with respect to the logits."""
    E = proba.astype(dtype)
    E[np.arange(E.shape[0]), np.argmax(proba, axis=1)] -= 1.0
    return E


def _gradient_factors(estimator, X, layer=None):
    """``(h, e)`` with ``g_i = h_i ⊗ e_i`` (bias as a trailing 1 in ``h``)."""
    H, E, final = _embedding(
        estimator, X, layer, need_proba=True, append_bias=True, loss_gradient=True
    )
    _check_linear_layer(
        final, layer, "The gradient embedding needs the input of a linear output layer"
    )
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

    See Also
    --------
    penultimate_embedding : The factor ``h``, without the bias column.
    skal.BADGE : The strategy that seeds k-means++ on this embedding.

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

