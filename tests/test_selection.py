"""Selection engines: k-means++ seeding and k-center greedy orderings.

Every ordering is checked against a slow reference written with plain loops and
``np.linalg.norm``, against picks derived by hand on tiny arrays, or with a
chi-square test of the D² sampling distribution. The engine's accelerations
(block sums, triangle-inequality pruning) are checked against the plain
engine, the torch backend against the numba one, for identical picks.
"""

import warnings

import numpy as np
import pytest
import torch
from scipy.stats import chisquare
from sklearn.utils._param_validation import InvalidParameterError

from tests._reference import reference_kcenter, reference_kmeans_plusplus

from skal.exceptions import DeviceWarning
from skal.selection import (
    KCenterGreedyRanking,
    KMeansPlusPlusRanking,
    OuterProduct,
    kcenter_greedy_ordering,
    kmeans_plusplus_ordering,
)
from skal.selection import _backends
from skal.selection._backends import BaseBackend, NumbaBackend, TorchBackend, get_backend

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def outer_products(h, e):
    """Dense g_i = h_i ⊗ e_i, built independently of skal."""
    return np.einsum("ni,nc->nic", h, e).reshape(h.shape[0], -1)


def as_f32(X):
    """X rounded to float32 (and back to float64): what the default dtype stores."""
    return np.asarray(X, dtype=np.float32).astype(np.float64)


def no_factor(n, dtype=np.float64):
    return np.empty((n, 0), dtype=dtype)


