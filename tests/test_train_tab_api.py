"""The Train tab's API through gradio_client: launch, follow to done, open in the explorer, cancel, errors,
and training turned off (LATENT_LAB_TRAINING=off) on an app of its own."""

import time

import pytest
from conftest import run_folders
from gradio_client import Client

from genmodels.registry import ModelRegistry

TOKEN = "api-test-owner-token"
SHORT = {"model": "vae", "dataset": "mnist-5k", "epochs": 2, "hidden_size": 32, "batch_size": 256}


@pytest.fixture(scope="module")
def client(live_app):
    return Client(live_app, verbose=False)


def follow(client, job_id, until, timeout_s=300):
    """Poll /job (as the owner, so the log tail comes too) until `until(view)`; the timeout only ends a hang."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        view = client.predict(job_id, TOKEN, api_name="/job")
        if until(view):
            return view
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not get there in {timeout_s}s; last view: {view}")


@pytest.mark.slow
def test_launch_follow_to_done_and_decode_with_it_in_the_explorer(client, live_app, runs_dir):
    job_id = client.predict(SHORT, TOKEN, api_name="/train")
    seen = set()
    view = follow(client, job_id, lambda v: seen.add(v["status"]) or v["status"] not in ("queued", "running"))
    assert view["status"] == "done", view["log_tail"]
    assert "running" in seen or "queued" in seen
    assert view["epochs_done"] == 2 and view["fraction"] == 1.0
    assert [m["epoch"] for m in view["metrics"]["epochs"]] == [1, 2]
    assert view["metrics"]["epochs"][-1]["val_kl"] > 0 and view["sample_epochs"] == [1, 2]
    name = f"run-{job_id}"
    assert view["name"] == name
    # The explorer decodes with the new checkpoint by name.
    image = client.predict([0.0] * 20, name, api_name="/decode")
    from PIL import Image
    assert Image.open(image).size[0] >= 28
    # The same checkpoint as the registry sees it, read from the job's folder.
    entry = ModelRegistry(extra_folders=run_folders(runs_dir), device="cpu").entry(name)
    assert entry.epochs_trained == 2 and entry.model_type == "vae"


@pytest.mark.slow
def test_cancel_only_by_the_owner(client):
    job_id = client.predict(dict(SHORT, epochs=100), TOKEN, api_name="/train")
    follow(client, job_id, lambda v: v["status"] == "running" and v["epochs_done"] >= 1)
    with pytest.raises(Exception, match="Only the person who started"):
        client.predict(job_id, "not-the-owner-token", api_name="/cancel")
    assert client.predict(job_id, TOKEN, api_name="/cancel") == "cancelled"
    view = client.predict(job_id, api_name="/job")
    assert view["status"] == "cancelled" and view["has_checkpoint"] and view["can_resume"]
    # Resume continues from the saved optimizer state for one more epoch, and runs to done.
    done_before = view["epochs_done"]
    assert client.predict(job_id, TOKEN, 1, api_name="/resume") == job_id
    view = follow(client, job_id, lambda v: v["status"] == "done")
    assert view["epochs_done"] == done_before + 1


@pytest.mark.parametrize("settings, token, message", [
    (dict(SHORT, epochs="many"), TOKEN, "Epochs must be a whole number"),
    (dict(SHORT, epochs=100000), TOKEN, "Epochs must be between 1 and"),
    (dict(SHORT, dataset="mnist"), TOKEN, "not available here"),
    (dict(SHORT, lr=-1), TOKEN, "Learning rate must be between"),
    (SHORT, "short", "owner_token must be a secret string"),
    (dict(SHORT, latent_dim=65), TOKEN, "Latent size must be between 1 and 64"),
    (dict(SHORT, device="foo"), TOKEN, "Device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"),
])
def test_bad_requests_get_clear_messages(client, settings, token, message):
    with pytest.raises(Exception, match=message):
        client.predict(settings, token, api_name="/train")


@pytest.mark.slow
def test_unknown_job_and_missing_checkpoint(client):
    with pytest.raises(Exception, match="There is no job"):
        client.predict("20000101-000000-abcd", api_name="/job")
    with pytest.raises(Exception, match="not a job id"):
        client.predict("../../etc/passwd", api_name="/job")
    # A queued job cancelled before it ever ran has nothing to resume from.
    blocker = client.predict(dict(SHORT, epochs=100), TOKEN, api_name="/train")
    queued = client.predict(SHORT, TOKEN, api_name="/train")
    assert client.predict(queued, api_name="/job")["status"] == "queued"
    assert client.predict(queued, TOKEN, api_name="/cancel") == "cancelled"
    with pytest.raises(Exception, match="checkpoint is missing"):
        client.predict(queued, TOKEN, 2, api_name="/resume")
    assert client.predict(blocker, TOKEN, api_name="/cancel") == "cancelled"
    listed = {v["id"]: v["status"] for v in client.predict(api_name="/jobs")}
    assert listed[queued] == "cancelled" and listed[blocker] == "cancelled"


def test_training_turned_off_gives_a_clear_message(tmp_path, monkeypatch):
    # Its own small app: the session's live_app was built with training on.
    import app
    from conftest import free_port

    monkeypatch.setenv("LATENT_LAB_TRAINING", "off")
    runs = tmp_path / "runs"
    demo = app.build_app(runs_dir=runs, limits=app.limits_from_env())
    app.serve(demo, server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        off = Client(demo.local_url, verbose=False)
        with pytest.raises(Exception, match=r"Training is turned off on this server"):
            off.predict(SHORT, TOKEN, api_name="/train")
        assert off.predict(api_name="/jobs") == []  # nothing was queued
    finally:
        demo.close()
