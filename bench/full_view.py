"""What the server does for one release of a slider (page.py full_view), part by part, in-process.

    .venv/bin/python bench/full_view.py            # 200 random codes on vae-mnist, read by rnn-mnist

Decode, the RNN's reading and its picture, the map with its marker, and gradio's saving of the two
pictures to its cache, the way gr.Image saves them: with the pictures as the app draws them (fast
PNG compression, render.quick_png) and, side by side in the same run, at Pillow's default level.
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradio import image_utils  # noqa: E402

from genmodels.registry import ModelRegistry  # noqa: E402
from ui.explore import actions  # noqa: E402
from ui.explore.models import ViewCache  # noqa: E402
from bench.timing import interleaved, print_table  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()
    views = ViewCache(ModelRegistry(ROOT / "checkpoints", device="cpu"))
    view, reader = views.get("vae-mnist"), views.reader("rnn-mnist")
    rng = np.random.default_rng(0)
    codes = iter(rng.standard_normal((10 * args.n, view.dims)).astype(np.float32))
    cache = tempfile.mkdtemp(prefix="full-view-bench-")
    digit = view.decode(next(codes))
    _, readout = actions.page_readout(reader, digit)
    marked = view.map.with_marker(view.project(next(codes)))

    def default_level(picture):  # the same picture without the app's fast-compression mark
        copy = picture.copy()
        copy.encoderinfo = {}
        return copy

    plain_readout, plain_map = default_level(readout), default_level(marked)
    rows = [
        ("decode", lambda: view.decode(next(codes))),
        ("RNN reading + its picture", lambda: actions.page_readout(reader, digit)),
        ("map with marker", lambda: view.map.with_marker(view.project(next(codes)))),
        ("save readout PNG (as the app does)", lambda: image_utils.save_image(readout, cache, "png")),
        ("save readout PNG (Pillow's default level)", lambda: image_utils.save_image(plain_readout, cache, "png")),
        ("save map PNG (as the app does)", lambda: image_utils.save_image(marked, cache, "png")),
        ("save map PNG (Pillow's default level)", lambda: image_utils.save_image(plain_map, cache, "png")),
    ]
    results = interleaved(rows, args.n)
    print(f"One release's full view, part by part ({args.n} calls each, interleaved; vae-mnist, rnn-mnist, CPU)\n")
    print_table(results, "part")
    sizes = {name: len(Path(image_utils.save_image(p, cache, "png")).read_bytes())
             for name, p in [("readout fast", readout), ("readout default", plain_readout),
                             ("map fast", marked), ("map default", plain_map)]}
    print("\nbytes: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    fast = statistics.median(results["save readout PNG (as the app does)"]) + statistics.median(
        results["save map PNG (as the app does)"])
    slow = statistics.median(results["save readout PNG (Pillow's default level)"]) + statistics.median(
        results["save map PNG (Pillow's default level)"])
    print(f"saving both pictures: fast / default = {fast / slow:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