def vectorized_reference_kmeans_plusplus(X, us, first):
    """k-means++ with numpy: D² updates as whole rows, draw on np.cumsum.

    Independent of the engine's block sums; for pools too large for the
    loop reference. ``us[t]`` is the uniform of pick ``t + 1``.
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    d2 = ((X - X[first]) ** 2).sum(axis=1)
    order = [first]
    chosen = np.zeros(n, bool)
    chosen[first] = True
    for u in us:
        d2[chosen] = 0.0
        cumulative = np.cumsum(d2)
        if cumulative[-1] > 0:
            pick = int(np.searchsorted(cumulative, u * cumulative[-1], side="right"))
        else:
            remaining = np.flatnonzero(~chosen)
            pick = int(remaining[int(u * remaining.size)])
        assert not chosen[pick]
        chosen[pick] = True
        order.append(pick)
        np.minimum(d2, ((X - X[pick]) ** 2).sum(axis=1), out=d2)
    return order


# --------------------------------------------------------------------------
# k-means++ against the reference
# --------------------------------------------------------------------------


@pytest.mark.parametrize("init", ["largest_norm", "random"])
@pytest.mark.parametrize("data_seed", range(6))
def test_kmeans_plusplus_matches_reference(init, data_seed):
    data_rng = np.random.RandomState(data_seed)
    n, d = data_rng.randint(2, 12), data_rng.randint(1, 5)
    X = data_rng.randn(n, d) * data_rng.uniform(0.1, 10)
    for seed in range(4):
        expected = reference_kmeans_plusplus(X, init, seed)
        got = kmeans_plusplus_ordering(X, init=init, random_state=seed, dtype=np.float64, method="scan")
        assert got.tolist() == expected
        # the same through the lazy ranking, one index at a time
        ranking = KMeansPlusPlusRanking(X, init=init, random_state=seed, dtype=np.float64, method="scan")
        assert list(ranking) == expected
        # default dtype: the same as the reference on the float32-rounded data
        got32 = kmeans_plusplus_ordering(X, init=init, random_state=seed, method="scan")
        assert got32.tolist() == reference_kmeans_plusplus(as_f32(X), init, seed)


@pytest.mark.parametrize("init", ["largest_norm", "random"])
def test_kmeans_plusplus_matches_reference_across_blocks(init):
    # 700 points span three sampling blocks: the block-sum walk must agree
    # with a plain cumulative sum over all points.
    rng = np.random.RandomState(4)
    X = as_f32(rng.randn(700, 3) * rng.uniform(0.5, 3, size=(700, 1)))
    for seed in range(3):
        got = kmeans_plusplus_ordering(X, init=init, random_state=seed, method="scan")
        us = np.random.RandomState(seed).random_sample(700)
        first = int(np.argmax((X**2).sum(1))) if init == "largest_norm" else int(us[0] * 700)
        assert got.tolist() == vectorized_reference_kmeans_plusplus(X, us[1:], first)


@pytest.mark.parametrize("init", ["largest_norm", "random"])
def test_kmeans_plusplus_matches_reference_with_duplicates(init):
    # Half the rows are duplicates: the reference's uniform fallback is used.
    rng = np.random.RandomState(7)
    base = rng.randn(4, 3)
    X = base[[0, 1, 2, 3, 2, 0, 0, 3, 1]]
    for seed in range(10):
        expected = reference_kmeans_plusplus(X, init, seed)
        assert kmeans_plusplus_ordering(
            X, init=init, random_state=seed, dtype=np.float64, method="scan"
        ).tolist() == expected
        assert kmeans_plusplus_ordering(X, init=init, random_state=seed, method="scan").tolist() == (
            reference_kmeans_plusplus(as_f32(X), init, seed)
        )


@pytest.mark.parametrize("init", ["largest_norm", "random"])
def test_kmeans_plusplus_draws_one_number_per_step(init):
    X = np.random.RandomState(3).randn(8, 2)
    for k in (1, 3, 8):
        rng = np.random.RandomState(0)
        kmeans_plusplus_ordering(X, k, init=init, random_state=rng, method="scan")
        assert rng.random_sample() == np.random.RandomState(0).random_sample(k + 1)[k]
        # the lazy ranking draws them as it goes
        rng = np.random.RandomState(0)
        ranking = KMeansPlusPlusRanking(X, init=init, random_state=rng, method="scan")
        for _ in range(k):
            next(ranking)
        assert rng.random_sample() == np.random.RandomState(0).random_sample(k + 1)[k]


def test_kcenter_draws_one_number_before_first_pick():
    X = np.random.RandomState(3).randn(8, 2)
    for centers in (None, X[:2] + 0.5):
        rng = np.random.RandomState(0)
        kcenter_greedy_ordering(X, 5, X_centers=centers, random_state=rng)
        assert rng.random_sample() == np.random.RandomState(0).random_sample(2)[1]
        # at construction, before anything is taken
        rng = np.random.RandomState(0)
        KCenterGreedyRanking(X, X_centers=centers, random_state=rng)
        assert rng.random_sample() == np.random.RandomState(0).random_sample(2)[1]


def test_kmeans_plusplus_accepts_random_state_instance():
    X = np.random.RandomState(3).randn(8, 2)
    got = kmeans_plusplus_ordering(X, random_state=np.random.RandomState(5), dtype=np.float64, method="scan")
    assert got.tolist() == reference_kmeans_plusplus(X, "largest_norm", np.random.RandomState(5))


# --------------------------------------------------------------------------
# k-means++ exact picks derived by hand
# --------------------------------------------------------------------------


def test_kmeans_plusplus_hand_derived_docstring_example():
    # RandomState(0) draws u = 0.5488, 0.7152, 0.6028, 0.5449.
    u = np.random.RandomState(0).random_sample(4)
    np.testing.assert_allclose(u, [0.5488135, 0.71518937, 0.60276338, 0.54488318], rtol=1e-6)
    X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [-4.0, 4.0]])
    # step 0: largest norm is [5, 5] (index 2), u unused.
    # step 1: D² = [50, 49.01, 0, 82], total 181.01, u*total = 129.5;
    #         running sums 50, 99.01, 99.01, 181.01 -> index 3.
    # step 2: D² = [32, 32.81, 0, 0], total 64.81, u*total = 39.1 -> index 1.
    # step 3: only index 0 has D² > 0 (0.01) -> index 0.
    for dtype in (np.float32, np.float64):
        assert kmeans_plusplus_ordering(X, random_state=0, dtype=dtype, method="scan").tolist() == [2, 3, 1, 0]


def test_kmeans_plusplus_first_is_largest_norm_lowest_index_on_ties():
    # norms: 5, 1, 5, 5 -> index 0 among the ties, whatever the seed
    X = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, -5.0], [-4.0, 3.0]])
    for seed in range(20):
        assert kmeans_plusplus_ordering(X, n_select=1, random_state=seed, method="scan")[0] == 0
    # move the largest norm to the end
    Y = np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, -1.0], [0.0, -7.0]])
    for seed in range(20):
        assert kmeans_plusplus_ordering(Y, n_select=1, random_state=seed, method="scan")[0] == 3


def test_kmeans_plusplus_random_init_first_pick():
    X = np.arange(10, dtype=float).reshape(5, 2)
    for seed in range(20):
        u = np.random.RandomState(seed).random_sample()
        expected = min(int(u * 5), 4)
        got = kmeans_plusplus_ordering(X, n_select=1, init="random", random_state=seed, method="scan")
        assert got[0] == expected


def test_kmeans_plusplus_only_positive_mass_point_is_picked_second():
    # Largest norm: index 0 (lowest among the three copies of [3, 4]). From
    # it, only [0, -1] (index 2) has D² > 0, so it is second for every seed.
    X = np.array([[3.0, 4.0], [3.0, 4.0], [0.0, -1.0], [3.0, 4.0]])
    for seed in range(30):
        order = kmeans_plusplus_ordering(X, random_state=seed, method="scan")
        assert order[:2].tolist() == [0, 2]
        # then only duplicates of centers remain: drawn uniformly among {1, 3}
        u3 = np.random.RandomState(seed).random_sample(3)[2]
        assert order[2] == [1, 3][int(u3 * 2)]


def test_kmeans_plusplus_far_outlier_dominates():
    # First center: [10, 0] (largest norm). The outlier [-9, 0] has D² = 361;
    # the others lie within 1e-4 of the first center (D² <= 2e-8), so the
    # outlier's probability is > 1 - 1e-9 on every draw.
    X = np.array([[10.0, 0.0], [-9.0, 0.0], [10.0 - 1e-4, 0.0], [10.0 - 1e-4, 1e-4], [10.0 - 2e-4, 0.0]])
    assert np.argmax(np.linalg.norm(X, axis=1)) == 0
    for seed in range(50):
        order = kmeans_plusplus_ordering(X, n_select=2, random_state=seed, method="scan")
        assert order.tolist() == [0, 1]


def _block_pool():
    """1000 points in 1-D: index 0 (value 10) is the first center, and the
    only points off it are 5 (9), 300 (8), 700 (7) and 999 (6), in four
    different sampling blocks; their D² are 1, 4, 9, 16."""
    X = np.full((1000, 1), 10.0)
    X[[5, 300, 700, 999], 0] = [9.0, 8.0, 7.0, 6.0]
    return X


def test_kmeans_plusplus_second_pick_walks_blocks_exactly():
    X = _block_pool()
    cumulative = np.array([1.0, 5.0, 14.0, 30.0])
    candidates = np.array([5, 300, 700, 999])
    seen = set()
    for seed in range(100):
        u = np.random.RandomState(seed).random_sample(2)[1]
        expected = candidates[np.searchsorted(cumulative, u * 30.0, side="right")]
        seen.add(int(expected))
        order = kmeans_plusplus_ordering(X, n_select=5, random_state=seed, method="scan")
        assert order[:2].tolist() == [0, expected]
        # the first five picks are the five distinct values
        assert sorted(order.tolist()) == [0, 5, 300, 700, 999]
    assert seen == {5, 300, 700, 999}


# --------------------------------------------------------------------------
# k-means++ sampling distribution
# --------------------------------------------------------------------------

# First center (largest norm) is index 4; D² from it is 16, 9, 4, 1, 0.
_CHI_X = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0]])


def _d2_probabilities(X, centers, candidates):
    d2 = np.array(
        [min(np.linalg.norm(X[j] - X[c]) ** 2 for c in centers) for j in candidates]
    )
    return d2 / d2.sum()


def test_kmeans_plusplus_second_pick_follows_d2_distribution():
    n_draws = 4000
    rng = np.random.RandomState(12345)
    seconds = [
        kmeans_plusplus_ordering(_CHI_X, n_select=2, random_state=rng, method="scan")[1]
        for _ in range(n_draws)
    ]
    candidates = [0, 1, 2, 3]
    observed = np.array([seconds.count(j) for j in candidates])
    assert observed.sum() == n_draws  # index 4 (the first center) never comes back
    p = _d2_probabilities(_CHI_X, [4], candidates)
    np.testing.assert_allclose(p, np.array([16, 9, 4, 1]) / 30)
    assert chisquare(observed, n_draws * p).pvalue > 1e-3
    # power: a wrong (uniform) distribution is rejected by the same data
    assert chisquare(observed, np.full(4, n_draws / 4)).pvalue < 1e-3
    # and so is a plain-distance (not squared) distribution
    d = np.array([4, 3, 2, 1]) / 10
    assert chisquare(observed, n_draws * d).pvalue < 1e-3


def test_kmeans_plusplus_second_pick_follows_d2_distribution_across_blocks():
    X = _block_pool()
    n_draws = 3000
    rng = np.random.RandomState(77)
    seconds = [KMeansPlusPlusRanking(X, random_state=rng, method="scan").take(2)[1] for _ in range(n_draws)]
    candidates = [5, 300, 700, 999]
    observed = np.array([seconds.count(j) for j in candidates])
    assert observed.sum() == n_draws
    p = np.array([1, 4, 9, 16]) / 30
    assert chisquare(observed, n_draws * p).pvalue > 1e-3
    assert chisquare(observed, np.full(4, n_draws / 4)).pvalue < 1e-3
    assert chisquare(observed, n_draws * np.array([1, 2, 3, 4]) / 10).pvalue < 1e-3


def test_kmeans_plusplus_third_pick_follows_min_d2_distribution():
    # Condition on (first, second) = (4, 0): min D² to {[4,0], [0,0]} is
    # 1, 4, 1 for indices 1, 2, 3, so p = [1/6, 4/6, 1/6].
    rng = np.random.RandomState(2024)
    thirds = []
    while len(thirds) < 4000:
        order = KMeansPlusPlusRanking(_CHI_X, random_state=rng, method="scan").take(3).tolist()
        if order[:2] == [4, 0]:
            thirds.append(order[2])
    candidates = [1, 2, 3]
    observed = np.array([thirds.count(j) for j in candidates])
    assert observed.sum() == len(thirds)
    p = _d2_probabilities(_CHI_X, [4, 0], candidates)
    np.testing.assert_allclose(p, [1 / 6, 4 / 6, 1 / 6])
    assert chisquare(observed, len(thirds) * p).pvalue > 1e-3
    assert chisquare(observed, np.full(3, len(thirds) / 3)).pvalue < 1e-3
    # D² to the first center only (9, 4, 1) is the wrong conditional law
    wrong = np.array([9, 4, 1]) / 14
    assert chisquare(observed, len(thirds) * wrong).pvalue < 1e-3


def test_kmeans_plusplus_random_init_first_pick_is_uniform():
    rng = np.random.RandomState(99)
    n_draws = 4000
    firsts = [
        kmeans_plusplus_ordering(_CHI_X, n_select=1, init="random", random_state=rng, method="scan")[0]
        for _ in range(n_draws)
    ]
    observed = np.bincount(firsts, minlength=5)
    assert chisquare(observed, np.full(5, n_draws / 5)).pvalue > 1e-3
    # power: the D²-from-origin law is rejected
    p = np.array([1e-3, 1, 4, 9, 16])
    assert chisquare(observed, n_draws * p / p.sum()).pvalue < 1e-3


def test_kmeans_plusplus_all_zero_distances_draw_uniformly():
    # All rows equal: first is index 0, then uniform among {1, 2, 3}.
    X = np.ones((4, 2))
    rng = np.random.RandomState(7)
    seconds = [
        kmeans_plusplus_ordering(X, n_select=2, random_state=rng, method="scan")[1] for _ in range(3000)
    ]
    observed = np.array([seconds.count(j) for j in (1, 2, 3)])
    assert observed.sum() == 3000
    assert chisquare(observed, np.full(3, 1000)).pvalue > 1e-3
    assert chisquare(observed, [1500, 1000, 500]).pvalue < 1e-3


# --------------------------------------------------------------------------
# duplicates, prefixes
# --------------------------------------------------------------------------


def _duplicate_pool(seed):
    rng = np.random.RandomState(seed)
    base = rng.randn(5, 3)
    labels = np.concatenate([np.arange(5), rng.randint(0, 5, size=10)])
    rng.shuffle(labels)
    return base[labels], labels


@pytest.mark.parametrize("init", ["largest_norm", "random"])
def test_kmeans_plusplus_never_picks_duplicate_while_positive_distance_remains(init):
    for seed in range(10):
        X, labels = _duplicate_pool(seed)
        order = kmeans_plusplus_ordering(X, init=init, random_state=seed, method="scan")
        assert sorted(order.tolist()) == list(range(len(X)))
        # the first 5 picks are one representative of each distinct row
        assert sorted(labels[order[:5]].tolist()) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("init", ["largest_norm", "random"])
def test_kmeans_plusplus_outer_product_duplicates(init):
    # Same property through OuterProduct, where duplicate distances come out
    # of a cancelling expansion and must be zeroed.
    for seed in range(10):
        rng = np.random.RandomState(100 + seed)
        h_base, e_base = rng.randn(5, 4) * 3, rng.randn(5, 3)
        labels = np.concatenate([np.arange(5), rng.randint(0, 5, size=10)])
        rng.shuffle(labels)
        h, e = h_base[labels], e_base[labels]
        for dtype in (np.float64, np.float32):
            order = kmeans_plusplus_ordering(
                OuterProduct(h, e), init=init, random_state=seed, dtype=dtype, method="scan"
            ).tolist()
            assert sorted(order) == list(range(15))
            assert sorted(labels[order[:5]].tolist()) == [0, 1, 2, 3, 4]
        # after that only zero distances remain: uniform draws, as on dense rows
        order = kmeans_plusplus_ordering(
            OuterProduct(h, e), init=init, random_state=seed, dtype=np.float64, method="scan"
        ).tolist()
        assert order == reference_kmeans_plusplus(outer_products(h, e), init, seed)


@pytest.mark.parametrize("init", ["largest_norm", "random"])
def test_kmeans_plusplus_all_duplicates_is_full_permutation(init):
    X = np.tile([[0.3, -1.7, 2.0]], (7, 1))
    for seed in range(10):
        order = kmeans_plusplus_ordering(X, init=init, random_state=seed, method="scan")
        assert sorted(order.tolist()) == list(range(7))
        assert order.tolist() == reference_kmeans_plusplus(X, init, seed)
    zeros = np.zeros((5, 2))
    for seed in range(5):
        order = kmeans_plusplus_ordering(OuterProduct(zeros, zeros), init=init, random_state=seed, method="scan")
        assert sorted(order.tolist()) == list(range(5))
        assert order.tolist() == reference_kmeans_plusplus(np.zeros((5, 4)), init, seed)


@pytest.mark.parametrize("init", ["largest_norm", "random"])
def test_kmeans_plusplus_prefix_property(init):
    X = np.random.RandomState(11).randn(9, 2)
    for seed in range(5):
        full = kmeans_plusplus_ordering(X, init=init, random_state=seed, method="scan")
        assert sorted(full.tolist()) == list(range(9))
        for k in range(1, 10):
            part = kmeans_plusplus_ordering(X, n_select=k, init=init, random_state=seed, method="scan")
            assert part.shape == (k,)
            assert part.tolist() == full[:k].tolist()


def test_kcenter_prefix_property():
    X = np.random.RandomState(12).randn(9, 2)
    C = np.random.RandomState(13).randn(2, 2)
    for seed in (0, 1):
        for centers in (None, C):
            full = kcenter_greedy_ordering(X, X_centers=centers, random_state=seed)
            for k in range(1, 10):
                part = kcenter_greedy_ordering(X, k, X_centers=centers, random_state=seed)
                assert part.tolist() == full[:k].tolist()


# --------------------------------------------------------------------------
# OuterProduct
# --------------------------------------------------------------------------


def _d2_from(backend_cls, h, e, i, **kwargs):
    """Every point's D² once ``i`` is the only center (a fresh engine)."""
    engine = backend_cls(h, e, False, **kwargs)
    engine.choose(i)
    d2 = engine.D2
    return d2.cpu().numpy() if hasattr(d2, "cpu") else d2.copy()


