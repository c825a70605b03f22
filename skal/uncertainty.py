"""Uncertainty scores: what uncertainty sampling ranks by, as functions of probabilities.

Each function takes class probabilities (``predict_proba``'s output) and
returns one score per sample, **higher meaning more uncertain**, so that any
of them can rank a pool directly. :class:`~skal.LeastConfidence`,
:class:`~skal.MarginSampling`, :class:`~skal.EntropySampling`,
:class:`~skal.BALD`, :class:`~skal.FASS`, :class:`~skal.ProxyPrefilter` and
the stopping criteria all compute their scores with these functions; the
disagreement of a committee's members (:class:`~skal.QueryByCommittee`) is
scored by :func:`vote_entropy_score`, :func:`consensus_entropy_score` and
:func:`kl_to_consensus_score`, and the disagreement of a committee of
regressors by :func:`committee_variance_score`.
"""

import numpy as np

from .exceptions import EmbeddingError

__all__ = [
    "bald_score",
    "committee_variance_score",
    "consensus_entropy_score",
    "entropy_score",
    "kl_to_consensus_score",
    "least_confidence_score",
    "margin_score",
    "vote_entropy_score",
]


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


def vote_entropy_score(votes):
    """Vote entropy of a committee: the entropy of its members' hard votes.

    ``−Σ_c (V(c) / M) log (V(c) / M)``, where ``V(c)`` is the number of the
    ``M`` members that vote for class ``c`` (Dagan and Engelson, 1995; the
    form of Settles' survey, 2009). Natural logarithm; a class nobody votes
    for adds nothing.

    Parameters
    ----------
    votes : array-like of shape (n_samples, n_members)
        Each member's predicted class for each sample (class labels or their
        indices: only which votes are equal matters).

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Higher means more disagreement: 0 when every member votes alike, at
        most ``log min(n_members, n_classes)``.

    See Also
    --------
    skal.QueryByCommittee : The strategy that ranks a pool by this score.
    consensus_entropy_score : The same on the members' soft probabilities.

    References
    ----------
    .. [1] I. Dagan and S. P. Engelson, "Committee-Based Sampling for Training
       Probabilistic Classifiers", ICML 1995.
    .. [2] B. Settles, "Active Learning Literature Survey", Computer Sciences
       Technical Report 1648, University of Wisconsin-Madison, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.uncertainty import vote_entropy_score
    >>> np.round(vote_entropy_score([[0, 0, 0, 0], [0, 0, 1, 1], [0, 1, 2, 2]]), 4)
    array([0.    , 0.6931, 1.0397])
    """
    votes = _proba(votes, 2, "votes", "(n_samples, n_members)")
    n_samples, n_members = votes.shape
    if n_members == 0:
        raise ValueError("votes must hold at least one member's vote per sample.")
    _, codes = np.unique(votes, return_inverse=True)
    codes = codes.reshape(n_samples, n_members)
    counts = np.zeros((n_samples, int(codes.max(initial=0)) + 1))
    np.add.at(counts, (np.repeat(np.arange(n_samples), n_members), codes.ravel()), 1.0)
    return entropy_score(counts / n_members) + 0.0  # no -0.0 for a unanimous vote


def consensus_entropy_score(member_proba):
    """Entropy of a committee's consensus, the mean of its members' probabilities.

    ``−Σ_c P̄(c | x) log P̄(c | x)`` with ``P̄ = (1/M) Σ_m P_m`` the average of
    the ``M`` members' class probabilities (the soft vote entropy of
    McCallum and Nigam, 1998; Settles, 2009). Natural log, ``0 log 0 = 0``.

    Parameters
    ----------
    member_proba : array-like of shape (n_samples, n_members, n_classes)
        Each member's class probabilities for each sample, the columns in the
        same class order for every member.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Higher means more uncertain; in ``[0, log n_classes]``.

    See Also
    --------
    skal.QueryByCommittee : The strategy that ranks a pool by this score.
    entropy_score : The same for one model's probabilities.
    kl_to_consensus_score : The part of it due to the members' disagreement.

    References
    ----------
    .. [1] A. McCallum and K. Nigam, "Employing EM and Pool-Based Active
       Learning for Text Classification", ICML 1998.
    .. [2] B. Settles, "Active Learning Literature Survey", 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.uncertainty import consensus_entropy_score
    >>> agree = [[0.5, 0.5], [0.5, 0.5]]
    >>> disagree = [[1.0, 0.0], [0.0, 1.0]]
    >>> np.round(consensus_entropy_score([agree, disagree]), 4)
    array([0.6931, 0.6931])
    """
    member_proba = _proba(
        member_proba, 3, "member_proba", "(n_samples, n_members, n_classes)"
    )
    return entropy_score(member_proba.mean(axis=1)) + 0.0


