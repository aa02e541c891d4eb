"""The models the app can show: shipped checkpoints plus finished training runs, loaded once.

Names are stable strings: a shipped folder `checkpoints/vae-mnist` is "vae-mnist"; the checkpoint
of a training job `runs/<job_id>/checkpoint` is "run-<job_id>". Loaded models are shared by all
requests and must be treated as read-only.
"""

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from .checkpoints import CONFIG_FILE, read_config
from .images import resolve_device

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHECKPOINTS_DIR = PROJECT_DIR / "checkpoints"
RUNS_DIR = Path(os.environ.get("LATENT_LAB_RUNS_DIR") or PROJECT_DIR / "runs")  # training jobs' records
RUN_PREFIX = "run-"


@dataclass(frozen=True)
class CheckpointEntry:
    """What the UI needs to list a checkpoint without loading its weights."""

    name: str
    path: Path
    model_type: str  # "vae" or "rnn"
    dataset: str
    class_names: tuple[str, ...]
    metrics: dict
    epochs_trained: int


class ModelRegistry:
    """Finds checkpoint folders and loads them once (reloading when a folder is rewritten)."""

    def __init__(self, checkpoints_dir=CHECKPOINTS_DIR, runs_dir=RUNS_DIR, device=None):
        self.checkpoints_dir = Path(checkpoints_dir)
        self.runs_dir = Path(runs_dir) if runs_dir else None
        self.device = resolve_device(device)
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, object]] = {}

    def _folders(self) -> dict[str, Path]:
        found = {}
        if self.checkpoints_dir.is_dir():
            for folder in sorted(self.checkpoints_dir.iterdir()):
                if (folder / CONFIG_FILE).is_file() and not folder.name.startswith("."):
                    found[folder.name] = folder
        if self.runs_dir and self.runs_dir.is_dir():
            for job in sorted(self.runs_dir.iterdir()):
                if (job / "checkpoint" / CONFIG_FILE).is_file():
                    found[RUN_PREFIX + job.name] = job / "checkpoint"
        return found

    def entries(self, model_type: str | None = None) -> list[CheckpointEntry]:
        """Return the readable checkpoints (optionally only 'vae' or 'rnn'), shipped ones first."""
        out = []
        for name, folder in self._folders().items():
            try:
                config = read_config(folder)
            except ValueError:
                continue  # a damaged or half-written folder is simply not offered
            if model_type and config["model_type"] != model_type:
                continue
            out.append(CheckpointEntry(
                name=name, path=folder, model_type=config["model_type"],
                dataset=config.get("dataset", "unknown"),
                class_names=tuple(config.get("class_names", [str(i) for i in range(10)])),
                metrics=config.get("metrics", {}), epochs_trained=config.get("epochs_trained", 0),
            ))
        return out

    def names(self, model_type: str | None = None) -> list[str]:
        """Return the names of the available checkpoints (optionally of one model type)."""
        return [e.name for e in self.entries(model_type)]

    def entry(self, name: str) -> CheckpointEntry:
        """Return the entry called `name`, or raise a ValueError listing the known names."""
        for e in self.entries():
            if e.name == name:
                return e
        known = ", ".join(self.names()) or "none"
        raise ValueError(f"Unknown model {name!r}. Available: {known}.")

    def load(self, name: str):
        """Return the model called `name` in eval mode (cached; shared, so never modify it)."""
        from .rnn import RowRNN
        from .vae import VAE

        entry = self.entry(name)
        # config.json records the SHA-256 of the weights: a rewritten checkpoint has a new one.
        stamp = read_config(entry.path).get("files", {}).get("model.safetensors")
        with self._lock:
            cached = self._cache.get(name)
            if cached and cached[0] == stamp:
                return cached[1]
            cls = VAE if entry.model_type == "vae" else RowRNN
            model = cls.from_pretrained(entry.path, device=self.device)
            for p in model.parameters():
                p.requires_grad_(False)
            self._cache[name] = (stamp, model)
            return model

    def classifier_for(self, vae_name: str) -> str | None:
        """Return the name of an RNN trained on the same data set as the VAE `vae_name`, if any."""
        dataset = self.entry(vae_name).dataset
        family = "fashion" if "fashion" in dataset else "digits"
        candidates = [e for e in self.entries("rnn")
                      if e.dataset == dataset or ("fashion" in e.dataset) == (family == "fashion")]
        shipped = [e for e in candidates if not e.name.startswith(RUN_PREFIX)]
        pick = (shipped or candidates)
        return pick[0].name if pick else None
