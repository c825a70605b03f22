"""Feature maps of a regression model's output: last-layer and sketched gradients.

The kernels of Holzmüller et al. (2023), "A Framework and Benchmark for Deep
Batch Active Learning for Regression", as explicit features (float64 arrays;
the sketch is computed in the network's own precision, float32 as a rule):

- ``"ll"``: the gradient of the output with respect to the last layer's
  weights, i.e. the last layer's input with a 1 for the bias;
- ``"grad_rp"``: the gradient of the output with respect to the weights of
  every ``torch.nn.Linear`` layer of a skorch net, compressed to
  ``sketch_dim`` features by a random tensor sketch, one layer at a time, so
  that the full gradient is never built.
"""

import numpy as np

from ..exceptions import EmbeddingError
from ._estimators import _final_input, _final_net, _name, check_embedding
from ._passes import _check_finite, _forward_errors, _modes_kept
from ._penultimate import _embedding


def last_layer_features(estimator, X, layer=None):
    """``(n, n_hidden + bias)`` float64: the penultimate embedding with a column of ones.

    For a single-output regressor this is the gradient of the output with
    respect to the last layer's weights (and bias).
    """
    return np.asarray(_embedding(estimator, X, layer, append_bias=True)[0], dtype=np.float64)


def check_gradient_net(estimator, purpose):
    """Raise unless ``estimator`` is (or ends in) a skorch net whose module has Linear layers."""
    net = _final_net(estimator)
    if net is None:
        raise EmbeddingError(
            f"{purpose} with kernel='grad_rp' needs the gradient of a network's output with "
            f"respect to all its linear layers, so it needs a skorch net (e.g. "
            f"NeuralNetRegressor), but {_name(estimator)} is not one. Use kernel='ll' (the "
            "last layer's features), which works with MLPRegressor and linear regressors."
        )
    if hasattr(net, "module_"):
        import torch

        if not any(isinstance(m, torch.nn.Linear) for m in net.module_.modules()):
            raise EmbeddingError(
                f"{purpose} with kernel='grad_rp' sketches the gradients of the "
                f"torch.nn.Linear layers, but {type(net.module_).__name__} has none. Use "
                "kernel='ll' with layer=<name>."
            )


def check_last_layer(estimator, purpose):
    """Raise unless ``estimator`` has a last layer whose input skal can read."""
    check_embedding(estimator, purpose=purpose)


def sketch_matrices(shapes, sketch_dim, seed):
    """The Gaussian matrices of the tensor sketch, drawn in layer order.

    Parameters
    ----------
    shapes : list of (int, int)
        ``(n_inputs, n_outputs)`` of each linear layer, ``n_inputs`` counting the
        bias's 1 if the layer has a bias.
    sketch_dim : int
        Number of sketched features ``m``.
    seed : int
        Seed of a ``numpy.random.RandomState``.

    Returns
    -------
    matrices : list of (ndarray, ndarray)
        Per layer ``(A, B)`` of shapes ``(n_inputs, m)`` and ``(n_outputs, m)``
        with independent standard normal entries (``A`` drawn before ``B``).
    """
    rng = np.random.RandomState(seed)
    return [(rng.standard_normal((n_in, sketch_dim)), rng.standard_normal((n_out, sketch_dim)))
            for n_in, n_out in shapes]


def _linear_layers(module):
    import torch

    return [m for m in module.modules() if isinstance(m, torch.nn.Linear)]


def _layer_shapes(layers):
    return [(m.in_features + (m.bias is not None), m.out_features) for m in layers]


def sketched_gradient_features(estimator, X, sketch_dim, seed):
    """``(n, sketch_dim)`` float64: the sketched gradient of a skorch net's output.

    For sample ``x`` and linear layer ``l`` with input ``a_l`` (a 1 appended
    for the bias) and ``g_l = ∂f(x)/∂z_l`` (the gradient of the output with
    respect to the layer's output ``z_l``), the gradient with respect to the
    layer's weights is ``g_l a_lᵀ``. Its sketch is
    ``(a_l A_l) ⊙ (g_l B_l) / √m`` with the Gaussian matrices of
    :func:`sketch_matrices`, and the features are the sum over the layers, so
    that ``E[⟨φ(x), φ(x')⟩] = Σ_l ⟨a_l, a'_l⟩ ⟨g_l, g'_l⟩``, the inner product of
    the full gradients. One forward and one backward pass per batch (the net's
    own iterator and batch size), with the module in eval mode; per-sample
    gradients come from the gradient of the batch's summed output, so the
    module must treat the samples of a batch independently (elementwise
    activations, no batch statistics in eval mode).
    """
    import torch
    from skorch.dataset import unpack_data

    net, X = _final_input(estimator, X)
    module = net.module_
    layers = _linear_layers(module)
    matrices = sketch_matrices(_layer_shapes(layers), sketch_dim, seed)
    params = [p for m in layers for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    state = {"calls": {}}

    def remember(mod, inputs, output):
        if mod in state["calls"]:
            raise EmbeddingError(
                f"The linear layer {type(mod).__name__} of {type(module).__name__} is called "
                "more than once in a forward pass; kernel='grad_rp' needs each "
                "torch.nn.Linear called once (or use kernel='ll')."
            )
        state["calls"][mod] = (inputs[0], output)

    handles = [m.register_forward_hook(remember) for m in layers]
    parts = []
    try:
        for p in params:  # the outputs must require grad, whatever the net froze
            p.requires_grad_(True)
        with _modes_kept(module), torch.enable_grad(), _forward_errors(net, X):
            module.eval()
            device = next(iter(params)).device
            # the products in the net's own precision (float32 as a rule: what it
            # computes its gradients in), the features gathered in float64
            dtype = next(iter(params)).dtype
            on_device = [
                (torch.as_tensor(A, device=device, dtype=dtype),
                 torch.as_tensor(B, device=device, dtype=dtype))
                for A, B in matrices
            ]
            for batch in net.get_iterator(net.get_dataset(X), training=False):
                state["calls"] = {}
                out = net.infer(unpack_data(batch)[0])
                if isinstance(out, (tuple, list)):
                    out = out[0]
                if out.ndim > 2 or (out.ndim == 2 and out.shape[1] != 1):
                    raise EmbeddingError(
                        f"kernel='grad_rp' is the kernel of a single regression output, but "
                        f"{_name(net)} gives {tuple(out.shape[1:])} outputs per sample. Use a "
                        "net with one output, or kernel='ll'."
                    )
                called = [m for m in layers if m in state["calls"]]
                outputs = [state["calls"][m][1] for m in called]
                grads = torch.autograd.grad(out.sum(), outputs, allow_unused=True)
                features = torch.zeros(len(out), sketch_dim, dtype=dtype, device=device)
                for m, g in zip(called, grads):
                    if g is None:  # a layer the output does not depend on
                        continue
                    A, B = on_device[layers.index(m)]
                    a = state["calls"][m][0].detach().reshape(len(out), -1).to(dtype)
                    if m.bias is not None:
                        a = torch.cat([a, a.new_ones(len(a), 1)], dim=1)
                    g = g.detach().reshape(len(out), -1).to(dtype)
                    features.addcmul_(a @ A, g @ B)
                parts.append((features / np.sqrt(sketch_dim)).cpu().numpy().astype(np.float64))
                state["calls"] = {}
    finally:
        for handle in handles:
            handle.remove()
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)
    F = np.concatenate(parts) if parts else np.empty((0, sketch_dim))
    _check_finite(F, net, "gradient features")
    return F
