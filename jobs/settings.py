"""The training settings a visitor may choose (Train form and /train), built from the configs' one definition.

    model_type, model_config, train_config = configs_from_settings({"model": "vae", "epochs": 5}, max_epochs=100)

Each public key names one field of TrainConfig or of the model's config, so its default, range
and help text are the ones declared there
(genmodels.settings). Everything else keeps the library default; keys of the other model type
are ignored. Every problem a visitor can cause is a ValueError with one sentence saying what to
change.
"""

import hashlib
import re

import torch

import i18n

from genmodels import settings
from genmodels.settings import Described
from genmodels.train import MODEL_TYPES, TrainConfig

# Public key -> field, per model type; the common keys live on TrainConfig.
TRAIN_KEYS = ("dataset", "epochs", "batch_size", "lr", "augment", "seed", "device")
MODEL_KEYS = {
    "vae": {"latent_dim": "latent_dim", "hidden_size": "hidden_size", "beta": "beta", "kl_warmup": "kl_warmup_epochs"},
    "rnn": {"cell": "cell", "hidden_size": "hidden_size"},
    "writer": {"hidden_size": "hidden_size"},
    # The plain autoencoder: the VAE's network without the KL term, so no beta and no KL warm-up.
    "ae": {"latent_dim": "latent_dim", "hidden_size": "hidden_size"},
}
OTHER_KEYS = ("model", "name")
CUDA_DEVICE = re.compile(r"^cuda(?::(\d+))?$")
# The Train tab's runs measure their end-of-run NLL bound with fewer importance samples than the
# library's default: far less time for a bound a little looser (BENCHMARKS.md, "NLL samples").
JOB_NLL_SAMPLES = 100


def owner_seed(owner_token: str) -> int:
    """Return the seed a caller's runs get when they name none: drawn from their owner token, so two students'
    default runs differ while each student's own repeat."""
    digest = hashlib.sha256(owner_token.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:4], "big") % (settings.specs(TrainConfig)["seed"].spec.high + 1)


def setting_keys() -> list[str]:
    """Return every key /train accepts."""
    keys = list(OTHER_KEYS) + list(TRAIN_KEYS)
    for per_model in MODEL_KEYS.values():
        keys += [k for k in per_model if k not in keys]
    return keys


def form_fields(model_type: str) -> dict[str, Described]:
    """Return {public key: Described} of the settings the form shows for `model_type`, training ones first."""
    train = settings.specs(TrainConfig)
    model = settings.specs(MODEL_TYPES[model_type].config_class)
    fields = {key: train[key] for key in TRAIN_KEYS}
    fields.update({key: model[name] for key, name in MODEL_KEYS[model_type].items()})
    return fields


def check_device(device) -> str:
    """Return the device name ('auto', 'cpu', 'cuda' or 'cuda:N') if this machine has it; ValueError otherwise."""
    if device is None:
        return "auto"
    if not isinstance(device, str):
        raise i18n.Sentence("jobs.settings.device_form", value=repr(device)[:40])
    name = device.strip().lower() or "auto"
    if name in ("auto", "cpu"):
        return name
    match = CUDA_DEVICE.match(name)
    if not match:
        raise i18n.Sentence("jobs.settings.device_form", value=repr(device[:20]))
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise i18n.Sentence("jobs.settings.no_cuda")
    index = int(match.group(1) or 0)
    if index >= count:
        raise i18n.Sentence("jobs.settings.no_such_device", name=name, count=count, last=count - 1)
    return name


def model_type_of(settings_dict: dict) -> str:
    """Return the model type named by settings['model'] (default 'vae'); ValueError for anything else."""
    model = settings_dict.get("model", "vae")
    if not isinstance(model, str) or model.strip().lower() not in MODEL_KEYS:
        shown = model[:20] if isinstance(model, str) else model
        raise i18n.Sentence("jobs.settings.model", choices=", ".join(MODEL_KEYS), value=repr(shown))
    return model.strip().lower()


def _short(value, limit: int = 200) -> bool:
    """True when `value` is small enough to quote back in a message (a setting is a number, a bool or a short text)."""
    try:
        return len(repr(value)) <= limit
    except RecursionError:
        return False


def configs_from_settings(settings_dict, max_epochs: int, device_check=check_device) -> tuple:
    """Return (model_type, model_config, train_config) from public settings; ValueError with a sentence if bad.

    `max_epochs` is the host's limit per launch or resume (within the library's own range);
    `device_check` judges the device where jobs run (this machine, or a cluster's).
    """
    if not isinstance(settings_dict, dict):
        raise i18n.Sentence("jobs.settings.not_object")
    unknown = sorted(str(k)[:30] for k in settings_dict if k not in setting_keys())
    if unknown:
        raise i18n.Sentence("jobs.settings.unknown", unknown=", ".join(unknown), known=", ".join(setting_keys()))
    for key, value in settings_dict.items():
        if not _short(value):
            raise i18n.Sentence("jobs.settings.too_long", key=str(key)[:30])
    model_type = model_type_of(settings_dict)
    fields = form_fields(model_type)
    values = {key: settings.parse(described, settings_dict.get(key)) for key, described in fields.items()
              if key != "device"}
    values["device"] = device_check(settings_dict.get("device"))
    if values["epochs"] > max_epochs:
        raise i18n.Sentence("jobs.epochs_limit", limit=max_epochs, epochs=values["epochs"])
    train_config = TrainConfig(**{key: values[key] for key in TRAIN_KEYS}, nll_samples=JOB_NLL_SAMPLES)
    model_cls = MODEL_TYPES[model_type]
    model_config = model_cls.config_class(**{name: values[key] for key, name in MODEL_KEYS[model_type].items()})
    return model_type, model_config, train_config
