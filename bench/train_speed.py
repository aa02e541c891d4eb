"""Training speed: one VAE epoch with our in-memory batches vs the DataLoader + ToTensor way.

    .venv/bin/python bench/train_speed.py [--repeats 9] [--threads N]

Same 4,500 mnist-5k images, same model (784-400-20), batch 128, Adam 1e-3, measured
interleaved in one run (these machines are noisy) and reported as medians. "ours" is what
`Trainer.train_epoch` does (in-memory uint8 batches, fused Adam, autograd). Two lines time each
side's optimisation steps alone on pre-made float batches (so the data paths' own cost shows),
and the last times the bare matrix products (the arithmetic bound).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.reference_vae import ReferenceVAE, reference_loader, reference_loss, train_reference_epoch  # noqa: E402
from genmodels import VAE  # noqa: E402
from genmodels.data import load_dataset, to_float  # noqa: E402
from genmodels.train import Trainer, TrainConfig  # noqa: E402


def time_ours(data) -> float:
    trainer = Trainer(VAE(), TrainConfig(batch_size=128, device="cpu"), data)
    started = time.perf_counter()
    trainer.train_epoch(0, lambda: False)
    return time.perf_counter() - started


def time_steps_only(data) -> float:
    """Our default step (forward, backward, optimizer) on batches prepared beforehand: the floor for our loop."""
    trainer = Trainer(VAE(), TrainConfig(batch_size=128, device="cpu"), data)
    batches = list(to_float(data.train_x).split(128))
    started = time.perf_counter()
    for xb in batches:
        loss = trainer.model.loss(xb)["loss"]
        trainer.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        trainer.optimizer.step()
    return time.perf_counter() - started


def time_reference(data) -> float:
    model = ReferenceVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = reference_loader(data.train_x, data.train_y)
    started = time.perf_counter()
    train_reference_epoch(model, optimizer, loader)
    return time.perf_counter() - started


def time_reference_steps_only(data) -> float:
    """The reference's own model, loss and Adam on batches prepared beforehand: what its data path adds is
    the reference time minus this."""
    model = ReferenceVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = list(to_float(data.train_x).split(128))
    started = time.perf_counter()
    for xb in batches:
        optimizer.zero_grad()
        recon, mu, logvar = model(xb)
        reference_loss(recon, xb, mu, logvar).backward()
        optimizer.step()
    return time.perf_counter() - started


def time_matrix_products(data) -> float:
    """The five 128x784x400-sized float32 matrix products of each step alone (forward fc1, fc4; backward
    fc4 input and weight, fc1 weight), for every batch of an epoch: the arithmetic bound."""
    x = to_float(data.train_x[:128]).reshape(128, 784)
    w1, w4, h = torch.randn(400, 784), torch.randn(784, 400), torch.randn(128, 400)
    steps = (len(data.train_x) + 127) // 128
    started = time.perf_counter()
    for _ in range(steps):
        a = x @ w1.T
        out = h @ w4.T
        _ = out.T @ h, out @ w4, a.T @ x
    return time.perf_counter() - started


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_dataset("mnist-5k")
    timers = {"ours (Trainer.train_epoch)": time_ours,
              "reference (DataLoader + PIL + ToTensor)": time_reference,
              "floor (our optimisation steps only)": time_steps_only,
              "reference steps only (no DataLoader)": time_reference_steps_only,
              "bound (the big float32 matrix products only)": time_matrix_products}
    for fn in timers.values():  # warm-up: allocator, kernels, first PIL import
        fn(data)
    times = {name: [] for name in timers}
    for _ in range(args.repeats):
        for name, fn in timers.items():
            times[name].append(fn(data))
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(f"one epoch, 4,500 images, batch 128, torch threads {torch.get_num_threads()}, "
          f"median of {args.repeats} interleaved runs:")
    for name, value in medians.items():
        print(f"  {name:50s} {value * 1000:8.1f} ms  (min {min(times[name]) * 1000:.1f} ms)")
    ours, ref, floor, ref_steps, bound = medians.values()
    print(f"ours / reference = {ours / ref:.3f} (target <= 0.333); the reference takes {ref / ours:.1f}x as long")
    print(f"ours / floor = {ours / floor:.2f} (data handling costs {(ours - floor) * 1000:.1f} ms per epoch)")
    print(f"ours / float32 matrix-product bound = {ours / bound:.2f}")
    print(f"the reference's DataLoader + PIL + ToTensor path costs {(ref - ref_steps) * 1000:.1f} ms per epoch "
          f"({(ref - ref_steps) / len(data.train_x) * 1e6:.0f} us per image)")


if __name__ == "__main__":
    main()
