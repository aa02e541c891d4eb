"""A plain (deterministic) autoencoder of square grey images, the VAE's contrast.

The same network as `genmodels.vae.VAE` (784→400→20→400→784, Bernoulli pixels), trained on the
reconstruction term alone: the encoder gives one code per image, with no posterior noise and no
KL term pulling the codes towards the prior. Kingma & Welling, "Auto-Encoding Variational Bayes"
(2013), https://arxiv.org/abs/1312.6114, add exactly those two things; without them the codes of
the training digits sit wherever the decoder finds them useful, leaving most of N(0, I) unused
("holes in the latent space"), so codes drawn from the prior decode to smudges, while the VAE's
decoder has learned that whole region. The explorer shows both side by side.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

import i18n

from .checkpoints import LATENT_FILE, PretrainedMixin
from .images import IMAGE_SIDE, as_flat_batch
from .latent import describe_codes, encode_all
from .settings import check, setting
from .trainable import Figure, Trainable


@dataclass
class AutoencoderConfig:
    # The code's length: the explorer shows one slider per dimension; 20 as the VAE's, so the two compare.
    latent_dim: int = setting(20, "Latent size", "size of the code; the explorer shows one slider per dimension",
                              low=1, high=64)
    # One hidden layer on each side, as wide as the VAE's.
    hidden_size: int = setting(400, "Hidden size", "width of the hidden layer in encoder and decoder",
                               low=8, high=2048)
    # Set from the data set by the trainer (genmodels.train.fit_to_data).
    side: int = setting(IMAGE_SIDE, "Image side", "square images of side x side pixels (the data set's)", low=2, high=64)

    def __post_init__(self):
        check(self)

    @property
    def likelihood(self) -> str:
        """Return 'bernoulli': the decoder's pixels are Bernoulli probabilities, as a Bernoulli VAE's (not a setting)."""
        return "bernoulli"


class Autoencoder(Trainable, PretrainedMixin, nn.Module):
    """Plain autoencoder: encoder pixels->hidden->code, decoder code->hidden->pixels; no KL term."""

    model_type = "ae"
    config_class = AutoencoderConfig
    # The best epoch has the lowest validation reconstruction loss, named as the VAE's term.
    validation_figures = (Figure("val_recon", "reconstruction", "nats per image"),)
    binarize_option = True

    def __init__(self, config: AutoencoderConfig | None = None):
        super().__init__()
        self.config = config or AutoencoderConfig()
        c = self.config
        self.pixels = c.side * c.side
        # The VAE's layer names for the layers both have: the page's decoder (ui/inpage.py) reads fc3 and fc4.
        self.fc1 = nn.Linear(self.pixels, c.hidden_size)
        self.fc2 = nn.Linear(c.hidden_size, c.latent_dim)  # the code
        self.fc3 = nn.Linear(c.latent_dim, c.hidden_size)
        self.fc4 = nn.Linear(c.hidden_size, self.pixels)

    @property
    def device(self) -> torch.device:
        return self.fc1.weight.device

    def _model_input(self, x: torch.Tensor) -> torch.Tensor:
        return as_flat_batch(x, self.config.side).to(self.device, torch.float32)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Return the codes (N, latent_dim) of images in [0,1]."""
        return self.fc2(F.relu(self.fc1(self._model_input(x))))

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Return the decoder's logits (N, side*side) for codes z (N, latent_dim)."""
        return self.fc4(F.relu(self.fc3(z)))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Return images in [0,1] shaped (N,1,side,side) for codes z (N, latent_dim)."""
        if not isinstance(z, torch.Tensor) or z.dim() not in (1, 2) or z.shape[-1] != self.config.latent_dim:
            shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise i18n.Sentence("genmodels.latent.code_shape", dims=self.config.latent_dim, shape=shape)
        z = z.reshape(-1, self.config.latent_dim).to(self.device, torch.float32)
        return torch.sigmoid(self.decode_logits(z)).reshape(-1, 1, self.config.side, self.config.side)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the decoder's logits (N, side*side) of the images' own codes."""
        return self.decode_logits(self.encode(x))

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Return reconstructions in [0,1], (N,1,side,side), decoded from the images' codes."""
        return self.decode(self.encode(x))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return n images in [0,1], (n,1,side,side), decoded from codes drawn from N(0, I) (a prior it never learned)."""
        z = torch.randn((n, self.config.latent_dim), generator=generator,
                        device=generator.device if generator is not None else self.device)
        return self.decode(z.to(self.device))

    def loss(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Return {'loss', 'recon'}: the mean reconstruction BCE in nats per image (labels are unused)."""
        inputs = self._model_input(x)
        recon = F.binary_cross_entropy_with_logits(self.forward(inputs), inputs, reduction="none").sum(1).mean()
        return {"loss": recon, "recon": recon}

    def checkpoint_files(self, val_x: torch.Tensor, val_y: torch.Tensor, num_classes: int) -> dict[str, dict]:
        """Return {LATENT_FILE: the code analysis of the validation images} the explorer reads, the sliders'
        order given by each dimension's code variance."""
        codes = encode_all(self.encode, val_x.to(self.device))
        return {LATENT_FILE: {"code_var_per_dim": codes.var(0), **describe_codes(codes, val_y, num_classes)}}
