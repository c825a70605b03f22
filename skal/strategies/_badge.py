"""BADGE: Batch Active learning by Diverse Gradient Embeddings."""

from ..base import _DEVICE_DOC, _KMEANSPP_METHOD_DOC, _SHARED_PARAMS_DOC, BaseEmbeddingStrategy
from ..embeddings import check_predict_proba, gradient_embedding
from ..embeddings._penultimate import _gradient_factors
from ..selection import KMeansPlusPlusRanking, OuterProduct
from ..utils._docstring import Substitution
from ..utils._sklearn_compat import StrOptions

__all__ = ["BADGE"]


@Substitution(shared_params=_SHARED_PARAMS_DOC, device=_DEVICE_DOC, method=_KMEANSPP_METHOD_DOC)
class BADGE(BaseEmbeddingStrategy):
    """Batch Active learning by Diverse Gradient Embeddings (Ash et al., 2020).

    Each pool sample is represented by the gradient of the loss of its
    hypothesized label (the predicted class) with respect to the last linear
    layer, ``g_i = h_i ⊗ (p_i − onehot(argmax p_i))``, where ``h_i`` is the
    input of that layer (a constant 1 appended for its bias). The batch is
    chosen by k-means++ seeding on these embeddings: samples with large
    gradients (uncertain) that are far apart (diverse).

    Parameters
    ----------
    %(shared_params)s

    layer : str, default=None
        For skorch nets only: the name (as in ``net.module_.named_modules()``) of
        the final ``torch.nn.Linear`` layer. ``None`` finds it with forward
        hooks (the last linear layer called in the forward pass).

    init : {"largest_norm", "random"}, default="largest_norm"
        First center: the embedding of largest norm (the paper's choice;
        lowest index among ties) or a uniformly random one (the variant of the
        BADGE variable-batch blog).

    %(method)s

    %(device)s

    random_state : int, RandomState instance or None, default=None
        Seed of the k-means++ draws.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator (``estimator`` itself when ``prefit=True``).

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    skal.selection.kmeans_plusplus_ordering : The selection engine on arrays.
    skal.embeddings.gradient_embedding : The embedding itself.

    Notes
    -----
    Distances are computed from the factors:
    ``‖g_i − g_j‖² = ‖h_i‖²‖e_i‖² + ‖h_j‖²‖e_j‖² − 2⟨h_i,h_j⟩⟨e_i,e_j⟩``,
    so the ``n × H × C`` embedding is never built (``transform`` builds it,
    because that is what it is asked for). ``rank`` is the full k-means++
    seeding order; the draws consume the random numbers in one sequence
    whatever the batch size, so ``query(X, k)`` is the first ``k`` of
    ``rank(X)`` for the same ``random_state``, and ``lazy_rank`` yields the
    same order one index at a time. When only exact duplicates of chosen
    samples remain, the next is drawn uniformly among them. The engine
    (:class:`skal.selection.KMeansPlusPlusRanking`) draws each pick by
    rejection from stale upper bounds on the distances, so a batch of ``k``
    from ``n`` samples costs about ``n + k²`` distances instead of ``n·k``.

    References
    ----------
    .. [1] J. T. Ash, C. Zhang, A. Krishnamurthy, J. Langford and A. Agarwal,
       "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower
       Bounds", ICLR 2020.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import BADGE
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=200).fit(X[:100], y[:100])
    >>> picks = BADGE(clf, prefit=True, random_state=0).query(X[100:], batch_size=5)
    >>> picks.shape
    (5,)
    """

    _aliases = ("badge",)

    _parameter_constraints = {
        **BaseEmbeddingStrategy._parameter_constraints,
        "init": [StrOptions({"largest_norm", "random"})],
        "method": [StrOptions({"auto", "lazy", "scan"})],
    }

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        layer=None,
        init="largest_norm",
        method="auto",
        device="cpu",
        random_state=None,
    ):
        super().__init__(
            estimator=estimator,
            prefit=prefit,
            layer=layer,
            device=device,
            random_state=random_state,
        )
        self.init = init
        self.method = method

    def _check_estimator(self, estimator):
        super()._check_estimator(estimator)
        check_predict_proba(estimator, purpose="BADGE")

    def _points(self, X, estimator, offset=0):
        return OuterProduct(*_gradient_factors(estimator, X, self.layer))

    def _ranking(self, points, estimator):
        return KMeansPlusPlusRanking(
            points, init=self.init, random_state=self.random_state, device=self.device,
            method=self.method,
        )

    def _transform(self, X, estimator):
        return gradient_embedding(estimator, X, layer=self.layer)
