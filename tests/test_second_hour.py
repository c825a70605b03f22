"""Issue 23, "the second hour": scores that cannot mislead, the prefit hint, names
everywhere.

- Every score ignores the entries of ``y`` marked ``missing_label`` and says so once:
  ``ActiveLearner.score``, scikit-learn's scorer path (``check_scoring``,
  ``cross_val_score``, ``GridSearchCV``), the learning-curve scorer and the
  validation score of ``fit``.
- Without ``X_val``, ``history_`` has no score column and ``verbose`` prints no ``nan``.
- A strategy used before ``fit`` with an already fitted estimator names both fixes.
- A registry name is accepted wherever a strategy object is.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, check_scoring
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skal import (
    BADGE,
    ActiveLearner,
    DispersionSampling,
    EntropySampling,
    MarginSampling,
    PartitionedStrategy,
    ProxyPrefilter,
    RandomSampling,
    StabilizingPredictions,
    StochasticBatch,
    SubsetSampling,
    SwitchingStrategy,
)
from skal.exceptions import UnlabeledScoreWarning
from skal.metrics import make_learning_curve_scorer

UNKNOWN = r"Unknown strategy 'nope'\. Valid names: .*badge.*entropy"


@pytest.fixture(scope="module")
def data():
    """(X, y, X_test, y_test): 120 + 60 samples, 5 features, 3 classes."""
    X, y = make_classification(
        n_samples=180, n_features=5, n_informative=3, n_redundant=0, n_classes=3,
        n_clusters_per_class=1, class_sep=0.8, random_state=0,
    )
    return X[:120], y[:120], X[120:], y[120:]


@pytest.fixture(scope="module")
def fitted(data):
    X, y, _, _ = data
    return ActiveLearner(
        LogisticRegression(), initial_size=12, batch_size=6, budget=30, random_state=0
    ).fit(X, y)


def hide(y, fraction=0.4, seed=1, marker=-1):
    """``y`` with ``fraction`` of its entries marked unlabeled."""
    hidden = np.random.RandomState(seed).rand(len(y)) < fraction
    out = np.array(y, dtype=object if marker is None else None)
    out[hidden] = marker
    return out, ~hidden


def unlabeled_warnings(caught):
    return [w for w in caught if issubclass(w.category, UnlabeledScoreWarning)]


# -- ActiveLearner.score -----------------------------------------------------------------


def test_score_ignores_unlabeled_entries_and_warns_once(fitted, data):
    _, _, X_test, y_test = data
    y_partial, labeled = hide(y_test)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        score = fitted.score(X_test, y_partial)
    expected = fitted.estimator_.score(X_test[labeled], y_test[labeled])
    assert score == expected
    # what it returned before: -1 counted as a class nobody predicts
    assert score != accuracy_score(y_partial, fitted.predict(X_test))
    [warning] = unlabeled_warnings(caught)
    n_hidden = int((~labeled).sum())
    assert str(warning.message).startswith(
        f"{n_hidden} of the {len(y_test)} entries of y are marked missing_label=-1 "
        f"(unlabeled); ActiveLearner.score ignores them and scores the "
        f"{len(y_test) - n_hidden} labeled samples only."
    )
    assert len(caught) == 1  # nothing else either


def test_score_with_every_label_known_is_unchanged_and_silent(fitted, data):
    _, _, X_test, y_test = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fitted.score(X_test, y_test) == fitted.estimator_.score(X_test, y_test)


def test_score_with_nothing_labeled_raises(fitted, data):
    _, _, X_test, _ = data
    with pytest.raises(ValueError, match=r"Every entry of y \(60\) is marked "
                                         r"missing_label=-1 \(unlabeled\).*nothing to score"):
        fitted.score(X_test, np.full(len(X_test), -1))


def test_score_with_none_marker_and_sample_weight(data):
    X, y, X_test, y_test = data
    names = np.array(["a", "b", "c"], dtype=object)
    learner = ActiveLearner(
        LogisticRegression(), missing_label=None, initial_size=12, budget=24, random_state=0
    ).fit(X, names[y])
    y_partial, labeled = hide(names[y_test], marker=None)
    weights = np.linspace(0.5, 2.0, len(y_test))
    with pytest.warns(UnlabeledScoreWarning, match="missing_label=None"):
        score = learner.score(X_test, y_partial, sample_weight=weights)
    assert score == pytest.approx(
        learner.estimator_.score(X_test[labeled], names[y_test][labeled],
                                 sample_weight=weights[labeled])
    )


# -- scikit-learn's scorer path: check_scoring, cross_val_score, GridSearchCV ------------


def test_check_scoring_path_ignores_unlabeled_entries(fitted, data):
    _, _, X_test, y_test = data
    y_partial, labeled = hide(y_test)
    with pytest.warns(UnlabeledScoreWarning):
        score = check_scoring(fitted)(fitted, X_test, y_partial)
    assert score == fitted.estimator_.score(X_test[labeled], y_test[labeled])


def fold_scores_by_hand(learner, X, y, cv):
    """Each fold's score: a clone fitted on the training part, scored on the labeled
    samples of the held-out part."""
    scores = []
    for train, test in cv.split(X, y):
        fitted = clone(learner).fit(X[train], y[train])
        keep = test[y[test] != -1]
        scores.append(accuracy_score(y[keep], fitted.predict(X[keep])))
    return np.array(scores)


def test_cross_val_score_on_partly_labeled_y(data):
    X, y, _, _ = data
    y_partial, _ = hide(y, fraction=0.6)
    learner = ActiveLearner(LogisticRegression(), random_state=0)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = cross_val_score(learner, X, y_partial, cv=cv)
    np.testing.assert_allclose(scores, fold_scores_by_hand(learner, X, y_partial, cv))
    assert len(unlabeled_warnings(caught)) == 3  # once per fold


def test_grid_search_over_strategies_on_partly_labeled_y(data):
    X, y, _, _ = data
    y_partial, labeled = hide(y, fraction=0.6)
    learner = ActiveLearner(LogisticRegression(), initial_size=9, batch_size=6, budget=27,
                            random_state=0)
    strategies = [RandomSampling(random_state=0), EntropySampling()]
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = GridSearchCV(learner, {"strategy": strategies}, cv=cv).fit(X, y_partial)
    assert len(unlabeled_warnings(caught)) == 3 * len(strategies)
    for i, strategy in enumerate(strategies):
        by_hand = fold_scores_by_hand(learner.set_params(strategy=strategy), X, y_partial, cv)
        for fold in range(3):
            assert search.cv_results_[f"split{fold}_test_score"][i] == pytest.approx(
                by_hand[fold]
            )
        # a real-labeling fit trains on the labels given, which no strategy chose
        assert search.cv_results_["mean_test_score"][i] > 0.5

    # the recipe of docs/evaluation.md: search on the labeled part, where each fold
    # simulates the rounds with the candidate strategy
    X_lab, y_lab = X[labeled], y_partial[labeled].astype(int)
    search = GridSearchCV(learner, {"strategy": strategies}, cv=cv).fit(X_lab, y_lab)
    means = [
        fold_scores_by_hand(learner.set_params(strategy=s), X_lab, y_lab, cv).mean()
        for s in strategies
    ]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], means)
    assert search.best_index_ == int(np.argmax(means))


# -- the learning-curve scorer ------------------------------------------------------------


def test_learning_curve_scorer_ignores_unlabeled_entries_once_per_call(data):
    X, y, X_test, y_test = data
    learner = ActiveLearner(LogisticRegression(), keep_estimators=True, initial_size=12,
                            batch_size=6, budget=30, random_state=0).fit(X, y)
    y_partial, labeled = hide(y_test)
    scorer = make_learning_curve_scorer("mean", scoring="balanced_accuracy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, scores = scorer.round_scores(learner, X_test, y_partial)
    [warning] = unlabeled_warnings(caught)  # once, not once per round
    assert "make_learning_curve_scorer(metric='mean'" in str(warning.message)
    expected = [balanced_accuracy_score(y_test[labeled], est.predict(X_test[labeled]))
                for est in learner.round_estimators_]
    np.testing.assert_allclose(scores, expected)
    with pytest.raises(ValueError, match="nothing to score"):
        scorer(learner, X_test, np.full(len(y_test), -1))


def test_learning_curve_scorer_takes_a_frame_with_text_columns(data):
    X, y, X_test, y_test = data
    columns = [f"x{i}" for i in range(X.shape[1])]

    def frame(X):
        df = pd.DataFrame(X, columns=columns)
        df["region"] = np.where(X[:, 0] > 0, "north", "south")
        return df

    pipeline = make_pipeline(
        ColumnTransformer([("num", StandardScaler(), columns),
                           ("cat", OneHotEncoder(), ["region"])]),
        LogisticRegression(),
    )
    learner = ActiveLearner(pipeline, keep_estimators=True, initial_size=12, batch_size=6,
                            budget=24, random_state=0).fit(frame(X), y)
    _, scores = make_learning_curve_scorer("final").round_scores(
        learner, frame(X_test), y_test
    )
    assert scores[-1] == learner.score(frame(X_test), y_test)


# -- the validation score of fit ----------------------------------------------------------


def test_fit_validation_score_ignores_unlabeled_entries(data):
    X, y, X_val, y_val = data
    y_partial, labeled = hide(y_val)
    with pytest.warns(UnlabeledScoreWarning, match="the validation score ignores them"):
        learner = ActiveLearner(LogisticRegression(), initial_size=12, batch_size=6,
                                budget=24, random_state=0, keep_estimators=True).fit(
            X, y, X_val=X_val, y_val=y_partial
        )
    expected = [est.score(X_val[labeled], y_val[labeled])
                for est in learner.round_estimators_]
    np.testing.assert_allclose(learner.history_["score"], expected)


# -- the history without X_val ------------------------------------------------------------


def test_history_without_validation_has_no_score_and_verbose_no_nan(data, capsys):
    X, y, _, _ = data
    learner = ActiveLearner(LogisticRegression(), initial_size=12, batch_size=6, budget=24,
                            random_state=0, verbose=1).fit(X, y)
    assert "score" not in learner.history_
    assert sorted(learner.history_) == ["fit_time", "n_labeled", "query_time", "round"]
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == learner.n_rounds_ + 1 == 3
    assert "nan" not in out.lower()
    assert "score" not in out
    assert re.fullmatch(r"\[ActiveLearner\] round 0: 12 of 24 labeled, fit \d+\.\d{3}s",
                        lines[0])
    assert re.fullmatch(r"\[ActiveLearner\] round 2: 24 of 24 labeled, fit \d+\.\d{3}s, "
                        r"query \d+\.\d{3}s", lines[2])


def test_history_with_validation_prints_scores(data, capsys):
    X, y, X_val, y_val = data
    learner = ActiveLearner(LogisticRegression(), initial_size=12, batch_size=6, budget=24,
                            random_state=0, verbose=1).fit(X, y, X_val=X_val, y_val=y_val)
    out = capsys.readouterr().out
    assert "nan" not in out.lower()
    scores = re.findall(r"score (\d\.\d{4})", out)
    np.testing.assert_allclose([float(s) for s in scores], learner.history_["score"],
                               atol=5e-5)


def test_stopping_without_validation_still_works(data):
    X, y, _, _ = data
    learner = ActiveLearner(LogisticRegression(), initial_size=12, batch_size=6, budget=36,
                            random_state=0, stopping=StabilizingPredictions()).fit(X, y)
    assert "score" not in learner.history_
    assert len(learner.history_["stop"]) == learner.n_rounds_ + 1


def test_real_labeling_history_without_validation(data):
    X, y, _, _ = data
    y_partial, _ = hide(y, fraction=0.7)
    learner = ActiveLearner(LogisticRegression()).fit(X, y_partial)
    assert "score" not in learner.history_
    assert learner.history_["n_labeled"].tolist() == [int((y_partial != -1).sum())]


# -- the prefit hint ----------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda clf: BADGE(clf),
    lambda clf: EntropySampling(clf),
    lambda clf: SubsetSampling(EntropySampling(clf), n_candidates=20),
    lambda clf: StochasticBatch("entropy", estimator=clf),
], ids=["BADGE", "EntropySampling", "SubsetSampling", "StochasticBatch"])
def test_fitted_estimator_without_prefit_names_both_fixes(make, data):
    X, y, X_pool, _ = data
    strategy = make(LogisticRegression().fit(X, y))
    name = type(strategy).__name__
    with pytest.raises(
        NotFittedError,
        match=rf"This {name} instance is not fitted yet\. Its estimator LogisticRegression "
              rf"is already fitted: pass prefit=True to use it as it is, e\.g\. "
              rf"{name}\(estimator, prefit=True\); or call 'fit' with the labeled set "
              rf"first, fit\(X_labeled, y_labeled\)",
    ):
        strategy.query(X_pool, batch_size=3)
    # and both fixes work
    assert len(clone(strategy).fit(X, y).query(X_pool, batch_size=3)) == 3
    prefit = clone(strategy).set_params(estimator=LogisticRegression().fit(X, y), prefit=True)
    assert len(prefit.query(X_pool, batch_size=3)) == 3


def test_fitted_pipeline_without_prefit_gets_the_hint(data):
    X, y, X_pool, _ = data
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    with pytest.raises(NotFittedError, match="Its estimator Pipeline is already fitted"):
        MarginSampling(pipeline).rank(X_pool)


def test_unfitted_estimator_gets_no_prefit_claim(data):
    _, _, X_pool, _ = data
    with pytest.raises(NotFittedError) as info:
        BADGE(LogisticRegression()).query(X_pool, batch_size=3)
    message = str(info.value)
    assert message.startswith("This BADGE instance is not fitted yet. Call 'fit'")
    assert "Its estimator" not in message
    assert "fit(X_labeled, y_labeled)" in message and "prefit=True" in message


# -- names everywhere ---------------------------------------------------------------------


def test_active_learner_accepts_names(data):
    X, y, _, _ = data
    kwargs = dict(initial_size=12, batch_size=6, budget=30, random_state=0)
    by_name = ActiveLearner(LogisticRegression(), "margin", initial_strategy="dispersion",
                            **kwargs)
    assert by_name.get_params()["strategy"] == "margin"
    assert by_name.get_params()["initial_strategy"] == "dispersion"
    copy = clone(by_name)
    assert copy.strategy == "margin" and copy.initial_strategy == "dispersion"
    by_object = ActiveLearner(LogisticRegression(), MarginSampling(),
                              initial_strategy=DispersionSampling(), **kwargs)
    np.testing.assert_array_equal(copy.fit(X, y).labeled_indices_,
                                  by_object.fit(X, y).labeled_indices_)
    assert by_name.strategy == "margin"  # fit resolves, never writes it back
    assert isinstance(copy.strategy_, MarginSampling)


def test_active_learner_names_in_grid_search(data):
    X, y, _, _ = data
    learner = ActiveLearner(LogisticRegression(), initial_size=9, batch_size=6, budget=21,
                            random_state=0)
    search = GridSearchCV(learner, {"strategy": ["random", "entropy", "random>margin@15"]},
                          cv=3).fit(X, y)
    assert search.best_params_["strategy"] in ("random", "entropy", "random>margin@15")
    assert isinstance(search.best_estimator_.strategy, str)


def test_active_learner_unknown_names(data):
    X, y, _, _ = data
    with pytest.raises(ValueError, match=UNKNOWN):
        ActiveLearner(LogisticRegression(), "nope").fit(X, y)
    with pytest.raises(ValueError, match=UNKNOWN):
        ActiveLearner(LogisticRegression(), initial_strategy="nope").fit(X, y)
    with pytest.raises(InvalidParameterError, match="'strategy' parameter"):
        ActiveLearner(LogisticRegression(), 5).fit(X, y)


def test_switching_strategy_accepts_names(data):
    X, y, X_pool, _ = data
    clf = LogisticRegression().fit(X, y)
    by_name = SwitchingStrategy(first="random", then="badge", switch_at=50, estimator=clf,
                                prefit=True, random_state=0)
    by_object = SwitchingStrategy(RandomSampling(), BADGE(), switch_at=50, estimator=clf,
                                  prefit=True, random_state=0)
    params = by_name.get_params()
    assert (params["first"], params["then"]) == ("random", "badge")
    for n in (30, 60):  # random below switch_at, BADGE from it on
        np.testing.assert_array_equal(
            clone(by_name).set_params(estimator=clf).fit(X[:n], y[:n]).query(X_pool, 5),
            by_object.fit(X[:n], y[:n]).query(X_pool, batch_size=5),
        )
    assert isinstance(by_name.fit(X[:60], y[:60]).strategy_, BADGE)
    assert by_name.then == "badge"
    with pytest.raises(ValueError, match=UNKNOWN):
        SwitchingStrategy("random", "nope", switch_at=0, estimator=clf, prefit=True).fit(X, y)


def test_switching_strategy_by_name_chooses_a_seed_set(data):
    X, y, _, _ = data
    kwargs = dict(initial_size=12, batch_size=6, budget=24, random_state=0)
    by_name = ActiveLearner(
        LogisticRegression(), initial_strategy=SwitchingStrategy("dispersion", "margin"),
        **kwargs,
    ).fit(X, y)
    by_object = ActiveLearner(
        LogisticRegression(),
        initial_strategy=SwitchingStrategy(DispersionSampling(), MarginSampling()), **kwargs,
    ).fit(X, y)
    np.testing.assert_array_equal(by_name.labeled_indices_, by_object.labeled_indices_)


def test_stochastic_batch_accepts_names(data):
    X, y, X_pool, _ = data
    clf = LogisticRegression().fit(X, y)
    by_name = StochasticBatch("entropy", estimator=clf, prefit=True, random_state=0)
    assert by_name.get_params()["strategy"] == "entropy"
    assert clone(by_name).strategy == "entropy"
    by_object = StochasticBatch(EntropySampling(), estimator=clf, prefit=True, random_state=0)
    np.testing.assert_array_equal(by_name.rank(X_pool), by_object.rank(X_pool))
    again = clone(by_name).set_params(estimator=clf)  # clone unfits the estimator
    np.testing.assert_array_equal(again.fit(X, y).query(X_pool, batch_size=5),
                                  by_object.query(X_pool, batch_size=5))
    with pytest.raises(ValueError, match="BADGE does not rank by one"):
        StochasticBatch("badge", estimator=clf, prefit=True).query(X_pool, batch_size=3)
    with pytest.raises(ValueError, match=UNKNOWN):
        StochasticBatch("nope", estimator=clf, prefit=True).query(X_pool, batch_size=3)


@pytest.mark.parametrize("make", [
    lambda s, **kw: SubsetSampling(s, n_candidates=30, **kw),
    lambda s, **kw: ProxyPrefilter(s, n_candidates=30, **kw),
    lambda s, **kw: PartitionedStrategy(s, n_partitions=2, **kw),
], ids=["SubsetSampling", "ProxyPrefilter", "PartitionedStrategy"])
def test_other_meta_strategies_accept_names(make, data):
    X, y, X_pool, _ = data
    by_name = make("badge", estimator=LogisticRegression(), random_state=0)
    by_object = make(BADGE(), estimator=LogisticRegression(), random_state=0)
    assert by_name.get_params()["strategy"] == "badge"
    np.testing.assert_array_equal(clone(by_name).fit(X, y).query(X_pool, batch_size=4),
                                  by_object.fit(X, y).query(X_pool, batch_size=4))
    with pytest.raises(ValueError, match=UNKNOWN):
        make("nope", estimator=LogisticRegression()).fit(X, y)


def test_meta_strategy_by_name_inside_active_learner(data):
    X, y, _, _ = data
    kwargs = dict(initial_size=12, batch_size=6, budget=24, random_state=0)
    by_name = ActiveLearner(LogisticRegression(), StochasticBatch("margin"), **kwargs)
    by_object = ActiveLearner(LogisticRegression(), StochasticBatch(MarginSampling()),
                              **kwargs)
    np.testing.assert_array_equal(clone(by_name).fit(X, y).labeled_indices_,
                                  by_object.fit(X, y).labeled_indices_)
