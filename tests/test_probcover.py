"""ProbCover: exact picks against a slow reference written from the paper."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import InvalidParameterError
from torch.utils.data import TensorDataset

from skal import ActiveLearner, ProbCover
from skal.strategies import _probcover
from skal.strategies._probcover import _ProbCoverRanking, _purity_delta

# --------------------------------------------------------------------------
# the reference: a dense n x n distance matrix and plain loops
# --------------------------------------------------------------------------


def _dense_distances(A, B):
    A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
    return np.array([[np.sqrt(((a - b) ** 2).sum()) for b in B] for a in A])


def reference_greedy(Z, delta, Z_labeled=None, candidates=None, forced=(), beyond=False):
    """The paper's greedy: pick the candidate whose ball holds the most uncovered
    samples (lowest index on ties), cover its ball; stop when no ball adds any.
    Balls are open, ``‖x − x'‖ < δ``; the labeled balls are covered first;
    ``forced`` picks are made first (their balls covered). ``beyond``: when no
    candidate's ball adds any, the same step over every sample instead."""
    n = len(Z)
    D = _dense_distances(Z, Z)
    ball = [set(np.flatnonzero(D[i] < delta)) for i in range(n)]
    covered = set()
    if Z_labeled is not None:
        DL = _dense_distances(Z_labeled, Z)
        for row in DL:
            covered |= set(np.flatnonzero(row < delta))
    candidates = list(range(n)) if candidates is None else list(candidates)
    picks = []
    for i in forced:
        picks.append(i)
        covered |= ball[i]

    def best_of(centers):
        best, best_gain = None, 0
        for c in centers:
            if c in picks:
                continue
            gain = len(ball[c] - covered)
            if gain > best_gain:
                best, best_gain = c, gain
        return best

    while True:
        best = best_of(candidates)
        if best is None and beyond:
            best = best_of(range(n))
        if best is None:
            return picks
        picks.append(best)
        covered |= ball[best]


def reference_delta(Z, clusters, alpha):
    """The purity heuristic by brute force: every pairwise distance is a possible δ
    (the share of pure balls only changes there); the largest whose share of pure
    balls, among the balls around every sample, is at least alpha."""
    D = _dense_distances(Z, Z)
    best = None
    for delta in np.unique(D[D > 0]):
        pure = [len(set(clusters[D[i] < delta])) == 1 for i in range(len(Z))]
        if np.mean(pure) >= alpha - 1e-12:
            best = delta
    return best


def _points(seed, n=60, d=2):
    rng = np.random.RandomState(seed)
    centers = rng.uniform(0, 6, size=(4, d))
    X = centers[rng.randint(4, size=n)] + rng.randn(n, d) * rng.uniform(0.2, 1.0, n)[:, None]
    return X.astype(np.float32)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("delta", [0.5, 1.2])
@pytest.mark.parametrize("with_labeled", [False, True])
def test_greedy_matches_reference(seed, delta, with_labeled):
    Z = _points(seed)
    Z_lab = _points(seed + 100, n=6) if with_labeled else None
    expected = reference_greedy(Z, delta, Z_lab)
    X_lab = Z_lab if with_labeled else Z
    strategy = ProbCover(delta=delta, n_candidates=None, random_state=0)
    strategy = strategy.fit(X_lab, np.arange(len(X_lab)) % 2) if with_labeled else strategy.fit(Z)
    ranking = strategy.rank(Z).tolist()
    assert ranking[: len(expected)] == expected
    assert sorted(ranking) == list(range(len(Z)))
    # after full coverage the rest is random: a seed gives one order
    assert ranking == strategy.rank(Z).tolist()
    other = ProbCover(delta=delta, n_candidates=None, random_state=1).fit(Z).rank(Z).tolist()
    if not with_labeled and len(expected) < len(Z) - 3:
        assert other[: len(expected)] == expected and other != ranking


@pytest.mark.parametrize("seed", range(3))
def test_candidate_subsample_matches_reference(seed):
    Z = _points(seed, n=80)
    candidates = np.sort(np.random.RandomState(seed).permutation(80)[:25])
    ranking = _ProbCoverRanking(Z, None, 0.8, candidates, np.random.RandomState(0))
    expected = reference_greedy(Z, 0.8, candidates=candidates)
    assert ranking.take(len(expected)).tolist() == expected
    rest = ranking.take(80 - len(expected)).tolist()
    assert sorted(expected + rest) == list(range(80))


