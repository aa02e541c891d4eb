"""Training settings from a form or a JSON request, checked and turned into the trainer's configs.

    model_type, model_config, train_config = configs_from_settings({"model": "vae", "epochs": 5})

Every problem a visitor can cause (a word where a number belongs, a value out of range, an unknown
key, a device this machine does not have) is a ValueError with a sentence saying what to change.
"""

import math
import re

SETTING_KEYS = ("model", "dataset", "epochs", "batch_size", "lr", "latent_dim", "hidden_size", "beta",
                "kl_warmup", "cell", "augment", "seed", "device")
# The explorer shows one slider per latent dimension, at most 20 of them (the shipped models' size).
LATENT_DIM_RANGE = (2, 20)
_CUDA_DEVICE = re.compile(r"^cuda(?::(\d+))?$")


def parse_number(settings: dict, key: str, kind, lo, hi, default, label: str):
    """Return settings[key] as `kind` (int or float) within [lo, hi], or `default` when blank; ValueError if bad."""
    value = settings.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    what = "a whole number" if kind is int else "a number"
    if isinstance(value, bool):
        raise ValueError(f"{label} must be {what}, got {value!r}.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{label} must be {what}, got {value!r}.") from None
    if math.isnan(number) or math.isinf(number) or (kind is int and number != int(number)):
        raise ValueError(f"{label} must be {what}, got {value!r}.")
    number = kind(number)
    if not lo <= number <= hi:
        raise ValueError(f"{label} must be between {lo:g} and {hi:g}, got {value}.")
    return number


def check_device(device) -> str:
    """Return the device name ('auto', 'cpu', 'cuda' or 'cuda:N') if this machine has it; ValueError otherwise."""
    import torch

    name = str(device or "auto").strip().lower()
    if name in ("auto", "cpu"):
        return name
    match = _CUDA_DEVICE.match(name)
    if not match:
        raise ValueError(f"Device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}.")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise ValueError("CUDA was requested but no CUDA device is available here; choose 'cpu' or 'auto'.")
    index = int(match.group(1) or 0)
    if index >= count:
        raise ValueError(f"There is no device {name}: this machine has {count} CUDA device(s), "
                         f"cuda:0 to cuda:{count - 1}.")
    return name


def configs_from_settings(settings: dict, max_epochs: int = 100) -> tuple:
    """Return (model_type, model_config, train_config) from flat settings; ValueError with a sentence if bad.

    Keys (all optional but 'model'): model ('vae'/'rnn'), dataset, epochs, batch_size, lr,
    latent_dim (2-20), hidden_size, beta, kl_warmup (epochs), cell ('rnn'/'gru'/'lstm'), augment, seed, device.
    """
    from .rnn import CELLS, RowRNNConfig
    from .train import TrainConfig
    from .vae import VAEConfig

    if not isinstance(settings, dict):
        raise ValueError("The training settings must be a JSON object such as {\"model\": \"vae\", \"epochs\": 5}.")
    unknown = sorted(set(settings) - set(SETTING_KEYS))
    if unknown:
        raise ValueError(f"Unknown setting(s) {', '.join(unknown)}; known: {', '.join(SETTING_KEYS)}.")
    model = str(settings.get("model", "vae")).strip().lower()
    model = {"rowrnn": "rnn"}.get(model, model)
    if model not in ("vae", "rnn"):
        raise ValueError(f"model must be 'vae' or 'rnn', got {settings.get('model')!r}.")
    epochs = parse_number(settings, "epochs", int, 1, max_epochs, 5, "Epochs")
    batch_size = parse_number(settings, "batch_size", int, 8, 4096, 128, "Batch size")
    lr = parse_number(settings, "lr", float, 1e-6, 1.0, 1e-3, "Learning rate")
    seed = parse_number(settings, "seed", int, 0, 2**31 - 1, 0, "Seed")
    augment = settings.get("augment", False)
    if not isinstance(augment, bool):
        raise ValueError(f"augment must be true or false, got {augment!r}.")
    device = check_device(settings.get("device"))
    if model == "vae":
        lo, hi = LATENT_DIM_RANGE
        latent_dim = parse_number(settings, "latent_dim", int, -math.inf, math.inf, 20, "Latent size")
        if not lo <= latent_dim <= hi:
            raise ValueError(f"Latent size must be between {lo} and {hi} (the explorer shows at most {hi} "
                             f"dimensions), got {latent_dim}.")
        model_config = VAEConfig(
            latent_dim=latent_dim,
            hidden_dim=parse_number(settings, "hidden_size", int, 8, 2048, 400, "Hidden size"),
            beta=parse_number(settings, "beta", float, 0.0, 20.0, 1.0, "Beta"),
            kl_warmup_epochs=parse_number(settings, "kl_warmup", int, 0, max_epochs, 0, "KL warm-up"))
    else:
        cell = str(settings.get("cell") or "rnn").strip().lower()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(sorted(CELLS))}, got {settings.get('cell')!r}.")
        model_config = RowRNNConfig(cell=cell, hidden_size=parse_number(settings, "hidden_size", int, 4, 1024, 128,
                                                                         "Hidden size"))
    train_config = TrainConfig(dataset=str(settings.get("dataset") or "mnist-5k"), epochs=epochs,
                               batch_size=batch_size, lr=lr, augment=augment, seed=seed, device=device)
    return model, model_config, train_config
