"""The job runner with real short jobs on mnist-5k: done, cancel, crash, external kill, restart + resume, limits,
two managers sharing a runs folder, retention, and checkpoints left renamed aside by a killed save."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from genmodels.jobs import JobManager
from genmodels.jobs_record import JobFolder
from genmodels.jobs_settings import configs_from_settings
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
            (dict(TINY_VAE, latent_dim=64), "Latent size must be between 2 and 20"),
            (dict(TINY_VAE, latent_dim=1), "Latent size must be between 2 and 20"),
            (dict(TINY_VAE, device="foo"), "Device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"),
            (dict(TINY_VAE, device="meta"), "Device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"),
            (dict(TINY_VAE, device="cuda:99"), "CUDA was requested|There is no device cuda:99"),
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


def test_training_off_and_limits_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_LAB_TRAINING", "off")
    monkeypatch.setenv("LATENT_LAB_MAX_JOBS", "2")
    monkeypatch.setenv("LATENT_LAB_MAX_QUEUE", "0")
    monkeypatch.setenv("LATENT_LAB_MAX_EPOCHS", "7")
    monkeypatch.setenv("LATENT_LAB_MAX_RUNS", "9")
    manager = JobManager.from_env(tmp_path / "runs", supervise=False)
    assert not manager.enabled
    assert (manager.max_concurrent, manager.max_queue, manager.max_epochs, manager.max_runs) == (2, 0, 7, 9)
    with pytest.raises(ValueError, match=r"Training is turned off on this server \(LATENT_LAB_TRAINING=off\)"):
        manager.submit_settings(TINY_VAE, OWNER)
    assert manager.job_ids() == []  # nothing was written
    monkeypatch.setenv("LATENT_LAB_TRAINING", "on")
    with pytest.raises(ValueError, match="Epochs must be between 1 and 7"):
        JobManager.from_env(tmp_path / "runs", supervise=False).submit_settings(dict(TINY_VAE, epochs=8), OWNER)


def test_no_queue_still_runs_a_job_when_a_slot_is_free(tmp_path):
    manager = JobManager(tmp_path / "runs", max_concurrent=1, max_queue=0, poll_s=0.2)
    try:
        first = manager.submit_settings(LONG_VAE, OWNER)  # a free slot: accepted although nothing may wait
        assert manager.status(first)["status"] == "running"
        with pytest.raises(ValueError, match="keeps no queue"):
            manager.submit_settings(TINY_VAE, OWNER)
        assert manager.cancel(first, OWNER) == "cancelled"
    finally:
        manager.close()


def test_old_finished_runs_are_deleted_beyond_the_limit_but_never_active_ones(tmp_path):
    manager = JobManager(tmp_path / "runs", max_concurrent=1, max_queue=10, max_runs=3, poll_s=0.2)
    try:
        active = manager.submit_settings(LONG_VAE, OWNER)  # the oldest job, and it keeps running
        old, newer = (manager.submit_settings(TINY_VAE, OWNER) for _ in range(2))
        assert manager.cancel(old, OWNER) == manager.cancel(newer, OWNER) == "cancelled"  # finished, never ran
        assert set(manager.job_ids()) == {active, old, newer}  # at the limit: nothing deleted yet
        fourth = manager.submit_settings(TINY_VAE, OWNER)
        assert set(manager.job_ids()) == {active, newer, fourth}  # the oldest finished one went
        assert not (manager.runs_dir / old).exists()
        fifth = manager.submit_settings(TINY_VAE, OWNER)
        assert set(manager.job_ids()) == {active, fourth, fifth}
        sixth = manager.submit_settings(TINY_VAE, OWNER)  # only active jobs are left: none is deleted
        assert set(manager.job_ids()) == {active, fourth, fifth, sixth}
        assert manager.status(active)["status"] == "running"
        assert not [p.name for p in manager.runs_dir.iterdir() if p.name.startswith(".deleted-")]
        for job_id in (sixth, fifth, fourth, active):
            assert manager.cancel(job_id, OWNER) == "cancelled"
    finally:
        manager.close()


def test_two_managers_share_a_runs_folder_and_each_runs_and_stops_only_its_own(tmp_path):
    runs = tmp_path / "runs"
    app = JobManager(runs, poll_s=0.2)
    cli = JobManager(runs, kind="cli", poll_s=0.2)  # what `python -m genmodels.train ... --background` uses
    try:
        cli_job = cli.submit_settings(LONG_VAE, "cli-owner-token")
        cli_folder = JobFolder(runs, cli_job)
        assert cli_folder.record()["runner"]["id"] == cli.runner["id"]
        assert cli.status(cli_job)["status"] == "running"
        app_job = app.submit_settings(TINY_VAE, OWNER)
        app_folder = JobFolder(runs, app_job)
        assert app.status(app_job)["status"] == "queued"  # one slot, taken by the CLI's job

        # The app restarts: the CLI's job runs on, untouched, and the app's job waits.
        app.close(stop_jobs=True)
        app = JobManager(runs, poll_s=0.2)
        time.sleep(1.0)  # a few supervisor looks of both managers
        assert cli.status(cli_job)["status"] == "running"
        assert app.status(app_job)["status"] == "queued"

        # The slot frees up: the app's manager, never the CLI's, starts the app's job.
        wait_for(lambda: cli.status(cli_job)["epochs_done"] >= 1, what="the CLI job's first epoch")
        assert cli.cancel(cli_job, "cli-owner-token") == "cancelled"
        wait_for(lambda: app.status(app_job)["status"] != "queued", timeout_s=10, what="the app job to start")
        assert app_folder.record()["runner"]["id"] == app.runner["id"]
        assert app_folder.record()["runner"]["kind"] == "app"

        # The CLI run ends: its manager stops nothing but its own job, so the app's job runs to done.
        cli.close(stop_jobs=True)
        view = app.wait(app_job, timeout_s=120)
        assert view["status"] == "done", app.log_tail(app_job)
        assert cli.status(cli_job)["status"] == "cancelled" and cli.status(cli_job)["can_resume"]
    finally:
        app.close()
        cli.close()


def test_a_checkpoint_left_renamed_aside_by_a_killed_save_still_counts(tmp_path):
    from genmodels.checkpoints import read_config

    folder = JobFolder(tmp_path / "runs", "20250101-120000-abcd")
    folder.path.mkdir(parents=True)
    # A save killed between its two renames: the previous checkpoint sits renamed aside, the new
    # one's staging folder is left behind, and checkpoint/ itself is missing.
    shutil.copytree(ROOT / "checkpoints" / "vae-mnist", folder.path / ".checkpoint.old-1a2b3c4d")
    (folder.path / ".checkpoint.tmp-5e6f7a8b").mkdir()
    expected = read_config(folder.path / ".checkpoint.old-1a2b3c4d")["epochs_trained"]
    assert expected >= 1
    assert folder.saved_epochs() == expected
    folder.tidy_checkpoint()  # what the manager does once the job's process is gone
    assert sorted(p.name for p in folder.path.iterdir()) == ["checkpoint"]
    assert folder.saved_epochs() == expected
