"""A budget-aware switch: one strategy for the first labels, another after."""

from numbers import Integral

from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state, get_tags

from ..base import BaseStrategy
from ..base._strategy import _as_strategy
from ..utils._random import draw_seed, seed_if_unset
from ..utils._sklearn_compat import HasMethods, Interval, _fit_context, _num_samples

__all__ = ["SwitchingStrategy"]

_STRATEGY = [HasMethods(["fit", "query", "rank", "lazy_rank"]), str]


class SwitchingStrategy(BaseStrategy):
    """Use one strategy until the labeled set reaches a size, then another.

    Which strategy works best depends on the budget: with a few dozen labels
    a representative strategy (``TypiClust``, ``DispersionSampling``, or
    even random sampling) beats uncertainty, which needs a model worth
    asking; with more labels, uncertainty (margin) or BADGE wins [1]_. The
    TCM pattern of [2]_ runs TypiClust for the first labels, then margin
    sampling: ``SwitchingStrategy(TypiClust(), MarginSampling(),
    switch_at=100)``, or by name, ``SwitchingStrategy("typiclust", "margin",
    switch_at=100)``.

    Parameters
    ----------
    first : strategy object or str
        The strategy while fewer than ``switch_at`` samples are labeled, or
        its registry name (``"random"``, ``"typiclust"``, a class name; see
        :func:`~skal.model_selection.resolve_strategy`), kept as given and turned
        into a strategy with default parameters in ``fit``.

    then : strategy object or str
        The strategy from ``switch_at`` labeled samples on, or its name.

    switch_at : int, default=100
        The labeled-set size at which ``then`` takes over. ``0`` always uses
        ``then``.

    estimator : estimator object, default=None
        The classifier, given to the strategy in use (replacing its own
        ``estimator``), with ``prefit``. ``None`` leaves each strategy its own
        ``estimator``. :class:`~skal.ActiveLearner` sets it, with
        ``prefit=True``, every round.

    prefit : bool, default=False
        Whether ``estimator`` is already fitted; when ``estimator`` is None,
        True makes the strategy in use take its own estimator as fitted.
        Unlike other strategies, this one still needs ``fit``: the labeled
        set's size decides which strategy is used (see Notes).

    random_state : int, RandomState instance or None, default=None
        If ``first`` or ``then`` has a ``random_state`` parameter left at
        None, it gets a seed drawn from this one (one seed each, the same
        whichever of them is used), so that a seeded switch, and
        :class:`~skal.ActiveLearner`, which seeds the strategy it is given
        each round, are reproducible end to end. A ``random_state`` that
        ``first`` or ``then`` sets is used as it is.

    Attributes
    ----------
    n_labeled_ : int
        The number of labels ``fit`` was given (0 without ``y``).

    strategy_ : strategy object
        A clone of the strategy in use (``first`` if ``n_labeled_ <
        switch_at``, else ``then``), given ``estimator`` and seeded as
        described above, fitted on the labeled set. ``query``, ``rank``,
        ``lazy_rank`` and ``transform`` are its own.

    estimator_ : estimator object or None
        ``strategy_.estimator_``: the estimator it uses.

    n_features_in_ : int
        Number of features seen during ``fit`` (when ``strategy_`` records it).

    See Also
    --------
    DispersionSampling : Samples far apart, with no classifier (a ``first``).
    FacilityLocationSampling : Samples that represent the pool (a ``first``).
    MarginSampling : Uncertainty, once the model is worth asking (a ``then``).
    BADGE : Uncertainty and diversity together (a ``then``).

    Notes
    -----
    **The label count.** It is the number of labels ``y`` that ``fit(X, y)``
    receives: :class:`~skal.ActiveLearner` fits the strategy on the labeled
    set, with its labels, every round. ``fit(X)`` without ``y`` counts as no
    labels; it is how ``ActiveLearner(initial_strategy=...)`` fits a strategy
    on the unlabeled pool, so a switch whose ``first`` needs no classifier
    (e.g. ``DispersionSampling``) can also choose the initial set. With
    ``prefit=True`` and no ``fit``, the count is unknown: ``query``,
    ``rank``, ``lazy_rank`` and ``transform`` raise ``NotFittedError``
    (``fit(X_labeled, y_labeled)`` then fits no estimator, it only counts).

    **On the command line** and in :func:`~skal.model_selection.resolve_strategy`
    and :func:`~skal.model_selection.compare_strategies`, ``"random>badge@50"``
    is ``SwitchingStrategy(RandomSampling(), BADGE(), switch_at=50)``;
    ``"random>margin@20>badge@100"`` switches twice.

    References
    ----------
    .. [1] G. Hacohen, A. Dekel and D. Weinshall, "Active Learning on a
       Budget: Opposite Strategies Suit High and Low Budgets", ICML 2022.
    .. [2] C. Doucet, H. Kervadec, G. Hacohen, ... "Bridging Diversity and
       Uncertainty in Active Learning with Self-Supervised Pre-Training",
       arXiv:2403.03728, 2024 (TCM).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import MarginSampling, RandomSampling, SwitchingStrategy
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=1000).fit(X[:100], y[:100])
    >>> switch = SwitchingStrategy(RandomSampling(), MarginSampling(), switch_at=50,
    ...                            estimator=clf, prefit=True, random_state=0)
    >>> type(switch.fit(X[:30], y[:30]).strategy_).__name__
    'RandomSampling'
    >>> type(switch.fit(X[:100], y[:100]).strategy_).__name__
    'MarginSampling'
    >>> switch.query(X[100:], batch_size=3).tolist() == (
    ...     MarginSampling(clf, prefit=True).query(X[100:], batch_size=3).tolist())
    True
    >>> sorted(k for k in switch.get_params() if k.startswith("first"))
    ['first', 'first__estimator', 'first__prefit', 'first__random_state']
    """

    # Wraps two strategies (required parameters): not default-constructible.
    _wraps_strategy = True
    _serves_regression = True  # the strategy in use checks the estimator

    _parameter_constraints = {
        **BaseStrategy._parameter_constraints,
        "first": _STRATEGY,
        "then": _STRATEGY,
        "switch_at": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self, first, then, *, switch_at=100, estimator=None, prefit=False, random_state=None
    ):
        super().__init__(estimator=estimator, prefit=prefit)
        self.first = first
        self.then = then
        self.switch_at = switch_at
        self.random_state = random_state

    # -- which strategy ------------------------------------------------------------

    def _chosen(self, n_labeled):
        """(strategy, index) used with ``n_labeled`` labels: first (0) or then (1)."""
        strategy, which = (
            (self.first, 0) if n_labeled < self.switch_at else (self.then, 1)
        )
        return _as_strategy(strategy), which

    def _in_use(self):
        """The strategy in use; before fit, the one ``fit(X)`` without labels would use."""
        strategy = getattr(self, "strategy_", None)
        if strategy is None:
            try:
                strategy = self._chosen(0)[0]
            except TypeError:  # switch_at not validated yet
                return None
        return strategy

    @property
    def _needs_estimator(self):
        # ActiveLearner asks it of its initial_strategy, before fit(X) without labels
        return bool(getattr(self._in_use(), "_needs_estimator", True))

    @property
    def _accept_sparse(self):
        return bool(getattr(self._in_use(), "_accept_sparse", False))

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Count the labels and fit the strategy for that count on the labeled set.

        Parameters
        ----------
        X : array-like of shape (n_labeled, ...)
            The labeled samples (the pool, for ``fit(X)`` without labels).
        y : array-like of shape (n_labeled,), default=None
            Their labels; their number decides the strategy. None counts as
            no labels.

        Returns
        -------
        self : object
            The fitted switch.
        """
        n_labeled = 0 if y is None else _num_samples(y)
        strategy, which = self._chosen(n_labeled)
        own = strategy.get_params(deep=False)
        strategy = clone(strategy)
        if self.estimator is not None:
            params = {"estimator": self.estimator, "prefit": self.prefit}
        else:  # its own estimator, itself: clone would unfit a prefit one
            params = {"estimator": own.get("estimator")}
            if self.prefit:
                params["prefit"] = True
        strategy.set_params(**{k: v for k, v in params.items() if k in own})
        seed_if_unset(  # the first two draws of random_state: one for each strategy
            strategy, lambda: draw_seed(check_random_state(self.random_state), size=2)[which],
            params=own,
        )
        self.strategy_ = strategy.fit(X, y)
        self.n_labeled_ = n_labeled
        self.estimator_ = getattr(self.strategy_, "estimator_", None)
        if hasattr(self.strategy_, "n_features_in_"):
            self.n_features_in_ = self.strategy_.n_features_in_
        elif hasattr(self, "n_features_in_"):
            del self.n_features_in_
        return self

    # -- the template methods, answered by the strategy in use ---------------------

    def _validate_pool(self, X, name="X"):
        if not hasattr(self, "strategy_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet. It chooses between "
                "its strategies by the number of labels, which fit(X_labeled, "
                "y_labeled) tells it; call fit first (with prefit=True, fit only "
                "counts the labels and fits no estimator)."
            )
        return X, self.strategy_  # the strategy in use validates X

    def _ordering(self, X, strategy, n_select):
        if n_select is None:
            return strategy.rank(X)
        return strategy.query(X, batch_size=n_select)

    def _points(self, X, strategy, offset=0):
        return X

    def _ranking(self, X, strategy):
        return strategy.lazy_rank(X)

    def _transform(self, X, strategy):
        return strategy.transform(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            tags.non_deterministic = any(
                get_tags(_as_strategy(s)).non_deterministic for s in (self.first, self.then)
            )
        except Exception:  # not valid strategies; fit says so
            pass
        return tags


def _parse_switch(spec):
    """``SwitchingStrategy`` from ``"FIRST>THEN@N[>NEXT@M...]"``."""
    from ._names import resolve_strategy as resolve

    parts = spec.split(">")
    example = (
        f"Malformed strategy {spec!r}: write FIRST>THEN@N, e.g. 'random>badge@50' "
        "(random sampling until 50 samples are labeled, then BADGE), or "
        "'random>margin@20>badge@100' to switch twice"
    )
    if "@" in parts[0] or not parts[0].strip():
        raise ValueError(f"{example}.")
    strategy = resolve(parts[0].strip())
    last = -1
    for part in parts[1:]:
        name, at, count = part.rpartition("@")
        count = count.strip()
        if not at or not name.strip() or not count.isdigit():
            raise ValueError(f"{example}; {part!r} is not NAME@N with N a label count.")
        count = int(count)
        if count <= last:
            raise ValueError(
                f"{example}; the label counts must increase from left to right "
                f"({count} follows {last})."
            )
        strategy = SwitchingStrategy(strategy, resolve(name.strip()), switch_at=count)
        last = count
    return strategy