# --------------------------------------------------------------------------
# beyond_candidates: what follows once the candidates add no coverage
# --------------------------------------------------------------------------

# ProbCover(delta=0.6, n_candidates=8, random_state=0).fit(Z).rank(Z) on
# Z = _points(4, n=40), recorded with the code before beyond_candidates existed
_RANK_BEFORE = [11, 28, 15, 20, 4, 10, 22, 25, 7, 37, 33, 12, 6, 35, 9, 26, 24, 36,
                23, 27, 17, 39, 30, 31, 0, 29, 19, 34, 8, 2, 3, 16, 1, 21, 13, 38,
                14, 32, 18, 5]


def test_default_picks_are_the_ones_before_beyond_candidates():
    Z = _points(4, n=40)
    default = ProbCover(delta=0.6, n_candidates=8, random_state=0).fit(Z)
    assert default.rank(Z).tolist() == _RANK_BEFORE
    assert default.query(Z, 12).tolist() == _RANK_BEFORE[:12]
    explicit = ProbCover(delta=0.6, n_candidates=8, beyond_candidates="random",
                         random_state=0).fit(Z)
    assert explicit.rank(Z).tolist() == _RANK_BEFORE
    # the candidates stop adding coverage before the pool is covered: the
    # rest is random there, where beyond_candidates="greedy" goes on
    candidates = default.lazy_rank(Z)._ranking._candidates
    first = reference_greedy(Z, 0.6, candidates=candidates)
    assert _RANK_BEFORE[: len(first)] == first
    assert len(reference_greedy(Z, 0.6, candidates=candidates, beyond=True)) > len(first)
    greedy = ProbCover(delta=0.6, n_candidates=8, beyond_candidates="greedy",
                       random_state=0).fit(Z).rank(Z).tolist()
    assert greedy[: len(first)] == first and greedy != _RANK_BEFORE


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("delta, n_candidates", [(0.5, 10), (0.9, 25), (1.5, 5)])
@pytest.mark.parametrize("with_labeled", [False, True])
def test_greedy_beyond_candidates_matches_reference(seed, delta, n_candidates,
                                                    with_labeled):
    Z = _points(seed, n=60)
    Z_lab = Z[:4] + 0.3 if with_labeled else None
    kwargs = dict(delta=delta, n_candidates=n_candidates, random_state=seed)
    greedy = ProbCover(beyond_candidates="greedy", **kwargs)
    random = ProbCover(**kwargs)
    if with_labeled:
        greedy.fit(Z_lab, [0, 1, 0, 1]), random.fit(Z_lab, [0, 1, 0, 1])
    else:
        greedy.fit(Z), random.fit(Z)
    candidates = greedy.lazy_rank(Z)._ranking._candidates
    np.testing.assert_array_equal(candidates, random.lazy_rank(Z)._ranking._candidates)
    first = reference_greedy(Z, delta, Z_lab, candidates=candidates)
    expected = reference_greedy(Z, delta, Z_lab, candidates=candidates, beyond=True)
    assert expected[: len(first)] == first  # longer, unless the candidates cover all
    ranking = greedy.rank(Z).tolist()
    assert ranking[: len(expected)] == expected
    assert greedy.query(Z, 7).tolist() == ranking[:7]
    # the candidates' picks are the same either way; after full coverage, the
    # rest goes in the random order that beyond_candidates="random" uses
    random_ranking = random.rank(Z).tolist()
    assert random_ranking[: len(first)] == first
    in_random_order = [i for i in random_ranking[len(first):] if i not in expected]
    assert ranking[len(expected):] == in_random_order


@pytest.mark.parametrize("seed", range(3))
def test_greedy_beyond_candidates_ranking_matches_reference(seed):
    Z = _points(seed, n=80)
    candidates = np.sort(np.random.RandomState(seed).permutation(80)[:25])
    ranking = _ProbCoverRanking(Z, None, 0.8, candidates, np.random.RandomState(0),
                                greedy_beyond=True)
    expected = reference_greedy(Z, 0.8, candidates=candidates, beyond=True)
    assert len(expected) > len(reference_greedy(Z, 0.8, candidates=candidates))
    # one at a time and in chunks give the same order
    picks = [int(i) for i in ranking.take(3)] + [next(ranking) for _ in range(4)]
    picks += ranking.take(len(expected) - 7).tolist()
    assert picks == expected
    rest = ranking.take(80).tolist()
    assert sorted(expected + rest) == list(range(80))


