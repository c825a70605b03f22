"""Small ordinary PyTorch modules and skorch nets for tests, docs and the demo.

Like ``skorch.toy``: nothing here knows about skal. The modules are plain
``nn.Module`` subclasses, which is the point: skal finds their penultimate
layer with forward hooks, without any change to them.
"""

import torch
from skorch import NeuralNetClassifier
from torch import nn

__all__ = [
    "LeNetModule",
    "MLPClassifierModule",
    "SeededNeuralNetClassifier",
    "make_skorch_classifier",
]


class MLPClassifierModule(nn.Module):
    """A small multi-layer perceptron classifier.

    Each hidden layer is ``Linear``, ``ReLU``, ``Dropout``; the output layer
    is a ``Linear`` whose input is the penultimate embedding skal's
    representation strategies use. With ``dropout > 0`` it suits BALD and
    BatchBALD (MC dropout).

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_classes : int
        Number of output classes.
    hidden_units : int, default=32
        Width of each hidden layer.
    n_hidden : int, default=1
        Number of hidden layers.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.
    output : {"logits", "probabilities"}, default="logits"
        What ``forward`` returns: logits (for ``CrossEntropyLoss``) or softmax
        probabilities (for skorch's default ``NLLLoss``).

    See Also
    --------
    make_skorch_classifier : A skorch net around this module.
    LeNetModule : A small CNN for images.

    Examples
    --------
    >>> import torch
    >>> from skal.toy import MLPClassifierModule
    >>> module = MLPClassifierModule(n_features=4, n_classes=3, hidden_units=8)
    >>> module(torch.zeros(5, 4)).shape
    torch.Size([5, 3])
    """

    def __init__(
        self, n_features, n_classes, hidden_units=32, n_hidden=1, dropout=0.0, output="logits"
    ):
        super().__init__()
        layers, width = [], n_features
        for _ in range(n_hidden):
            layers += [nn.Linear(width, hidden_units), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden_units
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(width, n_classes)
        self.output = output

    def forward(self, X):
        """Compute the logits, or probabilities with ``output="probabilities"``.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            A batch of samples.

        Returns
        -------
        out : torch.Tensor of shape (n_samples, n_classes)
            The logits, or their softmax.
        """
        logits = self.out(self.hidden(X))
        if self.output == "probabilities":
            return torch.softmax(logits, dim=-1)
        return logits


class LeNetModule(nn.Module):
    """The LeNet-like CNN of the DISTIL study: two conv layers, max-pool, dropout, two linears.

    It is small enough to train on MNIST or CIFAR-10 on a CPU, and its
    penultimate layer (``hidden_units`` wide) is the embedding BADGE and
    CoreSet select in.

    Parameters
    ----------
    in_channels : int, default=1
        Image channels (1 for MNIST, 3 for CIFAR-10).
    n_classes : int, default=10
        Output classes.
    image_size : int, default=28
        Height (= width) of the input images.
    hidden_units : int, default=128
        Width of the penultimate layer (the embedding BADGE and CoreSet use).
    dropout : float, default=0.25
        Dropout before each linear layer.

    See Also
    --------
    MLPClassifierModule : A small perceptron for tabular data.
    skal.datasets.load_mnist : The images it was designed for.

    Examples
    --------
    >>> import torch
    >>> from skal.toy import LeNetModule
    >>> LeNetModule()(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    """

    def __init__(self, in_channels=1, n_classes=10, image_size=28, hidden_units=128,
                 dropout=0.25):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Dropout(dropout),
            nn.Flatten(),
        )
        side = image_size // 2
        self.hidden = nn.Sequential(
            nn.Linear(64 * side * side, hidden_units), nn.ReLU(), nn.Dropout(dropout)
        )
        self.out = nn.Linear(hidden_units, n_classes)

    def forward(self, X):
        """Compute the logits of a batch of images.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, in_channels, image_size, image_size)
            A batch of images.

        Returns
        -------
        logits : torch.Tensor of shape (n_samples, n_classes)
            The class scores, before softmax.
        """
        return self.out(self.hidden(self.features(X)))


