"""Engine state of the k-means++ and k-center rankings: one backend per device.

A backend holds the points of one lazy ranking, the squared distance of each
to its nearest center, and makes the picks. :class:`BaseBackend` is the
interface the rankings call; :func:`get_backend` returns the implementation
for a device:

- :class:`NumbaBackend` (``"cpu"``): compiled kernels, block sums for
  sampling, exact pruning.
- :class:`TorchBackend` (``"cuda"``): torch, a dense pass per step.

Adding a backend, e.g. CuPy, is one subclass of :class:`BaseBackend` and one
entry in ``_BACKENDS`` (docs/engine.md, "Adding a backend").
"""

from abc import ABC, abstractmethod
from contextlib import nullcontext

import numpy as np
import torch
from threadpoolctl import ThreadpoolController

from . import _kernels as K

__all__ = ["BaseBackend", "NumbaBackend", "TorchBackend", "get_backend"]

_BLOCK = 64  # sampling block (consecutive indices)
_CONTROLLER = []  # one ThreadpoolController, made on first use (it inspects the libraries)


def _one_blas_thread():
    """One BLAS thread for the lazy engines' small products.

    A product of 64 rows by a few hundred centers takes 0.3 ms on one thread;
    split over threads on a busy machine it took 24 ms (2 cores, one other
    process running). Products of ``_THREADED_FLOPS`` and more keep the threads.
    """
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")

_GROUP = 32  # pruning group (consecutive in norm order)


