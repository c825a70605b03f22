"""What a labeling round does besides choosing samples: fit, and record.

:class:`~skal.ActiveLearner` runs one loop (fit, record, ask the stopping
criteria, query); the machinery of each step lives here, each in one place:

- :class:`RoundFitter` fits (or continues training) the estimator on the
  labeled samples: ``retrain="reset"`` or ``"update"``, a skorch net's seeded
  weights and a train split that fits the labeled set, and the targets as the
  estimator takes them (classes, or a float column for a skorch regressor);
- :class:`RoundHistory` records each round's sizes, times and score;
- :func:`each_warning_once` issues a warning repeated by every round's fit once.

The stopping criteria's run is :class:`skal.stopping._StoppingRun`.
"""

import warnings
from collections import defaultdict
from contextlib import contextmanager
from time import perf_counter

import numpy as np
from sklearn.base import clone

from .base._strategy import _fit_targets
from .embeddings._estimators import _final_net, _is_skorch_net
from .embeddings._passes import _torch_seeded
from .exceptions import TrainSplitWarning, UpdateResetWarning
from .utils._data import take, with_labels
from .utils._random import derived_seed

__all__ = ["RoundFitter", "RoundHistory", "each_warning_once", "one_class_error"]


def one_class_error(n_labeled, label, hint=""):
    """The error for a labeled set of one class, which no classifier can fit."""
    return ValueError(
        f"The labeled set ({n_labeled} samples) contains only one class ({label!r}); the "
        "estimator needs at least two classes. Raise initial_size, pass initial_indices "
        f"covering two classes, or label samples of another class.{hint}"
    )


# -- skorch nets: a train_split that fits the labeled set ------------------------------


def _split_problem(train_split, y):
    """Why a skorch ``ValidSplit`` cannot split ``y``'s samples, or None if it can.

    A split that raises cannot split; one that warns (scikit-learn's "the least
    populated class in y has only 1 members") leaves classes out of training
    or validation, and counts as one that cannot split either.
    """
    from skorch.dataset import ValidSplit

    if not isinstance(train_split, ValidSplit):
        return None  # a user's own callable: leave it to skorch
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            train_split(np.arange(len(y)), y)
        except ValueError as exc:
            return str(exc).rstrip(".")
    if caught:
        return str(caught[0].message).rstrip(".")
    return None


def _describe_split(train_split):
    cv = getattr(train_split, "cv", "?")
    stratified = getattr(train_split, "stratified", False)
    return f"ValidSplit({cv!r}{', stratified=True' if stratified else ''})"


