"""ActiveLearner: a meta-estimator that runs (or drives) labeling rounds."""

import copy
import warnings
from collections import defaultdict
from numbers import Integral
from time import perf_counter

import numpy as np
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .embeddings import _is_skorch_net
from .exceptions import UpdateResetWarning
from .strategies import EntropySampling
from .utils._sklearn_compat import (
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
    _fit_context,
    validate_data,
)

__all__ = ["ActiveLearner"]

UNLABELED = -1


def _unlabeled_mask(y):
    """Boolean mask of the samples marked ``-1`` (scikit-learn's convention)."""
    if y.dtype.kind in "iuf":
        return y == UNLABELED
    if y.dtype.kind == "O":
        return np.fromiter((v is not None and v == UNLABELED for v in y), bool, len(y))
    return np.zeros(len(y), dtype=bool)


def _estimator_has(attr):
    def check(self):
        getattr(self.estimator_ if hasattr(self, "estimator_") else self.estimator, attr)
        return True

    return check


class ActiveLearner(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Pool-based active learning around any classifier and query strategy.

    ``fit(X, y)`` works in one of two modes, decided by ``y``:

    - **Simulation** (every label known): an initial random labeled set of
      ``initial_size`` samples, then rounds of *query ``batch_size`` samples
      with the strategy → reveal their labels → refit*, until ``budget``
      samples are labeled. This is how strategies are evaluated.
    - **Real labeling** (unlabeled samples marked ``-1``, as in
      :mod:`sklearn.semi_supervised`): the estimator is fitted on the labeled
      samples only; :meth:`query` then proposes the next samples to label.
      Label them in your own copy of ``y`` and call ``fit`` again. ``y`` is
      never modified, so no label is ever lost.

    Parameters
    ----------
    estimator : estimator object
        The classifier to train: a scikit-learn classifier or a skorch
        ``NeuralNetClassifier``. It is cloned; the original is never fitted.

    strategy : BaseStrategy, default=None
        The query strategy, e.g. ``EntropySampling()`` or
        ``BADGE(random_state=0)``. ``None`` means ``EntropySampling()``. Each
        round it is cloned and given the round's fitted estimator (its own
        ``estimator`` parameter is replaced) with ``prefit=True``.

    batch_size : int, default=10
        Samples labeled per round. The last round takes fewer if the budget
        says so.

    initial_size : int or float, default=10
        Simulation only: size of the initial labeled set, as a count or as a
        fraction of ``n_samples`` (rounded up).

    initial_strategy : BaseStrategy, default=None
        Simulation only: how the initial labeled set is chosen, before any
        label exists. ``None`` draws it uniformly at random. A strategy that
        needs no labels and no classifier (a *seed-set* strategy such as
        ``FacilityLocationSampling()`` or ``DispersionSampling()``, DISTIL's
        Table 3, or ``RandomSampling()``) chooses it instead: the first
        ``initial_size`` of its ranking of the whole of ``X``. It is cloned,
        and seeded from ``random_state`` when its own is None.

    budget : int, float or None, default=None
        Simulation only: total number of labeled samples at which to stop
        (initial set included), as a count or as a fraction of ``n_samples``
        (rounded down). ``None`` labels the whole pool.

    retrain : {"reset", "update"}, default="reset"
        How the estimator is trained after each round: ``"reset"`` fits a
        fresh clone from scratch on all labeled samples; ``"update"``
        continues training the current one on all labeled samples (through
        its ``warm_start`` parameter, as skorch nets and many scikit-learn
        models have, else through ``partial_fit``). A scikit-learn estimator
        cannot continue training when a round brings a class it has not seen;
        that round it is trained from scratch, with an
        :class:`~skal.exceptions.UpdateResetWarning`.

    scoring : str, callable or None, default=None
        Score recorded each round on the validation set passed to ``fit``
        (``X_val``, ``y_val``); see :func:`sklearn.metrics.check_scoring`.
        ``None`` uses the estimator's ``score`` (accuracy).

    random_state : int, RandomState instance or None, default=None
        Seed of the initial set and, for a strategy whose own
        ``random_state`` is None, of one seed per round.

    verbose : int, default=0
        If positive, print one line per round.

    keep_estimators : bool, default=False
        Keep the estimator fitted in every round (``round_estimators_``), so
        that a learning-curve scorer (:func:`skal.metrics.make_learning_curve_scorer`,
        e.g. in ``GridSearchCV``) can score each round on held-out data. With
        ``retrain="update"`` each round's estimator is a deep copy.

    Attributes
    ----------
    estimator_ : estimator object
        The estimator fitted on every labeled sample of the last round.

    strategy_ : BaseStrategy
        The strategy fitted with ``estimator_`` and the final labeled set;
        :meth:`query` and :meth:`rank` use it.

    classes_ : ndarray of shape (n_classes,)
        The classes of ``estimator_``.

    labeled_indices_ : ndarray of shape (n_labeled,)
        Indices into ``X`` of the labeled samples, in the order they were
        labeled (the initial set first).

    label_round_ : ndarray of shape (n_samples,)
        Round in which each sample was labeled: 0 for the initial set, ``r``
        for round ``r``, ``-1`` for never.

    n_rounds_ : int
        Number of query rounds run (0 in real-labeling mode).

    history_ : dict of ndarrays
        One entry per round (round 0 is the initial fit): ``"round"``,
        ``"n_labeled"``, ``"fit_time"`` and ``"query_time"`` in seconds
        (``nan`` for round 0) and ``"score"`` on the validation set (``nan``
        without one). ``pandas.DataFrame(history_)`` gives a table.

    round_estimators_ : list of estimator objects
        The estimator of each round (round 0 first); only with
        ``keep_estimators=True``.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    sklearn.semi_supervised.SelfTrainingClassifier : the model for this API.

    Examples
    --------
    Simulated rounds with every label known:

    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearner, EntropySampling
    >>> X, y = load_digits(return_X_y=True)
    >>> learner = ActiveLearner(
    ...     LogisticRegression(max_iter=500), EntropySampling(),
    ...     batch_size=20, initial_size=30, budget=110, random_state=0,
    ... ).fit(X[:1500], y[:1500], X_val=X[1500:], y_val=y[1500:])
    >>> learner.history_["n_labeled"]
    array([ 30,  50,  70,  90, 110])
    >>> len(learner.labeled_indices_)
    110

    Real labeling, with unknown labels marked ``-1``:

    >>> import numpy as np
    >>> y_known = np.full(len(y), -1)
    >>> y_known[:30] = y[:30]
    >>> learner = ActiveLearner(LogisticRegression(max_iter=500)).fit(X, y_known)
    >>> to_label = learner.query(X, y_known, batch_size=5)
    >>> bool(np.all(y_known[to_label] == -1))
    True
    >>> y_known[to_label] = y[to_label]  # what the annotators answer
    >>> learner = learner.fit(X, y_known)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "strategy": [HasMethods(["fit", "query", "rank"]), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "initial_size": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
        ],
        "initial_strategy": [HasMethods(["fit", "query"]), None],
        "budget": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
            None,
        ],
        "retrain": [StrOptions({"reset", "update"})],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "keep_estimators": ["boolean"],
    }

    def __init__(
        self,
        estimator,
        strategy=None,
        *,
        batch_size=10,
        initial_size=10,
        initial_strategy=None,
        budget=None,
        retrain="reset",
        scoring=None,
        random_state=None,
        verbose=0,
        keep_estimators=False,
    ):
        self.estimator = estimator
        self.strategy = strategy
        self.batch_size = batch_size
        self.initial_size = initial_size
        self.initial_strategy = initial_strategy
        self.budget = budget
        self.retrain = retrain
        self.scoring = scoring
        self.random_state = random_state
        self.verbose = verbose
        self.keep_estimators = keep_estimators

    # -- fitting -----------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, initial_indices=None, X_val=None, y_val=None):
        """Run the labeling rounds (simulation) or train on the labeled samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            All samples: labeled and unlabeled.
        y : array-like of shape (n_samples,)
            Labels; ``-1`` marks an unlabeled sample. If no sample is marked,
            rounds are simulated by revealing labels from ``y``.
        initial_indices : array-like of int, default=None
            Simulation only: the initial labeled set, instead of a random one
            of ``initial_size`` samples.
        X_val, y_val : array-like, default=None
            Validation set scored after every round (see ``scoring``).

        Returns
        -------
        self : object
            The fitted learner.
        """
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], allow_nd=True, dtype="numeric"
        )
        unlabeled = _unlabeled_mask(y)
        check_classification_targets(y[~unlabeled])
        if (X_val is None) != (y_val is None):
            raise ValueError("Pass both X_val and y_val, or neither.")
        rng = check_random_state(self.random_state)
        n_samples = len(y)
        if self.retrain == "update":
            self._check_can_update()

        if unlabeled.any():  # real labeling: train on what is labeled
            if initial_indices is not None:
                raise ValueError(
                    "initial_indices applies to simulation only; with samples marked "
                    "-1 in y, the labeled set is every sample not marked -1."
                )
            initial = np.flatnonzero(~unlabeled)
            if initial.size == 0:
                raise ValueError(
                    "Every sample of y is marked -1 (unlabeled); there is nothing to "
                    "train on. Label a first batch, e.g. the first "
                    "FacilityLocationSampling(prefit=True).query(X, batch_size=k) picks "
                    "(a seed set that covers X) or RandomSampling's."
                )
            budget = initial.size
        else:
            budget = self._resolve_budget(n_samples)
            initial = self._initial_set(X, budget, initial_indices, rng)

        scorer = None
        if X_val is not None:
            scorer = check_scoring(self.estimator, scoring=self.scoring)

        history = defaultdict(list)
        label_round = np.full(n_samples, -1, dtype=np.intp)
        label_round[initial] = 0
        order = list(initial)
        round_estimators = []
        estimator, fit_time = self._fit_round(None, X, y, order)
        self._record(history, 0, order, fit_time, np.nan, estimator, scorer, X_val, y_val)
        self._keep(round_estimators, estimator)

        n_round = 0
        while len(order) < budget:
            n_round += 1
            pool = np.flatnonzero(label_round == -1)
            k = min(self.batch_size, budget - len(order))
            strategy = self._round_strategy(estimator, X, y, order, rng)
            tic = perf_counter()
            with config_context(assume_finite=True):  # X was validated in fit
                picks = pool[strategy.query(X[pool], batch_size=k)]
            query_time = perf_counter() - tic
            label_round[picks] = n_round
            order.extend(picks.tolist())
            estimator, fit_time = self._fit_round(estimator, X, y, order)
            self._record(
                history, n_round, order, fit_time, query_time, estimator, scorer, X_val, y_val
            )
            self._keep(round_estimators, estimator)

        self.estimator_ = estimator
        self.strategy_ = self._round_strategy(estimator, X, y, order, rng)
        self.classes_ = getattr(estimator, "classes_", None)
        if self.classes_ is None:
            self.classes_ = np.unique(y[order])
        self.labeled_indices_ = np.asarray(order, dtype=np.intp)
        self.label_round_ = label_round
        self.n_rounds_ = n_round
        self.history_ = {key: np.asarray(value) for key, value in history.items()}
        if self.keep_estimators:
            self.round_estimators_ = round_estimators
        return self

    def _keep(self, round_estimators, estimator):
        if self.keep_estimators:
            # "update" mode trains the same object on: keep a snapshot
            round_estimators.append(
                copy.deepcopy(estimator) if self.retrain == "update" else estimator
            )

    def _resolve_budget(self, n_samples):
        if self.budget is None:
            return n_samples
        if isinstance(self.budget, Integral):
            budget = int(self.budget)
        else:
            budget = max(1, int(np.floor(self.budget * n_samples)))
        if budget > n_samples:
            raise ValueError(
                f"budget={self.budget} is larger than the number of samples "
                f"({n_samples}). Pass budget <= {n_samples}, or budget=None to label "
                "the whole pool."
            )
        return budget

    def _initial_set(self, X, budget, initial_indices, rng):
        n_samples = X.shape[0]
        if initial_indices is not None:
            initial = column_or_1d(np.asarray(initial_indices))
            if initial.dtype.kind not in "iu" or initial.size == 0:
                raise ValueError(
                    f"initial_indices must be a non-empty array of integer indices "
                    f"into X; got {initial_indices!r}."
                )
            if initial.min() < 0 or initial.max() >= n_samples:
                raise ValueError(
                    f"initial_indices must lie in [0, {n_samples}); got values from "
                    f"{initial.min()} to {initial.max()}."
                )
            if np.unique(initial).size != initial.size:
                raise ValueError("initial_indices contains repeated indices.")
        else:
            if isinstance(self.initial_size, Integral):
                n_initial = int(self.initial_size)
            else:
                n_initial = int(np.ceil(self.initial_size * n_samples))
            if n_initial > n_samples:
                raise ValueError(
                    f"initial_size={self.initial_size} asks for {n_initial} labeled "
                    f"samples, but X has only {n_samples} sample(s). Lower initial_size."
                )
            if self.initial_strategy is None:
                initial = rng.choice(n_samples, size=n_initial, replace=False)
            else:
                initial = self._seed_set(X, n_initial, rng)
        if initial.size > budget:
            raise ValueError(
                f"The initial labeled set ({initial.size} samples) is larger than "
                f"budget={self.budget} ({budget} samples). Raise the budget or lower "
                "initial_size."
            )
        return initial

    def _seed_set(self, X, n_initial, rng):
        """The initial set chosen by ``initial_strategy`` (no labels, no classifier)."""
        strategy = clone(self.initial_strategy)
        if getattr(strategy, "_needs_estimator", True):
            raise ValueError(
                f"initial_strategy={type(strategy).__name__}() needs a fitted "
                "classifier, but the initial set is chosen before any label exists. "
                "Use a seed-set strategy (FacilityLocationSampling(), "
                "DispersionSampling()) or RandomSampling(), or pass initial_indices."
            )
        own = strategy.get_params(deep=False)
        if "random_state" in own and own["random_state"] is None:
            strategy.set_params(random_state=int(rng.randint(np.iinfo(np.int32).max)))
        with config_context(assume_finite=True):  # X was validated in fit
            picks = strategy.fit(X).query(X, batch_size=n_initial)
        return np.asarray(picks, dtype=np.intp)

    def _check_can_update(self):
        params = self.estimator.get_params(deep=False)
        if "warm_start" not in params and not hasattr(self.estimator, "partial_fit"):
            raise ValueError(
                f"retrain='update' needs an estimator that can continue training (a "
                f"warm_start parameter or partial_fit); {type(self.estimator).__name__} "
                "has neither. Use retrain='reset'."
            )

    def _fit_round(self, estimator, X, y, order):
        """Fit (reset) or continue training (update) on the labeled samples."""
        idx = np.asarray(order, dtype=np.intp)
        X_labeled, y_labeled = X[idx], y[idx]
        classes = np.unique(y_labeled)
        if classes.size < 2:
            raise ValueError(
                f"The labeled set ({idx.size} samples) contains only one class "
                f"({classes.tolist()[0]!r}); the estimator needs at least two classes. Raise "
                "initial_size, pass initial_indices covering two classes, or label "
                "samples of another class."
            )
        tic = perf_counter()
        updating = estimator is not None and self.retrain == "update"
        known = getattr(estimator, "classes_", None) if updating else None
        new_classes = (
            np.setdiff1d(classes, known)
            if known is not None and not _is_skorch_net(estimator)
            else np.array([])
        )
        if new_classes.size:
            warnings.warn(
                f"retrain='update': the labeled set now has classes "
                f"{new_classes.tolist()} that {type(estimator).__name__} was not "
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
            estimator.fit(X_labeled, y_labeled)
        else:
            if estimator.get_params(deep=False).get("warm_start", False):
                estimator.fit(X_labeled, y_labeled)
            else:
                estimator.partial_fit(X_labeled, y_labeled, classes=known)
        return estimator, perf_counter() - tic

    def _round_strategy(self, estimator, X, y, order, rng):
        """A clone of the strategy, given the round's estimator and labeled set."""
        strategy = clone(self.strategy if self.strategy is not None else EntropySampling())
        params = {"estimator": estimator, "prefit": True}
        own = strategy.get_params(deep=False)
        if "random_state" in own and own["random_state"] is None:
            params["random_state"] = int(rng.randint(np.iinfo(np.int32).max))
        idx = np.asarray(order, dtype=np.intp)
        with config_context(assume_finite=True):  # X was validated in fit
            return strategy.set_params(**params).fit(X[idx], y[idx])

    def _record(self, history, n_round, order, fit_time, query_time, est, scorer, X_val, y_val):
        score = np.nan if scorer is None else float(scorer(est, X_val, y_val))
        history["round"].append(n_round)
        history["n_labeled"].append(len(order))
        history["fit_time"].append(fit_time)
        history["query_time"].append(query_time)
        history["score"].append(score)
        if self.verbose:
            print(
                f"[ActiveLearner] round {n_round}: {len(order)} labeled, fit "
                f"{fit_time:.3f}s, query {query_time:.3f}s, score {score:.4f}"
            )

    # -- proposing samples ----------------------------------------------------------

    def _pool(self, X, y):
        check_is_fitted(self)
        X = validate_data(
            self, X, reset=False, accept_sparse=["csr", "csc"], allow_nd=True, dtype="numeric"
        )
        if y is None:
            return X, np.arange(X.shape[0])
        y = column_or_1d(y, warn=True)
        if len(y) != X.shape[0]:
            raise ValueError(
                f"y has {len(y)} entries but X has {X.shape[0]} samples; pass the "
                "same y as to fit, with -1 for unlabeled samples."
            )
        pool = np.flatnonzero(_unlabeled_mask(y))
        if pool.size == 0:
            raise ValueError(
                "y marks no sample as unlabeled (-1): there is nothing left to query."
            )
        return X, pool

    def query(self, X, y=None, batch_size=None):
        """Propose the next samples to label.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Candidate samples (e.g. the ``X`` given to ``fit``, or new data).
        y : array-like of shape (n_samples,), default=None
            If given, only samples marked ``-1`` are candidates.
        batch_size : int, default=None
            How many to propose; ``None`` uses the learner's ``batch_size``.

        Returns
        -------
        indices : ndarray of shape (batch_size,)
            Row indices into ``X``, most valuable first.
        """
        X, pool = self._pool(X, y)
        batch_size = self.batch_size if batch_size is None else batch_size
        return pool[self.strategy_.query(X[pool], batch_size=batch_size)]

    def rank(self, X, y=None):
        """Order the candidate samples by labeling priority.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Candidate samples.
        y : array-like of shape (n_samples,), default=None
            If given, only samples marked ``-1`` are ranked.

        Returns
        -------
        ranking : ndarray
            Row indices into ``X`` of every candidate, most valuable first.
        """
        X, pool = self._pool(X, y)
        return pool[self.strategy_.rank(X[pool])]

    # -- delegation -----------------------------------------------------------------

    def _validate_predict(self, X):
        check_is_fitted(self)
        return validate_data(
            self, X, reset=False, accept_sparse=["csr", "csc"], allow_nd=True, dtype="numeric"
        )

    def predict(self, X):
        """Predict classes with the final estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        X = self._validate_predict(X)
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the final estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        X = self._validate_predict(X)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from the final estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        X = self._validate_predict(X)
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the final estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The samples.

        Returns
        -------
        scores : ndarray
        """
        X = self._validate_predict(X)
        return self.estimator_.decision_function(X)

    @available_if(_estimator_has("score"))
    def score(self, X, y, sample_weight=None):
        """Score of the final estimator (its own ``score``, usually accuracy).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Test samples.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, passed on when given.

        Returns
        -------
        score : float
        """
        X = self._validate_predict(X)
        if sample_weight is None:
            return self.estimator_.score(X, y)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = get_tags(self.estimator).input_tags.sparse
        tags.input_tags.allow_nan = False
        return tags
