"""Stopping criteria: when to stop labeling.

A stopping criterion is an estimator passed to
``ActiveLearner(stopping=...)``. After every fit of the learner's estimator
(each simulated round, or each ``fit`` in real labeling), the learner calls
:meth:`BaseStoppingCriterion.should_stop` with a :class:`RoundState`; the
criterion computes one value for the round (kept in ``values_``), decides,
and says why in ``reason_``.
"""

from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Optional

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import cohen_kappa_score
from sklearn.utils import check_random_state

from .embeddings import predict_proba
from .uncertainty import least_confidence_score
from .utils._data import take
from .utils._random import seed_if_unset
from .utils._sklearn_compat import Interval, RealNotInt

__all__ = [
    "BaseStoppingCriterion",
    "MaxUncertainty",
    "MinExpectedError",
    "RoundState",
    "StabilizingPredictions",
    "ValidationPlateau",
]


@dataclass
class RoundState:
    """What a stopping criterion sees after one fit of the learner.

    :class:`~skal.ActiveLearner` builds one after every fit and passes it to
    its criterion's :meth:`~BaseStoppingCriterion.should_stop`; build one
    yourself to try a criterion outside a learner.

    Parameters
    ----------
    estimator : fitted classifier
        The estimator fitted on the labeled samples of this round.
    X : array-like of shape (n_samples, ...)
        Every sample given to ``ActiveLearner.fit``, labeled or not.
    pool : ndarray of shape (n_unlabeled,)
        Indices into ``X`` of the samples still unlabeled after this round.
    n_round : int
        The round (simulation: 0 for the initial fit), or the number of
        earlier real-labeling fits this criterion has seen.
    n_labeled : int
        Labeled samples after this round.
    score : float or None, default=None
        The validation score of this round (``X_val``), None without one.

    See Also
    --------
    BaseStoppingCriterion : The criteria that read it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.stopping import RoundState
    >>> X = np.array([[-3.0], [-1.0], [1.0], [3.0], [-6.0], [6.0]])
    >>> clf = LogisticRegression().fit(X[:4], [0, 0, 1, 1])
    >>> state = RoundState(clf, X, pool=np.array([4, 5]), n_round=0, n_labeled=4)
    >>> state.n_labeled, X[state.pool].ravel().tolist()
    (4, [-6.0, 6.0])
    """

    estimator: Any
    X: Any
    pool: np.ndarray
    n_round: int
    n_labeled: int
    score: Optional[float] = None


class BaseStoppingCriterion(BaseEstimator, metaclass=ABCMeta):
    """Base class of the stopping criteria.

    A subclass implements ``_value(state)`` (the criterion's value for the
    round, ``nan`` when it has none yet) and ``_decide(values)`` (stop or
    not, given every value so far, and why). :meth:`should_stop` is the
    template method: it validates the parameters on the first call, appends
    the value to ``values_`` and sets ``reason_``.

    Attributes
    ----------
    values_ : list of float
        The criterion's value after each fit it has seen, in order.

    reason_ : str or None
        Why the last call said stop; None when it did not.

    See Also
    --------
    RoundState : What :meth:`should_stop` is given.
    MaxUncertainty : A concrete criterion, on the model's confidence.

    Examples
    --------
    A criterion that stops once a number of labels is reached:

    >>> import numpy as np
    >>> from skal.stopping import BaseStoppingCriterion, RoundState
    >>> class LabelBudget(BaseStoppingCriterion):
    ...     def __init__(self, n_labels=100):
    ...         self.n_labels = n_labels
    ...
    ...     def _value(self, state):
    ...         return state.n_labeled
    ...
    ...     def _decide(self, values):
    ...         return values[-1] >= self.n_labels, f"{values[-1]:.0f} labels"
    >>> criterion = LabelBudget(n_labels=20)
    >>> for n in (10, 20):
    ...     state = RoundState(None, None, pool=np.arange(5), n_round=0, n_labeled=n)
    ...     print(criterion.should_stop(state), criterion.reason_)
    False None
    True 20 labels
    """

    _parameter_constraints: dict = {}

    # a criterion that needs the validation score (X_val) sets this
    _needs_validation = False

    def should_stop(self, state):
        """Record this round's value and tell whether to stop labeling.

        Parameters
        ----------
        state : RoundState
            The round's fitted estimator, samples, pool and score.

        Returns
        -------
        stop : bool
            True if the criterion says labeling can stop now.
        """
        if not hasattr(self, "values_"):
            self._validate_params()
            self.values_ = []
        self.values_.append(float(self._value(state)))
        stop, reason = self._decide(np.asarray(self.values_, dtype=float))
        self.reason_ = reason if stop else None
        return bool(stop)

    @abstractmethod
    def _value(self, state):
        """The criterion's value for this round (``nan`` if it has none)."""

    @abstractmethod
    def _decide(self, values):
        """(stop, reason) from every value so far, the last one for this round."""


