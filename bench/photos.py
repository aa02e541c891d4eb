"""Render synthetic phone photos of handwritten digits, for the tests and benches of the preprocessing.

A student writes a digit on paper and photographs it. The light is uneven (one side darker), the
corners are darker (lens vignetting), the paper is grey or tinted, the sensor adds noise, the lens
blurs a little, the phone is tilted, JPEG compression leaves blocks, and the digit is small and
off-centre next to specks, ruled lines and the edge of the table. Each condition in CONDITIONS adds
one of these to a plain photo (light-grey paper, even light, dark pen); "all" adds every one at once.
"paper_edge" is the clean upload most people send: a digit anywhere on white paper, photographed with
the paper's edge and the darker desk around it in view on one to four sides, under uneven light.
The last conditions are what real students' photos and uploads showed that the others missed: a
ball-point line a few pixels wide on a large page ("thin_pen"), bright blue, red or green ink
("coloured_ink"), squared or lined school paper ("squared"), a felt marker ("marker"), a white card
on a grey page or a digit pasted into a grey window ("white_card"), and a digit picture pasted on a
white page and saved as JPEG ("pasted").

Everything random comes from one seeded generator: the same digit, condition and seed give the same
pixels. Photos are 800-1000 pixels on the longer side (what the app works on after shrinking a phone's
12 megapixels), so one renders in tens of milliseconds.
"""

import io
import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage
from skimage.morphology import thin

CONDITIONS = ("plain", "gradient", "vignette", "tinted", "noisy_blurry", "rotated_jpeg", "small_offcentre",
              "clutter", "all", "paper_edge", "thin_pen", "coloured_ink", "squared", "marker", "white_card", "pasted")
PAPER_TINTS = ((1.0, 0.94, 0.72), (0.84, 0.9, 1.0), (1.0, 0.86, 0.88), (0.88, 1.0, 0.86), (0.96, 0.93, 0.86))
INKS = ((0.16, 0.17, 0.2), (0.14, 0.18, 0.45), (0.38, 0.38, 0.4))  # black pen, blue pen, pencil
TABLES = ((0.36, 0.25, 0.17), (0.28, 0.28, 0.3), (0.55, 0.45, 0.35))  # dark wood, grey desk, light wood
COLOURED_INKS = ((0.1, 0.2, 0.75), (0.75, 0.12, 0.12), (0.1, 0.45, 0.2))  # bright blue, red and green pens
RULED_LINE = (0.72, 0.84, 1.0)  # light-blue ruling multiplies the paper
SIDES = ("left", "right", "top", "bottom")
DIGIT_SHARE = 20 / 28  # MNIST's digits fill 20 of their field's 28 pixels
# A marker's strokes as a fraction of the digit's longer side (genmodels.preprocess.stroke_width): the heaviest of
# the real phone photos in ../shared/real_digits_dev measure 0.12-0.13, MNIST's own 95th percentile is 0.2.
MARKER = (0.12, 0.22)
CENTRE_LINE_SIDE = 224  # a pen's path is traced on the digit at this size (8x MNIST's 28)
SPUR = 1.5  # ... where its branches up to this many times the strokes' half-width long are their edges' bumps
MNIST_STROKE = 0.12  # MNIST's median stroke, of the digit's longer side (genmodels.preprocess.stroke_width on mnist-5k)
PEN_CONDITIONS = ("thin_pen", "coloured_ink", "squared", "marker")  # the digit redrawn as one pen line




@dataclass(frozen=True)
class PhotoSettings:
    """Everything that makes one photo; lengths in pixels, angles in degrees, colours RGB reflectance in [0,1]."""

    width: int
    height: int
    paper: tuple[float, float, float]
    ink: tuple[float, float, float]
    digit_side: int  # the 28x28 field scaled up to this side (the digit itself is ~20/28 of it)
    centre: tuple[float, float]  # (x, y) of the field's centre on the page
    angle: float = 0.0  # camera roll: the page (digit, lines, table edge) is rotated by this
    exposure: float = 1.0
    gradient: float = 0.0  # the far side gets this much less light (0.7: 30% of the near side's light)
    gradient_direction: float = 0.0  # radians: the direction in which the light falls off
    vignette: float = 0.0  # the corners get this much less light
    blur: float = 0.0  # Gaussian radius
    noise: float = 0.01  # sensor noise standard deviation, fraction of full scale
    jpeg_quality: int = 92
    specks: int = 0
    ruled_lines: bool = False
    squares: bool = False  # squared paper: ruling both ways
    # The pen's line width in pixels; None keeps the digit's own strokes (MNIST's, scaled up with it).
    pen: float | None = None
    soft: bool = False  # keep MNIST's anti-aliased edges (a digit pasted from a picture, not written in ink)
    # A white card (x0, y0, x1, y1 in pixels) lying on the paper (then a grey page or desk), the digit on it.
    card: tuple[float, float, float, float] | None = None
    card_colour: tuple[float, float, float] = (0.97, 0.97, 0.97)
    # (side, width) for each side where the table shows past the page's edge: side one of SIDES, width
    # the fraction of the frame beyond that edge.
    table_edges: tuple[tuple[str, float], ...] = ()
    table: tuple[float, float, float] = TABLES[0]


