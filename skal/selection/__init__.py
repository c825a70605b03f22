"""Selection engines on arrays: k-means++ seeding, k-center greedy and facility location.

Eager functions return an ordering; lazy rankings yield one index at a time
and accept new points mid-way. Both run on compiled CPU kernels with exact
pruning, or in torch on a CUDA device.
"""

from ._orderings import kcenter_greedy_ordering, kmeans_plusplus_ordering
from ._ranking import KCenterGreedyRanking, KMeansPlusPlusRanking, OuterProduct
from ._submodular import FacilityLocationRanking, facility_location_ordering

__all__ = [
    "FacilityLocationRanking",
    "KCenterGreedyRanking",
    "KMeansPlusPlusRanking",
    "OuterProduct",
    "facility_location_ordering",
    "kcenter_greedy_ordering",
    "kmeans_plusplus_ordering",
]
