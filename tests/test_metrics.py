"""skal.metrics: learning-curve summaries, checked on small curves computed by hand,
and the learning-curve scorer checked inside GridSearchCV and a Pipeline."""

import math
import pickle
import warnings

import numpy as np
import pytest
from scipy.stats import ttest_rel
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skal import ActiveLearner, EntropySampling, RandomSampling
from skal.metrics import (
    area_under_learning_curve,
    labeling_efficiency,
    labeling_efficiency_curve,
    labels_to_reach,
    make_learning_curve_scorer,
    penalty_matrix,
)

N = [10, 20, 40]


def reference_labels_to_reach(n_labeled, curve, target):
    """The definition, literally: the first i with s_i < target <= s_{i+1}."""
    if curve[0] >= target:
        return n_labeled[0]
    for i in range(len(curve) - 1):
        if curve[i] < target <= curve[i + 1]:
            return n_labeled[i] + (target - curve[i]) / (curve[i + 1] - curve[i]) * (
                n_labeled[i + 1] - n_labeled[i]
            )
    return math.inf


# -- labels_to_reach -----------------------------------------------------------------


def test_labels_to_reach_interpolates_between_rounds():
    # 0.6 lies halfway between 0.4 (20 labels) and 0.8 (40 labels)
    assert labels_to_reach(N, [0.2, 0.4, 0.8], 0.6) == pytest.approx(30.0)
    # a quarter of the way from 0.2 to 0.4
    assert labels_to_reach(N, [0.2, 0.4, 0.8], 0.25) == pytest.approx(12.5)
    # exactly a round's score: that round's count
    assert labels_to_reach(N, [0.2, 0.4, 0.8], 0.4) == pytest.approx(20.0)
    # a flat stretch before the crossing: interpolation in the last segment only
    assert labels_to_reach(N, [0.5, 0.5, 0.7], 0.6) == pytest.approx(30.0)


def test_labels_to_reach_curve_starting_at_or_above_target():
    assert labels_to_reach(N, [0.2, 0.4, 0.8], 0.1) == 10.0
    assert labels_to_reach(N, [0.2, 0.4, 0.8], 0.2) == 10.0


def test_labels_to_reach_never_reached_is_inf():
    result = labels_to_reach(N, [0.2, 0.4, 0.8], 0.81)
    assert math.isinf(result) and result > 0


def test_labels_to_reach_counts_the_first_crossing_only():
    # crosses 0.5 between 10 and 20 labels, dips below, crosses again later
    n = [10, 20, 30, 40]
    assert labels_to_reach(n, [0.2, 0.6, 0.4, 0.7], 0.5) == pytest.approx(17.5)


def test_labels_to_reach_matches_the_definition_on_random_curves():
    rng = np.random.RandomState(0)
    for _ in range(200):
        n_rounds = rng.randint(1, 8)
        n_labeled = np.cumsum(rng.randint(1, 30, size=n_rounds))
        curve = rng.uniform(0, 1, size=n_rounds).round(2)
        target = rng.choice([rng.uniform(-0.1, 1.1), rng.choice(curve)])
        expected = reference_labels_to_reach(n_labeled, curve, target)
        assert labels_to_reach(n_labeled, curve, target) == pytest.approx(expected)


def test_labels_to_reach_2d_uses_the_mean_over_trials_ignoring_nan_trials():
    scores = np.array(
        [
            [0.2, 0.4, 0.8],
            [0.4, 0.6, 0.6],
            [np.nan, np.nan, np.nan],  # a failed trial
        ]
    )
    # mean curve [0.3, 0.5, 0.7]; 0.6 is halfway from 20 to 40
    assert labels_to_reach(N, scores, 0.6) == pytest.approx(30.0)
    # a trial that stopped early: left out of the later rounds only
    partial = np.array([[0.2, 0.4, 0.8], [0.4, np.nan, np.nan]])  # mean [0.3, 0.4, 0.8]
    assert labels_to_reach(N, partial, 0.35) == pytest.approx(15.0)


