"""The job runner with real short jobs on mnist-5k: done, cancel, crash, external kill, restart + resume,
limits, retention, divergence, and checkpoints left renamed aside by a killed save.

Tests wait for events (a status, an epoch on disk), never for wall-clock bounds."""

import os
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hostile import wait_for, wait_for_view, wait_job

from genmodels.registry import ModelRegistry
from genmodels.train import TrainConfig
from genmodels.vae import VAEConfig
from jobs import HostLimits, JobRunner
from jobs.records import JobFolder, read_metrics
from jobs.settings import configs_from_settings

ROOT = Path(__file__).resolve().parent.parent
OWNER = "owner-token-1"
TINY_VAE = {"model": "vae", "dataset": "mnist-5k", "epochs": 2, "hidden_size": 32, "batch_size": 256}
LONG_VAE = dict(TINY_VAE, epochs=100)  # long enough to still be running when cancelled


def runner_over(runs, **limits) -> JobRunner:
    return JobRunner(runs, HostLimits(**limits), poll_s=0.2)


@pytest.fixture
def manager(tmp_path):
    m = runner_over(tmp_path / "runs")
    yield m
    m.close(stop_jobs=True)


@pytest.mark.slow
def test_short_job_runs_to_done_with_metrics_on_disk(manager):
    job_id = manager.submit_settings(TINY_VAE, OWNER)
    assert manager.status(job_id)["status"] in ("queued", "running")
    view = wait_job(manager, job_id)
    assert view["status"] == "done", manager.log_tail(job_id)
    assert view["epochs_done"] == 2 and view["fraction"] == 1.0
    assert view["figures"]["val_nelbo"] > 0
    metrics = manager.metrics(job_id)
    assert [m["epoch"] for m in metrics["epochs"]] == [1, 2]
    assert {"train_recon", "train_kl", "val_nelbo", "val_recon", "val_kl"} <= set(metrics["epochs"][0])
    assert metrics["epochs"][1]["val_nelbo"] < metrics["epochs"][0]["val_nelbo"]  # it learned something
    assert len(metrics["steps"]) >= 10
    assert sorted(manager.sample_grids(job_id)) == [1, 2]
    assert "epoch 2/2" in manager.log_tail(job_id, OWNER)
    assert manager.log_tail(job_id, "not-the-owner") == ""
    registry = ModelRegistry(checkpoints_dir=ROOT / "checkpoints", extra_folders=manager.checkpoint_folders,
                             device="cpu")
    assert f"run-{job_id}" in registry.names("vae")
    vae = registry.load(f"run-{job_id}")
    import torch
    assert vae.decode(torch.zeros(1, 20)).shape == (1, 1, 28, 28)


@pytest.mark.slow
def test_cancel_stops_within_the_bound_and_keeps_the_last_checkpoint(manager):
    job_id = manager.submit_settings(LONG_VAE, OWNER)
    wait_for_view(lambda: manager.status(job_id), lambda v: v["epochs_done"] >= 1, "the long job's first epoch")
    with pytest.raises(ValueError, match="Only the person who started"):
        manager.cancel(job_id, "someone-else")
    assert manager.cancel(job_id, OWNER) == "cancelled"
    view = manager.status(job_id)
    assert view["has_checkpoint"] and view["can_resume"] and view["epochs_done"] < 100
    assert JobFolder(manager.runs_dir, job_id).saved_epochs() >= 1


@pytest.mark.slow
@pytest.mark.extended  # a host failure mode: make test-all
def test_a_hung_job_is_killed_after_the_grace_period(manager):
    job_id = manager.submit_settings(LONG_VAE, OWNER)
    wait_for_view(lambda: manager.status(job_id), lambda v: v["epochs_done"] >= 1, "the long job's first epoch")
    pid = JobFolder(manager.runs_dir, job_id).record()["pid"]
    os.kill(pid, signal.SIGSTOP)  # a hung step: the process can no longer look at its stop flag
    assert manager.cancel(job_id, OWNER) == "cancelled"  # killed: it could not look at its stop flag
    assert manager.status(job_id)["has_checkpoint"]


