"""The lazy engines of issue 20: k-means++ by rejection, k-center by lazy greedy.

The k-means++ sampler is checked in distribution: a chi-square test of its
first picks against exact enumeration of the D² law on tiny sets, with a
control showing that the test fails once the acceptance step is removed.
Lazy greedy k-center is checked pick for pick against the scan. Both are
checked for what users rely on: the same picks however the ranking is
consumed or saved, points joining mid-way, and exact distances where the
scan would compute them.
"""

import pickle
from itertools import permutations

import numpy as np
import pytest
from scipy.stats import chisquare

from skal.selection import (
    KCenterGreedyRanking,
    KMeansPlusPlusRanking,
    OuterProduct,
    kcenter_greedy_ordering,
    kmeans_plusplus_ordering,
)
from skal.selection import _backends
from skal.selection import _kernels as K

# --------------------------------------------------------------------------
# exact enumeration of the D² law
# --------------------------------------------------------------------------


def _dense(X):
    if isinstance(X, OuterProduct):
        h, e = np.asarray(X.h, np.float64), np.asarray(X.e, np.float64)
        return np.einsum("ni,nc->nic", h, e).reshape(len(h), -1)
    return np.asarray(X, np.float64)


def d2_law(X, first, depth):
    """``{(p_1, ..., p_depth): probability}`` of the picks after ``first``, exactly."""
    G = _dense(X)
    sq = ((G[:, None, :] - G[None, :, :]) ** 2).sum(-1)
    sq[sq < 1e-9 * (sq.max() + 1)] = 0.0  # exact duplicates (rounding of the float32 factors)
    law = {}

    def walk(chosen, prob):
        if len(chosen) == depth + 1:
            law[tuple(chosen[1:])] = prob
            return
        d2 = sq[chosen].min(axis=0)
        d2[chosen] = 0.0
        total = d2.sum()
        for j in np.flatnonzero(d2 > 0):
            walk(chosen + [int(j)], prob * d2[j] / total)

    walk([first], 1.0)
    return law


def chi2_of_picks(X, depth, n_runs, **kwargs):
    first = int(np.argmax((_dense(X) ** 2).sum(1)))
    law = d2_law(X, first, depth)
    cells = sorted(law)
    counts = dict.fromkeys(cells, 0)
    for seed in range(n_runs):
        picks = kmeans_plusplus_ordering(X, depth + 1, random_state=seed, dtype=np.float64,
                                         **kwargs)
        assert picks[0] == first
        counts[tuple(picks[1:].tolist())] += 1  # a KeyError is a pick of probability 0
    observed = np.array([counts[c] for c in cells], dtype=float)
    expected = np.array([law[c] for c in cells]) * n_runs
    return chisquare(observed, expected).pvalue


def _duplicates():
    rng = np.random.RandomState(0)
    base = rng.randn(4, 3)
    return base[[0, 1, 2, 3, 1, 1, 2, 0]]


def _near_clusters():
    rng = np.random.RandomState(1)
    centers = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    return centers[[0, 0, 0, 1, 1, 2, 2, 2, 1]] + 0.3 * rng.randn(9, 2)


def _badge_like():
    rng = np.random.RandomState(2)
    h = np.maximum(rng.randn(9, 4), 0.0)
    h[:, -1] = 1.0
    p = rng.dirichlet(np.ones(3) * 0.7, size=9)
    e = p - np.eye(3)[p.argmax(1)]
    return OuterProduct(h, e)


SETS = {"duplicates": _duplicates, "near_clusters": _near_clusters, "badge_like": _badge_like}


@pytest.mark.parametrize("name", sorted(SETS))
def test_rejection_sampler_follows_the_d2_law(name):
    # the first three picks after the first: 8-9 points, up to 336 cells
    assert chi2_of_picks(SETS[name](), 3, 6000, method="lazy") > 1e-4


def test_scan_follows_the_same_law():
    # the reference implementation, through the same test
    assert chi2_of_picks(_near_clusters(), 3, 6000, method="scan") > 1e-4


