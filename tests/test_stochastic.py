"""StochasticBatch: the draw against exact Plackett–Luce probabilities, and its API."""

import itertools
import pickle

import numpy as np
import pytest
from scipy.stats import chisquare
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from skal import BADGE, ActiveLearner, EntropySampling, MarginSampling, StochasticBatch
from skal.base import BaseScoreStrategy


class ColumnScore(BaseScoreStrategy):
    """A score strategy whose score is the first feature (known scores for the tests)."""

    _needs_estimator = False
    _aliases = ()

    def _priority(self, X, estimator, offset=0):
        return np.asarray(X, dtype=np.float64)[:, 0]


def _pool(scores):
    return np.column_stack([scores, np.zeros(len(scores))])


# -- the reference: Plackett–Luce by enumeration ---------------------------------------


def _weights(scores, mode, beta):
    """Sampling weights p_i, written from the paper's definitions."""
    s = np.asarray(scores, dtype=np.float64)
    if mode == "power":
        return s**beta
    if mode == "softmax":
        return np.exp(beta * s)
    ranks = np.array([1 + np.sum(s > v) for v in s])  # 1 = highest score
    return ranks.astype(np.float64) ** (-beta)


def _plackett_luce(p):
    """Probability of every permutation: draw without replacement, p_i / (what is left)."""
    out = {}
    for perm in itertools.permutations(range(len(p))):
        prob, left = 1.0, float(np.sum(p))
        for i in perm:
            prob *= p[i] / left if left > 0 else 0.0
            left -= p[i]
        out[perm] = prob
    return out


def _marginals(p):
    """P(first = i) and P(first two = (i, j)), summed over permutations."""
    first, pairs = {}, {}
    for perm, prob in _plackett_luce(p).items():
        first[perm[0]] = first.get(perm[0], 0.0) + prob
        pairs[perm[:2]] = pairs.get(perm[:2], 0.0) + prob
    return first, pairs


CASES = [
    ("power", 1.0, [0.1, 0.2, 0.3, 0.4]),
    ("power", 2.0, [0.5, 1.0, 1.5, 0.8]),
    ("softmax", 1.5, [-1.0, 0.0, 0.5, 1.0]),
    ("softrank", 1.0, [0.3, 0.9, 0.1, 0.5]),
]
N_DRAWS = 3000  # seeds 0 .. N_DRAWS - 1
ALPHA = 1e-3  # chi-square test level; the seeds are fixed, so the test is deterministic


