"""Lazy rankings: pool indices one at a time, in priority order, on a pool that grows."""

import numpy as np
from sklearn.utils import check_random_state
from skorch.utils import is_torch_data_type, to_numpy

from ..utils._device import resolve_device
from ..utils._sklearn_compat import StrOptions, validate_params
from ._backends import get_backend
from ._lazy import BaseRanking

__all__ = ["OuterProduct", "KMeansPlusPlusRanking", "KCenterGreedyRanking"]


class OuterProduct:
    """Points ``g_i = h_i ⊗ e_i`` given by their factors, never materialized.

    Pass it wherever the selection functions take ``X``: distances are then
    computed as ``‖g_i − g_j‖² = ‖h_i‖²‖e_i‖² + ‖h_j‖²‖e_j‖² − 2⟨h_i,h_j⟩⟨e_i,e_j⟩``,
    in ``O(H + C)`` per pair instead of ``O(H·C)``. BADGE's gradient
    embeddings have this form.

    Parameters
    ----------
    h : array-like of shape (n_samples, n_h)
        First factors (for BADGE: the penultimate embedding, with a 1 for the bias).
    e : array-like of shape (n_samples, n_e)
        Second factors (for BADGE: ``p − onehot(argmax p)``).

    See Also
    --------
    skal.embeddings.gradient_embedding : BADGE's factors, with ``return_factors=True``.
    kmeans_plusplus_ordering : An ordering that takes it as ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.selection import OuterProduct, kmeans_plusplus_ordering
    >>> rng = np.random.RandomState(0)
    >>> h, e = rng.rand(6, 3), rng.rand(6, 2)
    >>> dense = np.einsum("ij,ik->ijk", h, e).reshape(6, -1)
    >>> a = kmeans_plusplus_ordering(OuterProduct(h, e), random_state=0, dtype=np.float64)
    >>> b = kmeans_plusplus_ordering(dense, random_state=0, dtype=np.float64)
    >>> bool(np.all(a == b))
    True
    """

    def __init__(self, h, e):
        self.h = h
        self.e = e

    def __len__(self):
        return len(self.h)


def _to_numpy(A):
    """``A`` as a NumPy array; a torch tensor goes through skorch's ``to_numpy``."""
    return np.asarray(to_numpy(A) if is_torch_data_type(A) else A)


def as_factors(X, dtype, name="X"):
    """``(H, E, dense)`` arrays of ``dtype`` from an array, tensor or OuterProduct."""
    if isinstance(X, OuterProduct):
        H, E = _to_numpy(X.h), _to_numpy(X.e)
        if H.ndim != 2 or E.ndim != 2 or H.shape[0] != E.shape[0]:
            raise ValueError(
                f"OuterProduct needs 2-D factors with the same number of rows; got "
                f"h of shape {H.shape} and e of shape {E.shape}."
            )
        dense = False
    else:
        H = _to_numpy(X)
        if H.ndim != 2:
            raise ValueError(
                f"{name} must be 2-D (n_samples, n_features); got shape {H.shape}. "
                "Reshape it, e.g. X.reshape(len(X), -1)."
            )
        E = np.empty((H.shape[0], 0))
        dense = True
    for A in (H, E):
        if not np.issubdtype(A.dtype, np.number) or not np.all(np.isfinite(A)):
            raise ValueError(
                f"{name} contains NaN, infinity or non-numeric values; selection needs "
                "finite numbers."
            )
    H = np.ascontiguousarray(H, dtype=dtype)
    E = np.ascontiguousarray(E, dtype=dtype)
    return H, E, dense


