"""Variational autoencoder for square grey images (28x28 for MNIST).

Kingma & Welling, "Auto-Encoding Variational Bayes" (2013), https://arxiv.org/abs/1312.6114;
the architecture and Bernoulli loss follow pytorch/examples `vae/main.py`, so losses in nats
per image are directly comparable. The IWAE bound is from Burda et al., "Importance Weighted
Autoencoders" (2015), https://arxiv.org/abs/1509.00519.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

import i18n

from .checkpoints import LATENT_FILE, PretrainedMixin
from .images import IMAGE_SIDE, as_flat_batch
from .latent import analyze, gaussian_kl
from .settings import check, setting
from .trainable import Figure, Trainable

LIKELIHOODS = ("bernoulli", "gaussian")
EXPLAIN_SAMPLES = 16  # draws of eps behind VAE.explain()'s reconstruction term (the explorer shows each one)


@dataclass
class VAEConfig:
    latent_dim: int = setting(20, "Latent size", "size of z; the explorer shows one slider per dimension",
                              low=1, high=64)
    hidden_size: int = setting(400, "Hidden size", "width of the hidden layer in encoder and decoder",
                              low=8, high=2048)
    likelihood: str = setting("bernoulli", "Likelihood",
                              "bernoulli: BCE on [0,1]; gaussian: squared error on [-1,1]", choices=LIKELIHOODS)
    beta: float = setting(1.0, "Beta", "weight of the KL term (1 = the true ELBO, >1 = beta-VAE)", low=0.0, high=20.0)
    kl_warmup_epochs: int = setting(0, "KL warm-up", "epochs over which the KL weight ramps from 0 to beta",
                                    low=0, high=1000, flag="--kl-warmup")
    dropout: float = setting(0.0, "Dropout", "dropout on both hidden layers while training", low=0.0, high=0.9)
    side: int = setting(IMAGE_SIDE, "Image side", "square images of side x side pixels (the data set's)", low=2, high=64)

    def __post_init__(self):
        check(self)


def _randn(shape: tuple, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """Return standard normal noise on `device`, drawn on the generator's own device (a CPU generator works for a CUDA model)."""
    if generator is None:
        return torch.randn(shape, device=device)
    return torch.randn(shape, generator=generator, device=generator.device).to(device)


@dataclass(frozen=True)
class Explanation:
    """What the VAE computes for a batch of N images (VAE.explain): the encoder's q(z|x) = N(mu, sigma^2),
    S draws z = mu + sigma * eps, and the negative ELBO's two terms, all in nats per image."""

    mu: torch.Tensor  # (N, d) posterior mean
    logvar: torch.Tensor  # (N, d) log sigma^2, the encoder's second output
    sigma: torch.Tensor  # (N, d) posterior standard deviation, exp(logvar / 2)
    eps: torch.Tensor  # (S, N, d) standard normal draws
    z: torch.Tensor  # (S, N, d) mu + sigma * eps
    images: torch.Tensor  # (S, N, 1, side, side) decode(z) in [0,1]: the pixel probabilities (Bernoulli)
    sample_nll: torch.Tensor  # (S, N) -log p(x|z) of each draw (Gaussian: squared error, as in loss())
    kl_per_dim: torch.Tensor  # (N, d) KL(q(z_i|x) || N(0, 1)) of each dimension, closed form
    kl: torch.Tensor  # (N,) their sum
    reconstruction: torch.Tensor  # (N,) mean of sample_nll over the S draws: E_q[-log p(x|z)] estimated
    nelbo: torch.Tensor  # (N,) reconstruction + kl


