"""Learning curves across trials, strategy comparison, parallel backends, bad input."""


import sys
import types
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from skal import BADGE, ActiveLearner, EntropySampling, RandomSampling
from skal.datasets import make_redundant
from skal.metrics import penalty_matrix
from skal.model_selection import (
    StrategyComparison,
    active_learning_curve,
    compare_strategies,
    resolve_strategy,
)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def _learner(**params):
    defaults = dict(initial_size=6, batch_size=6, budget=30)
    return ActiveLearner(LogisticRegression(max_iter=300), MarginSampling_(), **{**defaults, **params})


def MarginSampling_():
    from skal import MarginSampling

    return MarginSampling()


def test_curve_shapes_and_trials(iris):
    X, y = iris
    curves = active_learning_curve(_learner(), X, y, cv=3, n_repeats=2, random_state=0)
    np.testing.assert_array_equal(curves["n_labeled"], [6, 12, 18, 24, 30])
    for key in ("test_scores", "fit_times", "query_times"):
        assert curves[key].shape == (6, 5)
    assert np.all(np.isnan(curves["query_times"][:, 0]))
    assert np.all(curves["query_times"][:, 1:] >= 0)
    assert [(t["fold"], t["repeat"]) for t in curves["trials"]] == [
        (f, r) for r in range(2) for f in range(3)
    ]
    assert len({t["seed"] for t in curves["trials"]}) == 6
    assert all(t["error"] is None for t in curves["trials"])


def test_trial_equals_a_hand_run(iris):
    """Trial 0 is exactly an ActiveLearner fit on its fold with its seed."""
    X, y = iris
    X_test, y_test = X[::3], y[::3]
    curves = active_learning_curve(_learner(), X, y, X_test=X_test, y_test=y_test,
                                   n_repeats=2, random_state=1)
    seed = curves["trials"][1]["seed"]
    by_hand = _learner(random_state=seed, scoring=None).fit(X, y, X_val=X_test, y_val=y_test)
    np.testing.assert_allclose(curves["test_scores"][1], by_hand.history_["score"])


@pytest.mark.slow  # starts a pool of worker processes: the point is the real run
def test_same_results_for_n_jobs_1_and_2(iris):
    X, y = iris
    one = active_learning_curve(_learner(), X, y, cv=3, n_repeats=2, random_state=0, n_jobs=1)
    two = active_learning_curve(_learner(), X, y, cv=3, n_repeats=2, random_state=0, n_jobs=2)
    np.testing.assert_array_equal(one["test_scores"], two["test_scores"])
    assert one["trials"] == two["trials"]


def test_compare_uses_identical_trials_and_adds_random(iris):
    X, y = iris
    comparison = compare_strategies(_learner(), ["entropy", BADGE()], X, y, cv=3,
                                    n_repeats=2, random_state=0)
    assert comparison.names == ["RandomSampling", "EntropySampling", "BADGE"]
    assert comparison.baseline == "RandomSampling"
    # same initial set everywhere: round-0 scores agree across strategies
    r0 = np.array([comparison.scores[n][:, 0] for n in comparison.names])
    np.testing.assert_array_equal(r0, np.repeat(r0[:1], 3, axis=0))
    names, P = penalty_matrix(comparison.scores)
    np.testing.assert_array_equal(P, comparison.penalty)
    import pandas as pd  # a test dependency: summary() is a DataFrame
    summary = comparison.summary()
    assert summary["strategy"].tolist() == comparison.names
    assert summary.loc[0, "labeling_efficiency"] == pytest.approx(1.0)
    pd.testing.assert_frame_equal(summary, pd.DataFrame(comparison.summary(as_frame=False)))
    records = comparison.to_records()
    assert len(records) == 3 * 6 * 5
    frame = comparison.to_frame()
    assert set(frame.columns) >= {"strategy", "trial", "seed", "round", "n_labeled", "score"}


def test_compare_keeps_given_random_baseline_first(iris):
    X, y = iris
    comparison = compare_strategies(
        _learner(), {"entropy": EntropySampling(), "rnd": RandomSampling(random_state=3)},
        X, y, cv=3, random_state=0,
    )
    assert comparison.names == ["rnd", "entropy"]
    assert comparison.baseline == "rnd"


