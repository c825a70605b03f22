"""FASS: Filtered Active Submodular Selection (Wei, Iyer and Bilmes, 2015)."""

from numbers import Integral, Real

import numpy as np

from ..base import _SHARED_PARAMS_DOC, BaseEmbeddingStrategy, BaseStrategy
from ..embeddings import check_predict_proba, penultimate_embedding, predict_proba
from ..embeddings._passes import _net_state_kept
from ..selection import CandidateRanking, FacilityLocationRanking
from ..uncertainty import _BY_NAME as _UNCERTAINTY
from ..utils._data import take
from ..utils._docstring import Substitution
from ..utils._sklearn_compat import Interval, StrOptions

__all__ = ["FASS"]


@Substitution(shared_params=_SHARED_PARAMS_DOC)
class FASS(BaseStrategy):
    """Filtered Active Submodular Selection (Wei, Iyer and Bilmes, 2015).

    Two stages. The *filter* keeps the ``n_candidates`` pool samples the
    classifier is least sure about (entropy, margin or least confidence of
    ``predict_proba``). The *selection* then chooses among them, greedily,
    the samples that maximize the paper's nearest-neighbour submodular
    function on the penultimate embedding ``z``:

        f(S) = Σ_{i ∈ C} max_{j ∈ L ∪ S, ŷ_j = ŷ_i} exp(−γ ‖z_i − z_j‖²),

    where ``C`` are the candidates with their hypothesized labels ``ŷ``
    (the classifier's predictions), ``L`` the labeled set with its true
    labels, and only samples of the same class are similar. Each candidate
    should have a chosen (or labeled) sample of its class close to it: the
    batch is uncertain, representative of the uncertain region, and not
    redundant, with itself or with what is already labeled.

    Parameters
    ----------
    %(shared_params)s

    n_candidates : int, default=1000
        Size of the filtered candidate set (the paper's filter). It does not
        depend on the batch size, so that ``query(X, k)`` is a prefix of
        ``rank(X)``; keep it a few times the largest batch you query (DISTIL
        uses 5 × the batch size).

    uncertainty : {"entropy", "margin", "least_confidence"}, default="entropy"
        The filter's score: that of :class:`~skal.EntropySampling` (DISTIL's
        choice), :class:`~skal.MarginSampling` or :class:`~skal.LeastConfidence`.

    per_class : bool, default=True
        If True, only samples of the same (hypothesized or true) class are
        similar: the paper's nearest-neighbour objective. If False, plain
        facility location on the embedding, ignoring the classes.

    gamma : float, default=None
        Width of the RBF similarity ``exp(−γ d²)``. ``None`` uses
        ``1 / mean d²`` over all pairs of candidates, so that a typical pair
        has similarity ``exp(−1)``.

    layer : str, default=None
        For skorch nets only: the name of the layer whose *input* is the
        embedding. ``None`` means the last ``torch.nn.Linear`` called in the
        forward pass.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator (``estimator`` itself when ``prefit=True``).

    X_labeled_ : ndarray of shape (n_labeled, ...)
        The labeled set given to ``fit``.

    y_labeled_ : ndarray of shape (n_labeled,) or None
        Its labels (None if ``fit`` got none): the labeled samples cover the
        candidates of their class.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    ProxyPrefilter : The same filter in front of any strategy.
    FacilityLocationSampling : Facility location without a classifier, for
        the seed set.
    BADGE : Uncertainty and diversity through gradient embeddings.

    Notes
    -----
    ``rank`` is the greedy order of the candidates (lazy greedy, exactly the
    picks of plain greedy; ties to the more uncertain candidate), then the
    rest of the pool by decreasing uncertainty (ties to the lower index), so
    ``query(X, k)`` is the first ``k`` of ``rank(X)`` for every ``k``, even
    beyond ``n_candidates``. Once every candidate is fully covered, gains
    are 0 and the remaining candidates follow by decreasing uncertainty.
    The labeled set is embedded at query time with the current estimator;
    with ``prefit=True`` and no ``fit`` call there is none and the greedy
    starts from an empty set. ``lazy_rank`` yields the same order; a sample
    added to it joins the candidates iff its uncertainty is above the lowest
    candidate uncertainty of the initial pool (always, if the initial pool
    had at most ``n_candidates`` samples), and then competes to cover the
    initial candidates (the represented set and ``γ`` do not change);
    otherwise it joins the rest. ``transform`` returns the uncertainty
    score, shape ``(n_samples, 1)``.

    Cost: one ``predict_proba`` pass over the pool (as
    :class:`~skal.EntropySampling`), the embedding of the candidates and of
    the labeled set, then facility location on ``c = n_candidates`` points of
    ``h`` dimensions: ``O(c² h)`` for the similarities (``4 c²`` bytes of
    memory, 4 MB for ``c = 1,000``) and ``O(c)`` per gain re-evaluation.

    Of the paper's two objectives, this implements the nearest-neighbour
    one: the naive-Bayes objective needs non-negative count features (bag
    of words), not the continuous embeddings of a network. The candidates
    are the ``n_candidates`` most uncertain samples (the paper keeps
    samples by an uncertainty threshold; DISTIL, 5 × the batch size).

    References
    ----------
    .. [1] K. Wei, R. Iyer and J. Bilmes, "Submodularity in Data Subset
       Selection and Active Learning", ICML 2015.
    .. [2] N. Beck, D. Sivasubramanian, A. Dani, G. Ramakrishnan and R. Iyer,
       "Effective Evaluation of Deep Active Learning on Image Classification
       Tasks" (DISTIL), arXiv:2106.15324, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import FASS
    >>> X, y = load_digits(return_X_y=True)
    >>> strategy = FASS(LogisticRegression(max_iter=500), n_candidates=200)
    >>> strategy = strategy.fit(X[:100], y[:100])
    >>> picks = strategy.query(X[100:], batch_size=10)
    >>> uncertainty = strategy.transform(X[100:]).ravel()
    >>> top200 = np.argsort(-uncertainty, kind="stable")[:200]
    >>> bool(np.isin(picks, top200).all())
    True
    """

    _uses_labeled_set = True  # fit records the labeled set: prefit picks differ

    _aliases = ("fass",)

    _parameter_constraints = {
        **BaseStrategy._parameter_constraints,
        "n_candidates": [Interval(Integral, 1, None, closed="left")],
        "uncertainty": [StrOptions(set(_UNCERTAINTY))],
        "per_class": ["boolean"],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "layer": [str, None],
    }

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        n_candidates=1000,
        uncertainty="entropy",
        per_class=True,
        gamma=None,
        layer=None,
    ):
        super().__init__(estimator=estimator, prefit=prefit)
        self.n_candidates = n_candidates
        self.uncertainty = uncertainty
        self.per_class = per_class
        self.gamma = gamma
        self.layer = layer

    def _check_estimator(self, estimator):
        BaseEmbeddingStrategy._check_estimator(self, estimator)
        check_predict_proba(estimator, purpose="FASS")

    def _fit(self, X, y):
        self.X_labeled_ = X
        self.y_labeled_ = y

    def _score(self, proba):
        return _UNCERTAINTY[self.uncertainty](proba)

    def _points(self, X, estimator, offset=0):
        with _net_state_kept(estimator):
            return X, predict_proba(estimator, X, purpose="FASS")

    def _ranking(self, points, estimator):
        return _FASSRanking(self, estimator, *points)

    def _transform(self, X, estimator):
        return self._score(self._points(X, estimator)[1])[:, np.newaxis]

    # -- helpers of the ranking ----------------------------------------------------

    def _embed(self, estimator, X):
        with _net_state_kept(estimator):
            return penultimate_embedding(estimator, X, layer=self.layer)

    def _labeled_coverage(self, estimator, n_classes):
        """``(X_selected, selected_labels)`` of the labeled set, or Nones."""
        X_labeled = getattr(self, "X_labeled_", None)
        y_labeled = getattr(self, "y_labeled_", None)
        if X_labeled is None or not len(X_labeled):
            return None, None
        if self.per_class and y_labeled is None:
            return None, None  # no labels to tell which candidates they cover
        Z = self._embed(estimator, X_labeled)
        if not self.per_class:
            return Z, None
        classes = getattr(estimator, "classes_", None)
        if classes is None:
            classes = np.arange(n_classes)
        position = {c: k for k, c in enumerate(np.asarray(classes).tolist())}
        codes = np.array([position.get(c, -1) for c in np.asarray(y_labeled).tolist()])
        return Z, codes


class _FASSRanking(CandidateRanking):
    """Greedy facility location on the candidates, then the rest by uncertainty.

    Candidates go to the engine most uncertain first: it breaks ties to them.
    """

    def __init__(self, strategy, estimator, X, proba):
        self._strategy = strategy
        self._estimator = estimator
        points = (X, proba)
        super().__init__(points, self._scores_of(points), strategy.n_candidates,
                         candidate_order="score")

    def _scores_of(self, points):
        return self._strategy._score(points[1])

    def _labels(self, proba, rows):
        return np.argmax(proba[rows], axis=1) if self._strategy.per_class else None

    def _inner_ranking(self, points, candidates):
        X, proba = points
        strategy, estimator = self._strategy, self._estimator
        X_selected, selected_labels = strategy._labeled_coverage(estimator, proba.shape[1])
        return FacilityLocationRanking(
            strategy._embed(estimator, take(X, candidates)),
            labels=self._labels(proba, candidates),
            X_selected=X_selected,
            selected_labels=selected_labels,
            gamma=strategy.gamma,
        )

    def _add_candidates(self, points, rows):
        X, proba = points
        self._inner.add(self._strategy._embed(self._estimator, take(X, rows)),
                        labels=self._labels(proba, rows))
