"""Background training jobs: one process each, an on-disk registry, live progress, cancel, resume, limits.

    manager = JobManager(runs_dir)                       # supervises runs_dir from a daemon thread
    job_id = manager.submit_settings({"model": "vae", "dataset": "mnist-5k", "epochs": 5}, owner_token)
    manager.status(job_id)                               # status, epochs, ETA, key figures
    manager.cancel(job_id, owner_token)                  # stop flag, then a hard kill after a grace period
    manager.resume(job_id, owner_token, epochs=5)        # continue from the saved optimizer state

Each job runs `python -m genmodels.jobs run <job_dir>` (see jobs_worker.py), i.e. the same
`build_trainer` as the CLI, in its own low-priority process: a crash, an out-of-memory or a hung
step ends that process, never the app. Settings from forms and requests are checked in
jobs_settings.py; the files of one job are described in jobs_record.py.

Several managers (the app, a CLI `--background` run) may share one runs folder. Scheduling
happens under a file lock, and every job records its runner, the manager that starts and stops
it: a CLI manager (kind "cli") only ever runs the job it submitted; an app manager (kind "app")
runs the app's jobs and adopts jobs left queued by a runner that is gone. A manager relabels a
running job only when it is its runner or the runner's process is gone, and on close it stops
only the processes it started.

Environment switches for public hosting: LATENT_LAB_TRAINING=off (no new jobs),
LATENT_LAB_MAX_JOBS (running at once, default 1), LATENT_LAB_MAX_QUEUE (waiting, default 4; 0 = no
waiting, a job is accepted only when it can start at once), LATENT_LAB_MAX_EPOCHS (per launch or
resume, default 100), LATENT_LAB_MAX_RUNS (job folders kept, default 50: each submit deletes the
oldest finished ones beyond it; 0 keeps all).
"""

import argparse
import contextlib
import dataclasses
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from .jobs_record import (ACTIVE, CANCELLED, DONE, FAILED, FINISHED, INTERRUPTED, QUEUED, RUNNING,
                          JobFolder, check_job_id, file_signature, new_job_id, read_metrics, status_view)
from .jobs_settings import check_device, configs_from_settings, parse_number
from .registry import PROJECT_DIR, RUN_PREFIX, RUNS_DIR

MANAGER_KINDS = ("app", "cli")
AVAILABILITY_TTL_S = 60.0  # data set availability may probe the network: ask at most this often


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() else default


def training_enabled() -> bool:
    """Return False when LATENT_LAB_TRAINING is 'off' (or 0/false/no): public hosting without training."""
    return os.environ.get("LATENT_LAB_TRAINING", "on").strip().lower() not in ("off", "0", "false", "no")


def hash_token(token: str | None) -> str:
    """Return the SHA-256 hex digest stored as a job's owner ('' for no token)."""
    return hashlib.sha256(token.encode()).hexdigest() if token else ""


