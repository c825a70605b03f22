"""skal.embeddings: probabilities, penultimate and gradient embeddings.

Every embedding is compared with a manual forward pass written in the test
(torch for skorch nets, numpy for scikit-learn models).
"""

import copy

import numpy as np
import pytest
import torch
from skorch import NeuralNetClassifier
from sklearn.datasets import make_blobs
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from torch import nn

from skal.embeddings import gradient_embedding, penultimate_embedding, predict_proba
from skal.exceptions import EmbeddingError

# --------------------------------------------------------------------------
# helpers and small ordinary modules (not from skal.toy)
# --------------------------------------------------------------------------


def manual_hidden(net, X):
    """The toy module's hidden block, run by hand."""
    with torch.no_grad():
        return net.module_.hidden(torch.as_tensor(X)).numpy().astype(np.float64)


def manual_proba(net, X):
    """softmax(out(hidden(X))), whatever the module returns."""
    with torch.no_grad():
        logits = net.module_.out(net.module_.hidden(torch.as_tensor(X)))
        return torch.softmax(logits, dim=-1).numpy().astype(np.float64)


def reference_gradient_embedding(H, P, bias=True):
    """g_i = outer([h_i, 1], p_i - onehot(argmax p_i)).ravel(), one row at a time."""
    rows = []
    for h, p in zip(H, P):
        h = np.append(h, 1.0) if bias else np.asarray(h, dtype=np.float64)
        e = np.array(p, dtype=np.float64)
        k = int(np.argmax(p))
        e[k] -= 1.0
        rows.append(np.outer(h, e).ravel())
    return np.array(rows)


def hook_counts(module):
    return {
        name: (len(m._forward_hooks), len(m._forward_pre_hooks))
        for name, m in module.named_modules()
    }


def assert_no_hooks(module):
    for name, m in module.named_modules():
        assert not m._forward_hooks, name
        assert not m._forward_pre_hooks, name


class ReorderedModule(nn.Module):
    """Linear layers defined in the opposite order of the forward pass."""

    def __init__(self, n_features=4, n_classes=3, bias=True):
        super().__init__()
        self.head = nn.Linear(6, n_classes, bias=bias)  # defined first, called last
        self.body = nn.Linear(n_features, 6)  # defined last, called first

    def forward(self, X):
        return self.head(torch.tanh(self.body(X)))


class ConvModule(nn.Module):
    """No nn.Linear at all: a Conv1d and a bare weight matrix."""

    def __init__(self, n_features=8, n_classes=3):
        super().__init__()
        self.conv = nn.Conv1d(1, 2, kernel_size=3)
        self.weight = nn.Parameter(torch.randn(2 * (n_features - 2), n_classes))

    def forward(self, X):
        z = torch.relu(self.conv(X.unsqueeze(1))).flatten(1)
        return z @ self.weight


class SpareLinearModule(nn.Module):
    """Has a Linear layer that the forward pass never calls."""

    def __init__(self, n_features=4, n_classes=3):
        super().__init__()
        self.fc = nn.Linear(n_features, n_classes)
        self.spare = nn.Linear(n_features, n_classes)

    def forward(self, X):
        return self.fc(X)


class BatchDependentModule(nn.Module):
    """Last linear layer called depends on the batch size."""

    def __init__(self, n_features=4, n_classes=3):
        super().__init__()
        self.big = nn.Linear(n_features, n_classes)
        self.small = nn.Linear(n_features, n_classes)

    def forward(self, X):
        return self.big(X) if X.shape[0] > 5 else self.small(X)


def initialized_net(module, **kwargs):
    torch.manual_seed(0)
    return NeuralNetClassifier(
        module, criterion=nn.CrossEntropyLoss, train_split=None, verbose=0, **kwargs
    ).initialize()


@pytest.fixture(scope="module")
def small_X():
    return np.random.RandomState(0).randn(23, 4).astype(np.float32)


@pytest.fixture
def net_copy(fitted_net):
    """A private copy of the shared net, free to reconfigure."""
    return copy.deepcopy(fitted_net)


@pytest.fixture(scope="module")
def blobs64():
    X, y = make_blobs(n_samples=90, centers=3, n_features=4, random_state=1)
    return X[:60], y[:60], X[60:]


# --------------------------------------------------------------------------
# skorch nets
# --------------------------------------------------------------------------


def test_skorch_penultimate_is_hidden_block_output(fitted_net, digits):
    X = digits[2][:40]
    H = penultimate_embedding(fitted_net, X)
    assert H.dtype == np.float32  # the network's own precision, no float64 copy
    assert H.shape == (40, 16)
    np.testing.assert_allclose(H, manual_hidden(fitted_net, X), rtol=1e-6, atol=1e-7)
    assert_no_hooks(fitted_net.module_)


