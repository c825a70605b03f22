"""Adversarial strategies (DeepFool, BIM) against analytic distances and slow references.

The references attack one sample at a time the way DISTIL's
``AdversarialDeepFool`` / ``AdversarialBIM`` do: a Python loop, one backward
pass per class, in float64 on a copy of the network.
"""

import copy
import warnings

import numpy as np
import pytest
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skal import ActiveLearner
from skal.embeddings._differentiable import _logit_function
from skal.exceptions import EmbeddingError
from skal.strategies._adversarial import AdversarialBIM, AdversarialDeepFool
from skal.toy import make_skorch_classifier

PAD = 1e-4  # DeepFool's step padding (the authors' reference code)

# --------------------------------------------------------------------------
# slow references: one sample at a time, DISTIL's loops, float64
# --------------------------------------------------------------------------


def reference_deepfool(f, x, *, overshoot=0.02, max_steps=50, num_classes=None):
    """DISTIL's deepfool(): per class backward passes, strict < between candidates."""
    x = torch.as_tensor(x, dtype=torch.float64)
    out = f(x[None])[0].detach()
    order = torch.sort(out, descending=True, stable=True).indices
    order = order[: num_classes or len(order)]
    label = int(order[0])
    r_tot = torch.zeros_like(x)
    k_i, loop_i = label, 0
    xi = x.clone().requires_grad_(True)
    fs = f(xi[None])[0]
    while k_i == label and loop_i < max_steps:
        grad_orig = torch.autograd.grad(fs[label], xi, retain_graph=True)[0]
        pert, w = np.inf, None
        for k in order[1:].tolist():
            cur = torch.autograd.grad(fs[k], xi, retain_graph=True)[0]
            w_k = cur - grad_orig
            f_k = float(fs[k].detach() - fs[label].detach())
            pert_k = abs(f_k) / float(torch.linalg.norm(w_k))
            if pert_k < pert:
                pert, w = pert_k, w_k
        r_tot = r_tot + (pert + PAD) * w / torch.linalg.norm(w)
        xi = (x + (1 + overshoot) * r_tot).detach().requires_grad_(True)
        fs = f(xi[None])[0]
        k_i = int(torch.argmax(fs.detach()))
        loop_i += 1
    if k_i == label:
        return np.inf
    return float(torch.linalg.norm((1 + overshoot) * r_tot))


def reference_bim(f, x, *, eps=0.05, max_steps=1000):
    """DISTIL's cal_dis(): eta += eps * sign(grad CE(f(x + eta), label)) until the label flips."""
    x = torch.as_tensor(x, dtype=torch.float64)
    eta = torch.zeros_like(x)
    label = int(torch.argmax(f(x[None])[0]))
    for _ in range(max_steps):
        xi = (x + eta).requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(f(xi[None]), torch.tensor([label]))
        (grad,) = torch.autograd.grad(loss, xi)
        eta = eta + eps * torch.sign(grad)
        if int(torch.argmax(f((x + eta)[None])[0])) != label:
            return float(torch.linalg.norm(eta))
    return np.inf


def double_module(net):
    """A float64 copy of a skorch net's module, as a function returning logits."""
    module = copy.deepcopy(net.module_).double().eval()
    output = getattr(module, "output", "logits")

    def f(x):
        out = module(x)
        return torch.log(out) if output == "probabilities" else out

    return f


def double_mlp(mlp):
    """An MLPClassifier's logits in float64, from its coefs_ (relu only)."""
    layers = [(torch.as_tensor(W, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64))
              for W, b in zip(mlp.coefs_, mlp.intercepts_)]

    def f(x):
        h = x
        for i, (W, b) in enumerate(layers):
            h = h @ W + b
            if i < len(layers) - 1:
                h = torch.relu(h)
        return h

    return f


def reference_scores(attack, f, X, **params):
    return np.array([attack(f, x, **params) for x in X])


def reference_margins(f, X):
    """Top-two margin of the class scores of each unperturbed sample, float64."""
    margins = []
    for x in X:
        out = torch.sort(f(torch.as_tensor(x, dtype=torch.float64)[None])[0].detach(),
                         descending=True).values
        margins.append(float(out[0] - out[1]))
    return np.array(margins)


