"""Labels back from Label Studio, as one label per pool position.

``python -m skal rank --format label-studio`` writes tasks whose ``data.position``
is the sample's position in the pool. Annotators label them in Label Studio; its
export comes back here: :func:`read_label_studio` reads the JSON, JSON-MIN or CSV
export, resolves several annotators by majority, and returns ``y``, one label per
pool position with ``missing_label`` where no label was given, which is what
:meth:`skal.ActiveLearner.fit` takes. :func:`write_labels` and :func:`read_labels`
store such a ``y`` as CSV or NPY (``python -m skal labels`` writes them,
``python -m skal rank --labels`` reads them). The whole loop: ``docs/labeling.md``.
"""

import csv
import json
import numbers
from collections import Counter
from pathlib import Path

import numpy as np

__all__ = ["LabelStudioLabels", "read_label_studio", "read_labels", "write_labels"]

# keys that Label Studio's JSON-MIN and CSV exports add to each record
_EXPORT_KEYS = {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time",
                "agreement", "history"}
# keys that ``python -m skal rank`` writes into each task's data
_SKAL_KEYS = {"position", "rank", "score", "image", "ranking_id"}
_FORMATS = ("json", "json-min", "csv")
_TIE_BREAKS = ("skip", "first", "last")


class LabelStudioLabels:
    """Labels read from a Label Studio export, one per pool position.

    Returned by :func:`read_label_studio`; not created directly.

    Parameters
    ----------
    **fields : dict
        The attributes below, by name.

    Attributes
    ----------
    y : ndarray of shape (n_samples,)
        The label of each pool position, ``missing_label`` where there is none
        (integers when every class is an integer, else objects).
    labeled : ndarray of int
        The positions that got a label, in increasing order.
    classes : list or None
        The known classes the labels were checked against (None: not checked).
    from_name : str
        The labeling config's ``Choices`` control the labels were read from.
    format : {"json", "json-min", "csv"}
        The export's format.
    n_tasks : int
        Tasks in the export.
    n_annotations : int
        Annotations counted as votes (submitted, with a choice).
    n_cancelled : int
        Skipped or cancelled annotations, ignored (the JSON format lists them;
        Label Studio leaves them out of JSON-MIN and CSV exports).
    n_empty : int
        Submitted annotations without a choice in ``from_name``, ignored.
    unannotated : ndarray of int
        Positions of tasks without a vote: not labeled yet.
    disagreements : list of dict
        One per position whose votes differ: ``position``, ``tasks`` (task ids),
        ``votes`` (label -> count), ``label`` (the resolved label, or None when
        a tie was left unlabeled) and ``rule`` (``"majority"``,
        ``"ground truth"``, or ``"tie: skip"``/``"tie: first"``/``"tie: last"``).
    duplicates : list of int
        Positions that appear in more than one task (imported twice); their
        votes are pooled.

    See Also
    --------
    read_label_studio : The function that returns it.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.labeling import LabelStudioLabels
    >>> labels = LabelStudioLabels(y=np.array([1, -1]), labeled=np.array([0]),
    ...                            disagreements=[])
    >>> labels
    LabelStudioLabels(n_labeled=1, n_samples=2, n_disagreements=0)
    """

    def __init__(self, **fields):
        for name, value in fields.items():
            setattr(self, name, value)

    def summary(self):
        """What was read, as lines of text (the report ``python -m skal labels`` prints).

        Returns
        -------
        lines : list of str
            Counts of tasks and annotations, labeled positions, and the first
            ten disagreements.
        """
        ties = sum(d["label"] is None for d in self.disagreements)
        lines = [
            f"read {self.n_tasks:,} tasks ({self.format} export, labels from "
            f"{self.from_name!r}): {self.n_annotations:,} annotations, "
            f"{self.n_cancelled:,} skipped or cancelled and {self.n_empty:,} empty ones ignored",
            f"{len(self.labeled):,} of {len(self.y):,} pool positions labeled; "
            f"{len(self.unannotated):,} exported tasks without a label yet",
        ]
        if self.disagreements:
            lines.append(
                f"annotators disagree on {len(self.disagreements):,} positions "
                f"({len(self.disagreements) - ties:,} resolved, {ties:,} ties left unlabeled):"
            )
            for d in self.disagreements[:10]:
                votes = ", ".join(f"{k}: {v}" for k, v in d["votes"].items())
                lines.append(f"  position {d['position']}: {votes} -> "
                             f"{'unlabeled' if d['label'] is None else d['label']} ({d['rule']})")
            if len(self.disagreements) > 10:
                lines.append(f"  ... and {len(self.disagreements) - 10:,} more")
        if self.duplicates:
            lines.append(f"{len(self.duplicates):,} positions appear in several tasks (imported "
                         "more than once); their votes were pooled")
        return lines

    def __repr__(self):
        return (f"LabelStudioLabels(n_labeled={len(self.labeled)}, n_samples={len(self.y)}, "
                f"n_disagreements={len(self.disagreements)})")


