"""The one place where skal uses skorch's private names.

skorch may rename or move its private helpers between releases; going through
this module keeps any adaptation in one file, as
:mod:`skal.utils._sklearn_compat` does for scikit-learn. Everything else skal
asks of a skorch net (``module_``, ``infer``, ``forward_iter``,
``get_dataset``, ``get_iterator``, ``get_params_for``) is skorch's public API.
"""

from skorch import NeuralNet, NeuralNetClassifier
from skorch.utils import _identity, to_numpy

__all__ = ["NeuralNet", "_identity", "get_predict_nonlinearity", "predict_proba_batches"]


def get_predict_nonlinearity(net):
    """The nonlinearity a fitted skorch net applies in ``predict_proba``.

    Parameters
    ----------
    net : skorch.NeuralNet
        A fitted net.

    Returns
    -------
    nonlin : callable
        ``skorch.utils._identity`` for ``predict_nonlinearity=None``, the
        softmax (a ``functools.partial`` of ``torch.softmax``) or sigmoid that
        skorch infers from the criterion for ``'auto'``, else the net's own.
    """
    return net._get_predict_nonlinearity()


def predict_proba_batches(net, X):
    """The batches of ``net.predict_proba(X)``, before skorch concatenates them.

    skorch's ``NeuralNet.predict_proba`` applies the predict nonlinearity to
    the (first) output of each batch of ``forward_iter`` and concatenates the
    NumPy arrays. This does the same batch by batch, so that a caller can
    write each one where it belongs instead of keeping a list and a copy.

    Parameters
    ----------
    net : skorch.NeuralNet
        A fitted net.
    X : input data
        The samples, in any form ``net.forward_iter`` accepts.

    Returns
    -------
    batches : iterator of ndarray, or None
        The arrays whose concatenation is ``net.predict_proba(X)``; None if
        the net's class overrides ``predict_proba`` (e.g. skorch's
        ``NeuralNetBinaryClassifier``), whose result only that method knows.
    """
    if type(net).predict_proba not in (NeuralNet.predict_proba, NeuralNetClassifier.predict_proba):
        return None
    return _proba_batches(net, X)


def _proba_batches(net, X):
    nonlin = get_predict_nonlinearity(net)
    for yp in net.forward_iter(X, training=False):
        yp = yp[0] if isinstance(yp, tuple) else yp
        yield to_numpy(nonlin(yp))
