"""BALD and BatchBALD against references written the slow, obvious way.

The references compute the mutual information with plain numpy loops over MC
samples, and BatchBALD's joint entropies by enumerating every label
configuration with ``itertools.product``; the greedy reference loops over
candidates with a strict ``>`` (ties to the lower index).
"""

import copy
import itertools

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks
from torch import nn

from skal import ActiveLearner
from skal.embeddings._mc_dropout import _mc_dropout_proba
from skal.exceptions import EmbeddingError
from skal.strategies._bald import (
    BALD,
    BatchBALD,
    _BatchBALDPoints,
    _BatchBALDRanking,
    _JointEntropy,
    _seed,
)
from skal.toy import SeededNeuralNetClassifier, make_skorch_classifier

# --------------------------------------------------------------------------
# slow references
# --------------------------------------------------------------------------


def entropy(p):
    p = np.asarray(p, dtype=np.float64)
    return -sum(x * np.log(x) for x in p.ravel() if x > 0)


def reference_mutual_information(probs):
    """probs (n, K, C): H[mean_k p] - mean_k H[p], one sample at a time."""
    out = []
    for P in np.asarray(probs, dtype=np.float64):
        out.append(entropy(P.mean(axis=0)) - np.mean([entropy(p) for p in P]))
    return np.array(out)


def reference_joint_entropy(Ps):
    """Exact H(y_1..y_t) for a list of (K, C) arrays, by enumeration."""
    K, C = Ps[0].shape
    h = 0.0
    for config in itertools.product(range(C), repeat=len(Ps)):
        p = np.mean([np.prod([P[k, c] for P, c in zip(Ps, config)]) for k in range(K)])
        if p > 0:
            h -= p * np.log(p)
    return h


def reference_batchbald(probs, b):
    """Greedy argmax of the exact joint MI; ties to the lower index."""
    probs = np.asarray(probs, dtype=np.float64)
    cond = [np.mean([entropy(p) for p in P]) for P in probs]
    chosen = []
    for _ in range(b):
        best, best_mi = None, -np.inf
        for n in range(len(probs)):
            if n in chosen:
                continue
            batch = chosen + [n]
            mi = reference_joint_entropy([probs[i] for i in batch]) - sum(cond[i] for i in batch)
            if mi > best_mi:
                best, best_mi = n, mi
        chosen.append(best)
    return chosen


def random_probs(seed, n, K, C, concentration=0.7):
    rng = np.random.RandomState(seed)
    return rng.dirichlet(np.full(C, concentration), size=(n, K)).astype(np.float32)


def ranking_of(probs, *, max_joint=None, n_configurations=10000, seed=0):
    probs = np.asarray(probs, dtype=np.float32)
    points = _BatchBALDPoints(
        reference_mutual_information(probs), np.arange(len(probs)), torch.as_tensor(probs)
    )
    return _BatchBALDRanking(
        points, max_joint=max_joint, n_configurations=n_configurations, seed=seed
    )


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(240, 5).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)
    return X[:120], y[:120], X[120:]


@pytest.fixture(scope="module", params=["logits", "probabilities"])
def dropout_net(request, data):
    X, y, _ = data
    net = make_skorch_classifier(
        5, 3, hidden_units=16, module__dropout=0.5, output=request.param, max_epochs=5
    )
    return net.fit(X, y)


class BatchNormDropoutModule(nn.Module):
    """Linear → BatchNorm → ReLU → Dropout → Linear; input dropout optional."""

    def __init__(self, n_features=5, n_classes=3, p=0.5, p_input=0.0):
        super().__init__()
        self.body = nn.Sequential(
            nn.Dropout(p_input), nn.Linear(n_features, 16), nn.BatchNorm1d(16), nn.ReLU(),
            nn.Dropout(p),
        )
        self.out = nn.Linear(16, n_classes)

    def forward(self, X):
        return self.out(self.body(X))


