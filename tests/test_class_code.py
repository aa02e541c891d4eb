"""A class code (LATENT_LAB_CLASS_CODE): where the host sets one, starting a job needs it, over the API and on
the Train tab (typed once, then kept in the browser); a missing or wrong code gets one sentence."""

import json

import gradio as gr
import pytest

from conftest import bare_train_page
from hostile import ServedApp, ServerLog, api_call

import i18n
from jobs import HostLimits, JobRunner
from ui.errors import user_errors

CODE = "owls-of-room-12"
TINY = {"model": "vae", "dataset": "mnist-5k", "epochs": 1, "hidden_size": 32, "batch_size": 256}
TOKEN = "class-code-student-token"


@pytest.mark.slow
def test_over_the_api_starting_a_job_needs_the_class_code(tmp_path):
    limits = HostLimits(max_concurrent=1, class_code=CODE)
    with ServedApp(tmp_path / "runs", limits) as served, ServerLog() as log:
        cases = {"no code": [TINY, TOKEN], "empty": [TINY, TOKEN, ""], "wrong": [TINY, TOKEN, "owls-of-room-13"],
                 "a list": [TINY, TOKEN, [CODE]], "200 kB": [TINY, TOKEN, "x" * 200_000]}
        for what, args in cases.items():
            event, message = api_call(served.url, "train", json.dumps(args))
            assert event == "error", f"{what}: a job started without the class code"
            key = "jobs.need_class_code" if what in ("no code", "empty", "a list") else "jobs.wrong_class_code"
            expected = i18n.text(key, "en")
            assert message["error"] == expected, (what, message)
        assert served.lab.jobs.job_ids() == []
        event, answer = api_call(served.url, "train", json.dumps([TINY, TOKEN, f" {CODE} "]))
        assert event == "complete", answer
    assert not log.tracebacks(), log.tracebacks()
    assert not any(len(r.getMessage()) > 2000 for r in log.records), "a large value was echoed into the log"


@pytest.fixture()
def coded_page(tmp_path):
    jobs = JobRunner(tmp_path / "runs", HostLimits(class_code=CODE), supervise=False)
    yield bare_train_page(jobs)
    jobs.close()


def launch_values(page, typed="", kept="") -> dict:
    form = page.form
    values = {c: c.value for c in [form.model, form.name, *form.common.values()]}
    values.update({c: c.value for inputs in form.per_model.values() for c in inputs.values()})
    values.update({form.name: "", page.owner: TOKEN, form.class_code: typed, page.kept_code: kept})
    values[form.common["dataset"]] = "mnist-5k"
    return values


def test_the_train_tab_asks_for_the_code_once_and_the_browser_keeps_it(coded_page):
    page = coded_page
    assert page.form.class_code.visible, "the Class code field is hidden on a server that needs one"
    launch = user_errors(page.on_launch)
    with pytest.raises(gr.Error) as raised:
        launch(launch_values(page))
    assert raised.value.message == i18n.text("jobs.need_class_code", "en")
    with pytest.raises(gr.Error) as raised:
        launch(launch_values(page, typed="not-the-code"))
    assert raised.value.message == i18n.text("jobs.wrong_class_code", "en")
    answer = launch(launch_values(page, typed=CODE))
    assert answer[page.kept_code] == CODE, "the right code was not kept in the browser"
    page.jobs.cancel(answer[page.followed], TOKEN)
    # Next time the field is empty (a reload): the kept code is used.
    answer = launch(launch_values(page, kept=CODE))
    assert answer[page.followed] in page.jobs.job_ids()


def test_a_server_without_a_class_code_hides_the_field_and_needs_none(train_page):
    assert not train_page.form.class_code.visible
    assert not train_page.jobs.needs_class_code
