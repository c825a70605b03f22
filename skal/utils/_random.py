"""Seeds and thread counts: the one home of skal's reproducibility mechanics.

- ``MAX_SEED``: the seeds skal draws for sub-estimators, inner strategies,
  folds and trials are ``rng.randint(MAX_SEED)``; ``MAX_RANDOM_STATE`` is the
  largest int ``check_random_state`` accepts (command-line validation).
- :func:`seed_if_unset`: give a sub-estimator a drawn seed where its own
  ``random_state`` is None, so that a seeded meta-estimator is reproducible
  end to end without overriding what the user set.
- :func:`torch_entropy` and :func:`derived_seed`: torch seeds derived from a
  ``random_state`` without drawing from it, so seeding torch changes no pick.
- :func:`fixed_threads`: torch and BLAS thread counts fixed for a block (each
  ActiveLearner fit, each trial), so that results do not depend on ``n_jobs``,
  the joblib backend or the machine's core count.
"""

import threading
from contextlib import contextmanager
from numbers import Integral

import numpy as np

__all__ = [
    "MAX_RANDOM_STATE",
    "MAX_SEED",
    "STOPPING_KEY",
    "TORCH_RNG_LOCK",
    "check_n_threads",
    "derived_seed",
    "draw_seed",
    "fixed_threads",
    "seed_if_unset",
    "torch_entropy",
]

MAX_SEED = np.iinfo(np.int32).max  # 2**31 - 1
MAX_RANDOM_STATE = 2**32 - 1
# the spawn key of the stopping criteria's seed; the rounds use their number
STOPPING_KEY = MAX_SEED


def draw_seed(rng, size=None):
    """A seed (or an array of ``size`` seeds) drawn from ``rng``."""
    if size is None:
        return int(rng.randint(MAX_SEED))
    return rng.randint(MAX_SEED, size=size)


def seed_if_unset(obj, seed, *, deep=False, params=None):
    """Set ``random_state=seed`` on ``obj`` where it is None; return ``obj``.

    With ``deep=True``, every nested ``*random_state`` parameter that is None
    (e.g. ``estimator__random_state`` of a ``Pipeline``'s steps) gets it too.
    ``seed`` may be a callable, called once per parameter set (a fresh draw),
    so nothing is drawn where nothing is unset. ``params`` are the parameters
    that say what is unset (by default ``obj``'s own): the user's strategy,
    when ``obj`` is a copy that an earlier use has seeded.
    """
    if seed is None:
        return obj
    if params is None:
        params = obj.get_params(deep=deep)
    names = [name for name, value in params.items() if value is None and (
        name == "random_state" or (deep and name.endswith("__random_state")))]
    if names:
        obj.set_params(**{name: int(seed() if callable(seed) else seed) for name in names})
    return obj


def torch_entropy(random_state):
    """What the torch seeds of a fit derive from, drawn from no generator.

    An int gives itself; a ``RandomState`` gives its current state, read without
    advancing it (so the learner's picks do not change); ``None`` gives None
    (torch is not seeded).
    """
    if random_state is None:
        return None
    if isinstance(random_state, Integral):
        return [int(random_state)]
    _, key, pos, *_ = random_state.get_state()
    return [int(v) for v in key] + [int(pos)]


def derived_seed(entropy, key):
    """The seed number ``key`` of ``entropy`` (None if ``entropy`` is None)."""
    if entropy is None:
        return None
    return int(np.random.SeedSequence(entropy, spawn_key=(key,)).generate_state(1)[0])


# torch's global generators are per process: a fit seeded through them holds this
# lock, so fits side by side in threads of one process (a Dask worker's) do not
# draw from each other's seeded stream
TORCH_RNG_LOCK = threading.RLock()

# torch's and the BLAS libraries' thread counts are per process: blocks that
# fix them share one setting (threads of a Dask worker run trials side by side)
_threads_lock = threading.Lock()
_threads = {"depth": 0, "n": None, "torch": None, "limiter": None}


def check_n_threads(n_threads):
    """``n_threads`` validated: a positive int or None."""
    if n_threads is not None and (
        isinstance(n_threads, bool) or not isinstance(n_threads, Integral) or n_threads < 1
    ):
        raise ValueError(
            f"n_threads={n_threads!r} must be a positive integer (the torch and BLAS "
            "threads of each fit), or None to leave the process's thread counts as "
            "they are."
        )
    return n_threads


@contextmanager
def fixed_threads(n_threads):
    """Run the block with ``n_threads`` torch and BLAS / OpenMP threads.

    The counts in force before are restored when the outermost block exits.
    Blocks may nest and run side by side in threads of one process if they
    ask for the same count; ``None`` changes nothing.
    """
    check_n_threads(n_threads)
    if n_threads is None:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    with _threads_lock:
        if _threads["depth"] == 0:
            before = torch.get_num_threads()  # before threadpoolctl sets OpenMP's
            limiter = threadpool_limits(limits=int(n_threads))
            _threads.update(n=int(n_threads), torch=before, limiter=limiter)
            torch.set_num_threads(int(n_threads))
        elif _threads["n"] != n_threads:
            raise RuntimeError(
                f"n_threads={n_threads} was asked for while another block of this process "
                f"runs with n_threads={_threads['n']}; thread counts are per process. "
                "Use one skal.config_context(n_threads=...) for runs that share a process."
            )
        else:
            # OpenMP's count is per calling thread (a second Dask thread has its own);
            # the BLAS libraries' are already set. The last block out restores the
            # counts of the first block's thread; this thread's OpenMP count stays.
            torch.set_num_threads(int(n_threads))
        _threads["depth"] += 1
    try:
        yield
    finally:
        with _threads_lock:
            _threads["depth"] -= 1
            if _threads["depth"] == 0:
                _threads["limiter"].restore_original_limits()
                torch.set_num_threads(_threads["torch"])
                _threads.update(n=None, torch=None, limiter=None)