def kl_to_consensus_score(member_proba):
    """Max disagreement of a committee: the mean KL divergence to the consensus.

    ``(1/M) Σ_m KL(P_m ‖ P̄) = (1/M) Σ_m Σ_c P_m(c | x) log (P_m(c | x) / P̄(c | x))``,
    with ``P̄`` the average of the ``M`` members' probabilities (McCallum and
    Nigam, 1998; "KL divergence to the mean" in Settles' survey, 2009). It
    equals the consensus entropy minus the members' mean entropy, so it is
    the committee form of :func:`bald_score`: high when members are each
    confident but of different classes, low when they agree or are all unsure.
    Natural log, ``0 log 0 = 0``; every term is finite since ``P̄(c) ≥ P_m(c) / M``.

    Parameters
    ----------
    member_proba : array-like of shape (n_samples, n_members, n_classes)
        Each member's class probabilities for each sample, the columns in the
        same class order for every member.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Higher means more disagreement; float64, at least 0 (clipped against
        rounding) and at most ``log min(n_members, n_classes)``.

    See Also
    --------
    skal.QueryByCommittee : The strategy that ranks a pool by this score.
    consensus_entropy_score : The entropy of the consensus ``P̄`` itself.
    bald_score : The same quantity for MC dropout passes.

    References
    ----------
    .. [1] A. McCallum and K. Nigam, "Employing EM and Pool-Based Active
       Learning for Text Classification", ICML 1998.
    .. [2] B. Settles, "Active Learning Literature Survey", 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.uncertainty import kl_to_consensus_score
    >>> agree = [[0.5, 0.5], [0.5, 0.5]]      # both unsure: no disagreement
    >>> disagree = [[1.0, 0.0], [0.0, 1.0]]   # each sure, of different classes
    >>> np.round(kl_to_consensus_score([agree, disagree]), 4)
    array([0.    , 0.6931])
    """
    import torch

    p = _proba(member_proba, 3, "member_proba", "(n_samples, n_members, n_classes)")
    # the mean KL to the mean is the mutual information: BALD's own computation
    return _mutual_information(torch.as_tensor(p)).numpy()


def committee_variance_score(predictions):
    """Variance of a committee of regressors: how far its members' predictions spread.

    ``(1/M) Σ_m (f_m(x) − f̄(x))²`` with ``f̄ = (1/M) Σ_m f_m`` the mean of
    the ``M`` members' predictions: the population variance (``ddof=0``), the
    query-by-committee score for regression (Burbidge et al., 2007; modAL's
    ``max_std_sampling`` ranks by its square root, the same order).

    Parameters
    ----------
    predictions : array-like of shape (n_samples, n_members)
        Each member's prediction for each sample (the layout of
        :func:`vote_entropy_score`'s votes: one row per sample).

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Higher means more disagreement; float64, 0 when every member predicts
        the same value.

    See Also
    --------
    skal.QueryByCommittee : The strategy that ranks a pool by this score.
    vote_entropy_score : The disagreement of a committee of classifiers.

    References
    ----------
    .. [1] R. Burbidge, J. J. Rowland and R. D. King, "Active Learning for
       Regression Based on Query by Committee", IDEAL 2007, LNCS 4881,
       pp. 209-218.

    Examples
    --------
    >>> from skal.uncertainty import committee_variance_score
    >>> committee_variance_score([[1.0, 1.0, 1.0], [0.0, 2.0, 4.0], [1.0, 3.0, 1.0]])
    array([0.        , 2.66666667, 0.88888889])
    """
    predictions = _proba(predictions, 2, "predictions", "(n_samples, n_members)")
    if predictions.shape[1] == 0:
        raise ValueError("predictions must hold at least one member's prediction per sample.")
    return np.var(predictions.astype(np.float64, copy=False), axis=1)


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