@pytest.mark.slow
def test_a_crash_in_the_child_gives_failed_with_the_error(manager, tmp_path):
    broken = tmp_path / "broken-fashion"
    broken.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (broken / name).write_bytes(b"this is not an IDX file")
    train_config = TrainConfig(dataset="fashion-mnist", epochs=1, data_dir=str(broken))
    job_id = manager.submit("vae", VAEConfig(hidden_size=32), train_config, OWNER)
    view = wait_job(manager, job_id)
    assert view["status"] == "failed"
    assert "is not an unsigned-byte IDX file" in view["error"]
    assert "nothing was saved" in view["error"]
    log_tail = manager.log_tail(job_id, OWNER)
    assert "is not an unsigned-byte IDX file" in log_tail
    assert "Traceback" not in log_tail and str(tmp_path) not in log_tail  # details stay in the server's log
    assert not view["can_resume"]
    with pytest.raises(ValueError, match="checkpoint is missing"):
        manager.resume(job_id, OWNER, epochs=1)


@pytest.mark.slow
def test_a_job_killed_from_outside_shows_failed_with_what_it_saved(manager):
    job_id = manager.submit_settings(LONG_VAE, OWNER)
    wait_for_view(lambda: manager.status(job_id), lambda v: v["epochs_done"] >= 1, "the long job's first epoch")
    os.kill(JobFolder(manager.runs_dir, job_id).record()["pid"], signal.SIGKILL)
    view = wait_for_view(lambda: manager.status(job_id), lambda v: v["status"] != "running",
                         "the job killed from outside to stop running")
    assert view["status"] == "failed"
    assert "SIGKILL" in view["error"] and "last good checkpoint" in view["error"]
    assert view["has_checkpoint"] and view["can_resume"]


