"""LCMD, MAXDET, MAXDIST and KMEANSPP (Holzmüller et al., 2023) against slow references."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_friedman1
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPRegressor
from skorch import NeuralNetRegressor
from torch import nn

from skal import KMEANSPP, LCMD, MAXDET, MAXDIST
from skal.embeddings import penultimate_embedding
from skal.embeddings._kernels import sketch_matrices, sketched_gradient_features
from skal.exceptions import EmbeddingError
from skal.model_selection import resolve_strategy
from skal.selection._bmdal import LCMDRanking, MaxDetRanking, PosteriorTransform

# -- slow references, written from the definitions, on full kernel matrices ------------


def posterior_kernel(F_all, n_pool, sigma):
    """Posterior kernel of the pool given the labeled rows ``F_all[n_pool:]`` (noise σ²),
    after scaling the prior to mean diagonal 1 over the labeled rows (bmdal's "train")."""
    K = F_all @ F_all.T
    lab = np.arange(n_pool, len(F_all))
    basis = lab if len(lab) else np.arange(n_pool)
    K = K / np.mean(np.diag(K)[basis])
    if not len(lab):
        return K
    K_ll = K[np.ix_(lab, lab)] + sigma**2 * np.eye(len(lab))
    return K - K[:, lab] @ np.linalg.solve(K_ll, K[lab, :])


def reference_maxdet(K, sigma, n_pick, prefix=()):
    """Greedy: each step the candidate maximizing log det(K_S + σ² I), by slogdet."""
    chosen = list(prefix)
    for _ in range(n_pick):
        best, best_i = -np.inf, None
        for i in range(len(K)):
            if i in chosen:
                continue
            S = chosen + [i]
            sign, logdet = np.linalg.slogdet(K[np.ix_(S, S)] + sigma**2 * np.eye(len(S)))
            assert sign > 0
            if logdet > best:  # ties: the lower index
                best, best_i = logdet, i
        chosen.append(best_i)
    return chosen[len(prefix):]


def reference_lcmd(K, n_pool, n_pick, prefix=()):
    """LCMD with explicit loops; rows ``n_pool:`` of ``K`` are the labeled centers."""
    centers = list(range(n_pool, len(K))) + list(prefix)
    picks = list(prefix)

    def sq_dist(i, c):
        return max(K[i, i] + K[c, c] - 2 * K[i, c], 0.0)

    for _ in range(n_pick):
        if not centers:
            diag = [K[i, i] for i in range(n_pool)]
            i = int(np.argmax(diag))
        else:
            cluster, dist = {}, {}
            for i in range(n_pool):
                best_c, best_d = None, np.inf
                for c in centers:  # ties: the earlier center
                    d = sq_dist(i, c)
                    if d < best_d:
                        best_c, best_d = c, d
                cluster[i], dist[i] = best_c, best_d
            sums = {}
            for i in range(n_pool):
                sums[cluster[i]] = sums.get(cluster[i], 0.0) + dist[i]
            largest = max(sums.values())
            best, i = -np.inf, None
            for j in range(n_pool):
                if j not in picks and sums[cluster[j]] == largest and dist[j] > best:
                    best, i = dist[j], j
        picks.append(i)
        centers.append(i)
    return picks[len(prefix):]


def _problem(seed, n_pool=25, n_lab=6, d=8):
    rng = np.random.RandomState(seed)
    scales = rng.uniform(0.2, 2.0, size=d)
    return rng.normal(size=(n_pool, d)) * scales, rng.normal(size=(n_lab, d)) * scales


# -- the selection rankings against the references ---------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_lab", [0, 6])
@pytest.mark.parametrize("sigma", [0.3, 1e-3])
def test_maxdet_matches_greedy_logdet(seed, n_lab, sigma):
    F, F_lab = _problem(seed, n_lab=n_lab)
    K = posterior_kernel(np.vstack([F, F_lab]), len(F), sigma)[: len(F), : len(F)]
    n_pick = 6  # fewer than the 8 features: no tie among vanished variances
    transform = PosteriorTransform(F_lab, sigma, scale_from=F)
    ranking = MaxDetRanking(transform(F), sigma)
    assert ranking.take(n_pick).tolist() == reference_maxdet(K, sigma, n_pick)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_lab", [0, 1, 6])
@pytest.mark.parametrize("posterior", [False, True])
def test_lcmd_matches_explicit_clusters(seed, n_lab, posterior):
    F, F_lab = _problem(seed, n_lab=n_lab)
    F_all = np.vstack([F, F_lab])
    if posterior:
        transform = PosteriorTransform(F_lab, 0.3, scale_from=F)
        G, G_lab = transform(F), transform(F_lab)
        K = posterior_kernel(F_all, len(F), 0.3)
    else:
        G, G_lab, K = F, F_lab, F_all @ F_all.T
    n_pick = 12
    ranking = LCMDRanking(G, centers=G_lab)
    assert ranking.take(n_pick).tolist() == reference_lcmd(K, len(F), n_pick)


def test_posterior_transform_gives_the_posterior_kernel():
    F, F_lab = _problem(0)
    G = PosteriorTransform(F_lab, 0.5)(np.vstack([F, F_lab]))
    K = posterior_kernel(np.vstack([F, F_lab]), len(F), 0.5)
    np.testing.assert_allclose(G @ G.T, K, atol=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_lazy_add_continues_the_greedy_on_the_grown_pool(seed):
    F, F_lab = _problem(seed, n_pool=30)
    old, new = F[:20], F[20:]
    # LCMD: 3 picks on the first 20, then 10 more points join
    ranking = LCMDRanking(old, centers=F_lab)
    first = ranking.take(3).tolist()
    assert ranking.add(new).tolist() == list(range(20, 30))
    K = np.vstack([F, F_lab]) @ np.vstack([F, F_lab]).T
    assert first == reference_lcmd(K[np.ix_(list(range(20)) + list(range(30, 36)),
                                             list(range(20)) + list(range(30, 36)))], 20, 3)
    assert ranking.take(6).tolist() == reference_lcmd(K, 30, 6, prefix=first)
    # MAXDET with the posterior: added points are transformed and conditioned the same
    sigma = 0.3
    transform = PosteriorTransform(F_lab, sigma)
    ranking = MaxDetRanking(transform(old), sigma)
    first = ranking.take(3).tolist()
    ranking.add(transform(new))
    K = posterior_kernel(np.vstack([F, F_lab]), 30, sigma)[:30, :30]
    assert first == reference_maxdet(K[:20, :20], sigma, 3)
    assert ranking.take(3).tolist() == reference_maxdet(K, sigma, 3, prefix=first)


def test_lcmd_without_centers_starts_at_the_largest_norm():
    F, _ = _problem(1)
    first = LCMDRanking(F).take(1)[0]
    assert first == np.argmax((F**2).sum(axis=1))


def test_maxdet_ties_go_to_the_lower_index():
    F = np.zeros((4, 3))  # every variance is σ²
    assert MaxDetRanking(F, 0.1).take(4).tolist() == [0, 1, 2, 3]


# -- the strategies ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=120, n_features=5, random_state=0)
    return X[:20], y[:20], X[20:]


def _ll(X):
    return np.hstack([X, np.ones((len(X), 1))])


@pytest.mark.parametrize("posterior", [False, True])
def test_lcmd_strategy_with_ridge_matches_reference(friedman, posterior):
    X, y, X_pool = friedman
    strategy = LCMD(Ridge(), kernel="ll", posterior=posterior, sigma=0.3).fit(X, y)
    F_all = np.vstack([_ll(X_pool), _ll(X)])
    K = posterior_kernel(F_all, len(X_pool), 0.3) if posterior else F_all @ F_all.T
    np.testing.assert_array_equal(strategy.query(X_pool, 10),
                                  reference_lcmd(K, len(X_pool), 10))


@pytest.mark.parametrize("fitted", [True, False])
def test_maxdet_strategy_with_ridge_matches_reference(friedman, fitted):
    X, y, X_pool = friedman
    ridge = Ridge().fit(X, y)
    strategy = MAXDET(ridge, prefit=True, kernel="ll", sigma=0.3)
    if fitted:
        strategy.fit(X, y)
    lab = X if fitted else X[:0]
    K = posterior_kernel(np.vstack([_ll(X_pool), _ll(lab)]), len(X_pool), 0.3)
    np.testing.assert_array_equal(strategy.query(X_pool, 5),
                                  reference_maxdet(K[:len(X_pool), :len(X_pool)], 0.3, 5))


def test_prefit_never_fitted_lcmd_has_no_centers(friedman):
    X, y, X_pool = friedman
    strategy = LCMD(Ridge().fit(X, y), prefit=True, kernel="ll")
    K = _ll(X_pool) @ _ll(X_pool).T
    np.testing.assert_array_equal(strategy.query(X_pool, 8),
                                  reference_lcmd(K, len(X_pool), 8))


def reference_maxdist(F, centers, n_pick):
    """Farthest-first by explicit loops; with no center, the largest norm first."""
    chosen = [np.asarray(c, dtype=np.float64) for c in centers]
    picks = []
    for _ in range(n_pick):
        best, best_i = -np.inf, None
        for i in range(len(F)):
            if i in picks:
                continue
            if chosen:
                value = min(float(np.sum((F[i] - c) ** 2)) for c in chosen)
            else:
                value = float(F[i] @ F[i])
            if value > best:  # ties: the lower index
                best, best_i = value, i
        picks.append(best_i)
        chosen.append(F[best_i])
    return picks


@pytest.mark.parametrize("fitted", [True, False])
def test_maxdist_is_farthest_first_from_the_labeled_set(friedman, fitted):
    X, y, X_pool = friedman
    strategy = MAXDIST(Ridge().fit(X, y), prefit=True, kernel="ll")
    if fitted:
        strategy.fit(X, y)
    centers = _ll(X) if fitted else []
    np.testing.assert_array_equal(strategy.query(X_pool, 12),
                                  reference_maxdist(_ll(X_pool), centers, 12))
    # duplicates of the first pick come last among the pool
    duplicated = np.vstack([X_pool, X_pool[:3]])
    ranking = MAXDIST(Ridge().fit(X, y), prefit=True, kernel="ll").rank(duplicated)
    assert sorted(ranking.tolist()) == list(range(len(duplicated)))


def test_kmeanspp_is_the_dsquared_engine_on_the_kernel_features(friedman):
    from sklearn.utils import check_random_state

    from skal.selection import KMeansPlusPlusRanking
    from skal.utils._random import draw_seed

    X, y, X_pool = friedman
    strategy = KMEANSPP(Ridge(), kernel="ll", random_state=3).fit(X, y)
    seed = draw_seed(check_random_state(3))
    engine = KMeansPlusPlusRanking(_ll(X_pool), init="random", random_state=seed,
                                   dtype=np.float64)
    np.testing.assert_array_equal(strategy.rank(X_pool), engine.take(len(X_pool)))
    # P mode: the labeled set is no center (a prefit strategy never fitted picks the same)
    prefit = KMEANSPP(strategy.estimator_, prefit=True, kernel="ll", random_state=3)
    np.testing.assert_array_equal(prefit.query(X_pool, 10), strategy.query(X_pool, 10))
    # another seed, another draw
    other = KMEANSPP(Ridge(), kernel="ll", random_state=4).fit(X, y)
    assert not np.array_equal(other.query(X_pool, 10), strategy.query(X_pool, 10))


def test_kmeanspp_first_pick_is_uniform(friedman):
    # 4,000 seeds over 100 pool samples: a chi-squared test of the first pick
    from scipy.stats import chisquare

    X, y, X_pool = friedman
    ridge = Ridge().fit(X, y)
    firsts = np.array([KMEANSPP(ridge, prefit=True, kernel="ll", random_state=seed)
                       .query(X_pool, 1)[0] for seed in range(4000)])
    counts = np.bincount(firsts, minlength=len(X_pool))
    assert chisquare(counts).pvalue > 1e-3


@pytest.mark.parametrize("Strategy", [LCMD, MAXDET, MAXDIST, KMEANSPP])
def test_rank_query_and_lazy_rank_agree(friedman, Strategy):
    X, y, X_pool = friedman
    strategy = Strategy(Ridge(), kernel="ll", random_state=0).fit(X, y)
    ranking = strategy.rank(X_pool)
    assert sorted(ranking.tolist()) == list(range(len(X_pool)))
    for k in (1, 7, len(X_pool)):
        np.testing.assert_array_equal(strategy.query(X_pool, k), ranking[:k])
    lazy = strategy.lazy_rank(X_pool)
    np.testing.assert_array_equal(np.concatenate([lazy.take(3), [next(lazy)],
                                                  lazy.take(len(X_pool))]), ranking)
    # samples added before the first pick: the ranking of the whole pool
    lazy = strategy.lazy_rank(X_pool[:60])
    lazy.add(X_pool[60:])
    np.testing.assert_array_equal(lazy.take(len(X_pool)), ranking)


def test_ll_features_are_the_penultimate_embedding_and_a_bias(friedman):
    X, y, X_pool = friedman
    mlp = MLPRegressor(hidden_layer_sizes=(7,), max_iter=50, random_state=0).fit(X, y)
    features = LCMD(mlp, prefit=True, kernel="ll").transform(X_pool)
    np.testing.assert_allclose(features[:, :-1], penultimate_embedding(mlp, X_pool))
    np.testing.assert_array_equal(features[:, -1], 1.0)
    assert features.dtype == np.float64


# -- skorch nets and the sketched gradient -----------------------------------------------


class _MLP(nn.Module):
    def __init__(self, n_features=5, hidden=16, activation=nn.ReLU):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, hidden), activation(),
                                  nn.Linear(hidden, 8), nn.Tanh())
        self.out = nn.Linear(8, 1)

    def forward(self, X):
        return self.out(self.body(X))