class AnyFeaturesModule(nn.Module):
    """Adapts to any number of input features (LazyLinear) and of classes up to 4."""

    def __init__(self, n_classes=4):
        super().__init__()
        self.hidden = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.Dropout(0.5))
        self.out = nn.Linear(8, n_classes)

    def forward(self, X):
        return self.out(self.hidden(X.float().reshape(len(X), -1)))


def net_of(module, data, **kwargs):
    X, y, _ = data
    return SeededNeuralNetClassifier(
        module, criterion=nn.CrossEntropyLoss, max_epochs=3, lr=0.05, batch_size=32,
        train_split=None, verbose=0, **kwargs,
    ).fit(X, y)


@pytest.fixture(scope="module")
def batchnorm_net(data):
    """``batchnorm_net(p_input=0.0)``: ``net_of(BatchNormDropoutModule, data, ...)``,
    fitted once per ``p_input``; each call returns a copy, for the test to change."""
    fitted = {}

    def get(p_input=0.0):
        if p_input not in fitted:
            fitted[p_input] = net_of(BatchNormDropoutModule, data, module__p_input=p_input)
        return copy.deepcopy(fitted[p_input])

    return get


@pytest.fixture(scope="module")
def no_dropout_net(data):
    """A skorch MLP whose only dropout layer has p=0; read, never changed."""
    X, y, _ = data
    return make_skorch_classifier(5, 3, max_epochs=1).fit(X, y)


@pytest.fixture(scope="module")
def linear_net(data):
    """A skorch net with no dropout layer at all; read, never changed."""
    return net_of(lambda: nn.Sequential(nn.Linear(5, 3)), data)


# --------------------------------------------------------------------------
# MC dropout
# --------------------------------------------------------------------------


def test_mc_dropout_uses_dropout_only_and_restores_everything(data, batchnorm_net):
    X, _, X_pool = data
    net = batchnorm_net()
    bn = net.module_.body[2]
    stats = bn.running_mean.clone(), bn.running_var.clone()
    net.module_.train()  # an unusual mode, to see that it comes back
    net.module_.out.eval()
    modes = {name: m.training for name, m in net.module_.named_modules()}
    cpu_state = torch.random.get_rng_state()
    probs = _mc_dropout_proba(net, X_pool, 50, seed=0)
    assert probs.shape == (len(X_pool), 50, 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)
    assert probs.std(axis=1).max() > 0.01  # dropout is active
    assert {name: m.training for name, m in net.module_.named_modules()} == modes
    assert torch.equal(torch.random.get_rng_state(), cpu_state)
    torch.testing.assert_close(bn.running_mean, stats[0])  # batch norm frozen
    torch.testing.assert_close(bn.running_var, stats[1])
    # The mean over many masks is close to the deterministic (eval) prediction
    # only up to dropout's nonlinearity; in eval mode the masks vanish.
    net.module_.eval()
    with torch.no_grad():
        body = net.module_.body
        manual = body[3](body[2](body[1](torch.as_tensor(X_pool))))  # no dropout at all
        eval_logits = net.module_.out(manual)
    eval_proba = torch.softmax(eval_logits, dim=1).numpy()
    np.testing.assert_allclose(net.predict_proba(X_pool), eval_proba, rtol=1e-5, atol=1e-6)


def test_mc_dropout_restores_modes_on_error(batchnorm_net):
    net = batchnorm_net()
    net.module_.eval()
    cpu_state = torch.random.get_rng_state()
    with pytest.raises(Exception):
        _mc_dropout_proba(net, np.zeros((4, 7), dtype=np.float32), 5, seed=0)  # wrong width
    assert not any(m.training for m in net.module_.modules())
    assert torch.equal(torch.random.get_rng_state(), cpu_state)


def test_mc_dropout_seeded(dropout_net, data):
    X_pool = data[2]
    a = _mc_dropout_proba(dropout_net, X_pool, 8, seed=3)
    np.testing.assert_array_equal(a, _mc_dropout_proba(dropout_net, X_pool, 8, seed=3))
    assert not np.allclose(a, _mc_dropout_proba(dropout_net, X_pool, 8, seed=4))


