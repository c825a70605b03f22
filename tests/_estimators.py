"""Estimators the common tests give each strategy: LogisticRegression, a dropout net,
or (strategies made for regression) Ridge."""

import torch
from sklearn.linear_model import LogisticRegression, Ridge
from torch import nn

from skal.exceptions import EmbeddingError
from skal.toy import SeededNeuralNetClassifier


class DropoutAnyFeatures(nn.Module):
    """A tiny MLP with dropout that adapts to any number of input features."""

    def __init__(self, n_classes=3):
        super().__init__()
        self.hidden = nn.Sequential(nn.LazyLinear(16), nn.ReLU(), nn.Dropout(0.5))
        self.out = nn.Linear(16, n_classes)

    def forward(self, X):
        return self.out(self.hidden(X.float().reshape(len(X), -1)))


def dropout_net(n_classes):
    """An unfitted skorch net with dropout (for BALD and BatchBALD)."""
    return SeededNeuralNetClassifier(
        DropoutAnyFeatures, module__n_classes=n_classes, criterion=nn.CrossEntropyLoss,
        max_epochs=5, lr=0.05, batch_size=32, train_split=None, verbose=0,
        optimizer=torch.optim.Adam,
    )


def needs_dropout_net(Strategy):
    """Strategies that refuse LogisticRegression (BALD, BatchBALD) get a dropout net."""
    try:
        Strategy(LogisticRegression())._check_estimator(LogisticRegression())
    except EmbeddingError:
        return True
    except ValueError:  # made for regressors: see needs_regressor
        return False
    return False


def needs_regressor(Strategy):
    """Strategies that refuse a classifier (GreedySampling's "y" and "xy", LCMD, MAXDET)."""
    try:
        Strategy()._check_estimator(LogisticRegression())
    except EmbeddingError:
        return False
    except ValueError as exc:
        return "regressor" in str(exc)
    return False


class _MLPRegressorModule(nn.Module):
    def __init__(self, n_hidden=16):
        super().__init__()
        self.hidden = nn.Sequential(nn.LazyLinear(n_hidden), nn.ReLU())
        self.out = nn.Linear(n_hidden, 1)

    def forward(self, X):
        return self.out(self.hidden(X.float().reshape(len(X), -1)))


def regression_net():
    """An unfitted skorch regressor (fit it on ``y`` as a float32 column)."""
    from skorch import NeuralNetRegressor

    torch.manual_seed(0)
    return NeuralNetRegressor(_MLPRegressorModule, max_epochs=5, lr=0.05, batch_size=32,
                              train_split=None, verbose=0, optimizer=torch.optim.Adam)


def estimator_for(Strategy, n_classes=3):
    """The estimator the common tests use with ``Strategy``."""
    if needs_regressor(Strategy):
        return Ridge()
    return dropout_net(n_classes) if needs_dropout_net(Strategy) else LogisticRegression()
