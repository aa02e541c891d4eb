"""Pictures for the Explore tab, drawn with PIL: digits, strips, grids, GIFs, the latent map, the manifold, the readout.

Pure functions of arrays (no gradio, no models) so they are fast and easy to test. Digits are
float arrays (28, 28) in [0,1], white ink on black, as the models see them.
"""

import base64
import html
import io
import threading

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Matplotlib's tab10: ten classes a student can tell apart.
CLASS_COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
                 (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


_fonts = threading.local()  # one FreeType face per thread: faces must not be shared between threads


def font(size: int = 13) -> ImageFont.ImageFont:
    """Return PIL's built-in scalable font at `size` pixels (loaded once per thread: loading costs more
    than drawing a label, and a picture has dozens)."""
    by_size = _fonts.__dict__.setdefault("by_size", {})
    if size not in by_size:
        by_size[size] = ImageFont.load_default(size=size)
    return by_size[size]


def quick_png(picture: Image.Image) -> Image.Image:
    """Return `picture` marked to be saved with fast PNG compression (Pillow reads `encoderinfo` when
    gradio saves it): the map and the readout are drawn again on every release, and level 1 saves
    them faster for somewhat larger files (BENCHMARKS.md, "One release's full view")."""
    picture.encoderinfo = {"compress_level": 1}
    return picture


def to_uint8(digit) -> np.ndarray:
    """Return a digit (28, 28) in [0,1] (numpy or torch) as uint8 grey levels 0..255."""
    arr = digit.detach().cpu().numpy() if hasattr(digit, "detach") else np.asarray(digit)
    return (np.clip(arr.reshape(arr.shape[-2], arr.shape[-1]), 0, 1) * 255 + 0.5).astype(np.uint8)


def png_bytes(digit) -> bytes:
    """Return a 28x28 greyscale PNG of `digit` (about 0.5 kB; fast compression for the slider path)."""
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(digit), mode="L").save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def digit_html(digit, alt: str = "decoded digit", data: dict | None = None) -> str:
    """Return an <img> holding the 28x28 PNG inline; CSS scales it up with hard pixel edges.

    With `data` ({"model", "reader", "z", "order"}) the picture comes in a frame that tells the
    page which code it shows, with a hidden <canvas> on top: a page that runs the models itself
    (ui/static/latent_lab.js, explore.js) paints the drag there without asking the server.
    """
    encoded = base64.b64encode(png_bytes(digit)).decode("ascii")
    img = f'<img class="ll-digit" alt="{alt}" src="data:image/png;base64,{encoded}">'
    if data is None:
        return img
    attributes = " ".join(f'data-{key}="{html.escape(str(value))}"' for key, value in data.items())
    return (f'<div class="ll-digit-frame" {attributes}>{img}'
            f'<canvas class="ll-digit-live" width="28" height="28" hidden></canvas></div>')


def preview_html(digits, values, title: str) -> str:
    """Return a titled row of small digits (N, 28, 28), each captioned with its slider value: what one slider does."""
    cells = "".join(
        f'<figure><img class="ll-digit-small" alt="at {v:+.1f}" src="data:image/png;base64,'
        f'{base64.b64encode(png_bytes(d)).decode("ascii")}"><figcaption>{v:+.1f}</figcaption></figure>'
        for d, v in zip(digits, values))
    return f'<div class="ll-preview"><p>{html.escape(title)}</p><div class="ll-preview-row">{cells}</div></div>'


def enlarge(digit, size: int = 280) -> Image.Image:
    """Return a digit as a size x size PIL image with visible pixels (nearest-neighbour upscaling)."""
    return Image.fromarray(to_uint8(digit), mode="L").resize((size, size), Image.Resampling.NEAREST)


def strip(digits, cell: int = 84, gap: int = 4) -> Image.Image:
    """Return a horizontal strip of digits (N, 28, 28), each cell x cell pixels."""
    digits = list(digits)
    out = Image.new("L", (len(digits) * (cell + gap) - gap, cell), 255)
    for i, d in enumerate(digits):
        out.paste(enlarge(d, cell), (i * (cell + gap), 0))
    return out


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
    return f'<img class="ll-anim" alt="interpolation animation" src="data:image/gif;base64,{encoded}">'


