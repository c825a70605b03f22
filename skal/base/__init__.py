"""Base classes for writing a query strategy.

:class:`BaseStrategy` is the template every strategy follows (``_strategy.py``,
with the bases that rank by a score, select in an embedding or wrap another
strategy); the base of each family with its own machinery (adversarial attacks,
MC dropout, seed sets, representations, prefilters) has a module of its own
that builds on it. The concrete strategies, in :mod:`skal.strategies`, import
their base from here; nothing here imports them.
"""

from ._adversarial import BaseAdversarial
from ._bald import BaseBALD
from ._prefilter import BasePrefilter
from ._representation import BaseRepresentationStrategy
from ._seed import BaseSeedStrategy
from ._strategy import (
    BaseEmbeddingStrategy,
    BaseMetaStrategy,
    BaseScoreStrategy,
    BaseStrategy,
    BaseUncertaintySampling,
)

# What the strategies share besides a base: parameter text for their docstrings
# (inserted with ``Substitution``) and the lazy ranking that embeds added samples.
from ._strategy import (  # noqa: F401
    _DEVICE_DOC,
    _KMEANSPP_METHOD_DOC,
    _LAYER_DOC,
    _META_ATTRIBUTES_DOC,
    _META_OWNER_DOC,
    _META_PARAMS_DOC,
    _META_STRATEGY_DOC,
    _RANDOM_STATE_INNER,
    _SHARED_PARAMS_DOC,
    _StrategyRanking,
)

__all__ = [
    "BaseAdversarial",
    "BaseBALD",
    "BaseEmbeddingStrategy",
    "BaseMetaStrategy",
    "BasePrefilter",
    "BaseRepresentationStrategy",
    "BaseScoreStrategy",
    "BaseSeedStrategy",
    "BaseStrategy",
    "BaseUncertaintySampling",
]
