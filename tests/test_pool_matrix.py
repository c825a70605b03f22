"""Every pool kind in every entry point (issue 23): it works, or it refuses clearly.

One matrix: entry point (each strategy's ``fit``/``query``/``rank``,
``ActiveLearner``, ``compare_strategies`` and its ``StrategyComparison``,
``active_learning_curve`` with ``cv``, ``GridSearchCV`` over strategies) × pool
kind (NumPy array, scipy sparse, DataFrame with mixed dtypes, tensor,
``TensorDataset``, dict of arrays) × estimator (a scikit-learn ``Pipeline``, a
skorch net). A cell passes (valid picks, the caller's pool untouched), or
raises the error that ``docs/pools.md`` documents for it: its type, and a
fragment of its message that names the fix.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, MaxAbsScaler, OneHotEncoder, StandardScaler
from sklearn.utils import get_tags
from torch.utils.data import TensorDataset

import skal
from skal import BADGE, GLISTER, ActiveLearner, CoreSet, EntropySampling, RandomSampling
from skal.exceptions import EmbeddingError
from skal.model_selection import StrategyComparison, active_learning_curve, compare_strategies
from skal.toy import make_skorch_classifier
from skal.utils._data import check_pool

KINDS = ["ndarray", "sparse", "frame", "tensor", "TensorDataset", "dict"]
ESTIMATORS = ["pipeline", "skorch"]

N, N_LABELED = 48, 12
RNG = np.random.RandomState(0)
Y = np.arange(N) % 2
VALUES = (RNG.randn(N, 4) + Y[:, None]).astype(np.float32)
REGION = np.where(RNG.rand(N) + 0.4 * Y > 0.6, "north", "south")
NUMERIC = ["a", "b", "c"]


def make_pool(kind, rows=slice(None)):
    """The samples ``rows`` as a pool of ``kind``; a new object on every call."""
    A = VALUES[rows].copy()
    if kind == "ndarray":
        return A
    if kind == "sparse":
        return sp.csr_matrix(A)
    if kind == "frame":
        # float, int and text columns, and an index that is not 0..n-1: rows must be
        # taken by position, never by label (the KeyError of issue 23)
        n = len(A)
        frame = pd.DataFrame(A[:, :2], columns=NUMERIC[:2], index=1000 + 3 * np.arange(n))
        frame["c"] = np.round(A[:, 2] * 10).astype(np.int64)
        frame["region"] = REGION[rows]
        return frame
    if kind == "tensor":
        return torch.from_numpy(A)
    if kind == "TensorDataset":  # placeholder targets: skal never reads them
        return TensorDataset(torch.from_numpy(A), torch.full((len(A),), -1))
    if kind == "dict":  # skorch passes the keys to forward(X=...)
        return {"X": A}
    raise AssertionError(kind)


# the strategies made for regression (GreedySampling's "y" and "xy", LCMD, MAXDET) run
# their rows with the regressor of each kind
REGRESSOR = "-regressor"


def _base(estimator):
    return estimator.removesuffix(REGRESSOR)


class _RegressionModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(4, 8)
        self.out = torch.nn.Linear(8, 1)

    def forward(self, X):
        return self.out(torch.relu(self.hidden(X)))


def make_estimator(name, kind):
    """An unfitted estimator: a Pipeline that reads ``kind``, or a skorch net."""
    regression = name.endswith(REGRESSOR)
    if _base(name) == "skorch":
        if regression:
            from skorch import NeuralNetRegressor

            torch.manual_seed(0)
            return NeuralNetRegressor(_RegressionModule, max_epochs=2, train_split=None,
                                      verbose=0)
        return make_skorch_classifier(4, 2, hidden_units=8, max_epochs=2,
                                      module__dropout=0.2)
    final = Ridge() if regression else LogisticRegression()
    if kind == "frame":
        return make_pipeline(
            make_column_transformer(
                (StandardScaler(), NUMERIC),
                (OneHotEncoder(handle_unknown="ignore"), ["region"]),
            ),
            final,
        )
    return make_pipeline(MaxAbsScaler(), final)  # dense and sparse


def snapshot(pool):
    """A deep copy of a pool, to check that nothing was written to it."""
    if isinstance(pool, TensorDataset):
        return [t.clone() for t in pool.tensors]
    if isinstance(pool, dict):
        return {key: value.copy() for key, value in pool.items()}
    if isinstance(pool, torch.Tensor):
        return pool.clone()
    return pool.copy()


def assert_untouched(pool, before):
    if isinstance(pool, TensorDataset):
        for tensor, old in zip(pool.tensors, before):
            assert torch.equal(tensor, old)
    elif isinstance(pool, dict):
        assert pool.keys() == before.keys()
        for key in pool:
            np.testing.assert_array_equal(pool[key], before[key])
    elif isinstance(pool, torch.Tensor):
        assert torch.equal(pool, before)
    elif sp.issparse(pool):
        assert (pool != before).nnz == 0
    elif hasattr(pool, "iloc"):
        pd.testing.assert_frame_equal(pool, before)
    else:
        np.testing.assert_array_equal(pool, before)
        assert pool.flags.writeable == before.flags.writeable


# -- the documented refusals (docs/pools.md, "Every entry point, every pool") ---------------

NET_TEXT_FRAME = (ValueError, r"cannot read the DataFrame with non-numeric columns "
                  r"\['region'\].*Encode them in a Pipeline before the net")
SKLEARN_DATASET = (ValueError, r"(LogisticRegression|Ridge) reads arrays, not a pool of type "
                   r"\w+.*Pass a NumPy array.*or use a skorch NeuralNet(Classifier|Regressor)")
VALUES_DATASET = (ValueError, r"cannot take a pool of type \w+: .*Pass the samples as a "
                  r"NumPy array or torch tensor")
VALUES_TEXT_FRAME = (ValueError, r"cannot take a DataFrame with non-numeric columns "
                     r"\['region'\].*Encode those columns as numbers first")
DENSE_ONLY = (TypeError, r"dense data is required\. Use '\.toarray\(\)'")
GRID_DATASET = (TypeError, r"list of \(x, y\) pairs.*skorch\.helper\.SliceDataset")
# scikit-learn counts a dict's keys before skal sees it; docs/pools.md gives the fix
# (skorch.helper.SliceDict), tested below
GRID_DICT = (ValueError, r"inconsistent numbers of samples: \[1, \d+\]")
# some scikit-learn and torch pairs (the floors: scikit-learn 1.6, torch 2.7) cannot
# cross-validate on a tensor at all: scikit-learn's _fit_and_score fails moving its indices
# to the tensor's device, before any estimator sees the data
GRID_TENSOR_UPSTREAM = (ValueError, r"Unsupported device for NumPy")


def _sklearn_cross_validates_tensors():
    """Whether scikit-learn's cross-validation indexes a torch tensor here (probe)."""
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import cross_val_score

    try:
        cross_val_score(DummyClassifier(), torch.zeros(4, 1), np.array([0, 1, 0, 1]), cv=2,
                        error_score="raise")
    except ValueError as exc:
        if "Unsupported device" in str(exc):
            return False
        raise
    return True


