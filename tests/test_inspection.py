"""See what was picked: the 2-D map against references, the class counts, the figure."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression

from skal import BADGE, CoreSet, EntropySampling, RandomSampling
from skal.embeddings import gradient_embedding
from skal.inspection import _landmark_mds, _pca, _Points, embedding_map, picks_summary
from skal.plotting import plot_embedding
from skal.selection import OuterProduct


@pytest.fixture(scope="module")
def digits_model():
    X, y = load_digits(return_X_y=True)
    clf = LogisticRegression(max_iter=300).fit(X[:150], y[:150])
    return clf, X[150:450], y[150:450]


def test_landmark_mds_is_exact_on_points_in_a_plane():
    """Classical MDS recovers a planar configuration up to rotation: same distances."""
    rng = np.random.RandomState(0)
    A = rng.randn(120, 2) * [3.0, 1.0]
    R = np.linalg.qr(rng.randn(6, 2))[0].T  # an orthonormal 2x6 basis
    X = A @ R + 5.0  # a plane in 6-D, shifted
    clf = LogisticRegression().fit(X, (A[:, 0] > 0).astype(int))
    coords = embedding_map(CoreSet(clf, prefit=True), X, n_landmarks=10, random_state=0)
    np.testing.assert_allclose(pdist(coords), pdist(A), rtol=1e-7, atol=1e-7)


def test_factors_give_the_dense_maps(digits_model):
    """BADGE's map from its factors equals the map of the built gradient embedding."""
    clf, X, _ = digits_model
    h, e = gradient_embedding(clf, X, return_factors=True)
    dense = gradient_embedding(clf, X)
    a = _landmark_mds(_Points(OuterProduct(h, e)), 50, np.random.RandomState(1))
    b = _landmark_mds(_Points(dense), 50, np.random.RandomState(1))
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        embedding_map(BADGE(clf, prefit=True), X, n_landmarks=50, random_state=1), a)
    pca = _pca(_Points(OuterProduct(h, e)), np.random.RandomState(0))
    reference = PCA(n_components=2, svd_solver="full").fit_transform(dense)
    for k in range(2):  # the same components, up to sign
        assert abs(np.corrcoef(pca[:, k], reference[:, k])[0, 1]) > 1 - 1e-8


def test_pca_on_dense_embeddings_matches_sklearn(digits_model):
    clf, X, _ = digits_model
    coords = embedding_map(CoreSet(clf, prefit=True), X, method="pca", random_state=0)
    reference = PCA(n_components=2, svd_solver="full").fit_transform(X.astype(float))
    for k in range(2):
        assert abs(np.corrcoef(coords[:, k], reference[:, k])[0, 1]) > 1 - 1e-8


def test_score_strategies_map_the_penultimate_embedding(digits_model):
    clf, X, _ = digits_model
    a = embedding_map(EntropySampling(clf, prefit=True), X, n_landmarks=40, random_state=0)
    b = embedding_map(CoreSet(clf, prefit=True), X, n_landmarks=40, random_state=0)
    np.testing.assert_allclose(a, b)


def test_embedding_map_validates_its_parameters(digits_model):
    clf, X, _ = digits_model
    with pytest.raises(ValueError, match="method='tsne' is not one of"):
        embedding_map(BADGE(clf, prefit=True), X, method="tsne")
    with pytest.raises(ValueError, match="n_landmarks=1 must be an integer >= 3"):
        embedding_map(BADGE(clf, prefit=True), X, n_landmarks=1)


def test_picks_summary_counts_against_a_loop(digits_model):
    clf, X, y = digits_model
    strategy = BADGE(clf, prefit=True, random_state=0)
    picks = strategy.query(X, 40)
    summary = picks_summary(strategy, X, picks, y=y)
    predicted = clf.predict(X)
    for k, c in enumerate(summary["class"]):
        assert summary["picked_predicted"][k] == sum(predicted[i] == c for i in picks)
        assert summary["pool_predicted"][k] == sum(predicted == c)
        assert summary["picked_true"][k] == sum(y[i] == c for i in picks)
        assert summary["pool_true"][k] == sum(y == c)
    assert summary["picked_true"].sum() == 40
    # no estimator: true classes only
    random = RandomSampling(random_state=0).fit(X)
    only_true = picks_summary(random, X, random.query(X, 10), y=y)
    assert sorted(only_true) == ["class", "picked_true", "pool_true"]
    with pytest.raises(ValueError, match="no estimator to predict classes; pass y"):
        picks_summary(random, X, random.query(X, 10))
    with pytest.raises(ValueError, match="picks must be a 1-D array of positions"):
        picks_summary(strategy, X, [0, 300])


def test_plot_embedding_draws_pool_picks_and_ranks(digits_model):
    clf, X, y = digits_model
    strategy = BADGE(clf, prefit=True, random_state=0)
    picks = strategy.query(X, 30)
    ax = plot_embedding(strategy, X, picks, y=y, n_annotated=12, random_state=0,
                        n_landmarks=60)
    pool_dots, pick_markers = ax.collections
    assert len(pool_dots.get_offsets()) == len(X)
    coords = embedding_map(strategy, X, n_landmarks=60, random_state=0)
    np.testing.assert_allclose(pick_markers.get_offsets(), coords[picks])
    assert [t.get_text() for t in ax.texts] == [str(k) for k in range(1, 13)]
    assert len(ax.get_legend().get_texts()) == np.unique(y).size
    ax = plot_embedding(strategy, X, picks, method="pca")  # no labels: no legend
    assert ax.get_legend() is None and len(ax.texts) == 20
    with pytest.raises(ValueError, match="picks must be a 1-D array"):
        plot_embedding(strategy, X, np.array([[0, 1]]))


def test_picks_summary_of_a_net_trained_without_some_classes():
    """10 outputs, trained on labels 2..9 only: columns are the labels (skorch's predict)."""
    from skal.toy import make_skorch_classifier

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    seen = y[:400] > 1
    net = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=3).fit(
        X[:400][seen], y[:400][seen])
    strategy = BADGE(net, prefit=True, random_state=0)
    picks = strategy.query(X[400:], 25)
    summary = picks_summary(strategy, X[400:], picks, y=y[400:])
    assert summary["class"].tolist() == list(range(10))
    predicted = net.predict(X[400:])
    np.testing.assert_array_equal(summary["pool_predicted"], np.bincount(predicted, minlength=10))
    assert summary["picked_predicted"].sum() == 25