def test_mc_dropout_respects_output_convention(data):
    # a module returning probabilities (NLLLoss) and one returning logits
    # (CrossEntropyLoss) with the same weights give the same MC probabilities
    X, y, X_pool = data
    logits = make_skorch_classifier(5, 3, module__dropout=0.5, max_epochs=2).fit(X, y)
    proba = make_skorch_classifier(
        5, 3, module__dropout=0.5, output="probabilities", max_epochs=0
    ).initialize()
    proba.module_.load_state_dict(logits.module_.state_dict())
    a = _mc_dropout_proba(logits, X_pool, 6, seed=1)
    b = _mc_dropout_proba(proba, X_pool, 6, seed=1)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("p_input", [0.0, 0.3])
def test_shared_prefix_equals_plain_passes(data, batchnorm_net, p_input):
    # The masks are drawn once per dropout call, so running the prefix once
    # and tiling gives the same probabilities as n plain passes.
    X_pool = data[2]
    net = batchnorm_net(p_input)
    calls = []
    hook = net.module_.body[1].register_forward_hook(lambda m, i, o: calls.append(len(o)))
    fast = _mc_dropout_proba(net, X_pool, 7, seed=0, batch_size=50)
    n_fast = len(calls)
    slow = _mc_dropout_proba(net, X_pool, 7, seed=0, batch_size=50, shared_prefix=False)
    hook.remove()
    if p_input == 0.0:
        assert calls[:n_fast] == [50, 50, 20]  # the prefix ran once per batch
    else:
        assert calls[:n_fast] == [350, 350, 140]  # input dropout: nothing to share
    assert len(calls) - n_fast == 3 * 7  # plain: every layer n_samples times
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-6)
    assert fast.std(axis=1).max() > 0.01


def test_masks_are_consistent_across_pool_and_batches(dropout_net, data):
    # consistent MC dropout: a sample's MC predictions do not depend on its
    # batch, its position or the rest of the pool
    X_pool = data[2]
    full = _mc_dropout_proba(dropout_net, X_pool, 6, seed=2, batch_size=32)
    part = _mc_dropout_proba(dropout_net, X_pool[::-1][:45], 6, seed=2, batch_size=7)
    np.testing.assert_allclose(part, full[::-1][:45], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("Dropout", [nn.AlphaDropout, nn.FeatureAlphaDropout, nn.Dropout1d])
def test_other_dropout_layers(data, Dropout):
    # masks read off any _DropoutNd; fast and plain paths agree; the mean over
    # many masks of an alpha-dropout layer's output keeps the input's mean
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(5, 8)
            self.drop = Dropout(0.3)
            self.out = nn.Linear(8, 3)

        def forward(self, X):
            h = self.lin(X)
            if Dropout is nn.Dropout1d:
                return self.out(self.drop(h.unsqueeze(-1)).squeeze(-1))
            return self.out(self.drop(h))

    net = net_of(Net, data)
    X_pool = data[2][:30]
    fast = _mc_dropout_proba(net, X_pool, 5, seed=0)
    slow = _mc_dropout_proba(net, X_pool, 5, seed=0, shared_prefix=False)
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-6)
    assert fast.std(axis=1).max() > 0.01
    assert BALD(net, prefit=True, random_state=0).rank(X_pool).shape == (30,)


def test_shared_prefix_statistically_equal(dropout_net, data):
    # different masks (different seeds): the MC means agree within MC error
    X_pool = data[2][:6]
    fast = _mc_dropout_proba(dropout_net, X_pool, 3000, seed=0).mean(axis=1)
    slow = _mc_dropout_proba(dropout_net, X_pool, 3000, seed=1, shared_prefix=False)
    np.testing.assert_allclose(fast, slow.mean(axis=1), atol=0.03)


