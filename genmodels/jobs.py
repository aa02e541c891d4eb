"""Background training jobs: one process each, an on-disk registry, live progress, cancel, resume, limits.

    manager = JobManager(runs_dir)                       # supervises runs_dir from a daemon thread
    job_id = manager.submit_settings({"model": "vae", "dataset": "mnist-5k", "epochs": 5}, owner_token)
    manager.status(job_id)                               # status, epochs, ETA, key figures
    manager.cancel(job_id, owner_token)                  # stop flag, then a hard kill after a grace period
    manager.resume(job_id, owner_token, epochs=5)        # continue from the saved optimizer state

Each job runs `python -m genmodels.jobs run <job_dir>` (see jobs_worker.py), i.e. the same
`build_trainer` as the CLI, in its own low-priority process: a crash, an out-of-memory or a hung
step ends that process, never the app. Several managers (the app, a CLI `--background` run) may
share one runs folder: scheduling happens under a file lock and reads only files.

Environment switches for public hosting: LATENT_LAB_TRAINING=off (no new jobs),
LATENT_LAB_MAX_JOBS (running at once, default 1), LATENT_LAB_MAX_QUEUE (waiting, default 4),
LATENT_LAB_MAX_EPOCHS (per launch or resume, default 100).
"""

import argparse
import contextlib
import dataclasses
import fcntl
import hashlib
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .jobs_record import (ACTIVE, CANCELLED, DONE, FAILED, FINISHED, INTERRUPTED, QUEUED, RUNNING,
                          JobFolder, check_job_id, new_job_id)
from .registry import PROJECT_DIR, RUN_PREFIX, RUNS_DIR

STATUSES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED, INTERRUPTED)
SETTING_KEYS = ("model", "dataset", "epochs", "batch_size", "lr", "latent_dim", "hidden_size", "beta",
                "kl_warmup", "cell", "augment", "seed", "device")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() else default


def training_enabled() -> bool:
    """Return False when LATENT_LAB_TRAINING is 'off' (or 0/false/no): public hosting without training."""
    return os.environ.get("LATENT_LAB_TRAINING", "on").strip().lower() not in ("off", "0", "false", "no")


def hash_token(token: str | None) -> str:
    """Return the SHA-256 hex digest stored as a job's owner ('' for no token)."""
    return hashlib.sha256(token.encode()).hexdigest() if token else ""


# -- settings from a form or a JSON request -----------------------------------------------
def _number(settings: dict, key: str, kind, lo, hi, default, label: str):
    value = settings.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    what = "a whole number" if kind is int else "a number"
    if isinstance(value, bool):
        raise ValueError(f"{label} must be {what}, got {value!r}.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{label} must be {what}, got {value!r}.") from None
    if math.isnan(number) or math.isinf(number) or (kind is int and number != int(number)):
        raise ValueError(f"{label} must be {what}, got {value!r}.")
    number = kind(number)
    if not lo <= number <= hi:
        raise ValueError(f"{label} must be between {lo:g} and {hi:g}, got {value}.")
    return number