@pytest.mark.parametrize(
    "backend_cls, kwargs",
    [(NumbaBackend, {"pruning": True}), (NumbaBackend, {"pruning": False}),
     (TorchBackend, {"device": "cpu"})],
)
def test_outer_product_distances_equal_dense(backend_cls, kwargs):
    rng = np.random.RandomState(0)
    h, e = rng.randn(8, 5), rng.randn(8, 3)
    h[5], e[5] = h[1], e[1]  # exact duplicate
    h[6], e[6] = -h[2], -e[2]  # same outer product, both factors negated
    h[7], e[7] = 2.0 * h[3], 0.5 * e[3]  # same outer product, rescaled factors
    G = outer_products(h, e)
    engine = backend_cls(h, e, False, **kwargs)
    g2 = engine.g2.cpu().numpy() if hasattr(engine.g2, "cpu") else engine.g2
    np.testing.assert_allclose(g2, [np.linalg.norm(g) ** 2 for g in G], rtol=1e-12)
    for i in range(8):
        expected = np.array([np.linalg.norm(G[j] - G[i]) ** 2 for j in range(8)])
        got = _d2_from(backend_cls, h, e, i, **kwargs)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12 * expected.max())
        dense = backend_cls(G, no_factor(8), True, **kwargs)
        dense.choose(i)
        d2 = dense.D2.cpu().numpy() if hasattr(dense.D2, "cpu") else dense.D2
        np.testing.assert_allclose(d2, expected, rtol=1e-12, atol=1e-12)
        assert got[i] == 0.0
    for a, b in [(1, 5), (2, 6), (3, 7)]:
        assert _d2_from(backend_cls, h, e, a, **kwargs)[b] == 0.0
        assert _d2_from(backend_cls, h, e, b, **kwargs)[a] == 0.0


