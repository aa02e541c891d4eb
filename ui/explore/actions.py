"""The Explore tab's actions as plain functions of (model view, reader, values): no gradio, errors are ValueErrors.

page.py wires these to components; the named API endpoints (api.py) call the same functions.
"""

import base64
import binascii
import math
import tempfile
import time
import urllib.parse
from pathlib import Path

import numpy as np
import torch

import i18n
from genmodels import latent
from genmodels.preprocess import PreparedDigit, load_image_file, prepare_digit_with_notes
from genmodels.vae import EXPLAIN_SAMPLES, Explanation
from i18n import Sentence, Text

from . import render
from .models import SLIDER_DECIMALS, SLIDER_LIMIT, ModelView, Reader, format_z


INTERPOLATION_METHODS = ("linear", "spherical")
TRAVERSAL_VALUES = np.linspace(-SLIDER_LIMIT, SLIDER_LIMIT, 9)
GIF_DIR = Path(tempfile.gettempdir()) / "latent-lab-gifs"
GIF_KEEP = 200  # newest GIFs kept for download; gradio copies each into its own cache when served
GIF_MAX_AGE_S = 3600.0
NO_READER_NOTE = Text("explore.no_reader_note")  # the readout's text without a reader
MAX_SEED = 2**31 - 1
MAX_DRAWING_CHARS = 2_000_000  # a drawing arrives as a PNG data URL; the canvas makes about 10 kB
PREVIEW_VALUES = np.linspace(-SLIDER_LIMIT, SLIDER_LIMIT, 7)
EXPLAIN_DRAW = 0  # torch seed of the eps draws /explain answers with and the panel shows first


def readout(reader: Reader, digit, rows_read: int | None = None) -> tuple[dict[str, float], object]:
    """Return ({class name: probability after `rows_read` rows (None or 0: all)}, readout picture) for a digit (side, side)."""
    rows_read = int(min(max(int(rows_read or reader.side), 1), reader.side))
    row_probs = reader.read_rows(digit)
    probs = {name: float(p) for name, p in zip(reader.class_names, row_probs[rows_read - 1])}
    return probs, render.readout_picture(digit, row_probs, reader.class_names, rows_read)


def class_probabilities(reader: Reader | None, digit) -> dict[str, float]:
    """Return {class name: probability} after the RNN has read all rows of a digit (side, side)."""
    if reader is None:
        raise Sentence("explore.no_reader")
    return {name: float(p) for name, p in zip(reader.class_names, reader.read_rows(digit)[-1])}


def label_value(probs: dict[str, float]) -> dict:
    """Return class probabilities as gr.Label sends them: {"label": top class, "confidences": [...] (most first)}."""
    ranked = sorted(probs.items(), key=lambda item: -item[1])
    return {"label": ranked[0][0], "confidences": [{"label": k, "confidence": p} for k, p in ranked]}


def page_readout(reader: Reader | None, digit, rows_read: int | None = None) -> tuple[dict[str, float] | str, object]:
    """Return readout() for the page, or (NO_READER_NOTE in the current language, None) when no reader is chosen."""
    if reader is None:
        return str(NO_READER_NOTE), None
    return readout(reader, digit, rows_read)


def share_query(view: ModelView, z) -> str:
    """Return the link query that reopens this model and code: ?model=...&z=... (no z at the origin)."""
    params = {"model": view.name}
    if np.any(np.round(np.asarray(z, dtype=np.float64), SLIDER_DECIMALS) != 0):
        params["z"] = format_z(z)
    return "?" + urllib.parse.urlencode(params, safe=",")


def seeded_generator(seed) -> torch.Generator | None:
    """Return a torch.Generator seeded with `seed` (0..2**31-1), or None for -1/None (a fresh random draw)."""
    if seed is None:
        return None
    try:
        value = float(seed)
    except (TypeError, ValueError, OverflowError):
        value = float("nan")
    if not math.isfinite(value) or value != int(value):
        raise Sentence("explore.seed_whole")
    value = int(value)
    if value == -1:
        return None
    if not 0 <= value <= MAX_SEED:
        raise Sentence("explore.seed_range", most=MAX_SEED)
    return torch.Generator().manual_seed(value)


def prepare_image(image) -> PreparedDigit:
    """Return the prepared digit (MNIST's preprocessing) and its notes for a file path/bytes, PIL image or array."""
    if isinstance(image, (str, Path, bytes, bytearray)):
        image = load_image_file(image)
    if image is None:
        raise Sentence("explore.no_image")
    return prepare_digit_with_notes(image)


def image_to_digit(image) -> torch.Tensor:
    """Return the prepared digit (1, side, side) (MNIST's preprocessing) for a file path/bytes, PIL image or array."""
    return prepare_image(image).image


def drawing_bytes(data_url) -> bytes | None:
    """Return the PNG bytes of the drawing canvas's value (a data: URL), or None when the canvas is empty."""
    if not data_url:
        return None
    if not isinstance(data_url, str) or len(data_url) > MAX_DRAWING_CHARS or "," not in data_url:
        raise Sentence("explore.drawing_unreadable")
    header, encoded = data_url.split(",", 1)
    if not header.startswith("data:image/"):
        raise Sentence("explore.drawing_unreadable")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise Sentence("explore.drawing_unreadable") from None


