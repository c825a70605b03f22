"""Labels back from Label Studio: ``skal.labeling`` on the three export formats.

The fixtures in tests/data/label_studio/ are a Label Studio 1.23 JSON export and
its JSON-MIN and CSV conversions made by Label Studio's own converter (see
make_export.py there). Expected labels are worked out by hand from the votes.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from skal.labeling import read_label_studio, read_labels, write_labels

DATA = Path(__file__).resolve().parent / "data" / "label_studio"
FORMATS = {"json": "export.json", "json-min": "export_min.json", "csv": "export.csv"}


class _Ranking:
    """What a state's ranking tells the reader: the pool size and the ranked positions."""

    def __init__(self, n_points, ranked):
        self.n_points, self.ranked = n_points, np.asarray(ranked)


def state(exported=(3, 7, 1, 10, 5, 0, 8), n=12, ranking_id="abcd1234", classes=None):
    strategy = None
    if classes is not None:
        class Model:
            classes_ = np.asarray(classes)

        class Strategy:
            estimator = Model()

        strategy = Strategy()
    return {"ranking": _Ranking(n, exported), "n_samples": n,
            "exported": np.asarray(exported), "ranking_id": ranking_id, "strategy": strategy}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_format_gives_the_hand_worked_labels(fmt):
    labels = read_label_studio(DATA / FORMATS[fmt], state=state(), classes=["cat", "dog"])
    assert labels.format == fmt and labels.from_name == "label"
    y = labels.y.tolist()
    assert len(y) == 12
    assert y[3] == "cat"                      # one vote
    assert y[7] == "dog"                      # two agreeing votes (+ one cancelled: ignored)
    assert y[1] == -1                         # a 1-1 tie, tie_break="skip"
    assert y[10] == "cat"                     # 2-1 majority
    assert y[5] == -1 and y[0] == -1          # only cancelled / no annotation
    # position 8: cat, and dog marked ground truth; only the JSON export keeps the flag
    assert y[8] == ("dog" if fmt == "json" else -1)
    assert [y[p] for p in (2, 4, 6, 9, 11)] == [-1] * 5  # never exported
    assert labels.labeled.tolist() == sorted([3, 7, 10] + ([8] if fmt == "json" else []))
    assert 0 in labels.unannotated.tolist()
    disagreements = {d["position"]: d for d in labels.disagreements}
    assert sorted(disagreements) == [1, 8, 10]
    assert disagreements[10]["votes"] == {"cat": 2, "dog": 1}
    assert disagreements[10]["label"] == "cat" and disagreements[10]["rule"] == "majority"
    assert disagreements[1]["label"] is None and disagreements[1]["rule"] == "tie: skip"
    if fmt == "json":
        assert disagreements[8]["rule"] == "ground truth"
        assert labels.n_cancelled == 2  # JSON-MIN and CSV leave cancelled annotations out
    assert labels.n_annotations == 10  # 1 + 2 + 2 + 3 + 2 votes
    text = "\n".join(labels.summary())
    assert "annotators disagree on 3 positions" in text and "position 10: cat: 2, dog: 1" in text


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("tie_break, expected", [("first", "cat"), ("last", "dog")])
def test_tie_break_takes_the_earliest_or_latest_annotation(fmt, tie_break, expected):
    # position 1: cat at 10:05, dog at 10:06
    labels = read_label_studio(DATA / FORMATS[fmt], n_samples=12, tie_break=tie_break)
    assert labels.y[1] == expected
    assert {d["position"]: d["rule"] for d in labels.disagreements}[1] == f"tie: {tie_break}"


def test_classes_from_the_config_and_from_the_model():
    from_config = read_label_studio(DATA / "export.json", n_samples=12,
                                    config=DATA / "config.xml")
    assert from_config.classes == ["cat", "dog"] and from_config.from_name == "label"
    # integer classes of the model: the text labels become its class values
    tasks = json.loads((DATA / "export.json").read_text())
    for task in tasks:
        for annotation in task["annotations"]:
            for r in annotation["result"]:
                r["value"]["choices"] = [{"cat": "0", "dog": "1"}[r["value"]["choices"][0]]]
    path = DATA.parent / "_ints.json"
    try:
        path.write_text(json.dumps(tasks))
        labels = read_label_studio(path, state=state(classes=[0, 1, 2]))
    finally:
        path.unlink()
    assert labels.y.dtype == np.int64
    assert labels.y[[3, 7, 10, 8]].tolist() == [0, 1, 0, 1]


def _edited(tmp_path, edit, name="export.json"):
    tasks = json.loads((DATA / name).read_text())
    edit(tasks)
    path = tmp_path / name
    path.write_text(json.dumps(tasks))
    return path


def _set(key, value, task=0):
    def edit(tasks):
        tasks[task]["data"][key] = value
    return edit


def _label(value):
    def edit(tasks):
        tasks[0]["annotations"][0]["result"][0]["value"]["choices"] = [value]
    return edit


def _two_choices(tasks):
    tasks[0]["annotations"][0]["result"][0]["value"]["choices"] = ["cat", "dog"]


