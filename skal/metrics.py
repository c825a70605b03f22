"""Learning-curve metrics: how well, and how cheaply, a strategy learns.

An active-learning run gives a *learning curve*: a test score after each
round, against the number of labeled samples (``ActiveLearner.history_``).
Repeating the run with other seeds gives several *trials*, a 2-D array of
shape ``(n_trials, n_rounds)``. This module summarizes such curves:

- :func:`labels_to_reach`: how many labels a curve needs to reach a score;
- :func:`labeling_efficiency` and :func:`labeling_efficiency_curve`: how many
  times fewer labels than random sampling a strategy needs (Beck et al. 2021);
- :func:`area_under_learning_curve`: the mean score over the label range;
- :func:`penalty_matrix`: pairwise "significantly better in how many rounds"
  (Ash et al. 2020);
- :func:`make_learning_curve_scorer`: a scorer for ``GridSearchCV`` that scores
  every round of an :class:`~skal.ActiveLearner` on the held-out fold.

Wherever a function takes 2-D scores, it works on the mean curve over trials,
computed with :func:`numpy.nanmean`: a trial marked ``NaN`` (a failed run, or
one that stopped early) is left out of the mean of the rounds where it is
``NaN``.

Scores follow scikit-learn's scorer convention: greater is better. An error
(RMSE, MAE) is passed as its ``"neg_"`` scorer gives it, negated, e.g. the
values of ``"neg_root_mean_squared_error"``; every function here then reads
the curve correctly, and nothing assumes scores in [0, 1].

References
----------
.. [1] J. T. Ash, C. Zhang, A. Krishnamurthy, J. Langford and A. Agarwal,
   "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower Bounds",
   ICLR 2020.
.. [2] N. Beck, D. Sivasubramanian, A. Dani, G. Ramakrishnan and R. Iyer,
   "Effective Evaluation of Deep Active Learning on Image Classification
   Tasks", arXiv:2106.15324, 2021 (DISTIL).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.stats import ttest_rel
from sklearn.metrics import check_scoring, get_scorer_names

from .embeddings._estimators import _final_input
from .utils._sklearn_compat import Interval, StrOptions, validate_params

__all__ = [
    "area_under_learning_curve",
    "labeling_efficiency",
    "labeling_efficiency_curve",
    "labels_to_reach",
    "make_learning_curve_scorer",
    "penalty_matrix",
]

_METRICS = ("aulc", "final", "mean")


# -- input checks ------------------------------------------------------------------


def _check_n_labeled(n_labeled, name="n_labeled"):
    n_labeled = np.asarray(n_labeled, dtype=float)
    if n_labeled.ndim != 1 or n_labeled.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D array of label counts, one per round; "
            f"got an array of shape {n_labeled.shape}."
        )
    if not np.all(np.isfinite(n_labeled)) or np.any(n_labeled < 0):
        raise ValueError(
            f"{name} must hold finite, non-negative label counts; got {n_labeled.tolist()}."
        )
    if np.any(np.diff(n_labeled) <= 0):
        raise ValueError(
            f"{name} must be strictly increasing (one entry per round, as in "
            f"ActiveLearner.history_['n_labeled']); got {n_labeled.tolist()}."
        )
    return n_labeled


def _check_scores(scores, n_rounds, name="scores", n_labeled_name="n_labeled"):
    """``scores`` as a float array of shape (n_rounds,) or (n_trials, n_rounds)."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim not in (1, 2) or scores.shape[-1] != n_rounds or scores.size == 0:
        raise ValueError(
            f"{name} must have shape ({n_rounds},) or (n_trials, {n_rounds}), one "
            f"column per entry of {n_labeled_name}; got shape {scores.shape}."
        )
    if np.any(np.isinf(scores)):
        raise ValueError(f"{name} contains infinite values; scores must be finite.")
    return scores


