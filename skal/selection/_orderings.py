"""Public, validated selection functions on arrays."""

from numbers import Integral

import numpy as np
import torch

from ..utils._sklearn_compat import HasMethods, Interval, StrOptions, validate_params
from ._ranking import KCenterGreedyRanking, KMeansPlusPlusRanking, OuterProduct

__all__ = ["kmeans_plusplus_ordering", "kcenter_greedy_ordering"]


_POINTS = ["array-like", HasMethods(["detach"]), OuterProduct]
_DEVICE = [str, torch.device, None]  # 'cpu', 'cuda', 'auto', torch.device
_DTYPE = [type, np.dtype, str]


def _check_n_select(n_select, n):
    if n_select is None:
        return n
    if n_select > n:
        raise ValueError(
            f"n_select={n_select} is larger than the number of points ({n}); "
            f"pass n_select <= {n}, or None for a full ordering."
        )
    return n_select


@validate_params(
    {
        "X": _POINTS,
        "n_select": [Interval(Integral, 1, None, closed="left"), None],
        "init": [StrOptions({"largest_norm", "random"})],
        "random_state": ["random_state"],
        "device": _DEVICE,
        "dtype": _DTYPE,
        "method": [StrOptions({"auto", "lazy", "scan"})],
    },
    prefer_skip_nested_validation=True,
)
def kmeans_plusplus_ordering(
    X, n_select=None, *, init="largest_norm", random_state=None, device="cpu",
    dtype=np.float32, method="auto",
):
    """Order points by k-means++ seeding (exact D² sampling).

    The first point is the one of largest norm (as in BADGE, Ash et al. 2020)
    or a uniformly random one; each next point is drawn with probability
    proportional to its squared distance to the nearest point already chosen.
    A chosen point is never chosen again; when only exact duplicates of chosen
    points remain (all distances zero), the next is drawn uniformly among the
    points not yet chosen. The first ``k`` of the ordering for a seed do not
    depend on ``n_select``.

    The sampling is exact. By default each pick is drawn by rejection: a
    candidate is proposed from stale upper bounds on the distances (which
    only shrink as centers are added), brought up to date, and accepted with
    probability D² / bound, so only the points examined are updated
    (``"lazy"``; docs/engine.md). With ``method="scan"`` the cumulative sum of
    D² is walked in index order through per-block sums (``O(n/B + B)`` per
    draw), and distance updates that the triangle inequality proves useless
    are skipped (an exact acceleration in the spirit of Raff 2021: a point
    ``x`` cannot get closer to a new center ``c`` than ``|‖x‖ − ‖c‖|``, nor,
    for outer products, than the bound from ``|⟨e_x, e_c⟩|``).

    Parameters
    ----------
    X : array-like or torch tensor of shape (n_samples, n_features), or OuterProduct
        The points. An :class:`OuterProduct` ``(h, e)`` stands for the rows
        ``h_i ⊗ e_i`` (BADGE's gradient embeddings) without building them.
    n_select : int, default=None
        How many points to order; ``None`` orders all of them.
    init : {"largest_norm", "random"}, default="largest_norm"
        How the first point is chosen. Ties in norm go to the lowest index.
    random_state : int, RandomState instance or None, default=None
        Seed of the D² draws (one uniform number per step).
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where distances are computed: compiled CPU kernels, or torch on a
        GPU. ``"cuda"`` without a GPU falls back to the CPU with a
        :class:`~skal.exceptions.DeviceWarning`; ``"auto"`` picks CUDA when
        available.
    dtype : numpy dtype, default=np.float32
        Storage type of the points; distances accumulate in float64.
    method : {"auto", "lazy", "scan"}, default="auto"
        How each pick is drawn: by rejection from stale upper bounds
        (``"lazy"``), the same until the scan is cheaper (``"auto"``), or
        by a pass over every point with one uniform number per pick
        (``"scan"``, the ordering of skal 0.1.0). See
        :class:`KMeansPlusPlusRanking`.

    Returns
    -------
    order : ndarray of shape (n_select,)
        Indices into ``X``, unique, in the order chosen.

    See Also
    --------
    KMeansPlusPlusRanking : The same ordering, lazily, on a pool that can grow.
    sklearn.cluster.kmeans_plusplus : K-means++ centers (with local trials).
    kcenter_greedy_ordering : Deterministic farthest-first ordering.

    References
    ----------
    .. [1] D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful
       seeding", SODA 2007.
    .. [2] E. Raff, "Exact Acceleration of K-Means++ and K-Means||", IJCAI 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.selection import kmeans_plusplus_ordering
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [-4.0, 4.0]])
    >>> kmeans_plusplus_ordering(X, random_state=0)
    array([2, 3, 1, 0])
    """
    ranking = KMeansPlusPlusRanking(
        X, init=init, random_state=random_state, device=device, dtype=dtype, method=method
    )
    return ranking.take(_check_n_select(n_select, ranking.n_points))


@validate_params(
    {
        "X": _POINTS[:2],
        "n_select": [Interval(Integral, 1, None, closed="left"), None],
        "X_centers": ["array-like", HasMethods(["detach"]), None],
        "random_state": ["random_state"],
        "device": _DEVICE,
        "dtype": _DTYPE,
        "method": [StrOptions({"auto", "lazy", "scan"})],
    },
    prefer_skip_nested_validation=True,
)
def kcenter_greedy_ordering(
    X, n_select=None, *, X_centers=None, random_state=None, device="cpu", dtype=np.float32,
    method="auto",
):
    """Order points farthest-first (k-center greedy, Sener & Savarese 2018).

    Each next point is the one whose distance to the nearest center (the rows
    of ``X_centers`` and the points chosen so far) is largest; ties go to the
    lowest index. With no ``X_centers``, the first point is drawn uniformly at
    random and the rest is deterministic.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The points to order.
    n_select : int, default=None
        How many points to order; ``None`` orders all of them.
    X_centers : array-like of shape (n_centers, n_features), default=None
        Existing centers, e.g. the embeddings of the labeled set. ``None`` or
        zero rows means no centers.
    random_state : int, RandomState instance or None, default=None
        Seed for the first point when there are no centers.
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where distances are computed (see :func:`kmeans_plusplus_ordering`).
    dtype : numpy dtype, default=np.float32
        Storage type of the points; distances accumulate in float64. Exact
        ties are ties of the stored values.
    method : {"auto", "lazy", "scan"}, default="auto"
        How the farthest point is found: lazy greedy over stale upper bounds,
        the same until the scan is cheaper, or the scan. The order is the
        same for all three.

    Returns
    -------
    order : ndarray of shape (n_select,)
        Indices into ``X``, unique, in the order chosen.

    See Also
    --------
    KCenterGreedyRanking : The same ordering, lazily, on a pool that can grow.
    kmeans_plusplus_ordering : A randomized, D²-weighted counterpart.
    skal.CoreSet : The strategy built on it.

    References
    ----------
    .. [1] O. Sener and S. Savarese, "Active Learning for Convolutional Neural
       Networks: A Core-Set Approach", ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.selection import kcenter_greedy_ordering
    >>> X = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> kcenter_greedy_ordering(X, X_centers=np.array([[0.0]]))
    array([3, 2, 1, 0])
    """
    ranking = KCenterGreedyRanking(
        X, X_centers=X_centers, random_state=random_state, device=device, dtype=dtype,
        method=method,
    )
    return ranking.take(_check_n_select(n_select, ranking.n_points))