def reference_rank(scores, margins):
    """Ascending scores (to 1e-9: BIM scores lie on a lattice), inf last; ties by the
    smaller margin, then by pool index."""
    return sorted(range(len(scores)), key=lambda i: (np.round(scores[i], 9), margins[i], i))


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_net(digits):
    """A tiny skorch net on the digits: quick references.

    Plain SGD, named: lr=0.2 is an SGD step size (with Adam most of the 12
    ReLUs die, the input gradients vanish and the attacks never finish).
    """
    X, y, _, _ = digits
    return make_skorch_classifier(64, 10, hidden_units=12, max_epochs=40, lr=0.2,
                                  optimizer=torch.optim.SGD).fit(X, y)


@pytest.fixture(scope="module")
def small_pool(digits):
    return digits[2][:40]


@pytest.fixture(scope="module")
def logits_net(digits):
    """A skorch net returning logits, trained on the digits; read, never changed."""
    X, y, _, _ = digits
    return make_skorch_classifier(64, 10, hidden_units=16, max_epochs=5).fit(X, y)


# --------------------------------------------------------------------------
# linear models: DeepFool is exact in one step
# --------------------------------------------------------------------------


def analytic_distance(W, b, X):
    """min over k != l of |f_k − f_l| / ‖w_k − w_l‖ (rows of W are classes), float64."""
    W, b, X = (np.asarray(a, dtype=np.float64) for a in (W, b, X))
    out = []
    for x in X:
        f = W @ x + b
        label = int(np.argmax(f))
        out.append(min(
            abs(f[k] - f[label]) / np.linalg.norm(W[k] - W[label])
            for k in range(len(f)) if k != label
        ))
    return np.array(out)


@pytest.mark.parametrize("overshoot", [0.0, 0.02, 0.5])
def test_deepfool_is_the_exact_distance_on_a_multiclass_linear_model(blobs, overshoot):
    X, y, X_pool = blobs
    clf = LogisticRegression().fit(X, y)
    d = analytic_distance(clf.coef_, clf.intercept_, X_pool)
    strategy = AdversarialDeepFool(clf, prefit=True, overshoot=overshoot, max_steps=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one step flips every sample
        scores = strategy.transform(X_pool).ravel()
    np.testing.assert_allclose(scores, (1 + overshoot) * (d + PAD), rtol=1e-4)
    assert strategy.rank(X_pool).tolist() == np.argsort(d, kind="stable").tolist()


def test_deepfool_on_a_hand_built_linear_model():
    # f = (x1, x2, 0): in the region of class 0 (x1 largest), the boundary
    # with class 1 is x1 = x2 at distance (x1 − x2)/√2, with class 2 it is
    # x1 = 0 at distance x1.
    clf = LogisticRegression().fit([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]], [0, 1, 2])
    clf.coef_ = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    clf.intercept_ = np.zeros(3)
    X_pool = np.array([[3.0, 2.0], [1.0, -5.0], [0.5, 0.4], [4.0, 0.0]])
    expected = np.array([1 / np.sqrt(2), 1.0, 0.1 / np.sqrt(2), 4 / np.sqrt(2)])
    scores = AdversarialDeepFool(clf, prefit=True, overshoot=0.0).transform(X_pool).ravel()
    np.testing.assert_allclose(scores, expected + PAD, rtol=1e-5)
    assert AdversarialDeepFool(clf, prefit=True).rank(X_pool).tolist() == [2, 0, 1, 3]


@pytest.mark.parametrize("Linear", [LogisticRegression, LinearSVC])
def test_deepfool_binary_linear_model(blobs, Linear):
    X, y, X_pool = blobs
    clf = Linear().fit(X, (y == 0).astype(int))
    assert clf.coef_.shape[0] == 1  # one decision function: logits [0, z]
    z = clf.decision_function(X_pool)
    d = np.abs(z) / np.linalg.norm(clf.coef_)
    scores = AdversarialDeepFool(clf, prefit=True, overshoot=0.0).transform(X_pool).ravel()
    np.testing.assert_allclose(scores, d + PAD, rtol=1e-4)


