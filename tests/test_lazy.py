"""Lazy rankings: one index at a time, over a pool that can grow.

The k-means++ and k-center rankings with additions are checked against slow
references that recompute every distance from scratch over the points present
at each step (``tests/_reference.py``), with the same uniform numbers; the
strategies' ``lazy_rank`` against their own ``rank``.
"""

import numpy as np
import pytest
from scipy.stats import chisquare

from tests._estimators import estimator_for
from tests._reference import (
    reference_kcenter,
    reference_kcenter_growing,
    reference_kmeans_plusplus,
    reference_kmeans_plusplus_growing,
)

import skal
from skal.embeddings import gradient_embedding, penultimate_embedding
from skal.selection import (
    KCenterGreedyRanking,
    KMeansPlusPlusRanking,
    OuterProduct,
    kcenter_greedy_ordering,
    kmeans_plusplus_ordering,
)
from skal.selection._backends import NumbaBackend, TorchBackend
from skal.selection import ScoreRanking


def outer_products(h, e):
    return np.einsum("ni,nc->nic", h, e).reshape(h.shape[0], -1)


def as_f32(X):
    return np.asarray(X, dtype=np.float32).astype(np.float64)


def run_with_additions(ranking, additions, chunk=3):
    """Take indices in chunks, adding ``additions[t]`` once ``t`` are taken.

    Checks on the way that yielded indices never change and that new points
    get the next indices. Returns the whole sequence, including what was
    taken before the call; the keys of ``additions`` count from the start.
    """
    out = ranking.ranked.tolist()
    for step in sorted(additions):
        while len(out) < step:
            got = ranking.take(min(chunk, step - len(out))).tolist()
            assert got
            out += got
        before = ranking.ranked.tolist()
        n = ranking.n_points
        new = ranking.add(additions[step])
        assert new.dtype == np.intp
        assert new.tolist() == list(range(n, n + len(additions[step])))
        assert ranking.n_points == n + len(additions[step])
        assert ranking.ranked.tolist() == before == out
    while True:
        got = ranking.take(chunk).tolist()
        if not got:
            break
        out += got
    assert sorted(out) == list(range(ranking.n_points))
    return out


# --------------------------------------------------------------------------
# lazy == eager
# --------------------------------------------------------------------------


def _lazy_cases():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 3)
    X[30:35] = X[:5]  # duplicates
    h, e = rng.randn(40, 4), rng.randn(40, 3)
    C = rng.randn(3, 3)
    return [
        ("kmeans", lambda **kw: KMeansPlusPlusRanking(X, **kw, method="scan"),
         lambda **kw: kmeans_plusplus_ordering(X, **kw, method="scan")),
        ("kmeans-random", lambda **kw: KMeansPlusPlusRanking(X, init="random", **kw, method="scan"),
         lambda **kw: kmeans_plusplus_ordering(X, init="random", **kw, method="scan")),
        ("kmeans-outer", lambda **kw: KMeansPlusPlusRanking(OuterProduct(h, e), **kw, method="scan"),
         lambda **kw: kmeans_plusplus_ordering(OuterProduct(h, e), **kw, method="scan")),
        ("kcenter", lambda **kw: KCenterGreedyRanking(X, **kw),
         lambda **kw: kcenter_greedy_ordering(X, **kw)),
        ("kcenter-centers", lambda **kw: KCenterGreedyRanking(X, X_centers=C, **kw),
         lambda **kw: kcenter_greedy_ordering(X, X_centers=C, **kw)),
    ]


_CASES = _lazy_cases()


@pytest.mark.parametrize("case", _CASES, ids=[c[0] for c in _CASES])
def test_lazy_sequence_equals_eager_ordering(case):
    _, make, eager = case
    for seed in range(3):
        expected = eager(random_state=seed).tolist()
        assert sorted(expected) == list(range(40))
        # one at a time
        ranking = make(random_state=seed)
        assert ranking.n_points == 40
        assert [next(ranking) for _ in range(40)] == expected
        with pytest.raises(StopIteration):
            next(ranking)
        assert ranking.take(5).tolist() == []
        assert ranking.ranked.tolist() == expected
        # uneven chunks, stopping and continuing
        ranking = make(random_state=seed)
        got = []
        for k in (1, 4, 2, 7, 3):
            part = ranking.take(k)
            assert part.dtype == np.intp and part.shape == (k,)
            got += part.tolist()
            assert ranking.ranked.tolist() == got
        assert got == expected[:17]
        assert next(ranking) == expected[17]
        # take returns fewer when the pool runs out; iteration yields the rest
        rest = ranking.take(15).tolist() + list(ranking)
        assert got + [expected[17]] + rest == expected
        assert ranking.take(1).shape == (0,)
        # an eager prefix equals the lazy prefix
        assert eager(n_select=6, random_state=seed).tolist() == expected[:6]


