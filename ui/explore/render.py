"""Pictures for the Explore tab: digits, strips, grids, GIFs, the latent map, the manifold, the readout.

Pure functions of arrays (no gradio, no models). Digits are float arrays (side, side) in [0,1], white
ink on black, as the models see them. Figures with axes (the latent map's base, the manifold, the
traversal grid) are drawn by matplotlib, each on its own Figure and Agg canvas (no pyplot state, so
requests in different threads never share one); grids of digits are torchvision's make_grid. What is
drawn again on every slider release (the map's marker, the row-by-row readout) stays with PIL:
matplotlib is too slow there (bench/figure_speed.py, BENCHMARKS.md "Figures: matplotlib or PIL").

Words on pictures and their text alternatives are catalogue texts (i18n/, keys render.*) in the
language of the call that draws them; Chinese is drawn with Noto Sans CJK where it is installed.
"""

import base64
import functools
import html
import io
import threading
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from PIL import Image, ImageDraw, ImageFont
from torchvision.utils import make_grid

import i18n

# Paul Tol's "muted" scheme (https://personal.sron.nl/~pault/): nine colours that stay distinct for
# colour-blind readers, and his pale grey as a tenth.
TOL_MUTED = ["#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933", "#AA4499",
             "#DDDDDD"]
GOLDEN_TURNS = 0.618033988749895  # hue steps of the golden ratio spread any number of hues evenly


def class_colours(n: int) -> list[tuple[int, int, int]]:
    """Return n distinguishable RGB colours (0..255), one per class: Tol's muted scheme for up to ten classes
    (colour-blind safe); beyond ten, further hues spaced by the golden ratio at alternating lightness."""
    colours = [tuple(round(255 * c) for c in matplotlib.colors.to_rgb(h)) for h in TOL_MUTED[:n]]
    for k in range(n - len(colours)):
        hue = (k * GOLDEN_TURNS) % 1.0
        value = 0.85 if k % 2 == 0 else 0.6
        colours.append(tuple(round(255 * c) for c in matplotlib.colors.hsv_to_rgb((hue, 0.65, value))))
    return colours
# Figures are laid out in picture pixels: at 72 dpi a point is a pixel, so font sizes, line widths
# and marker areas below are pixels too. Sizes are chosen for the page's smallest showing of each
# picture (about two thirds of its width on a phone or in presentation mode).
DPI = 72
LABEL_PX, TICK_PX, LEGEND_PX = 16, 14, 17
AXIS_GREY = "#555555"


# Chinese words need a font with CJK glyphs: Noto Sans CJK (Debian's fonts-noto-cjk) where installed.
# matplotlib falls back glyph by glyph along a family list; PIL draws a label in one face, so a label
# that is not plain ASCII is drawn in the CJK face. Without the font both keep their defaults.
CJK_FONT_FILE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_FAMILY = "Noto Sans CJK SC"


@functools.cache
def font_family() -> list[str]:
    """Return matplotlib's family list for words on figures: its default, then a CJK font when one is installed."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return ["DejaVu Sans"] + ([CJK_FAMILY] if CJK_FAMILY in installed else [])


_fonts = threading.local()  # one FreeType face per thread: faces must not be shared between threads


def font(size: int = 13, cjk: bool = False) -> ImageFont.ImageFont:
    """Return PIL's built-in scalable font at `size` pixels, or with `cjk` one with Chinese glyphs when installed
    (loaded once per thread: loading costs more than drawing a label, and a picture has dozens)."""
    by_size = _fonts.__dict__.setdefault("by_size", {})
    cjk = cjk and CJK_FONT_FILE.is_file()
    if (size, cjk) not in by_size:
        by_size[size, cjk] = ImageFont.truetype(str(CJK_FONT_FILE), size) if cjk else ImageFont.load_default(size=size)
    return by_size[size, cjk]


def label_font(size: int, label: str) -> ImageFont.ImageFont:
    """Return the font that draws `label`: PIL's own for plain ASCII, the CJK one for other words."""
    return font(size, cjk=not label.isascii())


