"""The strategy template, and the bases that need nothing but it.

A strategy is a scikit-learn estimator with a transformer's ``fit`` /
``transform`` and two more public methods, ``query`` and ``rank``. The public
methods validate their input, find the estimator to use, and call one private
method that subclasses implement (``_ordering`` and ``_transform``), the way
imbalanced-learn's ``fit_resample`` calls ``_fit_resample``.
"""

import copy
from abc import ABCMeta, abstractmethod
from numbers import Integral

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin, clone, is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ..embeddings import (
    check_embedding,
    check_predict_proba,
    penultimate_embedding,
    predict_proba,
)
from ..embeddings._estimators import _unwrap
from ..utils._readers import _is_regressor
from ..selection import BaseRanking, ScoreRanking
from ..utils._data import check_pool, num_samples, with_labels
from ..utils._docstring import Substitution
from ..utils._random import draw_seed, seed_if_unset
from ..utils._sklearn_compat import HasMethods, _fit_context

__all__ = [
    "BaseEmbeddingStrategy",
    "BaseMetaStrategy",
    "BaseScoreStrategy",
    "BaseStrategy",
    "BaseUncertaintySampling",
]

_SHARED_PARAMS_DOC = """estimator : estimator object, default=None
        The classifier whose view of the pool the strategy uses: a skorch
        ``NeuralNetClassifier`` or a scikit-learn classifier. ``None`` is
        allowed only when the strategy is used inside :class:`ActiveLearner`,
        which supplies its own fitted estimator every round.

    prefit : bool, default=False
        Whether ``estimator`` is already fitted. If True, ``query``, ``rank``
        and ``transform`` work without calling ``fit`` (``fit`` then only
        records the labeled set, and ``estimator_`` is ``estimator`` itself,
        not a copy). If False, ``fit(X, y)`` fits a clone of ``estimator``."""


# The registry of names lives with the strategies (skal.strategies._names), a layer
# above this one: it registers its resolver here when the strategies are imported.
_NAME_RESOLVERS = []


def _register_name_resolver(resolve):
    """Called once by :mod:`skal.strategies`: how a registry name becomes a strategy."""
    _NAME_RESOLVERS[:] = [resolve]


def _as_strategy(strategy):
    """``strategy`` itself, or a new instance of the one its registry name names.

    Every parameter that takes a strategy takes its name too (``"entropy"``,
    ``"BADGE"``, ``"random>badge@50"``); it is stored as given, and resolved
    here, where it is used, through :func:`skal.strategies.resolve_strategy`
    (whose error lists the valid names).
    """
    if isinstance(strategy, str):
        if not _NAME_RESOLVERS:
            raise ValueError(
                f"The strategy name {strategy!r} cannot be resolved before the strategies "
                "are imported: import skal.strategies (or pass a strategy instance)."
            )
        return _NAME_RESOLVERS[0](strategy)
    return strategy


def _regresses(estimator):
    """Whether ``estimator`` (a list of estimators: its first) is a regressor."""
    if isinstance(estimator, (list, tuple)):
        estimator = estimator[0] if len(estimator) else None
    return estimator is not None and _is_regressor(_unwrap(estimator))


def _fit_targets(estimator, y):
    """``y`` as ``estimator.fit`` takes it: a column of float32 for a skorch regressor.

    skorch's ``NeuralNetRegressor`` refuses a 1-D target and compares float32
    outputs with it; every other estimator takes ``y`` as it is.
    """
    from ..embeddings._estimators import _final_net

    net = _final_net(estimator)
    if net is not None and is_regressor(net) and np.ndim(y) == 1:
        return np.asarray(y, dtype=np.float32).reshape(-1, 1)
    return y


