"""What the Explore tab needs from checkpoints: an autoencoder's view (models, latent analysis, map, slider
order) and RNN readers.

No gradio here: handlers turn the ValueErrors raised below into one-sentence messages.
A `ModelView` or `Reader` is shared by all sessions and never modified after it is built.
"""

import hashlib
import threading
from pathlib import Path

import numpy as np
import torch

from genmodels import latent
from i18n import Sentence, Text
from genmodels.checkpoints import CONFIG_FILE, file_signature

from .render import LatentMap, Manifold

LATENT_SLOTS = 20  # sliders on the page; a model with more dimensions shows its 20 most informative
SLIDER_LIMIT = 3.0  # sliders span -3..3 standard deviations of the prior N(0, I)
SLIDER_DECIMALS = 2  # a code on the sliders (and in links) is rounded to this many decimals
API_LIMIT = 10.0  # codes further than this from the origin are certainly typing mistakes
ACTIVE_KL = 0.05  # nats: below this a dimension carries (almost) no information about the digit
ACTIVE_VARIANCE = 1e-3  # a plain autoencoder's code dimension that varies less than this over the digits is unused
EXPLORABLE_TYPES = tuple(latent.ORDER_KEYS)  # the model types the explorer shows: the VAE and the plain autoencoder
MAX_TRAVERSAL_ROWS = 10
NO_READER_VALUE = "none"  # the Reader dropdown's value for "no RNN reads the picture"
DEFAULT_MODEL = "vae-mnist"  # the VAE the tab and its API use when none is named
SNAP_PIXELS = 10.0  # a map click this close to a dot loads that dot's real code


class Reader:
    """A RowRNN checkpoint that reads square pictures row by row, with the names of its classes."""

    def __init__(self, registry, name: str):
        entry = registry.entry(name)
        if entry.model_type != "rnn":
            raise Sentence("explore.not_a_reader", name=name, kind=entry.model_type.upper())
        self.name = name
        self.path = Path(entry.path)
        self.stamp = file_signature(self.path / CONFIG_FILE)
        self.rnn = registry.load(name)
        self.class_names = list(entry.class_names)
        self.dataset = entry.dataset
        self.side = self.rnn.config.side  # pictures are side x side pixels, read as side rows

    @torch.no_grad()
    def read_rows(self, digit) -> np.ndarray:
        """Return the class probabilities after each row of a digit (side, side): (side, classes)."""
        x = torch.as_tensor(np.asarray(digit, dtype=np.float32).reshape(1, self.side, self.side), device=self.rnn.device)
        return self.rnn.read_rows(x)[0].cpu().numpy()


def explorable_entries(registry) -> list:
    """Return the registry's entries the explorer can show (VAEs and plain autoencoders), shipped ones first."""
    return [e for e in registry.entries() if e.model_type in EXPLORABLE_TYPES]


def explorable_names(registry) -> list[str]:
    """Return the names of the checkpoints the explorer can show."""
    return [e.name for e in explorable_entries(registry)]


