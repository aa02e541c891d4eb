"""Figures: matplotlib or PIL, for the pictures the Explore tab draws again on every slider release.

    .venv/bin/python bench/figure_speed.py            # 100 calls of each, interleaved; vae-mnist, rnn-mnist, CPU

The static figures (the map's base, the manifold, the traversal grid) are drawn by matplotlib
(ui/explore/render.py). Two pictures are drawn on every release of a slider: the map with the
current code's marker, and the RNN's row-by-row readout. This times, in the same run, each as the
app draws it (PIL; the marker on a copy of the matplotlib base) beside the same picture drawn by
matplotlib: the whole figure again, and for the marker also matplotlib's own fast path (blitting:
restore the rendered base, draw only the marker artist), which needs a lock per map because it
redraws one shared canvas. Ratios are matplotlib / PIL medians. Also: saving the marked map as
PNG the way gradio does on every release, the app's 128-colour palette against the RGB rendering.
"""

import argparse
import io
import statistics
import sys
import threading
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matplotlib.lines import Line2D  # noqa: E402

from genmodels.registry import ModelRegistry  # noqa: E402
from ui.explore import render  # noqa: E402
from ui.explore.render import quick_png  # noqa: E402
from ui.explore.models import ViewCache  # noqa: E402
from bench.timing import interleaved, print_table  # noqa: E402


def png_size(picture) -> int:
    """Return the size in bytes of `picture` saved as PNG the way gradio saves it (its encoderinfo: level 1)."""
    buffer = io.BytesIO()
    picture.save(buffer, format="png", **getattr(picture, "encoderinfo", {}))
    return len(buffer.getvalue())


def marker_artists(axes, xy) -> list[Line2D]:
    """Return the marker (white halo, black ring, cross) at PCA coordinates xy as matplotlib artists on `axes`."""
    return [Line2D([xy[0]], [xy[1]], marker="o", markersize=20, markerfacecolor="none", markeredgecolor="white",
                   markeredgewidth=5),
            Line2D([xy[0]], [xy[1]], marker="o", markersize=18, markerfacecolor="none", markeredgecolor="black",
                   markeredgewidth=3),
            Line2D([xy[0]], [xy[1]], marker="+", markersize=30, color="black", markeredgewidth=2)]


def map_redrawn(latent_map, class_names, xy):
    """Return the map with its marker, the whole figure drawn by matplotlib."""
    figure, axes = latent_map.figure(class_names)
    for artist in marker_artists(axes, np.clip(xy, latent_map.low, latent_map.high)):
        axes.add_line(artist)
    return render.figure_image(figure)


class BlittedMap:
    """The map's figure rendered once; each marker restores that rendering and draws only the marker (blitting)."""

    def __init__(self, latent_map, class_names):
        self.low, self.high = latent_map.low, latent_map.high
        self.figure, self.axes = latent_map.figure(class_names)
        self.figure.canvas.draw()
        self.background = self.figure.canvas.copy_from_bbox(self.figure.bbox)
        self.artists = marker_artists(self.axes, (0.0, 0.0))
        for artist in self.artists:
            artist.set_animated(True)
            self.axes.add_line(artist)
        self.lock = threading.Lock()  # one canvas shared by every request: one marker at a time

    def with_marker(self, xy):
        """Return the map with its marker as an RGB PIL image."""
        x, y = np.clip(xy, self.low, self.high)
        with self.lock:
            self.figure.canvas.restore_region(self.background)
            for artist in self.artists:
                artist.set_data([x], [y])
                self.axes.draw_artist(artist)
            return render.Image.fromarray(np.asarray(self.figure.canvas.buffer_rgba())[..., :3].copy(), mode="RGB")