def test_skorch_predict_proba_both_conventions(fitted_net, digits):
    X = digits[2][:40]
    P = predict_proba(fitted_net, X)
    assert P.dtype == np.float64
    assert P.shape == (40, 10)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-5)
    assert (P >= 0).all()
    np.testing.assert_array_equal(P, fitted_net.predict_proba(X).astype(np.float64))
    # one softmax of the logits, never two, whichever the module returns
    np.testing.assert_allclose(P, manual_proba(fitted_net, X), rtol=1e-5, atol=1e-7)


def test_skorch_small_batches_same_as_one_batch(net_copy, digits):
    X = digits[2][:50]  # 50 = 7 * 7 + 1: a last batch of one
    net_copy.set_params(batch_size=1000)
    H_big = penultimate_embedding(net_copy, X)
    G_big = gradient_embedding(net_copy, X)
    net_copy.set_params(batch_size=7)
    H_small = penultimate_embedding(net_copy, X)
    G_small = gradient_embedding(net_copy, X)
    assert H_small.shape == H_big.shape == (50, 16)
    np.testing.assert_allclose(H_small, H_big, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(G_small, G_big, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(H_small, manual_hidden(net_copy, X), rtol=1e-5, atol=1e-6)


def test_skorch_named_layer(fitted_net, digits):
    X = digits[2][:30]
    # the input of the hidden block is X itself
    np.testing.assert_array_equal(
        penultimate_embedding(fitted_net, X, layer="hidden"), X.astype(np.float64)
    )
    np.testing.assert_array_equal(
        penultimate_embedding(fitted_net, X, layer="hidden.0"), X.astype(np.float64)
    )
    # naming the final linear layer is the default
    np.testing.assert_array_equal(
        penultimate_embedding(fitted_net, X, layer="out"), penultimate_embedding(fitted_net, X)
    )
    # the input of the ReLU is the pre-activation of the first linear layer
    with torch.no_grad():
        pre = fitted_net.module_.hidden[0](torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(
        penultimate_embedding(fitted_net, X, layer="hidden.1"), pre, rtol=1e-6, atol=1e-7
    )
    assert_no_hooks(fitted_net.module_)


def test_skorch_unknown_layer_lists_valid_names(fitted_net, digits):
    with pytest.raises(EmbeddingError, match="layer='nope' is not a submodule") as info:
        penultimate_embedding(fitted_net, digits[2][:5], layer="nope")
    message = str(info.value)
    for name in ["hidden", "hidden.0", "hidden.1", "hidden.2", "out"]:
        assert repr(name) in message
    assert_no_hooks(fitted_net.module_)


def test_last_called_linear_not_last_defined(small_X):
    net = initialized_net(ReorderedModule)
    H = penultimate_embedding(net, small_X)
    with torch.no_grad():
        expected = torch.tanh(net.module_.body(torch.as_tensor(small_X))).numpy()
    assert H.shape == (23, 6)  # the last *defined* Linear would give 4 columns
    np.testing.assert_allclose(H, expected, rtol=1e-6, atol=1e-7)
    G = gradient_embedding(net, small_X)
    P = net.predict_proba(small_X)
    np.testing.assert_allclose(
        G, reference_gradient_embedding(expected, P), rtol=1e-5, atol=1e-7
    )
    assert_no_hooks(net.module_)


def test_final_linear_without_bias_has_no_bias_column(small_X):
    net = initialized_net(ReorderedModule, module__bias=False)
    h, e = gradient_embedding(net, small_X, return_factors=True)
    assert h.shape == (23, 6)
    with torch.no_grad():
        expected = torch.tanh(net.module_.body(torch.as_tensor(small_X))).numpy()
    np.testing.assert_allclose(h, expected, rtol=1e-6, atol=1e-7)
    G = gradient_embedding(net, small_X)
    assert G.shape == (23, 18)
    np.testing.assert_allclose(
        G, reference_gradient_embedding(expected, net.predict_proba(small_X), bias=False),
        rtol=1e-5, atol=1e-7,
    )


def test_module_without_linear_asks_for_layer():
    X = np.random.RandomState(1).randn(9, 8).astype(np.float32)
    net = initialized_net(ConvModule)
    with pytest.raises(EmbeddingError, match=r"ConvModule has no torch\.nn\.Linear.*layer="):
        penultimate_embedding(net, X)
    # naming the conv layer works: its input is X with a channel axis
    np.testing.assert_array_equal(
        penultimate_embedding(net, X, layer="conv"), X.astype(np.float64)
    )
    # but the gradient embedding needs a linear layer
    with pytest.raises(EmbeddingError, match="is a Conv1d"):
        gradient_embedding(net, X, layer="conv")
    assert_no_hooks(net.module_)


def test_hooks_removed_when_layer_is_not_called(small_X):
    net = initialized_net(SpareLinearModule)
    before = hook_counts(net.module_)
    with pytest.raises(EmbeddingError, match="layer='spare' was not called"):
        penultimate_embedding(net, small_X, layer="spare")
    assert hook_counts(net.module_) == before
    assert_no_hooks(net.module_)
    # the net still works, and the default finds the Linear actually called
    np.testing.assert_array_equal(penultimate_embedding(net, small_X), small_X.astype(np.float64))


def test_hooks_removed_when_forward_fails(fitted_net):
    X_bad = np.zeros((5, 3), dtype=np.float32)  # the net expects 64 features
    expected = r"shaped \(3,\)\); its first layer is Linear\(in_features=64"
    with pytest.raises(ValueError, match=expected):
        penultimate_embedding(fitted_net, X_bad)
    assert_no_hooks(fitted_net.module_)
    with pytest.raises(ValueError, match=expected):
        gradient_embedding(fitted_net, X_bad)
    assert_no_hooks(fitted_net.module_)


def test_layer_changing_between_batches_is_an_error(small_X):
    net = initialized_net(BatchDependentModule, batch_size=10)  # batches of 10, 10, 3
    with pytest.raises(EmbeddingError, match="changed between batches"):
        penultimate_embedding(net, small_X)
    assert_no_hooks(net.module_)
    net.set_params(batch_size=100)  # one batch: fine
    np.testing.assert_array_equal(penultimate_embedding(net, small_X), small_X.astype(np.float64))


def test_skorch_gradient_embedding_matches_reference(fitted_net, digits):
    X = digits[2][:40]
    G = gradient_embedding(fitted_net, X)
    expected = reference_gradient_embedding(manual_hidden(fitted_net, X), manual_proba(fitted_net, X))
    assert G.shape == (40, 17 * 10)
    np.testing.assert_allclose(G, expected, rtol=1e-4, atol=1e-6)
    h, e = gradient_embedding(fitted_net, X, return_factors=True)
    assert h.shape == (40, 17) and e.shape == (40, 10)
    np.testing.assert_array_equal(h[:, -1], 1.0)
    np.testing.assert_allclose(np.einsum("ni,nc->nic", h, e).reshape(40, -1), G, rtol=1e-12)
    # e = p - onehot(argmax p): sums to zero, one negative entry at the argmax
    np.testing.assert_allclose(e.sum(axis=1), 0.0, atol=1e-6)
    P = fitted_net.predict_proba(X)
    assert (np.argmin(e, axis=1) == np.argmax(P, axis=1)).all()


def test_skorch_pipeline(fitted_net, digits):
    X_train, _, X_pool, _ = digits
    scaler = StandardScaler().fit(X_train)
    pipe = Pipeline([("scale", scaler), ("net", fitted_net)])
    X = X_pool[:20]
    Xs = ((X - X_train.mean(axis=0)) / np.where(X_train.std(axis=0) > 0, X_train.std(axis=0), 1))
    Xs = Xs.astype(np.float32)
    np.testing.assert_allclose(
        penultimate_embedding(pipe, X), manual_hidden(fitted_net, Xs), rtol=1e-4, atol=1e-4
    )


def test_skorch_inputs_not_mutated(fitted_net, digits):
    X = digits[2][:30].copy()
    X0 = X.copy()
    penultimate_embedding(fitted_net, X)
    gradient_embedding(fitted_net, X)
    gradient_embedding(fitted_net, X, return_factors=True)
    predict_proba(fitted_net, X)
    np.testing.assert_array_equal(X, X0)


# --------------------------------------------------------------------------
# scikit-learn estimators
# --------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_mlp_last_hidden_layer(blobs64, activation):
    X_train, y_train, X = blobs64
    mlp = MLPClassifier(
        hidden_layer_sizes=(8, 5), activation=activation, max_iter=300, random_state=0
    ).fit(X_train, y_train)
    act = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh}[activation]
    W, b = mlp.coefs_, mlp.intercepts_
    expected = act(act(X @ W[0] + b[0]) @ W[1] + b[1])
    H = penultimate_embedding(mlp, X)
    assert isinstance(H, np.ndarray)
    assert H.shape == (30, 5)
    np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-12)


def test_mlp_gradient_embedding_matches_reference(blobs64):
    X_train, y_train, X = blobs64
    mlp = MLPClassifier(hidden_layer_sizes=(7,), max_iter=300, random_state=0).fit(X_train, y_train)
    H = np.maximum(X @ mlp.coefs_[0] + mlp.intercepts_[0], 0.0)
    expected = reference_gradient_embedding(H, mlp.predict_proba(X))
    np.testing.assert_allclose(gradient_embedding(mlp, X), expected, rtol=1e-12, atol=1e-12)


def test_logistic_regression_embedding_is_features(blobs64):
    X_train, y_train, X = blobs64
    clf = LogisticRegression().fit(X_train, y_train)
    H = penultimate_embedding(clf, X)
    np.testing.assert_array_equal(H, X)
    H32 = penultimate_embedding(clf, X.astype(np.float32))
    assert H32.dtype == np.float64
    np.testing.assert_array_equal(H32, X.astype(np.float32).astype(np.float64))
    G = gradient_embedding(clf, X)
    assert G.shape == (30, 5 * 3)
    np.testing.assert_allclose(
        G, reference_gradient_embedding(X, clf.predict_proba(X)), rtol=1e-12, atol=1e-15
    )


def test_logistic_regression_without_intercept_has_no_bias_column(blobs64):
    X_train, y_train, X = blobs64
    clf = LogisticRegression(fit_intercept=False).fit(X_train, y_train)
    h, e = gradient_embedding(clf, X, return_factors=True)
    np.testing.assert_array_equal(h, X)
    np.testing.assert_allclose(
        gradient_embedding(clf, X),
        reference_gradient_embedding(X, clf.predict_proba(X), bias=False),
        rtol=1e-12, atol=1e-15,
    )


def test_pipeline_embedding_is_scaled_features(blobs64):
    X_train, y_train, X = blobs64
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train)
    expected = (X - X_train.mean(axis=0)) / X_train.std(axis=0)
    np.testing.assert_allclose(penultimate_embedding(pipe, X), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        gradient_embedding(pipe, X),
        reference_gradient_embedding(expected, pipe.predict_proba(X)),
        rtol=1e-10, atol=1e-12,
    )


