"""The Ray backend (LATENT_LAB_RAY_ADDRESS) on a real local Ray cluster: a job end to end with its files streamed
back into the runs folder, cancel, a killed cluster worker (interrupted, then resumed), an unreachable address,
and the cluster going away while a job runs (the app goes on).

One cluster for the module (Ray starts in seconds, not milliseconds); tiny configs. Tests wait for events."""

import json
import os
import signal

import pytest

from hostile import ServedApp, api_call, descendants, error_sentence, leaks, wait_for_view, wait_job

from genmodels.checkpoints import read_config
from genmodels.registry import ModelRegistry
from jobs import HostLimits, JobRunner
from jobs.records import JobFolder

# Ray is an optional backend (the default is the warm pool): its tests run in make test-all, not in make test.
pytestmark = [pytest.mark.slow, pytest.mark.extended]
TINY_VAE = {"model": "vae", "dataset": "mnist-5k", "epochs": 2, "hidden_size": 32, "batch_size": 256}
LONG_VAE = dict(TINY_VAE, epochs=100)


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    r = JobRunner(tmp_path_factory.mktemp("ray") / "runs", HostLimits(ray_address="local"), poll_s=0.2)
    yield r
    r.close()


def test_a_job_runs_on_the_cluster_and_its_files_come_back(runner):
    job_id = runner.submit_settings(TINY_VAE, "ray-owner-1")
    view = wait_job(runner, job_id)
    assert view["status"] == "done", (view, runner.log_tail(job_id, "ray-owner-1"))
    assert view["epochs_done"] == 2 and view["figures"]["val_nelbo"] > 0
    assert [m["epoch"] for m in runner.metrics(job_id)["epochs"]] == [1, 2]
    assert sorted(runner.sample_grids(job_id)) == [1, 2]
    assert "epoch 2/2" in runner.log_tail(job_id, "ray-owner-1")
    folder = JobFolder(runner.runs_dir, job_id)
    assert read_config(folder.checkpoint)["epochs_trained"] == 2  # written here, by the app
    assert JobFolder(runner.runs_dir, job_id).record()["pid"] is None  # no process of this machine ran it
    registry = ModelRegistry(runner.runs_dir / "none", extra_folders=runner.checkpoint_folders, device="cpu")
    assert registry.load(f"run-{job_id}") is not None


def test_cancel_stops_the_remote_task(runner):
    job_id = runner.submit_settings(LONG_VAE, "ray-owner-2")
    wait_for_view(lambda: runner.status(job_id), lambda v: v["epochs_done"] >= 1, "the long job's first epoch on Ray")
    assert runner.cancel(job_id, "ray-owner-2") == "cancelled"
    assert not runner.executor.knows(job_id)  # its stream ended: the task is over
    view = runner.status(job_id)
    assert view["can_resume"] and 1 <= view["epochs_done"] < 100


def test_a_killed_cluster_worker_leaves_the_job_interrupted_and_resumable(runner):
    job_id = runner.submit_settings(LONG_VAE, "ray-owner-3")
    wait_for_view(lambda: runner.status(job_id), lambda v: v["epochs_done"] >= 1, "the long job's first epoch on Ray")
    pid = runner.executor.worker_pid(job_id)
    os.kill(pid, signal.SIGKILL)
    view = wait_for_view(lambda: runner.status(job_id), lambda v: v["status"] != "running",
                         "the job whose cluster worker was killed to stop running")
    assert view["status"] == "interrupted", view
    assert "cluster worker running this job stopped" in view["error"] and "resume to continue" in view["error"]
    saved = JobFolder(runner.runs_dir, job_id).saved_epochs()
    assert saved >= 1 and view["can_resume"]
    runner.resume(job_id, "ray-owner-3", epochs=1)  # the checkpoint travels to the cluster as bytes
    view = wait_job(runner, job_id)
    assert view["status"] == "done" and view["epochs_done"] == saved + 1


def test_an_unreachable_cluster_gives_a_sentence_and_the_explorer_keeps_working(tmp_path):
    limits = HostLimits(ray_address="127.0.0.1:1")  # nothing listens on port 1
    runner = JobRunner(tmp_path / "runs", limits, supervise=False)
    try:
        with pytest.raises(ValueError, match=r"Training is unavailable: the training cluster at 127\.0\.0\.1:1 "
                                             r"cannot be reached \(Connection refused\)"):
            runner.submit_settings(TINY_VAE, "ray-owner-4")
        assert runner.job_ids() == []
    finally:
        runner.close()
    with ServedApp(tmp_path / "served-runs", limits) as served:
        message = error_sentence(*api_call(served.url, "train", json.dumps([TINY_VAE, "ray-owner-5"])))
        assert "cannot be reached" in message and "Traceback" not in message
        assert not leaks(message, served.runs_dir)
        event, data = api_call(served.url, "decode", json.dumps([[0.0] * 20, "vae-mnist"]))
        assert event == "complete"  # the explorer works as usual


def test_the_cluster_going_away_interrupts_its_job_with_a_sentence_and_the_app_goes_on(tmp_path, monkeypatch):
    # Ray ends the process driving a cluster whose head stays unreachable this long (60 s by default); were that
    # process the app (this test's process), the test would die here. Set before the driver process starts.
    monkeypatch.setenv("RAY_gcs_rpc_server_reconnect_timeout_s", "5")
    token = "ray-owner-6"
    with ServedApp(tmp_path / "runs", HostLimits(ray_address="local")) as served:
        event, data = api_call(served.url, "train", json.dumps([LONG_VAE, token]))
        assert event == "complete", data
        job_id = data[0]
        job = json.dumps([job_id, token])
        wait_for_view(lambda: api_call(served.url, "job", job)[1][0], lambda v: v["epochs_done"] >= 1,
                      "the long job's first epoch on Ray (through /job)", interval_s=0.3)
        driver = served.lab.jobs.executor.pid
        heads = [pid for pid, command in descendants(driver) if "gcs_server" in command]
        assert heads, descendants(driver)
        for pid in heads:
            os.kill(pid, signal.SIGKILL)  # the cluster's head is gone

        view = wait_for_view(lambda: api_call(served.url, "job", job)[1][0], lambda v: v["status"] != "running",
                             "the job to stop running once the cluster's head is gone", interval_s=0.3)
        assert view["status"] == "interrupted", view
        # Which loss Ray reports first races on a busy machine: the head's, or that of the worker it took along.
        assert view["error"].startswith(("The local Ray cluster went away while this job ran",
                                         "The cluster worker running this job stopped")), view
        assert view["can_resume"] and view["epochs_done"] >= 1  # its streamed epochs are kept
        if view["error"].startswith("The local Ray cluster went away"):
            # Known gap (RELIABILITY.md): when Ray reports the lost worker first, the backend learns that the
            # cluster is gone only from the next job, so only this order is checked for the refusal.
            message = error_sentence(*api_call(served.url, "train", json.dumps([TINY_VAE, "ray-owner-7"])))
            assert message.startswith("Training is unavailable: the local Ray cluster stopped answering"), message
            assert "Traceback" not in message and not leaks(message, served.runs_dir)
        event, data = api_call(served.url, "decode", json.dumps([[0.0] * 20, "vae-mnist"]))
        assert event == "complete"  # the explorer works as usual
