"""Learning curves across trials and strategy comparisons, run as joblib tasks.

Every trial is one :class:`~skal.ActiveLearner` fit on one pool with one test
set and one seed; trials run through :class:`sklearn.utils.parallel.Parallel`,
so ``n_jobs`` parallelizes them on this machine and
``joblib.parallel_config(backend="dask")`` (with a ``dask.distributed``
client) or Ray's joblib backend runs them on a cluster, unchanged.
"""

import html
import importlib.util
import numbers
import sys
import warnings
from numbers import Integral

import numpy as np
import sklearn
from sklearn.base import clone, is_regressor
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import KFold, StratifiedKFold, check_cv
from sklearn.utils import check_random_state
from sklearn.utils.parallel import Parallel, delayed

from ._config import get_config
from .embeddings._estimators import _final_net
from .exceptions import TrialsFailedError
from .base._strategy import _as_strategy, _fit_targets, _regression_error
from .embeddings._passes import _torch_seeded
from .learner import AUTO_ROUNDS, ActiveLearner
from .strategies import RandomSampling
from .strategies._names import _named_strategies, resolve_strategy, strategy_aliases
from .utils._data import check_pool, pool_kind, take, with_labels
from .utils._labels import _marks_missing_values, _unlabeled_mask
from .utils._random import draw_seed, seed_if_unset

__all__ = ["active_learning_curve", "compare_strategies", "StrategyComparison",
           "resolve_strategy", "strategy_aliases"]  # the last two live in skal.strategies

def _check_scorer_fits(estimator, scoring):
    """Fail before any trial if the scorer needs a method the estimator lacks."""
    scorer = check_scoring(estimator, scoring=scoring)
    response = getattr(scorer, "_response_method", None)
    methods = (response,) if isinstance(response, str) else tuple(response or ())
    if methods and not any(hasattr(estimator, m) for m in methods):
        fix = (
            "another scoring (e.g. 'r2' or 'neg_root_mean_squared_error')"
            if is_regressor(estimator)
            else "another scoring (e.g. 'accuracy') or a probabilistic estimator"
        )
        raise ValueError(
            f"scoring={scoring!r} needs {' or '.join(methods)}, which "
            f"{type(estimator).__name__} does not have. Choose {fix}."
        )


def _wrapped_strategies(strategy):
    """The strategies a wrapping strategy runs: a switch's two, a meta-strategy's inner one.

    The learner hands its estimator down to them, so each must serve it too.
    """
    if not getattr(strategy, "_wraps_strategy", False):
        return []
    found = []
    for value in strategy.get_params(deep=False).values():
        if not isinstance(value, str) and not hasattr(value, "_serves_regression"):
            continue
        try:
            inner = _as_strategy(value)
        except ValueError:  # a string parameter that names no strategy
            continue
        found += [inner, *_wrapped_strategies(inner)]
    return found


def _check_strategies_serve(learner, strategies):
    """Fail before any trial if a strategy cannot serve the learner's regressor.

    The learner's own check, run once here rather than in every trial: each
    would fail with the same error, which names the regression strategies.
    """
    if not learner._regression():
        return
    for strategy in strategies:
        strategy = clone(learner).set_params(strategy=strategy)._resolve_strategy(
            regression=True)
        for inner in _wrapped_strategies(strategy):
            if (getattr(inner, "_needs_estimator", True)
                    and not getattr(inner, "_serves_regression", True)):
                raise ValueError(_regression_error(type(inner).__name__, learner.estimator))


def _check_all_labeled(learner, y, name="y", X_name="X"):
    """Fail if ``y`` has entries the learner reads as unlabeled (NaN for a regressor).

    A simulation reveals labels from ``y``: every one must be known. Only a
    marker that is a missing value (NaN or None) is checked here; a numeric or
    string marker is read by the learner as before.
    """
    marker = learner._marker()
    if not _marks_missing_values(marker):
        return
    unlabeled = _unlabeled_mask(np.asarray(y), marker)
    if unlabeled.any():
        raise ValueError(
            f"{name} has {int(unlabeled.sum())} missing value(s) (NaN or None, first at "
            f"{name}[{int(np.flatnonzero(unlabeled)[0])}]), which the learner reads as "
            f"unlabeled (missing_label={learner.missing_label!r}). The simulation reveals "
            f"labels from {name}, so every sample needs one: drop the unlabeled samples, "
            f"e.g. keep = ~np.isnan({name}); {X_name}, {name} = {X_name}[keep], "
            f"{name}[keep]."
        )


def _trials(X, y, X_test, y_test, cv, n_repeats, rng, regression=False):
    """(pool indices or None, test data, fold, repeat) for every trial.

    The folds of a regressor are plain (KFold), a classifier's stratified.
    """
    if X_test is not None:
        if cv is not None:
            raise ValueError("Pass either cv or (X_test, y_test), not both.")
        return [(None, None, 0, r) for r in range(n_repeats)]
    if cv is None:
        folds = KFold if regression else StratifiedKFold
        cv = folds(n_splits=5, shuffle=True, random_state=draw_seed(rng))
    cv = check_cv(cv, y, classifier=not regression)
    if not regression and (
        isinstance(cv, StratifiedKFold) or "Stratified" in type(cv).__name__
    ):
        classes, counts = np.unique(y, return_counts=True)
        n_splits = cv.get_n_splits()
        if counts.min() < n_splits:
            raise ValueError(
                f"Class {classes[np.argmin(counts)].item()!r} has only {counts.min()} sample(s), "
                f"fewer than the {n_splits} folds of {cv!r}. Use fewer folds (cv=k with "
                f"k <= {counts.min()}), or pass X_test/y_test instead of cross-validation."
            )
    # a splitter reads only the number of samples of X, which scikit-learn cannot
    # count in a dict or a torch Dataset
    splittable = X if pool_kind(X) not in ("dataset", "dict") else np.zeros((len(y), 1))
    splits = list(cv.split(splittable, y))
    return [(split, None, fold, r) for r in range(n_repeats) for fold, split in enumerate(splits)]


