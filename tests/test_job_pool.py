"""The fair queue (one job per owner, a class-sized queue, positions and start/finish estimates that move),
the warm worker pool (workers reused, a killed one replaced) and a job's own data folder.

Tests wait for events (a status, a position), never for wall-clock bounds."""

import os
import shutil
import signal

import pytest

from hostile import descendants, wait_for_view, wait_job

from genmodels.data import DEBIAN_FASHION_DIR, dataset_availability
from genmodels.train import TrainConfig
from genmodels.vae import VAEConfig
from jobs import HostLimits, JobRunner
from jobs.estimates import PRIOR_EPOCH_S, PRIOR_START_S, PaceBook, plan_queue
from jobs.records import JobFolder
from jobs.runner import hash_token

TINY_VAE = {"model": "vae", "dataset": "mnist-5k", "epochs": 1, "hidden_size": 32, "batch_size": 256}
LONG_VAE = dict(TINY_VAE, epochs=100)
KEYS = ("queue_position", "eta_start_s", "eta_finish_s")


def queued_runner(tmp_path, **limits) -> JobRunner:
    """A runner with no training slot (jobs stay queued, nothing trains) unless limits say otherwise."""
    return JobRunner(tmp_path / "runs", HostLimits(**{"max_concurrent": 0, **limits}), supervise=False)


def test_a_class_of_thirty_is_accepted_and_sees_its_place_in_the_queue(tmp_path):
    runner = queued_runner(tmp_path)
    try:
        ids = [runner.submit_settings(dict(TINY_VAE, beta=1 + k / 10), f"student-{k:02d}") for k in range(30)]
        views = [runner.status(job_id) for job_id in ids]
        assert [v["status"] for v in views] == ["queued"] * 30
        assert [v["queue_position"] for v in views] == list(range(1, 31))  # first come, first served
        assert all(set(KEYS) <= set(v) for v in runner.list_jobs())
        assert all(v["eta_start_s"] is None and v["eta_finish_s"] is None for v in views)  # no slot: unknown
        with pytest.raises(ValueError, match=rf"You already have a job queued or running \(job {ids[3]}\)"):
            runner.submit_settings(TINY_VAE, "student-03")
        runner.cancel(ids[0], "student-00")
        runner.cancel(ids[10], "student-10")
        assert runner.status(ids[0])["queue_position"] is None
        assert runner.status(ids[1])["queue_position"] == 1  # the queue moved up
        assert runner.status(ids[29])["queue_position"] == 28
        again = runner.submit_settings(TINY_VAE, "student-00")  # a cancelled job frees its owner
        assert runner.status(again)["queue_position"] == 29
    finally:
        runner.close()


def test_the_queue_has_a_host_limit_and_says_so(tmp_path):
    runner = queued_runner(tmp_path, max_queue=3)
    try:
        for k in range(3):
            runner.submit_settings(TINY_VAE, f"student-{k}")
        with pytest.raises(ValueError, match=r"The training queue is full \(3 jobs waiting\)"):
            runner.submit_settings(TINY_VAE, "student-3")
    finally:
        runner.close()


def test_a_resume_counts_as_the_owners_one_job(tmp_path):
    from hostile import copy_shipped_run

    runs = tmp_path / "runs"
    copy_shipped_run(runs, "20250101-000000-f1f1", owner=hash_token("owner-token-1"))
    runner = queued_runner(tmp_path)
    try:
        runner.submit_settings(TINY_VAE, "owner-token-1")
        with pytest.raises(ValueError, match="You already have a job queued or running"):
            runner.resume("20250101-000000-f1f1", "owner-token-1", 1)
    finally:
        runner.close()


def _record(job_id, status, *, queued=0.0, started=None, finished=None, epochs=5, slots=2, hidden=32, model="vae"):
    return {"id": job_id, "status": status, "model_type": model, "owner": "x", "queued": queued,
            "started": started, "finished": finished, "slots": slots, "segments": [{"epochs": epochs, "resume": False}],
            "model_config": {"hidden_size": hidden}, "train_config": {"dataset": "mnist-5k", "epochs": epochs}}


def test_estimates_use_the_pace_of_similar_finished_jobs_and_a_prior_without_one():
    paces = PaceBook()
    fresh = _record("new", "queued", epochs=5)
    assert paces.estimate(fresh, 2) == pytest.approx(5 * PRIOR_EPOCH_S[("vae", "mnist-5k")] + PRIOR_START_S)
    paces.learn([(None, _record("a", "done", started=100.0, finished=120.0, epochs=5)),  # 4 s an epoch
                 (None, _record("b", "done", started=100.0, finished=400.0, epochs=5, hidden=400)),  # other size
                 (None, _record("c", "failed", started=100.0, finished=101.0, epochs=5))])  # not a pace
    assert paces.estimate(fresh, 2) == pytest.approx(20.0)  # the same settings on the same slots
    assert paces.estimate(dict(fresh, segments=[{"epochs": 10, "resume": False}]), 2) == pytest.approx(40.0)
    assert paces.estimate(fresh, 1) == pytest.approx(5 * (4.0 + 60.0) / 2)  # other slots: all alike jobs' median


