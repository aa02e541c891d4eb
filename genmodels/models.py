"""The model types the package trains, saves and loads, by the name stored in each checkpoint's config.json."""

from .autoencoder import Autoencoder
from .rnn import RowRNN
from .vae import VAE
from .writer import RowWriter

MODEL_TYPES = {cls.model_type: cls for cls in (VAE, RowRNN, RowWriter, Autoencoder)}