def _resolve_sizes(learner, n_pool):
    """Integer initial_size and budget valid for the smallest pool."""
    n_initial = learner.initial_size
    if not isinstance(n_initial, Integral):
        n_initial = int(np.ceil(n_initial * n_pool))
    budget = learner.budget
    if budget == "auto":
        budget = min(n_pool, n_initial + AUTO_ROUNDS * learner.batch_size)
    elif budget is None:
        budget = n_pool
    elif not isinstance(budget, Integral):
        budget = max(1, int(np.floor(budget * n_pool)))
    if budget > n_pool:
        raise ValueError(
            f"budget={learner.budget} is larger than the pool ({n_pool} samples in the "
            f"smallest trial). Lower the budget to at most {n_pool}."
        )
    if n_initial > budget:
        raise ValueError(
            f"initial_size={learner.initial_size} ({n_initial} samples) exceeds the "
            f"budget ({budget} samples). Lower initial_size or raise the budget."
        )
    return int(n_initial), int(budget)


_WARMED_UP = set()  # estimator types already fitted once in this process


def _warm_up(estimator, X, y):
    """Fit the estimator once, untimed, on a few samples (of two classes).

    One-time start-up costs of a process (torch's above all) would otherwise be
    billed to whichever trial a worker runs first, skewing the time columns.
    """
    key = type(estimator)
    if key in _WARMED_UP:
        return
    _WARMED_UP.add(key)
    if is_regressor(estimator):
        idx = np.arange(min(6, len(y)))
    else:
        classes = np.unique(y)[:2]
        idx = np.concatenate([np.flatnonzero(y == c)[:3] for c in classes])
    estimator = clone(estimator)
    net = _final_net(estimator)
    if net is not None:
        net.set_params(train_split=None)  # skorch's ValidSplit(5) cannot split 6 samples
    try:
        # seeded, and so under the lock of torch's global generators: a trial in
        # another thread of this process may be drawing from them
        with _torch_seeded(net, 0):
            estimator.fit(with_labels(take(X, idx), y[idx]), _fit_targets(estimator, y[idx]))
    except Exception:  # the real fit will report any problem
        pass


def _run_trial(learner, X, y, X_test, y_test, info, error_score, n_threads):
    """Fit one learner; return its per-round history (or the error).

    ``n_threads`` is the caller's ``skal.get_config()["n_threads"]``, passed
    explicitly: a worker process or a Dask worker does not share its config.
    """
    _warm_up(learner.estimator, X, y)
    try:
        with warnings.catch_warnings():
            # joblib hands large arrays to workers as read-only memory maps, which
            # torch warns about; skal never writes to them
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            learner._validate_params()
            # the curves need every round: a stopping criterion is only recorded
            history = learner._fit(
                X, y, initial_indices=None, X_val=X_test, y_val=y_test, stop_early=False,
                n_threads=n_threads,
            ).history_
    except Exception as exc:  # a crashed trial must not lose the others
        if error_score == "raise":
            raise
        return {**info, "error": f"{type(exc).__name__}: {exc}"}
    keys = ("n_labeled", "score", "fit_time", "query_time") + (
        ("stop",) if "stop" in history else ()
    )
    return {**info, "error": None, **{key: history[key] for key in keys}}


def _tasks(learner, X, y, X_test, y_test, cv, n_repeats, scoring, random_state,
           strategies=None):
    """Validated (learner, data, info) for every trial, before any runs.

    ``strategies`` (default: the learner's own) are checked against the
    estimator: a classification strategy for a regressor fails here, once.
    """
    if not isinstance(learner, ActiveLearner):
        raise ValueError(
            f"learner must be an ActiveLearner; got {type(learner).__name__}. Wrap your "
            "classifier or regressor: ActiveLearner(estimator, strategy, ...)."
        )
    if not isinstance(n_repeats, numbers.Integral) or n_repeats < 1:
        raise ValueError(f"n_repeats={n_repeats!r} must be a positive integer.")
    if (X_test is None) != (y_test is None):
        raise ValueError("Pass both X_test and y_test, or neither.")
    # the learner's own check, once: every trial's pool is rows of this X
    X = check_pool(X, reader=learner.estimator, accept_sparse=True)
    y = np.asarray(y)
    regression = learner._regression()
    _check_strategies_serve(learner, [learner.strategy] if strategies is None else strategies)
    _check_all_labeled(learner, y)
    if X_test is not None:
        X_test = check_pool(X_test, reader=learner.estimator, accept_sparse=True,
                            name="X_test")
        _check_all_labeled(learner, y_test, "y_test", "X_test")
    scoring = learner.scoring if scoring is None else scoring
    _check_scorer_fits(learner.estimator, scoring)
    rng = check_random_state(random_state)
    trials = _trials(X, y, X_test, y_test, cv, n_repeats, rng, regression)
    seeds = draw_seed(rng, size=len(trials))
    n_pool = min(len(y) if split is None else len(split[0]) for split, *_ in trials)
    n_initial, budget = _resolve_sizes(learner, n_pool)
    tasks = []
    for t, ((split, _, fold, repeat), seed) in enumerate(zip(trials, seeds)):
        trial_learner = clone(learner).set_params(
            random_state=int(seed), scoring=scoring, initial_size=n_initial, budget=budget,
            verbose=0,
        )
        seed_if_unset(trial_learner.estimator, seed, deep=True)
        if split is None:
            data = (X, y, X_test, y_test)
        else:
            train, test = split
            data = (take(X, train), y[train], take(X, test), y[test])
        info = {"trial": t, "fold": fold, "repeat": repeat, "seed": int(seed)}
        tasks.append((trial_learner, data, info))
    return tasks, scoring


