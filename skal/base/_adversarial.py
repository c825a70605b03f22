"""The base of the adversarial strategies: rank by the perturbation that flips the label.

The attack loop (batched over the pool, with torch autograd, on any
differentiable classifier) is written once here; :class:`~skal.AdversarialDeepFool`
and :class:`~skal.AdversarialBIM` (in :mod:`skal.strategies._adversarial`) define
its steps.
"""

import time
import warnings
from abc import abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..embeddings._differentiable import _check_differentiable, _logit_function
from ..embeddings._estimators import _final_input
from ..utils._docstring import Substitution
from ..utils._sklearn_compat import Interval
from ._strategy import _SHARED_PARAMS_DOC, BaseScoreStrategy, BaseStrategy

__all__ = ["BaseAdversarial"]

_COMMON_PARAMS_DOC = """max_time : float, default=None
        Time limit in seconds for one call (``query``, ``rank``,
        ``transform``, or ``lazy_rank`` and each ``add``), shared among the
        batches in proportion to their size (time a batch leaves unused goes
        to the next ones). When a batch runs out, its samples not yet flipped
        stop there: they get score ``inf`` and a ``ConvergenceWarning`` says
        how many. ``None`` means no limit. With a limit, the result depends
        on the speed of the machine.

    batch_size : int, default=1024
        Number of pool samples attacked together (not the number of samples
        ``query`` returns, which is ``query``'s own ``batch_size``). Memory
        grows with it."""