def test_the_plan_starts_queued_jobs_on_the_first_free_slot():
    paces = PaceBook()
    paces.learn([(None, _record("a", "done", started=0.0, finished=10.0, epochs=5))])  # 10 s a job
    now = 1000.0
    records = [(None, _record("r1", "running", started=now - 4, epochs=5)),  # 6 s left
               (None, _record("r2", "running", started=now - 1, epochs=5)),  # 9 s left
               (None, _record("q1", "queued", queued=1.0)), (None, _record("q2", "queued", queued=2.0)),
               (None, _record("q3", "queued", queued=3.0))]
    plan = plan_queue(records, 2, paces, now)
    assert plan["r1"] == (None, 0.0, pytest.approx(6.0))
    assert plan["q1"] == (1, pytest.approx(6.0), pytest.approx(16.0))
    assert plan["q2"] == (2, pytest.approx(9.0), pytest.approx(19.0))
    assert plan["q3"] == (3, pytest.approx(16.0), pytest.approx(26.0))
    left = {"r1": 1.0, "r2": 2.0}  # the workers' own figures win over the estimate
    plan = plan_queue(records, 2, paces, now, left=lambda r: left[r["id"]])
    assert plan["q1"][1:] == (pytest.approx(1.0), pytest.approx(11.0))
    assert plan_queue(records, 0, paces, now)["q1"] == (1, None, None)


@pytest.mark.slow
def test_positions_and_estimates_move_as_real_jobs_finish(tmp_path):
    runner = JobRunner(tmp_path / "runs", HostLimits(max_concurrent=1), poll_s=0.2)
    try:
        first = runner.submit_settings(TINY_VAE, "student-1")
        second = runner.submit_settings(TINY_VAE, "student-2")
        third = runner.submit_settings(TINY_VAE, "student-3")
        running = runner.status(first)
        assert running["status"] == "running" and running["queue_position"] is None
        assert running["eta_finish_s"] is not None and running["eta_start_s"] is None
        view = runner.status(third)
        # Seconds from now move with the clock (and stop at 0), so only their order is checked here;
        # the figures themselves are checked with a fixed clock in the plan_queue test above.
        assert view["queue_position"] == 2 and view["eta_start_s"] is not None
        assert view["eta_finish_s"] >= view["eta_start_s"]
        # Two views are two readings of the clock; the order of starts is checked on the real records at one instant.
        plan = plan_queue([(None, JobFolder(runner.runs_dir, j).record()) for j in (first, second, third)], 1,
                          PaceBook(), now=running["started"] + 1.0)
        assert plan[second][0] == 1 and plan[third][0] == 2 and plan[second][1] <= plan[third][1]
        wait_for_view(lambda: runner.status(first), lambda v: v["status"] == "done", "the first job to finish")
        moved = wait_for_view(lambda: runner.status(third), lambda v: v["queue_position"] == 1,
                              "the third job to move up to first in the queue")
        assert moved["eta_finish_s"] >= moved["eta_start_s"]
        # The estimate now comes from the finished job's measured pace (the same settings): its own time.
        # Checked on the records, not on the view's seconds-from-now, which move with the clock.
        done = JobFolder(runner.runs_dir, first).record()
        paces = PaceBook()
        paces.learn([(None, done)])
        waiting = JobFolder(runner.runs_dir, third).record()
        assert paces.estimate(waiting, done["slots"]) == pytest.approx(done["finished"] - done["started"])
        assert wait_job(runner, third)["status"] == "done"
        assert runner.status(third)["eta_finish_s"] is None  # finished: nothing to estimate
    finally:
        runner.close()


