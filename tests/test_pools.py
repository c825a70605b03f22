"""Pools as users hold them: Datasets, tensors, dicts, DataFrames, FrozenEstimator.

Every pick on a pool of another kind must equal the pick on the same samples
as a NumPy array, for the same ``random_state``.
"""

import copy
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from torch.utils.data import Dataset, IterableDataset, TensorDataset

import skal
from skal import (
    BADGE,
    CoreSet,
    DispersionSampling,
    EntropySampling,
    FacilityLocationSampling,
    MarginSampling,
    PartitionedStrategy,
    ProxyPrefilter,
    RandomSampling,
    SubsetSampling,
)
from skal.exceptions import EmbeddingError
from skal.toy import make_skorch_classifier


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return X[:200], y[:200], X[200:460], y[200:460]


@pytest.fixture(scope="module")
def net(data):
    X, y, _, _ = data
    return make_skorch_classifier(
        64, 10, hidden_units=16, max_epochs=3, module__dropout=0.3
    ).fit(X, y)


@pytest.fixture(scope="module")
def regression_net(data):
    """The nets of the strategies made for regression: the digit's value as the target."""
    from tests._estimators import regression_net as make

    X, y, _, _ = data
    return make().fit(X, y.astype(np.float32).reshape(-1, 1))


class CountingDataset(Dataset):
    """A user's own Dataset of ``(x, placeholder)`` pairs that counts its reads."""

    def __init__(self, A):
        self.A = A
        self.reads = 0

    def __len__(self):
        return len(self.A)

    def __getitem__(self, i):
        self.reads += 1
        return torch.as_tensor(self.A[i]), -1


def _pools(A):
    return {
        "TensorDataset": TensorDataset(torch.as_tensor(A), torch.zeros(len(A))),
        "own Dataset": CountingDataset(A),
        "tensor": torch.as_tensor(A),
        "dict": {"X": A},  # skorch passes dict keys to forward(X=...)
    }


def _strategies():
    """Every default-constructible strategy that reads the pool through the net."""
    out = []
    for name, cls in skal.all_strategies():
        try:
            params = cls().get_params()
        except TypeError:  # meta-strategies wrap another one
            continue
        if name in ("AdversarialDeepFool", "AdversarialBIM", "VAAL"):
            continue  # need the values; tested below
        if name == "GreedySampling":
            continue  # "xy" measures the features themselves; "y" is tested below
        if name in ("FacilityLocationSampling", "DispersionSampling"):
            continue  # need an embedding net; tested below
        out.append(pytest.param(cls, "random_state" in params, id=name))
    return out


def _model(cls, net, regression_net):
    from tests._estimators import needs_regressor

    return regression_net if needs_regressor(cls) else net


# BatchBALD's greedy joint entropies work on MC probabilities already read from
# the pool: 30 greedy picks (past the query's 25) rather than the default 100
# check the pool kinds as well, in a third of the time.
_LIGHTER = {"BatchBALD": {"max_joint": 30}}


def _make(cls, seeded, net):
    strategy = cls(estimator=net, prefit=True, **_LIGHTER.get(cls.__name__, {}))
    return strategy.set_params(random_state=0) if seeded else strategy


@pytest.fixture(scope="module")
def array_picks(data, net, regression_net):
    """``array_picks(cls, seeded)``: the strategy's query (25) and rank on the
    pool as an array, computed once for the four pool kinds."""
    X, y, X_pool, _ = data
    picks = {}

    def get(cls, seeded):
        if cls not in picks:
            ref = _make(cls, seeded, _model(cls, net, regression_net)).fit(X, y)
            picks[cls] = ref.query(X_pool, 25), ref.rank(X_pool)
        return picks[cls]

    return get


@pytest.mark.parametrize("cls, seeded", _strategies())
@pytest.mark.parametrize("kind", ["TensorDataset", "own Dataset", "tensor", "dict"])
def test_pool_kinds_give_the_array_picks(cls, seeded, kind, data, net, regression_net,
                                         array_picks):
    X, y, X_pool, _ = data
    expected_query, expected_rank = array_picks(cls, seeded)
    pool = _pools(X_pool)[kind]
    strategy = _make(cls, seeded, _model(cls, net, regression_net)).fit(X, y)
    np.testing.assert_array_equal(strategy.query(pool, 25), expected_query)
    np.testing.assert_array_equal(strategy.rank(pool), expected_rank)


