"""Latent Lab models: a VAE, a plain autoencoder, a row-reading RNN and a row-by-row writer for square grey images
(no UI code in here)."""

from .autoencoder import Autoencoder, AutoencoderConfig
from .checkpoints import LIBRARY_VERSION as __version__
from .images import default_device
from .rnn import RowRNN, RowRNNConfig
from .vae import VAE, VAEConfig
from .writer import RowWriter, RowWriterConfig

__all__ = ["VAE", "VAEConfig", "Autoencoder", "AutoencoderConfig",
           "RowRNN", "RowRNNConfig", "RowWriter", "RowWriterConfig", "default_device",
           "__version__"]