def _widgets_available():
    """Whether tqdm can draw a Jupyter widget: in a running kernel, with ipywidgets.

    IPython is looked up, never imported: a kernel has always imported it.
    """
    ipython = sys.modules.get("IPython")
    try:
        shell = ipython.get_ipython() if ipython is not None else None
        return (getattr(shell, "kernel", None) is not None
                and importlib.util.find_spec("ipywidgets") is not None)
    except Exception:  # a stub IPython, a broken ipywidgets: text bars
        return False


def _progress_bar(iterable, **kwargs):
    """A tqdm bar: a widget in Jupyter with ipywidgets, plain text anywhere else.

    ``tqdm.auto`` alone warns ("IProgress not found") in a kernel without
    ipywidgets before it falls back to text; here that case never reaches it.
    """
    if _widgets_available():
        from tqdm import TqdmWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TqdmWarning)
            from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm(iterable, **kwargs)


def _check_error_score(error_score):
    if isinstance(error_score, str) and error_score == "raise":
        return
    if not isinstance(error_score, numbers.Real) or isinstance(error_score, bool):
        raise ValueError(
            f"error_score must be 'raise' or a number (such as np.nan or 0.0); "
            f"got {error_score!r}."
        )


_MAX_LISTED = 10  # failed trials named per error in the grouped message


def _warn_or_raise_about_failed_trials(results, error_score, labels=None):
    """One warning for all the failed trials, grouped by error; raise if all failed.

    As scikit-learn's ``_warn_or_raise_about_fit_failures`` for
    ``cross_validate``: a ``FitFailedWarning`` (a ``RuntimeWarning``) when
    some trials failed, a ``ValueError`` when every one did.
    """
    labels = labels or [None] * len(results)
    by_error = {}
    for result, label in zip(results, labels):
        if result["error"] is not None:
            where = f"{label}, " if label else ""
            by_error.setdefault(result["error"], []).append(
                f"trial {result['trial']} ({where}fold {result['fold']}, repeat "
                f"{result['repeat']}, seed {result['seed']})"
            )
    if not by_error:
        return
    n_failed, n_total = sum(map(len, by_error.values())), len(results)
    details = []
    for error, trials in by_error.items():
        listed = ", ".join(trials[:_MAX_LISTED])
        if len(trials) > _MAX_LISTED:
            listed += f", and {len(trials) - _MAX_LISTED} more"
        details.append(
            f"{'-' * 80}\n{len(trials)} trial{'s' if len(trials) > 1 else ''} failed with "
            f"the following error:\n{error}\nFailed: {listed}."
        )
    details = "\n".join(details)
    if n_failed == n_total:
        raise TrialsFailedError(
            f"\nAll the {n_total} trials failed.\nIt is very likely that the learner "
            "(its estimator, strategy or data) is misconfigured.\nYou can try to debug "
            "the error by setting error_score='raise'.\n\nBelow are more details about "
            f"the failures:\n{details}"
        )
    warnings.warn(
        f"\n{n_failed} trial{'s' if n_failed > 1 else ''} failed out of a total of "
        f"{n_total}.\nThe scores of these trials are set to {error_score}; the other "
        "trials are kept.\nIf these failures are not expected, you can try to debug "
        "them by setting error_score='raise'.\n\nBelow are more details about the "
        f"failures:\n{details}",
        FitFailedWarning,
        stacklevel=4,  # the caller of compare_strategies or active_learning_curve
    )


def _run(tasks, n_jobs, verbose, error_score, labels=None):
    n_threads = get_config()["n_threads"]  # the workers' own config is the default
    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    results = parallel(
        delayed(_run_trial)(learner, *data, info, error_score, n_threads)
        for learner, data, info in tasks
    )
    if verbose:
        results = _progress_bar(results, total=len(tasks), desc="trials", unit="trial")
    results = list(results)
    _warn_or_raise_about_failed_trials(results, error_score, labels)
    return results


def _n_labeled(results):
    """Labels after each round, from the first trial that did not fail."""
    return np.asarray(next(r["n_labeled"] for r in results if r["error"] is None))


def _stack(results, n_labeled, error_score=np.nan):
    """Dict of (n_trials, n_rounds) arrays from per-trial results.

    A failed trial's scores are ``error_score`` (when it is a number), its
    times NaN.

    With a stopping criterion, also ``"stop_round"`` (n_trials,): the first
    round where it said stop (the last round if it never did; NaN if the
    trial failed), and ``"stopped"`` (n_trials,): whether it said stop.
    """
    out = {}
    for key in ("score", "fit_time", "query_time"):
        fill = error_score if key == "score" and not isinstance(error_score, str) else np.nan
        A = np.full((len(results), n_labeled.size), fill, dtype=float)
        for i, r in enumerate(results):
            if r["error"] is None:
                A[i] = r[key]
        out[key] = A
    if any("stop" in r for r in results):
        stop_round = np.full(len(results), np.nan)
        stopped = np.zeros(len(results), dtype=bool)
        for i, r in enumerate(results):
            if r["error"] is None:
                stop = np.asarray(r["stop"], dtype=bool)
                stopped[i] = stop.any()
                stop_round[i] = np.argmax(stop) if stop.any() else n_labeled.size - 1
        out["stop_round"], out["stopped"] = stop_round, stopped
    return out