def _net(**kwargs):
    torch.manual_seed(0)
    return NeuralNetRegressor(_MLP, max_epochs=3, lr=0.05, batch_size=16, train_split=None,
                              verbose=0, **kwargs)


@pytest.fixture(scope="module")
def fitted_net(friedman):
    X, y, _ = friedman
    net = _net(module__activation=nn.Tanh)
    return net.fit(X.astype(np.float32), y.astype(np.float32).reshape(-1, 1))


def test_sketched_gradient_is_the_sketch_of_the_full_gradient(fitted_net, friedman):
    _, _, X_pool = friedman
    X_pool = X_pool[:30].astype(np.float32)
    m = 64
    features = sketched_gradient_features(fitted_net, X_pool, m, seed=3)
    # full per-sample gradients of the output with respect to every parameter
    module = fitted_net.module_
    params = {k: v.detach() for k, v in module.named_parameters()}

    def output(p, x):
        return torch.func.functional_call(module, p, (x[None],))[0, 0]

    grads = torch.func.vmap(torch.func.grad(output), in_dims=(None, 0))(
        params, torch.as_tensor(X_pool))
    layers = [("body.0", 5, 16), ("body.2", 16, 8), ("out", 8, 1)]
    matrices = sketch_matrices([(n_in + 1, n_out) for _, n_in, n_out in layers], m, 3)
    expected = np.zeros((len(X_pool), m))
    for (name, _, _), (A, B) in zip(layers, matrices):
        W = grads[f"{name}.weight"].double().numpy()  # (n, out, in)
        b = grads[f"{name}.bias"].double().numpy()[:, :, None]
        M = np.concatenate([W, b], axis=2)  # ∂f/∂[W, b] = g ãᵀ
        expected += np.einsum("nqp,pj,qj->nj", M, A, B)
    expected /= np.sqrt(m)
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-7)
    # and the inner products of the sketch approach those of the full gradients
    full = np.concatenate([grads[k].reshape(len(X_pool), -1).double().numpy()
                           for k in params], axis=1)
    big = sketched_gradient_features(fitted_net, X_pool, 20000, seed=0)
    K, K_sketch = full @ full.T, big @ big.T
    assert np.abs(K_sketch - K).max() < 0.1 * np.abs(K).max()


