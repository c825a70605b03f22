"""skal: deep active learning as a first-class citizen of scikit-learn.

Query strategies are scikit-learn estimators (``fit`` / ``query`` / ``rank`` /
``transform``) that work on any skorch-wrapped PyTorch network or any
scikit-learn classifier; :class:`ActiveLearner` runs labeling rounds.
"""

from ._config import config_context, get_config, set_config
from .base import BaseStrategy
from .learner import ActiveLearner
from .stopping import (
    MaxUncertainty,
    MinExpectedError,
    StabilizingPredictions,
    ValidationPlateau,
)
from . import strategies
from .strategies import *  # noqa: F403 - every strategy, as listed by the package
from .strategies import all_strategies

__version__ = "0.1.0"

__all__ = sorted(
    [
        "ActiveLearner",
        "BaseStrategy",
        "MaxUncertainty",
        "MinExpectedError",
        "StabilizingPredictions",
        "ValidationPlateau",
        "all_strategies",
        "config_context",
        "get_config",
        "set_config",
    ]
    + strategies.__all__
) + ["__version__"]