def quick_png(picture: Image.Image) -> Image.Image:
    """Return `picture` marked to be saved with fast PNG compression (Pillow reads `encoderinfo` when
    gradio saves it): the map and the readout are drawn again on every release, and level 1 saves
    them faster for somewhat larger files (BENCHMARKS.md, "One release's full view")."""
    picture.encoderinfo = {"compress_level": 1}
    return picture


def to_uint8(digit) -> np.ndarray:
    """Return a digit (side, side) in [0,1] (numpy or torch) as uint8 grey levels 0..255."""
    arr = digit.detach().cpu().numpy() if hasattr(digit, "detach") else np.asarray(digit)
    return (np.clip(arr.reshape(arr.shape[-2], arr.shape[-1]), 0, 1) * 255 + 0.5).astype(np.uint8)


def png_bytes(digit) -> bytes:
    """Return a greyscale PNG of `digit`, one pixel per pixel (fast compression for the slider path)."""
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(digit), mode="L").save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def digit_html(digit, alt: str | None = None, data: dict | None = None) -> str:
    """Return an <img> holding the digit's PNG inline; CSS scales it up with hard pixel edges. Its text alternative
    is `alt`, by default "decoded digit" in the current language.

    With `data` ({"model", "reader", "z", "order"}) the picture comes in a frame that tells the
    page which code it shows, with a hidden <canvas> on top: a page that runs the models itself
    (ui/static/latent_lab.js, explore.js) paints the drag there without asking the server.
    """
    pixels = to_uint8(digit)
    encoded = base64.b64encode(png_bytes(pixels / 255)).decode("ascii")
    alt = html.escape(i18n.text("render.decoded_digit") if alt is None else alt)
    img = f'<img class="ll-digit" alt="{alt}" src="data:image/png;base64,{encoded}">'
    if data is None:
        return img
    attributes = " ".join(f'data-{key}="{html.escape(str(value))}"' for key, value in data.items())
    height, width = pixels.shape
    return (f'<div class="ll-digit-frame" {attributes}>{img}'
            f'<canvas class="ll-digit-live" width="{width}" height="{height}" hidden></canvas></div>')


def preview_html(digits, values, title: str) -> str:
    """Return a titled row of small digits (N, side, side), each captioned with its slider value: what one slider does."""
    cells = "".join(
        f'<figure><img class="ll-digit-small" alt="{html.escape(i18n.text("render.preview_at", value=f"{v:+.1f}"))}" '
        'src="data:image/png;base64,'
        f'{base64.b64encode(png_bytes(d)).decode("ascii")}"><figcaption>{v:+.1f}</figcaption></figure>'
        for d, v in zip(digits, values))
    return f'<div class="ll-preview"><p>{html.escape(title)}</p><div class="ll-preview-row">{cells}</div></div>'


def enlarge(digit, size: int = 280) -> Image.Image:
    """Return a digit as a size x size PIL image with visible pixels (nearest-neighbour upscaling)."""
    return Image.fromarray(to_uint8(digit), mode="L").resize((size, size), Image.Resampling.NEAREST)


def _digit_tensor(digits, cell: int) -> torch.Tensor:
    """Return digits (N, side, side) in [0,1] as a float tensor (N, 1, cell, cell), upscaled with hard pixel edges."""
    digits = np.clip(np.asarray(digits, dtype=np.float32), 0, 1)
    x = torch.as_tensor(digits).reshape(-1, 1, *digits.shape[-2:])
    return F.interpolate(x, size=(cell, cell), mode="nearest") if cell != x.shape[-1] else x


def _grid_image(digits, columns: int, cell: int, gap: int, pad_value: float = 1.0) -> np.ndarray:
    """Return make_grid's picture of digits (N, side, side) as a uint8 array (H, W): `columns` per row, `gap` apart."""
    grid = make_grid(_digit_tensor(digits, cell), nrow=columns, padding=gap, pad_value=pad_value)
    return (grid[0].numpy() * 255 + 0.5).astype(np.uint8)


def strip(digits, cell: int = 84, gap: int = 4) -> Image.Image:
    """Return a horizontal strip of digits (N, side, side), each cell x cell pixels, `gap` white pixels around each."""
    digits = np.asarray(digits)
    return Image.fromarray(_grid_image(digits, len(digits), cell, gap), mode="L")


