"""Every script in examples/ runs, in its quick mode, with outputs in a temporary folder.

The examples read MNIST, Fashion-MNIST and CIFAR-10 from ``$SKAL_DATA``; when it
is not set, the ``shared/data`` folder beside the clone is used (as in CI). When
neither exists the tests are skipped: the examples never download.
``examples/label_next_batch.py`` is run by ``tests/test_cli.py``. The gallery's
``examples/plot_*.py`` (run by the docs build) run here in full, as scripts.
"""

import json
import os
import runpy
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED_DATA = ROOT.parent / "shared" / "data"
PNG = b"\x89PNG"


@pytest.fixture
def data_home(monkeypatch):
    """The folder the examples read data from; SKAL_DATA set to it."""
    if os.environ.get("SKAL_DATA"):
        home = Path(os.environ["SKAL_DATA"])
    elif SHARED_DATA.is_dir():
        home = SHARED_DATA
        monkeypatch.setenv("SKAL_DATA", str(home))
    else:
        pytest.skip(f"no dataset files: SKAL_DATA is not set and {SHARED_DATA} does not "
                    "exist (the examples never download)")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return home


def example_main(name):
    return runpy.run_path(str(EXAMPLES / name))["main"]


def require(home, *relative):
    missing = [str(home / r) for r in relative if not (home / r).exists()]
    if missing:
        pytest.skip(f"dataset files missing under SKAL_DATA: {', '.join(missing)}")


MNIST = ("MNIST/raw",)


def test_every_example_has_a_test():
    tested = {"label_next_batch.py"}  # tests/test_cli.py
    source = Path(__file__).read_text()
    tested |= {p.name for p in EXAMPLES.glob("*.py") if f'"{p.name}"' in source}
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(tested)


def test_variable_batches_mnist(data_home, tmp_path):
    require(data_home, *MNIST)
    result = example_main("variable_batches_mnist.py")(["--quick", "--output", str(tmp_path)])
    assert result["n_pool"] == 300 and result["n_train"] == 500 and result["epochs"] == 1
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["badge_first_100_labels"] == result["badge_first_100_labels"]
    for name in ("badge", "entropy"):
        assert 0 <= saved[name]["share_0_1_first_10"] <= 1
        assert 0 <= saved[name]["share_0_1_first_100"] <= 1
        assert 1 <= saved[name]["distinct_labels_first_100"] <= 10
        assert (saved[name]["zeros_in_first_100"] + saved[name]["ones_in_first_100"]
                == round(100 * saved[name]["share_0_1_first_100"]))
        assert set(saved[f"{name}_first_100_labels"]) <= set(range(10))
        assert len(saved[f"{name}_first_100_labels"]) == 100
    for png in ("badge_first_50.png", "entropy_first_50.png"):
        assert (tmp_path / png).read_bytes()[:4] == PNG


def test_embedding_map_mnist(data_home, tmp_path):
    require(data_home, *MNIST)
    table = example_main("embedding_map_mnist.py")(["--quick", "--output", str(tmp_path)])
    assert (tmp_path / "badge_embedding_map.png").read_bytes()[:4] == PNG
    saved = json.loads((tmp_path / "picks_summary.json").read_text())
    assert saved == table
    assert saved["class"] == list(range(10))
    assert sum(saved["picked_predicted"]) == sum(saved["picked_true"]) == 20
    assert sum(saved["pool_true"]) == 300
    # 0s and 1s were never trained on: the net predicts none of them
    assert saved["picked_predicted"][0] == saved["picked_predicted"][1] == 0


def _check_summary_rows(rows, names, baseline="RandomSampling"):
    assert [row["strategy"] for row in rows] == names
    for row in rows:
        assert 0 <= row["final_score_mean"] <= 1
        assert row["final_score_std"] >= 0
    random = next(row for row in rows if row["strategy"] == baseline)
    assert random["labeling_efficiency"] == 1.0


def test_labeling_efficiency_cnn(data_home, tmp_path):
    require(data_home, *MNIST, "FashionMNIST/raw")
    example_main("labeling_efficiency_cnn.py")(["--quick", "--output", str(tmp_path)])
    for dataset in ("mnist", "fashion-mnist"):
        out = tmp_path / dataset
        summary = json.loads((out / "summary.json").read_text())
        assert len(summary["names"]) == 6  # random + 5 strategies
        _check_summary_rows(summary["summary"], summary["names"])
        n = len(summary["names"])
        assert np.shape(summary["penalty"]) == (n, n)
        assert summary["settings"]["pool"] == 500 and summary["settings"]["trials"] == 1
        rounds = json.loads((out / "rounds.json").read_text())
        assert len(rounds) == n * 1 * 3  # strategies x trials x rounds (100, 200, 300)
        assert all(0 <= r["score"] <= 1 for r in rounds)
        assert list(out.glob("*.png")) and all(
            p.read_bytes()[:4] == PNG for p in out.glob("*.png"))


