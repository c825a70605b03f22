"""The files of ``python -m skal rank`` and ``labels``: pools, models, states, writers.

A pool file is read as skal takes it (``load_pool``). The ranking state
(``new_state``, ``load_state``, ``save_state``) holds the lazy ranking and what
the next rounds need: where the pool's files are (never the pool), which
positions were exported, the labels given so far and the options of the first
run. The writers turn ranked positions into CSV, JSON lines or Label Studio
tasks, with image links URL-encoded relative to a root.
"""

import json
import os
import secrets
from pathlib import Path
from urllib.parse import quote

import numpy as np

from ._common import UserError, from_library

STATE_VERSION = 2
FORMATS = ("csv", "jsonl", "label-studio")
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".json": "label-studio"}


# -- pools -----------------------------------------------------------------------


def load_pool(path, *, key=None, transform="tensor"):
    """``(pool, paths)``: the pool as skal takes it, and each sample's file (or None).

    Paths are absolute. ``transform`` is the text of ``--transform`` (image folders).
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"pool {str(path)!r} does not exist.")
    if path.is_dir():
        from ..datasets import ImageFiles, image_transform

        try:
            steps = image_transform(transform)
        except ValueError as exc:
            raise UserError(f"--transform: {exc}") from None
        subfolders = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
        if subfolders:
            from torchvision.datasets import ImageFolder

            try:
                pool = ImageFolder(str(path), transform=steps)
            except FileNotFoundError as exc:
                raise UserError(f"pool folder {str(path)!r}: {exc}") from None
            return pool, [os.path.abspath(p) for p, _ in pool.samples]
        pool = ImageFiles(path, transform=steps)
        if not len(pool):
            raise UserError(f"pool folder {str(path)!r} holds no image files.")
        return pool, [os.path.abspath(p) for p in pool.paths]
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return np.load(path, mmap_mode="c"), None
    if suffix == ".npz":
        with np.load(path) as arrays:
            names = list(arrays.files)
            if key is not None:
                if key not in names:
                    raise UserError(
                        f"{str(path)!r} has no array {key!r}; it holds: {', '.join(names)}."
                    )
                return arrays[key], None
            if len(names) != 1:
                raise UserError(
                    f"{str(path)!r} holds {len(names)} arrays ({', '.join(names)}); name "
                    "the pool with --key."
                )
            return arrays[names[0]], None
    if suffix == ".csv":
        try:
            import pandas as pd
        except ImportError:
            return _read_csv_numpy(path), None
        return pd.read_csv(path), None
    if suffix == ".parquet":
        for package in ("pandas", "pyarrow"):
            try:
                __import__(package)
            except ImportError:
                raise UserError(
                    f"reading {str(path)!r} needs {package}: pip install {package}"
                ) from None
        import pandas as pd

        return pd.read_parquet(path), None
    raise UserError(
        f"pool {str(path)!r}: unknown kind {suffix or '(no extension)'!r}. Pass a .npy, "
        ".npz, .csv or .parquet file, or a folder of images."
    )


def _read_csv_numpy(path):
    """A numeric CSV as a float array; a header line (not numbers) is skipped."""
    with open(path) as f:
        first = f.readline()
    try:
        [float(v) for v in first.strip().split(",")]
        skip = 0
    except ValueError:
        skip = 1
    return np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2)


def concat_pools(parts):
    """One pool from pools of one kind (arrays, DataFrames or Datasets), in order."""
    from ..utils._data import pool_kind

    parts = [p for p in parts]
    if len(parts) == 1:
        return parts[0]
    kinds = {pool_kind(p) for p in parts}
    if kinds <= {"array", "array-like"}:
        return np.concatenate([np.asarray(p) for p in parts])
    if kinds == {"frame"}:
        import pandas as pd

        return pd.concat(parts, ignore_index=True)
    if kinds == {"dataset"}:
        import torch

        return torch.utils.data.ConcatDataset(parts)
    if kinds == {"sparse"}:
        import scipy.sparse as sp

        return sp.vstack(parts, format="csr")
    raise UserError(
        f"the pool's files are of different kinds ({', '.join(sorted(kinds))}): the rows "
        "cannot be joined. Add samples of the pool's own kind."
    )


def source_rows(state, positions):
    """The pool rows at ``positions``, read again from the state's pool files."""
    from ..utils._data import take

    positions = np.asarray(positions, dtype=np.intp)
    options = state["options"]
    if state.get("sources") is None:
        raise UserError(
            "this state file does not record where the pool's files are (it was written "
            "by an older skal); start a new ranking with MODEL POOL --state FILE."
        )
    parts = []
    order = np.empty(len(positions), dtype=np.intp)
    done = 0
    for source in state["sources"]:
        start, n = source["start"], source["n"]
        inside = np.flatnonzero((positions >= start) & (positions < start + n))
        if not len(inside):
            continue
        if not Path(source["path"]).exists():
            raise UserError(
                f"the pool file {source['path']!r} of this ranking is gone; the next round "
                "reads the pool again from where it was."
            )
        pool, _ = load_pool(source["path"], key=source.get("key"),
                            transform=options.get("transform") or "tensor")
        parts.append(take(pool, positions[inside] - start))
        order[inside] = np.arange(done, done + len(inside))
        done += len(inside)
    joined = concat_pools(parts)
    if np.array_equal(order, np.arange(len(positions))):
        return joined
    return take(joined, np.argsort(order, kind="stable"))


