"""VAAL: a β-VAE and a discriminator trained adversarially on labeled vs pool.

The ranking is checked against a plain-loop reference with a stubbed
discriminator; the skorch training against the plain-torch loop VAAL used
before (bit for bit), and on toy problems where the labeled set covers part of
the data (VAAL must prefer the rest), with its loss curves; that query, rank,
transform and lazy_rank train the same networks and leave the strategy as it
was; seeds, the global RNGs, the fallback without a labeled set, errors, and
sklearn's estimator checks.
"""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skal import ActiveLearner, RandomSampling
from skal.strategies._vaal import VAAL, _ConvVAE, _Discriminator, _MLPVAE, _VAALNet
from skal.toy import make_skorch_classifier

TINY = dict(latent_dim=4, hidden_units=16, n_epochs=2, batch_size=32, lr=1e-2)


@pytest.fixture(scope="module")
def digits_split():
    """Labeled: digits 0-4 only; pool: every digit (about half are 5-9)."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    labeled = np.flatnonzero(y[:600] < 5)
    return X[labeled], y[labeled], X[600:1200], y[600:1200]


@pytest.fixture(scope="module")
def clusters():
    """Labeled: one Gaussian cluster in 8-D; pool: 40 from it, then 10 from a far one."""
    rng = np.random.RandomState(0)
    X_labeled = rng.normal(0.0, 1.0, size=(40, 8))
    X_pool = np.vstack([rng.normal(0.0, 1.0, size=(40, 8)), rng.normal(4.0, 1.0, size=(10, 8))])
    return X_labeled, X_pool


def reference_ranking(scores):
    """Indices by decreasing score, ties to the lower index (plain loops)."""
    remaining, order = list(range(len(scores))), []
    while remaining:
        best = remaining[0]
        for i in remaining[1:]:
            if scores[i] > scores[best]:
                best = i
        order.append(best)
        remaining.remove(best)
    return order


class _IdentityVAE(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))  # for the optimizer

    def encode(self, x):
        return x, torch.zeros_like(x)


class _FirstCoordinate(_IdentityVAE):
    def forward(self, z):
        return z[:, 0]


def _inject_stub(monkeypatch, X):
    """Make VAAL use a stub, untrained, for pools like ``X``: logit P(labeled) = X[:, 0]."""
    n_features = int(np.prod(X.shape[1:]))
    stub = _VAALNet(
        _IdentityVAE, discriminator=_FirstCoordinate,
        mean=np.zeros(n_features, np.float32), scale=np.float32(1.0),
    ).initialize()
    monkeypatch.setattr(VAAL, "_train", lambda self, X: stub)


def log_odds(net, X):
    """``-logit D(mu(x))`` by hand from the networks and the documented scaling."""
    x = torch.as_tensor((X.reshape(len(X), -1).astype(np.float32) - net.mean) / net.scale)
    with torch.no_grad():
        return -net.discriminator_(net.module_.encode(x)[0]).double().numpy()


# --------------------------------------------------------------------------
# the discriminator's scores are what ranks
# --------------------------------------------------------------------------


def test_stubbed_discriminator_ranks_lowest_p_labeled_first(monkeypatch):
    X_labeled = np.zeros((3, 2), dtype=np.float32)
    X = np.array([[0.5, 9.0], [-2.0, 0.0], [3.0, 1.0], [-2.0, 5.0], [0.0, 0.0], [-7.0, 1.0]],
                 dtype=np.float32)
    strategy = VAAL(random_state=0).fit(X_labeled)
    _inject_stub(monkeypatch, X)
    # P(labeled) = sigmoid(X[:, 0]): lowest for -7, then the tie -2 (indices 1, 3), 0, 0.5, 3
    assert strategy.rank(X).tolist() == [5, 1, 3, 4, 0, 2]
    assert strategy.rank(X).tolist() == reference_ranking(-X[:, 0].astype(np.float64))
    np.testing.assert_array_equal(strategy.transform(X), -X[:, :1].astype(np.float64))
    for k in range(1, 7):
        np.testing.assert_array_equal(strategy.query(X, k), strategy.rank(X)[:k])


def test_stubbed_discriminator_random_pool_matches_reference(monkeypatch):
    rng = np.random.RandomState(3)
    X = rng.randint(-3, 4, size=(40, 3)).astype(np.float32)  # many ties
    strategy = VAAL(random_state=0).fit(rng.rand(5, 3))
    _inject_stub(monkeypatch, X)
    assert strategy.rank(X).tolist() == reference_ranking(-X[:, 0].astype(np.float64))


def test_transform_is_the_log_odds_of_the_trained_discriminator(clusters):
    X_labeled, X_pool = clusters
    strategy = VAAL(random_state=0, **TINY).fit(X_labeled)
    scores = strategy.transform(X_pool)
    assert scores.shape == (50, 1) and scores.dtype == np.float64
    # recompute by hand from the exposed networks and the documented scaling
    n_all = 90
    mean = (X_labeled.sum(0) + X_pool.sum(0)) / n_all
    both = np.vstack([X_labeled, X_pool])
    scale = np.sqrt(np.mean((both - mean) ** 2))
    x = torch.as_tensor(((X_pool - mean) / scale).astype(np.float32))
    lazy = strategy.lazy_rank(X_pool)  # trains the same networks as transform
    with torch.no_grad():
        logits = lazy.discriminator_(lazy.vae_.encode(x)[0]).double().numpy()
    np.testing.assert_allclose(scores[:, 0], -logits, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(scores[:, 0], log_odds(lazy.net_, X_pool))
    assert strategy.rank(X_pool).tolist() == reference_ranking(scores[:, 0])


# --------------------------------------------------------------------------
# the skorch training is the plain-torch loop VAAL had before, bit for bit
# --------------------------------------------------------------------------


def reference_train(X_labeled, X_pool, *, seed, hidden_units, latent_dim=32, beta=1.0,
                    adversary_weight=1.0, n_epochs=1, batch_size=256, lr=5e-4, image_shape=None):
    """VAAL's training as one plain loop of torch (slow to extend, easy to read)."""
    F = torch.nn.functional
    X_labeled = X_labeled.reshape(len(X_labeled), -1)
    X_pool = X_pool.reshape(len(X_pool), -1)
    n_labeled, n_features = X_labeled.shape
    n_pool = len(X_pool)
    n_all = n_labeled + n_pool
    mean = (X_labeled.sum(axis=0, dtype=np.float64)
            + X_pool.sum(axis=0, dtype=np.float64)) / n_all
    sq = (np.einsum("ij,ij->", X_labeled, X_labeled, dtype=np.float64)
          + np.einsum("ij,ij->", X_pool, X_pool, dtype=np.float64))
    var = max(sq / (n_all * n_features) - np.mean(mean**2), 0.0)
    scale = np.float32(np.sqrt(var) if var > 1e-24 else 1.0)
    mean = mean.astype(np.float32)
    X_lab_t = torch.from_numpy((X_labeled.astype(np.float32) - mean) / scale)
    X_pool_t = torch.from_numpy((X_pool.astype(np.float32) - mean) / scale)
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(seed)
        if image_shape is None:
            vae = _MLPVAE(n_features, hidden_units, latent_dim)
        else:
            vae = _ConvVAE(image_shape, hidden_units, latent_dim)
        discriminator = _Discriminator(latent_dim, max(hidden_units))
    order_gen = torch.Generator().manual_seed(seed + 1)
    noise_gen = torch.Generator().manual_seed(seed + 2)
    opt_vae = torch.optim.Adam(vae.parameters(), lr=lr)
    opt_disc = torch.optim.Adam(discriminator.parameters(), lr=lr)
    b, b_lab = batch_size, min(batch_size, n_labeled)
    lab_order, lab_pos = torch.randperm(n_labeled, generator=order_gen), 0
    curve = []
    for _ in range(n_epochs):
        pool_order = torch.randperm(n_pool, generator=order_gen)
        losses = []
        for start in range(0, n_pool, b):
            x_u = X_pool_t[pool_order[start:start + b]]
            if lab_pos + b_lab > n_labeled:
                lab_order, lab_pos = torch.randperm(n_labeled, generator=order_gen), 0
            x_l = X_lab_t[lab_order[lab_pos:lab_pos + b_lab]]
            lab_pos += b_lab
            x = torch.cat([x_l, x_u])
            mu, logvar = vae.encode(x)
            z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=noise_gen)
            recon = ((vae.decode(z) - x) ** 2).sum(dim=1).mean() / n_features
            kl = (-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(dim=1)).mean() / n_features
            fool = F.binary_cross_entropy_with_logits(discriminator(mu), torch.ones(len(x)))
            loss = recon + beta * kl + adversary_weight * fool
            opt_vae.zero_grad()
            loss.backward()
            opt_vae.step()
            with torch.no_grad():
                mu = vae.encode(x)[0]
            logits = discriminator(mu)
            disc = F.binary_cross_entropy_with_logits(
                logits[:len(x_l)], torch.ones(len(x_l))
            ) + F.binary_cross_entropy_with_logits(logits[len(x_l):], torch.zeros(len(x_u)))
            opt_disc.zero_grad()
            disc.backward()
            opt_disc.step()
            losses.append([recon.item(), kl.item(), fool.item(), disc.item()])
        curve.append(np.mean(losses, axis=0))
    with torch.no_grad():
        scores = -discriminator(vae.encode(X_pool_t)[0]).double().numpy()
    return vae, discriminator, np.array(curve), scores


