"""Accuracy on a folder of real labelled digit pictures, now and with a baseline's preparation and reader.

    .venv/bin/python bench/real_digits.py DIR [--baseline 834afe5] [--checkpoint DIR] [--failures out.png]

DIR holds pictures laid out as `<label>/<file>`; an optional DIR/manifest.csv (columns `file`, `label`,
and `source` or `repo`, and `kind`) names each picture's source and kind (photo, screen-drawn...);
without it every picture counts as source "DIR" and kind "unknown". Each picture is opened with
genmodels.preprocess.load_image_file, prepared by prepare_digit_with_notes and read by the RowRNN in
--checkpoint (default checkpoints/rnn-mnist). The same pictures also go through the baseline: the
genmodels/preprocess.py and checkpoints/rnn-mnist of git revision --baseline (by default 834afe5, the
preparation and reader before real handwriting was measured), each taken from `git show` into a
temporary folder, so both columns come from one run on the same files ("" leaves it out).

Rows: accuracy per kind, per source, all pictures, and the average over sources (each source counts
once, however many pictures it gave); a refused picture counts as misread and is counted apart.
--failures saves a contact sheet of the current misreads (picture, then what the model saw, label
and reading) as a PNG, to look at.
"""

import argparse
import csv
import importlib.util
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from genmodels import RowRNN  # noqa: E402
from genmodels.preprocess import MNIST_SIDE, load_image_file, prepare_digit_with_notes  # noqa: E402

CHECKPOINT = ROOT / "checkpoints" / "rnn-mnist"
BASELINE = "834afe5"  # the preparation and reader before real handwriting was measured
SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"}


@dataclass(frozen=True)
class Picture:
    """One labelled picture: its path, label, source and kind."""

    path: Path
    label: int
    source: str
    kind: str


def pictures(folder: Path) -> list[Picture]:
    """Return the labelled pictures under `folder` (`<label>/<file>`), with source and kind from manifest.csv."""
    manifest = {}
    if (folder / "manifest.csv").is_file():
        with open(folder / "manifest.csv", newline="") as f:
            for row in csv.DictReader(f):
                manifest[row["file"]] = (row.get("source") or row.get("repo") or folder.name,
                                         row.get("kind") or "unknown")
    found = []
    for label_dir in sorted(p for p in folder.iterdir() if p.is_dir() and p.name.isdigit()):
        for path in sorted(label_dir.iterdir()):
            if path.suffix.lower() in SUFFIXES:
                source, kind = manifest.get(f"{label_dir.name}/{path.name}", (folder.name, "unknown"))
                found.append(Picture(path, int(label_dir.name), source, kind))
    if not found:
        raise SystemExit(f"No pictures laid out as <label>/<file> under {folder}.")
    return found


def opened(pics: list[Picture]) -> list[Image.Image | None]:
    """Return each picture opened as an upload is (genmodels.preprocess.load_image_file); None where it is refused."""
    images = []
    for p in pics:
        try:
            images.append(load_image_file(p.path))
        except ValueError:
            images.append(None)
    return images


def git_file(rev: str, path: str) -> bytes:
    """Return the bytes of `path` at git revision `rev` of this clone."""
    done = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"{path} at git revision {rev!r} is not in this clone (a shallow clone?); "
                         f"pass --baseline '' to leave the baseline out.")
    return done.stdout