# -- processes ------------------------------------------------------------------------------
def _process_start(pid) -> str | None:
    """Return when process `pid` started (clock ticks since boot, from /proc), or None when it is not alive.

    Together with the pid this names one process for good: a later process given the same pid
    has another start time.
    """
    try:
        with open(f"/proc/{int(pid)}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError, ValueError):
        return None
    return None if fields[0] == "Z" else fields[19]  # state, then starttime (field 22 of proc(5))


def _pid_runs_job(pid, job_id: str) -> bool:
    """Return True when `pid` is a live (not zombie) process running the job `job_id`."""
    if not pid or _process_start(pid) is None:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return job_id.encode() in f.read()
    except OSError:
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


class JobManager:
    """Starts, follows, cancels and resumes training jobs recorded under `runs_dir`."""

    def __init__(self, runs_dir=RUNS_DIR, *, kind="app", max_concurrent=1, max_queue=4, max_epochs=100,
                 max_runs=50, enabled=True, job_threads=1, job_nice=10, grace_s=2.0, poll_s=0.5,
                 supervise=True, reconcile=True):
        if kind not in MANAGER_KINDS:
            raise ValueError(f"kind must be one of {', '.join(MANAGER_KINDS)}, got {kind!r}.")
        self.runs_dir = Path(runs_dir)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.kind = kind
        self.max_concurrent, self.max_queue, self.max_epochs = max_concurrent, max_queue, max_epochs
        self.max_runs = max_runs
        self.enabled, self.job_threads, self.job_nice = enabled, job_threads, job_nice
        self.grace_s, self.poll_s = grace_s, poll_s
        # Recorded in job.json as the job's runner; pid + start time tell whether this process still lives.
        self.runner = {"id": uuid.uuid4().hex[:12], "kind": kind, "host": socket.gethostname(),
                       "pid": os.getpid(), "pid_start": _process_start(os.getpid())}
        self._procs: dict[str, subprocess.Popen] = {}
        self._lock = threading.RLock()
        self._lock_depth, self._lock_file = 0, None
        self._views: dict[str, tuple] = {}  # job id -> (file signature, record, status view)
        self._metrics: dict[str, tuple] = {}  # job id -> (file signature, metrics)
        self._availability = (0.0, None, {})  # (when, data_dir, dataset_availability result)
        self._closed = threading.Event()
        if reconcile:  # a read-only manager (e.g. `list`) must not start or relabel jobs
            self.refresh(startup=True)
        self._thread = None
        if supervise:
            self._thread = threading.Thread(target=self._supervise, name="job-supervisor", daemon=True)
            self._thread.start()

    @classmethod
    def from_env(cls, runs_dir=RUNS_DIR, **kwargs) -> "JobManager":
        """Return a manager over `runs_dir` (None = the project's runs/) with limits from LATENT_LAB_* variables."""
        runs_dir = runs_dir or RUNS_DIR
        kwargs.setdefault("enabled", training_enabled())
        kwargs.setdefault("max_concurrent", max(1, _env_int("LATENT_LAB_MAX_JOBS", 1)))
        kwargs.setdefault("max_queue", _env_int("LATENT_LAB_MAX_QUEUE", 4))
        kwargs.setdefault("max_epochs", max(1, _env_int("LATENT_LAB_MAX_EPOCHS", 100)))
        kwargs.setdefault("max_runs", _env_int("LATENT_LAB_MAX_RUNS", 50))
        return cls(runs_dir, **kwargs)

    # -- bookkeeping ------------------------------------------------------------------------
    def _folder(self, job_id) -> JobFolder:
        job_id = check_job_id(job_id)
        folder = JobFolder(self.runs_dir, job_id)
        if not folder.exists():
            raise ValueError(f"There is no job {job_id} in {self.runs_dir}.")
        return folder

    @contextlib.contextmanager
    def _exclusive(self):
        """Hold this manager's lock and the runs folder's file lock (other managers wait); nesting is safe.

        flock locks belong to an open file, so a nested second open + flock in this process would
        wait for itself: only the outermost level opens and locks the file.
        """
        with self._lock:
            if self._lock_depth == 0:
                self._lock_file = open(self.runs_dir / ".jobs.lock", "a")
                fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
                if self._lock_depth == 0:
                    fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                    self._lock_file.close()
                    self._lock_file = None

    def job_ids(self) -> list[str]:
        """Return the ids of all recorded jobs, newest first."""
        if not self.runs_dir.is_dir():
            return []
        ids = [p.name for p in self.runs_dir.iterdir() if (p / "job.json").is_file()]
        return sorted(ids, reverse=True)

    def _records(self) -> list[tuple[JobFolder, dict]]:
        out = []
        for job_id in self.job_ids():
            folder = JobFolder(self.runs_dir, job_id)
            record = folder.record()
            if record:
                out.append((folder, record))
        return out

    def _check_owner(self, record: dict, owner_token: str | None, action: str) -> None:
        if not record.get("owner") or hash_token(owner_token) != record["owner"]:
            raise ValueError(f"Only the person who started job {record['id']} can {action} it.")

    # -- runners: which manager starts and stops which job ------------------------------------
    def _runner_alive(self, runner: dict | None) -> bool:
        """Return True when the manager recorded as `runner` is this one or its process still runs."""
        if not runner:
            return False  # a record from before runners were recorded: treat it as left behind
        if runner.get("id") == self.runner["id"]:
            return True
        if runner.get("host") != self.runner["host"]:
            return True  # a runs folder shared between machines: we cannot look, so we do not touch
        return runner.get("pid_start") is not None and _process_start(runner.get("pid")) == runner["pid_start"]

    def _runner_alive_other(self, record: dict) -> bool:
        """Return True when the job's runner is another manager whose process still runs."""
        runner = record.get("runner") or {}
        return runner.get("id") != self.runner["id"] and self._runner_alive(runner)

    def _may_start(self, record: dict) -> bool:
        """Return True when this manager may start the queued job (its own, or an app job it can adopt)."""
        runner = record.get("runner") or {}
        if runner.get("id") == self.runner["id"]:
            return True
        if self.kind == "cli":
            return False  # a CLI run starts only the job it submitted
        return record.get("source", "app") == "app" or not self._runner_alive(runner)

    # -- submitting -------------------------------------------------------------------------
    def _dataset_available(self, train_config) -> tuple[bool, str]:
        """Return (available, reason) for the job's data set, from a cache refreshed every AVAILABILITY_TTL_S."""
        from .data import dataset_availability

        when, data_dir, found = self._availability
        if data_dir != train_config.data_dir or time.time() - when > AVAILABILITY_TTL_S:
            found = dataset_availability(train_config.data_dir)
            self._availability = (time.time(), train_config.data_dir, found)
        return found.get(train_config.dataset, (False, "unknown"))

    def _check_enabled(self) -> None:
        if not self.enabled:
            raise ValueError("Training is turned off on this server (LATENT_LAB_TRAINING=off); "
                             "the explorer works as usual.")

    def _check_queue_room(self, records: list[tuple[JobFolder, dict]]) -> None:
        """Raise a ValueError when one more job would wait longer than max_queue allows (under the lock)."""
        running = sum(1 for _, r in records if r["status"] == RUNNING)
        waiting = sum(1 for _, r in records if r["status"] == QUEUED)
        would_wait = max(0, waiting + 1 - max(0, self.max_concurrent - running))
        if would_wait > self.max_queue:
            if self.max_queue == 0:
                raise ValueError("All training slots are busy and this server keeps no queue; "
                                 "try again when the running job has finished.")
            raise ValueError(f"The training queue is full ({waiting} jobs waiting); try again when one has started.")

    def _check_can_queue(self, train_config) -> None:
        """Check everything about a new job that needs no lock (the data set may probe the network)."""
        self._check_enabled()
        available, reason = self._dataset_available(train_config)
        if not available:
            raise ValueError(f"Data set {train_config.dataset!r} is not available here: {reason}.")
        check_device(train_config.device)
        if train_config.epochs > self.max_epochs:
            raise ValueError(f"Epochs must be between 1 and {self.max_epochs} on this server, "
                             f"got {train_config.epochs}.")

    def _prune_runs(self, records: list[tuple[JobFolder, dict]]) -> None:
        """Delete the oldest finished job folders beyond max_runs (under the lock); active jobs always stay."""
        excess = len(records) - self.max_runs
        if self.max_runs <= 0 or excess <= 0:
            return
        finished = sorted((r.get("finished") or r.get("created") or 0, f.job_id, f)
                          for f, r in records if r["status"] in FINISHED)
        for _, job_id, folder in finished[:excess]:
            # Renamed first, so no reader ever lists a half-deleted job.
            doomed = self.runs_dir / f".deleted-{job_id}-{uuid.uuid4().hex[:6]}"
            try:
                os.replace(folder.path, doomed)
            except OSError:
                continue
            shutil.rmtree(doomed, ignore_errors=True)
            self._views.pop(job_id, None)
            self._metrics.pop(job_id, None)

    def submit(self, model_type: str, model_config, train_config, owner_token: str | None, *,
               source=None, save_training_state=True, resume_from=None) -> str:
        """Queue a job and return its id; it starts as soon as a slot is free (ValueError if not allowed)."""
        from .train import MODEL_TYPES

        if model_type not in MODEL_TYPES:
            raise ValueError(f"Unknown model type {model_type!r}; choose 'vae' or 'rnn'.")
        self._check_can_queue(train_config)
        with self._exclusive():
            records = self._records()
            self._check_queue_room(records)
            job_id = new_job_id()
            while (self.runs_dir / job_id).exists():
                job_id = new_job_id()
            folder = JobFolder(self.runs_dir, job_id)
            folder.path.mkdir(parents=True)
            if resume_from is not None:  # the CLI continuing a checkpoint folder of its own
                shutil.copytree(resume_from, folder.checkpoint)
            now = time.time()
            record = {
                "id": job_id, "name": RUN_PREFIX + job_id, "model_type": model_type,
                "model_config": dataclasses.asdict(model_config),
                "train_config": dataclasses.asdict(train_config),
                "status": QUEUED, "owner": hash_token(owner_token), "source": source or self.kind,
                "runner": dict(self.runner),
                "created": now, "queued": now, "started": None, "finished": None, "pid": None,
                "error": None, "cancel_requested": None, "save_training_state": save_training_state,
                "target_epochs": train_config.epochs + (folder.saved_epochs() if resume_from else 0),
                "segments": [{"epochs": train_config.epochs, "resume": resume_from is not None, "queued": now}],
                "limits": {"threads": self.job_threads, "nice": self.job_nice},
            }
            folder.save_record(record)
            self._prune_runs(records + [(folder, record)])
        self.refresh()
        return job_id

    def submit_settings(self, settings: dict, owner_token: str | None) -> str:
        """Validate flat settings (see jobs_settings.configs_from_settings), queue the job and return its id."""
        model_type, model_config, train_config = configs_from_settings(settings, self.max_epochs)
        return self.submit(model_type, model_config, train_config, owner_token)

    def resume(self, job_id, owner_token: str | None, epochs: int) -> str:
        """Queue `epochs` more epochs of a finished, cancelled, failed or interrupted job; return its id."""
        folder = self._folder(job_id)
        epochs = parse_number({"epochs": epochs}, "epochs", int, 1, self.max_epochs, None, "Epochs")
        with self._exclusive():
            record = folder.record()
            self._check_owner(record, owner_token, "resume")
            if record["status"] in ACTIVE:
                raise ValueError(f"Job {folder.job_id} is {record['status']}; only a stopped job can be resumed.")
            if not record.get("save_training_state", True):
                raise ValueError(f"Job {folder.job_id} was saved without optimizer state, so it cannot be resumed.")
            folder.tidy_checkpoint()  # the job is stopped: put back a checkpoint a killed save left aside
            if not folder.has_resume_state():
                raise ValueError(f"Job {folder.job_id} cannot be resumed: its checkpoint is missing "
                                 "(it stopped before finishing its first epoch, or the folder was removed).")
            self._check_enabled()
            self._check_queue_room(self._records())
            now = time.time()
            record["segments"].append({"epochs": epochs, "resume": True, "queued": now})
            record.update(status=QUEUED, queued=now, finished=None, error=None, cancel_requested=None, pid=None,
                          runner=dict(self.runner), target_epochs=folder.saved_epochs() + epochs)
            folder.save_record(record)
        self.refresh()
        return folder.job_id

    # -- cancelling -------------------------------------------------------------------------
    def cancel(self, job_id, owner_token: str | None, wait=True) -> str:
        """Stop a queued or running job (hard kill after grace_s); return its status afterwards."""
        folder = self._folder(job_id)
        with self._exclusive():
            record = folder.record()
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
        # The job's runner (this manager or another one sharing the folder) sees it stop or kills it.
        deadline = time.time() + self.grace_s + 3.0
        while wait and time.time() < deadline:
            self.refresh()
            status = folder.record()["status"]
            if status != RUNNING:
                return status
            time.sleep(0.05)
        return folder.record()["status"]

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
        proc = self._procs.get(folder.job_id)
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
        if alive:
            asked = record.get("cancel_requested")
            if asked and time.time() - asked > self.grace_s:
                self._kill(folder, record)  # it did not stop by itself: the last saved epoch stays
                alive = False
            else:
                return
        folder.tidy_checkpoint()  # the process is gone: nobody is saving, so leftovers can go
        progress = folder.progress()
        ours = progress.get("segment") == len(record["segments"]) - 1
        outcome = progress.get("outcome") if ours else None
        saved = folder.saved_epochs()
        kept = (f"The last good checkpoint (epoch {saved}) is kept; resume to continue."
                if saved else "No epoch had finished, so nothing was saved.")
        error = progress.get("error") if ours else None
        if outcome:
            status = outcome
        elif record.get("cancel_requested"):
            status, error = CANCELLED, None
        elif startup:
            status, error = INTERRUPTED, f"The app stopped while this job was running. {kept}"
        else:
            status = FAILED
            error = f"The training process stopped unexpectedly: {_describe_exit(code)}. {kept}"
        if status in (FAILED, INTERRUPTED) and error and "checkpoint" not in error and "saved" not in error:
            error = f"{error} {kept}"
        record.update(status=status, error=error, finished=time.time())
        folder.save_record(record)
        folder.stop_file.unlink(missing_ok=True)

    def _start(self, folder: JobFolder, record: dict) -> None:
        folder.stop_file.unlink(missing_ok=True)
        folder.progress_file.unlink(missing_ok=True)
        env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS=str(self.job_threads),
                   MKL_NUM_THREADS=str(self.job_threads))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_DIR), env.get("PYTHONPATH")) if p)
        with open(folder.log_file, "a") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} segment {len(record['segments'])} ---\n")
            log.flush()
            proc = subprocess.Popen(
                [sys.executable, "-m", "genmodels.jobs", "run", str(folder.path), "--parent-pid", str(os.getpid())],
                cwd=str(PROJECT_DIR), env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)  # Ctrl-C in the app's terminal is the app's, not the job's
        self._procs[folder.job_id] = proc
        record.update(status=RUNNING, pid=proc.pid, started=time.time(), cancel_requested=None,
                      runner=dict(self.runner))
        folder.save_record(record)

    def refresh(self, startup=False) -> None:
        """Update running jobs from their processes; start queued jobs this manager may run while slots are free."""
        with self._exclusive():
            records = self._records()
            for folder, record in records:
                # Another live manager's job is that manager's to follow (and to stop when it closes).
                if record["status"] == RUNNING and not self._runner_alive_other(record):
                    self._reconcile(folder, record, startup)
            running = sum(1 for _, r in records if r["status"] == RUNNING)
            queued = sorted((r["queued"], f.job_id, f, r) for f, r in records if r["status"] == QUEUED)
            for _, _, folder, record in queued:
                if running >= self.max_concurrent or self._closed.is_set():
                    break
                if not self._may_start(record):
                    if self._runner_alive(record.get("runner")):
                        break  # first come, first served: its live runner starts it at its next look
                    continue  # left behind by a runner that is gone, and not ours to adopt
                self._start(folder, record)
                running += 1

    def _supervise(self) -> None:
        while not self._closed.wait(self.poll_s):
            try:
                self.refresh()
            except Exception as e:  # noqa: BLE001 -- the supervisor must outlive a bad folder
                print(f"job supervisor: {type(e).__name__}: {e}", file=sys.stderr)

    def close(self, stop_jobs=True) -> None:
        """Stop supervising; with stop_jobs, stop the jobs this manager started and wait for them.

        Jobs started by other managers sharing the runs folder are never touched. A CLI manager
        also cancels its own job if it is still waiting in the queue (no one else would run it).
        """
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if stop_jobs:
            for job_id in list(self._procs):
                (self.runs_dir / job_id / "stop").touch()
            deadline = time.time() + self.grace_s
            for proc in list(self._procs.values()):
                try:
                    proc.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if not self.runs_dir.is_dir():  # the runs folder was deleted under us: nothing left to relabel
            return
        with self._exclusive():
            for folder, record in self._records():
                mine = (record.get("runner") or {}).get("id") == self.runner["id"]
                if stop_jobs and record["status"] == RUNNING and folder.job_id in self._procs:
                    if folder.progress().get("outcome") == DONE:  # it finished before we asked it to stop
                        self._reconcile(folder, record, startup=True)
                        continue
                    folder.tidy_checkpoint()
                    who = "app" if self.kind == "app" else "command that started it"
                    record.update(status=INTERRUPTED, finished=time.time(),
                                  error=f"The {who} stopped while this job was running. "
                                        f"The last good checkpoint (epoch {folder.saved_epochs()}) is kept.")
                elif self.kind == "cli" and mine and record["status"] == QUEUED:
                    record.update(status=CANCELLED, finished=time.time(),
                                  error="The command that queued this job ended before it could start.")
                else:
                    continue
                folder.save_record(record)
                folder.stop_file.unlink(missing_ok=True)
        if stop_jobs:
            self._procs.clear()

    def wait(self, job_id, timeout_s: float = 600, poll_s: float = 0.2) -> dict:
        """Block until the job is no longer queued or running (or timeout); return its status."""
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            view = self.status(job_id)
            if view["status"] in FINISHED:
                return view
            time.sleep(poll_s)
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
        record = folder.record()
        if record is None:
            raise ValueError(f"The record of job {folder.job_id} cannot be read.")
        view = status_view(folder, record, self._cached_metrics(folder))
        self._views[folder.job_id] = (signature, record, view)
        return record, view

    def status(self, job_id) -> dict:
        """Return a job's status view: status, epochs done/target, step, fraction 0-1, ETA in seconds, key figures."""
        return dict(self._cached_view(job_id)[1])

    def metrics(self, job_id) -> dict:
        """Return {'epochs': [...], 'steps': [...]} of a job (losses in nats, accuracy 0-1); treat as read-only."""
        return self._cached_metrics(self._folder(job_id))

    def log_tail(self, job_id, max_chars: int = 6000) -> str:
        """Return the end of a job's log."""
        return self._folder(job_id).log_tail(max_chars)

    def sample_grids(self, job_id) -> dict[int, Path]:
        """Return {epoch: PNG path} of a VAE job's reconstruction/sample grids."""
        return self._folder(job_id).sample_grids()

    def list_jobs(self, limit: int | None = None) -> list[dict]:
        """Return the status views of the `limit` newest jobs (all when None), newest first."""
        out = []
        for job_id in self.job_ids()[:limit]:
            try:
                out.append(self.status(job_id))
            except (ValueError, KeyError, TypeError):
                continue  # an unreadable folder is not listed
        return out

    def is_owner(self, job_id, owner_token: str | None) -> bool:
        """Return True when `owner_token` started the job."""
        record = self._cached_view(job_id)[0]
        return bool(record.get("owner")) and hash_token(owner_token) == record["owner"]


