"""``python -m skal demo``: random vs entropy vs BADGE on the bundled digits.

A small :func:`~skal.model_selection.compare_strategies` run: a learning-curve
table on stdout (mean ± std test accuracy over trials, per number of labels),
``learning_curves.png`` (:func:`~skal.plotting.plot_learning_curves`) and
``learning_curves.json``, with a progress bar while the trials run.
"""

import json
from pathlib import Path

import numpy as np

from ._common import UserError, from_library

__all__ = ["add_parser", "run"]


def add_parser(commands):
    """Register ``demo`` on ``commands`` (argparse subparsers)."""
    demo = commands.add_parser(
        "demo",
        help="random vs entropy vs BADGE on the bundled digits with a skorch MLP",
        description=(
            "Simulate active learning on scikit-learn's bundled digits with a small "
            "skorch MLP, comparing random sampling, entropy sampling and BADGE; print a "
            "learning-curve table and write learning_curves.png/.json."
        ),
    )
    demo.add_argument("--trials", type=int, default=3, help="repetitions (default: 3)")
    demo.add_argument("--initial-size", type=int, default=20,
                      help="initial random labels (default: 20)")
    demo.add_argument("--batch-size", type=int, default=20, help="labels per round (default: 20)")
    demo.add_argument("--budget", type=int, default=200, help="total labels (default: 200)")
    demo.add_argument("--epochs", type=int, default=30,
                      help="training epochs per round (default: 30)")
    demo.add_argument("--test-size", type=float, default=0.3,
                      help="held-out fraction (default: 0.3)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument("--output", default="skal-demo", help="output folder (default: skal-demo)")
    demo.add_argument("--quiet", "-q", action="store_true",
                      help="no progress bar, no table: errors only")
    demo.set_defaults(run=run)
    return demo


def check_learning_args(args, positive):
    """The option checks that ``demo`` and ``compare`` share; raises UserError."""
    from ..utils._random import MAX_RANDOM_STATE

    for name in positive:
        value = getattr(args, name)
        if value < 1:
            raise UserError(f"--{name.replace('_', '-')} must be a positive integer; got {value}.")
    if args.budget < args.initial_size:
        raise UserError(
            f"--budget {args.budget} is smaller than --initial-size {args.initial_size}: "
            "the budget counts every label, the initial ones included. Raise --budget or "
            "lower --initial-size."
        )
    if not 0 <= args.seed <= MAX_RANDOM_STATE:
        raise UserError(f"--seed must lie in [0, {MAX_RANDOM_STATE}]; got {args.seed}.")


def run(args):
    """Run the demo; 0 on success."""
    check_learning_args(args, ["trials", "initial_size", "batch_size", "budget", "epochs"])
    if not 0 < args.test_size < 1:
        raise UserError(f"--test-size must be a fraction in (0, 1); got {args.test_size}.")

    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from ..learner import ActiveLearner
    from ..model_selection import compare_strategies
    from ..strategies import BADGE, EntropySampling, RandomSampling
    from ..toy import make_skorch_classifier

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_pool, X_test, y_pool, y_test = train_test_split(
        X, y, test_size=args.test_size, stratify=y, random_state=args.seed
    )
    net = make_skorch_classifier(64, 10, hidden_units=64, max_epochs=args.epochs,
                                 optimizer=torch.optim.Adam, lr=0.01)
    learner = ActiveLearner(net, batch_size=args.batch_size, initial_size=args.initial_size,
                            budget=args.budget)
    strategies = {"random": RandomSampling(), "entropy": EntropySampling(), "badge": BADGE()}
    with from_library():
        comparison = compare_strategies(
            learner, strategies, X_pool, y_pool, X_test=X_test, y_test=y_test,
            n_repeats=args.trials, random_state=args.seed, scoring="accuracy",
            verbose=0 if args.quiet else 1, error_score="raise",
        )

    n_labeled = comparison.n_labeled
    names = list(strategies)
    times = {name: (float(np.nanmean(np.nansum(comparison.query_times[name], axis=1))),
                    float(np.nanmean(np.nansum(comparison.fit_times[name], axis=1))))
             for name in names}
    if not args.quiet:
        print(f"Test accuracy on digits ({len(y_test)} test images), mean ± std over "
              f"{args.trials} trials; skorch MLP, Adam, {args.epochs} epochs per round (reset).")
        print(f"{'labels':>7} " + " ".join(f"{n:>16}" for n in names))
        for r, n in enumerate(n_labeled):
            cells = [f"{comparison.scores[k][:, r].mean():.3f} ± "
                     f"{comparison.scores[k][:, r].std():.3f}" for k in names]
            print(f"{n:>7} " + " ".join(f"{c:>16}" for c in cells))
        print("time per trial (s): " + ", ".join(
            f"{k} query {q:.2f} / fit {f:.2f}" for k, (q, f) in times.items()))

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    results = {
        "n_labeled": np.asarray(n_labeled).tolist(),
        "scores": {k: comparison.scores[k].tolist() for k in names},
        "time_per_trial": {k: {"query": q, "fit": f} for k, (q, f) in times.items()},
    }
    (out / "learning_curves.json").write_text(json.dumps(results, indent=1))
    _save_plot(comparison, out / "learning_curves.png")
    if not args.quiet:
        print(f"wrote {out / 'learning_curves.png'} and {out / 'learning_curves.json'}")
    return 0


def _save_plot(comparison, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import plot_learning_curves

    ax = plot_learning_curves(comparison)
    ax.figure.savefig(path, dpi=120)
    plt.close(ax.figure)
