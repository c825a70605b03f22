"""The whole labeling loop against a real Label Studio server.

``python -m skal rank --format label-studio`` writes tasks, Label Studio imports
them and serves their images from a local files storage, annotators label them
through the REST API, the JSON, JSON-MIN and CSV exports go through
``python -m skal labels``, and ``python -m skal rank --resume --labels --refit``
writes the next day's tasks, which Label Studio imports too.

Label Studio is not a dependency of skal (it pins its own Django stack): install
it in a separate environment and point ``SKAL_LABEL_STUDIO`` at its executable,
e.g.::

    python -m venv ~/.venvs/ls && ~/.venvs/ls/bin/pip install label-studio "sentry-sdk<3"
    SKAL_LABEL_STUDIO=~/.venvs/ls/bin/label-studio python -m pytest tests/test_label_studio.py

Without it (``SKAL_LABEL_STUDIO`` unset and no ``label-studio`` on the PATH) the
test is skipped before anything heavy is imported. The server listens on
127.0.0.1 only, on a free port, with a fresh data folder (SQLite) under the
test's temporary folder, and is killed (its whole process group) at the end.
Written against Label Studio 1.23.2.
"""

import os
import shutil

import pytest

_EXECUTABLE = os.environ.get("SKAL_LABEL_STUDIO") or shutil.which("label-studio")

pytestmark = [
    pytest.mark.label_studio,
    pytest.mark.slow,
    pytest.mark.skipif(
        not _EXECUTABLE,
        reason="Label Studio is not installed: set SKAL_LABEL_STUDIO to the path of the "
        "label-studio executable (or put label-studio on the PATH) to run this test",
    ),
]

N_TRAIN, N_POOL, TOP = 100, 30, 10
PREFIX = "/data/local-files/?d="
# pool files whose names need URL encoding: index in the pool -> file name
SPECIAL_NAMES = {7: "img 07 & #x.png", 19: "img 19 %41+?=.png", 23: "img 23 é.png"}
STARTUP_TIMEOUT = 180  # seconds; the first start runs all the migrations
LABEL_CONFIG = (
    '<View><Image name="image" value="$image"/>'
    '<Choices name="label" toName="image" choice="single">'
    + "".join(f'<Choice value="{digit}"/>' for digit in range(10))
    + "</Choices></View>"
)
# environment variables that Label Studio reads (bare, or with a LABEL_STUDIO_ or
# HEARTEX_ prefix) and that must not leak in from the caller's environment
_LEAKY = ("HOST", "PORT", "USERNAME", "PASSWORD", "USER_TOKEN", "DJANGO_DB",
          "DATABASE_URL", "POSTGRE_HOST", "DJANGO_SETTINGS_MODULE")


# -- the workspace: a document root with a pool of PNGs, and a fitted net -------------


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """``ROOT/pool/`` holding 30 digit PNGs (three names that need URL encoding), a
    skorch net fitted on 100 other digits saved with joblib, and each file's digit."""
    import joblib
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    from skal.toy import make_skorch_classifier

    base = tmp_path_factory.mktemp("label_studio").resolve()
    root = base / "root"
    pool = root / "pool"
    pool.mkdir(parents=True)
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    net = make_skorch_classifier(64, 10, hidden_units=16, max_epochs=3)
    net.fit(X[:N_TRAIN], y[:N_TRAIN])
    joblib.dump(net, base / "model.joblib")
    digits = {}
    for i in range(N_POOL):
        x = X[N_TRAIN + i]
        name = SPECIAL_NAMES.get(i, f"img_{i:02d}.png")
        Image.fromarray(np.round(x.reshape(8, 8) * 255).astype(np.uint8)).save(pool / name)
        digits[name] = int(y[N_TRAIN + i])
    return {"base": base, "root": root, "pool": pool, "model": base / "model.joblib",
            "digits": digits}


# -- the server ----------------------------------------------------------------------


def _free_port():
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path, n=40):
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n:])


