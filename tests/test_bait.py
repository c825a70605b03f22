"""BAIT against a slow dense reference written from the paper (Ash et al., 2021)."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError

from skal import BAIT
from skal.exceptions import EmbeddingError
from skal.model_selection import resolve_strategy
from skal.toy import make_skorch_classifier


def fisher_embedding(h, p):
    """Dense ``V_x``: row ``c`` is ``sqrt(p_c) · h ⊗ (p − e_c)``."""
    C = len(p)
    return np.array([np.sqrt(p[c]) * np.outer(h, p - np.eye(C)[c]).ravel()
                     for c in range(C)])


def reference_bait(H, P, H_lab, P_lab, n_candidates, n_forward, n_components, alpha,
                   sigma_over="pool"):
    """Forward greedy, then backward elimination, with explicit inverses.

    ``Σ`` is the mean ``V_xᵀ V_x`` over the pool, or with ``sigma_over="all"``
    over the pool and the labeled set together (the authors' code)."""
    H = np.hstack([H, np.ones((len(H), 1))])
    H_lab = np.hstack([H_lab, np.ones((len(H_lab), 1))])
    score = [h @ h * (1 - p @ p) for h, p in zip(H, P)]
    if n_components is not None and n_components < H.shape[1]:
        vals, vecs = np.linalg.eigh(H.T @ H)
        U = vecs[:, np.argsort(-vals)[:n_components]]
        G, G_lab = H @ U, H_lab @ U
    else:
        G, G_lab = H, H_lab
    V = [fisher_embedding(g, p) for g, p in zip(G, P)]
    V_lab = [fisher_embedding(g, p) for g, p in zip(G_lab, P_lab)]
    over = V + V_lab if sigma_over == "all" else V
    Sigma = np.mean([v.T @ v for v in over], axis=0)
    n_lab = max(len(G_lab), 1)
    base = alpha * np.eye(Sigma.shape[0])
    for v in V_lab:
        base += v.T @ v / n_lab

    def objective(S):
        info = base + sum((V[i].T @ V[i] for i in S), np.zeros_like(base)) / n_lab
        return np.trace(np.linalg.inv(info) @ Sigma)

    order = sorted(range(len(H)), key=lambda i: (-score[i], i))
    candidates = sorted(order[:n_candidates])
    chosen = []
    for _ in range(min(n_forward, len(candidates))):
        left = [i for i in candidates if i not in chosen]
        values = [objective(chosen + [i]) for i in left]
        chosen.append(left[int(np.argmin(values))])
    removed = []
    while chosen:
        values = [objective([j for j in chosen if j != i]) for i in chosen]
        removed.append(chosen.pop(int(np.argmin(values))))
    block = removed[::-1]
    return block + [i for i in order if i not in block]


@pytest.fixture(scope="module")
def setting():
    rng = np.random.RandomState(0)
    X = rng.randn(90, 4)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.8)
    clf = LogisticRegression(C=0.5).fit(X[:40], y[:40])
    return clf, X[:40], y[:40], X[40:]


@pytest.mark.parametrize(
    "n_candidates, n_forward, n_components, alpha",
    [(50, 8, None, 1.0), (20, 6, None, 0.1), (30, 10, 3, 1.0), (10, 30, None, 2.0)],
)
def test_rank_matches_reference(setting, n_candidates, n_forward, n_components, alpha):
    clf, X_lab, y_lab, X_pool = setting
    strategy = BAIT(clf, prefit=True, n_candidates=n_candidates, n_forward=n_forward,
                    n_components=n_components, alpha=alpha).fit(X_lab, y_lab)
    expected = reference_bait(X_pool, clf.predict_proba(X_pool), X_lab,
                              clf.predict_proba(X_lab), n_candidates, n_forward,
                              n_components, alpha)
    assert strategy.rank(X_pool).tolist() == expected
    assert strategy.query(X_pool, 3).tolist() == expected[:3]


@pytest.mark.parametrize(
    "n_candidates, n_forward, n_components, alpha",
    [(50, 8, None, 1.0), (20, 6, None, 0.1), (30, 10, 3, 1.0), (10, 30, None, 2.0)],
)
def test_sigma_over_all_matches_reference(setting, n_candidates, n_forward,
                                          n_components, alpha):
    clf, X_lab, y_lab, X_pool = setting
    strategy = BAIT(clf, prefit=True, n_candidates=n_candidates, n_forward=n_forward,
                    n_components=n_components, alpha=alpha, sigma_over="all")
    strategy.fit(X_lab, y_lab)
    expected = reference_bait(X_pool, clf.predict_proba(X_pool), X_lab,
                              clf.predict_proba(X_lab), n_candidates, n_forward,
                              n_components, alpha, sigma_over="all")
    assert strategy.rank(X_pool).tolist() == expected
    assert strategy.query(X_pool, 3).tolist() == expected[:3]


