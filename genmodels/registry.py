"""The models the app can show: shipped checkpoints plus finished training runs, loaded once.

Names are stable strings: a shipped folder `checkpoints/vae-mnist` is "vae-mnist"; other folders
(a training job's checkpoint, say) come from `extra_folders()` under the names it gives them.
Loaded models are shared by all requests and must be treated as read-only. A folder whose
config.json is malformed is skipped (and logged once): it never hides the others.
"""

import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import i18n

from .checkpoints import CONFIG_FILE, WEIGHTS_FILE, file_signature, read_config, resolve_folder
from .data import DATASETS
from .images import resolve_device
from .models import MODEL_TYPES

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHECKPOINTS_DIR = PROJECT_DIR / "checkpoints"
log = logging.getLogger("latent_lab.registry")


@dataclass(frozen=True)
class CheckpointEntry:
    """What the UI needs to list a checkpoint without loading its weights."""

    name: str
    path: Path
    model_type: str  # a key of genmodels.models.MODEL_TYPES
    dataset: str
    class_names: tuple[str, ...]
    metrics: dict
    epochs_trained: int
    title: str = ""  # a name its trainer gave it, if any


def _is_number(value) -> bool:
    """True for a finite float or an int JavaScript represents exactly (math.isfinite overflows on huge ints)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return abs(value) < 2 ** 53 if isinstance(value, int) else math.isfinite(value)


def _default_class_names(dataset, model) -> list[str]:
    """Return the class names of a config that records none: its data set's declared ones, else the model's
    classes numbered from 0, else none (a VAE saved without a data set)."""
    if isinstance(dataset, str) and dataset in DATASETS:
        return list(DATASETS[dataset].class_names)
    classes = model.get("num_classes") if isinstance(model, dict) else None
    if isinstance(classes, int) and not isinstance(classes, bool) and 2 <= classes <= 1000:
        return [str(k) for k in range(classes)]
    return []


def entry_from_config(name: str, folder: Path, config: dict, title: str = "") -> CheckpointEntry:
    """Return the entry described by a parsed config.json; ValueError when a field has the wrong shape."""
    model_type = config.get("model_type")
    if not isinstance(model_type, str) or model_type not in MODEL_TYPES:
        raise i18n.Sentence("genmodels.registry.model_type", value=str(model_type)[:20])
    dataset = config.get("dataset", "unknown")
    class_names = config.get("class_names", _default_class_names(dataset, config.get("model")))
    metrics = config.get("metrics", {})
    epochs = config.get("epochs_trained", 0)
    if not isinstance(dataset, str) or len(dataset) > 100:
        raise i18n.Sentence("genmodels.registry.dataset")
    if not (isinstance(class_names, list) and (len(class_names) == 0 or 2 <= len(class_names) <= 1000)
            and all(isinstance(c, str) and len(c) <= 100 for c in class_names)):
        raise i18n.Sentence("genmodels.registry.class_names")
    if not isinstance(metrics, dict):
        raise i18n.Sentence("genmodels.registry.metrics")
    if not isinstance(epochs, int) or isinstance(epochs, bool) or not 0 <= epochs <= 1_000_000:
        raise i18n.Sentence("genmodels.registry.epochs")
    numbers = {k: v for k, v in metrics.items() if isinstance(k, str) and _is_number(v)}
    return CheckpointEntry(name=name, path=folder, model_type=model_type, dataset=dataset,
                           class_names=tuple(class_names), metrics=numbers, epochs_trained=epochs, title=title)


class ModelRegistry:
    """Finds checkpoint folders and loads them once (reloading when a folder is rewritten)."""

    def __init__(self, checkpoints_dir=CHECKPOINTS_DIR, extra_folders: Callable[[], dict] | None = None,
                 device=None):
        self.checkpoints_dir = Path(checkpoints_dir)
        self.extra_folders = extra_folders  # () -> {name: folder} or {name: (folder, title)}
        self.device = resolve_device(device)
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[str, object]] = {}
        self._configs: dict[Path, tuple[tuple, dict | str]] = {}  # folder -> (signature, config or problem)
        self._warned: set[tuple] = set()

    def _folders(self) -> dict[str, tuple[Path, str]]:
        found = {}
        if self.checkpoints_dir.is_dir():
            for folder in sorted(self.checkpoints_dir.iterdir()):
                if (folder / CONFIG_FILE).is_file() and not folder.name.startswith("."):
                    found[folder.name] = (folder, "")
        for name, value in (self.extra_folders() if self.extra_folders else {}).items():
            found[name] = value if isinstance(value, tuple) else (value, "")
        return found

    def _skip(self, folder: Path, problem: str) -> None:
        key = (str(folder), problem)
        if key not in self._warned:  # once per problem, not on every page load
            self._warned.add(key)
            log.warning("checkpoint %s skipped: %s", folder, problem)

    def config(self, folder: Path) -> dict:
        """Return read_config(folder), parsed once per version of the file: every request lists the
        models, and a stat per folder is much cheaper than parsing each config.json with its history."""
        signature = file_signature(resolve_folder(folder) / CONFIG_FILE)
        cached = self._configs.get(folder)
        if cached is None or cached[0] != signature or signature == (None,):
            try:
                found = read_config(folder)
            except ValueError as e:
                found = e  # a broken file is not parsed again until it changes
            cached = self._configs[folder] = (signature, found)
        if isinstance(cached[1], ValueError):
            raise cached[1]
        return cached[1]

    def entries(self, model_type: str | None = None) -> list[CheckpointEntry]:
        """Return the readable checkpoints (optionally of one model type), shipped ones first."""
        out = []
        folders = self._folders()
        live = {folder for folder, _ in folders.values()}
        for gone in [f for f in list(self._configs) if f not in live]:  # deleted runs
            self._configs.pop(gone, None)
        for name, (folder, title) in folders.items():
            try:
                entry = entry_from_config(name, folder, self.config(folder), title)
            except (ValueError, OSError, RecursionError) as e:
                self._skip(folder, str(e))
                continue
            if model_type is None or entry.model_type == model_type:
                out.append(entry)
        return out

    def names(self, model_type: str | None = None) -> list[str]:
        """Return the names of the available checkpoints (optionally of one model type)."""
        return [e.name for e in self.entries(model_type)]

    def entry(self, name: str) -> CheckpointEntry:
        """Return the entry called `name`, or raise a ValueError listing the known names."""
        if not isinstance(name, str):
            raise i18n.Sentence("genmodels.registry.name_type")
        for e in self.entries():
            if e.name == name:
                return e
        names = self.names()
        # A few names, not all: with a class's runs the list would no longer be one sentence.
        known = (i18n.Text("genmodels.registry.more", names=", ".join(names[:8]), count=len(names) - 8) if len(names) > 8
                 else ", ".join(names) or i18n.Text("genmodels.registry.none"))
        raise i18n.Sentence("genmodels.registry.unknown", name=name[:60], known=known)

    def load(self, name: str):
        """Return the model called `name` in eval mode (cached; shared, so never modify it)."""
        entry = self.entry(name)
        try:
            # config.json records the SHA-256 of the weights: a rewritten checkpoint has a new one.
            stamp = self.config(entry.path).get("files", {}).get(WEIGHTS_FILE)
            with self._lock:
                cached = self._cache.get(name)
                if cached and cached[0] == stamp:
                    return cached[1]
                model = MODEL_TYPES[entry.model_type].from_pretrained(entry.path, device=self.device)
                for p in model.parameters():
                    p.requires_grad_(False)
                self._cache[name] = (stamp, model)
                return model
        except (ValueError, OSError, RecursionError, TypeError, KeyError, ArithmeticError) as e:
            # ArithmeticError: an integer in config.json too large for a float (OverflowError)
            self._skip(entry.path, str(e))  # the detail (with paths) stays in the server's log
            raise i18n.Sentence("genmodels.registry.damaged", name=name) from None

    def classifier_for(self, generator_name: str) -> str | None:
        """Return the name of a reader (RNN) of the images the model `generator_name` makes, if any: one trained
        on the same data set, or on a declared one of the same images (side and classes); shipped ones first."""
        generator = self.entry(generator_name)
        candidates = [e for e in self.entries("rnn") if same_images(e, generator)]
        same_data = [e for e in candidates if e.dataset == generator.dataset]
        shipped = [e for e in candidates if e.path.parent == self.checkpoints_dir]
        pick = [e for e in shipped if e in same_data] or shipped or same_data or candidates
        return pick[0].name if pick else None


def same_images(a: CheckpointEntry, b: CheckpointEntry) -> bool:
    """Return True when the checkpoints were trained on the same kind of images: the same data set, or two
    declared data sets with the same side and classes (mnist and mnist-5k), as each config.json records."""
    if a.class_names != b.class_names:
        return False
    if a.dataset == b.dataset:
        return True
    first, second = DATASETS.get(a.dataset), DATASETS.get(b.dataset)
    return first is not None and second is not None and first.same_images(second)
