"""Checking and reshaping image batches shared by both models."""

import torch

IMAGE_SIDE = 28
IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE


def as_flat_batch(x: torch.Tensor) -> torch.Tensor:
    """Return `x` as an (N, 784) float tensor; accepts (N,1,28,28), (N,28,28) or (N,784) in [0,1]."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"Expected a torch.Tensor of images, got {type(x).__name__}.")
    shape = tuple(x.shape)
    valid = (
        (x.dim() == 4 and shape[1:] == (1, IMAGE_SIDE, IMAGE_SIDE))
        or (x.dim() == 3 and shape[1:] == (IMAGE_SIDE, IMAGE_SIDE))
        or (x.dim() == 2 and shape[1] == IMAGE_PIXELS)
    )
    if not valid:
        raise ValueError(
            f"Expected images shaped (N,1,28,28), (N,28,28) or (N,784); got {shape}."
        )
    if not x.is_floating_point():
        raise ValueError(f"Expected float pixels in [0,1], got dtype {x.dtype}.")
    if x.numel():
        low, high = torch.aminmax(x)  # one pass: this check runs on every training batch
        if low < -1e-3 or high > 1 + 1e-3:
            raise ValueError(f"Expected pixels in [0,1], got values from {low.item():.3g} to {high.item():.3g} "
                             "(divide 0-255 images by 255).")
    return x.reshape(shape[0], IMAGE_PIXELS)


def as_row_sequence(x: torch.Tensor) -> torch.Tensor:
    """Return `x` as (N, 28, 28): 28 time steps (rows) of 28 pixels each."""
    return as_flat_batch(x).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)


def default_device() -> torch.device:
    """Return CUDA when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(device=None) -> torch.device:
    """Return `device` as a torch.device, choosing the default when None or 'auto'."""
    if device is None or device == "auto":
        return default_device()
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA was requested but no CUDA device is available here; use --device cpu.")
    return device
