"""Query by committee on MNIST: vote entropy and KL against entropy, margin and BADGE.

Issue 22's classification comparison. Two models, each with its own
committee, on the same MNIST pool and the same trials:

- a 784-128-10 skorch MLP (30 epochs of Adam, retrained from scratch every
  round), whose committee is ``--members`` MLPs bagged on the labeled set
  (``QueryByCommittee(n_members=...)``: stratified bootstraps, each member
  seeded); compared with random, entropy, margin and BADGE;
- a random forest of 100 trees, whose committee is its own trees
  (``QueryByCommittee()`` on a fitted forest reads ``estimators_``); BADGE
  needs an embedding, which a forest has not, so it is left out there.

For each model, ``compare_strategies`` runs every strategy on the same
``--trials`` trials (initial sets and seeds) and writes the rounds, the
summary (accuracy at the last round, labeling efficiency against random,
AULC, query time, the penalty matrix's wins) and the plots into
``<output>/mlp/`` and ``<output>/forest/``, as ``python -m skal compare`` does;
``results.json`` holds both summaries and the settings.

Run: ``SKAL_DATA=../shared/data python examples/committee_mnist.py``
(writes docs/results/committee/). ``--quick`` (or ``SKAL_QUICK=1``) is a tiny
run for the test suite: a 600-image pool, 20 to 60 labels, 2 epochs, 2 trials,
3 members; it writes to a new temporary folder unless ``--output`` is given.
"""

import argparse
import csv
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.ensemble import RandomForestClassifier

from skal import (
    BADGE,
    ActiveLearner,
    EntropySampling,
    MarginSampling,
    QueryByCommittee,
    RandomSampling,
)
from skal.datasets import load_mnist
from skal.model_selection import compare_strategies
from skal.plotting import save_comparison_plots
from skal.toy import make_skorch_classifier


def _load(pool_size, test_size, seed):
    home = os.environ.get("SKAL_DATA")
    X, y = load_mnist(data_home=home, train=True)
    X_test, y_test = load_mnist(data_home=home, train=False)
    rng = np.random.RandomState(seed)
    pool = rng.permutation(len(y))[:pool_size]
    test = rng.permutation(len(y_test))[:test_size]

    def flat(A):
        return (A.reshape(len(A), -1) / 255.0).astype(np.float32)

    return flat(X[pool]), y[pool], flat(X_test[test]), y_test[test]


def _strategies(members, with_badge):
    strategies = {
        "random": RandomSampling(),
        "entropy": EntropySampling(),
        "margin": MarginSampling(),
        "qbc-vote": QueryByCommittee(n_members=members, disagreement="vote_entropy"),
        "qbc-kl": QueryByCommittee(n_members=members, disagreement="kl_max"),
    }
    if with_badge:
        strategies["badge"] = BADGE()
    return strategies


def _write(comparison, out):
    out.mkdir(parents=True, exist_ok=True)
    rows = comparison.summary(as_frame=False)
    for stem, table in (("rounds", comparison.to_records()), ("summary", rows)):
        with open(out / f"{stem}.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(table[0]))
            writer.writeheader()
            writer.writerows(table)
        (out / f"{stem}.json").write_text(json.dumps(table, indent=1))
    save_comparison_plots(comparison, out)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool-size", type=int, default=10000)
    parser.add_argument("--test-size", type=int, default=2000)
    parser.add_argument("--initial", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--budget", type=int, default=220)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="docs/results/committee")
    parser.add_argument("--quick", action="store_true",
                        help="a tiny run for the test suite (or SKAL_QUICK=1)")
    args = parser.parse_args(argv)
    if args.quick or os.environ.get("SKAL_QUICK") == "1":
        args.pool_size, args.test_size, args.initial, args.batch_size = 600, 300, 20, 20
        args.budget, args.trials, args.epochs, args.members, args.n_jobs = 60, 2, 2, 3, 1
        if args.output == parser.get_default("output"):
            args.output = tempfile.mkdtemp(prefix="skal_quick_")
        print(f"quick mode: writing to {args.output}")
    del args.quick  # settings record the sizes used
    out = Path(args.output)

    X, y, X_test, y_test = _load(args.pool_size, args.test_size, args.seed)
    models = {
        "mlp": make_skorch_classifier(
            X.shape[1], 10, hidden_units=128, max_epochs=args.epochs,
            optimizer=torch.optim.Adam, lr=0.01,
        ),
        "forest": RandomForestClassifier(n_estimators=100, n_jobs=1),
    }
    results = {"settings": vars(args)}
    for name, estimator in models.items():
        learner = ActiveLearner(
            estimator, batch_size=args.batch_size, initial_size=args.initial,
            budget=args.budget, random_state=args.seed,
        )
        tic = time.perf_counter()
        comparison = compare_strategies(
            learner, _strategies(args.members, with_badge=name == "mlp"), X, y,
            X_test=X_test, y_test=y_test, n_repeats=args.trials, n_jobs=args.n_jobs,
            random_state=args.seed, scoring="accuracy",
        )
        seconds = time.perf_counter() - tic
        rows = _write(comparison, out / name)
        results[name] = {"seconds": round(seconds, 1), "summary": rows,
                         "n_labeled": comparison.n_labeled.tolist()}
        print(f"{name}: {seconds:.0f} s")
        for r in rows:
            print(f"  {r['strategy']:>10} {r['final_score_mean']:.3f} ± "
                  f"{r['final_score_std']:.3f}  eff {r['labeling_efficiency']:.2f}  "
                  f"AULC {r['aulc_mean']:.3f}  query {r['query_time_mean']:.2f}s  "
                  f"wins {r['strategies_beaten_per_round']:.2f}")
    (out / "results.json").write_text(json.dumps(results, indent=1, default=float))
    return results


if __name__ == "__main__":
    main()