# -- model and strategy ------------------------------------------------------------


def load_model(path):
    """A fitted estimator from a joblib or pickle file."""
    import joblib

    if not Path(path).is_file():
        raise UserError(f"model {str(path)!r} does not exist.")
    try:
        model = joblib.load(path)
    except (AttributeError, ModuleNotFoundError) as exc:
        raise UserError(
            f"cannot read a model from {str(path)!r} ({type(exc).__name__}: {exc}). The "
            "model's class must be importable here: define it in a module rather than in "
            "the script that saved the model, and pass --import MODULE (a module on the "
            "Python path, e.g. the one defining your net)."
        ) from None
    except Exception as exc:  # any other unpickling failure: what and where, in one line
        raise UserError(
            f"cannot read a model from {str(path)!r} ({type(exc).__name__}: {exc}). Save a "
            "fitted estimator with joblib.dump(model, path) or pickle."
        ) from None
    if not (hasattr(model, "predict_proba") or hasattr(model, "predict")):
        raise UserError(
            f"{str(path)!r} holds a {type(model).__name__}, not a fitted estimator (it has "
            "neither predict_proba nor predict)."
        )
    return model


def make_strategy(name, model, random_state):
    """The strategy named ``name`` around the fitted ``model`` (``prefit=True``)."""
    from ..strategies import resolve_strategy

    with from_library():
        strategy = resolve_strategy(name)
    params = strategy.get_params(deep=False)
    update = {"estimator": model, "prefit": True}
    if "random_state" in params:
        update["random_state"] = random_state
    elif random_state is not None:
        raise UserError(
            f"--random-state: {type(strategy).__name__} is deterministic and takes no seed."
        )
    return strategy.set_params(**{k: v for k, v in update.items() if k in params})


def ranking_scores(state, indices):
    """Scores of ranking ``indices`` where the strategy ranks by a score; else None."""
    from ..selection import ScoreRanking
    from ..strategies import RandomSampling

    if state.get("scores") is not None:  # a version-1 state
        return np.asarray(state["scores"])[positions_of(state, indices)]
    if isinstance(state["strategy"], RandomSampling):
        return None  # a random key orders it: not a score worth a column
    inner = getattr(state["ranking"], "_ranking", None)
    if isinstance(inner, ScoreRanking):
        return inner.scores[np.asarray(indices, dtype=np.intp)]
    return None


# -- the state -----------------------------------------------------------------------


