"""The job runner with real short jobs on mnist-5k: done, cancel, crash, external kill, restart + resume, limits."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from genmodels.jobs import JobManager, configs_from_settings
from genmodels.jobs_record import JobFolder
from genmodels.registry import ModelRegistry
from genmodels.train import TrainConfig
from genmodels.vae import VAEConfig

ROOT = Path(__file__).resolve().parent.parent
OWNER = "owner-token-1"
TINY_VAE = {"model": "vae", "dataset": "mnist-5k", "epochs": 2, "hidden_size": 32, "batch_size": 256}
LONG_VAE = dict(TINY_VAE, epochs=100)  # long enough to still be running when cancelled


@pytest.fixture
def manager(tmp_path):
    m = JobManager(tmp_path / "runs", poll_s=0.2)
    yield m
    m.close(stop_jobs=True)


def wait_for(predicate, timeout_s=60.0, what="condition"):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def test_short_job_runs_to_done_with_metrics_on_disk(manager):
    job_id = manager.submit_settings(TINY_VAE, OWNER)
    assert manager.status(job_id)["status"] in ("queued", "running")
    view = manager.wait(job_id, timeout_s=120)
    assert view["status"] == "done", manager.log_tail(job_id)
    assert view["epochs_done"] == 2 and view["fraction"] == 1.0
    assert view["figures"]["val_nelbo"] > 0
    metrics = manager.metrics(job_id)
    assert [m["epoch"] for m in metrics["epochs"]] == [1, 2]
    assert {"train_recon", "train_kl", "val_nelbo", "val_recon", "val_kl"} <= set(metrics["epochs"][0])
    assert metrics["epochs"][1]["val_nelbo"] < metrics["epochs"][0]["val_nelbo"]  # it learned something
    assert len(metrics["steps"]) >= 10
    assert sorted(manager.sample_grids(job_id)) == [1, 2]
    assert "epoch 2/2" in manager.log_tail(job_id)
    registry = ModelRegistry(checkpoints_dir=ROOT / "checkpoints", runs_dir=manager.runs_dir, device="cpu")
    assert f"run-{job_id}" in registry.names("vae")
    vae = registry.load(f"run-{job_id}")
    import torch
    assert vae.decode(torch.zeros(1, 20)).shape == (1, 1, 28, 28)


def test_cancel_stops_within_the_bound_and_keeps_the_last_checkpoint(manager):
    job_id = manager.submit_settings(LONG_VAE, OWNER)
    wait_for(lambda: manager.status(job_id)["epochs_done"] >= 1, what="a first epoch")
    with pytest.raises(ValueError, match="Only the person who started"):
        manager.cancel(job_id, "someone-else")
    started = time.perf_counter()
    status = manager.cancel(job_id, OWNER)
    took = time.perf_counter() - started
    assert status == "cancelled"
    assert took < manager.grace_s + 1.0, f"cancel took {took:.2f}s"
    view = manager.status(job_id)
    assert view["has_checkpoint"] and view["can_resume"] and view["epochs_done"] < 100
    assert JobFolder(manager.runs_dir, job_id).saved_epochs() >= 1


def test_a_hung_job_is_killed_after_the_grace_period(manager):
    job_id = manager.submit_settings(LONG_VAE, OWNER)
    wait_for(lambda: manager.status(job_id)["epochs_done"] >= 1, what="a first epoch")
    pid = JobFolder(manager.runs_dir, job_id).record()["pid"]
    os.kill(pid, signal.SIGSTOP)  # a hung step: the process can no longer look at its stop flag
    started = time.perf_counter()
    status = manager.cancel(job_id, OWNER)
    took = time.perf_counter() - started
    assert status == "cancelled"
    assert manager.grace_s <= took < manager.grace_s + 1.5
    assert manager.status(job_id)["has_checkpoint"]


def test_a_crash_in_the_child_gives_failed_with_the_error(manager, tmp_path):
    broken = tmp_path / "broken-fashion"
    broken.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (broken / name).write_bytes(b"this is not an IDX file")
    train_config = TrainConfig(dataset="fashion-mnist", epochs=1, data_dir=str(broken))
    job_id = manager.submit("vae", VAEConfig(hidden_dim=32), train_config, OWNER)
    view = manager.wait(job_id, timeout_s=60)
    assert view["status"] == "failed"
    assert "is not an unsigned-byte IDX file" in view["error"]
    assert "nothing was saved" in view["error"]
    assert "Traceback" in manager.log_tail(job_id)  # the details stay in the log, not in the message
    assert not view["can_resume"]
    with pytest.raises(ValueError, match="checkpoint is missing"):
        manager.resume(job_id, OWNER, epochs=1)


def test_a_job_killed_from_outside_shows_failed_with_what_it_saved(manager):
    job_id = manager.submit_settings(LONG_VAE, OWNER)
    wait_for(lambda: manager.status(job_id)["epochs_done"] >= 1, what="a first epoch")
    os.kill(JobFolder(manager.runs_dir, job_id).record()["pid"], signal.SIGKILL)
    view = wait_for(lambda: (v := manager.status(job_id))["status"] != "running" and v, what="the failure")
    assert view["status"] == "failed"
    assert "SIGKILL" in view["error"] and "last good checkpoint" in view["error"]
    assert view["has_checkpoint"] and view["can_resume"]


def test_restart_marks_running_jobs_interrupted_and_resume_continues(tmp_path):
    runs = tmp_path / "runs"
    app = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from genmodels.jobs import JobManager
        m = JobManager({str(runs)!r}, poll_s=0.2)
        print(m.submit_settings({LONG_VAE!r}, {OWNER!r}), flush=True)
        time.sleep(600)
    """)
    # A separate "app" process owns the job; killing it is an app crash or restart.
    app_proc = subprocess.Popen([sys.executable, "-c", app], stdout=subprocess.PIPE, text=True)
    try:
        job_id = app_proc.stdout.readline().strip()
        folder = JobFolder(runs, job_id)
        wait_for(lambda: len(folder.metrics()["epochs"]) >= 2, what="two epochs")
        app_proc.kill()
        app_proc.wait()
        # The orphaned job notices its app is gone and stops within a step.
        wait_for(lambda: folder.progress().get("outcome"), timeout_s=15, what="the orphan to stop")
    finally:
        app_proc.kill()
    manager = JobManager(runs, poll_s=0.2)
    try:
        # At most one supervisor tick later (the orphan may still be exiting when the app starts).
        view = wait_for(lambda: (v := manager.status(job_id))["status"] != "running" and v, timeout_s=10,
                        what="the restarted manager to relabel the job")
        assert view["status"] == "interrupted"
        assert "app stopped" in view["error"]
        saved = folder.saved_epochs()
        assert saved >= 2 and view["can_resume"]
        before = manager.metrics(job_id)["epochs"][:saved]
        manager.resume(job_id, OWNER, epochs=2)
        view = manager.wait(job_id, timeout_s=120)
        assert view["status"] == "done", manager.log_tail(job_id)
        assert view["epochs_done"] == saved + 2 == view["target_epochs"]
        after = manager.metrics(job_id)["epochs"]
        assert [m["epoch"] for m in after] == list(range(1, saved + 3))
        assert after[:saved] == before  # the curve continues; earlier epochs are untouched
        assert folder.saved_epochs() == saved + 2
        from genmodels.checkpoints import read_config
        assert len(read_config(folder.checkpoint)["history"]) == saved + 2  # the trainer's history continues too
    finally:
        manager.close()


