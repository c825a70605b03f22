"""Case A: full k-means++ ordering of 15,000 realistic BADGE embeddings (H=256, C=10).

The embeddings are the gradient embeddings of 15,000 MNIST training images under
a 784-256-10 MLP (skorch) trained on 1,000 other labeled images. Every method
runs in this same process, and the script prints one JSON line per method, then
the ratios of skal's time to each baseline's.

Methods:
- ``skal``: :func:`skal.selection.kmeans_plusplus_ordering` on the factors
  (``OuterProduct``), the default engine (``method="auto"``: lazy, then the
  scan once acceptance collapses), float32 storage.
- ``skal_scan``: the same with ``method="scan"`` (the engine of skal 0.1.0:
  every point at every pick, exact pruning).
- ``skal_no_pruning``: the scan without pruning, through the public switch
  ``KMeansPlusPlusRanking(..., method="scan", pruning=False)`` (the plain
  path; same ordering as ``skal_scan``, checked on the prefix), timed on a
  prefix and extrapolated.
- ``numpy_dense_matvec``: dense NumPy loop on the (n, 2570) embeddings: one
  ``G @ g_c`` per step, running minimum, cumulative-sum sampling.
- ``torch_cdist_seed``: the seed's algorithm in its fastest CPU form: dense
  torch, cached running minimum, ``torch.cdist(..., compute_mode=
  'donot_use_mm_for_euclid_dist')``.
- ``sklearn_kmeans_plusplus``: ``sklearn.cluster.kmeans_plusplus(G, k,
  n_local_trials=1)``.
Baselines whose full run would take minutes are timed on a prefix of
``--prefix`` steps and extrapolated linearly (their per-step cost is constant:
a full pass over the pool); the JSON says so (``"extrapolated": true``).

Run: ``SKAL_DATA=../shared/data python benchmarks/bench_kmeanspp_ordering.py``
"""

import argparse

import numpy as np

from _common import emit, load_mnist, timed, trained_mlp


def numpy_dense_matvec(G, n_steps, seed):
    rng = np.random.RandomState(seed)
    sq = np.einsum("ij,ij->i", G, G)
    c = int(np.argmax(sq))
    min_d2 = np.maximum(sq + sq[c] - 2.0 * (G @ G[c]), 0)
    min_d2[c] = 0
    order = [c]
    for _ in range(n_steps - 1):
        cumulative = np.cumsum(min_d2)
        c = int(np.searchsorted(cumulative, rng.random_sample() * cumulative[-1], side="right"))
        c = min(c, len(G) - 1)
        np.minimum(min_d2, np.maximum(sq + sq[c] - 2.0 * (G @ G[c]), 0), out=min_d2)
        min_d2[c] = 0
        order.append(c)
    return order


def torch_cdist_seed(G, n_steps, seed):
    import torch

    g = torch.from_numpy(G)
    gen = torch.Generator().manual_seed(seed)
    c = int(torch.argmax((g * g).sum(1)))
    min_d = torch.cdist(g, g[c : c + 1], compute_mode="donot_use_mm_for_euclid_dist")[:, 0]
    order = [c]
    for _ in range(n_steps - 1):
        p = min_d**2
        c = int(torch.multinomial(p / p.sum(), 1, generator=gen))
        d = torch.cdist(g, g[c : c + 1], compute_mode="donot_use_mm_for_euclid_dist")[:, 0]
        min_d = torch.minimum(min_d, d)
        order.append(c)
    return order


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=15000)
    parser.add_argument("--prefix", type=int, default=300,
                        help="steps timed for the slow baselines (default: 300)")
    parser.add_argument("--repeats", type=int, default=3, help="skal repeats (best of)")
    args = parser.parse_args()

    import torch

    from skal.embeddings import gradient_embedding
    from skal.selection import KMeansPlusPlusRanking, OuterProduct, kmeans_plusplus_ordering

    X, y = load_mnist(train=True)
    perm = np.random.RandomState(0).permutation(len(y))
    labeled, pool = perm[:1000], perm[1000 : 1000 + args.n]
    net = trained_mlp(X[labeled], y[labeled])
    h, e = gradient_embedding(net, X[pool], return_factors=True)
    G = np.einsum("ij,ik->ijk", h, e).reshape(len(h), -1).astype(np.float32)
    n, dim = G.shape
    common = dict(case="A", n=n, dim=dim, H=h.shape[1] - 1, C=e.shape[1])

    kmeans_plusplus_ordering(OuterProduct(h[:50], e[:50]), random_state=0)  # compile
    skal_times = []
    for _ in range(args.repeats):
        order, seconds = timed(kmeans_plusplus_ordering, OuterProduct(h, e), random_state=0)
        skal_times.append(seconds)
    skal_s = min(skal_times)
    emit(**common, method="skal", steps_timed=n, seconds=skal_s, seconds_full=skal_s,
         extrapolated=False, all_repeats=skal_times)
    assert sorted(order.tolist()) == list(range(n))

    # the scan alone (method="scan", skal 0.1.0's engine), pruned and plain
    scan_times = []
    for _ in range(args.repeats):
        scan_order, seconds = timed(kmeans_plusplus_ordering, OuterProduct(h, e),
                                    random_state=0, method="scan")
        scan_times.append(seconds)
    emit(**common, method="skal_scan", steps_timed=n, seconds=min(scan_times),
         seconds_full=min(scan_times), extrapolated=False, all_repeats=scan_times)
    plain = KMeansPlusPlusRanking(OuterProduct(h, e), random_state=0, pruning=False,
                                  method="scan")
    prefix_order, seconds = timed(plain.take, args.prefix)  # the first k of the ordering
    emit(**common, method="skal_no_pruning", steps_timed=args.prefix, seconds=seconds,
         seconds_full=seconds * n / args.prefix, extrapolated=True,
         same_prefix_as_pruned=bool(np.array_equal(prefix_order, scan_order[: args.prefix])))

    torch.set_num_threads(2)
    baselines = {
        "numpy_dense_matvec": lambda k: numpy_dense_matvec(G, k, 0),
        "torch_cdist_seed": lambda k: torch_cdist_seed(G, k, 0),
    }
    from sklearn.cluster import kmeans_plusplus

    baselines["sklearn_kmeans_plusplus"] = lambda k: kmeans_plusplus(
        G, k, n_local_trials=1, random_state=0
    )
    ratios = {}
    for name, run in baselines.items():
        run(5)  # warm up
        _, seconds = timed(run, args.prefix)
        full = seconds * n / args.prefix
        ratios[name] = full / skal_s
        emit(**common, method=name, steps_timed=args.prefix, seconds=seconds,
             seconds_full=full, extrapolated=True)
    emit(**common, method="ratios", skal_seconds=skal_s,
         speedup_vs={k: round(v, 1) for k, v in ratios.items()})


if __name__ == "__main__":
    main()
