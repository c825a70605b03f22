"""GreedySampling: GSx, GSy and iGS against a slow reference, exact picks on hand-built
pools, the lazy ranking with samples joining, errors, and persistence."""

import math
import pickle

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils._param_validation import InvalidParameterError

from skal import GreedySampling
from skal.model_selection import resolve_strategy

APPROACHES = ("x", "y", "xy")

# -- the slow reference, from the definitions, one pair at a time ----------------------------


def ref_distance(approach, x_n, f_n, x_m, y_m):
    """d(n, m): the Euclidean distance of the inputs, |f(x_n) − y_m|, or their product."""
    d_x = math.sqrt(sum((a - b) ** 2 for a, b in zip(x_n, x_m)))
    d_y = abs(f_n - y_m)
    return {"x": d_x, "y": d_y, "xy": d_x * d_y}[approach]


def ref_greedy(approach, X_lab, y_lab, steps, combine=None):
    """Picks of greedy sampling over a pool that grows.

    ``steps`` is a list of ``("add", X_new, f_new)`` (samples joining, with their
    predictions) and ``("take", k)``. References: the labeled set with its true labels,
    then every pick with its prediction. Each pick maximizes the minimum over the
    references of ``d``, ties to the lowest index (a strict ``>`` over increasing
    indices). ``combine`` replaces the minimum of ``d`` (to check it matters).
    """
    X_pool, f_pool, picks = [], [], []
    refs = [(list(x), float(v)) for x, v in zip(X_lab, y_lab)]
    for step in steps:
        if step[0] == "add":
            X_pool += [list(x) for x in step[1]]
            f_pool += [float(v) for v in step[2]]
            continue
        for _ in range(step[1]):
            best, best_d = None, -1.0
            for i in range(len(X_pool)):
                if i in picks:
                    continue
                if combine is None:
                    d = min(ref_distance(approach, X_pool[i], f_pool[i], x_m, y_m)
                            for x_m, y_m in refs)
                else:
                    d = combine(X_pool[i], f_pool[i], refs)
                if d > best_d:
                    best, best_d = i, d
            if best is None:
                break
            picks.append(best)
            refs.append((X_pool[best], f_pool[best]))
    return picks


def product_of_minima(x_n, f_n, refs):
    """What iGS is *not*: min_m d_x times min_m d_y."""
    return (min(ref_distance("x", x_n, f_n, x_m, y_m) for x_m, y_m in refs)
            * min(ref_distance("y", x_n, f_n, x_m, y_m) for x_m, y_m in refs))


def problem(seed, n_lab=5, n_pool=25, n_new=6, n_features=3):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_lab + n_pool + n_new, n_features))
    y = X @ rng.normal(size=n_features) + np.sin(3 * X[:, 0]) + 0.1 * rng.normal(size=len(X))
    return (X[:n_lab], y[:n_lab], X[n_lab:n_lab + n_pool], X[n_lab + n_pool:])


class IdentityRegressor(RegressorMixin, BaseEstimator):
    """A "fitted" regressor whose prediction is the first feature, exactly."""

    def fit(self, X, y):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X):
        return np.asarray(X, dtype=float)[:, 0].copy()


# -- the picks are the reference's ----------------------------------------------------------


@pytest.mark.parametrize("approach", APPROACHES)
@pytest.mark.parametrize("seed", range(4))
def test_rank_query_and_lazy_rank_are_the_reference(approach, seed):
    X_lab, y_lab, X_pool, X_new = problem(seed)
    strategy = GreedySampling(Ridge(alpha=1.0), approach=approach).fit(X_lab, y_lab)
    ridge = Ridge(alpha=1.0).fit(X_lab, y_lab)
    f_pool, f_new = ridge.predict(X_pool), ridge.predict(X_new)

    expected = ref_greedy(approach, X_lab, y_lab, [("add", X_pool, f_pool), ("take", 25)])
    np.testing.assert_array_equal(strategy.rank(X_pool), expected)
    np.testing.assert_array_equal(strategy.query(X_pool, 7), expected[:7])

    # lazily: 4 picks, 6 samples join, then the rest of the grown pool
    steps = [("add", X_pool, f_pool), ("take", 4), ("add", X_new, f_new), ("take", 31)]
    expected_lazy = ref_greedy(approach, X_lab, y_lab, steps)
    ranking = strategy.lazy_rank(X_pool)
    first = ranking.take(4)
    np.testing.assert_array_equal(ranking.add(X_new), np.arange(25, 31))
    np.testing.assert_array_equal(np.concatenate([first, ranking.take(100)]), expected_lazy)
    assert set(expected_lazy[4:]) & set(range(25, 31))  # the new samples were picked


