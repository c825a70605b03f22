"""Datasets from standard files on disk, and a redundancy wrapper.

skal never downloads. The loaders read the files in their usual layouts from
``data_home``: the argument, else the ``SKAL_DATA`` environment variable, else
``~/skal_data``. A missing file raises ``FileNotFoundError`` naming the exact
paths looked at and how to obtain the files.

Layouts (as torchvision uses them)::

    <data_home>/MNIST/raw/train-images-idx3-ubyte[.gz]   (and -labels-idx1-, t10k-...)
    <data_home>/FashionMNIST/raw/...                     (same names)
    <data_home>/CIFAR10/{train,test}.npz                 (arrays x [N,32,32,3], y [N])
    <data_home>/cifar-10-batches-py/data_batch_1..5, test_batch   (python pickles)
"""

import gzip
import os
import pickle
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state
from torch.utils.data import Dataset

from .exceptions import SkalWarning
from .utils._random import draw_seed

__all__ = [
    "AugmentingCollate",
    "ImageFiles",
    "get_data_home",
    "image_transform",
    "load_mnist",
    "load_fashion_mnist",
    "load_cifar10",
    "make_redundant",
]

_SOURCES = {
    "MNIST": "http://yann.lecun.com/exdb/mnist/ (or torchvision.datasets.MNIST(root, "
    "download=True) on a machine with internet access, then copy MNIST/raw)",
    "FashionMNIST": "https://github.com/zalandoresearch/fashion-mnist (or "
    "torchvision.datasets.FashionMNIST(root, download=True), then copy FashionMNIST/raw)",
    "CIFAR10": "https://www.cs.toronto.edu/~kriz/cifar.html (the python version, "
    "extracted as cifar-10-batches-py/, or torchvision.datasets.CIFAR10(root, download=True))",
}


def get_data_home(data_home=None):
    """The folder skal reads dataset files from.

    skal never downloads: the loaders of this module read the files found
    under this folder, and say where to get them when they are missing.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Used if given; else ``$SKAL_DATA``; else ``~/skal_data``.

    Returns
    -------
    path : pathlib.Path
        The folder, with ``~`` expanded. It may not exist.

    See Also
    --------
    load_mnist : Read MNIST from ``<data_home>/MNIST/raw``.
    sklearn.datasets.get_data_home : The scikit-learn counterpart.

    Examples
    --------
    >>> from skal.datasets import get_data_home
    >>> str(get_data_home("/tmp/my_data"))
    '/tmp/my_data'
    """
    if data_home is None:
        data_home = os.environ.get("SKAL_DATA", Path("~") / "skal_data")
    return Path(data_home).expanduser()


def _missing(name, tried):
    listed = "\n  ".join(str(p) for p in tried)
    return FileNotFoundError(
        f"{name} files not found. skal looked for:\n  {listed}\nPut the files there "
        f"(source: {_SOURCES[name]}), or point data_home / the SKAL_DATA environment "
        "variable at the folder that holds them. skal never downloads."
    )


