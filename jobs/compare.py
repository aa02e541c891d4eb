"""The class's finished runs side by side: each run's settings, headline figures and last picture grid.

    compare = RunComparison(runner)
    compare.runs(model_type="vae", sort_by="beta")     # [Run, ...], smallest beta first
    compare.grid_png(run)                              # the run's last picture grid as PNG bytes, or None

Everything comes through the runner's public readers (list_jobs, sample_grids, grid_png), which read and
check each job's files and cache their reading on the files' signatures; this module keeps one
built Run per job for as long as the runner's view of that job stays the same, and each picture
once per version of its file. A run folder is written by visitors' jobs, so everything read here
is untrusted: a run whose view has the wrong shape is left out, a picture that is not a small
PNG is shown as none, and neither is ever an error for the caller.
"""

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import i18n
from genmodels.checkpoints import file_signature
from genmodels.train import MODEL_TYPES

from .records import DONE
from .settings import MODEL_KEYS, TRAIN_KEYS

log = logging.getLogger("latent_lab.jobs")

ALL = "all"  # the model filter that keeps every model type
NEWEST, BEST = "newest", "best"  # sort orders besides a setting or a figure
# Public setting keys a comparison shows, per model type (the device a run used says nothing about it).
SETTING_KEYS = {model_type: [k for k in TRAIN_KEYS if k != "device"] + list(keys)
                for model_type, keys in MODEL_KEYS.items()}
FIGURE_KEYS = {model_type: list(MODEL_TYPES[model_type].figures) for model_type in MODEL_KEYS}
# Every validation figure any model declares, by its history key (the models' own declarations).
FIGURES = {f.key: f for model_class in MODEL_TYPES.values() for f in model_class.validation_figures}
HIGHER_IS_BETTER = {key for key, f in FIGURES.items() if f.higher_is_better}  # sorted largest first


@dataclass(frozen=True)
class Run:
    """One finished run as a comparison shows it."""

    id: str
    name: str  # its checkpoint's name in the explorer (run-<id>)
    title: str  # the name its owner gave it ('' for none)
    model_type: str
    dataset: str
    epochs: int  # epochs trained
    finished: float  # when it finished (Unix time, s)
    settings: dict = field(default_factory=dict)  # public setting key -> value (None when not recorded)
    figures: dict = field(default_factory=dict)  # the best epoch's figures (nats per image; accuracy 0-1), best_epoch
    grid_epoch: int | None = None  # the epoch of its last picture grid (None: it has none)

    def as_dict(self) -> dict:
        """Return the run as JSON for the API (figures in nats per image, accuracy 0-1, finished in Unix s)."""
        return {"id": self.id, "name": self.name, "title": self.title, "model_type": self.model_type,
                "dataset": self.dataset, "epochs": self.epochs, "finished": self.finished,
                "settings": dict(self.settings), "figures": dict(self.figures), "grid_epoch": self.grid_epoch}


def sort_keys(model_type: str = ALL) -> list[str]:
    """Return the orders `RunComparison.runs` accepts for a model filter: newest, best, then settings and figures."""
    types = list(MODEL_KEYS) if model_type == ALL else [model_type]
    keys = [NEWEST, BEST]
    for kind in types:
        keys += [k for k in SETTING_KEYS[kind] + FIGURE_KEYS[kind] if k not in keys]
    return keys


def check_model_filter(model_type) -> str:
    """Return a model filter ('all' or a model type of MODEL_KEYS; None means all); ValueError with a sentence otherwise."""
    if model_type is None:
        return ALL
    choices = [ALL, *MODEL_KEYS]
    name = model_type.strip().lower() if isinstance(model_type, str) else None
    if name not in choices:
        shown = model_type[:20] if isinstance(model_type, str) else type(model_type).__name__
        raise i18n.Sentence("jobs.compare.model", choices=", ".join(choices), value=shown)
    return name


def check_sort_key(sort_by, model_type: str = ALL) -> str:
    """Return a sort order for the model filter (None means newest); ValueError with a sentence otherwise."""
    if sort_by is None:
        return NEWEST
    keys = sort_keys(model_type)
    name = sort_by.strip().lower() if isinstance(sort_by, str) else None
    if name not in keys:
        shown = sort_by[:20] if isinstance(sort_by, str) else type(sort_by).__name__
        raise i18n.Sentence("jobs.compare.sort_by", choices=", ".join(keys), value=shown)
    return name


def _value(value):
    """Return a setting as a comparison shows it: a number, a bool or a short text (anything else: None)."""
    if isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) <= 40):
        return value
    return None


