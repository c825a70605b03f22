"""BADGE against a reference written the slow, obvious way.

The reference builds the dense gradient embedding one sample at a time
(``np.outer([h, 1], p - onehot(argmax p))``) and runs a loop-based k-means++
that consumes the random generator exactly as documented.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

import skal.embeddings
import skal.strategies._badge
from skal import BADGE
from skal.exceptions import EmbeddingError
from skal.toy import make_skorch_classifier
from tests._reference import reference_kmeans_plusplus

# --------------------------------------------------------------------------
# slow references
# --------------------------------------------------------------------------


def reference_gradient_embedding(H, P):
    """Row i: outer([h_i, 1], p_i - onehot(argmax p_i)).ravel()."""
    rows = []
    for h, p in zip(H, P):
        h1 = np.append(np.asarray(h, dtype=np.float64), 1.0)
        e = np.array(p, dtype=np.float64)
        e[int(np.argmax(p))] -= 1.0
        rows.append(np.outer(h1, e).ravel())
    return np.array(rows)


def skorch_hidden(net, X):
    with torch.no_grad():
        return net.module_.hidden(torch.as_tensor(X)).numpy().astype(np.float64)


def mlp_hidden(mlp, X):
    H = np.asarray(X, dtype=np.float64)
    for W, b in zip(mlp.coefs_[:-1], mlp.intercepts_[:-1]):
        H = np.maximum(H @ W + b, 0.0)
    return H


# --------------------------------------------------------------------------
# fixtures: (estimator, pool, hand-computed h, probabilities)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted_mlp(blobs):
    X, y, _ = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier(hidden_layer_sizes=(6,), max_iter=200, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def fitted_pipeline(blobs):
    X, y, _ = blobs
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)


@pytest.fixture(params=["logreg", "pipeline", "mlp"])
def sklearn_case(request, blobs, fitted_logreg, fitted_mlp, fitted_pipeline):
    X_pool = blobs[2][:60]
    if request.param == "logreg":
        est, H = fitted_logreg, X_pool.astype(np.float64)
    elif request.param == "pipeline":
        est = fitted_pipeline
        H = fitted_pipeline[0].transform(X_pool).astype(np.float64)
    else:
        est, H = fitted_mlp, mlp_hidden(fitted_mlp, X_pool)
    return est, X_pool, H, est.predict_proba(X_pool)


@pytest.fixture
def net_case(fitted_net, digits):
    X_pool = digits[2][:100]
    return fitted_net, X_pool, skorch_hidden(fitted_net, X_pool), fitted_net.predict_proba(X_pool)


# --------------------------------------------------------------------------
# against the reference
# --------------------------------------------------------------------------


@pytest.mark.parametrize("init", ["largest_norm", "random"])
def test_rank_matches_reference_sklearn(sklearn_case, init):
    est, X, H, P = sklearn_case
    G = reference_gradient_embedding(H, P)
    for seed in (0, 1):
        got = BADGE(est, prefit=True, init=init, random_state=seed, method="scan").rank(X)
        assert got.tolist() == reference_kmeans_plusplus(G, init, seed)


@pytest.mark.parametrize("init", ["largest_norm", "random"])
def test_rank_matches_reference_skorch(net_case, init):
    net, X, H, P = net_case
    G = reference_gradient_embedding(H, P)
    got = BADGE(net, prefit=True, init=init, random_state=3, method="scan").rank(X)
    assert got.tolist() == reference_kmeans_plusplus(G, init, 3)


@pytest.mark.parametrize("init", ["largest_norm", "random"])
def test_duplicates_in_pool_match_reference(blobs, fitted_logreg, init):
    # Each of 8 distinct samples appears 3 times: the distinct ones come
    # first, then the remaining copies are drawn uniformly, as in the reference.
    X = np.tile(blobs[2][:8], (3, 1))
    G = reference_gradient_embedding(X.astype(np.float64), fitted_logreg.predict_proba(X))
    for seed in range(4):
        got = BADGE(fitted_logreg, prefit=True, init=init, random_state=seed, method="scan").rank(X)
        assert sorted((got[:8] % 8).tolist()) == list(range(8))
        assert got.tolist() == reference_kmeans_plusplus(G, init, seed)


def test_transform_is_dense_gradient_embedding_sklearn(sklearn_case):
    est, X, H, P = sklearn_case
    G = BADGE(est, prefit=True).transform(X)
    assert G.shape == (len(X), (H.shape[1] + 1) * P.shape[1])
    np.testing.assert_allclose(G, reference_gradient_embedding(H, P), rtol=1e-10, atol=1e-12)


def test_transform_is_dense_gradient_embedding_skorch(net_case):
    net, X, H, P = net_case
    G = BADGE(net, prefit=True).transform(X)
    assert G.shape == (len(X), 17 * 10)
    np.testing.assert_allclose(G, reference_gradient_embedding(H, P), rtol=1e-4, atol=1e-6)


def test_first_pick_is_largest_gradient_norm(net_case, blobs, fitted_logreg):
    X_lr = blobs[2]
    lr_case = (fitted_logreg, X_lr, X_lr.astype(np.float64), fitted_logreg.predict_proba(X_lr))
    cases = [net_case, lr_case]
    for est, X, H, P in cases:
        norms = []
        for h, p in zip(H, P):
            e = np.array(p, dtype=np.float64)
            e[np.argmax(p)] -= 1.0
            norms.append(np.linalg.norm(np.append(h, 1.0)) * np.linalg.norm(e))
        for seed in range(3):
            assert BADGE(est, prefit=True, random_state=seed).query(X, 1)[0] == int(np.argmax(norms))


# --------------------------------------------------------------------------
# query / rank / seeds
# --------------------------------------------------------------------------


@pytest.mark.parametrize("init", ["largest_norm", "random"])
def test_query_is_prefix_of_rank(net_case, init):
    net, X, _, _ = net_case
    strategy = BADGE(net, prefit=True, init=init, random_state=7)
    full = strategy.rank(X)
    assert sorted(full.tolist()) == list(range(len(X)))
    for k in (1, 2, 10, 37, len(X)):
        picks = strategy.query(X, k)
        assert picks.dtype == np.intp
        assert picks.tolist() == full[:k].tolist()


def test_seeds(net_case, blobs, fitted_logreg):
    net, X, _, _ = net_case
    a = BADGE(net, prefit=True, random_state=0).query(X, 10)
    assert a.tolist() == BADGE(net, prefit=True, random_state=0).query(X, 10).tolist()
    assert a.tolist() != BADGE(net, prefit=True, random_state=1).query(X, 10).tolist()
    X_lr = blobs[2]
    r0 = BADGE(fitted_logreg, prefit=True, random_state=0).rank(X_lr)
    assert r0.tolist() == BADGE(fitted_logreg, prefit=True, random_state=0).rank(X_lr).tolist()
    assert r0.tolist() != BADGE(fitted_logreg, prefit=True, random_state=1).rank(X_lr).tolist()
    # a RandomState instance is consumed: two calls give different rankings
    rng = np.random.RandomState(0)
    s = BADGE(fitted_logreg, prefit=True, random_state=rng)
    assert s.rank(X_lr).tolist() == r0.tolist()
    assert s.rank(X_lr).tolist() != r0.tolist()


def test_rank_does_not_mutate_pool(blobs, fitted_logreg):
    X = blobs[2].astype(np.float64)
    X0 = X.copy()
    s = BADGE(fitted_logreg, prefit=True, random_state=0)
    s.rank(X)
    s.transform(X)
    np.testing.assert_array_equal(X, X0)


# --------------------------------------------------------------------------
# fitting a clone
# --------------------------------------------------------------------------


def test_fit_clones_logistic_regression(blobs):
    X, y, X_pool = blobs
    est = LogisticRegression()
    strategy = BADGE(est, random_state=0).fit(X, y)
    assert strategy.estimator_ is not est
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    check_is_fitted(strategy.estimator_)
    reference = BADGE(clone(est).fit(X, y), prefit=True, random_state=0)
    assert strategy.rank(X_pool).tolist() == reference.rank(X_pool).tolist()


def test_fit_clones_skorch_net(blobs):
    X, y, X_pool = blobs
    net = make_skorch_classifier(2, 3, hidden_units=8, max_epochs=3)
    strategy = BADGE(net, random_state=0, method="scan").fit(X, y)
    assert strategy.estimator_ is not net
    assert not getattr(net, "initialized_", False)
    assert strategy.estimator_.initialized_
    H = skorch_hidden(strategy.estimator_, X_pool)
    P = strategy.estimator_.predict_proba(X_pool)
    G = reference_gradient_embedding(H, P)
    assert strategy.rank(X_pool).tolist() == reference_kmeans_plusplus(G, "largest_norm", 0)


def test_prefit_uses_estimator_itself(blobs, fitted_logreg):
    X, y, _ = blobs
    strategy = BADGE(fitted_logreg, prefit=True).fit(X, y)
    assert strategy.estimator_ is fitted_logreg


# --------------------------------------------------------------------------
# the n x H x C array is never built
# --------------------------------------------------------------------------


def test_query_and_rank_do_not_build_dense_embedding(monkeypatch, net_case):
    net, X, _, _ = net_case
    strategy = BADGE(net, prefit=True, random_state=0)
    expected_rank, expected_query = strategy.rank(X), strategy.query(X, 5)

    def boom(*args, **kwargs):
        raise AssertionError("the dense gradient embedding was built")

    monkeypatch.setattr(skal.embeddings, "gradient_embedding", boom)
    monkeypatch.setattr(skal.strategies._badge, "gradient_embedding", boom)
    assert strategy.query(X, 5).tolist() == expected_query.tolist()
    assert strategy.rank(X).tolist() == expected_rank.tolist()
    with pytest.raises(AssertionError, match="dense gradient embedding"):
        strategy.transform(X)  # the patch is in effect


def test_query_memory_is_far_below_dense_embedding():
    # n x (H + 1) x C float64 = 2000 * 81 * 40 * 8 bytes = 52 MB
    rng = np.random.RandomState(0)
    n, H, C = 2000, 80, 40
    X_train = rng.randn(200, H)
    y_train = np.arange(200) % C
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LogisticRegression(max_iter=5).fit(X_train, y_train)
    X = rng.randn(n, H)
    dense_bytes = n * (H + 1) * C * 8
    strategy = BADGE(clf, prefit=True, random_state=0)
    tracemalloc.start()
    try:
        picks = strategy.query(X, 5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(set(picks.tolist())) == 5
    assert peak < dense_bytes / 5, (peak, dense_bytes)


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------


def test_random_forest_is_rejected(blobs):
    X, y, X_pool = blobs
    rf = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    with pytest.raises(EmbeddingError, match="BADGE needs an embedding.*RandomForestClassifier"):
        BADGE(rf, prefit=True).query(X_pool, 3)
    with pytest.raises(EmbeddingError, match="RandomForestClassifier provides none"):
        BADGE(RandomForestClassifier()).fit(X, y)


def test_no_predict_proba_is_rejected(blobs):
    X, y, X_pool = blobs
    with pytest.raises(EmbeddingError, match="BADGE needs class probabilities.*LinearSVC"):
        BADGE(LinearSVC()).fit(X, y)


def test_non_linear_layer_is_rejected(fitted_net, digits):
    X = digits[2][:20]
    with pytest.raises(EmbeddingError, match="layer='hidden.1' is a ReLU"):
        BADGE(fitted_net, prefit=True, layer="hidden.1").query(X, 3)
    with pytest.raises(EmbeddingError, match="not a submodule"):
        BADGE(fitted_net, prefit=True, layer="nope").query(X, 3)
    # naming the final linear layer is the same as the default
    assert BADGE(fitted_net, prefit=True, layer="out", random_state=0).rank(X).tolist() == (
        BADGE(fitted_net, prefit=True, random_state=0).rank(X).tolist()
    )


def test_invalid_init(blobs, fitted_logreg):
    with pytest.raises(ValueError, match="init"):
        BADGE(fitted_logreg, init="kmeans").fit(blobs[0], blobs[1])


def test_batch_size_larger_than_pool(blobs, fitted_logreg):
    X_pool = blobs[2][:4]
    with pytest.raises(ValueError, match="batch_size=5 is larger than the pool"):
        BADGE(fitted_logreg, prefit=True).query(X_pool, 5)
