"""Turn any user image (upload, sketch, photo) into an MNIST-style 28x28 digit in [0,1].

MNIST was made this way (LeCun et al., "The MNIST database"): grey levels, white ink on black,
the digit size-normalised into a 20x20 box keeping its aspect ratio (with anti-aliasing), then
placed in a 28x28 field so that its centre of mass sits at the centre. A model trained on MNIST
only understands digits prepared the same way, so uploads and drawings go through these steps.

A phone photo of a digit on paper needs more before that: the light is uneven, the corners are dark,
the paper is grey or tinted, and the digit may be small beside specks, ruled lines and the table.
So prepare_digit_with_notes
  1. fits the bare page's lighting (a smooth surface in x and y) to the paper alone, leaving ink, specks
     and the table out as outliers (and, when the paper's edge and the darker desk around it are in
     view, the desk from the start: it holds no ink), and measures ink against it: each pixel's darkening relative to the
     paper right there. Whether the marks are darker or lighter than the page tells which way ink goes;
  2. keeps the pixels that hold a good part of the ink's contrast and stand clear of the noise;
  3. joins them into connected marks, drops specks and anything running along the picture's edge (the
     table, the page's edge, a shadow), picks the largest, most central mark and joins the strokes
     near it (a 5's top bar, a 4 drawn in two strokes) but never a line straight across the picture (a ruled line);
  4. cuts the digit out of the full-size picture, makes its strokes as wide and as saturated as MNIST's
     (a ball-point line on a large page would otherwise shrink to a faint hairline, a marker fill the
     loops in) and fits it into MNIST's box as above.
A white card on a grey page (or a drawing pasted into a grey window) is found like paper on a desk:
the card is the paper. It adds a note when it had to guess: several similar marks, faint ink, a tiny digit.
"""

import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage
from skimage.filters import threshold_otsu

from i18n import Sentence, Text

MNIST_SIDE = 28
DIGIT_BOX = 20  # MNIST fits each digit into 20x20 before centring it in 28x28
MIN_SIDE = 8  # smaller than this there is nothing a person could have drawn
MAX_PIXELS = 25_000_000  # 25 megapixels: refuse larger images before decoding them (bomb guard)
MAX_BYTES = 10 * 1024 * 1024  # uploads larger than 10 MB are refused
WORK_SIDE = 1024  # larger images are shrunk to this longest side first: the digit ends up 20x20 anyway
MIN_CONTRAST = 0.15  # ink must differ from the background by this much (of full scale)
FAINTEST = 0.06  # ... or by this much where it stands out twice as far as the noise allows (faint pencil)
INK_THRESHOLD = 0.2  # a pixel counts as ink for cropping above this (after normalising)
ANALYSIS_SIDE = 256  # lighting, ink and marks are worked out on a copy this small: fast, and it averages noise
FIT_POINTS = 64  # the lighting surface is fitted on a grid about this many points across
SURFACE_DEGREE = 4  # a polynomial of this degree in x and y follows gradients and vignetting
FIT_ROUNDS = 6  # fit, drop the outliers (ink, specks, the table), fit again
SYMMETRIC_ROUNDS = 3  # ... dropping outliers on both sides, before deciding which side the ink is on
LOG_FLOOR = 0.02  # the lighting is fitted to log(grey + this): black stays finite
NOISE_SIGMAS = 4.0  # a pixel stands out of the paper when it is this many noise deviations darker
STROKE_FRACTION = 0.4  # a pixel belongs to a stroke when it holds this fraction of the ink's typical contrast
FAINT_CONTRAST = 0.3  # below this contrast (of the paper's brightness) the ink counts as faint
MIN_MARK = 0.0001  # marks smaller than this fraction of the picture are specks
MIN_MARK_PIXELS = 4
EDGE_CONTACT = 0.2  # a mark along this fraction of the picture's shorter side is the page's edge, not ink
NEAR = 0.25  # marks within this fraction of the digit's size are strokes of the same digit
STROKE_AREA = 0.03  # ... if they are at least this fraction of its area (smaller ones are specks)
FAINT_REACH = 1.5  # fainter ink joined to the digit may make it at most this much taller or wider
RULED_LINE = 0.06  # a mark across the whole picture, on average no thicker than this fraction of it: a ruled line
RIVAL = 0.3  # another mark this big (fraction of the digit's area) makes the choice a guess
MASK_MARGIN = 2  # the digit's marks are widened by this many analysis pixels to take in soft stroke edges
CROP_SIDE = 160  # the digit is cut out at most this size (then fitted into 20x20): enough to anti-alias well
NOISY = 0.02  # paper noise (contrast units) above which the crop is decided on a smoothed copy
BARE_SHARE = 0.1  # the crop's bare paper tells its noise when it is at least this share of the crop
MIN_DIGIT_SIDE = 16  # a digit smaller than this (pixels, after shrinking to WORK_SIDE) holds little detail
DESK_STEP = 0.35  # the paper is at least exp(this) times as bright as the desk around it (log units)
DESK_EDGE = 0.04  # ... and its edge is sharp: the log brightness changes this much per analysis pixel there
SHEET_AREA = 0.2  # a sheet of paper in view covers at least this fraction of the picture
SHEET_FILL = 0.85  # ... and this fraction of its bounding box (a rectangle turned by up to ~5 degrees)
BINOMIAL = np.array([0.25, 0.5, 0.25])  # the 3x3 blur's weights each way
STROKE_SIDE = 112  # strokes are measured and normalised on the digit at this size (4x MNIST's 28)
STROKE_INK = 0.4  # ... where a pixel belongs to a stroke above this ink level
# MNIST's strokes are 0.09-0.2 of the digit's longer side (5th-95th percentile of stroke_width on mnist-5k,
# median 0.12); narrower strokes are thickened to THIN_STROKE, wider ones thinned to HEAVY_STROKE.
THIN_STROKE = 0.11
HEAVY_STROKE = 0.2
CARD_STEP = 0.1  # a white card is at least exp(this) times as bright as the grey page around it (log units)
CARD_AREA = 0.01  # ... covers at least this fraction of the picture
CARD_AROUND = 0.05  # ... and leaves at least this fraction around it (less is a page's margin: the card is the page)
CARD_EDGE = 0.15  # ... and its edge is sharp: the log brightness changes by this fraction of the step per pixel
GREY_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 luma, as PIL's convert("L")


