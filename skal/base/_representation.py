"""The base of the strategies that compare labeled and pool samples in one space.

TypiClust and ProbCover (:mod:`skal.strategies._typiclust`,
:mod:`skal.strategies._probcover`) look at the pool *and* the labeled set in one
representation: the classifier's penultimate embedding, the raw features, or a
fixed representation the user brings. This base computes it and records the
labeled set.
"""

import numpy as np

from ..embeddings import check_embedding, penultimate_embedding
from ..utils._sklearn_compat import HasMethods, StrOptions
from ._seed import BaseSeedStrategy

__all__ = ["BaseRepresentationStrategy"]


class BaseRepresentationStrategy(BaseSeedStrategy):
    """Base class of strategies that compare labeled and pool samples in one space.

    Warning: This class should not be used directly. Use derived classes
    instead.

    The representation is the ``embedding`` parameter (see the derived
    classes): an estimator's penultimate embedding, the raw features or a
    fixed transformer. ``fit(X, y)`` records the labeled set ``X``;
    ``fit(X)`` without labels records none. Subclasses implement
    ``_ranking(points, estimator)`` and may call ``_labeled_points(estimator)``.

    Parameters
    ----------
    estimator : estimator object, default=None
        The classifier whose penultimate embedding is the representation,
        when the derived class's ``embedding`` says so.

    prefit : bool, default=False
        Whether ``estimator`` is already fitted (as for every strategy).

    See Also
    --------
    skal.TypiClust : Typical samples of the clusters the labeled set misses.
    skal.ProbCover : Samples that cover the most uncovered pool samples.

    Examples
    --------
    >>> import numpy as np
    >>> from skal import TypiClust
    >>> from skal.base import BaseRepresentationStrategy
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal(8, 1, (20, 2))])
    >>> strategy = TypiClust(n_new_clusters=2, random_state=0)
    >>> isinstance(strategy, BaseRepresentationStrategy)
    True
    >>> picks = strategy.fit(X[:30], np.zeros(30, dtype=int)).query(X[30:], batch_size=1)
    >>> picks.shape  # a sample of the blob the labeled set does not cover
    (1,)
    """

    _uses_labeled_set = True  # fit records the labeled set: prefit picks differ
    _serves_regression = True  # the estimator gives an embedding only

    _parameter_constraints = {
        **BaseSeedStrategy._parameter_constraints,
        "embedding": [
            StrOptions({"auto", "estimator"}),
            None,
            HasMethods(["transform"]),
            HasMethods(["predict"]),
        ],
    }

    def _uses_estimator(self):
        embedding = self.embedding
        if isinstance(embedding, str) and embedding == "auto":
            return self._owner()[0] is not None
        return isinstance(embedding, str) and embedding == "estimator"

    @property
    def _needs_estimator(self):
        return self._uses_estimator()

    @property
    def _needs_pool_values(self):
        if self._uses_estimator():
            return None  # the estimator reads the pool as the user holds it
        if isinstance(self.embedding, str):  # "auto" without an estimator
            return (
                "it compares the samples' features themselves (no estimator, "
                "embedding='auto'). Pass an estimator or embedding=<a fitted skorch "
                "net> to compare penultimate embeddings instead."
            )
        return super()._needs_pool_values

    def _check_estimator(self, estimator):
        check_embedding(estimator, purpose=type(self).__name__)

    def _embed_with(self, X, estimator):
        """The representation of ``X``, float32 of shape (n_samples, n_dims)."""
        if self._uses_estimator():
            Z = np.asarray(penultimate_embedding(estimator, X))
            return np.asarray(Z.reshape(Z.shape[0], -1), dtype=np.float32)
        if isinstance(self.embedding, str):  # "auto" without an estimator
            return np.asarray(X.reshape(X.shape[0], -1), dtype=np.float32)
        return self._embed(X)

    def _fit(self, X, y):
        self.X_labeled_ = X if y is not None else None

    def _labeled_points(self, estimator):
        """The labeled set's representation, None when there is no labeled set."""
        X_labeled = getattr(self, "X_labeled_", None)
        if X_labeled is None or len(X_labeled) == 0:
            return None
        return self._embed_with(X_labeled, estimator)

    def _points(self, X, estimator, offset=0):
        return self._embed_with(X, estimator)

    def _transform(self, X, estimator):
        return self._embed_with(X, estimator).astype(np.float64)