def test_shared_prefix_falls_back_when_samples_mix(data):
    # A module that averages over the batch after dropout: the tiled output
    # has the wrong number of rows, so skal falls back to plain passes.
    class BatchMean(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(5, 8)
            self.drop = nn.Dropout(0.5)
            self.out = nn.Linear(8, 3)

        def forward(self, X):
            h = self.drop(self.lin(X))
            return self.out(h - h.mean(dim=0, keepdim=True))[: len(X)]

    X_pool = data[2]
    net = net_of(BatchMean, data)
    calls = []
    hook = net.module_.lin.register_forward_hook(lambda m, i, o: calls.append(len(o)))
    fast = _mc_dropout_proba(net, X_pool, 5, seed=0, batch_size=40)
    hook.remove()
    assert calls == [40] + [40] * 5 + [40] * 5 * 2  # one failed fast pass, then plain
    slow = _mc_dropout_proba(net, X_pool, 5, seed=0, batch_size=40, shared_prefix=False)
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------
# BALD
# --------------------------------------------------------------------------


def test_bald_scores_and_rank_match_reference(dropout_net, data):
    X_pool = data[2]
    strategy = BALD(dropout_net, prefit=True, n_samples=10, random_state=0)
    probs = _mc_dropout_proba(dropout_net, X_pool, 10, seed=_seed(0, 0))
    expected = reference_mutual_information(probs)
    scores = strategy.transform(X_pool)
    assert scores.shape == (len(X_pool), 1)
    np.testing.assert_allclose(scores[:, 0], expected, rtol=1e-6, atol=1e-9)
    ranking = strategy.rank(X_pool)
    assert ranking.tolist() == np.argsort(-scores[:, 0], kind="stable").tolist()
    for k in (1, 7, len(X_pool)):
        assert strategy.query(X_pool, k).tolist() == ranking[:k].tolist()


def test_bald_hand_computed():
    # two dropout models that disagree confidently: MI = log 2; agreeing: 0
    probs = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.5], [0.5, 0.5]]])
    np.testing.assert_allclose(reference_mutual_information(probs), [np.log(2), 0.0])
    from skal.strategies._bald import _mutual_information

    np.testing.assert_allclose(
        _mutual_information(torch.as_tensor(probs)).numpy(), [np.log(2), 0.0], atol=1e-12
    )


def test_bald_seeds_and_global_rng(dropout_net, data):
    X_pool = data[2]
    state = torch.random.get_rng_state()
    a = BALD(dropout_net, prefit=True, random_state=0).transform(X_pool)
    assert torch.equal(torch.random.get_rng_state(), state)
    again = BALD(dropout_net, prefit=True, random_state=0).transform(X_pool)
    np.testing.assert_array_equal(a, again)
    assert not np.allclose(a, BALD(dropout_net, prefit=True, random_state=1).transform(X_pool))


def test_bald_batch_size_parameter(dropout_net, data):
    X_pool = data[2]
    batches = []
    hook = dropout_net.module_.out.register_forward_hook(lambda m, i, o: batches.append(len(o)))
    BALD(dropout_net, prefit=True, n_samples=4, batch_size=50, random_state=0).transform(X_pool)
    hook.remove()
    assert batches == [200, 200, 80]  # 50, 50, 20 samples × 4 MC samples (shared prefix)


def test_bald_lazy_rank_and_add(dropout_net, data):
    X_pool = data[2]
    strategy = BALD(dropout_net, prefit=True, random_state=0)
    lazy = strategy.lazy_rank(X_pool[:80])
    assert list(lazy.take(80)) == strategy.rank(X_pool[:80]).tolist()
    new = lazy.add(X_pool[80:])
    assert new.tolist() == list(range(80, 120))
    rest = lazy.take(100)
    # the added samples are scored as in the whole pool (the same masks)
    added_scores = strategy.transform(X_pool)[80:, 0]
    assert (rest - 80).tolist() == np.argsort(-added_scores, kind="stable").tolist()
    again = strategy.lazy_rank(X_pool[:80])
    again.take(80)
    again.add(X_pool[80:])
    assert again.take(100).tolist() == rest.tolist()  # add is reproducible