@pytest.mark.parametrize("kind", ["TensorDataset", "own Dataset", "tensor", "dict"])
def test_greedy_sampling_on_outputs_reads_the_pool_through_the_net(kind, data,
                                                                   regression_net):
    X, y, X_pool, _ = data
    strategy = skal.GreedySampling(regression_net, approach="y", prefit=True).fit(X, y)
    expected = strategy.rank(X_pool)
    np.testing.assert_array_equal(strategy.rank(_pools(X_pool)[kind]), expected)
    np.testing.assert_array_equal(strategy.query(_pools(X_pool)[kind], 25), expected[:25])


@pytest.mark.parametrize(
    "strategy",
    [EntropySampling(), BADGE(random_state=0), CoreSet(random_state=0)],
    ids=lambda s: type(s).__name__,
)
def test_lazy_rank_and_add_take_datasets(strategy, data, net):
    X, y, X_pool, _ = data
    old, new = X_pool[:150], X_pool[150:]
    ref = clone(strategy).set_params(estimator=net, prefit=True).fit(X, y)
    lazy = ref.lazy_rank(old)
    expected = [lazy.take(30), lazy.add(new), lazy.take(60)]
    s = clone(strategy).set_params(estimator=net, prefit=True).fit(X, y)
    lazy = s.lazy_rank(_pools(old)["own Dataset"])
    got = [lazy.take(30), lazy.add(_pools(new)["TensorDataset"]), lazy.take(60)]
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_transform_takes_datasets(data, net):
    X, y, X_pool, _ = data
    for strategy in (EntropySampling(net, prefit=True), BADGE(net, prefit=True)):
        np.testing.assert_array_equal(
            strategy.transform(CountingDataset(X_pool)), strategy.transform(X_pool)
        )


@pytest.mark.parametrize(
    "make_meta",
    [
        lambda: SubsetSampling(BADGE(random_state=0), n_candidates=100, random_state=0),
        lambda: ProxyPrefilter(BADGE(random_state=0), n_candidates=80),
        lambda: PartitionedStrategy(BADGE(), n_partitions=3, random_state=0),
    ],
    ids=["SubsetSampling", "ProxyPrefilter", "PartitionedStrategy"],
)
def test_meta_strategies_take_datasets(make_meta, data, net):
    X, y, X_pool, _ = data
    ref = make_meta().set_params(estimator=net, prefit=True).fit(X, y)
    strategy = make_meta().set_params(estimator=net, prefit=True).fit(X, y)
    pool = CountingDataset(X_pool)
    np.testing.assert_array_equal(strategy.query(pool, 30), ref.query(X_pool, 30))
    np.testing.assert_array_equal(strategy.rank(pool), ref.rank(X_pool))


@pytest.mark.parametrize("cls", [FacilityLocationSampling, DispersionSampling])
def test_seed_strategies_take_datasets_with_an_embedding_net(cls, data, net):
    _, _, X_pool, _ = data
    ref = cls(embedding=net, random_state=0).fit(X_pool).query(X_pool, 10)
    pool = CountingDataset(X_pool)
    got = cls(embedding=net, random_state=0).fit(pool).query(pool, 10)
    np.testing.assert_array_equal(got, ref)
    with pytest.raises(ValueError, match=r"cannot take a pool of type CountingDataset.*"
                       r"features themselves"):
        cls(random_state=0).fit(X_pool).query(pool, 10)


def test_strategies_that_need_values_refuse_datasets_clearly(data, net):
    X, y, X_pool, _ = data
    pool = CountingDataset(X_pool)
    for strategy, reason in [
        (skal.AdversarialDeepFool(net, prefit=True), "the attack perturbs"),
        (skal.AdversarialBIM(net, prefit=True), "the attack perturbs"),
        (skal.VAAL(random_state=0).fit(X), "VAAL trains its own VAE"),
    ]:
        with pytest.raises(ValueError, match=f"cannot take a pool of type CountingDataset: {reason}"):
            strategy.query(pool, 5)
    assert pool.reads == 0


def test_a_pass_reads_each_sample_once_in_the_nets_batches(data, net):
    """Never loaded whole: one pass, through skorch's loader and batch size."""
    X, y, X_pool, _ = data
    batches = []
    net = copy.deepcopy(net).set_params(batch_size=50)
    hook = net.module_.register_forward_pre_hook(lambda m, inp: batches.append(len(inp[0])))
    try:
        for strategy in (EntropySampling(net, prefit=True), BADGE(net, prefit=True,
                                                                  random_state=0)):
            pool = CountingDataset(X_pool)
            batches.clear()
            strategy.query(pool, 10)
            assert pool.reads == len(X_pool)
            assert batches == [50] * 5 + [10]
    finally:
        hook.remove()


