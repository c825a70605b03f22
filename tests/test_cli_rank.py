"""``python -m skal rank``: the real command in subprocesses, checked against the
strategies computed in this process."""

import csv
import json
import subprocess
import sys

import joblib
import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from skal import BADGE, EntropySampling
from skal.__main__ import main
from skal.toy import make_skorch_classifier


def skal_rank(*args, cwd=None):
    """``python -m skal rank ARGS`` in a fresh interpreter: (returncode, stdout, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "skal", "rank", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


class _NoPandas:
    """A meta path finder that makes ``import pandas`` raise ImportError."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "pandas":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A LogisticRegression and a small skorch net fitted on digits, saved with
    joblib; a pool of 600 and 200 new samples as .npy files."""
    root = tmp_path_factory.mktemp("rank")
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    logreg = LogisticRegression(max_iter=500).fit(X[:200], y[:200])
    net = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=3).fit(X[:200], y[:200])
    svc = LinearSVC().fit(X[:200], y[:200])
    paths = {name: root / f"{name}.joblib" for name in ("logreg", "net", "svc")}
    for name, model in (("logreg", logreg), ("net", net), ("svc", svc)):
        joblib.dump(model, paths[name])
    paths["pool"], paths["new"] = root / "pool.npy", root / "new.npy"
    np.save(paths["pool"], X[200:800])
    np.save(paths["new"], X[800:1000])
    paths["narrow"] = root / "narrow.npy"
    np.save(paths["narrow"], X[200:260, :10])
    return dict(paths=paths, root=root, logreg=logreg, net=net, X=X,
                pool=X[200:800], new=X[800:1000])


def test_entropy_whole_pool_jsonl_with_scores(files, tmp_path):
    p = files["paths"]
    out = tmp_path / "ranking.jsonl"
    code, _, err = skal_rank(p["logreg"], p["pool"], "--strategy", "entropy", "-o", out)
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    strategy = EntropySampling(files["logreg"], prefit=True)
    expected = strategy.rank(files["pool"])
    np.testing.assert_array_equal([r["position"] for r in rows], expected)
    assert [r["rank"] for r in rows] == list(range(1, 601))
    np.testing.assert_allclose([r["score"] for r in rows],
                               strategy.transform(files["pool"])[expected, 0], rtol=1e-12)
    assert set(rows[0]) == {"position", "rank", "score"}


def test_resume_across_two_invocations_gives_the_uninterrupted_picks(files, tmp_path):
    """Day 1 takes the top 25 with BADGE and saves; day 2, in a fresh process, adds
    200 new samples and takes 40: exactly what one uninterrupted lazy ranking gives."""
    p = files["paths"]
    state, day1, day2 = tmp_path / "state.joblib", tmp_path / "day1.csv", tmp_path / "day2.csv"
    code, _, err = skal_rank(p["net"], p["pool"], "--strategy", "badge", "--random-state", 0,
                             "--top", 25, "--state", state, "-o", day1)
    assert code == 0, err
    assert "ranking 600 samples with BADGE" in err and "wrote 25 rows to" in err
    code, _, err = skal_rank("--resume", state, "--add", p["new"], "--top", 40, "-o", day2)
    assert code == 0, err
    assert "new samples got positions 600..799" in err

    lazy = BADGE(files["net"], prefit=True, random_state=0).lazy_rank(files["pool"])
    first = lazy.take(25)
    np.testing.assert_array_equal(lazy.add(files["new"]), np.arange(600, 800))
    second = lazy.take(40)
    rows1, rows2 = read_csv(day1), read_csv(day2)
    assert list(rows1[0]) == ["position", "rank", "score"]
    assert all(r["score"] == "" for r in rows1 + rows2)  # BADGE has no per-sample score
    assert [int(r["rank"]) for r in rows1] == list(range(1, 26))
    np.testing.assert_array_equal(
        first, BADGE(files["net"], prefit=True, random_state=0).rank(files["pool"])[:25])
    np.testing.assert_array_equal([int(r["position"]) for r in rows1], first)
    np.testing.assert_array_equal([int(r["position"]) for r in rows2], second)
    assert [int(r["rank"]) for r in rows2] == list(range(26, 66))
    # the state was saved back: it continues where day 2 stopped
    saved = joblib.load(state)
    assert len(saved["ranking"].ranked) == 65
    np.testing.assert_array_equal(saved["ranking"].take(10), lazy.take(10))


def _write_digit_pngs(folder, X, classes=None):
    from PIL import Image

    paths = []
    for i, x in enumerate(X):
        sub = folder / (f"class_{classes[i]}" if classes is not None else "")
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"img_{i:03d}.png"
        Image.fromarray(np.round(x.reshape(8, 8) * 255).astype(np.uint8)).save(path)
        paths.append(path)
    return paths


def test_image_folder_csv_has_paths(files, tmp_path):
    """An ImageFolder (class subfolders) of 30 PNGs, read with --transform."""
    from torchvision import transforms
    from torchvision.datasets import ImageFolder

    folder = tmp_path / "images"
    _write_digit_pngs(folder, files["X"][1000:1030], classes=np.arange(30) % 3)
    out = tmp_path / "ranking.csv"
    code, _, err = skal_rank(files["paths"]["net"], folder, "--strategy", "entropy",
                             "--transform", "grayscale,tensor,flatten", "--top", 10, "-o", out)
    assert code == 0, err
    dataset = ImageFolder(str(folder), transform=transforms.Compose(
        [transforms.Grayscale(), transforms.ToTensor(), torch.flatten]))
    strategy = EntropySampling(files["net"], prefit=True)
    expected = strategy.rank(dataset)[:10]
    rows = read_csv(out)
    assert list(rows[0]) == ["position", "rank", "score", "path"]
    np.testing.assert_array_equal([int(r["position"]) for r in rows], expected)
    assert [r["path"] for r in rows] == [dataset.samples[i][0] for i in expected]
    np.testing.assert_allclose([float(r["score"]) for r in rows],
                               strategy.transform(dataset)[expected, 0], rtol=1e-5)


def test_flat_image_folder_to_label_studio_tasks(files, tmp_path):
    """A flat folder of PNGs (no class subfolders), written as Label Studio tasks."""
    folder = tmp_path / "flat"
    paths = sorted(_write_digit_pngs(folder, files["X"][1000:1020]))
    out = tmp_path / "tasks.json"
    code, _, err = skal_rank(files["paths"]["net"], "flat", "--strategy", "margin",
                             "--transform", "grayscale,tensor,flatten", "--top", 5,
                             "--url-prefix", "/data/local-files/?d=", "-o", out, cwd=tmp_path)
    assert code == 0, err
    tasks = json.loads(out.read_text())
    assert isinstance(tasks, list) and len(tasks) == 5
    assert all(set(task) == {"data", "predictions"} for task in tasks)
    assert [t["data"]["rank"] for t in tasks] == [1, 2, 3, 4, 5]
    for task in tasks:
        position = task["data"]["position"]
        assert task["data"]["image"] == f"/data/local-files/?d=flat/{paths[position].name}"
        assert task["data"]["score"] > 0
        # the priority where Label Studio sorts numerically: 1 / rank, decreasing
        [prediction] = task["predictions"]
        assert prediction["score"] == 1 / task["data"]["rank"]
        assert prediction["result"] == []
        assert prediction["model_version"].startswith("skal MarginSampling ranking ")
        assert task["data"]["ranking_id"] in prediction["model_version"]


ERRORS = {
    "missing model": lambda p, t: ["missing.joblib", p["pool"], "--strategy", "badge"],
    "no predict_proba": lambda p, t: [p["svc"], p["pool"], "--strategy", "entropy"],
    "wrong feature count": lambda p, t: [p["logreg"], p["narrow"], "--strategy", "entropy"],
}


def test_bad_arguments_give_one_line_and_no_traceback(files, tmp_path):
    """The cases issue 14 names, each in its own `python -m skal rank`, run at once
    (the other cases run in this process, below)."""
    p = files["paths"]
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "skal", "rank", "-q", *map(str, make(p, tmp_path)),
             "-o", str(tmp_path / f"{i}.csv")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i, (name, make) in enumerate(ERRORS.items())
    }
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, (name, err)
        assert "Traceback" not in err, (name, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (name, err)
    assert not any((tmp_path / f"{i}.csv").exists() for i in range(len(ERRORS)))


# -- the same command, in this process (fast): pools and argument checks ----------


def run_main(args, capsys):
    status = main(["rank", "-q", *map(str, args)])
    return status, capsys.readouterr()


def test_npz_and_csv_pools(files, tmp_path, capsys):
    p = files["paths"]
    pool = files["pool"][:100]
    expected = EntropySampling(files["logreg"], prefit=True).rank(pool)[:7]
    np.savez(tmp_path / "one.npz", pool=pool)
    np.savez(tmp_path / "two.npz", pool=pool, other=pool[:3])
    np.savetxt(tmp_path / "pool.csv", pool, delimiter=",",
               header=",".join(f"f{j}" for j in range(64)), comments="")
    for source, extra in (("one.npz", []), ("two.npz", ["--key", "pool"]), ("pool.csv", [])):
        out = tmp_path / f"{source}.csv"
        status, io = run_main([p["logreg"], tmp_path / source, "--strategy", "entropy",
                               "--top", 7, "-o", out, *extra], capsys)
        assert status == 0, io.err
        np.testing.assert_array_equal([int(r["position"]) for r in read_csv(out)], expected)


def test_csv_pool_without_pandas(files, tmp_path, capsys, monkeypatch):
    pool = files["pool"][:50]
    np.savetxt(tmp_path / "pool.csv", pool, delimiter=",")  # no header
    monkeypatch.delitem(sys.modules, "pandas", raising=False)  # as if never imported,
    monkeypatch.setattr(sys, "meta_path", [_NoPandas(), *sys.meta_path])  # nor importable
    out = tmp_path / "r.csv"
    status, io = run_main([files["paths"]["logreg"], tmp_path / "pool.csv",
                           "--strategy", "entropy", "-o", out], capsys)
    assert status == 0, io.err
    expected = EntropySampling(files["logreg"], prefit=True).rank(pool)
    np.testing.assert_array_equal([int(r["position"]) for r in read_csv(out)], expected)


@pytest.mark.parametrize(
    "args, message",
    [
        (lambda p, t: [p["logreg"], p["pool"], "--strategy", "nope"], "Unknown strategy 'nope'"),
        (lambda p, t: [p["net"], t / "missing.npy", "--strategy", "badge"], "does not exist"),
        (lambda p, t: ["--resume", t / "none.joblib"], "no such state file"),
        (lambda p, t: [p["logreg"], t / "flat", "--strategy", "margin",
                       "--transform", "grayscale,tensor,flatten"], "Dataset"),
        (lambda p, t: [p["logreg"], p["pool"]], "pass --strategy"),
        (lambda p, t: [p["logreg"]], "pass MODEL and POOL"),
        (lambda p, t: [p["logreg"], p["pool"], "--strategy", "entropy", "--add", p["new"]],
         "use it with --resume"),
        (lambda p, t: ["--resume", p["net"], p["pool"]], "not MODEL POOL"),
        (lambda p, t: [t / "garbage.joblib", p["pool"], "--strategy", "entropy"],
         "cannot read a model"),
        (lambda p, t: [t / "list.joblib", p["pool"], "--strategy", "entropy"],
         "not a fitted estimator"),
        (lambda p, t: ["--resume", p["logreg"]], "is not a ranking state"),
        (lambda p, t: [p["logreg"], t / "two.npz", "--strategy", "entropy"],
         "name the pool with --key"),
        (lambda p, t: [p["logreg"], t / "two.npz", "--strategy", "entropy", "--key", "x"],
         "has no array 'x'"),
        (lambda p, t: [p["logreg"], t / "pool.txt", "--strategy", "entropy"],
         "unknown kind '.txt'"),
        (lambda p, t: [p["logreg"], p["pool"], "--strategy", "entropy", "--random-state", 0],
         "takes no seed"),
        (lambda p, t: [p["logreg"], p["pool"], "--strategy", "entropy", "--top", 0],
         "--top must be a positive integer"),
        (lambda p, t: [p["net"], t / "images", "--strategy", "entropy", "--transform", "blur"],
         "unknown step 'blur'"),
        (lambda p, t: [p["net"], t / "empty", "--strategy", "entropy"], "holds no image files"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_argument_errors_in_process(files, tmp_path, capsys, args, message):
    (tmp_path / "garbage.joblib").write_text("not a pickle")
    joblib.dump([1, 2, 3], tmp_path / "list.joblib")
    np.savez(tmp_path / "two.npz", a=np.zeros((3, 64)), b=np.zeros((3, 64)))
    (tmp_path / "pool.txt").write_text("1,2\n")
    (tmp_path / "images" / "a").mkdir(parents=True)
    (tmp_path / "empty").mkdir()
    _write_digit_pngs(tmp_path / "flat", files["X"][:3])
    status, io = run_main([*args(files["paths"], tmp_path), "-o", tmp_path / "r.csv"], capsys)
    assert status == 2
    lines = io.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), io.err
    assert message in lines[0]
    assert not (tmp_path / "r.csv").exists()


def test_output_format_errors_come_from_argparse_as_one_line(files, tmp_path, capsys):
    p = files["paths"]
    with pytest.raises(SystemExit) as exc:
        main(["rank", str(p["logreg"]), str(p["pool"]), "--strategy", "entropy", "--top", "x",
              "-o", str(tmp_path / "r.csv")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: argument --top")
    with pytest.raises(SystemExit) as exc:
        main(["rank", str(p["logreg"]), str(p["pool"]), "--strategy", "entropy", "--bogus",
              "-o", str(tmp_path / "r.csv")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: unrecognized arguments: --bogus")
    status, io = run_main([p["logreg"], p["pool"], "--strategy", "entropy",
                           "-o", tmp_path / "r.txt"], capsys)
    assert status == 2 and "pass --format" in io.err


def test_parquet_without_pyarrow_names_the_package(files, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    (tmp_path / "pool.parquet").write_bytes(b"PAR1")
    status, io = run_main([files["paths"]["logreg"], tmp_path / "pool.parquet",
                           "--strategy", "entropy", "-o", tmp_path / "r.csv"], capsys)
    assert status == 2
    assert io.err.strip() == (
        f"error: reading {str(tmp_path / 'pool.parquet')!r} needs pyarrow: pip install pyarrow"
    )


def test_resume_a_lazy_ranking_saved_in_python(files, tmp_path, capsys):
    """--resume also takes joblib.dump(strategy.lazy_rank(pool), path)."""
    strategy = EntropySampling(files["logreg"], prefit=True)
    lazy = strategy.lazy_rank(files["pool"])
    lazy.take(5)
    joblib.dump(lazy, tmp_path / "lazy.joblib")
    lazy.add(files["new"])
    expected = lazy.take(8)
    out = tmp_path / "r.jsonl"
    status, io = run_main(["--resume", tmp_path / "lazy.joblib", "--add", files["paths"]["new"],
                           "--top", 8, "-o", out], capsys)
    assert status == 0, io.err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    np.testing.assert_array_equal([r["position"] for r in rows], expected)
    assert [r["rank"] for r in rows] == list(range(6, 14))
    assert joblib.load(tmp_path / "lazy.joblib")["ranking"].n_points == 800


# -- issue 21: the next round, links, quiet, scores, bugs ----------------------------


def test_quiet_prints_nothing(files, tmp_path, capsys):
    p = files["paths"]
    status = main(["rank", "-q", str(p["logreg"]), str(p["pool"]), "--strategy", "entropy",
                   "--top", "3", "-o", str(tmp_path / "r.csv")])
    out, err = capsys.readouterr()
    assert status == 0 and out == "" and err == ""
    assert len(read_csv(tmp_path / "r.csv")) == 3


def test_bald_scores_are_written(files, tmp_path, capsys):
    """Every strategy that ranks by a score writes it, BALD included."""
    from skal import BALD

    X = files["X"]
    net = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=2,
                                 module__dropout=0.5).fit(X[:200], X[:200].sum(1).astype(int) % 10)
    joblib.dump(net, tmp_path / "drop.joblib")
    out = tmp_path / "r.jsonl"
    status, io = run_main([tmp_path / "drop.joblib", files["paths"]["pool"], "--strategy", "bald",
                           "--random-state", 0, "--top", 6, "-o", out], capsys)
    assert status == 0, io.err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    lazy = BALD(net, prefit=True, random_state=0).lazy_rank(files["pool"])
    picks = lazy.take(6)
    assert [r["position"] for r in rows] == picks.tolist()
    scores = [r["score"] for r in rows]
    assert None not in scores and scores == sorted(scores, reverse=True)
    np.testing.assert_allclose(scores, lazy._ranking.scores[picks], rtol=1e-12)


def test_links_are_url_encoded_and_warned_about(files, tmp_path, capsys):
    from urllib.parse import quote

    from PIL import Image

    folder = tmp_path / "data" / "odd names"
    folder.mkdir(parents=True)
    names = ["a b&c#1.png", "é%2.png", "plain.png"]
    for name, x in zip(names, files["X"][:3]):
        Image.fromarray(np.round(x.reshape(8, 8) * 255).astype(np.uint8)).save(folder / name)
    common = [files["paths"]["net"], folder, "--strategy", "margin", "--transform",
              "grayscale,tensor,flatten", "--format", "label-studio"]
    status = main(["rank", *map(str, common), "-o", str(tmp_path / "a.json")])
    err = capsys.readouterr().err
    assert status == 0
    assert "warning: no --url-prefix" in err
    tasks = json.loads((tmp_path / "a.json").read_text())
    for task in tasks:
        name = sorted(names)[task["data"]["position"]]
        assert task["data"]["image"] == "odd%20names/" + quote(name, safe="")
    # a root that does not hold the images: absolute links, and a warning
    status = main(["rank", *map(str, common), "--url-prefix", "/data/local-files/?d=",
                   "--root", str(tmp_path / "elsewhere"), "-o", str(tmp_path / "b.json")])
    err = capsys.readouterr().err
    assert status == 0 and "lie outside --root" in err and "no --url-prefix" not in err
    image = json.loads((tmp_path / "b.json").read_text())[0]["data"]["image"]
    assert image.startswith("/data/local-files/?d=" + quote(str(folder)))


def test_a_bug_shows_its_traceback(files, tmp_path, monkeypatch):
    """Only user errors become one line; anything else propagates."""
    from skal._cli import _rank

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(_rank, "write_rows", broken)
    with pytest.raises(KeyError, match="a bug"):
        main(["rank", "-q", str(files["paths"]["logreg"]), str(files["paths"]["pool"]),
              "--strategy", "entropy", "-o", str(tmp_path / "r.csv")])


def test_labels_skip_without_refit_and_refit_with_train(files, tmp_path, capsys):
    """--labels alone: the saved model keeps ranking, labeled samples are skipped.
    --refit --train: the new model is the estimator fitted on the initial set plus the
    labels (compared with the same fit here), and ranks what is neither labeled nor
    exported."""
    from sklearn.base import clone

    from skal.labeling import write_labels

    p, pool, logreg = files["paths"], files["pool"], files["logreg"]
    state = tmp_path / "q.joblib"
    status, io = run_main([p["logreg"], p["pool"], "--strategy", "entropy", "--top", 5,
                           "--state", state, "-o", tmp_path / "d1.csv"], capsys)
    assert status == 0, io.err
    order = EntropySampling(logreg, prefit=True).rank(pool)
    day1 = order[:5]
    y = np.full(len(pool), -1)
    y[day1[:3]] = [0, 1, 2]
    y[order[[5, 7]]] = [3, 4]       # labeled elsewhere before being exported
    write_labels(tmp_path / "labels.csv", y)
    status, io = run_main(["--resume", state, "--labels", tmp_path / "labels.csv", "--top", 4,
                           "-o", tmp_path / "d2.csv"], capsys)
    assert status == 0, io.err
    rows = read_csv(tmp_path / "d2.csv")
    assert [int(r["position"]) for r in rows] == order[[6, 8, 9, 10]].tolist()
    assert [int(r["rank"]) for r in rows] == [6, 7, 8, 9]

    np.save(tmp_path / "X0.npy", files["X"][:200])
    np.save(tmp_path / "y0.npy", (files["X"][:200].sum(1) > 20).astype(int) * 3)
    status, io = run_main(["--resume", state, "--labels", tmp_path / "labels.csv", "--refit",
                           "--train", tmp_path / "X0.npy", tmp_path / "y0.npy", "--top", 5,
                           "-o", tmp_path / "d3.csv"], capsys)
    assert status == 0, io.err
    refit = joblib.load(tmp_path / "q.round2.model.joblib")
    labeled = np.flatnonzero(y != -1)
    expected = clone(logreg).fit(np.vstack([files["X"][:200], pool[labeled]]),
                                 np.concatenate([np.load(tmp_path / "y0.npy"), y[labeled]]))
    np.testing.assert_array_equal(refit.coef_, expected.coef_)
    exported = np.concatenate([day1, order[[6, 8, 9, 10]]])
    rest = np.setdiff1d(np.arange(len(pool)), np.union1d(labeled, exported))
    new_order = rest[EntropySampling(refit, prefit=True).rank(pool[rest])]
    rows = read_csv(tmp_path / "d3.csv")
    assert [int(r["position"]) for r in rows] == new_order[:5].tolist()
    assert [int(r["rank"]) for r in rows] == list(range(10, 15))
    saved = joblib.load(state)
    assert saved["round"] == 2 and saved["train"] == [str(tmp_path / "X0.npy"),
                                                      str(tmp_path / "y0.npy")]


def test_labels_command_errors_are_one_line(files, tmp_path, capsys):
    p = files["paths"]
    state = tmp_path / "q.joblib"
    status, io = run_main([p["logreg"], p["pool"], "--strategy", "entropy", "--top", 2,
                           "--state", state, "-o", tmp_path / "d1.json"], capsys)
    assert status == 0, io.err
    tasks = json.loads((tmp_path / "d1.json").read_text())
    export = [{"id": i + 1, "data": t["data"], "annotations": [{"result": [
        {"from_name": "label", "type": "choices", "value": {"choices": ["7"]}}]}]}
        for i, t in enumerate(tasks)]
    export[1]["data"] = dict(export[1]["data"], position=599)  # never exported
    (tmp_path / "export.json").write_text(json.dumps(export))
    status = main(["labels", str(tmp_path / "export.json"), "--state", str(state),
                   "-o", str(tmp_path / "labels.csv")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1
    assert err[0].startswith("error: ") and "task 2: position 599 was never exported" in err[0]
    assert not (tmp_path / "labels.csv").exists()
    export[1]["data"]["position"] = tasks[1]["data"]["position"]
    export[1]["annotations"][0]["result"][0]["value"]["choices"] = ["seven"]
    (tmp_path / "export.json").write_text(json.dumps(export))
    status = main(["labels", str(tmp_path / "export.json"), "--state", str(state),
                   "-o", str(tmp_path / "labels.csv")])
    err = capsys.readouterr().err.strip()
    assert status == 2 and "'seven', which is not a known class (0, 1, 2" in err


def test_model_class_from_the_training_script_needs_import(tmp_path):
    """A net whose module class was defined in the script that saved it: the error
    names the fix, and --import SCRIPT makes it load."""
    (tmp_path / "train.py").write_text(
        "import joblib, numpy as np, torch\n"
        "from skorch import NeuralNetClassifier\n"
        "class Tiny(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.layer = torch.nn.Linear(4, 2)\n"
        "    def forward(self, X):\n"
        "        return torch.softmax(self.layer(X), dim=-1)\n"
        "if __name__ == '__main__':\n"
        "    X = np.random.RandomState(0).rand(20, 4).astype(np.float32)\n"
        "    net = NeuralNetClassifier(Tiny, max_epochs=1, train_split=None, verbose=0)\n"
        "    joblib.dump(net.fit(X, np.arange(20) % 2), 'model.joblib')\n"
        "    np.save('pool.npy', X)\n"
    )
    subprocess.run([sys.executable, "train.py"], cwd=tmp_path, check=True, timeout=120)
    code, _, err = skal_rank("model.joblib", "pool.npy", "--strategy", "entropy", "-o", "r.csv",
                             cwd=tmp_path)
    assert code == 2 and "Traceback" not in err
    assert "pass --import MODULE" in err and "Tiny" in err
    code, _, err = skal_rank("model.joblib", "pool.npy", "--strategy", "entropy", "-o", "r.csv",
                             "--import", "train", cwd=tmp_path)
    assert code == 0, err
    assert len(read_csv(tmp_path / "r.csv")) == 20


def test_refit_on_few_classes_keeps_every_class(files, tmp_path, capsys):
    """A refit on labels of two digits keeps the ten classes of the first model: the
    refitted net's classes_ match its ten outputs, and later labels of any digit are
    accepted by rank --labels and by labels --state."""
    from skal.labeling import write_labels

    p = files["paths"]
    state = tmp_path / "q.joblib"
    status, io = run_main([p["net"], p["pool"], "--strategy", "entropy", "--top", 6,
                           "--state", state, "-o", tmp_path / "d1.json"], capsys)
    assert status == 0, io.err
    day1 = [t["data"]["position"] for t in json.loads((tmp_path / "d1.json").read_text())]
    y = np.full(600, -1)
    y[day1[:4]] = [1, 2, 1, 2]
    write_labels(tmp_path / "labels.csv", y)
    status, io = run_main(["--resume", state, "--labels", tmp_path / "labels.csv", "--refit",
                           "--top", 3, "-o", tmp_path / "d2.json"], capsys)
    assert status == 0, io.err
    refit = joblib.load(tmp_path / "q.round2.model.joblib")
    assert refit.classes_.tolist() == list(range(10))
    assert refit.predict_proba(files["pool"][:5]).shape == (5, 10)
    y[day1[4]] = 7
    write_labels(tmp_path / "labels.csv", y)
    status, io = run_main(["--resume", state, "--labels", tmp_path / "labels.csv", "--top", 2,
                           "-o", tmp_path / "d3.json"], capsys)
    assert status == 0, io.err
    export = [{"id": 1, "data": {"position": day1[5], "ranking_id": joblib.load(state)[
        "ranking_id"]}, "annotations": [{"result": [
            {"from_name": "label", "type": "choices", "value": {"choices": ["9"]}}]}]}]
    (tmp_path / "export.json").write_text(json.dumps(export))
    assert main(["labels", str(tmp_path / "export.json"), "--state", str(state),
                 "-o", str(tmp_path / "l.csv"), "-q"]) == 0


@pytest.fixture(scope="module")
def mixed_table(tmp_path_factory):
    """A table with a text column, as .csv, and a Pipeline that encodes it."""
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    root = tmp_path_factory.mktemp("mixed")
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"region": rng.choice(["north", "south"], 120),
                          "size": rng.rand(120), "age": rng.randint(0, 9, 120)})
    y = (frame["size"] > 0.5).astype(int)
    pipe = make_pipeline(make_column_transformer((OneHotEncoder(), ["region"]),
                                                 (StandardScaler(), ["size", "age"])),
                         LogisticRegression()).fit(frame[:40], y[:40])
    joblib.dump(pipe, root / "pipe.joblib")
    frame[40:].to_csv(root / "pool.csv", index=False)
    return root, pipe, frame[40:].reset_index(drop=True)


@pytest.mark.parametrize("strategy", ["random", "entropy", "coreset", "kmeans++"])
def test_rank_a_csv_with_text_columns_through_a_pipeline(mixed_table, tmp_path, capsys,
                                                         strategy):
    """The CLI's column of the pool matrix: a .csv table with a text column."""
    from skal.strategies import resolve_strategy

    root, pipe, frame = mixed_table
    out = tmp_path / "r.json"
    reference = resolve_strategy(strategy).set_params(estimator=pipe, prefit=True)
    seed = ["--random-state", 0] if "random_state" in reference.get_params() else []
    status, io = run_main([root / "pipe.joblib", root / "pool.csv", "--strategy", strategy,
                           *seed, "--top", 5, "--columns", "region,size", "-o", out], capsys)
    assert status == 0, io.err
    tasks = json.loads(out.read_text())
    if seed:
        reference.set_params(random_state=0)
    expected = reference.rank(frame)[:5]
    assert [t["data"]["position"] for t in tasks] == expected.tolist()
    assert [t["data"]["region"] for t in tasks] == frame["region"][expected].tolist()
