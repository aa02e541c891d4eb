"""The on-disk record of one training job, and how it is read back: every file here is untrusted.

Layout of `<runs_dir>/<job_id>/`:
    job.json        settings, status, owner (hash of a token), name, timestamps, pid, error; written
                    by the runner (the app process)
    progress.json   the worker's live state (epoch, step, fraction done, ETA) and its outcome
    metrics.jsonl   one JSON line per finished epoch and per thinned step; appended by the worker
    log.txt         the worker's progress lines (tracebacks go to the server's own log, never here)
    stop            present when a cancel was requested (the worker checks it every step)
    checkpoint/     the checkpoint folder (listed by the app as "run-<job_id>")
    samples/        epoch-003.png: a grid of what the model makes after each epoch

One writer per file (runner: job.json, stop; worker: the rest). A visitor can influence what ends
up in these folders, so every reader checks shapes and types and treats a file it cannot make
sense of as missing: a malformed file hides its job, never the list or the page.
"""

import bisect
import io
import json
import logging
import math
import os
import re
import secrets
import sys
import time
from pathlib import Path

from PIL import Image

import i18n
from genmodels.checkpoints import atomic_write, current_model_settings, file_signature, read_config, recover_folder
from genmodels.files import (RefusedFile, append_below, is_real_file, is_real_folder, read_below, read_from,
                             tail_below)
from genmodels.train import MODEL_TYPES, best_epoch

from . import texts

log = logging.getLogger("latent_lab.jobs")

QUEUED, RUNNING, DONE, FAILED, CANCELLED, INTERRUPTED = (
    "queued", "running", "done", "failed", "cancelled", "interrupted")
ACTIVE = (QUEUED, RUNNING)
FINISHED = (DONE, FAILED, CANCELLED, INTERRUPTED)
UNSUCCESSFUL = (FAILED, CANCELLED, INTERRUPTED)
JOB_FILE, PROGRESS_FILE, METRICS_FILE, LOG_FILE, STOP_FILE = (
    "job.json", "progress.json", "metrics.jsonl", "log.txt", "stop")
CHECKPOINT_DIR, SAMPLES_DIR = "checkpoint", "samples"
JOB_ID_PATTERN = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4}$")
RUN_PREFIX = "run-"  # the app lists a job's checkpoint as "run-<job_id>"
# Every file of a job folder is read through genmodels.files (a regular file, no link followed) and
# bounded in bytes by its kind; a larger file was not written by this app and is not read.
MAX_JSON_BYTES = 1_000_000  # job.json, progress.json: a few kB
MAX_METRICS_BYTES = 20_000_000  # metrics.jsonl: about 2 kB per epoch
MAX_GRID_BYTES = 2_000_000  # samples/epoch-NNN.png: a few kB
MAX_GRID_SIDE = 2000  # pixels of a picture grid's side; a grid is 8 digits wide
NAME_LIMIT = 40  # characters of a run's name


