"""Accuracy of the shipped digit RNN on synthetic phone photos, against the same digits clean, now and before.

    .venv/bin/python bench/photo_accuracy.py [--n 500] [--seed 0] [--conditions paper_edge,all]
                                             [--split val] [--before 83c1645,241f1af] [--checkpoint DIR]
                                             [--failures DIR]

Every digit of the chosen mnist-5k split (--split val: the 500 validation digits, 50 per class, which
the reader was not trained on; --split train: its training digits; --n takes the first n in an order
that keeps the classes balanced) is rendered once per condition by bench.photos (photo k of
condition c is seeded with (seed, c, k)), prepared by genmodels.preprocess.prepare_digit_with_notes and
read by checkpoints/rnn-mnist. The same photos also go through the preprocessing of each git revision
in --before (by default 83c1645, the last before the photo work, and 241f1af, the photo work before
it learnt paper on a desk; "" leaves them out), each loaded from `git show` into a temporary module,
so all columns come from one run on the same pixels.

Rows: the clean 28x28 digits read directly; the same digits passed through the preprocessing as arrays;
the clean digits turned by the angles of their rotated_jpeg photos and read directly (what rotation
alone costs the RNN); the clean digits redrawn as one pen line along their centre line at MNIST's median
stroke width and read directly (what the pen conditions' redrawing alone costs); then each photo
condition, the pen conditions also against the traced digits ("vs traced"). Columns: accuracy (a refused
input counts as misread), its difference from the clean digits read directly (percentage points), the
share refused as blank or unusable, the share that came back with a note, the mean time to render and to
prepare one photo (milliseconds, one process), then accuracy, its difference and refusals with each
--before preprocessing. --failures DIR saves a contact sheet of each condition's misreads with the
current preprocessing (DIR/<condition>.png: the photo around the digit, what the model saw,
label>reading).
"""

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.photos import CONDITIONS, PEN_CONDITIONS, photo_settings, render_with_settings, traced  # noqa: E402
from bench.real_digits import contact_sheet, reading  # noqa: E402
from genmodels import RowRNN  # noqa: E402
from genmodels.data import load_dataset  # noqa: E402
from genmodels.preprocess import MNIST_SIDE, PreparedDigit, prepare_digit_with_notes  # noqa: E402

CHECKPOINT = ROOT / "checkpoints" / "rnn-mnist"
# genmodels/preprocess.py before it learnt to read phone photos, and before it learnt paper on a desk
BEFORE = "83c1645,241f1af"
REFUSED = torch.zeros(1, MNIST_SIDE, MNIST_SIDE)  # what a refused input is scored as: an empty field


def balanced_order(labels: torch.Tensor) -> np.ndarray:
    """Return indices ordered so that every prefix holds the classes in near-equal numbers."""
    labels = labels.numpy()
    rank = np.empty(len(labels), np.int64)
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        rank[where] = np.arange(len(where))
    return np.lexsort((labels, rank))


def readings(rnn: RowRNN, digits: list[torch.Tensor], refused=None) -> torch.Tensor:
    """Return what the RNN reads in each prepared digit (each (1,28,28)); -1 for a refused one."""
    with torch.no_grad():
        predicted = rnn.predict_proba(torch.stack(digits)).argmax(1).cpu()
    if refused is not None:
        predicted[torch.as_tensor(refused)] = -1
    return predicted


def accuracy(rnn: RowRNN, digits: list[torch.Tensor], labels: torch.Tensor, refused=None) -> float:
    """Return the fraction of prepared digits (each (1,28,28)) that the RNN reads as their label; refused ones are wrong."""
    return (readings(rnn, digits, refused) == labels).float().mean().item()


def around_digit(photo: Image.Image, settings) -> Image.Image:
    """Return the part of `photo` around the digit's field (to look at: a thin line vanishes in a whole-photo thumbnail)."""
    x, y = settings.centre
    half = 0.75 * settings.digit_side
    return photo.crop((round(x - half), round(y - half), round(x + half), round(y + half)))


