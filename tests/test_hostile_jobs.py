"""Jobs and owners: nobody but a job's owner can cancel it, resume it or read its log; forged,
empty and non-text tokens get a sentence, never someone else's job; one owner's activity never
deletes or blocks another owner's work.

Runner tests use a runner with no training slot (jobs stay queued, nothing trains); the HTTP tests
serve the real app over its own runs folder. Retention under a /train + /cancel loop with real
jobs is tests/test_jobs.py::test_a_cancel_loop_never_deletes_other_owners_finished_runs.
"""

import json
import math

import pytest
from hostile import ServedApp, api_call, copy_shipped_run, error_sentence, leaks

from jobs import HostLimits, JobRunner
from jobs.runner import hash_token
from ui.limits import MAX_BODY_BYTES

OWNER = "the-owners-secret-token"
QUEUED_VAE = {"model": "vae", "dataset": "mnist-5k", "epochs": 2, "hidden_size": 32, "batch_size": 256}
FINISHED_ID = "20250101-000000-f1f1"
INTRUDERS = {
    "another text": "someone-else-entirely",
    "empty": "",
    "none": None,
    "int": 12345678,
    "float": 1.5,
    "nan": math.nan,
    "bool": True,
    "list holding the token": [OWNER],
    "dict holding the token": {"token": OWNER},
    "bytes of the token": OWNER.encode(),
    "token with a space": OWNER + " ",
    "token in capitals": OWNER.upper(),
    "the stored hash": hash_token(OWNER),
    "lone surrogate": "\ud800",
    "half the body bound": "x" * (MAX_BODY_BYTES // 2),
}


@pytest.fixture
def runner(tmp_path):
    r = JobRunner(tmp_path / "runs", HostLimits(max_concurrent=0, max_queue=10, runs_per_owner=3, max_runs=8,
                                                jobs_per_owner=3),
                  supervise=False)  # no slot: submitted jobs stay queued and nothing trains
    yield r
    r.close()


@pytest.mark.parametrize("token", list(INTRUDERS.values()), ids=list(INTRUDERS))
def test_only_the_owner_can_cancel_resume_or_read_the_log(runner, token):
    job_id = runner.submit_settings(QUEUED_VAE, OWNER)
    (runner.runs_dir / job_id / "log.txt").write_text("epoch 1/2: val_nelbo=150\n")
    with pytest.raises(ValueError, match="Only the person who started"):
        runner.cancel(job_id, token)
    with pytest.raises(ValueError, match="Only the person who started"):
        runner.resume(job_id, token, 1)
    assert runner.log_tail(job_id, token) == ""
    assert not runner.is_owner(job_id, token)
    assert runner.status(job_id)["status"] == "queued"  # untouched
    assert "epoch 1/2" in runner.log_tail(job_id, OWNER)
    assert runner.cancel(f"run-{job_id}", OWNER) == "cancelled"  # the model name works as well as the id


def test_status_views_never_show_the_owner_or_its_hash(runner):
    job_id = runner.submit_settings(QUEUED_VAE, OWNER)
    shown = json.dumps([runner.status(job_id), runner.list_jobs(), runner.metrics(job_id)])
    assert OWNER not in shown and hash_token(OWNER) not in shown and '"owner"' not in shown


def test_a_job_without_owner_cannot_be_cancelled_or_resumed_by_anyone(runner):
    copy_shipped_run(runner.runs_dir, FINISHED_ID, owner="")  # e.g. made by an older version
    for token in ("", None, "anything-at-all", hash_token("")):
        with pytest.raises(ValueError, match="Only the person who started"):
            runner.resume(FINISHED_ID, token, 1)
        assert runner.log_tail(FINISHED_ID, token) == ""
    assert runner.status(FINISHED_ID)["status"] == "done"


@pytest.mark.parametrize("token", [None, "", "   ", 12345678, ["a-list-token"], {"t": 1}, b"bytes-token"],
                         ids=["none", "empty", "blank", "int", "list", "dict", "bytes"])
def test_starting_a_job_needs_a_text_token(runner, token):
    with pytest.raises(ValueError, match="owner token"):
        runner.submit_settings(QUEUED_VAE, token)
    assert runner.job_ids() == []


@pytest.mark.parametrize("job_id", ["../../etc/passwd", "20250101-000000-f1f1/../x", "20250101-000000-F1F1",
                                    "", None, 20250101, ["20250101-000000-f1f1"], {"id": 1}, "x" * 100_000],
                         ids=["traversal", "traversal-after-id", "capitals", "empty", "none", "int", "list", "dict",
                              "huge"])
def test_forged_job_ids_get_a_sentence_without_paths(runner, job_id):
    copy_shipped_run(runner.runs_dir, FINISHED_ID, owner=hash_token(OWNER))
    for call in (lambda: runner.status(job_id), lambda: runner.cancel(job_id, OWNER),
                 lambda: runner.resume(job_id, OWNER, 1), lambda: runner.log_tail(job_id, OWNER)):
        with pytest.raises(ValueError) as raised:
            call()
        message = str(raised.value)
        assert len(message) < 200 and not leaks(message, runner.runs_dir), message
    assert runner.status(FINISHED_ID)["status"] == "done"


def test_one_owner_at_their_quota_never_blocks_or_prunes_another(runner):
    others = [runner.submit_settings(QUEUED_VAE, "other-owner-token") for _ in range(2)]
    mine = [runner.submit_settings(QUEUED_VAE, OWNER) for _ in range(3)]
    with pytest.raises(ValueError, match="You already have 3 jobs"):
        runner.submit_settings(QUEUED_VAE, OWNER)  # active jobs are never pruned, not even the owner's own
    for job_id in mine:
        runner.cancel(job_id, OWNER)
    for _ in range(5):  # the cancel loop: each new job prunes only the owner's own stopped jobs
        runner.cancel(runner.submit_settings(QUEUED_VAE, OWNER), OWNER)
    assert set(others) <= set(runner.job_ids())
    assert all(runner.status(j)["status"] == "queued" for j in others)
    assert len([j for j in runner.job_ids() if j not in others]) <= 3
    runner.submit_settings(QUEUED_VAE, "other-owner-token")  # the other owner still gets in


# -- the same over HTTP -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    runs = tmp_path_factory.mktemp("hostile-jobs") / "runs"
    copy_shipped_run(runs, FINISHED_ID, owner=hash_token(OWNER))
    (runs / FINISHED_ID / "log.txt").write_text("epoch 1/1: val_nelbo=105 (best so far)\n")
    with ServedApp(runs, HostLimits(max_concurrent=0, max_queue=4)) as served_app:
        yield served_app


# The API strips spaces around a token (so the owner's token with a space is the owner's); NaN, a lone
# surrogate and bytes do not travel as JSON values and are sent as raw text below.
HTTP_INTRUDERS = {k: v for k, v in INTRUDERS.items()
                  if k not in ("nan", "lone surrogate", "bytes of the token", "token with a space")}


@pytest.mark.parametrize("token", list(HTTP_INTRUDERS.values()), ids=list(HTTP_INTRUDERS))
def test_over_http_nobody_else_cancels_resumes_or_reads_the_log(served, token):
    raw_token = json.dumps(token)
    event, data = api_call(served.url, "cancel", f'["{FINISHED_ID}", {raw_token}]')
    message = error_sentence(event, data)
    assert not leaks(message, served.runs_dir)
    event, data = api_call(served.url, "resume", f'["{FINISHED_ID}", {raw_token}, 1]')
    message = error_sentence(event, data)
    assert not leaks(message, served.runs_dir)
    event, data = api_call(served.url, "job", f'["{FINISHED_ID}", {raw_token}]')
    if event == "complete":
        assert data[0]["log_tail"] == "" and data[0]["status"] == "done"
    else:
        error_sentence(event, data)  # a token of the wrong type may be refused outright
    assert not leaks(data, served.runs_dir)
    # NaN and a lone surrogate, as raw JSON text
    for raw in ("NaN", '"\\ud800"'):
        event, data = api_call(served.url, "cancel", f'["{FINISHED_ID}", {raw}]')
        assert not leaks(error_sentence(event, data), served.runs_dir)


def test_over_http_the_owner_reads_the_log_and_others_see_no_owner(served):
    event, data = api_call(served.url, "job", f'["{FINISHED_ID}", "{OWNER}"]')
    assert event == "complete", data
    assert "best so far" in data[0]["log_tail"]
    event, data = api_call(served.url, "jobs", "[]")
    assert event == "complete" and FINISHED_ID in json.dumps(data)
    assert hash_token(OWNER) not in json.dumps(data) and OWNER not in json.dumps(data)