@pytest.mark.parametrize(
    "n_labeled, scores, target, match",
    [
        ([10, 10, 20], [0.1, 0.2, 0.3], 0.5, "strictly increasing"),
        ([20, 10, 30], [0.1, 0.2, 0.3], 0.5, "strictly increasing"),
        ([10, 20], [0.1, 0.2, 0.3], 0.5, r"shape \(2,\) or \(n_trials, 2\)"),
        ([10, 20, 30], [0.1, np.nan, 0.3], 0.5, "NaN at round"),
        ([10, 20, 30], [[0.1, np.nan, 0.3], [0.2, np.nan, 0.4]], 0.5, r"n_labeled=\[20.0\]"),
        ([10, 20, 30], [0.1, np.inf, 0.3], 0.5, "infinite"),
        ([10, 20, 30], [0.1, 0.2, 0.3], np.nan, "target must be a finite"),
        ([], [], 0.5, "non-empty 1-D"),
        ([-1, 20, 30], [0.1, 0.2, 0.3], 0.5, "non-negative"),
    ],
)
def test_labels_to_reach_bad_input(n_labeled, scores, target, match):
    with pytest.raises(ValueError, match=match):
        labels_to_reach(n_labeled, scores, target)


def test_labels_to_reach_parameter_types_are_validated():
    with pytest.raises(ValueError, match="'target' parameter"):
        labels_to_reach(N, [0.2, 0.4, 0.8], "0.5")


# -- labeling_efficiency ---------------------------------------------------------------

N3 = [100, 200, 300]
STRATEGY = [0.6, 0.8, 0.85]
BASELINE = [0.6, 0.7, 0.8]


def test_labeling_efficiency_hand_computed():
    # default target: min(0.85, 0.8) = 0.8; random needs 300 labels, the strategy 200
    assert labeling_efficiency(N3, STRATEGY, BASELINE) == pytest.approx(1.5)
    # 0.7: random 200, the strategy halfway from 100 to 200
    assert labeling_efficiency(N3, STRATEGY, BASELINE, target=0.7) == pytest.approx(200 / 150)
    # the other way round, the strategy is worse than the baseline
    assert labeling_efficiency(N3, BASELINE, STRATEGY) == pytest.approx(200 / 300)


def test_labeling_efficiency_equal_curves_is_one():
    for target in (None, 0.5, 0.6, 0.75, 0.85):
        assert labeling_efficiency(N3, STRATEGY, STRATEGY, target=target) == 1.0


@pytest.mark.parametrize(
    "scores, baseline, expected",
    [
        ([0.5, 0.6, 0.7], [0.5, 0.6, 0.75], "nan"),  # neither reaches 0.8
        ([0.5, 0.6, 0.7], [0.5, 0.7, 0.9], 0.0),  # only the baseline reaches 0.8
        ([0.5, 0.7, 0.9], [0.5, 0.6, 0.7], "inf"),  # only the strategy reaches 0.8
    ],
)
def test_labeling_efficiency_unreachable_target(scores, baseline, expected):
    result = labeling_efficiency(N3, scores, baseline, target=0.8)
    if expected == "nan":
        assert math.isnan(result)
    elif expected == "inf":
        assert math.isinf(result) and result > 0
    else:
        assert result == expected


def test_labeling_efficiency_with_its_own_baseline_grid():
    # random sampling measured at 100, 300, 500 labels: it reaches 0.8 at 500
    result = labeling_efficiency(
        N3, STRATEGY, [0.6, 0.7, 0.8], n_labeled_baseline=[100, 300, 500]
    )
    assert result == pytest.approx(500 / 200)
    # a longer baseline, with its own number of rounds
    result = labeling_efficiency(
        N3, STRATEGY, [0.5, 0.6, 0.7, 0.8], n_labeled_baseline=[100, 200, 300, 400], target=0.8
    )
    assert result == pytest.approx(400 / 200)


