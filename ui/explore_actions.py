"""The Explore tab's actions as plain functions of (model view, values): no gradio, errors are ValueErrors.

ui/explore.py wires these to components; the named API endpoints call the same functions.
"""

import math
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from genmodels import latent
from genmodels.preprocess import load_image_file, prepare_digit

from . import explore_render as render
from .explore_models import SLIDER_LIMIT, ModelView

INTERPOLATION_METHODS = ("linear", "spherical")
TRAVERSAL_VALUES = np.linspace(-SLIDER_LIMIT, SLIDER_LIMIT, 9)
GIF_DIR = Path(tempfile.gettempdir()) / "latent-lab-gifs"
GIF_KEEP = 200  # newest GIFs kept for download; gradio copies each into its own cache when served
GIF_MAX_AGE_S = 3600.0
NO_READER = "no classifier for this data set"
MAX_SEED = 2**31 - 1


def readout(view: ModelView, digit, rows_read: int = 28) -> tuple[dict[str, float], object]:
    """Return ({class name: probability after `rows_read` rows}, readout picture) for a digit (28, 28)."""
    rows_read = int(min(max(int(rows_read or 28), 1), 28))
    row_probs = view.read_rows(digit)
    probs = {name: float(p) for name, p in zip(view.class_names, row_probs[rows_read - 1])}
    return probs, render.readout_picture(digit, row_probs, view.class_names, rows_read)


def class_probabilities(view: ModelView, digit) -> dict[str, float]:
    """Return {class name: probability} after the RNN has read all 28 rows of a digit (28, 28)."""
    return {name: float(p) for name, p in zip(view.class_names, view.read_rows(digit)[-1])}


def page_readout(view: ModelView, digit, rows_read: int = 28) -> tuple[dict[str, float] | str, object]:
    """Return readout() for the page, or (NO_READER, None) when no RNN matches the model's data set."""
    if view.rnn is None:
        return NO_READER, None
    return readout(view, digit, rows_read)


def seeded_generator(seed) -> torch.Generator | None:
    """Return a torch.Generator seeded with `seed` (0..2**31-1), or None for -1/None (a fresh random draw)."""
    if seed is None:
        return None
    try:
        value = float(seed)
    except (TypeError, ValueError, OverflowError):
        value = float("nan")
    if not math.isfinite(value) or value != int(value):
        raise ValueError("The seed must be a whole number (-1 for a random draw).")
    value = int(value)
    if value == -1:
        return None
    if not 0 <= value <= MAX_SEED:
        raise ValueError(f"The seed must be -1 (random) or a whole number from 0 to {MAX_SEED}.")
    return torch.Generator().manual_seed(value)


def image_to_digit(image) -> torch.Tensor:
    """Return the prepared 28x28 digit (1, 28, 28) for an uploaded file path/bytes, PIL image, array or sketch dict."""
    if isinstance(image, dict):  # gr.Sketchpad / ImageEditor value: the flattened drawing is 'composite'
        image = image.get("composite")
        if image is None:
            raise ValueError("The canvas is empty: draw a digit first.")
    if isinstance(image, (str, Path, bytes, bytearray)):
        image = load_image_file(image)
    if image is None:
        raise ValueError("No image was given: upload a PNG, JPEG or WebP file or draw a digit.")
    return prepare_digit(image)


def endpoint_code(view: ModelView, choice: str, current_z, uploaded_z, generator=None) -> np.ndarray:
    """Return the code for an interpolation endpoint: 'current', 'random', 'upload' or 'centroid:<k>'."""
    if choice == "current":
        return np.asarray(current_z, dtype=np.float32)
    if choice == "random":
        return view.prior_sample(generator)
    if choice == "upload":
        if uploaded_z is None or len(uploaded_z) != view.dims:
            raise ValueError("No uploaded or drawn digit yet for this model: upload or draw one first.")
        return np.asarray(uploaded_z, dtype=np.float32)
    if isinstance(choice, str) and choice.startswith("centroid:"):
        try:
            return view.centroid(int(choice.split(":", 1)[1]))
        except ValueError:
            raise ValueError(f"Unknown class in endpoint {choice!r}.") from None
    raise ValueError(f"Unknown interpolation endpoint {choice!r}.")


def endpoint_choices(view: ModelView) -> list[tuple[str, str]]:
    """Return the (label, value) choices for an interpolation endpoint of this model."""
    fixed = [("current z (the sliders)", "current"), ("random draw from the prior", "random"),
             ("your uploaded / drawn digit", "upload")]
    return fixed + [(f"centroid of {name!r}", f"centroid:{k}") for k, name in enumerate(view.class_names)]


def interpolate(view: ModelView, z0, z1, method: str, steps: int) -> tuple[object, bytes, np.ndarray]:
    """Return (strip picture, animated GIF bytes, codes (steps, dims)) along the path from z0 to z1."""
    if method not in INTERPOLATION_METHODS:
        raise ValueError(f"Interpolation must be one of {', '.join(INTERPOLATION_METHODS)}.")
    steps = int(steps)
    if not 2 <= steps <= 24:
        raise ValueError("Use between 2 and 24 interpolation steps.")
    a, b = torch.as_tensor(z0, dtype=torch.float32), torch.as_tensor(z1, dtype=torch.float32)
    codes = (latent.lerp if method == "linear" else latent.slerp)(a, b, steps).numpy()
    digits = view.decode(codes)
    return render.strip(digits), render.gif_bytes(digits), codes


def save_gif(data: bytes, folder: Path = GIF_DIR) -> str:
    """Return the path of a new temporary .gif file holding `data` (gradio serves it for download).

    Old files are pruned first so the folder stays small however long the app runs.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    prune_gifs(folder, keep=GIF_KEEP - 1)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".gif", prefix="interpolation-", delete=False) as f:
        f.write(data)
        return f.name


def prune_gifs(folder: Path = GIF_DIR, keep: int = GIF_KEEP, max_age_s: float = GIF_MAX_AGE_S) -> int:
    """Delete interpolation GIFs older than `max_age_s` seconds or beyond the newest `keep`; return how many went."""
    now = time.time()
    aged = []
    for path in Path(folder).glob("interpolation-*.gif"):
        try:
            aged.append((path.stat().st_mtime, path))
        except OSError:  # another request pruned it already
            continue
    aged.sort(reverse=True)
    removed = 0
    for rank, (mtime, path) in enumerate(aged):
        if rank >= keep or now - mtime > max_age_s:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def traversal_grid(view: ModelView, z) -> object:
    """Return a picture: one row per active dimension (most KL first), that dimension swept from -3 to 3 around z."""
    dims = view.active_dims()
    if not dims:
        raise ValueError("This model uses none of its latent dimensions (all KL near zero), so there is nothing to sweep.")
    codes = latent.traversal(torch.as_tensor(z, dtype=torch.float32).reshape(1, -1), dims,
                             torch.as_tensor(TRAVERSAL_VALUES, dtype=torch.float32))
    digits = view.decode(codes.numpy()).reshape(len(dims), len(TRAVERSAL_VALUES), 28, 28)
    labels = [f"z{d}  KL {view.kl[d]:.2f}" for d in dims]
    columns = [f"{v:g}" for v in TRAVERSAL_VALUES]
    return render.grid(digits, labels, columns)