def test_igs_is_the_minimum_of_the_product_not_the_product_of_minima():
    differs = 0
    for seed in range(4):
        X_lab, y_lab, X_pool, _ = problem(seed)
        f_pool = Ridge(alpha=1.0).fit(X_lab, y_lab).predict(X_pool)
        steps = [("add", X_pool, f_pool), ("take", 25)]
        ranks = GreedySampling(Ridge(alpha=1.0), approach="xy").fit(X_lab, y_lab).rank(X_pool)
        np.testing.assert_array_equal(ranks, ref_greedy("xy", X_lab, y_lab, steps))
        differs += ranks.tolist() != ref_greedy("xy", X_lab, y_lab, steps,
                                                combine=product_of_minima)
    assert differs > 0  # the problems tell the two definitions apart


def test_gsx_needs_no_estimator_and_takes_float_targets():
    X_lab, y_lab, X_pool, _ = problem(0)
    strategy = GreedySampling(approach="x").fit(X_lab, y_lab)
    assert strategy.estimator_ is None
    expected = ref_greedy("x", X_lab, np.zeros(len(X_lab)), [("add", X_pool, np.zeros(25)),
                                                             ("take", 25)])
    np.testing.assert_array_equal(strategy.rank(X_pool), expected)
    # without labels too, and an estimator given is ignored
    np.testing.assert_array_equal(GreedySampling(approach="x").fit(X_lab).rank(X_pool), expected)
    np.testing.assert_array_equal(
        GreedySampling(LogisticRegression(), approach="x").fit(X_lab, y_lab).rank(X_pool), expected)


def test_gsx_without_a_labeled_set_starts_at_random_then_goes_farthest_first():
    _, _, X_pool, _ = problem(1)
    ranks = [GreedySampling(approach="x", prefit=True, random_state=seed).rank(X_pool)
             for seed in (0, 0, 1, 2, 3)]
    np.testing.assert_array_equal(ranks[0], ranks[1])  # the same seed, the same picks
    assert len({int(r[0]) for r in ranks}) > 1  # the first pick is drawn
    for r in ranks:
        first = int(r[0])
        # the first pick as the one reference: the other 24 farthest-first
        rest = ref_greedy("x", X_pool[[first]], [0.0], [("add", X_pool, np.zeros(25)),
                                                         ("take", 24)])
        assert first not in rest
        np.testing.assert_array_equal(r[1:], rest)


# -- exact picks on a hand-built pool, and ties to the lower index --------------------------


@pytest.mark.parametrize("approach", APPROACHES)
def test_exact_picks_and_ties_to_the_lower_index(approach):
    # One labeled sample at 0 with label 0; f(x) = x. With d_x = |x_n − x_m| and
    # d_y = |x_n − y_m| here, the first minima are 1, 2, 2, 1 (x, y) or 1, 4, 4, 1 (xy):
    # index 1 beats its tie 2. Then -2 is a reference: 2 is farthest (2 or 4 against
    # 1 and 1); then 0 and 3 tie (1 and 1): 0 first.
    X_lab, y_lab = np.array([[0.0]]), np.array([0.0])
    X_pool = np.array([[1.0], [-2.0], [2.0], [-1.0]])
    strategy = GreedySampling(IdentityRegressor(), approach=approach).fit(X_lab, y_lab)
    np.testing.assert_array_equal(strategy.rank(X_pool), [1, 2, 0, 3])
    np.testing.assert_array_equal(strategy.query(X_pool, 2), [1, 2])
    expected = ref_greedy(approach, X_lab, y_lab, [("add", X_pool, X_pool[:, 0]), ("take", 4)])
    assert expected == [1, 2, 0, 3]


def test_gsy_uses_the_true_labels_of_the_labeled_set():
    # the labeled sample sits at x = 0 but its label is 5: GSy measures |f(x) − 5|
    X_pool = np.array([[0.0], [4.0], [9.0], [-3.0]])
    strategy = GreedySampling(IdentityRegressor(), approach="y")
    strategy.fit(np.array([[0.0]]), np.array([5.0]))
    # |0 − 5| = 5, |4 − 5| = 1, |9 − 5| = 4, |−3 − 5| = 8: −3 first; then min with
    # |f − (−3)|: 3, 1, 4 → 9 (index 2); then min with |f − 9|: 3, 1 → 0, then 1
    np.testing.assert_array_equal(strategy.rank(X_pool), [3, 2, 0, 1])


