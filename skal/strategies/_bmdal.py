"""LCMD and MAXDET: deep batch active learning for regression (Holzmüller et al., 2023)."""

from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from sklearn.utils import check_random_state

from ..base import BaseStrategy
from ..base._strategy import _regresses
from ..embeddings._estimators import _final_net, _name
from ..embeddings._kernels import (
    check_gradient_net,
    check_last_layer,
    last_layer_features,
    sketched_gradient_features,
)
from ..selection import BaseRanking, KCenterGreedyRanking, KMeansPlusPlusRanking
from ..selection._bmdal import LCMDRanking, MaxDetRanking, PosteriorTransform
from ..utils._data import num_samples
from ..utils._docstring import Substitution
from ..utils._random import draw_seed
from ..utils._sklearn_compat import Interval, StrOptions

__all__ = ["KMEANSPP", "LCMD", "MAXDET", "MAXDIST"]


class _KernelPoints(NamedTuple):
    """The features of some samples, and the seed of the sketch they were drawn with."""

    features: np.ndarray
    seed: int


class _LargestFirst(BaseRanking):
    """Farthest-first from no center: the largest ``k(x, x)`` first, as bmdal_reg does.

    The k-center engine then runs with that point as its center; it returns
    the point itself again (at distance 0), which is skipped.
    """

    def __init__(self, pool):
        self._first = int(np.argmax(np.einsum("nd,nd->n", pool, pool)))
        self._inner = KCenterGreedyRanking(pool, X_centers=pool[self._first:self._first + 1],
                                           dtype=np.float64)
        self._given = False
        super().__init__(len(pool))

    def _take(self, k):
        out = []
        if k and not self._given:
            out.append(self._first)
            self._given = True
        while len(out) < k:
            batch = self._inner.take(k - len(out))
            if not len(batch):
                break
            out.extend(int(i) for i in batch if i != self._first)
        return np.asarray(out, dtype=np.intp)

    def _add(self, features):
        return len(self._inner.add(features))


class _FeatureRanking(BaseRanking):
    """A selection ranking over features, whose ``add`` takes :class:`_KernelPoints`.

    The features of the points added later go through ``transform`` first (the
    posterior transformation the pool's features went through), so that the
    selection rankings themselves see features only.
    """

    def __init__(self, ranking, transform=None):
        self._inner, self._transform = ranking, transform
        super().__init__(ranking.n_points)

    def _take(self, k):
        return self._inner.take(k)

    def _add(self, points):
        features = np.asarray(points.features, dtype=np.float64)
        if self._transform is not None:
            features = self._transform(features)
        return len(self._inner.add(features))


_PARAMS_DOC = """estimator : estimator object, default=None
        The regressor whose kernel the strategy uses: a skorch
        ``NeuralNetRegressor`` (any kernel), or, with ``kernel="ll"``, an
        ``MLPRegressor`` or a linear regressor (``Ridge``...), alone or at the
        end of a ``Pipeline``. Classifiers are refused. ``None`` is allowed
        only inside :class:`ActiveLearner`, which supplies its own fitted
        estimator every round.

    prefit : bool, default=False
        Whether ``estimator`` is already fitted. If True, ``query``, ``rank``
        and ``transform`` work without calling ``fit`` (``fit`` then only
        records the labeled set). If False, ``fit(X, y)`` fits a clone of
        ``estimator`` on float targets ``y``.

    kernel : {"auto", "grad_rp", "ll"}, default="auto"
        The features ``φ(x)``, whose inner product is the kernel. ``"auto"``
        is ``"grad_rp"`` for a skorch net (alone or at the end of a
        ``Pipeline``), the paper's choice, and ``"ll"`` for any other
        regressor:

        - ``"grad_rp"``: the gradient of the network's output with respect to
          the weights and biases of every ``torch.nn.Linear`` layer, sketched
          to ``sketch_dim`` features (a random tensor sketch per layer, the
          layers' sketches summed), as the paper's recommended methods use.
          Skorch nets only, with one output, whose module treats the samples
          of a batch independently;
        - ``"ll"``: the gradient with respect to the last layer only: its
          input (the penultimate embedding) with a 1 appended for the bias.

    sketch_dim : int, default=512
        Number of sketched features for ``kernel="grad_rp"`` (ignored by
        ``"ll"``)."""