def photo_settings(condition: str, rng: np.random.Generator) -> PhotoSettings:
    """Return random PhotoSettings for `condition` (one of CONDITIONS), drawn from `rng`."""
    if condition not in CONDITIONS:
        raise ValueError(f"Unknown photo condition {condition!r}; choose one of {', '.join(CONDITIONS)}.")
    every = condition == "all"
    u = rng.uniform
    width = int(rng.integers(800, 1001))
    height = round(width * 0.75)
    if rng.random() < 0.5:
        width, height = height, width  # portrait
    short = min(width, height)
    grey = u(0.84, 0.93)
    paper = (grey, grey, grey)
    ink = INKS[0] if rng.random() < 0.5 else INKS[1]
    if condition in ("tinted", "all"):
        # Grey or coloured paper, darker than printer paper, and sometimes pencil (low contrast).
        tint = PAPER_TINTS[rng.integers(len(PAPER_TINTS))]
        level = u(0.72, 0.86)
        paper = tuple(level * c for c in tint)
        ink = INKS[rng.integers(len(INKS))]
    small = condition == "small_offcentre" or (every and rng.random() < 0.5)  # "all": half the time
    if small:
        side = int(u(0.16, 0.22) * short)  # the digit is ~70-120 pixels tall
        angle_off = u(0, 2 * math.pi)
        reach = u(0.22, 0.32)
        centre = (width / 2 + math.cos(angle_off) * reach * width, height / 2 + math.sin(angle_off) * reach * height)
    else:
        side = int(u(0.4, 0.6) * short)  # the digit is ~170-320 pixels tall
        centre = (width / 2 + u(-0.08, 0.08) * width, height / 2 + u(-0.08, 0.08) * height)
    settings = dict(width=width, height=height, paper=paper, ink=ink, digit_side=side, exposure=u(0.9, 1.0))
    if condition in ("gradient", "all"):
        # The hard case: the dark side of the paper is about as dark as the ink on the bright side.
        ratio = sum(ink) / sum(paper)
        settings.update(gradient=1 - ratio * u(0.9, 1.4), gradient_direction=u(0, 2 * math.pi))
    if condition in ("vignette", "all"):
        settings.update(vignette=u(0.4, 0.6))
    if condition in ("noisy_blurry", "all"):
        settings.update(noise=u(0.04, 0.07), blur=u(1.5, 3.0))
    if condition in ("rotated_jpeg", "all"):
        settings.update(angle=float(rng.choice([-1, 1]) * u(4, 10)), jpeg_quality=int(rng.integers(50, 86)))
    if condition in ("clutter", "all"):
        settings.update(specks=int(rng.integers(8, 30)), ruled_lines=True,
                        table_edges=((SIDES[rng.integers(4)], u(0.04, 0.1)),), table=TABLES[rng.integers(len(TABLES))])
    if condition == "paper_edge":
        return _paper_edge_settings(settings, rng)
    if condition in PEN_CONDITIONS + ("white_card", "pasted"):
        return _real_failure_settings(condition, settings, rng)
    settings["centre"] = _keep_on_page(centre, side, settings)
    return PhotoSettings(**settings)


