"""What the runner needs of a backend that runs jobs, and the pieces both backends share.

An executor (jobs/pool.py's WarmPool; jobs/ray_process.py's RayProcess, which drives jobs/ray_backend.py's
RayExecutor in a child process) has:
    check_ready()              ValueError with a sentence when it cannot take a job now
    start(folder, record)      runs the job's latest segment; returns fields to record (pid, ...)
    knows(job_id)              True while it holds the job (running, or ended and not yet polled)
    poll(job_id)               None while the job runs, else Ended(status, reason), once
    stop(folder)               asks the job to stop within a step, keeping its last saved epoch
    kill(job_id)               stops it now (the last saved epoch stays)
    close(grace_s)             stops everything it started
Either way the job's files end up in its folder under the runs folder (jobs/records.py), where
the runner reads its progress, outcome, metrics and checkpoint.
"""

from typing import NamedTuple

import i18n


class Ended(NamedTuple):
    """How a job's process or task ended, for when its own progress names no outcome."""

    status: str  # records.FAILED or records.INTERRUPTED (resumable: the worker, not the job, was lost)
    reason: "i18n.Text | str"  # one sentence for the job's error (kept as its key and parameters, jobs/texts.py)


def process_start_time(pid) -> int | None:
    """Return a process's start time in clock ticks since boot (/proc), or None when it is not running."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[19])
    except (OSError, TypeError, ValueError, IndexError):
        return None


def cluster_in_words(address: str) -> i18n.Text:
    """Return the Ray cluster at `address` ('local' or a Ray address) in words, for sentences."""
    return i18n.Text("jobs.ray.where.local") if address == "local" else i18n.Text("jobs.ray.where.at", address=address)


def cluster_went_away(address: str) -> i18n.Text:
    """Return the sentence of a job whose Ray cluster at `address` went away while it ran."""
    return (i18n.Text("jobs.ray.went_away.local") if address == "local"
            else i18n.Text("jobs.ray.went_away.at", address=address))
