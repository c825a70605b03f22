"""A fitted classifier as a differentiable torch function of its input.

The adversarial strategies (:mod:`skal.strategies._adversarial`) attack a
classifier with input gradients. A skorch net is run on its own device, in
eval mode, with its parameters frozen; an ``MLPClassifier`` or a linear
classifier is rebuilt in torch from its fitted weights (float64 on the CPU).
"""

from contextlib import contextmanager
from functools import partial

import numpy as np
from sklearn.neural_network import MLPClassifier

from ..exceptions import EmbeddingError
from ..utils._skorch_compat import _identity, get_predict_nonlinearity
from ._estimators import _final_estimator, _has_linear_output, _is_skorch_net, _name
from ._passes import _modes_kept


def _check_differentiable(estimator, purpose):
    """Raise unless ``estimator`` (or a Pipeline's last step) is differentiable here."""
    if not _has_linear_output(estimator):
        raise EmbeddingError(
            f"{purpose} attacks the classifier with input gradients, so it needs a "
            f"differentiable one, but {_name(_final_estimator(estimator))} is not: use a "
            "skorch net, an MLPClassifier or a linear classifier (LogisticRegression, "
            "LinearSVC, SGDClassifier, RidgeClassifier, ...), possibly at the end of a "
            "Pipeline. For other classifiers use MarginSampling, which ranks by the "
            "margin between the two most likely classes and needs only predict_proba."
        )


def _linear_function(estimator):
    """A linear classifier's logits (``[0, z]`` for a binary one) as a torch function."""
    import torch

    coef = estimator.coef_
    coef = coef.toarray() if hasattr(coef, "toarray") else np.asarray(coef)
    W = torch.as_tensor(np.array(coef, dtype=np.float64, ndmin=2))
    b = torch.as_tensor(
        np.broadcast_to(np.ravel(estimator.intercept_), (W.shape[0],)).astype(np.float64)
    )

    def logits(x):
        z = torch.addmm(b, x.reshape(x.shape[0], -1), W.T)
        if W.shape[0] == 1:  # binary: decision function z, class 1 iff z > 0
            return torch.cat([torch.zeros_like(z), z], dim=1)
        return z

    return logits


_TORCH_ACTIVATIONS = {
    "identity": lambda h: h,
    "relu": lambda h: h.clamp_min(0),
    "tanh": lambda h: h.tanh(),
    "logistic": lambda h: h.sigmoid(),
}


def _mlp_function(estimator):
    """An ``MLPClassifier``'s logits (``[0, z]`` for a binary one) as a torch function."""
    import torch

    if estimator.out_activation_ == "softmax":
        binary = False
    elif estimator.out_activation_ == "logistic" and estimator.n_outputs_ == 1:
        binary = True
    else:
        raise EmbeddingError(
            f"MLPClassifier with output activation {estimator.out_activation_!r} and "
            f"{estimator.n_outputs_} outputs is not a single-label classifier; the "
            "adversarial strategies need one predicted class per sample."
        )
    activation = _TORCH_ACTIVATIONS[estimator.activation]
    layers = [
        (torch.as_tensor(np.asarray(W, np.float64)), torch.as_tensor(np.asarray(c, np.float64)))
        for W, c in zip(estimator.coefs_, estimator.intercepts_)
    ]

    def logits(x):
        h = x.reshape(x.shape[0], -1)
        for i, (W, c) in enumerate(layers):
            h = torch.addmm(c, h, W)
            if i < len(layers) - 1:
                h = activation(h)
        if binary:
            return torch.cat([torch.zeros_like(h), h], dim=1)
        return h

    return logits


def _outputs_logits(net):
    """Whether the skorch module returns logits (softmax is its predict nonlinearity)."""
    import torch

    nonlin = get_predict_nonlinearity(net)
    return isinstance(nonlin, partial) and nonlin.func is torch.softmax


@contextmanager
def _skorch_function(net):
    """Yield the net's logits as a function; restore modes and requires_grad after.

    The module is put in eval mode (dropout off, batch-norm statistics frozen)
    and its parameters stop requiring gradients, so that backward passes
    compute input gradients only.
    """
    import torch

    module = net.module_
    grads = [(p, p.requires_grad) for p in module.parameters()]
    nonlin = get_predict_nonlinearity(net)
    raw_logits = _outputs_logits(net)
    dtype = next(
        (p.dtype for p in module.parameters() if p.dtype.is_floating_point), torch.float32
    )
    tiny = torch.finfo(torch.float32).tiny

    def logits(x):
        out = net.infer(x)
        if isinstance(out, tuple):  # skorch's convention: the first output
            out = out[0]
        if not raw_logits:
            proba = out if nonlin is _identity else nonlin(out)
            out = torch.log(proba.clamp_min(tiny))
        if out.ndim != 2 or out.shape[1] < 2:
            raise EmbeddingError(
                f"The net {type(net).__name__} gives class scores of shape "
                f"{tuple(out.shape)}; the adversarial strategies need one score per "
                "class, shape (n_samples, n_classes) with n_classes >= 2."
            )
        return out

    with _modes_kept(module):
        module.eval()
        for p, _ in grads:
            p.requires_grad_(False)
        try:
            yield logits, torch.device(net.device), dtype
        finally:
            for p, flag in grads:
                p.requires_grad_(flag)


@contextmanager
def _logit_function(estimator):
    """Yield ``(logits, device, dtype)``: logits as a torch function of a batch.

    skorch nets are attacked on their own device in the dtype of their
    parameters (float32 unless the module was converted); scikit-learn
    models in float64 on the CPU (what they compute with, and cheap).
    """
    import torch

    if _is_skorch_net(estimator):
        with _skorch_function(estimator) as out:
            yield out
    elif isinstance(estimator, MLPClassifier):
        yield _mlp_function(estimator), torch.device("cpu"), torch.float64
    else:
        yield _linear_function(estimator), torch.device("cpu"), torch.float64