_PARAMS_TAIL_DOC = """sigma : float, default=1e-3
        The noise standard deviation ``σ`` of the posterior transformation
        (``σ² = 10⁻⁶`` as in the paper's experiments). See ``posterior``.

    layer : str, default=None
        For ``kernel="ll"`` and skorch nets only: the name of the layer whose
        *input* is the last-layer feature. ``None`` means the last
        ``torch.nn.Linear`` called in the forward pass.

    random_state : int, RandomState instance or None, default=None
        Seed of the sketch (``kernel="grad_rp"``): one draw per ``query``,
        ``rank`` or ``lazy_rank``, shared by the pool, the labeled set and
        the samples added later. The selection itself is deterministic."""

_NOTES_DOC = """The kernel is a regression model's: the features are gradients of its one
    output. They are computed in float64 (``transform`` returns them, after the
    posterior transformation if ``posterior=True``) and the selection works on
    them with matrix products: ``O(n d)`` per pick for a pool of ``n`` samples
    and ``d`` features, never an ``n × n`` kernel matrix. ``rank`` orders the
    whole pool this way (``O(n² d)``); ``query`` and ``lazy_rank`` stop after
    the picks they are asked for.

    Posterior transformation (the paper's ``train`` transformation, as in
    ``bmdal_reg``): the kernel is first scaled so that its mean diagonal over
    the labeled set is 1, then replaced by the posterior covariance of a
    Gaussian process with that prior after observing the labeled set with
    noise variance ``σ²``. Without a labeled set (``prefit=True`` and ``fit``
    never called), the scale is taken from the pool (``bmdal_reg`` has no
    such case) and the posterior is the scaled prior.

    ``lazy_rank(X).add(X_new)`` works at any time: new samples get the same
    sketch, the same posterior transformation (and scale) as the pool, and
    the conditioning on the picks made so far."""

_REFERENCES_DOC = """.. [1] D. Holzmüller, V. Zaverkin, J. Kästner and I. Steinwart, "A
       Framework and Benchmark for Deep Batch Active Learning for Regression",
       Journal of Machine Learning Research 24(164):1-81, 2023.
       Code: https://github.com/dholzmueller/bmdal_reg"""


