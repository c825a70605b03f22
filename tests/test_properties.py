"""Property-based tests (Hypothesis): on random small pools and labels, the
invariants skal promises hold for every strategy and for ActiveLearner rounds.

- ``query`` returns unique indices into the pool;
- ``query(k)`` is the first ``k`` of ``rank()``, and ``rank()`` is a permutation;
- the caller's arrays are never mutated;
- the same seed gives the same picks;
- labels are never lost between rounds, simulated or real.
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skal import BADGE, ActiveLearner, CoreSet, EntropySampling, MarginSampling, RandomSampling

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

STRATEGIES = [RandomSampling, EntropySampling, MarginSampling, BADGE, CoreSet]
FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None)


@st.composite
def problems(draw, min_pool=2):
    """(X_labeled, y_labeled, X_pool): a few features, two or three classes (each
    labeled at least once), sometimes coarse values with duplicate rows and ties."""
    seed = draw(st.integers(0, 2**31 - 1))
    n_classes = draw(st.integers(2, 3))
    n_labeled = draw(st.integers(n_classes, 20))
    n_pool = draw(st.integers(min_pool, 40))
    n_features = draw(st.integers(1, 4))
    coarse = draw(st.booleans())
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    rng = np.random.RandomState(seed)
    y = np.concatenate([np.arange(n_classes), rng.randint(n_classes, size=n_labeled - n_classes)])
    rng.shuffle(y)
    centers = rng.randn(n_classes, n_features) * 2
    X = np.vstack([centers[y], rng.randn(n_pool, n_features)]) + rng.randn(
        n_labeled + n_pool, n_features)
    if coarse:
        X = np.round(X)
    X = X * scale
    return X[:n_labeled], y, X[n_labeled:]


def fitted(cls, X, y, random_state=0):
    params = {"random_state": random_state} if "random_state" in cls().get_params() else {}
    if cls is RandomSampling:
        return cls(**params).fit(X, y)
    return cls(LogisticRegression(max_iter=200), **params).fit(X, y)


@pytest.mark.parametrize("cls", STRATEGIES, ids=lambda c: c.__name__)
@FAST
@given(problem=problems(), data=st.data())
def test_query_is_a_prefix_of_rank_of_unique_pool_indices(cls, problem, data):
    X, y, X_pool = problem
    copies = [X.copy(), y.copy(), X_pool.copy()]
    k = data.draw(st.integers(1, len(X_pool)), label="batch_size")
    strategy = fitted(cls, X, y)
    ranking = strategy.rank(X_pool)
    picks = strategy.query(X_pool, batch_size=k)
    assert sorted(ranking.tolist()) == list(range(len(X_pool)))
    assert picks.shape == (k,) and len(set(picks.tolist())) == k
    assert np.all((picks >= 0) & (picks < len(X_pool)))
    np.testing.assert_array_equal(picks, ranking[:k])
    for array, copy in zip((X, y, X_pool), copies):
        np.testing.assert_array_equal(array, copy)


@pytest.mark.parametrize("cls", STRATEGIES, ids=lambda c: c.__name__)
@FAST
@given(problem=problems(), seed=st.integers(0, 2**31 - 1))
def test_same_seed_same_picks(cls, problem, seed):
    X, y, X_pool = problem
    first = fitted(cls, X, y, random_state=seed).rank(X_pool)
    second = fitted(cls, X, y, random_state=seed).rank(X_pool)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("cls", [RandomSampling, EntropySampling, BADGE],
                         ids=lambda c: c.__name__)
@FAST
@given(problem=problems(min_pool=5), batch_size=st.integers(1, 6), seed=st.integers(0, 1000))
def test_simulated_rounds_never_lose_a_label(cls, problem, batch_size, seed):
    X_labeled, y_labeled, X_pool = problem
    X = np.vstack([X_labeled, X_pool])
    # the pool's labels: the nearest labeled sample's (every label known: a simulation)
    nearest = np.argmin(((X[:, None, :] - X_labeled[None]) ** 2).sum(-1), axis=1)
    y = y_labeled[nearest]
    y[: len(y_labeled)] = y_labeled  # duplicate rows: keep every class labeled
    initial = np.arange(len(y_labeled))
    copies = X.copy(), y.copy()
    budget = min(len(y), len(initial) + 3 * batch_size)

    def run():
        return ActiveLearner(LogisticRegression(max_iter=200), cls(), batch_size=batch_size,
                             budget=budget, random_state=seed).fit(X, y, initial_indices=initial)

    learner = run()
    order, n_labeled = learner.labeled_indices_, learner.history_["n_labeled"]
    assert len(set(order.tolist())) == len(order) == n_labeled[-1] == budget
    np.testing.assert_array_equal(order[: len(initial)], initial)
    assert np.all(np.diff(n_labeled) > 0)
    for r, (start, stop) in enumerate(zip(np.r_[0, n_labeled[:-1]], n_labeled)):
        assert np.all(learner.label_round_[order[start:stop]] == r)
    assert np.sum(learner.label_round_ >= 0) == budget
    np.testing.assert_array_equal(run().labeled_indices_, order)  # same seed, same picks
    np.testing.assert_array_equal(X, copies[0])
    np.testing.assert_array_equal(y, copies[1])


# late in real labeling, the -1 rows are no more than the labeled ones: the learner
# then asks whether -1 is a class (MissingLabelWarning), which is beside the point here
@pytest.mark.filterwarnings("ignore::skal.learner.MissingLabelWarning")
@FAST
@given(problem=problems(min_pool=3), batch_size=st.integers(1, 5),
       marker=st.sampled_from([-1, None, "unknown"]))
def test_real_labeling_rounds_never_lose_a_label(problem, batch_size, marker):
    X_labeled, y_labeled, X_pool = problem
    X = np.vstack([X_labeled, X_pool])
    names = np.array(["ant", "bee", "cat"], dtype=object)
    truth = np.concatenate([y_labeled, np.arange(len(X_pool)) % 2])
    if marker == -1:
        y_known = np.concatenate([y_labeled, np.full(len(X_pool), -1)])
        answer = truth
    else:
        y_known = np.concatenate([names[y_labeled], np.full(len(X_pool), marker, dtype=object)])
        answer = names[truth]
    labeled = set(range(len(y_labeled)))
    learner = ActiveLearner(LogisticRegression(max_iter=200), EntropySampling(),
                            missing_label=marker)
    for _ in range(4):  # four rounds of labeling (fewer if the pool runs out)
        if len(labeled) == len(X):
            break
        before = y_known.copy()
        learner.fit(X, y_known)
        assert set(learner.labeled_indices_.tolist()) == labeled
        np.testing.assert_array_equal(y_known, before)
        k = min(batch_size, len(X) - len(labeled))
        picks = learner.query(X, y_known, batch_size=k)
        np.testing.assert_array_equal(y_known, before)
        assert len(set(picks.tolist())) == k and not labeled & set(picks.tolist())
        y_known[picks] = answer[picks]  # the annotators answer
        labeled |= set(picks.tolist())