class StabilizingPredictions(BaseStoppingCriterion):
    """Stop when successive models agree on a stop set (stabilizing predictions).

    A *stop set* of unlabeled samples is drawn once, at the first fit the
    criterion sees. After every fit, the model's predictions on the stop set
    are compared with the previous model's by Cohen's kappa
    (:func:`sklearn.metrics.cohen_kappa_score`). Labeling stops when the
    average of the last ``window`` kappas is at least ``threshold``: the
    models have stopped changing their minds, so more labels would change
    little. The stop set needs no labels, so it can be large.

    Parameters
    ----------
    stop_set_size : int or float, default=2000
        Samples in the stop set, drawn from the unlabeled samples of the first
        fit: a count (at most the pool), or a fraction of the pool.

    window : int, default=3
        Number of successive kappas averaged (the paper's ``k = 3``).

    threshold : float, default=0.99
        Stop when the mean of the last ``window`` kappas reaches it (the
        paper's 0.99; lower stops earlier, the paper's "aggressive" setting).

    random_state : int, RandomState instance or None, default=None
        Draws the stop set. ``ActiveLearner`` seeds a criterion whose
        ``random_state`` is None from its own, without changing its picks.

    Attributes
    ----------
    stop_set_ : ndarray of shape (n_stop,)
        Indices into ``X`` of the stop set.

    previous_predictions_ : ndarray of shape (n_stop,)
        The last model's predictions on the stop set.

    values_ : list of float
        Kappa between each fit's predictions and the previous fit's (``nan``
        for the first fit).

    reason_ : str or None
        Why the last call said stop; None when it did not.

    See Also
    --------
    MinExpectedError, MaxUncertainty : Stop on the model's own confidence.
    ValidationPlateau : Stop when the validation score stops improving.

    Notes
    -----
    The stop set is drawn from the pool at the first fit and kept: samples
    of it that are labeled later stay in it (the paper's stop set is
    independent of what is queried). Kappa is 1 when two models predict
    exactly the same labels, even if only one class (where Cohen's kappa is
    otherwise undefined).

    References
    ----------
    .. [1] M. Bloodgood and K. Vijay-Shanker, "A Method for Stopping Active
       Learning Based on Stabilizing Predictions and the Need for
       User-Adjustable Stopping", CoNLL 2009. arXiv:1409.5165.
    .. [2] M. Bloodgood and J. Grothendieck, "Analysis of Stopping Active
       Learning based on Stabilizing Predictions", CoNLL 2013.
       arXiv:1504.06329 (kappa above ``T`` bounds the change in F-measure
       by ``4(1 - T) / T``).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearner
    >>> from skal.stopping import StabilizingPredictions
    >>> X, y = load_digits(return_X_y=True)
    >>> learner = ActiveLearner(
    ...     LogisticRegression(max_iter=300), batch_size=20, initial_size=30,
    ...     budget=None, random_state=0,
    ...     stopping=StabilizingPredictions(stop_set_size=500, threshold=0.95),
    ... ).fit(X, y)
    >>> learner.stopped_
    True
    >>> learner.stop_n_labeled_ < len(y)
    True
    """

    _needs_classifier = True  # compares predicted classes

    _parameter_constraints = {
        "stop_set_size": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
        ],
        "window": [Interval(Integral, 1, None, closed="left")],
        "threshold": [Interval(Real, -1, 1, closed="both")],
        "random_state": ["random_state"],
    }

    def __init__(self, stop_set_size=2000, window=3, threshold=0.99, random_state=None):
        self.stop_set_size = stop_set_size
        self.window = window
        self.threshold = threshold
        self.random_state = random_state

    def _value(self, state):
        if not hasattr(self, "stop_set_"):
            pool = np.asarray(state.pool, dtype=np.intp)
            if pool.size == 0:
                raise ValueError(
                    "StabilizingPredictions draws its stop set from the unlabeled "
                    "samples, but the first fit it sees has none. Evaluate it from a "
                    "fit with unlabeled samples in X."
                )
            if isinstance(self.stop_set_size, Integral):
                size = min(int(self.stop_set_size), pool.size)
            else:
                size = max(1, int(np.floor(self.stop_set_size * pool.size)))
            rng = check_random_state(self.random_state)
            self.stop_set_ = np.sort(rng.choice(pool, size=size, replace=False))
        predictions = np.asarray(state.estimator.predict(take(state.X, self.stop_set_)))
        previous = getattr(self, "previous_predictions_", None)
        self.previous_predictions_ = predictions
        if previous is None:
            return np.nan
        return _kappa(previous, predictions)

    def _decide(self, values):
        kappas = values[~np.isnan(values)]
        if kappas.size < self.window:
            return False, None
        mean = float(kappas[-self.window :].mean())
        if mean >= self.threshold:
            return True, (
                f"StabilizingPredictions: the mean kappa of the last {self.window} "
                f"successive models on the stop set ({self.stop_set_.size} samples) is "
                f"{mean:.4f} >= threshold={self.threshold}."
            )
        return False, None


