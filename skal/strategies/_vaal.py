"""VAAL: Variational Adversarial Active Learning."""

import hashlib
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state
from torch import nn
from torch.nn import functional as F

from ..base import BaseStrategy, _StrategyRanking
from ..selection._ranking import ScoreRanking
from ..utils._device import resolve_device
from ..utils._data import num_samples
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
    ``lazy_rank``), and trains its own networks.

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
        VAE's sampling noise (all drawn from local generators: the global
        torch and NumPy random states are left untouched); also of the random
        ranking used when there is no labeled set.

    Attributes
    ----------
    X_labeled_ : ndarray of shape (n_labeled, ...)
        The labeled set given to ``fit``.

    estimator_ : None
        No estimator is used.

    n_features_in_ : int
        Number of features seen during ``fit``.

    vae_ : torch.nn.Module
        The VAE trained on the labeled set and the most recent pool
        (``vae_.encode(x)`` returns ``(mu, logvar)`` of standardized,
        flattened inputs).

    discriminator_ : torch.nn.Module
        The discriminator trained with it; it maps a latent ``mu`` to the
        logit of ``P(labeled)``.

    loss_curve_ : dict of ndarray of shape (n_epochs,)
        Mean losses per epoch of that training: ``"reconstruction"``,
        ``"kl"``, ``"vae"`` (reconstruction + β·KL), ``"adversarial"`` (the
        VAE's fooling loss) and ``"discriminator"``.

    See Also
    --------
    CoreSet : diversity in the classifier's own embedding.
    RandomSampling : what VAAL does without a labeled set.

    Notes
    -----
    **Where the training happens.** The VAE and the discriminator must see
    the labeled set and the pool, and the pool is only known when ``query``,
    ``rank``, ``transform`` or ``lazy_rank`` is called; so ``fit`` only
    records the labeled set, and the first of those calls on a pool trains
    the networks. They are kept for that pool (recognized by a hash of its
    content, shape and dtype, and by the training parameters), so
    ``query(X, k)``, ``rank(X)`` and ``transform(X)`` on the same pool use
    the same networks and ``query(X, k)`` is the first ``k`` of ``rank(X)``;
    another pool trains anew and replaces them (one pool is cached). This is
    why ``vae_``, ``discriminator_`` and ``loss_curve_`` exist only after
    the first such call, not right after ``fit``; ``fit`` forgets them.
    ``lazy_rank(X).add(X_new)`` scores the new samples with the networks
    trained on ``X``, without retraining.

    **Model.** With ``architecture="mlp"`` inputs are flattened (images
    of shape ``(n, C, H, W)`` become vectors of ``C·H·W`` features); with
    ``"conv"`` the encoder sees the images. Inputs are centered per feature and divided by one overall standard deviation (computed on
    the labeled set and the pool), so that features keep their relative
    scale. The VAE's loss per sample is ``(‖x − x̂‖² + β·KL(q(z|x) ‖ N(0,
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
    encoder pass over the pool, then a sort; hashing the pool to find its
    networks is one pass over its bytes. On the 60,000 × 784 MNIST pool with
    a labeled set of 1,000, ``query(X, 100)`` with the defaults took 4.1 s
    on 2 CPU cores, 5 to 6 times ``EntropySampling`` with a 784-256-10 MLP
    (0.8 s); each extra epoch adds about as much again. A ``rank`` or
    ``transform`` on the same pool afterwards took 0.4 s.

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
    >>> bool(np.all(picks == strategy.rank(X_pool)[:50]))  # same networks, no retraining
    True
    """

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
        # created here so that training later fills it without changing __dict__
        self._trained_cache = {}

    vae_ = property(lambda self: self._last_trained().vae, doc="The trained VAE.")
    discriminator_ = property(
        lambda self: self._last_trained().discriminator, doc="The trained discriminator."
    )
    loss_curve_ = property(
        lambda self: self._last_trained().loss_curve, doc="Mean losses per epoch."
    )

    def _last_trained(self):
        trained = getattr(self, "_trained_cache", {}).get("trained")
        if trained is None:
            raise AttributeError(
                "VAAL trains its VAE and discriminator on the labeled set and the "
                "pool at the first query, rank, transform or lazy_rank call after "
                "fit(X_labeled); call one of those first."
            )
        return trained

    # -- template methods --------------------------------------------------------

    def _points(self, X, estimator, offset=0):
        return self._scores(self._trained(X), X, offset)

    def _ranking(self, points, estimator):
        return ScoreRanking(points)

    def _transform(self, X, estimator):
        return self._points(X, estimator)[:, np.newaxis]

    def lazy_rank(self, X):
        X, estimator = self._validate_pool(X)
        trained = self._trained(X)

        def new_points(X_new, offset):  # scored by the pool's networks, no retraining
            if trained is not None:
                n_features = trained.mean.shape[0]
                if int(np.prod(X_new.shape[1:])) != n_features:
                    raise ValueError(
                        f"X_new of shape {X_new.shape} does not have the {n_features} "
                        "values per sample of the pool."
                    )
            return self._scores(trained, X_new, offset=offset)

        ranking = ScoreRanking(self._scores(trained, X))
        return _StrategyRanking(self, None, ranking, points=new_points)

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

    def _trained(self, X):
        """The networks for pool ``X``: trained now, or cached. None without labels."""
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
        key = (_fingerprint(X), self._training_key())
        cache = self._trained_cache
        if cache.get("key") != key:
            cache.clear()  # free the previous networks before training new ones
            cache["trained"] = self._train(X_labeled, X)
            cache["key"] = key
        return cache["trained"]

    def _training_key(self):
        params = self.get_params(deep=False)
        del params["estimator"], params["prefit"]
        if isinstance(params["random_state"], np.random.RandomState):
            params["random_state"] = id(params["random_state"])
        return tuple(sorted((name, repr(value)) for name, value in params.items()))

    def _scores(self, trained, X, offset=0):
        if trained is None:  # no labeled set: RandomSampling's priorities
            rng = check_random_state(self.random_state)
            rng.random_sample(offset)
            return rng.random_sample(num_samples(X))
        return trained.score(X, self.batch_size)

    def _train(self, X_labeled, X_pool):
        device = resolve_device(self.device)
        widths = self._hidden_widths()
        image_shape = self._image_shape(X_labeled)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        X_labeled = X_labeled.reshape(len(X_labeled), -1)
        X_pool = X_pool.reshape(len(X_pool), -1)
        n_labeled, n_features = X_labeled.shape
        n_pool = len(X_pool)

        # one mean per feature, one overall scale: features keep their relative scale
        n_all = n_labeled + n_pool
        mean = (X_labeled.sum(axis=0, dtype=np.float64)
                + X_pool.sum(axis=0, dtype=np.float64)) / n_all
        sq = (np.einsum("ij,ij->", X_labeled, X_labeled, dtype=np.float64)
              + np.einsum("ij,ij->", X_pool, X_pool, dtype=np.float64))
        var = max(sq / (n_all * n_features) - np.mean(mean**2), 0.0)
        scale = np.sqrt(var) if var > 1e-24 else 1.0
        mean = mean.astype(np.float32)

        def to_tensor(A):
            A = (A.astype(np.float32, copy=False) - mean) / np.float32(scale)
            return torch.from_numpy(A).to(device)

        X_lab_t, X_pool_t = to_tensor(X_labeled), to_tensor(X_pool)

        with torch.random.fork_rng(devices=[]):
            torch.random.default_generator.manual_seed(int(seed))
            if image_shape is None:
                vae = _MLPVAE(n_features, widths, self.latent_dim)
            else:
                vae = _ConvVAE(image_shape, widths, self.latent_dim)
            discriminator = _Discriminator(self.latent_dim, max(widths))
        vae.to(device).train()
        discriminator.to(device).train()
        order_gen = torch.Generator().manual_seed(int(seed) + 1)
        noise_gen = torch.Generator(device=device).manual_seed(int(seed) + 2)
        opt_vae = torch.optim.Adam(vae.parameters(), lr=self.lr)
        opt_disc = torch.optim.Adam(discriminator.parameters(), lr=self.lr)

        b = int(self.batch_size)
        b_lab = min(b, n_labeled)
        lab_order, lab_pos = torch.randperm(n_labeled, generator=order_gen), 0
        names = ("reconstruction", "kl", "vae", "adversarial", "discriminator")
        curve = {name: [] for name in names}
        for _ in range(self.n_epochs):
            totals = torch.zeros(len(names), device=device)
            pool_order = torch.randperm(n_pool, generator=order_gen)
            n_steps = 0
            for start in range(0, n_pool, b):
                x_u = X_pool_t[pool_order[start:start + b].to(device)]
                if lab_pos + b_lab > n_labeled:
                    lab_order, lab_pos = torch.randperm(n_labeled, generator=order_gen), 0
                x_l = X_lab_t[lab_order[lab_pos:lab_pos + b_lab].to(device)]
                lab_pos += b_lab
                x = torch.cat([x_l, x_u])
                is_labeled = torch.cat(
                    [torch.ones(len(x_l), device=device), torch.zeros(len(x_u), device=device)]
                )

                # VAE step: reconstruct both sets, make both look labeled
                mu, logvar = vae.encode(x)
                z = mu + torch.exp(0.5 * logvar) * torch.randn(
                    mu.shape, generator=noise_gen, device=device
                )
                recon = ((vae.decode(z) - x) ** 2).sum(dim=1).mean() / n_features
                kl = (-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(dim=1)).mean() / n_features
                fool = F.binary_cross_entropy_with_logits(
                    discriminator(mu), torch.ones_like(is_labeled)
                )
                loss = recon + self.beta * kl + self.adversary_weight * fool
                opt_vae.zero_grad()
                loss.backward()
                opt_vae.step()

                # discriminator step on the updated latent means
                with torch.no_grad():
                    mu = vae.encode(x)[0]
                logits = discriminator(mu)
                disc = F.binary_cross_entropy_with_logits(
                    logits[: len(x_l)], is_labeled[: len(x_l)]
                ) + F.binary_cross_entropy_with_logits(
                    logits[len(x_l):], is_labeled[len(x_l):]
                )
                opt_disc.zero_grad()
                disc.backward()
                opt_disc.step()

                totals += torch.stack(
                    [recon, kl, recon + self.beta * kl, fool, disc]
                ).detach()
                n_steps += 1
            for name, total in zip(names, totals.tolist()):
                curve[name].append(total / n_steps)

        vae.eval()
        discriminator.eval()
        for module in (vae, discriminator):
            module.requires_grad_(False)
        return _TrainedVAAL(
            vae, discriminator, mean, np.float32(scale), device,
            {name: np.asarray(values) for name, values in curve.items()},
        )


def _fingerprint(X):
    """A hash of an array's content, shape and dtype (the cache key of a pool)."""
    X = np.ascontiguousarray(X)
    digest = hashlib.sha1(X.view(np.uint8).reshape(-1), usedforsecurity=False).hexdigest()
    return X.shape, X.dtype.str, digest


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


class _TrainedVAAL:
    """The trained networks of one pool, with the input scaling they expect."""

    def __init__(self, vae, discriminator, mean, scale, device, loss_curve):
        self.vae = vae
        self.discriminator = discriminator
        self.mean = mean
        self.scale = scale
        self.device = device
        self.loss_curve = loss_curve

    def score(self, X, batch_size):
        """Log-odds that each sample is unlabeled, ``−logit D(μ(x))``."""
        X = X.reshape(len(X), -1)
        step = max(int(batch_size), 4096)
        out = np.empty(len(X), dtype=np.float64)
        with torch.no_grad():
            for start in range(0, len(X), step):
                A = (X[start:start + step].astype(np.float32, copy=False) - self.mean)
                x = torch.from_numpy(A / self.scale).to(self.device)
                logits = self.discriminator(self.vae.encode(x)[0])
                out[start:start + step] = -logits.double().cpu().numpy()
        return out
