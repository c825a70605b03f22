"""Shared base of strategies that select on an embedding of the pool."""

import torch

from ..base import BaseStrategy
from ..embeddings import _is_skorch_net, penultimate_embedding
from ..exceptions import EmbeddingError


_DEVICE_DOC = """device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where the selection engine runs (the estimator's forward pass runs on
        the estimator's own device): compiled CPU kernels, or torch on a CUDA
        GPU. ``"cuda"`` without a GPU falls back to the CPU with a
        :class:`~skal.exceptions.DeviceWarning`; ``"auto"`` picks CUDA when
        available. The same ``random_state`` gives the same picks on the CPU,
        run after run; a GPU may round differently."""


class BaseEmbeddingStrategy(BaseStrategy):
    """Base class for strategies that need an embedding (BADGE, CoreSet, k-means).

    ``_points`` and ``_transform`` default to the penultimate embedding.

    Warning: This class should not be used directly. Use derived classes
    instead.
    """

    _parameter_constraints = {
        **BaseStrategy._parameter_constraints,
        "layer": [str, None],
        "device": [str, torch.device, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self, estimator=None, *, prefit=False, layer=None, device="cpu", random_state=None
    ):
        super().__init__(estimator=estimator, prefit=prefit)
        self.layer = layer
        self.device = device
        self.random_state = random_state

    def _check_estimator(self, estimator):
        from ..utils._sklearn_compat import LinearClassifierMixin
        from sklearn.neural_network import MLPClassifier
        from sklearn.pipeline import Pipeline

        final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
        if not isinstance(final, (LinearClassifierMixin, MLPClassifier)) and not (
            _is_skorch_net(final)
        ):
            raise EmbeddingError(
                f"{type(self).__name__} needs an embedding of the pool, but "
                f"{type(final).__name__} provides none: only skorch nets (input of "
                "the last linear layer), MLPClassifier (last hidden layer) and linear "
                "models (the features) do. Use one of those, or an uncertainty "
                "strategy such as EntropySampling, which needs only predict_proba."
            )

    def _points(self, X, estimator, offset=0):
        """The penultimate embedding (strategies that select on another override)."""
        return penultimate_embedding(estimator, X, layer=self.layer)

    def _transform(self, X, estimator):
        return penultimate_embedding(estimator, X, layer=self.layer)