@pytest.mark.slow  # starts a Dask cluster of two processes: the point is the real run
def test_dask_cluster_gives_the_local_results(iris):
    distributed = pytest.importorskip("distributed")  # a test dependency: always there in CI
    from joblib import parallel_config

    X, y = iris
    local = compare_strategies(_learner(), ["entropy"], X, y, cv=3, n_repeats=2,
                               random_state=0)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster):
            with parallel_config(backend="dask"):
                remote = compare_strategies(_learner(), ["entropy"], X, y, cv=3,
                                            n_repeats=2, random_state=0)
    for name in local.names:
        np.testing.assert_array_equal(local.scores[name], remote.scores[name])


class _Flaky(BaseEstimator, ClassifierMixin):
    """LogisticRegression that fails when fitted with a given random_state."""

    def __init__(self, fail_seed=None, random_state=None):
        self.fail_seed = fail_seed
        self.random_state = random_state

    def fit(self, X, y):
        if self.random_state == self.fail_seed:
            raise RuntimeError("boom")
        self.model_ = LogisticRegression(max_iter=300).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_a_crashed_trial_is_reported_and_others_kept(iris):
    X, y = iris
    ok = active_learning_curve(_learner(), X, y, cv=3, random_state=0)
    bad_seed = ok["trials"][1]["seed"]
    learner = ActiveLearner(_Flaky(fail_seed=bad_seed), EntropySampling(),
                            initial_size=6, batch_size=6, budget=30)
    with pytest.warns(FitFailedWarning) as record:
        curves = active_learning_curve(learner, X, y, cv=3, random_state=0)
    assert len(record) == 1 and issubclass(record[0].category, RuntimeWarning)
    message = str(record[0].message)
    assert "1 trial failed out of a total of 3." in message
    assert "set to nan" in message and "error_score='raise'" in message
    assert "1 trial failed with the following error:\nRuntimeError: boom" in message
    assert f"trial 1 (fold 1, repeat 0, seed {bad_seed})" in message
    assert record[0].filename == __file__  # points at the caller's line
    assert curves["trials"][1]["error"] == "RuntimeError: boom"
    assert np.all(np.isnan(curves["test_scores"][1]))
    assert np.all(np.isfinite(curves["test_scores"][[0, 2]]))
    with pytest.raises(RuntimeError, match="boom"):
        active_learning_curve(learner, X, y, cv=3, random_state=0, error_score="raise")


def test_error_score_fills_the_failed_trials(iris):
    """As cross_validate: a numeric error_score is the failed trials' score."""
    X, y = iris
    bad_seed = active_learning_curve(_learner(), X, y, cv=3, random_state=0)["trials"][1]["seed"]
    learner = ActiveLearner(_Flaky(fail_seed=bad_seed), EntropySampling(),
                            initial_size=6, batch_size=6, budget=30)
    with pytest.warns(FitFailedWarning, match="set to 0.0"):
        curves = active_learning_curve(learner, X, y, cv=3, random_state=0, error_score=0.0)
    np.testing.assert_array_equal(curves["test_scores"][1], 0.0)
    assert np.all(np.isnan(curves["fit_times"][1]))  # no round ran: no time
    assert np.all(curves["test_scores"][[0, 2]] > 0.3)
    with pytest.warns(FitFailedWarning):
        comparison = compare_strategies(learner, ["entropy"], X, y, cv=3, random_state=0,
                                        error_score=0.0)
    for name in comparison.names:
        np.testing.assert_array_equal(comparison.scores[name][1], 0.0)
    rows = comparison.summary(as_frame=False)
    assert all(row["n_failed_trials"] == 1 for row in rows)
    expected = np.mean(comparison.scores["EntropySampling"][:, -1])  # the 0 counts
    assert rows[1]["final_score_mean"] == pytest.approx(expected)
    with pytest.raises(ValueError, match="error_score must be 'raise' or a number"):
        active_learning_curve(learner, X, y, cv=3, error_score="nan")