class _KernelSelection(BaseStrategy):
    """The shared machinery of LCMD, MAXDET, MAXDIST and KMEANSPP: features, posterior,
    checks, and the parameters (MAXDET alone defaults to ``posterior=True``)."""

    _serves_regression = True
    _uses_labeled_set = True  # fit records the labeled set: prefit picks differ

    _parameter_constraints = {
        **BaseStrategy._parameter_constraints,
        "kernel": [StrOptions({"auto", "grad_rp", "ll"})],
        "sketch_dim": [Interval(Integral, 1, None, closed="left")],
        "posterior": ["boolean"],
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "layer": [str, None],
        "random_state": ["random_state"],
    }

    # whether the labeled samples are the selection's first centers (LCMD's TP
    # mode); otherwise they enter only through the posterior transformation
    _labeled_centers = False

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        kernel="auto",
        sketch_dim=512,
        posterior=False,
        sigma=1e-3,
        layer=None,
        random_state=None,
    ):
        self.estimator = estimator
        self.prefit = prefit
        self.kernel = kernel
        self.sketch_dim = sketch_dim
        self.posterior = posterior
        self.sigma = sigma
        self.layer = layer
        self.random_state = random_state

    def _check_estimator(self, estimator):
        name = type(self).__name__
        if not _regresses(estimator):
            raise ValueError(
                f"{name} selects with the kernel of a regression model's output, but "
                f"{_name(estimator)} is not a regressor. Pass a regressor: a skorch "
                "NeuralNetRegressor, or with kernel='ll' an MLPRegressor or a linear "
                "regressor such as Ridge. For a classifier use BADGE or CoreSet."
            )
        if self._kernel(estimator) == "grad_rp":
            if self.layer is not None:
                raise ValueError(
                    f"layer={self.layer!r} applies to kernel='ll' only; kernel='grad_rp' "
                    "uses every torch.nn.Linear layer. Leave layer=None."
                )
            check_gradient_net(estimator, name)
        else:
            check_last_layer(estimator, name)

    def _fit(self, X, y):
        self.X_labeled_ = X

    def _ranking_context(self):
        return {"seed": draw_seed(check_random_state(self.random_state))}

    def _kernel(self, estimator):
        """``kernel`` resolved: ``"auto"`` is ``"grad_rp"`` for a skorch net, else ``"ll"``."""
        if self.kernel != "auto":
            return self.kernel
        return "grad_rp" if _final_net(estimator) is not None else "ll"

    def _features(self, X, estimator, seed):
        if self._kernel(estimator) == "ll":
            return last_layer_features(estimator, X, self.layer)
        return sketched_gradient_features(estimator, X, self.sketch_dim, seed)

    def _points(self, X, estimator, offset=0, seed=0):
        return _KernelPoints(self._features(X, estimator, seed), seed)

    def _labeled_features(self, estimator, seed, d):
        X_labeled = getattr(self, "X_labeled_", None)
        if X_labeled is None or not num_samples(X_labeled):
            return np.empty((0, d))
        return self._features(X_labeled, estimator, seed)

    def _posterior_transform(self, labeled, pool):
        return PosteriorTransform(labeled, self.sigma, scale_from=pool)

    def _ranking(self, points, estimator):
        pool = points.features
        labeled = np.empty((0, pool.shape[1]))
        if self.posterior or self._labeled_centers:
            labeled = self._labeled_features(estimator, points.seed, pool.shape[1])
        transform = None
        if self.posterior:
            transform = self._posterior_transform(labeled, pool)
            pool, labeled = transform(pool), transform(labeled)
        return _FeatureRanking(self._selection(pool, labeled, points.seed), transform)

    def _transform(self, X, estimator):
        seed = self._ranking_context()["seed"]
        F = self._features(X, estimator, seed)
        if self.posterior:
            labeled = self._labeled_features(estimator, seed, F.shape[1])
            F = self._posterior_transform(labeled, F)(F)
        return F


@Substitution(params=_PARAMS_DOC, params_tail=_PARAMS_TAIL_DOC, notes=_NOTES_DOC,
              references=_REFERENCES_DOC)
class LCMD(_KernelSelection):
    """Largest cluster maximum distance (LCMD), for regression (Holzmüller et al., 2023).

    The centers are the labeled samples and the samples picked so far. Each
    pool sample belongs to the cluster of its nearest center in the kernel
    distance ``d(x, c) = sqrt(k(x, x) + k(c, c) − 2 k(x, c))``. The next
    pick is, in the cluster whose members have the largest sum of squared
    distances to its center, the member farthest from it; it becomes a
    center. This is the paper's recommended method, LCMD-TP
    ``[grad, rp(512)]``: "TP" for the training (labeled) and pool samples as
    centers, on the sketched gradient kernel without posterior
    transformation (the defaults).

    Parameters
    ----------
    %(params)s

    posterior : bool, default=False
        Whether to select on the posterior kernel given the labeled set (see
        Notes) instead of the kernel itself. The paper's LCMD-TP uses none.

    %(params_tail)s

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator (``estimator`` itself when ``prefit=True``).

    X_labeled_ : ndarray of shape (n_labeled, ...)
        The labeled set given to ``fit``: the first centers, featurized with
        the current estimator at query time.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    MAXDET : Greedy determinant maximization on the same kernels.
    CoreSet : Farthest-first traversal in the penultimate embedding.

    Notes
    -----
    Ties: a sample equidistant from two centers belongs to the earlier one
    (labeled samples in order, then the picks); among equal cluster sums and
    equal distances, the lower pool index wins. Without a labeled set the
    first pick is the sample of largest ``k(x, x)``, as ``bmdal_reg`` does,
    so nothing is random but the sketch.

    %(notes)s

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.neural_network import MLPRegressor
    >>> from skal import LCMD
    >>> X, y = make_friedman1(n_samples=200, random_state=0)
    >>> mlp = MLPRegressor(hidden_layer_sizes=(16,), max_iter=300, random_state=0)
    >>> strategy = LCMD(mlp, kernel="ll").fit(X[:50], y[:50])
    >>> picks = strategy.query(X[50:], batch_size=5)
    >>> picks.shape
    (5,)
    >>> bool((picks == strategy.rank(X[50:])[:5]).all())
    True
    >>> strategy.transform(X[50:]).shape  # 16 hidden units and the bias
    (150, 17)
    """

    _aliases = ("lcmd",)
    _labeled_centers = True

    def _selection(self, pool, labeled, seed):
        return LCMDRanking(pool, centers=labeled)