def test_labeling_efficiency_2d_with_a_nan_trial():
    scores = np.array([[0.5, 0.7, 0.8], [0.7, 0.9, 0.9], [np.nan] * 3])  # mean STRATEGY
    baseline = np.array([[0.6, 0.6, 0.8], [0.6, 0.8, 0.8], [0.6, np.nan, np.nan]])  # BASELINE
    assert labeling_efficiency(N3, scores, baseline) == pytest.approx(1.5)
    assert labeling_efficiency(N3, scores, baseline, target=0.7) == pytest.approx(200 / 150)


def test_labeling_efficiency_from_zero_labels():
    # the strategy is at 0.5 with no label at all (e.g. a pretrained model)
    n = [0, 10, 20]
    assert math.isinf(labeling_efficiency(n, [0.5, 0.6, 0.7], [0.3, 0.5, 0.7], target=0.5))
    assert labeling_efficiency(n, [0.5, 0.6, 0.7], [0.5, 0.5, 0.7], target=0.5) == 1.0
    assert labeling_efficiency(n, [0.3, 0.5, 0.7], [0.5, 0.6, 0.7], target=0.5) == 0.0


def test_labeling_efficiency_bad_input_names_the_argument():
    with pytest.raises(ValueError, match=r"baseline_scores must have shape \(4,\)"):
        labeling_efficiency(N3, STRATEGY, BASELINE, n_labeled_baseline=[1, 2, 3, 4])
    with pytest.raises(ValueError, match="n_labeled_baseline must be strictly increasing"):
        labeling_efficiency(N3, STRATEGY, BASELINE, n_labeled_baseline=[3, 2, 1])
    with pytest.raises(ValueError, match="target must be a finite"):
        labeling_efficiency(N3, STRATEGY, BASELINE, target=np.inf)


# -- labeling_efficiency_curve -----------------------------------------------------


def test_labeling_efficiency_curve_hand_computed():
    targets, efficiency = labeling_efficiency_curve(N3, STRATEGY, BASELINE, n_targets=3)
    np.testing.assert_allclose(targets, [0.6, 0.7, 0.8])
    np.testing.assert_allclose(efficiency, [1.0, 200 / 150, 300 / 200])


def test_labeling_efficiency_curve_range_and_agreement_with_single_targets():
    scores = [0.55, 0.7, 0.9, 0.95]
    baseline = [0.6, 0.65, 0.7, 0.85]
    n = [10, 20, 30, 40]
    targets, efficiency = labeling_efficiency_curve(n, scores, baseline, n_targets=7)
    assert targets.shape == efficiency.shape == (7,)
    # from the higher start (0.6) to the highest score both reach (0.85)
    assert targets[0] == pytest.approx(0.6) and targets[-1] == pytest.approx(0.85)
    np.testing.assert_allclose(np.diff(targets), 0.25 / 6)
    for t, e in zip(targets, efficiency):
        assert e == pytest.approx(labeling_efficiency(n, scores, baseline, target=t))
    assert np.all(np.isfinite(efficiency))


def test_labeling_efficiency_curve_equal_curves_is_all_ones():
    targets, efficiency = labeling_efficiency_curve(N3, BASELINE, BASELINE)
    assert targets.shape == (50,)
    np.testing.assert_array_equal(efficiency, np.ones(50))


def test_labeling_efficiency_curve_empty_when_one_curve_starts_above_the_other():
    targets, efficiency = labeling_efficiency_curve(N3, [0.9, 0.92, 0.95], BASELINE)
    assert targets.shape == efficiency.shape == (0,)


def test_labeling_efficiency_curve_n_targets_is_validated():
    with pytest.raises(ValueError, match="'n_targets' parameter"):
        labeling_efficiency_curve(N3, STRATEGY, BASELINE, n_targets=0)


