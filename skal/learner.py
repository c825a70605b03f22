"""ActiveLearner: a meta-estimator that runs (or drives) labeling rounds."""

import copy
import warnings
from numbers import Integral, Real
from time import perf_counter

import numpy as np
from sklearn import config_context
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    clone,
    is_regressor,
)
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.utils import RegressorTags, assert_all_finite, check_random_state, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._config import get_config
from ._rounds import RoundFitter, RoundHistory, each_warning_once, one_class_error
from .base._strategy import _as_strategy, _regression_error
from .exceptions import MissingLabelWarning, TrainSplitWarning
from .stopping import _StoppingRun
from .strategies import EntropySampling
from .utils._labels import (
    _is_number,
    _labeled_part,
    _labels,
    _marks_missing_values,
    _unlabeled_mask,
)
from .utils._data import check_pool, num_samples, take
from .utils._random import (
    STOPPING_KEY,
    derived_seed,
    draw_seed,
    fixed_threads,
    seed_if_unset,
    torch_entropy,
)
from .utils._sklearn_compat import (
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
    _fit_context,
)

# the warnings live in skal.exceptions; re-exported here for earlier imports
__all__ = ["ActiveLearner", "MissingLabelWarning", "TrainSplitWarning"]

# budget="auto": the initial set plus this many rounds of batch_size samples
AUTO_ROUNDS = 10

def _estimator_has(attr):
    def check(self):
        getattr(self.estimator_ if hasattr(self, "estimator_") else self.estimator, attr)
        return True

    return check