def test_fit_on_a_dataset_uses_the_given_labels(data):
    """The Dataset's placeholder targets (-1) are never trained on."""
    X, y, X_pool, _ = data
    template = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=3)
    ref = BADGE(template, random_state=0).fit(X, y)
    got = BADGE(template, random_state=0).fit(CountingDataset(X), y)
    np.testing.assert_array_equal(got.query(X_pool, 20), ref.query(X_pool, 20))
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[200, 10\]"):
        BADGE(template).fit(CountingDataset(X), y[:10])


def test_image_folder_of_png_files(tmp_path, data, net):
    """A real torchvision ImageFolder with a transform: picks equal the array's."""
    torchvision = pytest.importorskip("torchvision")
    from PIL import Image
    from torchvision import transforms

    _, _, X_pool, y_pool = data
    pool_images = np.round(X_pool[:60].reshape(-1, 8, 8) * 255).astype(np.uint8)
    for i, (image, label) in enumerate(zip(pool_images, y_pool[:60])):
        folder = tmp_path / f"class_{label}"
        folder.mkdir(exist_ok=True)
        Image.fromarray(image, mode="L").save(folder / f"{i:03d}.png")
    transform = transforms.Compose(
        [transforms.Grayscale(), transforms.ToTensor(), transforms.Lambda(lambda t: t.reshape(-1))]
    )
    folder = torchvision.datasets.ImageFolder(tmp_path, transform=transform)
    # the same pixels as an array, in the folder's order
    as_array = np.stack([transform(Image.open(path)).numpy() for path, _ in folder.samples])
    for strategy in (EntropySampling(net, prefit=True), BADGE(net, prefit=True, random_state=0),
                     CoreSet(net, prefit=True, random_state=0)):
        np.testing.assert_array_equal(strategy.query(folder, 10), strategy.query(as_array, 10))


def test_frozen_estimator_works_wherever_a_prefit_one_does(data, net):
    X, y, X_pool, _ = data
    expected = BADGE(net, prefit=True, random_state=0).query(X_pool, 20)
    frozen = BADGE(FrozenEstimator(net), prefit=True, random_state=0)
    np.testing.assert_array_equal(frozen.query(X_pool, 20), expected)
    np.testing.assert_array_equal(clone(frozen).query(X_pool, 20), expected)
    # prefit=False: fit "fits" the frozen clone, which keeps the trained net
    np.testing.assert_array_equal(
        clone(BADGE(FrozenEstimator(net), random_state=0)).fit(X, y).query(X_pool, 20),
        expected,
    )
    for strategy in (CoreSet(FrozenEstimator(net), prefit=True, random_state=0),
                     EntropySampling(FrozenEstimator(net), prefit=True)):
        plain = clone(strategy).set_params(estimator=net)
        np.testing.assert_array_equal(strategy.rank(X_pool), plain.rank(X_pool))


def _gen():
    yield np.zeros(3)


class Stream(IterableDataset):
    def __iter__(self):
        return iter([(torch.zeros(64), 0)])


@pytest.mark.parametrize(
    "pool, named",
    [
        (_gen(), "generator"),
        ("pool.npy", "str"),
        (["a.png", "b.png"], "list of strings"),
        (Stream(), "IterableDataset"),
        (None, "NoneType"),
    ],
    ids=["generator", "string", "file list", "IterableDataset", "None"],
)
def test_unsupported_pools_name_the_type_and_list_the_supported(pool, named, net):
    with pytest.raises(TypeError, match=f"{named}.*Supported pools: a NumPy array.*Dataset"):
        EntropySampling(net, prefit=True).query(pool, 1)


def test_sklearn_estimator_with_a_dataset_says_what_it_reads(data):
    X, y, X_pool, _ = data
    clf = LogisticRegression(max_iter=200).fit(X, y)
    with pytest.raises(ValueError, match="LogisticRegression reads arrays, not a pool of "
                       "type CountingDataset.*skorch"):
        EntropySampling(clf, prefit=True).query(CountingDataset(X_pool), 5)
    # RandomSampling needs no estimator: any pool works
    assert RandomSampling(random_state=0).fit(X).query(CountingDataset(X_pool), 5).shape == (5,)


