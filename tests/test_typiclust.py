"""TypiClust: exact picks against a slow reference written from the paper."""

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import InvalidParameterError
from torch.utils.data import TensorDataset

from skal import ActiveLearner, TypiClust
from skal.strategies._typiclust import _TypiClustRanking

# --------------------------------------------------------------------------
# the reference: plain loops, dense distances
# --------------------------------------------------------------------------


def reference_typicality(Z, K=20):
    """The paper's typicality: 1 / mean Euclidean distance to the K nearest others,
    K = min(K, m // 2) as in the paper's code; 0 for a lone sample."""
    m = len(Z)
    k = min(K, m // 2)
    out = np.zeros(m)
    if k == 0:
        return out
    for i in range(m):
        d = sorted(np.sqrt(((Z[i] - Z[j]) ** 2).sum()) for j in range(m) if j != i)
        out[i] = 1.0 / np.mean(d[:k])
    return out


def reference_typiclust(Z_pool, pool_labels, labeled_labels, K=20, min_size=6):
    """Full ranking: clusters by (small last, fewest labeled, largest, label),
    round-robin; in each, decreasing typicality among its pool samples."""
    pool_labels = list(pool_labels)
    labeled_labels = list(labeled_labels)
    clusters = sorted(set(pool_labels) | set(labeled_labels))
    size = {c: pool_labels.count(c) + labeled_labels.count(c) for c in clusters}
    existing = {c: labeled_labels.count(c) for c in clusters}
    order = sorted(clusters, key=lambda c: (size[c] < min_size, existing[c], -size[c], c))
    queues = {}
    for c in clusters:
        members = [i for i in range(len(Z_pool)) if pool_labels[i] == c]
        typ = reference_typicality(np.asarray(Z_pool[members], dtype=np.float64), K)
        queues[c] = [members[j] for j in sorted(range(len(members)),
                                                 key=lambda j: (-typ[j], members[j]))]
    out = []
    for tier in ([c for c in order if size[c] >= min_size],
                 [c for c in order if size[c] < min_size]):
        while any(queues[c] for c in tier):
            for c in tier:
                if queues[c]:
                    out.append(queues[c].pop(0))
    return out


def _centers(Z, labels, n_clusters):
    return np.array([Z[labels == c].mean(0) if np.any(labels == c) else Z[0]
                     for c in range(n_clusters)])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_labeled", [0, 7])
@pytest.mark.parametrize("K", [20, 3])
def test_kernel_matches_reference_on_random_clusterings(seed, n_labeled, K):
    rng = np.random.RandomState(seed)
    n_pool, n_clusters = 60, 6
    Z = rng.randn(n_pool + n_labeled, 3).astype(np.float32)
    # uneven sizes, one cluster small, one with no pool sample at all
    labels = rng.choice(5, size=len(Z), p=[0.4, 0.3, 0.15, 0.1, 0.05])
    if n_labeled:
        labels[n_pool:] = rng.choice([1, 2, 5], size=n_labeled)
    ranking = _TypiClustRanking(Z[:n_pool], labels, _centers(Z, labels, n_clusters),
                                n_neighbors=K, min_cluster_size=6)
    got = ranking.take(n_pool).tolist()
    assert got == reference_typiclust(Z[:n_pool], labels[:n_pool], labels[n_pool:], K)


# --------------------------------------------------------------------------
# end to end: blobs that any k-means separates
# --------------------------------------------------------------------------

SIZES = (40, 30, 20, 12, 8)


def _blobs(seed=0):
    rng = np.random.RandomState(seed)
    centers = np.array([[0, 0], [30, 0], [0, 30], [30, 30], [60, 60]], dtype=float)
    X = np.vstack([rng.randn(s, 2) + c for s, c in zip(SIZES, centers)])
    blob = np.repeat(np.arange(len(SIZES)), SIZES)
    return X.astype(np.float32), blob


def test_no_labels_one_most_typical_sample_per_cluster_largest_first():
    X, blob = _blobs()
    strategy = TypiClust(n_new_clusters=5, random_state=0).fit(X)
    expected = reference_typiclust(X, blob, [])
    np.testing.assert_array_equal(strategy.rank(X), expected)
    first = strategy.query(X, batch_size=5)
    assert blob[first].tolist() == [0, 1, 2, 3, 4]  # largest cluster first
    typ = reference_typicality(X[blob == 0].astype(np.float64))
    assert first[0] == np.flatnonzero(blob == 0)[np.argmax(typ)]


def test_labeled_set_covers_its_clusters():
    X, blob = _blobs()
    # labeled: two samples near blob 0, one near blob 2 (clustered with them)
    X_lab = np.array([[0.5, 0.5], [-0.5, 0.2], [0.2, 30.1]], dtype=np.float32)
    y_lab = np.array([0, 1, 0])
    strategy = TypiClust(n_new_clusters=2, random_state=0).fit(X_lab, y_lab)
    expected = reference_typiclust(X, blob, [0, 0, 2])
    np.testing.assert_array_equal(strategy.rank(X), expected)
    # the uncovered clusters come first, largest first: 1, 3, then 4 and the rest
    assert blob[strategy.query(X, 3)].tolist() == [1, 3, 4]


def test_small_clusters_come_after_the_others():
    X, blob = _blobs()
    ranking = TypiClust(n_new_clusters=5, min_cluster_size=10,
                        random_state=0).fit(X).rank(X)
    # blob 4 (8 samples) is smaller than 10: its samples come last
    assert set(blob[ranking[-8:]]) == {4}
    np.testing.assert_array_equal(ranking, reference_typiclust(X, blob, [], min_size=10))


def test_number_of_clusters_is_labeled_plus_new_capped():
    X, _ = _blobs()
    strategy = TypiClust(LogisticRegression(), embedding=None, n_new_clusters=4,
                         max_clusters=6, random_state=0)
    X_lab, y_lab = X[:5], np.array([0, 1, 0, 1, 0])
    fitted = strategy.fit(X_lab, y_lab)
    ranking = fitted.lazy_rank(X)._ranking
    assert len(ranking._centers) == 6  # min(5 + 4, 6)
    fitted = strategy.set_params(max_clusters=None).fit(X_lab, y_lab)
    assert len(fitted.lazy_rank(X)._ranking._centers) == 9


def test_same_seed_same_picks_and_query_is_a_prefix():
    rng = np.random.RandomState(1)
    X = rng.randn(200, 5).astype(np.float32)
    a = TypiClust(n_new_clusters=10, random_state=3).fit(X)
    b = TypiClust(n_new_clusters=10, random_state=3).fit(X)
    np.testing.assert_array_equal(a.rank(X), b.rank(X))
    np.testing.assert_array_equal(a.query(X, 17), a.rank(X)[:17])


# --------------------------------------------------------------------------
# representations
# --------------------------------------------------------------------------


def test_embedding_options_agree_where_they_must():
    X, _ = _blobs()
    pca = PCA(n_components=2).fit(X)
    by_pca = TypiClust(embedding=pca, n_new_clusters=5, random_state=0).fit(X).rank(X)
    on_transformed = TypiClust(n_new_clusters=5, random_state=0).fit(
        pca.transform(X)).rank(pca.transform(X).astype(np.float32))
    np.testing.assert_array_equal(by_pca, on_transformed)
    # a linear model's penultimate embedding is its input: the raw features
    clf = LogisticRegression().fit(X, np.arange(len(X)) % 2)
    by_estimator = TypiClust(clf, prefit=True, n_new_clusters=5, random_state=0).rank(X)
    by_features = TypiClust(embedding=None, n_new_clusters=5, random_state=0).fit(X).rank(X)
    np.testing.assert_array_equal(by_estimator, by_features)


def test_auto_uses_the_estimator_only_when_there_is_one():
    assert TypiClust()._needs_estimator is False
    assert TypiClust(LogisticRegression())._needs_estimator is True
    assert TypiClust(LogisticRegression(), embedding=None)._needs_estimator is False
    assert TypiClust(embedding="estimator")._needs_estimator is True


def test_initial_strategy_of_active_learner_needs_no_labels():
    X, blob = _blobs()
    y = blob % 2
    learner = ActiveLearner(
        LogisticRegression(), TypiClust(random_state=0), batch_size=5,
        initial_size=5, initial_strategy=TypiClust(n_new_clusters=5, random_state=0),
        budget=15, random_state=0,
    ).fit(X, y)
    expected = TypiClust(n_new_clusters=5, random_state=0).fit(X).query(X, 5)
    np.testing.assert_array_equal(learner.labeled_indices_[:5], expected)
    assert len(learner.labeled_indices_) == 15


# --------------------------------------------------------------------------
# lazy_rank and add
# --------------------------------------------------------------------------


def test_added_sample_joins_its_nearest_cluster_by_typicality():
    X, blob = _blobs()
    strategy = TypiClust(n_new_clusters=5, random_state=0).fit(X)
    expected = strategy.rank(X).tolist()
    ranking = strategy.lazy_rank(X)
    first = ranking.take(5).tolist()
    # a copy of blob 1's center: more typical than any remaining sample of blob 1
    new = X[blob == 1].mean(0, keepdims=True)
    assert ranking.add(new).tolist() == [len(X)]
    nxt = ranking.take(5).tolist()
    assert first == expected[:5]
    # round two: blob 0 first, then the new sample in blob 1's place
    assert nxt[1] == len(X)
    assert nxt[0] == expected[5] and nxt[2:] == expected[7:10]


def test_add_checks_the_representation_width():
    X, _ = _blobs()
    ranking = TypiClust(n_new_clusters=5, random_state=0).fit(X).lazy_rank(X)
    with pytest.raises(ValueError, match="has 3 features, but TypiClust is expecting 2"):
        ranking.add(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="representations with 2 columns"):
        ranking._ranking.add(np.zeros((2, 3), dtype=np.float32))


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize("params, match", [
    ({"n_new_clusters": 0}, "n_new_clusters"),
    ({"max_clusters": 0}, "max_clusters"),
    ({"n_neighbors": 0}, "n_neighbors"),
    ({"embedding": "pixels"}, "embedding"),
])
def test_invalid_parameters_are_named(params, match):
    X, _ = _blobs()
    with pytest.raises(InvalidParameterError, match=match):
        TypiClust(**params).fit(X)


def test_unfitted_transformer_is_reported():
    X, _ = _blobs()
    with pytest.raises(Exception, match="PCA is not fitted"):
        TypiClust(embedding=PCA(2), random_state=0).fit(X).query(X, 2)


def test_raw_features_refuse_datasets_clearly():
    X, _ = _blobs()
    pool = TensorDataset(torch.as_tensor(X), torch.zeros(len(X)))
    with pytest.raises(ValueError, match="cannot take a pool of type TensorDataset: it "
                       "compares the samples' features themselves"):
        TypiClust(random_state=0).fit(X).query(pool, 2)


def test_estimator_without_embedding_is_refused():
    from sklearn.ensemble import RandomForestClassifier

    X, blob = _blobs()
    with pytest.raises(Exception, match="TypiClust"):
        TypiClust(RandomForestClassifier(n_estimators=3)).fit(X, blob % 2)
