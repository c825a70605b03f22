"""What strategies look at: probabilities, penultimate and gradient embeddings.

Every function here takes a *fitted* estimator, either a skorch net or a
scikit-learn classifier, and a pool ``X``, and works batch by batch where the
estimator does (skorch nets use their own ``batch_size``, ``device`` and
iterator). Nothing of size ``n_samples × n_hidden × n_classes`` is built unless
:func:`gradient_embedding` is asked for the dense form.

This package is also the one place in skal that looks inside an estimator;
strategies ask its private modules rather than reach into estimators
themselves:

- ``_estimators``: unwrapping ``FrozenEstimator`` and ``Pipeline``, kinds of
  estimators (skorch net, ``MLPClassifier``, linear model), the last layer;
- ``_passes``: forward passes (net state kept, torch seeded locally, clear
  shape errors, chunks) and :func:`predict_proba`;
- ``_penultimate``: penultimate-layer and gradient embeddings;
- ``_mc_dropout``: MC dropout on a skorch net (BALD, BatchBALD);
- ``_committee``: the members of a fitted forest or bagging ensemble, and
  members' probabilities aligned to a committee's classes (QueryByCommittee);
- ``_differentiable``: an estimator as a differentiable torch function of its
  input (the adversarial strategies).

skorch's private names go through :mod:`skal.utils._skorch_compat`.
"""

from ._estimators import check_embedding, check_predict_proba
from ._passes import predict_proba
from ._penultimate import gradient_embedding, penultimate_embedding

__all__ = [
    "check_embedding",
    "check_predict_proba",
    "gradient_embedding",
    "penultimate_embedding",
    "predict_proba",
]