# -- the CLI's --background path ----------------------------------------------------------
def _follow_in_terminal(manager: JobManager, job_id: str, token: str) -> dict:
    """Print each finished epoch until the job ends (Ctrl-C cancels it); return its last status view."""
    shown = 0
    try:
        while True:
            view = manager.status(job_id)
            for m in manager.metrics(job_id)["epochs"][shown:]:
                figures = ", ".join(f"{k}={v:.4g}" for k, v in m.items() if k.startswith("val_"))
                print(f"epoch {m['epoch']}/{view['target_epochs']}: {figures}", file=sys.stderr)
                shown += 1
            if view["status"] in FINISHED:
                return view
            time.sleep(0.5)
    except KeyboardInterrupt:
        return {"status": manager.cancel(job_id, token), "error": None}


def submit_from_cli(model_type, model_config, train_config, args) -> int:
    """Train through the job runner (listed in the app), follow it, copy the result to --out; return an exit code."""
    import secrets

    from .checkpoints import copy_folder, read_config
    from .train import MAX_EPOCHS

    resume_from = None
    if args.resume:
        if "resume" not in read_config(args.out):  # ValueError with a sentence when --out holds no checkpoint
            raise ValueError(f"{args.out} has no optimizer state: it was saved without resume state.")
        resume_from = args.out
    # RUNS_DIR follows LATENT_LAB_RUNS_DIR (another app's runs folder, or a temporary one in tests).
    # A "cli" manager runs only this job, and on exit stops only this job.
    manager = JobManager.from_env(RUNS_DIR, kind="cli", enabled=True,
                                  max_epochs=MAX_EPOCHS)  # the CLI's own limit, not the public server's
    token = secrets.token_urlsafe(16)
    try:
        job_id = manager.submit(model_type, model_config, train_config, token, source="cli",
                                save_training_state=not args.no_resume_state, resume_from=resume_from)
        print(f"job {job_id} queued in {manager.runs_dir} (listed as {RUN_PREFIX}{job_id} in the app); "
              "Ctrl-C cancels it", file=sys.stderr)
        view = _follow_in_terminal(manager, job_id, token)
        folder = JobFolder(manager.runs_dir, job_id)
        if folder.saved_epochs():
            copy_folder(folder.checkpoint, args.out)
        print(f"job {job_id} {view['status']}{': ' + view['error'] if view.get('error') else ''}; "
              f"{folder.saved_epochs()} epochs saved to {args.out}", file=sys.stderr)
        return {DONE: 0, CANCELLED: 130}.get(view["status"], 1)
    finally:
        manager.close(stop_jobs=True)


def main(argv=None) -> int:
    """`python -m genmodels.jobs run <job_dir> [--parent-pid N]`: run one job in this process (the runner's child)."""
    parser = argparse.ArgumentParser(prog="python -m genmodels.jobs")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a queued job's latest segment (started by JobManager)")
    run.add_argument("job_dir")
    run.add_argument("--parent-pid", type=int, default=None, help="stop when this process is gone")
    listing = sub.add_parser("list", help="print the jobs recorded in a runs folder")
    listing.add_argument("--runs-dir", default=str(RUNS_DIR))
    args = parser.parse_args(argv)
    if args.command == "run":
        from .jobs_worker import run_job

        return run_job(args.job_dir, args.parent_pid)
    manager = JobManager(args.runs_dir, supervise=False, reconcile=False)
    for view in manager.list_jobs():
        print(f"{view['id']}  {view['model_type']:3}  {view['dataset']:13}  {view['status']:11}  "
              f"{view['epochs_done']}/{view['target_epochs']} epochs  {view['figures']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
