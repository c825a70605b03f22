"""QueryByCommittee: the disagreements against slow references, the committee's sources,
the class alignment of members that missed a class, and a short labeling experiment."""

import math
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.datasets import load_digits, load_iris, make_friedman1
from sklearn.ensemble import (
    BaggingClassifier,
    BaggingRegressor,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Perceptron, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils._param_validation import InvalidParameterError

from skal import ActiveLearner, QueryByCommittee, RandomSampling
from skal.embeddings._committee import MISSING_CLASS_PROBA
from skal.exceptions import CommitteeWarning, EmbeddingError
from skal.model_selection import resolve_strategy
from skal.uncertainty import (
    bald_score,
    committee_variance_score,
    consensus_entropy_score,
    entropy_score,
    kl_to_consensus_score,
    vote_entropy_score,
)

# -- slow references, one sample and one member at a time, from the definitions ----------


def ref_vote_entropy(votes):
    """−Σ_c V(c)/M log V(c)/M per sample, votes one row per sample."""
    out = []
    for row in votes:
        M = len(row)
        out.append(-sum(row.count(c) / M * math.log(row.count(c) / M) for c in set(row)))
    return out


def ref_consensus(member_proba):
    return [[sum(p[c] for p in members) / len(members) for c in range(len(members[0]))]
            for members in member_proba]


def ref_consensus_entropy(member_proba):
    return [-sum(q * math.log(q) for q in mean if q > 0) for mean in ref_consensus(member_proba)]


def ref_kl_max(member_proba):
    """(1/M) Σ_m Σ_c P_m(c) log(P_m(c) / P̄(c)), 0 log 0 = 0."""
    out = []
    for members, mean in zip(member_proba, ref_consensus(member_proba)):
        kl = [sum(p[c] * math.log(p[c] / mean[c]) for c in range(len(p)) if p[c] > 0)
              for p in members]
        out.append(sum(kl) / len(kl))
    return out


def ref_align(proba, member_classes, classes, eps):
    """A member's row over ``classes``: its own columns, eps for the others, renormalized."""
    out = []
    for row in proba:
        full = [row[member_classes.index(c)] if c in member_classes else eps for c in classes]
        out.append([v / sum(full) for v in full])
    return out


# Three members' probabilities for five samples over three classes: agreement, a tie,
# confident disagreement, unsure agreement, a zero column.
MEMBER_PROBA = [
    [[0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.9, 0.05, 0.05]],
    [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.4, 0.6, 0.0]],
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    [[0.4, 0.3, 0.3], [0.3, 0.4, 0.3], [0.34, 0.33, 0.33]],
    [[0.0, 0.2, 0.8], [0.1, 0.1, 0.8], [0.0, 0.0, 1.0]],
]
VOTES = [[0, 0, 0], [0, 0, 1], [0, 1, 2], [0, 1, 0], [2, 2, 2]]


def test_vote_entropy_matches_the_slow_reference():
    np.testing.assert_allclose(vote_entropy_score(VOTES), ref_vote_entropy(VOTES), atol=1e-15)
    # labels, not only indices; unequal vote counts
    labels = [["cat", "dog", "dog", "dog"], ["a", "a", "a", "a"]]
    np.testing.assert_allclose(vote_entropy_score(labels), ref_vote_entropy(labels))


def test_consensus_entropy_and_kl_match_the_slow_references():
    np.testing.assert_allclose(consensus_entropy_score(MEMBER_PROBA),
                               ref_consensus_entropy(MEMBER_PROBA), atol=1e-14)
    np.testing.assert_allclose(kl_to_consensus_score(MEMBER_PROBA),
                               ref_kl_max(MEMBER_PROBA), atol=1e-14)
    # the mean KL to the consensus is the consensus entropy minus the mean entropy
    # (BALD's mutual information)
    np.testing.assert_allclose(kl_to_consensus_score(MEMBER_PROBA),
                               bald_score(MEMBER_PROBA), atol=1e-12)
    assert kl_to_consensus_score(MEMBER_PROBA)[0] > 0
    np.testing.assert_allclose(consensus_entropy_score(MEMBER_PROBA),
                               entropy_score(np.mean(MEMBER_PROBA, axis=1)))