def _paper_edge_settings(settings: dict, rng: np.random.Generator) -> PhotoSettings:
    """Return `settings` made a photo of white paper on a darker desk, the digit anywhere on the paper."""
    u = rng.uniform
    width, height = settings["width"], settings["height"]
    short = min(width, height)
    grey = u(0.86, 0.97)  # printer paper, brighter than the default grey page
    count = int(rng.choice([1, 2, 3, 4], p=[0.4, 0.3, 0.2, 0.1]))
    sides = sorted(rng.choice(4, size=count, replace=False))
    settings.update(paper=(grey, grey, grey), table=TABLES[rng.integers(len(TABLES))],
                    table_edges=tuple((SIDES[i], u(0.03, 0.25)) for i in sides), angle=u(-3, 3),
                    gradient=u(0.1, 0.45), gradient_direction=u(0, 2 * math.pi), vignette=u(0.1, 0.35))
    # The digit anywhere on the paper: its field clear of the paper's edge by a little more than the
    # edge can lean (the page's tilt plus the table's own up to 2 degrees, over half the frame).
    clearance = 0.01 * short + math.tan(math.radians(abs(settings["angle"]) + 2)) * max(width, height) / 2
    low_x, high_x, low_y, high_y = _free_area(0, settings, clearance)
    side = int(min(u(0.25, 0.55) * short, high_x - low_x, high_y - low_y))
    settings["digit_side"] = side
    low_x, high_x, low_y, high_y = _free_area(side, settings, clearance)
    settings["centre"] = (u(low_x, max(low_x, high_x)), u(low_y, max(low_y, high_y)))
    return PhotoSettings(**settings)


def _real_failure_settings(condition: str, settings: dict, rng: np.random.Generator) -> PhotoSettings:
    """Return `settings` made one of the ways real photos and uploads differ from the plain photo."""
    u = rng.uniform
    width, height = settings["width"], settings["height"]
    short = min(width, height)
    settings.update(gradient=u(0, 0.3), gradient_direction=u(0, 2 * math.pi), vignette=u(0, 0.3))
    if condition == "thin_pen":  # a ball-point line on a large page: 2-4 pixels wide, the digit 15-35% of the frame
        settings.update(digit_side=int(u(0.2, 0.45) * short), pen=u(2.0, 4.0))
    elif condition == "coloured_ink":
        settings.update(ink=COLOURED_INKS[rng.integers(len(COLOURED_INKS))], pen=u(3.0, 8.0))
    elif condition == "squared":  # squared or lined school paper
        settings.update(squares=bool(rng.random() < 0.5), ruled_lines=True, pen=u(3.0, 8.0))
    elif condition == "marker":  # a felt marker: strokes from the heaviest real photos' to past MNIST's usual range
        settings.update(pen=u(*MARKER) * DIGIT_SHARE * settings["digit_side"], ink=INKS[0])
    else:  # a white card on a grey page or desk, or a digit pasted into a grey window
        pasted = condition == "pasted" or rng.random() < 0.5
        card_side = settings["digit_side"] * u(1.05, 1.6)
        if pasted:  # the digit as a picture, dark on white, pasted onto a page: no light, lens or noise
            settings.update(soft=True, ink=(0.0, 0.0, 0.0), gradient=0.0, vignette=0.0, noise=0.0, exposure=1.0,
                            jpeg_quality=int(rng.integers(70, 96)))
            card_side = settings["digit_side"]
        if condition == "pasted":
            settings["paper"] = (1.0, 1.0, 1.0)
        else:
            grey = u(0.6, 0.88)
            settings["paper"] = (grey, grey, grey)
            settings["card_colour"] = (1.0, 1.0, 1.0) if pasted else (u(0.95, 1.0),) * 3
    centre = _keep_on_page((width / 2 + u(-0.15, 0.15) * width, height / 2 + u(-0.15, 0.15) * height),
                           settings["digit_side"], settings)
    settings["centre"] = centre
    if condition == "white_card":
        half = card_side / 2
        settings["card"] = (centre[0] - half, centre[1] - half * u(0.8, 1.2), centre[0] + half * u(0.8, 1.2),
                            centre[1] + half)
    return PhotoSettings(**settings)


def _keep_on_page(centre: tuple[float, float], side: int, settings: dict) -> tuple[float, float]:
    """Return `centre` moved so the digit's field lies inside the page, clear of the table and the frame."""
    low_x, high_x, low_y, high_y = _free_area(side, settings, 0.04 * min(settings["width"], settings["height"]))
    return (float(np.clip(centre[0], low_x, max(low_x, high_x))), float(np.clip(centre[1], low_y, max(low_y, high_y))))


