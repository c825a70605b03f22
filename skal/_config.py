"""skal's global configuration: how passes over a large pool are split.

Like :func:`sklearn.config_context`, the settings are thread-local and set for
a ``with`` block or for the session.
"""

import threading
from contextlib import contextmanager
from numbers import Integral

__all__ = ["get_config", "set_config", "config_context"]

_DEFAULTS = {"pool_chunk_size": None}
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
    """
    return dict(_config())


def set_config(pool_chunk_size=None):
    """Set skal's configuration for this thread.

    The setting lasts until it is set again; other threads keep their own.
    Use :func:`config_context` to change it for a block of code only.

    Parameters
    ----------
    pool_chunk_size : int, default=None
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
    if pool_chunk_size is not None and (
        not isinstance(pool_chunk_size, Integral) or pool_chunk_size < 1
    ):
        raise ValueError(
            f"pool_chunk_size={pool_chunk_size!r} must be a positive integer or None."
        )
    _config()["pool_chunk_size"] = pool_chunk_size


@contextmanager
def config_context(*, pool_chunk_size=None):
    """Set skal's configuration within a ``with`` block.

    The previous configuration is restored when the block exits, even on an
    error, as with :func:`sklearn.config_context`.

    Parameters
    ----------
    pool_chunk_size : int, default=None
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
    set_config(pool_chunk_size=pool_chunk_size)
    try:
        yield
    finally:
        set_config(**old)
