"""Greedy batch selection in a kernel's feature space: MAXDET and LCMD.

The selection rules of Holzmüller et al. (2023), "A Framework and Benchmark
for Deep Batch Active Learning for Regression" (JMLR 24), on explicit
features ``φ(x)`` (the kernel is ``k(x, x') = ⟨φ(x), φ(x')⟩``), in float64,
in ``O(n d)`` per pick for ``n`` pool points of ``d`` features; no ``n × n``
kernel matrix is ever built. Arrays in, orderings out: no estimator here.
"""

import numpy as np
from scipy.linalg import cho_factor, solve_triangular

from ._lazy import BaseRanking

_CHUNK = 1024  # centers per block when the labeled set is assigned to clusters


def _as_features(F):
    F = np.array(F, dtype=np.float64)  # a copy: the rankings update it in place
    if F.ndim != 2:
        raise ValueError(f"Features must be a 2-D array, got shape {F.shape}.")
    return F


class PosteriorTransform:
    """The features of the GP posterior kernel given labeled features (bmdal's "train").

    The prior kernel is first scaled so that its mean diagonal over
    ``labeled`` is 1 (``c = 1 / sqrt(mean ‖φ(x)‖²)``); the posterior kernel
    after observing ``labeled`` with noise variance ``σ²`` is then
    ``k(x, x') − k(x, L)(k(L, L) + σ² I)⁻¹ k(L, x')``, whose features are
    ``σ c φ(x) R⁻¹`` with ``RᵀR = c² Φ_Lᵀ Φ_L + σ² I`` (Cholesky).

    Parameters
    ----------
    labeled : array-like of shape (n_labeled, d)
        Features of the labeled samples (may have no rows).
    sigma : float
        The noise standard deviation ``σ > 0``.
    scale_from : array-like of shape (n, d), default=None
        Features whose mean squared norm sets ``c`` when there are no labeled
        features (then the posterior is the scaled prior).
    """

    def __init__(self, labeled, sigma, scale_from=None):
        labeled = np.asarray(labeled, dtype=np.float64)
        basis = labeled if len(labeled) else np.asarray(scale_from, dtype=np.float64)
        mean_sq = float(np.einsum("nd,nd->", basis, basis)) / max(len(basis), 1)
        self.scale = 1.0 / np.sqrt(mean_sq) if mean_sq > 0 else 1.0
        self.sigma = float(sigma)
        d = labeled.shape[1]
        if len(labeled):
            L = self.scale * labeled
            cov = L.T @ L + self.sigma**2 * np.eye(d)
            self._R = cho_factor(cov, lower=False)[0]
            self._R = np.triu(self._R)
        else:
            self._R = None

    def __call__(self, F):
        F = self.scale * np.asarray(F, dtype=np.float64)
        if self._R is None:
            return F
        # φ R⁻¹ σ: solve Rᵀ Y = σ Fᵀ
        return solve_triangular(self._R, self.sigma * F.T, trans="T", lower=False).T


class MaxDetRanking(BaseRanking):
    """Greedy determinant maximization: each pick has the largest posterior variance.

    At each step the next point is the pool point of largest
    ``k(x, x) + σ²`` under the kernel conditioned (with noise ``σ²``) on the
    points picked so far: the pick that most increases
    ``log det(K_S + σ² I)``. Ties go to the lower index.

    This is the pivoted Cholesky factorization of ``K + σ² I``, kept in
    feature space: its column ``j`` is ``l_j(x) = ⟨φ(x), w_j⟩`` for a vector
    ``w_j`` of ``d`` numbers, so a pick costs one product of the pool's
    features with one vector (``O(n d)``, read only) plus ``O(d t)`` for the
    ``t`` picks so far, and the features are never rewritten. The variances
    ``k(x, x) + σ² − Σ_j l_j(x)²`` are updated pick by pick.

    Parameters
    ----------
    features : array-like of shape (n_points, d)
        ``φ`` of the pool (already conditioned on the labeled set, if any).
    sigma : float
        Noise standard deviation added on the diagonal, ``σ >= 0``.
    """

    def __init__(self, features, sigma):
        self._F = np.ascontiguousarray(features, dtype=np.float64)  # read, never written
        if self._F.ndim != 2:
            raise ValueError(f"Features must be a 2-D array, got shape {self._F.shape}.")
        self._sigma = float(sigma)
        self._diag = np.einsum("nd,nd->n", self._F, self._F) + self._sigma**2
        self._W = np.empty((self._F.shape[1], 16))  # w_j in columns; capacity doubles
        self._t = 0
        super().__init__(len(self._F))

    def _pick(self):
        i = int(np.argmax(self._diag))  # picked points hold -inf; ties: the lower index
        diag = self._diag[i]
        if not diag > 0:  # every remaining variance vanished (σ = 0): keep pool order
            i = int(np.flatnonzero(np.isfinite(self._diag))[0])
            self._diag[i] = -np.inf
            return i
        W = self._W[:, :self._t]
        phi = self._F[i]
        v = phi - W @ (W.T @ phi)  # k_residual(x, x_i) = ⟨φ(x), v⟩
        w = v / np.sqrt(diag)
        column = self._F @ w  # l(x), the new Cholesky column
        self._diag -= column * column
        self._diag[i] = -np.inf
        if self._t == self._W.shape[1]:
            self._W = np.concatenate([self._W, np.empty_like(self._W)], axis=1)
        self._W[:, self._t] = w
        self._t += 1
        return i

    def _take(self, k):
        return np.array([self._pick() for _ in range(k)], dtype=np.intp)

    def _add(self, features):
        G = np.asarray(features, dtype=np.float64)
        G = np.ascontiguousarray(G, dtype=np.float64)
        L = G @ self._W[:, :self._t]  # the Cholesky rows of the new points
        diag = (np.einsum("nd,nd->n", G, G) + self._sigma**2
                - np.einsum("nt,nt->n", L, L))
        self._F = np.concatenate([self._F, G])
        self._diag = np.concatenate([self._diag, diag])
        return len(G)


