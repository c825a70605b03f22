"""Engine state for the selection orderings: a numba CPU backend and a torch one.

Both expose the same small interface, used by the lazy rankings:

- ``n``: number of points; ``order``: chosen indices so far.
- ``largest_norm()``: index of the point of largest norm (lowest among ties).
- ``choose(c)``: make ``c`` a center.
- ``kmeans_plusplus_steps(us)``: one D² draw per uniform number in ``us``.
- ``kcenter_steps(k)``: ``k`` farthest-first picks.
- ``add(H, E)``: append points; their distance to every center so far is
  computed at once. Returns their indices.
- ``set_external_centers(H, E)``: centers that are not pool points (the
  labeled set of CoreSet).
"""

import numpy as np

from . import _kernels as K

_BLOCK = 64  # sampling block (consecutive indices)
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


class NumbaBackend:
    """CPU engine: compiled kernels, block sums for sampling, exact pruning."""

    def __init__(self, H, E, dense, prune=True):
        self.dense = dense
        self.prune = prune
        self.order = []
        self.computed = 0  # exact distances computed (a measure of pruning)
        self.external = None
        self._set_points(H, E, np.full(H.shape[0], np.inf), np.zeros(H.shape[0], bool))

    def _set_points(self, H, E, D2, chosen):
        self.H, self.E = H, E
        self.n = H.shape[0]
        self.g2, self.hn = K.sq_norms(H, E, self.dense)
        self.gn = np.sqrt(self.g2)
        self.D2, self.chosen = D2, chosen
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
        self.Ep = self.E[self.perm] if self.prune and not self.dense else self.E[:0]
        starts = np.arange(0, self.n, _GROUP)
        self.glo = self.gn[self.perm[starts]]
        self.ghi = self.gn[self.perm[np.minimum(starts + _GROUP, self.n) - 1]]
        self.gmax = np.zeros(starts.size)
        K.refresh_groups(D2, self.perm, self.n, _GROUP, self.gmax)

    # Derived from (H, E, D2, chosen) by _set_points: not saved with the engine
    # (a pickled lazy ranking holds the points and the distances, nothing more).
    _DERIVED = ("g2", "hn", "gn", "bsum", "bmax", "bcount", "dirty", "perm", "g2p", "gnp",
                "hnp", "Ep", "glo", "ghi", "gmax")

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in self._DERIVED}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._set_points(self.H, self.E, self.D2, self.chosen)

    def _args(self):
        return (self.H, self.E, self.g2, self.gn, self.hn, self.D2, self.chosen, self.perm,
                self.Ep, self.g2p, self.gnp, self.hnp, self.glo, self.ghi, self.gmax, self.n,
                _GROUP, self.bsum, self.bmax, self.bcount, _BLOCK, self.dirty)

    def largest_norm(self):
        return int(np.argmax(self.g2))

    def choose(self, c):
        self.chosen[c] = True
        self.order.append(int(c))
        self.computed += K.update(*self._args(), c, self.dense, self.prune)

    def kmeans_plusplus_steps(self, us):
        out = np.empty(len(us), dtype=np.intp)
        self.computed += K.run_kmeans_plusplus(
            *self._args(), self.dense, self.prune, np.asarray(us, dtype=np.float64), out
        )
        self.order.extend(out.tolist())
        return out

    def kcenter_steps(self, k):
        out = np.empty(k, dtype=np.intp)
        self.computed += K.run_kcenter(*self._args(), self.dense, self.prune, k, out)
        self.order.extend(out.tolist())
        return out

    def _min_d2_new(self, H, E):
        d2 = np.full(H.shape[0], np.inf)
        centers = [(self.H[self.order], self.E[self.order])] if self.order else []
        if self.external is not None:
            centers.append(self.external)
        for Hc, Ec in centers:
            if self.dense:
                np.minimum(d2, _min_d2_dense(H, Hc), out=d2)
            else:
                np.minimum(d2, _min_d2_outer(H, E, Hc, Ec), out=d2)
        return d2

    def set_external_centers(self, Hc, Ec):
        self.external = (Hc, Ec)
        d2 = self._min_d2_new(self.H, self.E)
        self._set_points(self.H, self.E, np.minimum(self.D2, d2), self.chosen)

    def add(self, H, E):
        start = self.n
        d2 = self._min_d2_new(H, E)
        self._set_points(
            np.concatenate([self.H, H.astype(self.H.dtype, copy=False)]),
            np.concatenate([self.E, E.astype(self.E.dtype, copy=False)]),
            np.concatenate([self.D2, d2]),
            np.concatenate([self.chosen, np.zeros(H.shape[0], bool)]),
        )
        return np.arange(start, self.n)