class _BaseRanking(BaseRanking):
    """Iterator over indices in priority order; the pool may grow between picks."""

    def __init__(self, X, *, random_state=None, device="cpu", dtype=np.float32,
                 pruning=True, method="auto"):
        self._dtype = dtype
        self.method = method
        H, E, dense = as_factors(X, dtype)
        if H.shape[0] == 0:
            raise ValueError("The pool is empty (0 points); there is nothing to rank.")
        self._dense = dense
        self._rng = check_random_state(random_state)
        self.device = resolve_device(device)
        self._engine = get_backend(H, E, dense, self.device, pruning=pruning, method=method)
        super().__init__(self._engine.n)

    @property
    def n_distance_evaluations_(self):
        """Exact distances computed so far; those pruning proved useless are not counted."""
        return self._engine.computed

    def add(self, X_new):
        """Add points to the pool; they can be picked from the next step on.

        Each new point immediately gets its distance to every center chosen
        so far, so from now on it is picked exactly as if it had been in the
        pool from the start. Indices already yielded never change.

        Parameters
        ----------
        X_new : array-like or OuterProduct
            New points, in the same form as the pool.

        Returns
        -------
        indices : ndarray
            The indices the new points get: ``n_points`` before the call, and up.
        """
        return super().add(X_new)

    def _add(self, X_new):
        H, E, dense = as_factors(X_new, self._dtype, name="X_new")
        if dense != self._dense or H.shape[1] != self._engine.H.shape[1] or (
            E.shape[1] != self._engine.E.shape[1]
        ):
            raise ValueError(
                f"New points must have the form of the pool: got "
                f"{'rows' if dense else 'outer products'} of shape {H.shape}/{E.shape}, "
                f"expected {'rows' if self._dense else 'outer products'} with "
                f"{self._engine.H.shape[1]}/{self._engine.E.shape[1]} columns."
            )
        if H.shape[0] == 0:
            return 0
        return len(self._engine.add(H, E))


class KMeansPlusPlusRanking(_BaseRanking):
    """Lazy k-means++ seeding order (exact D² sampling) over a growing pool.

    Each next point is drawn with probability proportional to its squared
    distance to the nearest point already picked, as in scikit-learn's
    k-means++ without local trials. It is BADGE's selection engine.

    Parameters
    ----------
    X : array-like, torch tensor or OuterProduct of n_samples points
        The pool.
    init : {"largest_norm", "random"}, default="largest_norm"
        First pick: the point of largest norm (lowest index among ties) or a
        uniformly random one.
    random_state : int, RandomState instance or None, default=None
        Seed. The uniform numbers are drawn in one sequence whatever the
        number of picks per ``take``, so the ordering for a seed does not
        depend on how it is consumed.
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where distances are computed. ``"cuda"`` without a GPU falls back to
        the CPU with a :class:`~skal.exceptions.DeviceWarning`.
    dtype : numpy dtype, default=np.float32
        Storage type of the points; distances accumulate in float64.
    pruning : bool, default=True
        Skip the distance updates that the triangle inequality proves useless
        (on the CPU; the CUDA path never prunes). ``False`` runs the plain
        path: the same ordering, slower; for benchmarks and tests.
    method : {"auto", "lazy", "scan"}, default="auto"
        How each pick is drawn. ``"lazy"``: by rejection from stale upper
        bounds on the distances (a sum tree over the bounds proposes, the
        exact distance accepts), updating only the points it examines;
        ``"auto"``: the same until a cost model finds the scan cheaper, then
        the scan; ``"scan"``: every point updated at every pick, one uniform
        number per pick (the ordering of skal 0.1.0). All three are exact D²
        sampling; for one seed, ``"scan"`` gives another ordering than the
        other two, which give the same one up to the hand-over.

    Attributes
    ----------
    n_distance_evaluations_ : int
        Distances computed so far: by the scan (the pruned ones are not
        counted) and the (point, center) pairs the lazy engine brought up to
        date.

    See Also
    --------
    kmeans_plusplus_ordering : The same order, computed at once.
    KCenterGreedyRanking : The farthest point instead of a D² draw.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.selection import KMeansPlusPlusRanking
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [-4.0, 4.0]])
    >>> ranking = KMeansPlusPlusRanking(X, random_state=0)
    >>> next(ranking)  # the largest norm comes first
    2
    >>> new = ranking.add(np.array([[9.0, -9.0]]))  # a far point joins the pool
    >>> new
    array([4])
    >>> ranking.take(10).tolist()  # the rest of the ordering
    [4, 3, 0, 1]
    """

    @validate_params(
        {"init": [StrOptions({"largest_norm", "random"})], "pruning": ["boolean"],
         "method": [StrOptions({"auto", "lazy", "scan"})]},
        prefer_skip_nested_validation=True,
    )
    def __init__(self, X, *, init="largest_norm", random_state=None, device="cpu",
                 dtype=np.float32, pruning=True, method="auto"):
        self.init = init
        super().__init__(X, random_state=random_state, device=device, dtype=dtype,
                         pruning=pruning, method=method)

    def _take(self, k):
        engine = self._engine
        draw = self._rng.random_sample
        if not engine.order:
            u = draw()
            if self.init == "largest_norm":
                first = engine.largest_norm()
            else:
                first = min(int(u * engine.n), engine.n - 1)
            engine.choose(first)
            rest = engine.draw_kmeans_plusplus(k - 1, draw)
            return np.concatenate([[first], rest]).astype(np.intp)
        return engine.draw_kmeans_plusplus(k, draw)


