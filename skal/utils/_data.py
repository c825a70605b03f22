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
  one);
- :func:`check_pool` is the one pool check of every entry point (strategies'
  ``fit``/``query``/``rank``/``transform``, :class:`~skal.ActiveLearner`,
  :mod:`skal.model_selection`): it decides whether the pool goes on as given
  or as a validated NumPy array, and says so clearly when neither can work.
"""

import numbers

import numpy as np
import scipy.sparse as sp
import torch

from sklearn.utils.validation import check_array, column_or_1d

from ._sklearn_compat import _num_samples, validate_data

__all__ = [
    "SUPPORTED_POOLS",
    "check_pool",
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
    if (
        isinstance(first, tuple)
        and first
        and isinstance(first[0], (torch.Tensor, np.ndarray))
    ):
        raise TypeError(
            f"{name} is a {type(X).__name__} of (x, y) pairs, the items of a torch "
            "Dataset: scikit-learn's cross-validation (GridSearchCV, cross_validate) "
            "indexes a Dataset row by row into such a list. Wrap the Dataset in "
            "skorch.helper.SliceDataset(dataset) for scikit-learn's model selection, "
            "or pass the samples as a NumPy array or torch tensor."
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


def _non_numeric_columns(X):
    """Names of the columns of a DataFrame (or a Series) that do not hold numbers."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if not hasattr(X, "columns"):
        return [X.name]
    return [
        column for column, dtype in X.dtypes.items()
        if not is_numeric_dtype(dtype) or is_bool_dtype(dtype)
    ]


def _as_given(X, kind, reader, needs_values, owner_name):
    """Whether the pool goes on as given (True) or as a validated array (False).

    Raises the errors that name the fix when neither can work.
    """
    mixed = kind == "frame" and not is_numeric_frame(X)
    if needs_values is not None:
        if kind in ("dataset", "dict"):
            raise ValueError(
                f"{owner_name} cannot take a pool of type {type(X).__name__}: "
                f"{needs_values} Pass the samples as a NumPy array or torch tensor."
            )
        if mixed:
            raise ValueError(
                f"{owner_name} cannot take a DataFrame with non-numeric columns "
                f"{_non_numeric_columns(X)}: {needs_values} Encode those columns as "
                "numbers first (e.g. with a ColumnTransformer and OneHotEncoder) and "
                "pass the result as a NumPy array."
            )
        return False
    if reader is None:
        # nothing but the caller reads the pool: a Dataset, a dict or a frame with
        # text cannot become one numeric array, and need not (only their length counts)
        return kind in ("dataset", "dict") or mixed
    from ._readers import _is_skorch_net, _reads_as_given, _unwrap

    as_given = _reads_as_given(X, kind, reader)
    net = _unwrap(reader)
    if as_given and mixed and _is_skorch_net(net):
        columns = _non_numeric_columns(X)
        raise ValueError(
            f"{type(net).__name__} cannot read the DataFrame with non-numeric columns "
            f"{columns}: a skorch net turns every column into a tensor of numbers. "
            "Encode them in a Pipeline before the net, e.g. make_pipeline("
            f"make_column_transformer((OneHotEncoder(sparse_output=False), {columns}), "
            "remainder=StandardScaler()), FunctionTransformer(np.float32), net), or "
            "pass a numeric array."
        )
    return as_given