@pytest.mark.parametrize(
    "data, params",
    [
        ("clusters", dict(latent_dim=4, hidden_units=16, n_epochs=3, batch_size=32, lr=1e-2)),
        # more labeled than pool, a labeled batch smaller than the pool's
        ("clusters_swapped", dict(latent_dim=3, hidden_units=(8, 6), n_epochs=2,
                                  batch_size=16, beta=0.5, adversary_weight=2.0)),
        ("digits", dict(n_epochs=2, batch_size=64)),
        ("stripes", dict(architecture="conv", hidden_units=(4, 8), latent_dim=2,
                         n_epochs=2, batch_size=16)),
    ],
)
def test_training_is_the_reference_loop_bit_for_bit(request, data, params):
    if data == "clusters_swapped":
        X_pool, X_labeled = request.getfixturevalue("clusters")
        X_pool = X_pool[:7]
    elif data == "digits":
        X_labeled, _, X_pool, _ = request.getfixturevalue("digits_split")
    else:
        X_labeled, X_pool = request.getfixturevalue(data)
    strategy = VAAL(random_state=5, **params).fit(X_labeled)
    lazy = strategy.lazy_rank(X_pool)
    reference = {k: v for k, v in strategy.get_params().items() if k in (
        "latent_dim", "beta", "adversary_weight", "n_epochs", "batch_size", "lr")}
    units = strategy.hidden_units
    vae, discriminator, curve, scores = reference_train(
        X_labeled, X_pool, seed=strategy._seed, **reference,
        hidden_units=[units] if isinstance(units, int) else list(units),
        image_shape=X_labeled.shape[1:] if data == "stripes" else None,
    )
    for mine, theirs in ((lazy.vae_, vae), (lazy.discriminator_, discriminator)):
        theirs = theirs.state_dict()
        for name, value in mine.state_dict().items():
            assert torch.equal(value, theirs[name]), name
    np.testing.assert_array_equal(strategy.transform(X_pool)[:, 0], scores)
    np.testing.assert_array_equal(strategy.rank(X_pool), reference_ranking(scores))
    curves = lazy.loss_curve_
    mine = np.column_stack([curves[k] for k in ("reconstruction", "kl", "adversarial",
                                                 "discriminator")])
    np.testing.assert_allclose(mine, curve, rtol=1e-12)