def test_dataframes_with_mixed_columns_go_to_the_pipeline(data):
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({
        "size": rng.rand(120),
        "region": rng.choice(["north", "south", "west"], 120),
    })
    y = (frame["size"] > 0.5).astype(int) ^ (frame["region"] == "south").astype(int)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["region"]), (StandardScaler(), ["size"])),
        LogisticRegression(),
    ).fit(frame[:60], y[:60])
    pool = frame[60:]
    original = pool.copy()
    for strategy in (EntropySampling(model, prefit=True), BADGE(model, prefit=True,
                                                                random_state=0)):
        picks = strategy.query(pool, 5)
        assert picks.shape == (5,) and picks.max() < len(pool)
    # prefit=False: the labeled DataFrame is handed to a clone of the pipeline
    assert EntropySampling(model).fit(frame[:60], y[:60]).query(pool, 5).shape == (5,)
    pd.testing.assert_frame_equal(pool, original)


def test_numeric_dataframe_gives_no_feature_name_warnings(data, net):
    pd = pytest.importorskip("pandas")
    X, y, X_pool, _ = data
    columns = [f"px{i}" for i in range(64)]
    frame, pool = pd.DataFrame(X, columns=columns), pd.DataFrame(X_pool, columns=columns)
    expected = EntropySampling(LogisticRegression(max_iter=300).fit(X, y), prefit=True).query(
        X_pool, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for clf in (LogisticRegression(max_iter=300).fit(X, y),
                    LogisticRegression(max_iter=300).fit(frame, y)):
            np.testing.assert_array_equal(
                EntropySampling(clf, prefit=True).query(pool, 10), expected)
        np.testing.assert_array_equal(
            EntropySampling(LogisticRegression(max_iter=300)).fit(frame, y).query(pool, 10),
            expected,
        )
        np.testing.assert_array_equal(
            BADGE(net, prefit=True, random_state=0).query(pool, 10),
            BADGE(net, prefit=True, random_state=0).query(X_pool, 10),
        )


@pytest.mark.parametrize(
    "bad, shown",
    [
        (np.zeros((6, 3), dtype=np.float32), r"\(3,\)"),
        (np.zeros((6, 8, 8), dtype=np.float32), r"\(8, 8\)"),
        (torch.zeros(6, 3), r"\(3,\)"),
    ],
    ids=["wrong feature count", "3-D pool for a 2-D net", "tensor"],
)
def test_pool_shape_errors_on_nets_say_what_was_expected(bad, shown, net):
    message = f"samples shaped {shown}.*first layer is Linear\\(in_features=64"
    for strategy in (EntropySampling(net, prefit=True), BADGE(net, prefit=True),
                     CoreSet(net, prefit=True)):
        with pytest.raises(ValueError, match=message):
            strategy.query(bad, 2)


def test_lazy_add_with_the_wrong_feature_count(data, net):
    _, _, X_pool, _ = data
    lazy = BADGE(net, prefit=True, random_state=0).lazy_rank(X_pool)
    lazy.take(3)
    with pytest.raises(ValueError, match=r"shaped \(5,\).*in_features=64"):
        lazy.add(np.zeros((4, 5), dtype=np.float32))
    assert len(lazy.take(3)) == 3  # the ranking goes on


def test_conv_net_with_the_wrong_shape(data):
    from skal.toy import LeNetModule
    from skorch import NeuralNetClassifier

    net = NeuralNetClassifier(
        LeNetModule, module__image_size=8, module__hidden_units=8,
        criterion=torch.nn.CrossEntropyLoss, max_epochs=1, train_split=None,
    ).initialize()
    with pytest.raises(ValueError, match=r"shaped \(3, 8, 8\).*Conv2d\(in_channels=1"):
        EntropySampling(net, prefit=True).query(np.zeros((4, 3, 8, 8), np.float32), 2)


class DivergedModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(64, 8)
        self.out = torch.nn.Linear(8, 10)

    def forward(self, X):
        return self.out(self.hidden(X) * float("nan"))


@pytest.fixture(scope="module")
def diverged_net():
    from skorch import NeuralNetClassifier

    return NeuralNetClassifier(
        DivergedModule, criterion=torch.nn.CrossEntropyLoss, train_split=None
    ).initialize()


@pytest.mark.parametrize(
    "make", [EntropySampling, MarginSampling, BADGE, CoreSet],
    ids=lambda c: c.__name__,
)
def test_a_diverged_net_is_reported_not_ranked(make, data, diverged_net):
    _, _, X_pool, _ = data
    with pytest.raises(EmbeddingError, match="non-finite .* diverged.*Refit"):
        make(diverged_net, prefit=True).query(X_pool, 5)


def _write_idx(path, array):
    """An uncompressed IDX file (MNIST's format): magic, dims, big-endian bytes."""
    import struct

    with open(path, "wb") as f:
        f.write(struct.pack(">HBB", 0, 0x08, array.ndim))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.astype(np.uint8).tobytes())


