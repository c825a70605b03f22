"""skal: deep active learning as a first-class citizen of scikit-learn.

Query strategies are scikit-learn estimators (``fit`` / ``query`` / ``rank`` /
``transform``) that work on any skorch-wrapped PyTorch network or any
scikit-learn classifier; :class:`ActiveLearner` runs labeling rounds.
"""

import inspect

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


def all_strategies():
    """All public, concrete query strategies that stand on their own.

    Returns
    -------
    strategies : list of (name, class) tuples
        Sorted by name; abstract base classes are never included, nor the
        meta-strategies that wrap another strategy (``SubsetSampling``,
        ``ProxyPrefilter``, ``PartitionedStrategy``: they need one to exist).

    Examples
    --------
    >>> from skal import all_strategies
    >>> [name for name, _ in all_strategies()]
    ['AdversarialBIM', 'AdversarialDeepFool', 'BADGE', 'BALD', 'BatchBALD', 'CoreSet', 'DispersionSampling', 'EntropySampling', 'FASS', 'FacilityLocationSampling', 'GLISTER', 'KMeansPlusPlusSampling', 'KMeansSampling', 'LeastConfidence', 'MarginSampling', 'RandomSampling', 'VAAL']
    """
    found = [
        (name, obj)
        for name, obj in ((name, getattr(strategies, name)) for name in strategies.__all__)
        if inspect.isclass(obj)
        and issubclass(obj, BaseStrategy)
        and not inspect.isabstract(obj)
        and not name.startswith(("Base", "_"))
        and not getattr(obj, "_wraps_strategy", False)
    ]
    return sorted(found)
