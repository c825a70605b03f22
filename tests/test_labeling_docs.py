"""docs/labeling.md, run: every shell command of the page, in order, in subprocesses.

Between the commands a simulated Label Studio imports the tasks that ``rank``
wrote, annotates them with the true digit (one task per day skipped, one with
a wrong second vote outvoted by a third) and exports the project in Label
Studio's formats: JSON on the first day, JSON-MIN on the second (both as
``export.json``, as the page names them), and CSV at the end. The exports
follow Label Studio's export code (label_studio_sdk's converter: one record per
annotation, newest first; cancelled annotations left out of JSON-MIN and CSV).
"""

import csv
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import joblib
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "labeling.md"
N_POOL, N_NEW = 300, 40


def commands():
    """Every command of the page's ```bash blocks, in order (one per line)."""
    text = PAGE.read_text()
    out = []
    for block in re.findall(r"```bash\n(.+?)\n```", text, flags=re.S):
        out += [line for line in block.splitlines() if line.strip()]
    return out


class LabelStudio:
    """Tasks imported from ``rank``'s files, annotated, exported as Label Studio does."""

    def __init__(self, truth):
        self.truth, self.tasks, self.imported, self.n_annotations = truth, [], set(), 0

    def import_new(self, folder):
        for path in sorted(folder.glob("day*.json")):
            if path.name not in self.imported:
                self.imported.add(path.name)
                for task in json.loads(path.read_text()):
                    self.tasks.append({"id": len(self.tasks) + 1, "data": task["data"],
                                       "annotations": [], "predictions": task["predictions"]})

    def _annotation(self, label, user, cancelled=False):
        self.n_annotations += 1
        minute = self.n_annotations
        result = [] if cancelled else [{"id": f"r{minute}", "from_name": "label",
                                        "to_name": "image", "type": "choices",
                                        "origin": "manual", "value": {"choices": [label]}}]
        stamp = f"2026-12-07T{10 + minute // 60:02d}:{minute % 60:02d}:00.000000Z"
        return {"id": minute, "completed_by": user, "result": result,
                "was_cancelled": cancelled, "ground_truth": False, "created_at": stamp,
                "updated_at": stamp, "lead_time": 1.5}

    def annotate(self):
        """Label every new task with its true digit: the first one also gets a wrong
        vote and a third, right one; the last one is skipped."""
        new = [t for t in self.tasks if not t["annotations"]]
        for i, task in enumerate(new):
            label = str(self.truth[task["data"]["position"]])
            if i == len(new) - 1:
                task["annotations"].append(self._annotation(None, 1, cancelled=True))
                continue
            task["annotations"].append(self._annotation(label, 1))
            if i == 0:
                wrong = str((int(label) + 1) % 10)
                task["annotations"].append(self._annotation(wrong, 2))
                task["annotations"].append(self._annotation(label, 3))
        return new[0]["data"]["position"], new[-1]["data"]["position"]

    def _records(self):
        """JSON-MIN records, as label_studio_sdk's converter makes them."""
        records = []
        for task in self.tasks:
            if not task["annotations"]:
                records.append({**task["data"], "id": task["id"], "annotator": None,
                                "annotation_id": None, "created_at": None,
                                "updated_at": None, "lead_time": None})
                continue
            kept = [a for a in task["annotations"] if not a["was_cancelled"]]
            for a in sorted(kept, key=lambda a: a["created_at"], reverse=True):
                records.append({**task["data"], "id": task["id"],
                                "label": a["result"][0]["value"]["choices"][0],
                                "annotator": a["completed_by"], "annotation_id": a["id"],
                                "created_at": a["created_at"], "updated_at": a["updated_at"],
                                "lead_time": a["lead_time"]})
        return records

    def export(self, path, fmt):
        if fmt == "json":
            path.write_text(json.dumps(self.tasks, indent=1))
        elif fmt == "json-min":
            path.write_text(json.dumps(self._records(), indent=2))
        else:
            records = self._records()
            keys = sorted(set().union(*records))
            with open(path, "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=keys, quoting=csv.QUOTE_NONNUMERIC)
                writer.writeheader()
                for r in records:
                    writer.writerow({k: "" if r.get(k) is None else r[k] for k in keys})


def _pngs(folder, X):
    from PIL import Image

    folder.mkdir()
    for i, x in enumerate(X):
        Image.fromarray(np.round(x.reshape(8, 8) * 255).astype(np.uint8)).save(
            folder / f"img_{i:03d}.png")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """The files the page's commands name, in one folder."""
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from skal.toy import make_skorch_classifier

    folder = tmp_path_factory.mktemp("labeling")
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    net = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=5).fit(X[:100], y[:100])
    joblib.dump(net, folder / "model.joblib")
    _pngs(folder / "pool", X[100:100 + N_POOL])
    _pngs(folder / "new", X[100 + N_POOL:100 + N_POOL + N_NEW])
    np.save(folder / "digits.npy", X[500:600])
    rng = np.random.RandomState(0)
    table = pd.DataFrame({"city": rng.choice(["north", "south", "east"], 200),
                          "income": rng.gamma(2.0, 20.0, 200).round(1),
                          "age": rng.randint(18, 80, 200)})
    target = (table["income"] + rng.normal(0, 10, 200) > 40).astype(int)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["city"]),
                                (StandardScaler(), ["income", "age"])),
        LogisticRegression(),
    ).fit(table[:60], target[:60])
    joblib.dump(model, folder / "table_model.joblib")
    table[60:].to_csv(folder / "table.csv", index=False)
    truth = dict(enumerate(y[100:100 + N_POOL + N_NEW].tolist()))
    return folder, truth, table[60:].reset_index(drop=True)


