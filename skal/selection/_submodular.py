"""Facility-location maximization by lazy greedy, on arrays, with bounded memory.

The objective, for a set ``S`` of chosen candidates, is

    f(S) = Σ_{i ∈ ground} max(c_i, max_{j ∈ S, same class as i} s(i, j)),

with the RBF similarity ``s(i, j) = exp(−γ ‖g_i − x_j‖²)`` between a
*represented* ("ground") point ``g_i`` and a candidate ``x_j``, and ``c_i``
the coverage of ``g_i`` by points selected before (0 without any). With class
labels, only points of the same class are similar (the nearest-neighbour
objective of Wei et al., 2015). ``f`` is monotone and submodular, so greedy
maximization is within ``1 − 1/e`` of the best set of its size (Nemhauser et
al., 1978).

Greedy adds, at each step, the candidate of largest gain
``Σ_i max(0, s(i, j) − c_i)``, ties to the lowest index, then raises the
coverage ``c_i`` to ``max(c_i, s(i, j))``. The lazy variant (Minoux, 1978)
keeps the last computed gain of each candidate in a priority queue as an
upper bound (gains only shrink as the coverage grows); a candidate whose
re-evaluated gain still beats every other bound is the greedy choice, so the
picks are identical to plain greedy's.

Similarities are computed in blocks of consecutive candidates against all
ground points, ``m`` columns each, by one float32 BLAS product per block
(``‖x‖² + ‖g‖² − 2 x·g``, squared distances below the float32 rounding of
that expansion counted as 0, so duplicates have similarity exactly 1). A
block is kept in a least-recently-used cache of bounded size and recomputed,
by the same call and hence to the same bits, when evicted; every gain is
computed from those stored numbers by one compiled kernel, so lazy and plain
greedy see the same values.
"""

from collections import OrderedDict
from numbers import Integral, Real

import numba
import numpy as np
from numba.typed import List

from ..utils._sklearn_compat import Interval, validate_params
from . import _submodular_kernels as K
from ._lazy import BaseRanking
from ._ranking import OuterProduct, as_factors

__all__ = ["FacilityLocationRanking", "facility_location_ordering"]

# |d²| below this times (‖x‖² + ‖g‖²) is float32 rounding of the expansion:
# an exact duplicate (n_features · 2⁻²⁴ ≈ 5e-5 for 784 features, worst case)
_SNAP_PER_FEATURE = 2.0**-24
_BLOCK_ENTRIES = 2**22  # candidate × ground entries per block (16 MiB)
_DEFAULT_CACHE = 2**29  # bytes of cached similarity blocks (512 MiB)


def _rows(X, name):
    if isinstance(X, OuterProduct):
        raise ValueError(
            f"{name} must be an array of shape (n_samples, n_features); facility "
            "location does not take an OuterProduct."
        )
    return as_factors(X, np.float32, name=name)[0]


def _moments(A, chunk=8192):
    """Mean row and mean squared norm of ``A``, accumulated in float64 by chunks."""
    total = np.zeros(A.shape[1])
    sq = 0.0
    for start in range(0, A.shape[0], chunk):
        part = A[start : start + chunk].astype(np.float64)
        total += part.sum(axis=0)
        sq += float(np.einsum("ij,ij->", part, part))
    return total / A.shape[0], sq / A.shape[0]


def _mean_sq_distance(A, B):
    """Mean of ``‖a − b‖²`` over all pairs of rows, in ``O((n + m) d)``.

    ``mean ‖a‖² + mean ‖b‖² − 2 ⟨mean a, mean b⟩``, exact up to rounding.
    """
    a_mean, a2 = _moments(A)
    b_mean, b2 = (a_mean, a2) if B is A else _moments(B)
    return max(0.0, a2 + b2 - 2.0 * float(a_mean @ b_mean))


