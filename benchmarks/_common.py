"""Shared helpers for the benchmarks: MNIST from disk, a trained MLP, timing, JSON lines.

The MNIST files are read from ``$SKAL_DATA/MNIST/raw`` (torchvision's layout:
``train-images-idx3-ubyte[.gz]`` etc.). Nothing is downloaded.
"""

import json
import os
import platform
import resource
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def data_home():
    home = os.environ.get("SKAL_DATA")
    if not home:
        raise SystemExit(
            "Set SKAL_DATA to the folder holding MNIST/raw/train-images-idx3-ubyte.gz "
            "(e.g. SKAL_DATA=../shared/data python benchmarks/<script>.py)."
        )
    return Path(home)


def load_mnist(train=True):
    """(X float32 in [0, 1] of shape (n, 784), y int64) from $SKAL_DATA/MNIST/raw."""
    from skal.datasets import load_mnist as load

    X, y = load(data_home=data_home(), train=train)
    return (X.reshape(len(X), -1) / 255.0).astype(np.float32), y


def trained_mlp(X, y, hidden=256, epochs=10, seed=0, dropout=0.0):
    """A skorch 784-hidden-10 MLP trained on (X, y): an early active-learning model.

    ``dropout`` is the dropout probability after the hidden layer (BALD and
    BatchBALD need one).
    """
    import torch

    from skal.toy import make_skorch_classifier

    torch.set_num_threads(os.cpu_count() or 1)
    net = make_skorch_classifier(
        X.shape[1], 10, hidden_units=hidden, max_epochs=epochs, lr=0.001,
        optimizer=torch.optim.Adam, batch_size=128, seed=seed, module__dropout=dropout,
    )
    return net.fit(X, y)


def emit(**record):
    """Print one JSON line (machine-readable result)."""
    record.setdefault("machine", f"{platform.machine()} {os.cpu_count()} cores")
    print(json.dumps(record), flush=True)


def timed(fn, *args, **kwargs):
    tic = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - tic


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@contextmanager
def revision_tree(revision):
    """A temporary git worktree of this checkout at ``revision`` (its path), removed after."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", str(tree),
                        revision], check=True, capture_output=True)
        try:
            yield tree
        finally:
            subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force",
                            str(tree)], capture_output=True)