class RoundFitter:
    """Fits the estimator of each round of one ``ActiveLearner.fit``.

    Parameters
    ----------
    estimator : estimator object
        The learner's (unfitted) estimator; every fresh fit is a clone of it.
    retrain : {"reset", "update"}
        Fit a fresh clone each round, or continue training the previous one.
    regression : bool
        Whether the estimator is a regressor (no classes to check or pass on).
    torch_entropy : int
        Seeds each round's torch generators (a skorch net's weights, shuffling
        and dropout), with the round number.

    Attributes
    ----------
    n_fits : int
        Fits so far (for the count in repeated warnings).
    """

    def __init__(self, estimator, retrain, *, regression, torch_entropy):
        self.estimator = estimator
        self.retrain = retrain
        self.regression = regression
        self.torch_entropy = torch_entropy
        self.n_fits = 0
        self._split_warned = False

    def fit(self, previous, X, y, labeled, n_round):
        """``(estimator, seconds)``: fitted on ``X[labeled]``, or ``previous`` trained on.

        ``previous`` is the estimator of the round before (None for a fresh
        start); with ``retrain="update"`` it continues training, unless it
        cannot (a scikit-learn classifier meeting a new class: then a fresh
        clone, with an :class:`~skal.exceptions.UpdateResetWarning`).
        """
        idx = np.asarray(labeled, dtype=np.intp)
        X_labeled, y_labeled = take(X, idx), y[idx]
        if not self.regression:
            classes = np.unique(y_labeled)
            if classes.size < 2:
                raise one_class_error(idx.size, classes.tolist()[0])
        tic = perf_counter()
        estimator, fit = self._fit_method(previous, y_labeled)
        net = _final_net(estimator)
        if net is not None:
            self._split_or_not(net, y_labeled, n_round)
        self.n_fits += 1
        targets = _fit_targets(estimator, y_labeled)
        with _torch_seeded(net, derived_seed(self.torch_entropy, n_round)):
            fit(with_labels(X_labeled, targets), targets)
        return estimator, perf_counter() - tic

    def _fit_method(self, previous, y_labeled):
        """The estimator to train this round, and its method that trains it."""
        updating = previous is not None and self.retrain == "update"
        known = None
        if updating and not self.regression:
            known = getattr(previous, "classes_", None)
        new_classes = (
            np.setdiff1d(np.unique(y_labeled), known)
            if known is not None and not _is_skorch_net(previous)
            else np.array([])
        )
        if new_classes.size:
            warnings.warn(
                f"retrain='update': the labeled set now has classes "
                f"{new_classes.tolist()} that {type(previous).__name__} was not "
                f"fitted on (its classes_ are {np.asarray(known).tolist()}), and it "
                "cannot continue training with new classes; this round it is "
                "trained from scratch. Start from an initial set with every class "
                "to avoid this.",
                UpdateResetWarning,
            )
        if not updating or new_classes.size:
            estimator = clone(self.estimator)
            if self.retrain == "update" and "warm_start" in estimator.get_params(deep=False):
                estimator.set_params(warm_start=True)
            return estimator, estimator.fit
        if previous.get_params(deep=False).get("warm_start", False):
            return previous, previous.fit
        if self.regression:
            return previous, previous.partial_fit

        def partial_fit(X, y):
            return previous.partial_fit(X, y, classes=known)

        return previous, partial_fit

    def _split_or_not(self, net, y_labeled, n_round):
        """Fit the round's net without validation if its ValidSplit cannot split."""
        train_split = getattr(net, "train_split", None)
        problem = _split_problem(train_split, y_labeled)
        if problem is None:
            return
        net.set_params(train_split=None)
        if not self._split_warned:
            self._split_warned = True
            n = len(y_labeled)
            warnings.warn(
                f"The skorch net's train_split={_describe_split(train_split)} cannot split "
                f"the {n} labeled samples of round {n_round} ({problem}). ActiveLearner "
                "fits the net of such a round without an internal validation split "
                "(train_split=None); this warning is shown once per fit. To choose "
                "otherwise, give the net train_split=None (every labeled sample trains, "
                "the usual choice for small labeled sets) or a split that works on "
                f"{n} samples, e.g. ValidSplit(0.2, stratified=False), or raise "
                "initial_size.",
                TrainSplitWarning,
                stacklevel=5,
            )


class RoundHistory:
    """Each round's sizes, times and validation score: ``ActiveLearner.history_``.

    Parameters
    ----------
    scorer : callable or None
        Scores each round's estimator on ``(X_val, y_val)``; None records no
        ``"score"`` (no column of nan: without a validation set there is no
        score to record).
    X_val, y_val : array-like or None
        The validation set.
    """

    def __init__(self, scorer=None, X_val=None, y_val=None):
        self.scorer, self.X_val, self.y_val = scorer, X_val, y_val
        self._columns = defaultdict(list)

    def record(self, n_round, n_labeled, estimator, fit_time, query_time):
        """Append one round; return its score (None without a validation set)."""
        columns = self._columns
        columns["round"].append(n_round)
        columns["n_labeled"].append(n_labeled)
        columns["fit_time"].append(fit_time)
        columns["query_time"].append(query_time)
        if self.scorer is None:
            return None
        score = float(self.scorer(estimator, self.X_val, self.y_val))
        columns["score"].append(score)
        return score

    def last(self, key):
        """The latest value of column ``key``, None if there is none."""
        values = self._columns.get(key)
        return values[-1] if values else None

    def append(self, key, value):
        """Append ``value`` to column ``key`` (the stopping criteria's columns)."""
        self._columns[key].append(value)

    def as_arrays(self):
        """The columns as arrays: ``history_``."""
        return {key: np.asarray(value) for key, value in self._columns.items()}


@contextmanager
def each_warning_once(fitter):
    """Record the warnings of the rounds; on exit, issue each distinct one once.

    Every round fits the estimator again, and would repeat its warnings (a
    ``ConvergenceWarning`` per round). A repeated warning is issued once, with
    its count (out of ``fitter.n_fits`` fits); categories are kept, so warning
    filters apply as usual.
    """
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        seen = {}
        for w in caught:
            key = (w.category, str(w.message))
            if key in seen:
                seen[key][1] += 1
            else:
                seen[key] = [w, 1]
        for w, count in seen.values():
            message = w.message
            if count > 1:
                message = (
                    f"{w.message} [{count} times in the {fitter.n_fits} estimator fits of "
                    "ActiveLearner.fit; shown once]"
                )
            warnings.warn_explicit(message, w.category, w.filename, w.lineno)