def _regression_strategies():
    """Names of the public strategies that serve a regressor, sorted.

    Found among the subclasses of :class:`BaseStrategy` (this layer cannot
    import :mod:`skal.strategies`, which defines them): the concrete public
    ones that serve regression or need no estimator at all.
    """
    import inspect

    found, stack = set(), [BaseStrategy]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if (
            inspect.isabstract(cls) or cls.__name__.startswith(("Base", "_"))
            or not cls.__module__.startswith("skal.strategies")
            or getattr(cls, "_wraps_strategy", False)
        ):
            continue
        needs = cls.__dict__.get("_needs_estimator", getattr(cls, "_needs_estimator", True))
        if getattr(cls, "_serves_regression", False) or needs is False:
            found.add(cls.__name__)
    return sorted(found)


def _regression_error(strategy_name, estimator):
    return (
        f"{strategy_name} needs a classifier (class probabilities or a hypothesized "
        f"label), but {type(estimator).__name__} is a regressor. For regression use "
        f"one of: {', '.join(_regression_strategies())}."
    )


def _check_two_classes(y, strategy_name):
    """Raise the error that names the fix unless the labels ``y`` have two classes."""
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(
            f"The labeled set has only one class ({classes.tolist()[0]!r}); fitting a "
            f"classifier for {strategy_name} needs at least two. Label "
            "samples of another class first, or use RandomSampling until you have."
        )


def _check_prefit(estimator, strategy_name):
    try:
        check_is_fitted(estimator)
    except NotFittedError as exc:
        raise NotFittedError(
            f"{strategy_name} has prefit=True but its estimator "
            f"{type(estimator).__name__} is not fitted. Fit the estimator first, "
            "or set prefit=False and call fit(X_labeled, y_labeled) so that the "
            "strategy fits a clone."
        ) from exc


