"""The base of the seed-set strategies: no estimator, an optional embedding.

The strategies of :mod:`skal.strategies._seed` choose a first labeled set
before any label exists; this base compares the samples in the raw features
or in a fixed, fitted embedding.
"""

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ..embeddings import penultimate_embedding
from ..embeddings._estimators import _final_net
from ..embeddings._passes import _net_state_kept
from ..utils._sklearn_compat import HasMethods
from ._strategy import BaseStrategy

__all__ = ["BaseSeedStrategy"]


class BaseSeedStrategy(BaseStrategy):
    """Base class of the seed-set strategies: no estimator, an optional embedding.

    Warning: This class should not be used directly. Use derived classes
    instead.

    Parameters
    ----------
    estimator : estimator object, default=None
        Ignored: no classifier exists yet when the seed set is chosen. Accepted
        so that every strategy has the same parameters.

    prefit : bool, default=False
        If True, ``query``, ``rank`` and ``transform`` work without calling
        ``fit``. Otherwise ``fit(X)`` (labels optional and unused) must come
        first.

    See Also
    --------
    skal.DispersionSampling : Samples far apart from each other.
    skal.FacilityLocationSampling : Samples that represent the pool.
    skal.RandomSampling : The usual seed set.

    Examples
    --------
    >>> import numpy as np
    >>> from skal import DispersionSampling
    >>> from skal.base import BaseSeedStrategy
    >>> strategy = DispersionSampling(random_state=0)
    >>> isinstance(strategy, BaseSeedStrategy)
    True
    >>> X = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> strategy.fit(X).query(X, batch_size=2)  # no labels needed
    array([2, 3])
    """

    _parameter_constraints = {
        **BaseStrategy._parameter_constraints,
        "embedding": [None, HasMethods(["transform"]), HasMethods(["predict"])],
        "random_state": ["random_state"],
    }
    _needs_estimator = False

    @property
    def _needs_pool_values(self):
        if _final_net(self.embedding) is not None:
            return None  # the net reads the pool as the user holds it
        return (
            "it compares the samples' features themselves (embedding=None) or "
            "their transform by a scikit-learn embedding. Pass embedding=<a "
            "fitted skorch net> to compare penultimate embeddings instead."
        )

    def _embed(self, X):
        """The rows compared by the strategy, float32 of shape (n_samples, n_dims)."""
        embedding = self.embedding
        if embedding is None:
            Z = X.reshape(X.shape[0], -1)
        else:
            try:
                check_is_fitted(embedding)
            except NotFittedError as exc:
                raise NotFittedError(
                    f"{type(self).__name__}'s embedding {type(embedding).__name__} is "
                    "not fitted. Fit it first (e.g. a PCA on the unlabeled data, or "
                    "load a pre-trained network); the strategy never fits it."
                ) from exc
            if hasattr(embedding, "transform"):
                Z = embedding.transform(X)
                if hasattr(Z, "toarray"):
                    Z = Z.toarray()
            else:
                with _net_state_kept(embedding):
                    Z = penultimate_embedding(embedding, X)
            Z = np.asarray(Z)
            Z = Z.reshape(Z.shape[0], -1)
        return np.asarray(Z, dtype=np.float32)

    def _points(self, X, estimator, offset=0):
        return self._embed(X)

    def _transform(self, X, estimator):
        return self._embed(X).astype(np.float64)