def test_outer_product_duplicates_are_exactly_zero():
    # The expansion ‖g_i‖² + ‖g_j‖² − 2⟨h_i,h_j⟩⟨e_i,e_j⟩ of an exact
    # duplicate often rounds to a small positive number; it must be zero.
    raw_positive = 0
    for seed in range(20):
        rng = np.random.RandomState(seed)
        h = rng.randn(6, 5) * rng.uniform(0.1, 10)
        e = rng.randn(6, 3)
        h, e = np.vstack([h, h[::-1]]), np.vstack([e, e[::-1]])
        sq = np.einsum("ij,ij->i", h, h) * np.einsum("ij,ij->i", e, e)
        for i in range(6):
            j = 11 - i
            for backend_cls, kwargs in [(NumbaBackend, {}), (TorchBackend, {"device": "cpu"})]:
                d2_i = _d2_from(backend_cls, h, e, i, **kwargs)
                assert d2_i[j] == 0.0
                assert _d2_from(backend_cls, h, e, j, **kwargs)[i] == 0.0
                # non-duplicates stay positive
                others = [k for k in range(12) if k not in (i, j)]
                assert (d2_i[others] > 0).all()
            raw = sq[i] + sq[j] - 2 * (h @ h[i])[j] * (e @ e[i])[j]
            raw_positive += raw > 0
    assert raw_positive > 0  # the case the zeroing exists for did occur


@pytest.mark.parametrize("init", ["largest_norm", "random"])
def test_kmeans_plusplus_outer_product_equals_dense(init):
    for data_seed in range(4):
        rng = np.random.RandomState(data_seed)
        h, e = rng.randn(12, 4), rng.randn(12, 3)
        G = outer_products(h, e)
        for seed in range(4):
            op = kmeans_plusplus_ordering(
                OuterProduct(h, e), init=init, random_state=seed, dtype=np.float64, method="scan"
            ).tolist()
            dense = kmeans_plusplus_ordering(G, init=init, random_state=seed, dtype=np.float64, method="scan")
            assert op == dense.tolist()
            assert op == reference_kmeans_plusplus(G, init, seed)
            # default float32: the reference on the outer products of the rounded factors
            op32 = kmeans_plusplus_ordering(OuterProduct(h, e), init=init, random_state=seed, method="scan")
            assert op32.tolist() == reference_kmeans_plusplus(
                outer_products(as_f32(h), as_f32(e)), init, seed
            )


def test_outer_product_accepts_torch_factors_and_checks_shapes():
    rng = np.random.RandomState(1)
    h, e = rng.randn(10, 4), rng.randn(10, 3)
    expected = kmeans_plusplus_ordering(OuterProduct(h, e), random_state=0, method="scan")
    got = kmeans_plusplus_ordering(
        OuterProduct(torch.from_numpy(h), torch.from_numpy(e).requires_grad_()), random_state=0, method="scan"
    )
    assert got.tolist() == expected.tolist()
    assert len(OuterProduct(h, e)) == 10
    with pytest.raises(ValueError, match="same number of rows"):
        kmeans_plusplus_ordering(OuterProduct(h, e[:9]), method="scan")
    with pytest.raises(ValueError, match="2-D factors"):
        kmeans_plusplus_ordering(OuterProduct(h[:, 0], e), method="scan")


# --------------------------------------------------------------------------
# k-center greedy
# --------------------------------------------------------------------------


def test_kcenter_hand_derived_with_centers():
    X = np.array([[0.0], [1.0], [2.0], [10.0]])
    # distances to center 0: 0, 1, 2, 10 -> 3; then 0, 1, 2, 0 -> 2; then 1; 0.
    assert kcenter_greedy_ordering(X, X_centers=[[0.0]]).tolist() == [3, 2, 1, 0]


def test_kcenter_ties_go_to_lowest_index():
    X = np.array([[1.0], [-3.0], [3.0], [-1.0]])
    # distances to 0: 1, 3, 3, 1 -> tie, index 1 ([-3]).
    # then [3] is at 3 (6 from -3) -> index 2; then [1] and [-1] both at 1 -> 0, 3.
    assert kcenter_greedy_ordering(X, X_centers=[[0.0]]).tolist() == [1, 2, 0, 3]
    # 2-D: [0,3] and [4,3] are both 3 from a center and sqrt(13) from [2,6];
    # the labeled duplicates [0,0], [4,0] come last, in index order.
    P = np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0], [0.0, 3.0], [4.0, 3.0], [2.0, 6.0]])
    C = np.array([[0.0, 0.0], [4.0, 0.0]])
    assert kcenter_greedy_ordering(P, X_centers=C).tolist() == [5, 3, 4, 1, 0, 2]


def test_kcenter_exact_ties_to_centers_go_to_lowest_index():
    # Four points exactly 0.25 from a center far from the origin: the tie is
    # exact in floating point (a +- 0.25 and b +- 0.25 are representable), so
    # the lowest index must come first. After index 0 is chosen, the others
    # are sqrt(0.125) or 0.5 from it, so they stay 0.25 away: order 0, 1, 2, 3.
    rng = np.random.RandomState(0)
    for trial in range(30):
        a, b = rng.uniform(-1000, 1000, size=2)
        if trial % 2:  # float32 storage: a, b on a grid where a +- 0.25 is exact
            a, b, dtype = np.round(a * 64) / 64, np.round(b * 64) / 64, np.float32
        else:
            dtype = np.float64
        C = np.array([[a, b]])
        X = np.array([[a, b + 0.25], [a + 0.25, b], [a - 0.25, b], [a, b - 0.25]])
        assert [np.linalg.norm(x - C[0]) for x in X] == [0.25] * 4
        assert np.array_equal(X.astype(dtype).astype(float), X)
        assert kcenter_greedy_ordering(X, X_centers=C, dtype=dtype).tolist() == [0, 1, 2, 3]
        assert reference_kcenter(X, C, 0) == [0, 1, 2, 3]


def test_kcenter_exact_ties_across_blocks_go_to_lowest_index():
    # 600 points on a line, all at the center 0 except 10 (3), 300 (-3) and
    # 550 (3): a three-way tie across sampling blocks, won by index 10. Then
    # 550 is a duplicate of 10 and 300 is 3 away from 0: 300. The rest are at
    # distance 0: index order, again across blocks.
    X = np.zeros((600, 1))
    X[[10, 300, 550], 0] = [3.0, -3.0, 3.0]
    expected = [10, 300] + [i for i in range(600) if i not in (10, 300)]
    assert kcenter_greedy_ordering(X, X_centers=[[0.0]]).tolist() == expected
    for prune in (True, False):
        engine = NumbaBackend(X, no_factor(600), True, pruning=prune)
        engine.set_external_centers(np.zeros((1, 1)), no_factor(1))
        assert engine.kcenter_steps(600).tolist() == expected
    engine = TorchBackend(X, no_factor(600), True, device="cpu")
    engine.set_external_centers(np.zeros((1, 1)), no_factor(1))
    assert engine.kcenter_steps(600).tolist() == expected
    # without centers, from a first pick at 0: 10 (tied with 550), 300, rest
    engine = NumbaBackend(X, no_factor(600), True)
    engine.choose(0)
    assert engine.kcenter_steps(599).tolist() == [10, 300] + [
        i for i in range(1, 600) if i not in (10, 300)
    ]