@Substitution(shared_params=_SHARED_PARAMS_DOC, common_params=_COMMON_PARAMS_DOC)
class BaseAdversarial(BaseScoreStrategy):
    """Base class of the adversarial strategies: rank by the perturbation that flips the label.

    Warning: This class should not be used directly. Use derived classes
    instead.

    Subclasses define ``_scale`` (the factor between the accumulated
    perturbation and the applied one; the score is ``_scale`` times the
    accumulated perturbation's L2 norm, summed in float64), ``_start(logits)``
    (per-sample state at the unperturbed point) and
    ``_step(x, logits, label, state)`` (the increment of the accumulated
    perturbation, and a mask of samples that cannot move).

    Parameters
    ----------
    %(shared_params)s

    max_steps : int, default=50
        Most attack steps per sample; a sample whose label has not changed
        by then gets score ``inf``.

    %(common_params)s

    See Also
    --------
    skal.AdversarialDeepFool : The DeepFool attack.
    skal.AdversarialBIM : The basic iterative method.

    Examples
    --------
    >>> from skal import AdversarialBIM, AdversarialDeepFool
    >>> from skal.base import BaseAdversarial
    >>> issubclass(AdversarialBIM, BaseAdversarial)
    True
    >>> sorted(set(AdversarialBIM().get_params()) & set(AdversarialDeepFool().get_params()))
    ['batch_size', 'estimator', 'max_steps', 'max_time', 'prefit']
    """

    _needs_pool_values = (
        "the attack perturbs the input samples themselves, as one float tensor "
        "per batch of the array, and a Dataset's items are only read through the "
        "net's own loader."
    )

    _parameter_constraints = {
        **BaseStrategy._parameter_constraints,
        "max_steps": [Interval(Integral, 1, None, closed="left")],
        "max_time": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self, estimator=None, *, prefit=False, max_steps=50, max_time=None, batch_size=1024
    ):
        super().__init__(estimator=estimator, prefit=prefit)
        self.max_steps = max_steps
        self.max_time = max_time
        self.batch_size = batch_size

    # -- estimator ---------------------------------------------------------------

    def _check_estimator(self, estimator):
        _check_differentiable(estimator, type(self).__name__)

    # -- template methods --------------------------------------------------------

    def _priority(self, X, estimator, offset=0):
        scores, margins = self._scores(X, estimator, with_margins=True)
        # ScoreRanking takes the highest first: smallest perturbation, then
        # (ties, e.g. BIM's equal step counts) smallest margin between the top
        # two class scores of the unperturbed sample
        return -np.column_stack([scores, margins])

    def _transform(self, X, estimator):
        return self._scores(X, estimator)[:, np.newaxis]

    # -- the attack --------------------------------------------------------------

    _scale = 1.0

    def _scores(self, X, estimator, with_margins=False):
        """Perturbation norm that flips each sample's label; inf where none was found.

        With ``with_margins``, also the margin between the top two class
        scores (logits, or log-probabilities) of each unperturbed sample.
        """
        import torch

        estimator, X = _final_input(estimator, X)
        X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
        n = X.shape[0]
        scores = np.empty(n, dtype=np.float64)
        margins = np.empty(n, dtype=np.float64)
        counts = {"max_steps": 0, "stuck": 0, "time": 0}
        start_time = time.perf_counter()
        with _logit_function(estimator) as (logits, device, dtype), torch.enable_grad():
            for start in range(0, n, self.batch_size):
                stop = min(start + self.batch_size, n)
                deadline = (
                    None
                    if self.max_time is None
                    else start_time + self.max_time * stop / n
                )
                x0 = torch.tensor(X[start:stop], device=device, dtype=dtype)
                scores[start:stop], margins[start:stop] = self._attack(
                    logits, x0, deadline, counts
                )
        self._warn(counts, n)
        return (scores, margins) if with_margins else scores

    def _attack(self, logits, x0, deadline, counts):
        """Scores and top-two margins of one batch; ``counts`` collects why
        samples were not flipped."""
        import torch

        b = x0.shape[0]
        scores = torch.full((b,), float("inf"), dtype=torch.float64)
        idx = torch.arange(b, device=x0.device)  # batch positions still attacked
        xa = x0  # their unperturbed inputs
        delta = None  # their accumulated perturbations
        label = state = None
        for it in range(self.max_steps + 1):
            x = xa if delta is None else xa + self._scale * delta
            x = x.detach().requires_grad_(True)
            f = logits(x)
            pred = f.detach().argmax(dim=1)
            if label is None:
                label, state = pred, self._start(f.detach())
                top2 = f.detach().topk(2, dim=1).values.double()
                margins = (top2[:, 0] - top2[:, 1]).cpu().numpy()
            else:
                flipped = pred != label
                if bool(flipped.any()):
                    flat = delta[flipped].reshape(int(flipped.sum()), -1).double()
                    scores[idx[flipped].cpu()] = self._scale * flat.square().sum(1).sqrt().cpu()
                    keep = ~flipped
                    idx, xa, delta, label = idx[keep], xa[keep], delta[keep], label[keep]
                    state = None if state is None else state[keep]
                    if not len(idx):
                        return scores.numpy(), margins
                    x = None  # f is a function of every row of x: recompute it
            if it == self.max_steps:
                counts["max_steps"] += len(idx)
                break
            if deadline is not None and time.perf_counter() > deadline:
                counts["time"] += len(idx)
                break
            if x is None:
                x = (xa + self._scale * delta).detach().requires_grad_(True)
                f = logits(x)
            step, stuck = self._step(x, f, label, state)
            delta = step if delta is None else delta + step
            if stuck is not None and bool(stuck.any()):
                counts["stuck"] += int(stuck.sum())
                keep = ~stuck
                idx, xa, delta, label = idx[keep], xa[keep], delta[keep], label[keep]
                state = None if state is None else state[keep]
                if not len(idx):
                    break
        return scores.numpy(), margins

    def _warn(self, counts, n):
        name = type(self).__name__
        if counts["max_steps"]:
            warnings.warn(
                f"{name}: {counts['max_steps']} of {n} pool samples did not change "
                f"their predicted label within max_steps={self.max_steps} steps; "
                "they get score inf and rank last, by their margin. Raise max_steps"
                f"{self._raise_hint} to rank them by their distance too.",
                ConvergenceWarning,
                stacklevel=4,
            )
        if counts["stuck"]:
            warnings.warn(
                f"{name}: {counts['stuck']} of {n} pool samples have zero input "
                "gradients (the classifier is locally flat there), so the attack "
                "cannot move them; they get score inf and rank last, by their margin.",
                ConvergenceWarning,
                stacklevel=4,
            )
        if counts["time"]:
            warnings.warn(
                f"{name}: max_time={self.max_time} s ran out before {counts['time']} "
                f"of {n} pool samples changed their predicted label; they get score "
                "inf and rank last, by their margin. Raise max_time (or set "
                "max_time=None) to attack every sample to the end; with a time limit "
                "the ranking depends on the speed of the machine.",
                ConvergenceWarning,
                stacklevel=4,
            )

    _raise_hint = ""

    @abstractmethod
    def _start(self, logits):
        """Per-sample state at the unperturbed point (a tensor indexed like the batch)."""

    @abstractmethod
    def _step(self, x, logits, label, state):
        """``(increment, stuck)``: the perturbation step and samples that cannot move."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.max_time is not None
        return tags
