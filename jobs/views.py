"""Reading the runs folder for the runner: job folders, their records, status views and metrics, cached.

    views = JobViews(runs_dir, lock)
    views.job_ids()                      # newest first; a folder that is a link is not a job
    record, view = views.view(job_id)    # recomputed only when one of the job's files changed
    views.follower(views.folder(job_id)).since(cursor)   # what its metrics gained since a cursor

Every read goes through jobs/records.py (untrusted files: a regular file below the runs folder,
no link followed, bounded). The caches cost a few stat calls per job while nothing changed.
"""

import os
import threading

import i18n
from genmodels.checkpoints import file_signature

from .records import JobFolder, MetricsFollower, check_job_id, status_view


class JobViews:
    """Cached readers of the job folders under `runs_dir` (thread-safe under `lock`, the runner's)."""

    def __init__(self, runs_dir, lock: threading.RLock):
        self.runs_dir, self._lock = runs_dir, lock
        self._views: dict[str, tuple] = {}  # job id -> (file signature, record, status view)
        self._metrics: dict[str, tuple] = {}  # job id -> (file signature, MetricsFollower)

    def folder(self, job_id) -> JobFolder:
        """Return the folder of an existing job; ValueError with a sentence for a bad id or no such job."""
        folder = JobFolder(self.runs_dir, check_job_id(job_id))
        if not folder.exists():
            raise i18n.Sentence("jobs.no_job", job=folder.job_id)
        return folder

    @staticmethod
    def record(folder: JobFolder) -> dict:
        """Return the job's record read now; ValueError with a sentence when it cannot be read."""
        record = folder.record()
        if record is None:
            raise i18n.Sentence("jobs.record_unreadable", job=folder.job_id)
        return record

    def job_ids(self) -> list[str]:
        """Return the ids of all recorded jobs, newest first (a folder that is a link is not a job)."""
        try:
            with os.scandir(self.runs_dir) as entries:
                ids = [e.name for e in entries
                       if e.is_dir(follow_symlinks=False) and JobFolder(self.runs_dir, e.name).exists()]
        except OSError:
            return []
        return sorted((i for i in ids if not i.startswith(".")), reverse=True)

    def records(self) -> list[tuple[JobFolder, dict]]:
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

    def follower(self, folder: JobFolder) -> MetricsFollower:
        """Return the job's metrics follower, brought up to date when its file changed (only new lines are read)."""
        signature = file_signature(folder.metrics_file)
        with self._lock:
            cached = self._metrics.get(folder.job_id)
            if cached is None or cached[0] != signature:
                follower = cached[1] if cached is not None else MetricsFollower()
                follower.update(folder.root, folder.metrics_file)
                cached = self._metrics[folder.job_id] = (signature, follower)
            return cached[1]

    def view(self, job_id) -> tuple[dict, dict]:
        """Return (record, status view) of a job, recomputed only when one of its files changed."""
        folder = self.folder(job_id)
        signature = file_signature(folder.job_file, folder.progress_file, folder.metrics_file,
                                   folder.checkpoint / "config.json")
        cached = self._views.get(folder.job_id)
        if cached is not None and cached[0] == signature:
            return cached[1], cached[2]
        record = self.record(folder)
        view = status_view(folder, record, self.follower(folder).metrics)
        self._views[folder.job_id] = (signature, record, view)
        return record, view

    def forget(self, job_id: str) -> None:
        """Drop what is cached of a deleted job."""
        self._views.pop(job_id, None)
        self._metrics.pop(job_id, None)