def _free_area(side: int, settings: dict, clearance: float) -> tuple[float, float, float, float]:
    """Return (low x, high x, low y, high y): where the centre of a `side`-pixel field keeps `clearance`
    pixels from the frame and from the table's edges (high may fall below low when nothing fits)."""
    width, height = settings["width"], settings["height"]
    margin = clearance + side / 2
    low_x, high_x, low_y, high_y = margin, width - margin, margin, height - margin
    for table_side, band in settings.get("table_edges", ()):
        if table_side == "left":
            low_x += band * width
        elif table_side == "right":
            high_x -= band * width
        elif table_side == "top":
            low_y += band * height
        elif table_side == "bottom":
            high_y -= band * height
    return low_x, high_x, low_y, high_y


def as_numpy_generator(generator) -> np.random.Generator:
    """Return a numpy Generator from a numpy Generator, a torch.Generator, an int seed or None (seed 0)."""
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, torch.Generator):
        return np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))
    return np.random.default_rng(0 if generator is None else int(generator))


def render_photo(digit, condition: str = "all", generator=None) -> Image.Image:
    """Return an RGB phone photo (800-1000 px on the longer side) of a 28x28 digit (white ink in [0,1] or uint8)."""
    rng = as_numpy_generator(generator)
    return render_with_settings(digit, photo_settings(condition, rng), rng)


def render_with_settings(digit, settings: PhotoSettings, rng: np.random.Generator) -> Image.Image:
    """Return the RGB photo described by `settings` of a 28x28 digit; `rng` draws the noise and specks."""
    s = settings
    ys = np.arange(s.height, dtype=np.float32)[:, None] + 0.5
    xs = np.arange(s.width, dtype=np.float32)[None, :] + 0.5
    page = np.empty((s.height, s.width, 3), np.float32)
    page[:] = s.paper
    if s.card is not None:
        x0, y0, x1, y1 = (int(round(v)) for v in s.card)
        page[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = s.card_colour
    if s.ruled_lines:
        page *= _ruled_lines(xs, ys, s, rng)[..., None]
    if s.squares:
        page *= _ruled_lines(ys.T, xs.T, s, rng).T[..., None]
    _draw_ink(page, _digit_coverage(digit, s), s)
    for _ in range(s.specks):
        _draw_speck(page, rng, s)
    for table_side, band in s.table_edges:
        _draw_table(page, xs, ys, s, table_side, band, rng)
    light = _light(xs, ys, s)
    page *= light[..., None] if isinstance(light, np.ndarray) else light
    return _camera(page, s, rng)


def _digit_coverage(digit, s: PhotoSettings) -> np.ndarray:
    """Return the ink coverage in [0,1] of the digit scaled to s.digit_side and rotated by s.angle."""
    big = Image.fromarray(_as_floats(digit), mode="F").resize((s.digit_side, s.digit_side), Image.Resampling.BICUBIC)
    if s.angle:
        big = big.rotate(s.angle, Image.Resampling.BILINEAR, expand=True)
    if s.soft:
        return np.clip(np.asarray(big), 0, 1)
    if s.pen is not None:
        return _pen_strokes(np.asarray(big), s.pen)
    # A pen lays down ink with a sharp edge, not MNIST's soft anti-aliased fringe.
    return np.clip((np.asarray(big) - 0.25) / 0.3, 0, 1)


def traced(digit, stroke: float = MNIST_STROKE) -> np.ndarray:
    """Return a 28x28 digit (uint8 or [0,1]) redrawn as the pen conditions redraw it, one line along its centre
    line, with strokes `stroke` of the digit's longer side wide, back at 28x28 in [0,1]: the redrawing alone,
    with no photo, for the bench to tell what the pen's path costs from what the photo costs."""
    side = CENTRE_LINE_SIDE
    big = Image.fromarray(_as_floats(digit), mode="F").resize((side, side), Image.Resampling.BICUBIC)
    cover = _pen_strokes(np.asarray(big), stroke * DIGIT_SHARE * side)
    return np.array(Image.fromarray(cover, mode="F").resize((28, 28), Image.Resampling.BOX), dtype=np.float32)


def _as_floats(digit) -> np.ndarray:
    """Return a 28x28 digit (uint8 like the data sets, or floats in [0,1]; numpy or torch) as float32 in [0,1]."""
    arr = digit.detach().cpu().numpy() if isinstance(digit, torch.Tensor) else np.asarray(digit)
    scale = 255 if np.issubdtype(arr.dtype, np.integer) else 1
    return arr.astype(np.float32).reshape(28, 28) / scale


def _pen_strokes(digit: np.ndarray, pen: float) -> np.ndarray:
    """Return the coverage in [0,1] of a scaled-up `digit` (MNIST's grey levels) redrawn as a pen line `pen` pixels wide.

    A pen draws a line of one width along the digit's path, wherever MNIST's own stroke was narrow or
    wide: the line follows the strokes' centre line (found on a copy CENTRE_LINE_SIDE pixels across,
    joined up again at full size), with one pixel of soft edge. Eroding or growing MNIST's strokes
    instead breaks a thin line where MNIST's stroke was narrow and leaves blobs where it was wide,
    which no pen does (real photos show none).
    """
    height, width = digit.shape
    scale = max(height, width) / CENTRE_LINE_SIDE
    small = Image.fromarray(digit.astype(np.float32), mode="F").resize(
        (max(1, round(width / scale)), max(1, round(height / scale))), Image.Resampling.BILINEAR)
    # Smoothed first (MNIST's pixels are 8 pixels here), so that the strokes' edges are not a staircase
    # whose every step would thin into a branch.
    strokes = ndimage.gaussian_filter(np.asarray(small), 2.0) > 0.5
    centre = thin(strokes)
    if centre.any():  # branches from bumps on a wide stroke are longer: pruned by the strokes' own half-width
        half = float(np.percentile(ndimage.distance_transform_edt(strokes)[centre], 75))
        centre = _pruned(centre, math.ceil(SPUR * half))
    line = Image.new("1", (width, height), 0)
    draw = ImageDraw.Draw(line)
    ys, xs = np.nonzero(centre)
    on = set(zip(ys.tolist(), xs.tolist()))
    for y, x in on:  # join each centre-line pixel to its neighbours, scaled to full size
        for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):
            if (y + dy, x + dx) in on:
                draw.line([((x + 0.5) * scale, (y + 0.5) * scale), ((x + dx + 0.5) * scale, (y + dy + 0.5) * scale)],
                          fill=1)
        draw.point(((x + 0.5) * scale, (y + 0.5) * scale), fill=1)
    distance = ndimage.distance_transform_edt(~np.asarray(line, dtype=bool))
    return np.clip(pen / 2 + 0.5 - distance, 0, 1).astype(np.float32)