@pytest.mark.parametrize("case", _CASES, ids=[c[0] for c in _CASES])
def test_take_non_positive_takes_nothing(case):
    _, make, eager = case
    ranking = make(random_state=0)
    expected = eager(random_state=0).tolist()
    for k in (0, -1, -5):
        assert _take_non_positive(ranking, k) == []
    assert ranking.ranked.tolist() == []
    assert ranking.take(40).tolist() == expected


def test_lazy_is_its_own_iterator():
    ranking = KMeansPlusPlusRanking(np.random.RandomState(0).randn(6, 2), random_state=0, method="scan")
    assert iter(ranking) is ranking
    expected = kmeans_plusplus_ordering(np.random.RandomState(0).randn(6, 2), random_state=0, method="scan")
    assert [i for i in ranking] == expected.tolist()
    assert all(isinstance(i, int) for i in KCenterGreedyRanking(np.eye(3)))


# --------------------------------------------------------------------------
# additions against the growing-pool references
# --------------------------------------------------------------------------


def _pool(seed, n=16, d=3):
    rng = np.random.RandomState(seed)
    return rng.randn(n, d) * rng.uniform(0.5, 2, size=(n, 1))


@pytest.mark.parametrize("init", ["largest_norm", "random"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kmeans_plusplus_additions_match_growing_reference_dense(init, dtype):
    for seed in range(3):
        rng = np.random.RandomState(50 + seed)
        X = _pool(seed)
        cast = as_f32 if dtype == np.float32 else np.asarray

        def expected(additions):
            return reference_kmeans_plusplus_growing(
                cast(X), {k: cast(v) for k, v in additions.items()}, init, seed
            )

        # the pool grows before any pick, and again after one
        ranking = KMeansPlusPlusRanking(X, init=init, random_state=seed, dtype=dtype, method="scan")
        additions = {0: rng.randn(2, 3) * 3, 1: rng.randn(1, 3)}
        assert run_with_additions(ranking, additions) == expected(additions)
        # growing mid-way, twice; the additions depend on the picks
        ranking = KMeansPlusPlusRanking(X, init=init, random_state=seed, dtype=dtype, method="scan")
        first = ranking.take(4)
        additions = {
            4: np.vstack([rng.randn(3, 3) * 6,  # far away: likely next
                          X[first[:2]],  # duplicates of chosen centers: D² = 0
                          rng.randn(2, 3) * 0.1]),
            9: rng.randn(4, 3) * 2,
        }
        out = run_with_additions(ranking, additions)
        assert out[:4] == first.tolist()
        assert out == expected(additions)
        # the duplicates of chosen centers are among the last picks: only after
        # every point at positive distance
        assert set(out[-2:]) == {16 + 3, 16 + 4}


def test_additions_before_first_pick_equal_full_pool():
    X = _pool(1, n=20)
    X_new = np.random.RandomState(2).randn(6, 3) * 3
    for seed in range(4):
        for init in ("largest_norm", "random"):
            ranking = KMeansPlusPlusRanking(X, init=init, random_state=seed, dtype=np.float64, method="scan")
            ranking.add(X_new)
            assert ranking.take(26).tolist() == kmeans_plusplus_ordering(
                np.vstack([X, X_new]), init=init, random_state=seed, dtype=np.float64, method="scan"
            ).tolist()
        for centers in (None, X[:2] * 0.5):
            ranking = KCenterGreedyRanking(X, X_centers=centers, random_state=seed)
            ranking.add(X_new)
            assert ranking.take(26).tolist() == kcenter_greedy_ordering(
                np.vstack([X, X_new]), X_centers=centers, random_state=seed
            ).tolist()


@pytest.mark.parametrize("init", ["largest_norm", "random"])
def test_kmeans_plusplus_additions_match_growing_reference_outer(init):
    for seed in range(3):
        rng = np.random.RandomState(70 + seed)
        h, e = rng.randn(14, 4), rng.randn(14, 3)
        ranking = KMeansPlusPlusRanking(OuterProduct(h, e), init=init, random_state=seed,
                                        dtype=np.float64, method="scan")
        first = ranking.take(3)
        c = int(first[0])
        h_new = np.vstack([rng.randn(3, 4) * 3, h[c], -2.0 * h[c]])
        e_new = np.vstack([rng.randn(3, 3), e[c], -0.5 * e[c]])  # the last two equal g_c
        h_new2, e_new2 = rng.randn(4, 4), rng.randn(4, 3)
        out = run_with_additions(
            ranking, {3: OuterProduct(h_new, e_new), 8: OuterProduct(h_new2, e_new2)}
        )
        expected = reference_kmeans_plusplus_growing(
            outer_products(h, e),
            {3: outer_products(h_new, e_new), 8: outer_products(h_new2, e_new2)},
            init, seed,
        )
        assert out == expected
        # the two copies of the first center (indices 17, 18) have D² exactly 0
        assert set(out[-2:]) == {17, 18}


def test_kmeans_plusplus_outer_additions_float32():
    rng = np.random.RandomState(5)
    h, e = rng.randn(12, 3), rng.randn(12, 4)
    h_new, e_new = rng.randn(5, 3) * 2, rng.randn(5, 4)
    for seed in range(3):
        ranking = KMeansPlusPlusRanking(OuterProduct(h, e), random_state=seed, method="scan")
        ranking.take(4)
        out = run_with_additions(ranking, {4: OuterProduct(h_new, e_new)})
        expected = reference_kmeans_plusplus_growing(
            outer_products(as_f32(h), as_f32(e)),
            {4: outer_products(as_f32(h_new), as_f32(e_new))}, "largest_norm", seed,
        )
        assert out == expected


@pytest.mark.parametrize("with_centers", [False, True])
def test_kcenter_additions_match_growing_reference(with_centers):
    for seed in range(3):
        rng = np.random.RandomState(90 + seed)
        X = _pool(seed, n=15)
        C = rng.randn(2, 3) if with_centers else None
        ranking = KCenterGreedyRanking(X, X_centers=C, random_state=seed, dtype=np.float64)
        first = ranking.take(3)
        additions = {
            3: np.vstack([rng.randn(3, 3) * 5, X[first[:1]]]),  # far points, a duplicate
            7: rng.randn(3, 3) * 0.2,
        }
        if with_centers:
            additions[3] = np.vstack([additions[3], C[1:] + 1e-3])  # next to a center
        out = run_with_additions(ranking, additions)
        assert out[:3] == first.tolist()
        expected = reference_kcenter_growing(X, C, additions, seed)
        assert out == expected
        # without additions the reference is the plain k-center one
        assert reference_kcenter_growing(X, C, {}, seed) == reference_kcenter(X, C, seed)
        # the duplicate of a chosen point (index 18) is at distance 0: last
        assert out[-1] == 15 + 3


def test_growing_references_reduce_to_plain_ones():
    X = _pool(7, n=10)
    for seed in range(3):
        for init in ("largest_norm", "random"):
            assert reference_kmeans_plusplus_growing(X, {}, init, seed) == (
                reference_kmeans_plusplus(X, init, seed)
            )
            # additions before the first pick are the full pool
            assert reference_kmeans_plusplus_growing(X[:6], {0: X[6:]}, init, seed) == (
                reference_kmeans_plusplus(X, init, seed)
            )


def test_added_point_gets_distance_to_every_center():
    rng = np.random.RandomState(3)
    X, C = rng.randn(30, 4), rng.randn(2, 4)
    X_new = np.vstack([rng.randn(5, 4) * 2, X[:1]])
    h, e = rng.randn(30, 3), rng.randn(30, 2)
    h_new, e_new = np.vstack([rng.randn(4, 3), h[:1]]), np.vstack([rng.randn(4, 2), e[:1]])
    us = np.random.RandomState(4).random_sample(6)

    def slow(points, centers):
        return np.array([min(np.linalg.norm(p - c) ** 2 for c in centers) for p in points])

    engines = [
        lambda H, E, dense: NumbaBackend(H, E, dense, pruning=True),
        lambda H, E, dense: NumbaBackend(H, E, dense, pruning=False),
        lambda H, E, dense: TorchBackend(H, E, dense, device="cpu"),
    ]
    for make in engines:
        for external in (False, True):
            # dense
            engine = make(X, np.empty((30, 0)), True)
            if external:
                engine.set_external_centers(C, np.empty((2, 0)))
            engine.choose(0)
            engine.kmeans_plusplus_steps(us)
            centers = [X[i] for i in engine.order] + (list(C) if external else [])
            new = engine.add(X_new, np.empty((6, 0)))
            assert new.tolist() == list(range(30, 36))
            D2 = np.asarray(engine.D2.cpu() if hasattr(engine.D2, "cpu") else engine.D2)
            np.testing.assert_allclose(D2[new], slow(X_new, centers), rtol=1e-10)
            assert D2[35] == 0.0  # duplicate of the first center
            # the old points keep theirs
            np.testing.assert_allclose(D2[:30], slow(X, centers), rtol=1e-10, atol=1e-12)
            order = list(engine.order)
            engine.kmeans_plusplus_steps(np.random.RandomState(5).random_sample(29))
            assert engine.order[:7] == order
            assert sorted(engine.order) == list(range(36))
        # factorized
        engine = make(h, e, False)
        engine.choose(0)
        engine.kmeans_plusplus_steps(us)
        G, G_new = outer_products(h, e), outer_products(h_new, e_new)
        centers = [G[i] for i in engine.order]
        new = engine.add(h_new, e_new)
        D2 = np.asarray(engine.D2.cpu() if hasattr(engine.D2, "cpu") else engine.D2)
        np.testing.assert_allclose(D2[new], slow(G_new, centers), rtol=1e-9)
        assert D2[new[-1]] == 0.0


def test_torch_cpu_additions_equal_numba():
    rng = np.random.RandomState(8)
    X, X_new, X_new2 = rng.randn(60, 3), rng.randn(10, 3) * 3, rng.randn(5, 3)
    us = np.random.RandomState(9).random_sample(75)
    orders = []
    for engine in (NumbaBackend(X, np.empty((60, 0)), True),
                   TorchBackend(X, np.empty((60, 0)), True, device="cpu")):
        engine.choose(engine.largest_norm())
        engine.kmeans_plusplus_steps(us[1:10])
        engine.add(X_new, np.empty((10, 0)))
        engine.kmeans_plusplus_steps(us[10:40])
        engine.add(X_new2, np.empty((5, 0)))
        engine.kmeans_plusplus_steps(us[40:])
        orders.append(list(engine.order))
    assert orders[0] == orders[1]
    assert sorted(orders[0]) == list(range(75))
    expected = reference_kmeans_plusplus_growing(X, {10: X_new, 40: X_new2}, "largest_norm", 9)
    assert orders[0] == expected


def test_added_far_point_is_picked_with_its_d2_probability():
    # Pool: 0..4 on a line; the first center is index 4 ([4, 0]). Then
    # [-3, 0] joins as index 5: D² = 16, 9, 4, 1, 49 for 0, 1, 2, 3, 5.
    X = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0]])
    rng = np.random.RandomState(31)
    n_draws = 3000
    picks = []
    for _ in range(n_draws):
        ranking = KMeansPlusPlusRanking(X, random_state=rng, method="scan")
        assert next(ranking) == 4
        ranking.add([[-3.0, 0.0]])
        picks.append(next(ranking))
    candidates = [0, 1, 2, 3, 5]
    observed = np.array([picks.count(j) for j in candidates])
    assert observed.sum() == n_draws
    p = np.array([16, 9, 4, 1, 49]) / 79
    assert chisquare(observed, n_draws * p).pvalue > 1e-3
    # power: the added point at distance to the origin (9), or uniform, is rejected
    wrong = np.array([16, 9, 4, 1, 9]) / 39
    assert chisquare(observed, n_draws * wrong).pvalue < 1e-3
    assert chisquare(observed, np.full(5, n_draws / 5)).pvalue < 1e-3


