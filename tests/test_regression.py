"""Regressors in ActiveLearner and the strategies that serve them."""

import numpy as np
import pytest
import torch
from sklearn.base import clone, is_regressor
from sklearn.datasets import make_friedman1
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge, SGDRegressor
from sklearn.model_selection import cross_val_score
from sklearn.neural_network import MLPRegressor
from skorch import NeuralNetRegressor

from skal import (
    BADGE,
    ActiveLearner,
    CoreSet,
    EntropySampling,
    KMeansSampling,
    RandomSampling,
)
from skal.embeddings import penultimate_embedding
from skal.stopping import StabilizingPredictions, ValidationPlateau


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=400, n_features=10, noise=0.5, random_state=0)
    return X[:300], y[:300], X[300:], y[300:]


class _MLP(torch.nn.Module):
    def __init__(self, n_in=10, n_hidden=16):
        super().__init__()
        self.hidden = torch.nn.Linear(n_in, n_hidden)
        self.out = torch.nn.Linear(n_hidden, 1)

    def forward(self, X):
        return self.out(torch.relu(self.hidden(X)))


def _net(**kwargs):
    return NeuralNetRegressor(_MLP, max_epochs=5, lr=0.05, train_split=None, verbose=0,
                              **kwargs)


# -- simulation ---------------------------------------------------------------------


def test_simulation_with_a_regressor_records_regression_scores(friedman):
    X, y, X_val, y_val = friedman
    learner = ActiveLearner(
        Ridge(), CoreSet(), batch_size=10, initial_size=20, budget=60, random_state=0,
        scoring="neg_root_mean_squared_error",
    ).fit(X, y, X_val=X_val, y_val=y_val)
    np.testing.assert_array_equal(learner.history_["n_labeled"], [20, 30, 40, 50, 60])
    rmse = -learner.history_["score"]
    refit = Ridge().fit(X[learner.labeled_indices_], y[learner.labeled_indices_])
    assert rmse[-1] == pytest.approx(np.sqrt(np.mean((refit.predict(X_val) - y_val) ** 2)))
    assert is_regressor(learner) and not hasattr(learner, "classes_")
    # the default score is the regressor's own: R²
    assert learner.score(X_val, y_val) == pytest.approx(refit.score(X_val, y_val))
    assert not hasattr(learner, "predict_proba")


def test_minus_one_is_a_target_not_a_marker_for_a_regressor(friedman):
    X, y, _, _ = friedman
    y = y.copy()
    y[:50] = -1.0  # real targets that happen to be -1
    learner = ActiveLearner(Ridge(), RandomSampling(), initial_size=20, budget=40,
                            random_state=0).fit(X, y)
    assert learner.n_rounds_ == 2  # simulation: nothing was taken for unlabeled


def test_cross_validation_of_a_regression_learner_uses_regression_folds(friedman):
    X, y, _, _ = friedman
    learner = ActiveLearner(Ridge(), RandomSampling(), budget=40, random_state=0)
    scores = cross_val_score(learner, X, y, cv=3, scoring="neg_mean_absolute_error")
    assert scores.shape == (3,) and np.all(scores < 0)


def test_same_seed_same_picks_with_a_skorch_regressor(friedman):
    X, y, _, _ = friedman
    X = X.astype(np.float32)

    def run():
        return ActiveLearner(_net(), CoreSet(), batch_size=10, initial_size=10, budget=40,
                             random_state=0).fit(X, y)

    first, second = run(), run()
    np.testing.assert_array_equal(first.labeled_indices_, second.labeled_indices_)
    assert first.predict(X[:4]).shape == (4, 1)  # skorch's regressor predicts a column
    # the picks are CoreSet's on the net's embedding, from the round's fitted net
    assert len(np.unique(first.labeled_indices_)) == 40


# -- real labeling ------------------------------------------------------------------