def test_the_networks_are_a_skorch_net(clusters):
    from skorch import NeuralNet

    X_labeled, X_pool = clusters
    lazy = VAAL(random_state=0, **TINY).fit(X_labeled).lazy_rank(X_pool)
    net = lazy.net_
    assert isinstance(net, NeuralNet) and net.initialized_
    assert isinstance(net.module_, _MLPVAE) and isinstance(net.discriminator_, _Discriminator)
    # one optimizer per network, each over that network's parameters only
    assert {id(p) for g in net.optimizer_.param_groups for p in g["params"]} == {
        id(p) for p in net.module_.parameters()}
    assert {id(p) for g in net.optimizer_discriminator_.param_groups for p in g["params"]} == {
        id(p) for p in net.discriminator_.parameters()}
    # skorch's history: 2 epochs of ceil(50 / 32) = 2 batches; "train_loss" is
    # the VAE's whole loss
    assert len(net.history) == 2
    assert net.history[:, "train_batch_count"] == [2, 2]
    # each batch: 32 of the 40 labeled samples, then 32 of the pool's 50 (the rest next)
    assert net.history[:, "batches", :, "train_batch_size"] == [[32 + 32, 32 + 18]] * 2
    batch = net.history[0, "batches", 0]
    np.testing.assert_allclose(
        batch["train_loss"], batch["vae"] + batch["adversarial"], rtol=1e-6)
    np.testing.assert_allclose(
        lazy.loss_curve_["discriminator"],
        [np.mean(h) for h in net.history[:, "batches", :, "discriminator"]])


