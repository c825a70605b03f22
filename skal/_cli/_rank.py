"""``python -m skal rank``: rank a pool on disk with a saved model, round after round.

Day 1::

    python -m skal rank model.joblib pool/ --strategy badge --top 200 \\
        --state queue.joblib --url-prefix "/data/local-files/?d=" -o day1.json

after labeling, with Label Studio's export read by ``python -m skal labels``::

    python -m skal rank --resume queue.joblib --labels labels.csv --refit --top 200 -o day2.json

The state file holds the lazy ranking, where the pool's files are (never the
pool), the positions already exported, the labels given so far and the options
of day 1. Usage and the Label Studio steps: ``docs/labeling.md``.
"""

import importlib
import os
import sys
from pathlib import Path

import numpy as np

from ._common import UserError, from_library, progress, warn
from ._strategy_names import check_name
from ._io import (
    EXTENSIONS,
    FORMATS,
    column_values,
    concat_pools,
    export_images,
    image_link,
    load_model,
    load_pool,
    load_state,
    make_strategy,
    new_state,
    parse_image_shape,
    positions_of,
    ranking_scores,
    save_state,
    shown_path,
    source_rows,
    write_rows,
)

__all__ = ["add_parser", "run"]

_TRANSFORM_HELP = (
    "image folders: comma-separated steps applied to each image, in order: "
    "grayscale | rgb | resize=N or resize=HxW | center-crop=N or center-crop=HxW | "
    "tensor | normalize=MEAN:STD (several channels: 0.485/0.456/0.406:0.229/0.224/0.225) | "
    "flatten. Example: grayscale,resize=28,tensor,normalize=0.1307:0.3081,flatten "
    "(default: tensor; remembered by --state)"
)

# options that the state remembers, with their defaults
_REMEMBERED = {"format": None, "url_prefix": "", "root": None, "transform": "tensor",
               "columns": None, "export_images": None, "image_shape": None, "key": None}


def add_parser(commands):
    """Register ``rank`` on ``commands`` (argparse subparsers)."""
    from ._strategy_names import aliases

    rank = commands.add_parser(
        "rank",
        help="rank a pool on disk with a saved model; write CSV, JSONL or Label Studio tasks",
        description=(
            "Rank the samples of POOL for labeling with a fitted MODEL and a strategy, and "
            "write the top of the ranking (position in the pool, rank, score where the "
            "strategy has one, file path for image folders). --state saves the ranking; "
            "--resume continues it another day, with new samples from --add, the labels "
            "given so far from --labels, and a model refitted on them with --refit. "
            "Full usage: docs/labeling.md."
        ),
    )
    rank.add_argument("model", nargs="?", metavar="MODEL",
                      help="a fitted skorch net, scikit-learn estimator or Pipeline, saved "
                      "with joblib or pickle")
    rank.add_argument("pool", nargs="?", metavar="POOL",
                      help=".npy, .npz, .csv, .parquet, or a folder of images (class "
                      "subfolders: ImageFolder; else a flat folder)")
    rank.add_argument("--strategy", help="class name or short name: "
                      f"{', '.join(aliases())} (required for a new ranking)")
    rank.add_argument("--output", "-o", help="output file; its extension sets the format "
                      "(.csv, .jsonl, .json = Label Studio)")
    rank.add_argument("--format", choices=FORMATS, default=None,
                      help="csv, jsonl or label-studio (default: from --output's extension, "
                      "else the state's)")
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
    rank.add_argument("--labels", default=None, metavar="FILE",
                      help="labels given so far (.csv or .npy, as python -m skal labels "
                      "writes them): labeled samples are never ranked again")
    rank.add_argument("--refit", action="store_true",
                      help="with --labels: fit a clone of the model on the labeled samples "
                      "(and --train), save it next to the state, and rank the samples not "
                      "yet exported with it")
    rank.add_argument("--train", nargs="+", default=None, metavar="FILE",
                      help="with --refit: the initial training set, X_FILE Y_FILE (arrays or "
                      "tables; Y a .npy or one-column .csv), or one image folder with class "
                      "subfolders named by the classes (remembered by the state)")
    rank.add_argument("--key", default=None, help=".npz pools: the name of the array")
    rank.add_argument("--transform", default=None, help=_TRANSFORM_HELP)
    rank.add_argument("--random-state", type=int, default=None,
                      help="seed of seeded strategies (BADGE, CoreSet, BALD, random, ...)")
    rank.add_argument("--url-prefix", default=None,
                      help="label-studio format: prefix of each image's URL-encoded path in "
                      "data.image, e.g. '/data/local-files/?d=' (default: none; remembered)")
    rank.add_argument("--root", default=None,
                      help="image paths in data.image are relative to this folder (default: "
                      "the image folder's parent; remembered)")
    rank.add_argument("--columns", default=None, metavar="A,B,...",
                      help="table pools: these columns' values go into each row and task "
                      "(array pools: column numbers, written as x0, x3, ...; remembered)")
    rank.add_argument("--export-images", default=None, metavar="DIR",
                      help="array pools of images: write each ranked sample as DIR/"
                      "<position>.png and link it in the tasks (remembered)")
    rank.add_argument("--image-shape", default=None, metavar="HxW[xC]",
                      help="with --export-images: the shape of a flat sample (default: "
                      "square grayscale, or the array's own image shape)")
    rank.add_argument("--import", dest="imports", action="append", default=[],
                      metavar="MODULE",
                      help="import MODULE before loading the model: the module that defines "
                      "the model's classes (repeatable; the working folder is on the path)")
    rank.add_argument("--quiet", "-q", action="store_true",
                      help="print nothing but errors")
    rank.set_defaults(run=run)
    return rank