@pytest.mark.slow
@pytest.mark.extended  # a host failure mode: make test-all
def test_restart_marks_running_jobs_interrupted_and_resume_continues(tmp_path):
    runs = tmp_path / "runs"
    app = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from jobs import JobRunner
        m = JobRunner({str(runs)!r}, poll_s=0.2)
        print(m.submit_settings({LONG_VAE!r}, {OWNER!r}), flush=True)
        time.sleep(600)
    """)
    # A separate "app" process owns the job; killing it is an app crash or restart.
    app_proc = subprocess.Popen([sys.executable, "-c", app], stdout=subprocess.PIPE, text=True)
    try:
        job_id = wait_for(lambda: select.select([app_proc.stdout], [], [], 0)[0] and app_proc.stdout.readline().strip(),
                          "the app process to print its job's id", last=lambda: f"exit code {app_proc.poll()}")
        folder = JobFolder(runs, job_id)
        wait_for(lambda: len(read_metrics(folder.metrics_file)["epochs"]) >= 2, "the app's job to log two epochs",
                 last=lambda: f"{len(read_metrics(folder.metrics_file)['epochs'])} epochs logged")
        app_proc.kill()
        app_proc.wait()
        # The orphaned job notices its app is gone and stops within a step.
        wait_for(lambda: folder.progress().get("outcome"), "the orphaned job to notice its app is gone and stop",
                 last=folder.progress)
    finally:
        app_proc.kill()
    manager = runner_over(runs)
    try:
        view = manager.status(job_id)  # a new app process relabels what the old one left running
        assert view["status"] == "interrupted"
        assert "app stopped" in view["error"]
        saved = folder.saved_epochs()
        assert saved >= 2 and view["can_resume"]
        before = manager.metrics(job_id)["epochs"][:saved]
        manager.resume(job_id, OWNER, epochs=2)
        view = wait_job(manager, job_id)
        assert view["status"] == "done", manager.log_tail(job_id, OWNER)
        assert view["epochs_done"] == saved + 2 == view["target_epochs"]
        after = manager.metrics(job_id)["epochs"]
        assert [m["epoch"] for m in after] == list(range(1, saved + 3))
        assert after[:saved] == before  # the curve continues; earlier epochs are untouched
        assert folder.saved_epochs() == saved + 2
        from genmodels.checkpoints import read_config
        assert len(read_config(folder.checkpoint)["history"]) == saved + 2  # the trainer's history continues too
    finally:
        manager.close()


@pytest.mark.slow
def test_limits_and_bad_settings_give_clear_messages(tmp_path):
    manager = runner_over(tmp_path / "runs", max_concurrent=1, max_queue=1, max_epochs=100)
    try:
        for settings, message in [
            (dict(TINY_VAE, epochs="ten"), "Epochs must be a whole number"),
            (dict(TINY_VAE, epochs=0), "Epochs must be between 1 and 100"),
            (dict(TINY_VAE, epochs=500), "Epochs must be between 1 and 100"),
            (dict(TINY_VAE, lr="fast"), "Learning rate must be a number"),
            (dict(TINY_VAE, hidden_size=2.5), "Hidden size must be a whole number"),
            (dict(TINY_VAE, dataset="imagenet"), "Data set must be one of"),
            (dict(TINY_VAE, dataset="mnist"), "not available here"),
            (dict(TINY_VAE, model="gan"), "model must be one of vae, rnn"),
            (dict(TINY_VAE, colour="red"), "Unknown setting"),
            ({"model": "rnn", "cell": "transformer"}, "Cell must be one of"),
            (dict(TINY_VAE, latent_dim=65), "Latent size must be between 1 and 64"),
            (dict(TINY_VAE, latent_dim=0), "Latent size must be between 1 and 64"),
            (dict(TINY_VAE, name="x" * 41), "at most 40 characters"),
            (dict(TINY_VAE, device="foo"), "Device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"),
            (dict(TINY_VAE, device="meta"), "Device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"),
            (dict(TINY_VAE, device="cuda:99"), "CUDA was requested|There is no device cuda:99"),
        ]:
            with pytest.raises(ValueError, match=message):
                manager.submit_settings(settings, OWNER)
        first = manager.submit_settings(LONG_VAE, OWNER)
        with pytest.raises(ValueError, match=f"You already have a job queued or running \\(job {first}\\)"):
            manager.submit_settings(TINY_VAE, OWNER)  # one job per owner at a time
        second = manager.submit_settings(TINY_VAE, "second-owner")
        assert manager.status(second)["status"] == "queued"  # one slot: the second waits
        with pytest.raises(ValueError, match="queue is full"):
            manager.submit_settings(TINY_VAE, "third-owner")
        with pytest.raises(ValueError, match="Only the person who started"):
            manager.resume(first, "intruder", epochs=1)
        assert manager.cancel(second, "second-owner") == "cancelled"  # a queued job is dropped at once
        assert manager.cancel(first, OWNER) == "cancelled"
        with pytest.raises(ValueError, match="checkpoint is missing"):
            manager.resume(second, "second-owner", epochs=1)
        with pytest.raises(ValueError, match="not a job id"):
            manager.status("../etc")
    finally:
        manager.close()
    off = JobRunner(tmp_path / "runs-off", HostLimits(enabled=False), supervise=False)
    with pytest.raises(ValueError, match="Training is turned off"):
        off.submit_settings(TINY_VAE, OWNER)


def test_rnn_settings_and_defaults():
    model_type, model_config, train_config = configs_from_settings({"model": "rnn", "cell": "gru", "epochs": "3"},
                                                                   max_epochs=100)
    assert model_type == "rnn" and model_config.cell == "gru" and model_config.hidden_size == 128
    assert train_config.epochs == 3
    _, vae_config, _ = configs_from_settings({"model": "vae"}, max_epochs=100)
    assert vae_config.latent_dim == 20 and vae_config.hidden_size == 400


@pytest.mark.slow
def test_no_queue_still_runs_a_job_when_a_slot_is_free(tmp_path):
    manager = runner_over(tmp_path / "runs", max_concurrent=1, max_queue=0)
    try:
        first = manager.submit_settings(LONG_VAE, OWNER)  # a free slot: accepted although nothing may wait
        assert manager.status(first)["status"] == "running"
        with pytest.raises(ValueError, match="keeps no queue"):
            manager.submit_settings(TINY_VAE, "second-owner")
        assert manager.cancel(first, OWNER) == "cancelled"
    finally:
        manager.close()


def _others_finished_runs(runs: Path, count: int, days_old: float = 0.0) -> list[str]:
    """Finished runs of `count` other owners (records only: retention never reads the weights)."""
    from jobs.records import write_json
    from jobs.runner import hash_token

    ids = []
    for i in range(count):
        job_id = f"20240101-00000{i}-000{i}"
        folder = JobFolder(runs, job_id)
        folder.path.mkdir(parents=True)
        when = time.time() - days_old * 86400
        write_json(folder.job_file, {
            "id": job_id, "name": f"owner {i}", "model_type": "vae", "model_config": {},
            "train_config": {"dataset": "mnist-5k"}, "status": "done", "owner": hash_token(f"other-owner-{i}"),
            "created": when, "queued": when, "started": when, "finished": when, "pid": None, "error": None,
            "cancel_requested": None, "target_epochs": 1, "segments": [{"epochs": 1, "resume": False}]})
        ids.append(job_id)
    return ids


@pytest.mark.slow
def test_a_cancel_loop_never_deletes_other_owners_finished_runs(tmp_path):
    """A known attack: hold the slot with one long job, then loop /train + /cancel with your own token."""
    runs = tmp_path / "runs"
    others = _others_finished_runs(runs, 3)
    # jobs_per_owner=0: the loop as it was possible before one job per owner at a time, to test retention alone
    manager = runner_over(runs, max_concurrent=1, max_queue=4, max_runs=6, runs_per_owner=3, jobs_per_owner=0)
    attacker = "attacker-token"
    try:
        holder = manager.submit_settings(LONG_VAE, attacker)
        for _ in range(12):
            spam = manager.submit_settings(TINY_VAE, attacker)
            assert manager.cancel(spam, attacker) == "cancelled"
        ids = set(manager.job_ids())
        assert set(others) <= ids  # every other owner's finished run is still there
        assert holder in ids and len(ids) <= 6
        assert sum(1 for i in ids if i not in others) <= 3  # the attacker's own quota
        assert manager.cancel(holder, attacker) == "cancelled"
    finally:
        manager.close()


def test_retention_prunes_unsuccessful_jobs_then_old_runs_and_refuses_rather_than_delete_recent_ones(tmp_path):
    runs = tmp_path / "runs"
    recent = _others_finished_runs(runs, 3)
    manager = JobRunner(runs, HostLimits(max_runs=4, runs_per_owner=2, max_queue=10, max_concurrent=0,
                                         jobs_per_owner=2), supervise=False)  # no slot: jobs stay queued
    a = manager.submit_settings(TINY_VAE, OWNER)
    assert manager.cancel(a, OWNER) == "cancelled"
    b = manager.submit_settings(TINY_VAE, OWNER)  # full (4): the cancelled job goes, never a finished run
    assert set(manager.job_ids()) == set(recent) | {b}
    with pytest.raises(ValueError, match="keeping as many training runs as it can"):
        manager.submit_settings(TINY_VAE, "someone-else")  # only recent finished runs and an active job left
    assert set(manager.job_ids()) == set(recent) | {b}
    old = JobFolder(runs, recent[0])
    record = old.record()
    record["finished"] = time.time() - 30 * 86400  # a month old: past the default keep_days of 7
    old.save_record(record)
    c = manager.submit_settings(TINY_VAE, "someone-else")
    assert set(manager.job_ids()) == set(recent[1:]) | {b, c}
    old = JobFolder(runs, recent[1])
    record = old.record()
    record["finished"] = time.time() - 30 * 86400
    old.save_record(record)
    d = manager.submit_settings(TINY_VAE, OWNER)  # the owner's second job: within their quota of 2
    with pytest.raises(ValueError, match="You already have 2 jobs"):  # both still active: nothing of theirs to prune
        manager.submit_settings(TINY_VAE, OWNER)
    assert {b, d} <= set(manager.job_ids())


@pytest.mark.slow
def test_a_diverging_run_fails_with_a_plain_sentence(manager):
    settings = {"model": "vae", "dataset": "mnist-5k", "epochs": 3, "lr": 1.0, "beta": 20, "batch_size": 8,
                "hidden_size": 32}
    job_id = manager.submit_settings(settings, OWNER)
    view = wait_job(manager, job_id)
    assert view["status"] == "failed"
    assert view["error"].startswith("Training diverged at epoch 1: the loss became nan; try a lower learning rate")
    assert "Traceback" not in manager.log_tail(job_id, OWNER)


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


@pytest.mark.slow
def test_a_writer_job_trains_and_shows_what_it_writes_each_epoch(manager):
    job_id = manager.submit_settings({"model": "writer", "dataset": "mnist-5k", "epochs": 1, "hidden_size": 16,
                                      "batch_size": 512}, OWNER)
    view = wait_job(manager, job_id)
    assert view["status"] == "done", manager.log_tail(job_id, OWNER)
    assert view["figures"]["val_nll"] > 0 and sorted(manager.sample_grids(job_id)) == [1]
