"""The job runner: queues training jobs, runs each in its own process, follows, cancels, resumes and prunes them.

    runner = JobRunner(runs_dir, HostLimits())            # supervises runs_dir from a daemon thread
    job_id = runner.submit_settings({"model": "vae", "epochs": 5}, owner_token)
    runner.status(job_id)                                  # status, epochs, ETA, key figures
    runner.cancel(job_id, owner_token)                     # stop flag, then a hard kill after a grace period
    runner.resume(job_id, owner_token, epochs=5)           # continue from the saved optimizer state

Each job runs `python -m jobs.worker <job_dir>` in its own low-priority process: a crash, an
out-of-memory or a hung step ends that process, never the app. One app process owns a runs
folder; when it starts, jobs that a previous process left running are marked interrupted.

Retention (so that nobody's finished work is deleted by somebody else's activity):
- each owner keeps at most `runs_per_owner` jobs: beyond that, their own oldest stopped jobs
  go, cancelled, failed and interrupted ones before finished ones;
- the whole folder holds at most `max_runs` jobs: beyond that, anyone's oldest cancelled,
  failed or interrupted jobs go first, then finished runs older than `keep_days`; if that is not
  enough, the new job is refused (never is a recent finished run deleted for someone else).
"""

import dataclasses
import hashlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from genmodels.checkpoints import file_signature
from genmodels.data import dataset_availability
from genmodels.settings import parse, specs
from genmodels.train import MODEL_TYPES, TrainConfig

from .records import (ACTIVE, CANCELLED, DONE, FAILED, FINISHED, INTERRUPTED, QUEUED, RUN_PREFIX, RUNNING,
                      UNSUCCESSFUL, JobFolder, check_job_id, check_name, new_job_id,
                      read_metrics, status_view)
from .settings import check_device, configs_from_settings

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the worker runs `-m jobs.worker` from here
AVAILABILITY_TTL_S = 60.0  # data set availability may probe the network: ask at most this often
log = logging.getLogger("latent_lab.jobs")


@dataclasses.dataclass(frozen=True)
class HostLimits:
    """What a host allows (app.py reads these from LATENT_LAB_* variables)."""

    enabled: bool = True  # False: no new jobs (public hosting without training)
    max_concurrent: int = 1  # jobs training at once
    max_queue: int = 4  # jobs waiting behind them (0: a job is accepted only when it can start at once)
    max_epochs: int = 100  # epochs per launch or resume
    max_runs: int = 50  # job folders kept in all (0: no limit)
    runs_per_owner: int = 10  # job folders kept per owner (0: no limit)
    keep_days: float = 7.0  # finished runs younger than this are never deleted for someone else
    job_threads: int = 1  # torch threads of each job's process
    job_nice: int = 10  # CPU priority increment of each job's process


def hash_token(token: str | None) -> str:
    """Return the SHA-256 hex digest stored as a job's owner ('' for no token)."""
    # surrogatepass: any text JSON can carry (a lone surrogate too) hashes instead of raising
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest() if token else ""


def check_token(owner_token) -> str:
    """Return `owner_token` when it is non-blank text; ValueError otherwise (a job nobody owns cannot be cancelled)."""
    if not isinstance(owner_token, str) or not owner_token.strip():
        raise ValueError("Starting a job needs an owner token: a secret text you keep to cancel or resume it later.")
    return owner_token


def _pid_runs_job(pid, job_id: str) -> bool:
    """Return True when `pid` is a live process whose command line names the job `job_id`."""
    try:
        with open(f"/proc/{int(pid)}/cmdline", "rb") as f:
            return job_id.encode() in f.read()
    except (OSError, TypeError, ValueError):
        return False


def _describe_exit(code) -> str:
    if code is None:
        return "it is no longer running"
    if code < 0:
        try:
            return f"it was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"it was killed by signal {-code}"
    return f"it exited with code {code}"