# -- checks before reading any file -------------------------------------------------------


def _check(args):
    from ..utils._random import MAX_RANDOM_STATE

    if args.resume is not None:
        if args.model is not None or args.pool is not None:
            raise UserError(
                "--resume continues a saved ranking: pass new samples with --add, not MODEL POOL."
            )
        if args.strategy is not None:
            raise UserError("--resume continues the saved strategy; drop --strategy.")
        if args.random_state is not None:
            raise UserError(
                "--resume continues the saved strategy and its seed; drop --random-state."
            )
    else:
        if args.model is None or args.pool is None:
            raise UserError("pass MODEL and POOL (or --resume STATE to continue a ranking).")
        if args.strategy is None:
            raise UserError("pass --strategy NAME, e.g. --strategy badge or --strategy entropy.")
        if args.add is not None:
            raise UserError("--add joins new samples to a saved ranking: use it with --resume.")
        with from_library():  # a typo costs nothing: checked before loading anything
            check_name(args.strategy)
    if args.output is None:
        raise UserError("pass --output FILE (.csv, .jsonl, or .json for Label Studio).")
    if args.top is not None and args.top < 1:
        raise UserError(f"--top must be a positive integer; got {args.top}.")
    if args.random_state is not None and not 0 <= args.random_state <= MAX_RANDOM_STATE:
        raise UserError(
            f"--random-state must lie in [0, {MAX_RANDOM_STATE}]; got {args.random_state}."
        )
    if args.refit and args.labels is None:
        raise UserError("--refit fits the model on the labels given so far: pass --labels FILE.")
    if args.refit and args.state is None and args.resume is None:
        raise UserError("--refit saves the new model next to the state: pass --state FILE.")
    if args.train is not None and not args.refit:
        raise UserError("--train is the initial training set of --refit: pass --refit too.")
    if args.train is not None and len(args.train) > 2:
        raise UserError("--train takes X_FILE Y_FILE, or one image folder.")
    if args.image_shape is not None:
        parse_image_shape(args.image_shape)
    out_dir = Path(args.output).resolve().parent
    if not out_dir.is_dir():
        raise UserError(f"--output {args.output!r}: folder {str(out_dir)!r} does not exist.")


def _options(args, saved):
    """The remembered options: given now, else saved by the state, else the defaults."""
    options = {}
    for name, default in _REMEMBERED.items():
        given = getattr(args, name)
        if name == "columns" and given is not None:
            given = [c.strip() for c in given.split(",") if c.strip()]
        if name in ("root", "export_images") and given is not None:
            given = os.path.abspath(given)
        options[name] = given if given is not None else saved.get(name, default)
    fmt = args.format or EXTENSIONS.get(Path(args.output).suffix.lower()) or options["format"]
    if fmt is None:
        raise UserError(
            f"--output {args.output!r}: cannot tell the format from the extension; pass "
            "--format csv, jsonl or label-studio."
        )
    options["format"] = fmt
    return options


# -- the rounds -----------------------------------------------------------------------------


