"""Query strategies: each is a scikit-learn estimator with fit/query/rank/transform."""

from ._adversarial import AdversarialBIM, AdversarialDeepFool
from ._badge import BADGE
from ._bald import BALD, BatchBALD
from ._coreset import CoreSet
from ._fass import FASS
from ._glister import GLISTER
from ._kmeans import KMeansPlusPlusSampling, KMeansSampling
from ._random import RandomSampling
from ._seed import DispersionSampling, FacilityLocationSampling
from ._two_stage import PartitionedStrategy, ProxyPrefilter, SubsetSampling
from ._uncertainty import EntropySampling, LeastConfidence, MarginSampling
from ._vaal import VAAL

__all__ = [
    "AdversarialBIM",
    "AdversarialDeepFool",
    "BADGE",
    "BALD",
    "BatchBALD",
    "CoreSet",
    "DispersionSampling",
    "EntropySampling",
    "FASS",
    "FacilityLocationSampling",
    "GLISTER",
    "KMeansPlusPlusSampling",
    "KMeansSampling",
    "LeastConfidence",
    "MarginSampling",
    "PartitionedStrategy",
    "ProxyPrefilter",
    "RandomSampling",
    "SubsetSampling",
    "VAAL",
]