def test_limits_and_bad_settings_give_clear_messages(tmp_path):
    manager = JobManager(tmp_path / "runs", max_concurrent=1, max_queue=1, max_epochs=100, poll_s=0.2)
    try:
        for settings, message in [
            (dict(TINY_VAE, epochs="ten"), "Epochs must be a whole number"),
            (dict(TINY_VAE, epochs=0), "Epochs must be between 1 and 100"),
            (dict(TINY_VAE, epochs=500), "Epochs must be between 1 and 100"),
            (dict(TINY_VAE, lr="fast"), "Learning rate must be a number"),
            (dict(TINY_VAE, hidden_size=2.5), "Hidden size must be a whole number"),
            (dict(TINY_VAE, dataset="imagenet"), "Unknown data set"),
            (dict(TINY_VAE, dataset="mnist"), "not available here"),
            (dict(TINY_VAE, model="gan"), "model must be 'vae' or 'rnn'"),
            (dict(TINY_VAE, colour="red"), "Unknown setting"),
            ({"model": "rnn", "cell": "transformer"}, "cell must be one of"),
        ]:
            with pytest.raises(ValueError, match=message):
                manager.submit_settings(settings, OWNER)
        first = manager.submit_settings(LONG_VAE, OWNER)
        second = manager.submit_settings(TINY_VAE, OWNER)
        assert manager.status(second)["status"] == "queued"  # one at a time: the second waits
        with pytest.raises(ValueError, match="queue is full"):
            manager.submit_settings(TINY_VAE, OWNER)
        with pytest.raises(ValueError, match="Only the person who started"):
            manager.resume(first, "intruder", epochs=1)
        assert manager.cancel(second, OWNER) == "cancelled"  # a queued job is dropped at once
        assert manager.cancel(first, OWNER) == "cancelled"
        with pytest.raises(ValueError, match="checkpoint is missing"):
            manager.resume(second, OWNER, epochs=1)
        with pytest.raises(ValueError, match="not a job id"):
            manager.status("../etc")
    finally:
        manager.close()
    off = JobManager(tmp_path / "runs-off", enabled=False, supervise=False)
    with pytest.raises(ValueError, match="Training is turned off"):
        off.submit_settings(TINY_VAE, OWNER)