def test_greedy_beyond_candidates_ties_go_to_the_lower_index():
    # the candidates 0 (ball {0, 1}) and 2 (ball {2}) come first; then the pairs
    # {3, 4} and {6, 7}, where each sample's ball holds both: the lowest index
    # of the pair of lowest indices, 3, then 6; then 5, alone
    Z = np.array([[0.0], [0.5], [10.0], [20.0], [20.5], [30.0], [40.0], [40.5]])
    ranking = _ProbCoverRanking(Z, None, 1.0, np.array([0, 2]), np.random.RandomState(0),
                                greedy_beyond=True)
    assert ranking.take(5).tolist() == [0, 2, 3, 6, 5]
    assert reference_greedy(Z, 1.0, candidates=[0, 2], beyond=True) == [0, 2, 3, 6, 5]
    assert sorted(ranking.take(8).tolist()) == [1, 4, 7]


def test_greedy_beyond_candidates_changes_nothing_without_non_candidates():
    Z = _points(1, n=50)
    for n_candidates in (None, 50, 80):
        a = ProbCover(delta=0.7, n_candidates=n_candidates, random_state=0).fit(Z)
        b = ProbCover(delta=0.7, n_candidates=n_candidates, beyond_candidates="greedy",
                      random_state=0).fit(Z)
        np.testing.assert_array_equal(a.rank(Z), b.rank(Z))


def test_candidates_are_a_seeded_subsample_of_the_pool():
    Z = _points(0, n=120)
    a = ProbCover(delta=0.8, n_candidates=30, random_state=0).fit(Z)
    ranking = a.lazy_rank(Z)._ranking
    assert len(ranking._candidates) == 30
    np.testing.assert_array_equal(a.rank(Z), a.rank(Z))
    picks = a.query(Z, 5)
    assert set(picks.tolist()) <= set(ranking._candidates.tolist())


# --------------------------------------------------------------------------
# the purity heuristic
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("alpha", [0.95, 0.8, 0.5])
def test_purity_delta_matches_brute_force(seed, alpha):
    Z = _points(seed, n=50)
    clusters = np.random.RandomState(seed).randint(3, size=50)
    clusters[Z[:, 0] > 3] = 3  # some spatial structure
    got = _purity_delta(Z, clusters, np.arange(50), alpha)
    assert np.isclose(got, reference_delta(Z, clusters, alpha), rtol=2e-6)


def test_auto_delta_uses_one_kmeans_cluster_per_class():
    rng = np.random.RandomState(0)
    # two far blobs, one k-means cluster each: a ball is pure while it holds
    # no sample of the other blob; 38 of 40 pure balls (alpha=0.95) allow the
    # third smallest distance to the other blob
    X = np.vstack([rng.rand(20, 2), rng.rand(20, 2) + [10.0, 0.0]]).astype(np.float32)
    strategy = ProbCover(n_classes=2, n_candidates=None, random_state=0).fit(X)
    delta = strategy.lazy_rank(X)._ranking._delta
    D = _dense_distances(X[:20], X[20:])
    nearest_other = np.concatenate([D.min(axis=1), D.min(axis=0)])
    third = np.sort(nearest_other)[2]
    assert np.isclose(delta, third, rtol=2e-6) and delta < third
    expected = reference_greedy(X, delta)
    assert strategy.rank(X).tolist()[: len(expected)] == expected
    assert len(expected) >= 2