def tiles(digits, columns: int, cell: int = 56, gap: int = 4) -> Image.Image:
    """Return digits (N, side, side) tiled `columns` to a row, each cell x cell pixels, `gap` white pixels around each."""
    return Image.fromarray(_grid_image(np.asarray(digits), columns, cell, gap), mode="L")


def gif_bytes(digits, size: int = 168, frame_ms: int = 120) -> bytes:
    """Return an animated GIF (bytes) that plays the digits forwards then backwards, looping."""
    frames = [enlarge(d, size) for d in digits]
    frames = frames + frames[-2:0:-1]  # ping-pong so the loop has no jump
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()


def gif_html(gif: bytes) -> str:
    """Return an <img> that plays an animated GIF inline."""
    encoded = base64.b64encode(gif).decode("ascii")
    alt = html.escape(i18n.text("render.interpolation"))
    return f'<img class="ll-anim" alt="{alt}" src="data:image/gif;base64,{encoded}">'


def new_figure(width: int, height: int) -> Figure:
    """Return an empty matplotlib Figure of width x height pixels (its own Agg canvas; no pyplot)."""
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    return figure


def add_axes(figure: Figure, left: float, top: float, width: float, height: float):
    """Return axes whose plotting area is exactly the box (left, top, width, height) in picture pixels (y down)."""
    w, h = figure.bbox.width, figure.bbox.height
    axes = figure.add_axes((left / w, 1 - (top + height) / h, width / w, height / h))
    axes.tick_params(labelsize=TICK_PX, colors=AXIS_GREY, length=4)
    for spine in axes.spines.values():
        spine.set_color("#bbbbbb")
    return axes


def figure_image(figure: Figure) -> Image.Image:
    """Return the figure rendered by Agg as an RGB PIL image of its size in pixels."""
    figure.canvas.draw()
    return Image.fromarray(np.asarray(figure.canvas.buffer_rgba())[..., :3].copy(), mode="RGB")


def grid(rows, row_labels: list[str], column_labels: list[str], cell: int = 56) -> Image.Image:
    """Return a labelled grid: rows (R, C, side, side) of digits, a label left of each row and above each column."""
    rows = np.asarray(rows)
    n_rows, n_cols = rows.shape[:2]
    gap, left, top = 4, 150, 32
    picture = _grid_image(rows.reshape(-1, *rows.shape[-2:]), n_cols, cell, gap)
    height, width = picture.shape
    figure = new_figure(left + width + 6, top + height + 6)
    axes = add_axes(figure, left, top, width, height)
    axes.imshow(picture, cmap="gray", vmin=0, vmax=255, interpolation="nearest", aspect="auto",
                extent=(0, width, height, 0))
    centres = gap + cell / 2 + np.arange(max(n_rows, n_cols)) * (cell + gap)
    axes.set_xticks(centres[:n_cols], column_labels, family=font_family())
    axes.set_yticks(centres[:n_rows], row_labels, family=font_family())
    axes.xaxis.tick_top()
    axes.tick_params(length=0, labelsize=LEGEND_PX + 1, labelcolor="black")  # read at half size on a phone
    for spine in axes.spines.values():
        spine.set_visible(False)
    return figure_image(figure)