class SeededNeuralNetClassifier(NeuralNetClassifier):
    """A skorch ``NeuralNetClassifier`` that seeds torch before initializing.

    skorch initializes the module's weights from torch's global generator,
    so two fits of clones give different nets; this one gives the same
    weights for the same ``seed``, which tests and examples rely on.

    Parameters
    ----------
    *args
        As for ``skorch.NeuralNetClassifier``.
    seed : int, default=0
        Passed to ``torch.manual_seed`` before the module is initialized, so
        that a clone fitted on the same data gives the same weights.
    **kwargs
        As for ``skorch.NeuralNetClassifier``.

    See Also
    --------
    make_skorch_classifier : One around :class:`MLPClassifierModule`.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sklearn.base import clone
    >>> from skal.toy import MLPClassifierModule, SeededNeuralNetClassifier
    >>> net = SeededNeuralNetClassifier(
    ...     MLPClassifierModule, module__n_features=4, module__n_classes=2,
    ...     criterion=torch.nn.CrossEntropyLoss, seed=3)
    >>> a = net.initialize().module_.out.weight
    >>> b = clone(net).initialize().module_.out.weight
    >>> bool(torch.equal(a, b))
    True
    """

    def __init__(self, *args, seed=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.seed = seed

    def initialize(self):
        """Seed torch, then initialize as skorch does.

        Returns
        -------
        self : SeededNeuralNetClassifier
            The initialized net.
        """
        torch.manual_seed(self.seed)
        return super().initialize()


def make_skorch_classifier(
    n_features,
    n_classes,
    *,
    hidden_units=128,
    n_hidden=1,
    output="logits",
    max_epochs=20,
    optimizer=torch.optim.Adam,
    lr=0.01,
    batch_size=64,
    device="cpu",
    seed=0,
    **kwargs,
):
    """A skorch ``NeuralNetClassifier`` around :class:`MLPClassifierModule`.

    The net is ready for skal: no internal validation split, silent, and
    seeded (a :class:`SeededNeuralNetClassifier`), so that fits are
    reproducible. Its defaults train a sensible model on a few dozen to a
    few hundred labeled samples (see Notes).

    Parameters
    ----------
    n_features, n_classes : int
        Input and output sizes.
    hidden_units : int, default=128
        Width of each hidden layer.
    n_hidden : int, default=1
        Number of hidden layers.
    output : {"logits", "probabilities"}, default="logits"
        Module output; the criterion follows it (``CrossEntropyLoss`` for
        logits, ``NLLLoss`` for probabilities, skorch's conventions).
    max_epochs : int, default=20
        Training epochs per ``fit``.
    optimizer : type of torch.optim.Optimizer, default=torch.optim.Adam
        The optimizer class, as for ``NeuralNetClassifier`` (whose own
        default is SGD). Its other parameters go in ``optimizer__*``
        keywords, e.g. ``optimizer=torch.optim.SGD, optimizer__momentum=0.9``.
    lr : float, default=0.01
        Learning rate of ``optimizer``. It suits Adam; with
        ``optimizer=torch.optim.SGD`` pass a larger one (e.g. 0.1 with
        momentum 0.9).
    batch_size : int, default=64
        Samples per training and prediction batch.
    device : str or torch.device, default="cpu"
        Where the module runs, as for ``NeuralNetClassifier``.
    seed : int, default=0
        ``torch.manual_seed`` is called with it before each ``initialize``, so
        that fitting is reproducible.
    **kwargs
        More ``NeuralNetClassifier`` parameters.

    Returns
    -------
    net : skorch.NeuralNetClassifier
        Unfitted.

    See Also
    --------
    MLPClassifierModule : The module.
    skal.embeddings.penultimate_embedding : What the strategies read from the net.

    Notes
    -----
    The defaults (Adam, ``lr=0.01``, 128 hidden units, 20 epochs of batches
    of 64) were chosen on scikit-learn's digits (``X / 16``), training on
    20 to 500 random labeled images and scoring on 797 held-out ones (mean
    of 5 draws): test accuracy 0.62, 0.78, 0.86, 0.89 and 0.93 with 20, 50,
    100, 200 and 500 labels, within 0.01 of ``LogisticRegression`` or
    above it at each size (0.54, 0.77, 0.85, 0.90, 0.92), in under half a
    second per fit on one CPU thread. Plain SGD (skorch's default optimizer) with
    ``lr=0.05`` and 32 hidden units gave 0.16, 0.18, 0.21, 0.34 and 0.71:
    too few steps to learn from a small labeled set. On small standardized
    tabular sets (breast cancer, wine, a synthetic four-class problem) the
    defaults came within 0.01 of ``LogisticRegression`` or above it.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.toy import make_skorch_classifier
    >>> X = np.random.RandomState(0).randn(40, 4).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> net = make_skorch_classifier(4, 2, max_epochs=2).fit(X, y)
    >>> net.predict_proba(X).shape
    (40, 2)
    """
    criterion = nn.CrossEntropyLoss if output == "logits" else nn.NLLLoss
    return SeededNeuralNetClassifier(
        MLPClassifierModule,
        module__n_features=n_features,
        module__n_classes=n_classes,
        module__hidden_units=hidden_units,
        module__n_hidden=n_hidden,
        module__output=output,
        criterion=criterion,
        max_epochs=max_epochs,
        optimizer=optimizer,
        lr=lr,
        batch_size=batch_size,
        device=device,
        train_split=None,
        verbose=0,
        seed=seed,
        **kwargs,
    )
