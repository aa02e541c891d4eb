"""Latent Lab models: a VAE and a row-reading RNN for 28x28 images (no UI code in here)."""

__version__ = "0.1.0"

from .images import default_device  # noqa: E402
from .rnn import RowRNN, RowRNNConfig  # noqa: E402
from .vae import VAE, VAEConfig  # noqa: E402
from .writer import RowWriter, RowWriterConfig  # noqa: E402

__all__ = ["VAE", "VAEConfig", "RowRNN", "RowRNNConfig", "RowWriter", "RowWriterConfig", "default_device",
           "__version__"]
