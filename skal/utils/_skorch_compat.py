"""The one place where skal uses skorch's private names.

skorch may rename or move its private helpers between releases; going through
this module keeps any adaptation in one file, as
:mod:`skal.utils._sklearn_compat` does for scikit-learn. Everything else skal
asks of a skorch net (``module_``, ``infer``, ``forward_iter``,
``get_dataset``, ``get_iterator``, ``get_params_for``) is skorch's public API.
"""

from skorch import NeuralNet
from skorch.utils import _identity

__all__ = ["NeuralNet", "_identity", "get_predict_nonlinearity"]


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