def _start(args, options):
    progress(args, f"loading the model {args.model}")
    model = load_model(args.model)
    progress(args, f"loading the pool {args.pool}")
    pool, paths = load_pool(args.pool, key=options["key"], transform=options["transform"])
    strategy = make_strategy(args.strategy, model, args.random_state)
    n = _num_samples(pool)
    progress(args, f"ranking {n:,} samples with {type(strategy).__name__}")
    with from_library(f"{type(strategy).__name__} cannot rank this pool with this model"):
        ranking = strategy.lazy_rank(pool)
    if paths is not None and options["root"] is None:
        options["root"] = str(Path(args.pool).resolve().parent)
    source = _source(args.pool, options["key"], 0, n)
    options["strategy"], options["random_state"] = args.strategy, args.random_state
    state = new_state(ranking, strategy, n, paths, source, options)
    return state, pool


def _source(path, key, start, n):
    return {"path": str(Path(path).resolve()), "key": key, "start": int(start), "n": int(n)}


def _num_samples(pool):
    from ..utils._data import num_samples

    with from_library():
        return num_samples(pool)


def _add(args, state):
    options = state["options"]
    progress(args, f"loading new samples {args.add}")
    new, new_paths = load_pool(args.add, key=options["key"], transform=options["transform"])
    n_new = _num_samples(new)
    strategy = state["strategy"]
    name = type(strategy).__name__ if strategy is not None else "the strategy"
    progress(args, f"adding {n_new:,} samples with {name}")
    n_before = state["n_samples"]
    with from_library(f"{name} cannot rank the new samples with the saved model"):
        added = state["ranking"].add(new)
    if state["positions"] is not None:
        state["positions"] = np.concatenate(
            [state["positions"], np.arange(n_before, n_before + len(added))])
    if state["paths"] is not None or new_paths is not None:
        old = state["paths"] if state["paths"] is not None else [None] * n_before
        state["paths"] = list(old) + (list(new_paths) if new_paths is not None
                                      else [None] * n_new)
    if state.get("scores") is not None:  # a version-1 state keeps its score column
        idx = np.arange(len(state["scores"]), len(state["scores"]) + n_new)
        state["scores"] = np.concatenate([state["scores"], np.full(n_new, np.nan)])
        inner = getattr(state["ranking"], "_ranking", None)
        if hasattr(inner, "scores"):
            state["scores"][idx] = inner.scores[-n_new:]
    if state.get("sources") is not None:
        state["sources"].append(_source(args.add, options["key"], n_before, n_new))
    state["n_samples"] = n_before + n_new
    if n_new:
        progress(args, f"new samples got positions {n_before}..{n_before + n_new - 1}")
    else:
        progress(args, "no new samples")
    return new


def _read_labels(args, state):
    from ..labeling import _is_label, read_labels

    classes = _classes(state)
    with from_library(f"--labels {args.labels}"):
        y = read_labels(args.labels, n_samples=state["n_samples"], classes=classes)
    given = {int(p): v for p, v in enumerate(y.tolist()) if _is_label(v, -1)}
    changed = sum(1 for p, v in given.items() if p in state["labels"] and state["labels"][p] != v)
    state["labels"].update(given)
    progress(args, f"{len(state['labels']):,} labeled samples ({len(given):,} in "
             f"{args.labels}{f', {changed} changed' if changed else ''})")


def _classes(state):
    if state.get("classes") is not None:
        return list(state["classes"])
    estimator = getattr(state["strategy"], "estimator", None)
    classes = getattr(estimator, "classes_", None)
    return None if classes is None else list(np.asarray(classes).tolist())