def strategy_refusal(strategy, kind, estimator):
    """The documented error of a strategy's cell, or None if it must pass.

    What a strategy declares decides its row: whether it asks its estimator
    (``_needs_estimator``), reads the values itself (``_needs_pool_values``, with
    the reason in its error), or takes sparse input (its ``input_tags.sparse``).
    """
    estimator = _base(estimator)
    reads_values = strategy._needs_pool_values is not None
    asks_estimator = strategy._needs_estimator and not reads_values
    if reads_values and kind in ("TensorDataset", "dict"):
        return VALUES_DATASET
    if reads_values and kind == "frame":
        return VALUES_TEXT_FRAME
    if asks_estimator and estimator == "pipeline" and kind in ("TensorDataset", "dict"):
        return SKLEARN_DATASET
    if asks_estimator and estimator == "skorch" and kind == "frame":
        return NET_TEXT_FRAME
    if kind == "sparse" and not get_tags(strategy).input_tags.sparse:
        return DENSE_ONLY
    return None


def learner_refusal(entry, kind, estimator):
    """The documented error of an ActiveLearner-based cell, or None."""
    if entry == "GridSearchCV" and kind == "TensorDataset":
        return GRID_DATASET
    if entry == "GridSearchCV" and kind == "dict":
        return GRID_DICT
    if entry == "GridSearchCV" and kind == "tensor" and not _sklearn_cross_validates_tensors():
        return GRID_TENSOR_UPSTREAM
    if estimator == "pipeline" and kind in ("TensorDataset", "dict"):
        return SKLEARN_DATASET
    if estimator == "skorch" and kind == "frame":
        return NET_TEXT_FRAME
    return None


