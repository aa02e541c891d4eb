"""Fair share of the runs folder: a flood of tiny jobs under throwaway owner tokens (all from one address)
cannot lock a class out of training, and a run its owner opened is never deleted for someone else.

The flood is real (one-epoch jobs over HTTP against the real app); a small max_runs keeps it cheap.
"""

import json
import secrets
import time

import pytest

from hostile import ServedApp, api_call, wait_for

from jobs import HostLimits
from jobs.records import JobFolder
import i18n
from jobs.retention import doomed

TINY = {"model": "vae", "dataset": "mnist-5k", "epochs": 1, "hidden_size": 32, "batch_size": 256}
STUDENT, LATECOMER = "student-token-one", "student-token-two"


def train(url: str, token: str) -> tuple[str, object]:
    return api_call(url, "train", json.dumps([TINY, token]))


def done(url: str, job_id: str, token: str = "") -> dict:
    """Wait until the job is stopped; return its /job view (following it with `token`, as its page does)."""
    def finished():
        event, data = api_call(url, "job", json.dumps([job_id, token]))
        return data[0] if event == "complete" and data[0]["status"] not in ("queued", "running") else None
    return wait_for(finished, f"job {job_id} to finish")


@pytest.mark.slow
def test_a_flood_of_tiny_jobs_under_throwaway_tokens_does_not_lock_the_class_out(tmp_path):
    limits = HostLimits(max_concurrent=1, max_runs=3, runs_per_owner=10, unopened_grace_s=0.0, tiny_run_s=0.0)
    with ServedApp(tmp_path / "runs", limits) as served:
        event, (mine,) = train(served.url, STUDENT)
        assert event == "complete", mine
        assert done(served.url, mine, STUDENT)["status"] == "done"  # followed by its page: opened
        flood, refused = [], []
        for _ in range(2 * limits.max_runs):  # twice what the folder has room for, each under a fresh token
            event, answer = train(served.url, secrets.token_urlsafe(12))
            if event != "complete":
                refused.append(answer)  # the flood itself may be refused: what matters is the class after it
                continue
            flood.append(answer[0])
            done(served.url, answer[0])  # finished; followed without its token, so its owner never opened it
        event, theirs = train(served.url, LATECOMER)
        assert event == "complete", f"the class was locked out: {theirs}"
        assert done(served.url, theirs[0], LATECOMER)["status"] == "done"
        assert JobFolder(served.runs_dir, mine).exists(), "a run its owner opened was deleted for the flood"
        assert len(served.lab.jobs.job_ids()) <= limits.max_runs


def _record(job_id: str, *, finished: float, started: float, opened: float | None = None, status: str = "done",
            owner: str = "x") -> tuple[JobFolder, dict]:
    return (JobFolder("/nonexistent", job_id),
            {"id": job_id, "status": status, "owner": owner, "created": started, "started": started,
             "finished": finished, "opened": opened})


def test_the_policy_order_tiny_unopened_first_and_opened_runs_never():
    limits = HostLimits(max_runs=5, runs_per_owner=0, tiny_run_s=60.0, unopened_grace_s=600.0)
    now = time.time()
    long_ago = now - 3600
    records = [
        _record("opened-long", started=long_ago - 600, finished=long_ago, opened=long_ago + 1),
        _record("unopened-long", started=long_ago - 600, finished=long_ago),
        _record("opened-tiny", started=long_ago - 5, finished=long_ago, opened=long_ago + 1),
        _record("unopened-tiny", started=long_ago - 5, finished=long_ago + 10),
        _record("just-finished-tiny", started=now - 10, finished=now - 5),  # its owner may not have seen it yet
    ]
    order = [f.job_id for f in doomed(limits, records, "new", now)]
    assert order == ["unopened-tiny"]
    limits = HostLimits(max_runs=3, runs_per_owner=0, tiny_run_s=60.0, unopened_grace_s=600.0)
    order = [f.job_id for f in doomed(limits, records, "new", now)]
    assert order == ["unopened-tiny", "opened-tiny", "unopened-long"]
    limits = HostLimits(max_runs=2, runs_per_owner=0, tiny_run_s=60.0, unopened_grace_s=600.0)
    with pytest.raises(ValueError, match=i18n.text("jobs.folder_full", "en")[:30]):
        doomed(limits, records, "new", now)  # the opened long run and the fresh one stay: refused instead