def _mean_curve(scores, n_labeled, name="scores"):
    """The mean curve over trials (``NaN`` trials left out), checked finite."""
    if scores.ndim == 1:
        if np.any(np.isnan(scores)):
            raise ValueError(
                f"{name} contains NaN at round(s) {np.flatnonzero(np.isnan(scores)).tolist()}. "
                "A 1-D curve must be complete; to leave out failed trials, pass a 2-D "
                "(n_trials, n_rounds) array with NaN for the failed ones."
            )
        return scores
    missing = np.all(np.isnan(scores), axis=0)
    if missing.any():
        raise ValueError(
            f"{name} has no trial with a score at n_labeled="
            f"{n_labeled[missing].tolist()}: every trial is NaN there. Drop those "
            "rounds, or keep at least one trial that reaches them."
        )
    return np.nanmean(scores, axis=0)


def _check_target(target):
    if not np.isfinite(target):
        raise ValueError(f"target must be a finite score; got {target!r}.")
    return float(target)


def _labels_to_reach(n_labeled, curve, target):
    """First crossing of ``target``, interpolated linearly between rounds."""
    reached = np.flatnonzero(curve >= target)
    if reached.size == 0:
        return np.inf
    j = reached[0]
    if j == 0:
        return float(n_labeled[0])
    s0, s1 = curve[j - 1], curve[j]  # s0 < target <= s1
    n0, n1 = n_labeled[j - 1], n_labeled[j]
    return float(n0 + (target - s0) / (s1 - s0) * (n1 - n0))


def _efficiency(n_baseline, n_strategy):
    """Labels the baseline needs over labels the strategy needs, with the edge cases."""
    if np.isinf(n_baseline) and np.isinf(n_strategy):
        return np.nan
    if n_baseline == n_strategy:  # equal curves; also 0 / 0 when both start there
        return 1.0
    if np.isinf(n_strategy):
        return 0.0
    if np.isinf(n_baseline) or n_strategy == 0:
        return np.inf
    return float(n_baseline / n_strategy)


def _two_curves(n_labeled, scores, baseline_scores, n_labeled_baseline):
    n_labeled = _check_n_labeled(n_labeled)
    curve = _mean_curve(_check_scores(scores, n_labeled.size), n_labeled)
    if n_labeled_baseline is None:
        n_baseline, baseline_name = n_labeled, "n_labeled"
    else:
        n_baseline = _check_n_labeled(n_labeled_baseline, "n_labeled_baseline")
        baseline_name = "n_labeled_baseline"
    baseline = _mean_curve(
        _check_scores(baseline_scores, n_baseline.size, "baseline_scores", baseline_name),
        n_baseline,
        "baseline_scores",
    )
    return n_labeled, curve, n_baseline, baseline


# -- labels to reach a score ------------------------------------------------------


