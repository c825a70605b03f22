"""Adversarial active learning: DeepFool and BIM (Ducoffe & Precioso, 2018).

A sample whose predicted label flips under a small adversarial perturbation
lies close to the decision boundary; those are labeled first. The attacks run
batched over the pool with torch autograd on any differentiable classifier: a
skorch net, an ``MLPClassifier`` or a linear classifier (converted to a torch
function by :mod:`skal.embeddings._differentiable`).
"""

from numbers import Integral, Real

from ..base import _SHARED_PARAMS_DOC, BaseAdversarial
from ..base._adversarial import _COMMON_PARAMS_DOC
from ..utils._docstring import Substitution
from ..utils._sklearn_compat import Interval

__all__ = ["AdversarialBIM", "AdversarialDeepFool"]

# Added to each DeepFool step, as in the authors' reference implementation, so
# that a step that lands exactly on a linearized boundary still crosses it.
_DEEPFOOL_STEP_PAD = 1e-4


# --------------------------------------------------------------------------
# the strategies
# --------------------------------------------------------------------------


_DIFFERENTIABLE_DOC = """

    The estimator must be differentiable: a skorch net (attacked on its own
    device, module in eval mode), an ``MLPClassifier``, a linear classifier
    (``LogisticRegression``, ``LinearSVC``, ``SGDClassifier``, ...), or a
    ``Pipeline`` ending in one of those (the earlier steps are applied
    first; the perturbation lives in the space the final step sees)."""

_COMMON_NOTES = """

    ``transform`` returns the score, shape ``(n_samples, 1)``: the L2 norm
    of the perturbation at which the predicted label first changes, ``inf``
    for samples whose label never changed (``max_steps`` reached, zero input
    gradient, or ``max_time`` ran out; a ``ConvergenceWarning`` counts each
    case). ``rank`` sorts by increasing score (closest to the boundary
    first). Equal scores (common with BIM, whose perturbations are whole
    numbers of ``eps`` steps) and the ``inf`` samples are ordered by the
    margin between the two largest class scores of the unperturbed sample,
    smallest first (an improvement on DISTIL, where their order is
    arbitrary), then by pool index; so ``query(X, k)`` is the first ``k``
    of ``rank(X)``, and ``lazy_rank(X).add(X_new)`` scores
    the new samples the same way. Nothing is random.

    Only samples not yet flipped are iterated; each step is one forward
    pass and backward passes to the input over them, in float32 for skorch
    nets (the dtype of the module's parameters) and float64 for
    scikit-learn models (whose weights are converted to a torch function).
    The module is in eval mode (dropout off, batch-norm statistics frozen)
    and its parameters' ``requires_grad`` is off during the attack; both
    are restored afterwards. Samples are then independent, so the
    per-sample input gradients come from one backward pass of the batch's
    summed outputs (DeepFool batches its ``K − 1`` backward passes into one
    vmapped pass, or loops where the module's backward cannot be vmapped).

    skorch nets whose module returns logits (``CrossEntropyLoss``) are
    attacked on the logits; for modules that return probabilities (skorch's
    ``NLLLoss`` convention) or any other ``predict_nonlinearity``, the
    attack uses the log-probabilities (clipped at the smallest positive
    float32), which differ from the logits by the same constant for every
    class, so the boundary, the differences and their gradients are the
    same. Binary linear models and binary ``MLPClassifier`` are attacked on
    the two logits ``[0, z]``, where ``z`` is the decision function."""


