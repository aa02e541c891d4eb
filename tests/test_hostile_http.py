"""What a visitor sees over HTTP: no traceback or server path in any response, message or log
tail, and every response carries X-Content-Type-Options: nosniff.

Leaks are checked (the runs folder, the project, sys.prefix, "Traceback", 'File "') on: the page
and its config, an unknown job id of the right shape on /job, /cancel and /resume, a run whose
checkpoint is broken but still listed (its weights or its latent analysis damaged) on every
explorer endpoint, /jobs, a failing job's /job and a diverging job's /job.
"""

import json

import httpx
import pytest
from hostile import (ServedApp, ServerLog, api_call, copy_shipped_run, error_sentence, file_data, leaks, upload,
                     wait_for_view)

from jobs import HostLimits
from jobs.runner import hash_token

Z = json.dumps([0.0] * 20)
OWNER = "http-leak-owner-token"
UNKNOWN = "20000101-000000-abcd"
BROKEN_WEIGHTS, BROKEN_LATENT, GOOD = "20250101-000000-0b0a", "20250101-000000-0b1a", "20250101-000000-0600"
# Consistent digests, wrong content: what a run saved by another version of the app could look like.
SHORT_LATENT, WRONG_SHAPES = "20250101-000000-0c1a", "20250101-000000-0c0a"


# -- nosniff ------------------------------------------------------------------------------------
def test_every_kind_of_response_says_nosniff(live_app):
    with httpx.Client(base_url=live_app, timeout=120) as client:
        responses = {"page": client.get("/"), "config": client.get("/config"), "api info": client.get("/gradio_api/info"),
                     "not found": client.get("/no-such-page")}
        posted = client.post("/gradio_api/call/decode", json={"data": [[0.0] * 20, "vae-mnist"]})
        responses["api call"] = posted
        streamed = client.get(f"/gradio_api/call/decode/{posted.json()['event_id']}")
        responses["api stream"] = streamed
        image_url = [line for line in streamed.text.splitlines() if line.startswith("data:")][-1]
        responses["served file"] = client.get(json.loads(image_url[5:])[0]["url"])
        responses["refused body"] = client.post("/gradio_api/call/decode", content="{not json",
                                                headers={"content-type": "application/json"})
    status, path = upload(live_app, "page.html", b"<html><script>alert(1)</script></html>")
    assert status == 200
    responses["uploaded html"] = httpx.get(f"{live_app}/gradio_api/file={path}", timeout=60)
    for what, response in responses.items():
        assert response.headers.get("x-content-type-options") == "nosniff", (what, response.status_code)
    # An uploaded HTML file is never served as a page of this site.
    uploaded = responses["uploaded html"]
    assert "text/html" not in uploaded.headers.get("content-type", "") or "attachment" in uploaded.headers.get(
        "content-disposition", "")


# -- leaks --------------------------------------------------------------------------------------
def _rewrite_tensors(folder, name, change):
    """Rewrite a tensor file of a checkpoint through `change(tensors)` and record its new SHA-256 in config.json."""
    import hashlib

    from safetensors.torch import load_file, save_file

    path = folder / name
    tensors = change(load_file(str(path)))
    path.unlink()
    save_file(tensors, str(path))
    config = json.loads((folder / "config.json").read_text())
    config["files"][name] = hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "config.json").unlink()
    (folder / "config.json").write_text(json.dumps(config))