def _second_control(tasks):
    extra = dict(tasks[0]["annotations"][0]["result"][0], from_name="quality")
    tasks[0]["annotations"][0]["result"].append(extra)


@pytest.mark.parametrize(
    "edit, kwargs, message",
    [
        (_set("position", 99), {}, "task 1: data.position 99 is outside the pool (0..11)"),
        (_set("position", 2), {}, "task 1: position 2 was never exported by this ranking"),
        (_set("ranking_id", "ffff0000"), {},
         "task 1: data.ranking_id is 'ffff0000', but the state's ranking is 'abcd1234'"),
        (_set("position", None), {}, "task 1 has no data.position"),
        (_set("position", "x"), {}, "task 1: data.position is 'x', not a pool position"),
        (_label("kat"), {"classes": ["cat", "dog"]},
         "task 1 (position 3): 'label' is 'kat', which is not a known class (cat, dog)"),
        (_two_choices, {}, "task 1: annotation 1 picked 2 choices (cat, dog) in 'label'"),
        (_second_control, {}, "hold several label fields (label, quality): name the Choices"),
        (lambda tasks: None, {"from_name": "class"}, "from_name='class' is not in"),
        (lambda tasks: None, {"tie_break": "vote"}, "tie_break='vote': pass one of"),
    ],
    ids=["outside", "not exported", "other ranking", "no position", "bad position",
         "unknown class", "two choices", "two controls", "wrong from_name", "bad tie rule"],
)
def test_bad_exports_name_the_task_and_the_field(tmp_path, edit, kwargs, message):
    path = _edited(tmp_path, edit)
    with pytest.raises(ValueError) as exc:
        read_label_studio(path, state=state(), **kwargs)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_not_an_export(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(ValueError, match="is not a Label Studio JSON export"):
        read_label_studio(tmp_path / "x.json")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_label_studio(tmp_path / "none.json")


def test_duplicated_tasks_pool_their_votes(tmp_path):
    # Label Studio does not de-duplicate a re-import: the same position in two tasks
    def duplicate(tasks):
        copy = json.loads(json.dumps(tasks[0]))
        copy["id"] = 99
        copy["annotations"][0]["result"][0]["value"]["choices"] = ["dog"]
        tasks.append(copy)

    labels = read_label_studio(_edited(tmp_path, duplicate), state=state())
    assert labels.duplicates == [3]
    [d] = [d for d in labels.disagreements if d["position"] == 3]
    assert d["tasks"] == [1, 99] and d["votes"] == {"cat": 1, "dog": 1} and d["label"] is None


def test_csv_with_renamed_colliding_data_key(tmp_path):
    # a data field named like the control: Label Studio's CSV writes it as _data_<name>
    text = (DATA / "export.csv").read_text().replace('"position"', '"_data_position"', 1)
    (tmp_path / "e.csv").write_text(text)
    labels = read_label_studio(tmp_path / "e.csv", state=state())
    assert labels.y[10] == "cat"


@pytest.mark.parametrize("suffix", [".csv", ".npy"])
@pytest.mark.parametrize("y", [[3, -1, 0, -1], ["cat", -1, "dog", -1]], ids=["int", "str"])
def test_write_then_read_labels(tmp_path, suffix, y):
    y = np.array(y, dtype=object if isinstance(y[0], str) else np.int64)
    path = tmp_path / f"labels{suffix}"
    write_labels(path, y)
    back = read_labels(path)
    assert back.tolist() == y.tolist()
    # a pool that grew since: the new positions are unlabeled
    assert read_labels(path, n_samples=6).tolist() == y.tolist() + [-1, -1]


def test_read_labels_errors(tmp_path):
    (tmp_path / "a.csv").write_text("pos,label\n0,1\n")
    with pytest.raises(ValueError, match="needs the columns 'position' and 'label'"):
        read_labels(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("position,label\n0,1\n9,2\n")
    with pytest.raises(ValueError, match=r"line 3: position 9 is outside the pool \(0..4\)"):
        read_labels(tmp_path / "b.csv", n_samples=5)
    (tmp_path / "c.csv").write_text("position,label\n0,cow\n")
    with pytest.raises(ValueError, match="line 2: label 'cow' is not a known class"):
        read_labels(tmp_path / "c.csv", classes=["cat", "dog"])


def test_labels_feed_the_active_learner():
    """The y that read_label_studio returns is what ActiveLearner.fit takes."""
    from sklearn.linear_model import LogisticRegression

    from skal import ActiveLearner, EntropySampling

    labels = read_label_studio(DATA / "export.json", state=state())
    X = np.random.RandomState(0).rand(12, 3)
    learner = ActiveLearner(LogisticRegression(), EntropySampling()).fit(X, labels.y)
    assert sorted(learner.labeled_indices_.tolist()) == labels.labeled.tolist()
    to_label = learner.query(X, labels.y, batch_size=2)
    assert len(to_label) == 2 and not set(to_label.tolist()) & set(labels.labeled.tolist())
