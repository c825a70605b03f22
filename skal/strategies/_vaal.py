"""VAAL: Variational Adversarial Active Learning."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state
from skorch import NeuralNet
from skorch.utils import to_numpy, to_tensor
from torch import nn

from ..base import BaseStrategy, _StrategyRanking
from ..selection import ScoreRanking
from ..utils._device import resolve_device
from ..utils._data import num_samples
from ..utils._random import draw_seed
from ..utils._sklearn_compat import Interval, StrOptions

__all__ = ["VAAL"]


class VAAL(BaseStrategy):
    """Variational Adversarial Active Learning (Sinha et al., 2019).

    A β-VAE learns a latent space of the labeled set and the pool together,
    while a discriminator learns to tell the latents of labeled samples from
    those of unlabeled ones; the VAE is trained adversarially to make the
    discriminator call every latent "labeled". The pool samples that the
    discriminator is most confident are *unlabeled* (lowest ``P(labeled)``)
    come first: they are the ones least like anything already labeled.

    VAAL is task-agnostic: it never looks at the classifier nor at the labels.
    It needs the labeled samples (``fit(X_labeled)``; ``y`` is accepted and
    ignored) and the pool (given to ``query``, ``rank``, ``transform``,
    ``lazy_rank``), and trains its own networks, with skorch, each time it is
    given a pool.

    Parameters
    ----------
    estimator : estimator object, default=None
        Ignored (VAAL does not use the classifier); accepted so that every
        strategy has the same parameters and works inside
        :class:`ActiveLearner`.

    prefit : bool, default=False
        If True, ``query`` and ``rank`` work without calling ``fit``; with no
        labeled set they rank at random (see Notes).

    latent_dim : int, default=32
        Size of the VAE's latent space (the discriminator's input).

    hidden_units : int or tuple of int, default=(256,)
        Widths of the hidden layers of the encoder (the decoder mirrors
        them): units of the linear layers with ``architecture="mlp"``,
        channels of the convolutions with ``"conv"`` (e.g. ``(32, 64)``).
        The discriminator has two hidden layers as wide as the widest of
        these.

    architecture : {"mlp", "conv"}, default="mlp"
        The VAE's encoder and decoder. ``"mlp"``: linear layers on flattened
        inputs, for any input shape. ``"conv"``: for images of shape
        ``(n, C, H, W)``, as in the paper: one 4×4 convolution of stride 2
        per entry of ``hidden_units`` (each halves ``H`` and ``W``, which
        must therefore be divisible by ``2 ** len(hidden_units)``), mirrored
        by transposed convolutions in the decoder.

    beta : float, default=1.0
        Weight of the KL divergence in the β-VAE loss.

    adversary_weight : float, default=1.0
        Weight of the adversarial term (fool the discriminator) in the VAE's
        loss; the paper's ``λ``.

    n_epochs : int, default=1
        Passes over the pool. Each step takes one mini-batch of the pool and
        one of the labeled set (cycled), makes one VAE step and one
        discriminator step. The cost grows linearly with it (see Notes).

    batch_size : int, default=256
        Mini-batch size for training (of the pool and of the labeled set).
        Not the number of samples ``query`` selects.

    lr : float, default=5e-4
        Learning rate of Adam for both networks (the paper's value).

    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where the VAE and the discriminator are trained and run. ``"cuda"``
        without a GPU falls back to the CPU with a
        :class:`~skal.exceptions.DeviceWarning`; ``"auto"`` picks CUDA when
        available. The same ``random_state`` gives the same picks on the CPU,
        run after run; a GPU may round differently.

    random_state : int, RandomState instance or None, default=None
        Seed of the networks' initialization, the mini-batch order and the
        VAE's sampling noise (all drawn from local generators, seeded from one
        integer that ``fit`` draws from ``random_state``: the global torch and
        NumPy random states are left untouched); also of the random ranking
        used when there is no labeled set.

    Attributes
    ----------
    X_labeled_ : ndarray of shape (n_labeled, ...)
        The labeled set given to ``fit``.

    estimator_ : None
        No estimator is used.

    n_features_in_ : int
        Number of features seen during ``fit``.

    The trained networks are not attributes of the strategy, which keeps
    nothing from a ``query``: they belong to the ranking ``lazy_rank(X)``
    returns, as ``vae_``, ``discriminator_``, ``loss_curve_`` (mean losses
    per epoch: ``"reconstruction"``, ``"kl"``, ``"vae"`` = reconstruction +
    β·KL, ``"adversarial"`` and ``"discriminator"``) and ``net_`` (the
    trained ``skorch.NeuralNet``, with its ``history``). See Notes.

    See Also
    --------
    CoreSet : Diversity in the classifier's own embedding.
    RandomSampling : What VAAL does without a labeled set.

    Notes
    -----
    **Where the training happens.** The VAE and the discriminator must see
    the labeled set and the pool, and the pool is only known when ``query``,
    ``rank``, ``transform`` or ``lazy_rank`` is called; so ``fit`` only
    records the labeled set (and draws the training's seed), and each of
    those calls trains the networks on the pool it is given. Like any
    scikit-learn estimator, the strategy does not change after ``fit``: it
    keeps nothing from a call, so **each call pays the training** (see
    Cost). The training is deterministic, so ``query(X, k)``, ``rank(X)``
    and ``transform(X)`` on the same pool train the same networks and
    ``query(X, k)`` is the first ``k`` of ``rank(X)``. To pick several
    batches, or to look at the networks, call ``lazy_rank(X)`` once and
    ``take`` from it: the ranking holds the networks trained on ``X``
    (``ranking.vae_``, ``ranking.discriminator_``, ``ranking.loss_curve_``,
    ``ranking.net_``), and ``ranking.add(X_new)`` scores new samples with
    them, without retraining.

    **Training.** The two networks are one ``skorch.NeuralNet``: the VAE is
    its ``module``, the discriminator a second module with its own
    optimizer, ``train_step`` is VAAL's alternating step, and a custom
    ``iterator_train`` pairs each mini-batch of the pool with one of the
    labeled set.

    **Model.** With ``architecture="mlp"`` inputs are flattened (images
    of shape ``(n, C, H, W)`` become vectors of ``C·H·W`` features); with
    ``"conv"`` the encoder sees the images. Inputs are centered per feature
    and divided by one overall standard deviation (computed on the labeled
    set and the pool), so that features keep their relative scale. The VAE's loss per sample is ``(‖x − x̂‖² + β·KL(q(z|x) ‖ N(0,
    I))) / n_features + λ·BCE(D(μ(x)), labeled)`` for labeled and pool
    samples alike (the paper's Eq. 3 for the adversarial term); the
    discriminator minimizes ``BCE(D(μ(x_L)), labeled) + BCE(D(μ(x_U)),
    unlabeled)`` on the latent means, recomputed after each VAE step.

    **Ranking.** ``transform`` returns the discriminator's log-odds that a
    sample is unlabeled, ``−logit D(μ(x))`` (``P(labeled) = 1 / (1 +
    exp(transform))``), shape ``(n_samples, 1)``; ``rank`` sorts by
    decreasing log-odds (lowest ``P(labeled)`` first), ties to the lower
    index. Log-odds, unlike probabilities, do not saturate.

    **No labeled set.** With ``prefit=True`` and no ``fit``, there is
    nothing for the discriminator to tell apart: VAAL trains nothing and
    ranks the pool uniformly at random, exactly as :class:`RandomSampling`
    with the same ``random_state`` (``transform`` returns the random
    priorities).

    **Cost.** Training costs ``n_epochs · n_pool / batch_size`` steps,
    each a forward and backward pass of the VAE on up to ``2 · batch_size``
    samples plus an encoder pass for the discriminator step: about
    ``O(n_epochs · n_pool · d · h)`` for ``d`` features and hidden width
    ``h``, whatever the batch size ``query`` asks for. Scoring is one
    encoder pass over the pool, then a sort. On the 60,000 × 784 MNIST pool
    with a labeled set of 1,000, ``query(X, 100)`` with the defaults took
    4.1 s on 2 CPU cores, 5 to 6 times ``EntropySampling`` with a 784-256-10
    MLP (0.8 s); each extra epoch adds about as much again. ``query``,
    ``rank`` and ``transform`` each cost this: call one of them per pool, or
    ``lazy_rank`` once and ``take`` as many as needed.

    **Epochs.** The default, one pass over the pool, keeps the cost within
    10 times that of entropy sampling; the paper trains far longer. The
    training is a min-max game and more epochs are not always better: with
    digits 0-4 labeled, the share of digits 5-9 among 100 picks from the
    MNIST pool (49 % of it) was 0.80 and 0.91 after one epoch (two seeds)
    and 0.74 and 0.67 after three, as the VAE learned to fool the
    discriminator. ``adversary_weight`` below 1 weakens the VAE's side.

    References
    ----------
    .. [1] S. Sinha, S. Ebrahimi and T. Darrell, "Variational Adversarial
       Active Learning", ICCV 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skal import VAAL
    >>> X, y = load_digits(return_X_y=True)
    >>> X_labeled = X[:600][y[:600] < 5]   # only digits 0-4 are labeled
    >>> X_pool, y_pool = X[600:1200], y[600:1200]
    >>> strategy = VAAL(n_epochs=5, random_state=0).fit(X_labeled)
    >>> picks = strategy.query(X_pool, batch_size=50)
    >>> bool(np.mean(y_pool[picks] >= 5) > np.mean(y_pool >= 5))  # prefers unseen digits
    True

    ``rank`` trains the same networks again; ``lazy_rank`` trains once, and
    keeps them:

    >>> bool(np.all(picks == strategy.rank(X_pool)[:50]))
    True
    >>> ranking = strategy.lazy_rank(X_pool)
    >>> bool(np.all(ranking.take(50) == picks))
    True
    >>> sorted(ranking.loss_curve_)
    ['adversarial', 'discriminator', 'kl', 'reconstruction', 'vae']
    """

    _uses_labeled_set = True  # fit records the labeled set: prefit picks differ

    _aliases = ("vaal",)

    _parameter_constraints = {
        **BaseStrategy._parameter_constraints,
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_units": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "architecture": [StrOptions({"mlp", "conv"})],
        "beta": [Interval(Real, 0, None, closed="left")],
        "adversary_weight": [Interval(Real, 0, None, closed="left")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "device": [str, torch.device, None],
        "random_state": ["random_state"],
    }
    _needs_estimator = False
    _needs_pool_values = (
        "VAAL trains its own VAE and discriminator on the samples' values, "
        "standardized as one array."
    )

    def __init__(
        self,
        estimator=None,
        *,
        prefit=False,
        latent_dim=32,
        hidden_units=(256,),
        architecture="mlp",
        beta=1.0,
        adversary_weight=1.0,
        n_epochs=1,
        batch_size=256,
        lr=5e-4,
        device="cpu",
        random_state=None,
    ):
        super().__init__(estimator=estimator, prefit=prefit)
        self.latent_dim = latent_dim
        self.hidden_units = hidden_units
        self.architecture = architecture
        self.beta = beta
        self.adversary_weight = adversary_weight
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.random_state = random_state

    # -- fitted state ------------------------------------------------------------

    def _fit(self, X, y):
        self._hidden_widths()  # fail at fit, not at the first query
        self._image_shape(X)
        self.X_labeled_ = X
        # The seed of the training, drawn here once (as sklearn's bagging draws its
        # ``_seeds`` in fit): query, rank, transform and lazy_rank then each train
        # the same networks on the same pool, whatever ``random_state`` is.
        self._seed = draw_seed(check_random_state(self.random_state))

    # -- template methods --------------------------------------------------------

    def _points(self, X, estimator, offset=0):
        return self._scores(self._train(X), X, offset)

    def _ranking(self, points, estimator):
        return ScoreRanking(points)

    def _transform(self, X, estimator):
        return self._points(X, estimator)[:, np.newaxis]

    def lazy_rank(self, X):
        X, _ = self._validate_pool(X)
        net = self._train(X)
        n_features = int(np.prod(X.shape[1:]))

        def new_points(X_new, offset):  # scored by the pool's networks, no retraining
            if int(np.prod(X_new.shape[1:])) != n_features:
                raise ValueError(
                    f"X_new of shape {X_new.shape} does not have the {n_features} "
                    "values per sample of the pool."
                )
            return self._scores(net, X_new, offset=offset)

        return _VAALRanking(self, net, ScoreRanking(self._scores(net, X)), new_points)

    lazy_rank.__doc__ = BaseStrategy.lazy_rank.__doc__

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # the networks are trained on the whole pool: a subset or a reordering of
        # the pool trains other networks, so scores are not per-sample invariant
        tags.non_deterministic = True
        return tags

    # -- training and scoring ----------------------------------------------------

    def _hidden_widths(self):
        widths = self.hidden_units
        widths = [widths] if isinstance(widths, Integral) else list(widths)
        if not widths or not all(
            isinstance(w, Integral) and not isinstance(w, bool) and w >= 1 for w in widths
        ):
            raise ValueError(
                f"hidden_units={self.hidden_units!r} must be a positive int or a "
                "non-empty tuple of positive ints, e.g. 256 or (512, 256)."
            )
        return [int(w) for w in widths]

    def _image_shape(self, X):
        """``(C, H, W)`` for the conv VAE (None for the MLP); a clear error if unfit."""
        if self.architecture != "conv":
            return None
        n_halvings = len(self._hidden_widths())
        if X.ndim != 4 or X.shape[2] % 2**n_halvings or X.shape[3] % 2**n_halvings:
            raise ValueError(
                f"architecture='conv' needs images of shape (n, C, H, W) with H and W "
                f"divisible by 2**len(hidden_units) = {2**n_halvings}; got X of shape "
                f"{X.shape}. Reshape the images, use fewer hidden_units, or use "
                "architecture='mlp', which takes any shape."
            )
        return tuple(int(d) for d in X.shape[1:])

    def _train(self, X):
        """A :class:`_VAALNet` trained on the labeled set and pool ``X`` (None
        without a labeled set). Deterministic: it depends only on the labeled
        set, ``X``, the parameters and the seed drawn at ``fit``."""
        X_labeled = getattr(self, "X_labeled_", None)
        if X_labeled is None:
            return None
        n_labeled_features = int(np.prod(X_labeled.shape[1:]))
        n_features = int(np.prod(X.shape[1:]))
        if n_features != n_labeled_features or (
            self.architecture == "conv" and X.shape[1:] != X_labeled.shape[1:]
        ):
            raise ValueError(
                f"X of shape {X.shape} has {n_features} values per sample, but the "
                f"labeled set given to fit, of shape {X_labeled.shape}, has "
                f"{n_labeled_features}; pass a pool shaped like the labeled set."
            )
        device = resolve_device(self.device)
        widths = self._hidden_widths()
        image_shape = self._image_shape(X_labeled)
        X_labeled = X_labeled.reshape(len(X_labeled), -1)
        X_pool = X.reshape(len(X), -1)
        mean, scale = _standardization(X_labeled, X_pool)
        if image_shape is None:
            vae = dict(module=_MLPVAE, module__n_features=n_features, module__widths=widths)
        else:
            vae = dict(module=_ConvVAE, module__image_shape=image_shape, module__channels=widths)
        net = _VAALNet(
            **vae,
            module__latent_dim=self.latent_dim,
            discriminator=_Discriminator,
            discriminator__latent_dim=self.latent_dim,
            discriminator__width=max(widths),
            mean=mean,
            scale=scale,
            beta=self.beta,
            adversary_weight=self.adversary_weight,
            random_state=self._seed,
            iterator_train__seed=self._seed + 1,
            lr=self.lr,
            max_epochs=self.n_epochs,
            batch_size=int(self.batch_size),
            iterator_valid__batch_size=max(int(self.batch_size), 4096),
            device=device,
        )
        is_labeled = np.concatenate(
            [np.ones(len(X_labeled), np.float32), np.zeros(len(X_pool), np.float32)]
        )
        return net.fit(np.concatenate([X_labeled, X_pool], dtype=np.float32), is_labeled)

    def _scores(self, net, X, offset=0):
        """Log-odds that each sample is unlabeled, ``−logit D(μ(x))``."""
        if net is None:  # no labeled set: RandomSampling's priorities
            rng = check_random_state(self.random_state)
            rng.random_sample(offset)
            return rng.random_sample(num_samples(X))
        return -to_numpy(net.forward(X)).astype(np.float64)


def _standardization(X_labeled, X_pool):
    """``(mean, scale)``: one mean per feature, one overall standard deviation
    (of flattened rows, over the labeled set and the pool), as float32, so that
    features keep their relative scale."""
    n_labeled, n_features = X_labeled.shape
    n_all = n_labeled + len(X_pool)
    mean = (X_labeled.sum(axis=0, dtype=np.float64)
            + X_pool.sum(axis=0, dtype=np.float64)) / n_all
    sq = (np.einsum("ij,ij->", X_labeled, X_labeled, dtype=np.float64)
          + np.einsum("ij,ij->", X_pool, X_pool, dtype=np.float64))
    var = max(sq / (n_all * n_features) - np.mean(mean**2), 0.0)
    scale = np.sqrt(var) if var > 1e-24 else 1.0
    return mean.astype(np.float32), np.float32(scale)


_LOSSES = ("reconstruction", "kl", "vae", "adversarial", "discriminator")


class _VAALNet(NeuralNet):
    """VAAL's β-VAE and discriminator, trained as one skorch net.

    ``module`` is the VAE (``module_``) and ``discriminator`` a second module
    (``discriminator_``), each with its own optimizer of class ``optimizer``
    (``optimizer_``, and ``optimizer_discriminator_`` with parameters
    ``optimizer_discriminator__*``), as in skorch's guide to custom modules.
    ``fit(X, y)`` takes the labeled samples and the pool as one array, ``y``
    being 1.0 for a labeled sample and 0.0 for a pool sample. Each training
    step (``train_step``) is VAAL's: one VAE step on a batch of each, then one
    discriminator step on their updated latent means; ``iterator_train`` makes
    the batches (:class:`_LabeledPoolBatches`). ``forward(X)`` returns the
    discriminator's logit of P(labeled) of each sample. ``get_dataset``
    flattens and standardizes the samples, ``(x − mean) / scale``.

    Parameters besides skorch's: ``mean`` and ``scale`` (the standardization),
    ``beta`` and ``adversary_weight`` (weights of the VAE's loss terms), and
    ``random_state``, an int that seeds the initialization (drawn from torch's
    default generator, forked and restored) and the VAE's sampling noise.
    """

    def __init__(
        self,
        module,
        *,
        discriminator,
        mean,
        scale,
        beta=1.0,
        adversary_weight=1.0,
        random_state=0,
        criterion=nn.BCEWithLogitsLoss,
        optimizer=torch.optim.Adam,
        iterator_train=None,
        iterator_valid=None,
        train_split=None,
        callbacks="disable",
        verbose=0,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion,
            optimizer=optimizer,
            iterator_train=_LabeledPoolBatches if iterator_train is None else iterator_train,
            iterator_valid=_Chunks if iterator_valid is None else iterator_valid,
            train_split=train_split,
            callbacks=callbacks,
            verbose=verbose,
            **kwargs,
        )
        self.discriminator = discriminator
        self.mean = mean
        self.scale = scale
        self.beta = beta
        self.adversary_weight = adversary_weight
        self.random_state = random_state

    def initialize_module(self):
        with torch.random.fork_rng(devices=[]):  # the global state is restored
            torch.random.default_generator.manual_seed(self.random_state)
            super().initialize_module()  # module_: the VAE, initialized first
            params = self.get_params_for("discriminator")
            self.discriminator_ = self.initialized_instance(self.discriminator, params)
        return self

    def initialize_optimizer(self, *args, **kwargs):
        args, kwargs = self.get_params_for_optimizer("optimizer", self.module_.named_parameters())
        self.optimizer_ = self.optimizer(*args, **kwargs)
        args, kwargs = self.get_params_for_optimizer(
            "optimizer_discriminator", self.discriminator_.named_parameters()
        )
        self.optimizer_discriminator_ = self.optimizer(*args, **kwargs)
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        # the VAE's sampling noise: a generator of its own, on the device, per fit
        self.noise_generator_ = torch.Generator(device=self.device).manual_seed(
            self.random_state + 2
        )

    def get_dataset(self, X, y=None):
        # flattened float32 rows, standardized, on the device: batches are then
        # gathered there (see _LabeledPoolBatches and _Chunks)
        X = X.reshape(len(X), -1).astype(np.float32, copy=False)
        X = to_tensor((X - self.mean) / self.scale, device=self.device)
        y = None if y is None else to_tensor(y, device=self.device)
        return super().get_dataset(X, y)

    def train_step(self, batch, **fit_params):
        """VAAL's step: the VAE reconstructs both sets and makes both look
        labeled; then the discriminator learns to tell them apart.

        It overrides ``train_step``, not ``train_step_single``: skorch's step
        zeroes every optimizer, computes one loss and steps every optimizer,
        whereas here each network has its own loss, backward pass and
        optimizer step, in turn (the VAE's loss also leaves gradients on the
        discriminator, which its own step must not see).
        """
        self._set_training(True)
        x, is_labeled = batch
        labeled = is_labeled == 1
        vae, discriminator = self.module_, self.discriminator_

        mu, logvar = vae.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(
            mu.shape, generator=self.noise_generator_, device=mu.device
        )
        n_features = x.shape[1]
        recon = ((vae.decode(z) - x) ** 2).sum(dim=1).mean() / n_features
        kl = (-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(dim=1)).mean() / n_features
        fool = self.criterion_(discriminator(mu), torch.ones_like(is_labeled))
        loss = recon + self.beta * kl + self.adversary_weight * fool
        self.optimizer_.zero_grad()
        loss.backward()
        self.optimizer_.step()

        with torch.no_grad():  # the discriminator sees the updated latent means
            mu = vae.encode(x)[0]
        logits = discriminator(mu)
        disc = self.criterion_(logits[labeled], is_labeled[labeled]) + self.criterion_(
            logits[~labeled], is_labeled[~labeled]
        )
        self.optimizer_discriminator_.zero_grad()
        disc.backward()
        self.optimizer_discriminator_.step()

        recon, kl, fool, disc = torch.stack([recon, kl, fool, disc]).tolist()
        values = (recon, kl, recon + self.beta * kl, fool, disc)
        for name, value in zip(_LOSSES, values):
            self.history.record_batch(name, value)
        return {"loss": loss.detach(), "y_pred": logits.detach()}

    def infer(self, x, **fit_params):
        x = to_tensor(x, device=self.device)
        return self.discriminator_(self.module_.encode(x)[0])

    @property
    def loss_curve_(self):
        """Mean of each loss over the batches of each epoch."""
        return {
            name: np.asarray([np.mean(epoch) for epoch in self.history[:, "batches", :, name]])
            for name in _LOSSES
        }


class _LabeledPoolBatches:
    """VAAL's mini-batches, skorch's ``iterator_train`` of :class:`_VAALNet`.

    One pass (``iter``) is one epoch: the pool samples (``y == 0``) in a new
    random order, ``batch_size`` at a time, each batch preceded by the next
    ``min(batch_size, n_labeled)`` labeled samples (``y == 1``), which are
    cycled and reshuffled each time they run out, across epochs. Batches are
    gathered from the dataset's tensors in one indexing (no per-sample
    collation). ``seed`` seeds the one generator of both orders.

    Not a ``DataLoader`` with a sampler: the two orders share one generator
    and the labeled order carries over from one epoch to the next, and a
    ``DataLoader`` draws a seed from torch's global generator at every epoch.
    """

    def __init__(self, dataset, batch_size, seed):
        self.X, self.y = dataset.X, dataset.y
        is_labeled = self.y.cpu() == 1
        self.labeled = torch.nonzero(is_labeled).flatten()
        self.pool = torch.nonzero(~is_labeled).flatten()
        self.batch_size = int(batch_size)
        self.generator = torch.Generator().manual_seed(int(seed))
        self._labeled_order = torch.randperm(len(self.labeled), generator=self.generator)
        self._labeled_pos = 0

    def __len__(self):
        return -(-len(self.pool) // self.batch_size)

    def __iter__(self):
        b, n_labeled = self.batch_size, len(self.labeled)
        b_labeled = min(b, n_labeled)
        pool = self.pool[torch.randperm(len(self.pool), generator=self.generator)]
        for start in range(0, len(pool), b):
            if self._labeled_pos + b_labeled > n_labeled:
                self._labeled_order = torch.randperm(n_labeled, generator=self.generator)
                self._labeled_pos = 0
            pos = self._labeled_pos
            labeled = self.labeled[self._labeled_order[pos:pos + b_labeled]]
            self._labeled_pos += b_labeled
            index = torch.cat([labeled, pool[start:start + b]]).to(self.X.device)
            yield self.X[index], self.y[index]


class _Chunks:
    """Consecutive slices of the dataset's samples, skorch's ``iterator_valid``
    of :class:`_VAALNet` (for ``forward``): unlike a ``DataLoader``, it
    neither collates sample by sample nor draws from torch's global generator."""

    def __init__(self, dataset, batch_size):
        self.X = dataset.X
        self.batch_size = int(batch_size)

    def __len__(self):
        return -(-len(self.X) // self.batch_size)

    def __iter__(self):
        for start in range(0, len(self.X), self.batch_size):
            yield self.X[start:start + self.batch_size], None


class _MLPVAE(nn.Module):
    """A Gaussian VAE with MLP encoder and decoder on flattened inputs."""

    def __init__(self, n_features, widths, latent_dim):
        super().__init__()
        layers, width = [], n_features
        for w in widths:
            layers += [nn.Linear(width, w), nn.ReLU()]
            width = w
        self.encoder = nn.Sequential(*layers)
        self.fc_mu = nn.Linear(width, latent_dim)
        self.fc_logvar = nn.Linear(width, latent_dim)
        layers, width = [], latent_dim
        for w in reversed(widths):
            layers += [nn.Linear(width, w), nn.ReLU()]
            width = w
        layers.append(nn.Linear(width, n_features))
        self.decoder = nn.Sequential(*layers)

    def encode(self, x):
        """``(mu, logvar)`` of the posterior of each row of ``x``."""
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z):
        """Reconstruction of latents ``z``."""
        return self.decoder(z)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(mu), mu, logvar


class _ConvVAE(nn.Module):
    """A Gaussian VAE with convolutional encoder and decoder, on flattened images.

    Takes and returns rows of ``C·H·W`` values (so that training is the same
    as for :class:`_MLPVAE`) and reshapes them to images inside.
    """

    def __init__(self, image_shape, channels, latent_dim):
        super().__init__()
        self.image_shape = tuple(image_shape)
        c, h, w = self.image_shape
        layers, width = [], c
        for ch in channels:
            layers += [nn.Conv2d(width, ch, kernel_size=4, stride=2, padding=1), nn.ReLU()]
            width = ch
        self.encoder = nn.Sequential(*layers, nn.Flatten())
        factor = 2 ** len(channels)
        self.code_shape = (width, h // factor, w // factor)
        n_code = width * (h // factor) * (w // factor)
        self.fc_mu = nn.Linear(n_code, latent_dim)
        self.fc_logvar = nn.Linear(n_code, latent_dim)
        self.fc_decode = nn.Linear(latent_dim, n_code)
        layers = [nn.ReLU()]
        outs = list(reversed(channels[:-1])) + [c]
        for i, ch in enumerate(outs):
            layers.append(nn.ConvTranspose2d(width, ch, kernel_size=4, stride=2, padding=1))
            if i < len(outs) - 1:
                layers.append(nn.ReLU())
            width = ch
        self.decoder = nn.Sequential(*layers)

    def encode(self, x):
        """``(mu, logvar)`` of the posterior of each (flattened) image in ``x``."""
        h = self.encoder(x.reshape(len(x), *self.image_shape))
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z):
        """Reconstruction of latents ``z``, flattened."""
        h = self.fc_decode(z).reshape(len(z), *self.code_shape)
        return self.decoder(h).reshape(len(z), -1)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(mu), mu, logvar


class _Discriminator(nn.Module):
    """Latent → logit of P(labeled): an MLP with two hidden layers."""

    def __init__(self, latent_dim, width):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dim, width), nn.ReLU(),
            nn.Linear(width, width), nn.ReLU(),
            nn.Linear(width, 1),
        )

    def forward(self, z):
        return self.net(z).squeeze(-1)


