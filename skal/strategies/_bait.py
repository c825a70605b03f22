"""BAIT: greedy forward-backward selection with the last layer's Fisher information."""

from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from ..base import _SHARED_PARAMS_DOC, BaseEmbeddingStrategy
from ..embeddings import check_predict_proba, gradient_embedding
from ..selection import BaseRanking, CandidateRanking, ScoreRanking
from ..utils._data import num_samples
from ..utils._docstring import Substitution
from ..utils._sklearn_compat import Interval, StrOptions

__all__ = ["BAIT"]

_CHUNK = 4096  # samples per block when summing Fisher matrices


class _FisherPoints(NamedTuple):
    """Per sample: the last layer's input ``h`` (bias 1 appended), ``p``, the Fisher trace."""

    h: np.ndarray
    proba: np.ndarray
    scores: np.ndarray


def _fisher_points(estimator, X, layer):
    h, e = gradient_embedding(estimator, X, layer=layer, return_factors=True)
    h = np.asarray(h, dtype=np.float64)
    proba = np.asarray(e, dtype=np.float64)
    # e = p − onehot(argmax p); argmax p is where e is smallest (a one-hot p,
    # the only ambiguous case, has zero Fisher information whichever class it is)
    proba[np.arange(len(proba)), np.argmin(e, axis=1)] += 1.0
    np.clip(proba, 0.0, 1.0, out=proba)
    scores = np.einsum("nd,nd->n", h, h) * (1.0 - np.einsum("nc,nc->n", proba, proba))
    return _FisherPoints(h, proba, scores)


def _class_factors(proba):
    """``W`` with ``W[n, c] = sqrt(p_c) (p − onehot(c))``: ``Wᵀ W = diag(p) − p pᵀ``."""
    n, C = proba.shape
    W = np.broadcast_to(proba[:, np.newaxis, :], (n, C, C)) - np.eye(C)
    return W * np.sqrt(proba)[:, :, np.newaxis]


def _fisher_sum(g, proba):
    """``Σ_i (g_i g_iᵀ) ⊗ (diag p_i − p_i p_iᵀ)``, of shape ``(r C, r C)``."""
    r, C = g.shape[1], proba.shape[1]
    out = np.zeros((r, C, r, C))
    for start in range(0, len(g), _CHUNK):
        gc, pc = g[start:start + _CHUNK], proba[start:start + _CHUNK]
        # (g gᵀ) ⊗ diag(p): one r × r block per class on the class diagonal
        for c in range(C):
            out[:, c, :, c] += (gc * pc[:, c:c + 1]).T @ gc
        gp = (gc[:, :, np.newaxis] * pc[:, np.newaxis, :]).reshape(len(gc), r * C)
        out -= (gp.T @ gp).reshape(r, C, r, C)
    return out.reshape(r * C, r * C)


def _apply(g, W, Y):
    """``V_i Y`` for every sample ``i``, with ``V_i = g_iᵀ ⊗ W_i`` (``C × rC``).

    ``Y`` has shape ``(r C, m)``; the result ``(n, C, m)``.
    """
    r, C, m = g.shape[1], W.shape[1], Y.shape[1]
    inner = (g @ Y.reshape(r, C * m)).reshape(len(g), C, m)
    return np.matmul(W, inner)


def _sandwich(g, W, A):
    """``V_i A V_iᵀ`` for every sample ``i`` (``(n, C, C)``), chunked."""
    r, C = g.shape[1], W.shape[1]
    out = np.empty((len(g), C, C))
    for start in range(0, len(g), 256):
        gc, Wc = g[start:start + 256], W[start:start + 256]
        left = (gc @ A.reshape(r, C * r * C)).reshape(len(gc), C, r, C)
        middle = np.einsum("nibj,nb->nij", left, gc)
        out[start:start + 256] = Wc @ middle @ np.swapaxes(Wc, 1, 2)
    return out


def _gains(Q, R, sign):
    """``tr((I + sign·Q)⁻¹ R)`` per sample: the trace decrease of adding (sign=+1)
    or the increase of removing (sign=−1) it."""
    eye = np.eye(Q.shape[-1])
    return np.trace(np.linalg.solve(eye + sign * Q, R), axis1=1, axis2=2)