# -- fitted estimators, once per module -------------------------------------------------------

_FITTED = {}


def fitted(estimator, kind):
    """The estimator fitted on the labeled rows (of ``kind`` for a Pipeline of frames)."""
    key = (estimator, kind == "frame" and _base(estimator) == "pipeline")
    if key not in _FITTED:
        X = make_pool("frame" if key[1] else "ndarray", slice(0, N_LABELED))
        y = Y[:N_LABELED]
        if estimator == "skorch" + REGRESSOR:  # a skorch regressor takes a float32 column
            y = y.astype(np.float32).reshape(-1, 1)
        _FITTED[key] = make_estimator(estimator, kind).fit(X, y)
    return _FITTED[key]


def _accepts(cls, estimator):
    """Whether ``cls`` takes this kind of estimator (BALD needs a net with dropout)."""
    try:
        cls(estimator=fitted(estimator, "ndarray"), prefit=True)._require_estimator()
    except EmbeddingError:
        return False
    return True


def _needs_regressor(cls):
    try:
        cls()._check_estimator(LogisticRegression())
    except EmbeddingError:
        return False
    except ValueError as exc:
        return "regressor" in str(exc)
    return False


def _strategies():
    out = []
    for name, cls in skal.all_strategies():
        suffix = REGRESSOR if _needs_regressor(cls) else ""
        for estimator in (e + suffix for e in ESTIMATORS):
            if _accepts(cls, estimator):
                out.append(pytest.param(cls, estimator, id=f"{name}-{estimator}"))
    return out


def make_strategy(cls, estimator, kind):
    params = cls().get_params()
    seed = {"random_state": 0} if "random_state" in params else {}
    return cls(estimator=fitted(estimator, kind), prefit=True, **seed)


_ARRAY_PICKS = {}


def array_picks(cls, estimator):
    """``(query, rank)`` of the strategy on the pool as a NumPy array."""
    if (cls, estimator) not in _ARRAY_PICKS:
        strategy = make_strategy(cls, estimator, "ndarray")
        strategy.fit(make_pool("ndarray", slice(0, N_LABELED)), Y[:N_LABELED])
        pool = make_pool("ndarray", slice(N_LABELED, None))
        _ARRAY_PICKS[cls, estimator] = strategy.query(pool, 5), strategy.rank(pool)
    return _ARRAY_PICKS[cls, estimator]


# -- the matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cls, estimator", _strategies())
def test_strategy(cls, estimator, kind):
    strategy = make_strategy(cls, estimator, kind)
    labeled = make_pool(kind, slice(0, N_LABELED))
    pool = make_pool(kind, slice(N_LABELED, None))
    before = snapshot(pool)
    refusal = strategy_refusal(strategy, kind, estimator)
    if refusal is not None:
        error, match = refusal
        with pytest.raises(error, match=match):
            strategy.fit(labeled, Y[:N_LABELED]).query(pool, 5)
        assert_untouched(pool, before)
        return
    strategy.fit(labeled, Y[:N_LABELED])
    picks, ranking = strategy.query(pool, 5), strategy.rank(pool)
    n_pool = N - N_LABELED
    assert picks.dtype.kind == "i" and len(set(picks.tolist())) == 5
    assert sorted(ranking.tolist()) == list(range(n_pool))
    np.testing.assert_array_equal(picks, ranking[:5])
    assert_untouched(pool, before)
    if kind in ("tensor", "TensorDataset", "dict"):  # the same numbers as the array
        expected_query, expected_rank = array_picks(cls, estimator)
        np.testing.assert_array_equal(picks, expected_query)
        np.testing.assert_array_equal(ranking, expected_rank)


def make_learner(estimator, kind, strategy=None):
    return ActiveLearner(
        make_estimator(estimator, kind), EntropySampling() if strategy is None else strategy,
        initial_size=6, batch_size=6, budget=18, random_state=0,
    )