def endpoint_code(view: ModelView, choice: str, current_z, uploaded_z, generator=None) -> np.ndarray:
    """Return the code for an interpolation endpoint: 'current', 'random', 'upload' or 'centroid:<k>'."""
    if choice == "current":
        return np.asarray(current_z, dtype=np.float32)
    if choice == "random":
        return view.prior_sample(generator)
    if choice == "upload":
        if uploaded_z is None or len(uploaded_z) != view.dims:
            raise Sentence("explore.no_upload_yet")
        return np.asarray(uploaded_z, dtype=np.float32)
    if isinstance(choice, str) and choice.startswith("centroid:"):
        try:
            return view.centroid(int(choice.split(":", 1)[1]))
        except ValueError:
            raise Sentence("explore.unknown_endpoint_class", choice=choice[:40]) from None
    raise Sentence("explore.unknown_endpoint", choice=str(choice)[:40])


def endpoint_choices(view: ModelView) -> list[tuple[str, str]]:
    """Return the (label, value) choices for an interpolation endpoint of this model."""
    return [(str(text), value) for text, value in endpoint_texts(view)]


def endpoint_texts(view: ModelView) -> list[tuple[Text, str]]:
    """Return the interpolation endpoints of this model as (catalogue text, value): the value is the same
    in every language (an API caller sends it)."""
    fixed = [(Text("explore.endpoint_current"), "current"), (Text("explore.endpoint_random"), "random"),
             (Text("explore.endpoint_upload"), "upload")]
    return fixed + [(Text("explore.endpoint_centroid", name=name), f"centroid:{k}") for k, name in enumerate(view.class_names)]


def interpolate(view: ModelView, z0, z1, method: str, steps: int) -> tuple[object, bytes, np.ndarray]:
    """Return (strip picture, animated GIF bytes, codes (steps, dims)) along the path from z0 to z1."""
    if method not in INTERPOLATION_METHODS:
        raise Sentence("explore.method", methods=", ".join(INTERPOLATION_METHODS))
    steps = int(steps)
    if not 2 <= steps <= 24:
        raise Sentence("explore.steps", least=2, most=24)
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


def dimension_preview(view: ModelView, z, slot: int) -> str:
    """Return HTML: what slider `slot` does around code z, as a row of decodes with that dimension swept -3..3."""
    if not isinstance(slot, int) or not 0 <= slot < view.shown_slots:
        raise Sentence("explore.slider_not_in_model")
    d = view.order[slot]
    codes = np.repeat(np.asarray(z, dtype=np.float32).reshape(1, -1), len(PREVIEW_VALUES), axis=0)
    codes[:, d] = PREVIEW_VALUES
    return render.preview_html(view.decode(codes), PREVIEW_VALUES,
                               i18n.text("explore.preview_title", d=d, figure=view.dim_figure(d)))


def manifold_picture(view: ModelView) -> object:
    """Return the decoded-manifold grid of a 2-D model (None for other models)."""
    if view.manifold is None:
        return None
    slots = view.manifold.slot_codes()
    codes = np.zeros_like(slots)
    codes[:, view.order[:2]] = slots
    names = (f"z{view.order[0]}", f"z{view.order[1]}")
    return view.manifold.picture(view.decode(codes), names)


def traversal_grid(view: ModelView, z) -> object:
    """Return a picture: one row per active dimension (most KL first), that dimension swept from -3 to 3 around z."""
    dims = view.active_dims()
    if not dims:
        raise Sentence("explore.nothing_to_sweep")
    codes = latent.traversal(torch.as_tensor(z, dtype=torch.float32).reshape(1, -1), dims,
                             torch.as_tensor(TRAVERSAL_VALUES, dtype=torch.float32))
    digits = view.decode(codes.numpy()).reshape(len(dims), len(TRAVERSAL_VALUES), view.side, view.side)
    labels = [f"z{d}  {view.dim_figure(d)}" for d in dims]  # str() of the figure: in the current language
    columns = [f"{v:g}" for v in TRAVERSAL_VALUES]
    return render.grid(digits, labels, columns)


def explain_digit(view: ModelView, digit, draw: int = EXPLAIN_DRAW) -> Explanation:
    """Return VAE.explain() of one digit ((side, side) or (1, side, side), pixels in [0,1]) with eps drawn from torch
    seed `draw` (0..2**31-1): the same digit and draw give the same figures, in nats per image."""
    if not view.is_vae:
        raise Sentence("explore.not_a_vae", name=view.name)
    generator = seeded_generator(draw)
    if generator is None:
        raise Sentence("explore.draw_range", most=MAX_SEED)
    x = torch.as_tensor(np.asarray(digit, dtype=np.float32)).reshape(1, 1, view.side, view.side)
    return view.vae.explain(x, EXPLAIN_SAMPLES, generator)


def explanation_value(explanation: Explanation) -> dict:
    """Return /explain's answer for one image: mu, sigma, kl_per_dim (lists, one per latent dimension, in
    dimension order), kl, reconstruction and nelbo (nats per image), and the eps draws behind reconstruction."""
    first = {name: getattr(explanation, name)[0].detach().cpu()
             for name in ("mu", "sigma", "kl_per_dim", "kl", "reconstruction", "nelbo")}
    out = {name: value.tolist() for name, value in first.items()}
    out["samples"] = int(explanation.eps.shape[0])
    return out