def run_from_view(view: dict, grid_epoch: int | None) -> Run | None:
    """Return the Run of a finished job's status view, or None when the view lacks the shape it needs."""
    try:
        model_type = view["model_type"]
        model_config = view["settings"]["model_config"]
        train_config = view["settings"]["train_config"]
        figures = view["figures"]
        if model_type not in MODEL_KEYS or not (isinstance(model_config, dict) and isinstance(train_config, dict)
                                                and isinstance(figures, dict)):
            return None
        settings = {key: _value(train_config.get(key)) for key in SETTING_KEYS[model_type] if key in TRAIN_KEYS}
        settings.update({key: _value(model_config.get(name)) for key, name in MODEL_KEYS[model_type].items()})
        settings["epochs"] = view["epochs_done"]  # a resumed run trained more epochs than its first launch asked
        kept = {k: figures[k] for k in [*FIGURE_KEYS[model_type], "best_epoch"] if k in figures}
        finished = view.get("finished") or view.get("started") or view["created"]
        return Run(id=view["id"], name=view["name"], title=view.get("title") or "", model_type=model_type,
                   dataset=str(view["dataset"]), epochs=int(view["epochs_done"]), finished=float(finished),
                   settings=settings, figures=kept, grid_epoch=grid_epoch)
    except (KeyError, TypeError, ValueError):
        return None


def _order(run: Run, sort_by: str):
    """Return the sort key of a run: runs without the value go last."""
    if sort_by == BEST:
        try:
            return (0, run.model_type, MODEL_TYPES[run.model_type].selection_score(run.figures))
        except (KeyError, TypeError):
            return (1,)
    value = run.figures.get(sort_by, run.settings.get(sort_by))
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return (1,)
    if sort_by in HIGHER_IS_BETTER:
        value = -value
    return (0, isinstance(value, str), value)


class RunComparison:
    """The finished runs of a JobRunner, as Runs, built once per version of each job and sorted on request."""

    def __init__(self, jobs):
        self.jobs = jobs
        self._runs: dict[str, tuple[dict, Run | None, Path | None]] = {}  # job id -> (its status view, Run, grid)
        self._pictures: dict[str, tuple[tuple, bytes | None]] = {}  # job id -> ((path, file signature), PNG bytes)
        self._lock = threading.Lock()

    def _run(self, view: dict) -> Run | None:
        cached = self._runs.get(view["id"])
        if cached is not None and cached[0] == view:
            return cached[1]
        try:
            grids = self.jobs.sample_grids(view["id"])
        except ValueError:  # deleted since it was listed
            return None
        last = max(grids) if grids else None
        run = run_from_view(view, last)
        if run is None:
            log.warning("left job %s out of the comparison: its status has an unexpected shape", view.get("id"))
        self._runs[view["id"]] = (view, run, grids.get(last))
        return run

    def runs(self, model_type: str = ALL, sort_by: str = NEWEST) -> list[Run]:
        """Return the finished runs of `model_type` ('all' for every type), ordered by `sort_by` (see sort_keys)."""
        model_type = check_model_filter(model_type)
        sort_by = check_sort_key(sort_by, model_type)
        with self._lock:
            views = [v for v in self.jobs.list_jobs() if v.get("status") == DONE]
            runs = [run for run in map(self._run, views) if run is not None]
            listed = {v["id"] for v in views}
            for gone in [job_id for job_id in self._runs if job_id not in listed]:
                del self._runs[gone]  # deleted or resumed: nothing of it is kept
                self._pictures.pop(gone, None)
        runs = [r for r in runs if model_type in (ALL, r.model_type)]
        if sort_by == NEWEST:
            return sorted(runs, key=lambda r: (r.finished, r.id), reverse=True)
        return sorted(runs, key=lambda r: _order(r, sort_by))

    def grid_png(self, run: Run) -> bytes | None:
        """Return the run's last picture grid re-encoded as PNG bytes, or None (none, or not a small picture)."""
        with self._lock:
            path = self._runs.get(run.id, (None, None, None))[2]
        if run.grid_epoch is None or path is None:
            return None
        signature = (str(path), file_signature(path))  # a file gone since reads as None: no picture
        with self._lock:
            cached = self._pictures.get(run.id)
        if cached is not None and cached[0] == signature:
            return cached[1]
        try:
            png = self.jobs.grid_png(run.id, run.grid_epoch)  # checked: a small PNG, read with no link followed
        except ValueError as error:
            log.warning("left out the picture of job %s: %s", run.id, error)
            png = None
        with self._lock:
            self._pictures[run.id] = (signature, png)
        return png