def test_torchvision_mnist_dataset_with_transforms(tmp_path, data):
    """torchvision's MNIST class on MNIST-format files, with a Normalize transform."""
    torchvision = pytest.importorskip("torchvision")
    from skorch import NeuralNetClassifier
    from torchvision import transforms

    from skal.toy import LeNetModule

    rng = np.random.RandomState(0)
    n = 120
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    labels = rng.randint(0, 10, n)
    for i, label in enumerate(labels):  # a bright square whose place depends on the class
        r, c = divmod(int(label), 4)
        images[i, 4 + 6 * r:8 + 6 * r, 2 + 6 * c:8 + 6 * c] = 255
    images = np.clip(images + rng.randint(0, 60, images.shape), 0, 255)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for split in ("train", "t10k"):
        _write_idx(raw / f"{split}-images-idx3-ubyte", images)
        _write_idx(raw / f"{split}-labels-idx1-ubyte", labels)
    transform = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]
    )
    mnist = torchvision.datasets.MNIST(tmp_path, train=True, transform=transform,
                                       download=False)
    assert len(mnist) == n
    net = NeuralNetClassifier(
        LeNetModule, criterion=torch.nn.CrossEntropyLoss, max_epochs=2, train_split=None,
        batch_size=32, module__hidden_units=16,
    )
    torch.manual_seed(0)
    net.fit(torch.utils.data.Subset(mnist, range(60)), y=None)
    as_array = np.stack([mnist[i][0].numpy() for i in range(60, n)])
    pool = torch.utils.data.Subset(mnist, range(60, n))
    for strategy in (MarginSampling(net, prefit=True), BADGE(net, prefit=True, random_state=0)):
        np.testing.assert_array_equal(strategy.rank(pool), strategy.rank(as_array))


def test_active_learner_rounds_train_on_subsets_of_the_dataset(data, monkeypatch):
    """Simulation on a Dataset: the array's rounds, trained on Subsets, never a copy."""
    from skal import ActiveLearner
    from skal.toy import SeededNeuralNetClassifier

    X, y, _, _ = data
    params = dict(batch_size=10, initial_size=20, budget=60, random_state=0)

    def learner():
        net = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=2)
        return ActiveLearner(net, BADGE(), **params)

    expected = learner().fit(X, y)
    trained_on = []
    original_fit = SeededNeuralNetClassifier.fit

    def spy(self, X, y=None, **kwargs):
        trained_on.append(X)
        return original_fit(self, X, y, **kwargs)

    monkeypatch.setattr(SeededNeuralNetClassifier, "fit", spy)
    pool = CountingDataset(X)
    got = learner().fit(pool, y)
    np.testing.assert_array_equal(got.labeled_indices_, expected.labeled_indices_)
    np.testing.assert_array_equal(got.history_["n_labeled"], [20, 30, 40, 50, 60])
    assert len(trained_on) == 5
    for round_, X_fit in enumerate(trained_on):
        subset = X_fit.dataset  # (x, y[i]) pairs over a Subset of the user's Dataset
        assert isinstance(subset, torch.utils.data.Subset) and subset.dataset is pool
        assert sorted(subset.indices) == sorted(got.labeled_indices_[: 20 + 10 * round_])
    # real labeling on the same Dataset, labels from an array (-1: unlabeled)
    y_known = np.full(len(y), -1)
    y_known[got.labeled_indices_] = y[got.labeled_indices_]
    real = ActiveLearner(make_skorch_classifier(64, 10, hidden_units=16, max_epochs=2),
                         BADGE(random_state=0)).fit(pool, y_known)
    picks = real.query(pool, y_known, batch_size=5)
    assert np.all(y_known[picks] == -1) and len(set(picks)) == 5


def test_active_learner_with_a_dataset_and_an_sklearn_model_says_so(data):
    from skal import ActiveLearner

    X, y, _, _ = data
    with pytest.raises(ValueError, match="LogisticRegression reads arrays, not a pool of type "
                       "CountingDataset"):
        ActiveLearner(LogisticRegression(), budget=30).fit(CountingDataset(X), y)
