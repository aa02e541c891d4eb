"""The job runner: queues training jobs fairly, runs them on an executor, follows, cancels, resumes and prunes them.

    runner = JobRunner(runs_dir, HostLimits())            # supervises runs_dir from a daemon thread
    job_id = runner.submit_settings({"model": "vae", "epochs": 5}, owner_token)
    runner.status(job_id)                                  # status, queue position, start/finish ETA, figures
    runner.cancel(job_id, owner_token)                     # stop flag, then a hard kill after a grace period
    runner.resume(job_id, owner_token, epochs=5)           # continue from the saved optimizer state

Jobs run outside the app's process: by default on a pool of warm, low-priority worker processes
(jobs/pool.py), or on a Ray cluster when the host names one (jobs/ray_process.py); a crash, an
out-of-memory or a hung step ends a worker, never the app. One app process owns a runs folder;
when it starts, jobs that a previous process left running are marked interrupted.

The queue is first come, first served, and fair by construction: each owner has at most
`jobs_per_owner` jobs queued or running, and the whole queue holds at most `max_queue` waiting
jobs. Each queued job's position and its estimated start and finish come from the measured pace
of finished jobs with similar settings (jobs/estimates.py), recomputed as the queue moves.

Retention and fair share (which stopped jobs make room for a new one) are jobs/retention.py's; the
cached reading of the runs folder (records, status views, metrics followed line by line) is
jobs/views.py's.
"""

import dataclasses
import hashlib
import hmac
import logging
import os
import shutil
import signal
import threading
import time
import uuid
from pathlib import Path

import i18n
from genmodels.data import dataset_availability
from genmodels.settings import parse, specs
from genmodels.train import MODEL_TYPES, TrainConfig

from . import retention, texts
from .estimates import OVERDUE_S, PaceBook, plan_queue
from .executor import Ended, process_start_time
from .pool import WarmPool
from .ray_process import RayProcess
from .records import (ACTIVE, CANCELLED, FAILED, FINISHED, INTERRUPTED, QUEUED, RUN_PREFIX, RUNNING, JobFolder,
                      check_name, new_job_id, rendered)
from .settings import configs_from_settings
from .views import JobViews

AVAILABILITY_TTL_S = 60.0  # data set availability may probe the network: ask at most this often
log = logging.getLogger("latent_lab.jobs")


@dataclasses.dataclass(frozen=True)
class HostLimits:
    """What a host allows (app.py reads these from LATENT_LAB_* variables)."""

    enabled: bool = True  # False: no new jobs (public hosting without training)
    # Jobs training at once (one warm worker process, or Ray task, each). One on a 2-core Space: the
    # other core serves the explorer; a second job at once nearly doubled the explorer's latency, even
    # at SCHED_IDLE (BENCHMARKS.md, "A class trains at once"). A bigger host sets LATENT_LAB_MAX_JOBS.
    max_concurrent: int = 1
    max_queue: int = 60  # jobs waiting behind them, all owners together (0: accepted only when one can start)
    jobs_per_owner: int = 1  # jobs one owner may have queued or running at once (0: no limit)
    max_epochs: int = 100  # epochs per launch or resume
    max_runs: int = 150  # job folders kept in all (0: no limit)
    runs_per_owner: int = 10  # job folders kept per owner (0: no limit)
    keep_days: float = 7.0  # finished runs younger than this go for someone else only as jobs/retention.py says
    tiny_run_s: float = 60.0  # a finished run that trained for less than this is tiny (it makes room first)
    unopened_grace_s: float = 600.0  # a recent finished run makes room only this long after it finished
    # New owner tokens let in per minute, server-wide, after a first burst (jobs/retention.py NewOwnerRate;
    # 0: no bound). A class of 50 starts at once; a flood of throwaway tokens fills the folder slowly.
    new_owners_per_minute: float = 6.0
    new_owners_burst: int = 50
    # "": anyone may train; else starting a job needs this code (compared in constant time).
    class_code: str = dataclasses.field(default="", repr=False)
    job_threads: int = 1  # torch threads of each job's process
    job_nice: int = 10  # CPU priority increment of each job's process
    ray_address: str = ""  # "": the local warm pool; "local": a Ray cluster on this machine; else a Ray address