def _break(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.unlink()  # a copy of a shipped file: never write through to it
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The app over a runs folder holding a good run and two listed runs with broken checkpoints."""
    runs = tmp_path_factory.mktemp("hostile-http") / "runs"
    for job_id in (GOOD, BROKEN_WEIGHTS, BROKEN_LATENT, SHORT_LATENT, WRONG_SHAPES):
        copy_shipped_run(runs, job_id, owner=hash_token(OWNER))
    _break(runs / BROKEN_WEIGHTS / "checkpoint" / "model.safetensors")
    _break(runs / BROKEN_LATENT / "checkpoint" / "latent.safetensors")
    _rewrite_tensors(runs / SHORT_LATENT / "checkpoint", "latent.safetensors",
                     lambda t: {k: v for k, v in t.items() if k != sorted(t)[0]})
    _rewrite_tensors(runs / WRONG_SHAPES / "checkpoint", "model.safetensors",
                     lambda t: {k: v[..., :1].contiguous() if v.ndim else v for k, v in t.items()})
    with ServedApp(runs, HostLimits(max_concurrent=1, max_queue=2)) as served:
        yield served


def job_view(url: str, job_id: str) -> dict:
    """Return the /job view of `job_id` as a visitor (not its owner) sees it; status "unreadable" when the call fails."""
    event, data = api_call(url, "job", f'["{job_id}", ""]')
    return data[0] if event == "complete" else {"status": "unreadable", "error": f"{event}: {str(data)[:200]}"}


def stopped(view: dict) -> bool:
    """Whether a job's view says it has stopped (neither queued, running, nor unreadable)."""
    return view["status"] not in ("queued", "running", "unreadable")


def _digit_path(url) -> str:
    import io

    from PIL import Image, ImageDraw
    image = Image.new("L", (64, 64), 255)
    ImageDraw.Draw(image).line([(32, 8), (32, 56)], fill=0, width=7)
    out = io.BytesIO()
    image.save(out, format="PNG")
    status, path = upload(url, "digit.png", out.getvalue())
    assert status == 200
    return path


def test_the_page_and_its_config_show_no_server_paths(planted):
    for path in ("/", "/config", "/gradio_api/info"):
        response = httpx.get(planted.url + path, timeout=60)
        assert response.status_code == 200
        assert not leaks(response.text, planted.runs_dir), path


def test_server_files_are_not_served(planted):
    """Only Gradio's own cache is served: not the system, the project, nor a job's files (its log is the owner's)."""
    from hostile import ROOT

    targets = ["/etc/passwd", ROOT / "app.py", ROOT / "checkpoints" / "vae-mnist" / "config.json",
               planted.runs_dir / GOOD / "job.json", planted.runs_dir / GOOD / "checkpoint" / "model.safetensors",
               planted.runs_dir / ".browser_secret", "../../../../etc/passwd"]
    for target in targets:
        for prefix in ("/gradio_api/file=", "/file="):
            response = httpx.get(f"{planted.url}{prefix}{target}", timeout=60)
            assert response.status_code in (403, 404), (prefix, target, response.status_code)
            assert "import" not in response.text and "model_type" not in response.text  # (the 403 echoes the path)


@pytest.mark.parametrize("name, raw", [
    ("job", f'["{UNKNOWN}", ""]'), ("job", f'["{UNKNOWN}", "{OWNER}"]'), ("cancel", f'["{UNKNOWN}", "{OWNER}"]'),
    ("resume", f'["{UNKNOWN}", "{OWNER}", 1]'),
])
def test_an_unknown_job_id_of_the_right_shape_gets_a_sentence(planted, name, raw):
    message = error_sentence(*api_call(planted.url, name, raw))
    assert UNKNOWN in message and not leaks(message, planted.runs_dir), message


@pytest.mark.parametrize("job_id", [
    BROKEN_WEIGHTS, BROKEN_LATENT, WRONG_SHAPES,
    SHORT_LATENT,
], ids=["weights", "latent analysis", "weights of wrong shapes", "latent analysis lacking a tensor"])
def test_a_listed_run_with_a_broken_checkpoint_gets_sentences_on_every_endpoint(planted, job_id, capfd):
    model = f"run-{job_id}"
    image = json.dumps(file_data(_digit_path(planted.url)))
    capfd.readouterr()
    with ServerLog() as log:
        for name, raw in [("decode", f'[{Z}, "{model}"]'), ("sample", f'["{model}", 1]'),
                          ("reconstruct", f'[{image}, "{model}"]'), ("classify", f'[{image}, "{model}"]')]:
            message = error_sentence(*api_call(planted.url, name, raw))
            assert not leaks(message, planted.runs_dir), (name, message)
    assert not log.tracebacks(), log.tracebacks()
    assert "Traceback" not in capfd.readouterr().err
    for name, raw in [("job", f'["{job_id}", "{OWNER}"]'), ("jobs", "[]")]:
        event, data = api_call(planted.url, name, raw)
        assert event == "complete" and not leaks(data, planted.runs_dir), (name, data)
    event, data = api_call(planted.url, "decode", f'[{Z}, "run-{GOOD}"]')  # the good run beside it still works
    assert event == "complete", data


@pytest.mark.slow
def test_a_failing_job_shows_a_sentence_and_no_log_to_others(planted, tmp_path):
    from genmodels.train import TrainConfig
    from genmodels.vae import VAEConfig

    broken = tmp_path / "broken-fashion"  # the data set's files are not what they claim: the job fails
    broken.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (broken / name).write_bytes(b"this is not an IDX file")
    job_id = planted.lab.jobs.submit("vae", VAEConfig(hidden_size=32),
                                      TrainConfig(dataset="fashion-mnist", epochs=1, data_dir=str(broken)), OWNER)
    view = wait_for_view(lambda: job_view(planted.url, job_id), stopped, "the job over a broken data set to fail")
    assert view["status"] == "failed" and view["log_tail"] == ""
    assert "IDX file" in view["error"] and not leaks(view, planted.runs_dir, tmp_path), view["error"]
    event, data = api_call(planted.url, "job", f'["{job_id}", "{OWNER}"]')
    assert "IDX file" in data[0]["log_tail"] and not leaks(data, planted.runs_dir, tmp_path)
    event, data = api_call(planted.url, "jobs", "[]")
    assert not leaks(data, planted.runs_dir, tmp_path)


@pytest.mark.slow
def test_a_diverging_job_shows_a_plain_sentence(planted):
    settings = {"model": "vae", "dataset": "mnist-5k", "epochs": 3, "lr": 1.0, "beta": 20, "batch_size": 8,
                "hidden_size": 32}
    event, data = api_call(planted.url, "train", json.dumps([settings, OWNER]))
    assert event == "complete", data
    job_id = data[0]
    view = wait_for_view(lambda: job_view(planted.url, job_id), stopped, "the diverging job to fail")
    assert view["status"] == "failed" and view["error"].startswith("Training diverged at epoch")
    assert view["log_tail"] == "" and not leaks(view, planted.runs_dir)
    event, data = api_call(planted.url, "job", f'["{job_id}", "{OWNER}"]')
    assert "Training diverged" in data[0]["log_tail"] and not leaks(data, planted.runs_dir)
