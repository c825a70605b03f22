"""MC dropout on a skorch net: stochastic forward passes with consistent masks.

BALD and BatchBALD (:mod:`skal.strategies._bald`) sample a net's predictions
with its dropout layers active and everything else in eval mode. The masks
are drawn from a locally seeded torch generator, once per dropout call of the
forward pass, and shared by every pool sample (consistent MC dropout).
"""

from collections.abc import Mapping
from contextlib import contextmanager

import numpy as np
import torch
from skorch.dataset import unpack_data
from skorch.utils import to_numpy
from torch import nn

from ..exceptions import EmbeddingError
from ..utils._skorch_compat import get_predict_nonlinearity
from ..utils._sklearn_compat import _num_samples
from ._estimators import _is_skorch_net, _name
from ._passes import _modes_kept, _torch_seeded


def _check_mc_dropout(estimator, purpose):
    """Raise unless ``estimator`` is a skorch net whose module has active dropout.

    A net not initialized yet passes (its module is checked again after fit).
    """
    if not _is_skorch_net(estimator):
        raise EmbeddingError(
            f"{purpose} needs a torch module with dropout (MC dropout samples its "
            f"predictions), but {_name(estimator)} is not a skorch net. "
            f"Wrap a module that has torch.nn.Dropout layers in "
            "skorch.NeuralNetClassifier, or use EntropySampling or "
            "MarginSampling, which need only predict_proba."
        )
    module = getattr(estimator, "module_", None)
    if module is None:  # not initialized yet: checked again after fit
        return
    dropouts = _dropout_modules(module)
    if not dropouts or all(d.p == 0 for d in dropouts):
        what = (
            "has no dropout layer"
            if not dropouts
            else f"has only dropout layers with p=0 ({len(dropouts)} of them)"
        )
        raise EmbeddingError(
            f"{purpose} uses MC dropout, but the module {type(module).__name__} "
            f"{what}, so every forward pass gives the same prediction and the "
            "mutual information is zero. Add one, e.g. torch.nn.Dropout(0.5) "
            "before the last linear layer (module__dropout=0.5 for the "
            "skal.toy nets), and refit."
        )


def _dropout_modules(module):
    """Every dropout submodule (any ``torch.nn.modules.dropout._DropoutNd``)."""
    return [m for m in module.modules() if isinstance(m, torch.nn.modules.dropout._DropoutNd)]


@contextmanager
def _mc_dropout_mode(net, seed):
    """Module in eval mode, torch seeded locally; everything restored on exit.

    Batch-norm statistics stay frozen. The dropout masks are drawn by
    :func:`_mc_batches` inside this context. The global torch RNG state (CPU,
    and the net's CUDA device) and every submodule's train/eval flag are
    restored on exit, even on error.
    """
    module = net.module_
    with _modes_kept(module), _torch_seeded(net, seed), torch.no_grad():
        module.eval()
        yield


def _iterator(net, X, batch_size):
    """The inputs of the batches of ``net``'s pass over ``X`` (``batch_size`` if given)."""
    dataset = net.get_dataset(X)
    if batch_size is None:
        iterator = net.get_iterator(dataset, training=False)
    else:
        kwargs = {**net.get_params_for("iterator_valid"), "batch_size": batch_size}
        iterator = net.iterator_valid(dataset, **kwargs)
    for batch in iterator:
        yield unpack_data(batch)[0]


class _NotTileable(Exception):
    """The shared-prefix fast path does not apply to this module."""


_PLAIN_DROPOUTS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)


def _draw_masks(dropout, shape, n_samples, like):
    """``(A, B)`` with ``dropout(x) = A ⊙ x + B`` for ``n_samples`` draws, each ``shape``.

    Every torch dropout acts elementwise-affinely on its input with random
    coefficients (``B = 0`` except for the alpha dropouts); they are read off
    the layer itself, in train mode, applied to ones (and zeros).
    """
    ones = torch.ones((n_samples, *shape), dtype=like.dtype, device=like.device)
    was_training = dropout.training
    dropout.train()
    try:
        if type(dropout) in _PLAIN_DROPOUTS:
            return dropout.forward(ones), None  # forward: no hooks
        device = like.device
        devices = [device.index or torch.cuda.current_device()] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            B = dropout.forward(torch.zeros_like(ones))
        return dropout.forward(ones) - B, B
    finally:
        dropout.train(was_training)