def new_state(ranking, strategy, n_samples, paths, source, options):
    """A version-2 state for a ranking just made over a pool of ``n_samples``."""
    classes = getattr(getattr(strategy, "estimator", None), "classes_", None)
    return {
        "skal_rank_state": STATE_VERSION,
        "ranking": ranking,
        "strategy": strategy,
        "positions": None,
        "n_samples": int(n_samples),
        "exported": np.empty(0, dtype=np.intp),
        "labels": {},
        "ranking_id": secrets.token_hex(4),
        "round": 1,
        "sources": [source],
        "paths": paths,
        "images": {},
        "train": None,
        "options": options,
        # the first model's classes: labels are checked against them in every round, and
        # a refit on labels of fewer classes keeps them (skorch nets: ``classes=``)
        "classes": None if classes is None else np.asarray(classes).tolist(),
    }


def load_state(path):
    """The state saved in ``path``; a version-1 state or a bare lazy ranking is upgraded."""
    import joblib

    if not Path(path).is_file():
        raise UserError(
            f"--resume {str(path)!r}: no such state file. Start a ranking with "
            "MODEL POOL --state FILE first."
        )
    try:
        state = joblib.load(path)
    except Exception as exc:  # any unpickling failure: what and where, in one line
        raise UserError(
            f"cannot read the state file {str(path)!r} ({type(exc).__name__}: {exc})."
        ) from None
    if isinstance(state, dict) and state.get("skal_rank_state") == STATE_VERSION:
        return state
    if isinstance(state, dict) and state.get("skal_rank_state") == 1:
        ranking = state["ranking"]
    elif all(hasattr(state, a) for a in ("take", "add", "ranked", "n_points")):
        # a lazy ranking saved in Python with joblib.dump(strategy.lazy_rank(pool), path)
        ranking, state = state, {"strategy": None, "scores": None, "paths": None}
    else:
        raise UserError(
            f"{str(path)!r} is not a ranking state: write one with --state, or "
            "joblib.dump(strategy.lazy_rank(pool), path)."
        )
    paths = state.get("paths")
    upgraded = new_state(ranking, state.get("strategy"), ranking.n_points,
                         None if paths is None else [os.path.abspath(p) for p in paths],
                         None, {})
    upgraded.update(sources=None, scores=state.get("scores"), ranking_id=None,
                    exported=np.asarray(ranking.ranked, dtype=np.intp))
    return upgraded


def save_state(path, state):
    """Write ``state`` to ``path`` atomically (a crash leaves the old file)."""
    import joblib

    tmp = f"{path}.tmp"
    joblib.dump(state, tmp)
    os.replace(tmp, path)


def positions_of(state, indices):
    """Pool positions of ranking ``indices``."""
    indices = np.asarray(indices, dtype=np.intp)
    if state["positions"] is None:
        return indices
    return np.asarray(state["positions"], dtype=np.intp)[indices]


# -- links ----------------------------------------------------------------------------


def image_link(file, root, prefix):
    """``(url, absolute)``: ``prefix`` + the URL-encoded path of ``file`` below ``root``.

    A file outside ``root`` keeps its absolute path (``absolute`` is True).
    """
    file = os.path.abspath(file)
    rel = os.path.relpath(file, root) if root is not None else file
    absolute = rel.startswith("..") or os.path.isabs(rel)
    text = Path(file if absolute else rel).as_posix()
    return prefix + quote(text, safe="/"), absolute


def shown_path(file):
    """A file as the CSV and JSON lines show it: relative to the working folder if below it."""
    rel = os.path.relpath(file)
    return file if rel.startswith("..") else rel


# -- images of array pools -------------------------------------------------------------


def parse_image_shape(text):
    """``--image-shape HxW`` or ``HxWxC`` as a tuple of ints."""
    try:
        shape = tuple(int(v) for v in text.lower().split("x"))
    except ValueError:
        shape = ()
    if len(shape) not in (2, 3) or min(shape) < 1 or (len(shape) == 3 and shape[2] not in
                                                       (1, 3, 4)):
        raise UserError(
            f"--image-shape {text!r}: give HxW or HxWxC with C 1, 3 or 4, e.g. 28x28."
        )
    return shape


