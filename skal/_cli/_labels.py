"""``python -m skal labels``: Label Studio's export as one label per pool position.

::

    python -m skal labels export.json --state queue.joblib -o labels.csv

reads the JSON, JSON-MIN or CSV export with :func:`skal.labeling.read_label_studio`,
prints a report (annotations used and ignored, disagreements) and writes the
labels for ``python -m skal rank --labels`` and :meth:`skal.ActiveLearner.fit`.
"""

import csv
from pathlib import Path

from ._common import UserError, from_library, progress

__all__ = ["add_parser", "run"]


def add_parser(commands):
    """Register ``labels`` on ``commands`` (argparse subparsers)."""
    labels = commands.add_parser(
        "labels",
        help="read Label Studio's export back: one label per pool position (CSV or NPY)",
        description=(
            "Read a Label Studio export (JSON, JSON-MIN or CSV) of tasks written by "
            "python -m skal rank, and write one label per pool position. Skipped and "
            "cancelled annotations are ignored; several annotators are resolved by "
            "majority (ground-truth annotations first; ties by --tie). Full usage: "
            "docs/labeling.md."
        ),
    )
    labels.add_argument("export", metavar="EXPORT",
                        help="Label Studio's export: .json (JSON or JSON-MIN) or .csv")
    labels.add_argument("--state", default=None, metavar="FILE",
                        help="the ranking state of python -m skal rank --state: checks every "
                        "task against the ranking, gives the pool size and the classes")
    labels.add_argument("--output", "-o", required=True,
                        help="labels file: .csv (position,label; empty where unlabeled) or "
                        ".npy (the label array, -1 where unlabeled)")
    labels.add_argument("--from-name", default=None,
                        help="the Choices control holding the labels (default: the only one)")
    labels.add_argument("--config", default=None, metavar="XML",
                        help="the project's labeling config: gives --from-name and the classes")
    labels.add_argument("--classes", default=None, metavar="A,B,...",
                        help="the known classes (default: the config's choices, else the "
                        "model's classes_)")
    labels.add_argument("--tie", choices=("skip", "first", "last"), default="skip",
                        help="a tie between annotators: leave unlabeled (skip), or take the "
                        "earliest (first) or latest (last) annotation's label (default: skip)")
    labels.add_argument("--n-samples", type=int, default=None,
                        help="the pool size, without --state (default: largest position + 1)")
    labels.add_argument("--disagreements", default=None, metavar="CSV",
                        help="write every disagreement here (position, tasks, votes, label, "
                        "rule)")
    labels.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    labels.set_defaults(run=run)
    return labels


def run(args):
    """Run ``labels``; 0 on success."""
    from ..labeling import read_label_studio, write_labels

    suffix = Path(args.output).suffix.lower()
    if suffix not in (".csv", ".npy"):
        raise UserError(f"--output {args.output!r}: write labels to a .csv or .npy file.")
    if args.n_samples is not None and args.n_samples < 1:
        raise UserError(f"--n-samples must be a positive integer; got {args.n_samples}.")
    if not Path(args.export).is_file():
        raise UserError(f"Label Studio export {args.export!r} does not exist.")
    state = None
    if args.state is not None:
        from ._io import load_state

        state = load_state(args.state)
    classes = None
    if args.classes is not None:
        classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    with from_library(args.export):
        labels = read_label_studio(
            args.export, state=state, n_samples=args.n_samples, classes=classes,
            from_name=args.from_name, config=args.config, tie_break=args.tie,
        )
    for line in labels.summary():
        progress(args, line)
    write_labels(args.output, labels.y)
    progress(args, f"wrote {len(labels.labeled):,} labels to {args.output}")
    if args.disagreements is not None:
        with open(args.disagreements, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["position", "tasks", "votes", "label", "rule"])
            for d in labels.disagreements:
                writer.writerow([d["position"], " ".join(map(str, d["tasks"])),
                                 "; ".join(f"{k}: {v}" for k, v in d["votes"].items()),
                                 "" if d["label"] is None else d["label"], d["rule"]])
        progress(args, f"wrote {len(labels.disagreements):,} disagreements to "
                 f"{args.disagreements}")
    return 0