class LatentMap:
    """The 2-D PCA map of encoded points as a picture, and the conversion between its pixels and PCA coordinates.

    The plot is the square (LEFT, TOP)-(LEFT + SIDE, TOP + SIDE) of the picture: matplotlib's axes are
    placed exactly there, and to_pixels / to_coordinates convert through the same box, so a click
    lands on what is drawn under it. Its words (axis titles, class names in the legend) are in the
    language of the call: the picture is drawn once per language, when first asked for.

    `class_names` is a list, or a function returning the list in the current language.
    """

    WIDTH, HEIGHT = 560, 420
    LEFT, TOP, SIDE = 58, 12, 350
    LEGEND_LEFT = LEFT + SIDE + 14

    def __init__(self, xy: np.ndarray, labels: np.ndarray, class_names: list[str] | Callable[[], list[str]]):
        self.xy = np.asarray(xy, dtype=np.float64)
        self.labels = np.asarray(labels, dtype=np.int64)
        low, high = self.xy.min(0), self.xy.max(0)
        pad = 0.08 * (high - low) + 1e-6
        self.low, self.high = low - pad, high + pad
        self.pixels = self.to_pixels(self.xy).astype(np.float32)  # where each point is drawn (a page gets these)
        self.class_names = class_names if callable(class_names) else (lambda: class_names)
        self._bases = {}  # language -> (base picture, black ink, white ink)
        self._drawn(i18n.DEFAULT)

    def _drawn(self, language: str) -> tuple[Image.Image, int, int]:
        """Return (the base picture in `language`, its black ink, its white ink), drawn the first time it is asked for."""
        if language not in self._bases:
            with i18n.speaking(language):
                picture = figure_image(self.figure(self.class_names())[0])
            # A palette of 128 colours looks the same and saves smaller and faster than the anti-aliased RGB
            # rendering (the marked map is sent on every release; BENCHMARKS.md "Figures: matplotlib or PIL").
            base = picture.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
            palette = np.asarray(base.getpalette(), dtype=np.int64).reshape(-1, 3).sum(1)
            self._bases[language] = (base, int(np.argmin(palette)), int(np.argmax(palette)))  # the marker's inks
        return self._bases[language]

    @property
    def base(self) -> Image.Image:
        """Return the map without a marker, its words in the current language (a palette picture)."""
        return self._drawn(i18n.language())[0]

    @property
    def plot_box(self) -> tuple[int, int, int, int]:
        """Return the plot's (left, top, right, bottom) edges in picture pixels."""
        return self.LEFT, self.TOP, self.LEFT + self.SIDE, self.TOP + self.SIDE

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        """Return pixel positions (N, 2) (x right, y down) of PCA coordinates xy (N, 2)."""
        unit = (np.asarray(xy, dtype=np.float64) - self.low) / (self.high - self.low)
        return np.stack([self.LEFT + unit[:, 0] * self.SIDE, self.TOP + (1 - unit[:, 1]) * self.SIDE], axis=1)

    def to_coordinates(self, px: float, py: float) -> np.ndarray:
        """Return the PCA coordinates (2,) under pixel (px, py) of the map picture."""
        unit = np.array([(px - self.LEFT) / self.SIDE, 1 - (py - self.TOP) / self.SIDE])
        return self.low + unit * (self.high - self.low)

    def nearest_point(self, px: float, py: float) -> tuple[int, float]:
        """Return (index, distance in pixels) of the stored map point closest to pixel (px, py)."""
        d = np.hypot(*(self.pixels - np.array([px, py])).T)
        i = int(np.argmin(d))
        return i, float(d[i])

    def figure(self, class_names: list[str]) -> tuple[Figure, object]:
        """Return the map's matplotlib (figure, axes) without a marker: the points, the axes and the legend."""
        figure = new_figure(self.WIDTH, self.HEIGHT)
        axes = add_axes(figure, self.LEFT, self.TOP, self.SIDE, self.SIDE)
        axes.set_xlim(self.low[0], self.high[0])
        axes.set_ylim(self.low[1], self.high[1])
        for axis in (axes.xaxis, axes.yaxis):
            axis.set_major_locator(MaxNLocator(4))
        axes.set_xlabel(i18n.text("render.map.axis", n=1), fontsize=LABEL_PX, color=AXIS_GREY, labelpad=2,
                        family=font_family())
        axes.set_ylabel(i18n.text("render.map.axis", n=2), fontsize=LABEL_PX, color=AXIS_GREY, labelpad=0,
                        family=font_family())
        palette = np.array(class_colours(max(len(class_names), int(self.labels.max(initial=0)) + 1))) / 255
        colours = palette[self.labels]
        order = np.random.default_rng(0).permutation(len(self.xy))  # no class hides all others under it
        axes.scatter(self.xy[order, 0], self.xy[order, 1], s=36, c=colours[order], edgecolors="white",
                     linewidths=0.5)
        handles = [Line2D([], [], linestyle="", marker="o", markersize=11, color=palette[c],
                          label=name[:14]) for c, name in enumerate(class_names)]
        figure.legend(handles=handles, loc="upper left", frameon=False, prop={"family": font_family(), "size": LEGEND_PX},
                      handletextpad=0.2,
                      borderaxespad=0, borderpad=0, labelspacing=0.45, handlelength=1.0,
                      bbox_to_anchor=(self.LEGEND_LEFT / self.WIDTH, 1 - self.TOP / self.HEIGHT))
        return figure, axes

    def with_marker(self, xy: np.ndarray) -> Image.Image:
        """Return the map with the current code marked by a black ring and cross at PCA coordinates xy (2,).

        A code beyond the plotted area is marked on the plot's edge (in the direction it lies), so
        the marker never leaves the picture however far the sliders go. Drawn with PIL on a copy of
        the matplotlib base: this runs on every release.
        """
        base, black, white = self._drawn(i18n.language())
        out = base.copy()
        draw = ImageDraw.Draw(out)
        left, top, right, bottom = self.plot_box
        x, y = np.nan_to_num(self.to_pixels(np.asarray(xy, dtype=np.float64).reshape(1, 2))[0])
        x, y = float(np.clip(x, left, right)), float(np.clip(y, top, bottom))
        draw.ellipse([x - 10, y - 10, x + 10, y + 10], outline=white, width=5)
        draw.ellipse([x - 9, y - 9, x + 9, y + 9], outline=black, width=3)
        draw.line([x - 15, y, x + 15, y], fill=black, width=2)
        draw.line([x, y - 15, x, y + 15], fill=black, width=2)
        return quick_png(out)