@pytest.mark.parametrize("seed", [0, 1])
def test_the_discriminator_separates_labeled_from_pool(clusters, seed):
    X_labeled, X_pool = clusters
    strategy = VAAL(hidden_units=16, n_epochs=10, batch_size=32, lr=1e-2, random_state=seed)
    net = strategy.fit(X_labeled).lazy_rank(X_pool).net_
    # logit of P(labeled): the pool's far cluster is told apart from the labeled
    # set, the pool's samples from the labeled set's cluster are not
    labeled, near, far = (net.forward(A).numpy() for A in (X_labeled, X_pool[:40], X_pool[40:]))
    assert min(labeled.min(), near.min()) > far.max()
    assert abs(labeled.mean() - near.mean()) < 0.2 < near.mean() - far.mean()


# --------------------------------------------------------------------------
# training does what the method is for
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_prefers_the_cluster_the_labeled_set_does_not_cover(clusters, seed):
    X_labeled, X_pool = clusters
    strategy = VAAL(hidden_units=16, n_epochs=10, batch_size=32, lr=1e-2, random_state=seed)
    picks = strategy.fit(X_labeled).query(X_pool, batch_size=10)
    assert np.sum(picks >= 40) >= 8  # random picks would give 2 on average


@pytest.mark.parametrize("seed", [0, 1])
def test_prefers_digits_the_labeled_set_lacks(digits_split, seed):
    X_labeled, _, X_pool, y_pool = digits_split
    picks = VAAL(n_epochs=5, random_state=seed).fit(X_labeled).query(X_pool, batch_size=50)
    assert np.mean(y_pool >= 5) < 0.55
    assert np.mean(y_pool[picks] >= 5) >= 0.8


def test_losses_decrease(digits_split):
    X_labeled, _, X_pool, _ = digits_split
    strategy = VAAL(n_epochs=12, random_state=0).fit(X_labeled)
    curve = strategy.lazy_rank(X_pool).loss_curve_
    assert set(curve) == {"reconstruction", "kl", "vae", "adversarial", "discriminator"}
    assert all(values.shape == (12,) for values in curve.values())
    np.testing.assert_allclose(curve["vae"], curve["reconstruction"] + curve["kl"])
    assert curve["reconstruction"][-1] < 0.95 * curve["reconstruction"][0]
    assert curve["discriminator"][-1] < 0.95 * curve["discriminator"][0]
    # without the adversary, the whole β-VAE loss goes down
    plain = VAAL(n_epochs=12, adversary_weight=0.0, random_state=0).fit(X_labeled)
    plain_curve = plain.lazy_rank(X_pool).loss_curve_
    assert plain_curve["vae"][-1] < 0.9 * plain_curve["vae"][0]


def test_beta_weighs_the_kl_term(digits_split):
    X_labeled, _, X_pool, _ = digits_split
    curves = {}
    for beta in (0.0, 1.0):
        strategy = VAAL(n_epochs=4, beta=beta, random_state=0).fit(X_labeled)
        curves[beta] = strategy.lazy_rank(X_pool).loss_curve_
    np.testing.assert_allclose(curves[0.0]["vae"], curves[0.0]["reconstruction"])
    assert curves[0.0]["kl"][-1] > curves[1.0]["kl"][-1]  # no pull towards the prior


# --------------------------------------------------------------------------
# the networks: trained by each call, the same each time, kept by lazy_rank only
# --------------------------------------------------------------------------


def _weights(module):
    return {name: p.detach().clone() for name, p in module.state_dict().items()}