def _min_d2_dense(X, C, chunk=2**22):
    """``min_j ‖x_i − c_j‖²``, exact: BLAS finds the candidates, then exact sums.

    The expansion ``‖x‖² + ‖c‖² − 2x·c`` (fast) picks, per row, every center
    within rounding distance of the minimum; those few distances are then
    recomputed as ``Σ(x − c)²`` so that exact ties stay exact ties.
    """
    X = np.asarray(X, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    xx = np.einsum("ij,ij->i", X, X)
    cc = np.einsum("ij,ij->i", C, C)
    out = np.empty(X.shape[0])
    step = max(1, chunk // max(1, C.shape[0]))
    for start in range(0, X.shape[0], step):
        Xs = X[start : start + step]
        approx = xx[start : start + step, None] + cc[None, :] - 2.0 * (Xs @ C.T)
        tol = 1e-9 * (xx[start : start + step, None] + cc[None, :]) + 1e-300
        rows, cols = np.nonzero(approx <= approx.min(axis=1, keepdims=True) + tol)
        diff = Xs[rows] - C[cols]
        exact = np.einsum("ij,ij->i", diff, diff)
        best = np.full(Xs.shape[0], np.inf)
        np.minimum.at(best, rows, exact)
        out[start : start + step] = best
    return out


def _min_d2_outer(H, E, Hc, Ec):
    """``min_j ‖h_i⊗e_i − hc_j⊗ec_j‖²`` from the factors (chunked)."""
    H = np.asarray(H, dtype=np.float64)
    E = np.asarray(E, dtype=np.float64)
    Hc = np.asarray(Hc, dtype=np.float64)
    Ec = np.asarray(Ec, dtype=np.float64)
    g2 = np.einsum("ij,ij->i", H, H) * np.einsum("ij,ij->i", E, E)
    g2c = np.einsum("ij,ij->i", Hc, Hc) * np.einsum("ij,ij->i", Ec, Ec)
    out = np.empty(H.shape[0])
    step = max(1, 2**22 // max(1, Hc.shape[0]))
    for start in range(0, H.shape[0], step):
        sl = slice(start, start + step)
        d2 = g2[sl, None] + g2c[None, :] - 2.0 * (H[sl] @ Hc.T) * (E[sl] @ Ec.T)
        d2[d2 <= K._SNAP * (g2[sl, None] + g2c[None, :])] = 0.0
        out[sl] = d2.min(axis=1)
    return out


def _min_d2_to_centers(H, E, centers, dense):
    """Exact squared distance to the nearest row of any ``(Hc, Ec)`` of ``centers``.

    ``inf`` where there are no centers; NumPy in and out.
    """
    d2 = np.full(H.shape[0], np.inf)
    for Hc, Ec in centers:
        new = _min_d2_dense(H, Hc) if dense else _min_d2_outer(H, E, Hc, Ec)
        np.minimum(d2, new, out=d2)
    return d2


class BaseBackend(ABC):
    """Interface of the engines behind the k-means++ and k-center rankings.

    Points are rows ``g_i = h_i ⊗ e_i`` given by their factors ``(H, E)``, or
    plain rows (``dense=True``: ``H`` holds them, ``E`` has no column). A
    backend keeps, for each point, its squared distance to the nearest center
    (``inf`` before the first), and makes the picks from it. The rankings
    validate the points and decide the first pick; a backend assumes both.

    A backend gives the picks of :class:`NumbaBackend` for the same uniform
    numbers, up to the rounding of its device (the tests compare them in
    float64).

    Parameters
    ----------
    H : ndarray of shape (n_points, n_h)
        First factors, or the rows when ``dense``.
    E : ndarray of shape (n_points, n_e)
        Second factors (``n_e = 0`` when ``dense``).
    dense : bool
        Whether the points are the rows of ``H``.
    device : str, default="cpu"
        Where to compute, as returned by :func:`skal.utils._device.resolve_device`.
    pruning : bool, default=True
        Skip the distance updates that provably change nothing. A backend that
        does not prune ignores it; the picks are the same either way.

    Attributes
    ----------
    n : int
        Number of points, added ones included.
    order : list of int
        Chosen indices so far, in order.
    H, E : array or tensor
        The stored factors (``.shape`` is what the rankings read).
    computed : int
        Exact distances computed so far (a measure of pruning).
    external : tuple of ndarray or None
        Centers that are not pool points, ``(Hc, Ec)``.
    """

    def __init__(self, H, E, dense, *, device="cpu", pruning=True, method="scan"):
        self.dense = dense
        self.device = device
        self.pruning = pruning
        self.order = []
        self.computed = 0
        self.external = None
        self.method = method
        # "lazy" until the scan takes over (a backend without a lazy engine stays "scan")
        self.mode = "scan" if method == "scan" else "lazy"
        self.cost = _CostModel()
        self._pending = None  # the candidates of the current batch

    @abstractmethod
    def largest_norm(self):
        """Index of the point of largest norm (the lowest among ties)."""

    @abstractmethod
    def choose(self, c):
        """Make point ``c`` a center."""

    @abstractmethod
    def kmeans_plusplus_steps(self, us):
        """One D² draw per uniform number of ``us``; returns the picks (ndarray of intp).

        A draw walks the cumulative sum of D² in index order: the first point
        whose cumulative D² exceeds ``u·ΣD²``. When every point left has
        D² = 0, it is the ``⌊u·m⌋``-th of the ``m`` points not chosen.
        """

    def draw_kmeans_plusplus(self, k, random_sample):
        """``k`` k-means++ picks, drawing uniform numbers with ``random_sample(m)``.

        The scan draws one number per pick (:meth:`kmeans_plusplus_steps`); the
        lazy engine draws as many as its rejection steps need, always in the
        same sequence, so the picks for a seed do not depend on how they are
        taken.
        """
        if self.mode == "scan":
            return self.kmeans_plusplus_steps(random_sample(k))
        return self._lazy_kmeans_plusplus(k, random_sample)

    # -- the lazy k-means++ engine, on a backend's primitives ------------------
    #
    # ``D2`` holds upper bounds; ``stamp[i]`` counts the chosen points (a prefix
    # of ``order``) already in ``D2[i]``. A backend implements ``_lazy_total``,
    # ``_draw``, ``_bring_up_to_date``, ``_accept``, ``_end_batch``,
    # ``_uniform_pick``, ``_refresh`` and ``_scan_cost``; the driver below makes
    # the same decisions from the same counts on every backend.

    def _maybe_switch(self):
        """At a batch boundary: hand over to the scan, or refresh, when it pays.

        The scan takes over when a lazy pick costs more than ``_HANDOVER``
        scan picks: the lazy cost per pick grows about linearly with the
        number of centers, so if as many picks follow as were made, the scan
        then saves at least what bringing every point up to date costs
        (``_refresh``: at most one scan pick per center since the last refresh).
        """
        k = len(self.order)
        n_left = self.n - k
        if self.method == "auto" and self.cost.per_pick > _HANDOVER * self._scan_floor():
            if self.cost.per_pick > _HANDOVER * self._scan_cost():
                self._enter_scan()
                return
        if self.cost.refresh_pays(n_left, k):
            self._refresh()

    def _scan_floor(self):
        """A cheap lower bound of :meth:`_scan_cost` (``inf``: the scan never takes over)."""
        return np.inf

    def _scan_cost(self):
        """Estimated work of one scan pick (``inf``: the scan never takes over)."""
        return np.inf

    def _lazy_kmeans_plusplus(self, k, random_sample):
        out = np.empty(k, dtype=np.intp)
        got = 0
        while got < k:
            if self._pending is None:
                self._maybe_switch()
                if self.mode == "scan":
                    out[got:] = self.kmeans_plusplus_steps(random_sample(k - got))
                    return out
                if not self._lazy_total() > 0.0:
                    out[got] = self._uniform_pick(random_sample(1)[0])
                    got += 1
                    continue
                rs, vs = random_sample(_CANDIDATES), random_sample(_CANDIDATES)
                cand, bound = self._draw(rs)
                self._pending = [cand, bound, vs, 0, 0]
                self.cost.drawn(_CANDIDATES, self._tree_size(),
                                self.H.shape[1] + self.E.shape[1])
            cand, bound, vs, start, batch_picks = self._pending
            rest = np.unique(cand[start:])
            self.cost.lazy_work(self._bring_up_to_date(rest[~self._is_chosen(rest)]))
            t, n_picked, work = self._accept(cand[start:], bound[start:], vs[start:], k - got,
                                             out[got:])
            self.computed += work
            self.cost.lazy_work(work)
            self.order.extend(out[got : got + n_picked].tolist())
            got += n_picked
            if start + t >= cand.size:  # batch done
                self._pending = None
                self._end_batch(np.unique(cand))
                self.cost.picked(batch_picks + n_picked)
            else:
                self._pending[3:] = [start + t, batch_picks + n_picked]
        return out

    def _tree_size(self):
        return 2 * (1 << max(0, int(self.n - 1).bit_length()))

    @abstractmethod
    def kcenter_steps(self, k):
        """``k`` farthest-first picks, ties to the lowest index (ndarray of intp)."""

    @abstractmethod
    def set_external_centers(self, Hc, Ec):
        """Add centers that are not pool points (NumPy rows of ``(Hc, Ec)``).

        Each distance drops to that to the nearest of them where it is smaller.
        """

    @abstractmethod
    def add(self, H, E):
        """Append points (NumPy), each with its distance to every center so far.

        Returns their indices.
        """

    @abstractmethod
    def _chosen_factors(self):
        """``(H[order], E[order])`` as NumPy arrays."""

    def _min_d2_new(self, H, E):
        """Exact squared distance of each point of ``(H, E)`` to its nearest center.

        The centers are the chosen points, then the external ones; NumPy in and out.
        """
        centers = [self._chosen_factors()] if self.order else []
        if self.external is not None:
            centers.append(self.external)
        return _min_d2_to_centers(H, E, centers, self.dense)


_CANDIDATES = 64  # k-means++ candidates drawn at once from the frozen tree
_GEMM_COST = 0.15  # one distance in a BLAS product, in exact (compiled, scalar) distances
_HANDOVER = 4.0 / 3.0  # the scan takes over when a lazy pick costs this many scan picks
# A batch of candidates also costs a fixed ~0.2 ms (Python, NumPy and BLAS calls); an
# exact distance costs ~0.25 ns per dimension: the batch costs _BATCH_NS / (0.25 · dim).
_BATCH_NS = 200_000.0
# Products of at least this many multiply-adds use BLAS's threads (late picks of long
# rankings: 100k points, k = 10,000 took 3.2 s instead of 5.2 s on 2 idle cores);
# smaller ones run on one thread. The picks are the same either way (exact recompute).
_THREADED_FLOPS = 2.0**26


class _CostModel:
    """When a lazy phase should refresh its bounds, or hand over to the scan.

    Work is counted in exact distances (a distance brought up to date costs
    ``_GEMM_COST``: most are computed by BLAS), from counts alone, never from clocks, so the decisions,
    and with them the picks, are the same on every machine and for every way
    of consuming the ranking. Refreshing every bound costs about
    ``_GEMM_COST · n_left · (k − k_refresh)``; it is done when the lazy work
    since the last refresh has reached that cost (the rent-or-buy rule: at
    most twice the work of the better choice in hindsight). The scan takes
    over when a lazy pick costs more than ``_HANDOVER`` times its estimate
    (``BaseBackend._maybe_switch``, ``NumbaBackend._scan_cost``).
    """

    def __init__(self):
        self.since_refresh = 0.0  # lazy work since the last refresh
        self.k_refresh = 0  # centers when every bound was last exact
        self.per_pick = 0.0  # lazy work per pick, smoothed over recent batches
        self._batch = 0.0
        self.scan_estimate = None  # NumbaBackend._scan_cost, and at how many centers
        self.scan_estimate_k = 0
        # for benchmarks: candidates drawn (or heap pops), picks made lazily, refreshes
        self.n_candidates = 0
        self.n_lazy_picks = 0
        self.n_refreshes = 0

    def lazy_work(self, pairs):
        """Distances brought up to date, however computed (BLAS, mostly)."""
        w = pairs * _GEMM_COST
        self.since_refresh += w
        self._batch += w

    def overhead(self, pairs):
        """Work of the engine's own estimates: counted since the refresh, not per pick."""
        self.since_refresh += pairs * _GEMM_COST

    def drawn(self, n_draws, tree_size, dim=None):
        """Candidates drawn (heap pops for k-center); a batch of them when ``dim`` is given."""
        self.n_candidates += n_draws
        w = n_draws * max(1, int(tree_size).bit_length()) / 64.0
        if dim is not None:
            w += _BATCH_NS / (0.25 * max(1, dim))
        self.since_refresh += w
        self._batch += w

    def picked(self, n_picked):
        self.n_lazy_picks += n_picked
        per = self._batch / max(n_picked, 0.5)
        self.per_pick = per if self.per_pick == 0.0 else 0.7 * self.per_pick + 0.3 * per
        self._batch = 0.0

    def refresh_cost(self, n_left, k):
        return _GEMM_COST * n_left * max(0, k - self.k_refresh)

    def refresh_pays(self, n_left, k):
        return k > self.k_refresh and self.since_refresh >= self.refresh_cost(n_left, k)

    def budget(self, n_left, k):
        """Lazy work left before the next decision."""
        return max(0.0, self.refresh_cost(n_left, k) - self.since_refresh)

    def refreshed(self, k):
        self.n_refreshes += 1
        self.since_refresh = 0.0
        self.k_refresh = k


class NumbaBackend(BaseBackend):
    """CPU engine: compiled kernels, lazy phases on stale bounds, the pruned scan.

    With ``method="scan"`` every pick updates every point (with exact
    pruning). Otherwise (``"lazy"``, ``"auto"``) ``D2`` holds upper bounds:
    the k-means++ picks are drawn by rejection from a sum tree over them, the
    k-center picks by lazy greedy from a heap, and a point is brought up to
    date only when it is examined (docs/engine.md). ``"auto"`` switches to
    the scan, once, when a cost model says it has become cheaper.
    """

    def __init__(self, H, E, dense, *, device="cpu", pruning=True, method="scan"):
        super().__init__(H, E, dense, device=device, pruning=pruning, method=method)
        self.stamp = np.zeros(H.shape[0], dtype=np.int64)
        self._set_points(H, E, np.full(H.shape[0], np.inf), np.zeros(H.shape[0], bool))

    def _set_points(self, H, E, D2, chosen):
        self.H, self.E = H, E
        self.n = H.shape[0]
        self.g2, self.hn = K.sq_norms(H, E, self.dense)
        self.gn = np.sqrt(self.g2)
        self.D2, self.chosen = D2, chosen
        self._tree = self._heap = None  # built when a lazy phase needs them
        self._Hc = self._Ec = None
        self._scan_built = False
        if self.mode == "scan":
            self._build_scan()

    def _build_scan(self):
        """What the scan reads besides ``D2``: sampling blocks, norm order, pruning groups.

        Built when the scan first needs it (a lazy engine may never): at a
        million points it is a sort and a copy of ``E`` in norm order (~1.5 s).
        """
        D2, chosen = self.D2, self.chosen
        self._scan_built = True
        n_blocks = -(-self.n // _BLOCK)
        self.bsum = np.zeros(n_blocks)
        self.bmax = np.full(n_blocks, -1.0)
        self.bcount = np.zeros(n_blocks, dtype=np.int64)
        self.dirty = np.zeros(n_blocks, dtype=np.bool_)
        K.refresh_blocks(D2, chosen, self.n, _BLOCK, self.bsum, self.bmax, self.bcount,
                         0, n_blocks - 1)
        self.perm = np.argsort(self.gn, kind="stable")
        # what the pruning bounds read, in norm order: each update scans them
        # sequentially instead of gathering rows of E across memory
        self.g2p, self.gnp = self.g2[self.perm], self.gn[self.perm]
        self.hnp = self.hn[self.perm]
        self.Ep = self.E[self.perm] if self.pruning and not self.dense else self.E[:0]
        starts = np.arange(0, self.n, _GROUP)
        self.glo = self.gn[self.perm[starts]]
        self.ghi = self.gn[self.perm[np.minimum(starts + _GROUP, self.n) - 1]]
        self.gmax = np.zeros(starts.size)
        K.refresh_groups(D2, self.perm, self.n, _GROUP, self.gmax)

    # Derived from (H, E, D2, chosen) by _set_points: not saved with the engine
    # (a pickled lazy ranking holds the points and the distances, nothing more).
    _DERIVED = ("g2", "hn", "gn", "bsum", "bmax", "bcount", "dirty", "perm", "g2p", "gnp",
                "hnp", "Ep", "glo", "ghi", "gmax", "_tree", "_heap", "_Hc", "_Ec",
                "_scan_built")

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in self._DERIVED}

    def __setstate__(self, state):
        state.setdefault("method", "scan")  # saved before the lazy engines
        state.setdefault("mode", "scan")
        state.setdefault("stamp", np.zeros(state["H"].shape[0], dtype=np.int64))
        state.setdefault("cost", _CostModel())
        state.setdefault("_pending", None)
        self.__dict__.update(state)
        self._set_points(self.H, self.E, self.D2, self.chosen)

    def _args(self):
        if not self._scan_built:
            self._build_scan()
        return (self.H, self.E, self.g2, self.gn, self.hn, self.D2, self.chosen, self.perm,
                self.Ep, self.g2p, self.gnp, self.hnp, self.glo, self.ghi, self.gmax, self.n,
                _GROUP, self.bsum, self.bmax, self.bcount, _BLOCK, self.dirty)

    def largest_norm(self):
        return int(np.argmax(self.g2))

    def choose(self, c):
        """Make ``c`` a center by a full (pruned) pass: every point is then up to date."""
        if self.mode == "lazy" and self.order:
            raise RuntimeError("choose() after the first pick needs the scan's exact state.")
        self.chosen[c] = True
        self.order.append(int(c))
        if self._scan_built:
            self.computed += K.update(*self._args(), c, self.dense, self.pruning)
        else:  # the same distances (_pair_d2), without building the scan's state
            d2 = K.min_d2_to_centers(self.H, self.E, self.g2, 0, self.n,
                                     np.array([c], dtype=np.int64), self.dense)
            np.minimum(self.D2, d2, out=self.D2)
            self.D2[c] = 0.0
            self.computed += self.n
        self.stamp[:] = len(self.order)
        self.cost.k_refresh = len(self.order)  # every bound is exact
        self._tree = self._heap = None

    def kmeans_plusplus_steps(self, us):
        out = np.empty(len(us), dtype=np.intp)
        self.computed += K.run_kmeans_plusplus(
            *self._args(), self.dense, self.pruning, np.asarray(us, dtype=np.float64), out
        )
        self.order.extend(out.tolist())
        return out

    def kcenter_steps(self, k):
        if self.mode == "lazy":
            return self._lazy_kcenter(k)
        out = np.empty(k, dtype=np.intp)
        self.computed += K.run_kcenter(*self._args(), self.dense, self.pruning, k, out)
        self.order.extend(out.tolist())
        return out

    # -- lazy phases ----------------------------------------------------------

    @property
    def _dim(self):
        return self.H.shape[1] + self.E.shape[1]

    @property
    def _tol(self):
        """Relative reach of BLAS's rounding in an estimated distance (see ``exact_min_rows``)."""
        return 4.0 * self._dim * float(np.finfo(self.H.dtype).eps)

    def _centers(self, s0, k):
        """Factors of the chosen points ``s0..k-1``, contiguous (kept as they are chosen)."""
        if self._Hc is None or self._Hc.shape[0] < k:
            cap = max(k, 2 * (0 if self._Hc is None else self._Hc.shape[0]), 64)
            idx = np.asarray(self.order[:k], dtype=np.intp)
            self._Hc = np.empty((cap, self.H.shape[1]), self.H.dtype)
            self._Ec = np.empty((cap, self.E.shape[1]), self.E.dtype)
            self._Hc[:k], self._Ec[:k] = self.H[idx], self.E[idx]
            self._n_centers_stored = k
        if self._n_centers_stored < k:
            idx = np.asarray(self.order[self._n_centers_stored:k], dtype=np.intp)
            self._Hc[self._n_centers_stored:k] = self.H[idx]
            self._Ec[self._n_centers_stored:k] = self.E[idx]
            self._n_centers_stored = k
        return self._Hc[s0:k], self._Ec[s0:k]

    def _bring_up_to_date(self, rows):
        """Exact ``D2`` of ``rows`` (unchosen) against every center; returns the pairs done."""
        k = len(self.order)
        rows = rows[self.stamp[rows] < k]
        if not rows.size:
            return 0
        work = 0
        order = np.asarray(self.order, dtype=np.int64)
        step = max(1, 2**21 // max(1, k))
        flops = rows.size * k * self._dim
        small = 2**18 <= flops < _THREADED_FLOPS and rows.size * k < 2**21
        with _one_blas_thread() if small else nullcontext():  # tinier: one thread anyway
            work = self._bring_rows_up_to_date(rows, order, k, step)
        self.computed += work
        return work

    def _bring_rows_up_to_date(self, rows, order, k, step):
        work = 0
        for start in range(0, rows.size, step):
            part = rows[start : start + step]
            s0 = int(self.stamp[part].min())
            Hc, Ec = self._centers(s0, k)
            cross = (self.H[part] @ Hc.T).astype(np.float64)
            if not self.dense:
                cross *= self.E[part] @ Ec.T
            approx = self.g2[part, None] + self.g2[order[s0:k]][None, :] - 2.0 * cross
            work += K.exact_min_rows(self.H, self.E, self.g2, self.dense, part, order[s0:k],
                                     approx, self._tol, self.D2, self.stamp, k)
        return work

    def _refresh(self):
        """Bring every point up to date, by the cheaper of two exact ways.

        One blocked BLAS pass against the centers chosen since the oldest
        stamp, or a replay of those centers through the scan's pruned
        ``update`` (the bounds prune as well as exact distances would, since
        they are larger): the scan's arithmetic either way.
        """
        self._pending = None
        k = len(self.order)
        free = np.flatnonzero(~self.chosen)
        s_min = int(self.stamp[free].min()) if free.size else k
        if free.size and s_min < k:
            if self._scan_cost() < _GEMM_COST * free.size:
                self._scan_state()
                for c in self.order[s_min:k]:
                    self.computed += K.update(*self._args(), c, self.dense, self.pruning)
                self.stamp[free] = k
            else:
                self._bring_up_to_date(free)
        self.cost.refreshed(k)
        self._tree = self._heap = None

    def _scan_state(self):
        """The scan's sampling blocks and pruning groups, from the current ``D2``."""
        if not self._scan_built:
            self._build_scan()
            return
        K.refresh_blocks(self.D2, self.chosen, self.n, _BLOCK, self.bsum, self.bmax,
                         self.bcount, 0, len(self.bsum) - 1)
        K.refresh_groups(self.D2, self.perm, self.n, _GROUP, self.gmax)

    def _enter_scan(self):
        """Every point up to date: the scan's derived state from the exact ``D2``."""
        self._refresh()
        self.mode = "scan"
        self._scan_state()
        self._Hc = self._Ec = None

    def _scan_floor(self):
        """The scan's cost per pick without any exact distance: every point's bounds.

        A point costs its norm bound and, for outer products, the ``O(C)``
        bound (at ~0.25 ns per dimension, like a distance). Whole groups the
        scan skips cost less; points read through the norm order cost more
        (~12 ns on a large pool): the estimate leans towards the scan, whose
        cost is known, rather than the lazy engine, whose cost grows with ``k``.
        """
        n_left = self.n - len(self.order)
        return n_left * (6.0 + (0 if self.dense else self.E.shape[1])) / self._dim

    def _scan_cost(self):
        """Estimated work of one scan pick, in exact distances (``_CostModel``).

        Every point costs its bounds; the points the bounds do not rule out
        cost a distance. Their share is measured on a strided sample of about
        a thousand points, first brought up to date (stale bounds prune far
        less than the scan's exact distances would). The estimate is kept
        until the number of centers has grown by a quarter.
        """
        k = len(self.order)
        cost = self.cost
        if cost.scan_estimate is not None and k < 1.25 * cost.scan_estimate_k:
            return cost.scan_estimate
        stride = max(1, self.n // 1024)
        sample = np.arange(0, self.n, stride)
        cost.overhead(self._bring_up_to_date(sample[~self.chosen[sample]]))
        beta = K.probe_scan(self.H, self.E, self.g2, self.gn, self.hn, self.D2, self.chosen,
                            self.order[-1], stride, self.dense)
        cost.scan_estimate = self._scan_floor() + (self.n - k) * beta
        cost.scan_estimate_k = k
        return cost.scan_estimate

    def _is_chosen(self, rows):
        return self.chosen[rows]

    def _lazy_total(self):
        return self._sum_tree()[1]

    def _draw(self, rs):
        cand = np.empty(rs.size, dtype=np.int64)
        bound = np.empty(rs.size)
        K.tree_draw(self._sum_tree(), rs, cand, bound)
        return cand, bound

    def _accept(self, cand, bound, vs, need, out):
        t, n_picked, work = K.accept_candidates(
            self.H, self.E, self.g2, self.dense, cand, bound, vs, need, self.D2, self.stamp,
            self.chosen, len(self.order), out)
        return t, n_picked, work

    def _end_batch(self, rows):
        K.tree_set(self._sum_tree(), rows, self.D2, self.chosen)

    def _sum_tree(self):
        """The sum tree over the bounds (a function of ``D2`` and ``chosen`` between batches)."""
        if self._tree is None:
            self._tree = np.zeros(self._tree_size())
            K.tree_build(self.D2, self.chosen, self.n, self._tree)
        return self._tree

    def _uniform_pick(self, u):
        """Every point left is at distance 0: the ``⌊u·m⌋``-th of the ``m`` not chosen."""
        remaining = np.flatnonzero(~self.chosen)
        c = int(remaining[min(int(u * remaining.size), remaining.size - 1)])
        self.chosen[c] = True
        self.D2[c] = 0.0
        self.stamp[c] = len(self.order)
        self.order.append(c)
        K.tree_set(self._sum_tree(), np.array([c], dtype=np.int64), self.D2, self.chosen)
        return c

    def _lazy_kcenter(self, k):
        out = np.empty(k, dtype=np.intp)
        got = 0
        order = np.empty(len(self.order) + k, dtype=np.int64)
        order[: len(self.order)] = self.order
        while got < k:
            if self._heap is None:
                key, idx = np.empty(self.n), np.empty(self.n, dtype=np.int64)
                self._heap = [key, idx, K.heap_build(self.D2, self.chosen, self.n, key, idx)]
            key, idx, size = self._heap
            budget = self.cost.budget(self.n - len(self.order), len(self.order))
            n0 = len(self.order)
            n_picked, size, work, pops = K.lazy_kcenter(
                self.H, self.E, self.g2, self.dense, self.D2, self.stamp, self.chosen, order,
                n0, key, idx, size, k - got, out[got:], budget)
            self._heap[2] = size
            self.computed += work
            self.order.extend(out[got : got + n_picked].tolist())
            self.cost.lazy_work(work)
            self.cost.drawn(pops, 2 * self.n)
            self.cost.picked(n_picked)
            got += n_picked
            if got < k:  # the budget ran out: refresh, or hand over to the scan
                self._maybe_switch()
                if self.mode == "scan":
                    out[got:] = self.kcenter_steps(k - got)
                    return out
        return out

    def _chosen_factors(self):
        return self.H[self.order], self.E[self.order]

    def set_external_centers(self, Hc, Ec):
        if self.order:
            raise RuntimeError("External centers are set before the first pick.")
        self.external = (Hc, Ec)
        d2 = self._min_d2_new(self.H, self.E)
        self._set_points(self.H, self.E, np.minimum(self.D2, d2), self.chosen)

    def add(self, H, E):
        start = self.n
        if self.mode == "lazy" and len(self.order) > 1:
            # one valid upper bound is enough: the distance to the externals and
            # to the first center (the lazy phases bring the rest up to date)
            centers = [(self.H[self.order[:1]], self.E[self.order[:1]])]
            if self.external is not None:
                centers.append(self.external)
            d2 = _min_d2_to_centers(H, E, centers, self.dense)
            stamp = np.ones(H.shape[0], dtype=np.int64)
        else:
            d2 = self._min_d2_new(H, E)
            stamp = np.full(H.shape[0], len(self.order), dtype=np.int64)
        self._pending = None  # candidates drawn before the pool grew cannot reach the new points
        self.stamp = np.concatenate([self.stamp, stamp])
        self._set_points(
            np.concatenate([self.H, H.astype(self.H.dtype, copy=False)]),
            np.concatenate([self.E, E.astype(self.E.dtype, copy=False)]),
            np.concatenate([self.D2, d2]),
            np.concatenate([self.chosen, np.zeros(H.shape[0], bool)]),
        )
        return np.arange(start, self.n)


class TorchBackend(BaseBackend):
    """Device engine (CUDA or CPU) in torch.

    k-means++ with ``method="lazy"`` or ``"auto"``: the rejection sampler of
    :class:`NumbaBackend`, with the same decisions from the same counts: a
    batch of candidates is drawn from the cumulative sum of the bounds (one
    pass on the device), brought up to date by one product against the
    centers it has not seen, and accepted on the host (a few dozen numbers).
    The scan never takes over (on a GPU a refresh is one product). With
    ``method="scan"``, and for k-center, a dense pass per pick, one host
    synchronization each. No pruning (``pruning`` is ignored): on a GPU the
    full factorized pass is a pair of mat-vecs, and the per-step cost is
    dominated by launches, not arithmetic.
    """

    def __init__(self, H, E, dense, *, device="cpu", pruning=True, method="scan"):
        super().__init__(H, E, dense, device=torch.device(device), pruning=pruning,
                         method=method)
        self._set_points(self._t(H), self._t(E), None, None)
        self.stamp = np.zeros(self.n, dtype=np.int64)

    def _t(self, A):
        return torch.as_tensor(np.ascontiguousarray(A)).to(self.device)

    def _set_points(self, H, E, D2, chosen):
        self.H, self.E = H, E
        self.n = H.shape[0]
        acc = torch.float64
        h2 = (H.to(acc) ** 2).sum(1)
        self.g2 = h2 if self.dense else h2 * (E.to(acc) ** 2).sum(1)
        self.D2 = torch.full((self.n,), float("inf"), dtype=acc, device=self.device) \
            if D2 is None else D2
        self.chosen = torch.zeros(self.n, dtype=torch.bool, device=self.device) \
            if chosen is None else chosen

    def _d2_to(self, c):
        acc = torch.float64
        if self.dense:
            diff = self.H.to(acc) - self.H[c].to(acc)
            return (diff * diff).sum(1)
        cross = (self.H.to(acc) @ self.H[c].to(acc)) * (self.E.to(acc) @ self.E[c].to(acc))
        d2 = self.g2 + self.g2[c] - 2.0 * cross
        return torch.where(d2 <= K._SNAP * (self.g2 + self.g2[c]), 0.0, d2)

    def largest_norm(self):
        return int(torch.argmax(self.g2).item())

    def choose(self, c):
        self.chosen[c] = True
        self.D2 = torch.minimum(self.D2, self._d2_to(c))
        self.D2[c] = 0.0
        self.order.append(int(c))
        self.computed += self.n
        if self.mode == "lazy" and len(self.order) == 1:  # the first center: all exact
            self.stamp[:] = 1
            self.cost.k_refresh = 1

    def kmeans_plusplus_steps(self, us):
        out = np.empty(len(us), dtype=np.intp)
        for t, u in enumerate(us):
            cumulative = torch.cumsum(self.D2, 0)
            total = cumulative[-1]
            idx = torch.searchsorted(cumulative, (u * total).reshape(1), right=True)
            idx = idx.clamp_(max=self.n - 1)
            # one host synchronization per step: the index and two flags together
            c, positive, landed = torch.stack(
                [idx[0], (total > 0).long(), (self.D2[idx[0]] > 0).long()]
            ).tolist()
            if not positive:
                remaining = torch.nonzero(~self.chosen).flatten()
                c = int(remaining[min(int(u * remaining.numel()), remaining.numel() - 1)])
            elif not landed:  # rounding at the end (chosen points have D2 = 0)
                c = int(torch.nonzero(self.D2[: c + 1] > 0).flatten()[-1])
            out[t] = c
            self.choose(c)
        return out

    def kcenter_steps(self, k):
        self.mode = "scan"  # k-center runs the scan here: every distance stays exact
        out = np.empty(k, dtype=np.intp)
        for t in range(k):
            masked = torch.where(self.chosen, -1.0, self.D2)
            c = int(torch.argmax(masked).item())  # first maximum: lowest index
            out[t] = c
            self.choose(c)
        return out

    def _chosen_factors(self):
        return self.H[self.order].cpu().numpy(), self.E[self.order].cpu().numpy()

    # -- the lazy k-means++ engine's primitives (see BaseBackend) ---------------

    def _rows(self, rows):
        return torch.as_tensor(np.asarray(rows, dtype=np.int64), device=self.device)

    def _is_chosen(self, rows):
        return self.chosen[self._rows(rows)].cpu().numpy()

    def _lazy_total(self):
        return float(torch.where(self.chosen, 0.0, self.D2).sum())

    def _draw(self, rs):
        weights = torch.where(self.chosen, 0.0, self.D2)
        cumulative = torch.cumsum(weights, 0)
        targets = torch.as_tensor(rs, dtype=cumulative.dtype, device=self.device)
        idx = torch.searchsorted(cumulative, targets * cumulative[-1], right=True)
        idx = idx.clamp_(max=self.n - 1)
        cand = idx.cpu().numpy().astype(np.int64)
        bound = weights[idx].cpu().numpy()
        for t in np.flatnonzero(bound <= 0.0):  # rounding at the end: the last positive
            j = int(torch.nonzero(weights[: cand[t] + 1] > 0).flatten()[-1])
            cand[t], bound[t] = j, float(weights[j])
        return cand, bound

    def _bring_up_to_date(self, rows):
        """``D2`` of ``rows`` (unchosen) against the centers they have not seen."""
        k = len(self.order)
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[self.stamp[rows] < k]
        if not rows.size:
            return 0
        work = int((k - self.stamp[rows]).sum())
        acc = torch.float64
        order = self._rows(self.order)
        step = max(1, 2**24 // k)
        for start in range(0, rows.size, step):
            part = rows[start : start + step]
            s0 = int(self.stamp[part].min())
            r, c = self._rows(part), order[s0:k]
            cross = self.H[r].to(acc) @ self.H[c].to(acc).T
            if self.dense:
                d2 = self.g2[r][:, None] + self.g2[c][None, :] - 2.0 * cross
            else:
                cross *= self.E[r].to(acc) @ self.E[c].to(acc).T
                d2 = self.g2[r][:, None] + self.g2[c][None, :] - 2.0 * cross
            d2 = torch.where(d2 <= K._SNAP * (self.g2[r][:, None] + self.g2[c][None, :]),
                             0.0, d2)
            seen = self._rows(self.stamp[part] - s0)
            cols = torch.arange(k - s0, device=self.device)
            d2 = torch.where(cols[None, :] < seen[:, None], float("inf"), d2)
            self.D2[r] = torch.minimum(self.D2[r], d2.min(1).values)
            self.stamp[part] = k
        self.computed += work
        return work

    def _accept(self, cand, bound, vs, need, out):
        # a few dozen candidates: examined on the host with the CPU kernel
        unique, local = np.unique(cand, return_inverse=True)
        r = self._rows(unique)
        acc = torch.float64
        H = self.H[r].to(acc).cpu().numpy()
        E = self.E[r].to(acc).cpu().numpy()
        D2 = self.D2[r].cpu().numpy().copy()
        chosen = self.chosen[r].cpu().numpy().copy()
        stamp = self.stamp[unique].copy()
        picks = np.empty(need, dtype=np.int64)
        t, n_picked, work = K.accept_candidates(
            H, E, self.g2[r].cpu().numpy(), self.dense, local.astype(np.int64), bound, vs,
            need, D2, stamp, chosen, len(self.order), picks)
        out[:n_picked] = unique[picks[:n_picked]]
        self.D2[r] = torch.as_tensor(D2, device=self.device)
        self.chosen[r] = torch.as_tensor(chosen, device=self.device)
        self.stamp[unique] = stamp
        return t, n_picked, work

    def _end_batch(self, rows):
        pass  # the cumulative sum is recomputed for each batch

    def _uniform_pick(self, u):
        remaining = torch.nonzero(~self.chosen).flatten()
        c = int(remaining[min(int(u * remaining.numel()), remaining.numel() - 1)])
        self.chosen[c] = True
        self.D2[c] = 0.0
        self.stamp[c] = len(self.order)
        self.order.append(c)
        return c

    def _refresh(self):
        self._pending = None
        self._bring_up_to_date(np.flatnonzero(~self.chosen.cpu().numpy()))
        self.cost.refreshed(len(self.order))

    def _min_d2_new_tensor(self, H, E):
        d2 = self._min_d2_new(H.cpu().numpy(), E.cpu().numpy())
        return torch.as_tensor(d2).to(self.device)

    def set_external_centers(self, Hc, Ec):
        self.external = (np.asarray(Hc), np.asarray(Ec))
        self.D2 = torch.minimum(self.D2, self._min_d2_new_tensor(self.H, self.E))

    def add(self, H, E):
        start = self.n
        if self.mode == "lazy" and len(self.order) > 1:
            # as NumbaBackend: an upper bound, the distance to the first center
            d2 = torch.as_tensor(_min_d2_to_centers(
                H, E, [tuple(A.cpu().numpy() for A in (self.H[self.order[:1]],
                                                       self.E[self.order[:1]]))],
                self.dense)).to(self.device)
            stamp = np.ones(H.shape[0], dtype=np.int64)
        else:
            d2 = None
            stamp = np.full(H.shape[0], len(self.order), dtype=np.int64)
        self._pending = None
        self.stamp = np.concatenate([self.stamp, stamp])
        H, E = self._t(H).to(self.H.dtype), self._t(E).to(self.E.dtype)
        if d2 is None:
            d2 = self._min_d2_new_tensor(H, E)
        self._set_points(
            torch.cat([self.H, H]),
            torch.cat([self.E, E]),
            torch.cat([self.D2, d2]),
            torch.cat([self.chosen, torch.zeros(H.shape[0], dtype=torch.bool,
                                                device=self.device)]),
        )
        return np.arange(start, self.n)


# Device type (``torch.device(device).type``) -> backend class.
_BACKENDS = {"cpu": NumbaBackend, "cuda": TorchBackend}


def get_backend(H, E, dense, device, *, pruning=True, method="scan"):
    """The backend for ``device``, holding the points ``(H, E)``.

    Parameters
    ----------
    H, E, dense
        The points, as :class:`BaseBackend` takes them.
    device : str or torch.device
        A resolved device (:func:`skal.utils._device.resolve_device`):
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    pruning : bool, default=True
        See :class:`BaseBackend`.
    method : {"scan", "lazy", "auto"}, default="scan"
        The engine (:class:`NumbaBackend`): a pass over every point per pick,
        lazy phases on stale bounds, or lazy phases until the scan is cheaper.

    Returns
    -------
    backend : BaseBackend
    """
    kind = torch.device(device).type
    if kind not in _BACKENDS:
        raise ValueError(
            f"No selection backend runs on device={device!r}; backends exist for "
            f"{sorted(_BACKENDS)}."
        )
    return _BACKENDS[kind](H, E, dense, device=device, pruning=pruning, method=method)
