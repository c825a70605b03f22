"""``python -m skal rank``: rank a pool on disk with a saved model, from the shell.

A new ranking::

    python -m skal rank MODEL POOL --strategy badge --top 100 --state day1.joblib \\
        --output ranking.csv

the next day, with new samples::

    python -m skal rank --resume day1.joblib --add new.npy --top 100 --output day2.csv

The state file holds the lazy ranking (``strategy.lazy_rank(pool)`` after its
``take``), plus what the output needs for the picks still to come (the image
paths of the pool, and the scores of uncertainty strategies); never the pool.
Usage, formats and the Label Studio import steps: ``docs/labeling.md``.
"""

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

from .utils._random import MAX_RANDOM_STATE

__all__ = ["add_rank_parser", "rank_command"]

_FORMATS = ("csv", "jsonl", "label-studio")
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".json": "label-studio"}
_STATE_VERSION = 1

_TRANSFORM_HELP = (
    "image folders: comma-separated steps applied to each image, in order: "
    "grayscale | rgb | resize=N or resize=HxW | center-crop=N or center-crop=HxW | "
    "tensor | normalize=MEAN:STD (several channels: 0.485/0.456/0.406:0.229/0.224/0.225) | "
    "flatten. Example: grayscale,resize=28,tensor,normalize=0.1307:0.3081,flatten "
    "(default: tensor)"
)


class RankError(Exception):
    """A problem with the arguments or the files, reported as one line."""


def _progress(args, message):
    if not args.quiet:
        print(message, file=sys.stderr, flush=True)


# -- pools ---------------------------------------------------------------------


class _Flatten:
    """``torch.flatten`` as a picklable transform step."""

    def __call__(self, x):
        return x.reshape(-1)

    def __repr__(self):
        return "Flatten()"