@validate_params(
    {"n_labeled": ["array-like"], "scores": ["array-like"], "target": [Real]},
    prefer_skip_nested_validation=True,
)
def labels_to_reach(n_labeled, scores, target):
    """Number of labels a learning curve needs to reach a score.

    The curve is taken as piecewise linear between rounds: at the first round
    ``i`` with ``scores[i] < target <= scores[i + 1]``, the answer is
    ``n_labeled[i] + (target - scores[i]) / (scores[i + 1] - scores[i])
    * (n_labeled[i + 1] - n_labeled[i])``. A curve that starts at or above
    ``target`` needs ``n_labeled[0]``; one that never reaches it needs
    ``np.inf``. Only the first crossing counts: a curve that reaches the
    target and later drops below it has reached it.

    Parameters
    ----------
    n_labeled : array-like of shape (n_rounds,)
        Labels after each round, strictly increasing (e.g.
        ``ActiveLearner.history_["n_labeled"]``).
    scores : array-like of shape (n_rounds,) or (n_trials, n_rounds)
        Test score after each round, greater is better (an error as its
        ``"neg_"`` scorer gives it, negated). For 2-D scores the mean over
        trials is used, leaving out ``NaN`` trials.
    target : float
        The score to reach.

    Returns
    -------
    n : float
        Labels needed, interpolated (so not necessarily an integer), or
        ``np.inf`` if the curve never reaches ``target``.

    See Also
    --------
    labeling_efficiency : The ratio of this number for random sampling and
        for a strategy.

    Examples
    --------
    >>> from skal.metrics import labels_to_reach
    >>> n_labeled = [100, 200, 300]
    >>> labels_to_reach(n_labeled, [0.5, 0.7, 0.8], target=0.6)
    150.0
    >>> labels_to_reach(n_labeled, [0.5, 0.7, 0.8], target=0.4)
    100.0
    >>> labels_to_reach(n_labeled, [0.5, 0.7, 0.8], target=0.9)
    inf

    Over trials, the mean curve (here ``[0.5, 0.7, 0.8]``) is used:

    >>> labels_to_reach(n_labeled, [[0.4, 0.6, 0.8], [0.6, 0.8, 0.8]], target=0.75)
    250.0

    An error is reached when its negation is: the labels to an RMSE of 2.5,
    on a curve of ``"neg_root_mean_squared_error"`` scores:

    >>> labels_to_reach(n_labeled, [-3.0, -2.0, -1.5], target=-2.5)
    150.0
    """
    n_labeled = _check_n_labeled(n_labeled)
    curve = _mean_curve(_check_scores(scores, n_labeled.size), n_labeled)
    return _labels_to_reach(n_labeled, curve, _check_target(target))


# -- labeling efficiency ----------------------------------------------------------


@validate_params(
    {
        "n_labeled": ["array-like"],
        "scores": ["array-like"],
        "baseline_scores": ["array-like"],
        "n_labeled_baseline": ["array-like", None],
        "target": [Real, None],
    },
    prefer_skip_nested_validation=True,
)
def labeling_efficiency(
    n_labeled, scores, baseline_scores, *, n_labeled_baseline=None, target=None
):
    """How many times fewer labels a strategy needs than a baseline.

    The labeling efficiency of Beck et al. (DISTIL) [1]_: the number of labels
    the baseline (random sampling) needs to reach a test score ``target``,
    divided by the number of labels the strategy needs (both from
    :func:`labels_to_reach`, on the mean curves over trials). Above 1, the
    strategy saves labels; an efficiency of 2 means half as many labels.

    Edge cases: neither curve reaches ``target`` → ``nan``; only the baseline
    reaches it → ``0.0``; only the strategy reaches it → ``inf``; both need
    the same number of labels (e.g. equal curves) → ``1.0``.

    Parameters
    ----------
    n_labeled : array-like of shape (n_rounds,)
        Labels after each round of the strategy, strictly increasing.
    scores : array-like of shape (n_rounds,) or (n_trials, n_rounds)
        The strategy's test scores (greater is better: an error as its
        ``"neg_"`` scorer gives it, negated); 2-D: one row per trial, ``NaN``
        trials left out of the mean.
    baseline_scores : array-like of shape (n_rounds_baseline,) or (n_trials_baseline, n_rounds_baseline)
        The baseline's test scores, usually random sampling.
    n_labeled_baseline : array-like of shape (n_rounds_baseline,), default=None
        Labels after each round of the baseline; ``None`` means the same as
        ``n_labeled``.
    target : float, default=None
        The test score to reach. ``None`` means the highest score both mean
        curves reach: the smaller of their two maxima.

    Returns
    -------
    efficiency : float
        Labels for the baseline / labels for the strategy.

    See Also
    --------
    labeling_efficiency_curve : The efficiency over a range of targets.
    labels_to_reach : The number of labels for one curve.

    References
    ----------
    .. [1] N. Beck, D. Sivasubramanian, A. Dani, G. Ramakrishnan and R. Iyer,
       "Effective Evaluation of Deep Active Learning on Image Classification
       Tasks", arXiv:2106.15324, 2021.

    Examples
    --------
    Random sampling needs 300 labels to reach 0.8, the strategy 200:

    >>> from skal.metrics import labeling_efficiency
    >>> n_labeled = [100, 200, 300]
    >>> labeling_efficiency(n_labeled, [0.6, 0.8, 0.85], [0.6, 0.7, 0.8])
    1.5
    >>> labeling_efficiency(n_labeled, [0.6, 0.8, 0.85], [0.6, 0.7, 0.8], target=0.7)
    1.333...

    With negative RMSE, the strategy reaches an RMSE of 2.0 with 200
    labels, random sampling with 300:

    >>> labeling_efficiency(n_labeled, [-3.0, -2.0, -1.8], [-3.0, -2.5, -2.0])
    1.5
    """
    n_labeled, curve, n_baseline, baseline = _two_curves(
        n_labeled, scores, baseline_scores, n_labeled_baseline
    )
    if target is None:
        target = min(curve.max(), baseline.max())
    target = _check_target(target)
    return _efficiency(
        _labels_to_reach(n_baseline, baseline, target),
        _labels_to_reach(n_labeled, curve, target),
    )