@pytest.mark.parametrize("bad, match", [
    (np.zeros((2, 3)), r"member_proba must have shape \(n_samples, n_members, n_classes\)"),
])
def test_scores_name_the_shape(bad, match):
    with pytest.raises(ValueError, match=match):
        kl_to_consensus_score(bad)
    with pytest.raises(ValueError, match="votes must have shape"):
        vote_entropy_score(np.zeros(3))


# -- members with hand-made outputs --------------------------------------------------------


class TableClassifier(ClassifierMixin, BaseEstimator):
    """A "fitted" member whose probabilities for sample ``i`` (``X[i, 0] == i``) are
    ``table[i]``, over its own ``classes``."""

    def __init__(self, table=None, classes=None):
        self.table = table
        self.classes = classes

    def fit(self, X, y):
        self.classes_ = np.asarray(self.classes if self.classes is not None else np.unique(y))
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict_proba(self, X):
        return np.asarray(self.table, dtype=float)[np.asarray(X)[:, 0].astype(int)]

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def table_members(member_proba, classes=(0, 1, 2)):
    member_proba = np.asarray(member_proba)
    ids = np.arange(len(member_proba), dtype=float)[:, None]
    return [TableClassifier(member_proba[:, m], list(classes)).fit(ids, list(classes))
            for m in range(member_proba.shape[1])], ids


@pytest.mark.parametrize("disagreement, reference, inputs", [
    ("vote_entropy", ref_vote_entropy, None),
    ("consensus_entropy", ref_consensus_entropy, MEMBER_PROBA),
    ("kl_max", ref_kl_max, MEMBER_PROBA),
])
def test_strategy_scores_are_the_references_on_prefit_members(disagreement, reference, inputs):
    members, ids = table_members(MEMBER_PROBA)
    strategy = QueryByCommittee(members, disagreement=disagreement, prefit=True)
    votes = np.argmax(np.asarray(MEMBER_PROBA), axis=2).tolist()  # each member's vote
    expected = reference(votes if inputs is None else inputs)
    np.testing.assert_allclose(strategy.transform(ids)[:, 0], expected, atol=1e-14)
    order = sorted(range(len(expected)), key=lambda i: (-round(expected[i], 12), i))
    np.testing.assert_array_equal(strategy.rank(ids), order)


def test_exact_picks_and_ties_to_the_lower_index():
    # 1-D points, three prefit stumps splitting at 1.5, 2.5 and 3.5: members disagree
    # on the points between the splits, every vote split alike (2 against 1)
    X = np.array([[0.0], [2.0], [3.0], [5.0], [1.0], [4.0]])
    y = np.array([0, 1])
    members = [DecisionTreeClassifier(max_depth=1).fit(np.array([[t - 0.5], [t + 0.5]]), y)
               for t in (1.5, 2.5, 3.5)]
    strategy = QueryByCommittee(members, prefit=True)
    # votes: 0 -> 000, 2 -> 100, 3 -> 110, 5 -> 111, 1 -> 000, 4 -> 111
    np.testing.assert_array_equal(strategy.rank(X), [1, 2, 0, 3, 4, 5])
    np.testing.assert_array_equal(strategy.query(X, 2), [1, 2])
    # a committee in full agreement: every score ties, the pool order
    agree = QueryByCommittee([members[0], clone(members[0]).fit(*members_data(1.5))],
                             prefit=True)
    np.testing.assert_array_equal(agree.rank(X), np.arange(6))
    assert np.all(agree.transform(X) == 0)


def members_data(t):
    return np.array([[t - 0.5], [t + 0.5]]), np.array([0, 1])


