"""Compiled CPU kernels of the selection engines (numba).

Points are rows ``g_i = h_i ⊗ e_i`` given by their factors (``H``, ``E``), or
plain rows ``x_i`` (``dense=True``, then ``H`` holds the rows and ``E`` is
unused). Every distance is computed by :func:`_pair_d2`, with float64
accumulation whatever the storage dtype, so the pruned and plain paths do the
same arithmetic for every distance they both compute.

State (all arrays, owned by :class:`skal.selection._backends.NumbaBackend`):

- ``D2[i]``: squared distance of point ``i`` to its nearest chosen center
  (``inf`` before the first center; 0 once chosen).
- ``chosen[i]``: whether ``i`` has been chosen.
- Sampling blocks of ``B`` consecutive indices: ``bsum`` (sum of ``D2``),
  ``bmax`` (max of ``D2`` over unchosen points, -1 if none), ``bcount``
  (unchosen points). Walking the blocks in index order and then the points
  of one block is the same as walking a cumulative sum over all points.
- Pruning groups of ``G`` points in order of increasing norm (``perm``):
  ``glo``/``ghi`` (norm range) and ``gmax`` (max ``D2`` in the group). What
  the per-point bounds read is also stored in that order (``Ep``, ``g2p``,
  ``gnp``, ``hnp``: ``E[perm]`` and the norms), so that an update scans it
  sequentially; on a 300,000-point pool with H = 513, C = 100 this took a
  k-means++ pick from 31 ms to 11.5 ms, with the same picks.

Pruning (exact): ``‖x − c‖ ≥ |‖x‖ − ‖c‖|`` for whole groups and single points,
and for outer products ``‖g_x − g_c‖² ≥ ‖g_x‖² + ‖g_c‖² − 2‖h_x‖‖h_c‖|⟨e_x,e_c⟩|``
(Cauchy–Schwarz on the ``h`` factor only), which costs ``O(C)`` instead of
``O(H)``. A point is skipped only when its lower bound exceeds its current
``D2`` by more than the rounding error of the computation (``_MARGIN`` times
the magnitudes involved), so a skipped point is one the plain path would not
have updated either: both paths yield the same ordering for a seed.
"""

import numpy as np
from numba import njit

from ._submodular_kernels import _before, _push, _sift_down, heapify

_MARGIN = 1e-9  # relative; float64 accumulation error is ~H·2e-16
# Reassociation lets LLVM vectorize the float64 reductions. The summation
# order is then fixed by the compiled code, which both the pruned and the plain
# path share (``prune`` is a run-time flag), so they still agree bit for bit.
# No "nnan"/"ninf": D2 starts at +inf.
_FAST = {"reassoc", "contract"}
_SNAP = 1e-12  # |d2| below _SNAP·(‖g_x‖² + ‖g_c‖²) is a duplicate: 0


@njit(cache=True, fastmath=_FAST, inline="always")
def _dot(A, i, B, j):
    s = 0.0
    for k in range(A.shape[1]):
        s += np.float64(A[i, k]) * np.float64(B[j, k])
    return s


@njit(cache=True, fastmath=_FAST, inline="always")
def _pair_d2(H, E, g2, x, Hc, Ec, g2c, c, dense):
    """Squared distance of point ``x`` of (H, E) to point ``c`` of (Hc, Ec)."""
    if dense:
        s = 0.0
        for k in range(H.shape[1]):
            d = np.float64(H[x, k]) - np.float64(Hc[c, k])
            s += d * d
        return s
    d2 = g2[x] + g2c[c] - 2.0 * _dot(H, x, Hc, c) * _dot(E, x, Ec, c)
    if d2 <= _SNAP * (g2[x] + g2c[c]):
        d2 = 0.0
    return d2


@njit(cache=True, fastmath=_FAST)
def sq_norms(H, E, dense):
    """``(g2, hn)``: squared norms of the points and norms of their h factors."""
    n = H.shape[0]
    g2 = np.empty(n)
    hn = np.empty(n)
    for i in range(n):
        h2 = _dot(H, i, H, i)
        hn[i] = np.sqrt(h2)
        g2[i] = h2 if dense else h2 * _dot(E, i, E, i)
    return g2, hn


