"""Digits set in type, mixed into the reader's training to teach it styles MNIST's writers rarely used.

Many people write a 1 with a flag and a foot and a 4 closed at the top, the way type sets them.
Among MNIST's 4,500 training digits these are rare, and a reader trained on them alone reads such
a 1 as a 2 or a 7 and such a 4 as a 9 (BENCHMARKS.md, "Real handwriting"). `printed_digits` sets
0-9 in the typefaces inside matplotlib's wheel (DejaVu, STIX, Computer Modern), so anyone who
installs requirements.txt renders the same pictures, and lays each one out as MNIST laid out its
digits (genmodels.preprocess.mnist_layout; only that step of an upload's preparation, so tuning how
photos are read never changes what the reader learns from). `mix_in` puts a share
of them into a training batch (TrainConfig.augment_printed), before the usual augmentation turns,
shifts, scales and re-inks them. Only for training: validation stays MNIST's own digits.
"""

import functools
import importlib.util
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torchvision.transforms import v2

import i18n

from .data import DIGIT_CLASSES, to_float
from .preprocess import mnist_layout

# Upright, italic and bold faces of three families. The monospaced faces are left out: their 0
# carries a dot, which nobody writes.
TYPEFACES = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf",
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf",
    "cmr10.ttf", "cmss10.ttf", "cmb10.ttf", "cmti10.ttf",
)
SET_SIZE = 96  # points: the glyph is drawn this large, then shrunk into MNIST's 20x20 box (anti-aliased)
PAGE_SIDE = 160  # pixels: the white page each glyph is set on
FOOT = 0.2  # the bottom fraction of a 1's height where type puts the serif it stands on
FLAG = 0.6  # a long flag, as many write a 1, is this fraction of the 1's height ...
FLAG_DROP = 0.8  # ... and falls this far for each unit it runs left (about 39 degrees)
BAR_REACHES = (0.25, 0.4)  # a 7's bar reaches these fractions of the 7's width either side of its stem
# Type is regular where hands are not: each printed digit is bent by an elastic distortion
# (Simard et al. 2003, their MNIST settings) so no two copies of a glyph are alike.
WOBBLE = v2.ElasticTransform(alpha=34.0, sigma=4.0)


def font_folder() -> Path:
    """Return the folder of the TrueType fonts bundled in the installed matplotlib (found without importing it)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise i18n.Sentence("genmodels.printed.no_fonts")
    return Path(spec.submodule_search_locations[0]) / "mpl-data" / "fonts" / "ttf"


@functools.cache
def printed_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """Return (images uint8 (N, 28, 28), labels int64 (N,)) laid out like MNIST: every digit in every face of
    TYPEFACES, and in each face the hand-written variants type lacks: a 1 without its foot, with its own flag or
    a long one, and a 7 with a short or a long bar."""
    folder = font_folder()
    images, labels = [], []
    for face in TYPEFACES:
        try:
            font = ImageFont.truetype(str(folder / face), SET_SIZE)
        except OSError:
            raise i18n.Sentence("genmodels.printed.no_fonts") from None
        pages = [(label, _set(digit, font)) for label, digit in enumerate(DIGIT_CLASSES)]
        footless = _without_foot(_set("1", font))
        pages += [(1, footless), (1, _with_long_flag(footless))]
        pages += [(7, _with_bar(_set("7", font), reach)) for reach in BAR_REACHES]
        for label, page in pages:
            ink = 1 - page.astype(np.float32) / 255
            rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
            laid_out = mnist_layout(ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
            images.append((laid_out.reshape(28, 28) * 255).round().to(torch.uint8))
            labels.append(label)
    return torch.stack(images), torch.tensor(labels, dtype=torch.int64)


def _set(digit: str, font: ImageFont.FreeTypeFont) -> np.ndarray:
    """Return a white page (uint8) with `digit` set black in its middle."""
    page = Image.new("L", (PAGE_SIDE, PAGE_SIDE), 255)
    ImageDraw.Draw(page).text((PAGE_SIDE / 2, PAGE_SIDE / 2), digit, font=font, fill=0, anchor="mm")
    return np.array(page)


def _glyph(page: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Return a set digit's ink mask, the rows it covers, its middle row and the columns its stem covers there."""
    ink = page < 128
    rows = np.flatnonzero(ink.any(axis=1))
    middle = (rows[0] + rows[-1]) // 2
    return ink, rows, middle, np.flatnonzero(ink[middle])


def _without_foot(page: np.ndarray) -> np.ndarray:
    """Return a 1's page with the serif it stands on cut away: in the foot's rows only the stem is kept,
    followed down along its slant (italic faces lean)."""
    ink, rows, half, stem = _glyph(page)
    height = rows[-1] - rows[0]
    foot = rows[-1] - round(FOOT * height)
    three_quarters = rows[0] + 3 * height // 4
    centre_half, centre_low = stem.mean(), np.flatnonzero(ink[three_quarters]).mean()
    slant = (centre_low - centre_half) / (three_quarters - half)  # columns per row
    reach = stem.size / 2 + 1
    page = page.copy()
    columns = np.arange(page.shape[1])
    for row in range(foot, rows[-1] + 1):
        centre = centre_half + slant * (row - half)
        page[row, np.abs(columns - centre) > reach] = 255
    return page


def _with_long_flag(page: np.ndarray) -> np.ndarray:
    """Return a 1's page with a long flag drawn down and left from the top of its stem, the stem's width."""
    ink, rows, _, stem = _glyph(page)
    top = (np.flatnonzero(ink[rows[0]]).mean(), rows[0])
    run = FLAG * (rows[-1] - rows[0]) / np.hypot(1, FLAG_DROP)
    out = Image.fromarray(page)
    ImageDraw.Draw(out).line([top, (top[0] - run, top[1] + FLAG_DROP * run)], fill=0, width=len(stem))
    return np.array(out)


def _with_bar(page: np.ndarray, reach: float) -> np.ndarray:
    """Return a 7's page with a bar across its stem halfway down, as much of Europe writes it, reaching
    `reach` of the 7's width either side of the stem."""
    ink, _, middle, stem = _glyph(page)
    cols = np.flatnonzero(ink.any(axis=0))
    reach, centre = reach * (cols[-1] - cols[0]), (stem[0] + stem[-1]) / 2
    out = Image.fromarray(page)
    ImageDraw.Draw(out).line([(centre - reach, middle), (centre + reach, middle)], fill=0, width=len(stem))
    return np.array(out)


def mix_in(images: torch.Tensor, labels: torch.Tensor, share: float,
           generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return a copy of the batch (float (B,1,28,28), labels (B,)) with each image, with probability `share`,
    replaced by one of the printed digits drawn at random (and wobbled), and its label with that digit's."""
    glyphs, glyph_labels = printed_digits()
    chosen = torch.rand(len(images), generator=generator) < share
    picks = torch.randint(len(glyphs), (int(chosen.sum()),), generator=generator)
    images, labels = images.clone(), labels.clone()
    chosen = chosen.to(images.device)
    if len(picks):
        images[chosen] = torch.stack([_wobbled(glyph, generator) for glyph in to_float(glyphs[picks])]).to(images.device)
        labels[chosen] = glyph_labels[picks].to(labels.device)
    return images, labels


def _wobbled(glyph: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Return `glyph` (1,28,28) elastically distorted, its random field drawn from `generator`."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(2**31, (1,), generator=generator)))
        return WOBBLE(glyph)