def test_a_member_without_a_class_is_aligned_and_smoothed():
    # member 2 never saw class 1: its two columns are classes 0 and 2
    proba_full = [[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]]
    proba_short = [[0.9, 0.1], [0.0, 1.0]]
    ids = np.array([[0.0], [1.0]])
    full = TableClassifier(proba_full, [0, 1, 2]).fit(ids, [0, 1, 2])
    short = TableClassifier(proba_short, [0, 2]).fit(ids, [0, 2])
    aligned = ref_align(proba_short, [0, 2], [0, 1, 2], MISSING_CLASS_PROBA)
    member_proba = [[proba_full[i], aligned[i]] for i in range(2)]
    for disagreement, reference in [("kl_max", ref_kl_max),
                                    ("consensus_entropy", ref_consensus_entropy)]:
        strategy = QueryByCommittee([full, short], disagreement=disagreement, prefit=True)
        np.testing.assert_allclose(strategy.transform(ids)[:, 0], reference(member_proba),
                                   atol=1e-14)
    strategy = QueryByCommittee([full, short], prefit=True).fit(ids, [0, 1])
    assert strategy.classes_.tolist() == [0, 1, 2]
    # votes are the members' classes, not their column numbers: 0/0 then 2/2
    assert strategy.transform(ids)[:, 0].tolist() == [0.0, 0.0]


def test_nets_with_an_output_for_a_class_the_labels_lack_keep_the_seen_columns():
    # skorch infers classes_ [0, 1, 3] from the labels, but the module has 4 outputs:
    # output j is label j, so the columns 0, 1 and 3 are the classes (renormalized)
    from skal.toy import make_skorch_classifier

    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    y4 = np.where(y == 2, 3, y)  # labels 0, 1, 3 of 4 outputs: 2 is never seen
    nets = [make_skorch_classifier(4, 4, hidden_units=8, max_epochs=3, seed=s).fit(X, y4)
            for s in (0, 1)]
    assert nets[0].predict_proba(X[:2]).shape == (2, 4)
    kept = []
    for net in nets:
        proba = net.predict_proba(X)[:, [0, 1, 3]].astype(np.float64)
        kept.append(proba / proba.sum(axis=1, keepdims=True))
    member_proba = [[kept[0][i], kept[1][i]] for i in range(len(X))]
    for disagreement, reference in [("kl_max", ref_kl_max),
                                    ("consensus_entropy", ref_consensus_entropy)]:
        strategy = QueryByCommittee(nets, disagreement=disagreement, prefit=True).fit(X, y4)
        assert strategy.classes_.tolist() == [0, 1, 3]
        np.testing.assert_allclose(strategy.transform(X)[:, 0], reference(member_proba),
                                   rtol=1e-5, atol=1e-6)
    votes = [[int(np.argmax(k[i])) for k in kept] for i in range(len(X))]
    strategy = QueryByCommittee(nets, disagreement="vote_entropy", prefit=True).fit(X, y4)
    np.testing.assert_allclose(strategy.transform(X)[:, 0], ref_vote_entropy(votes),
                               atol=1e-12)


def test_aligned_smoothed_proba_never_is_zero_for_an_unseen_class():
    from skal.embeddings._committee import _align

    out = _align(np.array([[1.0, 0.0]]), np.array([0, 2]), 3)
    eps = MISSING_CLASS_PROBA
    np.testing.assert_allclose(out, [[1 / (1 + eps), eps / (1 + eps), 0.0]])
    same = np.array([[0.2, 0.8]])
    assert _align(same, np.array([0, 1]), 2) is same  # a member with every class: as is


# -- where the committee comes from ----------------------------------------------------------


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X[::5], y[::5], X