def test_redundancy_mnist(data_home, tmp_path):
    require(data_home, *MNIST)
    results = example_main("redundancy_mnist.py")(["--quick", "--output", str(tmp_path)])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["settings"]["factors"] == [1, 2]
    assert saved["x1"]["pool_size"] == 300 and saved["x2"]["pool_size"] == 400
    for key in ("x1", "x2"):
        assert saved[key]["n_labeled"] == [100, 200]
        _check_summary_rows(saved[key]["summary"], saved[key]["names"])
        assert set(saved[key]["names"]) == {"RandomSampling", "EntropySampling", "BADGE",
                                            "PowerEntropy"}
        assert (tmp_path / key).is_dir()
    assert results["x1"]["pool_size"] == 300
    png = tmp_path / "final_accuracy_vs_redundancy.png"
    assert png.read_bytes()[:4] == PNG


def test_low_budget_mnist(data_home, tmp_path):
    require(data_home, *MNIST)
    results = example_main("low_budget_mnist.py")(["--quick", "--output", str(tmp_path)])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["n_labeled"] == [10, 20, 30]
    names = ["RandomSampling", "MarginSampling", "BADGE", "TypiClust", "ProbCover",
             "TypiClust>Margin@20"]
    assert saved["penalty"]["names"] == names
    for name in names:
        row = saved[name]
        assert len(row["mean"]) == 3 and all(0.0 <= m <= 1.0 for m in row["mean"])
        assert row["labeling_efficiency"] > 0
    # the random first set is the same for every strategy that starts from one
    for name in ("MarginSampling", "BADGE", "ProbCover"):
        assert saved[name]["gap_to_random"][0] == 0.0
    # the switch's first set is TypiClust's
    assert saved["TypiClust>Margin@20"]["mean"][0] == saved["TypiClust"]["mean"][0]
    assert results["settings"]["trials"] == 2
    assert (tmp_path / "accuracy_vs_labels.png").read_bytes()[:4] == PNG


def test_committee_mnist(data_home, tmp_path):
    require(data_home, *MNIST)
    results = example_main("committee_mnist.py")(["--quick", "--output", str(tmp_path)])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["settings"]["trials"] == 2 and saved["mlp"]["n_labeled"] == [20, 40, 60]
    mlp = {row["strategy"]: row for row in saved["mlp"]["summary"]}
    forest = {row["strategy"]: row for row in saved["forest"]["summary"]}
    assert set(mlp) == {"random", "entropy", "margin", "qbc-vote", "qbc-kl", "badge"}
    assert set(forest) == set(mlp) - {"badge"}  # a forest has no embedding
    for rows in (mlp, forest):
        assert all(0.0 <= row["final_score_mean"] <= 1.0 for row in rows.values())
        assert rows["random"]["labeling_efficiency"] == 1.0
    for model in ("mlp", "forest"):
        assert (tmp_path / model / "rounds.csv").exists()
        assert (tmp_path / model / "learning_curves.png").read_bytes()[:4] == PNG
    assert results["settings"]["members"] == 3


def test_large_batch_mnist(data_home, tmp_path):
    require(data_home, *MNIST)
    results = example_main("large_batch_mnist.py")(["--quick", "--output", str(tmp_path)])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["n_labeled"] == [100, 200, 300]
    names = ["RandomSampling", "MarginSampling", "BADGE", "ClusterMargin(m=1000)",
             "ClusterMargin(m=200)"]
    assert saved["names"] == names
    assert saved["settings"]["n_margin"] == 1000  # 10 x the batch
    assert saved["settings"]["pool_size"] == 2000 and saved["settings"]["trials"] == 1
    for name in names:
        row = saved[name]
        assert row["n_failed_trials"] == 0
        assert len(row["accuracy_mean"]) == 3
        assert all(0.0 <= m <= 1.0 for m in row["accuracy_mean"])
        assert len(row["query_seconds_mean"]) == 2  # rounds 1 and 2
        assert all(t >= 0 for t in row["query_seconds_mean"])
        assert row["labeling_efficiency"] > 0
        # every strategy starts from the same random first set
        assert row["accuracy_mean"][0] == saved["RandomSampling"]["accuracy_mean"][0]
    assert saved["RandomSampling"]["labeling_efficiency"] == 1.0
    assert results["settings"] == saved["settings"]
    for png in ("accuracy_and_selection_time.png", "learning_curves.png"):
        assert (tmp_path / png).read_bytes()[:4] == PNG


def test_reproduce_badge_mnist(data_home, tmp_path):
    require(data_home, *MNIST)
    comparison = example_main("reproduce_badge_mnist.py")(
        ["--quick", "--output", str(tmp_path)])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["trials"] == 1 and summary["epochs"] == 1
    assert summary["names"][:3] == ["random", "entropy", "BADGE"]
    assert len(summary["names"]) == 7
    _check_summary_rows(summary["rows"], summary["names"], baseline="random")
    assert comparison.n_labeled.tolist() == [100, 200, 300]
    rounds = json.loads((tmp_path / "rounds.json").read_text())
    assert len(rounds) == 7 * 3
    assert (tmp_path / "rounds.csv").read_text().count("\n") == 7 * 3 + 1
    for name in ("learning_curves", "labeling_efficiency", "penalty_matrix"):
        assert (tmp_path / f"{name}.png").read_bytes()[:4] == PNG