def _kill_group(proc):
    import signal
    import subprocess

    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)  # the server and the workers it spawned
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class LabelStudio:
    """A running server: ``call`` sends an API request with a user's token."""

    def __init__(self, base_url, token, log, requests):
        self.url, self.token, self.log, self.requests = base_url, token, log, requests

    def call(self, method, path, expect=(200, 201), token=None, **kwargs):
        headers = {"Authorization": f"Token {token or self.token}"}
        response = self.requests.request(method, self.url + path, headers=headers,
                                         timeout=120, **kwargs)
        if expect is not None:
            assert response.status_code in expect, (
                f"{method} {path}: HTTP {response.status_code}: {response.text[:1000]}\n"
                f"--- server log ---\n{_tail(self.log)}"
            )
        return response

    def get_file(self, link, token=None):
        """GET ``link`` (a task's ``data.image``, relative to the server) as is."""
        headers = {"Authorization": f"Token {token or self.token}"}
        return self.requests.get(self.url + link, headers=headers, timeout=60)

    def signup(self, email, password):
        """A second user, through the sign-up form; their API token."""
        session = self.requests.Session()
        session.get(self.url + "/user/signup/", timeout=60)
        response = session.post(
            self.url + "/user/signup/", allow_redirects=False, timeout=60,
            data={"email": email, "password": password,
                  "csrfmiddlewaretoken": session.cookies.get("csrftoken", "")},
        )
        assert response.status_code == 302, (response.status_code, response.text[:500])
        response = session.get(self.url + "/api/current-user/token", timeout=60)
        assert response.status_code == 200, (response.status_code, response.text[:500])
        return response.json()["token"]

    def tasks(self, project, ordering=None):
        params = {"project": project, "page_size": 1000}
        if ordering is not None:
            import json

            params["query"] = json.dumps({"ordering": [ordering]})
        return self.call("GET", "/api/tasks", params=params).json()


@pytest.fixture(scope="module")
def label_studio(workspace):
    """Label Studio on 127.0.0.1, serving ``ROOT`` as its local files document root."""
    import secrets
    import subprocess
    import time

    requests = pytest.importorskip("requests")
    executable = os.path.expanduser(_EXECUTABLE)
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        pytest.fail(f"SKAL_LABEL_STUDIO / label-studio: {executable!r} is not an executable file")

    data_dir = workspace["base"] / "ls-data"
    data_dir.mkdir()
    log = workspace["base"] / "label-studio.log"
    port, token = _free_port(), secrets.token_hex(20)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LABEL_STUDIO_", "HEARTEX_")) and k not in _LEAKY}
    env.update({
        "LOCAL_FILES_SERVING_ENABLED": "true",
        "LOCAL_FILES_DOCUMENT_ROOT": str(workspace["root"]),
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        # "Authorization: Token ..." is the legacy API token: in 1.23.2 a new
        # organization gets it only with this variable or --enable-legacy-api-token
        # (else the JWT feature flag, on by default, answers 401 to every token)
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LATEST_VERSION_CHECK": "false",  # no call to pypi.org
        "COLLECT_ANALYTICS": "false",
        "PYTHONUNBUFFERED": "1",
    })
    command = [
        executable, "start", "--internal-host", "127.0.0.1", "--port", str(port),
        "--no-browser", "--data-dir", str(data_dir),
        "--username", "skal@example.com", "--password", secrets.token_hex(8),
        "--user-token", token, "--enable-legacy-api-token", "--log-level", "WARNING",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env,
                                cwd=workspace["base"], start_new_session=True)
    try:
        server = LabelStudio(f"http://127.0.0.1:{port}", token, log, requests)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"Label Studio exited with {proc.returncode}:\n{_tail(log)}")
            try:
                if requests.get(server.url + "/health", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"Label Studio did not answer within {STARTUP_TIMEOUT} s:\n"
                            f"{_tail(log)}")
            time.sleep(2)
        whoami = server.call("GET", "/api/current-user/whoami").json()
        assert whoami["email"] == "skal@example.com"
        yield server
    finally:
        _kill_group(proc)


# -- helpers -------------------------------------------------------------------------