# -- reading the export ---------------------------------------------------------


def _detect_format(path, records):
    if Path(path).suffix.lower() == ".csv":
        return "csv"
    if records and isinstance(records[0], dict) and (
        "annotations" in records[0] or "completions" in records[0]
    ):
        return "json"
    return "json-min"


def _load_records(path, fmt):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Label Studio export {str(path)!r} does not exist.")
    if fmt == "csv" or (fmt is None and path.suffix.lower() == ".csv"):
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f)), "csv"
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{str(path)!r} is not a Label Studio JSON export ({exc}). Export the project "
            "as JSON, JSON-MIN or CSV."
        ) from None
    if isinstance(records, dict):  # a single task
        records = [records]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError(
            f"{str(path)!r} is not a Label Studio export: expected a JSON list of tasks."
        )
    return records, fmt or _detect_format(path, records)


def _config_choices(config):
    """``{name: [choice values]}`` of the ``Choices`` controls of a labeling config."""
    import xml.etree.ElementTree as ET

    text = Path(config).read_text(encoding="utf-8") if Path(str(config)).is_file() else config
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"the labeling config is not valid XML ({exc}).") from None
    return {
        node.get("name"): [c.get("value") for c in node.iter() if c.tag == "Choice"]
        for node in root.iter() if node.tag == "Choices"
    }


def _votes_json(records, from_name):
    """Per task: (task id, data, [(label, annotator, ground truth, time)], counts)."""
    tasks, n_cancelled, n_empty, names = [], 0, 0, set()
    for task in records:
        if "data" not in task:
            raise ValueError(
                f"task {task.get('id', '?')} has no 'data': not a task of Label Studio's "
                "JSON export."
            )
        votes = []
        for annotation in task.get("annotations", task.get("completions")) or []:
            if annotation.get("was_cancelled") or annotation.get("skipped"):
                n_cancelled += 1
                continue
            choices = [r for r in annotation.get("result") or []
                       if r.get("type", "").lower() == "choices"]
            names.update(r.get("from_name") for r in choices)
            votes.append((annotation, choices))
        tasks.append((task, votes))
    name = _choose_name(from_name, names, "the annotations' choices results")
    out = []
    for task, votes in tasks:
        found = []
        for annotation, choices in votes:
            picked = [c for r in choices if r.get("from_name") == name
                      for c in (r.get("value") or {}).get("choices", [])]
            if not picked:
                n_empty += 1
                continue
            if len(picked) > 1:
                raise ValueError(
                    f"task {task.get('id')}: annotation {annotation.get('id')} picked "
                    f"{len(picked)} choices ({', '.join(map(str, picked))}) in {name!r}; a "
                    "classification label is one choice. Set choice=\"single\" in the "
                    "labeling config and fix the annotation."
                )
            found.append((picked[0], annotation.get("completed_by"),
                          bool(annotation.get("ground_truth")), annotation.get("created_at")))
        out.append((task.get("id"), task["data"], found))
    return out, n_cancelled, n_empty, name


def _votes_flat(records, from_name, data_keys):
    """The same from JSON-MIN or CSV records (one per annotation)."""
    if not records:
        return [], 0, 0, from_name
    keys = set().union(*(r.keys() for r in records))
    candidates = {k for k in keys - _EXPORT_KEYS - _SKAL_KEYS - set(data_keys)
                  if not k.startswith("_data_")}
    name = _choose_name(from_name, candidates, "the export's columns")
    by_task, n_empty = {}, 0
    for record in records:
        task_id = record.get("id")
        data = {k[len("_data_"):] if k.startswith("_data_") else k: v
                for k, v in record.items() if k not in _EXPORT_KEYS and k != name}
        entry = by_task.setdefault(task_id, (task_id, data, []))
        value = record.get(name)
        if value is None or value == "":
            if record.get("annotation_id") not in (None, ""):
                n_empty += 1
            continue
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        if not isinstance(value, str):
            raise ValueError(
                f"task {task_id}: {name!r} holds {value!r}, not one choice; a classification "
                "label is one choice. Set choice=\"single\" in the labeling config and fix "
                "the annotation."
            )
        entry[2].append((value, record.get("annotator"), False, record.get("created_at")))
    return list(by_task.values()), 0, n_empty, name