def test_bim_binary_linear_model_counts_steps(blobs):
    # With one decision function z = w·x + b, every step moves z by eps‖w‖₁
    # towards 0, so the flip comes after t = ceil(z / (eps‖w‖₁)) steps
    # (label 1, z > 0; z = 0 is class 0) or floor(|z| / (eps‖w‖₁)) + 1 (label 0),
    # and the score is t · eps · √d.
    X, y, X_pool = blobs
    clf = LogisticRegression().fit(X, (y == 0).astype(int))
    eps = 0.3
    z = clf.decision_function(X_pool)
    step = eps * np.abs(clf.coef_).sum()
    t = np.where(z > 0, np.ceil(z / step), np.floor(-z / step) + 1)
    expected = t * eps * np.sqrt(X_pool.shape[1])
    scores = AdversarialBIM(clf, prefit=True, eps=eps).transform(X_pool).ravel()
    np.testing.assert_allclose(scores, expected, rtol=1e-5)
    ranking = AdversarialBIM(clf, prefit=True, eps=eps).rank(X_pool)
    assert ranking.tolist() == reference_rank(expected, np.abs(z))  # logits [0, z]
    assert len(set(np.round(expected, 9))) < len(expected)  # the tie-break mattered


def test_pipeline_attacks_the_space_of_the_final_step(blobs):
    X, y, X_pool = blobs
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    Xt = pipe[0].transform(X_pool)
    clf = pipe[-1]
    d = analytic_distance(clf.coef_, clf.intercept_, Xt)
    scores = AdversarialDeepFool(pipe, prefit=True).transform(X_pool).ravel()
    np.testing.assert_allclose(scores, 1.02 * (d + PAD), rtol=1e-4)


# --------------------------------------------------------------------------
# networks: the batched attack equals the per-sample reference
# --------------------------------------------------------------------------