class ActiveLearner(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Pool-based active learning around any classifier or regressor and query strategy.

    ``fit(X, y)`` works in one of two modes, decided by ``y``:

    - **Simulation** (every label known): an initial random labeled set of
      ``initial_size`` samples, then rounds of *query ``batch_size`` samples
      with the strategy → reveal their labels → refit*, until ``budget``
      samples are labeled (by default, 10 rounds). This is how strategies are
      evaluated.
    - **Real labeling** (unlabeled samples marked with ``missing_label``:
      ``-1`` for a classifier, as in :mod:`sklearn.semi_supervised`, and
      ``NaN`` for a regressor by default): the estimator
      is fitted on the labeled samples only; :meth:`query` then proposes the
      next samples to label. Label them in your own copy of ``y`` and call
      ``fit`` again. ``y`` is never modified, so no label is ever lost.

    Parameters
    ----------
    estimator : estimator object
        The model to train: a scikit-learn classifier or regressor, or a
        skorch ``NeuralNetClassifier`` or ``NeuralNetRegressor`` (alone or as
        the last step of a ``Pipeline``). It is cloned; the original is never
        fitted. A regressor needs a strategy that serves regression (its
        error lists them): :class:`~skal.QueryByCommittee`,
        :class:`~skal.GreedySampling`, :class:`~skal.CoreSet`,
        :class:`~skal.RandomSampling`... A skorch regressor is fitted on
        ``y`` as a float32 column, as it requires.

    strategy : BaseStrategy or str, default=None
        The query strategy, e.g. ``EntropySampling()`` or
        ``BADGE(random_state=0)``, or its registry name: ``"entropy"``,
        ``"badge"``, a class name, ``"random>badge@50"`` (see
        :func:`~skal.model_selection.resolve_strategy`, whose error lists the valid
        names). A name is kept as given (``get_params`` returns it) and
        resolved in ``fit``, to the strategy with default parameters. ``None``
        means ``EntropySampling()`` (a classifier only). Each round it is cloned and given the
        round's fitted estimator (its own ``estimator`` parameter is
        replaced) with ``prefit=True``.

    batch_size : int, default=10
        Samples labeled per round. The last round takes fewer if the budget
        says so.

    initial_size : int or float, default=10
        Simulation only: size of the initial labeled set, as a count or as a
        fraction of ``n_samples`` (rounded up).

    initial_strategy : BaseStrategy or str, default=None
        Simulation only: how the initial labeled set is chosen, before any
        label exists. ``None`` draws it uniformly at random. A strategy (or
        its registry name, such as ``"facility-location"``) that
        needs no labels and no classifier (a *seed-set* strategy such as
        ``FacilityLocationSampling()`` or ``DispersionSampling()``, DISTIL's
        Table 3, or ``RandomSampling()``) chooses it instead: the first
        ``initial_size`` of its ranking of the whole of ``X``. It is cloned,
        and seeded from ``random_state`` when its own is None.

    budget : int, float, "auto" or None, default="auto"
        Simulation only: total number of labeled samples at which to stop
        (initial set included), as a count or as a fraction of ``n_samples``
        (rounded down). ``"auto"`` runs 10 query rounds: the initial set plus
        ``10 * batch_size`` samples, at most ``n_samples``. ``None`` labels
        the whole pool, one round per ``batch_size`` samples (on a large pool
        that is many rounds; ``verbose=1`` shows the progress).

    retrain : {"reset", "update"}, default="reset"
        How the estimator is trained after each round: ``"reset"`` fits a
        fresh clone from scratch on all labeled samples; ``"update"``
        continues training the current one on all labeled samples (through
        its ``warm_start`` parameter, as skorch nets and many scikit-learn
        models have, else through ``partial_fit``). A scikit-learn estimator
        cannot continue training when a round brings a class it has not seen;
        that round it is trained from scratch, with an
        :class:`~skal.exceptions.UpdateResetWarning`.

    missing_label : int, float, str or None, default="auto"
        The value of ``y`` that marks an unlabeled sample. ``"auto"`` is
        ``-1`` for a classifier and ``NaN`` for a regressor (whose targets
        may be any number, ``-1`` included).

        - A number (``-1``, scikit-learn's semi-supervised
          convention) marks the equal numbers: ``-1`` or ``-1.0`` in a numeric
          ``y``, the integer ``-1`` among the strings of an object array or a
          list. It never matches the string ``"-1"``.
        - A string, e.g. ``"unknown"``, marks that string.
        - ``None`` (or ``np.nan``) marks missing values: ``None``, ``NaN``
          and ``pd.NA``. Use it for string labels in a pandas Series or a
          NumPy string array, and whenever ``-1`` is a class.

        Where the marker is ambiguous, ``fit``, :meth:`query` and
        :meth:`rank` raise a ``ValueError`` rather than guess: a ``y`` with
        missing values that ``missing_label`` does not match, or with strings
        that read as a numeric marker (``"-1"`` in a NumPy string array). And
        since ``-1`` can also be a class (labels -1/+1 or -1/0/1), a numeric
        marker that marks no more samples than are labeled issues a
        :class:`~skal.exceptions.MissingLabelWarning`.

    scoring : str, callable or None, default=None
        Score recorded each round on the validation set passed to ``fit``
        (``X_val``, ``y_val``); see :func:`sklearn.metrics.check_scoring`.
        ``None`` uses the estimator's ``score`` (accuracy for a classifier,
        R² for a regressor); for a regressor, e.g.
        ``"neg_root_mean_squared_error"`` (greater is better, as every
        scikit-learn scorer). Entries of
        ``y_val`` marked ``missing_label`` are left out, with an
        :class:`~skal.exceptions.UnlabeledScoreWarning`. Without ``X_val``
        no score is recorded (see ``history_``).

    random_state : int, RandomState instance or None, default=None
        Seed of the initial set and, for a strategy whose own
        ``random_state`` is None, of one seed per round. For a skorch net,
        it also seeds torch for each round's fit (weight initialization,
        shuffling, dropout): see Notes.

    verbose : int, default=0
        If positive, print one line per round: the labels so far out of the
        budget, and the round's fit time, query time and, with ``X_val``,
        its validation score.

    keep_estimators : bool, default=False
        Keep the estimator fitted in every round (``round_estimators_``), so
        that a learning-curve scorer (:func:`skal.metrics.make_learning_curve_scorer`,
        e.g. in ``GridSearchCV``) can score each round on held-out data. With
        ``retrain="update"`` each round's estimator is a deep copy.

    stopping : stopping criterion, list of criteria or None, default=None
        When labeling can stop (see :mod:`skal.stopping`):
        ``StabilizingPredictions()``, ``MaxUncertainty()``,
        ``MinExpectedError()`` or ``ValidationPlateau()`` (which needs
        ``X_val``). It is cloned and evaluated after every fit. In simulation
        the rounds end at the first round where it says stop, before the
        budget; in real labeling ``stopped_`` tells whether to stop labeling
        (see Notes). A list stops at the first criterion that says stop.
        ``None`` never stops early. A regressor takes ``ValidationPlateau``
        only (the others read predicted classes or class probabilities).

    warm_start : bool, default=False
        Real labeling only: whether ``fit`` continues the previous ``fit``
        rather than starting afresh (scikit-learn's rule). Continuing means
        that the stopping criteria go on counting fits (see Notes), and that
        with ``retrain="update"`` the previous ``estimator_`` goes on
        training on the new labeled set. The previous fit must have been a
        real-labeling fit of the same learner on as many samples; otherwise,
        and in simulation, ``fit`` starts afresh.

    Attributes
    ----------
    estimator_ : estimator object
        The estimator fitted on every labeled sample of the last round.

    strategy_ : BaseStrategy
        The strategy fitted with ``estimator_`` and the final labeled set;
        :meth:`query` and :meth:`rank` use it.

    classes_ : ndarray of shape (n_classes,)
        The classes of ``estimator_``; a classifier only.

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
        (``nan`` for round 0; the selection: the round's strategy fitted on
        the labeled set, a committee's members included, and its query), and, only when ``fit`` was given ``X_val`` and
        ``y_val``, ``"score"``: the round's score on that validation set.
        Without a validation set there is no ``"score"`` key, rather than a
        column of ``nan``: the labeled samples were trained on, and no other
        labels are known to score with. ``pandas.DataFrame(history_)`` gives
        a table.

    round_estimators_ : list of estimator objects
        The estimator of each round (round 0 first); only with
        ``keep_estimators=True``.

    n_features_in_ : int
        Number of features seen during ``fit``.

    stopping_ : stopping criterion or list of criteria
        The fitted clone(s) of ``stopping``, with each fit's value in
        ``values_``; only with ``stopping``. ``history_`` then also holds
        ``"stop_value"`` (the criterion's value each round; one column per
        criterion for a list) and ``"stop"`` (whether it said stop).

    stopped_ : bool
        Only with ``stopping``: whether a criterion said stop. In simulation
        the rounds ended there; in real labeling, labeling can stop now.

    stop_round_ : int or None
        The round where a criterion first said stop (in real labeling, the
        number of earlier fits the criterion has seen); None if none did.

    stop_n_labeled_ : int or None
        Labeled samples at that round; None if no criterion said stop.

    stop_reason_ : str or None
        The criterion's message: which one, its value and its threshold.

    See Also
    --------
    sklearn.semi_supervised.SelfTrainingClassifier : The model for this API.

    Notes
    -----
    **Reproducible skorch nets.** With an int ``random_state``, each fit of a
    skorch net (alone or at the end of a ``Pipeline``) runs under
    ``torch.random.fork_rng``, with torch seeded from ``random_state`` and the
    round number (``numpy.random.SeedSequence(random_state,
    spawn_key=(round,))``): weight initialization, data shuffling and dropout
    are the same in every run, and every strategy compared on a trial starts
    from the same round-0 net. The fits leave the global torch generators as
    they were, and the seeds are not drawn from the generator that picks
    samples, so seeding torch changes no pick of a seeded run. A net that
    seeds itself (such as :class:`skal.toy.SeededNeuralNetClassifier`)
    overrides the seed. ``random_state=None`` leaves torch alone.

    **Stopping in real labeling.** A criterion that needs several fits
    (``StabilizingPredictions`` compares successive models,
    ``ValidationPlateau`` waits ``patience`` fits) counts the real-labeling
    fits *of the same learner object* when ``warm_start=True``: a ``fit``
    with unlabeled samples continues the criteria of the previous ``fit``
    when that one was also a real-labeling fit on as many samples with the
    same ``stopping`` parameters. Any other ``fit`` starts them afresh, as
    does every ``fit`` with ``warm_start=False`` (the default) and
    ``clone(learner)``. A criterion whose ``random_state`` is None is seeded
    from the learner's ``random_state``, without changing any pick.

    **skorch's internal validation split.** ``NeuralNetClassifier`` holds out
    a stratified fifth of its training data by default
    (``train_split=ValidSplit(5)``), which cannot split a labeled set with
    fewer than 5 samples of a class. In a round where the net's
    ``ValidSplit`` cannot split the labeled set (it raises, or warns that a
    class has too few members), that round's net is fitted without one
    (``train_split=None``), with one :class:`~skal.exceptions.TrainSplitWarning`
    per ``fit``. Give the net ``train_split=None`` to train on every labeled
    sample in every round.

    **Warnings** of the estimator's fits (a ``ConvergenceWarning`` each round)
    are issued once per ``fit``, with the number of times they occurred.

    **Pools as you hold them.** ``X`` goes to the estimator unconverted when
    the estimator reads it as it is: a torch ``Dataset`` or a dict of arrays
    (for a skorch net), a tensor for a skorch net, and a pandas DataFrame when
    the estimator is a ``Pipeline`` (which preprocesses it itself, e.g. with a
    ``ColumnTransformer``) or when its columns are not all numeric. Only its
    length is checked against ``y`` (and its columns against those seen in
    ``fit``). Anything else is validated into a numeric array, as
    scikit-learn estimators do.

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

    String labels, with unknown labels marked ``None``:

    >>> names = np.array(["zero", "one", "two", "three", "four", "five", "six",
    ...                   "seven", "eight", "nine"], dtype=object)[y]
    >>> names_known = np.full(len(y), None, dtype=object)
    >>> names_known[:30] = names[:30]
    >>> learner = ActiveLearner(LogisticRegression(max_iter=500), missing_label=None)
    >>> to_label = learner.fit(X, names_known).query(X, names_known, batch_size=5)
    >>> bool(np.all(names_known[to_label] == None))  # noqa: E711
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "strategy": [HasMethods(["fit", "query", "rank"]), str, None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "initial_size": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
        ],
        "initial_strategy": [HasMethods(["fit", "query"]), str, None],
        "budget": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
            StrOptions({"auto"}),
            None,
        ],
        "retrain": [StrOptions({"reset", "update"})],
        "missing_label": [Real, str, None],
        "warm_start": ["boolean"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "keep_estimators": ["boolean"],
        "stopping": [HasMethods(["should_stop"]), list, None],
    }

    def __init__(
        self,
        estimator,
        strategy=None,
        *,
        batch_size=10,
        initial_size=10,
        initial_strategy=None,
        budget="auto",
        retrain="reset",
        missing_label="auto",
        scoring=None,
        random_state=None,
        verbose=0,
        keep_estimators=False,
        stopping=None,
        warm_start=False,
    ):
        self.estimator = estimator
        self.strategy = strategy
        self.batch_size = batch_size
        self.initial_size = initial_size
        self.initial_strategy = initial_strategy
        self.budget = budget
        self.retrain = retrain
        self.missing_label = missing_label
        self.scoring = scoring
        self.random_state = random_state
        self.verbose = verbose
        self.keep_estimators = keep_estimators
        self.stopping = stopping
        self.warm_start = warm_start

    # -- fitting -----------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, initial_indices=None, X_val=None, y_val=None):
        """Run the labeling rounds (simulation) or train on the labeled samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            All samples: labeled and unlabeled. An array or sparse matrix; for a
            skorch net also a tensor, a torch ``Dataset`` (whose own targets are
            ignored: ``y`` gives the labels) or a dict of arrays; a DataFrame,
            which a ``Pipeline`` estimator receives as it is (see Notes).
        y : array-like of shape (n_samples,)
            Labels; ``missing_label`` (``-1`` by default) marks an unlabeled
            sample. If no sample is marked, rounds are simulated by revealing
            labels from ``y``.
        initial_indices : array-like of int, default=None
            Simulation only: the initial labeled set, instead of a random one
            of ``initial_size`` samples.
        X_val, y_val : array-like, default=None
            Validation set scored after every round (see ``scoring``), in
            ``history_["score"]``. Entries of ``y_val`` marked
            ``missing_label`` are left out of the score, with a warning.

        Returns
        -------
        self : object
            The fitted learner.
        """
        return self._fit(
            X, y, initial_indices=initial_indices, X_val=X_val, y_val=y_val,
            stop_early=True, n_threads=get_config()["n_threads"],
        )

    def _fit(self, X, y, *, initial_indices, X_val, y_val, stop_early, n_threads):
        """``fit``, for the trial runners too.

        ``stop_early=False`` records where ``stopping`` fires without ending the
        rounds there (learning curves need every round); the rounds run with
        ``n_threads`` torch and BLAS threads (see :func:`skal.set_config`).
        """
        with fixed_threads(n_threads):
            return self._run_rounds(X, y, initial_indices, X_val, y_val, stop_early)

    def _run_rounds(self, X, y, initial_indices, X_val, y_val, stop_early):
        X = self._validate_X(X, reset=True)
        regression = self._regression()
        marker = self._marker()
        y, unlabeled = self._validate_y(y, num_samples(X), marker, regression)
        if (X_val is None) != (y_val is None):
            raise ValueError("Pass both X_val and y_val, or neither.")
        # names are resolved here, before any fit: an unknown one lists the valid ones
        strategy = self._resolve_strategy(regression)
        initial_strategy = _as_strategy(self.initial_strategy)
        entropy = torch_entropy(self.random_state)  # before any draw
        rng = check_random_state(self.random_state)
        n_samples = len(y)
        if self.retrain == "update":
            self._check_can_update()

        simulating = not unlabeled.any()
        if not simulating:  # real labeling: train on what is labeled
            initial = self._labeled_set(y, unlabeled, initial_indices, marker, regression)
            budget = initial.size
        else:
            budget = self._resolve_budget(n_samples)
            initial = self._initial_set(X, budget, initial_indices, rng, initial_strategy)
            if budget is None:  # "auto"
                budget = min(n_samples, initial.size + AUTO_ROUNDS * self.batch_size)

        scorer = None
        if X_val is not None:
            scorer = check_scoring(self.estimator, scoring=self.scoring)
            X_val, y_val, _ = _labeled_part(X_val, y_val, None, marker, "the validation score")
        continued = self._continues(simulating, n_samples)
        stopping = _StoppingRun.start(
            self.stopping, X_val=X_val, simulating=simulating, regression=regression,
            seed=derived_seed(entropy, STOPPING_KEY),  # draws nothing: same picks
            previous=getattr(self, "_stopping_run", None) if continued else None,
        )
        fitter = RoundFitter(self.estimator, self.retrain, regression=regression,
                             torch_entropy=entropy)
        history = RoundHistory(scorer, X_val, y_val)
        label_round = np.full(n_samples, -1, dtype=np.intp)
        label_round[initial] = 0
        order = list(initial)
        round_estimators = []
        # warm_start continues training the last fit's estimator (retrain="update")
        estimator = self.estimator_ if continued and self.retrain == "update" else None
        n_round, query_time = 0, np.nan
        with each_warning_once(fitter):
            while True:
                estimator, fit_time = fitter.fit(estimator, X, y, order, n_round)
                score = history.record(n_round, len(order), estimator, fit_time, query_time)
                self._report(n_round, len(order), budget, simulating, fit_time, query_time,
                             score)
                stop = stopping.ask(history, estimator, X, np.flatnonzero(label_round == -1),
                                    n_round)
                if stop is not None and self.verbose:
                    print(f"[ActiveLearner] round {stop[0]}: stop. {stop[2]}", flush=True)
                self._keep(round_estimators, estimator)
                if len(order) >= budget or (stopping.stop is not None and stop_early):
                    break
                n_round += 1
                pool = np.flatnonzero(label_round == -1)
                k = min(self.batch_size, budget - len(order))
                tic = perf_counter()  # the selection: the strategy's fit (a committee's
                # members, a labeled set's embedding...) and its query
                round_strategy = self._round_strategy(strategy, estimator, X, y, order, rng)
                with config_context(assume_finite=True):  # X was validated in fit
                    picks = pool[round_strategy.query(take(X, pool), batch_size=k)]
                query_time = perf_counter() - tic
                label_round[picks] = n_round
                order.extend(picks.tolist())
            self.estimator_ = estimator
            self.strategy_ = self._round_strategy(strategy, estimator, X, y, order, rng)
        if regression:
            if hasattr(self, "classes_"):
                del self.classes_
        else:
            self.classes_ = getattr(estimator, "classes_", None)
            if self.classes_ is None:
                self.classes_ = np.unique(y[order])
        self.labeled_indices_ = np.asarray(order, dtype=np.intp)
        self.label_round_ = label_round
        self.n_rounds_ = n_round
        self.history_ = history.as_arrays()
        self._fit_kind = (simulating, n_samples)
        if self.keep_estimators:
            self.round_estimators_ = round_estimators
        if not stopping and hasattr(self, "_stopping_run"):
            del self._stopping_run  # a later warm start has nothing to continue
        if stopping:
            self._stopping_run = stopping
            self.stopping_ = stopping.fitted
            self.stopped_ = stopping.stop is not None
            self.stop_round_, self.stop_n_labeled_, self.stop_reason_ = (
                stopping.stop if stopping.stop is not None else (None, None, None)
            )
        return self

    # -- one fit's parts ------------------------------------------------------------

    def _regression(self):
        """Whether the estimator is a regressor (else a classifier)."""
        return bool(is_regressor(self.estimator))

    def _marker(self):
        """``missing_label`` resolved: ``"auto"`` is -1 (classifier) or NaN (regressor)."""
        if isinstance(self.missing_label, str) and self.missing_label == "auto":
            return np.nan if self._regression() else -1
        return self.missing_label

    def _validate_y(self, y, n_samples, marker, regression):
        """``(y, unlabeled)``: the labels checked (floats for a regressor) and the mask."""
        y = _labels(y)
        if len(y) != n_samples:
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: "
                f"[{n_samples}, {len(y)}]. Pass one label per sample of X, with "
                f"missing_label={marker!r} for unlabeled samples."
            )
        if y.dtype.kind == "f":
            assert_all_finite(y, allow_nan=True, input_name="y")
        unlabeled = _unlabeled_mask(y, marker)
        if not regression:
            check_classification_targets(y[~unlabeled])
            return y, unlabeled
        try:
            values = np.asarray(y[~unlabeled], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{type(self.estimator).__name__} is a regressor: y must hold numbers, "
                f"with missing_label={marker!r} for unlabeled samples; got "
                f"{y[~unlabeled][:3].tolist()}... Convert the targets to numbers."
            ) from None
        assert_all_finite(values, input_name="y")
        targets = np.full(n_samples, np.nan)
        targets[~unlabeled] = values
        return targets, unlabeled

    def _resolve_strategy(self, regression):
        """The strategy to use, checked against the kind of estimator."""
        if self.strategy is None:
            if regression:
                raise ValueError(
                    "strategy=None means EntropySampling(), which needs a classifier, but "
                    f"{type(self.estimator).__name__} is a regressor. "
                    + _regression_error("ActiveLearner", self.estimator).split(". ", 1)[1]
                )
            return EntropySampling()
        strategy = _as_strategy(self.strategy)
        needs = getattr(strategy, "_needs_estimator", True)
        if regression and needs and not getattr(strategy, "_serves_regression", True):
            raise ValueError(_regression_error(type(strategy).__name__, self.estimator))
        return strategy

    def _labeled_set(self, y, unlabeled, initial_indices, marker, regression):
        """Real labeling: the indices of the labeled samples, checked."""
        if initial_indices is not None:
            raise ValueError(
                f"initial_indices applies to simulation only; with samples marked "
                f"{marker!r} in y, the labeled set is every sample not marked "
                f"{marker!r}."
            )
        initial = np.flatnonzero(~unlabeled)
        if initial.size == 0:
            raise ValueError(
                f"Every sample of y is marked {marker!r} (unlabeled); there is nothing "
                "to train on. Label a first batch, e.g. the first "
                "FacilityLocationSampling(prefit=True).query(X, batch_size=k) picks "
                "(a seed set that covers X) or RandomSampling's."
            )
        if not regression:
            self._check_marker_is_not_a_class(y, unlabeled, marker)
        return initial

    def _continues(self, simulating, n_samples):
        """Whether this fit continues the last one: ``warm_start`` in real labeling."""
        return (
            self.warm_start
            and not simulating
            and getattr(self, "_fit_kind", None) == (False, n_samples)
        )

    def _report(self, n_round, n_labeled, budget, simulating, fit_time, query_time, score):
        """With ``verbose``, one line for the round."""
        if not self.verbose:
            return
        of = f" of {budget}" if simulating else ""
        query = "" if n_round == 0 else f", query {query_time:.3f}s"
        shown = "" if score is None else f", score {score:.4f}"
        print(
            f"[ActiveLearner] round {n_round}: {n_labeled}{of} labeled, fit "
            f"{fit_time:.3f}s{query}{shown}",
            flush=True,
        )

    def _check_marker_is_not_a_class(self, y, unlabeled, marker):
        """Warn or raise where a numeric marker looks like a class of y."""
        if not _is_number(marker) or _marks_missing_values(marker) or y.dtype.kind not in "iuf":
            return
        n_unlabeled, n_labeled = int(unlabeled.sum()), int((~unlabeled).sum())
        hint = (
            f" y marks {n_unlabeled} samples with missing_label={marker!r}, which are "
            f"treated as unlabeled: if {marker!r} is a class (e.g. labels -1/+1), pass "
            "missing_label=None and mark unlabeled samples with NaN or None."
        )
        classes = np.unique(y[~unlabeled])
        if classes.size == 1:
            raise one_class_error(n_labeled, classes.tolist()[0], hint)
        if n_unlabeled <= n_labeled:
            warnings.warn(
                f"y marks {n_unlabeled} of {len(y)} samples as unlabeled with "
                f"missing_label={marker!r}, no more than are labeled ({n_labeled}). If "
                f"{marker!r} is a class of y (e.g. labels -1/0/1), those samples are left "
                "out of training: pass missing_label=None (and mark unlabeled samples "
                "with NaN or None), or another value that is not a class. If they are "
                "unlabeled, ignore this warning (MissingLabelWarning).",
                MissingLabelWarning,
                stacklevel=4,
            )

    def _keep(self, round_estimators, estimator):
        if self.keep_estimators:
            # "update" mode trains the same object on: keep a snapshot
            round_estimators.append(
                copy.deepcopy(estimator) if self.retrain == "update" else estimator
            )

    def _resolve_budget(self, n_samples):
        """The budget as a count; None for "auto" (which needs the initial set)."""
        if isinstance(self.budget, str):
            return None
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

    def _initial_set(self, X, budget, initial_indices, rng, initial_strategy):
        n_samples = num_samples(X)
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
            if initial_strategy is None:
                initial = rng.choice(n_samples, size=n_initial, replace=False)
            else:
                initial = self._seed_set(X, n_initial, rng, initial_strategy)
        if budget is not None and initial.size > budget:
            raise ValueError(
                f"The initial labeled set ({initial.size} samples) is larger than "
                f"budget={self.budget} ({budget} samples). Raise the budget or lower "
                "initial_size."
            )
        return initial

    def _seed_set(self, X, n_initial, rng, initial_strategy):
        """The initial set chosen by ``initial_strategy`` (no labels, no classifier)."""
        strategy = clone(initial_strategy)
        if getattr(strategy, "_needs_estimator", True):
            raise ValueError(
                f"initial_strategy={type(strategy).__name__}() needs a fitted "
                "classifier, but the initial set is chosen before any label exists. "
                "Use a seed-set strategy (FacilityLocationSampling(), "
                "DispersionSampling()) or RandomSampling(), or pass initial_indices."
            )
        if "random_state" in strategy.get_params(deep=False):
            seed_if_unset(strategy, lambda: draw_seed(rng))
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

    def _round_strategy(self, strategy, estimator, X, y, order, rng):
        """A clone of ``strategy``, given the round's estimator and labeled set."""
        strategy = clone(strategy)
        strategy.set_params(estimator=estimator, prefit=True)
        if "random_state" in strategy.get_params(deep=False):
            seed_if_unset(strategy, lambda: draw_seed(rng))
        idx = np.asarray(order, dtype=np.intp)
        with config_context(assume_finite=True):  # X was validated in fit
            return strategy.fit(take(X, idx), y[idx])

    # -- proposing samples ----------------------------------------------------------

    def _validate_X(self, X, reset):
        """``X`` validated as scikit-learn does, or as given if the estimator reads it."""
        return check_pool(X, reader=self.estimator, owner=self, reset=reset,
                          accept_sparse=True)

    def _pool(self, X, y):
        """The candidate rows of ``X`` (all, or those ``y`` marks) and their indices."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        n_samples = num_samples(X)
        if y is None:
            return X, np.arange(n_samples)
        y = _labels(y)
        marker = self._marker()
        if len(y) != n_samples:
            raise ValueError(
                f"y has {len(y)} entries but X has {n_samples} samples; pass the "
                f"same y as to fit, with {marker!r} for unlabeled samples."
            )
        pool = np.flatnonzero(_unlabeled_mask(y, marker))
        if pool.size == 0:
            raise ValueError(
                f"y marks no sample as unlabeled ({marker!r}): there is nothing left to "
                "query."
            )
        return (X if pool.size == n_samples else take(X, pool)), pool

    def query(self, X, y=None, batch_size=None):
        """Propose the next samples to label.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Candidate samples (e.g. the ``X`` given to ``fit``, or new data), of
            any kind ``fit`` accepts.
        y : array-like of shape (n_samples,), default=None
            If given, only samples marked ``missing_label`` are candidates.
        batch_size : int, default=None
            How many to propose; ``None`` uses the learner's ``batch_size``.

        Returns
        -------
        indices : ndarray of shape (batch_size,)
            Row indices into ``X``, most valuable first.
        """
        X, pool = self._pool(X, y)
        batch_size = self.batch_size if batch_size is None else batch_size
        return pool[self.strategy_.query(X, batch_size=batch_size)]

    def rank(self, X, y=None):
        """Order the candidate samples by labeling priority.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Candidate samples.
        y : array-like of shape (n_samples,), default=None
            If given, only samples marked ``missing_label`` are ranked.

        Returns
        -------
        ranking : ndarray
            Row indices into ``X`` of every candidate, most valuable first.
        """
        X, pool = self._pool(X, y)
        return pool[self.strategy_.rank(X)]

    # -- delegation -----------------------------------------------------------------

    def _validate_predict(self, X):
        check_is_fitted(self)
        return self._validate_X(X, reset=False)

    def predict(self, X):
        """Predict classes with the final estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            The predicted classes.
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
            The probability of each class, columns in the order of ``classes_``.
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
            The log-probability of each class, columns in the order of ``classes_``.
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
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The final estimator's decision function, as it returns it.
        """
        X = self._validate_predict(X)
        return self.estimator_.decision_function(X)

    @available_if(_estimator_has("score"))
    def score(self, X, y, sample_weight=None):
        """Score of the final estimator (its own ``score``, usually accuracy).

        Entries of ``y`` marked ``missing_label`` (``-1`` by default) are
        unlabeled, not a class: they are left out, and the score is the
        estimator's score on the labeled samples only, with one
        :class:`~skal.exceptions.UnlabeledScoreWarning` per call saying how
        many were left out. This is also what ``GridSearchCV`` and
        ``cross_val_score`` (default ``scoring``) compute on a partly labeled
        ``y``: the score on the labeled part of each held-out fold.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Test samples.
        y : array-like of shape (n_samples,)
            True labels; ``missing_label`` marks the unlabeled entries, which
            are ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, passed on when given.

        Returns
        -------
        score : float
            The final estimator's score of the labeled samples of ``X``
            against their labels in ``y``.

        Raises
        ------
        ValueError
            If every entry of ``y`` is marked ``missing_label``: there is
            nothing to score.
        """
        X = self._validate_predict(X)
        X, y, sample_weight = _labeled_part(
            X, y, sample_weight, self._marker(), "ActiveLearner.score"
        )
        if sample_weight is None:
            return self.estimator_.score(X, y)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = False
        if inner.estimator_type == "regressor":  # a regressor's learner regresses
            tags.estimator_type = "regressor"
            tags.classifier_tags = None
            tags.regressor_tags = RegressorTags()
        return tags