def test_sketch_is_seeded_and_leaves_the_net_as_it_was(fitted_net, friedman):
    _, _, X_pool = friedman
    X_pool = X_pool.astype(np.float32)
    module = fitted_net.module_
    module.out.weight.requires_grad_(False)
    module.train()
    for p in module.parameters():
        p.grad = None
    before = {k: v.clone() for k, v in module.state_dict().items()}
    try:
        a = LCMD(fitted_net, prefit=True, random_state=1).transform(X_pool)
        b = LCMD(fitted_net, prefit=True, random_state=1).transform(X_pool)
        c = LCMD(fitted_net, prefit=True, random_state=2).transform(X_pool)
        np.testing.assert_array_equal(a, b)
        assert not np.allclose(a, c)
        assert module.training and not module.out.weight.requires_grad
        assert all(p.grad is None for p in module.parameters())
        for k, v in module.state_dict().items():
            torch.testing.assert_close(v, before[k])
    finally:
        module.out.weight.requires_grad_(True)
        module.eval()


@pytest.mark.parametrize("Strategy", [LCMD, MAXDET, MAXDIST, KMEANSPP])
@pytest.mark.parametrize("kernel", ["grad_rp", "ll"])
def test_skorch_regressor_end_to_end(friedman, Strategy, kernel):
    X, y, X_pool = friedman
    X, X_pool = X.astype(np.float32), X_pool.astype(np.float32)
    strategy = Strategy(_net(), kernel=kernel, sketch_dim=32, sigma=0.1,
                        random_state=0).fit(X, y)
    picks = strategy.query(X_pool, 10)
    ranking = strategy.rank(X_pool)
    np.testing.assert_array_equal(picks, ranking[:10])
    lazy = strategy.lazy_rank(X_pool)
    np.testing.assert_array_equal(lazy.take(10), picks)
    # the picks are the reference's on the strategy's own features
    G, G_lab = strategy.transform(X_pool), strategy.transform(X)
    if Strategy is LCMD:
        F_all = np.vstack([G, G_lab])
        expected = reference_lcmd(F_all @ F_all.T, len(G), 10)
    elif Strategy is MAXDIST:
        expected = reference_maxdist(G, G_lab, 10)
    elif Strategy is MAXDET:
        expected = reference_maxdet(G @ G.T, 0.1, 10)
    else:  # KMEANSPP: a draw; its reference is the engine's test
        expected = picks
    np.testing.assert_array_equal(picks, expected)