def run_learner(estimator, kind, X):
    learner = make_learner(estimator, kind).fit(X, Y)
    assert learner.history_["n_labeled"].tolist() == [6, 12, 18]
    assert len(set(learner.labeled_indices_.tolist())) == 18
    y_known = np.where(learner.label_round_ >= 0, Y, -1)
    picks = learner.query(X, y_known, batch_size=4)
    assert np.all(y_known[picks] == -1) and len(set(picks.tolist())) == 4
    np.testing.assert_array_equal(learner.rank(X, y_known)[:4], picks)


def run_compare(estimator, kind, X):
    comparison = compare_strategies(
        make_learner(estimator, kind), ["random", "entropy"], X, Y, cv=2, random_state=0,
        error_score="raise",
    )
    assert isinstance(comparison, StrategyComparison)
    assert comparison.names == ["RandomSampling", "EntropySampling"]
    rows = comparison.summary()
    rows = rows.to_dict("records") if hasattr(rows, "to_dict") else rows
    assert [row["n_failed_trials"] for row in rows] == [0, 0]
    assert all(np.isfinite(row["final_score_mean"]) for row in rows)


def run_curve(estimator, kind, X):
    curves = active_learning_curve(make_learner(estimator, kind), X, Y, cv=2,
                                   random_state=0, error_score="raise")
    assert curves["test_scores"].shape == (2, 3)
    assert np.isfinite(curves["test_scores"]).all()
    assert [trial["error"] for trial in curves["trials"]] == [None, None]


def run_grid(estimator, kind, X):
    grid = GridSearchCV(
        make_learner(estimator, kind),
        {"strategy": [RandomSampling(), EntropySampling()]},
        cv=2, error_score="raise",
    ).fit(X, Y)
    scores = grid.cv_results_["mean_test_score"]
    assert scores.shape == (2,) and np.isfinite(scores).all()  # no failed fit for random