def test_a_fitted_forest_is_its_trees(iris):
    X, y, X_pool = iris
    forest = RandomForestClassifier(n_estimators=15, random_state=0).fit(X, y)
    strategy = QueryByCommittee(forest, disagreement="consensus_entropy", prefit=True).fit(X, y)
    assert strategy.estimators_ == forest.estimators_  # the members themselves
    np.testing.assert_allclose(strategy.transform(X_pool)[:, 0],
                               entropy_score(forest.predict_proba(X_pool)), atol=1e-12)
    # unfitted: fit fits a (seeded) clone, whose trees are the committee
    fitted = QueryByCommittee(RandomForestClassifier(n_estimators=15), random_state=0).fit(X, y)
    assert len(fitted.estimators_) == 15
    again = QueryByCommittee(RandomForestClassifier(n_estimators=15), random_state=0).fit(X, y)
    np.testing.assert_array_equal(fitted.rank(X_pool), again.rank(X_pool))


def test_bagging_members_read_their_features_through_the_pipeline(iris):
    X, y, X_pool = iris
    bagging = make_pipeline(
        StandardScaler(),
        BaggingClassifier(DecisionTreeClassifier(random_state=0), n_estimators=8,
                          max_features=2, bootstrap_features=True, random_state=0),
    ).fit(X, y)
    strategy = QueryByCommittee(bagging, disagreement="consensus_entropy", prefit=True)
    # every member saw every class here, so the consensus is the ensemble's own
    assert all(len(tree.classes_) == 3 for tree in bagging[-1].estimators_)
    np.testing.assert_allclose(strategy.transform(X_pool)[:, 0],
                               entropy_score(bagging.predict_proba(X_pool)), atol=1e-12)


def test_bagged_members_are_seeded_and_the_same_for_any_n_jobs(iris):
    X, y, X_pool = iris
    strategies = [QueryByCommittee(DecisionTreeClassifier(), disagreement="kl_max",
                                   n_members=6, n_jobs=n_jobs, random_state=0).fit(X, y)
                  for n_jobs in (None, 2)]
    assert len(strategies[0].estimators_) == 6
    np.testing.assert_array_equal(strategies[0].transform(X_pool), strategies[1].transform(X_pool))
    # the members differ (their bootstraps and seeds do)
    assert len({tuple(tree.predict(X_pool)) for tree in strategies[0].estimators_}) > 1


def test_a_list_of_classifiers_each_a_member(iris):
    X, y, X_pool = iris
    members = [LogisticRegression(max_iter=500), DecisionTreeClassifier(random_state=0)]
    strategy = QueryByCommittee(members, random_state=0).fit(X, y)
    assert [type(m) for m in strategy.estimators_] == [LogisticRegression, DecisionTreeClassifier]
    assert all(hasattr(m, "classes_") for m in strategy.estimators_)
    assert not hasattr(members[0], "classes_")  # clones were fitted
    cloned = clone(strategy)
    assert isinstance(cloned.get_params()["estimator"], list)
    restored = pickle.loads(pickle.dumps(strategy))
    np.testing.assert_array_equal(restored.rank(X_pool), strategy.rank(X_pool))


def test_vote_entropy_needs_only_predict(iris):
    X, y, X_pool = iris
    strategy = QueryByCommittee(Perceptron(), n_members=4, random_state=0).fit(X, y)
    assert strategy.transform(X_pool).shape == (len(X_pool), 1)
    with pytest.raises(EmbeddingError, match="predict_proba"):
        QueryByCommittee(Perceptron(), disagreement="kl_max").fit(X, y)


def test_a_single_prefit_classifier_never_fitted_is_a_committee_of_one(iris):
    X, y, X_pool = iris
    clf = LogisticRegression(max_iter=500).fit(X, y)
    with pytest.warns(CommitteeWarning, match="a committee of one"):
        scores = QueryByCommittee(clf, prefit=True).transform(X_pool)
    assert np.all(scores == 0)
    # fit bags clones of it (ActiveLearner's way), the estimator itself untouched
    with warnings.catch_warnings():
        warnings.simplefilter("error", CommitteeWarning)
        strategy = QueryByCommittee(clf, prefit=True, random_state=0).fit(X, y)
    assert strategy.estimator_ is clf and len(strategy.estimators_) == 10
    assert all(member is not clf for member in strategy.estimators_)


