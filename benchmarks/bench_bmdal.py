"""LCMD and MAXDET side by side with bmdal_reg's, on Friedman #1 and a 10-64-64-1 MLP.

A pool of 2,000 samples of ``make_friedman1`` (10 features, noise 1) and a test
set of 2,000; 64 labels drawn at random, then ``--rounds`` rounds of 64. Each
method runs its own loop: the net (a skorch ``NeuralNetRegressor``, ReLU,
Adam, seeded) is refitted from scratch on the labeled set every round and the
test RMSE recorded; the next batch is chosen on that net. Methods: random;
skal's ``LCMD()`` and ``MAXDET()`` (their defaults: the paper's LCMD-TP
``[grad, rp(512)]`` and MAXDET-P ``[grad, rp(512), train]`` with ``σ = 1e-3``);
and, when ``bmdal_reg`` imports, its ``select_batch`` with the same
configurations on the same kind of net. On skal's LCMD and MAXDET loops, the
picks of bmdal_reg on the very same trained net are also counted (overlap out
of 64) for the sketched gradient kernel (another random sketch, so not
identical) and for the last-layer kernel (deterministic: should agree).

bmdal_reg is not a dependency of skal: put it on the path beside (``pip
install bmdal-reg``, or its source and ``dill``); the script runs without it.
bmdal_reg 3.0.2 uses ``np.Inf``, gone in NumPy 2, so the script sets it.

Run: ``python benchmarks/bench_bmdal.py`` (prints one JSON line).
"""

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import make_friedman1
from skorch import NeuralNetRegressor
from torch import nn

from _common import emit
from skal import LCMD, MAXDET


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 64),
                                    nn.ReLU(), nn.Linear(64, 1))

    def forward(self, X):
        return self.layers(X)


def fit_net(X, y, seed):
    torch.manual_seed(seed)
    net = NeuralNetRegressor(MLP, max_epochs=150, lr=3e-3, batch_size=32,
                             optimizer=torch.optim.Adam, train_split=None, verbose=0)
    return net.fit(X, y.reshape(-1, 1))


def rmse(net, X, y):
    return float(np.sqrt(np.mean((net.predict(X).ravel() - y) ** 2)))


def bmdal_select(net, X_train, X_pool, method, batch_size, kernel="grad", sigma=1e-3,
                 seed=0):
    np.Inf = np.inf  # bmdal_reg 3.0.2 predates NumPy 2
    from bmdal_reg.bmdal.algorithms import select_batch
    from bmdal_reg.bmdal.feature_data import TensorFeatureData

    torch.manual_seed(seed)  # its sketch draws from torch's global generator
    data = {"train": TensorFeatureData(torch.as_tensor(X_train)),
            "pool": TensorFeatureData(torch.as_tensor(X_pool))}
    sketch = [("rp", [512])] if kernel == "grad" else []
    if method == "lcmd":
        config = dict(selection_method="lcmd", kernel_transforms=sketch)
    else:
        config = dict(selection_method="maxdet", sel_with_train=False, maxdet_sigma=sigma,
                      allow_float64=True, kernel_transforms=sketch + [("train", [sigma, None])])
    idx, _ = select_batch(batch_size=batch_size, models=[net.module_], data=data,
                          y_train=None, base_kernel=kernel, verbosity=0, **config)
    return idx.cpu().numpy()


def have_bmdal():
    try:
        np.Inf = np.inf
        import importlib

        importlib.import_module("bmdal_reg.bmdal.algorithms")
    except Exception:
        return False
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    X, y = make_friedman1(n_samples=4000, n_features=10, noise=1.0, random_state=args.seed)
    X = X.astype(np.float32)
    y = y.astype(np.float32)
    X_pool, y_pool, X_test, y_test = X[:2000], y[:2000], X[2000:], y[2000:]
    rng = np.random.RandomState(args.seed)
    initial = rng.choice(len(X_pool), 64, replace=False)
    bmdal = have_bmdal()

    def skal_select(Strategy, kernel="grad_rp"):
        def select(net, labeled, unlabeled):
            strategy = Strategy(net, prefit=True, kernel=kernel, random_state=args.seed)
            strategy.fit(X_pool[labeled], y_pool[labeled])
            return unlabeled[strategy.query(X_pool[unlabeled], args.batch_size)]
        return select

    def bmdal_method(method):
        def select(net, labeled, unlabeled):
            picks = bmdal_select(net, X_pool[labeled], X_pool[unlabeled], method,
                                 args.batch_size, seed=args.seed)
            return unlabeled[picks]
        return select

    def random_select(net, labeled, unlabeled):
        return rng.choice(unlabeled, args.batch_size, replace=False)

    methods = {"random": random_select, "skal_LCMD": skal_select(LCMD),
               "skal_MAXDET": skal_select(MAXDET)}
    if bmdal:
        methods.update(bmdal_LCMD=bmdal_method("lcmd"), bmdal_MAXDET=bmdal_method("maxdet"))
    results = {}
    for name, select in methods.items():
        labeled = initial.copy()
        curve, times, overlap = [], [], []
        for r in range(args.rounds + 1):
            net = fit_net(X_pool[labeled], y_pool[labeled], args.seed + r)
            curve.append(rmse(net, X_test, y_test))
            if r == args.rounds:
                break
            unlabeled = np.setdiff1d(np.arange(len(X_pool)), labeled)
            tic = time.perf_counter()
            picks = select(net, labeled, unlabeled)
            times.append(time.perf_counter() - tic)
            if bmdal and name.startswith("skal_"):
                method = name[5:].lower()
                same = {}
                for kernel, skal_kernel in (("grad", "grad_rp"), ("ll", "ll")):
                    ours = picks if kernel == "grad" else skal_select(
                        LCMD if method == "lcmd" else MAXDET, "ll")(net, labeled, unlabeled)
                    theirs = unlabeled[bmdal_select(net, X_pool[labeled], X_pool[unlabeled],
                                                    method, args.batch_size, kernel=kernel,
                                                    seed=args.seed)]
                    same[skal_kernel] = int(len(np.intersect1d(ours, theirs)))
                    if kernel == "ll":
                        same["ll_same_order"] = bool(np.array_equal(ours, theirs))
                overlap.append(same)
            labeled = np.concatenate([labeled, picks])
        results[name] = {"rmse": [round(v, 4) for v in curve],
                         "select_seconds": [round(t, 3) for t in times]}
        if overlap:
            results[name]["overlap_with_bmdal_reg_same_net"] = overlap
    emit(benchmark="bmdal", pool=len(X_pool), initial=64, batch_size=args.batch_size,
         rounds=args.rounds, torch_threads=torch.get_num_threads(),
         bmdal_reg=bmdal, results=results)


if __name__ == "__main__":
    main()
