"""What the Explore tab needs from one VAE checkpoint: its models, latent analysis, map and KL order.

No gradio here: handlers in ui/explore.py turn the ValueErrors raised below into gr.Error.
A `ModelView` is shared by all sessions and never modified after it is built.
"""

import threading
from pathlib import Path

import numpy as np
import torch

from genmodels import latent
from genmodels.checkpoints import CONFIG_FILE
from genmodels.checkpoints import file_signature

from .explore_render import LatentMap

LATENT_SLOTS = 20  # sliders on the page; a model with more dimensions shows its 20 most informative
SLIDER_LIMIT = 3.0  # sliders span -3..3 standard deviations of the prior N(0, I)
API_LIMIT = 10.0  # codes further than this from the origin are certainly typing mistakes
ACTIVE_KL = 0.05  # nats: below this a dimension carries (almost) no information about the digit
MAX_TRAVERSAL_ROWS = 10


class ModelView:
    """A loaded VAE checkpoint (plus the RNN for its data set) with everything the explorer draws from it."""

    def __init__(self, registry, name: str):
        entry = registry.entry(name)
        if entry.model_type != "vae":
            raise ValueError(f"{name!r} is a {entry.model_type.upper()} checkpoint; the explorer needs a VAE.")
        self.name = name
        self.path = Path(entry.path)
        # Saves swap in a new folder, so config.json's inode (part of the signature) changes with
        # every save, even two within one tick of the file clock. Read before loading: a save in
        # between only causes a reload.
        self.stamp = file_signature(self.path / CONFIG_FILE)
        self.vae = registry.load(name)
        rnn_name = registry.classifier_for(name)
        self.rnn = registry.load(rnn_name) if rnn_name else None
        self.rnn_name = rnn_name
        self.dataset = entry.dataset
        self.class_names = list(entry.class_names)
        self.epochs = entry.epochs_trained
        self.metrics = entry.metrics
        analysis = latent.load_analysis(self.path)
        self.kl = analysis["kl_per_dim"].float().numpy()
        self.order = latent.kl_order(analysis["kl_per_dim"])  # slider slot i shows dimension order[i]
        self.centroids = analysis["centroids"].float()
        self.pca_mean = analysis["pca_mean"].float()
        self.pca_components = analysis["pca_components"].float()
        self.map_z = analysis["map_z"].float()
        self.map = LatentMap(analysis["map_xy"].numpy(), analysis["map_labels"].numpy(), self.class_names)
        self.dims = int(self.kl.shape[0])

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
        z[self.order[:n]] = [0.0 if v is None else float(v) for v in slots[:n]]
        return z

    def z_to_slots(self, z) -> list[float]:
        """Return the LATENT_SLOTS slider values (slot order) for code z, clipped to the slider range
        and rounded; sliders this model does not use get 0."""
        z = np.clip(np.asarray(z, dtype=np.float64), -SLIDER_LIMIT, SLIDER_LIMIT)
        values = [round(float(z[d]), 2) for d in self.order[:self.shown_slots]]
        return values + [0.0] * (LATENT_SLOTS - len(values))

    def slider_label(self, slot: int) -> str:
        """Return the label of slider `slot`: its dimension and measured KL in nats."""
        if slot >= self.shown_slots:
            return "(not used by this model)"
        d = self.order[slot]
        flag = "" if self.kl[d] >= ACTIVE_KL else " (unused)"
        return f"z{d} · KL {self.kl[d]:.2f}{flag}"

    def active_dims(self) -> list[int]:
        """Return the dimensions carrying information (KL above ACTIVE_KL), most informative first, at most 10."""
        return [d for d in self.order if self.kl[d] >= ACTIVE_KL][:MAX_TRAVERSAL_ROWS]

    # --- model calls (read-only; no_grad) -------------------------------------------------------
    @torch.no_grad()
    def decode(self, z) -> np.ndarray:
        """Return the decoded image(s) for z (dims,) or (N, dims): (28, 28) or (N, 28, 28) in [0,1]."""
        zt = torch.as_tensor(np.asarray(z, dtype=np.float32), device=self.vae.device)
        single = zt.dim() == 1
        images = self.vae.decode(zt.reshape(-1, self.dims)).reshape(-1, 28, 28).cpu().numpy()
        return images[0] if single else images

    @torch.no_grad()
    def encode(self, digit: torch.Tensor) -> np.ndarray:
        """Return the posterior mean mu (dims,) of a prepared digit (1, 28, 28)."""
        mu, _ = self.vae.encode(digit.reshape(1, 1, 28, 28).to(self.vae.device))
        return mu[0].cpu().numpy()

    @torch.no_grad()
    def read_rows(self, digit) -> np.ndarray:
        """Return the RNN's class probabilities after each of the 28 rows, (28, classes)."""
        if self.rnn is None:
            raise ValueError(f"There is no classifier (RNN) for the data set {self.dataset!r} of model {self.name!r}, "
                             "so this image cannot be read; train an RNN on that data set first.")
        x = torch.as_tensor(np.asarray(digit, dtype=np.float32).reshape(1, 28, 28), device=self.rnn.device)
        return self.rnn.read_rows(x)[0].cpu().numpy()

    def project(self, z) -> np.ndarray:
        """Return the 2-D map coordinates (2,) of code z."""
        zt = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(1, -1)
        return latent.project(zt, self.pca_mean, self.pca_components)[0].numpy()

    def code_at_map_pixel(self, px: float, py: float, snap_pixels: float = 10.0) -> tuple[np.ndarray, str]:
        """Return (z, how) for a click on the map: the full code of a stored point when the click is on one,
        else the point on the PCA plane (the other directions at their average)."""
        i, distance = self.map.nearest_point(px, py)
        if distance <= snap_pixels:
            label = self.class_names[int(self.map.labels[i])]
            return self.map_z[i].numpy().copy(), f"a real encoded {label!r} from the validation set"
        xy = torch.as_tensor(self.map.to_coordinates(px, py), dtype=torch.float32).reshape(1, 2)
        return latent.unproject(xy, self.pca_mean, self.pca_components)[0].numpy(), "a point on the map's plane"

    def centroid(self, class_index: int) -> np.ndarray:
        """Return the mean code (dims,) of validation images of class `class_index`."""
        if not 0 <= class_index < len(self.centroids):
            raise ValueError(f"There is no class number {class_index} in this model.")
        return self.centroids[class_index].numpy().copy()

    def prior_sample(self, generator: torch.Generator | None = None) -> np.ndarray:
        """Return a code (dims,) drawn from the prior N(0, I)."""
        return torch.randn(self.dims, generator=generator).numpy()

    def describe(self) -> str:
        """Return a one-paragraph Markdown summary of this checkpoint for students."""
        nelbo = self.metrics.get("val_nelbo")
        fit = f", validation −ELBO {nelbo:.1f} nats/image" if isinstance(nelbo, (int, float)) else ""
        active = len([d for d in range(self.dims) if self.kl[d] >= ACTIVE_KL])
        reader = f"RNN reader: `{self.rnn_name}`" if self.rnn_name else "no classifier for this data set"
        hidden = (f" · the sliders show the {LATENT_SLOTS} with most KL; the other {self.dims - LATENT_SLOTS} "
                  "keep their values" if self.dims > LATENT_SLOTS else "")
        return (f"**{self.name}** · data set `{self.dataset}` · {self.epochs} epochs{fit} · "
                f"{active} of {self.dims} latent dimensions in use{hidden} · {reader}")


