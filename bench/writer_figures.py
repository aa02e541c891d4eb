"""The RowWriter's figures: exact NLL against the VAE's IWAE bound, class agreement of its samples, speed.

    .venv/bin/python bench/writer_figures.py [--writer checkpoints/writer-mnist] [--k 1000] [--store]

All figures use the 500 mnist-5k validation digits, binarized once with a fixed seed
(genmodels.likelihood: each pixel is on with probability equal to its grey level). Both models are
judged on the same binary digits, by the measurement the trainer stores with a checkpoint:
- writer: the exact -log p(x) in nats per image, without a class and given the true class;
- VAE (checkpoints/vae-mnist): the IWAE k=1000 lower bound on log p(x), so its NLL is at most the figure shown;
  with --store both records are written into the checkpoints' config.json (genmodels.likelihood.NLL_KEY,
  tensor files and their digests untouched), where the Write tab reads them;
- class agreement: 100 samples per class at temperature 1, classified by checkpoints/rnn-mnist
  (the reader's accuracy on the binarized validation digits is shown as a ceiling for the judge);
- time to write one digit (batch of 1) and a batch of 16: median wall time over repeats, one CPU thread.
"""

import argparse
import shlex
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from genmodels import VAE, RowRNN, RowWriter, likelihood  # noqa: E402
from genmodels.data import load_dataset  # noqa: E402


STORED = "; both NLL records stored in the checkpoints' config.json"


def median_ms(fn, repeats: int) -> float:
    """Return the median wall time of fn() in milliseconds over `repeats` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writer", default="checkpoints/writer-mnist", help="RowWriter checkpoint folder")
    parser.add_argument("--vae", default="checkpoints/vae-mnist", help="VAE checkpoint folder")
    parser.add_argument("--reader", default="checkpoints/rnn-mnist", help="RowRNN checkpoint that judges the samples")
    parser.add_argument("--k", type=int, default=likelihood.IWAE_K, help="importance samples of the VAE's IWAE bound")
    parser.add_argument("--per-class", type=int, default=100, help="samples per class for the agreement figure")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature of the agreement figure")
    parser.add_argument("--sample-seed", type=int, default=0, help="seed of the agreement figure's samples")
    parser.add_argument("--repeats", type=int, default=21, help="timed repeats per speed figure")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--store", action="store_true",
                        help="write the two NLL records into the writer's and the VAE's config.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    command = "python bench/writer_figures.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))

    data = load_dataset("mnist-5k")
    x = likelihood.binarized_validation(data)
    y = data.val_y
    writer = RowWriter.from_pretrained(args.writer, device="cpu")
    vae = VAE.from_pretrained(args.vae, device="cpu")
    reader = RowRNN.from_pretrained(args.reader, device="cpu")

    rows = []
    written, bounded = likelihood.measure(writer, data), likelihood.measure(vae, data, k=args.k)
    if args.store:
        likelihood.store(args.writer, written)
        likelihood.store(args.vae, bounded)
    uncond, cond, bound, iwae_seconds = written["nats"], written["given_class"], bounded["nats"], bounded["seconds"]
    with torch.no_grad():
        ceiling = (reader.predict_proba(x).argmax(1) == y).float().mean().item()
    rows.append(("writer NLL, no class", f"**{uncond:.2f}** nats/image (exact)"))
    rows.append(("writer NLL, given the true class", f"**{cond:.2f}** nats/image (exact)"))
    rows.append((f"VAE (`{args.vae}`) IWAE k={args.k}", f"NLL ≤ **{bound:.2f}** nats/image ({iwae_seconds:.0f} s)"))
    rows.append(("writer minus VAE bound (no class)", f"{uncond - bound:+.2f} nats/image"))

    labels = torch.arange(10).repeat_interleave(args.per_class)
    started = time.perf_counter()
    samples = writer.sample(len(labels), label=labels, temperature=args.temperature,
                            generator=torch.Generator().manual_seed(args.sample_seed))
    sample_seconds = time.perf_counter() - started
    predicted = reader.predict_proba(samples).argmax(1)
    agree = (predicted == labels).float()
    per_class = agree.reshape(10, args.per_class).mean(1)
    rows.append((f"class agreement, {len(labels)} samples at T={args.temperature:g}",
                 f"**{agree.mean().item() * 100:.1f}%** (worst class {per_class.argmin().item()}: "
                 f"{per_class.min().item() * 100:.0f}%; {sample_seconds:.1f} s to write them)"))
    rows.append(("reader accuracy on the binarized validation digits (judge's ceiling)", f"{ceiling * 100:.1f}%"))
    ink = samples.mean().item(), x.mean().item()
    rows.append(("ink: share of pixels on, samples vs validation", f"{ink[0]:.3f} vs {ink[1]:.3f}"))

    generator = torch.Generator().manual_seed(2)
    one = median_ms(lambda: writer.sample(1, label=3, generator=generator), args.repeats)
    sixteen = median_ms(lambda: writer.sample(16, label=3, generator=generator), args.repeats)
    rows.append((f"time to write 1 digit (median of {args.repeats}, {args.threads} thread)", f"**{one:.0f} ms**"))
    rows.append((f"time to write 16 digits (median of {args.repeats})", f"{sixteen:.0f} ms"))

    c = writer.config
    print(f"`{command.strip()}`\n")
    print(f"RowWriter `{args.writer}`: GRU {c.hidden_size} x {c.num_layers} layer(s), MADE head {c.head_size}, "
          f"{sum(p.numel() for p in writer.parameters()):,} weights; {len(x)} mnist-5k validation digits "
          f"binarized with seed {likelihood.BINARIZE_SEED}"
          f"{STORED if args.store else ''}.\n")
    print("| figure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