def test_bald_does_not_mutate_and_restores_state(dropout_net, data):
    X_pool = data[2].copy()
    X0 = X_pool.copy()
    net = copy.deepcopy(dropout_net)  # its mode is set below: not the shared fixture
    params = [p.detach().clone() for p in net.module_.parameters()]
    grads = [p.requires_grad for p in net.module_.parameters()]
    net.module_.eval()
    BALD(net, prefit=True, random_state=0).rank(X_pool)
    BatchBALD(net, prefit=True, n_candidates=10, max_joint=3, random_state=0).rank(X_pool)
    np.testing.assert_array_equal(X_pool, X0)
    for p, p0, g in zip(net.module_.parameters(), params, grads):
        assert torch.equal(p, p0) and p.requires_grad == g
    assert not any(m.training for m in net.module_.modules())


def test_bald_fit_clones_and_active_learner(data):
    X, y, X_pool = data
    net = make_skorch_classifier(5, 3, module__dropout=0.5, max_epochs=3)
    strategy = BALD(net, random_state=0).fit(X, y)
    assert strategy.estimator_ is not net and not getattr(net, "initialized_", False)
    prefit = BALD(strategy.estimator_, prefit=True, random_state=0)
    assert strategy.rank(X_pool).tolist() == prefit.rank(X_pool).tolist()
    for Strategy in (BALD, BatchBALD):
        learner = ActiveLearner(
            make_skorch_classifier(5, 3, module__dropout=0.5, max_epochs=2),
            Strategy(n_samples=5), batch_size=10, initial_size=20, budget=40, random_state=0,
        )
        X_all = np.vstack([X, X_pool])
        y_all = np.concatenate([y, (X_pool[:, 0] > 0).astype(np.int64) + (X_pool[:, 1] > 0.5)])
        learner.fit(X_all, y_all)
        assert learner.predict(X_pool).shape == (len(X_pool),)


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize("Strategy", [BALD, BatchBALD])
def test_error_not_a_skorch_net(Strategy, data):
    X, y, X_pool = data
    for est in (LogisticRegression(), RandomForestClassifier(n_estimators=3)):
        with pytest.raises(EmbeddingError, match="torch module with dropout.*EntropySampling"):
            Strategy(est).fit(X, y)
        with pytest.raises(EmbeddingError, match="is not a skorch net"):
            Strategy(clone(est).fit(X, y), prefit=True).query(X_pool, 2)


@pytest.mark.parametrize("Strategy", [BALD, BatchBALD])
def test_error_no_dropout(Strategy, data, no_dropout_net, linear_net):
    X, y, X_pool = data
    with pytest.raises(EmbeddingError, match=r"only dropout layers with p=0.*Dropout\(0\.5\)"):
        Strategy(no_dropout_net, prefit=True).query(X_pool, 2)
    with pytest.raises(EmbeddingError, match="module__dropout=0.5"):
        Strategy(make_skorch_classifier(5, 3, max_epochs=1)).fit(X, y)
    with pytest.raises(EmbeddingError, match="has no dropout layer"):
        Strategy(linear_net, prefit=True).rank(X_pool)


def test_error_dropout_never_called(data):
    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(0.5)
            self.lin = nn.Linear(5, 3)

        def forward(self, X):
            return self.lin(X)

    net = net_of(Unused, data)
    with pytest.raises(EmbeddingError, match="No dropout layer of Unused was called"):
        BALD(net, prefit=True).rank(data[2])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_samples": 1}, "n_samples"),
        ({"batch_size": 0}, "batch_size"),
        ({"n_configurations": 0}, "n_configurations"),
        ({"n_candidates": 0}, "n_candidates"),
        ({"max_joint": -1}, "max_joint"),
    ],
)
def test_bad_params(dropout_net, data, params, match):
    with pytest.raises(ValueError, match=match):
        BatchBALD(dropout_net, prefit=True, **params).query(data[2], 2)


def test_query_before_fit(dropout_net, data):
    with pytest.raises(NotFittedError):
        BALD(dropout_net).query(data[2], 2)


