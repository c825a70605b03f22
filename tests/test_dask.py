"""Forward passes over chunks of the pool, and PartitionedStrategy's parts, as
joblib tasks: on a Dask cluster the picks equal the single-process ones."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

import skal
from skal import BADGE, EntropySampling, PartitionedStrategy
from skal.toy import make_skorch_classifier

joblib = pytest.importorskip("joblib")
distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    net = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=3).fit(X[:200], y[:200])
    return net, X[200:1000]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _strategies(net):
    return {
        "entropy": EntropySampling(net, prefit=True),
        "badge": BADGE(net, prefit=True, random_state=0),
        "partitioned badge": PartitionedStrategy(
            BADGE(), estimator=net, prefit=True, n_partitions=4, random_state=0
        ),
    }


def _picks(strategies, pool):
    out = {}
    for name, strategy in strategies.items():
        lazy = strategy.lazy_rank(pool[:500])
        out[name] = (
            strategy.query(pool, 50),
            strategy.rank(pool),
            np.concatenate([lazy.take(20), lazy.add(pool[500:]), lazy.take(40)]),
        )
    return out


def _assert_same(got, expected):
    assert got.keys() == expected.keys()
    for name in expected:
        for a, b in zip(got[name], expected[name]):
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_dask_cluster_gives_the_serial_picks(client, data):
    net, pool = data
    expected = _picks(_strategies(net), pool)
    with distributed.get_task_stream(client) as stream:
        with joblib.parallel_config(backend="dask"), skal.config_context(
            pool_chunk_size=150
        ):
            got = _picks(_strategies(net), pool)
    _assert_same(got, expected)
    # the chunks and parts ran as tasks on both worker processes of the cluster
    workers = {task["worker"] for task in stream.data}
    assert len(stream.data) >= 10 and len(workers) == 2


def test_chunks_really_run_as_joblib_tasks(data, monkeypatch):
    """Chunk sizes are whole net batches, and each chunk is one task."""
    from skal.embeddings import _passes

    net, pool = data
    sizes = []
    original = _passes._chunk_task

    def spy(function, estimator, X, args):
        sizes.append(len(X))
        return original(function, estimator, X, args)

    monkeypatch.setattr(_passes, "_chunk_task", spy)
    expected = BADGE(net, prefit=True, random_state=0).query(pool, 30)
    with skal.config_context(pool_chunk_size=150):  # net batch_size 64 -> 192
        got = BADGE(net, prefit=True, random_state=0).query(pool, 30)
    np.testing.assert_array_equal(got, expected)
    assert sizes == [192, 192, 192, 192, 32]


def test_loky_processes_give_the_serial_picks(data):
    net, pool = data
    expected = _picks(_strategies(net), pool)
    with joblib.parallel_config(backend="loky", n_jobs=2), skal.config_context(
        pool_chunk_size=200
    ):
        got = _picks(_strategies(net), pool)
    _assert_same(got, expected)


def test_partitions_are_joblib_tasks(data):
    net, pool = data
    strategy = PartitionedStrategy(BADGE(), estimator=net, prefit=True, n_partitions=3,
                                   random_state=0)
    expected = strategy.rank(pool)
    np.testing.assert_array_equal(strategy.set_params(n_jobs=2).rank(pool), expected)


def test_pool_chunk_size_is_validated():
    with pytest.raises(ValueError, match="pool_chunk_size=0 must be a positive integer"):
        skal.set_config(pool_chunk_size=0)
    assert skal.get_config()["pool_chunk_size"] is None