def test_real_labeling_marks_unlabeled_targets_with_nan(friedman):
    X, y, _, _ = friedman
    y_known = np.full(len(y), np.nan)
    y_known[:30] = y[:30]
    snapshot = y_known.copy()
    learner = ActiveLearner(Ridge(), KMeansSampling(random_state=0)).fit(X, y_known)
    picks = learner.query(X, y_known, batch_size=7)
    assert np.all(np.isnan(y_known[picks])) and len(np.unique(picks)) == 7
    np.testing.assert_array_equal(learner.labeled_indices_, np.arange(30))
    np.testing.assert_array_equal(y_known, snapshot)  # y is never modified
    # an explicit numeric marker still works for a regressor
    y_minus = np.where(np.isnan(y_known), -1.0, y_known)
    explicit = ActiveLearner(Ridge(), KMeansSampling(random_state=0), missing_label=-1)
    np.testing.assert_array_equal(explicit.fit(X, y_minus).query(X, y_minus, 7), picks)


def test_targets_that_are_not_numbers_are_refused_for_a_regressor(friedman):
    X, _, _, _ = friedman
    y = np.array(["a", "b"] * 150, dtype=object)
    with pytest.raises(ValueError, match="Ridge is a regressor: y must hold numbers"):
        ActiveLearner(Ridge(), RandomSampling()).fit(X, y)


def test_warm_start_continues_training_the_last_estimator(friedman):
    X, y, _, _ = friedman
    y_known = np.full(len(y), np.nan)
    y_known[:40] = y[:40]
    params = dict(retrain="update", random_state=0)
    sgd = SGDRegressor(max_iter=5, tol=None, random_state=0)
    warm = ActiveLearner(sgd, RandomSampling(), warm_start=True, **params)
    cold = ActiveLearner(sgd, RandomSampling(), **params)
    firsts = [learner.fit(X, y_known).estimator_ for learner in (warm, cold)]
    for learner in (warm, cold):
        learner.fit(X, y_known)
    # the warm start goes on training the first fit's estimator; the cold one starts anew
    assert warm.estimator_ is firsts[0] and cold.estimator_ is not firsts[1]
    twice = clone(sgd).set_params(warm_start=True)
    for _ in range(2):
        twice.fit(X[:40], y[:40])
    np.testing.assert_allclose(warm.estimator_.coef_, twice.coef_)
    once = clone(sgd).fit(X[:40], y[:40])
    np.testing.assert_allclose(cold.estimator_.coef_, once.coef_)
    assert not np.allclose(twice.coef_, once.coef_)


# -- what serves a regressor, and what does not ---------------------------------------


@pytest.mark.parametrize("strategy", [None, EntropySampling(), BADGE()])
def test_classification_strategies_refuse_a_regressor_before_any_fit(strategy, friedman):
    X, y, _, _ = friedman
    with pytest.raises(ValueError, match="regressor. For regression use one of: .*CoreSet"):
        ActiveLearner(Ridge(), strategy).fit(X, y)
    with pytest.raises(ValueError, match="RandomSampling"):
        (strategy or EntropySampling()).set_params(estimator=Ridge()).fit(X[:20], y[:20])


def test_stopping_criteria_that_read_classes_refuse_a_regressor(friedman):
    X, y, X_val, y_val = friedman
    with pytest.raises(ValueError, match="use ValidationPlateau"):
        ActiveLearner(Ridge(), RandomSampling(), stopping=StabilizingPredictions()).fit(X, y)
    learner = ActiveLearner(Ridge(), RandomSampling(), budget=100, random_state=0,
                            stopping=ValidationPlateau(patience=2)).fit(X, y, X_val=X_val,
                                                                       y_val=y_val)
    assert len(learner.history_["stop"]) == learner.n_rounds_ + 1


