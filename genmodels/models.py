"""The model types the package trains, saves and loads, by the name stored in each checkpoint's config.json."""

from .rnn import RowRNN
from .vae import VAE

MODEL_TYPES = {cls.model_type: cls for cls in (VAE, RowRNN)}