def _load_train(args, state):
    """The initial training set ``(X, y)`` of ``--train`` (or the state's), or None."""
    if args.train is not None:
        state["train"] = [os.path.abspath(p) for p in args.train]
    files = state.get("train")
    if not files:
        return None
    if len(files) == 1:
        folder = Path(files[0])
        if not folder.is_dir():
            raise UserError(f"--train {files[0]!r}: give X_FILE Y_FILE, or an image folder "
                            "with one subfolder per class.")
        from torchvision.datasets import ImageFolder

        from ..datasets import image_transform

        X = ImageFolder(str(folder), transform=image_transform(
            state["options"].get("transform") or "tensor"))
        classes = _classes(state)
        mapping = {str(c): c for c in classes} if classes is not None else None
        names = X.classes
        if mapping is not None and not set(names) <= set(mapping):
            raise UserError(f"--train {files[0]!r}: the subfolders {', '.join(names)} are not "
                            f"all classes of the model ({', '.join(map(str, classes))}).")
        y = np.array([mapping[names[t]] if mapping else names[t] for t in X.targets])
        return X, y
    X, _ = load_pool(files[0], transform=state["options"].get("transform") or "tensor")
    y_path = Path(files[1])
    if y_path.suffix.lower() == ".npy":
        y = np.load(y_path, allow_pickle=False)
    elif y_path.suffix.lower() == ".csv":
        y = np.atleast_1d(np.loadtxt(y_path, delimiter=",", dtype=str)).ravel()
        if len(y) == _num_samples(X) + 1:
            y = y[1:]  # a header line
        classes = _classes(state)
        if classes is not None:
            mapping = {str(c): c for c in classes}
            y = np.array([mapping.get(v, v) for v in y])
    else:
        raise UserError(f"--train {files[1]!r}: labels are read from a .npy or .csv file.")
    if len(y) != _num_samples(X):
        raise UserError(f"--train: {files[0]!r} has {_num_samples(X)} samples but "
                        f"{files[1]!r} {len(y)} labels.")
    return X, y


def _refit(args, state):
    from sklearn.base import clone

    from ..utils._data import with_labels

    labeled = np.array(sorted(state["labels"]), dtype=np.intp)
    if not len(labeled):
        raise UserError(f"--refit: {args.labels} gives no label; label some tasks first.")
    y = np.array([state["labels"][p] for p in labeled])
    X = source_rows(state, labeled)
    train = _load_train(args, state)
    if train is not None:
        X = concat_pools([with_labels(train[0], train[1]), with_labels(X, y)])
        y = np.concatenate([train[1], y])
    else:
        X = with_labels(X, y)
    strategy = state["strategy"]
    model = clone(strategy.estimator)
    classes = _classes(state)
    if classes is not None and "classes" in model.get_params():
        # a skorch net keeps every class of the first model, whichever the labels hold
        model.set_params(classes=np.asarray(classes))
    progress(args, f"refitting {type(model).__name__} on {len(y):,} labeled samples"
             + (f" ({len(train[1]):,} from --train)" if train is not None else ""))
    with from_library("--refit: the model cannot be fitted on the labeled samples"):
        model.fit(X, y)
    state["round"] += 1
    target = Path(args.state if args.state is not None else args.resume)
    model_file = target.with_name(f"{target.stem}.round{state['round']}.model.joblib")
    import joblib

    joblib.dump(model, model_file)
    progress(args, f"saved the refitted model to {model_file}")

    remaining = np.setdiff1d(np.arange(state["n_samples"]),
                             np.union1d(labeled, state["exported"]))
    strategy = clone(strategy).set_params(estimator=model)
    state["strategy"] = strategy
    if not len(remaining):
        raise UserError("every sample is labeled or exported already: nothing left to rank.")
    progress(args, f"ranking the {len(remaining):,} samples neither labeled nor exported")
    with from_library(f"{type(strategy).__name__} cannot rank the pool with the new model"):
        state["ranking"] = strategy.lazy_rank(source_rows(state, remaining))
    state["positions"] = remaining
    state["scores"] = None


def _take(args, state):
    """The next ranking indices to export: ``--top`` of them, skipping labeled samples."""
    ranking, labeled = state["ranking"], state["labels"]
    picks, skipped = [], 0
    want = args.top
    with from_library():
        while want is None or len(picks) < want:
            left = ranking.n_points - len(ranking.ranked)
            if left == 0:
                break
            batch = np.asarray(ranking.take(left if want is None else min(want - len(picks),
                                                                          left)))
            keep = [i for i, p in zip(batch, positions_of(state, batch)) if int(p) not in labeled]
            skipped += len(batch) - len(keep)
            picks += keep
    if skipped:
        progress(args, f"skipped {skipped:,} labeled samples")
    return np.asarray(picks, dtype=np.intp)