def _kappa(a, b):
    """Cohen's kappa, 1 for identical predictions (also of a single class)."""
    if np.array_equal(a, b):
        return 1.0
    return float(cohen_kappa_score(a, b))


class _BelowThreshold(BaseStoppingCriterion):
    """Stop when a confidence measure on the pool falls below ``threshold``."""

    _parameter_constraints = {"threshold": [Interval(Real, 0, 1, closed="both")]}

    _description = ""
    _needs_classifier = True  # class probabilities

    def __init__(self, threshold=0.1):
        self.threshold = threshold

    def _value(self, state):
        pool = np.asarray(state.pool, dtype=np.intp)
        if pool.size == 0:
            return np.nan
        proba = predict_proba(
            state.estimator, take(state.X, pool), purpose=type(self).__name__
        )
        return self._reduce(least_confidence_score(proba))

    def _decide(self, values):
        value = values[-1]
        if value < self.threshold:  # nan (empty pool) never stops
            return True, (
                f"{type(self).__name__}: the {self._description} on the pool is "
                f"{value:.4f} < threshold={self.threshold}."
            )
        return False, None


class MaxUncertainty(_BelowThreshold):
    """Stop when the most uncertain pool sample is confident enough.

    After every fit, the uncertainty of each unlabeled sample is its least
    confidence ``1 − max_c p(c | x)``; labeling stops when the largest
    uncertainty on the pool falls below ``threshold``: even the sample the
    model is least sure about is classified with confidence above
    ``1 − threshold``. This is Zhu et al.'s *maximum uncertainty* stopping
    criterion, with least confidence as the uncertainty.

    Parameters
    ----------
    threshold : float, default=0.1
        Stop when the maximum least confidence on the pool is below it.

    Attributes
    ----------
    values_ : list of float
        The maximum least confidence on the pool after each fit (``nan``
        when the pool is empty).

    reason_ : str or None
        Why the last call said stop; None when it did not.

    See Also
    --------
    MinExpectedError : The mean instead of the maximum; stops earlier.
    StabilizingPredictions : Stop when successive models agree.

    Notes
    -----
    It is conservative: one ambiguous sample (a point on the class boundary,
    a mislabeled-looking outlier) keeps it from stopping. It needs
    ``predict_proba`` and is only as good as the model's calibration.

    References
    ----------
    .. [1] J. Zhu, H. Wang, E. Hovy and M. Ma, "Confidence-based Stopping
       Criteria for Active Learning for Data Annotation", ACM Transactions on
       Speech and Language Processing 6(3), 2010.
    .. [2] J. Zhu, H. Wang and E. Hovy, "Multi-Criteria-based Strategy to
       Stop Active Learning for Data Annotation", COLING 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.stopping import MaxUncertainty, RoundState
    >>> X = np.array([[-3.0], [-1.0], [1.0], [3.0], [-6.0], [6.0]])
    >>> clf = LogisticRegression().fit(X[:4], [0, 0, 1, 1])
    >>> state = RoundState(clf, X, pool=np.array([4, 5]), n_round=0, n_labeled=4)
    >>> MaxUncertainty(threshold=0.1).should_stop(state)
    True
    """

    _description = "maximum least confidence"

    def _reduce(self, uncertainty):
        return float(uncertainty.max())