# -- transform ------------------------------------------------------------------------------


def test_transform_is_what_the_picks_are_computed_from():
    X_lab, y_lab, X_pool, _ = problem(2)
    ridge = Ridge().fit(X_lab, y_lab)
    f = ridge.predict(X_pool)
    out = {a: GreedySampling(ridge, approach=a, prefit=True).transform(X_pool) for a in APPROACHES}
    np.testing.assert_array_equal(out["x"], X_pool)
    np.testing.assert_allclose(out["y"], f[:, None])
    np.testing.assert_allclose(out["xy"], np.column_stack([X_pool, f]))


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("approach", ["y", "xy"])
def test_a_classifier_is_refused_with_the_fix(approach):
    X_lab, y_lab, X_pool, _ = problem(0)
    labels = (y_lab > np.median(y_lab)).astype(int)
    with pytest.raises(ValueError, match=f"approach='{approach}'.*LogisticRegression is not "
                                         "a regressor.*approach='x'"):
        GreedySampling(LogisticRegression(), approach=approach).fit(X_lab, labels)
    clf = LogisticRegression().fit(X_lab, labels)
    with pytest.raises(ValueError, match="not a regressor"):
        GreedySampling(clf, approach=approach, prefit=True).query(X_pool, 2)


@pytest.mark.parametrize("approach", ["y", "xy"])
def test_labels_are_needed_for_the_outputs(approach):
    X_lab, y_lab, X_pool, _ = problem(0)
    ridge = Ridge().fit(X_lab, y_lab)
    strategy = GreedySampling(ridge, approach=approach, prefit=True)
    with pytest.raises(ValueError, match=r"call fit\(X_labeled, y_labeled\)"):
        strategy.query(X_pool, 2)
    with pytest.raises(ValueError, match=r"call fit\(X_labeled, y_labeled\)"):
        strategy.fit(X_lab).lazy_rank(X_pool)
    assert strategy.transform(X_pool).shape[0] == len(X_pool)  # no labels needed
    with pytest.raises(ValueError, match="no regressor to ask"):
        GreedySampling(approach=approach).fit(X_lab, y_lab)


def test_unfitted_and_invalid_parameters():
    X_lab, y_lab, X_pool, _ = problem(0)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        GreedySampling(Ridge(), approach="xy").query(X_pool, 2)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        GreedySampling(approach="x").rank(X_pool)
    with pytest.raises(InvalidParameterError, match="approach"):
        GreedySampling(Ridge(), approach="z").fit(X_lab, y_lab)
    with pytest.raises(ValueError, match="batch_size=26 is larger than the pool"):
        GreedySampling(Ridge(), approach="y").fit(X_lab, y_lab).query(X_pool, 26)


# -- the caller's arrays, clone, pickle, names ----------------------------------------------


@pytest.mark.parametrize("approach", APPROACHES)
def test_the_callers_arrays_are_not_changed(approach):
    X_lab, y_lab, X_pool, X_new = problem(3)
    copies = [a.copy() for a in (X_lab, y_lab, X_pool, X_new)]
    strategy = GreedySampling(Ridge(), approach=approach).fit(X_lab, y_lab)
    strategy.rank(X_pool)
    strategy.transform(X_pool)
    ranking = strategy.lazy_rank(X_pool)
    ranking.take(3)
    ranking.add(X_new)
    ranking.take(100)
    for original, copy in zip((X_lab, y_lab, X_pool, X_new), copies):
        np.testing.assert_array_equal(original, copy)


@pytest.mark.parametrize("approach", APPROACHES)
def test_clone_and_pickle(approach):
    X_lab, y_lab, X_pool, _ = problem(1)
    strategy = GreedySampling(Ridge(), approach=approach, random_state=0).fit(X_lab, y_lab)
    cloned = clone(strategy)
    assert cloned.get_params()["approach"] == approach
    assert not hasattr(cloned, "X_labeled_")
    np.testing.assert_array_equal(cloned.fit(X_lab, y_lab).rank(X_pool), strategy.rank(X_pool))
    restored = pickle.loads(pickle.dumps(strategy))
    np.testing.assert_array_equal(restored.rank(X_pool), strategy.rank(X_pool))


def test_approach_comes_first_and_the_name():
    assert GreedySampling(approach="y").approach == "y"
    assert GreedySampling().get_params()["approach"] == "xy"
    assert type(resolve_strategy("greedy")) is GreedySampling
    assert GreedySampling._serves_regression
    assert not GreedySampling(approach="x")._needs_estimator and GreedySampling(approach="xy")._needs_estimator