def _read_idx(path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _load_idx_pair(name, data_home, train):
    raw = get_data_home(data_home) / name / "raw"
    prefix = "train" if train else "t10k"
    arrays, tried = [], []
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        candidates = [raw / f"{prefix}-{kind}", raw / f"{prefix}-{kind}.gz"]
        found = next((p for p in candidates if p.exists()), None)
        tried += candidates
        if found is None:
            raise _missing(name, tried)
        arrays.append(_read_idx(found))
    images, labels = arrays
    return images.copy(), labels.astype(np.int64)


def load_mnist(*, data_home=None, train=True):
    """MNIST images (uint8, 28×28) and labels from the standard IDX files.

    The files are those torchvision downloads (``train-images-idx3-ubyte``
    and so on, optionally gzipped); they are read as they are, without
    torchvision.

    Parameters
    ----------
    data_home : str or path-like, default=None
        See :func:`get_data_home`; files are read from ``<data_home>/MNIST/raw``.
    train : bool, default=True
        The 60,000 training images, or the 10,000 test images.

    Returns
    -------
    X : ndarray of shape (n_samples, 28, 28), dtype uint8
        The images, pixel values in ``[0, 255]``.
    y : ndarray of shape (n_samples,), dtype int64
        The digits, 0 to 9.

    Raises
    ------
    FileNotFoundError
        Naming the paths looked at and where to get the files.

    See Also
    --------
    load_fashion_mnist : The same format, with images of clothes.
    sklearn.datasets.load_digits : Small 8×8 digits, bundled with scikit-learn.

    Examples
    --------
    >>> from skal.datasets import load_mnist
    >>> load_mnist(data_home="/nonexistent")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: MNIST files not found. skal looked for:
    ...
    """
    return _load_idx_pair("MNIST", data_home, train)


def load_fashion_mnist(*, data_home=None, train=True):
    """Fashion-MNIST images (uint8, 28×28) and labels from the standard IDX files.

    A drop-in replacement for MNIST (same shapes, ten classes) that is harder
    to classify; the files are read as :func:`load_mnist` reads MNIST's.

    Parameters
    ----------
    data_home : str or path-like, default=None
        See :func:`get_data_home`; files are read from
        ``<data_home>/FashionMNIST/raw``.
    train : bool, default=True
        The 60,000 training images, or the 10,000 test images.

    Returns
    -------
    X : ndarray of shape (n_samples, 28, 28), dtype uint8
        The images, pixel values in ``[0, 255]``.
    y : ndarray of shape (n_samples,), dtype int64
        The classes, 0 (T-shirt/top) to 9 (ankle boot).

    Raises
    ------
    FileNotFoundError
        Naming the paths looked at and where to get the files.

    See Also
    --------
    load_mnist : The handwritten digits in the same format.

    Examples
    --------
    >>> from skal.datasets import load_fashion_mnist
    >>> load_fashion_mnist(data_home="/nonexistent")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: FashionMNIST files not found. skal looked for:
    ...
    """
    return _load_idx_pair("FashionMNIST", data_home, train)


def load_cifar10(*, data_home=None, train=True):
    """CIFAR-10 images (uint8, 32×32×3, RGB) and labels.

    Reads ``<data_home>/CIFAR10/{train,test}.npz`` (arrays ``x`` and ``y``), or
    else ``<data_home>/CIFAR10/cifar10_{train,test}_LOSSY_jpeg_q75.npz`` (the
    same arrays, each image re-encoded once as a quality-75 JPEG: loading it
    issues a :class:`~skal.exceptions.SkalWarning` saying to report results as
    "CIFAR-10 (JPEG q75 re-encode)"), or else torchvision's
    ``<data_home>/cifar-10-batches-py`` pickles.

    Parameters
    ----------
    data_home : str or path-like, default=None
        See :func:`get_data_home`.
    train : bool, default=True
        The 50,000 training images, or the 10,000 test images.

    Returns
    -------
    X : ndarray of shape (n_samples, 32, 32, 3), dtype uint8
        The images, channels last, pixel values in ``[0, 255]``.
    y : ndarray of shape (n_samples,), dtype int64
        The classes, 0 (airplane) to 9 (truck).

    Raises
    ------
    FileNotFoundError
        Naming the paths looked at and where to get the files.

    See Also
    --------
    AugmentingCollate : Augment the training images of a skorch net.
    load_mnist : Grayscale digits, an easier benchmark.

    Examples
    --------
    >>> from skal.datasets import load_cifar10
    >>> load_cifar10(data_home="/nonexistent", train=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: CIFAR10 files not found. skal looked for:
    ...
    """
    home = get_data_home(data_home)
    split = "train" if train else "test"
    npz = home / "CIFAR10" / f"{split}.npz"
    lossy = home / "CIFAR10" / f"cifar10_{split}_LOSSY_jpeg_q75.npz"
    for path in (npz, lossy):
        if path.exists():
            if path == lossy:
                warnings.warn(
                    f"{path} holds CIFAR-10 re-encoded as quality-75 JPEG, not the "
                    "original images: report results on it as 'CIFAR-10 (JPEG q75 "
                    "re-encode)'.",
                    SkalWarning,
                    stacklevel=2,
                )
            with np.load(path) as data:
                return data["x"].astype(np.uint8), data["y"].astype(np.int64)
    batches = home / "cifar-10-batches-py"
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    paths = [batches / n for n in names]
    if not all(p.exists() for p in paths):
        raise _missing("CIFAR10", [npz, lossy, *paths])
    xs, ys = [], []
    for p in paths:
        with open(p, "rb") as f:
            batch = pickle.load(f, encoding="latin1")
        xs.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        ys.append(np.asarray(batch["labels"], dtype=np.int64))
    return np.concatenate(xs).transpose(0, 2, 3, 1).copy(), np.concatenate(ys)


def make_redundant(X, y, *, n_unique, n_redundant, factor, random_state=None):
    """A pool with exact duplicates, as in DISTIL's redundancy study (Beck et al.).

    Draws two disjoint, stratified subsets of ``(X, y)``: ``n_unique`` samples
    kept once and ``n_redundant`` samples repeated ``factor`` times each.
    Class proportions are those of ``y`` in both subsets, so only redundancy
    changes with ``factor``.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Samples.
    y : array-like of shape (n_samples,)
        Labels.
    n_unique : int
        Samples that appear once.
    n_redundant : int
        Samples that appear ``factor`` times each.
    factor : int
        Copies of each redundant sample (1 = no redundancy).
    random_state : int, RandomState instance or None, default=None
        Seed of the subsets and of the shuffle of the result.

    Returns
    -------
    X_pool : ndarray of shape (n_unique + factor * n_redundant, ...)
        The pool, shuffled.
    y_pool : ndarray of shape (n_unique + factor * n_redundant,)
        Its labels.
    source : ndarray of int
        Row of ``X`` each pool row comes from (duplicates share a source).

    See Also
    --------
    skal.DispersionSampling : Farthest-first picks: duplicates of a pick come last.
    skal.BADGE : Diversity in gradient space, robust to duplicates.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.datasets import make_redundant
    >>> X, y = np.arange(40.0).reshape(20, 2), np.repeat([0, 1], 10)
    >>> Xp, yp, source = make_redundant(X, y, n_unique=4, n_redundant=2, factor=5,
    ...                                 random_state=0)
    >>> Xp.shape, np.bincount(yp).tolist(), len(np.unique(source))
    ((14, 2), [7, 7], 6)
    """
    from sklearn.model_selection import train_test_split

    X, y = np.asarray(X), np.asarray(y)
    for name, value in (("n_unique", n_unique), ("n_redundant", n_redundant),
                        ("factor", factor)):
        if int(value) != value or value < (0 if name == "n_unique" else 1):
            raise ValueError(f"{name}={value!r} must be a positive integer.")
    if n_unique + n_redundant > len(y):
        raise ValueError(
            f"n_unique + n_redundant = {n_unique + n_redundant} is larger than the "
            f"{len(y)} samples available; lower them."
        )
    rng = check_random_state(random_state)
    rest = np.arange(len(y))
    unique = np.empty(0, dtype=int)
    if n_unique:
        rest, unique = train_test_split(rest, test_size=n_unique, stratify=y,
                                        random_state=draw_seed(rng))
    if n_redundant < len(rest):
        _, redundant = train_test_split(rest, test_size=n_redundant, stratify=y[rest],
                                        random_state=draw_seed(rng))
    else:
        redundant = rest
    source = np.concatenate([unique, np.repeat(redundant, factor)])
    source = source[rng.permutation(source.size)]
    return X[source], y[source], source


class AugmentingCollate:
    """Collate function that augments each training image with torchvision transforms.

    Pass it as skorch's ``iterator_train__collate_fn``: training batches are
    augmented (random crop with padding, horizontal flip, ...) while
    prediction, and so every query strategy, sees the images unchanged. It is
    a plain class, so nets using it clone and pickle.

    Parameters
    ----------
    *transforms : callables
        The torchvision transforms applied in order to each image tensor
        ``(C, H, W)``, e.g. ``RandomCrop(32, padding=4)``,
        ``RandomHorizontalFlip()``.

    See Also
    --------
    load_cifar10 : The images this is usually used with.
    skal.toy.LeNetModule : A small convolutional module for such images.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from torchvision.transforms import RandomCrop, RandomHorizontalFlip
    >>> from skorch import NeuralNetClassifier
    >>> from skal.datasets import AugmentingCollate
    >>> from skal.toy import LeNetModule
    >>> net = NeuralNetClassifier(
    ...     LeNetModule, module__in_channels=3, module__image_size=32,
    ...     criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.SGD,
    ...     optimizer__momentum=0.9, lr=0.01, max_epochs=1, train_split=None, verbose=0,
    ...     iterator_train__collate_fn=AugmentingCollate(
    ...         RandomCrop(32, padding=4), RandomHorizontalFlip()),
    ... )
    >>> X = np.random.RandomState(0).rand(8, 3, 32, 32).astype(np.float32)
    >>> net.fit(X, np.arange(8) % 2).predict(X).shape
    (8,)
    """

    def __init__(self, *transforms):
        self.transforms = transforms

    def __call__(self, batch):
        import torch
        from torch.utils.data import default_collate

        augmented = []
        for X, y in batch:
            X = torch.as_tensor(X)  # skorch yields NumPy rows for NumPy input
            for transform in self.transforms:
                X = transform(X)
            augmented.append((X, y))
        return default_collate(augmented)

    def __repr__(self):
        return f"AugmentingCollate{self.transforms!r}"


# -- images in a folder, as the command line reads them ------------------------


def _image_names(root):
    from torchvision.datasets.folder import IMG_EXTENSIONS

    return sorted(
        p.name for p in Path(root).iterdir()
        if p.is_file() and p.name.lower().endswith(IMG_EXTENSIONS)
    )


class ImageFiles(Dataset):
    """A flat folder of images as a map-style torch Dataset of ``(image, 0)``.

    torchvision's ``ImageFolder`` needs one subfolder per class; an unlabeled
    pool is often one flat folder. Files are sorted by name, and ``paths[i]``
    is the file of sample ``i``. Images are read as ``ImageFolder`` reads them
    (torchvision's ``default_loader``: PIL, RGB), then passed to ``transform``.

    Parameters
    ----------
    root : str or path-like
        The folder. Files whose extension is one of torchvision's image
        extensions are samples; other files and subfolders are ignored.
    transform : callable, default=None
        Applied to each PIL image, e.g. the output of :func:`image_transform`.

    Attributes
    ----------
    paths : list of str
        The file of each sample, ``root`` joined with the file name.

    See Also
    --------
    image_transform : A torchvision transform from a short text.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> from skal.datasets import ImageFiles, image_transform
    >>> folder = tempfile.mkdtemp()
    >>> for name in ("b.png", "a.png"):
    ...     Image.fromarray(np.zeros((8, 8), np.uint8)).save(f"{folder}/{name}")
    >>> pool = ImageFiles(folder, transform=image_transform("grayscale,tensor,flatten"))
    >>> len(pool), [p[-5:] for p in pool.paths]
    (2, ['a.png', 'b.png'])
    >>> pool[0][0].shape
    torch.Size([64])
    """

    def __init__(self, root, transform=None):
        self.root = str(root)
        self.transform = transform
        self.paths = [os.path.join(self.root, name) for name in _image_names(root)]

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        from torchvision.datasets.folder import default_loader

        image = default_loader(self.paths[index])
        if self.transform is not None:
            image = self.transform(image)
        return image, 0


class _Flatten:
    """One vector per image (a picklable transform step)."""

    def __call__(self, x):
        return x.reshape(-1)

    def __repr__(self):
        return "Flatten()"


class _RGB:
    """Convert a PIL image to RGB (a picklable transform step)."""

    def __call__(self, image):
        return image.convert("RGB")

    def __repr__(self):
        return "RGB()"


_STEPS = ("grayscale, rgb, resize=N or resize=HxW, center-crop=N or center-crop=HxW, "
          "tensor, normalize=MEAN:STD, flatten")


def _size(value, step):
    try:
        parts = [int(v) for v in value.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or min(parts) < 1:
        raise ValueError(
            f"transform step {step!r}: give a size N or HxW, e.g. {step.split('=')[0]}=28."
        )
    return parts[0] if len(parts) == 1 else tuple(parts)


def image_transform(spec):
    """A torchvision transform from comma-separated steps, applied in order.

    The steps: ``grayscale`` (one channel), ``rgb``, ``resize=N`` (shorter
    side to N) or ``resize=HxW``, ``center-crop=N`` or ``center-crop=HxW``,
    ``tensor`` (``ToTensor``: floats in [0, 1], channels first),
    ``normalize=MEAN:STD`` (several channels separated by ``/``:
    ``normalize=0.485/0.456/0.406:0.229/0.224/0.225``) and ``flatten`` (one
    vector per image, for an MLP). ``python -m skal rank --transform`` takes
    the same text.

    Parameters
    ----------
    spec : str
        The steps, e.g. ``"grayscale,resize=28,tensor,normalize=0.1307:0.3081,flatten"``.

    Returns
    -------
    transform : torchvision.transforms.Compose
        Picklable, so a Dataset holding it pickles too.

    Raises
    ------
    ValueError
        For an unknown step or a malformed value, naming the step.

    See Also
    --------
    ImageFiles : A flat folder of images as a Dataset.

    Examples
    --------
    >>> from skal.datasets import image_transform
    >>> image_transform("grayscale,resize=28,tensor,flatten")
    Compose(
        Grayscale(num_output_channels=1)
        Resize(size=28, interpolation=bilinear, max_size=None, antialias=True)
        ToTensor()
        Flatten()
    )
    """
    from torchvision import transforms

    steps = []
    for step in (s.strip() for s in str(spec).split(",")):
        name, _, value = step.partition("=")
        name = name.strip().lower()
        if name == "grayscale" and not value:
            steps.append(transforms.Grayscale())
        elif name == "rgb" and not value:
            steps.append(_RGB())
        elif name == "resize" and value:
            steps.append(transforms.Resize(_size(value, step)))
        elif name == "center-crop" and value:
            steps.append(transforms.CenterCrop(_size(value, step)))
        elif name == "tensor" and not value:
            steps.append(transforms.ToTensor())
        elif name == "normalize" and value:
            try:
                mean, std = ([float(v) for v in part.split("/")] for part in value.split(":"))
            except ValueError:
                raise ValueError(
                    f"transform step {step!r}: give normalize=MEAN:STD, e.g. "
                    "normalize=0.1307:0.3081 or normalize=0.485/0.456/0.406:0.229/0.224/0.225."
                ) from None
            steps.append(transforms.Normalize(mean, std))
        elif name == "flatten" and not value:
            steps.append(_Flatten())
        else:
            raise ValueError(f"unknown step {step!r}. Steps: {_STEPS}.")
    return transforms.Compose(steps)