def readout_matplotlib(digit, row_probs, class_names, rows_read):
    """Return the readout picture (the digit's rows beside the belief after each) drawn by matplotlib, same size."""
    reference = render.readout_picture(digit, row_probs, class_names, rows_read)
    width, height = reference.size
    figure = render.new_figure(width, height)
    header, row_h = 96, 12
    digit_axes = render.add_axes(figure, 0, header, 28 * row_h, 28 * row_h)
    digit_axes.imshow(render.to_uint8(digit), cmap="gray", vmin=0, vmax=255, interpolation="nearest", aspect="auto")
    digit_axes.set_axis_off()
    n_classes = row_probs.shape[1]
    heat_axes = render.add_axes(figure, 28 * row_h + 40, header, n_classes * 34, 28 * row_h)
    heat_axes.imshow(row_probs, cmap="Blues", vmin=0, vmax=1, interpolation="nearest", aspect="auto")
    best = row_probs.argmax(1)
    heat_axes.scatter(best, np.arange(28), s=30, c="black")
    heat_axes.set_xticks(range(n_classes), [name[:14] for name in class_names], rotation=90)
    heat_axes.xaxis.tick_top()
    heat_axes.set_yticks(range(28), [str(r + 1) for r in range(28)], fontsize=9)
    if rows_read < 28:
        heat_axes.axhspan(rows_read - 0.5, 27.5, color="white", alpha=0.75)
        digit_axes.axhspan(rows_read - 0.5, 27.5, color="white", alpha=0.75)
    heat_axes.axhline(rows_read - 0.5, color=(0.86, 0.16, 0.16), linewidth=2)
    return render.figure_image(figure)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=100)
    args = parser.parse_args()
    views = ViewCache(ModelRegistry(ROOT / "checkpoints", device="cpu"))
    view, reader = views.get("vae-mnist"), views.reader("rnn-mnist")
    rng = np.random.default_rng(0)
    codes = iter(rng.standard_normal((8 * args.n + 20, view.dims)).astype(np.float32))
    digit = view.decode(next(codes))
    row_probs = reader.read_rows(digit)
    blitted = BlittedMap(view.map, view.class_names)
    manifold = render.Manifold(3.0, view.side)
    grid_digits = np.stack([digit] * 90).reshape(10, 9, 28, 28)
    marked = view.map.with_marker(view.project(next(codes)))  # palette colours, as the app sends it
    marked_rgb = quick_png(marked.convert("RGB"))  # the anti-aliased rendering as matplotlib made it
    rows = [
        ("save map PNG: 128-colour palette (the app)", lambda: png_size(marked)),
        ("save map PNG: RGB rendering", lambda: png_size(marked_rgb)),
        ("map + marker: PIL on the matplotlib base (the app)", lambda: view.map.with_marker(view.project(next(codes)))),
        ("map + marker: matplotlib, whole figure", lambda: map_redrawn(view.map, view.class_names,
                                                                       view.project(next(codes)))),
        ("map + marker: matplotlib, blitted", lambda: blitted.with_marker(view.project(next(codes)))),
        ("readout: PIL (the app)", lambda: render.readout_picture(digit, row_probs, reader.class_names, 20)),
        ("readout: matplotlib", lambda: readout_matplotlib(digit, row_probs, reader.class_names, 20)),
        ("static: map base, matplotlib (once per model)", lambda: render.LatentMap(view.map.xy, view.map.labels,
                                                                                   view.class_names)),
        ("static: manifold, matplotlib (once per 2-D model)", lambda: manifold.picture(
            np.stack([digit] * manifold.STEPS ** 2), ("z0", "z1"))),
        ("static: traversal grid 10 x 9, matplotlib (per click)", lambda: render.grid(
            grid_digits, [f"z{k}" for k in range(10)], [f"{v:g}" for v in range(9)])),
    ]
    results = interleaved(rows, args.n)
    print(f"Figures drawn per release and once, {args.n} calls each, interleaved (vae-mnist, rnn-mnist, CPU)\n")
    print_table(results, "picture")
    medians = {name: statistics.median(times) for name, times in results.items()}
    app_map, app_readout = medians[rows[2][0]], medians[rows[5][0]]
    print(f"\nmap + marker, matplotlib / PIL: whole figure {medians[rows[3][0]] / app_map:.1f}x, "
          f"blitted {medians[rows[4][0]] / app_map:.1f}x; readout, matplotlib / PIL: "
          f"{medians[rows[6][0]] / app_readout:.1f}x")
    print(f"marked map PNG (compression level 1): palette {png_size(marked):,} bytes, RGB {png_size(marked_rgb):,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