def _size(value, step):
    try:
        parts = [int(v) for v in value.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or min(parts) < 1:
        raise RankError(
            f"--transform step {step!r}: give a size N or HxW, e.g. {step.split('=')[0]}=28."
        )
    return parts[0] if len(parts) == 1 else tuple(parts)


def parse_transform(spec):
    """A torchvision ``Compose`` from ``--transform``'s comma-separated steps."""
    from torchvision import transforms

    steps = []
    for step in (s.strip() for s in spec.split(",")):
        name, _, value = step.partition("=")
        name = name.strip().lower()
        if name == "grayscale" and not value:
            steps.append(transforms.Grayscale())
        elif name == "rgb" and not value:
            steps.append(_RGB())
        elif name == "resize" and value:
            steps.append(transforms.Resize(_size(value, step)))
        elif name == "center-crop" and value:
            steps.append(transforms.CenterCrop(_size(value, step)))
        elif name == "tensor" and not value:
            steps.append(transforms.ToTensor())
        elif name == "normalize" and value:
            try:
                mean, std = ([float(v) for v in part.split("/")] for part in value.split(":"))
            except ValueError:
                raise RankError(
                    f"--transform step {step!r}: give normalize=MEAN:STD, e.g. "
                    "normalize=0.1307:0.3081 or normalize=0.485/0.456/0.406:0.229/0.224/0.225."
                ) from None
            steps.append(transforms.Normalize(mean, std))
        elif name == "flatten" and not value:
            steps.append(_Flatten())
        else:
            raise RankError(
                f"--transform: unknown step {step!r}. Steps: grayscale, rgb, resize=N, "
                "center-crop=N, tensor, normalize=MEAN:STD, flatten."
            )
    return transforms.Compose(steps)


class _RGB:
    """Convert a PIL image to RGB (a picklable transform step)."""

    def __call__(self, image):
        return image.convert("RGB")

    def __repr__(self):
        return "RGB()"


def _image_files(root):
    from torchvision.datasets.folder import IMG_EXTENSIONS

    return sorted(
        p.name for p in Path(root).iterdir()
        if p.is_file() and p.name.lower().endswith(IMG_EXTENSIONS)
    )


class ImageFiles(torch.utils.data.Dataset):
    """A flat folder of images as a map-style Dataset returning ``(image, 0)``.

    Files are sorted by name; ``paths[i]`` is the file of sample ``i``. Images
    are read with torchvision's ``default_loader`` (PIL, RGB), as ``ImageFolder``
    reads them.
    """

    def __init__(self, root, transform=None):
        self.root = str(root)
        self.transform = transform
        self.paths = [os.path.join(self.root, name) for name in _image_files(root)]

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        from torchvision.datasets.folder import default_loader

        image = default_loader(self.paths[index])
        if self.transform is not None:
            image = self.transform(image)
        return image, 0


def load_pool(path, args):
    """``(pool, paths)``: the pool as skal takes it; paths per sample or None."""
    path = Path(path)
    if not path.exists():
        raise RankError(f"pool {str(path)!r} does not exist.")
    if path.is_dir():
        transform = parse_transform(args.transform)
        subfolders = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
        if subfolders:
            from torchvision.datasets import ImageFolder

            pool = ImageFolder(str(path), transform=transform)
            return pool, [p for p, _ in pool.samples]
        pool = ImageFiles(path, transform=transform)
        if not len(pool):
            raise RankError(f"pool folder {str(path)!r} holds no image files.")
        return pool, list(pool.paths)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return np.load(path, mmap_mode="c"), None
    if suffix == ".npz":
        with np.load(path) as arrays:
            names = list(arrays.files)
            if args.key is not None:
                if args.key not in names:
                    raise RankError(
                        f"{str(path)!r} has no array {args.key!r}; it holds: {', '.join(names)}."
                    )
                return arrays[args.key], None
            if len(names) != 1:
                raise RankError(
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
                raise RankError(
                    f"reading {str(path)!r} needs {package}: pip install {package}"
                ) from None
        import pandas as pd

        return pd.read_parquet(path), None
    raise RankError(
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
    X = np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2)
    return X


# -- model and strategy --------------------------------------------------------


def load_model(path):
    import joblib

    if not Path(path).is_file():
        raise RankError(f"model {str(path)!r} does not exist.")
    try:
        model = joblib.load(path)
    except Exception as exc:  # any unpickling failure: say what and where, in one line
        raise RankError(
            f"cannot read a model from {str(path)!r} ({type(exc).__name__}: {exc}). Save a "
            "fitted estimator with joblib.dump(model, path) or pickle."
        ) from None
    if not (hasattr(model, "predict_proba") or hasattr(model, "predict")):
        raise RankError(
            f"{str(path)!r} holds a {type(model).__name__}, not a fitted estimator (it has "
            "neither predict_proba nor predict)."
        )
    return model


def make_strategy(name, model, random_state):
    from .model_selection import resolve_strategy

    strategy = resolve_strategy(name)
    params = strategy.get_params(deep=False)
    update = {"estimator": model, "prefit": True}
    if "random_state" in params:
        update["random_state"] = random_state
    elif random_state is not None:
        raise RankError(
            f"--random-state: {type(strategy).__name__} is deterministic and takes no seed."
        )
    return strategy.set_params(**{k: v for k, v in update.items() if k in params})


def _has_score(strategy):
    from .base import BaseUncertaintySampling

    return isinstance(strategy, BaseUncertaintySampling)


def _scores(strategy, pool, rows=None):
    """Uncertainty scores of ``pool`` (of ``rows`` of it when given)."""
    from .utils._data import take

    if rows is not None:
        pool = take(pool, rows)
    return np.asarray(strategy.transform(pool), dtype=np.float64)[:, 0]


# -- state ---------------------------------------------------------------------


def _load_state(path):
    import joblib

    if not Path(path).is_file():
        raise RankError(
            f"--resume {str(path)!r}: no such state file. Start a ranking with "
            "MODEL POOL --state FILE first."
        )
    try:
        state = joblib.load(path)
    except Exception as exc:
        raise RankError(
            f"cannot read the state file {str(path)!r} ({type(exc).__name__}: {exc})."
        ) from None
    if isinstance(state, dict) and state.get("skal_rank_state") == _STATE_VERSION:
        return state
    if all(hasattr(state, a) for a in ("take", "add", "ranked", "n_points")):
        # a lazy ranking saved in Python with joblib.dump(strategy.lazy_rank(pool), path)
        return {"skal_rank_state": _STATE_VERSION, "ranking": state, "strategy": None,
                "scores": None, "paths": None}
    raise RankError(
        f"{str(path)!r} is not a ranking state: write one with --state, or "
        "joblib.dump(strategy.lazy_rank(pool), path)."
    )


def _save_state(path, state):
    import joblib

    tmp = f"{path}.tmp"
    joblib.dump(state, tmp)
    os.replace(tmp, path)


def _extend(values, new, n_before):
    """Per-sample list ``values`` (None: unknown) extended by ``new`` (None: none)."""
    if values is None and new is None:
        return None
    values = list(values) if values is not None else [None] * n_before
    values += list(new) if new is not None else []
    return values


# -- output --------------------------------------------------------------------


def _rows(picks, first_rank, scores, paths):
    rows = []
    for i, position in enumerate(picks):
        position = int(position)
        row = {"position": position, "rank": first_rank + i}
        row["score"] = None if scores is None else scores[i]
        if paths is not None:
            row["path"] = paths[position] if position < len(paths) else None
        rows.append(row)
    return rows


def write_rows(rows, path, fmt, with_path, url_prefix):
    columns = ["position", "rank", "score"] + (["path"] if with_path else [])
    with open(path, "w", newline="") as f:
        if fmt == "csv":
            import csv

            writer = csv.writer(f)
            writer.writerow(columns)
            for row in rows:
                writer.writerow(
                    ["" if row.get(c) is None else (repr(float(row[c])) if c == "score" else row[c])
                     for c in columns]
                )
        elif fmt == "jsonl":
            for row in rows:
                f.write(json.dumps({c: _jsonable(row.get(c)) for c in columns}) + "\n")
        else:
            tasks = []
            for row in rows:
                data = {c: _jsonable(row.get(c)) for c in columns if c != "path"}
                if with_path and row.get("path") is not None:
                    data["image"] = url_prefix + Path(row["path"]).as_posix()
                tasks.append({"data": data})
            json.dump(tasks, f, indent=1)
            f.write("\n")


def _jsonable(value):
    if value is None:
        return None
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    return str(value)


# -- the command ---------------------------------------------------------------


def _check(args):
    """Argument problems found before reading any file."""
    if args.resume is not None:
        if args.model is not None or args.pool is not None:
            raise RankError(
                "--resume continues a saved ranking: pass new samples with --add, not MODEL POOL."
            )
        if args.strategy is not None:
            raise RankError("--resume continues the saved strategy; drop --strategy.")
        if args.random_state is not None:
            raise RankError(
                "--resume continues the saved strategy and its seed; drop --random-state."
            )
    else:
        if args.model is None or args.pool is None:
            raise RankError("pass MODEL and POOL (or --resume STATE to continue a ranking).")
        if args.strategy is None:
            raise RankError("pass --strategy NAME, e.g. --strategy badge or --strategy entropy.")
        if args.add is not None:
            raise RankError("--add joins new samples to a saved ranking: use it with --resume.")
    if args.output is None:
        raise RankError("pass --output FILE (.csv, .jsonl, or .json for Label Studio).")
    if args.top is not None and args.top < 1:
        raise RankError(f"--top must be a positive integer; got {args.top}.")
    fmt = args.format or _EXTENSIONS.get(Path(args.output).suffix.lower())
    if fmt is None:
        raise RankError(
            f"--output {args.output!r}: cannot tell the format from the extension; pass "
            "--format csv, jsonl or label-studio."
        )
    if args.random_state is not None and not 0 <= args.random_state <= MAX_RANDOM_STATE:
        raise RankError(
            f"--random-state must lie in [0, {MAX_RANDOM_STATE}]; got {args.random_state}."
        )
    out_dir = Path(args.output).resolve().parent
    if not out_dir.is_dir():
        raise RankError(f"--output {args.output!r}: folder {str(out_dir)!r} does not exist.")
    return fmt


def _run(args):
    from .utils._data import num_samples

    fmt = _check(args)
    if args.resume is not None:
        _progress(args, f"loading the ranking state {args.resume}")
        state = _load_state(args.resume)
        ranking = state["ranking"]
        strategy = state["strategy"]
        if args.add is not None:
            _progress(args, f"loading new samples {args.add}")
            new, new_paths = load_pool(args.add, args)
            n_before = ranking.n_points
            name = type(strategy).__name__ if strategy is not None else "the strategy"
            _progress(args, f"adding {num_samples(new):,} samples with {name}")
            added = ranking.add(new)
            state["paths"] = _extend(state["paths"], new_paths, n_before)
            if state["scores"] is not None:
                state["scores"] = np.concatenate([state["scores"], _scores(strategy, new)])
            _progress(args, f"new samples got positions {added[0]}..{added[-1]}" if len(added)
                      else "no new samples")
    else:
        _progress(args, f"loading the model {args.model}")
        model = load_model(args.model)
        _progress(args, f"loading the pool {args.pool}")
        pool, paths = load_pool(args.pool, args)
        strategy = make_strategy(args.strategy, model, args.random_state)
        n = num_samples(pool)
        _progress(args, f"ranking {n:,} samples with {type(strategy).__name__}")
        ranking = strategy.lazy_rank(pool)
        scores = None
        if _has_score(strategy) and args.state is not None:
            _progress(args, "scoring the pool for the state file")
            scores = _scores(strategy, pool)
        state = {"skal_rank_state": _STATE_VERSION, "ranking": ranking, "strategy": strategy,
                 "scores": scores, "paths": paths}

    first_rank = len(ranking.ranked) + 1
    k = ranking.n_points - len(ranking.ranked) if args.top is None else args.top
    _progress(args, f"taking {k:,} of {ranking.n_points - len(ranking.ranked):,} unranked samples")
    picks = np.asarray(ranking.take(k), dtype=np.intp)

    if state["scores"] is not None:
        scores = state["scores"][picks]
    elif args.resume is None and _has_score(strategy) and len(picks):
        scores = _scores(strategy, pool, picks)
    else:
        scores = None
    rows = _rows(picks, first_rank, scores, state["paths"])
    write_rows(rows, args.output, fmt, state["paths"] is not None, args.url_prefix)
    _progress(args, f"wrote {len(rows):,} rows to {args.output}")

    target = args.state if args.state is not None else args.resume
    if target is not None:
        _save_state(target, state)
        _progress(args, f"saved the ranking state to {target} ({len(ranking.ranked):,} of "
                  f"{ranking.n_points:,} ranked)")
    return 0


def rank_command(args):
    """Run ``python -m skal rank``; print ``error: ...`` and return 2 on bad input."""
    from sklearn.exceptions import NotFittedError

    from .exceptions import SkalException

    try:
        return _run(args)
    except (RankError, SkalException, ValueError, TypeError, OSError, KeyError, IndexError,
            ImportError, NotFittedError, RuntimeError, AttributeError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2


def _argument_error(message):
    """argparse's errors as one ``error:`` line, exit status 2 (no usage block)."""
    print(f"error: {message} (see python -m skal rank --help)", file=sys.stderr)
    sys.exit(2)


def add_rank_parser(commands):
    """Register the ``rank`` subcommand on ``commands`` (argparse subparsers)."""
    from .model_selection import strategy_aliases

    rank = commands.add_parser(
        "rank",
        help="rank a pool on disk with a saved model; write CSV, JSONL or Label Studio tasks",
        description=(
            "Rank the samples of POOL for labeling with a fitted MODEL and a strategy, and "
            "write the top of the ranking (position in the pool, rank, score where the "
            "strategy has one, file path for image folders). --state saves the ranking; "
            "--resume continues it another day, with new samples from --add. "
            "Full usage: docs/labeling.md."
        ),
    )
    rank.error = _argument_error
    parse_known_args = rank.parse_known_args

    def parse_strictly(args=None, namespace=None):
        # unknown options too give one line, not the top-level parser's usage block
        namespace, extras = parse_known_args(args, namespace)
        if extras:
            _argument_error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras

    rank.parse_known_args = parse_strictly
    rank.add_argument("model", nargs="?", metavar="MODEL",
                      help="a fitted skorch net, scikit-learn estimator or Pipeline, saved "
                      "with joblib or pickle")
    rank.add_argument("pool", nargs="?", metavar="POOL",
                      help=".npy, .npz, .csv, .parquet, or a folder of images (class "
                      "subfolders: ImageFolder; else a flat folder)")
    rank.add_argument("--strategy", help="class name or short name: "
                      f"{', '.join(strategy_aliases())} (required for a new ranking)")
    rank.add_argument("--output", "-o", help="output file; its extension sets the format "
                      "(.csv, .jsonl, .json = Label Studio)")
    rank.add_argument("--format", choices=_FORMATS, default=None,
                      help="csv, jsonl or label-studio (default: from --output's extension)")
    rank.add_argument("--top", type=int, default=None, metavar="K",
                      help="write only the next K samples of the ranking (default: all)")
    rank.add_argument("--state", default=None, metavar="FILE",
                      help="save the ranking here (joblib) after taking, to continue it "
                      "with --resume")
    rank.add_argument("--resume", default=None, metavar="FILE",
                      help="continue the ranking saved in FILE (saved back to FILE "
                      "afterwards unless --state names another file)")
    rank.add_argument("--add", default=None, metavar="NEW_POOL",
                      help="with --resume: new samples joining the pool; their positions "
                      "continue after the old pool's")
    rank.add_argument("--key", default=None, help=".npz pools: the name of the array")
    rank.add_argument("--transform", default="tensor", help=_TRANSFORM_HELP)
    rank.add_argument("--random-state", type=int, default=None,
                      help="seed of seeded strategies (BADGE, CoreSet, BALD, random, ...)")
    rank.add_argument("--url-prefix", default="",
                      help="label-studio format: prefix of each image's path in data.image, "
                      "e.g. '/data/local-files/?d=' (default: none)")
    rank.add_argument("--quiet", "-q", action="store_true",
                      help="no progress lines on stderr")
    rank.set_defaults(func=rank_command)
    return rank
