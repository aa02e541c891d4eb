"""The precision of float32 matrix products during training steps on the CPU.

On CPUs with bf16 matrix units (Intel AMX), oneDNN can run float32 products on bfloat16 inputs
with float32 accumulation: the CPU counterpart of TF32 on GPUs. For the digit VAE it runs the big
products about twice as fast in isolation and makes a training epoch 2-14% shorter, with the same
validation loss after the full 500-epoch recipe (BENCHMARKS.md, "Training speed"). Only training steps use it: validation,
checkpoint analysis and the app's decoding stay in exact float32.
"""

from contextlib import contextmanager

import torch

MATMUL_PRECISIONS = ("auto", "fp32", "bf16")


def cpu_has_bf16_matrix_units() -> bool:
    """Return True when this CPU multiplies bf16 matrices natively (AMX tiles)."""
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)  # absent from some torch builds
    return bool(probe and probe() and torch.backends.mkldnn.is_available())


def resolve(precision: str, device: torch.device) -> str:
    """Return "fp32" or "bf16" for a TrainConfig.matmul_precision on `device`; raise ValueError if impossible.

    "auto" picks bf16 only on a CPU with native bf16 matrix units, where it is much faster.
    """
    if precision not in MATMUL_PRECISIONS:
        raise ValueError(f"matmul_precision must be one of {MATMUL_PRECISIONS}, got {precision!r}.")
    on_cpu = torch.device(device).type == "cpu"
    if precision == "auto":
        return "bf16" if on_cpu and cpu_has_bf16_matrix_units() else "fp32"
    if precision == "bf16" and not (on_cpu and cpu_has_bf16_matrix_units()):
        raise ValueError("bf16 matrix products need a CPU with bf16 matrix units (Intel AMX); "
                         "this device has none, so use matmul_precision 'fp32' or 'auto'.")
    return precision


@contextmanager
def matmul_precision(precision: str):
    """Run the enclosed float32 CPU matrix products at `precision` ("fp32" or "bf16"), then restore the setting.

    The setting is process-wide, so products run by other threads meanwhile use it too.
    """
    flag = torch.backends.mkldnn.matmul
    previous = flag.fp32_precision
    flag.fp32_precision = "bf16" if precision == "bf16" else "ieee"
    try:
        yield
    finally:
        flag.fp32_precision = previous