def load_before(rev: str):
    """Return the prepare_digit_with_notes-like function of genmodels/preprocess.py at git revision `rev`."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:genmodels/preprocess.py"],
                            capture_output=True, text=True)
    if source.returncode != 0:
        raise SystemExit(f"git revision {rev!r} of genmodels/preprocess.py is not in this clone "
                         f"(a shallow clone?); pass --before '' to leave that column out.")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"preprocess_{rev}.py"
        path.write_text(source.stdout)
        spec = importlib.util.spec_from_file_location(f"preprocess_{rev}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    if hasattr(module, "prepare_digit_with_notes"):
        return module.prepare_digit_with_notes
    return lambda image: PreparedDigit(module.prepare_digit(image))


def prepared_or_refused(prepare, image) -> tuple[PreparedDigit, bool]:
    """Return (the prepared digit, False), or (an empty field, True) when `prepare` refuses the image."""
    try:
        return prepare(image), False
    except ValueError:
        return PreparedDigit(REFUSED), True


def turned_like_photos(images: np.ndarray, seed: int) -> list[torch.Tensor]:
    """Return the clean digits (1,28,28) in [0,1], each turned by the angle its rotated_jpeg photo gets (degrees)."""
    index = CONDITIONS.index("rotated_jpeg")
    turned = []
    for k, image in enumerate(images):
        angle = photo_settings("rotated_jpeg", np.random.default_rng([seed, index, k])).angle
        pixels = np.asarray(Image.fromarray(image).rotate(angle, Image.Resampling.BILINEAR), dtype=np.float32)
        turned.append(torch.from_numpy(pixels / 255).unsqueeze(0))
    return turned


def run_condition(condition: str, index: int, images: np.ndarray, seed: int, prepares):
    """Return, for one condition, per function in `prepares`: (digits, refused flags, share with notes,
    prepare ms per photo); the render ms per photo; and each photo around its digit."""
    results = [([], [], 0, 0.0) for _ in prepares]
    render_s, views = 0.0, []
    for k, image in enumerate(images):
        start = time.perf_counter()
        rng = np.random.default_rng([seed, index, k])
        settings = photo_settings(condition, rng)
        photo = render_with_settings(image, settings, rng)
        render_s += time.perf_counter() - start
        views.append(around_digit(photo, settings))
        for i, prepare in enumerate(prepares):
            digits, refused, noted, prepare_s = results[i]
            start = time.perf_counter()
            prepared, was_refused = prepared_or_refused(prepare, photo)
            digits.append(prepared.image)
            refused.append(was_refused)
            results[i] = (digits, refused, noted + bool(prepared.notes), prepare_s + time.perf_counter() - start)
    n = len(images)
    return [(d, r, noted / n, s / n * 1000) for d, r, noted, s in results], render_s / n * 1000, views


def main(argv=None) -> None:
    """Print the accuracy table (percent, percentage points, milliseconds) for the chosen conditions."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500, help="digits to use (at most the split's size)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--conditions", default=",".join(CONDITIONS), help="comma-separated photo conditions")
    parser.add_argument("--split", choices=("val", "train"), default="val",
                        help="val: digits the reader was not trained on; train: its training digits")
    parser.add_argument("--before", default=BEFORE, help="comma-separated git revisions whose preprocessing to compare with")
    parser.add_argument("--checkpoint", type=Path, default=CHECKPOINT, help="the RowRNN to read with")
    parser.add_argument("--failures", type=Path, help="save each condition's misreads to DIR/<condition>.png")
    args = parser.parse_args(argv)
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    unknown = sorted(set(conditions) - set(CONDITIONS))
    if unknown:
        parser.error(f"unknown conditions {unknown}; choose from {', '.join(CONDITIONS)}")
    torch.set_num_threads(1)
    data = load_dataset("mnist-5k")
    x, y = (data.val_x, data.val_y) if args.split == "val" else (data.train_x, data.train_y)
    order = balanced_order(y)[:args.n]
    images, labels = x[order].numpy(), y[order]
    rnn = RowRNN.from_pretrained(args.checkpoint, device="cpu")
    revisions = [r.strip() for r in args.before.split(",") if r.strip()]
    prepares = [prepare_digit_with_notes] + [load_before(r) for r in revisions]

    print(f"{args.checkpoint.name} on {len(images)} mnist-5k {args.split} digits, photo seed {args.seed}"
          + (f"; then genmodels/preprocess.py at {', '.join(revisions)}" if revisions else ""))
    print(f"{'input':<22}{'accuracy':>9}{'vs clean':>10}{'refused':>9}{'with notes':>12}{'render ms':>11}"
          f"{'prepare ms':>12}" + "".join(f"{r[:8]:>9}{'vs clean':>10}{'refused':>9}" for r in revisions))
    clean = accuracy(rnn, [torch.from_numpy(a).float().div(255).unsqueeze(0) for a in images], labels)
    print(f"{'clean, read directly':<22}{clean * 100:>8.1f}%")

    def row(name, results, render_ms=None, reference=None):
        line = f"{name:<22}"
        for i, (digits, refused, noted, prepare_ms) in enumerate(results):
            score = accuracy(rnn, digits, labels, refused)
            line += f"{score * 100:>8.1f}%{(score - clean) * 100:>+8.1f}pp{np.mean(refused) * 100:>8.1f}%"
            if i == 0:
                render = "" if render_ms is None else f"{render_ms:.1f}"
                line += f"{noted * 100:>11.1f}%{render:>11}{prepare_ms:>12.1f}"
                against = "" if reference is None else f"   {(score - reference) * 100:+.1f}pp vs traced"
        print(line + against, flush=True)

    results = []
    for prepare in prepares:
        start = time.perf_counter()
        prepared = [prepared_or_refused(prepare, a) for a in images]
        ms = (time.perf_counter() - start) / len(images) * 1000
        results.append(([p.image for p, _ in prepared], [r for _, r in prepared],
                        sum(bool(p.notes) for p, _ in prepared) / len(images), ms))
    row("clean, prepared", results)
    # The RNN's own share of the rotated photos' loss: the clean digits turned the same way, read directly.
    score = accuracy(rnn, turned_like_photos(images, args.seed), labels)
    print(f"{'clean, turned 4-10deg':<22}{score * 100:>8.1f}%{(score - clean) * 100:>+8.1f}pp")
    # The pen conditions' own share: the clean digits redrawn along their centre line, with no photo.
    pen_lines = accuracy(rnn, [torch.from_numpy(traced(a)).unsqueeze(0) for a in images], labels)
    print(f"{'clean, traced as pens':<22}{pen_lines * 100:>8.1f}%{(pen_lines - clean) * 100:>+8.1f}pp")
    if args.failures:
        args.failures.mkdir(parents=True, exist_ok=True)
    for condition in conditions:
        results, render_ms, views = run_condition(condition, CONDITIONS.index(condition), images, args.seed, prepares)
        row("photo: " + condition, results, render_ms, pen_lines if condition in PEN_CONDITIONS else None)
        if args.failures:
            digits, refused = results[0][:2]
            predicted = readings(rnn, digits, refused)
            cells = [(views[k], digits[k], f"#{k} {int(labels[k])}>{reading(int(predicted[k]))}")
                     for k in range(len(images)) if predicted[k] != labels[k]]
            contact_sheet(cells, args.failures / f"{condition}.png", cell=128)


if __name__ == "__main__":
    main()
