"""The base of BALD and BatchBALD: the checks and MC-dropout scoring they share.

The MC-dropout samples are drawn by :mod:`skal.embeddings._mc_dropout`; the
strategies that rank by them are in :mod:`skal.strategies._bald`.
"""

from numbers import Integral

import numpy as np
import torch
from sklearn.utils import check_random_state

from ..embeddings._mc_dropout import _check_mc_dropout, _mc_batches, _mc_dropout_mode
from ..uncertainty import _mutual_information
from ..utils._docstring import Substitution
from ..utils._random import draw_seed
from ..utils._sklearn_compat import Interval
from ._strategy import _SHARED_PARAMS_DOC, BaseStrategy

__all__ = ["BaseBALD"]


def _seed(random_state, *key):
    """A 32-bit seed from ``random_state`` and ``key`` (which stream it is for)."""
    base = draw_seed(check_random_state(random_state))
    return int(np.random.SeedSequence([base, *key]).generate_state(1)[0])


@Substitution(shared_params=_SHARED_PARAMS_DOC)
class BaseBALD(BaseStrategy):
    """Shared checks and MC-dropout scoring of BALD and BatchBALD.

    Warning: This class should not be used directly. Use derived classes
    instead.

    It checks that the estimator is a skorch net with dropout, and computes
    the BALD score of each pool sample from ``n_samples`` MC-dropout passes
    with consistent masks; the subclasses rank by it (BALD) or use it to
    start a batch-aware greedy selection (BatchBALD).

    Parameters
    ----------
    %(shared_params)s

    See Also
    --------
    skal.BALD : The samples of highest mutual information.
    skal.BatchBALD : The batch of highest joint mutual information.
    skal.uncertainty.bald_score : The score from given MC-dropout probabilities.

    Examples
    --------
    >>> from skal import BALD, BatchBALD
    >>> from skal.base import BaseBALD
    >>> issubclass(BALD, BaseBALD) and issubclass(BatchBALD, BaseBALD)
    True
    >>> sorted(set(BALD().get_params()) & set(BatchBALD().get_params()))
    ['batch_size', 'estimator', 'n_samples', 'prefit', 'random_state', 'shared_prefix']
    """

    _parameter_constraints = {
        **BaseStrategy._parameter_constraints,
        "n_samples": [Interval(Integral, 2, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "shared_prefix": ["boolean"],
        "random_state": ["random_state"],
    }

    def _check_estimator(self, estimator):
        _check_mc_dropout(estimator, type(self).__name__)

    def _ranking_context(self):
        # One seed for a pool and the samples lazily added to it (consistent
        # masks), also when random_state is None or a RandomState instance.
        return {"seed": _seed(self.random_state, 0)}

    def _scores(self, X, estimator, keep=None, seed=None):
        """BALD scores (n,) float64, and the top ``keep`` (index, probs) if asked.

        The pool is processed batch by batch; with ``keep``, only the
        probabilities of the ``keep`` best-scored samples seen so far are held
        (ties to the lower index).
        """
        self._check_estimator(estimator)
        scores = []
        kept_idx = np.empty(0, dtype=np.intp)
        kept_probs = kept_scores = None
        start = 0
        if seed is None:
            seed = _seed(self.random_state, 0)
        with _mc_dropout_mode(estimator, seed):
            for probs in _mc_batches(
                estimator, X, self.n_samples, self.batch_size, self.shared_prefix
            ):
                mi = _mutual_information(probs).cpu().numpy()
                scores.append(mi)
                if keep is not None:
                    idx = np.arange(start, start + len(mi))
                    if kept_probs is None:
                        cat_idx, cat_scores, cat_probs = idx, mi, probs
                    else:
                        cat_idx = np.concatenate([kept_idx, idx])
                        cat_scores = np.concatenate([kept_scores, mi])
                        cat_probs = torch.cat([kept_probs, probs])
                    order = np.lexsort((cat_idx, -cat_scores))[:keep]
                    kept_idx, kept_scores = cat_idx[order], cat_scores[order]
                    kept_probs = cat_probs[torch.as_tensor(order, device=probs.device)]
                start += len(mi)
        scores = np.concatenate(scores)
        if keep is None:
            return scores
        by_index = np.argsort(kept_idx, kind="stable")
        kept_probs = kept_probs[torch.as_tensor(by_index, device=kept_probs.device)]
        return scores, kept_idx[by_index], kept_probs

    def _fit(self, X, y):
        self._check_estimator(self.estimator_)  # the fitted module has dropout

    def _transform(self, X, estimator):
        return self._scores(X, estimator)[:, np.newaxis]
