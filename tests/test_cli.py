"""The command line and the README's promises about it."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from skal.__main__ import main

ROOT = Path(__file__).resolve().parents[1]


def test_demo_writes_table_plot_and_json(tmp_path, capsys):
    status = main(
        ["demo", "--trials", "1", "--initial-size", "20", "--batch-size", "20",
         "--budget", "60", "--epochs", "3", "--output", str(tmp_path)]
    )
    assert status == 0
    out = capsys.readouterr().out
    assert re.search(r"labels\s+random\s+entropy\s+badge", out)
    results = json.loads((tmp_path / "learning_curves.json").read_text())
    assert results["n_labeled"] == [20, 40, 60]
    for name in ("random", "entropy", "badge"):
        scores = np.asarray(results["scores"][name])
        assert scores.shape == (1, 3)
        assert np.all((scores >= 0) & (scores <= 1))
    # the initial set is shared by every strategy, so round 0 scores agree
    assert len({results["scores"][n][0][0] for n in ("random", "entropy", "badge")}) == 1
    png = (tmp_path / "learning_curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_help_lists_the_demo(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "demo" in capsys.readouterr().out


def test_ci_runs_the_readme_test_and_docs_commands():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.+?)\n```", readme, flags=re.S)
    assert len(commands) == 3, "README gives exactly three commands: demo, tests, docs"
    demo, tests, docs = commands
    assert demo.endswith("python -m skal demo")
    assert tests.endswith("python -m pytest")
    assert docs.endswith("python -m sphinx -W -b html docs docs/_build/html")
    # CI builds README's virtual environment from nothing (what a new user installs
    # today), then runs the test command and the docs build, exactly as README writes them
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line and not line.startswith(("#", "set ", "cd "))]
    venv = re.match(r"python3 -m venv (\S+) &&", tests).group(1)
    assert ci[0] == f"python3 -m venv --clear {venv}"
    assert ci[1:3] == [tests, docs]


def test_example_label_next_batch_runs():
    import runpy

    example = runpy.run_path(str(ROOT / "examples" / "label_next_batch.py"))
    batch, ranking = example["main"](n_labeled=100, batch_size=30, max_epochs=2)
    assert len(np.unique(batch)) == 30
    assert sorted(ranking.tolist()) == list(range(len(ranking)))


def test_compare_writes_tables_and_plots(tmp_path, capsys):
    import csv

    status = main(["compare", "--strategies", "random", "entropy", "badge", "--trials", "2",
                   "--budget", "60", "--epochs", "3", "--model", "mlp",
                   "--output", str(tmp_path)])
    assert status == 0
    out = capsys.readouterr().out
    assert re.search(r"strategy\s+final accuracy\s+label eff\.\s+AULC", out)
    with open(tmp_path / "rounds.csv") as f:
        rounds = list(csv.DictReader(f))
    assert len(rounds) == 3 * 2 * 3  # strategies x trials x rounds
    assert {r["strategy"] for r in rounds} == {"RandomSampling", "EntropySampling", "BADGE"}
    # identical initial sets: round 0 scores agree across strategies, per trial
    for trial in ("0", "1"):
        r0 = {r["score"] for r in rounds if r["trial"] == trial and r["round"] == "0"}
        assert len(r0) == 1
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [row["strategy"] for row in summary] == ["RandomSampling", "EntropySampling", "BADGE"]
    assert summary[0]["labeling_efficiency"] == 1.0
    for name in ("learning_curves", "labeling_efficiency", "penalty_matrix", "time_breakdown"):
        assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_seed_set_initial_strategy(tmp_path, capsys):
    import csv

    def round0_scores(initial_strategy):
        out = tmp_path / initial_strategy
        status = main(["compare", "--strategies", "entropy", "--trials", "1",
                       "--budget", "40", "--epochs", "2", "--initial-strategy",
                       initial_strategy, "--output", str(out)])
        assert status == 0
        with open(out / "rounds.csv") as f:
            return {r["strategy"]: r["score"] for r in csv.DictReader(f) if r["round"] == "0"}

    random_start, seed_set_start = round0_scores("random"), round0_scores("facility-location")
    # one initial set per trial, shared by the strategies; the option changes it
    assert len(set(random_start.values())) == len(set(seed_set_start.values())) == 1
    assert random_start != seed_set_start


def test_compare_bad_names_list_the_valid_ones(tmp_path, capsys):
    assert main(["compare", "--strategies", "bogus", "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Unknown strategy 'bogus'. Valid names:" in err and "badge" in err
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--dataset", "imagenet"])
    assert exc.value.code == 2
    assert "invalid choice: 'imagenet'" in capsys.readouterr().err


def test_compare_missing_dataset_files_say_where(tmp_path, capsys):
    status = main(["compare", "--dataset", "mnist", "--data-home", str(tmp_path / "none"),
                   "--output", str(tmp_path / "out")])
    assert status == 2
    err = capsys.readouterr().err
    assert "MNIST files not found" in err and str(tmp_path / "none" / "MNIST" / "raw") in err


def test_compare_help_is_complete(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    text = capsys.readouterr().out
    for option in ("--dataset", "--data-home", "--strategies", "--model", "--trials", "--cv",
                   "--budget", "--batch-size", "--initial-size", "--initial-strategy",
                   "--dropout", "--n-jobs", "--seed",
                   "--output", "--verbose"):
        assert option in text
    for value in ("diabetes", "friedman1", "ridge", "random greedy lcmd maxdet"):
        assert value in " ".join(text.split())


def test_compare_a_regression_dataset_writes_tables_and_plots(tmp_path, capsys):
    import csv

    status = main(["compare", "--dataset", "diabetes", "--strategies", "random", "coreset",
                   "--trials", "2", "--budget", "60", "--model", "ridge",
                   "--output", str(tmp_path)])
    assert status == 0
    out = capsys.readouterr().out
    assert re.search(r"strategy\s+final -RMSE\s+label eff\.\s+AULC", out)
    assert "neg_root_mean_squared_error, the negated RMSE" in out
    with open(tmp_path / "rounds.csv") as f:
        rounds = list(csv.DictReader(f))
    assert len(rounds) == 2 * 2 * 3  # strategies x trials x rounds (20, 40, 60 labels)
    scores = np.array([float(r["score"]) for r in rounds])
    # standardized targets: the negated RMSE of a Ridge lies between -1 (the mean) and 0
    assert np.all((scores < 0) & (scores > -1.5))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [row["strategy"] for row in summary] == ["RandomSampling", "CoreSet"]
    assert summary[0]["labeling_efficiency"] == 1.0
    for row in summary:
        final = [float(r["score"]) for r in rounds
                 if r["strategy"] == row["strategy"] and r["round"] == "2"]
        assert row["final_score_mean"] == pytest.approx(np.mean(final))
    for name in ("learning_curves", "labeling_efficiency", "penalty_matrix", "time_breakdown"):
        assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_regression_defaults_to_regression_strategies(tmp_path, capsys):
    status = main(["compare", "--dataset", "friedman1", "--pool-size", "200", "--test-size",
                   "100", "--model", "ridge", "--trials", "1", "--budget", "40",
                   "--output", str(tmp_path)])
    assert status == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [row["strategy"] for row in summary] == [
        "RandomSampling", "GreedySampling", "LCMD", "MAXDET"]


def test_compare_regression_with_the_skorch_mlp(tmp_path, capsys):
    """The net is a NeuralNetRegressor, fitted on float32 columns by ActiveLearner."""
    import csv

    status = main(["compare", "--dataset", "friedman1", "--pool-size", "200", "--test-size",
                   "100", "--strategies", "coreset", "--trials", "1", "--budget", "40",
                   "--epochs", "3", "--output", str(tmp_path)])
    assert status == 0
    assert "model mlp" in capsys.readouterr().out
    with open(tmp_path / "rounds.csv") as f:
        scores = [float(r["score"]) for r in csv.DictReader(f)]
    assert len(scores) == 2 * 2 and np.all(np.isfinite(scores)) and max(scores) < 0


@pytest.mark.parametrize("retrain", ["reset", "update"])
def test_example_augmented_cnn_runs_both_ways(retrain):
    import runpy

    example = runpy.run_path(str(ROOT / "examples" / "augmented_cnn_active_learning.py"))
    rng = np.random.RandomState(0)
    X = rng.rand(60, 3, 12, 12).astype(np.float32)
    y = np.arange(60) % 3
    learner = example["run"](X, y, X[:20], y[:20], retrain=retrain, epochs=1, initial=12,
                             batch=12, budget=36)
    np.testing.assert_array_equal(learner.history_["n_labeled"], [12, 24, 36])
    net = learner.estimator_
    assert net.optimizer_.defaults["momentum"] == 0.9
    # "update" continues training one network (its history grows across rounds);
    # "reset" trains a fresh one each round (one round of epochs in its history)
    assert len(net.history) == (3 if retrain == "update" else 1)


def _run_cli(*args, cwd):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "skal", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


@pytest.mark.parametrize(
    "command, args, message",
    [
        ("compare", ["--batch-size", "0"], "--batch-size must be a positive integer; got 0."),
        ("compare", ["--initial-size", "0"],
         "--initial-size must be a positive integer; got 0."),
        ("compare", ["--budget", "-5"], "--budget must be a positive integer; got -5."),
        ("compare", ["--budget", "10"],
         "--budget 10 is smaller than --initial-size 20: the budget counts every label"),
        ("compare", ["--trials", "0"], "--trials must be a positive integer; got 0."),
        ("compare", ["--epochs", "0"], "--epochs must be a positive integer; got 0."),
        ("compare", ["--hidden", "0"], "--hidden must be a positive integer; got 0."),
        ("compare", ["--cv", "1"], "--cv must be at least 2 folds; got 1."),
        ("compare", ["--n-jobs", "0"], "--n-jobs must not be 0"),
        ("compare", ["--dropout", "1.5"], "--dropout must lie in [0, 1); got 1.5."),
        ("compare", ["--seed", "-1"], "--seed must lie in [0, 4294967295]; got -1."),
        ("compare", ["--pool-size", "0"], "--pool-size must be a positive integer; got 0."),
        ("compare", ["--model", "logreg", "--budget", "100000"],
         "budget=100000 is larger than the pool"),
        ("compare", ["--dataset", "diabetes", "--model", "logreg"],
         "--model logreg is a classification model, but --dataset diabetes is a regression "
         "data set: use --model ridge or mlp."),
        ("compare", ["--model", "ridge"],
         "--model ridge is a regression model, but --dataset digits is a classification "
         "data set: use --model logreg or mlp."),
        ("compare", ["--dataset", "diabetes", "--strategies", "random", "entropy", "badge"],
         "EntropySampling needs a classifier (class probabilities or a hypothesized label), "
         "but NeuralNetRegressor is a regressor. For regression use one of: "),
        ("demo", ["--batch-size", "0"], "--batch-size must be a positive integer; got 0."),
        ("demo", ["--test-size", "1.5"], "--test-size must be a fraction in (0, 1); got 1.5."),
    ],
)
def test_invalid_option_values_fail_in_one_line(command, args, message, tmp_path, capsys):
    status = main([command, *args, "--output", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert status == 2
    assert err.splitlines() == [f"error: {err.strip()[len('error: '):]}"]
    assert message in err
    assert "done in" not in out
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option", ["--batch-size", "--initial-size"])
def test_invalid_option_from_the_shell_gives_no_traceback(option, tmp_path):
    result = _run_cli("compare", option, "0", "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: {option} must be a positive integer; got 0."]
    assert "Traceback" not in result.stderr
    assert "done in" not in result.stdout


def test_compare_summary_names_the_penalty_column(tmp_path, capsys):
    status = main(["compare", "--strategies", "random", "entropy", "--trials", "2",
                   "--budget", "40", "--model", "logreg", "--output", str(tmp_path)])
    assert status == 0
    out = capsys.readouterr().out
    assert re.search(r"strategy\s+final accuracy.*beats/round", out)
    assert "beats/round: how many of the other 1 strategies a strategy beats in a round" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert "strategies_beaten_per_round" in summary[0] and "wins" not in summary[0]


HEAVY = ("torch", "torchvision", "sklearn", "matplotlib", "numba", "pandas", "dask")


@pytest.mark.parametrize("args", [
    ["--help"], ["rank", "--help"], ["labels", "--help"], ["compare", "--help"],
    ["rank", "m.joblib", "p.npy", "--strategy", "badg", "-o", "r.csv"],
    ["compare", "--strategies", "entropy", "power-badg"],
    ["compare", "--batch-size", "0"],
], ids=["help", "rank help", "labels help", "compare help", "rank typo", "compare typo",
        "compare bad value"])
def test_help_and_argument_errors_import_nothing_heavy(args, tmp_path):
    """--help and argument errors are instant: no torch, scikit-learn, pandas, ..."""
    import subprocess
    import sys

    code = ("import sys\nfrom skal._cli import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit:\n    pass\n"
            f"print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "HEAVY []", done.stdout + done.stderr
    if "--help" not in args:
        assert done.stderr.startswith("error: ")


def test_import_skal_imports_nothing_heavy(tmp_path):
    import subprocess
    import sys

    code = ("import sys, skal\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
            "skal.BADGE\nprint('torch' in sys.modules, 'matplotlib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.stdout.split("\n")[:2] == ["[]", "True False"], done.stdout + done.stderr


def test_the_cli_name_table_is_the_registry():
    from skal import all_strategies
    from skal._cli._strategy_names import NAMES, aliases, check_name
    from skal.strategies import strategy_aliases

    assert NAMES == {name: tuple(cls._aliases) for name, cls in all_strategies()}
    assert aliases() == strategy_aliases()
    for name in ("badge", "BADGE", "random>badge@50", "power-entropy", "Least-Confidence"):
        check_name(name)
    with pytest.raises(ValueError, match="Unknown strategy 'badg'. Valid names: "):
        check_name("random>badg@50")


def test_compare_every_trial_failed_is_status_1(tmp_path, capsys, monkeypatch):
    """The work failed, not the input: one error line, exit status 1."""
    from skal import model_selection
    from skal.exceptions import TrialsFailedError

    def fail(*args, **kwargs):
        raise TrialsFailedError("\nAll the 3 trials failed.\nBelow are more details")

    monkeypatch.setattr(model_selection, "compare_strategies", fail)
    status = main(["compare", "--model", "logreg", "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and err == ["error: All the 3 trials failed. Below are more details"]


def test_compare_a_strategy_whose_every_trial_fails(tmp_path, capsys):
    """BALD cannot run on a LogisticRegression: its rows are NaN, random is compared."""
    import csv

    status = main(["compare", "--strategies", "bald", "--model", "logreg", "--trials", "1",
                   "--budget", "40", "--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0
    assert "failed: BALD trial 0" in out and "needs a torch module with dropout" in out
    with open(tmp_path / "summary.csv") as f:
        rows = {r["strategy"]: r for r in csv.DictReader(f)}
    assert rows["RandomSampling"]["labeling_efficiency"] == "1.0"
    assert rows["BALD"]["labeling_efficiency"] == "nan"
