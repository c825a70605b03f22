"""SwitchingStrategy: one strategy until a label count, then another; its CLI spec."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from skal import (
    BADGE,
    ActiveLearner,
    DispersionSampling,
    EntropySampling,
    MarginSampling,
    RandomSampling,
    SwitchingStrategy,
)
from skal.model_selection import compare_strategies, resolve_strategy


@pytest.fixture(scope="module")
def model(digits):
    X, y, X_pool, _ = digits
    return LogisticRegression(max_iter=500).fit(X, y), X, y, X_pool


def _switch(clf, switch_at, **params):
    return SwitchingStrategy(RandomSampling(), MarginSampling(), switch_at=switch_at,
                             estimator=clf, prefit=True, **params)


@pytest.mark.parametrize("n_labeled, expected", [(10, RandomSampling), (49, RandomSampling),
                                                 (50, MarginSampling), (300, MarginSampling)])
def test_the_label_count_chooses_the_strategy(n_labeled, expected, model):
    clf, X, y, X_pool = model
    switch = _switch(clf, 50, random_state=0).fit(X[:n_labeled], y[:n_labeled])
    assert type(switch.strategy_) is expected
    assert switch.n_labeled_ == n_labeled
    assert switch.estimator_ is (clf if expected is MarginSampling else None)
    # everything is the strategy in use's own
    own = switch.strategy_
    np.testing.assert_array_equal(switch.rank(X_pool), own.rank(X_pool))
    np.testing.assert_array_equal(switch.query(X_pool, 7), own.rank(X_pool)[:7])
    np.testing.assert_array_equal(switch.transform(X_pool), own.transform(X_pool))
    lazy = switch.lazy_rank(X_pool[:300])
    first = lazy.take(10)
    lazy.add(X_pool[300:])
    own_lazy = own.lazy_rank(X_pool[:300])
    np.testing.assert_array_equal(first, own_lazy.take(10))
    own_lazy.add(X_pool[300:])
    np.testing.assert_array_equal(lazy.take(500), own_lazy.take(500))


def test_switch_at_zero_always_uses_then_and_fit_without_labels_counts_none(model):
    clf, X, y, X_pool = model
    assert type(_switch(clf, 0).fit(X[:5], y[:5]).strategy_) is MarginSampling
    switch = _switch(clf, 10).fit(X)  # no y: no labels (ActiveLearner's initial_strategy)
    assert switch.n_labeled_ == 0 and type(switch.strategy_) is RandomSampling


def test_seeds_its_strategies_and_keeps_theirs(model):
    clf, X, y, X_pool = model
    a = _switch(clf, 50, random_state=0).fit(X[:10], y[:10])
    b = _switch(clf, 50, random_state=0).fit(X[:20], y[:20])
    c = _switch(clf, 50, random_state=1).fit(X[:10], y[:10])
    assert a.strategy_.random_state == b.strategy_.random_state != c.strategy_.random_state
    np.testing.assert_array_equal(a.rank(X_pool), b.rank(X_pool))
    kept = SwitchingStrategy(RandomSampling(random_state=7), MarginSampling(),
                             random_state=0).fit(X[:10], y[:10])
    assert kept.strategy_.random_state == 7


def test_estimator_is_given_to_the_strategy_in_use(model):
    clf, X, y, X_pool = model
    switch = SwitchingStrategy(RandomSampling(), EntropySampling(), switch_at=20,
                               estimator=LogisticRegression(max_iter=500)).fit(X, y)
    assert switch.estimator_ is not switch.estimator  # a fitted clone
    np.testing.assert_array_equal(switch.query(X_pool, 10),
                                  EntropySampling(clf, prefit=True).query(X_pool, 10))
    # None: each strategy keeps its own estimator (prefit passes on)
    own = SwitchingStrategy(RandomSampling(), EntropySampling(clf), switch_at=20,
                            prefit=True).fit(X, y)
    assert own.estimator_ is clf


def test_prefit_without_fit_cannot_count_labels(model):
    clf, X, y, X_pool = model
    with pytest.raises(NotFittedError, match="number of labels, which fit.*call fit first"):
        _switch(clf, 50).query(X_pool, 5)
    with pytest.raises(NotFittedError, match="call fit first"):
        _switch(clf, 50).rank(X_pool)


def test_in_active_learner_switches_after_the_first_rounds(digits):
    _, _, X, y = digits  # 500 samples

    def labeled(strategy):
        return ActiveLearner(LogisticRegression(max_iter=300), strategy, initial_size=20,
                             batch_size=20, budget=100, random_state=0).fit(X, y)

    def switch(at):
        return SwitchingStrategy(RandomSampling(random_state=5), MarginSampling(),
                                 switch_at=at, random_state=0)

    random_run = labeled(RandomSampling(random_state=5)).labeled_indices_
    margin_run = labeled(MarginSampling()).labeled_indices_
    np.testing.assert_array_equal(labeled(switch(1000)).labeled_indices_, random_run)
    np.testing.assert_array_equal(labeled(switch(0)).labeled_indices_, margin_run)
    # rounds fit on 20 and 40 labels pick at random, then margin takes over
    mixed = labeled(switch(60))
    np.testing.assert_array_equal(mixed.labeled_indices_[:60], random_run[:60])
    assert not np.array_equal(mixed.labeled_indices_[60:], random_run[60:])
    assert type(mixed.strategy_.strategy_) is MarginSampling


def test_as_initial_strategy_first_chooses_the_seed_set(digits):
    _, _, X, y = digits

    def learner(initial_strategy):
        return ActiveLearner(LogisticRegression(max_iter=300), BADGE(), initial_size=20,
                             initial_strategy=initial_strategy, batch_size=20, budget=60,
                             random_state=0).fit(X, y)

    switch = SwitchingStrategy(DispersionSampling(random_state=0), BADGE(), switch_at=30)
    # the same initial set (the rounds after differ: the learner drew a seed for the switch)
    np.testing.assert_array_equal(
        learner(switch).labeled_indices_[:20],
        learner(DispersionSampling(random_state=0)).labeled_indices_[:20])
    # a switch that needs a classifier at 0 labels is refused there, as BADGE is
    with pytest.raises(ValueError, match="needs a fitted classifier"):
        learner(SwitchingStrategy(DispersionSampling(), BADGE(), switch_at=0))


def test_nested_params_grid_search_clone_and_pickle(digits, model):
    clf, X_lab, y_lab, X_pool = model
    switch = SwitchingStrategy(RandomSampling(), MarginSampling(), switch_at=40)
    params = switch.get_params(deep=True)
    assert {"first__random_state", "then__estimator", "then__prefit", "switch_at"} <= set(params)
    assert clone(switch).get_params()["switch_at"] == 40
    _, _, X, y = digits
    search = GridSearchCV(
        ActiveLearner(LogisticRegression(max_iter=200), switch, initial_size=20, batch_size=20,
                      budget=60, random_state=0),
        {"strategy__switch_at": [20, 60], "strategy__then": [MarginSampling(), EntropySampling()]},
        cv=2,
    ).fit(X[:300], y[:300])
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_["strategy__switch_at"] in (20, 60)
    fitted = _switch(clf, 50, random_state=0).fit(X_lab[:10], y_lab[:10])
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.rank(X_pool), fitted.rank(X_pool))


# -- the spec: "FIRST>THEN@N" -------------------------------------------------------------


def test_resolve_strategy_reads_switch_specs():
    switch = resolve_strategy("random>badge@50")
    assert type(switch) is SwitchingStrategy
    assert (type(switch.first), type(switch.then), switch.switch_at) == (
        RandomSampling, BADGE, 50)
    twice = resolve_strategy(" Random > MarginSampling@20 > badge@100 ")
    assert twice.switch_at == 100 and type(twice.then) is BADGE
    assert twice.first.switch_at == 20 and type(twice.first.first) is RandomSampling
    assert type(resolve_strategy("badge")) is BADGE  # plain names unchanged


@pytest.mark.parametrize("spec, message", [
    ("random>badge", r"Malformed strategy 'random>badge': write FIRST>THEN@N.*'badge' is not"),
    ("random>badge@", r"'badge@' is not NAME@N"),
    ("random>badge@x", r"'badge@x' is not NAME@N"),
    ("random>badge@-5", r"'badge@-5' is not NAME@N"),
    (">badge@5", r"Malformed strategy '>badge@5'"),
    ("random@5>badge@9", r"Malformed strategy 'random@5>badge@9'"),
    ("random>@5", r"'@5' is not NAME@N"),
    ("random>margin@50>badge@20", r"must increase from left to right \(20 follows 50\)"),
    ("random>badger@5", r"Unknown strategy 'badger'. Valid names"),
])
def test_malformed_specs_say_how_to_write_them(spec, message):
    with pytest.raises(ValueError, match=message):
        resolve_strategy(spec)


def test_compare_strategies_and_cli_name_the_switch(digits, tmp_path, capsys):
    import json

    from skal.__main__ import main

    _, _, X, y = digits
    learner = ActiveLearner(LogisticRegression(max_iter=200), initial_size=20, batch_size=20,
                            budget=60)
    comparison = compare_strategies(learner, ["random>margin@40"], X[:300], y[:300],
                                    n_repeats=1, cv=2, random_state=0)
    assert comparison.names == ["RandomSampling", "random>margin@40"]
    status = main(["compare", "--strategies", "random", "random>badge@30", "--trials", "1",
                   "--budget", "40", "--model", "logreg", "--pool-size", "400",
                   "--test-size", "200", "--output", str(tmp_path)])
    assert status == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [row["strategy"] for row in summary] == ["RandomSampling", "random>badge@30"]
    assert main(["compare", "--strategies", "random>badge", "--output", str(tmp_path)]) == 2
    assert "Malformed strategy 'random>badge'" in capsys.readouterr().err