class MinExpectedError(_BelowThreshold):
    """Stop when the expected error on the pool is small.

    After every fit, the model's expected error on the unlabeled samples is
    the mean of ``1 − max_c p(c | x)`` (the probability that its prediction
    is wrong, by its own estimate); labeling stops when it falls below
    ``threshold``. This is Zhu et al.'s *minimum expected error* stopping
    criterion.

    Parameters
    ----------
    threshold : float, default=0.1
        Stop when the mean expected error on the pool is below it.

    Attributes
    ----------
    values_ : list of float
        The expected error on the pool after each fit (``nan`` when the pool
        is empty).

    reason_ : str or None
        Why the last call said stop; None when it did not.

    See Also
    --------
    MaxUncertainty : The maximum instead of the mean; more conservative.
    ValidationPlateau : Stop on measured, not estimated, performance.

    Notes
    -----
    It needs ``predict_proba``; an over-confident model (many deep nets)
    stops too early. The pool shrinks as it is labeled, so the estimate is
    over the samples that remain.

    References
    ----------
    .. [1] J. Zhu, H. Wang and E. Hovy, "Multi-Criteria-based Strategy to
       Stop Active Learning for Data Annotation", COLING 2008.
    .. [2] J. Zhu, H. Wang, E. Hovy and M. Ma, "Confidence-based Stopping
       Criteria for Active Learning for Data Annotation", ACM Transactions on
       Speech and Language Processing 6(3), 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.stopping import MinExpectedError, RoundState
    >>> X = np.array([[-3.0], [-1.0], [1.0], [3.0], [0.0], [6.0]])
    >>> clf = LogisticRegression().fit(X[:4], [0, 0, 1, 1])
    >>> state = RoundState(clf, X, pool=np.array([4, 5]), n_round=0, n_labeled=4)
    >>> criterion = MinExpectedError(threshold=0.1)
    >>> criterion.should_stop(state)  # x=0 is a coin flip: expected error ~0.25
    False
    >>> round(criterion.values_[-1], 2)
    0.25
    """

    _description = "mean expected error"

    def _reduce(self, uncertainty):
        return float(uncertainty.mean())