def test_added_point_d2_is_min_over_all_chosen_centers():
    # Condition on the picks (4, 0). Then [-1, 0] joins as index 5: 25 from
    # [4, 0] but 1 from [0, 0], so D² = 1, 4, 1, 1 for 1, 2, 3, 5.
    X = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0]])
    rng = np.random.RandomState(32)
    picks = []
    while len(picks) < 3000:
        ranking = KMeansPlusPlusRanking(X, random_state=rng, method="scan")
        if ranking.take(2).tolist() != [4, 0]:
            continue
        ranking.add([[-1.0, 0.0]])
        picks.append(next(ranking))
    observed = np.array([picks.count(j) for j in (1, 2, 3, 5)])
    assert observed.sum() == len(picks)
    assert chisquare(observed, len(picks) * np.array([1, 4, 1, 1]) / 7).pvalue > 1e-3
    # D² to the first center only (25) is the wrong law
    wrong = np.array([1, 4, 1, 25]) / 31
    assert chisquare(observed, len(picks) * wrong).pvalue < 1e-3


def test_add_after_exhaustion_and_empty_add():
    X = np.random.RandomState(0).randn(5, 2)
    for ranking in (KMeansPlusPlusRanking(X, random_state=0, method="scan"), KCenterGreedyRanking(X)):
        yielded = ranking.take(10).tolist()
        assert sorted(yielded) == list(range(5))
        with pytest.raises(StopIteration):
            next(ranking)
        assert ranking.add(np.zeros((0, 2))).tolist() == []
        assert ranking.n_points == 5
        assert ranking.add([[50.0, 50.0], [-50.0, 50.0]]).tolist() == [5, 6]
        assert sorted(ranking.take(10).tolist()) == [5, 6]
        assert ranking.ranked[:5].tolist() == yielded


