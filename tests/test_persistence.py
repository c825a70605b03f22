"""A lazy ranking saved at night continues the next morning, in another process,
with exactly the picks the uninterrupted ranking makes."""

import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits

from skal import BADGE, CoreSet, EntropySampling, ProxyPrefilter
from skal.toy import make_skorch_classifier

STRATEGIES = {
    "BADGE": lambda net: BADGE(net, prefit=True, random_state=0),
    "CoreSet": lambda net: CoreSet(net, prefit=True, random_state=0),
    "EntropySampling": lambda net: EntropySampling(net, prefit=True),
    "ProxyPrefilter(BADGE)": lambda net: ProxyPrefilter(
        BADGE(random_state=0), estimator=net, prefit=True, n_candidates=300
    ),
}

CONTINUE = textwrap.dedent(
    """
    import sys
    import joblib
    import numpy as np
    ranking = joblib.load(sys.argv[1])
    new = np.load(sys.argv[2])
    picks = [ranking.take(25), ranking.add(new), ranking.take(40)]
    np.save(sys.argv[3], np.concatenate(picks))
    joblib.dump(ranking, sys.argv[1])
    """
)


@pytest.fixture(scope="module")
def setup():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    net = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=3).fit(X[:200], y[:200])
    return net, X[200:1000], X[1000:1200]


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_saved_ranking_continues_in_a_fresh_process(name, setup, tmp_path):
    net, pool, new = setup
    uninterrupted = STRATEGIES[name](net).lazy_rank(pool)
    expected = [uninterrupted.take(15), uninterrupted.take(25),
                uninterrupted.add(new), uninterrupted.take(40), uninterrupted.take(30)]

    today = STRATEGIES[name](net).lazy_rank(pool)
    np.testing.assert_array_equal(today.take(15), expected[0])
    state, new_file, out = tmp_path / "ranking.joblib", tmp_path / "new.npy", tmp_path / "o.npy"
    joblib.dump(today, state)
    np.save(new_file, new)
    del today
    # the next day, twice: a fresh interpreter each time, saving again in between
    subprocess.run([sys.executable, "-c", CONTINUE, state, new_file, out], check=True)
    np.testing.assert_array_equal(
        np.load(out), np.concatenate(expected[1:4]), err_msg=name
    )
    resumed = joblib.load(state)
    np.testing.assert_array_equal(resumed.take(30), expected[4])


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_saved_ranking_holds_per_sample_state_not_the_pool(name, tmp_path):
    """Size per sample: factors or scores (a few floats), not the 2,000 pool floats."""
    rng = np.random.RandomState(0)
    X = rng.rand(400, 2000).astype(np.float32)
    y = rng.randint(0, 3, 100)
    net = make_skorch_classifier(2000, 3, hidden_units=8, max_epochs=1).fit(X[:100], y)
    sizes = []
    for n in (1000, 2000):
        ranking = STRATEGIES[name](net).lazy_rank(rng.rand(n, 2000).astype(np.float32))
        ranking.take(5)
        joblib.dump(ranking, tmp_path / "r.joblib")
        sizes.append((tmp_path / "r.joblib").stat().st_size)
    per_sample = (sizes[1] - sizes[0]) / 1000
    assert per_sample < 200, per_sample  # a pool row alone is 8,000 bytes
