"""skal: deep active learning as a first-class citizen of scikit-learn.

Query strategies are scikit-learn estimators (``fit`` / ``query`` / ``rank`` /
``transform``) that work on any skorch-wrapped PyTorch network or any
scikit-learn classifier; :class:`ActiveLearner` runs labeling rounds.

The names of this namespace are imported on first use (PEP 562), so that
``import skal`` and ``python -m skal --help`` do not pay for torch and
scikit-learn before a strategy or the learner is asked for.
"""

import importlib

from ._config import config_context, get_config, set_config

__version__ = "0.1.0"

# name -> the module that defines it; the strategies are found by their package
_LAZY = {
    "ActiveLearner": "skal.learner",
    "BaseStrategy": "skal.base",
    "MaxUncertainty": "skal.stopping",
    "MinExpectedError": "skal.stopping",
    "StabilizingPredictions": "skal.stopping",
    "ValidationPlateau": "skal.stopping",
    "all_strategies": "skal.strategies",
}
_SUBMODULES = {"base", "datasets", "embeddings", "exceptions", "inspection", "labeling",
               "learner", "metrics", "model_selection", "plotting", "selection",
               "stopping", "strategies", "toy", "uncertainty", "utils"}


def _public_names():
    strategies = importlib.import_module("skal.strategies")
    names = {"config_context", "get_config", "set_config", *_LAZY, *strategies.__all__}
    return sorted(names) + ["__version__"]


def __getattr__(name):
    if name == "__all__":
        value = _public_names()
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"skal.{name}")
    elif not name.startswith("__"):
        strategies = importlib.import_module("skal.strategies")
        if name not in strategies.__all__:
            raise AttributeError(f"module 'skal' has no attribute {name!r}")
        value = getattr(strategies, name)
    else:
        raise AttributeError(f"module 'skal' has no attribute {name!r}")
    globals()[name] = value  # looked up once
    return value


def __dir__():
    return sorted(set(globals()) | set(__getattr__("__all__")))
