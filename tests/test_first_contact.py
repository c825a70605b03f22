"""What a new user meets in the first hour (issue 11): the issue's snippets as
written, and pools as users hold them in an ActiveLearner: raw DataFrames with
mixed columns for a Pipeline that preprocesses them, torch Datasets and tensors
for skorch nets."""

import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skorch import NeuralNetClassifier
from torch import nn

from skal import BADGE, ActiveLearner, EntropySampling, MarginSampling
from skal.learner import TrainSplitWarning
from skal.toy import make_skorch_classifier

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def digits_scaled():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32)[:600], y[:600]


class MLP(nn.Module):
    """The kind of module a user writes: sizes fixed in the defaults."""

    def __init__(self, n_features=64, n_hidden=32, n_classes=10):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(n_features, n_hidden), nn.ReLU())
        self.out = nn.Linear(n_hidden, n_classes)

    def forward(self, X):
        return self.out(self.hidden(X))


# -- the snippets, as written ---------------------------------------------------------


def test_a_plain_skorch_net_works_out_of_the_box(digits_scaled):
    X, y = digits_scaled
    with pytest.warns(TrainSplitWarning, match=r"cannot split the 10 labeled samples"):
        learner = ActiveLearner(
            NeuralNetClassifier(MLP, max_epochs=3, lr=0.1, criterion=nn.CrossEntropyLoss,
                                verbose=0),
            BADGE(),
        ).fit(X, y)
    assert learner.n_rounds_ == 10
    assert len(np.unique(learner.labeled_indices_)) == 110


def test_the_default_learner_runs_ten_rounds_with_one_convergence_warning():
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        learner = ActiveLearner(LogisticRegression()).fit(X, y)
    assert learner.n_rounds_ == 10 and learner.history_["n_labeled"][-1] == 110
    assert len([w for w in record if issubclass(w.category, ConvergenceWarning)]) <= 1


# -- a raw DataFrame with mixed columns, preprocessed by the estimator's Pipeline --------------


@pytest.fixture(scope="module")
def frame():
    rng = np.random.RandomState(0)
    n = 120
    df = pd.DataFrame({
        "region": rng.choice(["north", "south", "east"], n),
        "size": rng.randn(n),
        "age": rng.rand(n) * 50,
    })
    y = ((df["size"] + (df["region"] == "south") * 1.5 + rng.randn(n) * 0.3) > 0.5)
    return df, y.astype(int).to_numpy()


def tabular_pipeline():
    return make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["region"]),
                                remainder=StandardScaler()),
        LogisticRegression(),
    )


def _entropy_order(proba):
    scores = [-sum(p * math.log(p) for p in row if p > 0) for row in proba]
    return sorted(range(len(scores)), key=lambda j: (-scores[j], j))


@pytest.mark.parametrize("strategy", [EntropySampling(), MarginSampling()], ids=repr)
def test_mixed_column_frame_in_a_pipeline_simulation(strategy, frame):
    df, y = frame
    before = df.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X has feature names" or conversion warnings
        learner = ActiveLearner(tabular_pipeline(), strategy, batch_size=10, budget=40,
                                random_state=0).fit(df, y)
        assert learner.history_["n_labeled"].tolist() == [10, 20, 30, 40]
        assert learner.predict(df.iloc[:5]).shape == (5,)
        assert 0 <= learner.score(df, y) <= 1
        assert len(set(learner.query(df, batch_size=7).tolist())) == 7
    pd.testing.assert_frame_equal(df, before)
    assert list(learner.feature_names_in_) == ["region", "size", "age"]


def test_mixed_column_frame_round_one_matches_a_hand_replay(frame):
    df, y = frame
    learner = ActiveLearner(tabular_pipeline(), EntropySampling(), batch_size=10, budget=20,
                            random_state=0).fit(df, y)
    initial = learner.labeled_indices_[:10]
    pipe = tabular_pipeline().fit(df.iloc[initial], y[initial])
    pool = np.setdiff1d(np.arange(len(df)), initial)
    expected = pool[_entropy_order(pipe.predict_proba(df.iloc[pool]))[:10]]
    np.testing.assert_array_equal(learner.labeled_indices_[10:], expected)


def test_mixed_column_frame_real_labeling(frame):
    df, y = frame
    y_known = np.where(np.arange(len(y)) < 20, y, -1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learner = ActiveLearner(tabular_pipeline(), EntropySampling()).fit(df, y_known)
        picks = learner.query(df, y_known, batch_size=5)
        ranking = learner.rank(df, y_known)
    assert np.all(y_known[picks] == -1)
    np.testing.assert_array_equal(ranking[:5], picks)
    assert sorted(ranking.tolist()) == list(range(20, len(y)))
    # by hand: the pipeline fitted on the labeled rows, entropy over the unlabeled
    pipe = tabular_pipeline().fit(df.iloc[:20], y[:20])
    expected = 20 + np.array(_entropy_order(pipe.predict_proba(df.iloc[20:])))
    np.testing.assert_array_equal(ranking, expected)


def test_a_numeric_frame_gives_the_array_picks(frame):
    df, y = frame
    numeric = df[["size", "age"]]
    make = lambda: ActiveLearner(LogisticRegression(), EntropySampling(), budget=40,  # noqa
                                 random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from_frame = make().fit(numeric, y)
        picks = from_frame.query(numeric, batch_size=5)
    from_array = make().fit(numeric.to_numpy(), y)
    np.testing.assert_array_equal(from_frame.labeled_indices_, from_array.labeled_indices_)
    np.testing.assert_array_equal(picks, from_array.query(numeric.to_numpy(), batch_size=5))


def test_a_read_only_pool_gives_no_torch_warning(digits_scaled):
    X, y = digits_scaled
    X = X.copy()
    X.setflags(write=False)  # as pandas' copy-on-write or a joblib memmap hands it over
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learner = ActiveLearner(make_skorch_classifier(64, 10, max_epochs=2), BADGE(),
                                budget=30, random_state=0).fit(X, y)
        learner.query(X, batch_size=3)


# -- torch pools for a skorch net ---------------------------------------------------------------


def test_a_tensor_and_a_dataset_give_the_array_picks(digits_scaled):
    from torch.utils.data import TensorDataset

    X, y = digits_scaled
    X, y = X[:300], y[:300]
    y_known = np.where(np.arange(len(y)) < 40, y, -1)

    def run(pool):
        learner = ActiveLearner(make_skorch_classifier(64, 10, max_epochs=3), BADGE(),
                                random_state=0).fit(pool, y_known)
        return learner.query(pool, y_known, batch_size=8), learner.rank(pool, y_known)

    picks, ranking = run(X)
    # a Dataset's own targets are ignored: y_known says what is labeled
    placeholder = torch.zeros(len(X), dtype=torch.long)
    for pool in (torch.from_numpy(X), TensorDataset(torch.from_numpy(X), placeholder)):
        other_picks, other_ranking = run(pool)
        np.testing.assert_array_equal(other_picks, picks)
        np.testing.assert_array_equal(other_ranking, ranking)
