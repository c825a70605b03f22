"""Benchmarks A-D on two revisions of skal, alternating, in one run: the ratio new / old.

A refactor must not slow skal down. This script checks out ``--base`` into a
temporary git worktree, then runs each benchmark script of the two revisions
(each revision's own script, with its own ``skal`` first on ``PYTHONPATH``)
in turn, base then head, ``--rounds`` times. For every timed measurement it
prints one JSON line with the best time of each revision and the ratio
head / base, then a summary line: the median and the range of the ratios.
Alternating the revisions spreads a machine's slow moments over both.

Run: ``SKAL_DATA=../shared/data python benchmarks/compare_revisions.py --base 2c6bf1a``
(``--cases A C`` for some benchmarks only; ``--quick`` for smaller inputs).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from _common import emit, revision_tree

ROOT = Path(__file__).resolve().parents[1]

# case -> (script, arguments, arguments with --quick)
CASES = {
    "A": ("bench_kmeanspp_ordering.py", [], ["--n", "5000", "--prefix", "50"]),
    "B": ("bench_badge_query.py", ["--batch-sizes", "100", "1000", "3000"],
          ["--batch-sizes", "100"]),
    "C": ("bench_lazy_ranking.py", [], []),
    "D": ("bench_strategy_zoo.py", [], ["--pool-size", "10000"]),
}


def _key(record):
    """What a JSON line measures, e.g. ``A skal``, ``B badge 100``, ``D BADGE``."""
    parts = [record.get("case") or "", record.get("method") or record.get("strategy") or ""]
    if "batch_size" in record and record.get("case") == "B":
        parts.append(str(record["batch_size"]))
    return " ".join(p for p in parts if p)


def _times(output, case):
    """``{measurement: seconds}`` from a benchmark's JSON lines."""
    times = {}
    for line in output.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        record.setdefault("case", case)
        if record.get("method") in ("ratios", "ratio") or record.get("strategy") == "summary":
            continue
        if isinstance(record.get("seconds"), (int, float)):
            times[_key(record)] = float(record["seconds"])
    return times


def _run(tree, case, quick):
    script, args, quick_args = CASES[case]
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(
        [sys.executable, str(Path(tree) / "benchmarks" / script),
         *(quick_args if quick else args)],
        cwd=tree, env=env, check=True, capture_output=True, text=True,
    )
    return _times(out.stdout, case)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="2c6bf1a", help="the old revision (default: 2c6bf1a)")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--rounds", type=int, default=2, help="runs of each revision")
    parser.add_argument("--quick", action="store_true", help="smaller inputs")
    args = parser.parse_args()

    with revision_tree(args.base) as base_tree:
        trees = {"base": base_tree, "head": ROOT}
        ratios = []
        for case in args.cases:
            best = {"base": {}, "head": {}}
            for _ in range(args.rounds):
                for name, tree in trees.items():
                    for key, seconds in _run(tree, case, args.quick).items():
                        best[name][key] = min(seconds, best[name].get(key, float("inf")))
            for key in sorted(set(best["base"]) & set(best["head"])):
                old, new = best["base"][key], best["head"][key]
                ratio = new / old if old > 0 else float("nan")
                ratios.append(ratio)
                emit(case=case, measurement=key, base=args.base, base_seconds=old,
                     head_seconds=new, head_over_base=ratio, rounds=args.rounds)
    if ratios:
        emit(measurement="summary", base=args.base, n=len(ratios),
             median_head_over_base=statistics.median(ratios),
             min_head_over_base=min(ratios), max_head_over_base=max(ratios),
             loadavg=os.getloadavg())


if __name__ == "__main__":
    main()