def test_each_call_trains_the_same_networks(clusters, monkeypatch):
    X_labeled, X_pool = clusters
    strategy = VAAL(random_state=0, **TINY).fit(X_labeled)
    calls = []
    train = VAAL._train
    monkeypatch.setattr(VAAL, "_train", lambda self, X: calls.append(1) or train(self, X))
    with pytest.raises(AttributeError):
        strategy.vae_  # the strategy keeps no networks
    ranking = strategy.rank(X_pool)
    assert len(calls) == 1
    for k in (1, 7, 50):
        np.testing.assert_array_equal(strategy.query(X_pool, k), ranking[:k])
    scores = strategy.transform(X_pool.copy())
    assert len(calls) == 5  # each call trains
    assert ranking.tolist() == reference_ranking(scores[:, 0])
    lazy = strategy.lazy_rank(X_pool)
    assert len(calls) == 6
    np.testing.assert_array_equal(lazy.take(50), ranking)
    np.testing.assert_array_equal(scores[:, 0], log_odds(lazy.net_, X_pool))
    assert not lazy.vae_.training and not lazy.discriminator_.training
    assert lazy.vae_ is lazy.net_.module_ and lazy.discriminator_ is lazy.net_.discriminator_
    # another pool trains other networks, and then the first one the same again
    other = strategy.lazy_rank(X_pool[:30])
    assert not all(torch.equal(a, b) for a, b in zip(
        _weights(other.vae_).values(), _weights(lazy.vae_).values()))
    again = strategy.lazy_rank(X_pool)
    for name, value in _weights(lazy.vae_).items():
        assert torch.equal(value, _weights(again.vae_)[name]), name
    np.testing.assert_array_equal(strategy.rank(X_pool), ranking)


def test_a_changed_sample_trains_other_networks(clusters):
    X_labeled, X_pool = clusters
    strategy = VAAL(random_state=0, **TINY).fit(X_labeled)
    weights = _weights(strategy.lazy_rank(X_pool).vae_)
    X_changed = X_pool.copy()
    X_changed[17, 3] += 1e-3
    changed = _weights(strategy.lazy_rank(X_changed).vae_)
    assert not all(torch.equal(weights[name], changed[name]) for name in weights)


@pytest.mark.parametrize(
    "random_state, fitted",
    [(0, True), (None, True), ("instance", True), (0, False), (None, False)],
)
def test_query_rank_transform_lazy_rank_leave_the_strategy_unchanged(
    clusters, random_state, fitted
):
    X_labeled, X_pool = clusters
    if random_state == "instance":
        random_state = np.random.RandomState(0)
    strategy = VAAL(random_state=random_state, prefit=not fitted, **TINY)
    if fitted:
        strategy.fit(X_labeled)
    before = pickle.dumps(vars(strategy))
    keys = set(vars(strategy))
    ranking = strategy.rank(X_pool)
    picks = strategy.query(X_pool, 10)
    strategy.transform(X_pool)
    lazy = strategy.lazy_rank(X_pool)
    lazy.take(3), lazy.add(X_pool[:2] + 0.5), lazy.take(4)
    assert set(vars(strategy)) == keys
    assert pickle.dumps(vars(strategy)) == before
    if fitted or random_state is not None:  # else: ranks at random, seeded by NumPy
        np.testing.assert_array_equal(picks, ranking[:10])
        np.testing.assert_array_equal(strategy.rank(X_pool), ranking)


def test_clone_and_refit_give_the_same_picks(clusters):
    X_labeled, X_pool = clusters
    strategy = VAAL(random_state=3, **TINY).fit(X_labeled)
    picks, scores = strategy.query(X_pool, 10), strategy.transform(X_pool)
    copy = clone(strategy).fit(X_labeled)
    np.testing.assert_array_equal(copy.query(X_pool, 10), picks)
    np.testing.assert_array_equal(copy.transform(X_pool), scores)
    np.testing.assert_array_equal(strategy.fit(X_labeled).query(X_pool, 10), picks)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(strategy)).rank(X_pool)[:10], picks
    )


def test_images_are_flattened(digits_split):
    X_labeled, _, X_pool, _ = digits_split
    flat = VAAL(random_state=0, **TINY).fit(X_labeled).rank(X_pool[:200])
    images = VAAL(random_state=0, **TINY).fit(X_labeled.reshape(-1, 1, 8, 8))
    np.testing.assert_array_equal(images.rank(X_pool[:200].reshape(-1, 1, 8, 8)), flat)
    with pytest.raises(ValueError, match=r"16 values per sample.*has 64; pass a pool shaped"):
        images.rank(np.zeros((5, 1, 4, 4), dtype=np.float32))