@Substitution(params=_PARAMS_DOC, params_tail=_PARAMS_TAIL_DOC, notes=_NOTES_DOC,
              references=_REFERENCES_DOC)
class MAXDET(_KernelSelection):
    """Greedy determinant maximization (MAXDET), for regression (Holzmüller et al., 2023).

    Each next pick is the pool sample of largest posterior variance
    ``k(x, x) + σ²`` under the kernel conditioned, with noise ``σ²``, on the
    labeled set (through the posterior transformation) and on the samples
    picked so far: the pick that most increases ``log det(K_B + σ² I)``
    for the batch ``B``. This is the paper's MAXDET-P
    ``[grad, rp(512), train]``: "P" for the pool samples only as candidates
    and conditions, the labeled set entering through the posterior ("train")
    transformation, on the sketched gradient kernel (the defaults). Since the
    posterior given the labeled set and the conditioning on the picks use
    the same ``σ``, it is the greedy maximization of
    ``log det(K_{L ∪ B} + σ² I)`` over the batch ``B``, ``L`` the labeled set.

    Parameters
    ----------
    %(params)s

    posterior : bool, default=True
        Whether to select on the posterior kernel given the labeled set (see
        Notes). If False, the labeled set is not used (the paper's P mode
        without transformation) and ``σ²`` is added to the raw kernel.

    %(params_tail)s

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator (``estimator`` itself when ``prefit=True``).

    X_labeled_ : ndarray of shape (n_labeled, ...)
        The labeled set given to ``fit``, featurized with the current
        estimator at query time for the posterior transformation.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    LCMD : Largest cluster maximum distance on the same kernels.
    BAIT : Fisher information of a classifier's last layer.

    Notes
    -----
    The variances are updated in feature space with one rank-one step per
    pick (pivoted Cholesky of ``K + σ² I``, in float64); ties go to the lower
    pool index. Nothing is random but the sketch.

    %(notes)s

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.linear_model import Ridge
    >>> from skal import MAXDET
    >>> X, y = make_friedman1(n_samples=200, random_state=0)
    >>> strategy = MAXDET(Ridge(), kernel="ll").fit(X[:50], y[:50])
    >>> picks = strategy.query(X[50:], batch_size=5)
    >>> picks.shape
    (5,)
    >>> bool((picks == strategy.rank(X[50:])[:5]).all())
    True
    """

    _aliases = ("maxdet",)

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        kernel="auto",
        sketch_dim=512,
        posterior=True,
        sigma=1e-3,
        layer=None,
        random_state=None,
    ):
        super().__init__(
            estimator, prefit=prefit, kernel=kernel, sketch_dim=sketch_dim,
            posterior=posterior, sigma=sigma, layer=layer, random_state=random_state,
        )

    def _selection(self, pool, labeled, seed):
        return MaxDetRanking(pool, self.sigma)


@Substitution(params=_PARAMS_DOC, params_tail=_PARAMS_TAIL_DOC, notes=_NOTES_DOC,
              references=_REFERENCES_DOC)