def _rows(args, state, picks, pool):
    """The output rows of ranking ``picks``, and the keys to write."""
    options = state["options"]
    positions = positions_of(state, picks)
    first_rank = len(state["exported"]) + 1
    scores = ranking_scores(state, picks) if len(picks) else None
    rows = [{"position": int(p), "rank": first_rank + i,
             "score": None if scores is None else float(scores[i]),
             "ranking_id": state.get("ranking_id")} for i, p in enumerate(positions)]
    keys = ["position", "rank", "score"]
    files = None
    if state["paths"] is not None:
        files = [state["paths"][p] if p < len(state["paths"]) else None for p in positions]
    if options["export_images"] is not None and len(picks):
        rows_of = pool if pool is not None and state["positions"] is None else None
        data = _pool_rows(state, positions, rows_of)
        shape = parse_image_shape(options["image_shape"]) if options["image_shape"] else None
        files = export_images(data, positions, options["export_images"], shape)
        if options["root"] is None:
            options["root"] = str(Path(options["export_images"]).parent)
        progress(args, f"wrote {len(files):,} images to {options['export_images']}")
    if files is not None:
        keys.append("path")
        prefix = options["url_prefix"] or ""
        absolute = 0
        for row, file in zip(rows, files):
            if file is None:
                continue
            row["path"] = shown_path(file)
            row["image"], outside = image_link(file, options["root"], prefix)
            absolute += outside
        if options["format"] == "label-studio" and not prefix:
            warn(args, "no --url-prefix: Label Studio cannot open these images from a bare "
                 "path. For its local files storage pass --url-prefix '/data/local-files/?d=' "
                 "(see docs/labeling.md).")
        if absolute and options["format"] == "label-studio":
            warn(args, f"{absolute:,} images lie outside --root {options['root']!r}: their "
                 "links hold absolute paths, which Label Studio's local files storage refuses. "
                 "Pass a --root that holds every image folder.")
    if options["columns"]:
        rows_of = pool if pool is not None and state["positions"] is None else None
        values = column_values(*_frame_rows(state, positions, rows_of), options["columns"])
        for name, column in values.items():
            keys.append(name)
            for row, value in zip(rows, column):
                row[name] = value
    return rows, keys


def _pool_rows(state, positions, pool):
    from ..utils._data import take

    if pool is not None:
        return np.asarray(take(pool, positions))
    return np.asarray(source_rows(state, positions))


def _frame_rows(state, positions, pool):
    if pool is not None:
        return pool, positions
    return source_rows(state, positions), np.arange(len(positions))


def _import(name):
    """Import ``name``, and show its public names as ``__main__``'s too.

    A model pickled by the script that defined its class refers to
    ``__main__.TheClass``: importing that script (its training code guarded by
    ``if __name__ == "__main__"``) makes the class resolvable here.
    """
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise UserError(f"--import {name}: {exc}") from None
    main = sys.modules["__main__"]
    for attr, value in vars(module).items():
        if not attr.startswith("_") and not hasattr(main, attr):
            setattr(main, attr, value)


def run(args):
    """Run ``rank``; 0 on success."""
    _check(args)
    for module in args.imports:
        _import(module)
    pool = None
    if args.resume is not None:
        progress(args, f"loading the ranking state {args.resume}")
        state = load_state(args.resume)
        options = _options(args, state["options"])
        state["options"].update(options)
        if args.add is not None:
            _add(args, state)
    else:
        options = _options(args, {})
        state, pool = _start(args, options)
    if args.labels is not None:
        _read_labels(args, state)
    if args.refit:
        _refit(args, state)
        pool = None

    k = "all" if args.top is None else f"{args.top:,}"
    progress(args, f"taking {k} of {state['ranking'].n_points - len(state['ranking'].ranked):,} "
             "unranked samples")
    picks = _take(args, state)
    rows, keys = _rows(args, state, picks, pool)
    strategy = state["strategy"]
    version = None
    if state["options"]["format"] == "label-studio":
        name = type(strategy).__name__ if strategy is not None else "ranking"
        version = f"skal {name} ranking {state.get('ranking_id') or ''} round {state['round']}"
    write_rows(rows, args.output, state["options"]["format"], keys, version.strip()
               if version else None)
    progress(args, f"wrote {len(rows):,} rows to {args.output}")
    state["exported"] = np.concatenate(
        [np.asarray(state["exported"], dtype=np.intp), positions_of(state, picks)])

    target = args.state if args.state is not None else args.resume
    if target is not None:
        save_state(target, state)
        progress(args, f"saved the ranking state to {target} ({len(state['exported']):,} of "
                 f"{state['n_samples']:,} exported)")
    return 0