def test_parameters_are_validated(iris):
    X, y, _ = iris
    with pytest.raises(InvalidParameterError, match="disagreement"):
        QueryByCommittee(LogisticRegression(), disagreement="std").fit(X, y)
    with pytest.raises(InvalidParameterError, match="n_members"):
        QueryByCommittee(LogisticRegression(), n_members=1).fit(X, y)
    with pytest.raises(ValueError, match="empty list of estimators"):
        QueryByCommittee([]).fit(X, y)
    with pytest.raises(ValueError, match="only one class"):
        QueryByCommittee(LogisticRegression()).fit(X, np.zeros(len(X)))


def test_names():
    assert type(resolve_strategy("qbc")) is QueryByCommittee
    assert type(resolve_strategy("query-by-committee")) is QueryByCommittee


# -- a member that missed a class ----------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def two_per_class(y, seed):
    rng = np.random.RandomState(seed)
    return np.concatenate([rng.choice(np.flatnonzero(y == c), 2, replace=False)
                           for c in np.unique(y)])


def test_plain_bootstraps_on_two_labels_per_class_give_finite_kl(digits):
    X, y = digits
    labeled = two_per_class(y, 0)
    plain = QueryByCommittee(LogisticRegression(max_iter=1000), disagreement="kl_max",
                             bootstrap="plain", random_state=0).fit(X[labeled], y[labeled])
    # some members missed classes: their columns were aligned and smoothed
    assert min(len(member.classes_) for member in plain.estimators_) < 10
    assert plain.classes_.tolist() == list(range(10))
    scores = plain.transform(X)[:, 0]
    assert np.all(np.isfinite(scores)) and np.all(scores >= 0)
    # the default, stratified bootstraps: every member sees every class
    stratified = QueryByCommittee(LogisticRegression(max_iter=1000), disagreement="kl_max",
                                  random_state=0).fit(X[labeled], y[labeled])
    assert all(len(member.classes_) == 10 for member in stratified.estimators_)


def test_kl_max_of_members_that_miss_classes_is_not_far_below_random(digits):
    """Issue 22's experiment, small: digits, 2 labels per class, 60 labels, 3 seeds.

    The learner is a bagged tree ensemble: its members (plain bootstraps of 20
    samples) miss classes, so the committee aligns and smooths them every round.
    Recorded: random 0.702 (0.754, 0.757, 0.596), kl_max 0.708 (0.672, 0.700, 0.752).
    """
    X, y = digits
    scores = {}
    for name, strategy in [("random", RandomSampling()),
                           ("kl_max", QueryByCommittee(disagreement="kl_max"))]:
        finals = []
        for seed in range(3):
            X_pool, X_test, y_pool, y_test = train_test_split(
                X, y, test_size=0.3, random_state=seed, stratify=y)
            learner = ActiveLearner(
                BaggingClassifier(DecisionTreeClassifier(), n_estimators=20, random_state=0),
                strategy, batch_size=10, budget=60, random_state=seed,
            ).fit(X_pool, y_pool, initial_indices=two_per_class(y_pool, seed),
                  X_val=X_test, y_val=y_test)
            assert learner.history_["n_labeled"].tolist() == [20, 30, 40, 50, 60]
            finals.append(learner.history_["score"].tolist()[-1])
        scores[name] = np.mean(finals)
    assert scores["kl_max"] >= scores["random"] - 0.05, scores


# -- regression: the variance of the members' predictions ------------------------------------


def ref_variance(predictions):
    """(1/M) Σ_m (f_m − f̄)² per sample, predictions one row per sample."""
    out = []
    for row in predictions:
        mean = sum(row) / len(row)
        out.append(sum((v - mean) ** 2 for v in row) / len(row))
    return out