def test_n_classes_from_the_labels_or_the_estimator():
    X = _points(0)
    y = np.arange(len(X)) % 3
    a = ProbCover(random_state=0).fit(X, y)  # 3 classes from y
    b = ProbCover(n_classes=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(a.rank(X), b.rank(X))
    clf = LogisticRegression().fit(X, y)
    c = ProbCover(clf, prefit=True, random_state=0)  # 3 classes from the estimator
    d = ProbCover(embedding=None, n_classes=3, random_state=0).fit(X)
    np.testing.assert_array_equal(c.rank(X), d.rank(X))


# --------------------------------------------------------------------------
# no dense n x n matrix
# --------------------------------------------------------------------------


def _record_block_shapes(monkeypatch):
    """The shapes of the distance blocks ProbCover computes, recorded as it goes."""
    shapes = []
    original = _probcover._distance_blocks

    def recording(A, B):
        for start, d2 in original(A, B):
            shapes.append(d2.shape)
            yield start, d2

    monkeypatch.setattr(_probcover, "_distance_blocks", recording)
    return shapes


def test_distances_are_computed_in_bounded_blocks_and_the_graph_is_sparse(monkeypatch):
    Z = _points(0, n=300)
    n = len(Z)
    expected = reference_greedy(Z, 0.3)
    shapes = _record_block_shapes(monkeypatch)
    monkeypatch.setattr(_probcover, "_BLOCK_BYTES", 8 * n * 16)  # 16 rows a block
    strategy = ProbCover(n_classes=4, n_candidates=None, random_state=0).fit(Z)
    ranking = strategy.lazy_rank(Z)._ranking
    assert shapes and max(r * c for r, c in shapes) <= 16 * n
    graph = ranking._graph
    assert sp.issparse(graph) and graph.dtype == bool
    D = _dense_distances(Z, Z)
    assert graph.nnz == int((D < ranking._delta).sum()) < n * n / 4
    # blocks change nothing: a fixed δ gives the reference picks
    fixed = ProbCover(delta=0.3, n_candidates=None, random_state=0).fit(Z).rank(Z)
    assert fixed.tolist()[: len(expected)] == expected


def test_greedy_beyond_candidates_builds_a_sparse_graph_in_bounded_blocks(monkeypatch):
    Z = _points(0, n=300)
    n = len(Z)
    shapes = _record_block_shapes(monkeypatch)
    monkeypatch.setattr(_probcover, "_BLOCK_BYTES", 8 * n * 16)  # 16 x n a block
    strategy = ProbCover(delta=0.3, n_candidates=30, beyond_candidates="greedy",
                         random_state=0).fit(Z)
    ranking = strategy.lazy_rank(Z)._ranking
    candidates = ranking._candidates
    first = reference_greedy(Z, 0.3, candidates=candidates)
    assert ranking.take(len(first)).tolist() == first
    assert ranking._beyond is None  # built only once the candidates are used up
    ranking.take(1)
    beyond = ranking._beyond
    covered = _dense_distances(Z[first], Z).min(axis=0) < 0.3
    uncovered = np.flatnonzero(~covered)
    np.testing.assert_array_equal(beyond.uncovered, uncovered)
    assert shapes and max(r * c for r, c in shapes) <= 16 * n
    assert sp.issparse(beyond.graph) and beyond.graph.dtype == bool
    D = _dense_distances(Z, Z[uncovered])
    assert beyond.graph.nnz == int((D < 0.3).sum()) < n * len(uncovered) / 4
    expected = reference_greedy(Z, 0.3, candidates=candidates, beyond=True)
    ranking.take(len(expected) - len(first) - 1)
    assert ranking.ranked.tolist() == expected
    ranking.take(1)  # full coverage: the graph is dropped
    assert ranking._beyond is None and ranking._covers_all


# --------------------------------------------------------------------------
# lazy_rank and add
# --------------------------------------------------------------------------


def test_additions_before_the_first_pick_equal_the_grown_pool():
    Z = _points(1, n=70)
    old, new = Z[:50], Z[50:]
    ranking = ProbCover(delta=0.7, n_candidates=None, random_state=0).fit(Z).lazy_rank(old)
    assert ranking.add(new).tolist() == list(range(50, 70))
    expected = reference_greedy(Z, 0.7)
    assert ranking.take(len(expected)).tolist() == expected


def test_additions_mid_way_resume_the_greedy_on_the_grown_pool():
    Z = _points(2, n=70)
    old, new = Z[:50], Z[50:]
    ranking = ProbCover(delta=0.7, n_candidates=None, random_state=0).fit(Z).lazy_rank(old)
    first = ranking.take(3).tolist()
    assert first == reference_greedy(old, 0.7)[:3]
    ranking.add(new)
    expected = reference_greedy(Z, 0.7, forced=first)
    assert first + ranking.take(len(expected) - 3).tolist() == expected


def test_additions_after_full_coverage_are_covered_by_the_balls_picked():
    Z = _points(3, n=40)
    strategy = ProbCover(delta=0.9, n_candidates=None, random_state=0).fit(Z)
    ranking = strategy.lazy_rank(Z)
    picks = ranking.take(40).tolist()
    greedy = reference_greedy(Z, 0.9)
    far = np.array([[100.0, 100.0]], dtype=np.float32)
    near = Z[greedy[0]][None, :] + 0.01  # inside the first greedy ball
    ranking.add(np.vstack([near, far]))
    assert ranking.take(2).tolist() == [41, 40]  # the uncovered one first
    assert sorted(picks) == list(range(40))


def test_additions_beyond_the_candidates_resume_the_greedy_on_the_grown_pool():
    Z = _points(2, n=90)
    old, new = Z[:70], Z[70:]
    ranking = _ProbCoverRanking(old, None, 0.7, np.arange(0, 70, 7),
                                np.random.RandomState(0), greedy_beyond=True)
    first_candidates = reference_greedy(old, 0.7, candidates=np.arange(0, 70, 7))
    n_first = len(first_candidates) + 3  # three picks beyond the candidates
    first = ranking.take(n_first).tolist()
    assert first == reference_greedy(old, 0.7, candidates=np.arange(0, 70, 7),
                                     beyond=True)[:n_first]
    assert ranking._beyond is not None
    ranking.add(new)  # new samples are candidates: their greedy resumes first
    candidates = np.concatenate([np.arange(0, 70, 7), np.arange(70, 90)])
    expected = reference_greedy(Z, 0.7, candidates=candidates, forced=first, beyond=True)
    assert first + ranking.take(len(expected) - n_first).tolist() == expected
    assert sorted(expected + ranking.take(90).tolist()) == list(range(90))


def test_add_checks_the_representation_width():
    Z = _points(0)
    ranking = ProbCover(delta=0.5, random_state=0).fit(Z).lazy_rank(Z)
    with pytest.raises(ValueError, match="has 3 features, but ProbCover is expecting 2"):
        ranking.add(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="representations with 2 columns"):
        ranking._ranking.add(np.zeros((2, 3), dtype=np.float32))


# --------------------------------------------------------------------------
# without labels, and errors
# --------------------------------------------------------------------------


def test_initial_strategy_of_active_learner_needs_no_labels():
    Z = _points(0, n=80)
    y = (Z[:, 0] > 3).astype(int)
    seed_set = ProbCover(n_classes=2, random_state=0)
    learner = ActiveLearner(
        LogisticRegression(), ProbCover(random_state=0), batch_size=5, initial_size=5,
        initial_strategy=seed_set, budget=15, random_state=0,
    ).fit(Z, y)
    np.testing.assert_array_equal(learner.labeled_indices_[:5],
                                  ProbCover(n_classes=2, random_state=0).fit(Z).query(Z, 5))
    assert len(learner.labeled_indices_) == 15


def test_auto_delta_without_classes_says_what_to_pass():
    Z = _points(0)
    with pytest.raises(ValueError, match=r"number of classes is unknown.*n_classes=.*delta="):
        ProbCover(random_state=0).fit(Z).query(Z, 3)


def test_auto_delta_with_one_label_says_what_to_pass():
    Z = _points(0)
    with pytest.raises(ValueError, match=r"at least 2 classes.*hold 1"):
        ProbCover(embedding=None, random_state=0).fit(Z, np.zeros(len(Z))).query(Z, 3)


@pytest.mark.parametrize("params, match", [
    ({"delta": 0.0}, "delta"),
    ({"delta": "purity"}, "delta"),
    ({"alpha": 0.0}, "alpha"),
    ({"alpha": 1.5}, "alpha"),
    ({"n_classes": 1}, "n_classes"),
    ({"n_candidates": 0}, "n_candidates"),
    ({"beyond_candidates": "all"}, "beyond_candidates"),
])
def test_invalid_parameters_are_named(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        ProbCover(**params).fit(_points(0))


def test_raw_features_refuse_datasets_clearly():
    Z = _points(0)
    pool = TensorDataset(torch.as_tensor(Z), torch.zeros(len(Z)))
    with pytest.raises(ValueError, match="cannot take a pool of type TensorDataset"):
        ProbCover(delta=0.5).fit(Z).query(pool, 2)
