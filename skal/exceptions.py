"""Exceptions and warnings raised by skal.

Every skal exception also subclasses the scikit-learn (or Python) exception a
user would expect, so ``except ValueError`` keeps working, as skorch's
``NotInitializedError(SkorchException, NotFittedError)`` does.
"""

__all__ = [
    "SkalException",
    "EmbeddingError",
    "TrialsFailedError",
    "SkalWarning",
    "UpdateResetWarning",
    "DeviceWarning",
    "CommitteeWarning",
    "MissingLabelWarning",
    "TrainSplitWarning",
    "UnlabeledScoreWarning",
]


class SkalException(Exception):
    """Base class for every exception raised by skal."""


class EmbeddingError(SkalException, ValueError):
    """The estimator cannot provide what a strategy selects on.

    Raised, for example, when BADGE or CoreSet is asked for an embedding of a
    ``RandomForestClassifier`` (which has no penultimate layer), or when an
    uncertainty strategy meets an estimator without ``predict_proba``.
    """


class TrialsFailedError(SkalException, ValueError):
    """Every trial of a comparison or a learning curve failed.

    Raised by :func:`~skal.model_selection.compare_strategies` and
    :func:`~skal.model_selection.active_learning_curve` where scikit-learn's
    ``cross_validate`` raises its ``ValueError`` ("All the N fits failed"): the
    message groups the trials by their error. With fewer failures, one
    warning lists them and ``error_score`` fills their scores.
    """


class SkalWarning(UserWarning):
    """Base class for every warning issued by skal."""


class UpdateResetWarning(SkalWarning):
    """``retrain="update"`` had to train from scratch for one round.

    Issued by :class:`~skal.ActiveLearner` when a round brings a class that a
    scikit-learn estimator was not fitted on, so it cannot continue training.
    """


class DeviceWarning(SkalWarning):
    """A requested device is not available; skal runs on the CPU instead."""


class CommitteeWarning(SkalWarning):
    """A committee has a single member, so its members cannot disagree.

    Issued by :class:`~skal.QueryByCommittee` when it is given one fitted
    classifier (``prefit=True``, neither an ensemble nor a list) and was never
    fitted on a labeled set to bag clones of it: the vote entropy and the KL
    disagreement are then 0 for every sample.
    """


class MissingLabelWarning(SkalWarning):
    """The unlabeled marker may also be a class of ``y``.

    Issued by :class:`~skal.ActiveLearner` when a numeric ``missing_label``
    (``-1`` by default) marks no more samples than are labeled, as happens when
    ``-1`` is a class (labels -1/+1 or -1/0/1) rather than a marker.
    """


class TrainSplitWarning(SkalWarning):
    """A skorch net's ``train_split`` cannot split the labeled set.

    Issued (once per ``fit``) by :class:`~skal.ActiveLearner` when it fits a
    round's net without an internal validation split instead.
    """


class UnlabeledScoreWarning(SkalWarning):
    """A score was asked on labels that mark some samples as unlabeled.

    Issued (once per call) by :meth:`ActiveLearner.score <skal.ActiveLearner.score>`,
    by :func:`~skal.metrics.make_learning_curve_scorer`'s scorers, and by
    :meth:`ActiveLearner.fit <skal.ActiveLearner.fit>` for ``y_val``, when
    ``y`` holds entries marked ``missing_label`` (``-1`` by default). Those
    entries are left out of the score, which is computed on the labeled ones
    only; the message says how many were left out. This is what
    ``GridSearchCV`` over an ``ActiveLearner`` meets on a partly labeled
    ``y``: each held-out fold is scored on its labeled part.
    """