# Three members' predictions for five samples: agreement, a spread, an outlier, ...
MEMBER_PREDICTIONS = [
    [1.0, 1.0, 1.0],
    [0.0, 2.0, 4.0],
    [1.0, 3.0, 1.0],
    [-5.0, 5.0, 0.0],
    [2.0, 2.5, 3.0],
]


class TableRegressor(RegressorMixin, BaseEstimator):
    """A "fitted" member whose prediction for sample ``i`` (``X[i, 0] == i``) is ``table[i]``."""

    def __init__(self, table=None):
        self.table = table

    def fit(self, X, y):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X):
        return np.asarray(self.table, dtype=float)[np.asarray(X)[:, 0].astype(int)]


def test_committee_variance_matches_the_slow_reference():
    np.testing.assert_allclose(committee_variance_score(MEMBER_PREDICTIONS),
                               ref_variance(MEMBER_PREDICTIONS), atol=1e-14)
    # the population variance (ddof=0), not the sample variance
    assert committee_variance_score([[0.0, 2.0]])[0] == 1.0
    with pytest.raises(ValueError, match=r"predictions must have shape \(n_samples, n_members\)"):
        committee_variance_score(np.zeros(3))


@pytest.mark.parametrize("disagreement", ["auto", "variance"])
def test_prefit_regressors_score_the_reference_variance(disagreement):
    table = np.asarray(MEMBER_PREDICTIONS)
    ids = np.arange(len(table), dtype=float)[:, None]
    members = [TableRegressor(table[:, m]).fit(ids, table[:, m]) for m in range(3)]
    strategy = QueryByCommittee(members, disagreement=disagreement, prefit=True)
    expected = ref_variance(MEMBER_PREDICTIONS)
    np.testing.assert_allclose(strategy.transform(ids)[:, 0], expected, atol=1e-14)
    order = sorted(range(len(expected)), key=lambda i: (-round(expected[i], 12), i))
    np.testing.assert_array_equal(strategy.rank(ids), order)
    np.testing.assert_array_equal(strategy.query(ids, 2), order[:2])
    assert strategy.disagreement == disagreement  # "auto" is resolved, never written back


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=160, random_state=0)
    return X[:40], y[:40], X[40:]


@pytest.mark.parametrize("Forest", [RandomForestRegressor, ExtraTreesRegressor])
def test_a_fitted_forest_regressor_is_its_trees(friedman, Forest):
    X, y, X_pool = friedman
    forest = Forest(n_estimators=12, random_state=0).fit(X, y)
    strategy = QueryByCommittee(forest, prefit=True).fit(X, y)
    assert strategy.estimators_ == forest.estimators_
    assert not hasattr(strategy, "classes_")
    trees = np.stack([tree.predict(X_pool.astype(np.float32)) for tree in forest.estimators_],
                     axis=1)
    np.testing.assert_allclose(strategy.transform(X_pool)[:, 0], ref_variance(trees.tolist()),
                               rtol=1e-12)
    # the members' mean is the forest's own prediction
    np.testing.assert_allclose(trees.mean(axis=1), forest.predict(X_pool), rtol=1e-12)
    # unfitted: fit fits a seeded clone
    ranks = [QueryByCommittee(Forest(n_estimators=12), random_state=0).fit(X, y).rank(X_pool)
             for _ in range(2)]
    np.testing.assert_array_equal(ranks[0], ranks[1])


def test_bagging_regressor_members_read_their_features_through_the_pipeline(friedman):
    X, y, X_pool = friedman
    bagging = make_pipeline(
        StandardScaler(),
        BaggingRegressor(DecisionTreeRegressor(random_state=0), n_estimators=8,
                         max_features=4, bootstrap_features=True, random_state=0),
    ).fit(X, y)
    strategy = QueryByCommittee(bagging, prefit=True)
    Z = bagging[0].transform(X_pool)
    ensemble = bagging[-1]
    members = np.stack([tree.predict(Z[:, features]) for tree, features
                        in zip(ensemble.estimators_, ensemble.estimators_features_)], axis=1)
    np.testing.assert_allclose(members.mean(axis=1), bagging.predict(X_pool), rtol=1e-12)
    np.testing.assert_allclose(strategy.transform(X_pool)[:, 0], ref_variance(members.tolist()),
                               rtol=1e-12)