def test_without_the_acceptance_step_the_test_fails(monkeypatch):
    # Accepting every candidate draws from the stale bounds, not from D²:
    # the test above must see it.
    accept = K.accept_candidates

    def accept_all(H, E, g2, dense, cand, bound, vs, *args):
        return accept(H, E, g2, dense, cand, bound, np.zeros_like(vs), *args)

    monkeypatch.setattr(_backends.K, "accept_candidates", accept_all)
    assert chi2_of_picks(_near_clusters(), 3, 6000, method="lazy") < 1e-6


def test_a_joining_point_is_drawn_with_its_d2_probability():
    # Three picks, then a point joins with only an upper bound on its distance
    # (to the first center): the next pick must still follow D² over all points.
    X = _near_clusters()[:6]
    new = np.array([[3.0, 3.0]])
    G = np.vstack([X, new])
    n_runs = 4000
    counts = np.zeros(len(G))
    for seed in range(n_runs):
        ranking = KMeansPlusPlusRanking(X, random_state=seed, dtype=np.float64, method="lazy")
        chosen = ranking.take(3).tolist()
        ranking.add(new)
        counts[ranking.take(1)[0]] += 1
    # the law of the 4th pick given the first 3 varies with them: mix it over runs
    expected = np.zeros(len(G))
    for seed in range(n_runs):
        chosen = KMeansPlusPlusRanking(X, random_state=seed, dtype=np.float64,
                                       method="lazy").take(3)
        d2 = ((G[:, None] - G[chosen][None]) ** 2).sum(-1).min(1)
        d2[chosen] = 0
        expected += d2 / d2.sum()
    keep = expected > 0
    assert counts[~keep].sum() == 0
    assert chisquare(counts[keep], expected[keep]).pvalue > 1e-4


# --------------------------------------------------------------------------
# the same picks however they are taken
# --------------------------------------------------------------------------


def _factors(n=3000, H=24, C=6, seed=0):
    rng = np.random.RandomState(seed)
    centers = rng.randn(12, H) * 2
    lab = rng.randint(0, 12, n)
    h = np.maximum(centers[lab] + rng.randn(n, H), 0).astype(np.float32)
    h[:, -1] = 1.0
    logits = rng.randn(n, C) * 2
    logits[np.arange(n), lab % C] += 2
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return h, (p - np.eye(C)[p.argmax(1)]).astype(np.float32)


@pytest.mark.parametrize("method", ["lazy", "auto"])
def test_picks_do_not_depend_on_how_they_are_taken(method):
    h, e = _factors()
    X = OuterProduct(h, e)
    whole = KMeansPlusPlusRanking(X, random_state=0, method=method).take(1500)
    ranking = KMeansPlusPlusRanking(X, random_state=0, method=method)
    rng = np.random.RandomState(1)
    parts = []
    while sum(map(len, parts)) < 1500:
        parts.append(ranking.take(int(rng.randint(1, 90))))
    assert np.array_equal(np.concatenate(parts)[:1500], whole)
    one_by_one = KMeansPlusPlusRanking(X, random_state=0, method=method)
    assert [next(one_by_one) for _ in range(300)] == whole[:300].tolist()
    assert np.array_equal(kmeans_plusplus_ordering(X, 700, random_state=0, method=method),
                          whole[:700])


@pytest.mark.parametrize("method", ["lazy", "auto"])
def test_a_pickled_ranking_continues_with_the_same_picks(method):
    h, e = _factors(n=2000)
    X = OuterProduct(h, e)
    whole = KMeansPlusPlusRanking(X, random_state=3, method=method).take(1200)
    ranking = KMeansPlusPlusRanking(X, random_state=3, method=method)
    first = ranking.take(37)  # stops inside a batch of candidates
    restored = pickle.loads(pickle.dumps(ranking))
    assert np.array_equal(np.concatenate([first, restored.take(1163)]), whole)