class _FisherGreedy(BaseRanking):
    """Forward greedy over candidates, backward elimination of its picks, then by score.

    ``A`` is the inverse of the current information matrix; ``Q_i = V_i A V_iᵀ``
    and ``R_i = V_i A Σ A V_iᵀ`` are kept for every candidate and updated with
    Woodbury's identity after each pick or removal.
    """

    def __init__(self, g, W, scores, A, Sigma, n_forward):
        self._g, self._W = g, W
        self._scores = np.asarray(scores, dtype=np.float64)
        self._A, self._Sigma = A, Sigma
        self._n_forward = n_forward
        self._block = None
        super().__init__(len(g))

    # -- the forward-backward block ----------------------------------------------

    def _update(self, s, sign, keep):
        """Add (sign=+1) or remove (sign=−1) candidate ``s``; update ``keep``'s Q, R."""
        A, Sigma = self._A, self._Sigma
        C = self._W.shape[1]
        a = _apply(self._g[s:s + 1], self._W[s:s + 1], A)[0].T  # A V_sᵀ (A symmetric)
        Sa = Sigma @ a
        z = A @ Sa  # A Σ A V_sᵀ
        S = a.T @ Sa
        K = np.linalg.inv(np.eye(C) + sign * self._Q[s])
        K = (K + K.T) / 2
        u = _apply(self._g[keep], self._W[keep], a)  # V_i A V_sᵀ
        w = _apply(self._g[keep], self._W[keep], z)  # V_i A Σ A V_sᵀ
        uK = (u.reshape(-1, C) @ K).reshape(u.shape)
        uKt = np.swapaxes(uK, 1, 2)
        self._Q[keep] -= sign * (u @ uKt)
        cross = uK @ np.swapaxes(w, 1, 2)
        uKS = (uK.reshape(-1, C) @ S).reshape(u.shape)
        self._R[keep] += -sign * (cross + np.swapaxes(cross, 1, 2)) + uKS @ uKt
        self._A = A - sign * ((a @ K) @ a.T)

    def _compute_block(self):
        with threadpool_limits(limits=1, user_api="blas"):  # see _BAITRanking
            self._greedy()

    def _greedy(self):
        n = len(self._g)
        B = self._A @ self._Sigma @ self._A
        self._Q = _sandwich(self._g, self._W, self._A)
        self._R = _sandwich(self._g, self._W, B)
        del B
        available = np.ones(n, dtype=bool)
        picks = []
        for _ in range(min(self._n_forward, n)):
            gains = _gains(self._Q, self._R, 1.0)
            gains[~available] = -np.inf
            s = int(np.argmax(gains))  # ties: the first candidate
            picks.append(s)
            available[s] = False
            self._update(s, 1.0, slice(None))  # the picks' Q, R serve the backward pass
        chosen = list(picks)
        removed = []
        while chosen:
            idx = np.asarray(chosen)
            losses = _gains(self._Q[idx], self._R[idx], -1.0)
            j = int(np.argmin(losses))
            s = chosen.pop(j)
            removed.append(s)
            if chosen:
                self._update(s, -1.0, np.asarray(chosen))
        self._block = np.asarray(removed[::-1], dtype=np.intp)
        self._at = 0
        rest = np.flatnonzero(available)
        self._rest = rest
        self._rest_ranking = ScoreRanking(self._scores[rest])
        del self._Q, self._R  # the block is all they were for

    def _take(self, k):
        if self._block is None:
            self._compute_block()
        first = self._block[self._at:self._at + k]
        self._at += len(first)
        second = self._rest[self._rest_ranking.take(k - len(first))]
        return np.concatenate([first, second])

    def _add(self, points):
        g, W, scores = points
        if self._block is None:  # before the first pick: greedy candidates
            self._g = np.concatenate([self._g, g])
            self._W = np.concatenate([self._W, W])
        else:  # after: with the rest, by score
            self._rest = np.concatenate(
                [self._rest, np.arange(self.n_points, self.n_points + len(g))]
            )
            self._rest_ranking.add(scores)
        self._scores = np.concatenate([self._scores, scores])
        return len(g)