# --------------------------------------------------------------------------
# BatchBALD
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed, n, K, C, b", [(0, 7, 4, 2, 5), (1, 6, 3, 3, 4), (2, 8, 5, 3, 3),
                                              (3, 9, 6, 2, 6)])
def test_batchbald_greedy_matches_brute_force(seed, n, K, C, b):
    probs = random_probs(seed, n, K, C)
    assert ranking_of(probs).take(b).tolist() == reference_batchbald(probs, b)


def test_batchbald_exact_joint_entropy_matches_enumeration():
    probs = random_probs(5, 6, 4, 3)
    joint = _JointEntropy(4, 3, 10000, torch.Generator().manual_seed(0), "cpu")
    chosen = []
    for i in (0, 2, 4):
        got = joint.entropies(torch.as_tensor(probs)).numpy()
        expected = [reference_joint_entropy([probs[j] for j in chosen + [n]]) for n in range(6)]
        np.testing.assert_allclose(got, expected, rtol=1e-5)
        joint.add(torch.as_tensor(probs[i]))
        chosen.append(i)
    assert joint.exact


def test_batchbald_sampled_estimator_close_to_exact():
    # 11 chosen binary labels: 2048 configurations, estimated from 1600 samples
    # (400 per dropout sample); differences between candidates' joint
    # entropies (the sampled estimate is up to a shared constant) agree.
    probs = random_probs(6, 16, 4, 2, concentration=1.0)
    joint = _JointEntropy(4, 2, 1600, torch.Generator().manual_seed(0), "cpu")
    chosen = list(range(11))
    for i in chosen:
        joint.add(torch.as_tensor(probs[i]))
    assert not joint.exact and joint.P.shape == (1600, 4)
    got = joint.entropies(torch.as_tensor(probs[11:])).numpy()
    expected = np.array(
        [reference_joint_entropy([probs[j] for j in chosen + [n]]) for n in range(11, 16)]
    )
    np.testing.assert_allclose(got - got.mean(), expected - expected.mean(), atol=0.03)


def test_batchbald_picks_diverse_over_duplicates():
    # Sample 0 has the top BALD score and sample 1 is its exact copy: BALD takes
    # both, BatchBALD takes 0 then something else (the copy adds no information).
    probs = random_probs(7, 6, 8, 3)
    probs[0] = np.eye(3)[np.arange(8) % 3] * 0.97 + 0.01
    probs[1] = probs[0]
    ranking = ranking_of(probs)
    first_two = ranking.take(2).tolist()
    assert first_two[0] == 0 and first_two[1] != 1
    assert np.argsort(-reference_mutual_information(probs), kind="stable")[:2].tolist() == [0, 1]


def test_batchbald_rank_semantics_cap_then_bald():
    probs = random_probs(8, 9, 4, 2)
    scores = reference_mutual_information(probs)
    greedy = reference_batchbald(probs, 3)
    ranking = ranking_of(probs, max_joint=3).take(100).tolist()
    rest = [i for i in np.argsort(-scores, kind="stable") if i not in greedy]
    assert ranking == greedy + rest
    assert ranking_of(probs, max_joint=0).take(100).tolist() == np.argsort(
        -scores, kind="stable").tolist()


def test_batchbald_sampled_regime_is_seeded_and_prefix_stable():
    probs = random_probs(9, 30, 5, 3)
    kw = dict(max_joint=12, n_configurations=50)
    full = ranking_of(probs, seed=0, **kw).take(30).tolist()
    assert sorted(full) == list(range(30))
    assert ranking_of(probs, seed=0, **kw).take(30).tolist() == full
    lazy = ranking_of(probs, seed=0, **kw)
    parts = [lazy.take(k).tolist() for k in (1, 4, 2, 30)]
    assert sum(parts, []) == full  # the picks do not depend on how many are asked for
    assert ranking_of(probs, seed=0, **kw).take(3).tolist() == reference_batchbald(probs, 3)