def hash_token(token: str | None) -> str:
    """Return the SHA-256 hex digest stored as a job's owner ('' for no token)."""
    # surrogatepass: any text JSON can carry (a lone surrogate too) hashes instead of raising
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest() if token else ""


def check_token(owner_token) -> str:
    """Return `owner_token` when it is non-blank text; ValueError otherwise (a job nobody owns cannot be cancelled)."""
    if not isinstance(owner_token, str) or not owner_token.strip():
        raise i18n.Sentence("jobs.need_token")
    return owner_token




def check_class_code(expected: str, given) -> None:
    """Return when `given` is the host's class code (or the host sets none); ValueError with a sentence otherwise."""
    if not expected:
        return
    if not isinstance(given, str) or not given.strip():
        raise i18n.Sentence("jobs.need_class_code")
    # Constant time: how long the comparison takes says nothing about how much of the code was right.
    if not hmac.compare_digest(given.strip().encode("utf-8", "surrogatepass"), expected.encode("utf-8")):
        raise i18n.Sentence("jobs.wrong_class_code")


def _pid_runs_job(record: dict) -> bool:
    """Return True when the process a job's record names is still the one that ran it (a warm worker
    by its pid and start time; a process per job, as older versions started, by its command line)."""
    pid, started = record.get("pid"), record.get("pid_started")
    if pid is None:
        return False
    if started is not None:
        return process_start_time(pid) == started
    try:
        with open(f"/proc/{int(pid)}/cmdline", "rb") as f:
            return record["id"].encode() in f.read()
    except (OSError, TypeError, ValueError):
        return False