def _choose_name(from_name, found, where):
    found = sorted(n for n in found if n)
    if from_name is not None:
        if found and from_name not in found:
            raise ValueError(
                f"from_name={from_name!r} is not in {where}; found: {', '.join(found)}."
            )
        return from_name
    if len(found) == 1:
        return found[0]
    if not found:
        return None  # no annotation at all: nothing to read
    raise ValueError(
        f"{where} hold several label fields ({', '.join(found)}): name the Choices control "
        "to read with from_name (--from-name)."
    )


def _position(task_id, data, n_samples, exported, ranking_id):
    if ranking_id is not None and data.get("ranking_id") not in (None, "", ranking_id):
        raise ValueError(
            f"task {task_id}: data.ranking_id is {data.get('ranking_id')!r}, but the state's "
            f"ranking is {ranking_id!r}: this export comes from another project or ranking."
        )
    value = data.get("position")
    if value is None or value == "":
        raise ValueError(
            f"task {task_id} has no data.position: it was not written by python -m skal rank "
            "(is this the export of another project?)."
        )
    try:
        position = float(value)
    except (TypeError, ValueError):
        position = float("nan")
    if not position.is_integer():
        raise ValueError(f"task {task_id}: data.position is {value!r}, not a pool position.")
    position = int(position)
    if position < 0 or (n_samples is not None and position >= n_samples):
        raise ValueError(
            f"task {task_id}: data.position {position} is outside the pool "
            f"(0..{n_samples - 1 if n_samples else '?'}): is this the export of another project?"
        )
    if exported is not None and position not in exported:
        raise ValueError(
            f"task {task_id}: position {position} was never exported by this ranking: is this "
            "the export of another project, or a task imported by hand?"
        )
    return position


def _resolve(votes, tie_break):
    """(label or None, rule) from ``[(label, annotator, ground_truth, time)]``."""
    gold = [v for v in votes if v[2]]
    pool = gold or votes
    counts = Counter(v[0] for v in pool)
    top = max(counts.values())
    winners = [label for label, c in counts.items() if c == top]
    rule = "ground truth" if gold else "majority"
    if len(winners) == 1:
        return winners[0], rule
    if tie_break == "skip":
        return None, "tie: skip"
    # the earliest (first) or latest (last) annotation among the tied labels
    timed = sorted((str(v[3] or ""), i, v[0]) for i, v in enumerate(pool) if v[0] in winners)
    return (timed[0] if tie_break == "first" else timed[-1])[2], f"tie: {tie_break}"


def _class_map(classes):
    mapping = {}
    for c in classes:
        mapping.setdefault(str(c), c)
    return mapping


def _empty_y(n_samples, classes, missing_label):
    if classes is not None and all(isinstance(c, numbers.Integral) for c in classes) and (
        isinstance(missing_label, numbers.Integral)
    ):
        if missing_label in set(int(c) for c in classes):
            raise ValueError(
                f"missing_label={missing_label!r} is one of the classes: pass another marker."
            )
        return np.full(n_samples, missing_label, dtype=np.int64)
    y = np.empty(n_samples, dtype=object)
    y[:] = [missing_label] * n_samples
    return y


def _state_facts(state):
    """(n_samples, exported positions, classes, ranking id, data keys) of a rank state."""
    if state is None:
        return None, None, None, None, ()
    if isinstance(state, (str, Path)):
        import joblib

        if not Path(state).is_file():
            raise FileNotFoundError(f"state file {str(state)!r} does not exist.")
        state = joblib.load(state)
    if not isinstance(state, dict) or "ranking" not in state:
        raise ValueError(
            "state is not a ranking state written by python -m skal rank --state."
        )
    ranking = state["ranking"]
    n_samples = state.get("n_samples", ranking.n_points)
    exported = state.get("exported")
    if exported is None:
        exported = ranking.ranked
    classes = state.get("classes")
    if classes is None:
        estimator = getattr(state.get("strategy"), "estimator", None)
        classes = getattr(estimator, "classes_", None)
    options = state.get("options") or {}
    return (int(n_samples), set(int(p) for p in exported),
            None if classes is None else list(np.asarray(classes).tolist()),
            state.get("ranking_id"), tuple(options.get("columns") or ()))


