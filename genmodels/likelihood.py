"""The NLL stored with a writer or VAE checkpoint: nats per image on one fixed binarization of its validation digits.

The Write tab compares a RowWriter with a VAE by their negative log-likelihood on the same binary
digits. The writer's figure is exact (-log p(x), with and without the true class); a VAE cannot
compute its own, so its figure is the importance-weighted bound (Burda et al., 2015, IWAE) with
IWAE_K samples, an upper bound on its NLL. Measuring the bound takes IWAE_K decodes per digit, so
it is done once, when a model is trained (genmodels.train) or benched (bench/writer_figures.py),
and stored in the checkpoint's config.json under NLL_KEY; readers never measure.
"""

import json
import math
import time
from typing import Callable

import torch

from .checkpoints import CONFIG_FILE, atomic_write, read_config, resolve_folder
from .data import Dataset, binarize

NLL_KEY = "binarized_nll"  # the record's key in config.json
IWAE_K = 1000  # importance samples of a VAE's bound
BINARIZE_SEED = 0  # the one binarization of the validation digits every model is judged on
NOISE_SEED = 1  # the VAE's posterior samples
CHUNK = 20  # digits per piece: a stop request waits for at most one piece (about a second for the VAE)


def binarized_validation(data: Dataset) -> torch.Tensor:
    """Return the validation digits of `data` binarized with BINARIZE_SEED, (N, 1, 28, 28) in {0, 1} on the CPU."""
    grey = data.val_x.cpu().float() / 255.0
    return binarize(grey, torch.Generator().manual_seed(BINARIZE_SEED)).unsqueeze(1)


def measurable(model) -> bool:
    """Return True for models with a likelihood of binary digits: a RowWriter, or a VAE with a Bernoulli decoder."""
    if getattr(model, "model_type", None) == "writer":
        return True
    return getattr(model, "model_type", None) == "vae" and model.config.likelihood == "bernoulli"


@torch.no_grad()
def measure(model, data: Dataset, should_stop: Callable[[], bool] | None = None, k: int = IWAE_K) -> dict | None:
    """Return the NLL record of `model` on the binarized validation digits of `data` (nats per image).

    {"nats", "given_class" (writer only), "bound": "exact" or "iwae", "k" (VAE only), "dataset",
    "split", "digits", "binarize_seed", "seconds"}; None for a model without such a likelihood, or
    when `should_stop()` became true (checked between pieces of CHUNK digits).
    """
    if not measurable(model):
        return None
    started = time.perf_counter()
    x = binarized_validation(data)
    should_stop = should_stop or (lambda: False)
    # The VAE's noise is drawn digit by digit from one generator, so the pieces give the same figure
    # as one call over all digits.
    noise = torch.Generator().manual_seed(NOISE_SEED)
    sums = {"nats": 0.0, "given_class": 0.0}
    for first in range(0, len(x), CHUNK):
        if should_stop():
            return None
        piece = x[first:first + CHUNK].to(model.device)
        if model.model_type == "writer":
            sums["nats"] -= model.log_prob(piece).sum().item()
            sums["given_class"] -= model.log_prob(piece, data.val_y[first:first + CHUNK].to(model.device)).sum().item()
        else:
            sums["nats"] -= model.iwae_bound(piece, k=k, generator=noise).sum().item()
    record = {"nats": sums["nats"] / len(x)}
    if model.model_type == "writer":
        record.update(given_class=sums["given_class"] / len(x), bound="exact")
    else:
        record.update(bound="iwae", k=k)
    record.update(dataset=data.name, split="validation", digits=len(x), binarize_seed=BINARIZE_SEED,
                  seconds=round(time.perf_counter() - started, 1))
    return record


def same_digits(a: dict, b: dict) -> bool:
    """Return True when two records were measured on the same binary digits (data set, split, count, binarization)."""
    return all(a.get(key) == b.get(key) for key in ("dataset", "split", "digits", "binarize_seed"))


def stored(config: dict) -> dict | None:
    """Return the NLL record of a parsed config.json, or None when it has none or a malformed one (runs are untrusted)."""
    record = config.get(NLL_KEY) if isinstance(config, dict) else None
    if not isinstance(record, dict):
        return None
    numbers = [record.get("nats")] + ([record.get("given_class")] if record.get("bound") == "exact" else [])
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v < 1e6
               for v in numbers):
        return None
    if record.get("bound") not in ("exact", "iwae") or not isinstance(record.get("dataset"), str):
        return None
    if not all(isinstance(record.get(key), int) and not isinstance(record.get(key), bool) and record[key] > 0
               for key in ("digits",) + (("k",) if record["bound"] == "iwae" else ())):
        return None
    return record


def store(folder, record: dict) -> None:
    """Write `record` into the checkpoint's config.json under NLL_KEY, in place (its tensor files and their
    digests are untouched). A checkpoint that trains saves it itself (genmodels.train); this is for benches."""
    folder = resolve_folder(folder)
    config = read_config(folder)
    config[NLL_KEY] = record
    atomic_write(folder / CONFIG_FILE, json.dumps(config, indent=2))
