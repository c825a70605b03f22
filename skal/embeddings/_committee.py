"""A committee of fitted classifiers or regressors: who its members are, and what each one says.

The one place that looks inside scikit-learn's ensembles for their members
(:class:`~sklearn.ensemble.RandomForestClassifier`,
:class:`~sklearn.ensemble.ExtraTreesClassifier`,
:class:`~sklearn.ensemble.BaggingClassifier` and their regressor
counterparts :class:`~sklearn.ensemble.RandomForestRegressor`,
:class:`~sklearn.ensemble.ExtraTreesRegressor`,
:class:`~sklearn.ensemble.BaggingRegressor`, alone or as a Pipeline's last
step): the fitted ``estimators_``, the columns each one reads
(``estimators_features_``) and the labels behind its classes (the members of
a classification ensemble are fitted on the indices of the ensemble's
``classes_``). A committee of regressors has no classes: its members give
predictions (:meth:`Committee.member_predictions`).

Every member's probabilities come back aligned to the committee's classes.
A class that a member never saw (its bootstrap missed it, or a prefit member
was fitted without it) gets the probability ``MISSING_CLASS_PROBA`` before the
row is renormalized, rather than an exact zero: a member that cannot know a
class does not claim it is impossible.
"""

import numpy as np
from sklearn.utils import check_array

from sklearn.base import is_regressor

from ._passes import predict_proba, predict_values
from ..utils._readers import _final_estimator, _is_skorch_net, _name, _unwrap

__all__ = ["MISSING_CLASS_PROBA", "Committee", "is_ensemble"]

# The probability a member gives each class it never saw, before its row is
# renormalized (so p ↦ p / (1 + k·ε) for the classes it knows, ε / (1 + k·ε) for
# the k it does not).
MISSING_CLASS_PROBA = 1e-3


def _forests():
    # imported where used: sklearn.ensemble is not needed to import skal.embeddings
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )

    return RandomForestClassifier, ExtraTreesClassifier, RandomForestRegressor, ExtraTreesRegressor


def is_ensemble(estimator):
    """Whether ``estimator`` (or a Pipeline's last step) is an ensemble whose members vote.

    A forest or a bagging ensemble, of classifiers or of regressors.
    """
    from sklearn.ensemble import BaggingClassifier, BaggingRegressor

    return isinstance(_final_estimator(estimator),
                      (*_forests(), BaggingClassifier, BaggingRegressor))


def _align(proba, positions, n_classes, epsilon=None):
    """``proba`` (n, k) as (n, n_classes): column j goes to ``positions[j]``.

    Classes that no column goes to get ``epsilon`` (default ``MISSING_CLASS_PROBA``)
    and each row is renormalized; a member that knows every class is returned as it is.
    """
    epsilon = MISSING_CLASS_PROBA if epsilon is None else epsilon
    n = proba.shape[0]
    if len(positions) == n_classes and np.array_equal(positions, np.arange(n_classes)):
        return proba
    out = np.full((n, n_classes), epsilon if len(positions) < n_classes else 0.0)
    out[:, positions] = proba
    return out / out.sum(axis=1, keepdims=True)


class _Member:
    """One fitted member; ``labels`` are the ensemble's classes it was fitted on
    the indices of (None: its own ``classes_`` are labels)."""

    def __init__(self, estimator, features=None, labels=None):
        self.estimator = estimator
        self.features = features
        self.labels = labels

    def classes(self):
        """The labels of its classes (columns of ``predict_proba``), or None."""
        own = getattr(_unwrap(self.estimator), "classes_", None)
        if own is None:
            return None
        own = np.asarray(own)
        if self.labels is None:
            return own
        return np.asarray(self.labels)[own.astype(np.intp)]