class VAE(Trainable, PretrainedMixin, nn.Module):
    """Encoder pixels->hidden->(mu, logvar), decoder latent->hidden->pixels."""

    model_type = "vae"
    config_class = VAEConfig
    # The best epoch has the lowest validation negative ELBO.
    validation_figures = (Figure("val_nelbo", "−ELBO", "nats per image"),
                          Figure("val_recon", "reconstruction", "nats per image"),
                          Figure("val_kl", "KL", "nats per image"))
    binarize_option = True

    def __init__(self, config: VAEConfig | None = None):
        super().__init__()
        self.config = config or VAEConfig()
        c = self.config
        self.pixels = c.side * c.side
        self.fc1 = nn.Linear(self.pixels, c.hidden_size)
        self.fc21 = nn.Linear(c.hidden_size, c.latent_dim)  # mean
        self.fc22 = nn.Linear(c.hidden_size, c.latent_dim)  # log variance
        self.fc3 = nn.Linear(c.latent_dim, c.hidden_size)
        self.fc4 = nn.Linear(c.hidden_size, self.pixels)
        self.drop = nn.Dropout(c.dropout)  # identity in eval mode; holds no weights

    @property
    def device(self) -> torch.device:
        return self.fc1.weight.device

    def _model_input(self, x: torch.Tensor) -> torch.Tensor:
        """Pixels as the network sees them: [0,1] for Bernoulli, [-1,1] for Gaussian."""
        # Any float dtype (e.g. float64 from numpy) on any device is accepted, as RowRNN does.
        x = as_flat_batch(x, self.config.side).to(self.device, torch.float32)
        return x * 2 - 1 if self.config.likelihood == "gaussian" else x

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (mu, logvar) of q(z|x), each (N, latent_dim), for images in [0,1]."""
        return self._encode_inputs(self._model_input(x))

    def _encode_inputs(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.drop(F.relu(self.fc1(inputs)))
        return self.fc21(h), self.fc22(h)

    @staticmethod
    def reparameterize(mu, logvar, generator=None):
        """Return z = mu + sigma * eps, differentiable in mu and logvar."""
        eps = _randn(mu.shape, generator, mu.device).to(mu.dtype)
        return mu + eps * torch.exp(0.5 * logvar)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Return the decoder's raw outputs (N, side*side): logits (Bernoulli) or means in [-1,1] (Gaussian)."""
        out = self.fc4(self.drop(F.relu(self.fc3(z))))
        return torch.tanh(out) if self.config.likelihood == "gaussian" else out

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Return images in [0,1] shaped (N,1,side,side) for latent codes z (N, latent_dim)."""
        return self._pixels(self.decode_logits(self._check_latent(z)))

    def _pixels(self, outputs: torch.Tensor) -> torch.Tensor:
        """Return the decoder's raw outputs (N, side*side) as images in [0,1] shaped (N,1,side,side)."""
        images = (outputs + 1) / 2 if self.config.likelihood == "gaussian" else torch.sigmoid(outputs)
        return images.reshape(-1, 1, self.config.side, self.config.side)

    def _check_latent(self, z: torch.Tensor) -> torch.Tensor:
        if not isinstance(z, torch.Tensor) or z.dim() not in (1, 2) or z.shape[-1] != self.config.latent_dim:
            shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise i18n.Sentence("genmodels.latent.code_shape", dims=self.config.latent_dim, shape=shape)
        return z.reshape(-1, self.config.latent_dim).to(self.device, torch.float32)

    def forward(self, x: torch.Tensor):
        """Return (decoder outputs, mu, logvar) for a batch, sampling one z per image."""
        return self._forward_inputs(self._model_input(x))

    def _forward_inputs(self, inputs: torch.Tensor):
        mu, logvar = self._encode_inputs(inputs)
        return self.decode_logits(self.reparameterize(mu, logvar)), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return n images in [0,1], (n,1,side,side), decoded from z drawn from the N(0, I) prior."""
        z = _randn((n, self.config.latent_dim), generator, self.device)
        return self.decode(z)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Return reconstructions in [0,1], (N,1,side,side), decoded from the posterior mean."""
        mu, _ = self.encode(x)
        return self.decode(mu)

    def reconstruction_nll(self, outputs: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Return -log p(x|z) summed over pixels, per image (N,), in nats (Gaussian: squared error)."""
        return self._nll(outputs, self._model_input(x))

    def _nll(self, outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """reconstruction_nll for targets already in network space (checked and scaled once)."""
        if self.config.likelihood == "bernoulli":
            return F.binary_cross_entropy_with_logits(outputs, target, reduction="none").sum(1)
        # The Gaussian recipe: summed squared error on [-1,1], i.e. unit variance up to a constant.
        return 0.5 * ((outputs - target) ** 2).sum(1)

    def loss(self, x: torch.Tensor, labels: torch.Tensor | None = None,
             kl_weight: float | None = None) -> dict[str, torch.Tensor]:
        """Return the mean negative ELBO per image in nats, with its 'recon' and 'kl' parts (labels are unused).

        'loss' is the training objective recon + kl_weight * kl (kl_weight defaults to beta);
        'nelbo' is always recon + kl, the figure comparable across runs.
        """
        inputs = self._model_input(x)  # checked and converted once: this is the training hot path
        outputs, mu, logvar = self._forward_inputs(inputs)
        recon = self._nll(outputs, inputs).mean()
        kl = gaussian_kl(mu, logvar).sum(1).mean()
        weight = self.config.beta if kl_weight is None else kl_weight
        return {"loss": recon + weight * kl, "nelbo": recon + kl, "recon": recon, "kl": kl}

    def kl_weight(self, epochs_done: float) -> float:
        """Return the KL weight after `epochs_done` epochs of training: beta, ramped up over the warm-up epochs."""
        c = self.config
        return c.beta * (min(1.0, epochs_done / c.kl_warmup_epochs) if c.kl_warmup_epochs > 0 else 1.0)

    def training_loss(self, x: torch.Tensor, labels: torch.Tensor, epochs_done: float) -> dict[str, torch.Tensor]:
        """Return loss() with the KL weight of this point of training (the warm-up depends on the epoch)."""
        return self.loss(x, labels, kl_weight=self.kl_weight(epochs_done))

    def epoch_log(self, epochs_done: float) -> dict[str, float]:
        """Return {"kl_weight": the KL weight after `epochs_done` epochs}, recorded in the history."""
        return {"kl_weight": self.kl_weight(epochs_done)}

    def checkpoint_files(self, val_x: torch.Tensor, val_y: torch.Tensor, num_classes: int) -> dict[str, dict]:
        """Return {LATENT_FILE: the latent analysis of the validation images} the explorer reads."""
        return {LATENT_FILE: analyze(self, val_x, val_y, num_classes=num_classes)}

    @torch.no_grad()
    def explain(self, x: torch.Tensor, samples: int = EXPLAIN_SAMPLES,
                generator: torch.Generator | None = None) -> Explanation:
        """Return the Explanation of images x in [0,1]: posterior, draws, and the negative ELBO per image in nats.

        These are loss()'s terms image by image: the KL is closed form (exact), and the reconstruction
        term E_q[-log p(x|z)] is the mean over `samples` draws of eps. With a seeded `generator` the
        figures are repeatable (the explorer and /explain use a fixed seed); samples=1 with the
        generator seeded as torch's global one was before loss() gives loss()'s own draw.
        """
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
            raise i18n.Sentence("genmodels.vae.samples", samples=repr(samples)[:40])
        inputs = self._model_input(x)
        mu, logvar = self._encode_inputs(inputs)
        sigma = torch.exp(0.5 * logvar)
        eps = _randn((samples, *mu.shape), generator, mu.device).to(mu.dtype)
        z = mu + sigma * eps  # reparameterize(), for all draws at once
        flat = z.reshape(-1, mu.shape[1])
        outputs = self.decode_logits(flat)
        sample_nll = self._nll(outputs, inputs.repeat(samples, 1)).reshape(samples, -1)
        kl_per_dim = gaussian_kl(mu, logvar)
        kl = kl_per_dim.sum(1)
        reconstruction = sample_nll.mean(0)
        images = self._pixels(outputs).reshape(samples, mu.shape[0], 1, self.config.side, self.config.side)  # decoded once
        return Explanation(mu=mu, logvar=logvar, sigma=sigma, eps=eps, z=z, images=images, sample_nll=sample_nll,
                           kl_per_dim=kl_per_dim, kl=kl, reconstruction=reconstruction, nelbo=reconstruction + kl)

    @torch.no_grad()
    def kl_per_dimension(self, x: torch.Tensor) -> torch.Tensor:
        """Return the mean KL of each latent dimension over the batch, (latent_dim,), in nats."""
        mu, logvar = self.encode(x)
        return gaussian_kl(mu, logvar).mean(0)

    @torch.no_grad()
    def iwae_bound(self, x: torch.Tensor, k: int = 1000, max_samples_per_chunk: int = 20_000,
                   generator: torch.Generator | None = None) -> torch.Tensor:
        """Return the k-sample importance-weighted lower bound on log p(x), per image (N,), in nats.

        Images are processed in chunks so at most `max_samples_per_chunk` decoded images live in
        memory at once (k=1000 on 10,000 images runs in a few hundred MB).
        """
        x = self._model_input(x)
        images_per_chunk = max(1, max_samples_per_chunk // k)
        bounds = []
        for start in range(0, x.shape[0], images_per_chunk):
            xb = x[start:start + images_per_chunk]
            mu, logvar = self._encode_inputs(xb)
            std = torch.exp(0.5 * logvar)
            # Drawn image by image ((n, k, d), then transposed) so the noise each image gets does
            # not depend on the chunking: a fixed generator gives the same bounds for any chunk size.
            eps = _randn((mu.shape[0], k, mu.shape[1]), generator, mu.device).transpose(0, 1)
            z = mu + eps * std  # (k, n, d)
            log_q = (-0.5 * eps.pow(2) - 0.5 * logvar - 0.5 * math.log(2 * math.pi)).sum(-1)
            log_prior = (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).sum(-1)
            outputs = self.decode_logits(z.reshape(-1, mu.shape[1]))
            log_lik = -self._nll(outputs, xb.repeat(k, 1)).reshape(k, -1)
            if self.config.likelihood == "gaussian":
                log_lik = log_lik - 0.5 * self.pixels * math.log(2 * math.pi)
            log_w = log_lik + log_prior - log_q
            bounds.append(torch.logsumexp(log_w, 0) - math.log(k))
        return torch.cat(bounds)