class ModelView:
    """A loaded VAE (or plain autoencoder) checkpoint with everything the explorer draws from it."""

    def __init__(self, registry, name: str):
        entry = registry.entry(name)
        if entry.model_type not in EXPLORABLE_TYPES:
            raise Sentence("explore.not_explorable", name=name, kind=entry.model_type.upper())
        self.name = name
        self.model_type = entry.model_type
        self.is_vae = entry.model_type == "vae"  # only a VAE has a posterior, a KL and an ELBO to explain
        self.title = entry.title
        self.path = Path(entry.path)
        # Saves swap in a new folder, so config.json's inode (part of the signature) changes with
        # every save, even two within one tick of the file clock. Read before loading: a save in
        # between only causes a reload.
        self.stamp = file_signature(self.path / CONFIG_FILE)
        self.vae = registry.load(name)
        self.side = self.vae.config.side  # its images are side x side pixels
        self.default_reader = registry.classifier_for(name)  # an RNN trained on the same data set, or None
        self.dataset = entry.dataset
        self.class_names = list(entry.class_names)
        self.epochs = entry.epochs_trained
        self.metrics = entry.metrics
        analysis = latent.load_analysis(self.path)
        # A VAE's KL per dimension, or a plain autoencoder's code variance over the validation digits
        # (its codes have no posterior, so no KL): what orders the sliders and marks a dimension unused.
        score = analysis[latent.ORDER_KEYS[self.model_type]]
        self.kl = score.float().numpy()
        self.order = latent.kl_order(score)  # slider slot i shows dimension order[i]
        self.active_score = ACTIVE_KL if self.is_vae else ACTIVE_VARIANCE
        self.centroids = analysis["centroids"].float()
        self.pca_mean = analysis["pca_mean"].float()
        self.pca_components = analysis["pca_components"].float()
        self.map_z = analysis["map_z"].float()
        self.map = LatentMap(analysis["map_xy"].numpy(), analysis["map_labels"].numpy(), self.class_names)
        # Map pixel -> code on the PCA plane is affine: z = [px, py, 1] @ map_plane (3, dims).
        corners = torch.as_tensor(np.stack([self.map.to_coordinates(x, y) for x, y in [(0, 0), (1, 0), (0, 1)]]))
        at = latent.unproject(corners, self.pca_mean.double(), self.pca_components.double())
        self.map_plane = torch.stack([at[1] - at[0], at[2] - at[0], at[0]]).float()
        self.dims = int(self.kl.shape[0])
        self.manifold = Manifold(SLIDER_LIMIT, self.side) if self.dims == 2 else None

    # --- codes <-> sliders -------------------------------------------------------------------
    @property
    def shown_slots(self) -> int:
        """Return how many sliders this model uses: one per dimension, at most LATENT_SLOTS."""
        return min(self.dims, LATENT_SLOTS)

    def slots_to_z(self, slots, base=None) -> np.ndarray:
        """Return the code z (dims,) from slider values in slot (KL) order.

        Dimensions without a slider (a model with more than LATENT_SLOTS) keep their value from
        `base`, the session's full code, so editing a slider never zeroes them; 0 without a base.
        """
        z = np.zeros(self.dims, dtype=np.float32)
        if base is not None and len(base) == self.dims:
            z[:] = np.asarray(base, dtype=np.float32)
        n = min(self.shown_slots, len(slots))
        values = [0.0 if v is None else float(v) for v in slots[:n]]
        if not np.isfinite(values).all():  # only a caller of the API can send one: the page's sliders cannot
            raise Sentence("explore.z_not_finite")
        z[self.order[:n]] = values
        return z

    def z_to_slots(self, z) -> list[float]:
        """Return the LATENT_SLOTS slider values (slot order) for code z, clipped to the slider range
        and rounded; sliders this model does not use get 0."""
        z = np.clip(np.asarray(z, dtype=np.float64), -SLIDER_LIMIT, SLIDER_LIMIT)
        values = [round(float(z[d]), SLIDER_DECIMALS) for d in self.slider_dims()]
        return values + [0.0] * (LATENT_SLOTS - len(values))

    def slider_dims(self) -> list[int]:
        """Return the dimension each slider shows, in slot order (most KL first)."""
        return [int(d) for d in self.order[:self.shown_slots]]

    def dim_figure(self, d: int) -> Text:
        """Return what orders dimension d's slider, as shown beside it: 'KL 2.13' (nats) or, for a plain
        autoencoder, 'var 1.42' (the variance of its codes of the validation digits)."""
        return Text("explore.figure_kl" if self.is_vae else "explore.figure_var", value=float(self.kl[d]))

    def order_text(self) -> Text:
        """Return one sentence saying how the sliders are ordered for this model."""
        return Text("explore.order_kl" if self.is_vae else "explore.order_variance")

    def order_note(self) -> str:
        """Return order_text() in the current language."""
        return str(self.order_text())

    def slider_text(self, slot: int) -> Text:
        """Return the label of slider `slot`: its dimension and its ordering figure (dim_figure)."""
        if slot >= self.shown_slots:
            return Text("explore.slider_not_used")
        d = int(self.order[slot])
        unused = self.kl[d] < self.active_score
        return Text("explore.slider_unused" if unused else "explore.slider", d=d, figure=self.dim_figure(d))

    def slider_label(self, slot: int) -> str:
        """Return slider_text() in the current language."""
        return str(self.slider_text(slot))

    def active_dims(self) -> list[int]:
        """Return the dimensions carrying information (KL, or code variance, above its threshold), most first,
        at most MAX_TRAVERSAL_ROWS."""
        return [d for d in self.order if self.kl[d] >= self.active_score][:MAX_TRAVERSAL_ROWS]

    # --- model calls (read-only; no_grad) -------------------------------------------------------
    @torch.no_grad()
    def decode(self, z) -> np.ndarray:
        """Return the decoded image(s) for z (dims,) or (N, dims): (side, side) or (N, side, side) in [0,1]."""
        zt = torch.as_tensor(np.asarray(z, dtype=np.float32), device=self.vae.device)
        single = zt.dim() == 1
        images = self.vae.decode(zt.reshape(-1, self.dims)).reshape(-1, self.side, self.side).cpu().numpy()
        return images[0] if single else images

    @torch.no_grad()
    def encode(self, digit: torch.Tensor) -> np.ndarray:
        """Return the posterior mean mu (dims,) of a prepared digit (1, side, side) (an autoencoder: its code)."""
        codes = self.vae.encode(digit.reshape(1, 1, self.side, self.side).to(self.vae.device))
        mu = codes[0] if self.is_vae else codes  # a VAE's (mu, logvar), an autoencoder's code
        return mu[0].cpu().numpy()

    def project(self, z) -> np.ndarray:
        """Return the 2-D map coordinates (2,) of code z."""
        zt = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(1, -1)
        return latent.project(zt, self.pca_mean, self.pca_components)[0].numpy()

    def code_at_map_pixel(self, px: float, py: float) -> tuple[np.ndarray, Text]:
        """Return (z, how) for a click on the map: the full code of a stored point when the click is on one,
        else the point on the PCA plane (the other directions at their average)."""
        i, distance = self.map.nearest_point(px, py)
        if distance <= SNAP_PIXELS:
            k = int(self.map.labels[i])
            label = self.class_names[k] if k < len(self.class_names) else str(k)
            return self.map_z[i].numpy().copy(), Text("explore.map_real", label=label)
        return (torch.tensor([px, py, 1.0], dtype=torch.float32) @ self.map_plane).numpy(), Text("explore.map_plane")

    def code_at_manifold_pixel(self, px: float, py: float) -> np.ndarray:
        """Return the code (2,) under pixel (px, py) of a 2-D model's manifold grid."""
        if self.manifold is None:
            raise Sentence("explore.manifold_only_2d")
        z = np.zeros(2, dtype=np.float32)
        z[self.order[:2]] = self.manifold.to_slots(px, py)
        return z

    def centroid(self, class_index: int) -> np.ndarray:
        """Return the mean code (dims,) of validation images of class `class_index`."""
        if not 0 <= class_index < len(self.centroids):
            raise Sentence("explore.no_class", k=class_index)
        return self.centroids[class_index].numpy().copy()

    def page_tensors(self) -> dict[str, torch.Tensor]:
        """Return what a page needs to move z itself (ui/inpage.py): the centroids and the map's
        points (pixels, codes) and plane, exactly as centroid() and code_at_map_pixel() use them."""
        return {"centroids": self.centroids, "map_pixels": torch.as_tensor(self.map.pixels, dtype=torch.float32),
                "map_z": self.map_z, "map_plane": self.map_plane}

    def prior_sample(self, generator: torch.Generator | None = None) -> np.ndarray:
        """Return a code (dims,) drawn from the prior N(0, I)."""
        return torch.randn(self.dims, generator=generator).numpy()

    def summary(self) -> Text:
        """Return a one-paragraph Markdown summary of this checkpoint for students."""
        figure = "val_nelbo" if self.is_vae else "val_recon"
        value = self.metrics.get(figure)
        fit = (Text("explore.fit_nelbo" if self.is_vae else "explore.fit_recon", value=value)
               if isinstance(value, (int, float)) else "")
        active = len([d for d in range(self.dims) if self.kl[d] >= self.active_score])
        hidden = (Text("explore.hidden_kl" if self.is_vae else "explore.hidden_variance", shown=LATENT_SLOTS,
                       rest=self.dims - LATENT_SLOTS) if self.dims > LATENT_SLOTS else "")
        kind = "" if self.is_vae else Text("explore.plain_autoencoder", order=self.order_text())
        title = f"**{self.title}** (`{self.name}`)" if self.title else f"**{self.name}**"
        return Text("explore.summary", title=title, dataset=self.dataset, epochs=self.epochs, fit=fit, active=active,
                    dims=self.dims, hidden=hidden, kind=kind)

    def describe(self) -> str:
        """Return summary() in the current language."""
        return str(self.summary())