def configs_from_settings(settings: dict, max_epochs: int = 100) -> tuple:
    """Return (model_type, model_config, train_config) from flat settings; ValueError with a sentence if bad.

    Keys (all optional but 'model'): model ('vae'/'rnn'), dataset, epochs, batch_size, lr,
    latent_dim, hidden_size, beta, kl_warmup (epochs), cell ('rnn'/'gru'/'lstm'), augment, seed, device.
    """
    from .rnn import CELLS, RowRNNConfig
    from .train import TrainConfig
    from .vae import VAEConfig

    if not isinstance(settings, dict):
        raise ValueError("The training settings must be a JSON object such as {\"model\": \"vae\", \"epochs\": 5}.")
    unknown = sorted(set(settings) - set(SETTING_KEYS))
    if unknown:
        raise ValueError(f"Unknown setting(s) {', '.join(unknown)}; known: {', '.join(SETTING_KEYS)}.")
    model = str(settings.get("model", "vae")).strip().lower()
    model = {"rowrnn": "rnn"}.get(model, model)
    if model not in ("vae", "rnn"):
        raise ValueError(f"model must be 'vae' or 'rnn', got {settings.get('model')!r}.")
    epochs = _number(settings, "epochs", int, 1, max_epochs, 5, "Epochs")
    batch_size = _number(settings, "batch_size", int, 8, 4096, 128, "Batch size")
    lr = _number(settings, "lr", float, 1e-6, 1.0, 1e-3, "Learning rate")
    seed = _number(settings, "seed", int, 0, 2**31 - 1, 0, "Seed")
    augment = settings.get("augment", False)
    if not isinstance(augment, bool):
        raise ValueError(f"augment must be true or false, got {augment!r}.")
    device = str(settings.get("device") or "auto").strip()
    if model == "vae":
        model_config = VAEConfig(
            latent_dim=_number(settings, "latent_dim", int, 2, 64, 20, "Latent size"),
            hidden_dim=_number(settings, "hidden_size", int, 8, 2048, 400, "Hidden size"),
            beta=_number(settings, "beta", float, 0.0, 20.0, 1.0, "Beta"),
            kl_warmup_epochs=_number(settings, "kl_warmup", int, 0, max_epochs, 0, "KL warm-up"))
    else:
        cell = str(settings.get("cell") or "rnn").strip().lower()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(sorted(CELLS))}, got {settings.get('cell')!r}.")
        model_config = RowRNNConfig(cell=cell, hidden_size=_number(settings, "hidden_size", int, 4, 1024, 128,
                                                                    "Hidden size"))
    train_config = TrainConfig(dataset=str(settings.get("dataset") or "mnist-5k"), epochs=epochs,
                               batch_size=batch_size, lr=lr, augment=augment, seed=seed, device=device)
    return model, model_config, train_config