class Manifold:
    """The classic picture of a 2-D VAE: decodes on a regular grid of z over [-limit, limit]^2.

    Column c holds the first slider's value (most KL) growing to the right, row r the second's
    growing upwards, as on a plot. The grid fills the axes' box exactly, cell centres at the codes
    they show, and to_slots reads a click through the same box.
    """

    STEPS = 15
    CELL_PX = 30  # about this many pixels per cell: a whole number of pixels per image pixel
    LEFT, TOP = 62, 10

    def __init__(self, limit: float, side: int):
        self.cell = side * max(1, round(self.CELL_PX / side))  # images are side x side pixels
        self.side = self.STEPS * self.cell  # the grid's side in picture pixels
        self.width, self.height = self.LEFT + self.side + 16, self.TOP + self.side + 58
        self.values = np.linspace(-limit, limit, self.STEPS)
        half = (self.values[1] - self.values[0]) / 2  # the cells reach half a step beyond the outer codes
        self.extent = (self.values[0] - half, self.values[-1] + half)

    def slot_codes(self) -> np.ndarray:
        """Return the (STEPS * STEPS, 2) slider values of the cells, row by row from the top."""
        first, second = np.meshgrid(self.values, self.values[::-1])
        return np.stack([first.ravel(), second.ravel()], axis=1).astype(np.float32)

    def picture(self, digits, names: tuple[str, str]) -> Image.Image:
        """Return the grid picture of digits (STEPS * STEPS, side, side) in slot_codes() order, with labelled axes."""
        return figure_image(self.figure(digits, names)[0])

    def figure(self, digits, names: tuple[str, str]) -> tuple[Figure, object]:
        """Return the manifold's matplotlib (figure, axes): the grid of digits on axes in slider values."""
        figure = new_figure(self.width, self.height)
        axes = add_axes(figure, self.LEFT, self.TOP, self.side, self.side)
        cells = _grid_image(digits, self.STEPS, self.cell, 0)
        low, high = self.extent
        axes.imshow(cells, cmap="gray", vmin=0, vmax=255, interpolation="nearest", aspect="auto",
                    extent=(low, high, low, high))
        ticks = np.arange(np.ceil(self.values[0]), np.floor(self.values[-1]) + 1)
        axes.set_xticks(ticks)
        axes.set_yticks(ticks)
        axes.set_xlabel(i18n.text("render.manifold.first", name=names[0]), fontsize=LABEL_PX, color=AXIS_GREY,
                        labelpad=2, family=font_family())
        axes.set_ylabel(i18n.text("render.manifold.second", name=names[1]), fontsize=LABEL_PX, color=AXIS_GREY,
                        labelpad=0, family=font_family())
        return figure, axes

    def to_slots(self, px: float, py: float) -> np.ndarray:
        """Return the slider values (2,) under pixel (px, py) of the picture (clamped to the grid's codes)."""
        low, high = self.extent
        u, v = (px - self.LEFT) / self.side, (py - self.TOP) / self.side
        codes = np.array([low + u * (high - low), high - v * (high - low)])
        return np.clip(codes, self.values[0], self.values[-1]).astype(np.float32)


