"""Query strategies: each is a scikit-learn estimator with fit/query/rank/transform."""

from ._badge import BADGE
from ._coreset import CoreSet
from ._kmeans import KMeansPlusPlusSampling, KMeansSampling
from ._random import RandomSampling
from ._two_stage import PartitionedStrategy, ProxyPrefilter, SubsetSampling
from ._uncertainty import EntropySampling, LeastConfidence, MarginSampling

__all__ = [
    "BADGE",
    "CoreSet",
    "EntropySampling",
    "KMeansPlusPlusSampling",
    "KMeansSampling",
    "LeastConfidence",
    "MarginSampling",
    "PartitionedStrategy",
    "ProxyPrefilter",
    "RandomSampling",
    "SubsetSampling",
]
