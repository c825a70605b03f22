"""BALD and BatchBALD: mutual information between labels and weights, by MC dropout."""

from numbers import Integral

import numpy as np
import torch

from ..base import _SHARED_PARAMS_DOC, BaseBALD, BaseScoreStrategy
from ..base._bald import _seed
from ..selection import BaseRanking, ScoreRanking
from ..uncertainty import _mutual_information  # noqa: F401 (tests import it from here)
from ..utils._data import num_samples
from ..utils._docstring import Substitution
from ..utils._sklearn_compat import Interval

__all__ = ["BALD", "BatchBALD"]

# Elements of one (candidates × configurations × classes) block in BatchBALD.
_BLOCK_ELEMENTS = 1 << 23
# q log q is computed as q·log(max(q, _TINY)): exact 0 for q = 0, float32-safe.
_TINY = 1e-30


# --------------------------------------------------------------------------
# MC dropout samples (drawn by skal.embeddings._mc_dropout)
# --------------------------------------------------------------------------


def _conditional_entropy(probs):
    """mean_k H[p(y | x, ω_k)] per sample, from (b, K, C) probabilities."""
    return -torch.special.xlogy(probs, probs).sum(dim=-1).mean(dim=1)


_MC_PARAMS_DOC = """n_samples : int, default=20
        Number of stochastic forward passes (MC dropout samples ``K``).

    batch_size : int, default=None
        Pool samples per forward batch; ``None`` uses the net's own
        (``iterator_valid__batch_size`` or ``batch_size``). With
        ``shared_prefix=True`` the layers after the first dropout see
        ``n_samples × batch_size`` rows at once.

    shared_prefix : bool, default=True
        Run the deterministic layers before the first dropout layer once per
        batch and tile their output ``n_samples`` times (a forward pre-hook on
        that layer), instead of running the whole module ``n_samples`` times.
        The masks are the same either way, so the probabilities are the same
        up to rounding. skal checks that the output has ``n_samples × batch``
        rows and otherwise (or if the forward pass fails) falls back to plain
        passes; set False for modules that mix the samples of a batch after
        the first dropout (rare)."""


_MC_NOTES = """Consistent MC dropout (Kirsch et al., 2019): dropout sample ``k`` uses
    the same masks ``ω_k`` for every pool sample, drawn once per call from a
    seed of ``random_state``. Each sample still sees ``n_samples`` independent
    masks, as in Gal et al. (2017); in addition the pool shares them, which the
    joint distributions of BatchBALD need, and a sample's score does not
    depend on its batch or position (samples added through
    ``lazy_rank(X).add`` are scored as if they had been in the pool). The
    module runs in eval mode (batch-norm statistics frozen); each dropout
    layer (any ``torch.nn.modules.dropout._DropoutNd``, all of which act as
    ``x ↦ A ⊙ x + B`` with random ``A``, ``B``) has its masks read off the layer
    itself and applied by a forward hook. The global torch RNG state and
    every layer's mode are restored afterwards. skorch's output convention is
    respected (``predict_nonlinearity``: softmax for logits, nothing for
    modules that return probabilities). Dropout must be a module called in
    ``forward``; functional ``F.dropout(x, training=self.training)`` would be
    switched off. A layer called several times in one forward pass gets
    separate masks per call."""


# --------------------------------------------------------------------------
# BALD
# --------------------------------------------------------------------------