@pytest.mark.slow
@pytest.mark.extended  # a host failure mode: make test-all
def test_warm_workers_are_reused_and_a_killed_one_is_replaced(tmp_path):
    runner = JobRunner(tmp_path / "runs", HostLimits(max_concurrent=1), poll_s=0.2)
    try:
        first = runner.submit_settings(TINY_VAE, "student-1")
        assert wait_job(runner, first)["status"] == "done"
        second = runner.submit_settings(TINY_VAE, "student-1")
        assert wait_job(runner, second)["status"] == "done"
        records = [JobFolder(runner.runs_dir, j).record() for j in (first, second)]
        assert records[0]["pid"] == records[1]["pid"]  # the same warm process: no new interpreter per job
        with open(f"/proc/{records[0]['pid']}/status") as f:
            assert "Threads" in f.read()  # and it is still there, waiting for the next job
        assert os.getpriority(os.PRIO_PROCESS, records[0]["pid"]) >= 10  # low priority
        long = runner.submit_settings(LONG_VAE, "student-2")
        wait_for_view(lambda: runner.status(long), lambda v: v["epochs_done"] >= 1, "the long job's first epoch")
        os.kill(records[0]["pid"], signal.SIGKILL)  # an out-of-memory kill, say
        view = wait_for_view(lambda: runner.status(long), lambda v: v["status"] != "running",
                             "the job whose worker was killed to stop running")
        assert view["status"] == "failed" and "SIGKILL" in view["error"] and view["can_resume"]
        after = runner.submit_settings(TINY_VAE, "student-3")
        assert wait_job(runner, after)["status"] == "done"
        assert JobFolder(runner.runs_dir, after).record()["pid"] != records[0]["pid"]  # a fresh worker
    finally:
        runner.close()


def worker_processes() -> list[int]:
    """Return the pids of this process's warm workers (`python -m jobs.worker --serve` below it)."""
    return [pid for pid, command in descendants(os.getpid()) if "jobs.worker --serve" in command]


def test_a_pool_allowed_many_jobs_starts_one_spare_worker_not_all_of_them(tmp_path):
    """Each worker holds torch and a data set (~700 MB): a host allowing 12 jobs at once must not start 12 for one."""
    others = set(worker_processes())  # warm workers of other runners in this process (a session's app)
    runner = JobRunner(tmp_path / "runs", HostLimits(max_concurrent=12), poll_s=0.2)
    try:
        job_id = runner.submit_settings(TINY_VAE, "student-1")
        assert wait_job(runner, job_id)["status"] == "done"
        assert len(set(worker_processes()) - others) == 2  # the one that ran it and one spare, both idle now
    finally:
        runner.close()


def test_a_jobs_own_data_folder_counts_when_checking_the_data_set(tmp_path):
    """The availability check looks where the job will read (its data_dir), not only the usual places."""
    folder = tmp_path / "my-mnist"
    shutil.copytree(DEBIAN_FASHION_DIR, folder)  # four IDX files: what the check looks for
    runner = queued_runner(tmp_path)
    try:
        if not dataset_availability()["mnist"][0]:  # offline and no files in the usual places
            with pytest.raises(ValueError, match="'mnist' is not available here"):
                runner.submit("vae", VAEConfig(hidden_size=32), TrainConfig(dataset="mnist", epochs=1), "owner-a")
        job_id = runner.submit("vae", VAEConfig(hidden_size=32), TrainConfig(dataset="mnist", epochs=1,
                                                                            data_dir=str(folder)), "owner-b")
        assert runner.status(job_id)["status"] == "queued"
        if not dataset_availability()["mnist"][0]:
            with pytest.raises(ValueError, match="'mnist' is not available here"):
                runner.submit("vae", VAEConfig(hidden_size=32), TrainConfig(dataset="mnist", epochs=1,
                                                                           data_dir=str(tmp_path / "empty")), "owner-c")
    finally:
        runner.close()


def test_a_job_past_its_estimate_gives_those_behind_it_no_start_time_rather_than_a_false_one():
    """Issue 25: a student was told "starts in a few seconds" for 20 s while the job ahead (loading its data,
    measuring its bound) ran past its estimate. Past it, the start is unknown; before, it stayed at 1 s."""
    paces = PaceBook()
    paces.learn([(None, _record("a", "done", started=0.0, finished=10.0, epochs=5))])  # 10 s a job
    now = 1000.0
    records = [(None, _record("r1", "running", started=now - 30, epochs=5)),  # 20 s past its 10 s
               (None, _record("q1", "queued", queued=1.0)), (None, _record("q2", "queued", queued=2.0))]
    plan = plan_queue(records, 1, paces, now)
    assert plan["r1"] == (None, 0.0, None)
    assert plan["q1"] == (1, None, None) and plan["q2"] == (2, None, None)  # distinct places, no false times
    # A worker's own figure that has run out is no better than none.
    plan = plan_queue(records, 1, paces, now, left=lambda r: None)
    assert plan["q1"] == (1, None, None)
    # Just past its estimate (within OVERDUE_S) it still counts as about to end.
    records[0] = (None, _record("r1", "running", started=now - 11, epochs=5))
    assert plan_queue(records, 1, paces, now)["q1"][1] == pytest.approx(1.0)
