"""The Train tab's events, /job's token and a warm worker whose app is gone: bad input gets one sentence, the
log gets no traceback and no echo of a large value."""

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import gradio as gr
import pytest

from hostile import ServerLog, wait_for

from ui.errors import user_errors

ROOT = Path(__file__).resolve().parent.parent
BIG = "x" * 200_000
TOKEN = "page-event-owner-token"


def form_values(page, **changes) -> dict:
    """Return the Launch button's raw values (each input's default), with `changes` by setting key."""
    form = page.form
    values = {c: c.value for c in [form.model, form.name, *form.common.values(), page.owner]}
    values.update({c: c.value for inputs in form.per_model.values() for c in inputs.values()})
    values.update({form.name: "", page.owner: TOKEN})
    for key, value in changes.items():
        component = form.model if key == "model" else form.name if key == "name" else form.common[key]
        values[component] = value
    return values


def one_sentence(call) -> str:
    """Run `call`, which must raise gr.Error; return its message after checking it is one short sentence."""
    with pytest.raises(gr.Error) as raised:
        call()
    message = str(raised.value.message)
    assert message.strip() and len(message) <= 400 and "\n" not in message and "Something went wrong" not in message, \
        message
    return message


@pytest.mark.parametrize("model", [None, "NaN", math.nan, ["vae"], {"model": "vae"}, BIG, 3],
                         ids=["None", "NaN text", "NaN", "list", "dict", "200 kB", "number"])
def test_the_launch_event_answers_a_bad_model_with_a_sentence_and_no_traceback(train_page, model):
    with ServerLog() as log:
        message = one_sentence(lambda: user_errors(train_page.on_launch)(form_values(train_page, model=model)))
    assert "Choose a model" in message
    assert not log.tracebacks(), log.tracebacks()
    assert not any(len(r.getMessage()) > 2000 for r in log.records), "a large value was echoed into the log"


def test_job_strips_the_tokens_spaces_as_cancel_and_resume_do(tmp_path):
    from hostile import ServedApp, api_call, copy_shipped_run

    from jobs import HostLimits
    from jobs.records import JobFolder
    from jobs.runner import hash_token

    job_id = "20250101-000000-5a5a"
    runs = tmp_path / "runs"
    copy_shipped_run(runs, job_id, owner=hash_token(TOKEN))
    JobFolder(runs, job_id).log_file.write_text("epoch 1/1: val_nelbo=104\n")
    with ServedApp(runs, HostLimits()) as served:
        for token in (TOKEN, f"  {TOKEN}  ", f"\t{TOKEN}\n"):
            event, data = api_call(served.url, "job", json.dumps([job_id, token]))
            assert event == "complete" and "epoch 1/1" in data[0]["log_tail"], (repr(token), data)


@pytest.mark.extended  # a host failure mode: make test-all
def test_a_warm_worker_whose_app_is_gone_exits_without_a_traceback(tmp_path):
    """The app stops: the worker's reply pipe is closed; it finishes what it ran, then exits quietly."""
    worker = subprocess.Popen([sys.executable, "-m", "jobs.worker", "--serve", "--parent-pid", str(os.getpid())],
                              cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        assert "ready" in worker.stdout.readline()
        worker.stdout.close()  # the app is gone: nobody reads the replies
        missing = tmp_path / "runs" / "20250101-000000-0000"
        worker.stdin.write(json.dumps({"job_dir": str(missing)}) + "\n")  # it answers at once: nothing to run
        worker.stdin.flush()
        time.sleep(1.0)
        worker.stdin.close()
        wait_for(lambda: worker.poll() is not None, "the worker to exit once its app is gone", timeout_s=120)
        errors = worker.stderr.read()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors[-2000:]
