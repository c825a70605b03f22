"""Facility-location engine and the seed-set strategies against slow references.

The reference greedy below computes every gain from its definition,
``f(S ∪ {j}) − f(S)``, with plain Python loops in float64. The engine computes
similarities in float32, so the two are compared pick by pick for as long as
the reference's best gain beats the runner-up by more than float32 rounding.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skal import ActiveLearner
from skal.selection._submodular import FacilityLocationRanking, facility_location_ordering
from skal.strategies._seed import DispersionSampling, FacilityLocationSampling
from tests._reference import reference_kcenter

# --------------------------------------------------------------------------
# slow references
# --------------------------------------------------------------------------


def reference_gains(Y, G=None, gamma=1.0, chosen=(), labels=None, ground_labels=None,
                    X_selected=None, selected_labels=None):
    """``{j: f(S ∪ {j}) − f(S)}`` for every unchosen ``j``, by definition.

    ``f(S) = Σ_i max over the rows of S and X_selected (of the class of i,
    with labels) of exp(−γ ‖g_i − x‖²)``, with plain loops in float64.
    """
    Y = np.asarray(Y, dtype=np.float64)
    G = Y if G is None else np.asarray(G, dtype=np.float64)
    if labels is not None and ground_labels is None:
        ground_labels = labels

    def label(arr, t):
        return None if arr is None else arr[t]

    def f(rows):
        total = 0.0
        for i in range(len(G)):
            best = 0.0
            for row, row_label in rows:
                if labels is None or row_label == label(ground_labels, i):
                    best = max(best, float(np.exp(-gamma * np.sum((G[i] - row) ** 2))))
            total += best
        return total

    base = [] if X_selected is None else [
        (np.asarray(x, dtype=np.float64), label(selected_labels, t))
        for t, x in enumerate(X_selected)
    ]
    rows = base + [(Y[j], label(labels, j)) for j in chosen]
    current = f(rows)
    return {
        j: f(rows + [(Y[j], label(labels, j))]) - current
        for j in range(len(Y))
        if j not in chosen
    }


def assert_greedy(got, Y, tol=1e-5, **kwargs):
    """Every pick of ``got`` is the greedy choice given the picks before it.

    Facility location has exact ties (two close points cover each other
    equally well), which float32 similarities break either way: a pick must
    have the best gain up to ``tol``, and be *the* best when that one beats
    every other by more than ``tol``. Returns the number of clear-cut picks.
    """
    got = [int(j) for j in got]
    clear = 0
    for t, pick in enumerate(got):
        gains = reference_gains(Y, chosen=got[:t], **kwargs)
        best = max(gains.values())
        assert gains[pick] >= best - tol, (t, pick, gains)
        leader = min(j for j, g in gains.items() if g == best)
        if all(g < best - tol for j, g in gains.items() if j != leader):
            assert pick == leader, (t, pick, gains)
            clear += 1
    return clear


# --------------------------------------------------------------------------
# the engine
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_plain_greedy_matches_definition(seed):
    rng = np.random.RandomState(seed)
    Y = rng.randn(9, 3)
    got = FacilityLocationRanking(Y, gamma=0.5, lazy=False).take(9)
    assert sorted(got.tolist()) == list(range(9))
    assert assert_greedy(got, Y, gamma=0.5) >= 3


@pytest.mark.parametrize("seed", range(4))
def test_plain_greedy_matches_definition_with_ground_labels_and_selected(seed):
    rng = np.random.RandomState(100 + seed)
    Y, G, S = rng.randn(8, 2), rng.randn(6, 2), rng.randn(2, 2)
    labels, ground_labels, selected_labels = (
        rng.randint(2, size=8), rng.randint(2, size=6), np.array([0, 1])
    )
    got = FacilityLocationRanking(
        Y, X_ground=G, labels=labels, ground_labels=ground_labels, X_selected=S,
        selected_labels=selected_labels, gamma=0.7, lazy=False,
    ).take(8)
    clear = assert_greedy(got, Y, G=G, gamma=0.7, labels=labels, ground_labels=ground_labels,
                          X_selected=S, selected_labels=selected_labels)
    assert clear >= 2


def _random_instance(rng):
    n, m, d = rng.randint(5, 60), rng.randint(1, 40), rng.randint(1, 6)
    Y = rng.randn(n, d)
    if rng.rand() < 0.5:  # exact duplicates: exact ties
        Y[rng.randint(n, size=n // 3)] = Y[rng.randint(n, size=n // 3)]
    kwargs = {"gamma": float(rng.choice([0.1, 1.0, 5.0]))}
    if rng.rand() < 0.5:
        kwargs["X_ground"] = rng.randn(m, d)
    if rng.rand() < 0.5:
        kwargs["labels"] = rng.randint(3, size=n)
        if "X_ground" in kwargs:
            kwargs["ground_labels"] = rng.randint(3, size=m)
    if rng.rand() < 0.3:
        kwargs["X_selected"] = rng.randn(2, d)
        if "labels" in kwargs:
            kwargs["selected_labels"] = rng.randint(3, size=2)
    return Y, kwargs


def test_lazy_greedy_equals_plain_greedy_on_many_instances():
    rng = np.random.RandomState(0)
    for _ in range(150):
        Y, kwargs = _random_instance(rng)
        lazy = FacilityLocationRanking(Y, **kwargs)
        plain = FacilityLocationRanking(Y, lazy=False, **kwargs)
        # consumed in different chunk sizes: the order must not depend on them
        got = np.concatenate([lazy.take(1), lazy.take(3), lazy.take(len(Y))])
        np.testing.assert_array_equal(got, plain.take(len(Y)))
        assert sorted(got.tolist()) == list(range(len(Y)))


def test_lazy_greedy_equals_plain_greedy_with_blocks_recomputed():
    rng = np.random.RandomState(1)
    Y = rng.randn(3000, 4)
    G = Y[rng.permutation(3000)[:1500]]
    tiny = FacilityLocationRanking(Y, X_ground=G, max_cache_bytes=4 * 1500 * 2796)
    plain = FacilityLocationRanking(Y, X_ground=G, lazy=False)
    np.testing.assert_array_equal(tiny.take(40), plain.take(40))
    assert tiny.n_block_computations_ > 2  # the 2 blocks did not both fit: recomputed


def test_lazy_add_equals_plain_add():
    rng = np.random.RandomState(2)
    for _ in range(30):
        Y, kwargs = _random_instance(rng)
        Y_new = rng.randn(7, Y.shape[1])
        extra = {}
        if "labels" in kwargs:
            extra["labels"] = rng.randint(3, size=7)
        lazy = FacilityLocationRanking(Y, **kwargs)
        plain = FacilityLocationRanking(Y, lazy=False, **kwargs)
        first = lazy.take(3)
        np.testing.assert_array_equal(first, plain.take(3))
        np.testing.assert_array_equal(lazy.add(Y_new, **extra), plain.add(Y_new, **extra))
        np.testing.assert_array_equal(lazy.take(100), plain.take(100))
        assert sorted(lazy.ranked.tolist()) == list(range(len(Y) + 7))


def test_exact_ties_go_to_the_lowest_index():
    Y = np.array([[5.0], [0.0], [5.0], [0.0]])  # two pairs of duplicates
    ranking = FacilityLocationRanking(Y, gamma=1.0)
    assert ranking.take(4).tolist() == [0, 1, 2, 3]


def test_hand_computed_picks_and_saturated_tail():
    # the middle of the three close points covers them best; then the far pair
    X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1]])
    ranking = FacilityLocationRanking(X, gamma=1.0)
    assert ranking.take(2).tolist() == [1, 3]
    # after 0, 2 and 4 every point is chosen: the rest would be index order
    assert ranking.take(3).tolist() == [0, 2, 4]


def test_ground_set_fully_covered_gives_index_order_at_no_cost():
    rng = np.random.RandomState(3)
    Y = rng.randn(200, 3)
    ranking = FacilityLocationRanking(Y, X_ground=Y[[150, 7]], gamma=1.0)
    first = ranking.take(2)
    assert sorted(first.tolist()) == [7, 150]
    evaluations = ranking.n_evaluations_
    rest = ranking.take(500)
    assert rest.tolist() == [j for j in range(200) if j not in (7, 150)]
    assert ranking.n_evaluations_ == evaluations


def test_default_gamma_is_one_over_mean_squared_distance():
    rng = np.random.RandomState(4)
    Y, G = rng.randn(30, 4), rng.randn(12, 4)
    mean_d2 = np.mean([np.sum((g - y) ** 2) for g in G for y in Y])
    assert FacilityLocationRanking(Y, X_ground=G).gamma_ == pytest.approx(1 / mean_d2)
    assert FacilityLocationRanking(np.ones((4, 2))).gamma_ == 1.0  # all distances 0


def test_ordering_function_and_prefix_property():
    rng = np.random.RandomState(5)
    X = rng.randn(40, 3)
    full = facility_location_ordering(X)
    assert sorted(full.tolist()) == list(range(40))
    for k in (1, 7, 40):
        np.testing.assert_array_equal(facility_location_ordering(X, k), full[:k])
    with pytest.raises(InvalidParameterError, match="gamma"):
        facility_location_ordering(X, gamma=-1.0)
    with pytest.raises(ValueError, match="n_select=41"):
        facility_location_ordering(X, 41)


def test_engine_bad_input():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="features"):
        FacilityLocationRanking(X, X_ground=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="ground_labels"):
        FacilityLocationRanking(X, X_ground=X, labels=[0, 1, 0])
    with pytest.raises(ValueError, match="NaN"):
        FacilityLocationRanking(np.array([[np.nan, 0.0]]))
    ranking = FacilityLocationRanking(X)
    with pytest.raises(ValueError, match="labels"):
        ranking.add(X, labels=[0, 0, 0])


# --------------------------------------------------------------------------
# the strategies
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pool():
    return np.random.RandomState(0).randn(40, 3).astype(np.float32)


def test_facility_location_sampling_hand_built():
    X = np.array([[0.0, 0.0], [0.1, 0.0], [0.2, 0.0], [5.0, 5.0], [5.1, 5.0]])
    strategy = FacilityLocationSampling(gamma=1.0).fit(X)
    assert strategy.rank(X).tolist() == [1, 3, 0, 2, 4]


def test_facility_location_sampling_matches_reference(pool):
    X = pool[:12]
    got = FacilityLocationSampling(gamma=0.3).fit(X).rank(X)
    assert assert_greedy(got, X, gamma=0.3) >= 3


def test_represented_subsample_is_seeded_and_matches_reference(pool):
    m, seed = 9, 3
    ground = np.sort(np.random.RandomState(seed).permutation(len(pool))[:m])
    strategy = FacilityLocationSampling(
        n_represented=m, gamma=0.3, random_state=seed, prefit=True
    )
    got = strategy.rank(pool)
    assert assert_greedy(got[:12], pool, G=pool[ground], gamma=0.3) >= 3
    np.testing.assert_array_equal(got, strategy.rank(pool))
    other = FacilityLocationSampling(n_represented=m, gamma=0.3, random_state=4, prefit=True)
    assert not np.array_equal(other.rank(pool), got)


def test_dispersion_sampling_matches_reference(pool):
    for seed in (0, 1):
        got = DispersionSampling(random_state=seed).fit(pool).rank(pool)
        assert got.tolist() == reference_kcenter(pool, None, seed)


def test_dispersion_sampling_hand_built():
    X = np.array([[0.0], [1.0], [2.0], [10.0]])
    ranking = DispersionSampling(random_state=0, prefit=True).rank(X)
    assert ranking.tolist() == [2, 3, 0, 1]  # int(0.5488 * 4) = 2 first, then farthest


@pytest.mark.parametrize("Strategy", [FacilityLocationSampling, DispersionSampling])
def test_initial_strategy_call_pattern(Strategy, pool):
    X = pool.copy()
    strategy = clone(Strategy(random_state=0))
    picks = strategy.fit(X).query(X, 5)  # what ActiveLearner does: no y, no estimator
    assert len(np.unique(picks)) == 5
    assert strategy.estimator_ is None
    np.testing.assert_array_equal(X, pool)
    prefit = Strategy(prefit=True, random_state=0)  # no fit at all, as RandomSampling
    np.testing.assert_array_equal(prefit.query(X, 5), picks)
    with pytest.raises(NotFittedError):
        Strategy(random_state=0).query(X, 5)
    # labels and an (unfitted) estimator are accepted and change nothing
    with_y = Strategy(LogisticRegression(), random_state=0).fit(X, np.arange(40) % 2)
    np.testing.assert_array_equal(with_y.query(X, 5), picks)


@pytest.mark.parametrize("Strategy", [FacilityLocationSampling, DispersionSampling])
def test_rank_permutation_prefix_and_lazy_rank(Strategy, pool):
    strategy = Strategy(prefit=True, random_state=1)
    ranking = strategy.rank(pool)
    assert sorted(ranking.tolist()) == list(range(len(pool)))
    for k in (1, 6, len(pool)):
        np.testing.assert_array_equal(strategy.query(pool, k), ranking[:k])
    lazy = strategy.lazy_rank(pool[:30])
    first = lazy.take(4)
    np.testing.assert_array_equal(first, strategy.rank(pool[:30])[:4])
    assert lazy.add(pool[30:]).tolist() == list(range(30, 40))
    rest = lazy.take(100)
    assert sorted(np.concatenate([first, rest]).tolist()) == list(range(40))


def test_dispersion_lazy_add_picks_a_far_new_sample():
    X = np.array([[0.0], [1.0], [2.0]])
    lazy = DispersionSampling(prefit=True, random_state=0).lazy_rank(X)
    lazy.take(1)
    lazy.add(np.array([[100.0]]))
    assert next(lazy) == 3


def test_facility_location_lazy_add_new_candidates_cover_the_initial_pool():
    X = np.array([[0.0], [0.1], [5.0], [5.1], [5.2]])
    lazy = FacilityLocationSampling(gamma=1.0, prefit=True).lazy_rank(X)
    assert lazy.take(1).tolist() == [3]
    lazy.add(np.array([[0.05]]))  # a better representative of the first pair
    assert next(lazy) == 5


def test_images_are_flattened(pool):
    images = pool[:, :, None, None] * np.ones((1, 1, 2, 2), dtype=np.float32)
    flat = images.reshape(len(images), -1)
    for Strategy in (FacilityLocationSampling, DispersionSampling):
        a = Strategy(prefit=True, random_state=0).rank(images)
        np.testing.assert_array_equal(a, Strategy(prefit=True, random_state=0).rank(flat))
        assert Strategy(prefit=True).transform(images).shape == (40, 12)


def test_embedding_transformer_and_classifier(pool):
    pca = PCA(n_components=2).fit(pool)
    Z = pca.transform(pool)
    for Strategy in (FacilityLocationSampling, DispersionSampling):
        with_pca = Strategy(embedding=pca, prefit=True, random_state=0)
        on_z = Strategy(prefit=True, random_state=0)
        np.testing.assert_array_equal(with_pca.rank(pool), on_z.rank(Z.astype(np.float32)))
    y = (pool[:, 0] > 0).astype(int)
    mlp = MLPClassifier(hidden_layer_sizes=(5,), max_iter=50, random_state=0).fit(pool, y)
    H = np.maximum(pool @ mlp.coefs_[0] + mlp.intercepts_[0], 0)
    strategy = FacilityLocationSampling(embedding=mlp, prefit=True)
    np.testing.assert_allclose(strategy.transform(pool), H, rtol=1e-5, atol=1e-6)


def test_embedding_skorch_net(fitted_net, digits):
    _, _, X_pool, _ = digits
    X_pool = X_pool[:150]
    params = {name: p.detach().clone() for name, p in fitted_net.module_.named_parameters()}
    training = fitted_net.module_.training
    for Strategy in (FacilityLocationSampling, DispersionSampling):
        strategy = Strategy(embedding=fitted_net, random_state=0).fit(X_pool)
        ranking = strategy.rank(X_pool)
        assert sorted(ranking.tolist()) == list(range(150))
        np.testing.assert_array_equal(strategy.query(X_pool, 10), ranking[:10])
        assert strategy.transform(X_pool).shape == (150, 16)
    assert fitted_net.module_.training == training
    for name, p in fitted_net.module_.named_parameters():
        assert torch_equal(p, params[name])


def torch_equal(a, b):
    import torch

    return bool(torch.equal(a.detach(), b))


def test_unfitted_embedding_raises(pool):
    strategy = FacilityLocationSampling(embedding=PCA(2), prefit=True)
    with pytest.raises(NotFittedError, match="embedding PCA is not fitted"):
        strategy.query(pool, 3)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_represented": 0}, "n_represented"),
        ({"gamma": -1.0}, "gamma"),
        ({"gamma": 0.0}, "gamma"),
        ({"embedding": "pca"}, "embedding"),
    ],
)
def test_bad_parameters(params, match, pool):
    with pytest.raises(InvalidParameterError, match=match):
        FacilityLocationSampling(**params).fit(pool)


def test_active_learner_initial_strategy(pool):
    y = (pool[:, 0] > 0).astype(int)
    learner = ActiveLearner(
        LogisticRegression(), initial_strategy=FacilityLocationSampling(),
        initial_size=6, batch_size=5, budget=16, random_state=0,
    ).fit(pool, y)
    expected = FacilityLocationSampling(random_state=0).fit(pool).query(pool, 6)
    # no random subsample (40 < n_represented): the seed set is the greedy prefix
    assert sorted(np.flatnonzero(learner.label_round_ == 0)) == sorted(expected)


@parametrize_with_checks(
    [
        FacilityLocationSampling(LogisticRegression(), random_state=0),
        DispersionSampling(LogisticRegression(), random_state=0),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