# --------------------------------------------------------------------------
# lazy ranking
# --------------------------------------------------------------------------


def test_lazy_rank_yields_rank_and_scores_added_samples_without_retraining(
    clusters, monkeypatch
):
    X_labeled, X_pool = clusters
    strategy = VAAL(random_state=0, **TINY).fit(X_labeled)
    full = strategy.rank(X_pool)
    scores = strategy.transform(X_pool)[:, 0]
    lazy = strategy.lazy_rank(X_pool)
    net = lazy.net_
    weights = _weights(net.module_)
    monkeypatch.setattr(VAAL, "_train", lambda self, X: pytest.fail("retrained"))
    np.testing.assert_array_equal(lazy.take(5), full[:5])
    # a copy of the best remaining sample scores as it does (up to rounding, the
    # batch differs): the two come next
    best = int(full[5])
    assert lazy.add(X_pool[[best]]).tolist() == [50]
    copy_score = log_odds(net, X_pool[[best]])[0]
    np.testing.assert_allclose(copy_score, scores[best], rtol=1e-5, atol=1e-6)
    assert sorted(lazy.take(2).tolist()) == [best, 50]
    # training on another pool in between changes nothing for this ranking
    monkeypatch.undo()
    strategy.rank(X_pool[:20])
    assert lazy.net_ is net
    for name, value in _weights(net.module_).items():
        assert torch.equal(value, weights[name]), name
    new = X_pool[[3, 44]] + 0.01
    assert lazy.add(new).tolist() == [51, 52]
    all_scores = np.concatenate([scores, [copy_score], log_odds(net, new)])
    yielded = lazy.ranked.tolist()
    rest = [i for i in reference_ranking(all_scores) if i not in yielded]
    assert lazy.take(100).tolist() == rest
    assert lazy.add(np.empty((0, 8))).tolist() == []
    with pytest.raises(ValueError, match="8 features"):
        lazy.add(np.zeros((2, 3)))


def test_lazy_rank_without_added_samples_is_rank(clusters):
    X_labeled, X_pool = clusters
    strategy = VAAL(random_state=1, **TINY).fit(X_labeled)
    lazy = strategy.lazy_rank(X_pool)
    assert [next(lazy) for _ in range(3)] + lazy.take(100).tolist() == strategy.rank(
        X_pool
    ).tolist()


# --------------------------------------------------------------------------
# randomness
# --------------------------------------------------------------------------


def test_same_seed_same_ranking_different_seeds_differ(clusters):
    X_labeled, X_pool = clusters
    a = VAAL(random_state=7, **TINY).fit(X_labeled)
    b = VAAL(random_state=7, **TINY).fit(X_labeled)
    np.testing.assert_array_equal(a.rank(X_pool), b.rank(X_pool))
    np.testing.assert_array_equal(a.transform(X_pool), b.transform(X_pool))
    rankings = {
        tuple(VAAL(random_state=s, **TINY).fit(X_labeled).rank(X_pool)) for s in range(4)
    }
    assert len(rankings) > 1


def test_random_state_none_and_instances(clusters):
    X_labeled, X_pool = clusters
    strategy = VAAL(**TINY).fit(X_labeled)
    ranking = strategy.rank(X_pool)
    assert sorted(ranking.tolist()) == list(range(50))
    np.testing.assert_array_equal(strategy.query(X_pool, 10), ranking[:10])  # seed drawn at fit
    rs = VAAL(random_state=np.random.RandomState(0), **TINY).fit(X_labeled)
    np.testing.assert_array_equal(rs.query(X_pool, 10), rs.rank(X_pool)[:10])


def test_global_random_states_are_untouched(clusters):
    X_labeled, X_pool = clusters
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()
    VAAL(random_state=0, **TINY).fit(X_labeled).rank(X_pool)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and np.array_equal(after[1], numpy_state[1])
    assert after[2:] == numpy_state[2:]