class ViewCache:
    """ModelViews and Readers by checkpoint name, rebuilt when a checkpoint's config.json changes (a run saved)."""

    def __init__(self, registry):
        self.registry = registry
        self._views: dict[str, ModelView] = {}
        self._readers: dict[str, Reader] = {}
        self._lock = threading.Lock()

    def _cached(self, store: dict, kind, name: str, what: str):
        if not isinstance(name, str) or not name:
            raise Sentence(f"explore.no_{what}_selected")
        item = store.get(name)
        if item is not None and file_signature(item.path / CONFIG_FILE) == item.stamp:
            return item  # fast path: one stat() per request, no directory listing
        with self._lock:
            item = kind(self.registry, name)
            store[name] = item
            return item

    def get(self, name: str) -> ModelView:
        """Return the view of VAE or autoencoder checkpoint `name` (ValueError if unknown or neither)."""
        return self._cached(self._views, ModelView, name, "model")

    def reader(self, name: str | None) -> Reader | None:
        """Return the RowRNN reader `name`, or None for no reader (None, '' or NO_READER_VALUE)."""
        if name in (None, "", NO_READER_VALUE):
            return None
        return self._cached(self._readers, Reader, name, "reader")

    def reader_for(self, model_name: str) -> Reader | None:
        """Return the reader of a VAE's data set (the API's default), or None when no RNN matches it."""
        return self.reader(self.get(model_name).default_reader)