def _pruned(line: np.ndarray, length: int) -> np.ndarray:
    """Return a one-pixel-wide `line` without its branches up to `length` pixels long: end pixels peeled
    `length` times, then what is left grown back along the line from its ends as far (the strokes' own ends)."""
    neighbours = np.ones((3, 3), int)
    pruned = line.copy()
    for _ in range(length):
        pruned &= ndimage.convolve(pruned.astype(int), neighbours, mode="constant") != 2  # itself and one neighbour
    ends = pruned & (ndimage.convolve(pruned.astype(int), neighbours, mode="constant") <= 2)
    if not ends.any():
        return pruned if pruned.any() else line  # a closed loop (a 0) keeps its ring; a dot stays a dot
    regrown = ndimage.binary_dilation(ends, structure=np.ones((3, 3), bool), iterations=length, mask=line)
    return pruned | regrown


def _draw_ink(page: np.ndarray, cover: np.ndarray, s: PhotoSettings) -> None:
    """Lay ink of colour s.ink onto `page` in place, with the coverage patch centred on s.centre."""
    h, w = cover.shape
    top, left = int(round(s.centre[1] - h / 2)), int(round(s.centre[0] - w / 2))
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, page.shape[0]), min(left + w, page.shape[1])
    c = cover[y0 - top:y1 - top, x0 - left:x1 - left, None]
    page[y0:y1, x0:x1] = page[y0:y1, x0:x1] * (1 - c) + np.asarray(s.ink, np.float32) * c


def _draw_speck(page: np.ndarray, rng: np.random.Generator, s: PhotoSettings) -> None:
    """Put one small dark dot (dust, a pencil tap) somewhere away from the digit, in place."""
    radius = rng.uniform(1.5, 4.5)
    for _ in range(20):  # look for a spot clear of the digit's field
        x, y = rng.uniform(0, s.width), rng.uniform(0, s.height)
        if max(abs(x - s.centre[0]), abs(y - s.centre[1])) > 0.6 * s.digit_side + radius:
            break
    r = int(math.ceil(radius)) + 1
    y0, y1, x0, x1 = max(int(y) - r, 0), min(int(y) + r + 1, s.height), max(int(x) - r, 0), min(int(x) + r + 1, s.width)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32) + 0.5
    cover = np.clip(radius - np.hypot(xx - x, yy - y) + 0.5, 0, 1)[..., None] * rng.uniform(0.5, 1.0)
    page[y0:y1, x0:x1] = page[y0:y1, x0:x1] * (1 - cover) + np.asarray(s.ink, np.float32) * cover