class LCMDRanking(BaseRanking):
    """Largest cluster maximum distance (LCMD).

    The centers are the labeled points and the points picked so far; every
    pool point belongs to the cluster of its nearest center in the feature
    distance ``d(x, c)² = k(x, x) + k(c, c) − 2 k(x, c)`` (ties to the earlier
    center). The next pick is, in the cluster with the largest sum of squared
    distances of its members, the member farthest from its center (ties to
    the lower index); it then becomes a center. With no center yet, the
    first pick is the point of largest ``k(x, x)``.

    Parameters
    ----------
    features : array-like of shape (n_points, d)
        ``φ`` of the pool.
    centers : array-like of shape (n_centers, d), default=None
        ``φ`` of the labeled points, the first centers (in this order).
    """

    def __init__(self, features, centers=None):
        self._F = _as_features(features)
        self._sq = np.einsum("nd,nd->n", self._F, self._F)
        n = len(self._F)
        self._min_sq = np.full(n, np.inf)
        self._closest = np.zeros(n, dtype=np.intp)
        self._centers = [np.empty((0, self._F.shape[1]))]  # blocks, in order
        self._n_centers = 0
        self._available = np.ones(n, dtype=bool)
        if centers is not None and len(centers):
            centers = _as_features(centers)
            self._centers, self._n_centers = [centers], len(centers)
            self._min_sq, self._closest = self._assign(self._F, self._sq, centers)
        super().__init__(n)

    @staticmethod
    def _assign(F, sq, centers, first_id=1):
        """Nearest center (ids from ``first_id``; ties: the earlier one) and squared distance."""
        min_sq = np.full(len(F), np.inf)
        closest = np.zeros(len(F), dtype=np.intp)
        for start in range(0, len(centers), _CHUNK):
            C = centers[start:start + _CHUNK]
            D = sq[:, None] + np.einsum("cd,cd->c", C, C)[None, :] - 2.0 * (F @ C.T)
            np.maximum(D, 0.0, out=D)
            j = np.argmin(D, axis=1)
            best = D[np.arange(len(F)), j]
            closer = best < min_sq
            min_sq[closer] = best[closer]
            closest[closer] = first_id + start + j[closer]
        return min_sq, closest

    def _pick(self):
        if not self._n_centers:
            scores = np.where(self._available, self._sq, -np.inf)
            return int(np.argmax(scores))
        sums = np.bincount(self._closest, weights=self._min_sq,
                           minlength=self._n_centers + 1)
        in_largest = sums[self._closest] == sums.max()
        scores = np.where(in_largest & self._available, self._min_sq, -np.inf)
        if not np.isfinite(scores).any():  # cannot happen with distances >= 0; safety
            scores = np.where(self._available, self._min_sq, -np.inf)
        return int(np.argmax(scores))

    def _add_center(self, i):
        c = self._F[i]
        D = self._sq + self._sq[i] - 2.0 * (self._F @ c)
        np.maximum(D, 0.0, out=D)
        D[i] = 0.0  # a center is at distance 0 from itself
        closer = D < self._min_sq
        self._min_sq[closer] = D[closer]
        self._centers.append(c[None, :])
        self._n_centers += 1
        self._closest[closer] = self._n_centers

    def _take(self, k):
        out = np.empty(k, dtype=np.intp)
        for t in range(k):
            i = self._pick()
            self._available[i] = False
            self._add_center(i)
            out[t] = i
        return out

    def _add(self, features):
        G = np.asarray(features, dtype=np.float64)
        G = _as_features(G)
        sq = np.einsum("nd,nd->n", G, G)
        if self._n_centers:
            centers = np.concatenate(self._centers)
            self._centers = [centers]
            min_sq, closest = self._assign(G, sq, centers)
        else:
            min_sq, closest = np.full(len(G), np.inf), np.zeros(len(G), dtype=np.intp)
        self._F = np.concatenate([self._F, G])
        self._sq = np.concatenate([self._sq, sq])
        self._min_sq = np.concatenate([self._min_sq, min_sq])
        self._closest = np.concatenate([self._closest, closest])
        self._available = np.concatenate([self._available, np.ones(len(G), dtype=bool)])
        return len(G)
