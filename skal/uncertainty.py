"""Uncertainty scores: what uncertainty sampling ranks by, as functions of probabilities.

Each function takes class probabilities (``predict_proba``'s output) and
returns one score per sample, **higher meaning more uncertain**, so that any
of them can rank a pool directly. :class:`~skal.LeastConfidence`,
:class:`~skal.MarginSampling`, :class:`~skal.EntropySampling`,
:class:`~skal.BALD`, :class:`~skal.FASS`, :class:`~skal.ProxyPrefilter` and
the stopping criteria all compute their scores with these functions.
"""

import numpy as np

from .exceptions import EmbeddingError

__all__ = ["bald_score", "entropy_score", "least_confidence_score", "margin_score"]


def _proba(proba, ndim=2, what="proba", shape="(n_samples, n_classes)"):
    proba = np.asarray(proba)
    if proba.ndim != ndim:
        raise ValueError(
            f"{what} must have shape {shape}; got an array of shape {proba.shape}."
        )
    return proba


def least_confidence_score(proba):
    """One minus the probability of the most likely class: ``1 − max_c p(c | x)``.

    It looks at the top class only: two distributions with the same maximum
    get the same score, however the rest of the mass is spread.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Class probabilities.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Higher means more uncertain; in ``[0, 1 − 1/n_classes]``.

    See Also
    --------
    skal.LeastConfidence : The strategy that ranks a pool by this score.
    margin_score : The gap between the two most likely classes instead.

    Examples
    --------
    >>> from skal.uncertainty import least_confidence_score
    >>> least_confidence_score([[0.9, 0.1], [0.5, 0.5]])
    array([0.1, 0.5])
    """
    return 1.0 - _proba(proba).max(axis=1)


def margin_score(proba):
    """One minus the margin between the two most likely classes.

    The score is ``1 − (p(c₁ | x) − p(c₂ | x))`` for the two most likely
    classes ``c₁`` and ``c₂``: a small margin gives a high score.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Class probabilities, at least two classes.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Higher means more uncertain; in ``[0, 1]``.

    Raises
    ------
    EmbeddingError
        If there are fewer than two classes.

    See Also
    --------
    skal.MarginSampling : The strategy that ranks a pool by this score.
    least_confidence_score : The most likely class alone.

    Examples
    --------
    >>> from skal.uncertainty import margin_score
    >>> margin_score([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]])
    array([0.5 , 0.95])
    """
    proba = _proba(proba)
    if proba.shape[1] < 2:
        raise EmbeddingError(
            "MarginSampling needs at least two classes in predict_proba; the "
            f"estimator returned {proba.shape[1]}."
        )
    top2 = np.partition(proba, -2, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


def entropy_score(proba):
    """Entropy of the predicted class distribution: ``−Σ_c p(c | x) log p(c | x)``.

    Natural logarithm, with ``0 log 0 = 0``.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Class probabilities.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Higher means more uncertain; in ``[0, log n_classes]``.

    See Also
    --------
    skal.EntropySampling : The strategy that ranks a pool by this score.
    bald_score : The part of this entropy due to the model's weights.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.uncertainty import entropy_score
    >>> np.round(entropy_score([[0.9, 0.1], [0.5, 0.5]]), 4)
    array([0.3251, 0.6931])
    """
    proba = _proba(proba)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(proba > 0, proba * np.log(proba), 0.0)
    return -plogp.sum(axis=1)


def bald_score(mc_proba):
    """BALD: mutual information between the label and the model's weights.

    ``I(y; ω | x) = H[mean_k p(y | x, ω_k)] − mean_k H[p(y | x, ω_k)]``,
    from ``K`` stochastic forward passes (e.g. MC dropout): high when the
    passes disagree confidently, i.e. when the model's uncertainty is
    epistemic (Houlsby et al., 2011; Gal et al., 2017).

    Parameters
    ----------
    mc_proba : array-like or torch tensor of shape (n_samples, n_passes, n_classes)
        Class probabilities of each sample under each of the ``K`` passes.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Higher means more uncertain; float64, at least 0 and at most
        ``log n_classes``.

    See Also
    --------
    skal.BALD : The strategy that ranks a pool by this score, with MC dropout.
    entropy_score : The total uncertainty of one deterministic pass.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.uncertainty import bald_score
    >>> agree = [[0.5, 0.5], [0.5, 0.5]]      # both passes unsure: no information
    >>> disagree = [[1.0, 0.0], [0.0, 1.0]]   # each pass sure, of different classes
    >>> np.round(bald_score([agree, disagree]), 4)
    array([0.    , 0.6931])
    """
    import torch

    probs = mc_proba if isinstance(mc_proba, torch.Tensor) else torch.as_tensor(
        _proba(mc_proba, 3, "mc_proba", "(n_samples, n_passes, n_classes)")
    )
    if probs.ndim != 3:
        raise ValueError(
            "mc_proba must have shape (n_samples, n_passes, n_classes); got a tensor "
            f"of shape {tuple(probs.shape)}."
        )
    return _mutual_information(probs).cpu().numpy()


_BY_NAME = {
    "least_confidence": least_confidence_score,
    "margin": margin_score,
    "entropy": entropy_score,
}
"""The scores of probabilities a strategy parameter can name (FASS, ProxyPrefilter)."""


def _mutual_information(probs):
    """BALD score per sample from (b, K, C) probabilities, as a float64 tensor."""
    import torch

    p = probs.to(torch.float64)
    mean = p.mean(dim=1)
    total = -torch.special.xlogy(mean, mean).sum(dim=-1)
    expected = -torch.special.xlogy(p, p).sum(dim=-1).mean(dim=1)
    return (total - expected).clamp_(min=0.0)