def read_label_studio(export, *, state=None, n_samples=None, classes=None, from_name=None,
                      config=None, tie_break="skip", missing_label=-1, format=None):
    """Read a Label Studio export as one label per pool position.

    The tasks must come from ``python -m skal rank --format label-studio``: each
    task's ``data.position`` is its sample's position in the pool. Skipped and
    cancelled annotations are ignored. Each remaining annotation is a vote;
    a position's label is the majority of its votes. Annotations marked as
    ground truth in Label Studio outvote all others. A tie follows
    ``tie_break``. Positions whose votes differ are listed in
    ``disagreements``.

    Parameters
    ----------
    export : str or path-like
        Label Studio's export of the project: JSON (``[{"id", "data",
        "annotations": [...]}, ...]``), JSON-MIN (one flat record per
        annotation) or CSV (the same records as rows). The format is read
        from the file.
    state : str, path-like or dict, default=None
        The ranking state file written by ``python -m skal rank --state`` (or
        it loaded). It gives the pool size, the positions that were exported
        (a task with another position is refused), the model's classes and
        the ranking's id (an export of another ranking is refused).
    n_samples : int, default=None
        The pool size, where no ``state`` is given; by default the largest
        position plus one.
    classes : list, default=None
        The known classes; a label outside them is an error. Labels are
        compared as text (``"3"`` is the class ``3``). By default: the
        choices of ``config``, else the state's model ``classes_``, else any
        label is accepted.
    from_name : str, default=None
        The name of the ``Choices`` control holding the labels; needed only
        when the export holds several.
    config : str or path-like, default=None
        The project's labeling config (XML text or a file): gives
        ``from_name`` and the classes from its ``Choices``.
    tie_break : {"skip", "first", "last"}, default="skip"
        A tie among the most frequent labels: leave the position unlabeled
        (``"skip"``), or take the label of the earliest (``"first"``) or the
        latest (``"last"``) of the tied annotations.
    missing_label : int, float, str or None, default=-1
        The marker of positions without a label, as
        :class:`~skal.ActiveLearner` takes it (its default is -1).
    format : {"json", "json-min", "csv"}, default=None
        The export's format, if not detected from the file.

    Returns
    -------
    labels : LabelStudioLabels
        ``labels.y`` is the label array; ``labels.summary()`` the report.

    Raises
    ------
    ValueError
        A one-line message naming the task and the field: a task without a
        position, a position outside the pool or never exported, a task of
        another ranking, a label outside ``classes``, several choices in one
        annotation, or an ambiguous ``from_name``.

    See Also
    --------
    write_labels : Save the labels as CSV or NPY.
    skal.ActiveLearner : Takes ``labels.y`` as its ``y``.

    Examples
    --------
    >>> import json, tempfile
    >>> from skal.labeling import read_label_studio
    >>> def annotation(label, cancelled=False):
    ...     return {"was_cancelled": cancelled, "result": [
    ...         {"from_name": "label", "to_name": "image", "type": "choices",
    ...          "value": {"choices": [label]}}]}
    >>> tasks = [
    ...     {"id": 1, "data": {"position": 4}, "annotations": [annotation("cat")]},
    ...     {"id": 2, "data": {"position": 0}, "annotations": [
    ...         annotation("dog"), annotation("dog"), annotation("cat")]},
    ...     {"id": 3, "data": {"position": 2}, "annotations": [annotation("cat", True)]},
    ... ]
    >>> path = tempfile.mktemp(suffix=".json")
    >>> with open(path, "w") as f:
    ...     json.dump(tasks, f)
    >>> labels = read_label_studio(path, n_samples=6, classes=["cat", "dog"])
    >>> labels.y.tolist()
    ['dog', -1, -1, -1, 'cat', -1]
    >>> labels.labeled.tolist(), labels.n_cancelled
    ([0, 4], 1)
    >>> labels.disagreements[0]["votes"]
    {'dog': 2, 'cat': 1}
    """
    if tie_break not in _TIE_BREAKS:
        raise ValueError(
            f"tie_break={tie_break!r}: pass one of {', '.join(map(repr, _TIE_BREAKS))}."
        )
    if format is not None and format not in _FORMATS:
        raise ValueError(f"format={format!r}: pass one of {', '.join(map(repr, _FORMATS))}.")
    state_n, exported, state_classes, ranking_id, data_keys = _state_facts(state)
    if n_samples is None:
        n_samples = state_n
    config_classes = None
    if config is not None:
        controls = _config_choices(config)
        if from_name is None and len(controls) == 1:
            from_name = next(iter(controls))
        if from_name not in controls:
            raise ValueError(
                f"the labeling config has no Choices named {from_name!r}; it has: "
                f"{', '.join(map(repr, controls)) or 'none'}."
            )
        config_classes = controls[from_name]
    if classes is None:
        classes = config_classes if config_classes is not None else state_classes
    if classes is not None:
        classes = list(classes)

    records, fmt = _load_records(export, format)
    if fmt == "json":
        tasks, n_cancelled, n_empty, name = _votes_json(records, from_name)
    else:
        tasks, n_cancelled, n_empty, name = _votes_flat(records, from_name, data_keys)

    mapping = None if classes is None else _class_map(classes)
    by_position, task_ids, n_annotations = {}, {}, 0
    for task_id, data, votes in tasks:
        position = _position(task_id, data, n_samples, exported, ranking_id)
        task_ids.setdefault(position, []).append(task_id)
        for label, annotator, gold, time in votes:
            key = str(label)
            if mapping is not None and key not in mapping:
                shown = ", ".join(map(str, classes[:12])) + (", ..." if len(classes) > 12 else "")
                raise ValueError(
                    f"task {task_id} (position {position}): {name!r} is {key!r}, which is not "
                    f"a known class ({shown}). Fix the label or the labeling config's choices, "
                    "or pass the classes (--classes)."
                )
            by_position.setdefault(position, []).append(
                (mapping[key] if mapping is not None else label, annotator, gold, time))
            n_annotations += 1
    if n_samples is None:
        n_samples = max(task_ids, default=-1) + 1
    y = _empty_y(n_samples, classes, missing_label)
    disagreements = []
    for position in sorted(by_position):
        votes = by_position[position]
        label, rule = _resolve(votes, tie_break)
        if label is not None:
            y[position] = label
        if len({v[0] for v in votes}) > 1:
            counts = Counter(v[0] for v in votes)
            disagreements.append({"position": position, "tasks": task_ids[position],
                                  "votes": dict(counts.most_common()), "label": label,
                                  "rule": rule})
    labeled = np.array(sorted(p for p in by_position if _is_label(y[p], missing_label)),
                       dtype=np.intp)
    unannotated = np.array(sorted(set(task_ids) - set(by_position)), dtype=np.intp)
    return LabelStudioLabels(
        y=y, labeled=labeled, classes=classes, from_name=name, format=fmt,
        n_tasks=len(tasks), n_annotations=n_annotations, n_cancelled=n_cancelled,
        n_empty=n_empty, unannotated=unannotated, disagreements=disagreements,
        duplicates=sorted(p for p, ids in task_ids.items() if len(ids) > 1),
    )