class KCenterGreedyRanking(_BaseRanking):
    """Lazy k-center greedy (farthest-first) order over a growing pool.

    Each next point is the one farthest from its nearest center (the
    existing centers and the points picked so far), ties to the lowest
    index. It is CoreSet's selection engine.

    Parameters
    ----------
    X : array-like or torch tensor of shape (n_samples, n_features)
        The pool.
    X_centers : array-like of shape (n_centers, n_features), default=None
        Existing centers, e.g. the embeddings of the labeled set. Without
        any, the first pick is drawn uniformly at random.
    random_state : int, RandomState instance or None, default=None
        Seed for the first pick; one uniform number is drawn at construction.
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where distances are computed (see :class:`KMeansPlusPlusRanking`).
    dtype : numpy dtype, default=np.float32
        Storage type of the points; distances accumulate in float64.
    pruning : bool, default=True
        Skip the distance updates that provably change nothing (see
        :class:`KMeansPlusPlusRanking`); ``False`` gives the same order, slower.
    method : {"auto", "lazy", "scan"}, default="auto"
        How the farthest point is found. ``"lazy"``: lazy greedy, a heap of
        stale upper bounds where only the top point is brought up to date;
        ``"auto"``: the same until a cost model finds the scan cheaper;
        ``"scan"``: every point updated at every pick. The order is the same
        for all three (same arithmetic, ties to the lowest index).

    Attributes
    ----------
    n_distance_evaluations_ : int
        Distances computed so far: by the scan (the pruned ones are not
        counted) and the (point, center) pairs the lazy engine brought up to
        date.

    See Also
    --------
    kcenter_greedy_ordering : The same order, computed at once.
    KMeansPlusPlusRanking : A D² draw instead of the farthest point.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.selection import KCenterGreedyRanking
    >>> ranking = KCenterGreedyRanking(np.array([[1.0], [2.0], [10.0]]),
    ...                                X_centers=np.array([[0.0]]))
    >>> next(ranking)
    2
    >>> ranking.add(np.array([[-20.0]])).tolist()
    [3]
    >>> ranking.take(5).tolist()
    [3, 1, 0]
    """

    @validate_params(
        {"pruning": ["boolean"], "method": [StrOptions({"auto", "lazy", "scan"})]},
        prefer_skip_nested_validation=True,
    )
    def __init__(self, X, *, X_centers=None, random_state=None, device="cpu",
                 dtype=np.float32, pruning=True, method="auto"):
        super().__init__(X, random_state=random_state, device=device, dtype=dtype,
                         pruning=pruning, method=method)
        self._u_first = self._rng.random_sample()
        self._has_centers = False
        if X_centers is not None:
            Hc, _, _ = as_factors(X_centers, dtype, name="X_centers")
            if Hc.shape[0]:
                if Hc.shape[1] != self._engine.H.shape[1]:
                    raise ValueError(
                        f"X_centers has {Hc.shape[1]} features but X has "
                        f"{self._engine.H.shape[1]}; both must live in the same space."
                    )
                self._engine.set_external_centers(Hc, np.empty((Hc.shape[0], 0), dtype))
                self._has_centers = True

    def _take(self, k):
        engine = self._engine
        if not engine.order and not self._has_centers:
            first = min(int(self._u_first * engine.n), engine.n - 1)
            engine.choose(first)
            rest = engine.kcenter_steps(k - 1)
            return np.concatenate([[first], rest]).astype(np.intp)
        return engine.kcenter_steps(k)
