"""Common checks: scikit-learn's estimator checks, then skal's own over every strategy."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from skal import ActiveLearner, EntropySampling, all_strategies
from skal.base import BaseStrategy
from tests._estimators import dropout_net as _dropout_net
from tests._estimators import estimator_for
from tests._estimators import needs_dropout_net as _needs_dropout_net
from tests._estimators import needs_regressor as _needs_regressor
from tests._estimators import regression_net as _regression_net


def _instances(n_classes=3):
    for name, Strategy in all_strategies():
        params = {"estimator": estimator_for(Strategy, n_classes)}
        if _needs_regressor(Strategy) and "kernel" in Strategy().get_params():
            params["kernel"] = "ll"  # Ridge's features: the sketched gradient needs a net
        if "random_state" in Strategy().get_params():
            params["random_state"] = 0
        yield Strategy(**params)


STRATEGIES = list(_instances())


@parametrize_with_checks(
    # the torch-only strategies run these checks in their own test modules
    [s for s in STRATEGIES if not _needs_dropout_net(type(s))]
    + [
        ActiveLearner(LogisticRegression(), EntropySampling(), random_state=0),
        ActiveLearner(LogisticRegression(), random_state=0, retrain="update"),
    ],
    expected_failed_checks=lambda est: (
        {
            # y == -1 marks an unlabeled sample (scikit-learn's semi-supervised
            # convention); this check uses -1 as a class. scikit-learn exempts
            # SelfTrainingClassifier from it by name for the same reason.
            "check_classifiers_classes": "-1 is the unlabeled marker"
        }
        if isinstance(est, ActiveLearner)
        else {
            # DISTIL's default: the pseudo-labeled pool is part of the validation set
            "check_methods_subset_invariance": "a sample's gain depends on the pool"
        }
        if type(est).__name__ == "GLISTER"
        else {}
    ),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_all_strategies_lists_only_concrete_public_strategies():
    names = [name for name, _ in all_strategies()]
    assert names == sorted(names)
    assert not any(name.startswith("Base") for name in names)
    assert {"RandomSampling", "LeastConfidence", "MarginSampling", "EntropySampling",
            "BADGE", "CoreSet"} <= set(names)
    for _, Strategy in all_strategies():
        assert issubclass(Strategy, BaseStrategy)


def _fitted(strategy, blobs):
    X, y, X_pool = blobs
    return clone(strategy).fit(X, y), X_pool


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: type(s).__name__)
def test_query_returns_unique_pool_indices(strategy, blobs):
    fitted, X_pool = _fitted(strategy, blobs)
    picks = fitted.query(X_pool, batch_size=17)
    assert picks.shape == (17,)
    assert np.issubdtype(picks.dtype, np.integer)
    assert len(np.unique(picks)) == 17
    assert picks.min() >= 0 and picks.max() < len(X_pool)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: type(s).__name__)
def test_rank_is_a_permutation_and_query_is_its_prefix(strategy, blobs):
    fitted, X_pool = _fitted(strategy, blobs)
    ranking = fitted.rank(X_pool)
    assert sorted(ranking.tolist()) == list(range(len(X_pool)))
    for k in (1, 5, len(X_pool)):
        np.testing.assert_array_equal(fitted.query(X_pool, batch_size=k), ranking[:k])


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: type(s).__name__)
def test_same_seed_same_picks(strategy, blobs):
    first, X_pool = _fitted(strategy, blobs)
    second, _ = _fitted(strategy, blobs)
    np.testing.assert_array_equal(first.rank(X_pool), second.rank(X_pool))
    np.testing.assert_array_equal(first.rank(X_pool), first.rank(X_pool))


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: type(s).__name__)
def test_query_before_fit_raises_not_fitted(strategy, blobs):
    _, _, X_pool = blobs
    with pytest.raises(NotFittedError):
        clone(strategy).query(X_pool, batch_size=3)
    with pytest.raises(NotFittedError):
        clone(strategy).rank(X_pool)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: type(s).__name__)
def test_prefit_needs_no_fit_and_matches_fit(strategy, blobs, fitted_logreg):
    X, y, X_pool = blobs
    fitted = fitted_logreg
    if _needs_dropout_net(type(strategy)) or _needs_regressor(type(strategy)):
        fitted = clone(strategy.estimator).fit(X, y)
    prefit = clone(strategy).set_params(estimator=fitted, prefit=True)
    if _needs_regressor(type(strategy)):  # distances to the labels: it needs them
        prefit.fit(X, y)
    picks = prefit.query(X_pool, batch_size=10)
    assert len(np.unique(picks)) == 10
    # unless fit also records the labeled set (k-center's centers, GLISTER's
    # validation set, FASS's covered set, VAAL's labeled samples, TypiClust's
    # and ProbCover's covered clusters and balls, BAIT's labeled Fisher information)
    if not type(strategy)._uses_labeled_set:
        refit = clone(strategy).fit(X, y)
        np.testing.assert_array_equal(picks, refit.query(X_pool, batch_size=10))


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: type(s).__name__)
def test_caller_arrays_are_not_mutated(strategy, blobs):
    X, y, X_pool = (a.copy() for a in blobs)
    copies = X.copy(), y.copy(), X_pool.copy()
    fitted = clone(strategy).fit(X, y)
    fitted.query(X_pool, batch_size=5)
    fitted.rank(X_pool)
    fitted.transform(X_pool)
    for before, after in zip(copies, (X, y, X_pool)):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: type(s).__name__)
def test_works_with_skorch_net(strategy, fitted_net, digits):
    X, y, X_pool, _ = digits
    if _needs_dropout_net(type(strategy)):
        fitted_net = _dropout_net(10).fit(X, y)
    prefit = clone(strategy).set_params(estimator=fitted_net, prefit=True)
    if _needs_regressor(type(strategy)):
        target = y.astype(np.float32).reshape(-1, 1)
        prefit.set_params(estimator=_regression_net().fit(X, target)).fit(X, y)
    ranking = prefit.rank(X_pool)
    assert sorted(ranking.tolist()) == list(range(len(X_pool)))
    np.testing.assert_array_equal(prefit.query(X_pool, batch_size=20), ranking[:20])
    assert prefit.transform(X_pool).shape[0] == len(X_pool)


def _state(strategy):
    """What a strategy holds: attribute names, the objects bound to them, and the
    contents of containers (a cache filled in place would change them)."""
    state = {}
    for key, value in vars(strategy).items():
        inner = sorted(map(repr, value)) if isinstance(value, (dict, list, set)) else None
        state[key] = (id(value), inner)
    return state


def _meta_instances():
    from skal import BADGE, PartitionedStrategy, ProxyPrefilter, SubsetSampling

    for Meta, params in [(SubsetSampling, {"n_candidates": 40}),
                         (ProxyPrefilter, {"n_candidates": 40}),
                         (PartitionedStrategy, {"n_partitions": 3})]:
        yield Meta(BADGE(LogisticRegression(), random_state=0), random_state=0, **params)
    from skal import MarginSampling, RandomSampling, StochasticBatch, SwitchingStrategy

    for mode in ("power", "softrank"):
        yield StochasticBatch(EntropySampling(LogisticRegression()), mode=mode, random_state=0)
    for switch_at in (10, 100):  # blobs has 60 labeled samples: then, first
        yield SwitchingStrategy(RandomSampling(), MarginSampling(LogisticRegression()),
                                switch_at=switch_at, random_state=0)


@pytest.mark.parametrize("strategy", STRATEGIES + list(_meta_instances()),
                         ids=lambda s: type(s).__name__)
def test_query_rank_transform_change_no_state(strategy, blobs):
    # scikit-learn's rule: only fit changes an estimator. A strategy that trains
    # or draws at query time keeps it in the ranking it returns, never on self.
    fitted, X_pool = _fitted(strategy, blobs)
    before = _state(fitted)
    fitted.query(X_pool, batch_size=5)
    fitted.rank(X_pool)
    fitted.transform(X_pool)
    ranking = fitted.lazy_rank(X_pool[:50])
    ranking.take(3)
    ranking.add(X_pool[50:60])
    ranking.take(3)
    assert _state(fitted) == before


def test_one_registry_names_every_strategy():
    # a strategy module's __all__ is all it takes to be exported and named
    import importlib
    import pkgutil

    import skal
    from skal import strategies
    from skal._cli import build_parser
    from skal.model_selection import resolve_strategy, strategy_aliases

    exported = []
    for info in pkgutil.iter_modules(strategies.__path__):
        module = importlib.import_module(f"skal.strategies.{info.name}")
        exported += list(getattr(module, "__all__", ()))
    assert sorted(exported) == strategies.__all__
    assert set(exported) <= set(skal.__all__)
    aliases = strategy_aliases()
    for name, Strategy in all_strategies():
        assert Strategy._aliases, f"{name} has no short name"
        for alias in Strategy._aliases:
            assert aliases[alias] == name
            assert type(resolve_strategy(alias)) is Strategy
            assert type(resolve_strategy(alias.upper())) is Strategy
        assert type(resolve_strategy(name)) is Strategy
    help_text = build_parser()._subparsers._group_actions[0].choices["compare"].format_help()
    assert all(alias in " ".join(help_text.split()) for alias in aliases)


def test_unknown_strategy_name_lists_the_valid_ones():
    from skal.model_selection import resolve_strategy

    with pytest.raises(ValueError, match="Unknown strategy 'badger'. Valid names: .*BADGE.*badge"):
        resolve_strategy("badger")