@Substitution(
    shared_params=_SHARED_PARAMS_DOC,
    mc_params=_MC_PARAMS_DOC,
    mc_notes=_MC_NOTES,
)
class BALD(BaseBALD, BaseScoreStrategy):
    """Bayesian Active Learning by Disagreement with MC dropout (Houlsby et al., 2011).

    The score of a sample is the mutual information between its label and
    the model weights, ``I(y; ω) = H[mean_k p(y | x, ω_k)] − mean_k H[p(y | x, ω_k)]``,
    estimated with ``n_samples`` dropout masks ``ω_k`` (Gal et al., 2017):
    high when the dropout models are each confident but disagree.

    Parameters
    ----------
    %(shared_params)s

    %(mc_params)s

    random_state : int, RandomState instance or None, default=None
        Seed of the dropout masks.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted skorch net (``estimator`` itself when ``prefit=True``).

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    BatchBALD : The batch-aware version (joint mutual information).
    EntropySampling : ``H[p]`` of the deterministic net, one forward pass.

    Notes
    -----
    %(mc_notes)s

    ``rank`` sorts by decreasing mutual information, ties to the lower index,
    so ``query(X, k)`` is the first ``k`` of ``rank(X)``; ``transform``
    returns the score, shape ``(n_samples, 1)`` (clipped at 0 against
    rounding). Cost: the layers before the first dropout once and the rest
    ``n_samples`` times per pool sample, plus ``O(n · K · C)`` and a sort.
    Memory: one batch of ``batch × K × C`` probabilities; only the scores
    of the pool are kept.

    References
    ----------
    .. [1] N. Houlsby, F. Huszár, Z. Ghahramani and M. Lengyel, "Bayesian
       Active Learning for Classification and Preference Learning",
       arXiv:1112.5745, 2011.
    .. [2] Y. Gal, R. Islam and Z. Ghahramani, "Deep Bayesian Active Learning
       with Image Data", ICML 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skal import BALD
    >>> from skal.toy import make_skorch_classifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 4).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> net = make_skorch_classifier(4, 2, module__dropout=0.5, max_epochs=2).fit(X, y)
    >>> strategy = BALD(net, prefit=True, random_state=0)
    >>> strategy.query(X, batch_size=3).shape
    (3,)
    >>> strategy.transform(X[:2]).shape
    (2, 1)
    """

    _aliases = ("bald",)

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        n_samples=20,
        batch_size=None,
        shared_prefix=True,
        random_state=None,
    ):
        super().__init__(estimator=estimator, prefit=prefit)
        self.n_samples = n_samples
        self.batch_size = batch_size
        self.shared_prefix = shared_prefix
        self.random_state = random_state

    def _priority(self, X, estimator, offset=0, seed=None):
        return self._scores(X, estimator, seed=seed)

    def _points(self, X, estimator, offset=0, seed=None):
        return self._priority(X, estimator, offset, seed=seed)

    def _ranking(self, points, estimator):
        return ScoreRanking(points)


# --------------------------------------------------------------------------
# BatchBALD
# --------------------------------------------------------------------------


class _BatchBALDPoints:
    """BALD scores of a pool and the MC probabilities of its greedy candidates."""

    def __init__(self, scores, candidates, probs):
        self.scores = scores
        self.candidates = candidates
        self.probs = probs