class TorchBackend:
    """Device engine (CUDA or CPU) in torch: a dense pass per step, one host sync.

    No pruning: on a GPU the full factorized distance pass is a pair of
    mat-vecs, and the per-step cost is dominated by launches, not arithmetic.
    """

    def __init__(self, H, E, dense, device):
        import torch

        self.torch = torch
        self.device = torch.device(device)
        self.dense = dense
        self.order = []
        self.external = None
        self.computed = 0
        self._set_points(self._t(H), self._t(E), None, None)

    def _t(self, A):
        return self.torch.as_tensor(np.ascontiguousarray(A)).to(self.device)

    def _set_points(self, H, E, D2, chosen):
        torch = self.torch
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
        acc = self.torch.float64
        if self.dense:
            diff = self.H.to(acc) - self.H[c].to(acc)
            return (diff * diff).sum(1)
        cross = (self.H.to(acc) @ self.H[c].to(acc)) * (self.E.to(acc) @ self.E[c].to(acc))
        d2 = self.g2 + self.g2[c] - 2.0 * cross
        return self.torch.where(d2 <= K._SNAP * (self.g2 + self.g2[c]), 0.0, d2)

    def largest_norm(self):
        return int(self.torch.argmax(self.g2).item())

    def choose(self, c):
        self.chosen[c] = True
        self.D2 = self.torch.minimum(self.D2, self._d2_to(c))
        self.D2[c] = 0.0
        self.order.append(int(c))
        self.computed += self.n

    def kmeans_plusplus_steps(self, us):
        torch = self.torch
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
        torch = self.torch
        out = np.empty(k, dtype=np.intp)
        for t in range(k):
            masked = torch.where(self.chosen, -1.0, self.D2)
            c = int(torch.argmax(masked).item())  # first maximum: lowest index
            out[t] = c
            self.choose(c)
        return out

    def _min_d2_new(self, H, E):
        Hn, En = H.cpu().numpy(), E.cpu().numpy()
        d2 = np.full(H.shape[0], np.inf)
        centers = []
        if self.order:
            centers.append((self.H[self.order].cpu().numpy(), self.E[self.order].cpu().numpy()))
        if self.external is not None:
            centers.append(self.external)
        for Hc, Ec in centers:
            new = _min_d2_dense(Hn, Hc) if self.dense else _min_d2_outer(Hn, En, Hc, Ec)
            np.minimum(d2, new, out=d2)
        return self.torch.as_tensor(d2).to(self.device)

    def set_external_centers(self, Hc, Ec):
        self.external = (np.asarray(Hc), np.asarray(Ec))
        self.D2 = self.torch.minimum(self.D2, self._min_d2_new(self.H, self.E))

    def add(self, H, E):
        torch = self.torch
        start = self.n
        H, E = self._t(H).to(self.H.dtype), self._t(E).to(self.E.dtype)
        d2 = self._min_d2_new(H, E)
        self._set_points(
            torch.cat([self.H, H]),
            torch.cat([self.E, E]),
            torch.cat([self.D2, d2]),
            torch.cat([self.chosen, torch.zeros(H.shape[0], dtype=torch.bool,
                                                device=self.device)]),
        )
        return np.arange(start, self.n)