# -- area_under_learning_curve -----------------------------------------------------


def test_aulc_of_a_constant_curve_is_the_constant():
    result = area_under_learning_curve([10, 15, 40, 100], [0.7] * 4)
    assert isinstance(result, float)
    assert result == pytest.approx(0.7)


def test_aulc_of_a_linear_ramp_is_its_midpoint():
    n = np.array([20, 30, 60, 65, 120])
    scores = 0.3 + 0.005 * n  # 0.4 at 20 labels, 0.9 at 120
    assert area_under_learning_curve(n, scores) == pytest.approx((0.4 + 0.9) / 2)
    assert area_under_learning_curve(n, scores, normalize=False) == pytest.approx(0.65 * 100)


def test_aulc_hand_computed_trapezoids():
    # 10 * (0 + 1) / 2 + 20 * (1 + 1) / 2 = 25 over a range of 30
    assert area_under_learning_curve([0, 10, 30], [0, 1, 1], normalize=False) == 25.0
    assert area_under_learning_curve([0, 10, 30], [0, 1, 1]) == pytest.approx(25 / 30)


def test_aulc_of_a_single_round():
    assert area_under_learning_curve([50], [0.42]) == 0.42
    assert area_under_learning_curve([50], [0.42], normalize=False) == 0.0
    np.testing.assert_array_equal(area_under_learning_curve([50], [[0.4], [0.6]]), [0.4, 0.6])


def test_aulc_2d_gives_one_value_per_trial_and_nan_for_a_nan_trial():
    scores = np.array([[0.5, 0.7, 0.9], [0.6, 0.6, 0.6], [np.nan, np.nan, np.nan]])
    result = area_under_learning_curve([0, 100, 200], scores)
    assert result.shape == (3,)
    np.testing.assert_allclose(result[:2], [0.7, 0.6])
    assert np.isnan(result[2])


def test_aulc_bad_input():
    with pytest.raises(ValueError, match="strictly increasing"):
        area_under_learning_curve([10, 5], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"shape \(2,\) or \(n_trials, 2\)"):
        area_under_learning_curve([10, 20], [[[0.1, 0.2]]])
    with pytest.raises(ValueError, match="'normalize' parameter"):
        area_under_learning_curve([10, 20], [0.1, 0.2], normalize="yes")


# -- penalty_matrix ------------------------------------------------------------------


@pytest.fixture(scope="module")
def clear_winner():
    """10 trials, 6 rounds: a = b + 0.05 + small noise."""
    rng = np.random.RandomState(0)
    b = np.linspace(0.5, 0.8, 6) + rng.normal(0, 0.02, size=(10, 6))
    a = b + 0.05 + rng.normal(0, 0.005, size=(10, 6))
    return a, b


def test_penalty_matrix_clear_winner(clear_winner):
    a, b = clear_winner
    names, P = penalty_matrix({"a": a, "b": b})
    assert names == ["a", "b"]
    np.testing.assert_array_equal(P, [[0.0, 1.0], [0.0, 0.0]])
    names, P = penalty_matrix({"b": b, "a": a})  # names keep the dict's order
    assert names == ["b", "a"]
    np.testing.assert_array_equal(P, [[0.0, 0.0], [1.0, 0.0]])


def test_penalty_matrix_ties_are_no_wins(clear_winner):
    a, b = clear_winner
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from the undefined tests
        names, P = penalty_matrix({"a": a, "b": b, "b_again": b.copy()})
    assert names == ["a", "b", "b_again"]
    np.testing.assert_array_equal(P, [[0, 1, 1], [0, 0, 0], [0, 0, 0]])