def test_sklearn_predict_proba(blobs64):
    X_train, y_train, X = blobs64
    clf = LogisticRegression().fit(X_train, y_train)
    P = predict_proba(clf, X.astype(np.float32))
    assert P.dtype == np.float64
    np.testing.assert_allclose(P, clf.predict_proba(X.astype(np.float32)))
    rf = RandomForestClassifier(n_estimators=5, random_state=0).fit(X_train, y_train)
    np.testing.assert_array_equal(predict_proba(rf, X), rf.predict_proba(X))


def test_random_forest_has_no_embedding(blobs64):
    X_train, y_train, X = blobs64
    rf = RandomForestClassifier(n_estimators=5, random_state=0).fit(X_train, y_train)
    with pytest.raises(EmbeddingError, match="RandomForestClassifier provides no embedding"):
        penultimate_embedding(rf, X)
    with pytest.raises(EmbeddingError, match="RandomForestClassifier"):
        gradient_embedding(rf, X)


def test_no_predict_proba_error(blobs64):
    X_train, y_train, X = blobs64
    svc = LinearSVC().fit(X_train, y_train)
    with pytest.raises(EmbeddingError, match=r"LinearSVC has no\s+predict_proba.*CalibratedClassifierCV"):
        predict_proba(svc, X)
    with pytest.raises(EmbeddingError, match="needs class probabilities"):
        predict_proba(svc, X, purpose="my strategy")
    with pytest.raises(EmbeddingError, match="CalibratedClassifierCV"):
        gradient_embedding(svc, X)
    # the penultimate embedding needs no probabilities
    np.testing.assert_array_equal(penultimate_embedding(svc, X), X)


def test_layer_rejected_for_sklearn(blobs64):
    X_train, y_train, X = blobs64
    clf = LogisticRegression().fit(X_train, y_train)
    with pytest.raises(EmbeddingError, match="applies to skorch nets only"):
        penultimate_embedding(clf, X, layer="out")


@pytest.mark.parametrize("kind", ["logreg", "pipeline", "mlp"])
def test_sklearn_inputs_not_mutated(blobs64, kind):
    X_train, y_train, X = blobs64
    est = {
        "logreg": LogisticRegression(),
        "pipeline": make_pipeline(StandardScaler(), LogisticRegression()),
        "mlp": MLPClassifier(hidden_layer_sizes=(6,), max_iter=200, random_state=0),
    }[kind].fit(X_train, y_train)
    X = X.copy()
    X0 = X.copy()
    penultimate_embedding(est, X)
    gradient_embedding(est, X)
    gradient_embedding(est, X, return_factors=True)
    predict_proba(est, X)
    np.testing.assert_array_equal(X, X0)