class ValidationPlateau(BaseStoppingCriterion):
    """Stop when the validation score has stopped improving.

    The value of a round is its validation score (``ActiveLearner.fit``'s
    ``X_val``, ``y_val``, scored with the learner's ``scoring``). Labeling
    stops when ``patience`` fits in a row have not improved on the best score
    so far by more than ``min_delta``, as Keras' ``EarlyStopping`` and
    skorch's ``EarlyStopping`` do for epochs.

    Parameters
    ----------
    patience : int, default=3
        Fits in a row without improvement before stopping.

    min_delta : float, default=0.0
        A score must exceed the best so far by more than this to count as an
        improvement.

    Attributes
    ----------
    values_ : list of float
        The validation score after each fit.

    reason_ : str or None
        Why the last call said stop; None when it did not.

    See Also
    --------
    StabilizingPredictions : Needs no labeled validation set.

    Notes
    -----
    It needs labeled validation data, which real labeling rarely has to
    spare; a small validation set gives a noisy score, so raise
    ``patience`` or ``min_delta`` there.

    Examples
    --------
    >>> from skal.stopping import RoundState, ValidationPlateau
    >>> criterion = ValidationPlateau(patience=2)
    >>> [criterion.should_stop(RoundState(None, None, None, r, 0, score=s))
    ...  for r, s in enumerate([0.5, 0.7, 0.69, 0.7])]
    [False, False, False, True]
    """

    _parameter_constraints = {
        "patience": [Interval(Integral, 1, None, closed="left")],
        "min_delta": [Interval(Real, 0, None, closed="left")],
    }

    _needs_validation = True

    def __init__(self, patience=3, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta

    def _value(self, state):
        if state.score is None:
            raise ValueError(
                "ValidationPlateau needs a validation score each round: pass X_val and "
                "y_val to ActiveLearner.fit."
            )
        return state.score

    def _decide(self, values):
        waited = _rounds_without_improvement(values, self.min_delta)
        if waited >= self.patience:
            best = np.nanmax(values) if not np.all(np.isnan(values)) else np.nan
            return True, (
                f"ValidationPlateau: the validation score has not improved by more than "
                f"min_delta={self.min_delta} for {waited} fits (patience={self.patience}; "
                f"best {best:.4f})."
            )
        return False, None


def _rounds_without_improvement(scores, min_delta):
    """Fits since the last improvement of more than ``min_delta`` on the best."""
    best, waited = -np.inf, 0
    for score in scores:
        if score > best + min_delta:
            best, waited = score, 0
        else:
            waited += 1
    return waited


# -- the run of the criteria over one ActiveLearner.fit -------------------------------


def _criteria_key(criteria):
    """The types and parameters of a list of criteria, to tell whether they changed."""
    return [
        (type(c), sorted((k, repr(v)) for k, v in c.get_params(deep=False).items()))
        for c in criteria
    ]


class _StoppingRun:
    """The criteria of one ``ActiveLearner.fit``, asked after every fit.

    Built by :meth:`start`: fresh clones of the learner's ``stopping``, or,
    when the learner continues a real-labeling fit (``warm_start=True``), the
    previous fit's criteria, which go on counting. :meth:`ask` records each
    fit's values in the history and the first stop.

    Attributes
    ----------
    criteria : list
        The criteria asked (empty without ``stopping``).
    stop : tuple or None
        ``(round, n_labeled, reason)`` of the first stop, None if none yet.
    """

    def __init__(self, criteria, single, simulating, key):
        self.criteria = criteria
        self.single = single
        self.simulating = simulating
        self.key = key
        self.stop = None

    @classmethod
    def start(cls, stopping, *, X_val, simulating, regression, seed, previous=None):
        """The run of ``stopping`` (a criterion, a list or None) for one fit.

        ``previous`` is the run of the fit this one continues (None: a fresh
        start); it is continued only if it was a real-labeling run of the same
        criteria, with the same parameters. Criteria whose ``random_state`` is
        None are seeded with ``seed``.
        """
        if stopping is None:
            return cls([], True, simulating, None)
        single = not isinstance(stopping, (list, tuple))
        given = [stopping] if single else list(stopping)
        if not given:
            raise ValueError(
                "stopping=[] holds no criterion; pass a criterion, a non-empty list of "
                "criteria, or None."
            )
        for criterion in given:
            if not hasattr(criterion, "should_stop"):
                raise ValueError(
                    f"stopping holds {criterion!r}, which is not a stopping criterion (it "
                    "has no should_stop method); see skal.stopping."
                )
        fresh = [clone(criterion) for criterion in given]
        for criterion in fresh:
            if hasattr(criterion, "_validate_params"):
                criterion._validate_params()
            name = type(criterion).__name__
            if X_val is None and getattr(criterion, "_needs_validation", False):
                raise ValueError(
                    f"stopping={name}() needs a validation score "
                    "each round: pass X_val and y_val to fit, or choose a criterion "
                    "without labels (StabilizingPredictions, MinExpectedError)."
                )
            if regression and getattr(criterion, "_needs_classifier", False):
                raise ValueError(
                    f"stopping={name}() reads a classifier's predicted classes or "
                    "probabilities, but the estimator is a regressor. For a regressor "
                    "use ValidationPlateau() with X_val and y_val."
                )
        key = _criteria_key(fresh)
        if (
            previous is not None
            and not simulating
            and not previous.simulating
            and previous.key == key
        ):
            return cls(previous.criteria, single, simulating, key)
        for criterion in fresh:
            if "random_state" in criterion.get_params(deep=False):
                seed_if_unset(criterion, seed)
        return cls(fresh, single, simulating, key)

    def __bool__(self):
        return bool(self.criteria)

    def ask(self, history, estimator, X, pool, n_round):
        """Ask every criterion after a fit; record its values; return a new stop."""
        if not self.criteria:
            return None
        score = history.last("score")
        if not self.simulating:
            n_round = len(getattr(self.criteria[0], "values_", []))
        state = RoundState(
            estimator=estimator, X=X, pool=pool, n_round=n_round,
            n_labeled=history.last("n_labeled"),
            score=None if score is None or np.isnan(score) else score,
        )
        values, reasons = [], []
        for criterion in self.criteria:
            if criterion.should_stop(state):
                reasons.append(criterion.reason_)
            values.append(criterion.values_[-1])
        history.append("stop_value", values[0] if self.single else values)
        history.append("stop", bool(reasons))
        if reasons and self.stop is None:
            self.stop = (n_round, state.n_labeled, reasons[0])
            return self.stop
        return None

    @property
    def fitted(self):
        """What ``stopping_`` holds: the criterion, or the list of them."""
        return self.criteria[0] if self.single else list(self.criteria)