@njit(cache=True, fastmath=_FAST)
def refresh_blocks(D2, chosen, n, B, bsum, bmax, bcount, first, last):
    """Recompute sampling blocks ``first``..``last`` (inclusive) from ``D2``."""
    for b in range(first, last + 1):
        s = 0.0
        m = -1.0
        count = 0
        for i in range(b * B, min(n, (b + 1) * B)):
            if not chosen[i]:
                s += D2[i]
                if D2[i] > m:
                    m = D2[i]
                count += 1
        bsum[b] = s
        bmax[b] = m
        bcount[b] = count


@njit(cache=True, fastmath=_FAST)
def refresh_groups(D2, perm, n, G, gmax):
    for g in range((n + G - 1) // G):
        m = 0.0
        for j in range(g * G, min(n, (g + 1) * G)):
            if D2[perm[j]] > m:
                m = D2[perm[j]]
        gmax[g] = m


@njit(cache=True, fastmath=_FAST)
def update(H, E, g2, gn, hn, D2, chosen, perm, Ep, g2p, gnp, hnp, glo, ghi, gmax, n, G,
           bsum, bmax, bcount, B, dirty, c, dense, prune):
    """Make ``c`` a center: lower every ``D2[x]`` to ``‖x − c‖²`` where smaller.

    Returns the number of exact distances computed (for benchmarks).
    """
    rc = gn[c]
    g2c = g2[c]
    hc = hn[c]
    computed = 0
    n_groups = (n + G - 1) // G
    for g in range(n_groups):
        if prune:
            gap = 0.0
            if rc < glo[g]:
                gap = glo[g] - rc
            elif rc > ghi[g]:
                gap = rc - ghi[g]
            if gap * gap > gmax[g] + _MARGIN * (ghi[g] * ghi[g] + g2c):
                continue
        new_max = 0.0
        for j in range(g * G, min(n, (g + 1) * G)):
            x = perm[j]
            d2x = D2[x]
            if d2x > 0.0:
                skip = False
                if prune:  # the bounds read the norm-ordered copies: a sequential scan
                    margin = _MARGIN * (g2p[j] + g2c)
                    dn = gnp[j] - rc
                    if dn * dn > d2x + margin:
                        skip = True
                    elif not dense:
                        lb = g2p[j] + g2c - 2.0 * hnp[j] * hc * abs(_dot(Ep, j, E, c))
                        if lb > d2x + margin:
                            skip = True
                if not skip:
                    computed += 1
                    d2 = _pair_d2(H, E, g2, x, H, E, g2, c, dense)
                    if d2 < d2x:
                        D2[x] = d2
                        d2x = d2
                        dirty[x // B] = True
            if d2x > new_max:
                new_max = d2x
        gmax[g] = new_max
    # the new center itself
    D2[c] = 0.0
    dirty[c // B] = True
    n_blocks = (n + B - 1) // B
    for b in range(n_blocks):
        if dirty[b]:
            refresh_blocks(D2, chosen, n, B, bsum, bmax, bcount, b, b)
            dirty[b] = False
    return computed


@njit(cache=True, fastmath=_FAST)
def sample_d2(D2, chosen, n, B, bsum, bcount, u):
    """Index drawn with probability ``D2[i] / ΣD2`` (or uniform among unchosen).

    Walks the cumulative sum in index order: the first ``i`` whose cumulative
    ``D2`` exceeds ``u·ΣD2``. If every unchosen ``D2`` is 0, returns the
    ``⌊u·m⌋``-th unchosen index (``m`` of them), in index order.
    """
    n_blocks = (n + B - 1) // B
    total = 0.0
    for b in range(n_blocks):
        total += bsum[b]
    if total > 0.0:
        target = u * total
        acc = 0.0
        last_block = -1
        for b in range(n_blocks):
            if bsum[b] > 0.0:
                last_block = b
                if acc + bsum[b] > target:
                    last_i = -1
                    for i in range(b * B, min(n, (b + 1) * B)):
                        if not chosen[i] and D2[i] > 0.0:
                            acc += D2[i]
                            last_i = i
                            if acc > target:
                                return i
                    return last_i  # rounding: u·total reached the block's end
                acc += bsum[b]
        # rounding: u·total reached the total; take the last positive point
        b = last_block
        for i in range(min(n, (b + 1) * B) - 1, b * B - 1, -1):
            if not chosen[i] and D2[i] > 0.0:
                return i
    remaining = 0
    for b in range(n_blocks):
        remaining += bcount[b]
    k = min(int(u * remaining), remaining - 1)
    for b in range(n_blocks):
        if k < bcount[b]:
            for i in range(b * B, min(n, (b + 1) * B)):
                if not chosen[i]:
                    if k == 0:
                        return i
                    k -= 1
        k -= bcount[b]
    return -1


@njit(cache=True, fastmath=_FAST)
def farthest(D2, chosen, n, B, bmax):
    """Unchosen index of largest ``D2``; ties go to the lowest index."""
    best_block = -1
    best = -1.0
    for b in range((n + B - 1) // B):
        if bmax[b] > best:
            best = bmax[b]
            best_block = b
    b = best_block
    for i in range(b * B, min(n, (b + 1) * B)):
        if not chosen[i] and D2[i] == best:
            return i
    return -1


@njit(cache=True, fastmath=_FAST)
def run_kmeans_plusplus(H, E, g2, gn, hn, D2, chosen, perm, Ep, g2p, gnp, hnp, glo, ghi,
                        gmax, n, G, bsum, bmax, bcount, B, dirty, dense, prune, us, out):
    """``len(us)`` k-means++ steps after the first center; picks into ``out``."""
    computed = 0
    for t in range(us.shape[0]):
        c = sample_d2(D2, chosen, n, B, bsum, bcount, us[t])
        chosen[c] = True
        out[t] = c
        computed += update(H, E, g2, gn, hn, D2, chosen, perm, Ep, g2p, gnp, hnp, glo, ghi,
                           gmax, n, G, bsum, bmax, bcount, B, dirty, c, dense, prune)
    return computed


@njit(cache=True, fastmath=_FAST)
def run_kcenter(H, E, g2, gn, hn, D2, chosen, perm, Ep, g2p, gnp, hnp, glo, ghi, gmax, n,
                G, bsum, bmax, bcount, B, dirty, dense, prune, n_steps, out):
    """``n_steps`` farthest-first steps; picks into ``out``."""
    computed = 0
    for t in range(n_steps):
        c = farthest(D2, chosen, n, B, bmax)
        chosen[c] = True
        out[t] = c
        computed += update(H, E, g2, gn, hn, D2, chosen, perm, Ep, g2p, gnp, hnp, glo, ghi,
                           gmax, n, G, bsum, bmax, bcount, B, dirty, c, dense, prune)
    return computed


@njit(cache=True, fastmath=_FAST)
def min_d2_to_centers(H, E, g2, start, end, centers, dense):
    """``min_j ‖x − c_j‖²`` over the chosen ``centers`` for points start..end-1."""
    out = np.empty(end - start)
    for x in range(start, end):
        m = np.inf
        for j in range(centers.shape[0]):
            d2 = _pair_d2(H, E, g2, x, H, E, g2, centers[j], dense)
            if d2 < m:
                m = d2
        out[x - start] = m
    return out


# --------------------------------------------------------------------------
# Lazy engines (issue 20): stale upper bounds instead of a pass over every point
#
# In a lazy phase ``D2[i]`` is an upper bound: the exact squared distance of
# ``i`` to its nearest center among the externals and the first ``stamp[i]``
# chosen points (``order[:stamp[i]]``). Bringing ``i`` up to date means taking
# the minimum with its distances to ``order[stamp[i]:k]``.
# --------------------------------------------------------------------------


@njit(cache=True)
def tree_build(D2, chosen, n, tree):
    """Segment tree of sums over ``D2`` (chosen points weigh 0); leaves at ``P + i``."""
    P = tree.shape[0] // 2
    for i in range(P):
        tree[P + i] = D2[i] if i < n and not chosen[i] else 0.0
    for j in range(P - 1, 0, -1):
        tree[j] = tree[2 * j] + tree[2 * j + 1]


@njit(cache=True)
def tree_set(tree, rows, D2, chosen):
    """Set the leaves of ``rows`` from ``D2`` and recompute their ancestors.

    Every inner node is the sum of its two children, recomputed, never
    adjusted: the tree is a function of its leaves, whatever the history.
    """
    P = tree.shape[0] // 2
    for r in range(rows.shape[0]):
        i = rows[r]
        j = P + i
        tree[j] = 0.0 if chosen[i] else D2[i]
        j //= 2
        while j >= 1:
            tree[j] = tree[2 * j] + tree[2 * j + 1]
            j //= 2


@njit(cache=True)
def tree_draw(tree, rs, out, bound):
    """Leaf indices drawn with probability proportional to their weight.

    For each uniform ``r`` of ``rs``: descend from the root towards the leaf
    whose cumulative weight first exceeds ``r·total``; a child of weight 0 is
    never entered (rounding cannot land on a chosen point). ``bound`` gets the
    weight of each drawn leaf: the bound the candidate was drawn with.
    """
    P = tree.shape[0] // 2
    total = tree[1]
    for t in range(rs.shape[0]):
        target = rs[t] * total
        j = 1
        while j < P:
            left = tree[2 * j]
            if (target < left or tree[2 * j + 1] <= 0.0) and left > 0.0:
                j = 2 * j
            else:
                target -= left
                j = 2 * j + 1
        out[t] = j - P
        bound[t] = tree[j]


@njit(cache=True, fastmath=_FAST)
def exact_min_rows(H, E, g2, dense, rows, centers, approx, tol, D2, stamp, k):
    """Bring ``rows`` up to date against ``centers`` (the chosen points ``s0..k-1``).

    ``approx[r, j]`` is a fast estimate (BLAS) of the squared distance of
    ``rows[r]`` to ``centers[j]``, within ``tol·(‖g_x‖² + ‖g_c‖²)`` of the
    exact value. Every center within that reach of the row's estimated minimum is recomputed with :func:`_pair_d2`, the
    arithmetic of the scan, so the new ``D2`` is exactly the scan's value.
    Centers before a row's own stamp are already in its ``D2`` (their exact
    distances are no smaller), so including them changes nothing.

    Returns the number of (point, center) pairs brought up to date.
    """
    work = 0
    s0 = k - centers.shape[0]
    for r in range(rows.shape[0]):
        x = rows[r]
        if stamp[x] >= k:
            continue
        work += k - stamp[x]
        m = np.inf
        for j in range(centers.shape[0]):
            if approx[r, j] < m:
                m = approx[r, j]
        best = D2[x]
        for j in range(max(0, stamp[x] - s0), centers.shape[0]):
            a = approx[r, j]
            c = centers[j]
            reach = 2.0 * tol * (g2[x] + g2[c]) + 1e-300
            if a <= m + reach and a <= best + reach:
                d2 = _pair_d2(H, E, g2, x, H, E, g2, c, dense)
                if d2 < best:
                    best = d2
        D2[x] = best
        stamp[x] = k
    return work


@njit(cache=True, fastmath=_FAST)
def accept_candidates(H, E, g2, dense, cand, bound, vs, need, D2, stamp, chosen, k, out):
    """Rejection steps over the candidates ``cand`` (in order), until ``need`` picks.

    Every candidate not chosen is up to date against the first ``k`` centers
    (or against more, if examined earlier in this call). It is brought up to
    date against the centers accepted in this call (:func:`_pair_d2`), then
    accepted with probability ``D2 / bound[t]``: ``vs[t]·bound[t] < D2``.
    Every candidate was drawn from weights that bound the current ``D2``
    from above, so an accepted point is drawn exactly with probability
    proportional to ``D2``.

    Returns ``(n_examined, n_picked, work)``; the picks are in ``out``.
    """
    n_picked = 0
    work = 0
    t = 0
    while t < cand.shape[0] and n_picked < need:
        c = cand[t]
        if not chosen[c]:
            d = D2[c]
            for a in range(max(0, stamp[c] - k), n_picked):
                d2 = _pair_d2(H, E, g2, c, H, E, g2, out[a], dense)
                if d2 < d:
                    d = d2
            work += k + n_picked - stamp[c]
            D2[c] = d
            stamp[c] = k + n_picked
            if vs[t] * bound[t] < d:
                chosen[c] = True
                D2[c] = 0.0
                out[n_picked] = c
                n_picked += 1
        t += 1
    return t, n_picked, work


@njit(cache=True)
def heap_build(D2, chosen, n, key, idx):
    """Heap of the unchosen points, farthest first: keys ``-D2``, ties to the lower index.

    The min-heap of the facility-location engine (:mod:`._submodular_kernels`)
    on negated distances. Returns its size.
    """
    size = 0
    for i in range(n):
        if not chosen[i]:
            key[size] = -D2[i]
            idx[size] = i
            size += 1
    heapify(key, idx, size)
    return size


@njit(cache=True, fastmath=_FAST)
def lazy_kcenter(H, E, g2, dense, D2, stamp, chosen, order, k, key, idx, size, n_steps,
                 out, max_work):
    """Farthest-first picks by lazy greedy over a heap of stale upper bounds.

    Pop the point of largest bound, bring it up to date (:func:`_pair_d2`
    against the centers it has not seen); it is the farthest point iff its
    exact ``(D2, -index)`` beats the bound of the next one in the heap, since
    every bound is at least its point's distance. Otherwise push it back with
    its exact value. The picks are those of the scan, ties to the lowest index.

    Stops after ``n_steps`` picks or once ``max_work`` distances were computed
    (the caller's cost model then decides). Returns ``(n_picked, size, work, pops)``.
    """
    work = 0
    pops = 0
    t = 0
    while t < n_steps and size > 0 and work <= max_work:
        x = idx[0]
        size -= 1
        key[0] = key[size]
        idx[0] = idx[size]
        _sift_down(key, idx, size, 0)
        pops += 1
        d = D2[x]
        for s in range(stamp[x], k):
            d2 = _pair_d2(H, E, g2, x, H, E, g2, order[s], dense)
            if d2 < d:
                d = d2
        work += k - stamp[x]
        D2[x] = d
        stamp[x] = k
        if size == 0 or _before(-d, x, key[0], idx[0]):
            chosen[x] = True
            D2[x] = 0.0
            order[k] = x
            out[t] = x
            k += 1
            t += 1
        else:
            _push(key, idx, size, -d, x)
            size += 1
    return t, size, work, pops


@njit(cache=True, fastmath=_FAST)
def probe_scan(H, E, g2, gn, hn, D2, chosen, c, stride, dense):
    """Fraction of sampled points for which the scan's update would compute ``‖x − c‖²``.

    The point bounds of :func:`update` on every ``stride``-th point (no
    group test): an estimate, from above, of the scan's exact work per pick.
    """
    rc = gn[c]
    g2c = g2[c]
    hc = hn[c]
    seen = 0
    computed = 0
    for x in range(0, H.shape[0], stride):
        if chosen[x]:
            continue
        seen += 1
        d2x = D2[x]
        margin = _MARGIN * (g2[x] + g2c)
        dn = gn[x] - rc
        if dn * dn > d2x + margin:
            continue
        if not dense:
            lb = g2[x] + g2c - 2.0 * hn[x] * hc * abs(_dot(E, x, E, c))
            if lb > d2x + margin:
                continue
        computed += 1
    return computed / max(seen, 1)