class _BAITRanking(CandidateRanking):
    """The forward-backward block over the candidates, then the rest by Fisher trace."""

    def __init__(self, points, labeled, *, n_candidates, n_forward, n_components, alpha,
                 sigma_over="pool"):
        # BLAS runs on one thread: the greedy steps are chains of small products,
        # where threads mostly wait on each other, and on a busy machine even the
        # large ones ran 4 times faster so (as scikit-learn's k-means limits them)
        with threadpool_limits(limits=1, user_api="blas"):
            self._prepare(points, labeled, n_candidates, n_forward, n_components, alpha,
                          sigma_over)

    def _prepare(self, points, labeled, n_candidates, n_forward, n_components, alpha,
                 sigma_over):
        self._n_forward = n_forward
        h = points.h
        n_hidden = h.shape[1]
        if n_components is None or n_components >= n_hidden:
            self._U = None
        else:  # the top principal directions of the pool's (uncentered) h
            second = np.zeros((n_hidden, n_hidden))
            for start in range(0, len(h), _CHUNK):
                part = h[start:start + _CHUNK]
                second += part.T @ part
            _, vectors = np.linalg.eigh(second)
            self._U = vectors[:, ::-1][:, :n_components]
        g = self._project(h)
        n_labeled = 0 if labeled is None else len(labeled.h)
        fisher_labeled = None
        if n_labeled:
            fisher_labeled = _fisher_sum(self._project(labeled.h), labeled.proba)
        if sigma_over == "all" and n_labeled:  # the mean over labeled set and pool
            Sigma = (_fisher_sum(g, points.proba) + fisher_labeled) / (len(g) + n_labeled)
        else:  # the pool's mean
            Sigma = _fisher_sum(g, points.proba) / len(g)
        # information matrix: alpha I + (F_labeled + F_batch) / n_labeled
        self._scale = 1.0 / np.sqrt(max(n_labeled, 1))
        P = Sigma.shape[0]
        info = alpha * np.eye(P)
        if n_labeled:
            info += fisher_labeled / n_labeled
        self._A0 = np.linalg.inv(info)
        self._A0 = (self._A0 + self._A0.T) / 2
        self._Sigma = Sigma
        super().__init__(points, points.scores, n_candidates, candidate_order="index")

    def _project(self, h):
        return h if self._U is None else h @ self._U

    def _factors(self, points, rows):
        return (self._project(points.h[rows]),
                _class_factors(points.proba[rows]) * self._scale)

    def _inner_ranking(self, points, candidates):
        g, W = self._factors(points, candidates)
        return _FisherGreedy(g, W, points.scores[candidates], self._A0, self._Sigma,
                             self._n_forward)

    def _add_candidates(self, points, rows):
        g, W = self._factors(points, rows)
        self._inner.add((g, W, points.scores[rows]))

    def _scores_of(self, points):
        return points.scores


