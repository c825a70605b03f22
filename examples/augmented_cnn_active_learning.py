"""Active learning on images the DISTIL way: augmentation, SGD with momentum, reset or update.

Everything comes from skorch and torchvision; skal adds only a collate function
that augments *training* batches (queries see the images unchanged):

- ``iterator_train__collate_fn=AugmentingCollate(RandomCrop(32, padding=4),
  RandomHorizontalFlip())``: torchvision augmentation;
- ``optimizer=torch.optim.SGD, optimizer__momentum=0.9``: SGD with momentum;
- ``ActiveLearner(..., retrain="reset")`` retrains a fresh network every round
  (DISTIL's recommendation for accuracy); ``retrain="update"`` continues
  training the current one (faster; skorch's ``warm_start``).

Run on CIFAR-10 (files in ``$SKAL_DATA/CIFAR10``): ``SKAL_DATA=../shared/data
python examples/augmented_cnn_active_learning.py [--retrain update]``.
``--quick`` (or ``SKAL_QUICK=1``) is a tiny run for the test suite: a pool of
300 images, 200 test images, 1 epoch, rounds of 50 to 150 labels.
"""

import argparse
import os

import numpy as np
import torch
from skorch import NeuralNetClassifier
from torchvision.transforms import RandomCrop, RandomHorizontalFlip

from skal import BADGE, ActiveLearner
from skal.datasets import AugmentingCollate, load_cifar10
from skal.toy import LeNetModule


def make_net(image_size=32, in_channels=3, epochs=5):
    """A LeNet-like CNN with DISTIL's training recipe, as a skorch net."""
    return NeuralNetClassifier(
        LeNetModule,
        module__in_channels=in_channels,
        module__image_size=image_size,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.SGD,
        optimizer__momentum=0.9,
        optimizer__weight_decay=5e-4,
        lr=0.01,
        max_epochs=epochs,
        batch_size=64,
        train_split=None,
        verbose=0,
        iterator_train__shuffle=True,
        iterator_train__collate_fn=AugmentingCollate(
            RandomCrop(image_size, padding=4), RandomHorizontalFlip()
        ),
        iterator_valid__batch_size=512,
    )


def run(X, y, X_test, y_test, *, retrain="reset", epochs=5, initial=100, batch=100,
        budget=500, seed=0):
    torch.manual_seed(seed)
    learner = ActiveLearner(
        make_net(X.shape[-1], X.shape[1], epochs), BADGE(), initial_size=initial,
        batch_size=batch, budget=budget, retrain=retrain, random_state=seed,
    )
    learner.fit(X, y, X_val=X_test, y_val=y_test)
    for n, score, fit_s, query_s in zip(*(learner.history_[k] for k in
                                          ("n_labeled", "score", "fit_time", "query_time"))):
        print(f"{n:>6} labels: test accuracy {score:.3f}  (fit {fit_s:.1f} s, "
              f"query {query_s:.2f} s)")
    return learner


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--retrain", choices=("reset", "update"), default="reset")
    parser.add_argument("--pool", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--initial", type=int, default=100)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--quick", action="store_true",
                        help="a tiny run for the test suite (also SKAL_QUICK=1)")
    args = parser.parse_args(argv)
    if args.quick or os.environ.get("SKAL_QUICK") == "1":
        parser.set_defaults(pool=300, test=200, epochs=1, initial=50, batch=50, budget=150)
        args = parser.parse_args(argv)
    X, y = load_cifar10(train=True)
    X_test, y_test = load_cifar10(train=False)
    rng = np.random.RandomState(0)
    pool = rng.permutation(len(y))[: args.pool]
    test = rng.permutation(len(y_test))[: args.test]

    def to_float(A):  # (N, 32, 32, 3) uint8 -> (N, 3, 32, 32) float32 in [0, 1]
        return (A.transpose(0, 3, 1, 2) / 255.0).astype(np.float32)

    return run(to_float(X[pool]), y[pool], to_float(X_test[test]), y_test[test],
               retrain=args.retrain, epochs=args.epochs, initial=args.initial,
               batch=args.batch, budget=args.budget)


if __name__ == "__main__":
    main()