def test_batchbald_end_to_end_matches_reference(dropout_net, data):
    X_pool = data[2][:12]
    strategy = BatchBALD(dropout_net, prefit=True, n_samples=4, random_state=0)
    probs = _mc_dropout_proba(dropout_net, X_pool, 4, seed=_seed(0, 0))
    ranking = strategy.rank(X_pool)
    assert ranking[:4].tolist() == reference_batchbald(probs, 4)
    assert sorted(ranking.tolist()) == list(range(12))
    for k in (1, 3, 12):
        assert strategy.query(X_pool, k).tolist() == ranking[:k].tolist()
    np.testing.assert_allclose(
        strategy.transform(X_pool)[:, 0], reference_mutual_information(probs), rtol=1e-6,
        atol=1e-9,
    )


def test_batchbald_candidates_are_top_bald(dropout_net, data):
    X_pool = data[2]
    bald = BALD(dropout_net, prefit=True, n_samples=6, batch_size=25, random_state=0)
    scores = bald.transform(X_pool)[:, 0]
    strategy = BatchBALD(dropout_net, prefit=True, n_samples=6, batch_size=25,
                         n_candidates=15, max_joint=8, n_configurations=3**7,
                         random_state=0)
    points = strategy._points(X_pool, dropout_net)
    top = np.sort(np.lexsort((np.arange(len(scores)), -scores))[:15])
    assert points.candidates.tolist() == top.tolist()
    probs = _mc_dropout_proba(dropout_net, X_pool, 6, seed=_seed(0, 0), batch_size=25)
    torch.testing.assert_close(points.probs, torch.as_tensor(probs[top]))
    ranking = strategy.rank(X_pool)
    greedy = [int(top[i]) for i in reference_batchbald(probs[top], 8)]
    assert ranking[:8].tolist() == greedy
    rest = [i for i in np.argsort(-scores, kind="stable") if i not in greedy]
    assert ranking[8:].tolist() == rest
    assert bald.rank(X_pool).tolist() != ranking.tolist()


def test_batchbald_lazy_add(dropout_net, data):
    X_pool = data[2]
    strategy = BatchBALD(dropout_net, prefit=True, n_samples=4, n_candidates=20, max_joint=6,
                         random_state=0)
    lazy = strategy.lazy_rank(X_pool[:60])
    first = lazy.take(2).tolist()
    assert first == strategy.rank(X_pool[:60])[:2].tolist()
    assert lazy.add(X_pool[60:]).tolist() == list(range(60, 120))
    rest = lazy.take(200).tolist()
    assert sorted(first + rest) == list(range(120))
    again = strategy.lazy_rank(X_pool[:60])
    again.take(2)
    again.add(X_pool[60:])
    assert again.take(200).tolist() == rest


# --------------------------------------------------------------------------
# scikit-learn compatibility (a skorch net that adapts to any n_features)
# --------------------------------------------------------------------------


class IntTargetNet(SeededNeuralNetClassifier):
    """Casts float targets (as some sklearn checks pass) to class indices."""

    def fit(self, X, y=None, **fit_params):
        return super().fit(X, np.asarray(y).astype(np.int64), **fit_params)


def _any_features_net():
    return IntTargetNet(
        AnyFeaturesModule, criterion=nn.CrossEntropyLoss, max_epochs=2, lr=0.05,
        batch_size=32, train_split=None, verbose=0,
    )


@parametrize_with_checks(
    [
        BALD(_any_features_net(), n_samples=3, random_state=0),
        BatchBALD(_any_features_net(), n_samples=3, n_candidates=5, max_joint=3, random_state=0),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_lazy_add_uses_the_same_masks_without_seed(dropout_net, data):
    # random_state=None: the samples added later still get the pool's masks
    X_pool = data[2]
    strategy = BALD(dropout_net, prefit=True)
    lazy = strategy.lazy_rank(X_pool[:60])
    lazy.take(60)
    lazy.add(X_pool[:60])  # the same samples again: the same scores, same order
    assert (lazy.take(60) - 60).tolist() == lazy.ranked[:60].tolist()