def active_learning_curve(
    learner,
    X,
    y,
    *,
    X_test=None,
    y_test=None,
    cv=None,
    n_repeats=1,
    scoring=None,
    n_jobs=None,
    random_state=None,
    verbose=0,
    error_score=np.nan,
):
    """Learning curves of an active learner across trials.

    A trial is one simulated run of ``learner`` (an :class:`~skal.ActiveLearner`)
    on a pool with a test set: either a cross-validation fold (the training
    part is the pool, the held-out part the test set) or, with ``X_test``, the
    whole ``X`` as the pool. Each fold (or the single pool) is run
    ``n_repeats`` times with different initial labeled sets.

    Parameters
    ----------
    learner : ActiveLearner
        The configuration to evaluate; cloned for every trial.
    X, y : array-like
        The samples and their labels (all known: labels are revealed as the
        simulation queries them): classes for a classifier, numbers for a
        regressor. An entry the learner reads as unlabeled (NaN for a
        regressor) is refused.
    X_test, y_test : array-like, default=None
        A fixed test set. If None, cross-validation folds are used.
    cv : int, cross-validation generator or iterable, default=None
        Folds when there is no test set; None means 5 shuffled folds (seeded
        from ``random_state``), stratified for a classifier
        (``StratifiedKFold``) and plain for a regressor (``KFold``). An int
        ``k`` gives ``k`` folds of the same kind, unshuffled, as
        :func:`sklearn.model_selection.check_cv` does.
    n_repeats : int, default=1
        Runs per fold (or of the single pool), each with its own initial set.
    scoring : str or callable, default=None
        Test score recorded after every round; None uses the learner's
        ``scoring`` (itself defaulting to the estimator's ``score``: accuracy
        for a classifier, R² for a regressor). Scores follow scikit-learn's
        sign convention, greater is better: a ``"neg_"`` scorer such as
        ``"neg_root_mean_squared_error"`` records negative values.
    n_jobs : int, default=None
        Trials run in parallel through joblib; under
        ``joblib.parallel_config(backend="dask")`` they run on a Dask cluster.
    random_state : int, RandomState instance or None, default=None
        One generator draws every trial's seed (and the default folds). The
        seed is the trial learner's ``random_state``, and every
        ``random_state`` of the estimator left at None. Every trial runs with
        the torch and BLAS thread count of :func:`skal.set_config`
        (``n_threads``, 1 by default), so with an int ``random_state`` the
        results are bit-identical whatever ``n_jobs``, the joblib backend
        (loky, Dask) or the machine's core count.
    verbose : int, default=0
        If positive, show a progress bar over trials (tqdm): a widget in a
        Jupyter kernel with ipywidgets installed, plain text anywhere else.
    error_score : "raise" or numeric, default=np.nan
        Score given to every round of a trial that raises (its times are
        NaN), as scikit-learn's ``cross_validate`` does for a failed fit: the
        failed trials are reported in one ``FitFailedWarning`` that groups
        them by error and names each trial's fold and seed, and if every trial
        fails a ``ValueError`` is raised. With "raise", the first error
        propagates.

    Returns
    -------
    curves : dict
        ``"n_labeled"`` (n_rounds,), the labels after each round (the same in
        every trial: ``initial_size`` and ``budget`` are resolved against the
        smallest pool); ``"test_scores"``, ``"fit_times"``, ``"query_times"``
        of shape (n_trials, n_rounds) (``query_times[:, 0]`` is NaN: round 0
        only fits; a failed trial's scores are ``error_score``, its times
        NaN); ``"trials"``, a list with each trial's ``trial``, ``fold``,
        ``repeat``, ``seed`` and ``error`` (None if it succeeded). When the
        learner has ``stopping``, the trials still run to the budget, and
        ``"stop_rounds"`` (n_trials,) gives the round where the criterion first
        said stop (the last round if it never did; NaN for a failed trial) and
        ``"stopped"`` (n_trials,) whether it said stop.

    See Also
    --------
    compare_strategies : The same for several strategies, against random sampling.
    sklearn.model_selection.learning_curve : The passive counterpart.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearner, MarginSampling
    >>> from skal.model_selection import active_learning_curve
    >>> X, y = load_iris(return_X_y=True)
    >>> learner = ActiveLearner(LogisticRegression(), MarginSampling(),
    ...                         initial_size=6, batch_size=6, budget=30)
    >>> curves = active_learning_curve(learner, X, y, cv=3, n_repeats=2, random_state=0)
    >>> curves["n_labeled"]
    array([ 6, 12, 18, 24, 30])
    >>> curves["test_scores"].shape
    (6, 5)
    """
    _check_error_score(error_score)
    tasks, _ = _tasks(learner, X, y, X_test, y_test, cv, n_repeats, scoring, random_state)
    results = _run(tasks, n_jobs, verbose, error_score)
    n_labeled = _n_labeled(results)
    arrays = _stack(results, n_labeled, error_score)
    curves = {
        "n_labeled": n_labeled,
        "test_scores": arrays["score"],
        "fit_times": arrays["fit_time"],
        "query_times": arrays["query_time"],
        "trials": [{k: r[k] for k in ("trial", "fold", "repeat", "seed", "error")}
                   for r in results],
    }
    if "stop_round" in arrays:
        curves["stop_rounds"], curves["stopped"] = arrays["stop_round"], arrays["stopped"]
    return curves