def baseline_at(rev: str, folder: Path):
    """Return (prepare function, RowRNN) of git revision `rev`: its preprocess.py and checkpoints/rnn-mnist."""
    source = folder / f"preprocess_{rev}.py"
    source.write_bytes(git_file(rev, "genmodels/preprocess.py"))
    spec = importlib.util.spec_from_file_location(f"preprocess_{rev}", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    checkpoint = folder / "rnn-mnist"
    checkpoint.mkdir()
    for name in ("config.json", "model.safetensors"):
        (checkpoint / name).write_bytes(git_file(rev, f"checkpoints/rnn-mnist/{name}"))
    return module.prepare_digit_with_notes, RowRNN.from_pretrained(checkpoint, device="cpu")


def read_all(images: list, prepare, rnn: RowRNN) -> tuple[np.ndarray, np.ndarray, list[torch.Tensor]]:
    """Return (predicted labels, refused flags, prepared digits) of the opened pictures (-1: refused)."""
    prepared, refused = [], []
    for image in images:
        try:
            prepared.append(prepare(image).image if image is not None else None)
        except ValueError:
            prepared.append(None)
        refused.append(prepared[-1] is None)
        if prepared[-1] is None:
            prepared[-1] = torch.zeros(1, MNIST_SIDE, MNIST_SIDE)
    with torch.no_grad():
        predicted = rnn.predict_proba(torch.stack(prepared)).argmax(1).numpy()
    refused = np.array(refused)
    predicted[refused] = -1
    return predicted, refused, prepared


def table(pics: list[Picture], columns: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[str]:
    """Return the table's lines: accuracy (percent) and refusals per kind, per source, overall, average of sources."""
    labels = np.array([p.label for p in pics])
    groups = defaultdict(list)
    for i, p in enumerate(pics):
        groups[("kind", p.kind)].append(i)
        groups[("source", p.source)].append(i)
    head = f"{'':<52}{'n':>6}" + "".join(f"{name:>16}{'refused':>9}" for name in columns)
    lines = [head]

    def line(name, index):
        text = f"{name[:52]:<52}{len(index):>6}"
        for predicted, refused in columns.values():
            text += f"{(predicted[index] == labels[index]).mean() * 100:>15.1f}%{int(refused[index].sum()):>9}"
        return text

    for group in ("kind", "source"):
        for (g, name), index in sorted(groups.items()):
            if g == group:
                lines.append(line(f"{group}: {name}", np.array(index)))
    lines.append(line("all pictures", np.arange(len(pics))))
    sources = [np.array(i) for (g, _), i in groups.items() if g == "source"]
    text = f"{'average over sources':<52}{len(sources):>6}"
    for predicted, _ in columns.values():
        text += f"{np.mean([(predicted[i] == labels[i]).mean() for i in sources]) * 100:>15.1f}%{'':>9}"
    lines.append(text)
    return lines


def contact_sheet(cells: list[tuple[Image.Image | None, torch.Tensor, str]], path: Path, columns: int = 8,
                  cell: int = 96) -> int:
    """Save `cells` (picture or None, what the model saw (1,28,28), caption) as a PNG grid of `cell`-pixel
    squares; return how many."""
    rows = max(1, -(-len(cells) // columns))
    sheet = Image.new("RGB", (columns * 2 * cell, rows * (cell + 14)), "white")
    draw = ImageDraw.Draw(sheet)
    for n, (image, seen, caption) in enumerate(cells):
        x, y = (n % columns) * 2 * cell, (n // columns) * (cell + 14)
        if image is not None:
            thumb = image.convert("RGB")
            thumb.thumbnail((cell, cell))
            sheet.paste(thumb, (x, y))
        seen = (seen[0].numpy() * 255).astype(np.uint8)
        sheet.paste(Image.fromarray(seen).resize((cell, cell), Image.Resampling.NEAREST), (x + cell, y))
        draw.text((x + 2, y + cell), caption, fill="red")
    sheet.save(path)
    return len(cells)


def reading(predicted: int) -> str:
    """Return how a reading is captioned: the digit read, or 'refused'."""
    return "refused" if predicted < 0 else str(predicted)


def main(argv=None) -> None:
    """Print the accuracy table (percent) of the current and the baseline preparation and reader."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="pictures laid out as <label>/<file>, optional manifest.csv")
    parser.add_argument("--baseline", default=BASELINE, help="git revision whose preparation and reader to compare "
                        "with ('' leaves it out)")
    parser.add_argument("--checkpoint", type=Path, default=CHECKPOINT, help="the RowRNN to read with")
    parser.add_argument("--failures", type=Path, help="save a contact sheet of the current misreads to this PNG")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder of labelled pictures (<label>/<file>)")
    torch.set_num_threads(1)
    pics = pictures(args.folder)
    images = opened(pics)
    columns = {}
    predicted, refused, prepared = read_all(images, prepare_digit_with_notes,
                                            RowRNN.from_pretrained(args.checkpoint, device="cpu"))
    columns["now"] = (predicted, refused)
    if args.baseline:
        with tempfile.TemporaryDirectory() as folder:
            prepare, rnn = baseline_at(args.baseline, Path(folder))
            columns[f"at {args.baseline}"] = read_all(images, prepare, rnn)[:2]
    print(f"{len(pics)} pictures in {args.folder}; now: {args.checkpoint.name} with genmodels/preprocess.py"
          + (f"; baseline: both at {args.baseline}" if args.baseline else ""))
    print("\n".join(table(pics, columns)))
    if args.failures:
        cells = [(images[i], prepared[i], f"{p.label}>{reading(predicted[i])} {p.kind[:6]}")
                 for i, p in enumerate(pics) if predicted[i] != p.label]
        count = contact_sheet(cells, args.failures)
        print(f"{count} misreads saved to {args.failures}")


if __name__ == "__main__":
    main()
