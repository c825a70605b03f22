"""The one place where skal imports scikit-learn's private helpers.

scikit-learn moves its private helpers between releases; importing them from a
single module keeps any future adaptation in one file.
"""

from sklearn.base import _fit_context
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.neural_network._base import ACTIVATIONS
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    RealNotInt,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import _num_samples, validate_data

__all__ = [
    "ACTIVATIONS",
    "HasMethods",
    "Hidden",
    "Interval",
    "LinearClassifierMixin",
    "RealNotInt",
    "StrOptions",
    "_fit_context",
    "_num_samples",
    "validate_data",
    "validate_params",
]
