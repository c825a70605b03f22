"""Selection engines on arrays: k-means++ seeding, k-center greedy and facility location.

Eager functions return an ordering; lazy rankings yield one index at a time
and accept new points mid-way. Every lazy ranking is a :class:`BaseRanking`;
:class:`ScoreRanking` and :class:`CandidateRanking` are the building blocks
strategies share. Both run on compiled CPU kernels with exact
pruning, or in torch on a CUDA device.
"""

from ._lazy import BaseRanking, CandidateRanking, ScoreRanking
from ._orderings import kcenter_greedy_ordering, kmeans_plusplus_ordering
from ._ranking import KCenterGreedyRanking, KMeansPlusPlusRanking, OuterProduct
from ._submodular import FacilityLocationRanking, facility_location_ordering

__all__ = [
    "BaseRanking",
    "CandidateRanking",
    "FacilityLocationRanking",
    "KCenterGreedyRanking",
    "KMeansPlusPlusRanking",
    "OuterProduct",
    "ScoreRanking",
    "facility_location_ordering",
    "kcenter_greedy_ordering",
    "kmeans_plusplus_ordering",
]