def check_pool(
    X,
    y="no_validation",
    *,
    reader=None,
    owner=None,
    reset=False,
    needs_values=None,
    accept_sparse=False,
    name="X",
):
    """Check a pool of any supported kind, the one way every entry point does.

    Strategies (``fit``, ``query``, ``rank``, ``transform``, ``lazy_rank``),
    :class:`~skal.ActiveLearner` and :mod:`skal.model_selection` all call it.
    It checks the kind of ``X`` and that it holds samples, then decides how
    the pool goes on:

    - **as given**, when the estimator that reads it reads it as the user holds
      it (a torch Dataset or a dict for a skorch net, a tensor for a skorch
      net, a DataFrame for a Pipeline or an estimator fitted with feature
      names), or when nothing but its length is read (``reader=None``) and it
      cannot be one numeric array (a Dataset, a dict, a DataFrame with text
      columns); the owner then records or checks only the number of features
      and the column names;
    - **validated** into a NumPy array (or a sparse matrix) otherwise, as
      scikit-learn estimators validate their input: through ``validate_data``
      on ``owner`` (which records ``n_features_in_`` and
      ``feature_names_in_`` when ``reset``, and checks them when not).

    The caller's object is never modified, and a returned array is never a
    read-only view (torch warns on those: pandas' copy-on-write, joblib's
    memory maps).

    Parameters
    ----------
    X : pool of shape (n_samples, ...)
        A NumPy array (or anything ``np.asarray`` turns into a numeric array),
        a scipy sparse matrix, a ``torch.Tensor``, a map-style
        ``torch.utils.data.Dataset``, a dict of arrays with one row per sample
        or a pandas DataFrame.

    y : array-like of shape (n_samples,) or "no_validation", \
            default="no_validation"
        Labels checked against ``X`` (one per sample, 1-D): then ``(X, y)`` is
        returned. ``"no_validation"`` checks ``X`` alone and returns it.

    reader : estimator object, default=None
        The estimator that reads the pool (a Pipeline, a skorch net, a
        scikit-learn classifier; fitted or not). ``None`` means that nothing
        reads it but the caller, which only needs its length or its values.

    owner : estimator object, default=None
        The skal estimator checking the pool (a strategy or
        :class:`~skal.ActiveLearner`): it records (``reset=True``) or is
        checked against (``reset=False``) ``n_features_in_`` and
        ``feature_names_in_``, and is named in the errors.

    reset : bool, default=False
        Whether this is ``fit``'s pool (record) or a later one (check).

    needs_values : str, default=None
        Why ``owner`` reads the numbers of the pool itself, not only through
        ``reader`` (e.g. an attack that perturbs the samples); None if it does
        not. Such an owner refuses pools that are not numbers, with this
        reason in the error.

    accept_sparse : bool, default=False
        Whether a scipy sparse matrix is accepted (as CSR or CSC).

    name : str, default="X"
        The name of the pool in the errors.

    Returns
    -------
    X : pool
        ``X`` itself, or its validated NumPy array (or sparse matrix).

    y : ndarray of shape (n_samples,)
        The validated labels; only when ``y`` is given.

    Raises
    ------
    TypeError
        If ``X`` is not a supported pool (the message lists them).
    ValueError
        If ``X`` is empty, has another number of samples than ``y``, does not
        have the features ``owner`` or ``reader`` was fitted on, or is a kind
        the reader cannot read (the message names the fix).

    See Also
    --------
    pool_kind : The kind of a pool, and the list of supported ones.
    take : Rows of a pool, of the same kind.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skal.utils._data import check_pool
    >>> check_pool([[0, 1], [2, 3]])
    array([[0, 1],
           [2, 3]])
    >>> frame = pd.DataFrame({"size": [0.5, 1.5], "region": ["north", "south"]})
    >>> check_pool(frame) is frame  # nothing reads it: text columns stay as they are
    True
    >>> check_pool(frame[:0])
    Traceback (most recent call last):
    ...
    ValueError: The pool X is empty (0 samples); pass at least one sample.
    """
    kind = pool_kind(X, name)
    owner_name = "skal" if owner is None else type(owner).__name__
    n_samples = num_samples(X)
    if n_samples == 0:
        to = "" if owner is None else f" to {owner_name}"
        raise ValueError(
            f"The pool {name} is empty (0 samples); pass at least one sample{to}."
        )
    validate_y = not (isinstance(y, str) and y == "no_validation")
    if validate_y and _num_samples(y) != n_samples:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{n_samples}, {_num_samples(y)}]. Pass one label per sample of {name}."
        )
    if _as_given(X, kind, reader, needs_values, owner_name):
        if owner is not None and kind in ("dataset", "dict"):
            # no features to count (a Dataset's items are whatever it returns): as
            # scikit-learn's rule, n_features_in_ is set only for inputs with features
            if reset:
                for attribute in ("n_features_in_", "feature_names_in_"):
                    owner.__dict__.pop(attribute, None)
        elif owner is not None and (reset or hasattr(owner, "n_features_in_")):
            # only the number of features and the column names, where X has them
            validate_data(owner, X, reset=reset, skip_check_array=True)
        return (X, column_or_1d(y, warn=True)) if validate_y else X
    params = dict(
        accept_sparse=["csr", "csc"] if accept_sparse else False,
        allow_nd=True,
        dtype="numeric",
    )
    if owner is not None and (reset or hasattr(owner, "n_features_in_")):
        if validate_y:
            X, y = validate_data(
                owner, X, y, reset=reset, multi_output=False, y_numeric=False, **params
            )
        else:
            X = validate_data(owner, X, reset=reset, **params)
    else:  # e.g. a prefit strategy never fitted: nothing recorded to compare with
        X = check_array(X, estimator=owner, input_name=name, **params)
        if validate_y:
            y = column_or_1d(y, warn=True)
    expected = getattr(reader, "n_features_in_", None)
    if (
        not hasattr(owner, "n_features_in_")
        and expected is not None
        and X.ndim == 2
        and X.shape[1] != expected
    ):
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the estimator "
            f"{type(reader).__name__} was fitted on {expected}; pass a pool with the "
            "same features as the training data."
        )
    if isinstance(X, np.ndarray) and not X.flags.writeable:
        X = X.copy()
    return (X, y) if validate_y else X


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