def new_job_id() -> str:
    """Return a fresh, sortable job id such as '20250101-120000-3fa2' (local time + 4 random hex digits)."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def check_job_id(job_id) -> str:
    """Return `job_id` stripped (a leading 'run-' removed), or raise a ValueError when it is not a job id."""
    if not isinstance(job_id, str):
        raise i18n.Sentence("jobs.job_id_type")
    job_id = job_id.strip()
    if job_id.startswith(RUN_PREFIX):
        job_id = job_id[len(RUN_PREFIX):]
    if not JOB_ID_PATTERN.match(job_id):
        raise i18n.Sentence("jobs.job_id", value=job_id[:40])
    return job_id


def check_name(name) -> str:
    """Return a run name cleaned for display ('' for none); ValueError when it is not short plain text."""
    if name is None:
        return ""
    if not isinstance(name, str):
        raise i18n.Sentence("jobs.name.type")
    name = " ".join(name.split())
    if len(name) > NAME_LIMIT:
        raise i18n.Sentence("jobs.name.long", limit=NAME_LIMIT)
    if any(not (c.isprintable()) or c in "<>`*_[]|\\" for c in name):
        raise i18n.Sentence("jobs.name.chars")
    return name


def write_json(path: Path, data: dict) -> None:
    """Write `data` as JSON to `path` atomically."""
    atomic_write(path, json.dumps(data, indent=1))


def read_json(path: Path, root=None) -> dict | None:
    """Return the JSON object stored at `path`, or None when it is missing, too large, malformed, not an object,
    a link or not a regular file (read below `root`, default the folder holding it; see genmodels.files)."""
    path = Path(path)
    try:
        data = json.loads(read_below(path.parent if root is None else root, path, MAX_JSON_BYTES).decode("utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        return None
    return data if isinstance(data, dict) else None


def append_jsonl(path: Path, record: dict, root=None) -> None:
    """Append one JSON line to `path` (a single write: a crash can cut at most this last line); never through a link."""
    path = Path(path)
    with append_below(path.parent if root is None else root, path) as f:
        f.write((json.dumps(record) + "\n").encode())


def epoch_line(segment: int, metrics: dict) -> dict:
    """Return the metrics.jsonl record of one finished epoch (the trainer's figures that are numbers)."""
    return {"kind": "epoch", "segment": segment, "time": time.time(),
            **{k: v for k, v in metrics.items() if isinstance(v, (int, float, bool))}}


SAFE_INT = 2 ** 53  # larger integers do not survive JavaScript's numbers (nor math.isfinite: OverflowError)
MAX_EPOCHS_RECORDED = 1_000_000  # more epochs than any job can have run
TEXT_LIMIT = 500  # characters of a text field shown to visitors (an error, a phase)
SERVER_SETTINGS = ("data_dir", "out")  # training settings naming server folders: never shown to visitors
PLAIN_DEPTH = 4  # settings are flat objects; nesting deeper than this was not written by us


def _number(value) -> bool:
    """True for a finite int or float any JSON reader takes as written (not a bool, NaN, infinity or a huge int)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return abs(value) < SAFE_INT if isinstance(value, int) else math.isfinite(value)


def _count(value, high: int = MAX_EPOCHS_RECORDED) -> bool:
    """True for a whole number from 0 to `high` (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= high


def _plain(value, depth: int = 0) -> bool:
    """True for JSON a visitor may be sent as is: short texts, finite numbers, booleans, None, small lists/objects."""
    if value is None or isinstance(value, bool) or _number(value):
        return True
    if isinstance(value, str):
        return len(value) <= TEXT_LIMIT
    if depth >= PLAIN_DEPTH:
        return False
    if isinstance(value, list):
        return len(value) <= 100 and all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) <= 100 and all(isinstance(k, str) and len(k) <= 100 and _plain(v, depth + 1)
                                         for k, v in value.items())
    return False


class MetricsFold:
    """metrics.jsonl folded line by line into epochs and steps, so that a reader following a growing file
    parses only its new lines.

    Lines that are not what the worker writes are skipped and counted. An epoch that ran twice (cut
    short, then resumed) keeps its last record; step records of an earlier attempt that a later
    attempt re-ran are dropped, so the curves never fold back. `generation` grows whenever such a
    rewrite drops or replaces what a follower may already hold (its cursor is then stale).
    """

    def __init__(self):
        self.epochs: dict[int, dict] = {}
        self.steps: list[dict] = []
        self.skipped = 0  # complete lines that were not a record of ours
        self.generation = 0
        self.problem: i18n.Text | None = None  # a sentence when the whole file cannot be used

    def feed(self, line: str) -> None:
        """Fold one complete line of metrics.jsonl in."""
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            self.skipped += 1  # a line cut by a crash, or not ours
            return
        if not isinstance(record, dict):
            self.skipped += 1
            return
        values = {k: v for k, v in record.items()
                  if isinstance(k, str) and len(k) <= 100 and (_number(v) or (isinstance(v, str) and len(v) <= 100))}
        if record.get("kind") == "epoch" and _count(values.get("epoch")) and values["epoch"] > 0:
            if self.epochs and values["epoch"] <= max(self.epochs):
                self.generation += 1
            self.epochs[values["epoch"]] = values
        elif record.get("kind") == "step" and _number(values.get("x")) and _number(values.get("loss")):
            while self.steps and self.steps[-1]["x"] >= values["x"]:
                self.steps.pop()
                self.generation += 1
            self.steps.append(values)
        else:
            self.skipped += 1

    def feed_text(self, text: str) -> int:
        """Fold in the complete lines of `text`; return how many characters they took (a last line without its
        newline may still be being written: it is left for the next call)."""
        end = text.rfind("\n") + 1
        for line in text[:end].splitlines():
            self.feed(line)
        return end

    def result(self) -> dict:
        """Return {'epochs': [...] by epoch, 'steps': [...] by x, 'problem': an i18n.Text or None}."""
        problem = self.problem
        if problem is None and self.skipped:
            problem = i18n.Text("jobs.metrics.skipped_one" if self.skipped == 1 else "jobs.metrics.skipped_many",
                                count=self.skipped)
        return {"epochs": [self.epochs[k] for k in sorted(self.epochs)], "steps": list(self.steps),
                "problem": problem}


class MetricsFollower:
    """metrics.jsonl as it grows: each `update` parses only the lines appended since the last one (the whole
    file again when it was replaced or shrank), so following a long job costs the same as a short one."""

    def __init__(self):
        self.fold, self.offset, self.inode = MetricsFold(), 0, None
        self.metrics = self.fold.result()

    def update(self, root, path: Path) -> dict:
        """Return the metrics now in `path` below `root` (see MetricsFold.result); treat as read-only."""
        fold, offset = self.fold, self.offset
        try:
            fd_inode = os.lstat(path).st_ino
            if fd_inode != self.inode:
                fold, offset = MetricsFold(), 0
            chunk, size = read_from(root, path, offset, MAX_METRICS_BYTES + 1 - offset)
            if size < offset:  # rewritten shorter: read it again
                fold, offset = MetricsFold(), 0
                chunk, size = read_from(root, path, 0, MAX_METRICS_BYTES + 1)
            if size > MAX_METRICS_BYTES:
                raise RefusedFile("jobs.metrics.too_large", file=METRICS_FILE, limit=f"{MAX_METRICS_BYTES:,}")
            end = chunk.rfind(b"\n") + 1  # the last line may still be being written
            fold.feed_text(chunk[:end].decode("utf-8", "replace"))
            offset += end
            self.inode = fd_inode
        except FileNotFoundError:
            fold, offset, self.inode = MetricsFold(), 0, None
        except ValueError as error:  # RefusedFile: a link, a device, a pipe, too large
            fold, offset, self.inode = MetricsFold(), 0, None
            fold.problem = i18n.Text("jobs.metrics.unusable", problem=error.text if isinstance(error, i18n.Sentence)
                                     else str(error))
        except OSError:
            return self.metrics
        self.fold, self.offset = fold, offset
        self.metrics = fold.result()
        return self.metrics

    def cursor(self) -> str:
        """Return a cursor naming what the last update returned, for `since` (opaque text)."""
        last = self.metrics["epochs"][-1]["epoch"] if self.metrics["epochs"] else 0
        return f"{self.fold.generation}.{last}.{len(self.metrics['steps'])}"

    def since(self, cursor) -> dict:
        """Return what is new since `cursor` (from an earlier `cursor()`): {'epochs', 'steps', 'problem',
        'cursor', 'complete'}; complete True means everything (an unknown or stale cursor, or none)."""
        metrics = self.metrics
        out = {"cursor": self.cursor(), "problem": metrics["problem"]}
        try:
            generation, last, count = (int(p) for p in str(cursor).split("."))
            fresh = generation == self.fold.generation and 0 <= count <= len(metrics["steps"]) and last >= 0
        except ValueError:
            fresh = False
        if not fresh:
            return {**out, "epochs": metrics["epochs"], "steps": metrics["steps"], "complete": True}
        first = bisect.bisect_right(metrics["epochs"], last, key=lambda e: e["epoch"])
        return {**out, "epochs": metrics["epochs"][first:], "steps": metrics["steps"][count:], "complete": False}


def read_metrics(path: Path, root=None) -> dict:
    """Return {'epochs': [one dict per finished epoch], 'steps': [thinned step dicts], 'problem': a sentence or
    None} from metrics.jsonl (see MetricsFold); a link, a special file or one over MAX_METRICS_BYTES gives none."""
    path = Path(path)
    return MetricsFollower().update(path.parent if root is None else root, path)


def parse_record(data: dict | None, job_id: str) -> dict | None:
    """Return a job.json's content when it has the shape the runner writes, else None."""
    if not isinstance(data, dict) or data.get("id") != job_id:
        return None
    checks = {
        "status": lambda v: v in ACTIVE + FINISHED,
        "model_type": lambda v: isinstance(v, str) and v in MODEL_TYPES,
        "model_config": lambda v: isinstance(v, dict) and _plain(v),
        "train_config": lambda v: isinstance(v, dict) and _plain(v) and isinstance(v.get("dataset"), str),
        "owner": lambda v: isinstance(v, str),
        "name": lambda v: isinstance(v, str) and len(v) <= NAME_LIMIT,
        "created": _number,
        "queued": _number,
        "target_epochs": _count,
        "segments": lambda v: isinstance(v, list) and 0 < len(v) <= 10_000 and all(
            isinstance(s, dict) and _count(s.get("epochs")) and isinstance(s.get("resume"), bool)
            for s in v),
    }
    if not all(key in data and check(data[key]) for key, check in checks.items()):
        return None
    for key in ("started", "finished", "cancel_requested", "opened"):
        if data.get(key) is not None and not _number(data[key]):
            return None
    if data.get("pid") is not None and not _count(data["pid"], 2 ** 31):
        return None
    if data.get("pid_started") is not None and not _count(data["pid_started"], SAFE_INT):
        return None
    if data.get("slots") is not None and not _count(data["slots"], 10_000):
        return None
    error = data.get("error")  # plain text (older records), or a stored sentence (jobs/texts.py)
    if error is not None and not (isinstance(error, str) and len(error) <= 10 * TEXT_LIMIT) and \
            not texts.well_formed(error):
        return None  # a sentence whose key this version lacks is shown as none, its job still listed
    return {**data, "model_config": current_model_settings(data["model_type"], data["model_config"])}


_warned: set[tuple[str, tuple]] = set()


def warn_once(path: Path, problem: str) -> None:
    """Log that `path` was skipped, once per version of the file (the server log, never a visitor)."""
    key = (str(path), file_signature(path))
    if key not in _warned:
        _warned.add(key)
        log.warning("skipped %s: %s", path, problem)


class JobFolder:
    """Paths and readers of one job's folder (creates nothing until asked); every read stays below `runs_dir`."""

    def __init__(self, runs_dir, job_id: str):
        self.job_id = job_id
        self.root = Path(runs_dir)
        self.path = self.root / job_id
        self.job_file = self.path / JOB_FILE
        self.progress_file = self.path / PROGRESS_FILE
        self.metrics_file = self.path / METRICS_FILE
        self.log_file = self.path / LOG_FILE
        self.stop_file = self.path / STOP_FILE
        self.checkpoint = self.path / CHECKPOINT_DIR
        self.samples = self.path / SAMPLES_DIR

    def exists(self) -> bool:
        """Return True when the folder (not a link) holds a job record file (not a link)."""
        return is_real_folder(self.path) and is_real_file(self.job_file)

    def record(self) -> dict | None:
        """Return the job.json record when it is well-formed, else None (logged once)."""
        record = parse_record(read_json(self.job_file, self.root), self.job_id)
        if record is None and os.path.lexists(self.job_file):
            warn_once(self.job_file, "not a job record this app wrote (or a link, or not a regular file)")
        return record

    def save_record(self, record: dict) -> None:
        """Replace job.json atomically."""
        self.path.mkdir(parents=True, exist_ok=True)
        write_json(self.job_file, record)

    def progress(self) -> dict:
        """Return the worker's progress.json ({} before the worker wrote one, or when it is malformed)."""
        return read_json(self.progress_file, self.root) or {}

    def append_log(self, text: str) -> None:
        """Append `text` to log.txt (never through a link)."""
        with append_below(self.root, self.log_file) as f:
            f.write(text.encode("utf-8", "replace"))

    def log_tail(self, max_chars: int = 6000) -> str:
        """Return the last `max_chars` bytes of log.txt, scrubbed of paths ('' when there is none, or a sentence
        when it is a link or not a regular file)."""
        try:
            return scrub(tail_below(self.root, self.log_file, max_chars).decode("utf-8", "replace"))
        except ValueError as error:  # RefusedFile
            return i18n.text("jobs.log_unshown", problem=error)
        except OSError:
            return ""

    def sample_grids(self) -> dict[int, Path]:
        """Return {epoch: path of its sample grid PNG}, sorted by epoch; read them with grid_png, which refuses
        a link or a special file with a sentence (so they are listed, to be shown as damaged)."""
        found = {}
        if is_real_folder(self.path) and is_real_folder(self.samples):
            for p in self.samples.glob("epoch-*.png"):
                stem = p.stem.split("-")[-1]
                if stem.isdigit() and not is_real_folder(p):
                    found[int(stem)] = p
        return dict(sorted(found.items()))

    def grid_png(self, epoch: int) -> bytes:
        """Return epoch `epoch`'s picture grid re-encoded as PNG bytes; ValueError with a sentence when it is
        missing, a link, not a small PNG, or damaged."""
        name = i18n.Text("jobs.grid.name", epoch=epoch)
        path = self.sample_grids().get(epoch)
        if path is None:
            raise i18n.Sentence("jobs.grid.missing", name=name)
        try:
            data = read_below(self.root, path, MAX_GRID_BYTES)
        except ValueError as error:  # RefusedFile
            raise i18n.Sentence("jobs.grid.unshown", name=name, problem=error) from None
        except OSError:
            raise i18n.Sentence("jobs.grid.missing", name=name) from None
        return checked_png(data, name)

    def checkpoint_config(self) -> dict | None:
        """Return the checkpoint's parsed config.json, or None when nothing readable was saved."""
        if not is_real_folder(self.path):
            return None
        try:
            config = read_config(self.checkpoint)  # read with no link followed (genmodels.files)
        except (ValueError, OSError):  # OSError: a save swapped the folder while we looked
            return None
        return config if _count(config.get("epochs_trained", 0)) else None

    def has_resume_state(self) -> bool:
        """Return True when the checkpoint folder holds weights and optimizer state to resume from."""
        config = self.checkpoint_config()
        return bool(config and isinstance(config.get("resume"), dict))

    def saved_epochs(self) -> int:
        """Return how many epochs the checkpoint folder holds (0 when nothing was saved)."""
        config = self.checkpoint_config()
        return config.get("epochs_trained", 0) if config else 0

    def tidy_checkpoint(self) -> None:
        """Put back a checkpoint a killed save left aside; only for a job whose worker has ended."""
        if is_real_folder(self.path):
            recover_folder(self.checkpoint)

    def backfill_epochs(self, segment: int) -> list[int]:
        """Append the metrics lines of epochs the checkpoint holds but metrics.jsonl lacks; return those epochs.

        The worker writes an epoch's line after the trainer saved it, so a kill in between (while the
        previous checkpoint is being deleted, say) leaves the epoch saved without its line: its
        figures are in the checkpoint's history. Only for a job whose worker has ended (one writer).
        """
        config = self.checkpoint_config()
        history = config.get("history") if config else None
        if not isinstance(history, list):
            return []
        epochs = read_metrics(self.metrics_file, self.root)["epochs"]
        last = epochs[-1]["epoch"] if epochs else 0
        added = []
        for entry in history:
            if (isinstance(entry, dict) and _count(entry.get("epoch")) and last < entry["epoch"]
                    <= config.get("epochs_trained", 0)):
                append_jsonl(self.metrics_file, epoch_line(segment, entry), self.root)
                last = entry["epoch"]
                added.append(last)
        return added


def checked_png(data: bytes, name: "i18n.Text | str") -> bytes:
    """Return `data` re-encoded as an RGB PNG when it is a PNG of at most MAX_GRID_SIDE pixels a side; ValueError
    naming `name` otherwise (its size is checked from the header, before anything is decoded)."""
    try:
        with Image.open(io.BytesIO(data), formats=("PNG",)) as image:
            if max(image.size) > MAX_GRID_SIDE:
                raise i18n.Sentence("jobs.grid.too_big", name=name, width=image.size[0], height=image.size[1])
            image.load()
            out = io.BytesIO()
            image.convert("RGB").save(out, format="PNG")
        return out.getvalue()
    except Image.DecompressionBombError:  # PIL refuses it from the header, before decoding
        raise i18n.Sentence("jobs.grid.bomb", name=name) from None
    except (OSError, SyntaxError):  # SyntaxError: PIL's word for a broken chunk
        raise i18n.Sentence("jobs.grid.damaged", name=name) from None


def scrub(text: str) -> str:
    """Return log text without traceback lines and with server paths replaced by '…'."""
    roots = sorted({str(Path(__file__).resolve().parent.parent), sys.prefix, sys.base_prefix,
                    str(Path.home()), "/tmp"}, key=len, reverse=True)
    lines = []
    for line in text.splitlines():
        if line.startswith(("Traceback", "  File ", "    ")):
            continue
        for root in roots:
            line = line.replace(root, "…")
        lines.append(re.sub(r"(/[\w.\-]+){2,}", "…", line))
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def shown_error(error, language: str | None = None) -> str | None:
    """Return a job's error (a stored sentence, jobs/texts.py, or an older record's plain text) as a visitor may
    see it, in `language` (default: the current one): one scrubbed line of at most TEXT_LIMIT characters."""
    error = texts.shown(error, language)
    if not isinstance(error, str) or not error.strip():
        return None
    text = re.sub("…+", "…", " ".join(scrub(error).split()))
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT - 1] + "…"