def _mc_batches(net, X, n_samples, batch_size=None, shared_prefix=True):
    """Yield MC-dropout probabilities batch by batch, shape (b, n_samples, n_classes).

    Call inside :func:`_mc_dropout_mode`. Consistent MC dropout: dropout
    sample ``k`` uses the same masks ``ω_k`` for every pool sample (drawn
    once, at the first batch, for each dropout call of the forward pass).
    With ``shared_prefix``, the first dropout layer that runs tiles its input
    ``n_samples`` times along the batch dimension (sample-major), so the
    layers before it (deterministic) run once per batch. If the output then
    does not have ``n_samples × b`` rows, or the forward pass fails, the rest
    of the pool is processed with ``n_samples`` plain passes per batch; both
    give the same probabilities, up to rounding.
    """
    module = net.module_
    nonlin = get_predict_nonlinearity(net)
    dropouts = [d for d in _dropout_modules(module) if d.p > 0]  # p=0: identity
    masks = {}
    state = {"call": 0, "calls": 0, "fast": shared_prefix, "pass": None, "rows": None}

    def reset(mod, inputs):
        state["call"] = 0

    def tile(mod, inputs):
        x = inputs[0]
        if x.shape[0] == state["rows"]:
            return (x.repeat(n_samples, *([1] * (x.ndim - 1))), *inputs[1:])
        if x.shape[0] != n_samples * state["rows"]:
            raise _NotTileable
        return None

    def apply_mask(mod, inputs, output):
        x = inputs[0]
        state["calls"] += 1
        key = (state["call"], id(mod), tuple(x.shape[1:]))
        state["call"] += 1
        if key not in masks:
            masks[key] = _draw_masks(mod, x.shape[1:], n_samples, x)
        A, B = masks[key]
        if state["pass"] is not None:  # plain pass number s
            s = state["pass"]
            return x * A[s] if B is None else x * A[s] + B[s]
        y = x.reshape(n_samples, -1, *x.shape[1:])
        y = y * A.unsqueeze(1) if B is None else y * A.unsqueeze(1) + B.unsqueeze(1)
        return y.reshape(x.shape)

    def output(Xi):
        out = net.infer(Xi)
        out = out[0] if isinstance(out, tuple) else out
        return nonlin(out)

    handles = [module.register_forward_pre_hook(reset)]
    handles += [d.register_forward_hook(apply_mask) for d in dropouts]
    tile_handles = []
    if shared_prefix:
        tile_handles = [d.register_forward_pre_hook(tile) for d in dropouts]
    try:
        for Xi in _iterator(net, X, batch_size):
            b = None if isinstance(Xi, Mapping) else _num_samples(Xi)
            state["rows"] = b
            probs = None
            if state["fast"] and b is not None:
                try:
                    out = output(Xi)
                except (_NotTileable, RuntimeError):
                    out = None
                if out is not None and out.shape[0] == n_samples * b:
                    probs = out.reshape(n_samples, b, -1).transpose(0, 1)
            if probs is None:
                if state["fast"]:  # plain passes from now on
                    state["fast"] = False
                    for handle in tile_handles:
                        handle.remove()
                outs = []
                for s in range(n_samples):
                    state["pass"] = s
                    outs.append(output(Xi))
                state["pass"] = None
                probs = torch.stack(outs, dim=1)
            if state["calls"] == 0:
                raise EmbeddingError(
                    f"No dropout layer of {type(module).__name__} was called in the "
                    "forward pass, so MC dropout gives the same prediction every "
                    "time. Call torch.nn.Dropout modules in forward (functional "
                    "F.dropout does not follow the module's mode the way skal sets it)."
                )
            yield probs.to(torch.float32)
    finally:
        for handle in handles + tile_handles:
            handle.remove()


def _mc_dropout_proba(net, X, n_samples, seed, batch_size=None, shared_prefix=True):
    """All MC-dropout probabilities at once: ndarray (n, n_samples, n_classes) float32.

    For tests and small pools; the strategies reduce batch by batch instead.
    """
    with _mc_dropout_mode(net, seed):
        return np.concatenate(
            [to_numpy(p) for p in _mc_batches(net, X, n_samples, batch_size, shared_prefix)]
        )