# The readout picture's layout in pixels (rows, columns, margins, name length, fonts, dot radius), its
# colours and its shading (probability p -> rgb(255 - 225 p, 255 - 160 p, 255)): the page draws its live
# copy with these same numbers, which it gets from the server (ui/inpage.py).
READOUT_LAYOUT = {"row": 12, "cell": 34, "header": 96, "gap": 40, "right": 10, "bottom": 8, "label_chars": 14,
                  "label_inset": 6, "label_font": 12, "number_font": 9, "dot": 3, "shade": [225, 160],
                  "number_rgb": [110, 110, 110], "line_rgb": [220, 40, 40]}


def readout_picture(digit, row_probs: np.ndarray, class_names: list[str], rows_read: int | None = None) -> Image.Image:
    """Return the RNN's reading as a picture: the digit's rows beside its belief (rows x classes) after each row.

    Row r of the heatmap is aligned with row r of the digit; darker blue means higher probability,
    the black dot marks the class the RNN favours after that row. Rows not yet read are greyed out.
    """
    # Hand-drawn with PIL, not matplotlib: drawn on every release, where matplotlib is too slow
    # (bench/figure_speed.py); explore.js draws the same layout on its canvas.
    layout = READOUT_LAYOUT
    row_h, cell_w, header, dot = layout["row"], layout["cell"], layout["header"], layout["dot"]
    n_rows, n_classes = row_probs.shape
    rows_read = n_rows if rows_read is None else rows_read
    digit_w = n_rows * row_h
    left = digit_w + layout["gap"]
    width = left + n_classes * cell_w + layout["right"]
    height = header + n_rows * row_h + layout["bottom"]
    out = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(out)
    pixels = to_uint8(digit)
    picture = Image.fromarray(pixels, mode="L").resize((digit_w, n_rows * row_h), Image.Resampling.NEAREST).convert("RGB")
    out.paste(picture, (0, header))
    for c, name in enumerate(class_names):
        # Class names are written upwards so long names (fashion) still fit above narrow columns.
        label = Image.new("RGB", (header - layout["label_inset"], cell_w), "white")
        shown = name[:layout["label_chars"]]
        ImageDraw.Draw(label).text((2, cell_w // 2), shown, fill="black", font=label_font(layout["label_font"], shown),
                                   anchor="lm")
        out.paste(label.rotate(90, expand=True), (left + c * cell_w, 2))
    for r in range(n_rows):
        y = header + r * row_h
        draw.text((digit_w + layout["gap"] // 2, y + row_h // 2), str(r + 1), fill=tuple(layout["number_rgb"]),
                  font=font(layout["number_font"]), anchor="mm")
        best = int(np.argmax(row_probs[r]))
        for c in range(n_classes):
            p = float(row_probs[r, c])
            shade = (int(255 - layout["shade"][0] * p), int(255 - layout["shade"][1] * p), 255)
            draw.rectangle([left + c * cell_w, y, left + (c + 1) * cell_w - 2, y + row_h - 2], fill=shade)
        cx = left + best * cell_w + cell_w // 2 - 1
        draw.ellipse([cx - dot, y + row_h // 2 - 1 - dot, cx + dot, y + row_h // 2 - 1 + dot], fill="black")
    if rows_read < n_rows:
        # Grey veil over the rows the RNN has not read yet, on both the digit and the heatmap.
        veil = Image.new("RGBA", (width, (n_rows - rows_read) * row_h), (255, 255, 255, 190))
        out.paste(veil, (0, header + rows_read * row_h), veil)
    y = header + rows_read * row_h - 1
    draw.line([0, y, width, y], fill=tuple(layout["line_rgb"]), width=2)
    return quick_png(out)
