"""Seed-set selection: the first batch to label, before any label exists.

Both strategies need no classifier and no labels (DISTIL's Table 3 compares
them with random seed sets): :class:`FacilityLocationSampling` picks samples
that *represent* the pool, :class:`DispersionSampling` samples that are far
apart. They work on the raw features (images flattened) or on a pre-trained
embedding, and are what :class:`~skal.ActiveLearner` runs as its
``initial_strategy``: ``strategy.fit(X).query(X, initial_size)``.
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state

from ..base import _DEVICE_DOC, BaseSeedStrategy
from ..selection import FacilityLocationRanking, KCenterGreedyRanking
from ..utils._docstring import Substitution
from ..utils._sklearn_compat import Interval

__all__ = ["DispersionSampling", "FacilityLocationSampling"]

_SEED_PARAMS_DOC = """estimator : estimator object, default=None
        Ignored: no classifier exists yet when the seed set is chosen. Accepted
        so that every strategy has the same parameters (inside
        :class:`~skal.ActiveLearner`, the classifier it passes is ignored).

    prefit : bool, default=False
        If True, ``query``, ``rank`` and ``transform`` work without calling
        ``fit`` (as :class:`~skal.RandomSampling`). Otherwise ``fit(X)``
        (labels optional and unused) must come first.

    embedding : object, default=None
        The space in which samples are compared. ``None``: the raw features,
        flattened (an image of shape ``(1, 28, 28)`` becomes 784 features).
        A *fitted* transformer (anything with ``transform``, e.g. a
        ``PCA`` fitted on unlabeled data, or a ``Pipeline`` of them): its
        output. A *fitted* classifier, e.g. a pre-trained skorch net: its
        penultimate-layer embedding (:func:`skal.embeddings.penultimate_embedding`).
        It is never fitted nor modified by the strategy."""


@Substitution(seed_params=_SEED_PARAMS_DOC)
class FacilityLocationSampling(BaseSeedStrategy):
    """Choose the samples that best represent the pool (greedy facility location).

    Maximizes the facility-location function
    ``f(S) = Σ_{i ∈ R} max_{j ∈ S} exp(−γ ‖z_i − z_j‖²)`` over the chosen
    set ``S``, where ``R`` (the *represented* set) is the pool or a random
    subsample of it and ``z`` the features or embedding: every represented
    sample should have a chosen sample close to it. Greedy maximization (lazy
    greedy, Minoux 1978) is within ``1 − 1/e`` of the best set of each size.
    Needs no labels and no classifier: a seed set for the very first round
    (DISTIL, Beck et al. 2021, Table 3; Wei et al. 2015).

    Parameters
    ----------
    %(seed_params)s

    n_represented : int or None, default=2000
        Size of the represented set ``R``: a uniformly random subsample of
        the pool, drawn with ``random_state`` (all of it when the pool is not
        larger). ``None`` represents the whole pool exactly, at a cost
        quadratic in its size. See Notes.

    gamma : float, default=None
        Width of the RBF similarity ``exp(−γ d²)``. ``None`` uses
        ``1 / mean d²`` over all (represented, pool) pairs, so that the
        similarity of a typical pair is ``exp(−1)``; computed exactly in
        ``O(n d)``.

    random_state : int, RandomState instance or None, default=None
        Seed of the represented subsample; with ``n_represented >= len(X)``
        the ranking is deterministic.

    Attributes
    ----------
    estimator_ : None
        No estimator is used.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    DispersionSampling : Spread-out samples instead of representative ones.
    RandomSampling : The usual seed set.
    FASS : Facility location restricted to uncertain samples, for later rounds.

    Notes
    -----
    ``rank`` is the whole greedy order (ties to the lowest index): each next
    sample is the one that most increases ``f``, so ``query(X, k)`` is the
    first ``k`` of ``rank(X)``. Once every represented sample has been
    chosen, every gain is 0 and the remaining samples follow in index order.
    ``fit`` records nothing but the number of features: the labels and the
    labeled set, if any, are not used, so the strategy does not take the
    labeled set into account in later rounds (use :class:`~skal.CoreSet` or
    :class:`FASS` there). ``transform`` returns the features or embedding
    compared.

    The represented subsample is the approximation that makes a large pool
    affordable: the candidates are always the whole pool, but ``f`` counts
    how well they cover ``n_represented`` random pool samples, an unbiased
    estimate (up to scale) of the coverage of the whole pool. ``lazy_rank``
    accepts new samples as candidates; the represented set and ``γ`` stay
    those of the initial pool.

    Cost, with ``m = min(n_represented, n)`` and ``d`` dimensions: the
    ``n × m`` similarities by float32 BLAS, ``O(n m d)`` flops, kept in
    memory up to 512 MiB (``4 n m`` bytes; 480 MB for ``n = 60,000``,
    ``m = 2,000``; beyond that, blocks are recomputed on demand); then
    ``O(m)`` per gain re-evaluation, a few thousand per pick on MNIST pixels.

    References
    ----------
    .. [1] K. Wei, R. Iyer and J. Bilmes, "Submodularity in Data Subset
       Selection and Active Learning", ICML 2015.
    .. [2] N. Beck, D. Sivasubramanian, A. Dani, G. Ramakrishnan and R. Iyer,
       "Effective Evaluation of Deep Active Learning on Image Classification
       Tasks" (DISTIL), arXiv:2106.15324, 2021.
    .. [3] M. Minoux, "Accelerated greedy algorithms for maximizing
       submodular set functions", Optimization Techniques, 1978.

    Examples
    --------
    >>> import numpy as np
    >>> from skal import FacilityLocationSampling
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [0.2, 0.0], [5.0, 5.0], [5.1, 5.0]])
    >>> FacilityLocationSampling(gamma=1.0).fit(X).query(X, batch_size=2)
    array([1, 3])
    """

    _aliases = ("facility-location",)

    _parameter_constraints = {
        **BaseSeedStrategy._parameter_constraints,
        "n_represented": [Interval(Integral, 1, None, closed="left"), None],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        embedding=None,
        n_represented=2000,
        gamma=None,
        random_state=None,
    ):
        super().__init__(estimator=estimator, prefit=prefit)
        self.embedding = embedding
        self.n_represented = n_represented
        self.gamma = gamma
        self.random_state = random_state

    def _ranking(self, points, estimator):
        n = points.shape[0]
        X_ground = None
        if self.n_represented is not None and n > self.n_represented:
            rng = check_random_state(self.random_state)
            X_ground = points[np.sort(rng.permutation(n)[: self.n_represented])]
        return FacilityLocationRanking(points, X_ground=X_ground, gamma=self.gamma)


@Substitution(seed_params=_SEED_PARAMS_DOC, device=_DEVICE_DOC)
class DispersionSampling(BaseSeedStrategy):
    """Choose samples far from each other (greedy max-min dispersion).

    Each next sample is the pool sample farthest from its nearest chosen
    sample (farthest-first traversal), the greedy 2-approximation of
    *dispersion-min*: maximizing the smallest distance between two chosen
    samples (Ravi, Rosenkrantz and Tayi, 1994). The batch spreads over the
    whole space, outliers included. Needs no labels and no classifier: a seed
    set for the very first round (DISTIL, Beck et al. 2021, Table 3).

    Parameters
    ----------
    %(seed_params)s

    %(device)s

    random_state : int, RandomState instance or None, default=None
        Seed of the first pick, drawn uniformly from the pool; the rest is
        deterministic.

    Attributes
    ----------
    estimator_ : None
        No estimator is used.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    FacilityLocationSampling : Representative samples instead of spread-out ones.
    CoreSet : The same ordering on a classifier's embedding, starting from
        the labeled set.
    skal.selection.kcenter_greedy_ordering : The selection engine on arrays.

    Notes
    -----
    ``rank`` is the whole farthest-first order in Euclidean distance, ties
    to the lowest index, so ``query(X, k)`` is the first ``k`` of
    ``rank(X)``; the first ``k`` picks are within a factor 2 of the largest
    possible smallest pairwise distance among ``k`` samples. ``fit`` records
    nothing but the number of features (the labeled set is not used).
    ``lazy_rank`` accepts new samples, which are picked exactly as if they
    had been in the pool from the start from the next pick on.
    ``transform`` returns the features or embedding compared. Cost:
    ``O(k n d)`` for ``k`` picks among ``n`` samples of ``d`` dimensions
    (:class:`~skal.selection.KCenterGreedyRanking`, with exact pruning), and
    ``O(n d)`` memory.

    References
    ----------
    .. [1] S. S. Ravi, D. J. Rosenkrantz and G. K. Tayi, "Heuristic and
       Special Case Algorithms for Dispersion Problems", Operations Research,
       1994.
    .. [2] N. Beck, D. Sivasubramanian, A. Dani, G. Ramakrishnan and R. Iyer,
       "Effective Evaluation of Deep Active Learning on Image Classification
       Tasks" (DISTIL), arXiv:2106.15324, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from skal import DispersionSampling
    >>> X = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> strategy = DispersionSampling(random_state=0).fit(X)
    >>> strategy.rank(X)  # a random first pick, then farthest-first
    array([2, 3, 0, 1])
    """

    _aliases = ("dispersion",)

    _parameter_constraints = {
        **BaseSeedStrategy._parameter_constraints,
        "device": [str, torch.device, None],
    }

    def __init__(
        self, estimator=None, *, prefit=False, embedding=None, device="cpu", random_state=None
    ):
        super().__init__(estimator=estimator, prefit=prefit)
        self.embedding = embedding
        self.device = device
        self.random_state = random_state

    def _ranking(self, points, estimator):
        return KCenterGreedyRanking(points, random_state=self.random_state, device=self.device)