def test_kcenter_without_centers_first_is_random_then_farthest():
    X = np.array([[0.0], [1.0], [2.0], [10.0]])
    # continuation from each possible first pick, derived by hand
    after = {0: [0, 3, 2, 1], 1: [1, 3, 0, 2], 2: [2, 3, 0, 1], 3: [3, 0, 2, 1]}
    firsts = set()
    for seed in range(30):
        u = np.random.RandomState(seed).random_sample()
        first = min(int(u * 4), 3)
        firsts.add(first)
        assert kcenter_greedy_ordering(X, random_state=seed).tolist() == after[first]
    assert firsts == {0, 1, 2, 3}


@pytest.mark.parametrize("data_seed", range(5))
def test_kcenter_matches_reference(data_seed):
    rng = np.random.RandomState(data_seed)
    n, d = rng.randint(2, 14), rng.randint(1, 5)
    X = rng.randn(n, d)
    C = rng.randn(rng.randint(1, 4), d)
    for seed in range(3):
        assert kcenter_greedy_ordering(X, random_state=seed, dtype=np.float64).tolist() == (
            reference_kcenter(X, None, seed)
        )
        assert kcenter_greedy_ordering(
            X, X_centers=C, random_state=seed, dtype=np.float64
        ).tolist() == reference_kcenter(X, C, seed)
        # default float32 storage: the reference on the rounded points and centers
        assert kcenter_greedy_ordering(X, X_centers=C, random_state=seed).tolist() == (
            reference_kcenter(as_f32(X), as_f32(C), seed)
        )


def test_kcenter_backend_with_external_centers():
    X = np.random.RandomState(5).randn(10, 3)
    C = np.random.RandomState(6).randn(3, 3)
    C0 = C.copy()
    min_d2 = np.array([min(np.linalg.norm(x - c) ** 2 for c in C) for x in X])
    for backend in (NumbaBackend(X, no_factor(10), True),
                    NumbaBackend(X, no_factor(10), True, pruning=False),
                    TorchBackend(X, no_factor(10), True, device="cpu")):
        backend.set_external_centers(C, no_factor(3))
        d2 = backend.D2.cpu().numpy() if hasattr(backend.D2, "cpu") else backend.D2
        np.testing.assert_allclose(d2, min_d2, rtol=1e-12)
        assert backend.kcenter_steps(10).tolist() == reference_kcenter(X, C, 0)
        assert backend.order == reference_kcenter(X, C, 0)
    np.testing.assert_array_equal(C, C0)  # caller's array untouched


def test_kcenter_duplicates_of_chosen_come_last():
    X, labels = _duplicate_pool(3)
    order = kcenter_greedy_ordering(X, random_state=0)
    assert sorted(labels[order[:5]].tolist()) == [0, 1, 2, 3, 4]
    # the remaining ones all have distance 0: lowest index first
    assert order[5:].tolist() == sorted(order[5:].tolist())


# --------------------------------------------------------------------------
# accelerated engine == plain engine
# --------------------------------------------------------------------------


def _clustered(seed, n=3000, d=16, k=12):
    """Gaussian clusters at very different distances from the origin, float32."""
    rng = np.random.RandomState(seed)
    centers = rng.randn(k, d) * rng.uniform(1, 8, size=(k, 1))
    labels = rng.randint(0, k, n)
    spread = rng.uniform(0.05, 1.0, size=k)[labels, None]
    return (centers[labels] + rng.randn(n, d) * spread).astype(np.float32)


def _with_duplicates(seed, n=3000, d=8, n_distinct=300):
    """Every row is one of ``n_distinct`` rows: ~90% exact duplicates."""
    rng = np.random.RandomState(seed)
    base = (rng.randn(n_distinct, d) * rng.uniform(0.5, 4, size=(n_distinct, 1)))
    return base[rng.randint(0, n_distinct, n)].astype(np.float32)


def _badge_like(seed, n=3000, d=20, n_hidden=32, n_classes=10):
    """BADGE factors: h = [relu(x W), 1], e = softmax(logits) − onehot(argmax)."""
    rng = np.random.RandomState(seed)
    X = _clustered(seed, n, d, n_classes).astype(np.float64)
    h = np.maximum(X @ rng.randn(d, n_hidden) / np.sqrt(d), 0.0)
    h = np.hstack([h, np.ones((n, 1))])
    logits = h @ rng.randn(n_hidden + 1, n_classes) * 0.5
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    e = p.copy()
    e[np.arange(n), p.argmax(axis=1)] -= 1.0
    return h.astype(np.float32), e.astype(np.float32)


def _datasets():
    out = {}
    for seed in (0, 1):
        X = _clustered(seed, n=2000 + 500 * seed)
        out[f"clustered{seed}"] = (X, no_factor(len(X), np.float32), True)
        X = _with_duplicates(seed)
        out[f"duplicates{seed}"] = (X, no_factor(len(X), np.float32), True)
        h, e = _badge_like(seed, n=2000 + 500 * seed)
        out[f"badge{seed}"] = (h, e, False)
    return out


_DATA = _datasets()


def _run_pair(H, E, dense, run, snapshot_at=200):
    """``run(backend)`` on a pruned and a plain engine; both engines returned."""
    engines = [NumbaBackend(H, E, dense, pruning=prune) for prune in (True, False)]
    results = [run(engine, snapshot_at) for engine in engines]
    return engines, results


def _kmeans_run(seed):
    def run(engine, snapshot_at):
        us = np.random.RandomState(seed).random_sample(engine.n)
        engine.choose(engine.largest_norm())
        engine.kmeans_plusplus_steps(us[1:snapshot_at])
        snapshot = engine.D2.copy()
        engine.kmeans_plusplus_steps(us[snapshot_at:])
        return snapshot
    return run


def _kcenter_run(first):
    def run(engine, snapshot_at):
        if first is not None:
            engine.choose(first)
        engine.kcenter_steps(snapshot_at)
        snapshot = engine.D2.copy()
        engine.kcenter_steps(engine.n - len(engine.order))
        return snapshot
    return run


@pytest.mark.parametrize("name", sorted(_DATA))
def test_pruned_kmeans_plusplus_equals_plain(name):
    H, E, dense = _DATA[name]
    n = H.shape[0]
    for seed in range(2):
        (pruned, plain), (snap_pruned, snap_plain) = _run_pair(H, E, dense, _kmeans_run(seed))
        assert sorted(pruned.order) == list(range(n))
        assert pruned.order == plain.order
        # the distances themselves are bitwise identical mid-way
        np.testing.assert_array_equal(snap_pruned, snap_plain)
        assert (plain.D2 == 0).all() and (pruned.D2 == 0).all()
        assert plain.computed > 0
        if not name.startswith("duplicates"):
            assert pruned.computed < 0.5 * plain.computed, (pruned.computed, plain.computed)
        else:
            # zero distances are never recomputed by either; the rest is pruned
            assert pruned.computed < plain.computed