def in_page_version(view: ModelView, reader: Reader | None) -> str:
    """Return a short name for this version of a model and its reader (it changes when either is saved
    again): a page keeps the models it loaded under it (ui/inpage.py, explore.js)."""
    stamps = (view.name, view.stamp, reader.name if reader else None, reader.stamp if reader else None)
    return hashlib.sha256(repr(stamps).encode()).hexdigest()[:16]


def parse_z(values, dims: int, limit: float = API_LIMIT) -> np.ndarray:
    """Return a code (dims,) float32 from a list of numbers or a comma-separated string; ValueError otherwise."""
    if isinstance(values, str):
        parts = [p for p in values.replace(";", ",").split(",") if p.strip()]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise Sentence("explore.z_commas") from None
    if isinstance(values, (dict, bytes)) or not hasattr(values, "__len__"):
        raise Sentence("explore.z_numbers", dims=dims)
    if len(values) != dims:
        raise Sentence("explore.z_count", dims=dims, got=len(values))
    # bool is a kind of int in Python, but true/false in a code is a caller's mistake, not a number.
    if any(isinstance(v, (bool, str, bytes)) for v in values):
        raise Sentence("explore.z_numbers", dims=dims)
    try:
        z = np.array([float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise Sentence("explore.z_numbers", dims=dims) from None
    if not np.isfinite(z).all():
        raise Sentence("explore.z_not_finite")
    if np.abs(z).max() > limit:
        raise Sentence("explore.z_range", limit=f"{limit:g}", got=f"{float(np.abs(z).max()):.3g}")
    return z.astype(np.float32)


def format_z(z) -> str:
    """Return z as a short comma-separated string (SLIDER_DECIMALS decimals, trailing zeros dropped) for URLs."""
    parts = []
    for v in np.asarray(z, dtype=np.float64):
        text = f"{v:.{SLIDER_DECIMALS}f}".rstrip("0").rstrip(".")
        parts.append("0" if text in ("-0", "") else text)
    return ",".join(parts)