def _as_image(row, shape):
    """One sample as a ``(H, W)`` or ``(H, W, C)`` uint8 array."""
    x = np.asarray(row)
    if shape is not None:
        if x.size != int(np.prod(shape)):
            raise UserError(
                f"--image-shape {'x'.join(map(str, shape))} holds {int(np.prod(shape))} "
                f"values, but a sample has {x.size}."
            )
        x = x.reshape(shape)
    elif x.ndim == 1:
        side = int(round(np.sqrt(x.size)))
        if side * side != x.size:
            raise UserError(
                f"samples are vectors of {x.size} values, not square images: pass "
                "--image-shape HxW (or HxWxC)."
            )
        x = x.reshape(side, side)
    elif x.ndim == 3 and x.shape[0] in (1, 3, 4) and x.shape[2] not in (1, 3, 4):
        x = np.moveaxis(x, 0, -1)  # channels first, as torch holds images
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[:, :, 0]
    if x.ndim not in (2, 3):
        raise UserError(
            f"a sample of shape {np.asarray(row).shape} is not an image: pass --image-shape."
        )
    if x.dtype == np.uint8:
        return x
    x = x.astype(np.float64)  # booleans become 0 and 1
    if x.min() >= 0 and x.max() <= 1:
        return np.round(x * 255).astype(np.uint8)
    low, high = x.min(), x.max()  # any other range: stretched to 0..255, per image
    return np.round((x - low) / (high - low if high > low else 1) * 255).astype(np.uint8)


def export_images(rows, positions, folder, shape):
    """Write each row as ``folder/<position>.png``; the files' absolute paths."""
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for row, position in zip(rows, positions):
        file = folder / f"{int(position)}.png"
        Image.fromarray(_as_image(row, shape)).save(file)
        files.append(str(file.resolve()))
    return files


def column_values(pool, rows, columns):
    """``{column: values}`` of pool ``rows`` for ``--columns``."""
    from ..utils._data import pool_kind, take

    subset = take(pool, rows)
    if pool_kind(pool) == "frame":
        missing = [c for c in columns if c not in subset.columns]
        if missing:
            raise UserError(
                f"--columns: the pool has no column {missing[0]!r}; it has: "
                f"{', '.join(map(str, list(subset.columns)[:20]))}."
            )
        return {c: subset[c].tolist() for c in columns}
    subset = np.asarray(subset)
    out = {}
    for c in columns:
        try:
            j = int(c)
        except ValueError:
            raise UserError(
                f"--columns {c!r}: an array pool has no column names; give column numbers "
                "(0-based), e.g. --columns 0,3."
            ) from None
        if subset.ndim != 2 or not 0 <= j < subset.shape[1]:
            raise UserError(f"--columns {j}: the pool's samples have no column {j}.")
        out[f"x{j}"] = subset[:, j].tolist()
    return out


# -- writers ------------------------------------------------------------------------------


def _jsonable(value):
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if value != value else value
    if isinstance(value, (np.integer, int)):
        return int(value)
    return str(value)


def write_rows(rows, path, fmt, columns, model_version=None):
    """Write ``rows`` (dicts) as CSV, JSON lines or Label Studio tasks.

    ``columns``: the keys written, in order; Label Studio tasks put them in
    ``data`` (``path`` excepted: ``data.image`` holds the link) and the
    priority ``1 / rank`` in ``predictions[0].score``.
    """
    with open(path, "w", newline="", encoding="utf-8") as f:
        if fmt == "csv":
            import csv

            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow(
                    ["" if row.get(c) is None else
                     (repr(float(row[c])) if c == "score" else row[c]) for c in columns]
                )
        elif fmt == "jsonl":
            for row in rows:
                f.write(json.dumps({c: _jsonable(row.get(c)) for c in columns}) + "\n")
        else:
            tasks = []
            for row in rows:
                data = {c: _jsonable(row.get(c)) for c in columns if c != "path"}
                if row.get("image") is not None:
                    data["image"] = row["image"]
                if row.get("ranking_id") is not None:
                    data["ranking_id"] = row["ranking_id"]
                task = {"data": data}
                if model_version is not None:
                    task["predictions"] = [{"model_version": model_version,
                                            "score": 1.0 / row["rank"], "result": []}]
                tasks.append(task)
            json.dump(tasks, f, indent=1)
            f.write("\n")