class _JointEntropy:
    """Joint entropy of the chosen labels plus one candidate (Kirsch et al., 2019).

    Holds ``P[m, k] ∝ p(ŷ^m_{1:t} | ω_k)`` for configurations ``ŷ^m`` of the
    labels chosen so far: all ``C^t`` of them (exact) while there are at most
    ``n_configurations``, then ``n_configurations`` sampled ones (``S`` per
    dropout sample ``ω_k``, each label drawn from ``p(y_i | ω_k)``), extended
    by one draw per configuration at each later pick. Sampled rows are
    rescaled to a maximum of 1 (the estimator is invariant to it).
    """

    def __init__(self, K, C, n_configurations, generator, device):
        self.K, self.C = K, C
        self.n_configurations = n_configurations
        self.generator = generator
        self.device = device
        self.exact = True
        self.P = torch.full((1, K), 1.0 / K, dtype=torch.float32, device=device)
        self.chosen = []  # (K, C) probabilities of the chosen samples
        self.S = max(1, n_configurations // K)

    def entropies(self, probs):
        """``H(y_{1:t}, y_n)`` (sampled: up to a constant) for probs (N, K, C)."""
        N, K, C = probs.shape
        M = self.P.shape[0]
        out = torch.empty(N, dtype=torch.float64, device=probs.device)
        weights = None
        if not self.exact:
            weights = (1.0 / (self.P.sum(dim=1) / K)).unsqueeze(0)  # (1, M)
        chunk = max(1, _BLOCK_ELEMENTS // (M * C))
        for lo in range(0, N, chunk):
            block = probs[lo : lo + chunk]
            n = block.shape[0]
            q = self.P @ block.permute(1, 0, 2).reshape(K, n * C)  # (M, n·C)
            if not self.exact:
                q /= K
            # q log q (log of the clamped q, so q = 0 contributes 0)
            plogp = q.clamp(min=_TINY).log_().mul_(q)
            if self.exact:
                h = plogp.sum(dim=0)
            else:
                h = (weights @ plogp).squeeze(0) / M
            out[lo : lo + n] = -h.reshape(n, C).sum(dim=1).to(torch.float64)
        return out

    def add(self, p):
        """Condition on one more chosen sample with probabilities p (K, C)."""
        self.chosen.append(p)
        M = self.P.shape[0]
        if self.exact and M * self.C <= self.n_configurations:
            # rows ordered (configuration so far, label of p)
            self.P = (self.P.unsqueeze(1) * p.t().unsqueeze(0)).reshape(M * self.C, self.K)
            return
        if self.exact:
            self.exact = False
            log_P = torch.zeros((self.K * self.S, self.K), dtype=torch.float32,
                                device=self.device)
            for q in self.chosen:
                log_P += torch.log(q.t()[self._draw(q)])
            self.P = torch.exp(log_P - log_P.max(dim=1, keepdim=True).values)
        else:
            self.P *= p.t()[self._draw(p)]
            self.P /= self.P.max(dim=1, keepdim=True).values

    def _draw(self, p):
        """One label per configuration: S from p(· | ω_k) for each k, k-major."""
        labels = torch.multinomial(
            p.detach().to("cpu", torch.float64).clamp(min=0), self.S, replacement=True,
            generator=self.generator,
        )
        return labels.reshape(-1).to(self.device)


class _BatchBALDRanking(BaseRanking):
    """Greedy joint-MI picks up to ``max_joint``, then the rest by BALD score."""

    def __init__(self, points, *, max_joint, n_configurations, seed):
        self._scores = np.asarray(points.scores, dtype=np.float64)
        self._candidates = np.asarray(points.candidates, dtype=np.intp)
        self._probs = points.probs
        self._cond = _conditional_entropy(self._probs).to(torch.float64)
        self._available = torch.ones(len(self._candidates), dtype=torch.bool,
                                     device=self._probs.device)
        self._max_joint = max_joint
        self._n_configurations = n_configurations
        generator = torch.Generator(device="cpu")
        generator.manual_seed(seed)
        K, C = self._probs.shape[1:]
        self._joint = _JointEntropy(K, C, n_configurations, generator, self._probs.device)
        self._picked = np.zeros(self._scores.size, dtype=bool)
        self._queue = np.argsort(-self._scores, kind="stable")
        super().__init__(self._scores.size)

    def _greedy_active(self, n_picked):
        max_joint = self._max_joint if self._max_joint is not None else np.inf
        return n_picked < max_joint and bool(self._available.any())

    def _greedy_step(self):
        scores = self._joint.entropies(self._probs) - self._cond
        scores[~self._available] = -np.inf
        j = int(torch.argmax(scores))  # first maximum: the lowest pool index
        self._available[j] = False
        self._joint.add(self._probs[j])
        return int(self._candidates[j])

    def _take(self, k):
        out = []
        while len(out) < k:
            if self._greedy_active(self._n_ranked + len(out)):
                pick = self._greedy_step()
            else:
                while self._picked[self._queue[0]]:
                    self._queue = self._queue[1:]
                pick = int(self._queue[0])
                self._queue = self._queue[1:]
            self._picked[pick] = True
            out.append(pick)
        return out

    def _add(self, points):
        """Add points (their scores and candidates)."""
        n0 = self._scores.size
        new = np.arange(n0, n0 + points.scores.size)
        self._scores = np.concatenate([self._scores, points.scores])
        self._picked = np.concatenate([self._picked, np.zeros(new.size, dtype=bool)])
        queue = np.concatenate([self._queue, new])
        self._queue = queue[np.lexsort((queue, -self._scores[queue]))]
        probs = points.probs.to(self._probs.device)
        self._candidates = np.concatenate([self._candidates, points.candidates + n0])
        self._probs = torch.cat([self._probs, probs])
        self._cond = torch.cat([self._cond, _conditional_entropy(probs).to(torch.float64)])
        self._available = torch.cat(
            [self._available, torch.ones(len(points.candidates), dtype=torch.bool,
                                         device=self._available.device)]
        )
        return new.size


@Substitution(
    shared_params=_SHARED_PARAMS_DOC,
    mc_params=_MC_PARAMS_DOC,
    mc_notes=_MC_NOTES,
)
class BatchBALD(BaseBALD):
    """BatchBALD: greedy joint mutual information with MC dropout (Kirsch et al., 2019).

    BALD scores each sample alone, so a batch of near-duplicates scores high.
    BatchBALD scores a batch by the mutual information between its joint
    labels and the weights, ``I(y_1, …, y_b; ω) = H(y_1, …, y_b) − Σ_i E_ω H(y_i | ω)``,
    and builds it greedily: each next sample maximizes the joint mutual
    information with the samples already chosen (the function is
    submodular, so greedy is within ``1 − 1/e`` of the best batch).

    Parameters
    ----------
    %(shared_params)s

    %(mc_params)s

    n_configurations : int, default=1000
        ``M``: the joint entropy of the chosen labels is computed exactly over
        all ``C^t`` label configurations while ``C^t ≤ n_configurations``;
        beyond, it is estimated from ``n_configurations`` sampled
        configurations (``n_configurations // n_samples`` per dropout
        sample), as in the paper.

    n_candidates : int or None, default=500
        Only the ``n_candidates`` samples with the highest BALD score (ties to
        the lower index) can be picked greedily; their MC probabilities are
        the only ones kept (``n_candidates × K × C`` floats). Since joint MI is
        submodular, a sample's gain never exceeds its BALD score, so samples
        far down the BALD order rarely matter. ``None`` keeps the whole pool.

    max_joint : int or None, default=100
        Greedy picks at most; the rest of the ranking is by BALD score.
        ``None`` ranks every candidate greedily (expensive on large pools).

    random_state : int, RandomState instance or None, default=None
        Seed of the dropout masks and of the sampled configurations.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted skorch net (``estimator`` itself when ``prefit=True``).

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    BALD : The same score for one sample at a time.
    BADGE : Another batch-aware strategy, uncertainty plus diversity.

    Notes
    -----
    %(mc_notes)s

    What ``rank`` means: the first ``min(max_joint, n_candidates)``
    positions are the greedy BatchBALD order over the candidates (each pick
    maximizes the estimated joint mutual information with the picks before
    it; ties to the lower index); the remaining positions are the remaining
    samples by decreasing individual BALD score (ties to the lower index).
    It is not a BatchBALD batch beyond ``max_joint``. Greedy picks do not
    depend on how many are asked for, so ``query(X, k)`` is the first ``k``
    of ``rank(X)`` for the same ``random_state``. ``transform`` returns the
    individual BALD score, shape ``(n_samples, 1)``.

    Each greedy step evaluates every remaining candidate: with ``N``
    candidates, ``M`` configurations (``C^t`` while exact), ``K`` dropout
    samples and ``C`` classes, it costs ``O(N · M · K · C)`` multiply-adds
    and ``O(N · M · C)`` logarithms, blockwise in float32 on the net's device
    in ``O(2^23)`` memory; ``b`` picks cost ``b`` times that. The MC pass is
    that of :class:`BALD`. Samples added through ``lazy_rank(X).add`` become
    greedy candidates if they are among the ``n_candidates`` best of what is
    added, from the next pick on.

    References
    ----------
    .. [1] A. Kirsch, J. van Amersfoort and Y. Gal, "BatchBALD: Efficient and
       Diverse Batch Acquisition for Deep Bayesian Active Learning",
       NeurIPS 2019.
    .. [2] N. Houlsby, F. Huszár, Z. Ghahramani and M. Lengyel, "Bayesian
       Active Learning for Classification and Preference Learning",
       arXiv:1112.5745, 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from skal import BatchBALD
    >>> from skal.toy import make_skorch_classifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 4).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> net = make_skorch_classifier(4, 2, module__dropout=0.5, max_epochs=2).fit(X, y)
    >>> strategy = BatchBALD(net, prefit=True, n_candidates=50, random_state=0)
    >>> picks = strategy.query(X, batch_size=5)
    >>> bool(np.all(picks == strategy.rank(X)[:5]))
    True
    """

    _aliases = ("batchbald",)

    _parameter_constraints = {
        **BaseBALD._parameter_constraints,
        "n_configurations": [Interval(Integral, 1, None, closed="left")],
        "n_candidates": [Interval(Integral, 1, None, closed="left"), None],
        "max_joint": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        n_samples=20,
        batch_size=None,
        shared_prefix=True,
        n_configurations=1000,
        n_candidates=500,
        max_joint=100,
        random_state=None,
    ):
        super().__init__(estimator=estimator, prefit=prefit)
        self.n_samples = n_samples
        self.batch_size = batch_size
        self.shared_prefix = shared_prefix
        self.n_configurations = n_configurations
        self.n_candidates = n_candidates
        self.max_joint = max_joint
        self.random_state = random_state

    def _points(self, X, estimator, offset=0, seed=None):
        keep = num_samples(X) if self.n_candidates is None else self.n_candidates
        return _BatchBALDPoints(*self._scores(X, estimator, keep=keep, seed=seed))

    def _ranking(self, points, estimator):
        return _BatchBALDRanking(
            points,
            max_joint=self.max_joint,
            n_configurations=self.n_configurations,
            seed=_seed(self.random_state, 1),
        )