def test_rnn_settings_and_defaults():
    model_type, model_config, train_config = configs_from_settings({"model": "RowRNN", "cell": "gru", "epochs": "3"})
    assert model_type == "rnn" and model_config.cell == "gru" and model_config.hidden_size == 128
    assert train_config.epochs == 3
    _, vae_config, _ = configs_from_settings({"model": "vae"})
    assert vae_config.latent_dim == 20 and vae_config.hidden_dim == 400


def test_cli_background_matches_the_direct_cli(tmp_path):
    args = ["rnn", "--dataset", "mnist-5k", "--epochs", "1", "--hidden-size", "16", "--batch-size", "256",
            "--device", "cpu"]
    env = dict(os.environ, LATENT_LAB_RUNS_DIR=str(tmp_path / "runs"), OMP_NUM_THREADS="1")
    direct = subprocess.run([sys.executable, "-m", "genmodels.train", *args, "--out", str(tmp_path / "direct")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert direct.returncode == 0, direct.stderr
    background = subprocess.run([sys.executable, "-m", "genmodels.train", *args, "--out", str(tmp_path / "bg"),
                                 "--background"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert background.returncode == 0, background.stderr
    assert "listed as run-" in background.stderr
    from genmodels.checkpoints import read_config
    a, b = read_config(tmp_path / "direct"), read_config(tmp_path / "bg")
    assert a["model"] == b["model"] and a["epochs_trained"] == b["epochs_trained"] == 1
    assert b["metrics"]["val_accuracy"] == pytest.approx(a["metrics"]["val_accuracy"], abs=0.01)
    assert b["metrics"]["val_loss"] == pytest.approx(a["metrics"]["val_loss"], rel=1e-3)
    listed = ModelRegistry(checkpoints_dir=ROOT / "checkpoints", runs_dir=tmp_path / "runs").names("rnn")
    assert any(name.startswith("run-") for name in listed)