# -- errors, state, persistence ---------------------------------------------------------


@pytest.mark.parametrize("Strategy", [LCMD, MAXDET, MAXDIST, KMEANSPP])
def test_classifiers_are_refused(Strategy, friedman):
    X, y, X_pool = friedman
    labels = (y > np.median(y)).astype(int)
    with pytest.raises(ValueError, match="is not a regressor"):
        Strategy(LogisticRegression(), kernel="ll").fit(X, labels)
    clf = LogisticRegression().fit(X, labels)
    with pytest.raises(ValueError, match="is not a regressor"):
        Strategy(clf, prefit=True, kernel="ll").query(X_pool, 3)


@pytest.mark.parametrize("Strategy", [LCMD, MAXDET, MAXDIST, KMEANSPP])
def test_grad_rp_needs_a_skorch_net(Strategy, friedman):
    X, y, X_pool = friedman
    with pytest.raises(EmbeddingError, match="kernel='ll'"):
        Strategy(Ridge(), kernel="grad_rp").fit(X, y)
    with pytest.raises(ValueError, match="layer='out' applies to kernel='ll' only"):
        Strategy(_net(), layer="out").fit(X.astype(np.float32), y)


@pytest.mark.parametrize("Strategy", [LCMD, MAXDET, MAXDIST, KMEANSPP])
def test_caller_arrays_are_not_mutated(Strategy, friedman):
    X, y, X_pool = (a.copy() for a in friedman)
    copies = X.copy(), y.copy(), X_pool.copy()
    strategy = Strategy(Ridge(), kernel="ll", posterior=True).fit(X, y)
    strategy.query(X_pool, 5)
    strategy.rank(X_pool)
    strategy.lazy_rank(X_pool[:50]).add(X_pool[50:])
    strategy.transform(X_pool)
    for before, after in zip(copies, (X, y, X_pool)):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("Strategy", [LCMD, MAXDET, MAXDIST, KMEANSPP])