def grid(rows, row_labels: list[str], column_labels: list[str], cell: int = 56) -> Image.Image:
    """Return a labelled grid: rows (R, C, 28, 28) of digits, a label left of each row and above each column."""
    rows = np.asarray(rows)
    n_rows, n_cols = rows.shape[:2]
    left, top, gap = 120, 22, 2
    out = Image.new("RGB", (left + n_cols * (cell + gap), top + n_rows * (cell + gap)), "white")
    draw = ImageDraw.Draw(out)
    f = font(13)
    for c, text in enumerate(column_labels):
        draw.text((left + c * (cell + gap) + cell // 2, top // 2), text, fill="black", font=f, anchor="mm")
    for r in range(n_rows):
        y = top + r * (cell + gap)
        draw.text((6, y + cell // 2), row_labels[r], fill="black", font=f, anchor="lm")
        for c in range(n_cols):
            out.paste(enlarge(rows[r, c], cell).convert("RGB"), (left + c * (cell + gap), y))
    return out


class LatentMap:
    """The 2-D PCA map of encoded points as a picture, and the conversion between its pixels and PCA coordinates."""

    SIZE = 420
    MARGIN = 24

    def __init__(self, xy: np.ndarray, labels: np.ndarray, class_names: list[str]):
        self.xy = np.asarray(xy, dtype=np.float64)
        self.labels = np.asarray(labels, dtype=np.int64)
        low, high = self.xy.min(0), self.xy.max(0)
        pad = 0.08 * (high - low) + 1e-6
        self.low, self.high = low - pad, high + pad
        self.pixels = self.to_pixels(self.xy).astype(np.float32)  # where each point is drawn (a page gets these)
        self.base = self._draw_base(class_names)

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        """Return pixel positions (N, 2) (x right, y down) of PCA coordinates xy (N, 2)."""
        span = self.SIZE - 2 * self.MARGIN
        unit = (np.asarray(xy, dtype=np.float64) - self.low) / (self.high - self.low)
        return np.stack([self.MARGIN + unit[:, 0] * span, self.SIZE - self.MARGIN - unit[:, 1] * span], axis=1)

    def to_coordinates(self, px: float, py: float) -> np.ndarray:
        """Return the PCA coordinates (2,) under pixel (px, py) of the map picture."""
        span = self.SIZE - 2 * self.MARGIN
        unit = np.array([(px - self.MARGIN) / span, (self.SIZE - self.MARGIN - py) / span])
        return self.low + unit * (self.high - self.low)

    def nearest_point(self, px: float, py: float) -> tuple[int, float]:
        """Return (index, distance in pixels) of the stored map point closest to pixel (px, py)."""
        d = np.hypot(*(self.pixels - np.array([px, py])).T)
        i = int(np.argmin(d))
        return i, float(d[i])

    def _draw_base(self, class_names: list[str]) -> Image.Image:
        legend_width = 130
        out = Image.new("RGB", (self.SIZE + legend_width, self.SIZE), "white")
        draw = ImageDraw.Draw(out)
        edge = self.SIZE - self.MARGIN
        draw.rectangle([self.MARGIN, self.MARGIN, edge, edge], outline=(200, 200, 200))
        f = font(12)
        draw.text((self.SIZE // 2, self.SIZE - 8), "principal direction 1", fill=(90, 90, 90), font=f, anchor="mm")
        label = Image.new("RGB", (160, 14), "white")
        ImageDraw.Draw(label).text((80, 7), "principal direction 2", fill=(90, 90, 90), font=f, anchor="mm")
        out.paste(label.rotate(90, expand=True), (2, self.SIZE // 2 - 80))
        for (x, y), c in zip(self.pixels, self.labels):
            colour = CLASS_COLOURS[c % len(CLASS_COLOURS)]
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
        for c, name in enumerate(class_names):
            y = self.MARGIN + 8 + c * 20
            draw.ellipse([self.SIZE + 6, y - 5, self.SIZE + 16, y + 5], fill=CLASS_COLOURS[c % len(CLASS_COLOURS)])
            draw.text((self.SIZE + 22, y), name, fill="black", font=f, anchor="lm")
        return out

    def with_marker(self, xy: np.ndarray) -> Image.Image:
        """Return the map with the current code marked by a black ring and cross at PCA coordinates xy (2,).

        A code beyond the plotted area is marked on the plot's edge (in the direction it lies), so
        the marker never leaves the picture however far the sliders go.
        """
        out = self.base.copy()
        draw = ImageDraw.Draw(out)
        x, y = np.nan_to_num(self.to_pixels(np.asarray(xy, dtype=np.float64).reshape(1, 2))[0])
        x = float(np.clip(x, self.MARGIN, self.SIZE - self.MARGIN))
        y = float(np.clip(y, self.MARGIN, self.SIZE - self.MARGIN))
        draw.ellipse([x - 9, y - 9, x + 9, y + 9], outline="black", width=3)
        draw.line([x - 14, y, x + 14, y], fill="black", width=1)
        draw.line([x, y - 14, x, y + 14], fill="black", width=1)
        return quick_png(out)


class Manifold:
    """The classic picture of a 2-D VAE: decodes on a regular grid of z over [-limit, limit]^2.

    Column c holds the first slider's value (most KL) growing to the right, row r the second's
    growing upwards, as on a plot. Converts between the picture's pixels and slider values.
    """

    STEPS = 15
    CELL = 28
    MARGIN = 26

    def __init__(self, limit: float):
        self.values = np.linspace(-limit, limit, self.STEPS)

    def slot_codes(self) -> np.ndarray:
        """Return the (STEPS * STEPS, 2) slider values of the cells, row by row from the top."""
        first, second = np.meshgrid(self.values, self.values[::-1])
        return np.stack([first.ravel(), second.ravel()], axis=1).astype(np.float32)

    def picture(self, digits, names: tuple[str, str]) -> Image.Image:
        """Return the grid picture of digits (STEPS * STEPS, 28, 28) in slot_codes() order, with labelled axes."""
        side = self.STEPS * self.CELL
        out = Image.new("RGB", (self.MARGIN + side + 4, side + self.MARGIN), "white")
        for k, d in enumerate(np.asarray(digits)):
            r, c = divmod(k, self.STEPS)
            out.paste(enlarge(d, self.CELL).convert("RGB"), (self.MARGIN + c * self.CELL, r * self.CELL))
        draw = ImageDraw.Draw(out)
        f = font(12)
        low, high = self.values[0], self.values[-1]
        draw.text((self.MARGIN + side // 2, side + self.MARGIN // 2), f"{names[0]}: {low:g} to {high:g}",
                  fill=(60, 60, 60), font=f, anchor="mm")
        label = Image.new("RGB", (side, self.MARGIN - 6), "white")
        ImageDraw.Draw(label).text((side // 2, (self.MARGIN - 6) // 2), f"{names[1]}: {low:g} to {high:g}",
                                   fill=(60, 60, 60), font=f, anchor="mm")
        out.paste(label.rotate(90, expand=True), (2, 0))
        return out

    def to_slots(self, px: float, py: float) -> np.ndarray:
        """Return the slider values (2,) under pixel (px, py) of the picture (clamped to the grid)."""
        side = self.STEPS * self.CELL
        u = np.clip((px - self.MARGIN) / side, 0, 1)
        v = np.clip(py / side, 0, 1)
        low, high = self.values[0], self.values[-1]
        return np.array([low + u * (high - low), high - v * (high - low)], dtype=np.float32)


# The readout picture's layout in pixels (rows, columns, margins, name length, fonts, dot radius), its
# colours and its shading (probability p -> rgb(255 - 225 p, 255 - 160 p, 255)): the page draws its live
# copy with these same numbers, which it gets from the server (ui/inpage.py).
READOUT_LAYOUT = {"row": 12, "cell": 34, "header": 96, "gap": 40, "right": 10, "bottom": 8, "label_chars": 14,
                  "label_inset": 6, "label_font": 12, "number_font": 9, "dot": 3, "shade": [225, 160],
                  "number_rgb": [110, 110, 110], "line_rgb": [220, 40, 40]}


def readout_picture(digit, row_probs: np.ndarray, class_names: list[str], rows_read: int = 28) -> Image.Image:
    """Return the RNN's reading as a picture: the digit's rows beside its belief (28 rows x classes) after each row.

    Row r of the heatmap is aligned with row r of the digit; darker blue means higher probability,
    the black dot marks the class the RNN favours after that row. Rows not yet read are greyed out.
    """
    layout = READOUT_LAYOUT
    row_h, cell_w, header, dot = layout["row"], layout["cell"], layout["header"], layout["dot"]
    digit_w = 28 * row_h
    n_classes = row_probs.shape[1]
    left = digit_w + layout["gap"]
    width = left + n_classes * cell_w + layout["right"]
    height = header + 28 * row_h + layout["bottom"]
    out = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(out)
    f = font(layout["label_font"])
    pixels = to_uint8(digit)
    picture = Image.fromarray(pixels, mode="L").resize((digit_w, 28 * row_h), Image.Resampling.NEAREST).convert("RGB")
    out.paste(picture, (0, header))
    for c, name in enumerate(class_names):
        # Class names are written upwards so long names (fashion) still fit above narrow columns.
        label = Image.new("RGB", (header - layout["label_inset"], cell_w), "white")
        ImageDraw.Draw(label).text((2, cell_w // 2), name[:layout["label_chars"]], fill="black", font=f, anchor="lm")
        out.paste(label.rotate(90, expand=True), (left + c * cell_w, 2))
    for r in range(28):
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
    if rows_read < 28:
        # Grey veil over the rows the RNN has not read yet, on both the digit and the heatmap.
        veil = Image.new("RGBA", (width, (28 - rows_read) * row_h), (255, 255, 255, 190))
        out.paste(veil, (0, header + rows_read * row_h), veil)
    y = header + rows_read * row_h - 1
    draw.line([0, y, width, y], fill=tuple(layout["line_rgb"]), width=2)
    return quick_png(out)