def test_augmented_cnn_active_learning(data_home, tmp_path, monkeypatch, capsys):
    cifar = data_home / "CIFAR10"
    require(data_home, "CIFAR10")
    if not (cifar / "train.npz").exists():
        # the shared folder names its re-encoded arrays by what they are; skal's loader
        # reads CIFAR10/{train,test}.npz: link them under those names
        files = {"train.npz": cifar / "cifar10_train_LOSSY_jpeg_q75.npz",
                 "test.npz": cifar / "cifar10_test_LOSSY_jpeg_q75.npz"}
        require(data_home, *(f.relative_to(data_home) for f in files.values()))
        (tmp_path / "data" / "CIFAR10").mkdir(parents=True)
        for name, target in files.items():
            (tmp_path / "data" / "CIFAR10" / name).symlink_to(target)
        monkeypatch.setenv("SKAL_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SKAL_QUICK", "1")  # the environment variable, not the flag
    learner = example_main("augmented_cnn_active_learning.py")(["--retrain", "update"])
    history = learner.history_
    assert history["n_labeled"].tolist() == [50, 100, 150]
    assert np.all((history["score"] >= 0) & (history["score"] <= 1))
    assert len(np.unique(learner.labeled_indices_)) == 150  # picks are unique
    assert learner.labeled_indices_.max() < 300
    out = capsys.readouterr().out
    assert out.count("test accuracy") == 3


# -- the gallery: examples/plot_*.py, executed by sphinx-gallery when the docs are built --
# Each runs as a script (sphinx-gallery runs it top to bottom, printing tables and drawing
# figures); here it runs the same way, in full: each takes well under a minute on two cores.


def run_gallery_example(name, capsys):
    """Run examples/<name> as sphinx-gallery does; its printed output and figures."""
    import matplotlib.pyplot as plt

    plt.close("all")
    namespace = runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    figures = [plt.figure(n) for n in plt.get_fignums()]
    for figure in figures:
        assert figure.axes, f"{name} drew an empty figure"
    plt.close("all")
    return namespace, capsys.readouterr().out, len(figures)


@pytest.fixture
def gallery(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")


def test_gallery_quickstart(gallery, capsys):
    namespace, out, n_figures = run_gallery_example("plot_quickstart_digits.py", capsys)
    assert "test accuracy with 100 labels" in out
    assert n_figures == 2
    for batch in namespace["picks"].values():
        assert len(np.unique(batch)) == 20
    for history in namespace["curves"].values():
        assert history["n_labeled"].tolist() == [30, 60, 90, 120, 150, 180]


def test_gallery_grid_search(gallery, capsys):
    namespace, out, n_figures = run_gallery_example("plot_grid_search_strategies.py", capsys)
    assert out.startswith("best: {")
    assert len(namespace["table"]) == 8 and n_figures == 1
    assert namespace["table"]["AULC (mean)"].between(0, 1).all()


def test_gallery_variable_batches(gallery, capsys):
    namespace, out, n_figures = run_gallery_example("plot_variable_batches.py", capsys)
    assert "tomorrow: 25 picks" in out and n_figures == 2
    for ranking in namespace["rankings"].values():
        assert sorted(ranking.tolist()) == list(range(len(namespace["X_pool"])))
    tomorrow = namespace["tomorrow"]
    assert not set(tomorrow) & set(namespace["today"])
    assert tomorrow.max() < len(namespace["X_pool"]) + len(namespace["X_new"])


def test_gallery_compare_strategies(gallery, capsys):
    namespace, out, n_figures = run_gallery_example("plot_compare_strategies.py", capsys)
    comparison = namespace["comparison"]
    assert comparison.names == ["RandomSampling", "EntropySampling", "MarginSampling",
                                "BADGE", "CoreSet"]
    assert "6 trials" in out and n_figures == 2
    assert namespace["penalty"].shape == (5, 5)
    # the metrics recomputed from the scores agree with the comparison's own summary
    for row in comparison.summary(as_frame=False):
        assert namespace["rows"][row["strategy"]]["labeling efficiency"] == pytest.approx(
            row["labeling_efficiency"])


def test_gallery_badge_mnist(data_home, gallery, capsys):
    require(data_home, *MNIST)
    namespace, out, n_figures = run_gallery_example("plot_badge_mnist_first_picks.py", capsys)
    assert "data set: MNIST, 60000 images of 28x28 pixels" in out
    assert "falling back" not in out
    assert namespace["X_pool"].shape == (5000, 784) and n_figures == 2
    assert len(np.unique(namespace["picks"])) == 40


def test_gallery_badge_mnist_falls_back_to_digits(gallery, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SKAL_DATA", str(tmp_path))  # no MNIST files there
    namespace, out, n_figures = run_gallery_example("plot_badge_mnist_first_picks.py", capsys)
    assert "MNIST files not found" in out and "falling back to scikit-learn's bundled" in out
    assert "data set: digits" in out
    assert namespace["X_pool"].shape[1] == 64 and n_figures == 2