def test_failures_are_grouped_in_one_warning(iris):
    """Every failed run of every strategy is in one warning, grouped by error."""
    X, y = iris
    bad_seed = active_learning_curve(_learner(), X, y, cv=3, random_state=0)["trials"][2]["seed"]
    learner = ActiveLearner(_Flaky(fail_seed=bad_seed), initial_size=6, batch_size=6,
                            budget=30)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        comparison = compare_strategies(learner, ["entropy", "margin"], X, y, cv=3,
                                        random_state=0)
    failures = [w for w in record if issubclass(w.category, FitFailedWarning)]
    assert len(failures) == 1
    message = str(failures[0].message)
    assert "3 trials failed out of a total of 9." in message
    assert "3 trials failed with the following error:\nRuntimeError: boom" in message
    for name in comparison.names:
        assert f"trial 2 (strategy {name}, fold 2, repeat 0, seed {bad_seed})" in message
    assert len(comparison.errors) == 3


def test_every_trial_failing_raises(iris):
    """As cross_validate's "All the N fits failed": a ValueError, errors grouped."""
    X, y = iris

    class Broken(_Flaky):
        def fit(self, X, y):
            raise ValueError(f"bad fit ({len(y)} labels)")

    learner = ActiveLearner(Broken(), EntropySampling(), initial_size=6, batch_size=6,
                            budget=30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning before the error
        with pytest.raises(ValueError, match=r"All the 3 trials failed") as info:
            active_learning_curve(learner, X, y, cv=3, random_state=0, error_score=0.0)
        with pytest.raises(ValueError, match=r"All the 6 trials failed") as both:
            compare_strategies(learner, ["entropy"], X, y, cv=3, random_state=0)
    assert "3 trials failed with the following error:\nValueError: bad fit (6 labels)" in (
        str(info.value))
    assert "6 trials failed with the following error" in str(both.value)
    assert "error_score='raise'" in str(both.value)


def test_bad_input_fails_before_any_trial(iris):
    X, y = iris
    with pytest.raises(ValueError, match=r"Unknown strategy 'bogus'. Valid names: .*badge"):
        compare_strategies(_learner(), ["bogus"], X, y)
    with pytest.raises(ValueError, match=r"budget=500 is larger than the pool \(100 samples"):
        active_learning_curve(_learner(budget=500), X, y, cv=3)
    y_rare = y.copy()
    y_rare[:48] = 1  # class 0 keeps 2 samples
    with pytest.raises(ValueError, match=r"Class 0 has only 2 sample\(s\), fewer than the 5 folds"):
        active_learning_curve(_learner(), X, y_rare, cv=5)
    svc = ActiveLearner(LinearSVC(), RandomSampling(), initial_size=6, batch_size=6, budget=30)
    with pytest.raises(ValueError, match=r"scoring='neg_log_loss' needs predict_proba"):
        active_learning_curve(svc, X, y, cv=3, scoring="neg_log_loss")
    with pytest.raises(ValueError, match="learner must be an ActiveLearner"):
        active_learning_curve(LogisticRegression(), X, y)
    with pytest.raises(ValueError, match="either cv or"):
        active_learning_curve(_learner(), X, y, cv=3, X_test=X, y_test=y)


def test_resolve_strategy_aliases():
    assert type(resolve_strategy("least-confidence")).__name__ == "LeastConfidence"
    assert type(resolve_strategy("CoreSet")).__name__ == "CoreSet"


def test_redundant_pool_diversity_does_not_lose_to_entropy():
    """DISTIL §4.4 in miniature: with many exact duplicates, BADGE and CoreSet
    must not be significantly beaten by entropy sampling (penalty matrix)."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_pool, y_pool, source = make_redundant(X[:1300], y[:1300], n_unique=100,
                                            n_redundant=100, factor=10, random_state=0)
    learner = ActiveLearner(LogisticRegression(max_iter=300), initial_size=20,
                            batch_size=20, budget=140)
    comparison = compare_strategies(
        learner, ["entropy", "badge", "coreset"], X_pool, y_pool,
        X_test=X[1300:], y_test=y[1300:], n_repeats=6, random_state=0, n_jobs=2,
    )
    i = {n: k for k, n in enumerate(comparison.names)}
    P = comparison.penalty
    for diverse in ("BADGE", "CoreSet"):
        assert P[i["EntropySampling"], i[diverse]] == 0.0, comparison.summary().to_string()
    # and the redundancy does hurt entropy: it is beaten in some rounds
    assert P[i["BADGE"], i["EntropySampling"]] > 0


def _result(scores):
    """One strategy's entry of ``StrategyComparison``'s ``results``, from its scores."""
    scores = np.asarray(scores, dtype=float)
    return {"score": scores, "fit_time": np.zeros_like(scores),
            "query_time": np.zeros_like(scores), "errors": []}


def test_summary_column_says_what_it_counts():
    """The penalty matrix's row sum, named for what it is: the number of other
    strategies beaten in a round, on average (it may exceed 1)."""
    # 6 trials, 5 rounds; round 0 is the same initial set for every strategy
    # (a tie), then each strategy is 0.1 ahead of the one before it, far
    # beyond the noise: in 4 rounds of 5 it beats every strategy before it.
    names = ["RandomSampling", "EntropySampling", "MarginSampling", "BADGE"]
    rng = np.random.RandomState(0)
    curve = np.linspace(0.5, 0.7, 5) + 0.01 * rng.randn(6, 5)
    results = {}
    for k, name in enumerate(names):
        scores = curve + 0.005 * rng.randn(6, 5)
        scores[:, 0] = curve[:, 0]
        scores[:, 1:] += 0.1 * k
        results[name] = _result(scores)
    comparison = StrategyComparison(names, "RandomSampling", "accuracy",
                                    np.array([6, 12, 18, 24, 30]), results,
                                    [{"trial": t} for t in range(6)], alpha=0.05)
    rows = comparison.summary(as_frame=False)
    assert "wins" not in rows[0]
    for i, row in enumerate(rows):
        beaten = row["strategies_beaten_per_round"]
        assert beaten == pytest.approx(comparison.penalty[i].sum())
        assert 0 <= beaten <= len(rows) - 1
    expected = [0.0, 0.8, 1.6, 2.4]  # 0 to 3 others, in 4 rounds of 5
    assert [r["strategies_beaten_per_round"] for r in rows] == pytest.approx(expected)
    doc = StrategyComparison.summary.__doc__
    assert "strategies_beaten_per_round" in doc and "averaged over the" in doc


def test_default_budget_is_resolved_for_every_trial(iris):
    X, y = iris
    learner = ActiveLearner(LogisticRegression(max_iter=300), MarginSampling_(),
                            initial_size=6, batch_size=3)
    curves = active_learning_curve(learner, X, y, cv=3, random_state=0)
    # budget="auto": the initial set and 10 rounds
    np.testing.assert_array_equal(curves["n_labeled"], np.arange(6, 37, 3))


def test_a_plain_skorch_net_starts_every_strategy_from_the_same_net():
    """A user's own NeuralNetClassifier (no seed of its own, skorch's default
    train_split): round-0 scores are identical across strategies, trial by
    trial, and a rerun gives the same numbers."""
    import torch
    from skorch import NeuralNetClassifier

    from skal.learner import TrainSplitWarning
    from skal.toy import MLPClassifierModule

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    net = NeuralNetClassifier(
        MLPClassifierModule, module__n_features=64, module__n_classes=10,
        module__hidden_units=16, criterion=torch.nn.CrossEntropyLoss, max_epochs=3, lr=0.1,
        verbose=0,
    )
    learner = ActiveLearner(net, initial_size=20, batch_size=10, budget=40)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TrainSplitWarning)
            warnings.filterwarnings("ignore", message="The least populated class")
            return compare_strategies(
                learner, ["entropy", "badge"], X[:400], y[:400], X_test=X[400:700],
                y_test=y[400:700], n_repeats=2, random_state=0,
            )

    comparison = run()
    r0 = np.array([comparison.scores[n][:, 0] for n in comparison.names])
    np.testing.assert_array_equal(r0, np.repeat(r0[:1], len(comparison.names), axis=0))
    assert r0[0, 0] != r0[0, 1]  # trials differ from each other
    again = run()
    for name in comparison.names:
        np.testing.assert_array_equal(comparison.scores[name], again.scores[name])


def _comparison(n_trials=2):
    scores = np.tile([0.5, 0.6, 0.7], (n_trials, 1))
    return StrategyComparison(
        ["RandomSampling", "EntropySampling"], "RandomSampling", "accuracy",
        np.array([10, 20, 30]),
        {"RandomSampling": _result(scores), "EntropySampling": _result(scores + [0, 0.1, 0.1])},
        [{"trial": t} for t in range(n_trials)], alpha=0.05,
    )


def test_summary_is_a_data_frame_with_pandas_and_a_list_without(monkeypatch):
    import pandas as pd
    comparison = _comparison()
    frame = comparison.summary()
    assert isinstance(frame, pd.DataFrame)
    assert frame.columns[0] == "strategy" and frame["strategy"].tolist() == comparison.names
    assert frame["final_score_mean"].tolist() == pytest.approx([0.7, 0.8])
    assert "<table" in frame._repr_html_()
    rows = comparison.summary(as_frame=False)
    assert isinstance(rows, list)
    pd.testing.assert_frame_equal(frame, pd.DataFrame(rows))
    assert isinstance(comparison.summary(as_frame=True), pd.DataFrame)
    with pytest.raises(ValueError, match="as_frame must be True, False or 'auto'"):
        comparison.summary(as_frame="yes")
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    assert comparison.summary() == rows
    with pytest.raises(ImportError):
        comparison.summary(as_frame=True)


def test_html_repr_follows_scikit_learn_display_config():
    comparison = _comparison()
    text = "StrategyComparison(names=['RandomSampling', 'EntropySampling'], n_trials=2, n_rounds=3)"
    assert repr(comparison) == text
    bundle = comparison._repr_mimebundle_()
    assert bundle["text/plain"] == text
    page = bundle["text/html"]
    assert page == comparison._repr_html_()
    assert "<table" in page and "<th>final_score_mean</th>" in page
    assert "<td>EntropySampling</td><td>0.800</td>" in page
    assert "baseline <code>RandomSampling</code>" in page and "2 trials" in page
    assert "0 failed trials" in page
    with sklearn.config_context(display="text"):
        assert comparison._repr_mimebundle_() == {"text/plain": text}
        assert not hasattr(comparison, "_repr_html_")


def test_html_repr_escapes_names():
    scores = np.tile([0.5, 0.6, 0.7], (2, 1))
    comparison = StrategyComparison(
        ["RandomSampling", "<b>"], "RandomSampling", "accuracy", np.array([10, 20, 30]),
        {"RandomSampling": _result(scores), "<b>": _result(scores)},
        [{"trial": 0}, {"trial": 1}], alpha=0.05,
    )
    assert "<td>&lt;b&gt;</td>" in comparison._repr_html_()


class _FakeShell:
    kernel = object()  # what a Jupyter kernel's shell has, and a terminal's lacks


def test_progress_bar_is_text_unless_a_kernel_has_widgets(monkeypatch):
    from tqdm import tqdm as text_tqdm

    from skal.model_selection import _progress_bar, _widgets_available

    fake_ipython = types.SimpleNamespace(get_ipython=lambda: _FakeShell())
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # not installed
    assert not _widgets_available()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "IProgress not found" TqdmWarning
        bar = _progress_bar(range(3), total=3, disable=True)
    assert type(bar) is text_tqdm
    list(bar)
    monkeypatch.delitem(sys.modules, "ipywidgets")
    monkeypatch.setattr("importlib.util.find_spec",
                        lambda name, *a: object() if name == "ipywidgets" else None)
    assert _widgets_available()  # a kernel with ipywidgets: tqdm.auto's widget
    fake_ipython.get_ipython = lambda: types.SimpleNamespace()  # a terminal IPython
    assert not _widgets_available()
    monkeypatch.delitem(sys.modules, "IPython")  # plain Python
    assert not _widgets_available()


def test_verbose_shows_a_text_bar_without_warnings(iris, capsys):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        active_learning_curve(_learner(), X, y, cv=3, random_state=0, verbose=1)
    err = capsys.readouterr().err
    assert "trials: 100%" in err and "3/3" in err
