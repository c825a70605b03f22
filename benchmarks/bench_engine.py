"""The k-means++ and k-center engines alone: the scan against the lazy engines (issue 20).

Factors shaped like benchmark E's (``h``: H = 513 with the bias column,
``e``: C classes, ``p − onehot``), from a mixture of 100 Gaussians pushed
through a ReLU and a softmax with the true cluster boosted: a trained net's
picture. ``--classes 10`` with a sharper softmax gives MNIST-like factors,
where acceptance collapses early. For each ``k``, each method makes the
first ``k`` picks from the same factors; printed per run: seconds, distance
evaluations, candidates drawn (or heap pops), acceptance, refreshes, whether
the scan took over, and the ratio scan / method in the same run.

Run: ``python benchmarks/bench_engine.py --n 100000 --ks 100 1000 10000``
(``--methods auto`` alone for pools where the scan takes too long).
"""

import argparse
import hashlib
import os
import time

import numpy as np

from _common import emit


def factors(n, H=513, C=100, sep=3.0, seed=0):
    rng = np.random.RandomState(seed)
    centers = rng.randn(100, H - 1) * 2
    lab = rng.randint(0, 100, n)
    h = np.empty((n, H), np.float32)
    e = np.empty((n, C), np.float32)
    for s in range(0, n, 50_000):
        sl = slice(s, min(n, s + 50_000))
        m = sl.stop - sl.start
        h[sl, :-1] = np.maximum(centers[lab[sl]] + rng.randn(m, H - 1), 0)
        logits = rng.randn(m, C) * 2
        logits[np.arange(m), lab[sl] % C] += sep
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        e[sl] = p - np.eye(C, dtype=np.float32)[p.argmax(1)]
    h[:, -1] = 1.0
    return h, e


def run(kind, X, k, method, seed=0):
    from skal.selection import KCenterGreedyRanking, KMeansPlusPlusRanking

    if kind == "kmeans++":
        ranking = KMeansPlusPlusRanking(X, random_state=seed, method=method)
    else:
        ranking = KCenterGreedyRanking(X.h, random_state=seed, method=method)
    tic = time.perf_counter()
    picks = ranking.take(k)
    seconds = time.perf_counter() - tic
    cost = getattr(ranking._engine, "cost", None)
    record = dict(seconds=round(seconds, 3), evaluations=int(ranking.n_distance_evaluations_),
                  picks_sha1=hashlib.sha1(picks.astype(np.int64).tobytes()).hexdigest()[:12])
    if cost is not None and method != "scan":
        record.update(candidates=int(cost.n_candidates), lazy_picks=int(cost.n_lazy_picks),
                      acceptance=round(cost.n_lazy_picks / max(cost.n_candidates, 1), 3),
                      refreshes=int(cost.n_refreshes), ended_in=ranking._engine.mode)
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--sep", type=float, default=3.0)
    parser.add_argument("--ks", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--methods", nargs="+", default=["scan", "auto"])
    parser.add_argument("--kinds", nargs="+", default=["kmeans++", "kcenter"])
    args = parser.parse_args()
    from skal.selection import OuterProduct

    h, e = factors(args.n, C=args.classes, sep=args.sep)
    X = OuterProduct(h, e)
    run("kmeans++", OuterProduct(h[:2000], e[:2000]), 10, "auto")  # compile the kernels
    run("kcenter", OuterProduct(h[:2000], e[:2000]), 10, "auto")
    load = os.getloadavg()[0]
    for kind in args.kinds:
        for k in args.ks:
            times = {}
            for method in args.methods:
                record = run(kind, X, k, method)
                times[method] = record["seconds"]
                emit(case="engine", kind=kind, n=args.n, H=h.shape[1], C=e.shape[1], k=k,
                     method=method, load_before=round(load, 2),
                     load_after=round(os.getloadavg()[0], 2), **record)
                load = os.getloadavg()[0]
            if "scan" in times:
                emit(case="engine", kind=kind, n=args.n, k=k, method="ratios",
                     **{f"scan/{m}": round(times["scan"] / t, 2)
                        for m, t in times.items() if m != "scan" and t > 0})


if __name__ == "__main__":
    main()