def test_add_rejects_points_of_another_form():
    X = np.random.RandomState(0).randn(5, 2)
    h, e = np.ones((5, 3)), np.ones((5, 2))
    dense = KMeansPlusPlusRanking(X, random_state=0, method="scan")
    outer = KMeansPlusPlusRanking(OuterProduct(h, e), random_state=0, method="scan")
    kcenter = KCenterGreedyRanking(X, random_state=0)
    for ranking in (dense, kcenter):
        with pytest.raises(ValueError, match="form of the pool"):
            ranking.add(np.zeros((2, 3)))
        with pytest.raises(ValueError, match="form of the pool"):
            ranking.add(OuterProduct(np.ones((2, 1)), np.ones((2, 2))))
        with pytest.raises(ValueError, match="NaN"):
            ranking.add([[np.nan, 0.0]])
        with pytest.raises(ValueError, match="2-D"):
            ranking.add(np.zeros(2))
    with pytest.raises(ValueError, match="form of the pool"):
        outer.add(np.zeros((2, 6)))
    with pytest.raises(ValueError, match="form of the pool"):
        outer.add(OuterProduct(np.ones((2, 4)), np.ones((2, 2))))
    with pytest.raises(ValueError, match="form of the pool"):
        outer.add(OuterProduct(np.ones((2, 3)), np.ones((2, 3))))
    for ranking in (dense, outer, kcenter):
        assert ranking.n_points == 5  # nothing was added
        assert sorted(ranking.take(5).tolist()) == list(range(5))