def test_penalty_matrix_constant_nonzero_difference_is_a_win():
    # differences exactly 0.25 in every trial: zero variance, p -> 0; "a" is ahead
    # by the same margin in every trial of every round, so it wins every round
    b = np.arange(12).reshape(4, 3) / 16
    names, P = penalty_matrix({"a": b + 0.25, "b": b})
    np.testing.assert_array_equal(P, [[0, 1], [0, 0]])
    # ... and a constant zero difference (a tie) is a win for neither
    names, P = penalty_matrix({"a": b.copy(), "b": b})
    np.testing.assert_array_equal(P, np.zeros((2, 2)))


def test_penalty_matrix_single_trial_is_all_zeros(clear_winner):
    a, b = clear_winner
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        names, P = penalty_matrix({"a": a[:1], "b": b[:1], "c": b[:1] - 0.3})
    np.testing.assert_array_equal(P, np.zeros((3, 3)))


def test_penalty_matrix_matches_a_t_test_by_hand():
    rng = np.random.RandomState(1)
    n_trials, n_rounds = 5, 8
    b = rng.uniform(0.5, 0.8, size=(n_trials, n_rounds))
    # the gap grows from 0 to 0.04 while the noise stays: some rounds are significant
    a = b + np.linspace(0, 0.04, n_rounds) + rng.normal(0, 0.015, size=(n_trials, n_rounds))
    for alpha in (0.05, 0.2):
        names, P = penalty_matrix({"a": a, "b": b}, alpha=alpha)
        wins_a = wins_b = 0
        for r in range(n_rounds):
            p = ttest_rel(a[:, r], b[:, r]).pvalue  # the test for one round, by hand
            wins_a += p < alpha and a[:, r].mean() > b[:, r].mean()
            wins_b += p < alpha and b[:, r].mean() > a[:, r].mean()
        assert 0 < wins_a < n_rounds  # a discriminating case: neither all nor none
        assert P[0, 1] == pytest.approx(wins_a / n_rounds)
        assert P[1, 0] == pytest.approx(wins_b / n_rounds)
        assert P[0, 0] == P[1, 1] == 0


def test_penalty_matrix_one_round_by_hand():
    a = np.array([[0.80], [0.82], [0.79], [0.85]])
    b = np.array([[0.75], [0.80], [0.78], [0.80]])
    # differences 0.05, 0.02, 0.01, 0.05: t = 0.0325 / (0.0206 / 2) = 3.16, p = 0.051
    p = ttest_rel(a[:, 0], b[:, 0]).pvalue
    assert 0.05 < p < 0.06
    assert penalty_matrix({"a": a, "b": b}, alpha=0.05)[1][0, 1] == 0.0
    assert penalty_matrix({"a": a, "b": b}, alpha=0.06)[1][0, 1] == 1.0


def test_penalty_matrix_leaves_out_nan_trials(clear_winner):
    a, b = clear_winner
    a_nan = a.copy()
    a_nan[3] = np.nan  # a failed trial of a
    a_nan[5, 2] = np.nan  # a round a trial did not reach
    _, P = penalty_matrix({"a": a_nan, "b": b})
    np.testing.assert_array_equal(P, [[0.0, 1.0], [0.0, 0.0]])
    # a round with a single valid pair is undefined: no win there
    a_sparse = np.full_like(a, np.nan)
    a_sparse[0] = a[0]
    a_sparse[1, :3] = a[1, :3]
    _, P = penalty_matrix({"a": a_sparse, "b": b})
    np.testing.assert_array_equal(P, [[0.0, 0.5], [0.0, 0.0]])


def test_penalty_matrix_bad_input(clear_winner):
    a, b = clear_winner
    with pytest.raises(ValueError, match="scores is empty"):
        penalty_matrix({})
    with pytest.raises(ValueError, match=r"scores\['b'\] has shape \(10, 5\)"):
        penalty_matrix({"a": a, "b": b[:, :5]})
    with pytest.raises(ValueError, match=r"values\[np.newaxis, :\]"):
        penalty_matrix({"a": a[0], "b": b[0]})
    with pytest.raises(ValueError, match="'alpha' parameter"):
        penalty_matrix({"a": a, "b": b}, alpha=1.5)
    with pytest.raises(ValueError, match="'scores' parameter"):
        penalty_matrix([a, b])


