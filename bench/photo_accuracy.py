"""Accuracy of the shipped digit RNN on synthetic phone photos of validation digits, against the same digits clean.

    .venv/bin/python bench/photo_accuracy.py [--n 500] [--seed 0] [--conditions gradient,all] [--checkpoint DIR]

Every digit of the mnist-5k validation split (500, 50 per class; --n takes the first n of them in an
order that keeps the classes balanced) is rendered once per condition by genmodels.photos (photo k of
condition c is seeded with (seed, c, k)), prepared by genmodels.preprocess.prepare_digit_with_notes and
read by checkpoints/rnn-mnist. Rows: the clean 28x28 digits read directly; the same digits passed through
the preprocessing as arrays; the clean digits turned by the angles of their rotated_jpeg photos and read
directly (what rotation alone costs the RNN); then each photo condition. Columns: accuracy, its
difference from the clean digits read directly (percentage points), the share of inputs that came back
with a note, and the mean time to render and to prepare one photo (milliseconds, one process).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from genmodels import RowRNN  # noqa: E402
from genmodels.data import load_dataset  # noqa: E402
from genmodels.photos import CONDITIONS, photo_settings, render_photo  # noqa: E402
from genmodels.preprocess import prepare_digit_with_notes  # noqa: E402

CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "rnn-mnist"


def balanced_order(labels: torch.Tensor) -> np.ndarray:
    """Return validation indices ordered so that every prefix holds the classes in near-equal numbers."""
    labels = labels.numpy()
    rank = np.empty(len(labels), np.int64)
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        rank[where] = np.arange(len(where))
    return np.lexsort((labels, rank))


def accuracy(rnn: RowRNN, digits: list[torch.Tensor], labels: torch.Tensor) -> float:
    """Return the fraction of prepared digits (each (1,28,28)) that the RNN reads as their label."""
    with torch.no_grad():
        predicted = rnn.predict_proba(torch.stack(digits)).argmax(1).cpu()
    return (predicted == labels).float().mean().item()


def turned_like_photos(images: np.ndarray, seed: int) -> list[torch.Tensor]:
    """Return the clean digits (1,28,28) in [0,1], each turned by the angle its rotated_jpeg photo gets (degrees)."""
    index = CONDITIONS.index("rotated_jpeg")
    turned = []
    for k, image in enumerate(images):
        angle = photo_settings("rotated_jpeg", np.random.default_rng([seed, index, k])).angle
        pixels = np.asarray(Image.fromarray(image).rotate(angle, Image.Resampling.BILINEAR), dtype=np.float32)
        turned.append(torch.from_numpy(pixels / 255).unsqueeze(0))
    return turned


def run_condition(condition: str, index: int, images: np.ndarray, seed: int, prepare=prepare_digit_with_notes):
    """Return (prepared digits, share with notes, render ms per photo, prepare ms per photo) for one condition."""
    digits, noted, render_s, prepare_s = [], 0, 0.0, 0.0
    for k, image in enumerate(images):
        start = time.perf_counter()
        photo = render_photo(image, condition, np.random.default_rng([seed, index, k]))
        middle = time.perf_counter()
        prepared = prepare(photo)
        prepare_s += time.perf_counter() - middle
        render_s += middle - start
        digits.append(prepared.image)
        noted += bool(prepared.notes)
    n = len(images)
    return digits, noted / n, render_s / n * 1000, prepare_s / n * 1000


def main(argv=None, prepare=prepare_digit_with_notes) -> None:
    """Print the accuracy table (percent, percentage points, milliseconds) for the chosen conditions."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500, help="validation digits to use (at most 500)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--conditions", default=",".join(CONDITIONS), help="comma-separated photo conditions")
    parser.add_argument("--checkpoint", type=Path, default=CHECKPOINT, help="the RowRNN to read with")
    args = parser.parse_args(argv)
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    unknown = sorted(set(conditions) - set(CONDITIONS))
    if unknown:
        parser.error(f"unknown conditions {unknown}; choose from {', '.join(CONDITIONS)}")
    torch.set_num_threads(1)
    data = load_dataset("mnist-5k")
    order = balanced_order(data.val_y)[:args.n]
    images, labels = data.val_x[order].numpy(), data.val_y[order]
    rnn = RowRNN.from_pretrained(args.checkpoint, device="cpu")

    print(f"{args.checkpoint.name} on {len(images)} mnist-5k validation digits, photo seed {args.seed}")
    print(f"{'input':<22}{'accuracy':>9}{'vs clean':>10}{'with notes':>12}{'render ms':>11}{'prepare ms':>12}")
    clean = accuracy(rnn, [torch.from_numpy(a).float().div(255).unsqueeze(0) for a in images], labels)
    print(f"{'clean, read directly':<22}{clean * 100:>8.1f}%{'':>10}")
    start = time.perf_counter()
    prepared = [prepare(a) for a in images]
    ms = (time.perf_counter() - start) / len(images) * 1000
    score = accuracy(rnn, [p.image for p in prepared], labels)
    noted = sum(bool(p.notes) for p in prepared) / len(images)
    print(f"{'clean, prepared':<22}{score * 100:>8.1f}%{(score - clean) * 100:>+8.1f}pp"
          f"{noted * 100:>11.1f}%{'':>11}{ms:>12.1f}")
    # The RNN's own share of the rotated photos' loss: the clean digits turned the same way, read directly.
    score = accuracy(rnn, turned_like_photos(images, args.seed), labels)
    print(f"{'clean, turned 4-10deg':<22}{score * 100:>8.1f}%{(score - clean) * 100:>+8.1f}pp")
    for condition in conditions:
        digits, noted, render_ms, prepare_ms = run_condition(condition, CONDITIONS.index(condition), images,
                                                             args.seed, prepare)
        score = accuracy(rnn, digits, labels)
        print(f"{'photo: ' + condition:<22}{score * 100:>8.1f}%{(score - clean) * 100:>+8.1f}pp"
              f"{noted * 100:>11.1f}%{render_ms:>11.1f}{prepare_ms:>12.1f}", flush=True)


if __name__ == "__main__":
    main()