@Substitution(
    differentiable=_DIFFERENTIABLE_DOC,
    shared_params=_SHARED_PARAMS_DOC,
    common_params=_COMMON_PARAMS_DOC,
    common_notes=_COMMON_NOTES,
)
class AdversarialDeepFool(BaseAdversarial):
    """Label first the samples that DeepFool flips with the smallest perturbation.

    Adversarial active learning (Ducoffe & Precioso, 2018): the distance of
    a sample to the decision boundary is estimated by the smallest
    adversarial perturbation that changes its predicted label, found with
    DeepFool (Moosavi-Dezfooli et al., 2016). DeepFool linearizes the
    classifier at the current point, steps onto the nearest linearized
    boundary ``min_k |f_k − f_l| / ‖∇f_k − ∇f_l‖`` (``l`` the original
    label), and repeats until the label changes. For a linear classifier
    this is the exact distance, found in one step.%(differentiable)s

    Parameters
    ----------
    %(shared_params)s

    max_steps : int, default=50
        Most DeepFool steps per sample (DISTIL's ``max_iter``, same default;
        in scikit-learn ``max_iter`` caps the iterations of ``fit``, hence
        the name).

    overshoot : float, default=0.02
        The accumulated perturbation ``r`` is applied as ``(1 + overshoot) r``
        so that the iterate crosses the boundary instead of landing on it
        (the paper's and DISTIL's default).

    n_candidate_classes : int, default=None
        Attack only towards the classes with the highest
        ``n_candidate_classes − 1`` scores at the unperturbed sample (the
        original label is the first candidate), as DeepFool's reference
        implementation does (``num_classes``): each step costs
        ``n_candidate_classes − 1`` backward passes instead of
        ``n_classes − 1``. ``None`` (or a value above the number of classes)
        uses every class, as DISTIL does.

    %(common_params)s

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator (``estimator`` itself when ``prefit=True``).

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    AdversarialBIM : The same idea with the basic iterative method.
    MarginSampling : The margin in probability instead of in input space.

    Notes
    -----
    Each step adds ``r_i = (d + 1e-4) w / ‖w‖``, where ``w = ∇f_k − ∇f_l``
    and ``d`` is the linearized distance of the nearest candidate class
    ``k`` (ties to the higher-scored candidate); the ``1e-4`` is the
    authors' reference code's. The iterate is ``x + (1 + overshoot) Σ r_i``
    and the score is ``‖(1 + overshoot) Σ r_i‖₂`` when the predicted label
    (argmax over every class) differs from the original one. DISTIL
    returns the squared norm; the order is the same. On a linear
    classifier the score is ``(1 + overshoot)(d + 1e-4)`` with ``d`` the
    exact distance to the nearest decision boundary.%(common_notes)s

    Cost: per step, one forward and ``K − 1`` backward passes over the
    samples not yet flipped (``K`` = ``n_candidate_classes`` or the number
    of classes), ``O(n · T · K · cost(forward))`` for ``T`` steps on
    average (typically 2–3), plus ``O(batch_size · K · n_features)``
    memory for the gradients.

    References
    ----------
    .. [1] M. Ducoffe and F. Precioso, "Adversarial Active Learning for
       Deep Networks: a Margin Based Approach", arXiv:1802.09841, 2018.
    .. [2] S.-M. Moosavi-Dezfooli, A. Fawzi and P. Frossard, "DeepFool: a
       simple and accurate method to fool deep neural networks", CVPR 2016.
    .. [3] N. Beck, D. Sivasubramanian, A. Dani, G. Ramakrishnan and R.
       Iyer, "Effective Evaluation of Deep Active Learning on Image
       Classification Tasks" (DISTIL), arXiv:2106.15324, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import AdversarialDeepFool
    >>> X = np.array([[-3.0], [-1.0], [1.0], [3.0]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> X_pool = np.array([[-2.0], [0.1], [4.0]])
    >>> AdversarialDeepFool(clf, prefit=True).rank(X_pool)  # nearest to x = 0 first
    array([1, 0, 2])
    >>> AdversarialDeepFool(clf, prefit=True, overshoot=0.0).transform(X_pool).round(3)
    array([[2. ],
           [0.1],
           [4. ]])
    """

    _aliases = ("deepfool",)

    _parameter_constraints = {
        **BaseAdversarial._parameter_constraints,
        "overshoot": [Interval(Real, 0, None, closed="left")],
        "n_candidate_classes": [Interval(Integral, 2, None, closed="left"), None],
    }

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        max_steps=50,
        overshoot=0.02,
        n_candidate_classes=None,
        max_time=None,
        batch_size=1024,
    ):
        super().__init__(
            estimator=estimator,
            prefit=prefit,
            max_steps=max_steps,
            max_time=max_time,
            batch_size=batch_size,
        )
        self.overshoot = overshoot
        self.n_candidate_classes = n_candidate_classes

    @property
    def _scale(self):
        return 1.0 + self.overshoot

    def _start(self, logits):
        import torch

        order = torch.sort(logits, dim=1, descending=True, stable=True).indices
        k = order.shape[1]
        if self.n_candidate_classes is not None:
            k = min(k, self.n_candidate_classes)
        return order[:, 1:k]  # candidate classes other than the label, best first

    def _step(self, x, logits, label, others):
        import torch

        b, n_others = others.shape
        rows = torch.arange(b, device=x.device)
        diff = logits.detach().gather(1, others) - logits.detach()[rows, label][:, None]
        grad_out = torch.zeros((n_others,) + tuple(logits.shape), device=x.device,
                               dtype=logits.dtype)
        grad_out[torch.arange(n_others, device=x.device)[:, None], rows, others.T] = 1.0
        grad_out[:, rows, label] = -1.0
        try:  # every difference in one vmapped backward pass
            W = torch.autograd.grad(
                logits, x, grad_outputs=grad_out, is_grads_batched=True, retain_graph=True
            )[0]
        except RuntimeError:  # a backward that vmap cannot batch: one pass each
            W = torch.stack([
                torch.autograd.grad(logits, x, grad_outputs=g, retain_graph=True)[0]
                for g in grad_out
            ])
        W = W.reshape(n_others, b, -1)  # W[j, i] = ∇(f_k − f_l) at x_i, k = others[i, j]
        norms = W.norm(dim=2).T  # (b, n_others)
        dist = diff.abs() / norms
        dist = torch.where(torch.isnan(dist), torch.inf, dist)
        best = dist.argmin(dim=1)  # first minimum: the higher-scored candidate
        d = dist[rows, best]
        stuck = torch.isinf(d)
        w = W[best, rows]
        scale = torch.where(stuck, 0.0, (d + _DEEPFOOL_STEP_PAD) / norms[rows, best])
        return (scale[:, None] * w).reshape(x.shape), stuck