# -- make_learning_curve_scorer ----------------------------------------------------


@pytest.fixture(scope="module")
def digits_data():
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600], X[600:900], y[600:900]


def make_learner(**params):
    return ActiveLearner(
        LogisticRegression(max_iter=200), keep_estimators=True, initial_size=20,
        batch_size=20, budget=80, random_state=0, **params,
    )


def hand_aulc(learner, X, y, score=None):
    """Score every kept round by hand; trapezoids over history_['n_labeled']."""
    n = learner.history_["n_labeled"]
    s = np.array([
        est.score(X, y) if score is None else score(y, est.predict(X))
        for est in learner.round_estimators_
    ])
    area = sum((n[i + 1] - n[i]) * (s[i] + s[i + 1]) / 2 for i in range(len(n) - 1))
    return area / (n[-1] - n[0]), s


def test_scorer_in_grid_search_matches_a_recomputation(digits_data):
    X, y, X_test, y_test = digits_data
    scorer = make_learning_curve_scorer()
    cv = list(KFold(2, shuffle=True, random_state=0).split(X))
    grid = {"strategy": [EntropySampling(), RandomSampling(random_state=0)]}
    search = GridSearchCV(
        make_learner(), grid, scoring=scorer, cv=cv, refit=False, error_score="raise"
    ).fit(X, y)
    test_scores = search.cv_results_["mean_test_score"]
    assert test_scores.shape == (2,)
    assert np.all(np.isfinite(test_scores)) and np.all((test_scores > 0) & (test_scores <= 1))

    # one cell of cv_results_, recomputed from a learner fitted by hand on that fold
    train, test = cv[1]
    learner = clone(make_learner()).set_params(strategy=RandomSampling(random_state=0))
    learner.fit(X[train], y[train])
    assert len(learner.round_estimators_) == len(learner.history_["n_labeled"]) == 4
    expected, _ = hand_aulc(learner, X[test], y[test])
    assert search.cv_results_["split1_test_score"][1] == pytest.approx(expected)

    # the same learner, on held-out data, with every metric
    expected, per_round = hand_aulc(learner, X_test, y_test)
    assert scorer(learner, X_test, y_test) == pytest.approx(expected)
    # with 20-label steps, the normalized area is (s0/2 + s1 + s2 + s3/2) / 3
    weights = np.array([0.5, 1, 1, 0.5]) / 3
    assert scorer(learner, X_test, y_test) == pytest.approx(per_round @ weights)
    assert not np.allclose(per_round, per_round[0])  # a curve, not a constant
    final = make_learning_curve_scorer("final")(learner, X_test, y_test)
    assert final == pytest.approx(learner.score(X_test, y_test))
    assert final == pytest.approx(per_round[-1])
    mean = make_learning_curve_scorer("mean")(learner, X_test, y_test)
    assert mean == pytest.approx(per_round.mean())
    n_labeled, scores = scorer.round_scores(learner, X_test, y_test)
    np.testing.assert_array_equal(n_labeled, [20, 40, 60, 80])
    np.testing.assert_allclose(scores, per_round)


def test_scorer_with_a_named_scoring(digits_data):
    X, y, X_test, y_test = digits_data
    learner = make_learner(strategy=EntropySampling()).fit(X, y)
    scorer = make_learning_curve_scorer("aulc", scoring="balanced_accuracy")
    expected, _ = hand_aulc(learner, X_test, y_test, score=balanced_accuracy_score)
    assert scorer(learner, X_test, y_test) == pytest.approx(expected)
    # sample weights reach every round's scorer: zero weight drops a sample
    weights = (np.arange(len(y_test)) < 100).astype(float)
    assert scorer(learner, X_test, y_test, sample_weight=weights) == pytest.approx(
        scorer(learner, X_test[:100], y_test[:100])
    )
    assert scorer(learner, X_test, y_test, sample_weight=weights) != pytest.approx(expected)