# -- processes ------------------------------------------------------------------------------
def _pid_runs_job(pid, job_id: str) -> bool:
    """Return True when `pid` is a live (not zombie) process running the job `job_id`."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return job_id.encode() in f.read()
    except (OSError, IndexError):
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

    def __init__(self, runs_dir=RUNS_DIR, *, max_concurrent=1, max_queue=4, max_epochs=100, enabled=True,
                 job_threads=1, job_nice=10, grace_s=2.0, poll_s=0.5, supervise=True, reconcile=True):
        self.runs_dir = Path(runs_dir)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.max_concurrent, self.max_queue, self.max_epochs = max_concurrent, max_queue, max_epochs
        self.enabled, self.job_threads, self.job_nice = enabled, job_threads, job_nice
        self.grace_s, self.poll_s = grace_s, poll_s
        self._procs: dict[str, subprocess.Popen] = {}
        self._lock = threading.RLock()
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
        """Hold this manager's lock and the runs folder's file lock (other processes' managers wait)."""
        with self._lock, open(self.runs_dir / ".jobs.lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

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

    # -- submitting -------------------------------------------------------------------------
    def _check_can_queue(self, train_config) -> None:
        from .data import dataset_availability
        from .images import resolve_device

        if not self.enabled:
            raise ValueError("Training is turned off on this server (LATENT_LAB_TRAINING=off); "
                             "the explorer works as usual.")
        available, reason = dataset_availability(train_config.data_dir).get(train_config.dataset, (False, "unknown"))
        if not available:
            raise ValueError(f"Data set {train_config.dataset!r} is not available here: {reason}.")
        resolve_device(train_config.device)  # a clear ValueError when CUDA is asked for but missing
        if train_config.epochs > self.max_epochs:
            raise ValueError(f"Epochs must be between 1 and {self.max_epochs} on this server, got {train_config.epochs}.")
        waiting = sum(1 for _, r in self._records() if r["status"] == QUEUED)
        if waiting >= self.max_queue:
            raise ValueError(f"The training queue is full ({waiting} jobs waiting); try again when one has started.")

    def submit(self, model_type: str, model_config, train_config, owner_token: str | None, *,
               source="app", save_training_state=True, resume_from=None) -> str:
        """Queue a job and return its id; it starts as soon as a slot is free (ValueError if not allowed)."""
        from .train import MODEL_TYPES

        if model_type not in MODEL_TYPES:
            raise ValueError(f"Unknown model type {model_type!r}; choose 'vae' or 'rnn'.")
        with self._exclusive():
            self._check_can_queue(train_config)
            job_id = new_job_id()
            while (self.runs_dir / job_id).exists():
                job_id = new_job_id()
            folder = JobFolder(self.runs_dir, job_id)
            folder.path.mkdir(parents=True)
            if resume_from is not None:  # the CLI continuing a checkpoint folder of its own
                shutil.copytree(resume_from, folder.checkpoint)
            now = time.time()
            folder.save_record({
                "id": job_id, "name": RUN_PREFIX + job_id, "model_type": model_type,
                "model_config": dataclasses.asdict(model_config),
                "train_config": dataclasses.asdict(train_config),
                "status": QUEUED, "owner": hash_token(owner_token), "source": source,
                "created": now, "queued": now, "started": None, "finished": None, "pid": None,
                "error": None, "cancel_requested": None, "save_training_state": save_training_state,
                "target_epochs": train_config.epochs + (folder.saved_epochs() if resume_from else 0),
                "segments": [{"epochs": train_config.epochs, "resume": resume_from is not None, "queued": now}],
                "limits": {"threads": self.job_threads, "nice": self.job_nice},
            })
        self.refresh()
        return job_id

    def submit_settings(self, settings: dict, owner_token: str | None) -> str:
        """Validate flat settings (see configs_from_settings), queue the job and return its id."""
        model_type, model_config, train_config = configs_from_settings(settings, self.max_epochs)
        return self.submit(model_type, model_config, train_config, owner_token)

    def resume(self, job_id, owner_token: str | None, epochs: int) -> str:
        """Queue `epochs` more epochs of a finished, cancelled, failed or interrupted job; return its id."""
        folder = self._folder(job_id)
        epochs = _number({"epochs": epochs}, "epochs", int, 1, self.max_epochs, None, "Epochs")
        with self._exclusive():
            record = folder.record()
            self._check_owner(record, owner_token, "resume")
            if record["status"] in ACTIVE:
                raise ValueError(f"Job {folder.job_id} is {record['status']}; only a stopped job can be resumed.")
            if not record.get("save_training_state", True):
                raise ValueError(f"Job {folder.job_id} was saved without optimizer state, so it cannot be resumed.")
            if not folder.has_resume_state():
                raise ValueError(f"Job {folder.job_id} cannot be resumed: its checkpoint is missing "
                                 "(it stopped before finishing its first epoch, or the folder was removed).")
            if not self.enabled:
                raise ValueError("Training is turned off on this server (LATENT_LAB_TRAINING=off).")
            waiting = sum(1 for _, r in self._records() if r["status"] == QUEUED)
            if waiting >= self.max_queue:
                raise ValueError(f"The training queue is full ({waiting} jobs waiting); try again later.")
            now = time.time()
            record["segments"].append({"epochs": epochs, "resume": True, "queued": now})
            record.update(status=QUEUED, queued=now, finished=None, error=None, cancel_requested=None, pid=None,
                          target_epochs=folder.saved_epochs() + epochs)
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
        record.update(status=RUNNING, pid=proc.pid, started=time.time(), cancel_requested=None)
        folder.save_record(record)

    def refresh(self, startup=False) -> None:
        """Update running jobs from their processes, then start queued jobs while slots are free."""
        with self._exclusive():
            records = self._records()
            for folder, record in records:
                if record["status"] == RUNNING:
                    self._reconcile(folder, record, startup)
            running = sum(1 for _, r in records if r["status"] == RUNNING)
            queued = sorted((r["queued"], f.job_id, f, r) for f, r in records if r["status"] == QUEUED)
            for _, _, folder, record in queued:
                if running >= self.max_concurrent or self._closed.is_set():
                    break
                self._start(folder, record)
                running += 1

    def _supervise(self) -> None:
        while not self._closed.wait(self.poll_s):
            try:
                self.refresh()
            except Exception as e:  # noqa: BLE001 -- the supervisor must outlive a bad folder
                print(f"job supervisor: {type(e).__name__}: {e}", file=sys.stderr)

    def close(self, stop_jobs=True) -> None:
        """Stop supervising; with stop_jobs, ask this manager's running jobs to stop and wait for them."""
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if stop_jobs:
            for job_id, proc in list(self._procs.items()):
                (self.runs_dir / job_id / "stop").touch()
            deadline = time.time() + self.grace_s
            for proc in list(self._procs.values()):
                try:
                    proc.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            with self._lock:
                for folder, record in self._records():
                    if record["status"] == RUNNING and folder.job_id in self._procs:
                        record.update(status=INTERRUPTED, finished=time.time(),
                                      error="The app stopped while this job was running. "
                                            f"The last good checkpoint (epoch {folder.saved_epochs()}) is kept.")
                        folder.save_record(record)
                        folder.stop_file.unlink(missing_ok=True)
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

    # -- reading (cheap: small files only) --------------------------------------------------
    def status(self, job_id) -> dict:
        """Return a job's status view: status, epochs done/target, step, fraction 0-1, ETA in seconds, key figures."""
        folder = self._folder(job_id)
        record = folder.record()
        progress = folder.progress() if record["status"] == RUNNING else {}
        metrics = folder.metrics()
        last = metrics["epochs"][-1] if metrics["epochs"] else {}
        epochs_done = int(last.get("epoch", folder.saved_epochs()))
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
            "has_checkpoint": (folder.checkpoint / "config.json").is_file(),
            "can_resume": record["status"] in FINISHED and folder.has_resume_state(),
            "figures": key_figures(record["model_type"], metrics["epochs"]),
            "settings": {"model_config": record["model_config"], "train_config": train},
        }

    def metrics(self, job_id) -> dict:
        """Return {'epochs': [...], 'steps': [...]} of a job (losses in nats, accuracy 0-1)."""
        return self._folder(job_id).metrics()

    def log_tail(self, job_id, max_chars: int = 6000) -> str:
        """Return the end of a job's log."""
        return self._folder(job_id).log_tail(max_chars)

    def sample_grids(self, job_id) -> dict[int, Path]:
        """Return {epoch: PNG path} of a VAE job's reconstruction/sample grids."""
        return self._folder(job_id).sample_grids()

    def list_jobs(self) -> list[dict]:
        """Return the status view of every job, newest first."""
        out = []
        for job_id in self.job_ids():
            try:
                out.append(self.status(job_id))
            except (ValueError, KeyError, TypeError):
                continue  # an unreadable folder is not listed
        return out

    def is_owner(self, job_id, owner_token: str | None) -> bool:
        """Return True when `owner_token` started the job."""
        record = self._folder(job_id).record()
        return bool(record.get("owner")) and hash_token(owner_token) == record["owner"]


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


# -- the CLI's --background path ----------------------------------------------------------
def _replace_folder(source: Path, target: Path) -> None:
    """Copy the folder `source` over `target` (copy beside it first, then swap with renames)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging)
    retired = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, retired)
    os.replace(staging, target)
    shutil.rmtree(retired, ignore_errors=True)


def submit_from_cli(model_type, model_config, train_config, args) -> int:
    """Run a CLI training through the job runner (listed in the app), follow it, copy the result to --out; return an exit code."""
    import secrets

    from .checkpoints import read_config
    from .train import MAX_EPOCHS

    # LATENT_LAB_RUNS_DIR points the CLI at another app's runs folder (and lets tests use a temporary one).
    manager = JobManager.from_env(os.environ.get("LATENT_LAB_RUNS_DIR") or RUNS_DIR, enabled=True,
                                  max_epochs=MAX_EPOCHS)  # the CLI's own limit, not the public server's
    resume_from = None
    if args.resume:
        saved = read_config(args.out)  # ValueError with a sentence when --out holds no checkpoint
        if "resume" not in saved:
            raise ValueError(f"{args.out} has no optimizer state: it was saved without resume state.")
        resume_from = args.out
    token = secrets.token_urlsafe(16)
    try:
        job_id = manager.submit(model_type, model_config, train_config, token, source="cli",
                                save_training_state=not args.no_resume_state, resume_from=resume_from)
        print(f"job {job_id} queued in {manager.runs_dir} (listed as {RUN_PREFIX}{job_id} in the app); "
              "Ctrl-C cancels it", file=sys.stderr)
        shown = 0
        try:
            while True:
                view = manager.status(job_id)
                for m in manager.metrics(job_id)["epochs"][shown:]:
                    figures = ", ".join(f"{k}={v:.4g}" for k, v in m.items() if k.startswith("val_"))
                    print(f"epoch {m['epoch']}/{view['target_epochs']}: {figures}", file=sys.stderr)
                    shown += 1
                if view["status"] in FINISHED:
                    break
                time.sleep(0.5)
        except KeyboardInterrupt:
            view = {"status": manager.cancel(job_id, token), "error": None}
        folder = JobFolder(manager.runs_dir, job_id)
        if folder.saved_epochs():
            _replace_folder(folder.checkpoint, Path(args.out))
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
    listing.add_argument("--runs-dir", default=os.environ.get("LATENT_LAB_RUNS_DIR") or str(RUNS_DIR))
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
