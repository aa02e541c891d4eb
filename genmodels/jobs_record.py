"""The on-disk record of one training job: a folder under the runs folder, written atomically.

Layout of `<runs_dir>/<job_id>/`:
    job.json        config, status, owner (hash of a token), runner (the manager that starts and stops
                    it), timestamps, pid, error; written by a manager under the runs folder's lock
    progress.json   the child's live state (epoch, step, ETA) and its outcome; written by the child
    metrics.jsonl   one JSON line per finished epoch and per thinned step; appended by the child
    log.txt         the child's stdout and stderr
    stop            present when a cancel was requested (the child checks it every step)
    checkpoint/     the checkpoint folder (listed by the model registry as "run-<job_id>")
    samples/        VAE only: epoch-003.png, a grid of reconstructions and samples after each epoch

One writer per file (manager: job.json, stop; child: the rest) so no two processes race on a file;
JSON files are replaced whole (temporary file + os.replace), so a reader never sees half a file.
"""

import json
import os
import re
import secrets
import time
import uuid
from pathlib import Path

QUEUED, RUNNING, DONE, FAILED, CANCELLED, INTERRUPTED = (
    "queued", "running", "done", "failed", "cancelled", "interrupted")
ACTIVE = (QUEUED, RUNNING)
FINISHED = (DONE, FAILED, CANCELLED, INTERRUPTED)
JOB_FILE, PROGRESS_FILE, METRICS_FILE, LOG_FILE, STOP_FILE = (
    "job.json", "progress.json", "metrics.jsonl", "log.txt", "stop")
CHECKPOINT_DIR, SAMPLES_DIR = "checkpoint", "samples"
JOB_ID_PATTERN = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4}$")


def new_job_id() -> str:
    """Return a fresh, sortable job id such as '20250101-120000-3fa2' (local time + 4 random hex digits)."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def check_job_id(job_id) -> str:
    """Return `job_id` stripped, or raise a ValueError when it is not a well-formed job id."""
    job_id = str(job_id or "").strip()
    if job_id.startswith("run-"):
        job_id = job_id[len("run-"):]
    if not JOB_ID_PATTERN.match(job_id):
        raise ValueError(f"{job_id!r} is not a job id (they look like 20250101-120000-3fa2).")
    return job_id


def write_json(path: Path, data: dict) -> None:
    """Write `data` as JSON to `path` atomically (temporary sibling, fsync, os.replace)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> dict | None:
    """Return the JSON object stored at `path`, or None when the file is missing or unreadable."""
    try:
        with open(path) as f:
            data = json.load(f)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def append_jsonl(path: Path, record: dict) -> None:
    """Append one JSON line to `path` (a single write: a crash can cut at most this last line)."""
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()


def read_metrics(path: Path) -> dict:
    """Return {'epochs': [one dict per finished epoch], 'steps': [thinned step dicts]} from metrics.jsonl.

    An epoch that ran twice (cut short, then resumed) keeps its last record; step records of an
    earlier attempt that a later attempt re-ran are dropped, so the curves never fold back.
    """
    epochs: dict[int, dict] = {}
    steps: list[dict] = []
    try:
        with open(path) as f:
            lines = f.readlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash
        if record.get("kind") == "epoch":
            epochs[int(record["epoch"])] = record
        elif record.get("kind") == "step":
            while steps and steps[-1]["x"] >= record["x"]:
                steps.pop()
            steps.append(record)
    return {"epochs": [epochs[k] for k in sorted(epochs)], "steps": steps}