def test_scorer_on_a_pipeline_ending_in_an_active_learner(digits_data):
    X, y, X_test, y_test = digits_data
    pipe = make_pipeline(StandardScaler(), make_learner(strategy=EntropySampling()))
    pipe.fit(X, y)
    X_scaled = pipe[0].transform(X_test)
    expected, per_round = hand_aulc(pipe[-1], X_scaled, y_test)
    scorer = make_learning_curve_scorer()
    assert scorer(pipe, X_test, y_test) == pytest.approx(expected)
    # unscaled data would give other scores: the scorer did transform X
    assert not np.allclose(scorer.round_scores(pipe[-1], X_test, y_test)[1], per_round)
    assert make_learning_curve_scorer("final")(pipe, X_test, y_test) == pytest.approx(
        pipe.score(X_test, y_test)
    )
    search = GridSearchCV(
        pipe, {"activelearner__strategy": [EntropySampling(), RandomSampling(random_state=0)]},
        scoring=scorer, cv=2, error_score="raise",
    ).fit(X[:300], y[:300])
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_scorer_without_keep_estimators_says_how_to_fix_it(digits_data):
    X, y, X_test, y_test = digits_data
    learner = make_learner().set_params(keep_estimators=False).fit(X, y)
    assert not hasattr(learner, "round_estimators_")
    with pytest.raises(ValueError, match=r"Set keep_estimators=True on the ActiveLearner"):
        make_learning_curve_scorer()(learner, X_test, y_test)
    with pytest.raises(ValueError, match="keep_estimators=True"):
        GridSearchCV(
            make_learner().set_params(keep_estimators=False), {"batch_size": [20]},
            scoring=make_learning_curve_scorer(), cv=2, error_score="raise",
        ).fit(X[:200], y[:200])


def test_scorer_on_something_else_than_a_fitted_learner(digits_data):
    X, y, X_test, y_test = digits_data
    scorer = make_learning_curve_scorer()
    with pytest.raises(ValueError, match=r"fitted ActiveLearner.*\(not fitted\)"):
        scorer(make_learner(), X_test, y_test)
    with pytest.raises(ValueError, match="got LogisticRegression"):
        scorer(LogisticRegression().fit(X, y), X_test, y_test)


def test_scorer_metric_is_validated_and_lists_the_valid_values():
    with pytest.raises(ValueError, match="'metric' parameter") as excinfo:
        make_learning_curve_scorer("auc")
    for name in ("aulc", "final", "mean"):
        assert name in str(excinfo.value)
    with pytest.raises(ValueError, match="'scoring' parameter"):
        make_learning_curve_scorer(scoring="not_a_scorer")


def test_scorer_repr_and_pickle(digits_data):
    X, y, X_test, y_test = digits_data
    scorer = make_learning_curve_scorer("mean", scoring="accuracy")
    assert repr(scorer) == "make_learning_curve_scorer(metric='mean', scoring='accuracy')"
    learner = make_learner(strategy=RandomSampling(random_state=0)).fit(X, y)
    restored = pickle.loads(pickle.dumps(scorer))
    assert restored(learner, X_test, y_test) == scorer(learner, X_test, y_test)


# -- negative scores: an error as its "neg_" scorer gives it ---------------------------
# Tiny curves of negative RMSE, greater is better, with the values worked out by hand.

RMSE_RANDOM = [-4.0, -3.0, -2.0]
RMSE_STRATEGY = [-4.0, -2.0, -1.5]


