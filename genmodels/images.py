"""Checking and reshaping image batches shared by both models."""

import torch

from i18n import Sentence

IMAGE_SIDE = 28  # the default side of a model's square images (MNIST's); each model config may set its own
IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE


def as_flat_batch(x: torch.Tensor, side: int = IMAGE_SIDE) -> torch.Tensor:
    """Return `x` as an (N, side*side) float tensor; accepts (N,1,side,side), (N,side,side) or (N,side*side) in [0,1]."""
    if not isinstance(x, torch.Tensor):
        raise Sentence("images.not_a_tensor", kind=type(x).__name__)
    shape = tuple(x.shape)
    valid = (
        (x.dim() == 4 and shape[1:] == (1, side, side))
        or (x.dim() == 3 and shape[1:] == (side, side))
        or (x.dim() == 2 and shape[1] == side * side)
    )
    if not valid:
        raise Sentence("images.shape", side=side, pixels=side * side, shape=str(shape))
    if not x.is_floating_point():
        raise Sentence("images.not_float", dtype=str(x.dtype))
    if x.numel():
        low, high = torch.aminmax(x)  # one pass: this check runs on every training batch
        if low < -1e-3 or high > 1 + 1e-3:
            raise Sentence("images.range", low=f"{low.item():.3g}", high=f"{high.item():.3g}")
    return x.reshape(shape[0], side * side)


def as_row_sequence(x: torch.Tensor, side: int = IMAGE_SIDE) -> torch.Tensor:
    """Return `x` as (N, side, side): `side` time steps (rows) of `side` pixels each."""
    return as_flat_batch(x, side).reshape(-1, side, side)


def default_device() -> torch.device:
    """Return CUDA when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(device=None) -> torch.device:
    """Return `device` as a torch.device, choosing the default when None or 'auto'."""
    if device is None or device == "auto":
        return default_device()
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise Sentence("images.no_cuda")
    return device
