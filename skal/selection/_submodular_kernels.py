"""Compiled kernels of facility location (numba): similarities, gains, the lazy heap.

:class:`skal.selection.FacilityLocationRanking` owns the state and calls
these; the module docstring of ``_submodular`` gives the objective and why
lazy and plain greedy get the same bits.
"""

import numpy as np
from numba import njit

_FAST = {"reassoc", "contract"}  # for the similarity blocks only (see _gain)


@njit(cache=True, fastmath=_FAST)
def log_similarities(P, xx, gg, gamma, snap, codes, gcodes, labeled):
    """``−γ d²`` from ``P = X_b @ Gᵀ`` (float32), in place; −inf across classes."""
    for r in range(P.shape[0]):
        for i in range(P.shape[1]):
            if labeled and codes[r] != gcodes[i]:
                P[r, i] = -np.inf
                continue
            d2 = (xx[r] + gg[i]) - np.float32(2.0) * P[r, i]
            if d2 <= snap * (xx[r] + gg[i]):
                d2 = np.float32(0.0)
            P[r, i] = -gamma * d2


# The gain kernels are compiled without fast-math: the sum runs in index order
# under IEEE rules wherever ``_gain`` is inlined, so every caller (lazy loop,
# plain greedy) gets the same bits for the same similarities and coverage.
@njit(cache=True, inline="always")
def _gain(S, r, cover):
    """``Σ_i max(0, S[r, i] − cover[i])``: non-negative terms in a fixed order, so
    it can only shrink when the coverage grows (stale gains are upper bounds)."""
    total = 0.0
    for i in range(S.shape[1]):
        s = np.float64(S[r, i])
        if s > cover[i]:
            total += s - cover[i]
    return total


@njit(cache=True)
def gains(S, rows, cover, out):
    """``out[t]``: the gain of row ``rows[t]`` of ``S`` at the coverage ``cover``."""
    for t in range(rows.shape[0]):
        out[t] = _gain(S, rows[t], cover)


@njit(cache=True, inline="always")
def _raise_cover(S, r, cover):
    full = True
    for i in range(S.shape[1]):
        s = np.float64(S[r, i])
        if s > cover[i]:
            cover[i] = s
        if cover[i] < 1.0:
            full = False
    return full


@njit(cache=True)
def raise_cover(S, r, cover):
    """Raise the coverage by row ``r`` of ``S``; whether every point is now fully covered."""
    return _raise_cover(S, r, cover)


@njit(cache=True, inline="always")
def _before(k1, i1, k2, i2):
    return k1 < k2 or (k1 == k2 and i1 < i2)


@njit(cache=True)
def _sift_down(key, idx, size, pos):
    while True:
        left = 2 * pos + 1
        if left >= size:
            return
        best = left
        right = left + 1
        if right < size and _before(key[right], idx[right], key[left], idx[left]):
            best = right
        if not _before(key[best], idx[best], key[pos], idx[pos]):
            return
        key[pos], key[best] = key[best], key[pos]
        idx[pos], idx[best] = idx[best], idx[pos]
        pos = best


@njit(cache=True)
def heapify(key, idx, size):
    for pos in range(size // 2 - 1, -1, -1):
        _sift_down(key, idx, size, pos)


@njit(cache=True)
def _push(key, idx, size, k, j):
    pos = size
    key[pos], idx[pos] = k, j
    while pos > 0:
        parent = (pos - 1) // 2
        if not _before(key[pos], idx[pos], key[parent], idx[parent]):
            break
        key[pos], key[parent] = key[parent], key[pos]
        idx[pos], idx[parent] = idx[parent], idx[pos]
        pos = parent


@njit(cache=True)
def lazy_steps(blocks, block_id, block_start, key, idx, state, cover, fresh, out, k):
    """Up to ``k`` lazy greedy picks into ``out[state[3]:]``.

    ``key``/``idx`` are a binary min-heap of ``(−gain bound, index)``;
    ``state = [heap size, coverage version, saturated, picks made,
    evaluations]``. Returns
    −1 when done (``k`` picks, or saturated: every gain is 0), or the block
    whose similarities are needed but not resident (an empty placeholder).
    """
    while state[3] < k and state[2] == 0:
        j = idx[0]
        b = block_id[j]
        S = blocks[b]
        if S.shape[0] == 0:
            return b
        r = j - block_start[b]
        if fresh[j] != state[1]:  # a stale bound: re-evaluate
            gain = _gain(S, r, cover)
            state[4] += 1
            size = state[0] - 1
            key[0], idx[0] = key[size], idx[size]
            _sift_down(key, idx, size, 0)
            if size and not _before(-gain, j, key[0], idx[0]):
                fresh[j] = state[1]
                _push(key, idx, size, -gain, j)
                continue
            state[0] = size
        else:  # exact at this coverage and the best bound: the greedy choice
            size = state[0] - 1
            key[0], idx[0] = key[size], idx[size]
            _sift_down(key, idx, size, 0)
            state[0] = size
        out[state[3]] = j
        state[3] += 1
        state[1] += 1
        if _raise_cover(S, r, cover):
            state[2] = 1
    return -1