def test_clone_and_pickle_keep_the_picks(Strategy, friedman):
    X, y, X_pool = friedman
    strategy = Strategy(Ridge(), kernel="ll", sigma=0.2, random_state=0).fit(X, y)
    cloned = clone(strategy)
    assert cloned.get_params(deep=False)["sigma"] == 0.2
    assert not hasattr(cloned, "X_labeled_")
    np.testing.assert_array_equal(cloned.fit(X, y).rank(X_pool), strategy.rank(X_pool))
    restored = pickle.loads(pickle.dumps(strategy))
    np.testing.assert_array_equal(restored.rank(X_pool), strategy.rank(X_pool))


@pytest.mark.parametrize("Strategy", [LCMD, MAXDET, MAXDIST, KMEANSPP])
def test_auto_kernel_is_the_sketched_gradient_of_a_net_else_the_last_layer(Strategy,
                                                                           friedman):
    X, y, X_pool = friedman
    ridge = Strategy(Ridge(), posterior=False, random_state=0).fit(X, y)
    np.testing.assert_array_equal(
        ridge.rank(X_pool),
        Strategy(Ridge(), kernel="ll", posterior=False, random_state=0).fit(X, y)
        .rank(X_pool))
    X32, pool32 = X.astype(np.float32), X_pool.astype(np.float32)
    net = _net().fit(X32, y.astype(np.float32).reshape(-1, 1))
    auto = Strategy(net, prefit=True, random_state=0).fit(X32, y)
    grad = Strategy(net, prefit=True, kernel="grad_rp", random_state=0).fit(X32, y)
    np.testing.assert_array_equal(auto.query(pool32, 10), grad.query(pool32, 10))
    assert auto.transform(pool32).shape[1] == 512


def test_defaults_are_the_papers_recommended_methods():
    assert LCMD().get_params()["kernel"] == "auto"  # grad_rp for a net
    assert LCMD().get_params()["posterior"] is False  # LCMD-TP [grad, rp(512)]
    assert MAXDET().get_params()["posterior"] is True  # MAXDET-P [grad, rp(512), train]
    assert MAXDET().get_params()["sketch_dim"] == 512
    assert type(resolve_strategy("lcmd")) is LCMD
    assert type(resolve_strategy("maxdet")) is MAXDET