@validate_params(
    {
        "n_labeled": ["array-like"],
        "scores": ["array-like"],
        "baseline_scores": ["array-like"],
        "n_labeled_baseline": ["array-like", None],
        "n_targets": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def labeling_efficiency_curve(
    n_labeled, scores, baseline_scores, *, n_labeled_baseline=None, n_targets=50
):
    """Labeling efficiency against the target score.

    The efficiency of :func:`labeling_efficiency` at ``n_targets`` evenly
    spaced targets, from the higher of the two curves' first (mean) scores to
    the highest score both mean curves reach (the smaller of their maxima).
    This is the range where the question "how many labels to get there" has
    an answer for both curves past their start. If one curve starts above the
    best score of the other, the range is empty and so are both arrays.

    Parameters
    ----------
    n_labeled : array-like of shape (n_rounds,)
        Labels after each round of the strategy, strictly increasing.
    scores : array-like of shape (n_rounds,) or (n_trials, n_rounds)
        The strategy's test scores (greater is better: an error as its
        ``"neg_"`` scorer gives it, negated); 2-D: one row per trial, ``NaN``
        trials left out of the mean.
    baseline_scores : array-like of shape (n_rounds_baseline,) or (n_trials_baseline, n_rounds_baseline)
        The baseline's test scores, usually random sampling.
    n_labeled_baseline : array-like of shape (n_rounds_baseline,), default=None
        Labels after each round of the baseline; ``None`` means the same as
        ``n_labeled``.
    n_targets : int, default=50
        Number of targets.

    Returns
    -------
    targets : ndarray of shape (n_targets,) or (0,)
        The target scores, increasing.
    efficiency : ndarray of shape (n_targets,) or (0,)
        The labeling efficiency at each target (same edge cases as
        :func:`labeling_efficiency`).

    See Also
    --------
    labeling_efficiency : The efficiency at one target.

    Examples
    --------
    >>> from skal.metrics import labeling_efficiency_curve
    >>> targets, efficiency = labeling_efficiency_curve(
    ...     [100, 200, 300], [0.6, 0.8, 0.85], [0.6, 0.7, 0.8], n_targets=3)
    >>> targets
    array([0.6, 0.7, 0.8])
    >>> efficiency
    array([1.  , 1.33333333, 1.5 ])
    """
    n_labeled, curve, n_baseline, baseline = _two_curves(
        n_labeled, scores, baseline_scores, n_labeled_baseline
    )
    low = max(curve[0], baseline[0])
    high = min(curve.max(), baseline.max())
    if low > high:
        return np.empty(0), np.empty(0)
    targets = np.linspace(low, high, n_targets)
    efficiency = np.array(
        [
            _efficiency(
                _labels_to_reach(n_baseline, baseline, t),
                _labels_to_reach(n_labeled, curve, t),
            )
            for t in targets
        ]
    )
    return targets, efficiency


# -- area under the learning curve ------------------------------------------------


def _aulc(n_labeled, scores, normalize):
    if n_labeled.size == 1:
        area = np.zeros(scores.shape[:-1])
        result = scores[..., 0] if normalize else area
    else:
        widths = np.diff(n_labeled)
        area = np.sum(widths * (scores[..., 1:] + scores[..., :-1]) / 2, axis=-1)
        result = area / (n_labeled[-1] - n_labeled[0]) if normalize else area
    return float(result) if np.ndim(result) == 0 else np.asarray(result, dtype=float)


@validate_params(
    {"n_labeled": ["array-like"], "scores": ["array-like"], "normalize": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def area_under_learning_curve(n_labeled, scores, *, normalize=True):
    """Area under a learning curve (trapezoidal rule).

    With ``normalize=True`` the area is divided by the width of the label
    range, ``n_labeled[-1] - n_labeled[0]``, which makes it the mean score
    over that range: it can be compared across budgets and reads on the
    score's own scale. A curve of a single round has no width; its
    normalized area is its one score (and its raw area 0).

    Only the label axis is normalized, never the scores: nothing assumes
    them in [0, 1]. For a ``"neg_"`` scorer the area is negative, the mean
    negated error over the label range (``-2.0`` is a mean RMSE of 2.0), and
    greater is still better.

    Parameters
    ----------
    n_labeled : array-like of shape (n_rounds,)
        Labels after each round, strictly increasing.
    scores : array-like of shape (n_rounds,) or (n_trials, n_rounds)
        Test score after each round. 2-D: one area per trial (row); a trial
        with a ``NaN`` score gets a ``NaN`` area.
    normalize : bool, default=True
        Divide by the width of the label range.

    Returns
    -------
    area : float or ndarray of shape (n_trials,)
        A float for 1-D ``scores``, one value per trial for 2-D ``scores``.

    See Also
    --------
    make_learning_curve_scorer : This area as a ``GridSearchCV`` scorer.

    Examples
    --------
    >>> from skal.metrics import area_under_learning_curve
    >>> area_under_learning_curve([0, 100, 200], [0.5, 0.7, 0.9])
    0.7
    >>> area_under_learning_curve([0, 100, 200], [0.5, 0.7, 0.9], normalize=False)
    140.0
    >>> area_under_learning_curve([10, 20], [[0.5, 0.7], [0.6, 0.6]])
    array([0.6, 0.6])

    Negative RMSE: a mean RMSE of 2.25 over the 200 labels.

    >>> area_under_learning_curve([0, 100, 200], [-3.0, -2.0, -2.0])
    -2.25
    """
    n_labeled = _check_n_labeled(n_labeled)
    scores = _check_scores(scores, n_labeled.size)
    return _aulc(n_labeled, scores, normalize)


# -- penalty matrix ---------------------------------------------------------------


@validate_params(
    {"scores": [dict], "alpha": [Interval(Real, 0, 1, closed="neither")]},
    prefer_skip_nested_validation=True,
)
def penalty_matrix(scores, *, alpha=0.05):
    """Pairwise penalty matrix: in what fraction of rounds ``i`` beats ``j``.

    The construction of Ash et al. (BADGE) [1]_, also used by Beck et al.
    (DISTIL) [2]_: at every round, strategies ``i`` and ``j`` are compared
    with a two-tailed paired t-test over trials
    (:func:`scipy.stats.ttest_rel`, trial ``k`` of ``i`` paired with trial
    ``k`` of ``j``, so trials should share seeds and data splits). Strategy
    ``i`` wins the round when ``p < alpha`` and its mean score is greater
    (scikit-learn's convention: for a ``"neg_"`` scorer, the smaller error).
    ``P[i, j]`` is the fraction of rounds ``i`` wins; the diagonal is 0.
    Summing a column gives how often a strategy is beaten, summing a row how
    often it wins.

    A round with fewer than two trials scored for both strategies counts as
    a win for neither, so with a single trial the matrix is all zeros. When
    all paired differences are equal (up to rounding) the t statistic has a
    zero denominator: if they are all zero (tied strategies) neither wins; if
    they are one non-zero constant, the strategy ahead by that same margin
    in every trial wins (the limit ``p = 0``, as ``scipy.stats.ttest_rel``
    reports it). Pairs where either score is ``NaN`` are left out of that
    round's test.

    Parameters
    ----------
    scores : dict of str to array-like of shape (n_trials, n_rounds)
        Test scores of each strategy, greater is better (an error as its
        ``"neg_"`` scorer gives it, negated), one row per trial
        (seed), one column per round. Every array has the same shape.
    alpha : float, default=0.05
        Significance level, in (0, 1).

    Returns
    -------
    names : list of str
        The strategies, in the order of ``scores``.
    P : ndarray of shape (n_strategies, n_strategies)
        ``P[i, j]``: fraction of rounds in which ``names[i]`` is significantly
        better than ``names[j]``.

    See Also
    --------
    skal.plotting.plot_penalty_matrix : The matrix drawn as a heatmap.
    labeling_efficiency : A summary of one strategy against one baseline.

    References
    ----------
    .. [1] J. T. Ash, C. Zhang, A. Krishnamurthy, J. Langford and A. Agarwal,
       "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower
       Bounds", ICLR 2020.
    .. [2] N. Beck, D. Sivasubramanian, A. Dani, G. Ramakrishnan and R. Iyer,
       "Effective Evaluation of Deep Active Learning on Image Classification
       Tasks", arXiv:2106.15324, 2021.

    Examples
    --------
    Five seeds, three rounds; "badge" is clearly ahead in the last two:

    >>> import numpy as np
    >>> from skal.metrics import penalty_matrix
    >>> noise = np.array([[0.00, 0.01, 0.02], [0.01, -0.01, 0.00],
    ...                   [-0.01, 0.00, 0.01], [0.02, 0.01, -0.01], [0.00, -0.02, 0.01]])
    >>> random = np.array([0.5, 0.6, 0.7]) + noise
    >>> badge = random + np.array([0.0, 0.1, 0.1]) + noise[::-1] / 10
    >>> names, P = penalty_matrix({"random": random, "badge": badge})
    >>> names
    ['random', 'badge']
    >>> P
    array([[0.        , 0.        ],
           [0.66666667, 0.        ]])
    """
    if not scores:
        raise ValueError("scores is empty; pass a dict of name -> (n_trials, n_rounds) scores.")
    names = list(scores)
    arrays = []
    for name in names:
        values = np.asarray(scores[name], dtype=float)
        if values.ndim != 2 or values.size == 0:
            raise ValueError(
                f"scores[{name!r}] must be a non-empty 2-D array of shape (n_trials, "
                f"n_rounds); got shape {values.shape}. For a single trial, pass "
                "values[np.newaxis, :]."
            )
        if values.shape != np.shape(arrays[0] if arrays else values):
            raise ValueError(
                f"All score arrays must have the same shape (n_trials, n_rounds); "
                f"scores[{names[0]!r}] has shape {arrays[0].shape} but "
                f"scores[{name!r}] has shape {values.shape}."
            )
        if np.any(np.isinf(values)):
            raise ValueError(f"scores[{name!r}] contains infinite values; scores must be finite.")
        arrays.append(values)

    n_rounds = arrays[0].shape[1]
    P = np.zeros((len(names), len(names)))
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            wins_i, wins_j = _paired_wins(arrays[i], arrays[j], alpha)
            P[i, j] = wins_i.sum() / n_rounds
            P[j, i] = wins_j.sum() / n_rounds
    return names, P


def _paired_wins(a, b, alpha):
    """Per round: does ``a`` beat ``b``, does ``b`` beat ``a`` (paired t-test)."""
    diff = a - b
    valid = ~np.isnan(diff)
    n_valid = valid.sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rounds, masked below
        spread = np.nanmax(diff, axis=0) - np.nanmin(diff, axis=0)
        scale = np.nanmax(np.abs(diff), axis=0)
        mean_diff = np.nanmean(diff, axis=0)
    # all differences equal, up to the rounding of a - b: zero variance
    tol = 8 * np.finfo(float).eps * scale
    constant = spread <= tol
    defined = (n_valid >= 2) & ~constant
    wins_a = np.zeros(diff.shape[1], dtype=bool)
    wins_b = np.zeros(diff.shape[1], dtype=bool)
    # the same non-zero gap in every trial: p -> 0, the one ahead wins
    certain = (n_valid >= 2) & constant & (np.abs(mean_diff) > tol)
    wins_a[certain] = mean_diff[certain] > 0
    wins_b[certain] = mean_diff[certain] < 0
    if defined.any():
        pvalue = np.asarray(
            ttest_rel(a[:, defined], b[:, defined], axis=0, nan_policy="omit").pvalue
        )
        significant = pvalue < alpha
        wins_a[defined] = significant & (mean_diff[defined] > 0)
        wins_b[defined] = significant & (mean_diff[defined] < 0)
    return wins_a, wins_b


# -- a GridSearchCV scorer over the rounds ----------------------------------------


class _LearningCurveScorer:
    """Score every round of a fitted ActiveLearner; see make_learning_curve_scorer."""

    def __init__(self, metric, scoring):
        self.metric = metric
        self.scoring = scoring

    def __repr__(self):
        return f"make_learning_curve_scorer(metric={self.metric!r}, scoring={self.scoring!r})"

    def round_scores(self, estimator, X, y, sample_weight=None):
        """The score of every round's estimator on ``(X, y)``.

        Parameters
        ----------
        estimator : ActiveLearner or Pipeline ending in one
            Fitted with ``keep_estimators=True``.
        X : array-like of shape (n_samples, ...)
            Test samples.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to each round's scorer when given.

        Returns
        -------
        n_labeled : ndarray of shape (n_rounds,)
            ``history_["n_labeled"]``.
        scores : ndarray of shape (n_rounds,)
            One score per round.
        """
        learner, X = _final_input(estimator, X)
        if not hasattr(learner, "history_"):
            raise ValueError(
                f"The learning-curve scorer needs a fitted ActiveLearner, or a Pipeline "
                f"whose last step is one; got {type(learner).__name__}"
                f"{' (not fitted)' if hasattr(learner, 'initial_strategy') else ''}."
            )
        if not hasattr(learner, "round_estimators_"):
            raise ValueError(
                "The learning-curve scorer scores the estimator of every round, but this "
                f"{type(learner).__name__} kept only the last one. Set "
                "keep_estimators=True on the ActiveLearner, e.g. ActiveLearner(..., "
                "keep_estimators=True), and fit it again."
            )
        n_labeled = np.asarray(learner.history_["n_labeled"])
        rounds = learner.round_estimators_
        if len(rounds) != len(n_labeled):
            raise ValueError(
                f"The learner has {len(rounds)} round estimators but "
                f"{len(n_labeled)} rounds in history_['n_labeled']; fit it again."
            )
        # imported here: the curve summaries above need neither torch nor the learner
        from .utils._labels import _labeled_part
        from .utils._data import check_pool

        # the pool check of the learner itself: a DataFrame with text columns goes on
        # as it is to a learner whose estimator reads it (a Pipeline)
        X = check_pool(
            X, reader=learner.estimator, owner=learner, reset=False, accept_sparse=True
        )
        X, y, sample_weight = _labeled_part(
            X, y, sample_weight, learner._marker(), repr(self)
        )
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        scores = np.array(
            [
                check_scoring(round_estimator, scoring=self.scoring)(
                    round_estimator, X, y, **kwargs
                )
                for round_estimator in rounds
            ],
            dtype=float,
        )
        return n_labeled, scores

    def __call__(self, estimator, X, y, sample_weight=None):
        n_labeled, scores = self.round_scores(estimator, X, y, sample_weight)
        if self.metric == "final":
            return float(scores[-1])
        if self.metric == "mean":
            return float(scores.mean())
        return _aulc(_check_n_labeled(n_labeled, "history_['n_labeled']"), scores, True)


@validate_params(
    {
        "metric": [StrOptions(set(_METRICS))],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
    },
    prefer_skip_nested_validation=True,
)
def make_learning_curve_scorer(metric="aulc", scoring=None):
    """A scorer that judges an ActiveLearner by its whole learning curve.

    ``GridSearchCV`` with an :class:`~skal.ActiveLearner` scores, by default,
    only the estimator of the last round: two strategies that end at the same
    accuracy tie, even if one got there with far fewer labels. This scorer
    scores the estimator of *every* round on the held-out fold and summarizes
    the curve. The learner must be built with ``keep_estimators=True``, which
    keeps those estimators (``round_estimators_``). Entries of the held-out
    ``y`` marked with the learner's ``missing_label`` (a partly labeled ``y``)
    are left out of every round's score, with one
    :class:`~skal.exceptions.UnlabeledScoreWarning` per call, as in
    :meth:`ActiveLearner.score <skal.ActiveLearner.score>`.

    Parameters
    ----------
    metric : {"aulc", "final", "mean"}, default="aulc"
        How the per-round scores are summarized: ``"aulc"``, the normalized
        area under the learning curve over ``history_["n_labeled"]`` (see
        :func:`area_under_learning_curve`; rounds weighted by the labels they
        span); ``"final"``, the last round's score; ``"mean"``, the mean over
        rounds (rounds weighted equally).
    scoring : str, callable or None, default=None
        How each round's estimator is scored, as in
        :func:`sklearn.metrics.check_scoring`: a scorer name such as
        ``"balanced_accuracy"`` or ``"neg_root_mean_squared_error"``, a
        scorer callable, or ``None`` for the estimator's ``score`` (accuracy
        for a classifier, R² for a regressor). Greater is better: the
        ``"aulc"`` of a ``"neg_"`` scorer is the mean negated error.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)`` → float, where ``estimator`` is a fitted
        ``ActiveLearner`` or a ``Pipeline`` whose last step is one (``X`` is
        transformed by the steps before it first). Pass it as ``scoring=``
        to ``GridSearchCV`` or ``cross_val_score``. Its ``round_scores``
        method returns ``(n_labeled, per-round scores)``.

    Raises
    ------
    ValueError
        When called on a learner fitted without ``keep_estimators=True``.

    See Also
    --------
    area_under_learning_curve : The ``"aulc"`` summary.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skal import ActiveLearner, EntropySampling, RandomSampling
    >>> from skal.metrics import make_learning_curve_scorer
    >>> X, y = load_iris(return_X_y=True)
    >>> learner = ActiveLearner(
    ...     LogisticRegression(), keep_estimators=True,
    ...     initial_size=10, batch_size=10, budget=40, random_state=0)
    >>> search = GridSearchCV(
    ...     learner, {"strategy": [EntropySampling(), RandomSampling(random_state=0)]},
    ...     scoring=make_learning_curve_scorer("aulc"), cv=3,
    ... ).fit(X, y)
    >>> search.cv_results_["mean_test_score"].round(3)
    array([0.91 , 0.881])
    >>> search.best_params_
    {'strategy': EntropySampling()}
    """
    return _LearningCurveScorer(metric, scoring)