@pytest.mark.parametrize("mode, beta, scores", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_draws_follow_plackett_luce(mode, beta, scores):
    X = _pool(scores)
    first_p, pair_p = _marginals(_weights(scores, mode, beta))
    first, pairs = np.zeros(len(scores)), {}
    for seed in range(N_DRAWS):
        order = StochasticBatch(ColumnScore(prefit=True), mode=mode, beta=beta,
                                random_state=seed).rank(X)
        first[order[0]] += 1
        pairs[tuple(order[:2])] = pairs.get(tuple(order[:2]), 0) + 1
    # P(first = i): chi-square over the 4 items
    expected = np.array([first_p[i] for i in range(len(scores))]) * N_DRAWS
    assert chisquare(first, expected).pvalue > ALPHA
    # P(first two = (i, j)): chi-square over the 12 ordered pairs
    keys = sorted(pair_p)
    observed = np.array([pairs.get(k, 0) for k in keys])
    assert chisquare(observed, np.array([pair_p[k] for k in keys]) * N_DRAWS).pvalue > ALPHA
    # and each cell within 4 binomial standard deviations
    for k in keys:
        sd = np.sqrt(N_DRAWS * pair_p[k] * (1 - pair_p[k]))
        assert abs(pairs.get(k, 0) - N_DRAWS * pair_p[k]) <= 4 * sd + 1


@pytest.mark.parametrize("mode, beta, scores", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_transform_is_the_probability_of_being_first(mode, beta, scores):
    first_p, _ = _marginals(_weights(scores, mode, beta))
    p = StochasticBatch(ColumnScore(prefit=True), mode=mode, beta=beta).transform(
        _pool(scores)).ravel()
    np.testing.assert_allclose(p, [first_p[i] for i in range(len(scores))], rtol=1e-12)


# -- zero and negative scores ------------------------------------------------------


def test_power_zero_scores_come_last_in_random_order():
    scores = [0.0, 0.5, 0.0, 1.0, 0.0]
    tails = set()
    for seed in range(60):
        order = StochasticBatch(ColumnScore(prefit=True), random_state=seed).rank(_pool(scores))
        assert set(order[:2].tolist()) == {1, 3}
        tails.add(tuple(order[2:].tolist()))
    assert len(tails) == 6  # every order of the three zeros occurs
    p = StochasticBatch(ColumnScore(prefit=True)).transform(_pool(scores)).ravel()
    np.testing.assert_allclose(p, [0, 1 / 3, 0, 2 / 3, 0])
    all_zero = StochasticBatch(ColumnScore(prefit=True)).transform(_pool([0.0, 0.0]))
    np.testing.assert_allclose(all_zero.ravel(), [0.5, 0.5])


def test_power_refuses_negative_scores_but_not_rounding():
    strategy = StochasticBatch(ColumnScore(prefit=True), mode="power", random_state=0)
    with pytest.raises(ValueError, match=r"mode='power' .* needs scores >= 0.*-0.5.*softmax"):
        strategy.rank(_pool([0.2, -0.5, 0.1]))
    order = strategy.rank(_pool([0.2, -1e-8, 0.1]))  # float rounding of 0
    assert order[-1] == 1
    softmax = StochasticBatch(ColumnScore(prefit=True), mode="softmax", random_state=0)
    assert sorted(softmax.rank(_pool([0.2, -0.5, 0.1])).tolist()) == [0, 1, 2]


def test_beta_zero_is_uniform():
    p = StochasticBatch(ColumnScore(prefit=True), beta=0).transform(_pool([0.0, 1.0, 5.0]))
    np.testing.assert_allclose(p.ravel(), [1 / 3] * 3)


# -- on a real model ------------------------------------------------------------------


@pytest.fixture(scope="module")
def model(digits):
    X, y, X_pool, _ = digits
    return LogisticRegression(max_iter=500).fit(X, y), X, y, X_pool


@pytest.mark.parametrize("mode, beta", [("power", 1e6), ("softmax", 1e6), ("softrank", 100)])
def test_large_beta_gives_the_inner_top_k(mode, beta, model):
    clf, _, _, X_pool = model
    inner = EntropySampling(clf, prefit=True)
    strategy = StochasticBatch(inner, mode=mode, beta=beta, random_state=0)
    np.testing.assert_array_equal(strategy.query(X_pool, 20), inner.query(X_pool, 20))


@pytest.mark.parametrize("mode", ["power", "softmax", "softrank"])
def test_same_seed_same_draw_and_query_is_a_prefix(mode, model):
    clf, X, y, X_pool = model
    make = lambda seed: StochasticBatch(  # noqa: E731
        MarginSampling(), mode=mode, estimator=clf, prefit=True, random_state=seed).fit(X, y)
    ranking = make(0).rank(X_pool)
    np.testing.assert_array_equal(make(0).rank(X_pool), ranking)
    np.testing.assert_array_equal(make(0).query(X_pool, 25), ranking[:25])
    assert not np.array_equal(make(1).rank(X_pool), ranking)
    np.testing.assert_array_equal(list(make(0).lazy_rank(X_pool)), ranking)
    # unseeded: each ranking is a fresh draw
    free = StochasticBatch(MarginSampling(clf, prefit=True), mode=mode)
    assert not np.array_equal(free.rank(X_pool), free.rank(X_pool))


@pytest.mark.parametrize("mode", ["power", "softmax", "softrank"])
def test_noise_does_not_depend_on_how_the_pool_is_split(mode, model):
    clf, _, _, X_pool = model
    strategy = StochasticBatch(EntropySampling(clf, prefit=True), mode=mode, random_state=3)
    full = strategy.rank(X_pool)
    lazy = strategy.lazy_rank(X_pool[:200])
    np.testing.assert_array_equal(lazy.add(X_pool[200:350]), np.arange(200, 350))
    lazy.add(X_pool[350:])
    np.testing.assert_array_equal(lazy.take(len(X_pool)), full)


@pytest.mark.parametrize("mode", ["power", "softmax"])
def test_added_samples_join_the_draw_after_picks(mode, model):
    clf, _, _, X_pool = model
    strategy = StochasticBatch(EntropySampling(clf, prefit=True), mode=mode, random_state=3)
    lazy = strategy.lazy_rank(X_pool[:300])
    picked = lazy.take(40)
    np.testing.assert_array_equal(picked, strategy.query(X_pool[:300], 40))
    lazy.add(X_pool[300:])
    # a sample's key depends on itself only: the rest is the full draw, less the picks
    full = strategy.rank(X_pool)
    np.testing.assert_array_equal(lazy.take(len(X_pool)), full[~np.isin(full, picked)])


def test_softrank_add_reranks_the_samples_not_yet_picked():
    strategy = StochasticBatch(ColumnScore(prefit=True), mode="softrank", beta=50,
                               random_state=0)
    lazy = strategy.lazy_rank(_pool([0.1, 0.5, 0.3]))
    assert lazy.take(1).tolist() == [1]
    lazy.add(_pool([0.4]))  # ranks over all four: 0.5, 0.4, 0.3, 0.1
    assert lazy.take(3).tolist() == [3, 2, 0]


def test_refuses_a_strategy_without_a_score(model):
    clf, X, y, X_pool = model
    with pytest.raises(ValueError, match="BADGE does not rank by one.*EntropySampling"):
        StochasticBatch(BADGE(clf, prefit=True)).query(X_pool, 5)
    with pytest.raises(ValueError, match="BADGE does not rank by one"):
        StochasticBatch(BADGE(), estimator=clf, prefit=True).fit(X, y)


def test_clones_pickles_and_runs_in_active_learner(digits):
    X, y, X_pool, y_pool = digits
    strategy = StochasticBatch(EntropySampling(), mode="softmax", beta=2.0)
    assert clone(strategy).get_params()["strategy__prefit"] is False
    learner = ActiveLearner(LogisticRegression(max_iter=300), strategy, initial_size=20,
                            batch_size=20, budget=80, random_state=0).fit(X_pool, y_pool)
    again = ActiveLearner(LogisticRegression(max_iter=300), strategy, initial_size=20,
                          batch_size=20, budget=80, random_state=0).fit(X_pool, y_pool)
    np.testing.assert_array_equal(learner.labeled_indices_, again.labeled_indices_)
    fitted = learner.strategy_
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.rank(X), fitted.rank(X))


def test_resolve_strategy_names_a_stochastic_batch():
    # the command line and compare_strategies name it MODE-NAME
    from skal import EntropySampling, LeastConfidence, StochasticBatch
    from skal.model_selection import resolve_strategy

    power = resolve_strategy("power-entropy")
    assert isinstance(power, StochasticBatch) and power.mode == "power"
    assert isinstance(power.strategy, EntropySampling)
    soft = resolve_strategy("softrank-least-confidence")
    assert soft.mode == "softrank" and isinstance(soft.strategy, LeastConfidence)
    switch = resolve_strategy("random>power-margin@30")
    assert isinstance(switch.then, StochasticBatch) and switch.switch_at == 30
    with pytest.raises(ValueError, match="'power-badge'.*BADGE ranks otherwise"):
        resolve_strategy("power-badge")
    with pytest.raises(ValueError, match="Unknown strategy 'nothing'"):
        resolve_strategy("power-nothing")


def test_power_bald(blobs):
    # the paper's PowerBALD: BALD is score-based, so StochasticBatch wraps it; with
    # a very large beta the draw is BALD's own order
    from skal import BALD, StochasticBatch
    from skal.model_selection import resolve_strategy
    from tests._estimators import dropout_net

    X, y, X_pool = blobs
    net = dropout_net(3).fit(X, y)
    bald = BALD(net, prefit=True, random_state=0)
    top = bald.query(X_pool, 10)
    sharp = StochasticBatch(bald, mode="power", beta=1e6, random_state=0)
    np.testing.assert_array_equal(sharp.query(X_pool, 10), top)
    power = StochasticBatch(bald, mode="power", beta=1.0, random_state=0)
    np.testing.assert_array_equal(power.query(X_pool, 10), power.rank(X_pool)[:10])
    assert not np.array_equal(power.rank(X_pool), bald.rank(X_pool))
    picked = resolve_strategy("power-bald")
    assert isinstance(picked, StochasticBatch) and isinstance(picked.strategy, BALD)
