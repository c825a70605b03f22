"""KMeansSampling's k-means on benchmark D's pool: the engine's seeds against the scan's.

Issue 20 measured ``KMeansSampling`` at 1.56x its earlier time in benchmark D
(one seed): Lloyd's iterations went from 146 to 183 with the new k-means++
seeds. Both seedings draw exactly from the D² law, so the number of
iterations is a random variable of the seed; this script measures it over
several seeds, for ``method="auto"`` (the lazy engine) and ``method="scan"``
(skal 0.1.0's seeds), in one run: seeding time, Lloyd's time and iterations,
and the k-means objective (inertia).

Benchmark D's setup: the 60,000 MNIST images, the 784-256-10 MLP trained on
1,000 of them, its penultimate embedding (256 features), 100 clusters.

Run: ``SKAL_DATA=../shared/data python benchmarks/bench_kmeans_seeds.py --seeds 0 1 2 3 4``
"""

import argparse
import os
import statistics
import time

import numpy as np

from _common import emit, load_mnist, trained_mlp


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--n-clusters", type=int, default=100)
    args = parser.parse_args()

    import torch
    from sklearn.cluster import KMeans

    from skal.embeddings import penultimate_embedding
    from skal.selection import kmeans_plusplus_ordering

    torch.set_num_threads(os.cpu_count() or 1)
    X, y = load_mnist(train=True)
    labeled = np.random.RandomState(0).permutation(len(y))[:1000]
    net = trained_mlp(X[labeled], y[labeled], dropout=0.5)
    points = np.asarray(penultimate_embedding(net, X), dtype=np.float32)
    summary = {}
    for seed in args.seeds:
        for method in ("scan", "auto"):
            tic = time.perf_counter()
            seeds = kmeans_plusplus_ordering(points, args.n_clusters, init="random",
                                             random_state=seed, method=method)
            seeding = time.perf_counter() - tic
            tic = time.perf_counter()
            kmeans = KMeans(n_clusters=args.n_clusters, init=points[seeds], n_init=1)
            kmeans.fit(points)
            lloyd = time.perf_counter() - tic
            summary.setdefault(method, []).append((seeding, lloyd, kmeans.n_iter_,
                                                   kmeans.inertia_))
            emit(case="D KMeansSampling k-means", method=method, seed=seed,
                 seeding_seconds=seeding, lloyd_seconds=lloyd, n_iter=int(kmeans.n_iter_),
                 inertia=float(kmeans.inertia_), n=len(points), dim=points.shape[1],
                 n_clusters=args.n_clusters, loadavg=os.getloadavg())
    for method, rows in summary.items():
        seeding, lloyd, n_iter, inertia = zip(*rows)
        emit(case="D KMeansSampling k-means", method=method, seeds=args.seeds,
             median_seeding_seconds=statistics.median(seeding),
             median_lloyd_seconds=statistics.median(lloyd),
             median_total_seconds=statistics.median(s + t for s, t in zip(seeding, lloyd)),
             n_iter=[int(v) for v in n_iter], mean_n_iter=float(np.mean(n_iter)),
             mean_inertia=float(np.mean(inertia)))
    auto = [s + t for s, t, _, _ in summary["auto"]]
    scan = [s + t for s, t, _, _ in summary["scan"]]
    emit(case="D KMeansSampling k-means", method="ratio",
         median_total_auto_over_scan=statistics.median(auto) / statistics.median(scan),
         mean_total_auto_over_scan=float(np.mean(auto) / np.mean(scan)))


if __name__ == "__main__":
    main()
