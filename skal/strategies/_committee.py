"""Query by committee: the samples a committee of classifiers or regressors disagrees on most."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.parallel import Parallel, delayed

from ..base import BaseScoreStrategy, BaseStrategy
from ..base._strategy import _check_prefit, _check_two_classes, _fit_targets, _regresses
from ..embeddings import check_predict_proba
from ..embeddings._committee import Committee, is_ensemble
from ..embeddings._estimators import _final_net
from ..embeddings._passes import _torch_seeded
from ..exceptions import CommitteeWarning, EmbeddingError
from ..uncertainty import (
    committee_variance_score,
    consensus_entropy_score,
    kl_to_consensus_score,
    vote_entropy_score,
)
from ..utils._data import take, with_labels
from ..utils._random import draw_seed, seed_if_unset
from ..utils._sklearn_compat import HasMethods, Interval, StrOptions

__all__ = ["QueryByCommittee"]

# disagreement -> (what each member gives, the score of the members' outputs).
_DISAGREEMENTS = {
    "vote_entropy": ("votes", vote_entropy_score),
    "consensus_entropy": ("proba", consensus_entropy_score),
    "kl_max": ("proba", kl_to_consensus_score),
    "variance": ("predict", committee_variance_score),
}
_CLASSIFICATION = ("vote_entropy", "consensus_entropy", "kl_max")
_REGRESSION = ("variance",)

# A plain bootstrap with a single class is drawn again, at most this many times.
_MAX_REDRAWS = 100


def _is_regression(source):
    """Whether the committee's source (an estimator or a list of them) regresses.

    Raises the error that names the fix for a list that mixes classifiers and
    regressors.
    """
    if isinstance(source, (list, tuple)):
        kinds = {_regresses(member) for member in source}
        if len(kinds) > 1:
            raise ValueError(
                "QueryByCommittee was given a list that mixes classifiers and "
                f"regressors ({', '.join(type(m).__name__ for m in source)}); its "
                "members must all be classifiers or all be regressors."
            )
        return kinds == {True}
    return _regresses(source)


def _fit_member(estimator, X, y, seed):
    """A clone of ``estimator`` fitted on ``(X, y)``, its unset seeds (and torch's) from ``seed``."""
    member = seed_if_unset(clone(estimator), int(seed), deep=True)
    with _torch_seeded(_final_net(member), int(seed)):
        return member.fit(with_labels(X, y), _fit_targets(member, y))


class QueryByCommittee(BaseScoreStrategy):
    """Choose the samples that a committee of classifiers or regressors disagrees on most.

    Query by committee (Seung et al., 1992) trains several models, the
    *members*, on the labeled set and labels next the samples they disagree
    on. The committee is

    - the members of a fitted ensemble, when ``estimator`` is a
      :class:`~sklearn.ensemble.RandomForestClassifier`,
      :class:`~sklearn.ensemble.ExtraTreesClassifier`,
      :class:`~sklearn.ensemble.BaggingClassifier` or one of their regressor
      counterparts :class:`~sklearn.ensemble.RandomForestRegressor`,
      :class:`~sklearn.ensemble.ExtraTreesRegressor`,
      :class:`~sklearn.ensemble.BaggingRegressor` (or a Pipeline ending in
      one): its ``estimators_``, each tree reading the columns it was fitted on;
    - ``n_members`` clones of any other classifier or regressor, each fitted
      on a bootstrap sample of the labeled set (bagging, Abe and Mamitsuka,
      1998);
    - the given models, when ``estimator`` is a list: one member each (all
      classifiers or all regressors).

    The disagreement of the ``M`` members on a sample ``x``, for the
    classes ``c`` of the labeled set (natural log, ``0 log 0 = 0``):

    - ``"vote_entropy"`` (Dagan and Engelson, 1995):
      ``−Σ_c (V(c)/M) log (V(c)/M)``, ``V(c)`` the number of members whose
      most probable class is ``c``;
    - ``"consensus_entropy"`` (McCallum and Nigam, 1998):
      ``−Σ_c P̄(c|x) log P̄(c|x)``, the entropy of the consensus
      ``P̄ = (1/M) Σ_m P_m``;
    - ``"kl_max"``, max disagreement (McCallum and Nigam, 1998):
      ``(1/M) Σ_m KL(P_m ‖ P̄) = (1/M) Σ_m Σ_c P_m(c|x) log (P_m(c|x) / P̄(c|x))``,
      the mean divergence of the members from the consensus;
    - ``"variance"``, for regressors (Burbidge et al., 2007):
      ``(1/M) Σ_m (f_m(x) − f̄(x))²``, the population variance (``ddof=0``)
      of the members' predictions around their mean ``f̄``.

    Parameters
    ----------
    estimator : estimator object or list of estimator objects, default=None
        Where the committee comes from: a forest or bagging ensemble (its
        members), a list of classifiers or of regressors (each a member), or
        any other classifier or regressor (bagged ``n_members`` times).
        ``None`` is allowed only
        inside :class:`~skal.ActiveLearner`, which supplies its fitted
        estimator every round, with ``prefit=True``: its members if it is an
        ensemble, ``n_members`` clones bagged on the labeled set otherwise.

    disagreement : {"auto", "vote_entropy", "consensus_entropy", "kl_max", \
            "variance"}, default="auto"
        How the members' disagreement is scored (formulas above).
        ``"auto"`` is ``"vote_entropy"`` for classifiers and ``"variance"``
        for regressors, decided where the committee is used (the parameter
        itself is left as given). ``"vote_entropy"`` needs only the members'
        ``predict``; ``"consensus_entropy"`` and ``"kl_max"`` need
        ``predict_proba``; ``"variance"``, for regressors only, needs
        ``predict``.

    n_members : int, default=10
        Members of a bagged committee. Ignored for an ensemble (it has its
        own ``n_estimators``) and for a list.

    bootstrap : {"stratified", "plain"}, default="stratified"
        How a bagged member's bootstrap sample is drawn: ``"stratified"``
        draws, in each class of the labeled set, as many samples with
        replacement as the class has, so every member sees every class;
        ``"plain"`` draws ``n_labeled`` samples with replacement from the
        whole set (a draw with a single class is drawn again). Members of a
        list are fitted on the whole labeled set. Regressors are always
        bagged on plain bootstraps (there are no classes to stratify by).

    prefit : bool, default=False
        Whether ``estimator`` (each one, for a list) is already fitted. If
        True, ``query``, ``rank`` and ``transform`` work without ``fit``: an
        ensemble's members or the list are the committee as they are. A single
        other classifier is bagged by ``fit(X, y)`` (clones of it, the
        estimator itself unchanged); before any ``fit`` it is a committee of
        one (a :class:`~skal.exceptions.CommitteeWarning`). If False,
        ``fit(X, y)`` fits clones.

    n_jobs : int, default=None
        Members fitted at once, as joblib tasks; ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context, ``-1`` all processors. The
        picks are the same for any value.

    random_state : int, RandomState instance or None, default=None
        Seed of the bootstrap samples, and of every member (or the ensemble)
        whose own ``random_state`` is None.

    Attributes
    ----------
    estimators_ : list of estimator objects
        The fitted members: an ensemble's ``estimators_``, the bagged clones,
        or the list's members (the given ones when prefit).

    classes_ : ndarray of shape (n_classes,)
        The committee's classes: those of the labeled set and of the members.
        Only for a committee of classifiers.

    estimator_ : estimator object, list or None
        ``estimator`` itself when prefit; the fitted clone of an ensemble;
        None when the strategy fits the members itself.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    EntropySampling : The entropy of one model, the committee of one.
    BALD : The same disagreement as ``"kl_max"``, between MC dropout passes.
    skal.uncertainty.vote_entropy_score : The scores as functions.
    skal.uncertainty.committee_variance_score : The variance of regressors.

    Notes
    -----
    Every member's probabilities are aligned to the committee's classes
    ``classes_`` by the member's own ``classes_``. A member that lacks a class
    (a plain bootstrap missed it, a prefit member was fitted without it)
    gives it the probability ``ε = 1e-3`` and its row is renormalized
    (``p ↦ p / (1 + kε)`` for the classes it knows, ``ε / (1 + kε)`` for the
    ``k`` it lacks), rather than an exact zero: a member that never saw a
    class does not claim it impossible, and the divergences stay finite.
    Members that know every class are used as they are (the trees of a
    forest always do). The stratified bootstrap, the default, avoids such
    members altogether: with a few labels per class, plain bootstraps miss
    classes often, and a member blind to a class disagrees with the others on
    every sample of it.

    ``"kl_max"`` equals the consensus entropy minus the members' mean
    entropy. ``rank`` sorts by decreasing disagreement with ties to the lower
    index, so ``query(X, k)`` is the first ``k`` of ``rank(X)``; ``transform``
    returns the disagreement, shape ``(n_samples, 1)``. The members' votes
    are their most probable classes (``predict`` for a member without
    ``predict_proba``). Cost: ``M`` fits per ``fit`` (bagged or list) and
    ``M`` predictions per pool sample.

    For regressors, the variance is that of the members' own predictions
    (a forest's trees, not its mean); it ranks as the standard deviation
    does (modAL's ``max_std_sampling``).

    References
    ----------
    .. [1] H. S. Seung, M. Opper and H. Sompolinsky, "Query by Committee",
       COLT 1992.
    .. [2] I. Dagan and S. P. Engelson, "Committee-Based Sampling for Training
       Probabilistic Classifiers", ICML 1995.
    .. [3] A. McCallum and K. Nigam, "Employing EM and Pool-Based Active
       Learning for Text Classification", ICML 1998.
    .. [4] N. Abe and H. Mamitsuka, "Query Learning Strategies Using Boosting
       and Bagging", ICML 1998.
    .. [5] B. Settles, "Active Learning Literature Survey", Computer Sciences
       Technical Report 1648, University of Wisconsin-Madison, 2009.
    .. [6] R. Burbidge, J. J. Rowland and R. D. King, "Active Learning for
       Regression Based on Query by Committee", IDEAL 2007, LNCS 4881,
       pp. 209-218.

    Examples
    --------
    The trees of a fitted forest as the committee:

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import QueryByCommittee
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=20, random_state=0).fit(X[::10], y[::10])
    >>> strategy = QueryByCommittee(forest, prefit=True)
    >>> strategy.query(X, batch_size=5).shape
    (5,)

    Ten logistic regressions on stratified bootstraps of the labeled set, and
    their mean divergence from the consensus:

    >>> strategy = QueryByCommittee(LogisticRegression(max_iter=500), disagreement="kl_max",
    ...                             random_state=0).fit(X[::10], y[::10])
    >>> len(strategy.estimators_), strategy.classes_.tolist()
    (10, [0, 1, 2])
    >>> strategy.transform(X[:3]).shape
    (3, 1)
    >>> bool((strategy.query(X, batch_size=3) == strategy.rank(X)[:3]).all())
    True

    For a regressor, the default scores the variance of the members'
    predictions, here the trees of a forest:

    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> X, y = make_friedman1(n_samples=200, random_state=0)
    >>> forest = RandomForestRegressor(n_estimators=20, random_state=0).fit(X[:40], y[:40])
    >>> strategy = QueryByCommittee(forest, prefit=True)
    >>> scores = strategy.transform(X[40:])[:, 0]
    >>> bool(scores[strategy.query(X[40:], batch_size=1)[0]] == scores.max())
    True
    """

    _aliases = ("qbc", "query-by-committee")

    _parameter_constraints = {
        **BaseStrategy._parameter_constraints,
        "estimator": [HasMethods(["fit"]), list, tuple, None],
        "disagreement": [StrOptions({"auto", *_DISAGREEMENTS})],
        "n_members": [Interval(Integral, 2, None, closed="left")],
        "bootstrap": [StrOptions({"stratified", "plain"})],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    _accept_sparse = True
    _serves_regression = True  # the variance of regressors' predictions
    # fit bags the committee on the labeled set: a prefit single classifier never
    # fitted is a committee of one
    _uses_labeled_set = True

    def __init__(
        self,
        estimator=None,
        *,
        disagreement="auto",
        n_members=10,
        bootstrap="stratified",
        prefit=False,
        n_jobs=None,
        random_state=None,
    ):
        super().__init__(estimator=estimator, prefit=prefit)
        self.disagreement = disagreement
        self.n_members = n_members
        self.bootstrap = bootstrap
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- what the members must have ----------------------------------------------

    def _disagreement(self, regression):
        """``disagreement`` with ``"auto"`` resolved, checked against the members' kind."""
        disagreement = self.disagreement
        if disagreement == "auto":
            return "variance" if regression else "vote_entropy"
        if regression and disagreement in _CLASSIFICATION:
            raise ValueError(
                f"QueryByCommittee(disagreement={disagreement!r}) scores the class "
                "probabilities or votes of classifiers, but the committee is made of "
                "regressors. Use disagreement='variance' (or 'auto', which picks it "
                "for regressors)."
            )
        if not regression and disagreement in _REGRESSION:
            raise ValueError(
                f"QueryByCommittee(disagreement={disagreement!r}) scores the "
                "predictions of regressors, but the committee is made of classifiers. "
                f"Use one of {', '.join(map(repr, _CLASSIFICATION))} (or 'auto', which "
                "picks 'vote_entropy' for classifiers)."
            )
        return disagreement

    def _check_estimator(self, estimator):
        members = estimator if isinstance(estimator, (list, tuple)) else [estimator]
        if not members:
            raise ValueError(
                "QueryByCommittee was given an empty list of estimators; pass at "
                "least one classifier or regressor (two or more to disagree)."
            )
        disagreement = self._disagreement(_is_regression(estimator))
        needs = _DISAGREEMENTS.get(disagreement, ("proba",))[0]
        for member in members:
            if needs == "proba":
                check_predict_proba(member, purpose=f"QueryByCommittee("
                                    f"disagreement={disagreement!r})")
            elif not hasattr(member, "predict"):
                raise EmbeddingError(
                    f"QueryByCommittee needs each member's predict; "
                    f"{type(member).__name__} has none."
                )

    def _check_pool(self, X, y="no_validation", *, reader, reset=False, name="X"):
        if isinstance(reader, (list, tuple)):  # the members read the pool alike
            reader = reader[0] if reader else None
        return super()._check_pool(X, y, reader=reader, reset=reset, name=name)

    # -- fitting -------------------------------------------------------------------

    def _fit_estimator(self, X, y):
        source = self._require_estimator()
        _, prefit = self._owner()
        members = source if isinstance(source, (list, tuple)) else [source]
        if prefit:
            for member in members:
                _check_prefit(member, type(self).__name__)
            return source
        if y is not None and not _is_regression(source):
            _check_two_classes(y, type(self).__name__)
        if isinstance(source, (list, tuple)) or not is_ensemble(source):
            return None  # the members are fitted in _fit
        rng = check_random_state(self.random_state)
        ensemble = seed_if_unset(clone(source), lambda: draw_seed(rng), deep=True)
        return ensemble.fit(with_labels(X, y), y)

    def _fit(self, X, y):
        source = self._require_estimator()
        prefit = self._owner()[1]
        regression = _is_regression(source)
        classes = None if y is None or regression else np.unique(y)
        rng = check_random_state(self.random_state)
        if isinstance(source, (list, tuple)):
            members = list(source) if prefit else self._fit_members(
                source, X, y, [None] * len(source), rng)
            committee = Committee.from_estimators(members, classes, regression=regression)
        elif is_ensemble(source):
            committee = Committee.from_ensemble(self.estimator_, classes)
        elif y is None:
            committee = self._committee_of_one(source)
        else:
            bootstraps = self._bootstraps(y, rng, regression)
            members = self._fit_members([source] * len(bootstraps), X, y, bootstraps, rng)
            committee = Committee.from_estimators(members, classes, regression=regression)
        self._committee_ = committee
        self.estimators_ = [member.estimator for member in committee.members]
        if committee.regression:
            self.__dict__.pop("classes_", None)  # a committee of regressors has none
        else:
            self.classes_ = committee.classes_

    def _bootstraps(self, y, rng, regression=False):
        """``n_members`` sorted bootstrap samples of the labeled set (indices).

        Regressors' are plain bootstraps, whatever ``bootstrap`` says: there
        are no classes to stratify by, nor to miss.
        """
        y = np.asarray(y)
        if regression:
            return [np.sort(rng.randint(len(y), size=len(y))) for _ in range(self.n_members)]
        if self.bootstrap == "stratified":
            _, codes = np.unique(y, return_inverse=True)
            groups = [np.flatnonzero(codes == k) for k in range(codes.max() + 1)]
            return [
                np.sort(np.concatenate([g[rng.randint(len(g), size=len(g))] for g in groups]))
                for _ in range(self.n_members)
            ]
        out = []
        for _ in range(self.n_members):
            for _ in range(_MAX_REDRAWS):
                indices = np.sort(rng.randint(len(y), size=len(y)))
                if np.unique(y[indices]).size >= 2:
                    break
            else:
                raise ValueError(
                    f"{_MAX_REDRAWS} plain bootstrap samples of the {len(y)} labeled "
                    "samples in a row had a single class. Use bootstrap='stratified', "
                    "or label more samples of the rare classes."
                )
            out.append(indices)
        return out

    def _fit_members(self, estimators, X, y, bootstraps, rng):
        """Clones of ``estimators`` fitted on their bootstrap (None: all), as joblib tasks.

        The bootstraps and the seeds are drawn before any task runs, so the
        members are the same for any ``n_jobs``.
        """
        seeds = draw_seed(rng, size=len(estimators))
        y = np.asarray(y)
        return Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_member)(
                estimator,
                X if indices is None else take(X, indices),
                y if indices is None else y[indices],
                seed,
            )
            for estimator, indices, seed in zip(estimators, bootstraps, seeds)
        )

    # -- the committee ---------------------------------------------------------------

    def _committee_of_one(self, estimator):
        warnings.warn(
            f"QueryByCommittee was given one fitted {type(estimator).__name__} "
            "(prefit=True), not an ensemble or a list, and no labeled set to bag "
            "clones of it: a committee of one, whose members cannot disagree. Call "
            "fit(X_labeled, y_labeled) to bag n_members clones, or pass a fitted "
            "forest, a bagging ensemble or a list of fitted models.",
            CommitteeWarning,
            stacklevel=4,
        )
        return Committee.from_estimators([estimator], regression=_is_regression(estimator))

    def _fitted_committee(self):
        if hasattr(self, "_committee_"):
            return self._committee_
        if not self._owner()[1]:
            raise NotFittedError(self._not_fitted_message())
        self._validate_params()  # fit, which would validate, is never called
        source = self._require_estimator()
        if isinstance(source, (list, tuple)):
            for member in source:
                _check_prefit(member, type(self).__name__)
            return Committee.from_estimators(list(source), regression=_is_regression(source))
        _check_prefit(source, type(self).__name__)
        if is_ensemble(source):
            return Committee.from_ensemble(source)
        return self._committee_of_one(source)

    def _validate_pool(self, X, name="X"):
        committee = self._fitted_committee()
        return self._check_pool(X, reader=committee.reader, name=name), committee

    def _priority(self, X, estimator, offset=0):
        disagreement = self._disagreement(estimator.regression)
        needs, score = _DISAGREEMENTS[disagreement]
        purpose = f"QueryByCommittee(disagreement={disagreement!r})"
        if needs == "votes":
            return score(estimator.member_votes(X, purpose=purpose))
        if needs == "predict":
            return score(estimator.member_predictions(X, purpose=purpose))
        return score(estimator.member_proba(X, purpose=purpose))

