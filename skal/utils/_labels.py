"""The unlabeled marker: which entries of ``y`` are not labels, and scores without them.

``ActiveLearner`` marks unlabeled samples with ``missing_label`` (-1 by
default; None or NaN for "a missing value"; any string). These are the rules
it reads ``y`` by, shared with every score of skal (``ActiveLearner.score``,
the learning-curve scorer of :mod:`skal.metrics`), which leaves the marked
entries out.
"""

import warnings
from numbers import Number

import numpy as np
from sklearn.utils.validation import column_or_1d

from ..exceptions import UnlabeledScoreWarning
from ._data import num_samples, take


def _is_missing(value):
    """None, NaN, pd.NA or pd.NaT."""
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return value != value
    return type(value).__name__ in ("NAType", "NaTType")


def _is_number(value):
    return isinstance(value, Number) and not isinstance(value, (bool, np.bool_))


def _marks_missing_values(missing_label):
    """True for ``None`` and NaN: the marker is "a missing value"."""
    return missing_label is None or (_is_number(missing_label) and missing_label != missing_label)


def _as_number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _labels(y):
    """``y`` as a 1-D array that keeps every label's type.

    NumPy turns a list of strings with an integer ``-1`` into strings
    (``'-1'``); such a list becomes an object array instead.
    """
    if y is None:
        raise ValueError(
            "ActiveLearner requires y to be passed, but the target y is None. Pass the "
            "labels, with missing_label (-1 by default) for unlabeled samples."
        )
    array = np.asarray(y)
    if array.ndim == 1 and array.dtype.kind in "US" and not isinstance(y, np.ndarray):
        as_objects = np.asarray(y, dtype=object)
        if any(not isinstance(v, str) for v in as_objects):
            array = as_objects
    return column_or_1d(array, warn=True)


def _unlabeled_mask(y, missing_label):
    """Boolean mask of the samples ``missing_label`` marks in ``y``.

    Raises a ValueError where the marker is ambiguous: missing values the
    marker does not match, or strings that read as a numeric marker.
    """
    n, kind = len(y), y.dtype.kind
    if kind == "f":
        missing = np.isnan(y)
    elif kind == "O":
        missing = np.fromiter((_is_missing(v) for v in y), bool, n)
    else:
        missing = np.zeros(n, dtype=bool)
    if _marks_missing_values(missing_label):
        return missing
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        value = y[i].item() if isinstance(y[i], np.generic) else y[i]
        raise ValueError(
            f"y[{i}] is {value!r}, a missing value, but missing_label={missing_label!r} "
            "marks the unlabeled samples. Pass missing_label=None to mark unlabeled "
            f"samples with None, NaN or pd.NA, or mark them with {missing_label!r}."
        )
    if isinstance(missing_label, str):
        if kind in "US":
            return y == missing_label
        if kind == "O":
            return np.fromiter((isinstance(v, str) and v == missing_label for v in y), bool, n)
        number = _as_number(missing_label)
        if number is not None and kind in "iuf" and np.any(y == number):
            raise ValueError(
                f"missing_label={missing_label!r} is a string, but y holds numbers, "
                f"among them {number:g}. Pass missing_label={number:g} if {number:g} marks "
                "the unlabeled samples."
            )
        return np.zeros(n, dtype=bool)
    # a numeric marker
    if kind in "iufb":
        return y == missing_label
    if kind == "O":
        labels = {str(v) for v in y if isinstance(v, str)}
    else:
        labels = set(np.unique(y).tolist())
    clashes = sorted((v for v in labels if _as_number(v) == missing_label), key=repr)
    if clashes:
        text = clashes[0]
        raise ValueError(
            f"y holds labels as strings, and {text!r} reads as missing_label="
            f"{missing_label!r}, which is a number: is {text!r} an unlabeled marker or a "
            f"class? (NumPy turns {missing_label!r} into {text!r} in an array of strings.) "
            f"If {text!r} marks the unlabeled samples, pass missing_label={text!r}; if "
            "it is a class, mark the unlabeled samples with None and pass "
            "missing_label=None."
        )
    if kind == "O":
        return np.fromiter((_is_number(v) and v == missing_label for v in y), bool, n)
    return np.zeros(n, dtype=bool)


def _labeled_part(X, y, sample_weight, missing_label, scored_by):
    """``X``, ``y`` and ``sample_weight`` without the entries ``missing_label`` marks.

    Every score of skal goes through it (``ActiveLearner.score``, the
    validation score of ``fit``, the learning-curve scorer): the entries of
    ``y`` that ``missing_label`` marks (by the rules of ``fit``) are not a
    class, and are left out, with one
    :class:`~skal.exceptions.UnlabeledScoreWarning` saying how many. A ``y``
    with no labeled entry raises a ValueError. Where every entry is labeled,
    the arguments are returned as they are. ``scored_by`` names the score in
    the messages.
    """
    labels = _labels(y)
    unlabeled = _unlabeled_mask(labels, missing_label)
    n_unlabeled, n = int(unlabeled.sum()), len(labels)
    if n_unlabeled == 0:
        return X, y, sample_weight
    if n_unlabeled == n:
        raise ValueError(
            f"Every entry of y ({n}) is marked missing_label={missing_label!r} "
            f"(unlabeled): {scored_by} has nothing to score. Score on samples whose "
            "labels are known, e.g. a held-out labeled set, or the labeled part "
            "X[y != missing_label], y[y != missing_label]."
        )
    if n != num_samples(X):
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{num_samples(X)}, {n}]. Pass one label per sample of X."
        )
    warnings.warn(
        f"{n_unlabeled} of the {n} entries of y are marked missing_label="
        f"{missing_label!r} (unlabeled); {scored_by} ignores them and scores the "
        f"{n - n_unlabeled} labeled samples only. Pass labeled samples only to "
        "avoid this warning.",
        UnlabeledScoreWarning,
        stacklevel=3,
    )
    keep = np.flatnonzero(~unlabeled)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight)[keep]
    return take(X, keep), labels[keep], sample_weight