def test_strategies_fit_a_regressor_on_float_targets(friedman):
    X, y, _, _ = friedman
    strategy = CoreSet(Ridge()).fit(X[:20], y[:20])
    assert isinstance(strategy.estimator_, Ridge)
    np.testing.assert_allclose(strategy.estimator_.coef_,
                               Ridge().fit(X[:20], y[:20]).coef_)
    # RandomSampling needs no estimator and takes any targets
    assert RandomSampling(random_state=0).fit(X[:20], y[:20]).query(X, 3).shape == (3,)
    # a classifier still refuses continuous targets
    with pytest.raises(ValueError, match="continuous"):
        EntropySampling(LogisticRegression()).fit(X[:20], y[:20])


def test_embeddings_of_scikit_learn_regressors(friedman):
    X, y, _, _ = friedman
    np.testing.assert_array_equal(penultimate_embedding(Ridge().fit(X, y), X), X)
    mlp = MLPRegressor(hidden_layer_sizes=(8, 5), max_iter=50, random_state=0).fit(X, y)
    hidden = np.maximum(np.maximum(X @ mlp.coefs_[0] + mlp.intercepts_[0], 0)
                        @ mlp.coefs_[1] + mlp.intercepts_[1], 0)
    np.testing.assert_allclose(penultimate_embedding(mlp, X), hidden)


def test_forest_regressor_has_no_embedding_for_coreset(friedman):
    X, y, _, _ = friedman
    with pytest.raises(Exception, match="provides none.*such as QueryByCommittee"):
        CoreSet(RandomForestRegressor(n_estimators=3)).fit(X[:20], y[:20])


def test_regression_learner_clones_and_keeps_its_parameters(friedman):
    learner = ActiveLearner(_net(), "coreset", warm_start=True)
    assert clone(learner).get_params()["warm_start"] is True
    assert clone(learner).get_params()["missing_label"] == "auto"


# -- the regression strategies inside ActiveLearner --------------------------------------


@pytest.mark.parametrize("make", [
    lambda: (RandomForestRegressor(n_estimators=10, random_state=0), "qbc"),
    lambda: (Ridge(), "greedy"),
    lambda: (Ridge(), "lcmd"),
    lambda: (MLPRegressor(hidden_layer_sizes=(16,), max_iter=200, random_state=0), "maxdet"),
    lambda: (_net(), "lcmd"),
    lambda: (_net(), "maxdet"),
], ids=["qbc-forest", "greedy-ridge", "lcmd-ridge", "maxdet-mlp", "lcmd-net", "maxdet-net"])
def test_regression_strategies_run_rounds_and_repeat_with_the_same_seed(make, friedman):
    X, y, X_val, y_val = friedman
    X, X_val = X.astype(np.float32), X_val.astype(np.float32)

    def run():
        estimator, strategy = make()
        return ActiveLearner(estimator, strategy, initial_size=20, batch_size=10, budget=50,
                             random_state=0, scoring="neg_root_mean_squared_error").fit(
            X, y, X_val=X_val, y_val=y_val)

    first, second = run(), run()
    np.testing.assert_array_equal(first.labeled_indices_, second.labeled_indices_)
    assert len(np.unique(first.labeled_indices_)) == 50
    assert np.all(first.history_["score"] < 0) and np.all(first.history_["query_time"][1:] > 0)


class _SlowRidge(Ridge):
    """A Ridge whose fit takes at least 0.1 s: a lower bound no machine can beat."""

    def fit(self, X, y, sample_weight=None):
        import time

        time.sleep(0.1)
        return super().fit(X, y, sample_weight=sample_weight)


def test_query_time_counts_the_committee_members_fits(friedman):
    X, y, _, _ = friedman
    from skal import QueryByCommittee

    # bagging 4 members happens in the round strategy's fit: part of the selection
    learner = ActiveLearner(_SlowRidge(), QueryByCommittee(n_members=4), initial_size=20,
                            batch_size=10, budget=30, random_state=0).fit(X, y)
    assert learner.history_["query_time"][1] >= 4 * 0.1
    assert 0.1 <= learner.history_["fit_time"][1] < learner.history_["query_time"][1]