@pytest.mark.parametrize("name", sorted(_DATA))
def test_pruned_kcenter_equals_plain(name):
    H, E, dense = _DATA[name]
    n = H.shape[0]
    rng = np.random.RandomState(3)
    first = int(rng.randint(n))
    (pruned, plain), (snap_pruned, snap_plain) = _run_pair(H, E, dense, _kcenter_run(first))
    assert sorted(pruned.order) == list(range(n))
    assert pruned.order == plain.order
    np.testing.assert_array_equal(snap_pruned, snap_plain)
    if not name.startswith("duplicates"):
        assert pruned.computed < 0.5 * plain.computed, (pruned.computed, plain.computed)
    else:
        assert pruned.computed < plain.computed
    # external centers: some pool points and some new ones
    idx = rng.choice(n, 20, replace=False)
    Hc = np.vstack([H[idx[:10]], H[idx[10:]] * np.float32(1.5)])
    Ec = np.vstack([E[idx[:10]], E[idx[10:]]])
    engines = []
    for prune in (True, False):
        engine = NumbaBackend(H, E, dense, pruning=prune)
        engine.set_external_centers(Hc, Ec)
        # stop while points at positive distance remain (distinct rows)
        positive = np.unique(np.hstack([H, E])[engine.D2 > 0], axis=0).shape[0]
        engine.kcenter_steps(min(n // 2, positive))
        engines.append(engine)
    np.testing.assert_array_equal(engines[0].D2, engines[1].D2)
    assert engines[0].order == engines[1].order
    # pool points equal to an external center have distance 0: not picked yet
    assert (engines[0].D2[idx[:10]] == 0).all()
    assert not set(idx[:10].tolist()) & set(engines[0].order)
    assert engines[0].computed < engines[1].computed


def test_pruning_false_gives_the_same_rankings():
    """The public switch: ``pruning=False`` runs the plain path, with the same picks."""
    rng = np.random.RandomState(11)
    h, e = _badge_like(2, n=1500)
    h_new, e_new = _badge_like(3, n=300)
    X = _clustered(2, n=1500)
    X_new, C = rng.randn(300, X.shape[1]).astype(np.float32), X[:7] + 0.5
    runs = []
    for pruning in (True, False):
        kmeans = KMeansPlusPlusRanking(OuterProduct(h, e), random_state=4, pruning=pruning, method="scan")
        kmeans_order = kmeans.take(200).tolist()
        kmeans.add(OuterProduct(h_new, e_new))
        kmeans_order += kmeans.take(2000).tolist()
        kcenter = KCenterGreedyRanking(X, X_centers=C, random_state=4, pruning=pruning, method="scan")
        kcenter_order = kcenter.take(100).tolist()
        kcenter.add(X_new)
        kcenter_order += kcenter.take(2000).tolist()
        runs.append((kmeans_order, kcenter_order, kmeans.n_distance_evaluations_,
                     kcenter.n_distance_evaluations_))
    (km_pruned, kc_pruned, n_km_pruned, n_kc_pruned), (km_plain, kc_plain, n_km, n_kc) = runs
    assert km_pruned == km_plain
    assert sorted(km_plain) == list(range(1800))
    assert kc_pruned == kc_plain
    assert sorted(kc_plain) == list(range(1800))
    assert 0 < n_km_pruned < n_km and 0 < n_kc_pruned < n_kc
    # the plain path computes every distance to every center but the zero ones
    assert n_km > 1500 * 100


def test_external_center_duplicates_are_never_picked_early():
    H, E, dense = _DATA["badge0"]
    n = H.shape[0]
    idx = np.arange(0, n, 97)
    for prune in (True, False):
        engine = NumbaBackend(H, E, dense, pruning=prune)
        engine.set_external_centers(H[idx], E[idx])
        assert (engine.D2[idx] == 0).all()
        order = engine.kcenter_steps(n)
        positive = n - idx.size
        # the duplicates of external centers are exactly the last picks
        assert set(order[positive:].tolist()) == set(idx.tolist())


# --------------------------------------------------------------------------
# torch backend on the CPU == numba backend
# --------------------------------------------------------------------------


def _same_kmeans_plusplus(H, E, dense, seed, n_steps):
    us = np.random.RandomState(seed).random_sample(n_steps)
    engines = [NumbaBackend(H, E, dense), TorchBackend(H, E, dense, device="cpu")]
    for engine in engines:
        engine.choose(engine.largest_norm())
        engine.kmeans_plusplus_steps(us[1:])
    return engines


def test_torch_cpu_kmeans_plusplus_dense_equals_numba():
    X = _clustered(2, n=400, d=6).astype(np.float64)
    X[300:] = X[:100]  # duplicates too, to reach the uniform fallback
    for seed in range(2):
        numba, torch_engine = _same_kmeans_plusplus(X, no_factor(400), True, seed, 400)
        assert numba.order == torch_engine.order
        assert sorted(numba.order) == list(range(400))


def test_torch_cpu_kmeans_plusplus_factorized_equals_numba():
    h, e = _badge_like(3, n=150)
    h, e = h.astype(np.float64), e.astype(np.float64)
    h[100:120], e[100:120] = h[:20], e[:20]  # duplicates: zeroed expansion, then uniform
    for seed in range(2):
        numba, torch_engine = _same_kmeans_plusplus(h, e, False, seed, 150)
        assert numba.order == torch_engine.order
        assert sorted(numba.order) == list(range(150))


def test_torch_cpu_kcenter_equals_numba():
    X = _clustered(4, n=400, d=5).astype(np.float64)
    C = X[:7] + 0.01
    for centers in (None, C):
        engines = [NumbaBackend(X, no_factor(400), True),
                   TorchBackend(X, no_factor(400), True, device="cpu")]
        for engine in engines:
            if centers is None:
                engine.choose(17)
                engine.kcenter_steps(399)
            else:
                engine.set_external_centers(centers, no_factor(7))
                engine.kcenter_steps(400)
        assert engines[0].order == engines[1].order
        assert sorted(engines[0].order) == list(range(400))


def test_torch_cpu_kcenter_factorized_equals_numba():
    h, e = _badge_like(5, n=150)
    h, e = h.astype(np.float64), e.astype(np.float64)
    engines = [NumbaBackend(h, e, False), TorchBackend(h, e, False, device="cpu")]
    for engine in engines:
        engine.choose(0)
        engine.kcenter_steps(149)
    assert engines[0].order == engines[1].order


# --------------------------------------------------------------------------
# devices
# --------------------------------------------------------------------------


def test_cuda_without_cuda_warns_and_runs_on_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X = np.random.RandomState(0).randn(30, 4)
    expected = kmeans_plusplus_ordering(X, random_state=1, method="scan")
    for device in ("cuda", "cuda:0"):
        with pytest.warns(DeviceWarning, match="CUDA is not available"):
            got = kmeans_plusplus_ordering(X, random_state=1, device=device, method="scan")
        assert got.tolist() == expected.tolist()
        with pytest.warns(DeviceWarning):
            got = kcenter_greedy_ordering(X, random_state=1, device=device)
        assert got.tolist() == kcenter_greedy_ordering(X, random_state=1).tolist()
        with pytest.warns(DeviceWarning):
            ranking = KMeansPlusPlusRanking(X, random_state=1, device=device, method="scan")
        assert ranking.device == "cpu"
        assert ranking.take(30).tolist() == expected.tolist()


def test_device_auto_and_none(monkeypatch):
    X = np.random.RandomState(0).randn(30, 4)
    expected = kmeans_plusplus_ordering(X, random_state=1, dtype=np.float64, method="scan")
    for device in ("auto", None):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "auto" never warns
            got = kmeans_plusplus_ordering(X, random_state=1, device=device, dtype=np.float64, method="scan")
            ranking = KCenterGreedyRanking(X, device=device)
        assert got.tolist() == expected.tolist()
        assert ranking.device == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert KMeansPlusPlusRanking(X, device="auto", method="scan").device == "cpu"


def test_device_accepts_torch_device():
    X = np.random.RandomState(0).randn(30, 4)
    expected = kmeans_plusplus_ordering(X, random_state=1, method="scan")
    assert KMeansPlusPlusRanking(X, device=torch.device("cpu"), method="scan").device == "cpu"
    # the public functions document torch.device too
    got = kmeans_plusplus_ordering(X, random_state=1, device=torch.device("cpu"), method="scan")
    assert got.tolist() == expected.tolist()
    got = kcenter_greedy_ordering(X, random_state=1, device=torch.device("cpu"))
    assert got.tolist() == kcenter_greedy_ordering(X, random_state=1).tolist()


@pytest.mark.parametrize("device", ["gpu", "tpu", "cuda:x"])
def test_bad_device_string_raises(device):
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match=rf"device='{device}' is not a device: use 'cpu'"):
        kmeans_plusplus_ordering(X, device=device, method="scan")
    with pytest.raises(ValueError, match="is not a device"):
        kcenter_greedy_ordering(X, device=device)


@pytest.mark.parametrize("device", ["meta", "mps"])
def test_unsupported_device_raises(device):
    with pytest.raises(ValueError, match=rf"device='{device}' is not supported"):
        kmeans_plusplus_ordering(np.zeros((3, 2)), device=device, method="scan")


def test_get_backend_by_device():
    X = np.random.RandomState(0).randn(20, 3)
    backend = get_backend(X, no_factor(20), True, "cpu")
    assert type(backend) is NumbaBackend and backend.pruning
    assert not get_backend(X, no_factor(20), True, "cpu", pruning=False).pruning
    assert isinstance(backend, BaseBackend)
    with pytest.raises(ValueError, match="No selection backend runs on device='meta'"):
        get_backend(X, no_factor(20), True, "meta")
    with pytest.raises(TypeError, match="abstract"):
        BaseBackend(X, no_factor(20), True)


def test_a_registered_backend_is_what_the_rankings_use(monkeypatch):
    """Adding a backend is one subclass of BaseBackend and one registry entry."""

    class Recording(TorchBackend):
        calls = []

        def kmeans_plusplus_steps(self, us):
            self.calls.append(len(us))
            return super().kmeans_plusplus_steps(us)

    monkeypatch.setitem(_backends._BACKENDS, "cpu", Recording)
    X = np.random.RandomState(0).randn(40, 3)
    ranking = KMeansPlusPlusRanking(X, random_state=2, dtype=np.float64, method="scan")
    got = ranking.take(40).tolist()
    assert isinstance(ranking._engine, Recording) and Recording.calls == [39]
    monkeypatch.undo()
    assert got == kmeans_plusplus_ordering(X, random_state=2, dtype=np.float64, method="scan").tolist()


def test_torch_backend_pickles():
    import pickle

    X = np.random.RandomState(1).randn(50, 3)
    us = np.random.RandomState(2).random_sample(50)
    engine = TorchBackend(X, no_factor(50), True, device="cpu")
    engine.choose(engine.largest_norm())
    engine.kmeans_plusplus_steps(us[1:20])
    copy = pickle.loads(pickle.dumps(engine))
    assert copy.kmeans_plusplus_steps(us[20:]).tolist() == (
        engine.kmeans_plusplus_steps(us[20:]).tolist()
    )


@needs_cuda
class TestCUDA:
    """The CUDA path against the CPU path (run only where a GPU is present)."""

    def test_kmeans_plusplus_same_picks_float64(self):
        rng = np.random.RandomState(0)
        X = rng.randn(300, 5)
        X[250:] = X[:50]  # duplicates: the uniform fallback on the device
        h, e = _badge_like(1, n=200)
        for seed in range(3):
            for init in ("largest_norm", "random"):
                cpu = kmeans_plusplus_ordering(X, init=init, random_state=seed, dtype=np.float64, method="scan")
                gpu = kmeans_plusplus_ordering(
                    X, init=init, random_state=seed, dtype=np.float64, device="cuda", method="scan"
                )
                assert gpu.tolist() == cpu.tolist()
            P = OuterProduct(h.astype(np.float64), e.astype(np.float64))
            cpu = kmeans_plusplus_ordering(P, random_state=seed, dtype=np.float64, method="scan")
            gpu = kmeans_plusplus_ordering(P, random_state=seed, dtype=np.float64, device="cuda", method="scan")
            assert gpu.tolist() == cpu.tolist()

    def test_kcenter_same_picks_float64(self):
        rng = np.random.RandomState(1)
        X, C = rng.randn(300, 4), rng.randn(5, 4)
        for centers in (None, C):
            cpu = kcenter_greedy_ordering(X, X_centers=centers, random_state=2, dtype=np.float64)
            gpu = kcenter_greedy_ordering(
                X, X_centers=centers, random_state=2, dtype=np.float64, device="cuda"
            )
            assert gpu.tolist() == cpu.tolist()

    def test_lazy_additions_same_picks_float64(self):
        rng = np.random.RandomState(2)
        X, X_new = rng.randn(100, 3), rng.randn(20, 3) * 3
        orders = []
        for device in ("cpu", "cuda"):
            ranking = KMeansPlusPlusRanking(X, random_state=4, device=device, dtype=np.float64, method="scan")
            first = ranking.take(10).tolist()
            assert ranking.add(X_new).tolist() == list(range(100, 120))
            orders.append(first + ranking.take(200).tolist())
            assert ranking.device.startswith("cuda") == (device == "cuda")
        assert orders[0] == orders[1]
        assert sorted(orders[1]) == list(range(120))

    def test_cuda_tensor_input(self):
        X = np.random.RandomState(3).randn(50, 4)
        expected = kmeans_plusplus_ordering(X, random_state=0, dtype=np.float64, method="scan")
        got = kmeans_plusplus_ordering(
            torch.from_numpy(X).cuda(), random_state=0, dtype=np.float64, device="cuda", method="scan"
        )
        assert got.tolist() == expected.tolist()

    def test_large_float32_permutation_and_d2_law(self):
        X = _clustered(5, n=5000, d=16)
        order = kmeans_plusplus_ordering(X, random_state=0, device="cuda", method="scan")
        assert order.dtype == np.intp
        assert np.array_equal(np.sort(order), np.arange(5000))
        # the second pick still follows D² across sampling blocks on the device
        rng = np.random.RandomState(8)
        seconds = [
            kmeans_plusplus_ordering(_block_pool(), 2, random_state=rng, device="cuda", method="scan")[1]
            for _ in range(2000)
        ]
        observed = np.array([seconds.count(j) for j in (5, 300, 700, 999)])
        assert observed.sum() == 2000
        assert chisquare(observed, 2000 * np.array([1, 4, 9, 16]) / 30).pvalue > 1e-3
        assert chisquare(observed, np.full(4, 500)).pvalue < 1e-3

    def test_get_backend_cuda(self):
        X = np.random.RandomState(0).randn(10, 2)
        assert type(get_backend(X, no_factor(10), True, "cuda:0")) is TorchBackend

    def test_auto_picks_cuda(self):
        ranking = KMeansPlusPlusRanking(np.random.RandomState(0).randn(10, 2), device="auto", method="scan")
        assert ranking.device.startswith("cuda")
        assert sorted(ranking.take(10).tolist()) == list(range(10))


# --------------------------------------------------------------------------
# input handling and errors
# --------------------------------------------------------------------------


def test_single_point():
    X = np.array([[1.0, 2.0]])
    for init in ("largest_norm", "random"):
        assert kmeans_plusplus_ordering(X, init=init, random_state=0, method="scan").tolist() == [0]
    assert kcenter_greedy_ordering(X, random_state=0).tolist() == [0]
    assert kcenter_greedy_ordering(X, X_centers=X).tolist() == [0]


def test_orderings_do_not_mutate_inputs():
    X = np.random.RandomState(0).randn(7, 3)
    C = np.random.RandomState(1).randn(2, 3)
    h, e = np.random.RandomState(2).randn(7, 3), np.random.RandomState(3).randn(7, 2)
    X0, C0, h0, e0 = X.copy(), C.copy(), h.copy(), e.copy()
    for dtype in (np.float32, np.float64):
        kmeans_plusplus_ordering(X, random_state=0, dtype=dtype, method="scan")
        kmeans_plusplus_ordering(OuterProduct(h, e), random_state=0, dtype=dtype, method="scan")
        kcenter_greedy_ordering(X, X_centers=C, dtype=dtype)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(C, C0)
    np.testing.assert_array_equal(h, h0)
    np.testing.assert_array_equal(e, e0)


def test_orderings_accept_lists_and_float32():
    X = [[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [-4.0, 4.0]]
    assert kmeans_plusplus_ordering(X, random_state=0, method="scan").tolist() == [2, 3, 1, 0]
    X32 = np.array(X, dtype=np.float32)
    assert kmeans_plusplus_ordering(X32, random_state=0, method="scan").tolist() == [2, 3, 1, 0]
    assert kmeans_plusplus_ordering(X32, random_state=0, method="scan").dtype == np.intp
    assert kcenter_greedy_ordering(X32, X_centers=[[0.0, 0.0]]).dtype == np.intp
    # integer input
    Xi = np.array([[0, 0], [1, 0], [5, 5], [-4, 4]])
    assert kcenter_greedy_ordering(Xi, X_centers=[[0, 0]]).tolist() == [2, 3, 1, 0]


def test_orderings_accept_torch_tensors():
    X = np.random.RandomState(0).randn(40, 3)
    C = np.random.RandomState(1).randn(2, 3)
    for init in ("largest_norm", "random"):
        expected = kmeans_plusplus_ordering(X, init=init, random_state=3, dtype=np.float64, method="scan")
        for T in (torch.from_numpy(X), torch.from_numpy(X).requires_grad_(),
                  torch.from_numpy(X).float()):
            got = kmeans_plusplus_ordering(T, init=init, random_state=3, dtype=np.float64, method="scan")
            if T.dtype == torch.float32:
                expected32 = kmeans_plusplus_ordering(as_f32(X), init=init, random_state=3, method="scan")
                assert got.tolist() == expected32.tolist()
            else:
                assert got.tolist() == expected.tolist()
    got = kcenter_greedy_ordering(torch.from_numpy(X), X_centers=torch.from_numpy(C))
    assert got.tolist() == kcenter_greedy_ordering(X, X_centers=C).tolist()
    assert got.tolist() == reference_kcenter(as_f32(X), as_f32(C), 0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_raises(bad):
    X = np.random.RandomState(0).randn(6, 2)
    X[3, 1] = bad
    msg = "NaN, infinity"
    with pytest.raises(ValueError, match=msg):
        kmeans_plusplus_ordering(X, method="scan")
    with pytest.raises(ValueError, match=msg):
        kmeans_plusplus_ordering(torch.from_numpy(X), method="scan")
    with pytest.raises(ValueError, match=msg):
        kcenter_greedy_ordering(X)
    with pytest.raises(ValueError, match=msg):
        kcenter_greedy_ordering(np.zeros((3, 2)), X_centers=X)
    h, e = np.ones((6, 2)), np.ones((6, 3))
    with pytest.raises(ValueError, match=msg):
        kmeans_plusplus_ordering(OuterProduct(X, e), method="scan")
    with pytest.raises(ValueError, match=msg):
        kmeans_plusplus_ordering(OuterProduct(h, X), method="scan")


def test_bad_shapes_and_empty_pool_raise():
    with pytest.raises(ValueError, match="must be 2-D"):
        kmeans_plusplus_ordering(np.zeros(5), method="scan")
    with pytest.raises(ValueError, match="must be 2-D"):
        kcenter_greedy_ordering(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="empty"):
        KMeansPlusPlusRanking(np.zeros((0, 3)), method="scan")
    with pytest.raises(ValueError, match="empty"):
        KCenterGreedyRanking(np.zeros((0, 3)))


@pytest.mark.parametrize("func", [kmeans_plusplus_ordering, kcenter_greedy_ordering])
def test_n_select_larger_than_pool(func):
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"n_select=5 is larger than the number of points \(4\)"):
        func(X, 5)
    assert func(X, 4).shape == (4,)


@pytest.mark.parametrize("func", [kmeans_plusplus_ordering, kcenter_greedy_ordering])
def test_n_select_must_be_positive(func):
    with pytest.raises(ValueError, match="n_select"):
        func(np.zeros((4, 2)), 0)


def test_kmeans_plusplus_invalid_init():
    with pytest.raises(ValueError, match="init"):
        kmeans_plusplus_ordering(np.zeros((4, 2)), init="kmeans", method="scan")
    msg = r"The 'init' parameter of KMeansPlusPlusRanking.* among .*Got 'kmeans' instead"
    with pytest.raises(InvalidParameterError, match=msg):
        KMeansPlusPlusRanking(np.zeros((4, 2)), init="kmeans", method="scan")


@pytest.mark.parametrize("ranking_cls", [KMeansPlusPlusRanking, KCenterGreedyRanking])
def test_ranking_invalid_pruning(ranking_cls):
    with pytest.raises(InvalidParameterError, match="The 'pruning' parameter"):
        ranking_cls(np.zeros((4, 2)), pruning="no")


def test_kcenter_centers_feature_mismatch():
    with pytest.raises(ValueError, match="X_centers has 3 features but X has 2"):
        kcenter_greedy_ordering(np.zeros((4, 2)), X_centers=np.zeros((1, 3)))


def test_kcenter_empty_centers_mean_no_centers():
    X = np.random.RandomState(0).randn(6, 2)
    for seed in range(3):
        got = kcenter_greedy_ordering(X, X_centers=np.zeros((0, 2)), random_state=seed)
        assert got.tolist() == kcenter_greedy_ordering(X, random_state=seed).tolist()
