"""Uncertainty sampling: least confidence, margin and entropy."""

from ..base import _SHARED_PARAMS_DOC, BaseUncertaintySampling
from ..uncertainty import entropy_score, least_confidence_score, margin_score
from ..utils._docstring import Substitution

__all__ = ["EntropySampling", "LeastConfidence", "MarginSampling"]


_UNCERTAINTY_TEMPLATE = """

    Parameters
    ----------
    {params}

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator whose probabilities are used (``estimator`` itself
        when ``prefit=True``).

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
{see_also}
    BADGE : Uncertainty and diversity together.

    Notes
    -----
    ``transform`` returns the score, shape ``(n_samples, 1)``; ``rank`` sorts
    by decreasing score with ties to the lower index, so ``query(X, k)`` is
    the first ``k`` of ``rank(X)``. Probabilities come from the estimator's
    own ``predict_proba`` (batched, on its device, for skorch nets).
"""

_FAMILY = {
    "LeastConfidence": "The probability of the most likely class.",
    "MarginSampling": "The margin between the two most likely classes.",
    "EntropySampling": "The entropy of the whole predicted distribution.",
}


def _uncertainty_doc(name):
    """The shared sections of ``name``'s docstring, with the other two in See Also."""
    see_also = "\n".join(
        f"    {other} : {description}"
        for other, description in _FAMILY.items()
        if other != name
    )
    return _UNCERTAINTY_TEMPLATE.format(params=_SHARED_PARAMS_DOC, see_also=see_also)


@Substitution(uncertainty=_uncertainty_doc("LeastConfidence"))
class LeastConfidence(BaseUncertaintySampling):
    """Choose the samples whose most likely class is least likely.

    The score is ``1 − max_c p(c | x)``.%(uncertainty)s
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import LeastConfidence
    >>> X = np.array([[-3.0], [-1.0], [1.0], [3.0]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> X_pool = np.array([[-2.0], [0.1], [4.0]])
    >>> LeastConfidence(clf, prefit=True).query(X_pool, batch_size=1)
    array([1])
    """

    _aliases = ("least-confidence", "least_confidence")

    def _uncertainty(self, proba):
        return least_confidence_score(proba)


@Substitution(uncertainty=_uncertainty_doc("MarginSampling"))
class MarginSampling(BaseUncertaintySampling):
    """Choose the samples with the smallest margin between the top two classes.

    The score is ``1 − (p(c₁ | x) − p(c₂ | x))`` for the two most likely
    classes ``c₁``, ``c₂`` (higher = smaller margin).%(uncertainty)s
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import MarginSampling
    >>> X = np.array([[-3.0], [-1.0], [1.0], [3.0]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> MarginSampling(clf, prefit=True).rank(np.array([[-2.0], [0.1], [4.0]]))
    array([1, 0, 2])
    """

    _aliases = ("margin",)

    def _uncertainty(self, proba):
        return margin_score(proba)


@Substitution(uncertainty=_uncertainty_doc("EntropySampling"))
class EntropySampling(BaseUncertaintySampling):
    """Choose the samples whose predicted class distribution has most entropy.

    The score is ``−Σ_c p(c | x) log p(c | x)`` (natural log, ``0 log 0 = 0``).%(uncertainty)s
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import EntropySampling
    >>> X = np.array([[-3.0], [-1.0], [1.0], [3.0]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> EntropySampling(clf, prefit=True).query(np.array([[-2.0], [0.1], [4.0]]), 2)
    array([1, 0])
    """

    _aliases = ("entropy",)

    def _uncertainty(self, proba):
        return entropy_score(proba)