def _ruled_lines(xs: np.ndarray, ys: np.ndarray, s: PhotoSettings, rng: np.random.Generator) -> np.ndarray:
    """Return a (H, W) factor that draws light-blue horizontal ruling, tilted with the page, onto the paper."""
    spacing = rng.uniform(0.055, 0.08) * s.height
    offset = rng.uniform(0, spacing)
    theta = math.radians(s.angle)
    along = xs * math.sin(theta) + ys * math.cos(theta)  # the page's vertical axis, seen through the tilt
    distance = np.abs((along - offset + spacing / 2) % spacing - spacing / 2)
    line = np.clip(1.5 - distance, 0, 1)  # a line ~2-3 pixels thick with anti-aliased edges
    grey_line = float(np.dot(RULED_LINE, (0.299, 0.587, 0.114)))
    return 1 - line * (1 - grey_line)


def _draw_table(page: np.ndarray, xs: np.ndarray, ys: np.ndarray, s: PhotoSettings, side: str, band: float,
                rng: np.random.Generator) -> None:
    """Paint the table beyond the page edge on `side`, `band` of the frame wide (the edge slightly slanted),
    onto `page`, in place."""
    slant = math.tan(math.radians(s.angle + rng.uniform(-2, 2)))
    if side in ("left", "right"):
        edge = band * s.width + (ys - s.height / 2) * slant
        beyond = edge - xs if side == "left" else xs - (s.width - edge)
    else:
        edge = band * s.height - (xs - s.width / 2) * slant
        beyond = edge - ys if side == "top" else ys - (s.height - edge)
    cover = np.clip(beyond + 0.5, 0, 1)
    rows, cols = np.flatnonzero(cover.max(axis=1) > 0), np.flatnonzero(cover.max(axis=0) > 0)
    band = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))  # only the strip the table covers
    cover = cover[band][..., None]
    page[band] = page[band] * (1 - cover) + np.asarray(s.table, np.float32) * cover


def _light(xs: np.ndarray, ys: np.ndarray, s: PhotoSettings) -> np.ndarray | float:
    """Return the illumination: exposure x a linear fall-off across the page x vignetting ((H, W) or a number)."""
    light = s.exposure
    if s.gradient:
        dx, dy = math.cos(s.gradient_direction), math.sin(s.gradient_direction)
        along = (xs - s.width / 2) * dx + (ys - s.height / 2) * dy
        span = abs(s.width / 2 * dx) + abs(s.height / 2 * dy)  # along runs from -span to +span
        light = light * (1 - s.gradient * (along + span) / (2 * span))
    if s.vignette:
        rho2 = ((xs - s.width / 2) ** 2 + (ys - s.height / 2) ** 2) / ((s.width / 2) ** 2 + (s.height / 2) ** 2)
        light = light * (1 - s.vignette * rho2 ** 1.5)  # cos^4-like: flat in the middle, falling fast at the corners
    return light


def _camera(photo: np.ndarray, s: PhotoSettings, rng: np.random.Generator) -> Image.Image:
    """Return the photo (H, W, 3) in [0,1] as the phone saves it: lens blur, sensor noise, 8 bits, JPEG round trip."""
    np.multiply(photo, 255, out=photo)
    photo += 0.5
    image = Image.fromarray(np.clip(photo, 0, 255, out=photo).astype(np.uint8), "RGB")
    if s.blur:
        image = image.filter(ImageFilter.GaussianBlur(s.blur))
    if s.noise:
        # Drawn at half resolution and repeated: demosaicing and denoising leave phone noise in ~2x2 grains.
        h, w = s.height, s.width
        grains = rng.standard_normal(((h + 1) // 2, (w + 1) // 2), dtype=np.float32) * (s.noise * 255)
        grains = grains.round().astype(np.int16).repeat(2, axis=0).repeat(2, axis=1)[:h, :w, None]
        pixels = np.asarray(image, np.int16) + grains
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=s.jpeg_quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")
