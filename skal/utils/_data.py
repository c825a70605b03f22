"""Pools as users hold them: what kind of object ``X`` is, its length, its rows.

skal passes a pool to the estimator as the user gave it whenever the estimator
can read it (a skorch net reads arrays, tensors, ``torch.utils.data.Dataset``s,
dicts of arrays and DataFrames through its own batching), and converts it to a
NumPy array only where the selection needs the numbers themselves. The helpers
here are the one place that knows these kinds:

- :func:`pool_kind` names the kind, or raises an error that lists the
  supported ones;
- :func:`num_samples` is the number of samples of any supported kind;
- :func:`take` selects rows without copying a Dataset (a
  ``torch.utils.data.Subset`` of it, flattened when the Dataset is already
  one).
"""

import numbers

import numpy as np
import scipy.sparse as sp
import torch

from ._sklearn_compat import _num_samples

__all__ = [
    "SUPPORTED_POOLS",
    "is_dataset",
    "is_numeric_frame",
    "num_samples",
    "pool_kind",
    "take",
    "with_labels",
]

SUPPORTED_POOLS = (
    "a NumPy array (or anything np.asarray turns into a numeric array), a scipy "
    "sparse matrix, a torch.Tensor, a map-style torch.utils.data.Dataset (e.g. "
    "TensorDataset, torchvision's ImageFolder or MNIST, or your own Dataset "
    "returning (x, y)), a dict of arrays with one row per sample, or a pandas "
    "DataFrame"
)


def is_dataset(X):
    """Whether ``X`` is a map-style ``torch.utils.data.Dataset``."""
    return isinstance(X, torch.utils.data.Dataset) and not isinstance(
        X, torch.utils.data.IterableDataset
    )


def _is_frame(X):
    return hasattr(X, "iloc") and hasattr(X, "columns")


def _is_series(X):
    return hasattr(X, "iloc") and not hasattr(X, "columns")


def pool_kind(X, name="X"):
    """One of ``"array"``, ``"sparse"``, ``"tensor"``, ``"dataset"``, ``"frame"``,
    ``"dict"`` or ``"array-like"`` (a list, tuple or other sequence numbers come
    from); raises ``TypeError``/``ValueError`` naming the type otherwise.
    """
    if isinstance(X, np.ndarray):
        return "array"
    if sp.issparse(X):
        return "sparse"
    if isinstance(X, torch.Tensor):
        return "tensor"
    if isinstance(X, torch.utils.data.IterableDataset):
        raise TypeError(
            f"{name} is an IterableDataset ({type(X).__name__}), which has no "
            "positions to return as picks. Use a map-style Dataset (with __len__ "
            f"and __getitem__). Supported pools: {SUPPORTED_POOLS}."
        )
    if isinstance(X, torch.utils.data.Dataset):
        return "dataset"
    if _is_frame(X) or _is_series(X):
        return "frame"
    if isinstance(X, dict):
        if not X:
            raise ValueError(f"{name} is an empty dict; it holds no samples.")
        return "dict"
    if hasattr(X, "__array__") and not isinstance(X, (str, bytes)):
        return "array-like"  # NumPy's array protocol (e.g. xarray, array wrappers)
    if (
        X is None
        or isinstance(X, (str, bytes, numbers.Number))
        or not hasattr(X, "__len__")
        or not hasattr(X, "__getitem__")
    ):
        raise TypeError(
            f"{name} of type {type(X).__name__} is not a pool of samples. Supported "
            f"pools: {SUPPORTED_POOLS}."
        )
    first = X[0] if hasattr(X, "__getitem__") and len(X) else None
    if isinstance(first, (str, bytes)):
        raise TypeError(
            f"{name} is a {type(X).__name__} of strings (e.g. {first!r}), not of "
            "samples. For files on disk, wrap them in a torch Dataset that loads "
            "them, e.g. torchvision.datasets.ImageFolder for a folder of images. "
            f"Supported pools: {SUPPORTED_POOLS}."
        )
    return "array-like"


def num_samples(X):
    """Number of samples in a pool of any supported kind."""
    kind = pool_kind(X)
    if kind == "dict":
        lengths = {key: len(value) for key, value in X.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(
                f"The dict pool's arrays have different lengths {lengths}; each value "
                "must hold one row per sample."
            )
        return next(iter(lengths.values()))
    if kind in ("array", "sparse", "tensor"):
        if X.ndim == 0:
            raise ValueError(
                "The pool is a 0-d array (a single number), not a pool of samples."
            )
        return X.shape[0]
    if kind == "array-like":
        return _num_samples(X)
    return len(X)


def take(X, indices):
    """Rows ``indices`` of ``X``, of the same kind; a Dataset is never copied.

    A Dataset gives a ``torch.utils.data.Subset`` (of the underlying dataset
    when ``X`` is itself a plain ``Subset``, so that rounds of selection do not
    nest subsets); a DataFrame or Series its ``iloc`` rows; a dict the rows of
    each value.
    """
    indices = np.asarray(indices, dtype=np.intp)
    kind = pool_kind(X)
    if kind == "dataset":
        if type(X) is torch.utils.data.Subset:
            parent = np.asarray(X.indices, dtype=np.intp)
            return torch.utils.data.Subset(X.dataset, parent[indices].tolist())
        return torch.utils.data.Subset(X, indices.tolist())
    if kind == "frame":
        return X.iloc[indices]
    if kind == "dict":
        return {key: take(value, indices) for key, value in X.items()}
    if kind == "tensor":
        return X[torch.as_tensor(indices, device=X.device)]
    if kind == "array-like":
        return [X[i] for i in indices]
    return X[indices]


def is_numeric_frame(X):
    """Whether every column of a DataFrame (or a Series) holds numbers."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    dtypes = X.dtypes if hasattr(X, "columns") else [X.dtype]
    return all(is_numeric_dtype(d) and not is_bool_dtype(d) for d in dtypes)


class LabeledDataset(torch.utils.data.Dataset):
    """A Dataset whose items are ``(x, y[i])``: ``x`` from the user's Dataset.

    skorch trains on ``(x, y)`` pairs. A user's Dataset may hold placeholder
    targets for unlabeled samples (or none at all), so the labels skal trains
    on come from the ``y`` array it was given, never from the Dataset.
    """

    def __init__(self, dataset, y):
        self.dataset = dataset
        self.y = y

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        item = self.dataset[i]
        x = item[0] if isinstance(item, (tuple, list)) else item
        return x, self.y[i]


def with_labels(X, y):
    """``X`` to fit on with labels ``y``: a Dataset yields ``(x, y[i])`` pairs."""
    if y is None or not is_dataset(X):
        return X
    return LabeledDataset(X, np.asarray(y))
