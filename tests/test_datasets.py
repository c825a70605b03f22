"""Loaders read the standard layouts, never download, and say where files belong."""

import gzip
import os
import pickle

import numpy as np
import pytest
import torch

from skal.datasets import (
    AugmentingCollate,
    get_data_home,
    load_cifar10,
    load_fashion_mnist,
    load_mnist,
    make_redundant,
)


def _write_idx(path, array, gz):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    data = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("name, loader", [("MNIST", load_mnist),
                                          ("FashionMNIST", load_fashion_mnist)])
def test_idx_files_gzipped_or_not(tmp_path, gz, name, loader):
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, size=(5, 28, 28))
    labels = np.array([3, 1, 4, 1, 5])
    raw = tmp_path / name / "raw"
    _write_idx(raw / "t10k-images-idx3-ubyte", images, gz)
    _write_idx(raw / "t10k-labels-idx1-ubyte", labels, gz)
    X, y = loader(data_home=tmp_path, train=False)
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)
    assert X.dtype == np.uint8 and y.dtype == np.int64


def test_missing_files_name_every_path_and_never_download(tmp_path):
    with pytest.raises(FileNotFoundError) as exc:
        load_mnist(data_home=tmp_path)
    message = str(exc.value)
    assert str(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte") in message
    assert str(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte.gz") in message
    assert "SKAL_DATA" in message and "never downloads" in message
    assert not (tmp_path / "MNIST").exists()


def test_cifar_npz_and_python_batches(tmp_path):
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, size=(4, 32, 32, 3)).astype(np.uint8)
    y = np.array([0, 9, 2, 2])
    (tmp_path / "a" / "CIFAR10").mkdir(parents=True)
    np.savez(tmp_path / "a" / "CIFAR10" / "test.npz", x=x, y=y)
    X, Y = load_cifar10(data_home=tmp_path / "a", train=False)
    np.testing.assert_array_equal(X, x)
    np.testing.assert_array_equal(Y, y)
    batches = tmp_path / "b" / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    flat = x.transpose(0, 3, 1, 2).reshape(4, -1)  # CIFAR's channel-first rows
    with open(batches / "test_batch", "wb") as f:
        pickle.dump({"data": flat, "labels": list(y)}, f)
    X2, Y2 = load_cifar10(data_home=tmp_path / "b", train=False)
    np.testing.assert_array_equal(X2, x)
    np.testing.assert_array_equal(Y2, y)
    with pytest.raises(FileNotFoundError, match="data_batch_1"):
        load_cifar10(data_home=tmp_path / "b", train=True)


def test_data_home_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SKAL_DATA", str(tmp_path))
    assert get_data_home() == tmp_path
    assert get_data_home(tmp_path / "x") == tmp_path / "x"


@pytest.mark.skipif(not os.environ.get("SKAL_DATA"), reason="SKAL_DATA not set: no real data")
def test_real_mnist_when_available():
    X, y = load_mnist(train=True)
    assert X.shape == (60000, 28, 28)
    np.testing.assert_array_equal(
        np.bincount(y), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    )


def test_make_redundant_keeps_class_ratios_and_duplicates():
    rng = np.random.RandomState(0)
    X = rng.rand(300, 4)
    y = np.repeat([0, 1, 2], 100)
    X_before = X.copy()
    Xp, yp, source = make_redundant(X, y, n_unique=60, n_redundant=30, factor=5,
                                    random_state=0)
    assert len(yp) == 60 + 150
    np.testing.assert_array_equal(Xp, X[source])
    counts = np.bincount(source, minlength=300)
    assert (counts == 1).sum() == 60 and (counts == 5).sum() == 30
    assert set(np.unique(counts)) == {0, 1, 5}
    np.testing.assert_array_equal(np.bincount(yp), [70, 70, 70])  # ratios unchanged
    np.testing.assert_array_equal(X, X_before)
    again = make_redundant(X, y, n_unique=60, n_redundant=30, factor=5, random_state=0)
    np.testing.assert_array_equal(again[2], source)
    with pytest.raises(ValueError, match="larger than the 300 samples"):
        make_redundant(X, y, n_unique=250, n_redundant=100, factor=2)


class _Count:
    def __init__(self):
        self.calls = 0

    def __call__(self, X):
        self.calls += 1
        return X


def test_augmentation_applies_to_training_batches_only():
    from skorch import NeuralNetClassifier

    from skal import EntropySampling
    from skal.toy import LeNetModule

    counter = _Count()
    torch.manual_seed(0)
    net = NeuralNetClassifier(
        LeNetModule, module__image_size=8, criterion=torch.nn.CrossEntropyLoss,
        max_epochs=2, batch_size=4, train_split=None, verbose=0,
        iterator_train__collate_fn=AugmentingCollate(counter),
    )
    X = np.random.RandomState(0).rand(12, 1, 8, 8).astype(np.float32)
    net.fit(X, np.arange(12) % 3)
    assert counter.calls == 2 * 12  # every training image, every epoch
    EntropySampling(net, prefit=True).rank(X)
    net.predict_proba(X)
    assert counter.calls == 24  # prediction and strategies see the images unchanged


def test_cifar_lossy_npz_of_the_shared_folder_loads_with_a_warning(tmp_path):
    """The shared folder's layout: cifar10_{split}_LOSSY_jpeg_q75.npz, said to be lossy."""
    from skal.exceptions import SkalWarning

    rng = np.random.RandomState(1)
    x = rng.randint(0, 256, size=(3, 32, 32, 3)).astype(np.uint8)
    y = np.array([1, 5, 9])
    (tmp_path / "CIFAR10").mkdir()
    np.savez(tmp_path / "CIFAR10" / "cifar10_train_LOSSY_jpeg_q75.npz", x=x, y=y)
    with pytest.warns(SkalWarning, match=r"JPEG.*report results on it as 'CIFAR-10 \(JPEG q75"):
        X, Y = load_cifar10(data_home=tmp_path, train=True)
    np.testing.assert_array_equal(X, x)
    np.testing.assert_array_equal(Y, y)
    with pytest.raises(FileNotFoundError, match="cifar10_test_LOSSY_jpeg_q75.npz"):
        load_cifar10(data_home=tmp_path, train=False)
