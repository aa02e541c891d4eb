"""A job folder's changes as plain data, so a worker with no disk shared with the app can stream them.

    mirror = FolderMirror(worker_folder)      # worker side, over its own temporary job folder
    changes = mirror.changes()                # what changed since the last call (JSON-able + bytes)
    apply_changes(app_folder, changes)        # app side: into the job's folder under the runs folder

What travels: progress.json (the latest), new lines of metrics.jsonl and log.txt, new picture
grids, and the whole checkpoint folder whenever a save replaced it. The app writes the checkpoint
with genmodels.checkpoints' atomic folder swap, as the trainer itself does. The app treats every
change as untrusted: names are checked, sizes bounded, the progress re-read through read_json.
"""

import re
import tempfile
from pathlib import Path

from genmodels.checkpoints import MAX_TENSOR_BYTES, atomic_write, copy_folder, file_signature
from genmodels.files import append_below, is_real_file, is_real_folder, read_below

from .records import MAX_GRID_BYTES, MAX_JSON_BYTES, MAX_METRICS_BYTES, JobFolder, write_json

SAMPLE_NAME = re.compile(r"^epoch-\d{3,7}\.png$")
CHECKPOINT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")
MAX_CHECKPOINT_BYTES = 2_000_000_000  # a checkpoint of the largest allowed settings is far smaller


def _read_from(path: Path, offset: int) -> tuple[str, int]:
    """Return (text appended to `path` after `offset`, the new offset); only whole lines."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return "", offset
    whole = data[:data.rfind(b"\n") + 1]
    return whole.decode("utf-8", "replace"), offset + len(whole)


class FolderMirror:
    """Worker side: remembers what of a job folder was already sent."""

    def __init__(self, folder: JobFolder):
        self.folder = folder
        self._offsets = {"metrics": 0, "log": 0}
        self._progress = None
        self._samples: set[str] = set()
        self._checkpoint = None

    def changes(self) -> dict:
        """Return what changed since the last call: {'progress', 'metrics', 'log', 'samples', 'checkpoint'}."""
        folder = self.folder
        out = {"progress": None, "metrics": "", "log": "", "samples": {}, "checkpoint": None}
        signature = file_signature(folder.progress_file)
        if signature != self._progress:
            self._progress, out["progress"] = signature, folder.progress() or None
        out["metrics"], self._offsets["metrics"] = _read_from(folder.metrics_file, self._offsets["metrics"])
        out["log"], self._offsets["log"] = _read_from(folder.log_file, self._offsets["log"])
        for epoch, path in folder.sample_grids().items():
            if path.name not in self._samples:
                self._samples.add(path.name)
                out["samples"][path.name] = path.read_bytes()
        signature = file_signature(folder.checkpoint / "config.json")
        if signature != self._checkpoint and (folder.checkpoint / "config.json").is_file():
            self._checkpoint = signature
            out["checkpoint"] = {p.name: p.read_bytes() for p in sorted(folder.checkpoint.iterdir()) if p.is_file()}
        return out


def checkpoint_files(folder: JobFolder) -> dict[str, bytes]:
    """Return the job's checkpoint folder as {file name: bytes} ({} when none was saved), for a resume elsewhere."""
    folder.tidy_checkpoint()
    if not (is_real_folder(folder.path) and is_real_folder(folder.checkpoint)
            and is_real_file(folder.checkpoint / "config.json")):
        return {}
    # read below the runs folder with no link followed (genmodels.files): these bytes leave for a cluster
    return {p.name: read_below(folder.root, p, MAX_TENSOR_BYTES)
            for p in sorted(folder.checkpoint.iterdir()) if is_real_file(p)}


def write_checkpoint(folder: JobFolder, files: dict[str, bytes]) -> None:
    """Replace the job's checkpoint folder by `files` atomically (the trainer's own folder swap)."""
    if not isinstance(files, dict) or "config.json" not in files:
        raise ValueError("a checkpoint without config.json")
    total = 0
    for name, data in files.items():
        if not isinstance(name, str) or not CHECKPOINT_NAME.match(name) or not isinstance(data, bytes):
            raise ValueError("a checkpoint file with an unexpected name")
        total += len(data)
    if total > MAX_CHECKPOINT_BYTES:
        raise ValueError("a checkpoint far larger than any this app writes")
    with tempfile.TemporaryDirectory(prefix=".incoming-", dir=folder.path) as staging:
        for name, data in files.items():
            (Path(staging) / name).write_bytes(data)
        copy_folder(staging, folder.checkpoint)


def _append(folder: JobFolder, path: Path, text, limit: int) -> None:
    if not isinstance(text, str) or not text:
        return
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size + len(text) <= limit:
        try:
            with append_below(folder.root, path) as f:  # never through a planted link
                f.write(text.encode("utf-8", "replace"))
        except ValueError:  # RefusedFile: the page says the file cannot be used
            pass


def apply_changes(folder: JobFolder, changes) -> None:
    """Write a worker's `changes` (FolderMirror.changes) into the job's folder; skips what is malformed."""
    if not isinstance(changes, dict):
        return
    _append(folder, folder.metrics_file, changes.get("metrics"), MAX_METRICS_BYTES)
    _append(folder, folder.log_file, changes.get("log"), MAX_METRICS_BYTES)
    samples = changes.get("samples")
    if isinstance(samples, dict):
        for name, data in samples.items():
            if isinstance(name, str) and SAMPLE_NAME.match(name) and isinstance(data, bytes) \
                    and len(data) <= MAX_GRID_BYTES:
                folder.samples.mkdir(exist_ok=True)
                if is_real_folder(folder.samples):
                    atomic_write(folder.samples / name, data)
    if changes.get("checkpoint") is not None:
        write_checkpoint(folder, changes["checkpoint"])
    progress = changes.get("progress")
    if isinstance(progress, dict) and len(repr(progress)) <= MAX_JSON_BYTES:
        write_json(folder.progress_file, progress)  # last: its outcome counts once the checkpoint is in place