# --------------------------------------------------------------------------
# ScoreRanking
# --------------------------------------------------------------------------


def test_score_ranking_by_decreasing_score_ties_to_lower_index():
    ranking = ScoreRanking([0.5, 0.9, 0.5, 0.1, 0.9])
    assert ranking.n_points == 5
    assert next(ranking) == 1
    assert ranking.take(2).tolist() == [4, 0]
    assert list(ranking) == [2, 3]
    assert ranking.ranked.tolist() == [1, 4, 0, 2, 3]
    with pytest.raises(StopIteration):
        next(ranking)
    assert ranking.take(3).tolist() == []


def test_score_ranking_additions_are_merged():
    ranking = ScoreRanking([0.5, 0.9, 0.5, 0.1])
    assert ranking.take(1).tolist() == [1]
    # a score above the yielded one does not change what was yielded
    assert ranking.add([0.5, 1.0, 0.1]).tolist() == [4, 5, 6]
    assert ranking.n_points == 7
    assert ranking.ranked.tolist() == [1]
    # 5 (1.0); 0, 2, 4 tie at 0.5 by index; 3, 6 tie at 0.1 by index
    assert ranking.take(3).tolist() == [5, 0, 2]
    assert ranking.add([0.5, 2.0]).tolist() == [7, 8]
    assert ranking.take(10).tolist() == [8, 4, 7, 3, 6]
    assert ranking.ranked.tolist() == [1, 5, 0, 2, 8, 4, 7, 3, 6]
    # additions after exhaustion
    assert ranking.add([0.0]).tolist() == [9]
    assert next(ranking) == 9
    assert ranking.add([]).tolist() == []