@Substitution(
    differentiable=_DIFFERENTIABLE_DOC,
    shared_params=_SHARED_PARAMS_DOC,
    common_params=_COMMON_PARAMS_DOC,
    common_notes=_COMMON_NOTES,
)
class AdversarialBIM(BaseAdversarial):
    """Label first the samples that the basic iterative method flips soonest.

    Adversarial active learning (Ducoffe & Precioso, 2018) with the basic
    iterative method (BIM; Kurakin et al., 2017) as the attack, as in
    DISTIL's ``AdversarialBIM``: starting from the sample, repeat
    ``η ← η + eps · sign(∇ₓ CE(f(x + η), l))`` (``l`` the predicted label of
    the unperturbed sample, ``CE`` the cross-entropy) until the predicted
    label changes. Samples that need the smallest perturbation are closest
    to the decision boundary and are labeled first.%(differentiable)s

    Parameters
    ----------
    %(shared_params)s

    eps : float, default=0.05
        Step size: every feature moves by ``eps`` per step (an L∞ step), so
        it must suit the scale of the features (DISTIL's default 0.05 is for
        pixels in [0, 1]).

    max_steps : int, default=1000
        Most steps per sample (DISTIL's ``stop_iterations_by_count``, same
        default).

    %(common_params)s

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator (``estimator`` itself when ``prefit=True``).

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    AdversarialDeepFool : A closer estimate of the distance, in fewer steps.

    Notes
    -----
    The score is ``‖η‖₂`` at the first step where the label changes, as in
    DISTIL (which returns ``‖η‖₂²``, the same order). It is at most
    ``t · eps · √n_features`` after ``t`` steps, and exactly that when the
    gradient signs do not change along the way, as on a binary linear
    model. Unlike Kurakin et al.'s BIM, ``η`` is not clipped to an
    ``eps``-ball nor to a valid data range: the attack searches for the
    size of the perturbation that is needed, as DISTIL's does.%(common_notes)s

    Cost: per step, one forward and one backward pass over the samples not
    yet flipped, ``O(n · T · cost(forward))`` for ``T`` steps on average
    (about ``distance / (eps · √n_features)``).

    References
    ----------
    .. [1] M. Ducoffe and F. Precioso, "Adversarial Active Learning for
       Deep Networks: a Margin Based Approach", arXiv:1802.09841, 2018.
    .. [2] A. Kurakin, I. Goodfellow and S. Bengio, "Adversarial examples
       in the physical world", ICLR Workshop 2017.
    .. [3] N. Beck, D. Sivasubramanian, A. Dani, G. Ramakrishnan and R.
       Iyer, "Effective Evaluation of Deep Active Learning on Image
       Classification Tasks" (DISTIL), arXiv:2106.15324, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import AdversarialBIM
    >>> X = np.array([[-3.0], [-1.0], [1.0], [3.0]])
    >>> clf = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> X_pool = np.array([[-2.1], [0.1], [3.9]])
    >>> strategy = AdversarialBIM(clf, prefit=True, eps=0.25)
    >>> strategy.rank(X_pool)
    array([1, 0, 2])
    >>> strategy.transform(X_pool).ravel()  # steps of 0.25 until x crosses 0
    array([2.25, 0.25, 4.  ])
    """

    _aliases = ("bim",)

    _parameter_constraints = {
        **BaseAdversarial._parameter_constraints,
        "eps": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        eps=0.05,
        max_steps=1000,
        max_time=None,
        batch_size=1024,
    ):
        super().__init__(
            estimator=estimator,
            prefit=prefit,
            max_steps=max_steps,
            max_time=max_time,
            batch_size=batch_size,
        )
        self.eps = eps

    _raise_hint = " or eps"

    @property
    def _scale(self):
        # η = eps · m with m the sum of the signs so far: exact small integers,
        # so equal step patterns give bit-identical scores (ties stay ties).
        return self.eps

    def _start(self, logits):
        return None

    def _step(self, x, logits, label, state):
        import torch

        loss = torch.nn.functional.cross_entropy(logits, label, reduction="sum")
        (grad,) = torch.autograd.grad(loss, x)
        return grad.sign(), None