def test_caller_arrays_are_not_mutated(clusters):
    X_labeled, X_pool = (A.copy() for A in clusters)
    strategy = VAAL(random_state=0, **TINY).fit(X_labeled)
    strategy.query(X_pool, 5)
    strategy.lazy_rank(X_pool).add(X_pool[:2])
    np.testing.assert_array_equal(X_labeled, clusters[0])
    np.testing.assert_array_equal(X_pool, clusters[1])


# --------------------------------------------------------------------------
# no labeled set, estimators, ActiveLearner
# --------------------------------------------------------------------------


def test_without_labeled_set_ranks_like_random_sampling(clusters):
    _, X_pool = clusters
    for seed in (0, 4):
        vaal = VAAL(prefit=True, random_state=seed)
        random = RandomSampling(prefit=True, random_state=seed)
        np.testing.assert_array_equal(vaal.rank(X_pool), random.rank(X_pool))
        np.testing.assert_array_equal(vaal.transform(X_pool), random.transform(X_pool))
        lazy_v, lazy_r = vaal.lazy_rank(X_pool), random.lazy_rank(X_pool)
        np.testing.assert_array_equal(lazy_v.take(3), lazy_r.take(3))
        lazy_v.add(X_pool[:4]), lazy_r.add(X_pool[:4])
        np.testing.assert_array_equal(lazy_v.take(60), lazy_r.take(60))
    with pytest.raises(AttributeError, match="after fit"):
        VAAL(prefit=True, random_state=0).lazy_rank(X_pool).vae_


def test_fit_needs_no_labels_and_ignores_them(clusters):
    X_labeled, X_pool = clusters
    without = VAAL(random_state=0, **TINY).fit(X_labeled)
    with_y = VAAL(random_state=0, **TINY).fit(X_labeled, np.arange(40) % 3)
    np.testing.assert_array_equal(without.rank(X_pool), with_y.rank(X_pool))
    assert without.estimator_ is None and without.n_features_in_ == 8
    np.testing.assert_array_equal(without.X_labeled_, X_labeled)


def test_query_before_fit_raises(clusters):
    with pytest.raises(NotFittedError):
        VAAL(**TINY).query(clusters[1], 3)


@pytest.fixture(scope="module")
def digits_net():
    X, y = load_digits(return_X_y=True)
    net = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=3)
    return net.fit((X[:200] / 16.0).astype(np.float32), y[:200])


def test_the_estimator_is_ignored(digits_split, digits_net):
    X_labeled, y_labeled, X_pool, _ = digits_split
    with_net = VAAL(digits_net, prefit=True, random_state=0, **TINY).fit(X_labeled, y_labeled)
    without = VAAL(random_state=0, **TINY).fit(X_labeled)
    np.testing.assert_array_equal(with_net.rank(X_pool), without.rank(X_pool))
    assert with_net.estimator_ is None