def _is_label(value, missing_label):
    """Whether ``value`` is a label, not the marker (None and NaN always mark)."""
    if value is None or (isinstance(value, float) and value != value):
        return False
    if missing_label is None or (isinstance(missing_label, float)
                                 and missing_label != missing_label):
        return True
    same_kind = isinstance(value, str) == isinstance(missing_label, str)
    return not (same_kind and value == missing_label)


# -- label files ----------------------------------------------------------------


def write_labels(path, y, *, missing_label=-1):
    """Save one label per pool position as CSV or NPY.

    ``python -m skal labels`` writes its output with it, and
    ``python -m skal rank --labels`` reads the file back with :func:`read_labels`.

    Parameters
    ----------
    path : str or path-like
        ``.csv``: a header ``position,label`` and one row per position, the
        label empty where there is none. ``.npy``: the array itself (an
        object array, for text labels, is saved with pickle).
    y : array-like of shape (n_samples,)
        Labels, ``missing_label`` where there is none.
    missing_label : int, float, str or None, default=-1
        The marker of unlabeled positions in ``y``.

    See Also
    --------
    read_labels : Read the file back.

    Examples
    --------
    >>> import tempfile
    >>> from skal.labeling import read_labels, write_labels
    >>> path = tempfile.mktemp(suffix=".csv")
    >>> write_labels(path, [3, -1, 0])
    >>> print(open(path).read().strip())
    position,label
    0,3
    1,
    2,0
    >>> read_labels(path).tolist()
    [3, -1, 0]
    """
    path = Path(path)
    y = np.asarray(y) if not isinstance(y, np.ndarray) else y
    suffix = path.suffix.lower()
    if suffix == ".npy":
        np.save(path, y, allow_pickle=y.dtype == object)
        return
    if suffix != ".csv":
        raise ValueError(f"{str(path)!r}: write labels to a .csv or .npy file.")
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["position", "label"])
        for position, value in enumerate(y.tolist()):
            writer.writerow([position, value if _is_label(value, missing_label) else ""])