class FacilityLocationRanking(BaseRanking):
    """Lazy greedy facility-location order over a pool of candidates that can grow.

    Each next candidate is the one of largest gain in the facility-location
    objective (see the module docstring), ties to the lowest index. The first
    ``k`` picks do not depend on how many are taken.

    Parameters
    ----------
    X : array-like of shape (n_candidates, n_features)
        The candidates.
    X_ground : array-like of shape (n_ground, n_features), default=None
        The represented points whose coverage is maximized. ``None`` means
        the candidates given here (not those added later).
    labels : array-like of shape (n_candidates,), default=None
        Class of each candidate. With labels, a candidate covers only ground
        points of its class (the nearest-neighbour objective).
    ground_labels : array-like of shape (n_ground,), default=None
        Class of each ground point; required with ``labels`` when
        ``X_ground`` is given (else ``labels``).
    X_selected : array-like of shape (n_selected, n_features), default=None
        Points selected before (e.g. the labeled set): they set the initial
        coverage and are not candidates.
    selected_labels : array-like of shape (n_selected,), default=None
        Their classes; required with ``labels``.
    gamma : float, default=None
        RBF width; ``None`` means ``1 / mean ‖g − x‖²`` over all pairs of a
        ground point and an initial candidate (computed exactly in
        ``O((n + m) d)``; 1.0 if that mean is 0). Fixed at construction.
    max_cache_bytes : int, default=2**29
        Memory for cached similarity blocks (512 MiB). When the ``n × m``
        similarities do not fit, evicted blocks are recomputed on demand.
    lazy : bool, default=True
        False runs plain greedy (every gain re-evaluated at every step): the
        same picks, for testing.

    Attributes
    ----------
    gamma_ : float
        The RBF width used.
    n_evaluations_ : int
        Gain evaluations so far (``O(m)`` each).
    n_block_computations_ : int
        Similarity blocks computed so far (``O(B m d)`` each).

    See Also
    --------
    facility_location_ordering : The same order on arrays, computed at once.
    skal.FacilityLocationSampling : The strategy built on it.

    Notes
    -----
    Cost: building the ranking computes every candidate's first gain, i.e.
    the ``n × m`` similarities by float32 BLAS (``O(n m d)`` flops) in blocks
    of about ``2**22`` entries; each pick then re-evaluates the candidates
    whose stale gain beats the best fresh one, ``O(m)`` each when their
    block is cached. Memory: ``min(4 n m, max_cache_bytes)`` bytes of
    similarities plus ``O(n + m)``; an ``n × n`` matrix is never built
    unless the ground set is the pool itself. Once every ground point is
    fully covered (similarity 1: it, or an exact duplicate, was picked),
    every gain is 0 and the rest follows in index order at no cost.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.selection import FacilityLocationRanking
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1]])
    >>> X_ground = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [9.0]])
    >>> ranking = FacilityLocationRanking(X, X_ground=X_ground, gamma=1.0)
    >>> ranking.take(2).tolist()  # the center of the big cluster, then the other
    [1, 4]
    >>> ranking.add(np.array([[9.0]])).tolist()  # the only candidate near 9.0
    [5]
    >>> ranking.take(10).tolist()
    [5, 0, 2, 3]
    """

    def __init__(
        self,
        X,
        *,
        X_ground=None,
        labels=None,
        ground_labels=None,
        X_selected=None,
        selected_labels=None,
        gamma=None,
        max_cache_bytes=_DEFAULT_CACHE,
        lazy=True,
    ):
        Y = _rows(X, "X")
        if Y.shape[0] == 0:
            raise ValueError("The pool is empty (0 points); there is nothing to rank.")
        G = Y if X_ground is None else _rows(X_ground, "X_ground")
        if G.shape[1] != Y.shape[1]:
            raise ValueError(
                f"X_ground has {G.shape[1]} features but X has {Y.shape[1]}; both "
                "must live in the same space."
            )
        if G.shape[0] == 0:
            raise ValueError("X_ground is empty; pass at least one point to represent.")
        self._labeled = labels is not None
        if X_ground is None and ground_labels is None:
            ground_labels = labels
        if self._labeled and (
            ground_labels is None or (X_selected is not None and selected_labels is None)
        ):
            raise ValueError(
                "With labels, ground_labels (when X_ground is given) and "
                "selected_labels (when X_selected is given) are required too."
            )
        if not self._labeled and (ground_labels is not None or selected_labels is not None):
            raise ValueError("ground_labels and selected_labels need labels as well.")
        self._index = {}
        codes = self._encode(labels, Y.shape[0], "labels")
        self._gcodes = self._encode(ground_labels, G.shape[0], "ground_labels")

        if gamma is None:
            mean_d2 = _mean_sq_distance(G, Y)
            gamma = 1.0 / mean_d2 if mean_d2 > 0 else 1.0
        if not (isinstance(gamma, Real) and gamma > 0 and np.isfinite(gamma)):
            raise ValueError(f"gamma={gamma!r} must be a positive finite number.")
        self.gamma_ = float(gamma)
        self._lazy = bool(lazy)
        self._max_cache = int(max_cache_bytes)
        self._GT = np.ascontiguousarray(G.T)
        self._gg = np.einsum("ij,ij->i", G, G)
        self._snap = np.float32(_SNAP_PER_FEATURE * G.shape[1])
        self._m = G.shape[0]
        self._n_features = G.shape[1]
        self._cover = np.zeros(self._m)
        if X_selected is not None:
            S = _rows(X_selected, "X_selected")
            if S.shape[1] != Y.shape[1]:
                raise ValueError(
                    f"X_selected has {S.shape[1]} features but X has {Y.shape[1]}."
                )
            scodes = self._encode(selected_labels, S.shape[0], "selected_labels")
            step = self._block_rows()
            for start in range(0, S.shape[0], step):
                sims = self._compute(S[start : start + step], scodes[start : start + step])
                np.maximum(self._cover, sims.max(axis=0), out=self._cover)
        self.n_evaluations_ = 0
        self.n_block_computations_ = 0
        self._codes = np.empty(0, dtype=np.int64)
        self._chosen = np.zeros(0, dtype=bool)
        # rows of each block, never copied nor moved: a recomputed block comes
        # from the very same BLAS call, hence the same bits
        self._Xb = []
        self._block_start = np.empty(0, dtype=np.int64)
        self._block_id = np.empty(0, dtype=np.int64)
        self._empty = np.empty((0, self._m), dtype=np.float32)
        self._sims = List.empty_list(numba.float32[:, ::1])  # resident blocks or empty
        self._resident = OrderedDict()  # block -> bytes, oldest first
        self._resident_bytes = 0
        self._key = np.empty(0)  # the heap: (−gain bound, index)
        self._idx = np.empty(0, dtype=np.int64)
        self._fresh = np.empty(0, dtype=np.int64)  # coverage version of each bound
        saturated = bool(self._cover.min() >= 1.0)
        self._state = np.array([0, 0, int(saturated), 0, 0], dtype=np.int64)
        self._append(Y, codes)
        super().__init__(Y.shape[0])

    # -- similarities ------------------------------------------------------------

    def _encode(self, values, n, name):
        if values is None:
            return np.zeros(n, dtype=np.int64)
        values = np.asarray(values)
        if values.ndim != 1 or values.shape[0] != n:
            raise ValueError(f"{name} must have shape ({n},); got {values.shape}.")
        codes = np.empty(n, dtype=np.int64)
        for t, v in enumerate(values.tolist()):
            codes[t] = self._index.setdefault(v, len(self._index))
        return codes

    def _block_rows(self):
        return max(1, _BLOCK_ENTRIES // self._m)

    def _compute(self, Xb, codes):
        """Similarities of the rows ``Xb`` to every ground point, float32."""
        P = Xb @ self._GT
        xx = np.einsum("ij,ij->i", Xb, Xb)
        K.log_similarities(P, xx, self._gg, np.float32(self.gamma_), self._snap, codes,
                          self._gcodes, self._labeled)
        return np.exp(P, out=P)

    def _block(self, b):
        """Similarities of block ``b``, computed again if not resident."""
        S = self._sims[b]
        if S.shape[0]:
            return S
        start = self._block_start[b]
        S = self._compute(self._Xb[b], self._codes[start : start + len(self._Xb[b])])
        self.n_block_computations_ += 1
        if S.nbytes <= self._max_cache:
            while self._resident_bytes + S.nbytes > self._max_cache:
                old, nbytes = self._resident.popitem(last=False)
                self._sims[old] = self._empty
                self._resident_bytes -= nbytes
            self._sims[b] = S
            self._resident[b] = S.nbytes
            self._resident_bytes += S.nbytes
        return S

    def _append(self, Y, codes):
        """New candidates, in new blocks; their exact gains enter the queue."""
        start = self._codes.size
        stop = start + Y.shape[0]
        self._codes = np.concatenate([self._codes, codes])
        self._chosen = np.concatenate([self._chosen, np.zeros(Y.shape[0], dtype=bool)])
        self._block_id = np.concatenate([self._block_id, np.empty(Y.shape[0], np.int64)])
        self._fresh = np.concatenate([self._fresh, np.full(Y.shape[0], -1, np.int64)])
        size = int(self._state[0])
        key = np.empty(size + Y.shape[0])
        idx = np.empty(size + Y.shape[0], dtype=np.int64)
        key[:size], idx[:size] = self._key[:size], self._idx[:size]
        step = self._block_rows()
        for lo in range(start, stop, step):
            hi = min(lo + step, stop)
            b = len(self._Xb)
            self._Xb.append(Y[lo - start : hi - start])
            self._block_start = np.append(self._block_start, lo)
            self._block_id[lo:hi] = b
            self._sims.append(self._empty)
            if self._lazy and not self._state[2]:
                gains = np.empty(hi - lo)
                K.gains(self._block(b), np.arange(hi - lo), self._cover, gains)
                self.n_evaluations_ += hi - lo
                key[size : size + hi - lo] = -gains
                idx[size : size + hi - lo] = np.arange(lo, hi)
                self._fresh[lo:hi] = self._state[1]
                size += hi - lo
        self._key, self._idx = key, idx
        self._state[0] = size
        K.heapify(self._key, self._idx, size)

    # -- the ranking ---------------------------------------------------------------

    def _take_lazy(self, k, out):
        self._state[3] = self._state[4] = 0
        while True:
            need = K.lazy_steps(self._sims, self._block_id, self._block_start, self._key,
                               self._idx, self._state, self._cover, self._fresh, out, k)
            if need < 0:
                break
            self._block(int(need))
        self.n_evaluations_ += int(self._state[4])
        return int(self._state[3])

    def _take_plain(self, k, out):
        count = 0
        while count < k and not self._state[2]:
            rest = np.flatnonzero(~self._chosen)
            gains = np.empty(rest.size)
            blocks = self._block_id[rest]
            for b in np.unique(blocks):
                where = np.flatnonzero(blocks == b)
                part = np.empty(where.size)
                K.gains(self._block(b), rest[where] - self._block_start[b], self._cover,
                       part)
                gains[where] = part
            self.n_evaluations_ += rest.size
            j = int(rest[np.argmax(gains)])  # the first maximum: lowest index
            b = self._block_id[j]
            self._state[2] = K.raise_cover(self._block(b), j - self._block_start[b],
                                             self._cover)
            self._chosen[j] = True
            out[count] = j
            count += 1
        return count

    def _take(self, k):
        out = np.empty(k, dtype=np.int64)
        count = self._take_lazy(k, out) if self._lazy else self._take_plain(k, out)
        self._chosen[out[:count]] = True
        if count < k:  # saturated: every gain is 0, lowest indices first
            out[count:] = np.flatnonzero(~self._chosen)[: k - count]
            self._chosen[out[count:]] = True
        if self._state[2] and self._resident:  # the similarities are no longer needed
            for b in self._resident:
                self._sims[b] = self._empty
            self._resident.clear()
            self._resident_bytes = 0
        return out

    def add(self, X_new, labels=None):
        """Add candidates; they can be picked from the next step on.

        The ground points and ``gamma_`` do not change: new points only
        compete to cover the same represented set. From the next pick on,
        the choice is the greedy one over all candidates, new ones included;
        picks already made never change.

        Parameters
        ----------
        X_new : array-like of shape (n_new, n_features)
            New candidates.
        labels : array-like of shape (n_new,), default=None
            Their classes; required if and only if the ranking was built with
            labels.

        Returns
        -------
        indices : ndarray
            The indices the new points get: ``n_points`` before the call, and up.
        """
        return super().add(X_new, labels=labels)

    def _add(self, X_new, labels=None):
        Y_new = _rows(X_new, "X_new")
        if Y_new.shape[1] != self._n_features:
            raise ValueError(
                f"New points must have {self._n_features} features like the pool; got "
                f"{Y_new.shape[1]}."
            )
        if self._labeled != (labels is not None):
            raise ValueError(
                "Pass labels for the new points if and only if the ranking was built "
                "with labels."
            )
        if Y_new.shape[0]:
            self._append(Y_new, self._encode(labels, Y_new.shape[0], "labels"))
        return Y_new.shape[0]


@validate_params(
    {
        "X": ["array-like"],
        "n_select": [Interval(Integral, 1, None, closed="left"), None],
        "X_ground": ["array-like", None],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
    },
    prefer_skip_nested_validation=True,
)
def facility_location_ordering(X, n_select=None, *, X_ground=None, gamma=None):
    """Order points by greedy facility-location maximization (lazy greedy).

    Each next point is the one that most increases
    ``f(S) = Σ_i max_{j ∈ S} exp(−γ ‖g_i − x_j‖²)``, the total similarity of
    each represented point ``g_i`` to its most similar chosen point: the
    first ``k`` are a representative sample of the ground set, within
    ``1 − 1/e`` of the best ``k`` (Nemhauser et al., 1978). Ties go to the
    lowest index; the first ``k`` do not depend on ``n_select``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The candidates.
    n_select : int, default=None
        How many to order; ``None`` orders all of them.
    X_ground : array-like of shape (n_ground, n_features), default=None
        The points to represent; ``None`` means ``X`` itself. A random
        subsample of ``X`` bounds the cost on a large pool.
    gamma : float, default=None
        RBF width; ``None`` means one over the mean squared distance between
        the ground points and the candidates.

    Returns
    -------
    order : ndarray of shape (n_select,)
        Indices into ``X``, unique, in the order chosen.

    See Also
    --------
    FacilityLocationRanking : The same ordering, lazily, with class labels
        and a pool that can grow.
    kcenter_greedy_ordering : Farthest-first (max-min dispersion) ordering.

    Notes
    -----
    Lazy greedy (Minoux, 1978) with exactly the picks of plain greedy. Cost:
    ``O(n m d)`` float32 BLAS flops once for the first gains (``m`` ground
    points, in bounded blocks), then ``O(m d)`` per gain re-evaluation, a
    few per pick in practice; the ``n × m`` similarity matrix is never
    stored.

    References
    ----------
    .. [1] M. Minoux, "Accelerated greedy algorithms for maximizing
       submodular set functions", Optimization Techniques, 1978.
    .. [2] G. L. Nemhauser, L. A. Wolsey and M. L. Fisher, "An analysis of
       approximations for maximizing submodular set functions", Mathematical
       Programming, 1978.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.selection import facility_location_ordering
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1]])
    >>> facility_location_ordering(X, 2, gamma=1.0)
    array([1, 3])
    """
    ranking = FacilityLocationRanking(X, X_ground=X_ground, gamma=gamma)
    n = ranking.n_points
    if n_select is not None and n_select > n:
        raise ValueError(
            f"n_select={n_select} is larger than the number of points ({n}); "
            f"pass n_select <= {n}, or None for a full ordering."
        )
    return ranking.take(n if n_select is None else n_select)
