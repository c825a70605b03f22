"""CoreSet: k-center greedy on penultimate embeddings."""

from ..base import _DEVICE_DOC, _SHARED_PARAMS_DOC, BaseEmbeddingStrategy
from ..embeddings import penultimate_embedding
from ..selection import KCenterGreedyRanking
from ..utils._docstring import Substitution

__all__ = ["CoreSet"]


@Substitution(shared_params=_SHARED_PARAMS_DOC, device=_DEVICE_DOC)
class CoreSet(BaseEmbeddingStrategy):
    """Core-set selection by k-center greedy (Sener & Savarese, 2018).

    Each next sample is the pool sample farthest (in the penultimate
    embedding) from its nearest center, where the centers are the labeled
    set given to ``fit`` and the samples chosen so far: the batch covers the
    data the model has not seen.

    Parameters
    ----------
    %(shared_params)s

    layer : str, default=None
        For skorch nets only: the name of the layer whose *input* is the
        embedding. ``None`` means the last ``torch.nn.Linear`` called in the
        forward pass (the penultimate activations).

    %(device)s

    random_state : int, RandomState instance or None, default=None
        Seed for the first pick when there is no labeled set (``prefit=True``
        and ``fit`` never called); with a labeled set the ordering is
        deterministic.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator (``estimator`` itself when ``prefit=True``).

    X_labeled_ : ndarray of shape (n_labeled, ...)
        The labeled set given to ``fit``; its embeddings are the initial
        centers.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    skal.selection.kcenter_greedy_ordering : The selection engine on arrays.

    Notes
    -----
    The labeled set is embedded at query time with the current estimator, so
    a refitted estimator moves the centers too. With ``prefit=True`` and no
    ``fit`` call, the labeled set is empty: the first pick is drawn uniformly
    at random and the rest is farthest-first. Ties in distance go to the
    lowest pool index. ``transform`` returns the penultimate embedding.

    References
    ----------
    .. [1] O. Sener and S. Savarese, "Active Learning for Convolutional Neural
       Networks: A Core-Set Approach", ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import CoreSet
    >>> X_lab, y_lab = np.array([[0.0], [1.0]]), np.array([0, 1])
    >>> strategy = CoreSet(LogisticRegression()).fit(X_lab, y_lab)
    >>> strategy.rank(np.array([[0.5], [9.0], [4.0]]))
    array([1, 2, 0])
    """

    _uses_labeled_set = True  # fit records the labeled set: prefit picks differ
    _serves_regression = True  # distances in the embedding only

    _aliases = ("coreset",)

    def _fit(self, X, y):
        self.X_labeled_ = X

    def _ranking(self, points, estimator):
        X_labeled = getattr(self, "X_labeled_", None)
        centers = None
        if X_labeled is not None and len(X_labeled):
            centers = penultimate_embedding(estimator, X_labeled, layer=self.layer)
        return KCenterGreedyRanking(
            points, X_centers=centers, random_state=self.random_state, device=self.device
        )