@Substitution(shared_params=_SHARED_PARAMS_DOC)
class BAIT(BaseEmbeddingStrategy):
    """BAIT: batch selection with the last layer's Fisher information (Ash et al., 2021).

    BAIT picks the batch ``S`` that minimizes ``tr(F(S)⁻¹ Σ)``, a bound on
    the error of the maximum-likelihood estimate of the last layer: ``Σ`` is
    the pool's mean Fisher information (see ``sigma_over``) and ``F(S)``
    that of the labeled set plus ``S``. For a sample with last-layer input
    ``h`` (a 1 appended for the bias) and probabilities ``p``, the Fisher
    information of the last layer is
    ``I(x) = h hᵀ ⊗ (diag p − p pᵀ) = V_xᵀ V_x`` with the Fisher embedding
    ``V_x``: one row ``√p_c · h ⊗ (p − e_c)`` per class ``c``, the gradient
    of the loss of label ``c`` weighted by its probability. The
    batch is built greedily forward, each step adding the sample that lowers
    the trace most, oversampled, then pruned backward, each step removing the
    sample whose removal raises it least.

    Parameters
    ----------
    %(shared_params)s

    n_candidates : int or None, default=1000
        Only the ``n_candidates`` samples with the largest Fisher trace
        ``tr I(x) = ‖h‖² (1 − ‖p‖²)`` (ties to the lower index) are
        considered by the greedy steps; ``Σ`` still averages over every
        pool sample. ``None``: the whole pool (expensive on a large pool).

    n_forward : int, default=200
        Forward greedy steps: the block of ``min(n_forward, n_candidates)``
        picks that the backward pass then prunes. A batch of up to
        ``n_forward / 2`` (the default batch of 100) gets the paper's
        oversampling of 2 or more; set it to twice your batch size.

    n_components : int or None, default=64
        The last layer's input is projected onto its ``n_components`` top
        principal directions (of the pool's uncentered second moment) before
        the Fisher matrices are built, which are then
        ``n_components × n_classes`` square instead of
        ``(n_hidden + 1) × n_classes``. A layer input of at most
        ``n_components`` dimensions is used as it is (exact); ``None`` never
        projects.

    alpha : float, default=1.0
        ``λ``, the ridge added to the labeled set's mean Fisher information:
        ``F(S) = λ I + (Σ_{x ∈ L} I(x) + Σ_{x ∈ S} I(x)) / |L|``.

    sigma_over : {"pool", "all"}, default="pool"
        The samples whose mean Fisher information is ``Σ``, the information
        the batch should give the model:

        - ``"pool"``: the pool being ranked, the unlabeled samples.
        - ``"all"``: the labeled set given to ``fit`` and the pool together,
          as the authors' code does (every training sample, labeled or
          not), each labeled sample weighing as much as a pool sample. Its
          Fisher information is computed for ``F(S)`` anyway, so this costs
          nothing more. Without a labeled set it is ``"pool"``.

        See Notes.

    layer : str, default=None
        For skorch nets only: the name (as in ``net.module_.named_modules()``) of
        the final ``torch.nn.Linear`` layer. ``None`` finds it with forward
        hooks.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator (``estimator`` itself when ``prefit=True``).

    X_labeled_ : ndarray of shape (n_labeled, ...)
        The labeled set given to ``fit``: its Fisher information, under the
        current estimator, is what the batch adds to.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    BADGE : The gradient of the predicted label only, with k-means++ seeding.
    skal.embeddings.gradient_embedding : The factors ``h`` and ``p − e``.

    Notes
    -----
    What ``rank`` means. The forward pass picks ``T = min(n_forward,
    n_candidates)`` candidates greedily (each the largest decrease of
    ``tr(F(S)⁻¹ Σ)``; ties to the lower index). The backward pass then
    removes them one at a time, each time the one whose removal raises the
    trace least, until none is left; the first ``T`` positions of ``rank``
    are the removal order reversed (the last survivor first). So the first
    ``k`` of them are what backward pruning keeps when it stops at ``k``: for
    ``k <= T / 2`` that is the paper's forward-backward batch with an
    oversampling of ``T / k`` instead of 2; for ``T / 2 < k <= T`` less is
    pruned. The other candidates, then the rest of the pool, follow by
    decreasing Fisher trace. Nothing is random and nothing depends on the
    batch size, so ``query(X, k)`` is the first ``k`` of ``rank(X)``.

    What ``Σ`` averages over. By default (``sigma_over="pool"``) ``Σ`` is the
    mean Fisher information of the pool being ranked. The authors' code
    (``query_strategies/bait_sampling.py`` in github.com/JordanAsh/badge)
    averages the Fisher information over every training sample, the labeled
    ones included, each under the current model's probabilities (not its
    label): ``Σ = (Σ_{x ∈ U} I(x) + Σ_{x ∈ L} I(x)) / (|U| + |L|)``, which is
    ``sigma_over="all"``. The two ``Σ`` differ by ``|L| / (|U| + |L|)``
    times the difference of the labeled set's and the pool's mean Fisher
    information: little while the labeled set is small next to the pool,
    more as it grows. Scaling ``Σ`` changes no pick, so only the ratio of
    the two sums matters. ``Σ`` is projected on the pool's principal
    directions either way (``n_components``).

    Normalization: the paper's code divides the information by ``|L| + b``
    and weights the batch by ``b``; that depends on the batch size ``b``, so
    here every sample, labeled or picked, counts once and ``λ`` is relative to
    the mean labeled Fisher. Without a labeled set (``prefit=True``, no
    ``fit``), ``F(S) = λ I + Σ_{x ∈ S} I(x)``.

    Cost, with ``n`` pool samples, ``N`` candidates, ``P = r C`` (``r`` the
    projected dimension, ``C`` the classes), ``T`` forward steps: one forward
    pass over pool and labeled set, ``O(n r² C²)`` to build ``Σ`` (and the
    same over the labeled set), ``O(P³)`` to invert ``F(L)``,
    ``O(N r² C²)`` to start the greedy, and per step of either pass
    ``O(P² C + N (r C² + C³))`` with Woodbury's identity (``V_x`` is
    ``hᵀ ⊗ W_x``, applied in that factored form, never built); the
    selection runs on one BLAS thread (its products are small and sequential;
    on a busy machine more threads made it slower). On a 60,000-image MNIST
    pool and a 784-256-10 MLP, with the defaults, see :doc:`/benchmarks`
    (case D) for its time relative to entropy sampling.

    ``lazy_rank(X).add(X_new)``: before the first pick, a new sample joins
    the greedy candidates if its Fisher trace is above the lowest candidate
    trace of the initial pool; once the block is built, new samples join the
    rest, by Fisher trace. ``Σ`` stays that of the initial pool (and
    labeled set, with ``sigma_over="all"``).
    ``transform`` returns the Fisher trace, shape ``(n_samples, 1)``.

    References
    ----------
    .. [1] J. T. Ash, S. Goel, A. Krishnamurthy and S. Kakade, "Gone Fishing:
       Neural Active Learning with Fisher Embeddings", NeurIPS 2021.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import BAIT
    >>> X, y = load_digits(return_X_y=True)
    >>> strategy = BAIT(LogisticRegression(max_iter=200), n_candidates=100,
    ...                 n_forward=10, n_components=16).fit(X[:100], y[:100])
    >>> picks = strategy.query(X[100:], batch_size=5)
    >>> picks.shape
    (5,)
    >>> bool((picks == strategy.rank(X[100:])[:5]).all())
    True
    """

    _uses_labeled_set = True  # fit records the labeled set: prefit picks differ

    _aliases = ("bait",)

    _parameter_constraints = {
        **{k: v for k, v in BaseEmbeddingStrategy._parameter_constraints.items()
           if k not in ("device", "random_state")},
        "n_candidates": [Interval(Integral, 1, None, closed="left"), None],
        "n_forward": [Interval(Integral, 0, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "sigma_over": [StrOptions({"pool", "all"})],
    }

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        n_candidates=1000,
        n_forward=200,
        n_components=64,
        alpha=1.0,
        sigma_over="pool",
        layer=None,
    ):
        self.estimator = estimator
        self.prefit = prefit
        self.n_candidates = n_candidates
        self.n_forward = n_forward
        self.n_components = n_components
        self.alpha = alpha
        self.sigma_over = sigma_over
        self.layer = layer

    def _check_estimator(self, estimator):
        super()._check_estimator(estimator)
        check_predict_proba(estimator, purpose="BAIT")

    def _fit(self, X, y):
        self.X_labeled_ = X

    def _points(self, X, estimator, offset=0):
        return _fisher_points(estimator, X, self.layer)

    def _ranking(self, points, estimator):
        X_labeled = getattr(self, "X_labeled_", None)
        labeled = None
        if X_labeled is not None and num_samples(X_labeled):
            labeled = _fisher_points(estimator, X_labeled, self.layer)
        n = len(points.scores)
        return _BAITRanking(
            points,
            labeled,
            n_candidates=n if self.n_candidates is None else self.n_candidates,
            n_forward=self.n_forward,
            n_components=self.n_components,
            alpha=self.alpha,
            sigma_over=self.sigma_over,
        )

    def _transform(self, X, estimator):
        return _fisher_points(estimator, X, self.layer).scores[:, np.newaxis]