def test_auto_hands_over_to_the_scan_when_acceptance_collapses():
    # A full ordering of tight clusters: once every cluster holds a center
    # the bounds are far above the distances, and the scan takes over.
    rng = np.random.RandomState(0)
    X = (rng.randn(40, 8) * 10)[rng.randint(0, 40, 3000)] + 0.01 * rng.randn(3000, 8)
    ranking = KMeansPlusPlusRanking(X, random_state=0, method="auto")
    order = ranking.take(3000)
    assert sorted(order.tolist()) == list(range(3000))
    assert ranking._engine.mode == "scan"
    lazy = KMeansPlusPlusRanking(X, random_state=0, method="lazy")
    assert sorted(lazy.take(3000).tolist()) == list(range(3000))
    assert lazy._engine.mode == "lazy"
    # the 40 clusters are all hit first, whichever engine
    for o in (order, lazy.ranked):
        labels = np.round(X[o[:40]] / 10).astype(int)
        assert len({tuple(r) for r in labels}) == 40


def test_auto_stays_lazy_on_well_spread_factors():
    h, e = _factors(n=5000, H=128, C=32)
    ranking = KMeansPlusPlusRanking(OuterProduct(h, e), random_state=0)
    ranking.take(300)
    assert ranking._engine.mode == "lazy"
    # a fraction of the 300 passes over 5,000 points of the plain scan
    assert ranking.n_distance_evaluations_ < 0.2 * 300 * 5000


def test_chosen_points_and_their_duplicates_come_last():
    rng = np.random.RandomState(5)
    base = rng.randn(30, 4)
    X = base[np.concatenate([np.arange(30), rng.randint(0, 30, 60)])]
    for method in ("lazy", "auto"):
        for seed in range(5):
            order = kmeans_plusplus_ordering(X, random_state=seed, method=method)
            firsts = order[:30]
            # no duplicate of a chosen point while points at positive distance remain
            assert len({tuple(r) for r in X[firsts].round(6)}) == 30
            assert sorted(order.tolist()) == list(range(90))


# --------------------------------------------------------------------------
# exact distances: the BLAS refresh gives the scan's arithmetic
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_refresh_gives_exactly_the_scalar_distances(dense, dtype):
    h, e = _factors(n=1500)
    rng = np.random.RandomState(0)
    # exact and near duplicates of the first points
    h = np.vstack([h, h[:40], h[:40] * (1 + 1e-6 * rng.rand(40, 1))]).astype(dtype)
    e = np.vstack([e, e[:40], e[:40]]).astype(dtype)
    X = h if dense else OuterProduct(h, e)
    ranking = KMeansPlusPlusRanking(X, random_state=0, dtype=dtype, method="lazy")
    ranking.take(120)
    engine = ranking._engine
    engine._refresh()
    centers = np.asarray(engine.order, dtype=np.int64)
    exact = K.min_d2_to_centers(engine.H, engine.E, engine.g2, 0, engine.n, centers, dense)
    exact[engine.chosen] = 0.0
    assert np.array_equal(engine.D2, exact)
    twins = np.concatenate([np.arange(40), np.arange(1500, 1540)])
    chosen_twins = twins[engine.chosen[twins % 1500]]
    assert np.all(engine.D2[chosen_twins] == 0.0)


# --------------------------------------------------------------------------
# lazy greedy k-center: the scan's picks
# --------------------------------------------------------------------------


def _kcenter_cases():
    rng = np.random.RandomState(0)
    grid = np.stack(np.meshgrid(np.arange(12), np.arange(12)), -1).reshape(-1, 2).astype(float)
    clustered = (rng.randn(30, 6) * 5)[rng.randint(0, 30, 2500)] + rng.randn(2500, 6)
    dup = np.vstack([grid, grid[::3]])
    return {
        "gaussian": (rng.randn(2000, 5), None),
        "grid_ties": (grid, None),
        "duplicates": (dup, None),
        "clustered_centers": (clustered, clustered[:5] + 0.5),
        "wide": (rng.randn(800, 300).astype(np.float32), None),
    }