class JobFolder:
    """Paths and readers of one job's folder (creates nothing until asked)."""

    def __init__(self, runs_dir, job_id: str):
        self.job_id = job_id
        self.path = Path(runs_dir) / job_id
        self.job_file = self.path / JOB_FILE
        self.progress_file = self.path / PROGRESS_FILE
        self.metrics_file = self.path / METRICS_FILE
        self.log_file = self.path / LOG_FILE
        self.stop_file = self.path / STOP_FILE
        self.checkpoint = self.path / CHECKPOINT_DIR
        self.samples = self.path / SAMPLES_DIR

    def exists(self) -> bool:
        """Return True when the folder holds a job record."""
        return self.job_file.is_file()

    def record(self) -> dict | None:
        """Return the parsed job.json, or None when missing."""
        return read_json(self.job_file)

    def save_record(self, record: dict) -> None:
        """Replace job.json atomically."""
        self.path.mkdir(parents=True, exist_ok=True)
        write_json(self.job_file, record)

    def progress(self) -> dict:
        """Return the child's progress.json ({} before the child wrote one)."""
        return read_json(self.progress_file) or {}

    def metrics(self) -> dict:
        """Return the parsed metrics.jsonl (see read_metrics)."""
        return read_metrics(self.metrics_file)

    def log_tail(self, max_chars: int = 6000) -> str:
        """Return the last `max_chars` characters of log.txt ('' when there is none)."""
        try:
            with open(self.log_file, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - max_chars))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def sample_grids(self) -> dict[int, Path]:
        """Return {epoch: path of its sample grid PNG}, sorted by epoch."""
        found = {}
        if self.samples.is_dir():
            for p in self.samples.glob("epoch-*.png"):
                try:
                    found[int(p.stem.split("-")[1])] = p
                except (IndexError, ValueError):
                    continue
        return dict(sorted(found.items()))

    def checkpoint_config(self) -> dict | None:
        """Return the checkpoint's parsed config.json, or None when nothing readable was saved.

        Read through genmodels.checkpoints, which also finds a checkpoint that a save killed
        mid-swap left renamed aside (.checkpoint.old-*), so such a job still shows its epochs.
        """
        from .checkpoints import read_config

        try:
            return read_config(self.checkpoint)
        except (ValueError, OSError):  # OSError: a save swapped the folder while we looked
            return None

    def has_resume_state(self) -> bool:
        """Return True when the checkpoint folder holds weights and optimizer state to resume from."""
        config = self.checkpoint_config()
        return bool(config and "resume" in config)

    def saved_epochs(self) -> int:
        """Return how many epochs the checkpoint folder holds (0 when nothing was saved)."""
        config = self.checkpoint_config()
        return int(config.get("epochs_trained", 0)) if config else 0

    def tidy_checkpoint(self) -> None:
        """Put back a checkpoint left renamed aside by a killed save and delete leftover save folders.

        Only for a job whose process has ended: a running job's save owns these folders.
        """
        from .checkpoints import recover_folder

        recover_folder(self.checkpoint)


def key_figures(model_type: str, epochs: list[dict]) -> dict:
    """Return the best epoch's headline figures: VAE val_nelbo (nats/image), RNN val_accuracy (0-1)."""
    if not epochs:
        return {}
    if model_type == "vae":
        best = min(epochs, key=lambda m: m.get("val_nelbo", float("inf")))
        return {"best_epoch": best["epoch"], "val_nelbo": best.get("val_nelbo"),
                "val_recon": best.get("val_recon"), "val_kl": best.get("val_kl")}
    best = max(epochs, key=lambda m: (m.get("val_accuracy", 0), -m.get("val_loss", 0)))
    return {"best_epoch": best["epoch"], "val_accuracy": best.get("val_accuracy"), "val_loss": best.get("val_loss")}


def file_signature(*paths: Path) -> tuple:
    """Return (mtime ns, size, inode) of each path (None when missing): equal signatures mean unchanged files."""
    out = []
    for path in paths:
        try:
            st = path.stat()
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            out.append(None)
    return tuple(out)


def status_view(folder: JobFolder, record: dict, metrics: dict) -> dict:
    """Return what a page shows about a job: status, epochs done/target, step, fraction 0-1, ETA (s), key figures."""
    progress = folder.progress() if record["status"] == RUNNING else {}
    checkpoint = folder.checkpoint_config()
    saved = int(checkpoint.get("epochs_trained", 0)) if checkpoint else 0
    last = metrics["epochs"][-1] if metrics["epochs"] else {}
    epochs_done = int(last.get("epoch", saved))
    target = int(record.get("target_epochs") or epochs_done)
    fraction = epochs_done / target if target else 0.0
    if progress.get("phase") == "training" and progress.get("steps_per_epoch"):
        if progress.get("epoch", 0) > epochs_done:
            fraction = (epochs_done + progress["step"] / progress["steps_per_epoch"]) / target
    if record["status"] == DONE:
        fraction = 1.0
    train = record["train_config"]
    return {
        "id": record["id"], "name": record["name"], "model_type": record["model_type"],
        "dataset": train["dataset"], "status": record["status"], "error": record.get("error"),
        "phase": progress.get("phase"), "epochs_done": epochs_done, "target_epochs": target,
        "step": progress.get("step"), "steps_per_epoch": progress.get("steps_per_epoch"),
        "fraction": round(min(1.0, fraction), 4), "eta_s": progress.get("eta_s"),
        "created": record["created"], "started": record.get("started"), "finished": record.get("finished"),
        "has_checkpoint": checkpoint is not None,
        "can_resume": record["status"] in FINISHED and bool(checkpoint and "resume" in checkpoint),
        "figures": key_figures(record["model_type"], metrics["epochs"]),
        "settings": {"model_config": record["model_config"], "train_config": train},
    }
