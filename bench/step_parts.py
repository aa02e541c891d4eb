"""Micro-timings behind the training step's design choices (genmodels/vae_step.py, data.py, precision.py).

    .venv/bin/python bench/step_parts.py [--repeats 7]

Each pair is timed interleaved on the shapes of a digit-VAE step (batch 128, 784-400-20) and
reported as the best of `repeats` runs of many calls, in microseconds per call.
"""

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from genmodels import precision  # noqa: E402


def per_call_us(fn, calls: int = 300) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - started) / calls * 1e6


def in_precision(chosen: str, fn):
    def run():
        with precision.matmul_precision(chosen):
            return fn()
    return run


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    g = torch.Generator().manual_seed(0)
    grad, activation = torch.randn(128, 400, generator=g), torch.randn(128, 400, generator=g).relu_()
    images = torch.randint(0, 256, (4500, 28, 28), dtype=torch.uint8, generator=g)
    index = torch.randperm(4500, generator=g)[:128]
    x, w1 = torch.rand(128, 784, generator=g), torch.randn(400, 784, generator=g)
    grad_out, h = torch.randn(128, 784, generator=g), torch.randn(128, 400, generator=g)
    pairs = {
        "ReLU backward, 128x400": {
            "boolean mask + masked_fill_": lambda: grad.clone().masked_fill_(activation <= 0, 0.0),
            "threshold_backward": lambda: torch.ops.aten.threshold_backward(grad, activation, 0)},
        "batch of 128 from 4,500 uint8 images": {
            "x[idx]": lambda: images[index],
            "x.index_select(0, idx)": lambda: images.index_select(0, index)},
    }
    if precision.cpu_has_bf16_matrix_units():
        pairs["128x784 @ 784x400 (fc1 forward)"] = {
            "float32": in_precision("fp32", lambda: x @ w1.T), "bf16 products": in_precision("bf16", lambda: x @ w1.T)}
        pairs["784x128 @ 128x400 (fc4 weight gradient)"] = {
            "float32": in_precision("fp32", lambda: grad_out.T @ h),
            "bf16 products": in_precision("bf16", lambda: grad_out.T @ h)}
    print(f"microseconds per call, best of {args.repeats} interleaved runs, torch threads {torch.get_num_threads()}")
    for title, variants in pairs.items():
        for fn in variants.values():
            fn()  # warm-up
        best = dict.fromkeys(variants, float("inf"))
        for _ in range(args.repeats):
            for name, fn in variants.items():
                best[name] = min(best[name], per_call_us(fn))
        print(f"  {title}: " + ", ".join(f"{name} {us:.0f} us" for name, us in best.items()))
    if not precision.cpu_has_bf16_matrix_units():
        print("  (no bf16 matrix units on this CPU: the product lines are skipped)")


if __name__ == "__main__":
    main()