class StrategyComparison:
    """Results of :func:`compare_strategies`.

    It holds the raw curves and times of every strategy on the same trials,
    and the comparisons computed from them at construction: labeling
    efficiency against the baseline, area under the curves and the penalty
    matrix. :meth:`summary` gives one row per strategy. In Jupyter it shows
    as an HTML table of that summary (scikit-learn's ``display="text"``
    configuration turns it back into its text repr).

    Parameters
    ----------
    names : list of str
        Strategy names, the baseline first.
    baseline : str
        Name of the random-sampling baseline, one of ``names``.
    scoring : str or callable
        The test score; a callable is recorded as ``"score"``.
    n_labeled : ndarray of shape (n_rounds,)
        Labels after each round.
    results : dict of str to dict
        Per strategy: ``"score"``, ``"fit_time"`` and ``"query_time"``
        arrays of shape (n_trials, n_rounds), ``"errors"`` (a list of dict),
        and optionally ``"stop_round"`` and ``"stopped"`` (n_trials,).
    trials : list of dict
        Each trial's ``trial``, ``fold``, ``repeat`` and ``seed``.
    alpha : float
        Significance level of the penalty matrix.

    Attributes
    ----------
    names : list of str
        Strategy names, the baseline first.
    baseline : str
        Name of the random-sampling baseline.
    scoring : str
        Name of the test score.
    n_labeled : ndarray of shape (n_rounds,)
        Labels after each round.
    scores, fit_times, query_times : dict of str to ndarray of shape (n_trials, n_rounds)
        Per strategy: test score (as the scorer gives it, greater is better:
        negative for a ``"neg_"`` scorer), training time and selection time
        (seconds) of every round of every trial. A failed trial's scores are
        ``error_score`` (NaN by default) and its times NaN; the query time
        of round 0 is NaN.
    trials : list of dict
        Each trial's ``trial``, ``fold``, ``repeat`` and ``seed`` (shared by
        all strategies: same folds, same initial sets).
    errors : list of dict
        Failed trials: ``strategy``, ``trial``, ``fold``, ``repeat``, ``seed``,
        ``error``.
    efficiency : dict of str to (ndarray, ndarray)
        Labeling efficiency against the baseline along the curve: target
        scores and efficiencies (:func:`skal.metrics.labeling_efficiency_curve`).
    efficiency_summary : dict of str to float
        Labeling efficiency at the highest score both curves reach
        (:func:`skal.metrics.labeling_efficiency`).
    aulc : dict of str to ndarray of shape (n_trials,)
        Normalized area under each trial's learning curve: its mean score
        over the label range, on the scorer's scale (see
        :func:`skal.metrics.area_under_learning_curve`).
    penalty : ndarray of shape (n_strategies, n_strategies)
        Fraction of rounds where the row strategy beats the column one
        (paired two-tailed t-test across trials, ``alpha``).
    alpha : float
        Significance level of the penalty matrix.
    stop_rounds : dict of str to ndarray of shape (n_trials,) or None
        Only when the learner has ``stopping``: per strategy, the round of
        each trial where the criterion first said stop (the last round if it
        never did; NaN for failed trials). Trials run to the full budget all
        the same, so the curves are complete. None without ``stopping``.
    stopped : dict of str to ndarray of shape (n_trials,) or None
        Whether the criterion said stop in each trial; None without
        ``stopping``.

    See Also
    --------
    compare_strategies : The function that builds it.
    skal.plotting.save_comparison_plots : Its figures, as PNG files.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.model_selection import StrategyComparison
    >>> def result(scores):
    ...     scores = np.asarray(scores, dtype=float)
    ...     return {"score": scores, "fit_time": np.zeros_like(scores),
    ...             "query_time": np.zeros_like(scores), "errors": []}
    >>> comparison = StrategyComparison(
    ...     ["RandomSampling", "EntropySampling"], "RandomSampling", "accuracy",
    ...     np.array([10, 20, 30]),
    ...     {"RandomSampling": result([[0.5, 0.6, 0.7], [0.5, 0.6, 0.7]]),
    ...      "EntropySampling": result([[0.5, 0.7, 0.8], [0.5, 0.7, 0.8]])},
    ...     [{"trial": 0}, {"trial": 1}], alpha=0.05)
    >>> comparison
    StrategyComparison(names=['RandomSampling', 'EntropySampling'], n_trials=2, n_rounds=3)
    >>> comparison.summary()["final_score_mean"].round(2).tolist()
    [0.7, 0.8]
    >>> [round(row["final_score_mean"], 2) for row in comparison.summary(as_frame=False)]
    [0.7, 0.8]
    """

    def __init__(self, names, baseline, scoring, n_labeled, results, trials, alpha):
        from .metrics import (
            area_under_learning_curve,
            labeling_efficiency,
            labeling_efficiency_curve,
            penalty_matrix,
        )

        self.names = list(names)
        self.baseline = baseline
        self.scoring = scoring if isinstance(scoring, str) else "score"
        self.n_labeled = n_labeled
        self.alpha = alpha
        self.trials = trials
        self.scores, self.fit_times, self.query_times = {}, {}, {}
        self.errors = []
        for name in self.names:
            self.scores[name] = results[name]["score"]
            self.fit_times[name] = results[name]["fit_time"]
            self.query_times[name] = results[name]["query_time"]
            self.errors += [{"strategy": name, **e} for e in results[name]["errors"]]
        has_stop = all("stop_round" in results[name] for name in self.names)
        self.stop_rounds = (
            {name: results[name]["stop_round"] for name in self.names} if has_stop else None
        )
        self.stopped = (
            {name: results[name]["stopped"] for name in self.names} if has_stop else None
        )
        # a strategy whose every trial failed (error_score=nan) has no curve: its
        # comparisons are NaN, and the other strategies are compared as usual
        scored = [name for name in self.names if not np.all(np.isnan(self.scores[name]))]
        base = self.scores[baseline]
        none = (np.empty(0), np.empty(0))
        self.efficiency = {
            name: labeling_efficiency_curve(n_labeled, self.scores[name], base)
            if name in scored and baseline in scored else none
            for name in self.names
        }
        self.efficiency_summary = {
            name: labeling_efficiency(n_labeled, self.scores[name], base)
            if name in scored and baseline in scored else np.nan
            for name in self.names
        }
        self.aulc = {name: area_under_learning_curve(n_labeled, self.scores[name])
                     if name in scored else np.full(len(self.scores[name]), np.nan)
                     for name in self.names}
        self.penalty = np.full((len(self.names), len(self.names)), np.nan)
        if scored:
            _, P = penalty_matrix({name: self.scores[name] for name in scored}, alpha=alpha)
            rows = [self.names.index(name) for name in scored]
            self.penalty[np.ix_(rows, rows)] = P

    def summary(self, as_frame="auto"):
        """One row per strategy, as a pandas DataFrame where pandas is installed.

        Like scikit-learn's ``pd.DataFrame(search.cv_results_)``: the frame
        shows as a table in Jupyter, and ``to_dict("records")`` gives the rows
        back as dicts.

        Parameters
        ----------
        as_frame : bool or "auto", default="auto"
            True returns a pandas DataFrame (pandas must be installed), False
            a list of dict, and "auto" a DataFrame if pandas can be imported
            and a list of dict otherwise.

        Returns
        -------
        rows : pandas.DataFrame or list of dict
            One row per strategy, in the order of ``names``, with the columns
            (or keys) ``strategy``, ``final_score_mean``, ``final_score_std``,
            ``labeling_efficiency``, ``aulc_mean``, ``aulc_std``,
            ``query_time_mean`` and ``fit_time_mean`` (seconds per round),
            ``strategies_beaten_per_round``, ``n_failed_trials``. The
            scores and areas are on the scorer's scale, sign included (the
            mean negative RMSE for ``"neg_root_mean_squared_error"``).

            ``strategies_beaten_per_round`` is the row sum of the penalty
            matrix: the number of other strategies this one beats (paired
            t-test across trials at ``alpha``) in a round, averaged over the
            rounds. It lies between 0 and ``len(names) - 1``: 1.8 among four
            strategies means that in an average round it is significantly
            better than 1.8 of the other three.

            When the learner has ``stopping``, also (means over the trials
            that did not fail): ``labels_at_stop``, the labels spent when the
            criterion first said stop (the budget where it never did);
            ``score_at_stop``, the test score there; ``score_at_budget``, the
            test score with the full budget; and ``stopped_fraction``, the
            fraction of trials where the criterion said stop.
        """
        rows = []
        for i, name in enumerate(self.names):
            final = self.scores[name][:, -1]
            rows.append({
                "strategy": name,
                "final_score_mean": float(np.nanmean(final)),
                "final_score_std": float(np.nanstd(final)),
                "labeling_efficiency": float(self.efficiency_summary[name]),
                "aulc_mean": float(np.nanmean(self.aulc[name])),
                "aulc_std": float(np.nanstd(self.aulc[name])),
                "query_time_mean": float(np.nanmean(self.query_times[name][:, 1:]))
                if self.n_labeled.size > 1 else float("nan"),
                "fit_time_mean": float(np.nanmean(self.fit_times[name])),
                "strategies_beaten_per_round": float(np.nansum(self.penalty[i]))
                if not np.all(np.isnan(self.penalty[i])) else np.nan,
                "n_failed_trials": sum(e["strategy"] == name for e in self.errors),
            })
            if self.stop_rounds is not None:
                rows[-1].update(self._at_stop(name))
        if as_frame == "auto":
            as_frame = importlib.util.find_spec("pandas") is not None
        elif not isinstance(as_frame, bool):
            raise ValueError(f"as_frame must be True, False or 'auto'; got {as_frame!r}.")
        if not as_frame:
            return rows
        import pandas as pd  # only here: importing skal never imports pandas

        return pd.DataFrame(rows)

    def _at_stop(self, name):
        """Labels and score at the stop, and score at the budget, over trials."""
        stop_round = self.stop_rounds[name]
        ok = ~np.isnan(stop_round)
        if not ok.any():
            nan = float("nan")
            return {"labels_at_stop": nan, "score_at_stop": nan, "score_at_budget": nan,
                    "stopped_fraction": nan}
        rounds = stop_round[ok].astype(np.intp)
        scores = self.scores[name][ok]
        return {
            "labels_at_stop": float(np.mean(self.n_labeled[rounds])),
            "score_at_stop": float(np.nanmean(scores[np.arange(rounds.size), rounds])),
            "score_at_budget": float(np.nanmean(scores[:, -1])),
            "stopped_fraction": float(np.mean(self.stopped[name][ok])),
        }

    def to_records(self):
        """Every round of every trial of every strategy, one dict each (tidy).

        Returns
        -------
        records : list of dict
            One per (strategy, trial, round): ``strategy``, the trial's
            ``trial``, ``fold``, ``repeat`` and ``seed``, ``round``,
            ``n_labeled``, ``score``, ``fit_time`` and ``query_time``.
        """
        records = []
        for name in self.names:
            for t, trial in enumerate(self.trials):
                for r, n in enumerate(self.n_labeled):
                    records.append({
                        "strategy": name, **trial, "round": r, "n_labeled": int(n),
                        "score": float(self.scores[name][t, r]),
                        "fit_time": float(self.fit_times[name][t, r]),
                        "query_time": float(self.query_times[name][t, r]),
                    })
        return records

    def to_frame(self):
        """:meth:`to_records` as a pandas DataFrame (needs pandas).

        Returns
        -------
        frame : pandas.DataFrame
            One row per record of :meth:`to_records`.
        """
        import pandas as pd

        return pd.DataFrame.from_records(self.to_records())

    def __repr__(self):
        return (f"StrategyComparison(names={self.names}, n_trials={len(self.trials)}, "
                f"n_rounds={self.n_labeled.size})")

    # Jupyter's rich display, following scikit-learn's estimators: HTML when
    # sklearn's ``display`` configuration is "diagram" (its default), the text
    # repr otherwise, and the text repr always in the mime bundle.
    @property
    def _repr_html_(self):
        """HTML repr, for Jupyter; absent under ``sklearn.set_config(display="text")``."""
        if sklearn.get_config()["display"] != "diagram":
            raise AttributeError(
                "_repr_html_ is only defined when scikit-learn's 'display' configuration "
                "option is set to 'diagram'"
            )
        return self._repr_html_inner

    def _repr_html_inner(self):
        return _comparison_html(self)

    def _repr_mimebundle_(self, **kwargs):
        """Mime bundle for Jupyter: the text repr, and HTML unless display is "text"."""
        output = {"text/plain": repr(self)}
        if sklearn.get_config()["display"] == "diagram":
            output["text/html"] = _comparison_html(self)
        return output