ENTRIES = {
    "ActiveLearner": run_learner,
    "compare_strategies": run_compare,
    "active_learning_curve": run_curve,
    "GridSearchCV": run_grid,
}


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("entry", list(ENTRIES))
def test_learner_entry_point(entry, kind, estimator):
    X = make_pool(kind)
    before = snapshot(X)
    refusal = learner_refusal(entry, kind, estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # e.g. a net's few epochs
        if refusal is None:
            ENTRIES[entry](estimator, kind, X)
        else:
            error, match = refusal
            with pytest.raises(error, match=match):
                ENTRIES[entry](estimator, kind, X)
    assert_untouched(X, before)


# -- the fixes the refusals name work -----------------------------------------------------------


def test_a_net_after_a_column_transformer_reads_a_text_frame():
    """The fix NET_TEXT_FRAME names: encode the text columns before the net."""
    frame = make_pool("frame")
    net = make_pipeline(
        make_column_transformer((OneHotEncoder(sparse_output=False), ["region"]),
                                remainder=StandardScaler()),
        FunctionTransformer(np.float32),
        make_skorch_classifier(5, 2, hidden_units=8, max_epochs=2),
    )
    picks = BADGE(net, random_state=0).fit(frame.iloc[:N_LABELED], Y[:N_LABELED]).query(
        frame.iloc[N_LABELED:], 5)
    assert len(set(picks.tolist())) == 5
    learner = ActiveLearner(net, BADGE(), initial_size=6, batch_size=6, budget=18,
                            random_state=0).fit(frame, Y)
    assert learner.history_["n_labeled"].tolist() == [6, 12, 18]


@pytest.mark.parametrize("kind", ["TensorDataset", "dict"])
def test_grid_search_over_a_dataset_or_a_dict_with_skorch_helpers(kind):
    """The fixes GRID_DATASET and GRID_DICT's documentation name."""
    from skorch.helper import SliceDataset, SliceDict

    X = SliceDataset(make_pool(kind)) if kind == "TensorDataset" else SliceDict(X=VALUES)
    grid = GridSearchCV(make_learner("skorch", kind),
                        {"strategy": [RandomSampling(), EntropySampling()]}, cv=2,
                        error_score="raise").fit(X, Y)
    expected = GridSearchCV(make_learner("skorch", kind),
                            {"strategy": [RandomSampling(), EntropySampling()]}, cv=2,
                            error_score="raise").fit(VALUES, Y)
    np.testing.assert_allclose(grid.cv_results_["mean_test_score"],
                               expected.cv_results_["mean_test_score"])


def test_glister_takes_a_validation_frame_with_text():
    """GLISTER's validation set is checked as its pool is: as given to the Pipeline."""
    frame, model = make_pool("frame"), fitted("pipeline", "frame")
    parts = [frame.iloc[:N_LABELED], frame.iloc[N_LABELED:24], frame.iloc[24:]]
    picks = GLISTER(model, prefit=True, random_state=0).fit(
        parts[0], Y[:N_LABELED], X_val=parts[1], y_val=Y[N_LABELED:24]).query(parts[2], 5)
    # the same with the columns encoded by hand, for the pipeline's last step
    encode, final = model[:-1].transform, model[-1]
    expected = GLISTER(final, prefit=True, random_state=0).fit(
        encode(parts[0]), Y[:N_LABELED], X_val=encode(parts[1]), y_val=Y[N_LABELED:24],
    ).query(encode(parts[2]), 5)
    np.testing.assert_array_equal(picks, expected)


# -- the issue's tabular notebook ---------------------------------------------------------------


@pytest.fixture(scope="module")
def cancer():
    """Breast cancer as a DataFrame, with one added text column, and its pipeline."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    numeric = list(X.columns)
    X["side"] = np.where(np.arange(len(X)) % 3 == 0, "north", "south")
    model = make_pipeline(
        make_column_transformer((StandardScaler(), numeric), (OneHotEncoder(), ["side"])),
        LogisticRegression(max_iter=500),
    )
    return X, y.to_numpy(), model


def test_the_issue_snippets_on_a_tabular_frame(cancer):
    X, y, model = cancer
    before = X.copy()
    fitted_model = clone(model).fit(X.iloc[:100], y[:100])
    for strategy in (RandomSampling(fitted_model, prefit=True, random_state=0),
                     RandomSampling(model, random_state=0).fit(X.iloc[:100], y[:100])):
        picks = strategy.query(X, 10)
        assert len(set(picks.tolist())) == 10 and picks.max() < len(X)
        # the priorities depend only on the pool size: the array's picks
        np.testing.assert_array_equal(
            picks, RandomSampling(prefit=True, random_state=0).query(np.zeros((len(X), 1)), 10))
    learner = ActiveLearner(model, EntropySampling(), batch_size=20, budget=60, random_state=0)
    comparison = compare_strategies(learner, ["random", "entropy"], X, y, cv=2, random_state=0,
                                    error_score="raise")
    rows = comparison.summary()
    rows = rows.to_dict("records") if hasattr(rows, "to_dict") else rows
    assert [row["n_failed_trials"] for row in rows] == [0, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no FitFailedWarning: random fits too
        grid = GridSearchCV(learner, {"strategy": [RandomSampling(), EntropySampling()]},
                            cv=2).fit(X, y)
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    pd.testing.assert_frame_equal(X, before)


# -- check_pool itself --------------------------------------------------------------------------


def test_check_pool_keeps_a_text_frame_that_nothing_reads():
    frame = make_pool("frame")
    assert check_pool(frame) is frame
    assert check_pool(frame, reader=fitted("pipeline", "frame")) is frame


def test_check_pool_never_returns_a_read_only_view_nor_writes():
    A = VALUES.copy()
    A.setflags(write=False)
    checked = check_pool(A)
    assert checked.flags.writeable and not A.flags.writeable
    np.testing.assert_array_equal(checked, A)
    frame = make_pool("frame")[NUMERIC[:2]]
    assert check_pool(frame).flags.writeable


@pytest.mark.parametrize("kind", KINDS)
def test_check_pool_one_empty_pool_message(kind):
    empty = make_pool(kind, slice(0, 0))
    with pytest.raises(ValueError, match=r"The pool X is empty \(0 samples\); pass at least "
                       "one sample to ActiveLearner"):
        check_pool(empty, owner=ActiveLearner(LogisticRegression()))


def test_check_pool_one_length_message():
    for X in (VALUES, make_pool("TensorDataset")):
        with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[48, 47\]\. "
                           "Pass one label per sample of X"):
            check_pool(X, Y[:-1], reader=fitted("skorch", "ndarray"))


@pytest.mark.parametrize("cls", [RandomSampling, EntropySampling, BADGE, CoreSet])
def test_named_strategies_are_in_the_matrix(cls):
    """The brief's four strategies are cells for both estimators."""
    ids = {p.id for p in _strategies()}
    assert {f"{cls.__name__}-pipeline", f"{cls.__name__}-skorch"} <= ids