def load_image_file(source, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Return the first frame of an image file (path or bytes) as a decoded PIL image.

    Checks size in bytes and in pixels *before* decoding, so an empty, truncated, non-image,
    oversized or decompression-bomb file raises a ValueError with a sentence for the user.
    """
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise Sentence("preprocess.file_gone")
        size = path.stat().st_size
        if size > max_bytes:
            raise Sentence("preprocess.too_many_bytes", size=size / 2**20, limit=max_bytes / 2**20)
        data = path.read_bytes()
    else:
        raise Sentence("preprocess.not_a_file", kind=type(source).__name__)
    if not data:
        raise Sentence("preprocess.empty_file")
    if len(data) > max_bytes:
        raise Sentence("preprocess.too_many_bytes", size=len(data) / 2**20, limit=max_bytes / 2**20)
    with warnings.catch_warnings():
        # Our own pixel limit below is stricter than PIL's bomb warning; turn PIL's into an error too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # Lazy: reads the header only. Only the formats we accept (JPEG includes phones' MPO):
            # PIL would hand PostScript to Ghostscript, and reads dozens of formats no upload needs.
            image = Image.open(io.BytesIO(data), formats=("PNG", "JPEG", "WEBP", "GIF", "BMP"))
            _check_size(image.size, max_pixels)
            image.seek(0)
            if image.format == "JPEG":
                # Decode a big photo at 1/2, 1/4 or 1/8 scale straight away (far less memory and time).
                image.draft(image.mode, (WORK_SIDE, WORK_SIDE))
            image.load()
        except UnidentifiedImageError:
            raise Sentence("preprocess.not_an_image") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise Sentence("preprocess.bomb", limit=max_pixels / 1e6) from None
        except (OSError, SyntaxError, EOFError):  # after UnidentifiedImageError, which is an OSError
            raise Sentence("preprocess.damaged") from None
    try:
        image = ImageOps.exif_transpose(image)  # phone photos store their rotation in EXIF
    except Exception:  # a broken EXIF block should not cost the user their digit
        pass
    return image


def _check_size(size: tuple[int, int], max_pixels: int = MAX_PIXELS) -> None:
    width, height = size
    if width < MIN_SIDE or height < MIN_SIDE:
        raise Sentence("preprocess.too_small", width=width, height=height, side=MIN_SIDE)
    if width * height > max_pixels:
        raise Sentence("preprocess.too_many_pixels", width=width, height=height, limit=max_pixels / 1e6)


def _grey_and_alpha(image) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (grey, alpha) float32 arrays in [0,1], at most WORK_SIDE pixels on the longer side
    (alpha None when the image is fully opaque)."""
    if isinstance(image, Image.Image):
        _check_size(image.size)
        return _pil_grey_and_alpha(image)
    if isinstance(image, np.ndarray):
        grey, alpha = _array_grey_and_alpha(image)
        return _shrink_array(grey), (None if alpha is None else _shrink_array(alpha))
    raise Sentence("preprocess.not_a_picture", kind=type(image).__name__)


def _pil_grey_and_alpha(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    # Shrink while still 8-bit PIL pixels, before numpy sees them: a 16-megapixel RGBA upload
    # would otherwise take hundreds of MB as floats.
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        image = _shrink_image(image if image.mode in ("I", "F") else image.convert("I"))
        grey = np.asarray(image, dtype=np.float32)
        top = grey.max()
        return (grey / top if top > 0 else grey), None
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        rgba = np.asarray(_shrink_image(_as_mode(image, "RGBA")), dtype=np.float32) / 255
        return rgba[..., :3] @ GREY_WEIGHTS, rgba[..., 3]
    return np.asarray(_shrink_image(_as_mode(image, "L")), dtype=np.float32) / 255, None


def _array_grey_and_alpha(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise Sentence("preprocess.array_shape", shape=str(tuple(arr.shape)))
    _check_size((arr.shape[1], arr.shape[0]))
    if arr.dtype == bool:
        arr = arr.astype(np.float32)
    elif np.issubdtype(arr.dtype, np.integer):
        top = arr.max()
        arr = arr.astype(np.float32) / (255 if top <= 255 else float(top))
    elif np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32)
        if not np.isfinite(arr).all():
            raise Sentence("preprocess.array_not_finite")
        arr = arr / 255 if arr.max() > 1 else arr
    else:
        raise Sentence("preprocess.array_type", dtype=str(arr.dtype))
    arr = np.clip(arr, 0, 1)
    if arr.ndim == 2:
        return arr, None
    return arr[..., :3] @ GREY_WEIGHTS, (arr[..., 3] if arr.shape[2] == 4 else None)


def _as_mode(image: Image.Image, mode: str) -> Image.Image:
    """Return `image` in `mode`, without a full-size copy when it is already in it."""
    return image if image.mode == mode else image.convert(mode)


def _working_size(size: tuple[int, int]) -> tuple[int, int] | None:
    """Return the (width, height) to shrink to so the longer side is WORK_SIDE, or None if already small."""
    width, height = size
    if max(width, height) <= WORK_SIDE:
        return None
    scale = WORK_SIDE / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _shrink_image(image: Image.Image) -> Image.Image:
    """Return `image` (a new one; the caller's is untouched) with its longer side at most WORK_SIDE."""
    target = _working_size(image.size)
    if target is None:
        return image
    factor = max(image.size) // WORK_SIDE
    if factor >= 2:
        image = image.reduce(factor)  # fast box filter by a whole factor
    return image.resize(target, Image.Resampling.LANCZOS)


def _shrink_array(arr: np.ndarray) -> np.ndarray:
    """Return a 2-D float32 array with its longer side at most WORK_SIDE (area-averaged)."""
    target = _working_size((arr.shape[1], arr.shape[0]))
    if target is None:
        return arr
    return np.asarray(_shrink_image(Image.fromarray(np.ascontiguousarray(arr, dtype=np.float32), mode="F")))


def _flatten_alpha(grey: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Return grey with transparent areas filled by a background that contrasts with the ink."""
    if alpha is None or alpha.min() > 0.99:
        return grey
    opaque = alpha > 0.5
    if not opaque.any():
        raise Sentence("preprocess.transparent")
    # Dark ink on transparency goes onto white, light ink onto black (the next step normalises both).
    background = 1.0 if grey[opaque].mean() < 0.5 else 0.0
    return grey * alpha + background * (1 - alpha)


BLANK = "preprocess.blank"  # the catalogue key of the refusal of an image without a digit
# The notes: catalogue texts, rendered in the language of whoever is shown them (i18n.Text).
NOTE_SEVERAL = Text("preprocess.note_several")
NOTE_FAINT = Text("preprocess.note_faint")
NOTE_EDGE = Text("preprocess.note_edge")
NOTE_SMALL = Text("preprocess.note_small")


@dataclass(frozen=True)
class PreparedDigit:
    """A prepared digit (1, 28, 28) float32 in [0,1] and short sentences about anything the preprocessing doubted
    (i18n.Text: str() renders one in the current language)."""

    image: torch.Tensor
    notes: tuple[Text, ...] = ()


def prepare_digit(image) -> torch.Tensor:
    """Return an MNIST-style digit (1, 28, 28) float32 in [0,1] (white ink on black) from a PIL image or array.

    See prepare_digit_with_notes; raises ValueError for blank or unusable images.
    """
    return prepare_digit_with_notes(image).image


def prepare_digit_with_notes(image) -> PreparedDigit:
    """Return the MNIST-style digit (1, 28, 28) in [0,1] of a PIL image or array, with notes on any doubts.

    Flatten the page's lighting, separate ink from paper, keep the digit's marks (not specks, page edges
    or other marks), crop to them, fit into a 20x20 box keeping the aspect ratio, centre by centre of mass
    in 28x28. Raises ValueError for blank or unusable images.
    """
    grey, alpha = _grey_and_alpha(image)
    grey = _flatten_alpha(grey, alpha)
    small = _shrink_to(grey, ANALYSIS_SIDE)
    page = _fit_page(small)
    # A desk covering much of the picture can pull the first fit towards it, even so far that the paper
    # looks like a light mark on it; so look for paper on a desk whichever way that fit says ink goes.
    surroundings = _surroundings(small, paper_shown=not page.dark_ink)
    if surroundings is None:
        # A white card on a grey page or desk (or a drawing pasted into a grey window): the card is the paper.
        surroundings = _around_card(small, page)
    if surroundings is not None:  # the paper's lighting, fitted to the paper alone, not the desk around it
        on_paper = _fit_page(small, leave_out=surroundings)
        if on_paper.dark_ink:
            page = on_paper
        else:
            surroundings = None
    mask, notes = _find_digit(small, page, surroundings)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 < MIN_DIGIT_SIDE * max(small.shape) / max(grey.shape):
        notes.append(NOTE_SMALL)
    ink, strokes_contrast, noisy = _crop_digit(grey, page, mask, surroundings)
    if strokes_contrast < FAINT_CONTRAST:
        notes.append(NOTE_FAINT)
    return PreparedDigit(mnist_layout(_normalise_strokes(ink, noisy)), tuple(notes))


def mnist_layout(ink: np.ndarray) -> torch.Tensor:
    """Return `ink` (values in [0,1], cropped to the digit) laid out as MNIST laid out its digits: fitted into
    a 20x20 box with its aspect kept, then centred by its centre of mass in 28x28; (1, 28, 28) float32."""
    return torch.from_numpy(_centre_by_mass(_fit_into_box(ink, DIGIT_BOX), MNIST_SIDE)).float().unsqueeze(0)


def _find_digit(small: np.ndarray, page: "_Page", surroundings: np.ndarray | None) -> tuple[np.ndarray, list[Text]]:
    """Return (a boolean mask of the digit's strokes on the analysis image, notes); ValueError when blank.

    `surroundings` (or None) marks what lies beyond the paper's edge: it holds no ink.
    """
    background = page.background(*small.shape)
    # A 3x3 blur more than halves the noise while strokes, a few pixels wide here, stay: the edge of a
    # page in a dark corner then comes out as one mark instead of a spray of small ones.
    contrast = _smooth(page.contrast(small, background))
    residual = _smooth(small - background)
    if surroundings is not None:
        contrast[surroundings] = 0
        residual = residual[~surroundings]
    # The paper's noise, read from the side of the page's level that the ink never reaches: a thick
    # marker covering much of the picture would otherwise count as noise.
    paper_side = residual[residual >= 0] if page.dark_ink else residual[residual <= 0]
    noise = page.contrast_noise(background, _spread(paper_side))
    stands_out = contrast[contrast > np.maximum(NOISE_SIGMAS * noise, 0.05)]
    # The ink's contrast: what the darkest marks reach (ruled lines and shadows are fainter than ink).
    level = float(np.percentile(stands_out, 99)) if stands_out.size else 0.0
    floor = NOISE_SIGMAS * noise
    # A thin pencil line loses contrast when shrunk to the analysis size; on quiet paper it is kept
    # as long as it stands well clear of the noise.
    if level < MIN_CONTRAST and not (level >= FAINTEST and level >= 2 * float(np.median(floor))):
        raise Sentence(BLANK)
    marks = _find_marks(contrast > np.maximum(floor, STROKE_FRACTION * level))
    # Something dark along a good stretch of the picture's border is the table, the page's edge or a
    # shadow; noise may break it into pieces, so marks joined to it by fainter ink belong to it too.
    faint = _find_marks(contrast > np.maximum(floor / 2, STROKE_FRACTION / 2 * level))
    edge = _marks_mask([m for m in faint if m.border_pixels >= EDGE_CONTACT * min(small.shape)], small.shape)
    # A line straight across the whole picture (a ruled line, the page's edge) may break into pieces at
    # the strokes' level; at the fainter level it is whole.
    ruled = _marks_mask([m for m in faint if _ruled_line(m, small.shape)], small.shape)
    if marks:
        on_edge = set(np.unique(marks[0].labels[edge]).tolist())
        on_ruled = set(np.unique(marks[0].labels[ruled]).tolist())
        for m in marks:
            m.page_edge = m.index in on_edge
            m.ruled_line = m.index in on_ruled
    digit, notes = _choose_digit(marks, small.shape)
    if digit is None:
        raise Sentence(BLANK)
    mask = _marks_mask(digit, small.shape)
    # Where a thin or light stroke fades (pen pressure, a hairline shrunk), fainter ink still joins it
    # to the digit: take in the faint marks the digit is part of, unless they reach far past it (a
    # ruled line the digit crosses, the page's edge).
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    if faint:
        touched = set(np.unique(faint[0].labels[mask]).tolist())
        for m in faint:
            if (m.index in touched and not edge[m.top:m.bottom, m.left:m.right].any()
                    and m.bottom - m.top <= FAINT_REACH * height and m.right - m.left <= FAINT_REACH * width):
                mask |= m.mask()
    return mask, notes


def _shrink_to(grey: np.ndarray, side: int) -> np.ndarray:
    """Return `grey` area-averaged so its longer side is at most `side` pixels (float32)."""
    height, width = grey.shape
    if max(height, width) <= side:
        return grey
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(grey, mode="F").resize(size, Image.Resampling.BOX), dtype=np.float32)


def _normalised(n: int) -> np.ndarray:
    """Return the centres of n pixels in [-1, 1] coordinates (the same page point at any resolution)."""
    return ((np.arange(n, dtype=np.float64) + 0.5) / n * 2 - 1)


def _powers(degree: int) -> list[tuple[int, int]]:
    """Return the (x power, y power) pairs of a polynomial in x and y up to `degree`."""
    return [(i, total - i) for total in range(degree + 1) for i in range(total + 1)]


@dataclass(frozen=True)
class _Page:
    """The bare page: its lighting as a polynomial surface, and which way the ink goes."""

    coeffs: np.ndarray
    degree: int
    dark_ink: bool  # dark ink on light paper (else light ink on a dark ground: a screen, an inverted scan)

    def background(self, height: int, width: int, rows=slice(None), cols=slice(None)) -> np.ndarray:
        """Return the page's grey level without ink, (height, width) or the `rows` x `cols` part of it."""
        ys, xs = _normalised(height)[rows], _normalised(width)[cols]
        surface = np.zeros((len(ys), len(xs)))
        for (i, j), c in zip(_powers(self.degree), self.coeffs):
            surface += c * np.outer(ys ** j, xs ** i)
        return (np.exp(surface) - LOG_FLOOR).astype(np.float32)

    def contrast(self, grey: np.ndarray, background: np.ndarray) -> np.ndarray:
        """Return each pixel's ink, signed: its darkening relative to the paper there (light ink: its excess)."""
        if self.dark_ink:
            # Light falls on ink and paper alike, so dividing by the local paper level takes it out.
            return 1 - grey / np.maximum(background, 0.02)
        return grey - background

    def contrast_noise(self, background: np.ndarray, noise: float) -> np.ndarray:
        """Return grey-level noise (a standard deviation) in contrast units at each pixel: larger where it is dark."""
        if self.dark_ink:
            return noise / np.maximum(background, 0.02)
        return np.full_like(background, noise)


def _fit_page(grey: np.ndarray, leave_out: np.ndarray | None = None) -> _Page:
    """Return the _Page of a grey image in [0,1]: a smooth lighting surface fitted to the paper alone.

    Gradients and vignetting are smooth, so a low-degree polynomial in x and y follows them; ink,
    specks and the table do not fit it, so they are left out as outliers and the fit repeated.
    Pixels where `leave_out` (a boolean mask, or None) is True are left out from the start.
    """
    height, width = grey.shape
    step = max(1, round(max(height, width) / FIT_POINTS))  # a sparse grid is plenty for a smooth surface
    # Fit the logarithm of a lightly blurred copy: light multiplies the paper's (and the table's)
    # brightness, so in logs a shadow is an offset, as deep in a dark corner as in a bright one; the blur
    # lowers the noise, so the table stands out from the paper.
    values = np.log(_smooth(grey)[::step, ::step].astype(np.float64).ravel() + LOG_FLOOR)
    ys, xs = np.meshgrid(_normalised(height)[::step], _normalised(width)[::step], indexing="ij")
    if leave_out is not None:
        on_paper = ~leave_out[::step, ::step].ravel()
        values, ys, xs = values[on_paper], ys.ravel()[on_paper], xs.ravel()[on_paper]
    degree = SURFACE_DEGREE if values.size >= 30 * len(_powers(SURFACE_DEGREE)) else 0
    basis = np.stack([xs.ravel() ** i * ys.ravel() ** j for i, j in _powers(degree)], axis=1)
    coeffs = np.zeros(basis.shape[1])
    coeffs[0] = np.median(values)  # start from a flat page at the most common grey
    dark_ink = None
    for round_ in range(FIT_ROUNDS):
        residual = values - basis @ coeffs
        limit = max(NOISE_SIGMAS * _spread(residual), 0.05)
        keep = np.abs(residual) <= limit
        if round_ >= SYMMETRIC_ROUNDS:
            # Which way does the ink go? The way marks stand out of the page more: darker or lighter.
            dark_ink = _darker_marks(residual, limit)
            # Then drop pixels on the ink's side sooner: faint ink and the table's edge would otherwise
            # pull the surface towards them.
            keep &= (-residual if dark_ink else residual) <= limit / 2
        if keep.sum() < 2 * basis.shape[1]:
            break
        kept = basis[keep]
        coeffs = np.linalg.solve(kept.T @ kept, kept.T @ values[keep])  # least squares, normal equations
    residual = values - basis @ coeffs
    limit = max(NOISE_SIGMAS * _spread(residual), 0.05)
    return _Page(coeffs, degree, _darker_marks(residual, limit))


def _surroundings(grey: np.ndarray, paper_shown: bool = False) -> np.ndarray | None:
    """Return a boolean mask of what lies beyond the paper's edge (the desk) in a grey image in [0,1], or None.

    With `paper_shown`, the brighter class must also be one solid region (the sheet, ink and all) that
    fills its bounding box the way a slightly turned rectangle does: light strokes on a dark ground
    (a screen, an inverted scan) would otherwise look like paper on a desk.

    Paper photographed on a desk is brighter than the desk around it, with a sharp edge between them:
    the darker of the picture's two brightness classes (Otsu's split of its log brightness), where it
    runs along the picture's border and meets the brighter class at a sharp step all along. Dark corners of
    vignetting and the dark side of a lighting gradient fall off smoothly instead, and ink runs along
    the border only when the digit is cut off.
    """
    logs = np.log(_smooth(_smooth(grey)) + LOG_FLOOR)
    if logs.max() - logs.min() < DESK_STEP:  # an even picture: no desk, and no two classes to split
        return None
    dark = logs <= threshold_otsu(logs)
    if not dark.any() or dark.all() or logs[~dark].mean() - logs[dark].mean() < DESK_STEP:
        return None
    marks = [m for m in _find_marks(dark) if m.border_pixels >= EDGE_CONTACT * min(grey.shape)]
    if not marks or (paper_shown and not _a_sheet(~dark)):
        return None
    desk = _marks_mask(marks, grey.shape)
    # Where the desk meets the paper (the paper's side of the boundary, inside the picture).
    meets = _widen(desk, 1) & ~desk
    meets[[0, -1], :] = meets[:, [0, -1]] = False
    step_y, step_x = np.gradient(logs)
    # Sharp along nearly all its length: where a lighting gradient's dark side meets the bright side
    # only the ink that crosses the boundary is sharp.
    if not meets.any() or np.percentile(np.hypot(step_y, step_x)[meets], 25) < DESK_EDGE:
        return None
    # Widened a little: the paper's edge is blurred over a pixel or two, neither paper nor desk.
    return _widen(desk, MASK_MARGIN)


def _around_card(grey: np.ndarray, page: _Page) -> np.ndarray | None:
    """Return a boolean mask of what lies around a white card in a grey image in [0,1], or None when there is none.

    `page` is the lighting fitted to the picture's most common grey: here the grey page (or desk, or
    window) around the card, the card being an outlier. The card is the patch at least CARD_STEP
    brighter than that, taken with the ink on it (darker than the page) and its holes filled in, holding
    some of that ink: one solid patch (a rectangle, perhaps slightly turned: SHEET_FILL of its box), with a sharp
    edge all round. A lighting gradient's bright side fades out instead, and vignetting leaves a round patch.
    """
    logs = np.log(_smooth(_smooth(grey)) + LOG_FLOOR)
    lift = logs - np.log(page.background(*grey.shape) + LOG_FLOOR)
    brighter = lift > CARD_STEP
    if brighter.sum() < CARD_AREA * grey.size:
        return None
    darker = lift < -CARD_STEP
    patches = _find_marks(ndimage.binary_fill_holes(brighter | darker))
    card = max(patches, key=lambda m: m.area)
    box_area = (card.bottom - card.top) * (card.right - card.left)
    if not CARD_AREA * grey.size <= card.area <= (1 - CARD_AROUND) * grey.size or card.area < SHEET_FILL * box_area:
        return None
    around = ~card.mask()
    # A card holds ink darker than the page around it; a light digit on a dark ground (a screen) is no card,
    # and nor is a patch with nothing brighter than the page in it (a dark mark with its holes filled).
    if (darker & ~around).sum() < CARD_AREA * card.area or not (brighter & ~around).any():
        return None
    meets = _widen(around, 1) & ~around  # the card's side of its edge, inside the picture
    meets[[0, -1], :] = meets[:, [0, -1]] = False
    step_y, step_x = np.gradient(logs)
    step = float(np.median(lift[brighter & ~around]))
    if not meets.any() or np.percentile(np.hypot(step_y, step_x)[meets], 25) < step * CARD_EDGE:
        return None
    return _widen(around, MASK_MARGIN)  # the card's edge is blurred over a pixel or two


def _a_sheet(bright: np.ndarray) -> bool:
    """Return True when the largest bright mark, with the holes in it (ink) filled, is a solid sheet: at least
    SHEET_AREA of the picture and SHEET_FILL of its bounding box."""
    sheet = max(_find_marks(bright), key=lambda m: m.area)
    box = ~bright[sheet.top:sheet.bottom, sheet.left:sheet.right]
    holes = sum(m.area for m in _find_marks(box) if m.border_pixels == 0)
    area, box_area = sheet.area + holes, box.size
    return area >= SHEET_AREA * bright.size and area >= SHEET_FILL * box_area


def _widen(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Return a boolean mask grown by `pixels` in every direction (a square max filter)."""
    return ndimage.maximum_filter(mask, size=2 * pixels + 1, mode="constant", cval=False)


def _darker_marks(residual: np.ndarray, limit: float) -> bool:
    """Return True when what stands out of the page (beyond `limit`) is mostly darker than it, False if lighter."""
    return bool(np.clip(-residual - limit, 0, None).sum() > np.clip(residual - limit, 0, None).sum())


def _spread(values: np.ndarray) -> float:
    """Return a robust standard deviation of `values` around 0 (1.4826 x the median absolute value)."""
    return float(1.4826 * np.median(np.abs(values))) if values.size else 0.0


def _find_marks(mask: np.ndarray) -> list["_Mark"]:
    """Return the connected marks (8-connected) of a boolean mask."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if count == 0:
        return []
    index = np.arange(1, count + 1)
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    centres = ndimage.center_of_mass(mask, labels, index)
    # How many pixels of the picture's border each mark covers (a digit touching the edge: a few).
    border = np.concatenate([labels[0], labels[-1], labels[1:-1, 0], labels[1:-1, -1]])
    on_border = np.bincount(border, minlength=count + 1)[1:]
    return [_Mark(labels, i, int(a), box, centre, int(b))
            for i, a, box, centre, b in zip(index, areas, ndimage.find_objects(labels), centres, on_border)]


class _Mark:
    """One connected mark: its label in the labelled picture, and its area, box and centre in pixels."""

    def __init__(self, labels: np.ndarray, index: int, area: int, box: tuple[slice, slice],
                 centre: tuple[float, float], border_pixels: int):
        self.labels, self.index, self.area, self.border_pixels = labels, index, area, border_pixels
        self.top, self.bottom = box[0].start, box[0].stop
        self.left, self.right = box[1].start, box[1].stop
        self.centre_y, self.centre_x = centre[0] + 0.5, centre[1] + 0.5  # pixel centres, as the box's edges
        self.page_edge = False  # set when it turns out to be part of the page's edge, a shadow or the table
        self.ruled_line = False  # set when it is part of a line straight across the picture (never joined to a digit)

    def mask(self) -> np.ndarray:
        """Return a boolean mask (the labelled picture's shape) of this mark's pixels."""
        return self.labels == self.index


def _gap(box: tuple[int, int, int, int], mark: _Mark) -> int:
    """Return the distance in pixels between a (top, bottom, left, right) box and a mark's box (0 if they overlap)."""
    top, bottom, left, right = box
    return max(top - mark.bottom, mark.top - bottom, left - mark.right, mark.left - right, 0)


def _choose_digit(marks: list[_Mark], shape: tuple[int, int]) -> tuple[list[_Mark] | None, list[Text]]:
    """Return (the marks that make up the digit, notes): specks and page edges dropped, nearby strokes joined."""
    height, width = shape
    notes = []
    marks = [m for m in marks if m.area >= max(MIN_MARK_PIXELS, MIN_MARK * height * width)]
    candidates = [m for m in marks if not m.page_edge]
    if not candidates and marks:
        candidates = marks  # a drawing that runs along the canvas's edge, or only the table in view
        notes.append(NOTE_EDGE)
    if not candidates:
        return None, notes
    half_diagonal = np.hypot(height, width) / 2

    def score(m: _Mark) -> float:  # big and central wins; a mark in a corner counts half
        off_centre = np.hypot(m.centre_y - height / 2, m.centre_x - width / 2) / half_diagonal
        return m.area * (1 - 0.5 * off_centre)

    digit = [max(candidates, key=score)]
    box = (digit[0].top, digit[0].bottom, digit[0].left, digit[0].right)
    joined = True
    while joined:  # a 5's top bar or a 4 drawn in two strokes: join marks close to the digit
        joined = False
        area = sum(m.area for m in digit)
        reach = NEAR * max(box[1] - box[0], box[3] - box[2])
        for m in candidates:
            if (m not in digit and m.area >= STROKE_AREA * area and _gap(box, m) <= reach
                    and not m.ruled_line):
                digit.append(m)
                box = (min(box[0], m.top), max(box[1], m.bottom), min(box[2], m.left), max(box[3], m.right))
                joined = True
    area = sum(m.area for m in digit)
    if any(m not in digit and m.area >= RIVAL * area for m in candidates):
        notes.append(NOTE_SEVERAL)
    return digit, notes


def _ruled_line(mark: _Mark, shape: tuple[int, int]) -> bool:
    """Return True when `mark` runs straight across the whole picture, edge to edge: a ruled line or the page's
    edge beside the digit (a 0 on lined paper would otherwise be read with the line under it, as a 5)."""
    height, width = shape  # its mean thickness (area over length), whatever its slant
    across = mark.left == 0 and mark.right == width and mark.area <= RULED_LINE * width ** 2
    down = mark.top == 0 and mark.bottom == height and mark.area <= RULED_LINE * height ** 2
    return across or down


def _marks_mask(marks: list[_Mark], shape: tuple[int, int]) -> np.ndarray:
    """Return a boolean mask of the given marks' pixels."""
    if not marks:
        return np.zeros(shape, bool)
    return np.isin(marks[0].labels, [m.index for m in marks])


def _crop_digit(grey: np.ndarray, page: _Page, mask: np.ndarray,
                surroundings: np.ndarray | None = None) -> tuple[np.ndarray, float, bool]:
    """Return (the digit's ink about [0,1] cropped tight, its strokes' contrast, whether the paper is noisy)
    from the full-size image.

    The mask (found on the smaller analysis image) is widened a little to take in the strokes' soft
    edges; ink outside it (specks, other marks, the table) is left out, and so is the desk beyond
    the paper's edge (`surroundings`, on the analysis image, or None).
    """
    height, width = grey.shape
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    top, bottom = max(rows[0] - MASK_MARGIN, 0), min(rows[-1] + 1 + MASK_MARGIN, mask.shape[0])
    left, right = max(cols[0] - MASK_MARGIN, 0), min(cols[-1] + 1 + MASK_MARGIN, mask.shape[1])
    wide = _widen(mask[top:bottom, left:right], MASK_MARGIN)
    if surroundings is not None:
        wide &= ~surroundings[top:bottom, left:right]
    wide = Image.fromarray(wide.astype(np.uint8) * 255)
    scale_y, scale_x = height / mask.shape[0], width / mask.shape[1]
    y0, y1 = int(top * scale_y), min(height, int(np.ceil(bottom * scale_y)))
    x0, x1 = int(left * scale_x), min(width, int(np.ceil(right * scale_x)))
    wide = np.asarray(wide.resize((x1 - x0, y1 - y0), Image.Resampling.NEAREST), dtype=np.float32) / 255
    contrast = page.contrast(grey[y0:y1, x0:x1], page.background(height, width, slice(y0, y1), slice(x0, x1)))
    # Shrink a big crop now, averaging signed contrast: the paper's noise then averages away instead
    # of leaving a grey haze (clipping noise at zero first would keep only its bright half).
    contrast, wide = _shrink_to(contrast.astype(np.float32), CROP_SIDE), _shrink_to(wide, CROP_SIDE)
    ink = contrast * wide
    # The paper's noise, from the bare paper around the strokes; a marker's digit may leave too little
    # of it in the crop (a few pixels between strokes, soft ink edges), so then assume moderate noise.
    bare = wide == 0
    enough = bare.sum() >= BARE_SHARE * bare.size
    seen, noise = ink, (_spread(contrast[bare]) if enough else NOISY)
    noisy = noise > NOISY
    if noisy:  # decide how dark the strokes are and where they end on a less noisy copy
        seen = _smooth(ink)
        noise = _spread(_smooth(contrast)[bare])
    core = seen[seen > max(4 * noise, STROKE_FRACTION * seen.max())]
    peak = max(float(np.percentile(core, 95)) if core.size else float(seen.max()), 1e-6)
    clear = seen > peak * INK_THRESHOLD + 3 * noise
    rows, cols = np.flatnonzero(clear.any(axis=1)), np.flatnonzero(clear.any(axis=0))
    if rows.size == 0:
        raise Sentence(BLANK)
    # The strokes' cores become 1, as in MNIST.
    return np.minimum(ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] / peak, 1), peak, noisy


def _smooth(image: np.ndarray) -> np.ndarray:
    """Return `image` blurred by a 3x3 binomial kernel (1-2-1 each way), edges repeated."""
    for axis in (0, 1):
        image = ndimage.correlate1d(image, BINOMIAL, axis=axis, mode="nearest")
    return image


def stroke_width(ink: np.ndarray) -> float:
    """Return the typical stroke width of `ink` (in [0,1]) as a fraction of its bounding box's longer side.

    Twice the median distance-to-paper along the strokes' ridges (where the distance transform of
    the ink peaks), on a copy STROKE_SIDE pixels on its longer side; 0 when there is no ink.
    """
    depth = _depth(np.pad(_resized_to(ink, STROKE_SIDE), 1) > STROKE_INK)
    ridge = (depth > 0) & (depth >= ndimage.maximum_filter(depth, size=3))
    return float(2 * np.median(depth[ridge])) / STROKE_SIDE if ridge.any() else 0.0


def _depth(strokes: np.ndarray) -> np.ndarray:
    """Return each stroke pixel's distance (pixels) to the nearest pixel outside the strokes (0 outside)."""
    return ndimage.distance_transform_edt(strokes)


def _normalise_strokes(ink: np.ndarray, noisy: bool = False) -> np.ndarray:
    """Return `ink` (in [0,1], cropped to the digit) with its strokes made as wide as MNIST's, STROKE_SIDE
    pixels on the longer side, cropped to the result. On `noisy` paper their width is measured on a smoothed copy.

    A pen line on a large page ends up a faint hairline in the 20x20 box, and a marker's strokes fill
    the loops in; MNIST's strokes are 2-3 pixels wide and saturated. So thin strokes are thickened
    (the ink grown by its distance transform, the grown part full ink) and heavy ones thinned
    (eroded the same way), to the edge of MNIST's usual range; widths inside it are left alone.
    """
    # Noise grains above STROKE_INK would count as strokes a pixel or two wide, and thickening would
    # grow them into blobs that hide the digit.
    measured = _smooth(ink) if noisy else ink
    width = stroke_width(measured) * STROKE_SIDE
    ink = _resized_to(ink, STROKE_SIDE)
    if width == 0:
        return ink
    # Zeros all round: the distance transforms must see paper past the crop's edge.
    pad = math.ceil(THIN_STROKE * STROKE_SIDE / 2) + 1
    ink = np.pad(ink, pad)
    strokes = ink > STROKE_INK
    if width < THIN_STROKE * STROKE_SIDE:
        grow = (THIN_STROKE * STROKE_SIDE - width) / 2
        # Full ink over the strokes and out to `grow` pixels from them, with a one-pixel soft edge.
        grown = np.clip(grow + 0.5 - ndimage.distance_transform_edt(~strokes), 0, 1)
        ink = np.maximum(ink, grown.astype(np.float32))
    elif width > HEAVY_STROKE * STROKE_SIDE:
        depth = _depth(strokes)
        # Never erode past the ridges: every stroke keeps its centre line.
        shrink = min((width - HEAVY_STROKE * STROKE_SIDE) / 2, float(np.median(depth[depth > 0])) - 1)
        if shrink > 0:
            ink = np.minimum(ink, np.clip(depth - shrink + 0.5, 0, 1).astype(np.float32))
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _resized_to(ink: np.ndarray, side: int) -> np.ndarray:
    """Return `ink` resized (area-averaged down, bilinear up) so its longer side is `side` pixels, values in [0,1]."""
    height, width = ink.shape
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == (width, height):
        return ink.astype(np.float32)
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    resized = Image.fromarray(ink.astype(np.float32), mode="F").resize(size, method)
    return np.clip(np.asarray(resized, dtype=np.float32), 0, 1)


def _fit_into_box(ink: np.ndarray, side: int) -> np.ndarray:
    """Return `ink` resized (anti-aliased) so its longer side is `side` pixels, aspect kept, values in [0,1].

    The scale is exact: the shorter side may end in a partly covered pixel rather than being rounded,
    so the same digit at another resolution keeps the same shape.
    """
    height, width = ink.shape
    scale = side / max(height, width)
    out_w, out_h = math.ceil(width * scale - 1e-6), math.ceil(height * scale - 1e-6)
    src_w, src_h = out_w / scale, out_h / scale  # may reach a fraction of a pixel past the ink: pad with zeros
    padded = np.pad(ink.astype(np.float32), ((0, math.ceil(src_h) - height), (0, math.ceil(src_w) - width)))
    resized = Image.fromarray(padded, mode="F").resize(
        (out_w, out_h), Image.Resampling.LANCZOS, box=(0, 0, src_w, src_h), reducing_gap=2.0)
    return np.clip(np.asarray(resized, dtype=np.float32), 0, 1)


def _centre_by_mass(box: np.ndarray, side: int) -> np.ndarray:
    """Return a side x side field with `box` pasted so its centre of mass is at the field centre.

    The shift keeps its fraction of a pixel (linear interpolation), so the same digit photographed
    at another size or position lands on the same pixels, not one pixel off after rounding.
    """
    height, width = box.shape
    total = box.sum()
    ys, xs = np.mgrid[0:height, 0:width]
    top = side / 2 - ((ys + 0.5) * box).sum() / total
    left = side / 2 - ((xs + 0.5) * box).sum() / total
    frac_y, frac_x = top - np.floor(top), left - np.floor(left)
    shifted = np.pad(box, ((0, 1), (0, 1)))
    shifted = (1 - frac_y) * shifted + frac_y * np.roll(shifted, 1, axis=0)
    shifted = (1 - frac_x) * shifted + frac_x * np.roll(shifted, 1, axis=1)
    top, left = int(np.floor(top)), int(np.floor(left))
    height, width = shifted.shape
    field = np.zeros((side, side), dtype=np.float32)
    # Paste with clipping: a lopsided digit may be shifted partly past the edge, as in MNIST.
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + height, side), min(left + width, side)
    field[y0:y1, x0:x1] = shifted[y0 - top:y1 - top, x0 - left:x1 - left]
    return field
