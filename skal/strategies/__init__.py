"""Query strategies: each is a scikit-learn estimator with fit/query/rank/transform."""

from ._adversarial import AdversarialBIM, AdversarialDeepFool
from ._badge import BADGE
from ._bald import BALD, BatchBALD
from ._coreset import CoreSet
from ._glister import GLISTER
from ._kmeans import KMeansPlusPlusSampling, KMeansSampling
from ._random import RandomSampling
from ._two_stage import PartitionedStrategy, ProxyPrefilter, SubsetSampling
from ._uncertainty import EntropySampling, LeastConfidence, MarginSampling

__all__ = [
    "AdversarialBIM",
    "AdversarialDeepFool",
    "BADGE",
    "BALD",
    "BatchBALD",
    "CoreSet",
    "EntropySampling",
    "GLISTER",
    "KMeansPlusPlusSampling",
    "KMeansSampling",
    "LeastConfidence",
    "MarginSampling",
    "PartitionedStrategy",
    "ProxyPrefilter",
    "RandomSampling",
    "SubsetSampling",
]