class ViewCache:
    """ModelViews by checkpoint name, rebuilt when the checkpoint's config.json changes (a run saved a better epoch)."""

    def __init__(self, registry):
        self.registry = registry
        self._views: dict[str, ModelView] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> ModelView:
        """Return the view of VAE checkpoint `name` (ValueError if unknown or not a VAE)."""
        if not isinstance(name, str) or not name:
            raise ValueError("No model is selected; choose one in the Model list.")
        view = self._views.get(name)
        if view is not None and file_signature(view.path / CONFIG_FILE) == view.stamp:
            return view  # fast path: one stat() per request, no directory listing
        with self._lock:
            view = ModelView(self.registry, name)
            self._views[name] = view
            return view


def parse_z(values, dims: int, limit: float = API_LIMIT) -> np.ndarray:
    """Return a code (dims,) float32 from a list of numbers or a comma-separated string; ValueError otherwise."""
    if isinstance(values, str):
        parts = [p for p in values.replace(";", ",").split(",") if p.strip()]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise ValueError("z must be a list of numbers separated by commas.") from None
    if isinstance(values, dict) or not hasattr(values, "__len__"):
        raise ValueError(f"z must be a list of {dims} numbers.")
    if len(values) != dims:
        raise ValueError(f"z must have exactly {dims} numbers (one per latent dimension); got {len(values)}.")
    try:
        z = np.array([float(v) for v in values], dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError(f"z must be a list of {dims} numbers.") from None
    if not np.isfinite(z).all():
        raise ValueError("z contains NaN or infinity; use ordinary numbers.")
    if np.abs(z).max() > limit:
        raise ValueError(f"z values must lie between -{limit:g} and {limit:g} (the prior is N(0, 1)); "
                         f"got {float(np.abs(z).max()):.3g}.")
    return z


def format_z(z) -> str:
    """Return z as a short comma-separated string (2 decimals, trailing zeros dropped) for URLs."""
    parts = []
    for v in np.asarray(z, dtype=np.float64):
        text = f"{v:.2f}".rstrip("0").rstrip(".")
        parts.append("0" if text in ("-0", "") else text)
    return ",".join(parts)