class _VAALRanking(_StrategyRanking):
    """VAAL's lazy ranking, which holds the networks trained for its pool.

    ``add(X_new)`` scores the new samples with them, without retraining.

    Attributes
    ----------
    net_ : skorch.NeuralNet or None
        The trained networks (None without a labeled set): ``net_.module_``
        is the VAE, ``net_.discriminator_`` the discriminator,
        ``net_.history`` holds the losses of each batch.
    vae_, discriminator_ : torch.nn.Module
        ``net_.module_`` and ``net_.discriminator_``. ``vae_.encode(x)``
        returns ``(mu, logvar)`` of standardized, flattened inputs; the
        discriminator maps a latent ``mu`` to the logit of ``P(labeled)``.
    loss_curve_ : dict of ndarray of shape (n_epochs,)
        Mean losses per epoch: ``"reconstruction"``, ``"kl"``, ``"vae"``
        (reconstruction + β·KL), ``"adversarial"`` (the VAE's fooling loss)
        and ``"discriminator"``.
    """

    def __init__(self, strategy, net, ranking, points):
        super().__init__(strategy, None, ranking, points=points)
        self.net_ = net

    def _net(self):
        if self.net_ is None:
            raise AttributeError(
                "VAAL trains its VAE and discriminator only after fit(X_labeled); "
                "without a labeled set it ranks at random and has no networks."
            )
        return self.net_

    vae_ = property(lambda self: self._net().module_, doc="The trained VAE.")
    discriminator_ = property(
        lambda self: self._net().discriminator_, doc="The trained discriminator."
    )
    loss_curve_ = property(lambda self: self._net().loss_curve_, doc="Mean losses per epoch.")
