"""A committee of fitted classifiers: who its members are, and what each one says.

The one place that looks inside scikit-learn's ensembles for their members
(:class:`~sklearn.ensemble.RandomForestClassifier`,
:class:`~sklearn.ensemble.ExtraTreesClassifier`,
:class:`~sklearn.ensemble.BaggingClassifier`, alone or as a Pipeline's last
step): the fitted ``estimators_``, the columns each one reads
(``estimators_features_``) and the labels behind its classes (the members of
an ensemble are fitted on the indices of the ensemble's ``classes_``).

Every member's probabilities come back aligned to the committee's classes.
A class that a member never saw (its bootstrap missed it, or a prefit member
was fitted without it) gets the probability ``MISSING_CLASS_PROBA`` before the
row is renormalized, rather than an exact zero: a member that cannot know a
class does not claim it is impossible.
"""

import numpy as np
from sklearn.utils import check_array

from ._passes import predict_proba
from ..utils._readers import _final_estimator, _name, _unwrap

__all__ = ["MISSING_CLASS_PROBA", "Committee", "is_ensemble"]

# The probability a member gives each class it never saw, before its row is
# renormalized (so p ↦ p / (1 + k·ε) for the classes it knows, ε / (1 + k·ε) for
# the k it does not).
MISSING_CLASS_PROBA = 1e-3


def _forests():
    # imported where used: sklearn.ensemble is not needed to import skal.embeddings
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

    return RandomForestClassifier, ExtraTreesClassifier


def is_ensemble(estimator):
    """Whether ``estimator`` (or a Pipeline's last step) is an ensemble whose members vote."""
    from sklearn.ensemble import BaggingClassifier

    return isinstance(_final_estimator(estimator), (*_forests(), BaggingClassifier))


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
    set's) and the members' own.
    """

    def __init__(self, members, classes=None, *, prefix=None, reader=None, forest=False):
        self.members = members
        self.prefix = prefix  # a fitted Pipeline head that every member reads through
        self.reader = reader  # the estimator that reads the pool as the user holds it
        self.forest = forest
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
        features = getattr(ensemble, "estimators_features_", None)
        members = [
            _Member(member, None if features is None else np.asarray(features[i]),
                    labels=ensemble.classes_)
            for i, member in enumerate(ensemble.estimators_)
        ]
        prefix = estimator[:-1] if estimator is not ensemble and len(estimator) > 1 else None
        return cls(members, classes if classes is not None else ensemble.classes_,
                   prefix=prefix, reader=estimator, forest=isinstance(ensemble, _forests()))

    @classmethod
    def from_estimators(cls, estimators, classes=None):
        """Fitted classifiers, each one member (the first reads the pool)."""
        members = [_Member(_unwrap(estimator)) for estimator in estimators]
        return cls(members, classes, reader=members[0].estimator if members else None)

    @property
    def n_members(self):
        return len(self.members)

    def _inputs(self, X):
        """What the members read: ``X`` itself, or (ensembles) ``X`` as the ensemble saw it."""
        if self.prefix is not None:
            X = self.prefix.transform(X)
        if any(member.labels is not None for member in self.members):
            # an ensemble validates X once, then hands its members plain arrays
            X = check_array(X, accept_sparse="csr" if self.forest else ["csr", "csc"],
                            dtype=np.float32 if self.forest else None,
                            ensure_all_finite=False)
        return X

    def _member_input(self, member, X):
        return X if member.features is None else X[:, member.features]

    def _positions(self, member, k, purpose):
        """Where each of a member's ``k`` probability columns goes among ``classes_``."""
        classes = member.classes()
        if classes is not None and len(classes) == k:
            return np.searchsorted(self.classes_, classes)
        if k == len(self.classes_):  # e.g. a net with an output per class it never saw
            return np.arange(k)
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
            positions = self._positions(member, proba.shape[1], purpose)
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
                positions = self._positions(member, proba.shape[1], purpose)
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

    def predict_proba(self, X):
        """The consensus: the mean of the members' aligned probabilities."""
        return self.member_proba(X).mean(axis=1)