def test_labels_to_reach_a_negative_rmse():
    # RMSE 2.5: between rounds 0 and 1 for the strategy, 10 + 1.5 / 2 * 10
    assert labels_to_reach(N, RMSE_STRATEGY, -2.5) == 17.5
    # and between rounds 1 and 2 for random, 20 + 0.5 / 1 * 20
    assert labels_to_reach(N, RMSE_RANDOM, -2.5) == 30.0
    assert labels_to_reach(N, RMSE_RANDOM, -4.5) == 10.0  # already there at the start
    assert labels_to_reach(N, RMSE_RANDOM, -1.0) == math.inf  # RMSE 1 is never reached


def test_labeling_efficiency_of_negative_rmse_curves():
    # default target: the best RMSE both reach, 2.0 (random's), at 40 vs 20 labels
    assert labeling_efficiency(N, RMSE_STRATEGY, RMSE_RANDOM) == 2.0
    assert labeling_efficiency(N, RMSE_STRATEGY, RMSE_RANDOM, target=-2.5) == pytest.approx(
        30.0 / 17.5)
    # the other way round, random is the less efficient
    assert labeling_efficiency(N, RMSE_RANDOM, RMSE_STRATEGY) == 0.5
    targets, efficiency = labeling_efficiency_curve(N, RMSE_STRATEGY, RMSE_RANDOM, n_targets=3)
    np.testing.assert_allclose(targets, [-4.0, -3.0, -2.0])
    # at RMSE 3: random needs 20 labels, the strategy 10 + 1 / 2 * 10 = 15
    np.testing.assert_allclose(efficiency, [1.0, 20.0 / 15.0, 2.0])


def test_labeling_efficiency_is_unchanged_by_a_shift_of_the_scores():
    """Greater is better whatever the sign: shifting both curves changes nothing."""
    shifted = labeling_efficiency(N, np.add(RMSE_STRATEGY, 10), np.add(RMSE_RANDOM, 10),
                                  target=7.5)
    assert shifted == labeling_efficiency(N, RMSE_STRATEGY, RMSE_RANDOM, target=-2.5)


def test_area_under_a_negative_rmse_curve():
    # trapezoids: 10 * (-4 - 2) / 2 + 20 * (-2 - 1.5) / 2 = -30 - 35
    assert area_under_learning_curve(N, RMSE_STRATEGY, normalize=False) == -65.0
    # normalized by the label range only (40 - 10): the mean negative RMSE
    assert area_under_learning_curve(N, RMSE_STRATEGY) == pytest.approx(-65.0 / 30.0)
    assert area_under_learning_curve(N, RMSE_RANDOM) == pytest.approx(-85.0 / 30.0)
    # the area of the negated errors is the negated area of the errors
    rmse = -np.array([RMSE_STRATEGY, RMSE_RANDOM])
    np.testing.assert_allclose(area_under_learning_curve(N, -rmse),
                               -area_under_learning_curve(N, rmse))


def test_penalty_matrix_with_negative_scores():
    noise = np.array([[0.1, 0.0, 0.2], [-0.1, 0.1, 0.0], [0.0, -0.2, 0.1], [0.2, 0.1, -0.1]])
    random = np.array(RMSE_RANDOM) + noise
    # the same trials, half an RMSE unit better from round 1 on: a constant gap
    strategy = random + np.array([0.0, 0.5, 0.5])
    names, P = penalty_matrix({"random": random, "strategy": strategy})
    np.testing.assert_array_equal(P, [[0.0, 0.0], [2 / 3, 0.0]])
    # with noise in the gap, the wins are those of a paired t-test by hand
    strategy = strategy + noise[::-1] / 4
    _, P = penalty_matrix({"random": random, "strategy": strategy}, alpha=0.05)
    wins = [ttest_rel(strategy[:, r], random[:, r]).pvalue < 0.05
            and strategy[:, r].mean() > random[:, r].mean() for r in range(3)]
    assert P[1, 0] == pytest.approx(np.mean(wins)) and P[0, 1] == 0.0
    assert P[1, 0] > 0