@Substitution(shared_params=_SHARED_PARAMS_DOC)
class BaseStrategy(TransformerMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class for all query strategies.

    Warning: This class should not be used directly. Use derived classes
    instead.

    Subclasses implement ``_points(X, estimator)`` (what the ranking engine
    takes: scores, an embedding or an ``OuterProduct``), ``_ranking(points, estimator)``
    (a lazy ranking over them) and ``_transform(X, estimator)``; ``query``,
    ``rank`` and ``lazy_rank`` are all prefixes of that one ranking. Subclasses that
    need no estimator set ``_needs_estimator = False``; those that need
    something of the estimator check it in ``_check_estimator``.

    Parameters
    ----------
    %(shared_params)s

    See Also
    --------
    BaseScoreStrategy : The base of strategies that rank by a score per sample.
    BaseEmbeddingStrategy : The base of strategies that select in an embedding.
    skal.all_strategies : Every concrete strategy.

    Examples
    --------
    Every strategy ranks the whole pool; ``query`` returns the first
    ``batch_size`` indices of that ranking:

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import BaseStrategy, MarginSampling
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=300).fit(X[::10], y[::10])
    >>> strategy = MarginSampling(clf, prefit=True)
    >>> isinstance(strategy, BaseStrategy)
    True
    >>> picks = strategy.query(X, batch_size=5)
    >>> bool((picks == strategy.rank(X)[:5]).all())
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"]), None],
        "prefit": ["boolean"],
    }

    _needs_estimator = True
    _accept_sparse = False

    # Whether the strategy can serve a regressor: it reads the estimator's
    # embedding or predictions only, never class probabilities. Strategies that
    # need no estimator serve any model.
    _serves_regression = False

    # Whether fit records something of the labeled set that the picks use (its
    # samples as centers, a validation set, covered clusters...): then a prefit
    # strategy that was never fitted picks differently from a fitted one.
    _uses_labeled_set = False

    # Short names the command line, compare_strategies and resolve_strategy
    # accept besides the class name (lower case), e.g. ("badge",).
    _aliases = ()

    def __init__(self, estimator=None, *, prefit=False):
        self.estimator = estimator
        self.prefit = prefit

    # -- fitting ---------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the strategy on the labeled set.

        Parameters
        ----------
        X : array-like of shape (n_labeled, ...)
            The labeled samples.
        y : array-like of shape (n_labeled,), default=None
            Their labels. Required unless ``prefit=True`` or the strategy needs
            no estimator.

        Returns
        -------
        self : object
            The fitted strategy.
        """
        estimator, prefit = self._owner()
        if y is None and self._needs_estimator and not prefit:
            name = type(self).__name__
            raise ValueError(
                f"{name} requires y to be passed, but the target y is None: fit(X, y) "
                "fits a clone of its estimator on the labeled set (prefit=False). Pass "
                f"the labels of X, or a fitted estimator with {name}(estimator, "
                "prefit=True)."
            )
        # the estimator reads the pool only if the strategy asks it (as in _validate_pool)
        reader = estimator if self._needs_estimator else None
        checked = self._check_pool(X, "no_validation" if y is None else y, reader=reader,
                                   reset=True)
        X, y = (checked, None) if y is None else checked
        if y is not None:
            y = self._check_targets(y, estimator)
        self.estimator_ = self._fit_estimator(X, y)
        self._fit(X, y)
        return self

    def _check_targets(self, y, estimator):
        """``y`` checked: numbers for a regressor, classes for a classifier.

        A strategy that needs no estimator takes either (a regression pool's
        seed set is chosen as a classification pool's).
        """
        if _regresses(estimator):
            return column_or_1d(y, dtype=np.float64, warn=True)
        if self._needs_estimator:
            check_classification_targets(y)
        return y

    def _fit_estimator(self, X, y):
        if not self._needs_estimator:
            return None
        estimator = self._require_estimator()
        _, prefit = self._owner()
        if prefit:
            _check_prefit(estimator, type(self).__name__)
            if y is not None and hasattr(estimator, "classes_"):
                unknown = np.setdiff1d(np.unique(y), estimator.classes_)
                if unknown.size:
                    raise ValueError(
                        f"y contains labels {unknown.tolist()} that the prefit "
                        f"estimator was not fitted on (its classes_ are "
                        f"{np.asarray(estimator.classes_).tolist()}). Refit the "
                        "estimator with every class, or set prefit=False."
                    )
            return estimator
        if not _regresses(estimator):
            _check_two_classes(y, type(self).__name__)
        return clone(estimator).fit(with_labels(X, y), _fit_targets(estimator, y))

    def _fit(self, X, y):
        """Record what the strategy needs of the labeled set (default: nothing)."""

    def _owner(self):
        """``(estimator, prefit)`` the strategy uses (meta-strategies override)."""
        return self.estimator, self.prefit

    def _require_estimator(self):
        """The estimator to use (a ``FrozenEstimator`` unwrapped), checked."""
        if self._owner()[0] is None:
            raise ValueError(
                f"{type(self).__name__}(estimator=None) has no classifier to ask. "
                f"Pass one, e.g. {type(self).__name__}(estimator=LogisticRegression()), "
                "or use the strategy inside ActiveLearner, which supplies its own."
            )
        estimator = _unwrap(self._owner()[0])
        if _regresses(estimator) and not self._serves_regression:
            raise ValueError(_regression_error(type(self).__name__, estimator))
        self._check_estimator(estimator)
        return estimator

    def _check_estimator(self, estimator):
        """Raise a clear error if ``estimator`` lacks what the strategy needs."""

    # -- state -----------------------------------------------------------------

    def _fitted_estimator(self):
        """The estimator to use, fitted: ``estimator_`` or a prefit ``estimator``."""
        if hasattr(self, "estimator_"):
            return _unwrap(self.estimator_)
        if self._owner()[1]:
            self._validate_params()  # fit, which would validate, is never called
            if not self._needs_estimator:
                return None
            estimator = self._require_estimator()
            _check_prefit(estimator, type(self).__name__)
            return estimator
        try:
            check_is_fitted(self)
        except NotFittedError as exc:
            raise NotFittedError(self._not_fitted_message()) from exc

    def _not_fitted_message(self):
        """Why the strategy cannot be used yet, and the two ways to fix it."""
        name = type(self).__name__
        message = f"This {name} instance is not fitted yet. "
        estimator = self._owner()[0]
        try:
            check_is_fitted(_unwrap(estimator))
        except Exception:  # None, not fitted, or not an estimator: no hint to give
            return message + (
                "Call 'fit' with the labeled set first, fit(X_labeled, y_labeled), or "
                "pass prefit=True with an estimator that is already fitted."
            )
        return message + (
            f"Its estimator {type(estimator).__name__} is already fitted: pass "
            f"prefit=True to use it as it is, e.g. {name}(estimator, prefit=True); or "
            "call 'fit' with the labeled set first, fit(X_labeled, y_labeled), which "
            "fits a clone of it."
        )

    # What a strategy reads of the pool itself: None if it reads the pool only
    # through its estimator (probabilities, embeddings), so that any pool the
    # estimator reads works; else why it needs the numbers (for the error).
    _needs_pool_values = None

    def _check_pool(self, X, y="no_validation", *, reader, reset=False, name="X"):
        """:func:`~skal.utils._data.check_pool` with what this strategy reads."""
        return check_pool(
            X, y, reader=reader, owner=self, reset=reset,
            needs_values=self._needs_pool_values, accept_sparse=self._accept_sparse,
            name=name,
        )

    def _validate_pool(self, X, name="X"):
        estimator = self._fitted_estimator()
        return self._check_pool(X, reader=estimator, name=name), estimator

    # -- public template methods -----------------------------------------------

    def query(self, X, batch_size=100):
        """Choose the next batch to label.

        Parameters
        ----------
        X : array-like of shape (n_pool, ...)
            The unlabeled pool.
        batch_size : int, default=100
            How many samples to choose.

        Returns
        -------
        indices : ndarray of shape (batch_size,)
            Unique row indices into ``X``, most valuable first. They equal the
            first ``batch_size`` of ``rank(X)`` for the same ``random_state``.
        """
        if not isinstance(batch_size, Integral) or batch_size < 1:
            raise ValueError(
                f"batch_size={batch_size!r} must be a positive integer."
            )
        X, estimator = self._validate_pool(X)
        n = num_samples(X)
        if batch_size > n:
            raise ValueError(
                f"batch_size={batch_size} is larger than the pool ({n} unlabeled "
                f"samples). Pass batch_size <= {n}, or use rank(X) to order the "
                "whole pool."
            )
        return np.asarray(self._ordering(X, estimator, batch_size), dtype=np.intp)

    def rank(self, X):
        """Order the whole pool by priority.

        Parameters
        ----------
        X : array-like of shape (n_pool, ...)
            The unlabeled pool.

        Returns
        -------
        ranking : ndarray of shape (n_pool,)
            A permutation of ``range(n_pool)``: label ``X[ranking[0]]`` first.
            Any prefix is what ``query`` returns for that batch size.
        """
        X, estimator = self._validate_pool(X)
        return np.asarray(self._ordering(X, estimator, None), dtype=np.intp)

    def lazy_rank(self, X):
        """Rank the pool lazily, one index at a time; new samples may join.

        Parameters
        ----------
        X : array-like of shape (n_pool, ...)
            The unlabeled pool.

        Returns
        -------
        ranking : iterator of int
            ``next(ranking)`` is the next index to label, ``ranking.take(k)``
            the next ``k``; stopping costs nothing more. ``ranking.add(X_new)``
            adds samples (validated like ``X``; they get the indices
            ``n_points`` and up) that can be picked from the next step on.
            Without additions it yields exactly ``rank(X)``.
        """
        X, estimator = self._validate_pool(X)
        context = self._ranking_context()
        ranking = self._ranking(self._points(X, estimator, **context), estimator)
        return _StrategyRanking(self, estimator, ranking, context=context)

    def transform(self, X):
        """What the strategy selects on, for each sample of the pool.

        Parameters
        ----------
        X : array-like of shape (n_pool, ...)
            The unlabeled pool.

        Returns
        -------
        X_out : ndarray of shape (n_pool, n_outputs)
            See the strategy's own documentation.
        """
        X, estimator = self._validate_pool(X)
        return self._transform(X, estimator)

    def _ordering(self, X, estimator, n_select):
        """First ``n_select`` indices in priority order (all if None)."""
        ranking = self._ranking(self._points(X, estimator, **self._ranking_context()),
                                estimator)
        return ranking.take(ranking.n_points if n_select is None else n_select)

    def _ranking_context(self):
        """Keywords for ``_points`` that one ranking shares (default: none).

        Drawn once per ``query``, ``rank`` or ``lazy_rank`` and passed to every
        ``_points`` call of that ranking, the samples it adds later included:
        e.g. a seed drawn from ``random_state``, so that added samples see the
        same random masks as the pool. The strategy itself stores nothing.
        """
        return {}

    @abstractmethod
    def _points(self, X, estimator, offset=0):
        """What the ranking engine takes: scores, an embedding or OuterProduct.

        ``offset`` is the number of pool samples before these (for lazily
        added samples).
        """

    @abstractmethod
    def _ranking(self, points, estimator):
        """A lazy ranking object over ``points``."""

    @abstractmethod
    def _transform(self, X, estimator):
        """Per-sample representation the strategy selects on."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = self._needs_estimator and not self._owner()[1]
        tags.input_tags.sparse = self._accept_sparse
        tags.input_tags.allow_nan = False
        return tags


@Substitution(shared_params=_SHARED_PARAMS_DOC)
class BaseScoreStrategy(BaseStrategy):
    """Base class for strategies that rank by a score per sample.

    Warning: This class should not be used directly. Use derived classes
    instead.

    Subclasses implement ``_priority(X, estimator, offset=0)``: one score per
    sample of ``X`` (shape ``(n,)``, or ``(n, n_keys)`` where later columns
    break ties in earlier ones), higher first; ``offset`` is the number of
    pool samples before ``X`` (for lazily added samples). ``rank`` sorts by
    decreasing score with ties to the lower pool index
    (:class:`~skal.selection.ScoreRanking`), so the ranking is deterministic
    and lazily added samples are scored alone. ``transform`` returns the
    score as a column.

    Parameters
    ----------
    %(shared_params)s

    See Also
    --------
    BaseUncertaintySampling : Scores computed from class probabilities.
    skal.selection.ScoreRanking : The ranking by decreasing score.

    Examples
    --------
    A strategy that needs no estimator and prefers large first features:

    >>> import numpy as np
    >>> from skal.base import BaseScoreStrategy
    >>> class FirstFeature(BaseScoreStrategy):
    ...     _needs_estimator = False
    ...
    ...     def _priority(self, X, estimator, offset=0):
    ...         return np.asarray(X)[:, 0]
    >>> X = np.array([[0.2], [0.9], [0.5]])
    >>> FirstFeature(prefit=True).rank(X)
    array([1, 2, 0])
    """

    def _points(self, X, estimator, offset=0):
        return self._priority(X, estimator, offset)

    def _ranking(self, points, estimator):
        return ScoreRanking(points)

    def _transform(self, X, estimator):
        scores = np.asarray(self._priority(X, estimator))
        return scores[:, np.newaxis] if scores.ndim == 1 else scores

    @abstractmethod
    def _priority(self, X, estimator, offset=0):
        """Score of each sample, higher first."""


@Substitution(shared_params=_SHARED_PARAMS_DOC)
class BaseUncertaintySampling(BaseScoreStrategy):
    """Base class for strategies that rank by an uncertainty score.

    Warning: This class should not be used directly. Use derived classes
    instead.

    Subclasses implement ``_uncertainty(proba)``, a score per sample where
    higher means more uncertain. ``rank`` sorts by decreasing score; ties go
    to the lower pool index (a stable sort), so the ranking is deterministic.

    Parameters
    ----------
    %(shared_params)s

    See Also
    --------
    skal.LeastConfidence : One minus the probability of the most likely class.
    skal.MarginSampling : The margin between the two most likely classes.
    skal.EntropySampling : The entropy of the predicted distribution.

    Examples
    --------
    A strategy that prefers a probable second class:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.base import BaseUncertaintySampling
    >>> class SecondBest(BaseUncertaintySampling):
    ...     def _uncertainty(self, proba):
    ...         return np.sort(proba, axis=1)[:, -2]
    >>> X = np.array([[-3.0], [-1.0], [1.0], [3.0]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> SecondBest(clf, prefit=True).query(np.array([[-2.0], [0.1], [4.0]]), batch_size=1)
    array([1])
    """

    _accept_sparse = True

    def _check_estimator(self, estimator):
        check_predict_proba(estimator, purpose=type(self).__name__)

    def _priority(self, X, estimator, offset=0):
        proba = predict_proba(estimator, X, purpose=type(self).__name__)
        return self._uncertainty(proba)

    @abstractmethod
    def _uncertainty(self, proba):
        """Score per sample, higher = more uncertain."""


_DEVICE_DOC = """device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where the selection engine runs (the estimator's forward pass runs on
        the estimator's own device): compiled CPU kernels, or torch on a CUDA
        GPU. ``"cuda"`` without a GPU falls back to the CPU with a
        :class:`~skal.exceptions.DeviceWarning`; ``"auto"`` picks CUDA when
        available. The same ``random_state`` gives the same picks on the CPU,
        run after run; a GPU may round differently."""


_KMEANSPP_METHOD_DOC = """method : {"auto", "lazy", "scan"}, default="auto"
        How the k-means++ seeding is drawn (:doc:`/engine`). ``"auto"``
        draws by rejection from stale upper bounds on the distances and
        hands over to the scan once that is cheaper; ``"lazy"`` never hands
        over; ``"scan"`` updates every point at every pick, one uniform
        number per pick: the picks of skal 0.1.0, before the lazy engine, for
        reproducing a published run. All three draw exactly from the D²
        distribution; for the same ``random_state``, ``"scan"`` gives other
        picks than the lazy ones."""


_LAYER_DOC = """layer : str, default=None
        For skorch nets only: the name of the layer whose *input* is the
        embedding. ``None`` means the last ``torch.nn.Linear`` called in the
        forward pass (the penultimate activations)."""


@Substitution(shared_params=_SHARED_PARAMS_DOC, layer=_LAYER_DOC, device=_DEVICE_DOC)
class BaseEmbeddingStrategy(BaseStrategy):
    """Base class for strategies that need an embedding (BADGE, CoreSet, k-means).

    ``_points`` and ``_transform`` default to the penultimate embedding.

    Warning: This class should not be used directly. Use derived classes
    instead.

    Parameters
    ----------
    %(shared_params)s

    %(layer)s

    %(device)s

    random_state : int, RandomState instance or None, default=None
        Seed of the strategy's random choices (e.g. a first pick drawn at
        random).

    See Also
    --------
    skal.embeddings.penultimate_embedding : The default embedding.
    skal.CoreSet : A subclass that covers the pool farthest-first.
    skal.BADGE : A subclass that selects in gradient embeddings.

    Examples
    --------
    A strategy that orders the pool farthest-first in the embedding:

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.base import BaseEmbeddingStrategy
    >>> from skal.selection import KCenterGreedyRanking
    >>> class Farthest(BaseEmbeddingStrategy):
    ...     def _ranking(self, points, estimator):
    ...         return KCenterGreedyRanking(points, random_state=self.random_state)
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=300).fit(X[::10], y[::10])
    >>> Farthest(clf, prefit=True, random_state=0).query(X, batch_size=3)
    array([ 82, 118,  22])
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
        check_embedding(estimator, purpose=type(self).__name__)

    def _points(self, X, estimator, offset=0):
        """The penultimate embedding (strategies that select on another override)."""
        return penultimate_embedding(estimator, X, layer=self.layer)

    def _transform(self, X, estimator):
        return penultimate_embedding(estimator, X, layer=self.layer)


_META_STRATEGY_DOC = """strategy : strategy object or str
        The inner strategy, e.g. ``BADGE(random_state=0)``: any object with
        ``fit``, ``query``, ``rank`` and ``lazy_rank`` and the ``estimator``
        and ``prefit`` parameters (every skal strategy), or its name in the
        registry (``"badge"``, ``"entropy"``, a class name; see
        :func:`~skal.model_selection.resolve_strategy`), kept as given and turned
        into a strategy with default parameters where used. It is never modified:
        each use works on a clone, given the meta-strategy's fitted estimator
        with ``prefit=True`` (as :class:`~skal.ActiveLearner` does) and the
        labeled set passed to ``fit`` (so that ``CoreSet`` inside still
        starts from it)."""

_META_OWNER_DOC = """estimator : estimator object, default=None
        The classifier, owned by the meta-strategy: with ``prefit=False``,
        ``fit(X, y)`` fits a clone of it, and that fitted estimator is what the
        inner strategy uses (its own ``estimator`` is replaced). ``None`` means
        the inner strategy's ``estimator`` (so ``SubsetSampling(BADGE(clf))``
        works). :class:`~skal.ActiveLearner` sets it, with ``prefit=True``,
        every round.

    prefit : bool, default=False
        Whether the estimator is already fitted (see ``estimator``); if True,
        ``query``, ``rank`` and ``transform`` work without ``fit``. When
        ``estimator`` is None, the inner strategy's ``prefit=True`` counts
        too: ``SubsetSampling(BADGE(clf, prefit=True))`` needs no ``fit``."""

# strategy, then estimator and prefit: for meta-strategies whose signature has
# them in that order (their own parameters come after)
_META_PARAMS_DOC = _META_STRATEGY_DOC + "\n\n    " + _META_OWNER_DOC

_META_ATTRIBUTES_DOC = """estimator_ : estimator object or None
        The fitted estimator (the prefit one itself when prefit), passed to
        the inner strategy; None if the inner strategy needs none.

    strategy_ : strategy object
        A clone of ``strategy`` with ``estimator=estimator_``, ``prefit=True``,
        fitted on the labeled set; each query uses a copy of it.

    n_features_in_ : int
        Number of features seen during ``fit``."""

_RANDOM_STATE_INNER = """If the inner strategy has a ``random_state`` parameter left at None,
        it gets a seed drawn from this one, so that a seeded meta-strategy
        (and :class:`~skal.ActiveLearner`, which seeds the strategy it is
        given each round) is reproducible end to end and ``query`` is a
        prefix of ``rank``. An inner ``random_state`` that is set is used
        as it is."""


@Substitution(meta_params=_META_PARAMS_DOC, random_state_inner=_RANDOM_STATE_INNER)
class BaseMetaStrategy(BaseStrategy):
    """Base class of strategies that wrap another strategy.

    Warning: This class should not be used directly. Use derived classes
    instead.

    Owns the estimator (its own ``estimator`` or, when None, the inner
    strategy's), fits it once, and hands it to clones of the inner strategy
    with ``prefit=True``; ``fit`` also fits such a clone on the labeled set
    (``strategy_``), so that each query uses a copy of it.

    Parameters
    ----------
    %(meta_params)s

    random_state : int, RandomState instance or None, default=None
        Seed of the meta-strategy's own random choices. %(random_state_inner)s

    See Also
    --------
    skal.SubsetSampling : The inner strategy on a random subset of the pool.
    skal.PartitionedStrategy : The inner strategy on each part of the pool.
    skal.StochasticBatch : A batch sampled in proportion to the inner scores.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import BADGE, SubsetSampling
    >>> from skal.base import BaseMetaStrategy
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=300).fit(X[::10], y[::10])
    >>> strategy = SubsetSampling(BADGE(), n_candidates=50, estimator=clf, prefit=True,
    ...                           random_state=0)
    >>> isinstance(strategy, BaseMetaStrategy)
    True
    >>> strategy.query(X, batch_size=3).shape
    (3,)
    """

    # Wraps another strategy (a required parameter): not default-constructible,
    # so generic loops over all strategies that call ``Strategy()`` skip it.
    _wraps_strategy = True
    _serves_regression = True  # the inner strategy checks the estimator

    _parameter_constraints = {
        **BaseStrategy._parameter_constraints,
        "strategy": [HasMethods(["fit", "query", "rank", "lazy_rank"]), str],
        "random_state": ["random_state"],
    }

    def __init__(self, strategy, *, estimator=None, prefit=False, random_state=None):
        super().__init__(estimator=estimator, prefit=prefit)
        self.strategy = strategy
        self.random_state = random_state

    # -- what the inner strategy brings ------------------------------------------

    def _inner_strategy(self):
        """``strategy``, or a new instance of the strategy its name names."""
        return _as_strategy(self.strategy)

    def _inner_params(self):
        try:
            return self._inner_strategy().get_params(deep=False)
        except Exception:  # not validated yet; fit/_validate_params says what is wrong
            return {}

    def _owner(self):
        """``(estimator, prefit)`` the meta-strategy uses."""
        if self.estimator is not None:
            return self.estimator, bool(self.prefit)
        params = self._inner_params()
        return params.get("estimator"), bool(self.prefit or params.get("prefit", False))

    @property
    def _needs_estimator(self):
        return bool(getattr(self._inner_strategy(), "_needs_estimator", True))

    @property
    def _accept_sparse(self):
        return bool(getattr(self._inner_strategy(), "_accept_sparse", False))

    def _require_estimator(self):
        estimator, _ = self._owner()
        if estimator is None:
            name = type(self).__name__
            raise ValueError(
                f"{name} has no classifier to ask: both its estimator and its inner "
                f"strategy's are None. Pass one, e.g. {name}(BADGE(), "
                "estimator=LogisticRegression()), or use it inside ActiveLearner, "
                "which supplies its own."
            )
        self._check_estimator(estimator)
        return estimator

    def _check_estimator(self, estimator):
        check = getattr(self._inner_strategy(), "_check_estimator", None)
        if check is not None:
            check(estimator)  # e.g. BADGE inside needs an embedding

    def _fit(self, X, y):
        # the labeled set goes to the inner strategy too (CoreSet's centers)
        self.strategy_ = self._new_inner(self.estimator_).fit(X, y)

    # -- the inner strategy ---------------------------------------------------------

    def _new_inner(self, estimator):
        return clone(self._inner_strategy()).set_params(estimator=estimator, prefit=True)

    def _inner(self, estimator, seed):
        """The inner strategy for one use: fitted on the labeled set, seeded."""
        if hasattr(self, "strategy_"):
            inner = copy.copy(self.strategy_)  # keeps the labeled set, not re-fitted
        else:
            inner = self._new_inner(estimator)
        return seed_if_unset(inner, seed, params=self._inner_params())

    def _seeds(self, n):
        """``n`` seeds for inner strategies, the first draws of ``random_state``."""
        rng = check_random_state(self.random_state)
        return draw_seed(rng, size=n), rng

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            tags.non_deterministic = get_tags(self._inner_strategy()).non_deterministic
        except Exception:  # not a valid strategy; fit says so
            pass
        return tags


class _StrategyRanking(BaseRanking):
    """A lazy ranking whose ``add`` takes raw samples, embedded by the strategy.

    ``points(X_new, offset)`` turns validated new samples into what the
    ranking's ``add`` takes; by default the strategy's ``_points`` with the
    ranking's estimator.
    """

    def __init__(self, strategy, estimator, ranking, points=None, context=None):
        self._strategy = strategy
        self._estimator = estimator
        self._ranking = ranking
        self._new_points = points
        self._context = context or {}
        super().__init__(ranking.n_points)

    def _take(self, k):
        return self._ranking.take(k)

    def add(self, X_new):
        """Add samples to the pool (validated like the pool).

        Parameters
        ----------
        X_new : array-like of shape (n_new, ...)
            New unlabeled samples, of any kind the pool could be.

        Returns
        -------
        indices : ndarray of shape (n_new,)
            The indices they get: ``n_points`` before the call, and up.
        """
        return super().add(X_new)

    def _add(self, X_new):
        if num_samples(X_new) == 0:  # also: an error naming an unsupported type
            return 0
        X_new, _ = self._strategy._validate_pool(X_new, name="X_new")
        if self._new_points is not None:
            points = self._new_points(X_new, self.n_points)
        else:
            points = self._strategy._points(
                X_new, self._estimator, offset=self.n_points, **self._context
            )
        return len(self._ranking.add(points))