def read_labels(path, *, n_samples=None, classes=None, missing_label=-1):
    """Read one label per pool position from a CSV or NPY file.

    The result is what :class:`~skal.ActiveLearner` takes as ``y``: labels
    where given, ``missing_label`` elsewhere.

    Parameters
    ----------
    path : str or path-like
        A ``.npy`` array, or a ``.csv`` file with the columns ``position`` and
        ``label`` (other columns are ignored; positions not listed and empty
        labels are unlabeled), as :func:`write_labels` and
        ``python -m skal labels`` write them.
    n_samples : int, default=None
        The pool size; by default the length of the array, or the largest
        position listed plus one.
    classes : list, default=None
        CSV: the classes, to turn the label text back into class values; by
        default, labels that are all integers become integers.
    missing_label : int, float, str or None, default=-1
        The marker of unlabeled positions in the result (and in a ``.npy``).

    Returns
    -------
    y : ndarray of shape (n_samples,)
        The labels, ``missing_label`` where there is none.

    Raises
    ------
    ValueError
        For a missing column, a position that is not an integer in the pool,
        or a label outside ``classes``, naming the row.

    See Also
    --------
    write_labels : Write such a file.

    Examples
    --------
    >>> import tempfile
    >>> from skal.labeling import read_labels
    >>> path = tempfile.mktemp(suffix=".csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("position,label\\n4,cat\\n1,dog\\n")
    >>> read_labels(path, n_samples=5).tolist()
    [-1, 'dog', -1, -1, 'cat']
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"labels file {str(path)!r} does not exist.")
    if path.suffix.lower() == ".npy":
        y = np.load(path, allow_pickle=True)
        if y.ndim != 1:
            raise ValueError(f"{str(path)!r} holds an array of shape {y.shape}; labels are 1-D.")
        if n_samples is not None and len(y) > n_samples:
            raise ValueError(
                f"{str(path)!r} holds {len(y)} labels, more than the pool's {n_samples} samples."
            )
        if n_samples is not None and len(y) < n_samples:  # positions added since
            pad = _empty_y(n_samples - len(y), None if y.dtype == object else [0], missing_label)
            y = np.concatenate([y, pad.astype(y.dtype) if y.dtype != object else pad])
        return y
    if path.suffix.lower() != ".csv":
        raise ValueError(f"{str(path)!r}: read labels from a .csv or .npy file.")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"position", "label"} <= set(reader.fieldnames):
            raise ValueError(
                f"{str(path)!r} needs the columns 'position' and 'label'; it has: "
                f"{', '.join(reader.fieldnames or [])}."
            )
        rows, n_listed = [], 0
        for line, row in enumerate(reader, start=2):
            try:
                position = int(float(row["position"]))
            except (TypeError, ValueError):
                raise ValueError(
                    f"{str(path)!r} line {line}: position {row['position']!r} is not an integer."
                ) from None
            if position < 0 or (n_samples is not None and position >= n_samples):
                raise ValueError(
                    f"{str(path)!r} line {line}: position {position} is outside the pool "
                    f"(0..{n_samples - 1 if n_samples else '?'})."
                )
            n_listed = max(n_listed, position + 1)
            if row["label"] not in (None, ""):
                rows.append((line, position, row["label"]))
    if n_samples is None:
        n_samples = n_listed
    if classes is None:
        texts = [t for _, _, t in rows]
        if texts and all(_is_int_text(t) for t in texts):
            classes = sorted({int(t) for t in texts})
    mapping = None if classes is None else _class_map(classes)
    y = _empty_y(n_samples, classes, missing_label)
    for line, position, text in rows:
        if mapping is not None and text not in mapping:
            raise ValueError(
                f"{str(path)!r} line {line}: label {text!r} is not a known class "
                f"({', '.join(map(str, classes[:12]))})."
            )
        y[position] = mapping[text] if mapping is not None else text
    return y


def _is_int_text(text):
    try:
        return float(text).is_integer() and str(int(float(text))) == text.strip()
    except ValueError:
        return False