def key_figures(model_type: str, epochs: list[dict]) -> dict:
    """Return the best epoch's headline figures (see each model class's `figures`), {} before the first epoch."""
    model_class = MODEL_TYPES[model_type]
    usable = [m for m in epochs if all(_number(m.get(k)) for k in model_class.figures)]
    best = best_epoch(model_class, usable)
    if best is None:
        return {}
    return {"best_epoch": best["epoch"], **{k: best[k] for k in model_class.figures}}


def status_view(folder: JobFolder, record: dict, metrics: dict) -> dict:
    """Return what anyone may see of a job: status, name, epochs done/target, fraction 0-1, ETA (s), figures.

    Its error (a stored sentence) and problem (an i18n.Text) are rendered by `rendered`, in the language of
    whoever reads the view: the view is cached for everyone."""
    progress = folder.progress() if record["status"] == RUNNING else {}
    checkpoint = folder.checkpoint_config()
    saved = checkpoint.get("epochs_trained", 0) if checkpoint else 0
    last = metrics["epochs"][-1] if metrics["epochs"] else {}
    epochs_done = int(last.get("epoch", saved))
    target = max(record["target_epochs"], epochs_done)
    fraction = epochs_done / target if target else 0.0
    if _number(progress.get("fraction")) and progress.get("segment") == len(record["segments"]) - 1:
        fraction = progress["fraction"]  # the worker's own figure, with the current epoch's steps
    if record["status"] == DONE:
        fraction = 1.0
    eta, phase = progress.get("eta_s"), progress.get("phase")
    train = record["train_config"]
    return {
        "id": record["id"], "name": RUN_PREFIX + record["id"], "title": record["name"],
        "model_type": record["model_type"], "dataset": train["dataset"], "status": record["status"],
        "error": record.get("error"), "phase": phase if isinstance(phase, str) and len(phase) <= 40 else None,
        "epochs_done": epochs_done, "target_epochs": target,
        "fraction": round(min(1.0, max(0.0, fraction)), 4), "eta_s": eta if _number(eta) else None,
        "created": record["created"], "started": record.get("started"), "finished": record.get("finished"),
        "has_checkpoint": checkpoint is not None,
        "can_resume": record["status"] in FINISHED and bool(checkpoint and isinstance(checkpoint.get("resume"), dict)),
        "figures": key_figures(record["model_type"], metrics["epochs"]),
        "problem": metrics.get("problem"),  # a sentence when the job's metrics are damaged, else None
        "settings": {"model_config": record["model_config"],
                     "train_config": {k: v for k, v in train.items() if k not in SERVER_SETTINGS}},
    }


def rendered(view: dict, language: str | None = None) -> dict:
    """Return a status view (status_view) with its error and problem as sentences in `language` (default: the
    current one)."""
    problem = view.get("problem")
    return {**view, "error": shown_error(view.get("error"), language),
            "problem": problem.render(language) if isinstance(problem, i18n.Text) else problem}