class Committee:
    """Fitted members that each give class probabilities (or votes) on the same classes.

    Build it with :meth:`from_ensemble` (the members of a fitted forest or
    bagging ensemble) or :meth:`from_estimators` (fitted classifiers, each a
    member). ``classes_`` are the union of the given ``classes`` (the labeled
    set's) and the members' own. A committee of regressors
    (``regression=True``) has ``classes_ = None``; its members give
    predictions.
    """

    def __init__(self, members, classes=None, *, prefix=None, reader=None, forest=False,
                 ensemble=None, regression=False):
        self.members = members
        self.prefix = prefix  # a fitted Pipeline head that every member reads through
        self.reader = reader  # the estimator that reads the pool as the user holds it
        self.forest = forest
        # an ensemble validates X once, then hands its members plain arrays
        self.ensemble = (any(member.labels is not None for member in members)
                         if ensemble is None else ensemble)
        self.regression = regression
        if regression:
            self.classes_ = None
            return
        known = [np.asarray(classes)] if classes is not None else []
        known += [c for c in (member.classes() for member in members) if c is not None]
        if not known:
            raise ValueError(
                "The committee's members have no classes_: pass classifiers fitted "
                "on labels, or fit the strategy on a labeled set."
            )
        self.classes_ = np.unique(np.concatenate(known))

    @classmethod
    def from_ensemble(cls, estimator, classes=None):
        """The members of a fitted ensemble (see :func:`is_ensemble`), behind its Pipeline."""
        estimator = _unwrap(estimator)
        ensemble = _final_estimator(estimator)
        regression = bool(is_regressor(ensemble))
        features = getattr(ensemble, "estimators_features_", None)
        members = [
            _Member(member, None if features is None else np.asarray(features[i]),
                    labels=None if regression else ensemble.classes_)
            for i, member in enumerate(ensemble.estimators_)
        ]
        prefix = estimator[:-1] if estimator is not ensemble and len(estimator) > 1 else None
        if regression:
            classes = None
        elif classes is None:
            classes = ensemble.classes_
        return cls(members, classes, prefix=prefix, reader=estimator,
                   forest=isinstance(ensemble, _forests()), ensemble=True,
                   regression=regression)

    @classmethod
    def from_estimators(cls, estimators, classes=None, *, regression=False):
        """Fitted classifiers (or regressors), each one member (the first reads the pool)."""
        members = [_Member(_unwrap(estimator)) for estimator in estimators]
        return cls(members, None if regression else classes,
                   reader=members[0].estimator if members else None, regression=regression)

    @property
    def n_members(self):
        return len(self.members)

    def _inputs(self, X):
        """What the members read: ``X`` itself, or (ensembles) ``X`` as the ensemble saw it."""
        if self.prefix is not None:
            X = self.prefix.transform(X)
        if self.ensemble:
            # an ensemble validates X once, then hands its members plain arrays
            X = check_array(X, accept_sparse="csr" if self.forest else ["csr", "csc"],
                            dtype=np.float32 if self.forest else None,
                            ensure_all_finite=False)
        return X

    def _member_input(self, member, X):
        return X if member.features is None else X[:, member.features]

    def _columns(self, member, proba, purpose):
        """``(proba, positions)``: a member's probability columns that are classes, and
        where each goes among ``classes_``.

        A skorch net fitted on integer labels has one output per label value,
        ``0 .. k−1``, whether or not the labeled set holds each (its ``classes_``
        are the labels it saw): the columns of the classes it saw are kept, and
        each row is renormalized over them.
        """
        k = proba.shape[1]
        classes = member.classes()
        if classes is not None and len(classes) == k:
            return proba, np.searchsorted(self.classes_, classes)
        if (
            classes is not None and len(classes) < k and _is_skorch_net(_final_estimator(member.estimator))
            and classes.dtype.kind in "iu" and classes.min() >= 0 and classes.max() < k
        ):  # the net's output j is label j
            kept = proba[:, classes.astype(np.intp)]
            kept = kept / np.maximum(kept.sum(axis=1, keepdims=True), np.finfo(float).tiny)
            return kept, np.searchsorted(self.classes_, classes)
        if k == len(self.classes_):  # e.g. a net with an output per class it never saw
            return proba, np.arange(k)
        raise ValueError(
            f"{purpose}: the committee member {_name(member.estimator)} gives {k} "
            f"probability columns, but the committee has {len(self.classes_)} classes "
            f"{self.classes_.tolist()} and the member's classes_ "
            f"{None if classes is None else classes.tolist()} do not say which is which. "
            "Fit every member on labels of the same classes."
        )

    def member_proba(self, X, purpose="QueryByCommittee"):
        """Each member's probabilities, aligned and smoothed: (n_samples, n_members, n_classes)."""
        X = self._inputs(X)
        out = []
        for member in self.members:
            proba = predict_proba(member.estimator, self._member_input(member, X),
                                  purpose=purpose)
            proba, positions = self._columns(member, proba, purpose)
            out.append(_align(proba, positions, len(self.classes_)))
        return np.stack(out, axis=1)

    def member_votes(self, X, purpose="QueryByCommittee"):
        """Each member's vote as an index into ``classes_``: (n_samples, n_members).

        The most probable class of the member's aligned probabilities (ties to
        the first class), or its ``predict`` for a member without ``predict_proba``.
        """
        X = self._inputs(X)
        out = []
        for member in self.members:
            Xm = self._member_input(member, X)
            if hasattr(member.estimator, "predict_proba"):
                proba = predict_proba(member.estimator, Xm, purpose=purpose)
                proba, positions = self._columns(member, proba, purpose)
                out.append(positions[np.argmax(proba, axis=1)])
                continue
            predicted = np.asarray(member.estimator.predict(Xm))
            if member.labels is not None:
                predicted = np.asarray(member.labels)[predicted.astype(np.intp)]
            index = np.searchsorted(self.classes_, predicted).clip(max=len(self.classes_) - 1)
            unknown = self.classes_[index] != predicted
            if unknown.any():
                raise ValueError(
                    f"{purpose}: the committee member {_name(member.estimator)} predicts "
                    f"{predicted[unknown][0]!r}, not one of the committee's classes "
                    f"{self.classes_.tolist()}."
                )
            out.append(index)
        return np.stack(out, axis=1)

    def member_predictions(self, X, purpose="QueryByCommittee"):
        """Each member's prediction, a committee of regressors: (n_samples, n_members)."""
        X = self._inputs(X)
        return np.stack([
            predict_values(member.estimator, self._member_input(member, X), purpose=purpose)
            for member in self.members
        ], axis=1)

    def predict_proba(self, X):
        """The consensus: the mean of the members' aligned probabilities."""
        return self.member_proba(X).mean(axis=1)