def _skal(*args, cwd):
    """``python -m skal ARGS`` in a fresh interpreter; its stderr (it must succeed)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "skal", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"python -m skal {' '.join(map(str, args))}:\n{done.stderr}"
    return done.stderr


def _read_labels(path):
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        return {int(row["position"]): row["label"] for row in csv.DictReader(f)}


def _choice(label):
    return [{"from_name": "label", "to_name": "image", "type": "choices",
             "value": {"choices": [str(label)]}}]


def _ranks(listing):
    return [task["data"]["rank"] for task in listing["tasks"]]


# -- the loop ------------------------------------------------------------------------


def test_label_studio_round_trip(workspace, label_studio):
    import json
    from urllib.parse import quote

    import joblib

    ls, base, root = label_studio, workspace["base"], workspace["root"]
    digits = workspace["digits"]

    # a project, and a local files storage over the pool folder: Label Studio
    # serves /data/local-files/ only below a storage's path, and refuses the
    # document root itself as that path
    project = ls.call("POST", "/api/projects",
                      json={"title": "skal round trip", "label_config": LABEL_CONFIG}).json()["id"]
    refused = ls.call("POST", "/api/storages/localfiles", expect=(400,),
                      json={"project": project, "path": str(root), "use_blob_urls": False})
    assert "cannot be the same as LOCAL_FILES_DOCUMENT_ROOT" in refused.text
    ls.call("POST", "/api/storages/localfiles",
            json={"project": project, "path": str(workspace["pool"]), "use_blob_urls": False,
                  "title": "pool"})

    # every pool file, linked as skal links it (URL-encoded, below the pool's parent)
    everything = base / "all.json"
    _skal("rank", workspace["model"], root / "pool", "--strategy", "entropy",
          "--transform", "grayscale,tensor,flatten", "--format", "label-studio",
          "--url-prefix", PREFIX, "-o", everything, cwd=base)
    links = {task["data"]["image"] for task in json.loads(everything.read_text())}
    assert links == {PREFIX + quote(f"pool/{name}", safe="/") for name in digits}
    for link in sorted(links):
        response = ls.get_file(link)
        assert response.status_code == 200, (link, response.status_code)
        assert response.headers["Content-Type"] == "image/png", link
        assert response.content.startswith(b"\x89PNG"), link
    # the same name unencoded is cut at '&' and '#': not found, so the encoding matters
    raw = PREFIX + "pool/" + SPECIAL_NAMES[7]
    assert ls.get_file(raw).status_code == 404

    # round 1: the top 10, as Label Studio tasks with the priority as prediction score
    state, day1 = base / "state.joblib", base / "day1.json"
    _skal("rank", workspace["model"], root / "pool", "--strategy", "entropy",
          "--transform", "grayscale,tensor,flatten", "--top", TOP, "--state", state,
          "--format", "label-studio", "--url-prefix", PREFIX, "-o", day1, cwd=base)
    tasks1 = json.loads(day1.read_text())
    assert [t["data"]["rank"] for t in tasks1] == list(range(1, TOP + 1))
    paths = joblib.load(state)["paths"]  # the file of each pool position
    truth = {p: digits[os.path.basename(path)] for p, path in enumerate(paths)}
    assert sorted(truth) == list(range(N_POOL))
    for task in tasks1:
        assert ls.get_file(task["data"]["image"]).status_code == 200, task["data"]

    imported = ls.call("POST", f"/api/projects/{project}/import", json=tasks1).json()
    assert imported["task_count"] == TOP
    assert imported["prediction_count"] == TOP  # predictions with an empty result: accepted
    listing = ls.tasks(project)
    assert listing["total"] == TOP and listing["total_predictions"] == TOP
    by_rank = {}
    for row in listing["tasks"]:
        task = ls.call("GET", f"/api/tasks/{row['id']}").json()
        [prediction] = task["predictions"]
        assert prediction["result"] == []
        assert prediction["score"] == pytest.approx(1 / task["data"]["rank"])
        assert prediction["model_version"].startswith("skal EntropySampling ranking ")
        by_rank[task["data"]["rank"]] = task
    assert sorted(by_rank) == list(range(1, TOP + 1))
    # the Data Manager's order: by prediction score (highest first) is by rank; by
    # data.rank it is numeric on SQLite (JSON_EXTRACT keeps numbers): 1, 2, ..., 10
    assert _ranks(ls.tasks(project, "-tasks:predictions_score")) == list(range(1, TOP + 1))
    assert _ranks(ls.tasks(project, "tasks:data.rank")) == list(range(1, TOP + 1))

    # annotations: the true digit on every task but the skipped one; rank 1 gets a
    # wrong vote from a second annotator, outvoted 2:1; rank 2 a tie 1:1
    second = ls.signup("second@example.com", "second-password-1")
    position = {rank: task["data"]["position"] for rank, task in by_rank.items()}
    majority, tie, skipped = position[1], position[2], position[3]

    def wrong(p):
        return (truth[p] + 1) % 10

    for rank, task in by_rank.items():
        url = f"/api/tasks/{task['id']}/annotations/"
        if rank == 3:
            ls.call("POST", url, json={"result": [], "was_cancelled": True})
            continue
        ls.call("POST", url, json={"result": _choice(truth[position[rank]])})
        if rank in (1, 2):
            ls.call("POST", url, token=second, json={"result": _choice(wrong(position[rank]))})
        if rank == 1:
            ls.call("POST", url, token=second, json={"result": _choice(truth[majority])})

    # the exports, each read back by python -m skal labels
    exports = {"JSON": "export.json", "JSON_MIN": "export-min.json", "CSV": "export.csv"}
    labels, reports = {}, {}
    for kind, name in exports.items():
        response = ls.call("GET", f"/api/projects/{project}/export",
                           params={"exportType": kind})
        (base / name).write_bytes(response.content)
        out = base / f"labels-{kind}.csv"
        reports[kind] = _skal("labels", base / name, "--state", state, "-o", out, cwd=base)
        labels[kind] = _read_labels(out)
    assert labels["JSON"] == labels["JSON_MIN"] == labels["CSV"], reports
    got = labels["JSON"]
    assert sorted(got) == list(range(N_POOL))
    annotated = set(position.values()) - {tie, skipped}
    assert {p: got[p] for p in annotated} == {p: str(truth[p]) for p in annotated}
    assert got[tie] == "" and got[skipped] == ""
    assert all(got[p] == "" for p in set(range(N_POOL)) - set(position.values()))
    for kind, report in reports.items():
        assert ("annotators disagree on 2 positions (1 resolved, 1 ties left unlabeled)"
                in report), (kind, report)
        assert (f"position {majority}: {truth[majority]}: 2, {wrong(majority)}: 1 -> "
                f"{truth[majority]} (majority)") in report, (kind, report)
        assert f"position {tie}: " in report and "-> unlabeled (tie: skip)" in report, (
            kind, report)
        assert f"{TOP - 2} of {N_POOL} pool positions labeled" in report, (kind, report)
    # only the JSON export lists the skipped task's cancelled annotation
    assert f"read {TOP} tasks (json export" in reports["JSON"]
    assert "1 skipped or cancelled" in reports["JSON"]

    # round 2: refit on the labels, rank what is neither labeled nor exported
    day2 = base / "day2.json"
    report = _skal("rank", "--resume", state, "--labels", base / "labels-JSON.csv", "--refit",
                   "--top", TOP, "-o", day2, cwd=base)
    assert (base / "state.round2.model.joblib").is_file(), report
    tasks2 = json.loads(day2.read_text())
    assert [t["data"]["rank"] for t in tasks2] == list(range(TOP + 1, 2 * TOP + 1))
    day1_positions = {t["data"]["position"] for t in tasks1}
    assert not day1_positions & {t["data"]["position"] for t in tasks2}
    assert all("round 2" in t["predictions"][0]["model_version"] for t in tasks2)
    for task in tasks2:
        assert ls.get_file(task["data"]["image"]).status_code == 200, task["data"]
    imported = ls.call("POST", f"/api/projects/{project}/import", json=tasks2).json()
    assert imported["task_count"] == TOP and imported["prediction_count"] == TOP
    listing = ls.tasks(project)
    assert listing["total"] == 2 * TOP and listing["total_predictions"] == 2 * TOP
    # both days in one queue, in rank order (10 before 11 and 2 before 10: numeric)
    everything_ranks = list(range(1, 2 * TOP + 1))
    assert _ranks(ls.tasks(project, "-tasks:predictions_score")) == everything_ranks
    assert _ranks(ls.tasks(project, "tasks:data.rank")) == everything_ranks

    # round 3: day 2 labeled, the cumulative export read back, the next refit
    for row in ls.tasks(project)["tasks"]:
        task = ls.call("GET", f"/api/tasks/{row['id']}").json()
        if task["data"]["rank"] > TOP:
            ls.call("POST", f"/api/tasks/{task['id']}/annotations/",
                    json={"result": _choice(truth[task["data"]["position"]])})
    response = ls.call("GET", f"/api/projects/{project}/export", params={"exportType": "JSON"})
    (base / "export2.json").write_bytes(response.content)
    _skal("labels", base / "export2.json", "--state", state, "-o", base / "labels2.csv", cwd=base)
    got = _read_labels(base / "labels2.csv")
    day2_positions = {t["data"]["position"] for t in tasks2}
    assert all(got[p] == str(truth[p]) for p in day2_positions)
    day3 = base / "day3.json"
    _skal("rank", "--resume", state, "--labels", base / "labels2.csv", "--refit",
          "--top", TOP, "-o", day3, cwd=base)
    tasks3 = json.loads(day3.read_text())
    assert [t["data"]["rank"] for t in tasks3] == list(range(2 * TOP + 1, 3 * TOP + 1))
    assert not (day1_positions | day2_positions) & {t["data"]["position"] for t in tasks3}
    assert joblib.load(base / "state.round3.model.joblib").classes_.tolist() == list(range(10))
    imported = ls.call("POST", f"/api/projects/{project}/import", json=tasks3).json()
    assert imported["task_count"] == TOP