def test_deepfool_matches_reference_skorch(small_net, small_pool):
    f = double_module(small_net)
    n_inf = {}
    for params in ({}, {"overshoot": 0.0, "max_steps": 1}, {"overshoot": 0.0, "max_steps": 3},
                   {"n_candidate_classes": 3}):
        ref_params = {k: v for k, v in params.items() if k != "n_candidate_classes"}
        ref = reference_scores(
            reference_deepfool, f, small_pool,
            num_classes=params.get("n_candidate_classes"), **ref_params,
        )
        strategy = AdversarialDeepFool(small_net, prefit=True, batch_size=16, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            got = strategy.transform(small_pool).ravel()
            ranking = strategy.rank(small_pool)
        np.testing.assert_allclose(got, ref, rtol=1e-3)
        assert ranking.tolist() == reference_rank(ref, reference_margins(f, small_pool))
        n_inf[params.get("max_steps")] = int(np.isinf(got).sum())
    # some samples need more than one step: the later steps were compared too
    assert n_inf[1] > 0 and n_inf[3] == 0 and n_inf[None] == 0


class _BranchyReLU(torch.autograd.Function):
    """ReLU whose backward branches on data, which vmap refuses to batch."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if bool((grad == 0).all()):
            return grad
        return grad * (x > 0)


def test_deepfool_falls_back_to_one_backward_pass_per_class(small_net, small_pool):
    net = copy.deepcopy(small_net)
    net.module_.hidden[1] = type("BranchyReLU", (torch.nn.Module,), {
        "forward": lambda self, x: _BranchyReLU.apply(x)
    })()
    with pytest.raises(RuntimeError):  # the batched backward pass is refused...
        x = torch.as_tensor(small_pool[:2]).requires_grad_(True)
        out = net.module_(x)
        torch.autograd.grad(out, x, torch.ones((3,) + out.shape), is_grads_batched=True)
    got = AdversarialDeepFool(net, prefit=True).transform(small_pool)  # ...so it loops
    expected = AdversarialDeepFool(small_net, prefit=True).transform(small_pool)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_bim_matches_reference_skorch(small_net, small_pool):
    f = double_module(small_net)
    for params in ({"eps": 0.05}, {"eps": 0.01, "max_steps": 5}):
        ref = reference_scores(reference_bim, f, small_pool, **params)
        strategy = AdversarialBIM(small_net, prefit=True, batch_size=16, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            got = strategy.transform(small_pool).ravel()
            ranking = strategy.rank(small_pool)
        np.testing.assert_allclose(got, ref, rtol=1e-5)
        assert ranking.tolist() == reference_rank(ref, reference_margins(f, small_pool))


def test_skorch_net_both_output_conventions(fitted_net, digits):
    # The fixture's net returns logits or probabilities; the reference attacks
    # the logits, or log(probabilities).
    X_pool = digits[2][:30]
    f = double_module(fitted_net)
    ref = reference_scores(reference_deepfool, f, X_pool)
    got = AdversarialDeepFool(fitted_net, prefit=True).transform(X_pool).ravel()
    np.testing.assert_allclose(got, ref, rtol=1e-3)


def test_probability_module_gives_the_logit_modules_scores(logits_net, digits):
    X_pool = digits[2]
    proba_net = make_skorch_classifier(64, 10, hidden_units=16, output="probabilities")
    proba_net.initialize()
    proba_net.module_.load_state_dict(logits_net.module_.state_dict())
    for Strategy in (AdversarialDeepFool, AdversarialBIM):
        a = Strategy(logits_net, prefit=True).transform(X_pool[:50])
        b = Strategy(proba_net, prefit=True).transform(X_pool[:50])
        np.testing.assert_allclose(a, b, rtol=1e-3)


class _Logit(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, x):
        return self.linear(x).squeeze(-1)


def test_skorch_binary_classifier_is_exact(blobs):
    # NeuralNetBinaryClassifier: one logit z; predict_nonlinearity gives
    # [1 − σ(z), σ(z)], whose log-ratio is z: DeepFool is exact in one step.
    from skorch import NeuralNetBinaryClassifier

    X, y, X_pool = blobs
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = NeuralNetBinaryClassifier(_Logit, max_epochs=10, lr=0.1, train_split=None,
                                        verbose=0).fit(X, (y == 0).astype(np.float32))
    w = net.module_.linear.weight.detach().numpy().astype(np.float64).ravel()
    b = float(net.module_.linear.bias.detach()[0])
    d = np.abs(X_pool @ w + b) / np.linalg.norm(w)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = AdversarialDeepFool(net, prefit=True, max_steps=1).transform(X_pool).ravel()
    np.testing.assert_allclose(scores, 1.02 * (d + PAD), rtol=1e-4, atol=1e-6)  # float32


def test_mlp_classifier_converter_and_reference(digits):
    X, y, X_pool, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=100, random_state=0).fit(X, y)
    X_pool = X_pool[:30]
    ref = reference_scores(reference_deepfool, double_mlp(mlp), X_pool)
    got = AdversarialDeepFool(mlp, prefit=True).transform(X_pool).ravel()
    np.testing.assert_allclose(got, ref, rtol=1e-3)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("binary", [False, True])
def test_mlp_classifier_logits_give_its_probabilities(blobs, activation, binary):
    X, y, X_pool = blobs
    y = (y == 0).astype(int) if binary else y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(hidden_layer_sizes=(5, 4), activation=activation, max_iter=50,
                            random_state=0).fit(X, y)
    with _logit_function(mlp) as (logits, _, _):
        out = logits(torch.as_tensor(X_pool, dtype=torch.float64))
    proba = torch.softmax(out.double(), dim=1).numpy()
    np.testing.assert_allclose(proba, mlp.predict_proba(X_pool), atol=1e-5)


def test_linear_logits_give_its_predictions(blobs):
    X, y, X_pool = blobs
    for clf in (LogisticRegression().fit(X, y), LinearSVC().fit(X, y == 1),
                LogisticRegression(fit_intercept=False).fit(X, y == 2)):
        with _logit_function(clf) as (logits, _, _):
            pred = logits(torch.as_tensor(X_pool, dtype=torch.float64)).argmax(dim=1).numpy()
        assert (clf.classes_[pred] == clf.predict(X_pool)).all()


# --------------------------------------------------------------------------
# the iteration cap, the time guard, samples that cannot move
# --------------------------------------------------------------------------


def test_max_steps_cap_gives_inf_last_by_margin(small_net, small_pool):
    strategy = AdversarialBIM(small_net, prefit=True, eps=0.03, max_steps=3)
    with pytest.warns(ConvergenceWarning, match=r"did not change their predicted label "
                      r"within max_steps=3 steps.*Raise max_steps or eps"):
        scores = strategy.transform(small_pool).ravel()
    ref = reference_scores(reference_bim, double_module(small_net), small_pool,
                           eps=0.03, max_steps=3)
    assert np.isinf(ref).any() and np.isfinite(ref).any()  # the case is meaningful
    np.testing.assert_array_equal(np.isinf(scores), np.isinf(ref))
    np.testing.assert_allclose(scores[np.isfinite(ref)], ref[np.isfinite(ref)], rtol=1e-5)
    with pytest.warns(ConvergenceWarning):
        ranking = strategy.rank(small_pool)
    n_finite = int(np.isfinite(ref).sum())
    margins = reference_margins(double_module(small_net), small_pool)
    unflipped = np.flatnonzero(np.isinf(ref))
    expected_last = unflipped[np.argsort(margins[unflipped], kind="stable")]
    assert ranking[n_finite:].tolist() == expected_last.tolist()
    # the finite scores are at most max_steps * eps * sqrt(d)
    assert scores[np.isfinite(scores)].max() <= 3 * 0.03 * np.sqrt(64) * (1 + 1e-6)


def test_time_guard_warns_and_ranks_unfinished_last(small_net, small_pool):
    strategy = AdversarialDeepFool(small_net, prefit=True, max_time=1e-9, batch_size=8)
    with pytest.warns(ConvergenceWarning, match=r"max_time=1e-09 s ran out before 40 of 40 "
                      r"pool samples.*Raise max_time"):
        scores = strategy.transform(small_pool).ravel()
    assert np.isinf(scores).all()
    margins = reference_margins(double_module(small_net), small_pool)
    with pytest.warns(ConvergenceWarning, match="max_time"):
        ranking = strategy.rank(small_pool)
    # nothing was flipped: the ranking is by margin alone, the smallest first
    assert ranking.tolist() == np.argsort(margins, kind="stable").tolist()
    assert strategy.__sklearn_tags__().non_deterministic
    assert not AdversarialDeepFool(small_net).__sklearn_tags__().non_deterministic


def test_generous_time_guard_changes_nothing(small_net, small_pool):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = AdversarialDeepFool(small_net, prefit=True, max_time=600).transform(small_pool)
    b = AdversarialDeepFool(small_net, prefit=True).transform(small_pool)
    np.testing.assert_array_equal(a, b)


def test_zero_gradient_cannot_move(blobs):
    X, y, X_pool = blobs
    clf = LogisticRegression().fit(X, y)
    clf.coef_ = np.zeros_like(clf.coef_)  # constant logits: every gradient is zero
    for Strategy in (AdversarialDeepFool, AdversarialBIM):
        if Strategy is AdversarialBIM:
            match = "within max_steps=5"  # BIM: sign(0) = 0, it never moves
        else:
            match = "zero input gradients"
        with pytest.warns(ConvergenceWarning, match=match):
            scores = Strategy(clf, prefit=True, max_steps=5).transform(X_pool[:6])
        assert np.isinf(scores).all()


# --------------------------------------------------------------------------
# rank / query / lazy_rank / batching
# --------------------------------------------------------------------------


@pytest.mark.parametrize("Strategy", [AdversarialDeepFool, AdversarialBIM])
def test_query_is_prefix_of_rank_and_lazy_rank_adds(Strategy, small_net, small_pool):
    strategy = Strategy(small_net, prefit=True)
    full = strategy.rank(small_pool)
    assert sorted(full.tolist()) == list(range(len(small_pool)))
    for k in (1, 7, len(small_pool)):
        picks = strategy.query(small_pool, k)
        assert picks.dtype == np.intp
        assert picks.tolist() == full[:k].tolist()
    lazy = strategy.lazy_rank(small_pool[:25])
    first = lazy.take(5).tolist()
    assert lazy.add(small_pool[25:]).tolist() == list(range(25, 40))
    rest = lazy.take(100).tolist()
    scores = strategy.transform(small_pool).ravel()
    margins = reference_margins(double_module(small_net), small_pool)
    expected_rest = [i for i in reference_rank(scores, margins) if i not in first]
    assert first == reference_rank(scores[:25], margins[:25])[:5]
    assert rest == expected_rest


@pytest.mark.parametrize("Strategy", [AdversarialDeepFool, AdversarialBIM])
def test_batch_size_does_not_change_scores(Strategy, small_net, small_pool):
    a = Strategy(small_net, prefit=True, batch_size=1).transform(small_pool)
    b = Strategy(small_net, prefit=True, batch_size=7).transform(small_pool)
    c = Strategy(small_net, prefit=True).transform(small_pool)
    np.testing.assert_allclose(a, c, rtol=1e-5)
    np.testing.assert_allclose(b, c, rtol=1e-5)


def test_n_candidate_classes_above_n_classes_is_all(small_net, small_pool):
    a = AdversarialDeepFool(small_net, prefit=True, n_candidate_classes=50).transform(small_pool)
    b = AdversarialDeepFool(small_net, prefit=True).transform(small_pool)
    np.testing.assert_array_equal(a, b)


def test_repeatable(small_net, small_pool):
    for Strategy in (AdversarialDeepFool, AdversarialBIM):
        a = Strategy(small_net, prefit=True).rank(small_pool)
        assert a.tolist() == Strategy(small_net, prefit=True).rank(small_pool).tolist()


def test_torch_random_state_untouched(small_net, small_pool):
    state = torch.random.get_rng_state()
    AdversarialDeepFool(small_net, prefit=True).rank(small_pool)
    AdversarialBIM(small_net, prefit=True).rank(small_pool)
    assert torch.equal(state, torch.random.get_rng_state())


# --------------------------------------------------------------------------
# the estimator's state and the caller's arrays
# --------------------------------------------------------------------------


def test_net_modes_and_requires_grad_restored(digits):
    X, y, X_pool, _ = digits
    net = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=2,
                                 module__dropout=0.5).fit(X, y)
    module = net.module_
    module.train()
    module.hidden[2].eval()  # a mixed state must come back as it was
    module.out.bias.requires_grad_(False)
    modes = [m.training for m in module.modules()]
    flags = [p.requires_grad for p in module.parameters()]
    params = [p.detach().clone() for p in module.parameters()]
    grads = [None if p.grad is None else p.grad.clone() for p in module.parameters()]
    strategy = AdversarialDeepFool(net, prefit=True)
    a = strategy.transform(X_pool[:40])
    b = strategy.transform(X_pool[:40])  # dropout is off during the attack
    np.testing.assert_array_equal(a, b)
    AdversarialBIM(net, prefit=True).rank(X_pool[:40])
    assert [m.training for m in module.modules()] == modes
    assert [p.requires_grad for p in module.parameters()] == flags
    assert all(torch.equal(p, q) for p, q in zip(module.parameters(), params))
    for p, g in zip(module.parameters(), grads):  # skorch leaves the last step's
        assert (p.grad is None and g is None) or torch.equal(p.grad, g)


def test_restored_after_an_error(digits):
    X, y, X_pool, _ = digits
    net = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=1).fit(X, y)
    net.module_.train()

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    net.module_.out.register_forward_hook(boom)
    with pytest.raises(RuntimeError, match="boom"):
        AdversarialDeepFool(net, prefit=True).rank(X_pool[:5])
    assert net.module_.training
    assert all(p.requires_grad for p in net.module_.parameters())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_caller_arrays_untouched(small_net, small_pool, blobs, dtype):
    X = small_pool.astype(dtype)
    X0 = X.copy()
    for Strategy in (AdversarialDeepFool, AdversarialBIM):
        Strategy(small_net, prefit=True).rank(X)
        Strategy(small_net, prefit=True).transform(X)
    np.testing.assert_array_equal(X, X0)
    X, y, X_pool = blobs
    clf = LogisticRegression().fit(X, y)
    coef, X_pool0 = clf.coef_.copy(), X_pool.copy()
    AdversarialDeepFool(clf, prefit=True).rank(X_pool)
    np.testing.assert_array_equal(clf.coef_, coef)
    np.testing.assert_array_equal(X_pool, X_pool0)


# --------------------------------------------------------------------------
# fitting, ActiveLearner, errors
# --------------------------------------------------------------------------


def test_fit_clones_and_active_learner(blobs):
    X, y, X_pool = blobs
    strategy = AdversarialDeepFool(LogisticRegression()).fit(X, y)
    reference = AdversarialDeepFool(LogisticRegression().fit(X, y), prefit=True)
    assert strategy.rank(X_pool).tolist() == reference.rank(X_pool).tolist()
    for strategy in (AdversarialDeepFool(), AdversarialBIM(eps=0.2)):
        learner = ActiveLearner(LogisticRegression(), strategy, batch_size=5,
                                initial_size=10, budget=25, random_state=0)
        learner.fit(X, y)  # simulated rounds: every label known
        assert learner.history_["n_labeled"].tolist() == [10, 15, 20, 25]
        assert len(np.unique(learner.labeled_indices_)) == 25



def test_unsupported_estimator(blobs):
    X, y, X_pool = blobs
    rf = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    match = r"AdversarialDeepFool .* needs a differentiable one, but RandomForestClassifier"
    with pytest.raises(EmbeddingError, match=match):
        AdversarialDeepFool(rf, prefit=True).query(X_pool, 3)
    with pytest.raises(EmbeddingError, match="MarginSampling"):
        AdversarialBIM(RandomForestClassifier()).fit(X, y)
    with pytest.raises(EmbeddingError, match="RandomForestClassifier"):
        AdversarialBIM(make_pipeline(StandardScaler(), RandomForestClassifier())).fit(X, y)


def test_multilabel_mlp_is_rejected(blobs):
    X, y, X_pool = blobs
    Y = np.stack([y == 0, y == 1], axis=1).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(hidden_layer_sizes=(3,), max_iter=5).fit(X, Y)
    with pytest.raises(EmbeddingError, match="not a single-label classifier"):
        AdversarialDeepFool(mlp, prefit=True).transform(X_pool)


@pytest.mark.parametrize(
    "Strategy, params, name",
    [
        (AdversarialDeepFool, {"max_steps": 0}, "max_steps"),
        (AdversarialDeepFool, {"overshoot": -0.1}, "overshoot"),
        (AdversarialDeepFool, {"n_candidate_classes": 1}, "n_candidate_classes"),
        (AdversarialDeepFool, {"max_time": 0}, "max_time"),
        (AdversarialDeepFool, {"batch_size": 0}, "batch_size"),
        (AdversarialBIM, {"eps": 0.0}, "eps"),
        (AdversarialBIM, {"max_steps": 1.5}, "max_steps"),
        (AdversarialBIM, {"max_time": -1}, "max_time"),
    ],
)
def test_bad_params(blobs, Strategy, params, name):
    X, y, X_pool = blobs
    clf = LogisticRegression().fit(X, y)
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        Strategy(LogisticRegression(), **params).fit(X, y)
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        Strategy(clf, prefit=True, **params).query(X_pool, 3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(logits_net, digits):
    X_pool = digits[2]
    cpu = logits_net
    gpu = make_skorch_classifier(64, 10, hidden_units=16, device="cuda")
    gpu.initialize()
    gpu.module_.load_state_dict(cpu.module_.state_dict())
    for Strategy in (AdversarialDeepFool, AdversarialBIM):
        a = Strategy(cpu, prefit=True).transform(X_pool[:200])
        b = Strategy(gpu, prefit=True).transform(X_pool[:200])
        np.testing.assert_allclose(a, b, rtol=1e-3)
        assert next(gpu.module_.parameters()).is_cuda


@parametrize_with_checks([
    AdversarialDeepFool(LogisticRegression()),
    AdversarialBIM(LogisticRegression()),
])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
