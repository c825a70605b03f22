"""GLISTER-ACTIVE against a reference written the slow, obvious way.

The reference builds the last layer's weights ``W`` from the fitted model's own
attributes, the dense per-sample gradients of the loss of each pool sample
(with its predicted label) one sample at a time with torch autograd, and the
validation loss explicitly as a function of ``W``; the greedy then loops over
the candidates, takes the largest ``η ⟨∇L_val(W_t), g_i⟩``, and steps
``W_{t+1} = W_t − η g_pick``.
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch import NeuralNetClassifier
from torch import nn

from skal import ActiveLearner
from skal.exceptions import DeviceWarning, EmbeddingError
from skal.strategies._glister import GLISTER
from skal.toy import make_skorch_classifier

# --------------------------------------------------------------------------
# slow reference
# --------------------------------------------------------------------------




def _glister(*args, **kwargs):
    """GLISTER validating on the labeled set only, as most slow references below do."""
    kwargs.setdefault("pool_as_validation", False)
    return GLISTER(*args, **kwargs)

def _logits(H, W):
    Z = H @ W.T
    if W.shape[0] == 1:  # one output: p(class 1) = sigmoid(z) = softmax([0, z])
        Z = torch.cat([torch.zeros_like(Z), Z], dim=1)
    return Z


def _loss(H, labels, W, reduction):
    return torch.nn.functional.cross_entropy(_logits(H, W), labels, reduction=reduction)


def _grad(H, labels, W, reduction):
    W = W.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(_loss(H, labels, W, reduction), W)
    return g


def with_bias(H):
    return np.hstack([np.asarray(H, dtype=np.float64), np.ones((len(H), 1))])


def reference_glister(H_pool, W, H_val, y_val, eta, n_picks=None, *, H_lab=None,
                      y_lab=None, max_greedy=None, n_candidates=None,
                      random_fraction=0.0, seed=None, available_from=None):
    """The greedy, one candidate at a time.

    ``H_*`` include the bias column; ``W`` is (n_outputs, D); labels are
    column indices. ``available_from[i]`` is the step from which pool sample
    ``i`` may be picked (for lazily added samples).
    """
    T = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float64))  # noqa: E731
    H_pool, W, H_val = T(H_pool), T(W), T(H_val)
    y_val = torch.as_tensor(np.asarray(y_val), dtype=torch.long)
    n = H_pool.shape[0]
    n_picks = n if n_picks is None else n_picks
    rng = check_random_state(seed)
    with torch.no_grad():
        y_hat = _logits(H_pool, W).argmax(dim=1)
    G = [_grad(H_pool[i:i + 1], y_hat[i:i + 1], W, "sum").ravel() for i in range(n)]
    W_t = W.clone()
    if H_lab is not None:
        y_lab = torch.as_tensor(np.asarray(y_lab), dtype=torch.long)
        W_t = W_t - eta * _grad(T(H_lab), y_lab, W, "sum")
    order = []
    for step in range(n_picks):
        allowed = [i for i in range(n) if i not in order
                   and (available_from is None or available_from[i] <= step)]
        g_val = _grad(H_val, y_val, W_t, "mean").ravel()
        gain = {i: eta * float(G[i] @ g_val) for i in allowed}
        if max_greedy is not None and step >= max_greedy:
            # frozen: the rest by decreasing gain at this point, ties to the lower index
            return order + sorted(allowed, key=lambda i: (-gain[i], i))
        if random_fraction > 0 and rng.random_sample() < random_fraction:
            pick = allowed[min(int(rng.random_sample() * len(allowed)), len(allowed) - 1)]
        else:
            candidates = allowed
            if n_candidates is not None and n_candidates < len(allowed):
                candidates = sorted(rng.choice(allowed, n_candidates, replace=False).tolist())
            pick, best = None, -np.inf
            for i in candidates:
                if gain[i] > best:
                    pick, best = i, gain[i]
        order.append(pick)
        W_t = W_t - eta * G[pick].reshape(W.shape)
    return order


# --------------------------------------------------------------------------
# models and what the reference needs of them: (h with bias, W)
# --------------------------------------------------------------------------


def _quiet_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def logreg_parts(lr, X):
    return with_bias(X), np.hstack([lr.coef_, lr.intercept_[:, None]])


def mlp_parts(mlp, X):
    H = np.asarray(X, dtype=np.float64)
    for W, b in zip(mlp.coefs_[:-1], mlp.intercepts_[:-1]):
        H = np.maximum(H @ W + b, 0.0)
    return with_bias(H), np.hstack([mlp.coefs_[-1].T, mlp.intercepts_[-1][:, None]])


def net_parts(net, X):
    with torch.no_grad():
        H = net.module_.hidden(torch.as_tensor(X)).double().numpy()
    out = net.module_.out
    W = torch.cat([out.weight, out.bias[:, None]], dim=1).detach().double().numpy()
    return with_bias(H), W


@pytest.fixture(scope="module")
def data():
    """3 overlapping classes in 2-D: (X_lab, y_lab, X_pool, X_val, y_val)."""
    rng = np.random.RandomState(0)
    centers = np.array([[0.0, 0.0], [2.0, 0.5], [1.0, 2.0]])
    y = rng.randint(3, size=150)
    X = centers[y] + rng.randn(150, 2)
    return X[:40], y[:40], X[40:110], X[110:], y[110:]


@pytest.fixture(scope="module")
def logreg(data):
    return LogisticRegression().fit(data[0], data[1])


@pytest.fixture(scope="module")
def logreg_binary(data):
    X, y = data[0], data[1]
    return LogisticRegression().fit(X, (y == 2).astype(int))


@pytest.fixture(scope="module")
def mlp(data):
    return _quiet_fit(MLPClassifier((5,), max_iter=300, random_state=0), data[0], data[1])


@pytest.fixture(scope="module")
def mlp_binary(data):
    y = (data[1] == 2).astype(int)
    return _quiet_fit(MLPClassifier((5,), max_iter=300, random_state=0), data[0], y)


# --------------------------------------------------------------------------
# against the reference
# --------------------------------------------------------------------------


@pytest.mark.parametrize("include_labeled", [True, False])
@pytest.mark.parametrize("model", ["logreg", "logreg_binary", "mlp", "mlp_binary"])
def test_rank_matches_reference_sklearn(data, logreg, logreg_binary, mlp, mlp_binary, model,
                                        include_labeled):
    X_lab, y_lab, X_pool = data[:3]
    est = {"logreg": logreg, "logreg_binary": logreg_binary, "mlp": mlp,
           "mlp_binary": mlp_binary}[model]
    binary = model.endswith("binary")
    if binary:
        y_lab = (y_lab == 2).astype(int)
    parts = mlp_parts if model.startswith("mlp") else logreg_parts
    eta = 0.05
    H_pool, W = parts(est, X_pool)
    H_lab, _ = parts(est, X_lab)
    assert W.shape[0] == (1 if binary else 3)
    strategy = _glister(est, prefit=True, learning_rate=eta,
                       include_labeled=include_labeled).fit(X_lab, y_lab)
    expected = reference_glister(
        H_pool, W, H_lab, y_lab, eta,
        H_lab=H_lab if include_labeled else None, y_lab=y_lab,
    )
    assert strategy.rank(X_pool).tolist() == expected
    assert strategy.query(X_pool, 9).tolist() == expected[:9]


def test_rank_matches_reference_skorch(fitted_net, digits):
    X_lab, y_lab, X_pool, _ = digits
    X_lab, y_lab, X_pool = X_lab[:80], y_lab[:80], X_pool[:60]
    H_pool, W = net_parts(fitted_net, X_pool)
    H_lab, _ = net_parts(fitted_net, X_lab)
    strategy = _glister(fitted_net, prefit=True).fit(X_lab, y_lab)  # eta = net.lr
    expected = reference_glister(H_pool, W, H_lab, y_lab, fitted_net.lr, 15,
                                 H_lab=H_lab, y_lab=y_lab)
    assert strategy.query(X_pool, 15).tolist() == expected


def test_explicit_validation_set_and_pool_as_validation(data, logreg):
    X_lab, y_lab, X_pool, X_val, y_val = data
    eta = 0.2
    H_pool, W = logreg_parts(logreg, X_pool)
    H_lab, _ = logreg_parts(logreg, X_lab)
    H_val, _ = logreg_parts(logreg, X_val)
    s = GLISTER(logreg, prefit=True, learning_rate=eta).fit(X_lab, y_lab, X_val=X_val,
                                                            y_val=y_val)
    assert s.X_val_ is not s.X_labeled_
    expected = reference_glister(H_pool, W, H_val, y_val, eta, H_lab=H_lab, y_lab=y_lab)
    # an explicit validation set is used alone, whatever pool_as_validation says
    assert s.rank(X_pool).tolist() == expected
    assert s.set_params(pool_as_validation=False).rank(X_pool).tolist() == expected


def test_default_validates_on_labeled_set_and_pseudo_labeled_pool(data, logreg):
    X_lab, y_lab, X_pool = data[:3]
    eta = 0.2
    H_pool, W = logreg_parts(logreg, X_pool)
    H_lab, _ = logreg_parts(logreg, X_lab)
    s = GLISTER(logreg, prefit=True, learning_rate=eta).fit(X_lab, y_lab)
    # DISTIL's default: the labeled set plus the pool with its predicted labels
    H_both = np.vstack([H_lab, H_pool])
    y_both = np.concatenate([y_lab, logreg.predict(X_pool)])
    expected = reference_glister(H_pool, W, H_both, y_both, eta, H_lab=H_lab, y_lab=y_lab)
    assert s.rank(X_pool).tolist() == expected
    labeled_only = reference_glister(H_pool, W, H_lab, y_lab, eta, H_lab=H_lab, y_lab=y_lab)
    assert expected != labeled_only  # the two settings pick differently here
    assert s.set_params(pool_as_validation=False).rank(X_pool).tolist() == labeled_only


def test_prefit_without_fit_validates_on_the_pseudo_labeled_pool(data, logreg):
    X_pool = data[2]
    H_pool, W = logreg_parts(logreg, X_pool)
    expected = reference_glister(H_pool, W, H_pool, logreg.predict(X_pool), 0.1)
    got = _glister(logreg, prefit=True, learning_rate=0.1).rank(X_pool)
    assert got.tolist() == expected


def test_labels_are_matched_to_classes(data):
    # string labels: the columns of predict_proba follow classes_
    X_lab, y_lab, X_pool = data[:3]
    names = np.array(["cat", "ant", "bee"])[y_lab]
    lr = LogisticRegression().fit(X_lab, names)
    H_pool, W = logreg_parts(lr, X_pool)
    H_lab, _ = logreg_parts(lr, X_lab)
    cols = np.searchsorted(lr.classes_, names)
    expected = reference_glister(H_pool, W, H_lab, cols, 0.1, 20, H_lab=H_lab, y_lab=cols)
    got = _glister(lr, prefit=True, learning_rate=0.1).fit(X_lab, names).query(X_pool, 20)
    assert got.tolist() == expected


@pytest.mark.parametrize("n_candidates,random_fraction", [(7, 0.0), (None, 0.4), (5, 0.3)])
def test_stochastic_options_match_reference(data, logreg, n_candidates, random_fraction):
    X_lab, y_lab, X_pool = data[:3]
    H_pool, W = logreg_parts(logreg, X_pool)
    H_lab, _ = logreg_parts(logreg, X_lab)
    for seed in (0, 1):
        s = _glister(logreg, prefit=True, learning_rate=0.1, n_candidates=n_candidates,
                    random_fraction=random_fraction, random_state=seed).fit(X_lab, y_lab)
        got = s.rank(X_pool)
        assert got.tolist() == reference_glister(
            H_pool, W, H_lab, y_lab, 0.1, H_lab=H_lab, y_lab=y_lab,
            n_candidates=n_candidates, random_fraction=random_fraction, seed=seed)
        for k in (1, 4, 33):
            assert s.query(X_pool, k).tolist() == got[:k].tolist()


def test_after_max_greedy_the_rest_follows_the_last_gains(data, logreg):
    X_lab, y_lab, X_pool = data[:3]
    H_pool, W = logreg_parts(logreg, X_pool)
    H_lab, _ = logreg_parts(logreg, X_lab)
    s = _glister(logreg, prefit=True, learning_rate=0.3, max_greedy=6).fit(X_lab, y_lab)
    expected = reference_glister(H_pool, W, H_lab, y_lab, 0.3, H_lab=H_lab, y_lab=y_lab,
                                 max_greedy=6)
    ranking = s.rank(X_pool)
    assert ranking.tolist() == expected
    assert sorted(ranking.tolist()) == list(range(len(X_pool)))
    full = _glister(logreg, prefit=True, learning_rate=0.3, max_greedy=None).fit(X_lab, y_lab)
    assert full.rank(X_pool)[:6].tolist() == expected[:6]


def test_greedy_is_not_top_k_by_first_gain(data, logreg):
    # with a large step the greedy adapts: its picks differ from a static ranking
    X_lab, y_lab, X_pool = data[:3]
    s = _glister(logreg, prefit=True, learning_rate=0.5).fit(X_lab, y_lab)
    static = np.argsort(-s.transform(X_pool).ravel(), kind="stable")
    picks = s.query(X_pool, 10)
    assert picks[0] == static[0]
    assert picks.tolist() != static[:10].tolist()


def test_lazy_rank_add_matches_reference(data, logreg):
    X_lab, y_lab, X_pool = data[:3]
    H_pool, W = logreg_parts(logreg, X_pool)
    H_lab, _ = logreg_parts(logreg, X_lab)
    s = _glister(logreg, prefit=True, learning_rate=0.2).fit(X_lab, y_lab)
    lazy = s.lazy_rank(X_pool[:30])
    assert lazy.take(5).tolist() == s.query(X_pool[:30], 5).tolist()
    assert lazy.add(X_pool[30:]).tolist() == list(range(30, len(X_pool)))
    rest = lazy.take(100)
    available = np.where(np.arange(len(X_pool)) < 30, 0, 5)
    expected = reference_glister(H_pool, W, H_lab, y_lab, 0.2, H_lab=H_lab, y_lab=y_lab,
                                 available_from=available)
    assert lazy.ranked.tolist() == expected
    assert rest.tolist() == expected[5:]
    # added after the greedy is spent: merged into the frozen order by gain
    s.set_params(max_greedy=3)
    lazy = s.lazy_rank(X_pool[:30])
    lazy.take(10)
    lazy.add(X_pool[30:])
    lazy.take(100)
    expected = reference_glister(H_pool, W, H_lab, y_lab, 0.2, H_lab=H_lab, y_lab=y_lab,
                                 max_greedy=3, available_from=available * 0)
    assert lazy.ranked[:3].tolist() == expected[:3]
    assert sorted(lazy.ranked.tolist()) == list(range(len(X_pool)))
    assert set(lazy.ranked[:10].tolist()) <= set(range(30))


# --------------------------------------------------------------------------
# the Taylor gain is the first-order change of the validation loss
# --------------------------------------------------------------------------


@pytest.mark.parametrize("binary", [False, True])
def test_gain_is_first_order_decrease_of_validation_loss(data, binary):
    X_lab, y_lab, X_pool, X_val, y_val = data
    if binary:
        y_lab, y_val = (y_lab == 2).astype(int), (y_val == 2).astype(int)
    lr = LogisticRegression().fit(X_lab, y_lab)
    X_pool = X_pool[:8]
    H_pool = with_bias(X_pool)
    P = lr.predict_proba(X_pool)
    errors = {}
    for eta in (1e-2, 1e-3):
        gains = _glister(lr, prefit=True, learning_rate=eta, include_labeled=False).fit(
            X_lab, y_lab, X_val=X_val, y_val=y_val).transform(X_pool).ravel()
        base = log_loss(y_val, lr.predict_proba(X_val), labels=lr.classes_)
        errs = []
        for i in range(len(X_pool)):
            # the per-sample gradient of the hypothesized label, by hand
            e = P[i].copy()
            e[np.argmax(P[i])] -= 1.0
            if binary:
                e = e[1:]
            g = np.outer(e, H_pool[i])
            moved = clone(lr)
            moved.coef_ = lr.coef_ - eta * g[:, :-1]
            moved.intercept_ = lr.intercept_ - eta * g[:, -1]
            moved.classes_ = lr.classes_
            decrease = base - log_loss(y_val, moved.predict_proba(X_val), labels=lr.classes_)
            assert np.sign(decrease) == np.sign(gains[i])
            errs.append(abs(decrease - gains[i]) / abs(gains[i]))
        errors[eta] = max(errs)
    assert errors[1e-2] < 0.05
    assert errors[1e-3] < errors[1e-2] / 5  # the error is second order in eta


# --------------------------------------------------------------------------
# query / rank / seeds / state
# --------------------------------------------------------------------------


def test_query_is_prefix_of_rank_and_seeds(fitted_net, digits):
    X_lab, y_lab, X_pool, _ = digits
    X_pool = X_pool[:80]
    s = _glister(fitted_net, prefit=True, n_candidates=10, random_state=7).fit(X_lab, y_lab)
    full = s.rank(X_pool)
    assert sorted(full.tolist()) == list(range(len(X_pool)))
    for k in (1, 3, 17, len(X_pool)):
        picks = s.query(X_pool, k)
        assert picks.dtype == np.intp
        assert picks.tolist() == full[:k].tolist()
    again = _glister(fitted_net, prefit=True, n_candidates=10, random_state=7)
    assert again.fit(X_lab, y_lab).rank(X_pool).tolist() == full.tolist()
    other = _glister(fitted_net, prefit=True, n_candidates=10, random_state=8).fit(X_lab, y_lab)
    assert other.query(X_pool, 10).tolist() != full[:10].tolist()
    # without random options the seed does not matter
    a = _glister(fitted_net, prefit=True, random_state=0).fit(X_lab, y_lab).query(X_pool, 10)
    b = _glister(fitted_net, prefit=True, random_state=1).fit(X_lab, y_lab).query(X_pool, 10)
    assert a.tolist() == b.tolist()


def test_both_output_conventions_agree(digits):
    # same seed, same training: a module returning logits or probabilities
    X_lab, y_lab, X_pool, _ = digits
    nets = [make_skorch_classifier(64, 10, hidden_units=8, output=o, max_epochs=2).fit(
        X_lab, y_lab) for o in ("logits", "probabilities")]
    picks = [_glister(n, prefit=True).fit(X_lab, y_lab).query(X_pool[:100], 10) for n in nets]
    assert picks[0].tolist() == picks[1].tolist()


def test_net_state_and_global_rng_are_left_alone(fitted_net, digits):
    X_lab, y_lab, X_pool, _ = digits
    params = [p.detach().clone() for p in fitted_net.module_.parameters()]
    grads = [p.requires_grad for p in fitted_net.module_.parameters()]
    fitted_net.module_.train()
    torch_state = torch.random.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    try:
        s = _glister(fitted_net, prefit=True, random_fraction=0.5, random_state=0)
        s.fit(X_lab, y_lab).rank(X_pool[:50])
        assert fitted_net.module_.training
    finally:
        fitted_net.module_.eval()
    for p, p0, g in zip(fitted_net.module_.parameters(), params, grads):
        assert torch.equal(p, p0) and p.requires_grad == g
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_cuda_request_falls_back_to_cpu(data, logreg):
    X_lab, y_lab, X_pool = data[:3]
    cpu = _glister(logreg, prefit=True, learning_rate=0.1).fit(X_lab, y_lab).rank(X_pool)
    s = _glister(logreg, prefit=True, learning_rate=0.1, device="cuda").fit(X_lab, y_lab)
    with pytest.warns(DeviceWarning, match="CUDA is not available"):
        assert s.rank(X_pool).tolist() == cpu.tolist()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(fitted_net, digits, data, logreg):
    X_lab, y_lab, X_pool, _ = digits
    for est, (Xl, yl, Xp) in [(fitted_net, (X_lab, y_lab, X_pool)), (logreg, data[:3])]:
        picks = [_glister(est, prefit=True, n_candidates=30, random_state=0, device=d)
                 .fit(Xl, yl).query(Xp, 20).tolist() for d in ("cpu", "cuda")]
        assert picks[0] == picks[1]


def test_caller_arrays_not_mutated(data, logreg):
    X_lab, y_lab, X_pool, X_val, y_val = (a.copy() for a in data)
    s = _glister(logreg, prefit=True).fit(X_lab, y_lab, X_val=X_val, y_val=y_val)
    s.rank(X_pool)
    s.transform(X_pool)
    for before, after in zip(data, (X_lab, y_lab, X_pool, X_val, y_val)):
        np.testing.assert_array_equal(before, after)


def test_fit_clones_and_pipeline(data):
    X_lab, y_lab, X_pool = data[:3]
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    s = _glister(pipe, learning_rate=0.1).fit(X_lab, y_lab)
    assert s.estimator_ is not pipe
    fitted = s.estimator_
    H_pool, W = logreg_parts(fitted[-1], fitted[0].transform(X_pool))
    H_lab, _ = logreg_parts(fitted[-1], fitted[0].transform(X_lab))
    expected = reference_glister(H_pool, W, H_lab, y_lab, 0.1, 12, H_lab=H_lab, y_lab=y_lab)
    assert s.query(X_pool, 12).tolist() == expected


def test_inside_active_learner(data):
    X_lab, y_lab, X_pool = data[:3]
    X = np.vstack([X_lab, X_pool])
    y = np.concatenate([y_lab, LogisticRegression().fit(X_lab, y_lab).predict(X_pool)])
    learner = ActiveLearner(LogisticRegression(), _glister(learning_rate=0.3), batch_size=5,
                            initial_size=10, budget=20, random_state=0).fit(X, y)
    order = learner.labeled_indices_
    assert len(order) == 20 and len(np.unique(order)) == 20
    # round 1 is GLISTER on the model fitted to the initial set
    initial = order[:10]
    pool = np.setdiff1d(np.arange(len(X)), initial)
    lr = LogisticRegression().fit(X[initial], y[initial])
    picks = _glister(lr, prefit=True, learning_rate=0.3).fit(X[initial], y[initial]).query(
        X[pool], 5)
    assert pool[picks].tolist() == order[10:15].tolist()


# --------------------------------------------------------------------------
# bad input and unsuitable estimators
# --------------------------------------------------------------------------


def test_validation_set_errors(data, logreg):
    X_lab, y_lab, X_pool, X_val, y_val = data
    s = _glister(logreg, prefit=True)
    with pytest.raises(ValueError, match="both X_val and y_val"):
        s.fit(X_lab, y_lab, X_val=X_val)
    with pytest.raises(ValueError, match="X_val is empty"):
        s.fit(X_lab, y_lab, X_val=X_val[:0], y_val=y_val[:0])
    with pytest.raises(ValueError, match="features"):
        s.fit(X_lab, y_lab, X_val=np.hstack([X_val, X_val]), y_val=y_val)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        s.fit(X_lab, y_lab, X_val=X_val, y_val=y_val[:-1])
    s.fit(X_lab, y_lab, X_val=X_val, y_val=np.where(y_val == 2, 7, y_val))
    with pytest.raises(ValueError, match=r"Labels \[7\] are not among the classes"):
        s.query(X_pool, 3)


@pytest.mark.parametrize("params,match", [
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"learning_rate": "fast"}, "learning_rate"),
    ({"max_greedy": 0}, "max_greedy"),
    ({"n_candidates": 0}, "n_candidates"),
    ({"random_fraction": 1.0}, "random_fraction"),
    ({"include_labeled": "yes"}, "include_labeled"),
])
def test_bad_params(data, logreg, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        _glister(logreg, prefit=True, **params).fit(data[0], data[1])


def test_unsuitable_estimators(data, fitted_net, digits):
    X_lab, y_lab, X_pool = data[:3]
    with pytest.raises(EmbeddingError, match="RandomForestClassifier provides none"):
        _glister(RandomForestClassifier(n_estimators=3)).fit(X_lab, y_lab)
    with pytest.raises(EmbeddingError, match="no predict_proba"):
        _glister(LinearSVC()).fit(X_lab, y_lab)
    X_d, y_d, X_dpool, _ = digits
    with pytest.raises(EmbeddingError, match="layer='hidden.1' is a ReLU"):
        _glister(fitted_net, prefit=True, layer="hidden.1").fit(X_d, y_d).query(X_dpool, 2)
    with pytest.raises(NotFittedError):
        _glister(LogisticRegression()).query(X_pool, 2)


class _TemperatureModule(nn.Module):
    """Logits divided by a temperature after the last linear layer."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(64, 8), nn.ReLU())
        self.out = nn.Linear(8, 10)

    def forward(self, X):
        return self.out(self.hidden(X)) / 3.0


def test_output_that_is_not_softmax_of_last_layer_is_refused(digits):
    X_lab, y_lab, X_pool, _ = digits
    torch.manual_seed(0)
    net = NeuralNetClassifier(_TemperatureModule, criterion=nn.CrossEntropyLoss,
                              max_epochs=2, lr=0.1, train_split=None, verbose=0)
    net.fit(X_lab, y_lab)
    with pytest.raises(EmbeddingError, match="softmax of that layer's output"):
        _glister(net, prefit=True).fit(X_lab, y_lab).query(X_pool, 2)


@parametrize_with_checks(
    [GLISTER(LogisticRegression(), random_state=0)],
    expected_failed_checks=lambda est: {
        "check_methods_subset_invariance": "the pool, pseudo-labeled, is part of the "
        "validation set (pool_as_validation=True): a sample's gain depends on the pool"
    },
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
