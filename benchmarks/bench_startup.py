"""Start-up time: ``import skal`` and ``python -m skal --help``, two revisions in one run.

Checks out ``--base`` into a temporary git worktree and times, alternating the
revisions, fresh interpreters (warm disk cache) running:

- ``import skal``;
- ``python -m skal --help`` and ``python -m skal rank --help``;
- ``python -m skal rank ... --strategy badg`` (a typo: the error, nothing loaded);
- ``import skal; skal.BADGE`` (what a script using a strategy pays either way).

Each revision runs with its own ``skal`` first on ``PYTHONPATH``. One JSON line
per measurement: the median of ``--repeats`` runs for each revision, the ratio
head / base, the heavy modules each one imported (``sys.modules`` at exit), and
the machine's load. Also ``python -X importtime``'s top entries for ``import skal``
in the head revision.

Run: ``python benchmarks/bench_startup.py --base 97ef2c0``
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import emit, revision_tree

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "torchvision", "sklearn", "matplotlib", "numba", "pandas", "dask")
PROBE = f"\nimport sys\nprint('HEAVY', ','.join(m for m in {HEAVY!r} if m in sys.modules))"
CASES = {
    "import skal": ["-c", "import skal" + PROBE],
    "python -m skal --help": ["-c", "import sys, runpy; sys.argv = ['skal', '--help']\n"
                              "try:\n    runpy.run_module('skal', run_name='__main__')\n"
                              "except SystemExit:\n    pass" + PROBE],
    "python -m skal rank --help": ["-c", "import sys, runpy; sys.argv = ['skal', 'rank', "
                                   "'--help']\ntry:\n    runpy.run_module('skal', "
                                   "run_name='__main__')\nexcept SystemExit:\n    pass" + PROBE],
    "rank --strategy typo": ["-c", "import sys, runpy; sys.argv = ['skal', 'rank', 'm.joblib', "
                             "'p.npy', '--strategy', 'badg', '-o', 'r.csv']\ntry:\n    "
                             "runpy.run_module('skal', run_name='__main__')\nexcept SystemExit:"
                             "\n    pass" + PROBE],
    "import skal; skal.BADGE": ["-c", "import skal; skal.BADGE" + PROBE],
}


def _once(tree, args):
    env = dict(os.environ, PYTHONPATH=str(tree))
    tic = time.perf_counter()
    out = subprocess.run([sys.executable, *args], cwd=tempfile.gettempdir(), env=env,
                         capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - tic
    heavy = [line for line in out.stdout.splitlines() if line.startswith("HEAVY")]
    return seconds, heavy[-1][6:].split(",") if heavy and heavy[-1][6:] else []


def _importtime(tree, top=8):
    env = dict(os.environ, PYTHONPATH=str(tree))
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import skal"],
                         cwd=tempfile.gettempdir(), env=env, capture_output=True,
                         text=True).stderr
    rows = []
    for line in err.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].strip()))
    return sorted(rows, reverse=True)[:top]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="97ef2c0", help="the old revision (default: 97ef2c0)")
    parser.add_argument("--repeats", type=int, default=7, help="runs of each (default: 7)")
    args = parser.parse_args()
    with revision_tree(args.base) as base_tree:
        trees = {"base": base_tree, "head": ROOT}
        for name, case in CASES.items():
            times = {"base": [], "head": []}
            heavy = {}
            for _ in range(args.repeats):
                for revision, tree in trees.items():
                    seconds, modules = _once(tree, case)
                    times[revision].append(seconds)
                    heavy[revision] = modules
            old, new = (statistics.median(times[r]) for r in ("base", "head"))
            emit(measurement=name, base=args.base, base_seconds=old, head_seconds=new,
                 head_over_base=new / old, base_heavy=heavy["base"],
                 head_heavy=heavy["head"], repeats=args.repeats, loadavg=os.getloadavg())
        emit(measurement="importtime top (head, import skal)",
             cumulative_us=[{"module": m, "us": us} for us, m in _importtime(ROOT)])

if __name__ == "__main__":
    main()