def test_bagged_regressors_are_seeded_and_the_same_for_any_n_jobs(friedman):
    X, y, X_pool = friedman
    strategies = [QueryByCommittee(DecisionTreeRegressor(), n_members=5, n_jobs=n_jobs,
                                   random_state=0).fit(X, y)
                  for n_jobs in (None, 2)]
    assert len(strategies[0].estimators_) == 5
    np.testing.assert_array_equal(strategies[0].transform(X_pool), strategies[1].transform(X_pool))
    members = np.stack([tree.predict(X_pool) for tree in strategies[0].estimators_], axis=1)
    np.testing.assert_allclose(strategies[0].transform(X_pool)[:, 0],
                               ref_variance(members.tolist()), rtol=1e-12)
    assert len({tuple(tree.predict(X_pool)) for tree in strategies[0].estimators_}) > 1
    other = QueryByCommittee(DecisionTreeRegressor(), n_members=5, random_state=1).fit(X, y)
    assert not np.array_equal(other.transform(X_pool), strategies[0].transform(X_pool))
    # a list of regressors: each one member, fitted on the whole labeled set
    listed = QueryByCommittee([Ridge(), DecisionTreeRegressor(random_state=0)]).fit(X, y)
    both = np.stack([Ridge().fit(X, y).predict(X_pool),
                     DecisionTreeRegressor(random_state=0).fit(X, y).predict(X_pool)], axis=1)
    np.testing.assert_allclose(listed.transform(X_pool)[:, 0], ref_variance(both.tolist()),
                               rtol=1e-12)


def test_auto_is_vote_entropy_for_classifiers_and_variance_for_regressors(iris, friedman):
    assert QueryByCommittee().get_params()["disagreement"] == "auto"
    X, y, X_pool = iris
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    auto = QueryByCommittee(forest, prefit=True)
    votes = QueryByCommittee(forest, disagreement="vote_entropy", prefit=True)
    np.testing.assert_array_equal(auto.transform(X_pool), votes.transform(X_pool))
    np.testing.assert_array_equal(auto.rank(X_pool), votes.rank(X_pool))
    bagged = [QueryByCommittee(LogisticRegression(max_iter=500), disagreement=d,
                               random_state=0).fit(X, y).rank(X_pool)
              for d in ("auto", "vote_entropy")]
    np.testing.assert_array_equal(bagged[0], bagged[1])
    X, y, X_pool = friedman
    forest = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y)
    np.testing.assert_array_equal(
        QueryByCommittee(forest, prefit=True).rank(X_pool),
        QueryByCommittee(forest, disagreement="variance", prefit=True).rank(X_pool))


def test_the_disagreement_must_fit_the_members(iris, friedman):
    X, y, X_pool = iris
    with pytest.raises(ValueError, match="disagreement='variance'.*classifiers.*'vote_entropy'"):
        QueryByCommittee(LogisticRegression(), disagreement="variance").fit(X, y)
    Xr, yr, Xr_pool = friedman
    for disagreement in ("vote_entropy", "consensus_entropy", "kl_max"):
        with pytest.raises(ValueError, match=f"disagreement='{disagreement}'.*regressors.*"
                                             "disagreement='variance'"):
            QueryByCommittee(Ridge(), disagreement=disagreement).fit(Xr, yr)
    forest = RandomForestRegressor(n_estimators=3, random_state=0).fit(Xr, yr)
    with pytest.raises(ValueError, match="disagreement='kl_max'.*regressors"):
        QueryByCommittee(forest, disagreement="kl_max", prefit=True).query(Xr_pool, 2)
    with pytest.raises(ValueError, match="mixes classifiers and regressors"):
        QueryByCommittee([LogisticRegression(), Ridge()]).fit(X, y)