_HTML_STYLE = """<style>
.skal-comparison table {border-collapse: collapse; margin: 0.4em 0;}
.skal-comparison th, .skal-comparison td {padding: 0.2em 0.6em; text-align: right;
  border-bottom: 1px solid #ddd;}
.skal-comparison th:first-child, .skal-comparison td:first-child {text-align: left;}
.skal-comparison .skal-settings {color: #555; margin: 0.2em 0;}
</style>"""


def _html_cell(value):
    if isinstance(value, float):
        return "nan" if np.isnan(value) else f"{value:.3f}"
    return html.escape(str(value))


def _comparison_html(comparison):
    """A :class:`StrategyComparison` as HTML: its settings and its summary table."""
    rows = comparison.summary(as_frame=False)
    n = comparison.n_labeled
    labels = f"{n[0]} to {n[-1]} labels" if n.size > 1 else f"{n[0]} labels"
    settings = (
        f"baseline <code>{html.escape(comparison.baseline)}</code>, scoring "
        f"<code>{html.escape(comparison.scoring)}</code>, {len(comparison.trials)} trials, "
        f"{n.size} rounds ({labels}), alpha={comparison.alpha:g}, "
        f"{len(comparison.errors)} failed trials"
    )
    columns = list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_html_cell(row[c])}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return (
        f'<div class="skal-comparison">{_HTML_STYLE}'
        f"<strong>StrategyComparison</strong>"
        f'<p class="skal-settings">{settings}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def compare_strategies(
    learner,
    strategies,
    X,
    y,
    *,
    X_test=None,
    y_test=None,
    cv=None,
    n_repeats=1,
    scoring=None,
    n_jobs=None,
    random_state=None,
    alpha=0.05,
    verbose=0,
    error_score=np.nan,
):
    """Compare query strategies against random sampling on identical trials.

    Every strategy runs the same trials (same folds, same initial labeled
    sets, same seeds) as :func:`active_learning_curve` would; random sampling
    is added as the baseline if it is not among them. All (strategy, trial)
    runs are joblib tasks in one parallel call.

    Parameters
    ----------
    learner : ActiveLearner
        The configuration (estimator, batch size, budget, ...); its
        ``strategy`` is replaced by each of ``strategies``.
    strategies : list or dict
        Strategy instances or names (see :func:`resolve_strategy`), or a dict
        name → strategy. Names default to the class names. With a regressor,
        every strategy must serve regression (random sampling and the
        representation strategies such as ``CoreSet`` and
        ``KMeansSampling`` do): a classification strategy raises a
        ``ValueError`` naming those that do, before any trial runs.
    X, y : array-like
        The samples and their labels (classes, or numeric targets for a
        regressor), as for :func:`active_learning_curve`.
    X_test, y_test : array-like, default=None
        A fixed test set. If None, cross-validation folds are used.
    cv : int, cross-validation generator or iterable, default=None
        Folds when there is no test set; None means 5 shuffled folds (seeded
        from ``random_state``), stratified for a classifier
        (``StratifiedKFold``) and plain for a regressor (``KFold``). An int
        ``k`` gives ``k`` folds of the same kind, unshuffled, as
        :func:`sklearn.model_selection.check_cv` does.
    n_repeats : int, default=1
        Runs per fold (or of the single pool), each with its own initial set.
    scoring : str or callable, default=None
        Test score recorded after every round; None uses the learner's
        ``scoring`` (itself defaulting to the estimator's ``score``: accuracy
        for a classifier, R² for a regressor). Scores follow scikit-learn's
        sign convention, greater is better: a ``"neg_"`` scorer such as
        ``"neg_root_mean_squared_error"`` records negative values.
    n_jobs : int, default=None
        The (strategy, trial) runs run in parallel through joblib.
    random_state : int, RandomState instance or None, default=None
        One generator draws every trial's seed (and the default folds), so
        every strategy sees the same trials. Every run uses the thread count
        of :func:`skal.set_config` (``n_threads``, 1 by default), so with an
        int ``random_state`` the results are bit-identical whatever
        ``n_jobs``, the joblib backend (loky, Dask) or the machine's core
        count.
    alpha : float, default=0.05
        Significance level of the penalty matrix's paired t-tests.
    verbose : int, default=0
        If positive, show a progress bar over the runs (tqdm): a widget in a
        Jupyter kernel with ipywidgets installed, plain text anywhere else.
    error_score : "raise" or numeric, default=np.nan
        Score given to every round of a run that raises (its times are NaN),
        as scikit-learn's ``cross_validate`` does for a failed fit: the failed
        runs are reported in one ``FitFailedWarning`` that groups them by
        error, and if every run of every strategy fails a ``ValueError`` is
        raised. With "raise", the first error propagates.

    Returns
    -------
    comparison : StrategyComparison
        Curves, labeling efficiency, area under the curve, penalty matrix and
        times; ``summary()`` gives one row per strategy (a pandas DataFrame
        when pandas is installed). Scores keep the scorer's sign, and every
        comparison reads greater as better: with
        ``"neg_root_mean_squared_error"`` the curves, final scores and areas
        are negative RMSE, and a strategy that lowers the RMSE faster is the
        more efficient.

    See Also
    --------
    active_learning_curve : The curves of one learner, without a baseline.
    skal.plotting.save_comparison_plots : The comparison's figures as PNG files.

    References
    ----------
    .. [1] N. Beck, D. Sivasubramanian, A. Dani, G. Ramakrishnan and R. Iyer,
       "Effective Evaluation of Deep Active Learning on Image Classification
       Tasks", 2021 (labeling efficiency, penalty matrices).
    .. [2] J. T. Ash et al., "Deep Batch Active Learning by Diverse, Uncertain
       Gradient Lower Bounds", ICLR 2020 (penalty matrix).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearner
    >>> from skal.model_selection import compare_strategies
    >>> X, y = load_digits(return_X_y=True)
    >>> learner = ActiveLearner(LogisticRegression(max_iter=300),
    ...                         initial_size=20, batch_size=20, budget=100)
    >>> comparison = compare_strategies(learner, ["entropy", "margin"], X, y,
    ...                                 cv=3, random_state=0)
    >>> comparison.names
    ['RandomSampling', 'EntropySampling', 'MarginSampling']
    >>> comparison.summary()["strategy"].tolist()
    ['RandomSampling', 'EntropySampling', 'MarginSampling']

    With a regressor, the folds are plain ``KFold`` and the strategies those
    that serve regression; a ``"neg_"`` scorer gives negative scores, greater
    is better:

    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.linear_model import Ridge
    >>> from skal import CoreSet
    >>> X, y = make_friedman1(n_samples=300, random_state=0)
    >>> learner = ActiveLearner(Ridge(), initial_size=20, batch_size=20, budget=60,
    ...                         scoring="neg_root_mean_squared_error")
    >>> comparison = compare_strategies(learner, [CoreSet()], X, y, cv=3, random_state=0)
    >>> comparison.names
    ['RandomSampling', 'CoreSet']
    >>> bool((comparison.summary()["final_score_mean"] < 0).all())
    True
    """
    _check_error_score(error_score)
    named = _named_strategies(strategies)
    baseline = next((n for n, s in named.items() if isinstance(s, RandomSampling)), None)
    if baseline is None:
        baseline = "RandomSampling"
        named = {baseline: RandomSampling(), **named}
    else:
        named = {baseline: named[baseline], **{n: s for n, s in named.items() if n != baseline}}
    tasks, scoring = _tasks(learner, X, y, X_test, y_test, cv, n_repeats, scoring, random_state,
                            strategies=list(named.values()))
    all_tasks, labels = [], []
    for name, strategy in named.items():
        for trial_learner, data, info in tasks:
            all_tasks.append((clone(trial_learner).set_params(strategy=clone(strategy)),
                              data, info))
            labels.append(f"strategy {name}")
    results = _run(all_tasks, n_jobs, verbose, error_score, labels)
    n_trials = len(tasks)
    n_labeled = _n_labeled(results)
    per_strategy = {}
    for s, name in enumerate(named):
        chunk = results[s * n_trials : (s + 1) * n_trials]
        arrays = _stack(chunk, n_labeled, error_score)
        arrays["errors"] = [{k: r[k] for k in ("trial", "fold", "repeat", "seed", "error")}
                            for r in chunk if r["error"] is not None]
        per_strategy[name] = arrays
    trials = [info for _, _, info in tasks]
    return StrategyComparison(list(named), baseline, scoring, n_labeled, per_strategy,
                              trials, alpha)