@pytest.mark.parametrize("name", sorted(_kcenter_cases()))
@pytest.mark.parametrize("method", ["lazy", "auto"])
def test_lazy_greedy_kcenter_equals_farthest_first(name, method):
    X, centers = _kcenter_cases()[name]
    for seed in (0, 1):
        scan = kcenter_greedy_ordering(X, X_centers=centers, random_state=seed, method="scan")
        got = kcenter_greedy_ordering(X, X_centers=centers, random_state=seed, method=method)
        assert np.array_equal(got, scan)


@pytest.mark.parametrize("method", ["lazy", "auto"])
def test_lazy_greedy_kcenter_outer_products_and_additions(method):
    h, e = _factors(n=1500)
    h2, e2 = _factors(n=200, seed=1)
    runs = []
    for m in ("scan", method):
        ranking = KCenterGreedyRanking(h, random_state=0, method=m)
        picks = [ranking.take(50)]
        ranking.add(h2)
        picks.append(ranking.take(400))
        restored = pickle.loads(pickle.dumps(ranking))
        picks.append(restored.take(2000))
        runs.append(np.concatenate(picks))
    assert np.array_equal(runs[0], runs[1])
    assert sorted(runs[1].tolist()) == list(range(1700))


def test_lazy_greedy_kcenter_examines_few_points_on_clustered_data():
    rng = np.random.RandomState(0)
    X = (rng.randn(50, 16) * 8)[rng.randint(0, 50, 20000)] + rng.randn(20000, 16)
    lazy = KCenterGreedyRanking(X, random_state=0, method="lazy")
    scan = KCenterGreedyRanking(X, random_state=0, method="scan", pruning=False)
    assert np.array_equal(lazy.take(200), scan.take(200))
    assert lazy.n_distance_evaluations_ < 0.3 * scan.n_distance_evaluations_


def test_method_is_validated():
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="method"):
        KMeansPlusPlusRanking(np.eye(3), method="rejection")
    with pytest.raises(InvalidParameterError, match="method"):
        kcenter_greedy_ordering(np.eye(3), method="fast")


def test_permutations_helper_is_exhaustive():
    # the enumeration sums to one: every cell of the law is reachable
    law = d2_law(_near_clusters(), 0, 2)
    assert abs(sum(law.values()) - 1.0) < 1e-12
    assert set(law) <= set(permutations(range(1, 9), 2))


# --------------------------------------------------------------------------
# the torch backend runs the same sampler (tested on CPU tensors)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dense", [True, False])
def test_torch_lazy_sampler_gives_the_numba_picks(dense, monkeypatch):
    from skal.selection._backends import NumbaBackend, TorchBackend

    h, e = _factors(n=1200)
    h2, e2 = _factors(n=150, seed=4)
    h, e, h2, e2 = (A.astype(np.float64) for A in (h, e, h2, e2))
    X, X_new = (h, h2) if dense else (OuterProduct(h, e), OuterProduct(h2, e2))
    runs = []
    for backend in (NumbaBackend, TorchBackend):
        monkeypatch.setitem(_backends._BACKENDS, "cpu", backend)
        ranking = KMeansPlusPlusRanking(X, random_state=2, dtype=np.float64, method="lazy")
        assert type(ranking._engine) is backend
        picks = [ranking.take(37), ranking.take(200)]
        ranking.add(X_new)
        picks.append(pickle.loads(pickle.dumps(ranking)).take(500))
        runs.append(np.concatenate(picks))
    assert np.array_equal(runs[0], runs[1])


def test_torch_lazy_sampler_follows_the_d2_law(monkeypatch):
    from skal.selection._backends import TorchBackend

    monkeypatch.setitem(_backends._BACKENDS, "cpu", TorchBackend)
    assert chi2_of_picks(_badge_like(), 2, 3000, method="lazy") > 1e-4