def _take_non_positive(ranking, k):
    """``take(k)`` for ``k <= 0``: nothing, or a ValueError; never a pick."""
    try:
        got = ranking.take(k)
    except ValueError:
        return []
    return got.tolist()


def test_score_ranking_take_non_positive_takes_nothing():
    # as KMeansPlusPlusRanking and KCenterGreedyRanking do
    # (test_take_non_positive_takes_nothing)
    ranking = ScoreRanking([0.3, 0.1, 0.2])
    assert ranking.take(0).tolist() == []
    assert _take_non_positive(ranking, -1) == []
    assert ranking.ranked.tolist() == []
    assert ranking.take(3).tolist() == [0, 2, 1]


def test_score_ranking_matches_stable_argsort():
    rng = np.random.RandomState(0)
    scores = rng.randint(0, 5, size=50).astype(float)
    extra = rng.randint(0, 5, size=20).astype(float)
    ranking = ScoreRanking(scores)
    first = ranking.take(10).tolist()
    assert first == np.argsort(-scores, kind="stable")[:10].tolist()
    ranking.add(extra)
    rest = ranking.take(100).tolist()
    full = np.argsort(-np.concatenate([scores, extra]), kind="stable").tolist()
    assert rest == [i for i in full if i not in first]


# --------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------

_STRATEGIES = skal.all_strategies()


# strategies whose ranking sorts a per-sample score that does not depend on the
# rest of the pool: a lazily grown pool ranks like the grown pool
_PER_SAMPLE_SCORES = {
    "AdversarialBIM", "AdversarialDeepFool", "BALD", "EntropySampling",
    "LeastConfidence", "MarginSampling", "RandomSampling",
}


def _make(cls, blobs):
    X_train, y_train, _ = blobs
    params = cls().get_params()
    kwargs = {"random_state": 0} if "random_state" in params else {}
    if "kernel" in params and type(estimator_for(cls)).__name__ == "Ridge":
        kwargs["kernel"] = "ll"  # a linear model's features (the sketch needs a net)
    return cls(estimator=estimator_for(cls), **kwargs).fit(X_train, y_train)


def test_all_strategies_are_covered():
    names = [name for name, _ in _STRATEGIES]
    assert {"BADGE", "CoreSet", "EntropySampling", "LeastConfidence", "MarginSampling",
            "RandomSampling", "BALD", "BatchBALD", "KMeansSampling",
            "KMeansPlusPlusSampling"} <= set(names)
    assert _PER_SAMPLE_SCORES <= set(names)


@pytest.mark.parametrize("name, cls", _STRATEGIES)
def test_strategy_lazy_rank_equals_rank(name, cls, blobs):
    strategy = _make(cls, blobs)
    X_pool = blobs[2]
    expected = strategy.rank(X_pool).tolist()
    ranking = strategy.lazy_rank(X_pool)
    assert ranking.n_points == len(X_pool)
    assert list(ranking) == expected
    ranking = strategy.lazy_rank(X_pool)
    got = [next(ranking)] + ranking.take(7).tolist()
    assert got == expected[:8] == strategy.query(X_pool, 8).tolist()
    assert ranking.ranked.tolist() == got
    got += ranking.take(1000).tolist()
    assert got == expected
    with pytest.raises(StopIteration):
        next(ranking)


def _new_samples(X_pool):
    rng = np.random.RandomState(0)
    return (X_pool[:12] + rng.randn(12, X_pool.shape[1]).astype(np.float32) * 2)


