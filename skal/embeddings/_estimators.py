"""What kind of estimator skal is given, and where its last layer is.

The one place that looks inside an estimator: it unwraps a
``FrozenEstimator`` and a ``Pipeline``, tells skorch nets, ``MLPClassifier``
and linear models apart, and reads the weights of their last layer. Nothing
here runs a forward pass (see :mod:`skal.embeddings._passes`).
"""

import numpy as np
from sklearn.base import is_regressor
from sklearn.linear_model import LinearRegression
from sklearn.linear_model._base import LinearModel
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline

from ..exceptions import EmbeddingError
from ..utils._sklearn_compat import LinearClassifierMixin
from ..utils._readers import _final_estimator, _is_skorch_net, _name, _unwrap

# scikit-learn models whose last layer skal reads: MLPs (the output layer) and linear
# models (coef_ and intercept_), classifiers and regressors (Ridge, Lasso...)
_SKLEARN_LINEAR_OUTPUT = (
    LinearClassifierMixin, LinearModel, LinearRegression, MLPClassifier, MLPRegressor
)

# How far predict_proba may be from the softmax of the last layer's output.
_PROBA_ATOL = 1e-3


def _final_input(estimator, X):
    """``(final, Xt)``: a Pipeline's last step (unwrapped) and ``X`` through the others.

    Any other estimator is returned (unwrapped) with ``X`` as it is. The last
    step may itself be a Pipeline; callers that handle nested Pipelines call
    this again on it.
    """
    estimator = _unwrap(estimator)
    if isinstance(estimator, Pipeline) and len(estimator):
        Xt = estimator[:-1].transform(X) if len(estimator) > 1 else X
        return _unwrap(estimator[-1]), Xt
    return estimator, X


def _final_net(estimator):
    """The skorch net ``estimator`` is or ends in (see :func:`_final_estimator`), else None."""
    net = _final_estimator(estimator)
    return net if _is_skorch_net(net) else None


def _has_linear_output(estimator):
    """Whether skal can read the last layer of ``estimator`` (after a Pipeline's steps).

    Skorch nets (the last ``torch.nn.Linear`` of the module),
    ``MLPClassifier`` (its output layer) and linear classifiers (``coef_``
    and ``intercept_``) have one: they give embeddings, gradient embeddings
    and differentiable logits.
    """
    final = _final_estimator(estimator)
    return _is_skorch_net(final) or isinstance(final, _SKLEARN_LINEAR_OUTPUT)


def check_predict_proba(estimator, purpose="this strategy"):
    """Raise a clear error unless ``estimator`` has ``predict_proba``.

    Strategies call it before fitting, so that a classifier without
    probabilities fails at once, with a message that says how to get them,
    rather than after an expensive fit.

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

    See Also
    --------
    check_embedding : The same check for strategies that need an embedding.
    predict_proba : The batched probabilities the strategies then compute.

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

    See Also
    --------
    check_predict_proba : The same check for strategies that need probabilities.
    penultimate_embedding : The embedding this check promises.

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
    if not _has_linear_output(estimator):
        raise EmbeddingError(
            f"{purpose} needs an embedding of the pool, but "
            f"{_name(_final_estimator(estimator))} provides none: only skorch nets (input of "
            "the last linear layer), MLPClassifier or MLPRegressor (last hidden layer) and linear "
            "models (the features) do. Use one of those, or "
            + (
                "a strategy that needs only predictions, such as QueryByCommittee or "
                "GreedySampling(approach='y')."
                if is_regressor(_final_estimator(estimator))
                else "an uncertainty strategy such as EntropySampling, which needs only "
                "predict_proba."
            )
        )


# --------------------------------------------------------------------------
# the last layer
# --------------------------------------------------------------------------


def _check_linear_layer(final, layer, need):
    """Raise unless the module layer ``final`` (None for scikit-learn models) is linear.

    ``need`` starts the message: what needs a linear output layer, and why.
    """
    if final is None:
        return
    import torch

    if not isinstance(final, torch.nn.Linear):
        raise EmbeddingError(
            f"{need}, but layer={layer!r} is a {type(final).__name__}. Name the final "
            "torch.nn.Linear layer, or leave layer=None."
        )


def _last_layer(estimator, final, width, layer, purpose):
    """Weights of the final layer as ``(n_outputs, width)`` float64, bias last.

    ``final`` is the ``torch.nn.Linear`` whose input is the embedding (skorch
    nets), or None for scikit-learn models, whose ``coefs_``/``coef_`` and
    ``intercepts_``/``intercept_`` are read; ``width`` is the number of
    columns of the embedding (with a trailing 1 for the bias).
    """
    if final is not None:
        import torch

        _check_linear_layer(final, layer, f"{purpose} simulates a step on a linear output layer")
        W = final.weight.detach().to(device="cpu", dtype=torch.float64).numpy()
        if final.bias is not None:
            b = final.bias.detach().to(device="cpu", dtype=torch.float64).numpy()
            W = np.hstack([W, b[:, np.newaxis]])
    else:
        model = _final_estimator(estimator)
        if isinstance(model, MLPClassifier):
            coef, intercept = model.coefs_[-1].T, model.intercepts_[-1]
        else:
            coef, intercept = np.atleast_2d(model.coef_), getattr(model, "intercept_", 0.0)
        W = np.asarray(coef, dtype=np.float64)
        if width == W.shape[1] + 1:
            b = np.broadcast_to(np.asarray(intercept, dtype=np.float64), (W.shape[0],))
            W = np.hstack([W, b[:, np.newaxis]])
    if W.shape[1] != width:
        raise EmbeddingError(
            f"The final layer has {W.shape[1]} inputs (bias included) but its input "
            f"has {width} columns; {purpose} needs the weights of the layer whose input "
            "is the embedding. Pass layer=<name of the final torch.nn.Linear>."
        )
    return W


def _check_outputs(n_outputs, n_classes, estimator, purpose):
    """``n_outputs`` if the last layer gives one output per class (or one for two)."""
    if n_outputs == n_classes or (n_outputs == 1 and n_classes == 2):
        return n_outputs
    raise EmbeddingError(
        f"The final layer of {_name(estimator)} has {n_outputs} outputs but "
        f"predict_proba has {n_classes} columns; {purpose} needs one output per class "
        "(softmax) or a single output for two classes (sigmoid)."
    )


def _softmax_outputs(Z, n_classes):
    """Class probabilities from logits ``Z`` of shape (n, n_outputs), in NumPy."""
    if Z.shape[1] == 1 and n_classes == 2:
        Z = np.hstack([np.zeros_like(Z), Z])
    Z = Z - Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    return P / P.sum(axis=1, keepdims=True)


def _check_softmax(H, W, proba, estimator, purpose):
    """Raise unless ``proba`` is the softmax (sigmoid) of the last layer ``H @ W.T``."""
    diff = np.max(np.abs(_softmax_outputs(H @ W.T, proba.shape[1]) - proba))
    if not diff <= _PROBA_ATOL:
        raise EmbeddingError(
            f"{purpose} simulates gradient steps on the last linear layer, so it needs "
            "predict_proba to be the softmax of that layer's output (the sigmoid for "
            f"one output). For {_name(estimator)} they differ by up to "
            f"{diff:.3g}: the module transforms the output of its last linear layer "
            "in some other way. Return logits (CrossEntropyLoss) or their softmax "
            "(NLLLoss), or pass layer=<name of the final torch.nn.Linear>."
        )