def test_sigma_over_changes_the_picks_and_pool_is_the_default():
    # a labeled set as large as the pool and unlike it (one corner of the
    # feature space) weighs in Σ: the picks change
    rng = np.random.RandomState(1)
    X = rng.randn(120, 3)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    clf = LogisticRegression().fit(X, y)
    X_lab, y_lab = X[:60][X[:60, 2] > 0], y[:60][X[:60, 2] > 0]
    X_pool = X[60:]
    kwargs = dict(prefit=True, n_candidates=None, n_forward=12, n_components=None)
    pool = BAIT(clf, **kwargs).fit(X_lab, y_lab).rank(X_pool).tolist()
    assert BAIT(clf, sigma_over="pool", **kwargs).fit(X_lab, y_lab).rank(
        X_pool).tolist() == pool
    every = BAIT(clf, sigma_over="all", **kwargs).fit(X_lab, y_lab).rank(X_pool).tolist()
    P, P_lab = clf.predict_proba(X_pool), clf.predict_proba(X_lab)
    assert pool == reference_bait(X_pool, P, X_lab, P_lab, None, 12, None, 1.0)
    assert every == reference_bait(X_pool, P, X_lab, P_lab, None, 12, None, 1.0, "all")
    assert every[:12] != pool[:12]
    # without a labeled set there is nothing else to average over
    no_lab = BAIT(clf, **kwargs).rank(X_pool)
    np.testing.assert_array_equal(BAIT(clf, sigma_over="all", **kwargs).rank(X_pool),
                                  no_lab)


# BAIT(clf, prefit=True, n_candidates=30, n_forward=10, n_components=3)
# .fit(X_lab, y_lab).rank(X_pool)[:15] in `setting`, recorded with the code
# before sigma_over existed
_RANK_BEFORE = [43, 29, 27, 1, 33, 5, 19, 36, 6, 3, 14, 9, 35, 0, 7]


def test_default_picks_are_the_ones_before_sigma_over(setting):
    clf, X_lab, y_lab, X_pool = setting
    strategy = BAIT(clf, prefit=True, n_candidates=30, n_forward=10, n_components=3)
    ranking = strategy.fit(X_lab, y_lab).rank(X_pool).tolist()
    assert ranking[:15] == _RANK_BEFORE


def test_without_labeled_set(setting):
    clf, _, _, X_pool = setting
    strategy = BAIT(clf, prefit=True, n_candidates=25, n_forward=6)
    empty = np.empty((0, X_pool.shape[1]))
    expected = reference_bait(X_pool, clf.predict_proba(X_pool), empty,
                              np.empty((0, 3)), 25, 6, 64, 1.0)
    assert strategy.rank(X_pool).tolist() == expected


def test_transform_is_the_fisher_trace(setting):
    clf, X_lab, y_lab, X_pool = setting
    P = clf.predict_proba(X_pool)
    h2 = (X_pool ** 2).sum(axis=1) + 1.0
    expected = h2 * (1 - (P ** 2).sum(axis=1))
    out = BAIT(clf, prefit=True).transform(X_pool)
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-10)


def test_lazy_rank_and_add(setting):
    clf, X_lab, y_lab, X_pool = setting
    strategy = BAIT(clf, prefit=True, n_candidates=20, n_forward=6).fit(X_lab, y_lab)
    assert list(strategy.lazy_rank(X_pool)) == strategy.rank(X_pool).tolist()
    # added before the first pick: high-trace samples are greedy candidates, as if
    # they had been in the pool (Σ stays the initial pool's)
    ranking = strategy.lazy_rank(X_pool[:30])
    ranking.add(X_pool[30:])
    order = ranking.take(len(X_pool))
    assert sorted(order.tolist()) == list(range(len(X_pool)))
    # added after: by Fisher trace after the block
    ranking = strategy.lazy_rank(X_pool)
    first = ranking.take(2)
    new = ranking.add(X_pool[:3] * 5)
    rest = ranking.take(100)
    assert first.tolist() == strategy.rank(X_pool)[:2].tolist()
    assert rest[:4].tolist() == strategy.rank(X_pool)[2:6].tolist()
    assert set(new.tolist()) <= set(rest.tolist())


def test_skorch_net_and_projection():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 6).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)
    net = make_skorch_classifier(6, 3, hidden_units=12, max_epochs=3).fit(X[:100], y[:100])
    strategy = BAIT(net, prefit=True, n_candidates=40, n_forward=10, n_components=4)
    strategy.fit(X[:100], y[:100])
    ranking = strategy.rank(X[100:])
    assert sorted(ranking.tolist()) == list(range(200))
    assert strategy.query(X[100:], 5).tolist() == ranking[:5].tolist()


def test_alias_and_errors(setting):
    clf, X_lab, y_lab, X_pool = setting
    assert isinstance(resolve_strategy("bait"), BAIT)
    with pytest.raises(InvalidParameterError, match="alpha"):
        BAIT(clf, prefit=True, alpha=0.0).rank(X_pool)
    with pytest.raises(InvalidParameterError, match="n_candidates"):
        BAIT(clf, prefit=True, n_candidates=0).rank(X_pool)
    with pytest.raises(InvalidParameterError, match="sigma_over"):
        BAIT(clf, prefit=True, sigma_over="labeled").rank(X_pool)
    svc = LinearSVC().fit(X_lab, y_lab)
    with pytest.raises(EmbeddingError, match="predict_proba"):
        BAIT(svc, prefit=True).rank(X_pool)