def _seconds(value) -> bool:
    """True for a finite, non-negative number of seconds (progress.json is untrusted)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1e12


def make_executor(limits: HostLimits):
    """Return the backend that runs jobs: the local warm pool, or Ray when limits.ray_address names a cluster."""
    if limits.ray_address:  # Ray itself runs in a driver process of the executor's, never in the app
        return RayProcess(limits.ray_address, slots=limits.max_concurrent, threads=limits.job_threads,
                          nice=limits.job_nice)
    return WarmPool(limits.max_concurrent, threads=limits.job_threads, nice=limits.job_nice)


class JobRunner:
    """Starts, follows, cancels, resumes and prunes the training jobs recorded under `runs_dir`."""

    def __init__(self, runs_dir, limits: HostLimits | None = None, *, grace_s=2.0, poll_s=0.5, supervise=True):
        self.runs_dir = Path(runs_dir)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.limits = limits or HostLimits()
        self.grace_s, self.poll_s = grace_s, poll_s
        self._executor = make_executor(self.limits)
        self._paces = PaceBook()
        self._plan = (time.time(), {})  # (when, {job id: (queue position, start in s, finish in s)})
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)  # notified after every refresh
        self._views = JobViews(self.runs_dir, self._lock)  # cached records, status views and metrics
        self._availability: dict = {}  # data_dir -> (when, dataset_availability(data_dir))
        self._new_owners = retention.NewOwnerRate(self.limits.new_owners_per_minute, self.limits.new_owners_burst)
        self._closed = threading.Event()
        self.refresh(startup=True)
        self._thread = None
        if supervise:
            if self.limits.enabled and self.limits.max_concurrent > 0 and self.limits.ray_address:
                self._executor.warm_up()  # a local Ray cluster starts with the app, a remote one is asked now
            self._thread = threading.Thread(target=self._supervise, name="job-supervisor", daemon=True)
            self._thread.start()

    @property
    def enabled(self) -> bool:
        """True when this host accepts new jobs."""
        return self.limits.enabled

    @property
    def executor(self):
        """The backend running the jobs: a WarmPool (jobs/pool.py) or a RayProcess (jobs/ray_process.py)."""
        return self._executor

    @property
    def max_epochs(self) -> int:
        """Epochs allowed per launch or resume on this host."""
        return self.limits.max_epochs

    # -- bookkeeping ------------------------------------------------------------------------
    def job_ids(self) -> list[str]:
        """Return the ids of all recorded jobs, newest first."""
        return self._views.job_ids()

    def _check_owner(self, record: dict, owner_token, action: str) -> None:
        if not record["owner"] or not isinstance(owner_token, str) or hash_token(owner_token) != record["owner"]:
            raise i18n.Sentence(f"jobs.not_owner.{action}", job=record["id"])

    # -- submitting -------------------------------------------------------------------------
    def _dataset_available(self, dataset: str, data_dir=None) -> tuple[bool, str]:
        """Return (available, reason) for a data set read from `data_dir` (None: the usual places),
        from a cache per folder refreshed every AVAILABILITY_TTL_S."""
        key = str(data_dir) if data_dir else None
        when, found = self._availability.get(key, (0.0, {}))
        if time.time() - when > AVAILABILITY_TTL_S:
            found = dataset_availability(data_dir)
            self._availability = {**self._availability, key: (time.time(), found)}
        return found.get(dataset, (False, i18n.Text("data.available.unknown")))

    def _check_enabled(self) -> None:
        if not self.limits.enabled:
            raise i18n.Sentence("jobs.turned_off")

    def _check_queue_room(self, records: list[tuple[JobFolder, dict]]) -> None:
        """Raise a ValueError when one more job would wait longer than max_queue allows (under the lock)."""
        running = sum(1 for _, r in records if r["status"] == RUNNING)
        waiting = sum(1 for _, r in records if r["status"] == QUEUED)
        would_wait = max(0, waiting + 1 - max(0, self.limits.max_concurrent - running))
        if would_wait > self.limits.max_queue:
            if self.limits.max_queue == 0:
                raise i18n.Sentence("jobs.no_queue")
            raise i18n.Sentence("jobs.queue_full", waiting=waiting)

    def _check_owner_room(self, records: list[tuple[JobFolder, dict]], owner: str) -> None:
        """Raise a ValueError when the owner already has jobs_per_owner jobs queued or running (under the lock)."""
        limit = self.limits.jobs_per_owner
        active = sorted(r["id"] for _, r in records if r["owner"] == owner and r["status"] in ACTIVE)
        if limit <= 0 or len(active) < limit:
            return
        if limit == 1:
            raise i18n.Sentence("jobs.one_active", job=active[0])
        raise i18n.Sentence("jobs.many_active", count=len(active))

    def _delete(self, folder: JobFolder) -> None:
        # Renamed first, so no reader ever lists a half-deleted job.
        doomed = self.runs_dir / f".deleted-{folder.job_id}-{uuid.uuid4().hex[:6]}"
        try:
            os.replace(folder.path, doomed)
        except OSError:
            return
        shutil.rmtree(doomed, ignore_errors=True)
        self._views.forget(folder.job_id)
        log.info("deleted job %s (retention)", folder.job_id)

    def _make_room(self, records: list[tuple[JobFolder, dict]], owner: str) -> None:
        """Delete stopped jobs so one more fits the retention policy (jobs/retention.py); ValueError if it cannot.
        An owner with no job folder here is new: they also take a place of the new-owner rate."""
        now = time.time()
        new = not any(r["owner"] == owner for _, r in records)
        if new:
            self._new_owners.take(now)
        try:
            doomed = retention.doomed(self.limits, records, owner, now)
        except ValueError:
            if new:
                self._new_owners.give_back()
            raise
        for folder in doomed:
            self._delete(folder)

    def submit(self, model_type: str, model_config, train_config, owner_token: str, name: str = "",
               class_code=None) -> str:
        """Queue a job and return its id; it starts as soon as a slot is free (ValueError if not allowed).
        `class_code` must be the host's LATENT_LAB_CLASS_CODE when it sets one."""
        if model_type not in MODEL_TYPES:
            raise i18n.Sentence("genmodels.train.unknown_model_type", model_type=str(model_type)[:20],
                                choices=", ".join(MODEL_TYPES))
        self._check_enabled()
        check_class_code(self.limits.class_code, class_code)
        name = check_name(name)
        available, reason = self._dataset_available(train_config.dataset, train_config.data_dir)
        if not available:
            raise i18n.Sentence("jobs.dataset_unavailable", dataset=train_config.dataset, reason=reason)
        self._executor.check_device(train_config.device)
        if train_config.epochs > self.limits.max_epochs:
            raise i18n.Sentence("jobs.epochs_limit", limit=self.limits.max_epochs, epochs=train_config.epochs)
        owner = hash_token(check_token(owner_token))
        self._executor.check_ready()
        with self._lock:
            records = self._views.records()
            self._check_owner_room(records, owner)
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

    def submit_settings(self, settings: dict, owner_token: str, class_code=None) -> str:
        """Validate public settings (jobs.settings; 'name' names the run), queue the job and return its id."""
        check_class_code(self.limits.class_code, class_code)  # before the settings: a stranger learns nothing
        model_type, model_config, train_config = configs_from_settings(settings, self.limits.max_epochs,
                                                                       self._executor.check_device)
        return self.submit(model_type, model_config, train_config, owner_token, name=settings.get("name"),
                           class_code=class_code)

    @property
    def needs_class_code(self) -> bool:
        """True when starting a job needs the host's class code."""
        return bool(self.limits.class_code)

    def resume(self, job_id, owner_token: str, epochs) -> str:
        """Queue `epochs` more epochs of a finished, cancelled, failed or interrupted job; return its id."""
        folder = self._views.folder(job_id)
        epochs = parse(specs(TrainConfig)["epochs"], epochs)
        if epochs > self.limits.max_epochs:
            raise i18n.Sentence("jobs.epochs_limit", limit=self.limits.max_epochs, epochs=epochs)
        self._check_owner(self._views.record(folder), owner_token, "resume")
        self._executor.check_ready()  # outside the lock: connecting to a cluster can take seconds
        with self._lock:
            record = self._views.record(folder)
            self._check_owner(record, owner_token, "resume")
            if record["status"] in ACTIVE:
                raise i18n.Sentence("jobs.not_stopped", job=folder.job_id, status=i18n.Text(f"jobs.status.{record['status']}"))
            self._check_enabled()
            records = self._views.records()
            self._check_owner_room(records, record["owner"])
            folder.tidy_checkpoint()  # the job is stopped: put back a checkpoint a killed save left aside
            if not folder.has_resume_state():
                raise i18n.Sentence("jobs.no_resume_state", job=folder.job_id)
            self._check_queue_room(records)
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
        folder = self._views.folder(job_id)
        with self._lock:
            record = self._views.record(folder)
            self._check_owner(record, owner_token, "cancel")
            if record["status"] == QUEUED:
                record.update(status=CANCELLED, finished=time.time())
                folder.save_record(record)
                self.refresh()  # the jobs behind it move up
                return CANCELLED
            if record["status"] != RUNNING:
                return record["status"]
            self._executor.stop(folder)
            record["cancel_requested"] = time.time()
            folder.save_record(record)
            # The worker stops within a step, or refresh() kills it after grace_s; each refresh notifies.
            deadline = time.monotonic() + self.grace_s + 5.0
            while wait and self._views.record(folder)["status"] == RUNNING and time.monotonic() < deadline:
                if self._thread is None:
                    self.refresh()
                self._changed.wait(timeout=self.poll_s)
            return self._views.record(folder)["status"]

    # -- supervision ------------------------------------------------------------------------
    def _reconcile(self, folder: JobFolder, record: dict, startup: bool) -> None:
        """Bring a 'running' record up to date with its worker (under the lock)."""
        ended = None
        if self._executor.knows(folder.job_id):
            ended = self._executor.poll(folder.job_id)
            if ended is None:  # still running
                asked = record.get("cancel_requested")
                if not asked or time.time() - asked <= self.grace_s:
                    return
                self._executor.kill(folder.job_id)  # it did not stop by itself: the last saved epoch stays
                ended = self._executor.poll(folder.job_id) or Ended(CANCELLED, "")
        elif _pid_runs_job(record):
            if not startup:
                return  # a process this runner did not start still runs it: leave it be
            self._kill_leftover(record)  # left by an app process that is gone: nobody follows it any more
        if ended is None:
            ended = Ended(FAILED, i18n.Text("jobs.stopped_unexpectedly", how=i18n.Text("jobs.exit.gone")))
        folder.tidy_checkpoint()  # the worker is gone: nobody is saving, so leftovers can go
        try:  # an epoch saved just before a kill keeps its line: curves, status and message agree
            folder.backfill_epochs(len(record["segments"]) - 1)
        except (ValueError, OSError) as error:  # metrics.jsonl is a link or a device: the page says so
            log.warning("job %s: %s", folder.job_id, error)
        progress = folder.progress()
        ours = progress.get("segment") == len(record["segments"]) - 1
        outcome = progress.get("outcome") if ours and progress.get("outcome") in FINISHED else None
        error = texts.restored(progress.get("error")) if ours else None  # a key and its parameters, or old plain text
        saved = folder.saved_epochs()
        kept = i18n.Text("jobs.kept", epoch=saved) if saved else i18n.Text("jobs.nothing_saved")
        if outcome:
            status = outcome
        elif record.get("cancel_requested"):
            status, error = CANCELLED, None
        elif startup:
            status, error = INTERRUPTED, i18n.Text("jobs.app_stopped")
        else:
            status, error = ended
        if status in (FAILED, INTERRUPTED):
            error = i18n.Text("jobs.error_then", error=texts.restored(texts.stored(error)) or "", kept=kept)
        # Kept as a key and its parameters: each visitor reads it in their own language.
        record.update(status=status, error=texts.stored(error), finished=time.time())
        folder.save_record(record)
        folder.stop_file.unlink(missing_ok=True)

    @staticmethod
    def _kill_leftover(record: dict) -> None:
        try:
            os.kill(record["pid"], signal.SIGKILL)
        except (OSError, TypeError, ValueError):
            pass

    def _start(self, folder: JobFolder, record: dict) -> None:
        folder.stop_file.unlink(missing_ok=True)
        folder.progress_file.unlink(missing_ok=True)
        try:
            folder.append_log(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} segment {len(record['segments'])} ---\n")
        except (ValueError, OSError) as error:  # a log that is a link or a device: the worker refuses it too
            log.warning("job %s: %s", folder.job_id, error)
        record.update(status=RUNNING, started=time.time(), cancel_requested=None, pid=None, pid_started=None,
                      slots=self.limits.max_concurrent)
        folder.save_record(record)  # before the worker starts: it reads the record
        try:
            record.update(self._executor.start(folder, record))
        except ValueError as error:  # the backend cannot take it (a cluster gone): the job says why
            record.update(status=FAILED, error=texts.stored(error), finished=time.time())
        folder.save_record(record)

    def refresh(self, startup=False) -> None:
        """Update running jobs from their workers; start queued jobs while slots are free; re-plan the queue."""
        with self._lock:
            records = self._views.records()
            for folder, record in records:
                if record["status"] == RUNNING:
                    self._reconcile(folder, record, startup)
            running = sum(1 for _, r in records if r["status"] == RUNNING)
            queued = sorted((r["queued"], f.job_id, f, r) for f, r in records if r["status"] == QUEUED)
            for _, _, folder, record in queued:
                if running >= self.limits.max_concurrent or self._closed.is_set():
                    break
                self._start(folder, record)
                running += record["status"] == RUNNING
            self._paces.learn(records)
            now = time.time()
            self._plan = (now, plan_queue(records, self.limits.max_concurrent, self._paces, now, self._time_left))
            self._changed.notify_all()

    def _time_left(self, record: dict) -> float | None:
        """Return the seconds a running job's worker expects it still needs (None before it knows, or once its
        figure is overdue: estimates.plan_queue then judges by the pace of finished jobs)."""
        progress = JobFolder(self.runs_dir, record["id"]).progress()
        eta, updated = progress.get("eta_s"), progress.get("updated")
        if progress.get("segment") != len(record["segments"]) - 1 or not _seconds(eta) or not _seconds(updated):
            return None
        left = eta - max(0.0, time.time() - updated)  # the worker's figure is as of its last write
        return max(1.0, left) if left > -OVERDUE_S else None

    def _supervise(self) -> None:
        while not self._closed.wait(self.poll_s):
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 -- the supervisor must outlive a bad folder
                log.exception("job supervisor")

    def close(self, stop_jobs=True) -> None:
        """Stop supervising and the workers; with stop_jobs, stop the running jobs and mark them interrupted."""
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not self.runs_dir.is_dir():
            self._executor.close(self.grace_s)
            return
        with self._lock:
            mine = [(f, r) for f, r in self._views.records() if r["status"] == RUNNING and self._executor.knows(f.job_id)]
            if stop_jobs:
                for folder, _ in mine:
                    self._executor.stop(folder)
            self._executor.close(self.grace_s)
            for folder, record in mine:
                self._reconcile(folder, record, startup=True)

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
    def status(self, job_id) -> dict:
        """Return a job's status view: status, epochs done/target, fraction 0-1, ETA in seconds, key figures,
        and for a queued or running job its queue position (1 = next to start, None once running) and the
        seconds until it starts (eta_start_s) and finishes (eta_finish_s), None when unknown."""
        view = rendered(self._views.view(job_id)[1])  # its sentences in the reader's language
        when, plan = self._plan
        position, start, finish = plan.get(view["id"], (None, None, None)) if view["status"] in ACTIVE else \
            (None, None, None)
        since = time.time() - when
        queued = view["status"] == QUEUED
        view["queue_position"] = position if queued else None
        view["eta_start_s"] = round(max(0.0, start - since), 1) if queued and start is not None else None
        view["eta_finish_s"] = round(max(0.0, finish - since), 1) if finish is not None else None
        return view

    def metrics(self, job_id) -> dict:
        """Return {'epochs': [...], 'steps': [...], 'problem': a sentence or None} of a job (losses in nats,
        accuracy 0-1); treat as read-only."""
        metrics = self._views.follower(self._views.folder(job_id)).metrics
        problem = metrics["problem"]  # an i18n.Text: the metrics are cached for every reader
        return metrics if problem is None else {**metrics, "problem": str(problem)}

    def metrics_since(self, job_id, cursor=None) -> dict:
        """Return what a job's metrics gained since `cursor` (a 'cursor' an earlier call returned; None: all):
        {'epochs', 'steps', 'problem', 'cursor', 'complete'}; complete True means the whole history."""
        follower = self._views.follower(self._views.folder(job_id))
        with self._lock:
            news = follower.since(cursor)
        return {**news, "problem": str(news["problem"]) if news["problem"] is not None else None}

    def opened(self, job_id, owner_token) -> None:
        """Record that the job's owner followed it after it finished (jobs/retention.py keeps opened runs longer);
        anyone else's look changes nothing."""
        folder = self._views.folder(job_id)
        record = self._views.view(job_id)[0]
        if record["status"] not in FINISHED or retention.was_opened(record) or not self.is_owner(job_id, owner_token):
            return
        with self._lock:
            record = self._views.record(folder)
            if record["status"] in FINISHED and not retention.was_opened(record):
                record["opened"] = time.time()
                folder.save_record(record)

    def log_tail(self, job_id, owner_token, max_chars: int = 6000) -> str:
        """Return the end of a job's log, scrubbed of paths, to its owner ('' to anyone else)."""
        return self._views.folder(job_id).log_tail(max_chars) if self.is_owner(job_id, owner_token) else ""

    def sample_grids(self, job_id) -> dict[int, Path]:
        """Return {epoch: PNG path} of a job's picture grids (read them with grid_png)."""
        return self._views.folder(job_id).sample_grids()

    def grid_png(self, job_id, epoch: int) -> bytes:
        """Return a job's picture grid of `epoch` as checked PNG bytes; ValueError with a sentence when it is
        missing or damaged (records.JobFolder.grid_png)."""
        return self._views.folder(job_id).grid_png(epoch)

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
        record = self._views.view(job_id)[0]
        return bool(record["owner"]) and isinstance(owner_token, str) and hash_token(owner_token) == record["owner"]

    def checkpoint_folders(self) -> dict[str, tuple[Path, str]]:
        """Return {'run-<job_id>': (checkpoint folder, run name)} of every readable job that saved one."""
        return {RUN_PREFIX + folder.job_id: (folder.checkpoint, record["name"]) for folder, record in self._views.records()
                if (folder.checkpoint / "config.json").is_file() and not folder.checkpoint.is_symlink()}
