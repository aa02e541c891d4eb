"""Which job folders make room for a new job: the retention and fair-share policy, as pure functions.

The runner calls `doomed(limits, records, owner, now)` under its lock before it creates a job
folder; it deletes what that returns, or passes on the ValueError's sentence (the job is refused).

1. Each owner keeps at most `runs_per_owner` jobs: beyond that, their own oldest stopped jobs
   go, cancelled, failed and interrupted ones before finished ones.
2. The whole folder holds at most `max_runs` jobs. Beyond that, in this order, oldest first
   within each kind:
   a. anyone's cancelled, failed or interrupted jobs;
   b. finished runs older than `keep_days`;
   c. fair share: recent finished runs that are *tiny* (trained less than `tiny_run_s`) and that
      nobody opened since they finished, then tiny ones that were opened, then other runs that
      nobody opened; each only once it finished `unopened_grace_s` ago, so its owner had the
      time to look at it. A class's page follows the run it launched, so a student's run is
      opened the moment it finishes; a flood of tiny jobs under throwaway owner tokens (one
      address or many) makes room first, and cannot lock the class out;
   d. otherwise the new job is refused with a sentence: a recent run that was opened and trained
      for longer than `tiny_run_s` is never deleted for someone else.
3. New owners (tokens with no job folder here) come in at most `new_owners_per_minute` for the
   whole server, with a burst of `new_owners_burst` (NewOwnerRate, a token bucket); beyond that a
   new owner's job gets a sentence saying when to try again, while owners who already have runs
   keep training. With the defaults, burst + rate x unopened_grace_s stays below max_runs, so a
   flood of throwaway tokens cannot fill the folder with runs still too young to make room.
No limit depends on an address: a class behind one address is many owners, as it should be.
"""

import math

import i18n

from .records import DONE, FINISHED, UNSUCCESSFUL, JobFolder


class NewOwnerRate:
    """A token bucket of new owners for the whole server: `per_minute` refill, at most `burst` at once (0: no bound).

    The runner takes from it under its lock, so it needs no lock of its own. It lives in memory: a
    restart starts it full, which a flood cannot provoke.
    """

    def __init__(self, per_minute: float, burst: int):
        self.rate_s = max(0.0, per_minute) / 60.0
        self.burst = max(1, int(burst))
        self.level, self.when = float(self.burst), None

    def _fill(self, now: float) -> None:
        if self.when is not None:
            self.level = min(float(self.burst), self.level + max(0.0, now - self.when) * self.rate_s)
        self.when = now

    def take(self, now: float) -> None:
        """Let one new owner in at `now` (seconds); ValueError with a sentence saying when to try again."""
        if self.rate_s <= 0:
            return
        self._fill(now)
        if self.level >= 1.0:
            self.level -= 1.0
            return
        wait_s = math.ceil((1.0 - self.level) / self.rate_s)
        per_minute = self.rate_s * 60
        raise i18n.Sentence("jobs.new_owner_rate", per_minute=f"{per_minute:g}", wait_s=wait_s)

    def give_back(self) -> None:
        """Return the place a new owner took when their job was refused after all (the folder was full)."""
        if self.rate_s > 0:
            self.level = min(float(self.burst), self.level + 1.0)


def _finished_at(record: dict) -> float:
    return record.get("finished") or record["created"]


def is_tiny(record: dict, limits) -> bool:
    """Return True when a finished run trained for less than limits.tiny_run_s seconds (its last segment)."""
    started, finished = record.get("started"), record.get("finished")
    if started is None or finished is None:
        return True  # it never ran: nothing was trained
    return finished - started < limits.tiny_run_s


def was_opened(record: dict) -> bool:
    """Return True when its owner followed the run (the page, or /job with the token) after it last finished."""
    opened, finished = record.get("opened"), record.get("finished")
    return opened is not None and finished is not None and opened >= finished


def _owner_doomed(limits, records, owner) -> list[tuple[JobFolder, dict]]:
    """Return the owner's own stopped jobs that must go so one more of theirs fits runs_per_owner."""
    if limits.runs_per_owner <= 0:
        return []
    mine = [fr for fr in records if fr[1]["owner"] == owner]
    excess = len(mine) + 1 - limits.runs_per_owner
    stopped = sorted((fr for fr in mine if fr[1]["status"] in FINISHED),
                     key=lambda fr: (fr[1]["status"] == DONE, _finished_at(fr[1])))
    if excess > len(stopped):
        raise i18n.Sentence("jobs.too_many_runs", count=len(mine))
    return stopped[:max(0, excess)]


def _folder_doomed(limits, records, now: float) -> list[tuple[JobFolder, dict]]:
    """Return the jobs that must go so one more fits max_runs, in the order of the module docstring."""
    if limits.max_runs <= 0:
        return []
    excess = len(records) + 1 - limits.max_runs
    if excess <= 0:
        return []
    cutoff = now - limits.keep_days * 86400
    settled = now - limits.unopened_grace_s

    def rank(record: dict):
        """Return the record's kind (smaller goes first), None when it is kept whatever happens."""
        if record["status"] in UNSUCCESSFUL:
            return 0
        if record["status"] != DONE:
            return None  # queued or running
        if _finished_at(record) < cutoff:
            return 1
        if _finished_at(record) > settled:
            return None  # its owner may not have seen it yet
        tiny, opened = is_tiny(record, limits), was_opened(record)
        if tiny:
            return 3 if opened else 2
        return None if opened else 4

    ranked = [(rank(r), _finished_at(r), f.job_id, (f, r)) for f, r in records]
    candidates = [item[3] for item in sorted(x for x in ranked if x[0] is not None)]
    if excess > len(candidates):
        raise i18n.Sentence("jobs.folder_full")
    return candidates[:excess]


def doomed(limits, records: list[tuple[JobFolder, dict]], owner: str, now: float) -> list[JobFolder]:
    """Return the job folders to delete so that one more job of `owner` fits the policy (module docstring);
    ValueError with a sentence when it cannot fit without deleting a run the policy keeps."""
    first = _owner_doomed(limits, records, owner)
    gone = {f.job_id for f, _ in first}
    rest = [fr for fr in records if fr[0].job_id not in gone]
    return [f for f, _ in first + _folder_doomed(limits, rest, now)]