def test_inside_active_learner_with_a_skorch_net():
    X, y = load_digits(return_X_y=True)
    X = (X[:300] / 16.0).astype(np.float32)
    net = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=2)
    learner = ActiveLearner(
        net, VAAL(**TINY), initial_size=30, batch_size=20, budget=70, random_state=0
    ).fit(X, y[:300])
    assert len(learner.labeled_indices_) == 70
    assert len(np.unique(learner.labeled_indices_)) == 70
    assert isinstance(learner.strategy_, VAAL)
    again = ActiveLearner(
        clone(net), VAAL(**TINY), initial_size=30, batch_size=20, budget=70, random_state=0
    ).fit(X, y[:300])
    np.testing.assert_array_equal(learner.labeled_indices_, again.labeled_indices_)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_device(clusters):
    X_labeled, X_pool = clusters
    strategy = VAAL(device="cuda", random_state=0, **TINY).fit(X_labeled)
    ranking = strategy.rank(X_pool)
    assert sorted(ranking.tolist()) == list(range(50))
    assert next(strategy.lazy_rank(X_pool).vae_.parameters()).is_cuda
    np.testing.assert_array_equal(strategy.query(X_pool, 10), ranking[:10])


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(latent_dim=0), "latent_dim"),
        (dict(hidden_units="wide"), "hidden_units"),
        (dict(beta=-1.0), "beta"),
        (dict(adversary_weight=-0.5), "adversary_weight"),
        (dict(n_epochs=0), "n_epochs"),
        (dict(batch_size=0), "batch_size"),
        (dict(lr=0.0), "lr"),
        (dict(random_state="zero"), "random_state"),
    ],
)
def test_invalid_parameters(clusters, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        VAAL(**params).fit(clusters[0])


@pytest.mark.parametrize("hidden_units", [(), (16, 0), (16, 2.5), [True]])
def test_invalid_hidden_units(clusters, hidden_units):
    with pytest.raises(ValueError, match=r"hidden_units=.* positive int"):
        VAAL(hidden_units=hidden_units).fit(clusters[0])


def test_invalid_device(clusters):
    strategy = VAAL(device="tpu", **TINY).fit(clusters[0])
    with pytest.raises(ValueError, match="device='tpu'"):
        strategy.query(clusters[1], 3)


def test_pool_with_other_features_raises(clusters):
    strategy = VAAL(**TINY).fit(clusters[0])
    with pytest.raises(ValueError, match="8 features"):
        strategy.query(np.zeros((5, 3)), 2)


@parametrize_with_checks(
    [VAAL(random_state=0, latent_dim=2, hidden_units=8, n_epochs=1, batch_size=16)]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# -- architecture="conv": the paper's convolutional VAE, for images ------------------


def _stripes(n, rng, top):
    """8×8 one-channel images, bright in the top or bottom half, plus noise."""
    X = rng.rand(n, 1, 8, 8).astype(np.float32) * 0.3
    if top:
        X[:, :, :4, :] += 1.0
    else:
        X[:, :, 4:, :] += 1.0
    return X


@pytest.fixture(scope="module")
def stripes():
    rng = np.random.RandomState(0)
    X_labeled = _stripes(40, rng, top=True)  # only top-bright images are labeled
    X_pool = np.concatenate([_stripes(40, rng, top=True), _stripes(40, rng, top=False)])
    return X_labeled, X_pool


def test_conv_vae_shapes():
    vae = _ConvVAE((3, 8, 12), [4, 6], latent_dim=5)
    x = torch.randn(7, 3 * 8 * 12)
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (7, 5)
    assert vae.decode(mu).shape == (7, 3 * 8 * 12)
    assert any(isinstance(m, torch.nn.Conv2d) for m in vae.modules())


@pytest.mark.parametrize("seed", [0, 1])
def test_conv_prefers_the_images_the_labeled_set_does_not_cover(stripes, seed):
    X_labeled, X_pool = stripes
    strategy = VAAL(architecture="conv", hidden_units=(8, 16), latent_dim=4, n_epochs=20,
                    batch_size=16, lr=1e-3, random_state=seed).fit(X_labeled)
    picks = strategy.query(X_pool, batch_size=10)
    assert np.sum(picks >= 40) >= 8  # bottom-bright images come first
    assert isinstance(strategy.lazy_rank(X_pool).vae_.encoder[0], torch.nn.Conv2d)
    np.testing.assert_array_equal(picks, strategy.rank(X_pool)[:10])


def test_conv_same_seed_same_ranking(stripes):
    X_labeled, X_pool = stripes
    params = dict(architecture="conv", hidden_units=(4,), latent_dim=2, n_epochs=2,
                  batch_size=16, random_state=3)
    first = VAAL(**params).fit(X_labeled).rank(X_pool)
    np.testing.assert_array_equal(first, VAAL(**params).fit(X_labeled).rank(X_pool))


@pytest.mark.parametrize(
    "shape, hidden_units",
    [((20, 64), (8,)), ((20, 1, 6, 8), (8, 8)), ((20, 1, 8, 7), (8,))],
)
def test_conv_needs_images_of_divisible_size(shape, hidden_units):
    X = np.zeros(shape, dtype=np.float32)
    with pytest.raises(ValueError, match=r"architecture='conv' needs images of shape"):
        VAAL(architecture="conv", hidden_units=hidden_units).fit(X)


def test_conv_pool_must_have_the_labeled_image_shape(stripes):
    X_labeled, X_pool = stripes
    strategy = VAAL(architecture="conv", hidden_units=(4,), n_epochs=1).fit(X_labeled)
    with pytest.raises(ValueError, match="shaped like the labeled set"):
        strategy.query(X_pool.reshape(len(X_pool), 1, 4, 16), batch_size=2)
