"""The evaluation layer with regressors: trials, comparisons, scorers and plots.

Scores follow scikit-learn's scorer convention (greater is better): a
``neg_`` scorer gives negative values, and every comparison must read them so.
Reference values are computed here from the returned curves, never recorded.
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import KFold, cross_val_score
from sklearn.utils import check_random_state
from skorch import NeuralNetRegressor

from skal import ActiveLearner, CoreSet, EntropySampling, KMeansSampling, RandomSampling
from skal.metrics import area_under_learning_curve, make_learning_curve_scorer, penalty_matrix
from skal.model_selection import active_learning_curve, compare_strategies
from skal.utils._random import draw_seed

RMSE = "neg_root_mean_squared_error"


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=300, n_features=10, noise=0.5, random_state=0)
    return X, y


def _learner(**params):
    defaults = dict(initial_size=20, batch_size=20, budget=80, random_state=0, scoring=RMSE)
    return ActiveLearner(Ridge(), **{**defaults, **params})


def _strategies():
    return [RandomSampling(), CoreSet(), KMeansSampling(random_state=0)]


@pytest.fixture(scope="module")
def comparison(friedman):
    X, y = friedman
    return compare_strategies(_learner(), _strategies(), X, y, cv=3, random_state=0, n_jobs=1)


# -- reference computations, one round at a time -------------------------------------


def _reference_labels_to_reach(n_labeled, curve, target):
    """First crossing of ``target`` (greater is better), linear between rounds."""
    for i, score in enumerate(curve):
        if score >= target:
            if i == 0:
                return float(n_labeled[0])
            fraction = (target - curve[i - 1]) / (score - curve[i - 1])
            return float(n_labeled[i - 1] + fraction * (n_labeled[i] - n_labeled[i - 1]))
    return np.inf


def _reference_aulc(n_labeled, curve):
    area = sum((n_labeled[i + 1] - n_labeled[i]) * (curve[i] + curve[i + 1]) / 2
               for i in range(len(curve) - 1))
    return area / (n_labeled[-1] - n_labeled[0])


# -- compare_strategies ---------------------------------------------------------------


def test_comparison_of_regression_strategies_keeps_the_scorer_sign(comparison, friedman):
    X, y = friedman
    assert comparison.names == ["RandomSampling", "CoreSet", "KMeansSampling"]
    assert comparison.scoring == RMSE
    np.testing.assert_array_equal(comparison.n_labeled, [20, 40, 60, 80])
    for name in comparison.names:
        scores = comparison.scores[name]
        assert scores.shape == (3, 4) and np.all(scores < 0)  # negative RMSE
    # identical initial sets: round 0 agrees across strategies, trial by trial
    round0 = [comparison.scores[name][:, 0] for name in comparison.names]
    np.testing.assert_array_equal(round0[0], round0[1])
    np.testing.assert_array_equal(round0[0], round0[2])
    # a trial is a learner fitted on a plain KFold split: its last score, refitted by hand,
    # is minus the RMSE of a Ridge on the labeled samples
    rng = check_random_state(0)
    seeds = draw_seed(rng, size=3)
    assert [t["seed"] for t in comparison.trials] == seeds.tolist()
    train, test = next(KFold(3).split(X, y))
    learner = clone(_learner()).set_params(
        strategy=CoreSet(), random_state=int(seeds[0]), estimator__random_state=int(seeds[0])
    ).fit(X[train], y[train], X_val=X[test], y_val=y[test])
    np.testing.assert_allclose(learner.history_["score"], comparison.scores["CoreSet"][0])
    refit = Ridge().fit(X[train][learner.labeled_indices_], y[train][learner.labeled_indices_])
    rmse = np.sqrt(np.mean((refit.predict(X[test]) - y[test]) ** 2))
    assert comparison.scores["CoreSet"][0, -1] == pytest.approx(-rmse)


def test_efficiency_area_and_penalty_read_greater_as_better(comparison):
    n = comparison.n_labeled
    baseline = np.nanmean(comparison.scores["RandomSampling"], axis=0)
    for name in comparison.names:
        curve = np.nanmean(comparison.scores[name], axis=0)
        target = min(curve.max(), baseline.max())  # the best RMSE both reach, negated
        expected = (_reference_labels_to_reach(n, baseline, target)
                    / _reference_labels_to_reach(n, curve, target))
        assert comparison.efficiency_summary[name] == pytest.approx(expected)
        np.testing.assert_allclose(
            comparison.aulc[name],
            [_reference_aulc(n, trial) for trial in comparison.scores[name]],
        )
        assert np.all(comparison.aulc[name] < 0)
    assert comparison.efficiency_summary["RandomSampling"] == 1.0
    _, P = penalty_matrix(comparison.scores, alpha=comparison.alpha)
    np.testing.assert_array_equal(comparison.penalty, P)


def test_summary_of_a_regression_comparison(comparison):
    rows = comparison.summary(as_frame=False)
    assert list(rows[0]) == [
        "strategy", "final_score_mean", "final_score_std", "labeling_efficiency",
        "aulc_mean", "aulc_std", "query_time_mean", "fit_time_mean",
        "strategies_beaten_per_round", "n_failed_trials",
    ]
    for row in rows:
        final = comparison.scores[row["strategy"]][:, -1]
        assert row["final_score_mean"] == pytest.approx(final.mean()) and final.mean() < 0
        assert row["aulc_mean"] == pytest.approx(comparison.aulc[row["strategy"]].mean())
        assert row["n_failed_trials"] == 0
    html = comparison._repr_html_()
    assert f"scoring <code>{RMSE}</code>" in html


@pytest.mark.parametrize("backend", [
    "threading",
    # starts a pool of worker processes: the point is the real run
    pytest.param("loky", marks=pytest.mark.slow),
])
def test_same_random_state_same_regression_comparison_whatever_n_jobs(
    comparison, friedman, backend
):
    from joblib import parallel_config

    X, y = friedman
    with parallel_config(backend=backend):
        parallel = compare_strategies(_learner(), _strategies(), X, y, cv=3, random_state=0,
                                      n_jobs=2)
    for name in comparison.names:
        np.testing.assert_array_equal(parallel.scores[name], comparison.scores[name])
    assert parallel.trials == comparison.trials


def test_default_folds_of_a_regressor_are_plain_kfold(friedman):
    X, y = friedman
    learner = _learner(strategy=RandomSampling(), budget=40)
    curves = active_learning_curve(learner, X, y, random_state=0)  # cv=None: 5 folds
    assert curves["test_scores"].shape == (5, 2)
    rng = check_random_state(0)
    folds = KFold(5, shuffle=True, random_state=draw_seed(rng))
    seed = int(draw_seed(rng, size=5)[0])
    train, test = next(folds.split(X, y))
    fitted = clone(learner).set_params(random_state=seed, estimator__random_state=seed).fit(
        X[train], y[train], X_val=X[test], y_val=y[test])
    np.testing.assert_allclose(curves["test_scores"][0], fitted.history_["score"])


def test_whole_number_targets_are_not_stratified():
    """Diabetes targets are whole numbers: check_cv(classifier=True) would stratify them."""
    X, y = load_diabetes(return_X_y=True)
    learner = _learner(strategy=RandomSampling(), budget=40)
    curves = active_learning_curve(learner, X, y, cv=3, random_state=0)
    seed = curves["trials"][0]["seed"]
    train, test = next(KFold(3).split(X, y))
    fitted = clone(learner).set_params(random_state=seed, estimator__random_state=seed).fit(
        X[train], y[train], X_val=X[test], y_val=y[test])
    np.testing.assert_allclose(curves["test_scores"][0], fitted.history_["score"])


def test_default_score_of_a_regressor_is_r2(friedman):
    X, y = friedman
    learner = _learner(strategy=CoreSet(), scoring=None, budget=40)
    default = active_learning_curve(learner, X, y, cv=3, random_state=0)["test_scores"]
    r2 = active_learning_curve(learner, X, y, cv=3, random_state=0, scoring="r2")
    np.testing.assert_array_equal(default, r2["test_scores"])
    assert np.all(default < 1)


def test_regression_scorers_of_any_sign(friedman):
    X, y = friedman
    learner = _learner(strategy=CoreSet(), budget=40)
    mae = active_learning_curve(learner, X, y, cv=3, random_state=0,
                                scoring="neg_mean_absolute_error")["test_scores"]
    rmse = active_learning_curve(learner, X, y, cv=3, random_state=0)["test_scores"]
    assert np.all(mae < 0) and np.all(mae >= rmse)  # MAE <= RMSE, negated


def test_a_classification_strategy_fails_before_any_trial(friedman):
    X, y = friedman
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no FitFailedWarning: no trial ran
        with pytest.raises(ValueError, match=r"EntropySampling needs a classifier.*For "
                           r"regression use one of: .*CoreSet.*RandomSampling"):
            compare_strategies(_learner(), [CoreSet(), EntropySampling()], X, y, cv=3)
        with pytest.raises(ValueError, match="strategy=None means EntropySampling"):
            active_learning_curve(_learner(), X, y, cv=3)
        # a classification strategy inside a switch or a stochastic batch: the same, at once
        for name, inner in (("random>badge@40", "BADGE"), ("power-entropy", "EntropySampling")):
            with pytest.raises(ValueError, match=f"{inner} needs a classifier.*For regression"):
                compare_strategies(_learner(), [name], X, y, cv=3)
    switched = compare_strategies(_learner(budget=60), ["random>coreset@40"], X, y, cv=3,
                                  random_state=0)
    assert switched.names == ["RandomSampling", "random>coreset@40"]
    assert np.all(np.isfinite(switched.scores["random>coreset@40"]))


def test_unlabeled_targets_are_refused_and_arrays_are_not_mutated(friedman):
    X, y = friedman
    X_before, y_before = X.copy(), y.copy()
    compare_strategies(_learner(budget=40), ["random"], X, y, cv=3, random_state=0)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    y_nan = y.copy()
    y_nan[7] = np.nan
    with pytest.raises(ValueError, match=r"y has 1 missing value\(s\).*first at y\[7\]"):
        compare_strategies(_learner(), ["random"], X, y_nan, cv=3)
    with pytest.raises(ValueError, match=r"y_test has 1 missing value\(s\).*y_test\[7\].*"
                       r"X_test, y_test = X_test\[keep\], y_test\[keep\]"):
        active_learning_curve(_learner(strategy=RandomSampling()), X[200:], y[200:],
                              X_test=X[:200], y_test=y_nan[:200])


def test_a_scorer_the_regressor_cannot_serve_names_regression_scorers(friedman):
    X, y = friedman
    with pytest.raises(ValueError, match=r"scoring='neg_log_loss' needs predict_proba.*"
                       r"Choose another scoring \(e\.g\. 'r2' or "
                       r"'neg_root_mean_squared_error'\)\."):
        compare_strategies(_learner(), ["coreset"], X, y, cv=3, scoring="neg_log_loss")


# -- the warm-up fit --------------------------------------------------------------------


class _RecordingRidge(Ridge):
    fits = []

    def fit(self, X, y, sample_weight=None):
        type(self).fits.append(np.shape(y))
        return super().fit(X, y, sample_weight)


class _Module(torch.nn.Module):
    def __init__(self, n_in=10):
        super().__init__()
        self.out = torch.nn.Linear(n_in, 1)

    def forward(self, X):
        return self.out(X)


class _RecordingNet(NeuralNetRegressor):
    targets = []

    def fit(self, X, y=None, **fit_params):
        type(self).targets.append((np.shape(y), np.asarray(y).dtype))
        return super().fit(X, y, **fit_params)


def test_warm_up_fits_a_regressor_on_a_few_targets(friedman):
    from skal.model_selection import _warm_up

    X, y = friedman
    _warm_up(_RecordingRidge(), X, y)
    assert _RecordingRidge.fits == [(6,)]
    net = _RecordingNet(_Module, max_epochs=1, train_split=None, verbose=0)
    _warm_up(net, X.astype(np.float32), y)
    # skorch's regressor takes a float32 column: the warm-up fit did not fail silently
    assert _RecordingNet.targets == [((6, 1), np.dtype(np.float32))]


# -- the learning-curve scorer ------------------------------------------------------------


def test_learning_curve_scorer_with_a_regression_learner(friedman):
    X, y = friedman
    learner = _learner(strategy=CoreSet(), keep_estimators=True, budget=60)
    scorer = make_learning_curve_scorer("aulc", scoring="neg_mean_absolute_error")
    scores = cross_val_score(learner, X, y, cv=3, scoring=scorer)
    assert scores.shape == (3,) and np.all(scores < 0)
    fitted = clone(learner).fit(X[:200], y[:200])
    n_labeled, per_round = scorer.round_scores(fitted, X[200:], y[200:])
    expected = [-mean_absolute_error(y[200:], est.predict(X[200:]))
                for est in fitted.round_estimators_]
    np.testing.assert_allclose(per_round, expected)
    assert scorer(fitted, X[200:], y[200:]) == pytest.approx(
        area_under_learning_curve(n_labeled, per_round))
    # a partly labeled held-out y: NaN marks the unlabeled targets, left out of the score
    y_part = y[200:].copy()
    y_part[:50] = np.nan
    with pytest.warns(UserWarning, match="50"):
        _, partial = scorer.round_scores(fitted, X[200:], y_part)
    expected = [-mean_absolute_error(y[250:], est.predict(X[250:]))
                for est in fitted.round_estimators_]
    np.testing.assert_allclose(partial, expected)


# -- plots --------------------------------------------------------------------------------


def test_plots_of_a_regression_comparison(comparison, tmp_path):
    from matplotlib.figure import Figure

    from skal.plotting import plot_learning_curves, save_comparison_plots

    ax = plot_learning_curves(comparison, ax=Figure().add_subplot())
    assert ax.get_ylabel() == f"test {RMSE} (greater is better)"
    line = ax.get_lines()[1]  # CoreSet: the mean curve as the scorer gives it, negative
    np.testing.assert_allclose(line.get_ydata(), comparison.scores["CoreSet"].mean(axis=0))
    paths = save_comparison_plots(comparison, tmp_path)
    for path in paths.values():
        assert path.read_bytes()[:4] == b"\x89PNG"