@pytest.mark.parametrize("name, cls", _STRATEGIES)
def test_strategy_lazy_rank_with_additions(name, cls, blobs):
    strategy = _make(cls, blobs)
    X_pool = blobs[2]
    n = len(X_pool)
    X_new = _new_samples(X_pool)
    m = len(X_new)
    ranking = strategy.lazy_rank(X_pool)
    first = ranking.take(5).tolist()
    assert first == strategy.rank(X_pool)[:5].tolist()
    new = ranking.add(X_new)
    assert new.tolist() == list(range(n, n + m))
    assert ranking.n_points == n + m
    assert ranking.ranked.tolist() == first
    rest = ranking.take(n + m).tolist()
    full = first + rest
    assert sorted(full) == list(range(n + m))
    assert set(new.tolist()) <= set(rest)
    if name in _PER_SAMPLE_SCORES:
        # per-sample scores: the rest is the ranking of the grown pool, minus
        # what was already yielded
        grown = strategy.rank(np.vstack([X_pool, X_new])).tolist()
        assert rest == [i for i in grown if i not in first]
    # additions again, after exhaustion
    assert ranking.add(X_new[:2]).tolist() == [n + m, n + m + 1]
    assert sorted(ranking.take(5).tolist()) == [n + m, n + m + 1]


def test_badge_lazy_additions_match_growing_reference(blobs):
    strategy = _make(skal.BADGE, blobs).set_params(method="scan")
    X_pool, X_new = blobs[2][:25], _new_samples(blobs[2])[:8]
    ranking = strategy.lazy_rank(X_pool)
    out = run_with_additions(ranking, {5: X_new})
    h, e = gradient_embedding(strategy.estimator_, X_pool, return_factors=True)
    h2, e2 = gradient_embedding(strategy.estimator_, X_new, return_factors=True)
    # BADGE stores the factors in float32
    G = outer_products(as_f32(h), as_f32(e))
    G_new = outer_products(as_f32(h2), as_f32(e2))
    assert out == reference_kmeans_plusplus_growing(G, {5: G_new}, "largest_norm", 0)


def test_coreset_lazy_additions_match_growing_reference(blobs):
    X_train = blobs[0]
    strategy = _make(skal.CoreSet, blobs)
    X_pool, X_new = blobs[2][:25], _new_samples(blobs[2])[:8]
    ranking = strategy.lazy_rank(X_pool)
    out = run_with_additions(ranking, {5: X_new})
    est = strategy.estimator_
    H = penultimate_embedding(est, X_pool)
    H_new = penultimate_embedding(est, X_new)
    C = penultimate_embedding(est, X_train)
    assert out == reference_kcenter_growing(as_f32(H), as_f32(C), {5: as_f32(H_new)}, 0)


def _entropy(proba):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(proba > 0, proba * np.log(proba), 0.0).sum(axis=1)


def test_entropy_added_uncertain_sample_comes_next(blobs):
    strategy = _make(skal.EntropySampling, blobs)
    X_pool = blobs[2]
    clf = strategy.estimator_
    ranking = strategy.lazy_rank(X_pool)
    first = ranking.take(10).tolist()
    remaining = np.setdiff1d(np.arange(len(X_pool)), first)
    pool_entropy = _entropy(clf.predict_proba(X_pool))
    # the most uncertain point of a grid, and a confident one
    g = np.linspace(-15, 15, 121)
    grid = np.array([[a, b] for a in g for b in g], dtype=np.float32)
    grid_entropy = _entropy(clf.predict_proba(grid))
    uncertain = grid[np.argmax(grid_entropy)]
    confident = grid[np.argmin(grid_entropy)]
    high = _entropy(clf.predict_proba(uncertain[None]))[0]
    low = _entropy(clf.predict_proba(confident[None]))[0]
    assert high > pool_entropy[remaining].max()  # the precondition, checked by hand
    assert low < pool_entropy[remaining].min()
    n = len(X_pool)
    assert ranking.add(np.vstack([confident, uncertain])).tolist() == [n, n + 1]
    assert next(ranking) == n + 1
    # the confident one comes after every remaining pool sample
    rest = ranking.take(1000).tolist()
    assert rest[-1] == n
    assert rest[:-1] == [i for i in strategy.rank(X_pool).tolist() if i not in first]


@pytest.mark.parametrize("name, cls", _STRATEGIES)
def test_strategy_add_validates_samples(name, cls, blobs):
    strategy = _make(cls, blobs)
    X_pool = blobs[2]
    ranking = strategy.lazy_rank(X_pool)
    first = ranking.take(3).tolist()
    with pytest.raises(ValueError, match="features"):
        ranking.add(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError):
        ranking.add(np.array([[np.nan, 0.0]]))
    assert ranking.n_points == len(X_pool)
    assert ranking.ranked.tolist() == first
    assert first + ranking.take(1000).tolist() == strategy.rank(X_pool).tolist()