class MAXDIST(_KernelSelection):
    """Farthest-first in a regression model's kernel (MaxDist, Holzmüller et al., 2023).

    The centers are the labeled samples and the samples picked so far; each
    next pick is the pool sample farthest from its nearest center in the
    kernel distance ``d(x, c) = sqrt(k(x, x) + k(c, c) − 2 k(x, c))``: k-center
    greedy (:class:`CoreSet`'s rule) on the features of :class:`LCMD` and
    :class:`MAXDET`, on skal's k-center engine. This is the paper's
    MAXDIST-TP: the training (labeled) and pool samples as centers.

    Parameters
    ----------
    %(params)s

    posterior : bool, default=False
        Whether to select on the posterior kernel given the labeled set
        instead of the kernel itself (as :class:`MAXDET` does).

    %(params_tail)s

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator (``estimator`` itself when ``prefit=True``).

    X_labeled_ : ndarray of shape (n_labeled, ...)
        The labeled set given to ``fit``: the first centers, featurized with
        the current estimator at query time.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    LCMD : Farthest-first within the largest cluster only.
    KMEANSPP : A D² draw instead of the farthest sample.
    CoreSet : The same rule in a classifier's penultimate embedding.

    Notes
    -----
    Ties go to the lower pool index. Without a labeled set the first pick is
    the sample of largest ``k(x, x)``, as ``bmdal_reg`` does.

    %(notes)s

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.linear_model import Ridge
    >>> from skal import MAXDIST
    >>> X, y = make_friedman1(n_samples=200, random_state=0)
    >>> strategy = MAXDIST(Ridge()).fit(X[:50], y[:50])
    >>> picks = strategy.query(X[50:], batch_size=5)
    >>> bool((picks == strategy.rank(X[50:])[:5]).all())
    True
    """

    _aliases = ("maxdist",)
    _labeled_centers = True

    def _selection(self, pool, labeled, seed):
        if len(labeled):
            return KCenterGreedyRanking(pool, X_centers=labeled, dtype=np.float64)
        return _LargestFirst(pool)


@Substitution(params=_PARAMS_DOC, params_tail=_PARAMS_TAIL_DOC, notes=_NOTES_DOC,
              references=_REFERENCES_DOC)
class KMEANSPP(_KernelSelection):
    """K-means++ seeding in a regression model's kernel (KMeansPP, Holzmüller et al., 2023).

    Each next pick is drawn with probability proportional to its squared
    kernel distance to the nearest sample already picked, the first one
    uniformly at random: exact D² sampling on the features of :class:`LCMD`
    and :class:`MAXDET`, on skal's k-means++ engine (BADGE's). The labeled
    set is not a center: this is the paper's KMEANSPP-P (pool samples only);
    bmdal_reg's default, TP, also starts from the labeled samples.

    Parameters
    ----------
    %(params)s

    posterior : bool, default=False
        Whether to select on the posterior kernel given the labeled set
        instead of the kernel itself (as :class:`MAXDET` does).

    %(params_tail)s
        The draws of the selection come from the same seed.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator (``estimator`` itself when ``prefit=True``).

    X_labeled_ : ndarray of shape (n_labeled, ...)
        The labeled set given to ``fit`` (used with ``posterior=True`` only).

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    MAXDIST : The farthest sample instead of a D² draw.
    BADGE : The same engine on a classifier's gradient embedding.

    Notes
    -----
    %(notes)s

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.linear_model import Ridge
    >>> from skal import KMEANSPP
    >>> X, y = make_friedman1(n_samples=200, random_state=0)
    >>> strategy = KMEANSPP(Ridge(), random_state=0).fit(X[:50], y[:50])
    >>> picks = strategy.query(X[50:], batch_size=5)
    >>> bool((picks == strategy.rank(X[50:])[:5]).all())
    True
    """

    _aliases = ("kmeanspp",)

    def _selection(self, pool, labeled, seed):
        return KMeansPlusPlusRanking(pool, init="random", random_state=seed, dtype=np.float64)
