"""skal's global configuration: how passes over a large pool are split, and how
many threads each fit uses.

Like :func:`sklearn.config_context`, the settings are thread-local and set for
a ``with`` block or for the session.
"""

import threading
from contextlib import contextmanager
from numbers import Integral

from .utils._random import check_n_threads

__all__ = ["get_config", "set_config", "config_context"]

_DEFAULTS = {"pool_chunk_size": None, "n_threads": 1}


class _Unchanged:
    """The default of the setters' parameters: keep the current value."""

    def __repr__(self):
        return "'unchanged'"


_UNCHANGED = _Unchanged()
_local = threading.local()


def _config():
    if not hasattr(_local, "config"):
        _local.config = dict(_DEFAULTS)
    return _local.config


def get_config():
    """The current values of skal's configuration.

    The values are those of the calling thread: set by :func:`set_config` or
    within a :func:`config_context` block, the defaults otherwise.

    Returns
    -------
    config : dict
        Keys are the parameter names of :func:`set_config`.

    See Also
    --------
    set_config : Set the configuration for this thread.
    config_context : Set the configuration within a ``with`` block.

    Examples
    --------
    >>> import skal
    >>> skal.get_config()["pool_chunk_size"] is None
    True
    >>> skal.get_config()["n_threads"]
    1
    """
    return dict(_config())


def set_config(pool_chunk_size=_UNCHANGED, n_threads=_UNCHANGED):
    """Set skal's configuration for this thread.

    The setting lasts until it is set again; other threads keep their own.
    Use :func:`config_context` to change it for a block of code only.

    Parameters
    ----------
    pool_chunk_size : int or None, default='unchanged'
        Split every forward pass of a skorch net over a pool (probabilities,
        penultimate embeddings, BADGE's gradient factors) into chunks of this
        many samples, each run as a joblib task through
        :class:`sklearn.utils.parallel.Parallel`. The tasks run wherever
        :func:`joblib.parallel_config` says: ``n_jobs`` processes on this
        machine, or the workers of a Dask cluster with
        ``joblib.parallel_config(backend="dask")``. For a skorch net the size
        is rounded up to a multiple of the net's ``batch_size``, so every
        chunk is made of the very batches of a single pass and the picks are
        identical to a single-process run. ``None`` (the default) runs each
        pass in one piece in this process. Passes of scikit-learn models are
        never split (they compute the whole array at once, and BLAS may round
        a smaller block differently).

        What a task carries: the fitted net, and its chunk of the pool (rows
        of an array, or a ``Subset`` of a Dataset, which pickles the whole
        Dataset object: cheap for one that reads files, such as
        ``ImageFolder``). What comes back: the chunk's probabilities and
        embeddings (for BADGE, its ``(H + 1) + C`` factors per sample).
    n_threads : int or None, default='unchanged'
        The torch and BLAS (OpenMP) threads of every
        :meth:`ActiveLearner.fit <skal.ActiveLearner.fit>`: its rounds'
        training, queries and scores run with this many threads, and the
        counts in force before are restored after. The trials of
        :func:`~skal.model_selection.compare_strategies` and
        :func:`~skal.model_selection.active_learning_curve` run with the value
        set where they are called, in every worker process or Dask worker.
        Summing in another order rounds differently, so a fixed count is what
        makes a seeded fit give the same history whatever ``n_jobs``, the
        joblib backend or the machine's number of cores. The default
        configuration is ``1``. ``None`` leaves each process's own counts (on
        many cores, faster training of a large net on the CPU, with results
        that depend on the core count and ``n_jobs``). The cost of ``1`` is in
        ``docs/benchmarks.md``.

    See Also
    --------
    config_context : Set the configuration within a ``with`` block.
    get_config : The current values.

    Examples
    --------
    >>> import skal
    >>> skal.set_config(pool_chunk_size=10_000)
    >>> skal.get_config()["pool_chunk_size"]
    10000
    >>> skal.set_config(pool_chunk_size=None)
    """
    if pool_chunk_size is not _UNCHANGED:
        if pool_chunk_size is not None and (
            not isinstance(pool_chunk_size, Integral) or pool_chunk_size < 1
        ):
            raise ValueError(
                f"pool_chunk_size={pool_chunk_size!r} must be a positive integer or None."
            )
        _config()["pool_chunk_size"] = pool_chunk_size
    if n_threads is not _UNCHANGED:
        _config()["n_threads"] = check_n_threads(n_threads)


@contextmanager
def config_context(*, pool_chunk_size=_UNCHANGED, n_threads=_UNCHANGED):
    """Set skal's configuration within a ``with`` block.

    The previous configuration is restored when the block exits, even on an
    error, as with :func:`sklearn.config_context`.

    Parameters
    ----------
    pool_chunk_size : int or None, default='unchanged'
        See :func:`set_config`.
    n_threads : int or None, default='unchanged'
        See :func:`set_config`.

    Yields
    ------
    None.

    See Also
    --------
    set_config : Set the configuration for this thread, until set again.
    get_config : The current values.

    Examples
    --------
    >>> import joblib
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> import skal
    >>> from skal.toy import make_skorch_classifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = (X / 16).astype(np.float32)
    >>> net = make_skorch_classifier(64, 10, max_epochs=5).fit(X[:200], y[:200])
    >>> entropy = skal.EntropySampling(net, prefit=True)
    >>> with joblib.parallel_config(n_jobs=2), skal.config_context(pool_chunk_size=500):
    ...     picks = entropy.query(X[200:], batch_size=10)
    >>> bool(np.all(picks == entropy.query(X[200:], batch_size=10)))
    True
    """
    old = get_config()
    set_config(pool_chunk_size=pool_chunk_size, n_threads=n_threads)
    try:
        yield
    finally:
        set_config(**old)