def _run(line, cwd):
    args = shlex.split(line)
    assert args[:3] == ["python", "-m", "skal"], line
    done = subprocess.run([sys.executable, *args[1:]], capture_output=True, text=True,
                          cwd=cwd, timeout=300)
    assert done.returncode == 0, f"{line}\n{done.stderr}"
    return done


def _tasks(path):
    return json.loads(Path(path).read_text())


def test_every_command_of_the_page_runs_and_the_rounds_hold(workdir):
    from skal import BADGE
    from skal.datasets import ImageFiles, image_transform
    from skal.labeling import read_labels
    from skal.utils._data import take

    folder, truth, table = workdir
    lines = commands()
    assert len(lines) == 8 and sum(" labels " in f" {line} " for line in lines) == 2
    studio = LabelStudio(truth)
    exports = iter(["json", "json-min"])
    labels_after, reports, edge = [], [], []
    for line in lines:
        if line.startswith("python -m skal labels"):
            studio.import_new(folder)
            edge.append(studio.annotate())
            studio.export(folder / "export.json", next(exports))
        done = _run(line, folder)
        if line.startswith("python -m skal labels"):
            reports.append(done.stderr)
            labels_after.append(read_labels(folder / "labels.csv", n_samples=N_POOL).copy())

    days = [_tasks(folder / f"day{d}.json") for d in (1, 2, 3, 4)]
    positions = [[t["data"]["position"] for t in day] for day in days]
    # ranks continue across the days, and no sample is exported twice
    assert [t["data"]["rank"] for day in days for t in day] == list(range(1, 81))
    flat = [p for day in positions for p in day]
    assert len(set(flat)) == 80
    # the labels: the true digit where annotated, by majority over the wrong vote;
    # the skipped task's sample stays unlabeled
    for y, (outvoted, skipped) in zip(labels_after, edge):
        labeled = np.flatnonzero(y != -1)
        assert all(y[p] == truth[p] for p in labeled)
        assert y[outvoted] == truth[outvoted] and y[skipped] == -1
    assert len(np.flatnonzero(labels_after[0] != -1)) == 19
    assert len(np.flatnonzero(labels_after[1] != -1)) == 38
    assert "annotators disagree on 1 positions" in reports[0]
    assert "annotators disagree on 2 positions" in reports[1]
    # no labeled sample is ranked again
    for later, y in ((positions[2] + positions[3], labels_after[1]),
                     (positions[1] + positions[2] + positions[3], labels_after[0])):
        assert not set(later) & set(np.flatnonzero(y != -1).tolist())
    # day 2 is BADGE with the refitted model on the samples neither labeled nor exported
    model2 = joblib.load(folder / "queue.round2.model.joblib")
    assert (folder / "queue.round3.model.joblib").is_file()
    pool = ImageFiles(folder / "pool", transform=image_transform("grayscale,tensor,flatten"))
    rest = np.setdiff1d(np.arange(N_POOL),
                        np.union1d(np.flatnonzero(labels_after[0] != -1), positions[0]))
    expected = rest[BADGE(model2, prefit=True, random_state=0).rank(take(pool, rest))[:20]]
    assert positions[1] == expected.tolist()
    # day 4 ranks the old and the added images (positions from 300 on)
    assert all(0 <= p < N_POOL + N_NEW for p in positions[3])
    # the links: URL-encoded paths below the pool folder's parent, each an existing file
    for day in days:
        for task in day:
            image = task["data"]["image"]
            assert image.startswith("/data/local-files/?d=")
            file = folder / unquote(image[len("/data/local-files/?d="):])
            assert file.is_file()
            names = "pool" if task["data"]["position"] < N_POOL else "new"
            assert file.parent.name == names
            assert task["predictions"][0]["score"] == 1 / task["data"]["rank"]

    # a table: the chosen columns' values in each task
    rows = _tasks(folder / "table.json")
    assert len(rows) == 20
    for task in rows:
        p = task["data"]["position"]
        assert task["data"]["city"] == table["city"][p]
        assert task["data"]["income"] == table["income"][p]
    # an array of images: PNGs written and linked
    for task in _tasks(folder / "digits.json"):
        p = task["data"]["position"]
        assert task["data"]["image"] == f"/data/local-files/?d=images/{p}.png"
        assert (folder / "images" / f"{p}.png").is_file()

    # the same project exported as CSV gives the same labels
    from skal.__main__ import main

    studio.export(folder / "export.csv", "csv")
    assert main(["labels", str(folder / "export.csv"), "--state", str(folder / "queue.joblib"),
                 "-o", str(folder / "from_csv.csv"), "-q"]) == 0
    from_csv = read_labels(folder / "from_csv.csv")
    assert len(from_csv) == N_POOL + N_NEW  # the pool grew on day 4
    np.testing.assert_array_equal(from_csv[:N_POOL], labels_after[1])
    assert np.all(from_csv[N_POOL:] == -1)