class JobRunner:
    """Starts, follows, cancels, resumes and prunes the training jobs recorded under `runs_dir`."""

    def __init__(self, runs_dir, limits: HostLimits | None = None, *, grace_s=2.0, poll_s=0.5, supervise=True):
        self.runs_dir = Path(runs_dir)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.limits = limits or HostLimits()
        self.grace_s, self.poll_s = grace_s, poll_s
        self._procs: dict[str, subprocess.Popen] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)  # notified after every refresh
        self._views: dict[str, tuple] = {}  # job id -> (file signature, record, status view)
        self._metrics: dict[str, tuple] = {}  # job id -> (file signature, metrics)
        self._availability = (0.0, {})  # (when, dataset_availability result)
        self._closed = threading.Event()
        self.refresh(startup=True)
        self._thread = None
        if supervise:
            self._thread = threading.Thread(target=self._supervise, name="job-supervisor", daemon=True)
            self._thread.start()

    @property
    def enabled(self) -> bool:
        """True when this host accepts new jobs."""
        return self.limits.enabled

    @property
    def max_epochs(self) -> int:
        """Epochs allowed per launch or resume on this host."""
        return self.limits.max_epochs

    # -- bookkeeping ------------------------------------------------------------------------
    def _folder(self, job_id) -> JobFolder:
        folder = JobFolder(self.runs_dir, check_job_id(job_id))
        if not folder.exists():
            raise ValueError(f"There is no job {folder.job_id}.")
        return folder

    def _record(self, folder: JobFolder) -> dict:
        record = folder.record()
        if record is None:
            raise ValueError(f"The record of job {folder.job_id} cannot be read.")
        return record

    def job_ids(self) -> list[str]:
        """Return the ids of all recorded jobs, newest first."""
        try:
            ids = [p.name for p in self.runs_dir.iterdir() if (p / "job.json").is_file()]
        except OSError:
            return []
        return sorted((i for i in ids if not i.startswith(".")), reverse=True)

    def _records(self) -> list[tuple[JobFolder, dict]]:
        """Return (folder, record) of every job whose record is well-formed (others are skipped and logged once)."""
        out = []
        for job_id in self.job_ids():
            try:
                folder = JobFolder(self.runs_dir, check_job_id(job_id))
            except ValueError:
                continue
            record = folder.record()
            if record is not None:
                out.append((folder, record))
        return out

    def _check_owner(self, record: dict, owner_token, action: str) -> None:
        if not record["owner"] or not isinstance(owner_token, str) or hash_token(owner_token) != record["owner"]:
            raise ValueError(f"Only the person who started job {record['id']} can {action} it.")

    # -- submitting -------------------------------------------------------------------------
    def _dataset_available(self, dataset: str) -> tuple[bool, str]:
        """Return (available, reason) for a data set, from a cache refreshed every AVAILABILITY_TTL_S."""
        when, found = self._availability
        if time.time() - when > AVAILABILITY_TTL_S:
            found = dataset_availability()
            self._availability = (time.time(), found)
        return found.get(dataset, (False, "unknown"))

    def _check_enabled(self) -> None:
        if not self.limits.enabled:
            raise ValueError("Training is turned off on this server; the explorer works as usual.")

    def _check_queue_room(self, records: list[tuple[JobFolder, dict]]) -> None:
        """Raise a ValueError when one more job would wait longer than max_queue allows (under the lock)."""
        running = sum(1 for _, r in records if r["status"] == RUNNING)
        waiting = sum(1 for _, r in records if r["status"] == QUEUED)
        would_wait = max(0, waiting + 1 - max(0, self.limits.max_concurrent - running))
        if would_wait > self.limits.max_queue:
            if self.limits.max_queue == 0:
                raise ValueError("All training slots are busy and this server keeps no queue; "
                                 "try again when the running job has finished.")
            raise ValueError(f"The training queue is full ({waiting} jobs waiting); try again when one has started.")

    def _delete(self, folder: JobFolder) -> None:
        # Renamed first, so no reader ever lists a half-deleted job.
        doomed = self.runs_dir / f".deleted-{folder.job_id}-{uuid.uuid4().hex[:6]}"
        try:
            os.replace(folder.path, doomed)
        except OSError:
            return
        shutil.rmtree(doomed, ignore_errors=True)
        self._views.pop(folder.job_id, None)
        self._metrics.pop(folder.job_id, None)
        log.info("deleted job %s (retention)", folder.job_id)

    def _make_room(self, records: list[tuple[JobFolder, dict]], owner: str) -> None:
        """Delete stopped jobs so one more fits the retention policy (module docstring); ValueError if it cannot."""
        limits = self.limits

        def age_order(items):  # unsuccessful before finished, oldest first
            return sorted(items, key=lambda fr: (fr[1]["status"] == DONE, fr[1].get("finished") or fr[1]["created"]))

        if limits.runs_per_owner > 0:
            mine = [fr for fr in records if fr[1]["owner"] == owner]
            excess = len(mine) + 1 - limits.runs_per_owner
            stopped = age_order([fr for fr in mine if fr[1]["status"] in FINISHED])
            if excess > len(stopped):
                raise ValueError(f"You already have {len(mine)} jobs on this server, the most one person can keep "
                                 "while they are queued or running; wait for one to finish.")
            for folder, _ in stopped[:max(0, excess)]:
                self._delete(folder)
            gone = {f.job_id for f, _ in stopped[:max(0, excess)]}
            records = [fr for fr in records if fr[0].job_id not in gone]
        if limits.max_runs > 0:
            excess = len(records) + 1 - limits.max_runs
            if excess <= 0:
                return
            cutoff = time.time() - limits.keep_days * 86400
            candidates = age_order([fr for fr in records if fr[1]["status"] in UNSUCCESSFUL
                                    or (fr[1]["status"] == DONE and (fr[1].get("finished") or 0) < cutoff)])
            if excess > len(candidates):
                raise ValueError("This server is keeping as many training runs as it can, all recent; "
                                 "try again later.")
            for folder, _ in candidates[:excess]:
                self._delete(folder)

    def submit(self, model_type: str, model_config, train_config, owner_token: str, name: str = "") -> str:
        """Queue a job and return its id; it starts as soon as a slot is free (ValueError if not allowed)."""
        if model_type not in MODEL_TYPES:
            raise ValueError(f"Unknown model type {model_type!r}; choose one of {', '.join(MODEL_TYPES)}.")
        self._check_enabled()
        name = check_name(name)
        available, reason = self._dataset_available(train_config.dataset)
        if not available:
            raise ValueError(f"Data set {train_config.dataset!r} is not available here: {reason}.")
        check_device(train_config.device)
        if train_config.epochs > self.limits.max_epochs:
            raise ValueError(f"Epochs must be between 1 and {self.limits.max_epochs} on this server, "
                             f"got {train_config.epochs}.")
        owner = hash_token(check_token(owner_token))
        with self._lock:
            records = self._records()
            self._check_queue_room(records)
            self._make_room(records, owner)
            job_id = new_job_id()
            while (self.runs_dir / job_id).exists():
                job_id = new_job_id()
            folder = JobFolder(self.runs_dir, job_id)
            folder.path.mkdir(parents=True)
            now = time.time()
            folder.save_record({
                "id": job_id, "name": name, "model_type": model_type,
                "model_config": dataclasses.asdict(model_config), "train_config": dataclasses.asdict(train_config),
                "status": QUEUED, "owner": owner, "created": now, "queued": now, "started": None,
                "finished": None, "pid": None, "error": None, "cancel_requested": None,
                "target_epochs": train_config.epochs,
                "segments": [{"epochs": train_config.epochs, "resume": False, "queued": now}],
            })
        self.refresh()
        return job_id

    def submit_settings(self, settings: dict, owner_token: str) -> str:
        """Validate public settings (jobs.settings; 'name' names the run), queue the job and return its id."""
        model_type, model_config, train_config = configs_from_settings(settings, self.limits.max_epochs)
        return self.submit(model_type, model_config, train_config, owner_token, name=settings.get("name"))

    def resume(self, job_id, owner_token: str, epochs) -> str:
        """Queue `epochs` more epochs of a finished, cancelled, failed or interrupted job; return its id."""
        folder = self._folder(job_id)
        epochs = parse(specs(TrainConfig)["epochs"], epochs)
        if epochs > self.limits.max_epochs:
            raise ValueError(f"Epochs must be between 1 and {self.limits.max_epochs} on this server, got {epochs}.")
        with self._lock:
            record = self._record(folder)
            self._check_owner(record, owner_token, "resume")
            if record["status"] in ACTIVE:
                raise ValueError(f"Job {folder.job_id} is {record['status']}; only a stopped job can be resumed.")
            folder.tidy_checkpoint()  # the job is stopped: put back a checkpoint a killed save left aside
            if not folder.has_resume_state():
                raise ValueError(f"Job {folder.job_id} cannot be resumed: its checkpoint is missing "
                                 "(it stopped before finishing its first epoch).")
            self._check_enabled()
            self._check_queue_room(self._records())
            now = time.time()
            record["segments"].append({"epochs": epochs, "resume": True, "queued": now})
            record.update(status=QUEUED, queued=now, finished=None, error=None, cancel_requested=None, pid=None,
                          target_epochs=folder.saved_epochs() + epochs)
            folder.save_record(record)
        self.refresh()
        return folder.job_id

    # -- cancelling -------------------------------------------------------------------------
    def cancel(self, job_id, owner_token: str, wait=True) -> str:
        """Stop a queued or running job (hard kill after grace_s); return its status afterwards."""
        folder = self._folder(job_id)
        with self._lock:
            record = self._record(folder)
            self._check_owner(record, owner_token, "cancel")
            if record["status"] == QUEUED:
                record.update(status=CANCELLED, finished=time.time())
                folder.save_record(record)
                return CANCELLED
            if record["status"] != RUNNING:
                return record["status"]
            folder.stop_file.touch()
            record["cancel_requested"] = time.time()
            folder.save_record(record)
            # The worker stops within a step, or refresh() kills it after grace_s; each refresh notifies.
            deadline = time.monotonic() + self.grace_s + 5.0
            while wait and self._record(folder)["status"] == RUNNING and time.monotonic() < deadline:
                if self._thread is None:
                    self.refresh()
                self._changed.wait(timeout=self.poll_s)
            return self._record(folder)["status"]

    # -- supervision ------------------------------------------------------------------------
    def _alive(self, folder: JobFolder, record: dict) -> tuple[bool, int | None]:
        proc = self._procs.get(folder.job_id)
        if proc is not None:
            code = proc.poll()
            if code is not None:
                self._procs.pop(folder.job_id, None)
            return code is None, code
        return _pid_runs_job(record.get("pid"), folder.job_id), None

    def _kill(self, folder: JobFolder, record: dict) -> None:
        proc = self._procs.pop(folder.job_id, None)
        try:
            if proc is not None:
                proc.kill()
                proc.wait(timeout=5)
            elif _pid_runs_job(record.get("pid"), folder.job_id):
                os.kill(record["pid"], signal.SIGKILL)
        except (OSError, subprocess.TimeoutExpired):
            pass

    def _reconcile(self, folder: JobFolder, record: dict, startup: bool) -> None:
        """Bring a 'running' record up to date with its process (under the lock)."""
        alive, code = self._alive(folder, record)
        if alive and startup:
            self._kill(folder, record)  # left by an app process that is gone: nobody follows it any more
            alive = False
        if alive:
            asked = record.get("cancel_requested")
            if not asked or time.time() - asked <= self.grace_s:
                return
            self._kill(folder, record)  # it did not stop by itself: the last saved epoch stays
        folder.tidy_checkpoint()  # the process is gone: nobody is saving, so leftovers can go
        progress = folder.progress()
        ours = progress.get("segment") == len(record["segments"]) - 1
        outcome = progress.get("outcome") if ours and progress.get("outcome") in FINISHED else None
        error = progress.get("error") if ours and isinstance(progress.get("error"), str) else None
        saved = folder.saved_epochs()
        kept = (f"The last good checkpoint (epoch {saved}) is kept; resume to continue."
                if saved else "No epoch had finished, so nothing was saved.")
        if outcome:
            status = outcome
        elif record.get("cancel_requested"):
            status, error = CANCELLED, None
        elif startup:
            status, error = INTERRUPTED, "The app stopped while this job was running."
        else:
            status, error = FAILED, f"The training process stopped unexpectedly: {_describe_exit(code)}."
        if status in (FAILED, INTERRUPTED):
            error = f"{error} {kept}"
        record.update(status=status, error=error, finished=time.time())
        folder.save_record(record)
        folder.stop_file.unlink(missing_ok=True)

    def _start(self, folder: JobFolder, record: dict) -> None:
        folder.stop_file.unlink(missing_ok=True)
        folder.progress_file.unlink(missing_ok=True)
        env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS=str(self.limits.job_threads),
                   MKL_NUM_THREADS=str(self.limits.job_threads))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_DIR), env.get("PYTHONPATH")) if p)
        with open(folder.log_file, "a") as job_log:
            job_log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} segment {len(record['segments'])} ---\n")
            job_log.flush()
            # stdout (progress lines) goes to the job's log; stderr (tracebacks) to the server's own log.
            proc = subprocess.Popen(
                [sys.executable, "-m", "jobs.worker", str(folder.path), "--parent-pid", str(os.getpid()),
                 "--threads", str(self.limits.job_threads), "--nice", str(self.limits.job_nice)],
                cwd=str(PROJECT_DIR), env=env, stdin=subprocess.DEVNULL, stdout=job_log,
                start_new_session=True)  # Ctrl-C in the app's terminal is the app's, not the job's
        self._procs[folder.job_id] = proc
        record.update(status=RUNNING, pid=proc.pid, started=time.time(), cancel_requested=None)
        folder.save_record(record)

    def refresh(self, startup=False) -> None:
        """Update running jobs from their processes; start queued jobs while slots are free."""
        with self._lock:
            records = self._records()
            for folder, record in records:
                if record["status"] == RUNNING:
                    self._reconcile(folder, record, startup)
            running = sum(1 for _, r in records if r["status"] == RUNNING)
            queued = sorted((r["queued"], f.job_id, f, r) for f, r in records if r["status"] == QUEUED)
            for _, _, folder, record in queued:
                if running >= self.limits.max_concurrent or self._closed.is_set():
                    break
                self._start(folder, record)
                running += 1
            self._changed.notify_all()

    def _supervise(self) -> None:
        while not self._closed.wait(self.poll_s):
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 -- the supervisor must outlive a bad folder
                log.exception("job supervisor")

    def close(self, stop_jobs=True) -> None:
        """Stop supervising; with stop_jobs, stop the running jobs and mark them interrupted."""
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not stop_jobs:
            return
        for job_id in list(self._procs):
            (self.runs_dir / job_id / "stop").touch()
        deadline = time.monotonic() + self.grace_s
        for proc in list(self._procs.values()):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if not self.runs_dir.is_dir():
            return
        with self._lock:
            for folder, record in self._records():
                if record["status"] == RUNNING and folder.job_id in self._procs:
                    self._reconcile(folder, record, startup=True)
        self._procs.clear()

    def wait(self, job_id, timeout_s: float = 600) -> dict:
        """Block until the job is no longer queued or running (or timeout); return its status view."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self.status(job_id)["status"] not in FINISHED and time.monotonic() < deadline:
                if self._thread is None:
                    self.refresh()
                self._changed.wait(timeout=self.poll_s)
        return self.status(job_id)

    # -- reading (cheap: a few stat calls per job while nothing changed) ---------------------
    def _cached_metrics(self, folder: JobFolder) -> dict:
        signature = file_signature(folder.metrics_file)
        cached = self._metrics.get(folder.job_id)
        if cached is None or cached[0] != signature:
            cached = (signature, read_metrics(folder.metrics_file))
            self._metrics[folder.job_id] = cached
        return cached[1]

    def _cached_view(self, job_id) -> tuple[dict, dict]:
        """Return (record, status view) of a job, recomputed only when one of its files changed."""
        folder = self._folder(job_id)
        signature = file_signature(folder.job_file, folder.progress_file, folder.metrics_file,
                                   folder.checkpoint / "config.json")
        cached = self._views.get(folder.job_id)
        if cached is not None and cached[0] == signature:
            return cached[1], cached[2]
        record = self._record(folder)
        view = status_view(folder, record, self._cached_metrics(folder))
        self._views[folder.job_id] = (signature, record, view)
        return record, view

    def status(self, job_id) -> dict:
        """Return a job's status view: status, epochs done/target, fraction 0-1, ETA in seconds, key figures."""
        return dict(self._cached_view(job_id)[1])

    def metrics(self, job_id) -> dict:
        """Return {'epochs': [...], 'steps': [...]} of a job (losses in nats, accuracy 0-1); treat as read-only."""
        return self._cached_metrics(self._folder(job_id))

    def log_tail(self, job_id, owner_token, max_chars: int = 6000) -> str:
        """Return the end of a job's log, scrubbed of paths, to its owner ('' to anyone else)."""
        return self._folder(job_id).log_tail(max_chars) if self.is_owner(job_id, owner_token) else ""

    def sample_grids(self, job_id) -> dict[int, Path]:
        """Return {epoch: PNG path} of a job's picture grids."""
        return self._folder(job_id).sample_grids()

    def list_jobs(self, limit: int | None = None) -> list[dict]:
        """Return the status views of the `limit` newest readable jobs (all when None), newest first."""
        out = []
        for job_id in self.job_ids():
            if limit is not None and len(out) >= limit:
                break
            try:
                out.append(self.status(job_id))
            except ValueError:
                continue  # an unreadable folder is not listed
        return out

    def is_owner(self, job_id, owner_token) -> bool:
        """Return True when `owner_token` started the job."""
        record = self._cached_view(job_id)[0]
        return bool(record["owner"]) and isinstance(owner_token, str) and hash_token(owner_token) == record["owner"]

    def checkpoint_folders(self) -> dict[str, tuple[Path, str]]:
        """Return {'run-<job_id>': (checkpoint folder, run name)} of every readable job that saved one."""
        return {RUN_PREFIX + folder.job_id: (folder.checkpoint, record["name"]) for folder, record in self._records()
                if (folder.checkpoint / "config.json").is_file()}
