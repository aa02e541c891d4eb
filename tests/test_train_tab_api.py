"""The Train tab without a browser: its form built from the settings' one definition, its views, and its API
through gradio_client and plain HTTP (launch with a name, follow to done, the log only to the owner, cancel,
resume, every argument checked), a waiting job's place and times in the queue, the finished runs compared
(/runs, malformed folders among them), and training turned off (LATENT_LAB_TRAINING=off) on an app of its own."""

import base64
import io
import json
import math

import gradio as gr
import pytest
from conftest import finished_run, run_folders
from gradio_client import Client
from hostile import ServedApp, ServerLog, api_call, copy_shipped_run, error_sentence, wait_for_view
from PIL import Image

from genmodels import AutoencoderConfig
from genmodels.registry import ModelRegistry
from genmodels.train import TrainConfig
from jobs import HostLimits
from jobs.runner import hash_token
import i18n
from jobs.settings import MODEL_KEYS, TRAIN_KEYS, configs_from_settings, form_fields
from ui.explore.models import explorable_names
from ui.language import I18N
from ui.train import views
from ui.train.experiments import EXPERIMENTS, settings_for

TOKEN = "api-test-owner-token"
SHORT = {"model": "vae", "dataset": "mnist-5k", "epochs": 2, "hidden_size": 32, "batch_size": 256}
PLANTED = "20240101-000000-0a01"  # a finished VAE run owned by TOKEN, copied from the shipped checkpoint


@pytest.fixture(scope="module")
def client(live_app):
    return Client(live_app, verbose=False)


@pytest.fixture(scope="module")
def planted(runs_dir):
    """The id of a finished VAE run that TOKEN owns (no training: a copy of checkpoints/vae-mnist)."""
    copy_shipped_run(runs_dir, PLANTED, owner=hash_token(TOKEN), name="planted")
    return PLANTED


def follow(client, job_id, until, what: str):
    """Poll /job (as the owner, so the log tail comes too) until `until(view)`; return that view. Past the
    deadline fail naming `what`."""
    return wait_for_view(lambda: client.predict(job_id, TOKEN, api_name="/job"), until, what, interval_s=0.3)


# ---------------------------------------------------------------------------------------------- the form
def choice_values(component) -> list:
    return [value for _, value in component.choices]


def shown_in(words, language: str) -> str:
    """Return a text built into the page (a gr.I18n text, or plain text) as the page shows it in `language`."""
    key = getattr(words, "key", None)
    return words if key is None else I18N.translations[language][key].replace("''", "'")


@pytest.mark.parametrize("model_type", list(MODEL_KEYS))
def test_the_form_carries_each_settings_range_and_default(train_page, model_type):
    """Form, CLI and API cannot disagree: each input is exactly its setting in jobs.settings.form_fields."""
    fields = form_fields(model_type)
    form = train_page.form
    inputs = {**form.common, **form.per_model[model_type]}
    assert set(inputs) == set(fields)
    assert set(form.common) == set(TRAIN_KEYS) and set(form.per_model[model_type]) == set(MODEL_KEYS[model_type])
    for key, described in fields.items():
        component, spec = inputs[key], described.spec
        assert shown_in(component.label, "en") == spec.label, key
        assert spec.help in shown_in(component.info, "en"), key
        assert shown_in(component.label, "zh-CN") == i18n.text(f"genmodels.settings.label.{described.name}", "zh-CN")
        if described.kind in ("int", "float"):
            assert isinstance(component, gr.Number), key
            # The host's epoch limit (100 here) is the one bound tighter than the setting's own.
            high = min(spec.high, 100) if key == "epochs" else spec.high
            assert (component.minimum, component.maximum, component.value) == (spec.low, high, described.default), key
            assert component.precision == (0 if described.kind == "int" else None), key
        elif described.kind == "bool":
            assert isinstance(component, gr.Checkbox) and component.value is described.default, key
        elif key == "device":  # a text setting: the devices this machine has, 'auto' first
            assert choice_values(component)[:2] == ["auto", "cpu"] and component.value == described.default
        else:
            assert choice_values(component) == list(spec.choices) and component.value == described.default, key
    # Each model type shows its own hidden-size default (400 VAE, 128 RowRNN, 256 RowWriter).
    assert form.per_model[model_type]["hidden_size"].value == fields["hidden_size"].default


def test_the_model_choice_offers_every_model_and_switches_the_fields(train_page):
    form = train_page.form
    assert choice_values(form.model) == list(MODEL_KEYS) and form.model.value == "vae"
    assert [[c.visible for c in form.groups[m]] for m in MODEL_KEYS] == [[True, True], [False], [False], [False]]
    shown = train_page.on_model_change("rnn")
    assert {m: [shown[c].visible for c in form.groups[m]] for m in MODEL_KEYS} == {
        "vae": [False, False], "rnn": [True], "writer": [False], "ae": [False]}
    assert [form.per_model[m]["hidden_size"].value for m in ("vae", "rnn", "writer", "ae")] == [400, 128, 256, 400]
    # The plain autoencoder's box: its sizes, and no beta or KL warm-up (it has no KL term).
    shown = train_page.on_model_change("ae")
    assert [shown[c].visible for c in form.groups["ae"]] == [True] and not any(shown[c].visible for c in form.groups["vae"])
    assert list(form.per_model["ae"]) == ["latent_dim", "hidden_size"]
    assert [label for label, _ in form.model.choices] == ["VAE", "RowRNN", "RowWriter", "Autoencoder"]


@pytest.mark.parametrize("model_type", list(MODEL_KEYS))
def test_the_form_defaults_make_settings_the_api_accepts(train_page, model_type, monkeypatch):
    form = train_page.form
    values = {c: c.value for c in [form.model, form.name, *form.common.values(), train_page.owner]}
    values.update({c: c.value for inputs in form.per_model.values() for c in inputs.values()})
    values.update({form.model: model_type, form.name: "my run", train_page.owner: TOKEN})
    sent = []
    monkeypatch.setattr(train_page.jobs, "submit_settings", lambda settings, token, code=None: sent.append(settings) or PLANTED)
    train_page.on_launch(values)
    (settings,) = sent
    assert settings["model"] == model_type and settings["name"] == "my run"
    assert set(settings) == {"model", "name", *form_fields(model_type)}
    kind, model_config, train_config = configs_from_settings(settings, max_epochs=100)
    assert kind == model_type and train_config.epochs == form_fields(model_type)["epochs"].default


def test_an_empty_field_is_named(train_page):
    form = train_page.form
    values = {c: c.value for c in [form.model, form.name, *form.common.values(), train_page.owner]}
    values.update({c: c.value for inputs in form.per_model.values() for c in inputs.values()})
    values[form.common["lr"]] = None
    with pytest.raises(ValueError, match="Please fill in: Learning rate"):
        train_page.on_launch(values)


# --------------------------------------------------------------------------------------------- the views
METRICS = {
    "vae": {"epochs": [{"epoch": 1, "train_nelbo": 200.0, "val_nelbo": 190.0, "train_kl": 20.0, "val_kl": 21.0}],
            "steps": [{"x": 0.5, "loss": 250.0}]},
    "rnn": {"epochs": [{"epoch": 1, "train_loss": 0.5, "val_loss": 0.4, "train_accuracy": 0.8, "val_accuracy": 0.9}],
            "steps": [{"x": 0.5, "loss": 1.0}]},
    "writer": {"epochs": [{"epoch": 1, "train_nll": 90.0, "val_nll": 88.0}], "steps": [{"x": 0.5, "loss": 95.0}]},
    "ae": {"epochs": [{"epoch": 1, "train_loss": 81.0, "train_recon": 81.0, "val_loss": 79.0, "val_recon": 79.0}],
           "steps": [{"x": 0.5, "loss": 85.0}]},
}


@pytest.mark.parametrize("model_type", list(MODEL_KEYS))
def test_every_curve_is_a_named_series_of_its_model_loss(model_type):
    frame = views.loss_frame(model_type, METRICS[model_type])
    named = frame.dropna()
    assert set(frame["series"]) == {"train (steps)", "train", "validation"}
    with i18n.speaking("zh-CN"):  # the legend's names are the reader's words
        assert set(views.loss_frame(model_type, METRICS[model_type])["series"]) == {"训练（每步）", "训练集", "验证集"}
    assert sorted(named["value"]) == sorted([METRICS[model_type]["steps"][0]["loss"],
                                             *[v for k, v in METRICS[model_type]["epochs"][0].items()
                                               if k in views.LOSS_CURVES[model_type]]])
    assert views.loss_frame(model_type, {"epochs": [], "steps": []}) is None


def test_an_autoencoder_run_is_drawn_and_named_by_its_reconstruction_term():
    """Its loss curve is its declared validation figure (val_recon, genmodels.trainable), with no KL panel."""
    assert views.LOSS_CURVES["ae"] == ("train_recon", "val_recon")
    assert views.loss_axis("ae") == "reconstruction (nats per image)"
    view = {"id": PLANTED, "name": f"run-{PLANTED}", "title": "", "model_type": "ae", "dataset": "mnist-5k",
            "status": "done", "epochs_done": 2, "target_epochs": 2, "figures": {"best_epoch": 2, "val_recon": 79.04}}
    text = views.status_markdown(view)
    assert "Autoencoder" in text and "reconstruction 79.0 nats (epoch 2)" in text
    with i18n.speaking("zh-CN"):
        assert "自编码器" in views.status_markdown(view) and "重构 79.0 奈特（第 2 轮）" in views.status_markdown(view)
    figure = views.curves_figure("ae", METRICS["ae"])
    assert len(figure.axes) == 1 and figure.axes[0].get_ylabel() == "reconstruction (nats per image)"


def test_kl_and_accuracy_have_their_own_scales():
    kl = views.kl_frame(METRICS["vae"]).dropna()
    assert dict(zip(kl["series"], kl["value"])) == {"train": 20.0, "validation": 21.0}
    accuracy = views.accuracy_frame(METRICS["rnn"]).dropna()
    assert dict(zip(accuracy["series"], accuracy["value"])) == {"train": 80.0, "validation": 90.0}  # percent


def test_the_status_and_the_table_show_the_run_name():
    view = {"id": PLANTED, "name": f"run-{PLANTED}", "title": "small *beta*", "model_type": "writer",
            "dataset": "mnist-5k", "status": "done", "epochs_done": 3, "target_epochs": 3,
            "figures": {"best_epoch": 3, "val_nll": 88.04}, "started": 0, "created": 0}
    text = views.status_markdown(view)
    assert r"**small \*beta\***" in text and PLANTED in text and "RowWriter" in text and "NLL 88.0 nats" in text
    assert f"run-{PLANTED}" in text
    (row,) = views.table_rows([view], lambda job_id: True)
    assert row[:3] == [PLANTED, "small *beta*", "RowWriter"] and row[-1] == "yes"


# ----------------------------------------------------------------------------------------- the API, slow
@pytest.mark.slow
def test_launch_follow_to_done_and_decode_with_it_in_the_explorer(client, live_app, runs_dir):
    job_id = client.predict(dict(SHORT, name="api run"), TOKEN, api_name="/train")
    seen = set()
    view = follow(client, job_id, lambda v: seen.add(v["status"]) or v["status"] not in ("queued", "running"),
                  "the API's job to finish")
    assert view["status"] == "done", view["log_tail"]
    assert "running" in seen or "queued" in seen
    assert view["epochs_done"] == 2 and view["fraction"] == 1.0
    assert [m["epoch"] for m in view["metrics"]["epochs"]] == [1, 2]
    assert view["metrics"]["epochs"][-1]["val_kl"] > 0 and view["sample_epochs"] == [1, 2]
    name = f"run-{job_id}"
    assert view["name"] == name and view["title"] == "api run"
    assert view["log_tail"]  # the owner reads the log ...
    assert client.predict(job_id, api_name="/job")["log_tail"] == ""  # ... nobody else does
    assert client.predict(job_id, "not-the-owner-token", api_name="/job")["log_tail"] == ""
    # The explorer decodes with the new checkpoint by name.
    image = client.predict([0.0] * 20, name, api_name="/decode")
    from PIL import Image
    assert Image.open(image).size[0] >= 28
    # The same checkpoint as the registry sees it, read from the job's folder.
    entry = ModelRegistry(extra_folders=run_folders(runs_dir), device="cpu").entry(name)
    assert entry.epochs_trained == 2 and entry.model_type == "vae"


@pytest.mark.slow
def test_an_autoencoder_job_runs_to_a_checkpoint_the_explorer_lists(client, runs_dir):
    """Issue 25: a 1-epoch plain autoencoder through /train, to a checkpoint the explorer lists and decodes with,
    its reconstruction term as its figure, a picture grid per epoch, and its sizes in the comparison."""
    job_id = client.predict({"model": "ae", "dataset": "mnist-5k", "epochs": 1, "latent_dim": 4, "hidden_size": 16,
                             "batch_size": 512, "name": "tiny ae"}, TOKEN, api_name="/train")
    view = follow(client, job_id, lambda v: v["status"] not in ("queued", "running"), "the autoencoder job to finish")
    assert view["status"] == "done", view["log_tail"]
    assert set(view["figures"]) == {"val_recon", "best_epoch"} and view["sample_epochs"] == [1]
    assert "val_kl" not in view["metrics"]["epochs"][0]
    name = f"run-{job_id}"
    registry = ModelRegistry(extra_folders=run_folders(runs_dir), device="cpu")
    assert name in explorable_names(registry) and registry.entry(name).model_type == "ae"
    assert Image.open(client.predict([0.0] * 4, name, api_name="/decode")).size[0] >= 28  # the app's explorer has it
    (run,) = [r for r in client.predict("ae", "best", api_name="/runs") if r["id"] == job_id]
    assert run["settings"]["latent_dim"] == 4 and run["settings"]["hidden_size"] == 16 and "beta" not in run["settings"]


def test_open_in_explorer_takes_a_finished_autoencoder_run_there(train_page, monkeypatch):
    job_id = "20250101-000000-0ae1"
    finished_run(train_page.jobs.runs_dir, job_id, "ae", AutoencoderConfig(latent_dim=4, hidden_size=16),
                 TrainConfig(epochs=1, batch_size=512, device="cpu", nll_samples=0), name="tiny ae")
    monkeypatch.setattr(train_page, "registry", ModelRegistry(extra_folders=train_page.jobs.checkpoint_folders,
                                                              device="cpu"))
    snap = train_page.read(job_id, "")
    assert train_page.status_updates(snap, None)[train_page.live.open].interactive
    selector, tab, _ = train_page.on_open_in_explorer(job_id)
    assert selector.value == f"run-{job_id}" and (f"tiny ae (run-{job_id})", f"run-{job_id}") in selector.choices
    assert ("ae-mnist", "ae-mnist") in selector.choices and tab.selected == "explore"


@pytest.mark.slow
def test_cancel_only_by_the_owner(client):
    job_id = client.predict(dict(SHORT, epochs=100), TOKEN, api_name="/train")
    follow(client, job_id, lambda v: v["status"] == "running" and v["epochs_done"] >= 1, "the long job's first epoch")
    with pytest.raises(Exception, match="Only the person who started"):
        client.predict(job_id, "not-the-owner-token", api_name="/cancel")
    assert client.predict(job_id, TOKEN, api_name="/cancel") == "cancelled"
    view = client.predict(job_id, api_name="/job")
    assert view["status"] == "cancelled" and view["has_checkpoint"] and view["can_resume"]
    # Resume continues from the saved optimizer state for one more epoch, and runs to done.
    done_before = view["epochs_done"]
    assert client.predict(job_id, TOKEN, 1, api_name="/resume") == job_id
    view = follow(client, job_id, lambda v: v["status"] == "done", "the resumed job to finish its one more epoch")
    assert view["epochs_done"] == done_before + 1


@pytest.mark.slow
def test_unknown_job_and_missing_checkpoint(client):
    with pytest.raises(Exception, match="There is no job"):
        client.predict("20000101-000000-abcd", api_name="/job")
    with pytest.raises(Exception, match="not a job id"):
        client.predict("../../etc/passwd", api_name="/job")
    # A queued job cancelled before it ever ran has nothing to resume from. Other people's long jobs fill
    # every slot (one job per person at a time), so this one waits.
    blockers = {f"{TOKEN}-blocker-{k}": None for k in range(HostLimits().max_concurrent)}
    for token in blockers:
        blockers[token] = client.predict(dict(SHORT, epochs=100), token, api_name="/train")
    queued = client.predict(SHORT, TOKEN, api_name="/train")
    assert client.predict(queued, api_name="/job")["status"] == "queued"
    assert client.predict(queued, TOKEN, api_name="/cancel") == "cancelled"
    with pytest.raises(Exception, match="checkpoint is missing"):
        client.predict(queued, TOKEN, 2, api_name="/resume")
    for token, blocker in blockers.items():
        assert client.predict(blocker, token, api_name="/cancel") == "cancelled"
    listed = {v["id"]: v["status"] for v in client.predict(api_name="/jobs")}
    assert listed[queued] == "cancelled" and all(listed[b] == "cancelled" for b in blockers.values())


# ------------------------------------------------------------------------------- bad requests, one sentence
@pytest.mark.parametrize("settings, token, message", [
    (dict(SHORT, epochs="many"), TOKEN, "Epochs must be a whole number"),
    (dict(SHORT, epochs=100000), TOKEN, "Epochs must be between 1 and"),
    (dict(SHORT, dataset="mnist"), TOKEN, "not available here"),
    (dict(SHORT, lr=-1), TOKEN, "Learning rate must be between"),
    (SHORT, "short", "owner_token must be a secret string"),
    (SHORT, None, "owner_token is missing"),
    ("not a dict", TOKEN, "must be a JSON object"),
    (None, TOKEN, "settings is missing"),
    (dict(SHORT, latent_dim=65), TOKEN, "Latent size must be between 1 and 64"),
    (dict(SHORT, device="foo"), TOKEN, "Device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"),
    (dict(SHORT, name="x" * 41), TOKEN, "at most 40 characters"),
    (dict(SHORT, name="<b>bold</b>"), TOKEN, "simple punctuation only"),
])
def test_bad_training_requests_get_clear_messages(client, settings, token, message):
    with pytest.raises(Exception, match=message):
        client.predict(settings, token, api_name="/train")


@pytest.mark.parametrize("api_name, args, message", [
    ("/job", (5,), "A job id must be text"),
    ("/job", (PLANTED, 5), "owner_token must be text"),
    ("/cancel", (PLANTED, None), "owner_token is missing"),
    ("/cancel", (["x"], TOKEN), "A job id must be text"),
    ("/resume", (PLANTED, TOKEN, None), "epochs is missing"),
    ("/resume", (PLANTED, TOKEN, "abc"), "Epochs must be a whole number"),
    ("/resume", (PLANTED, TOKEN, "NaN"), "Epochs must be a whole number"),
    ("/resume", (PLANTED, TOKEN, 2.5), "Epochs must be a whole number"),
    ("/resume", (PLANTED, "someone-else", 1), "Only the person who started"),
])
def test_arguments_of_the_wrong_type_get_one_sentence(client, planted, api_name, args, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name=api_name)


# Plain HTTP: (endpoint, raw JSON text of the data list, what the sentence says). Raw text, so that NaN,
# missing arguments and wrong types arrive exactly as a hand-written client would send them.
TOKEN_JSON = json.dumps(TOKEN)
PLAIN_HTTP_CASES = [
    ("train", '["vae", ' + TOKEN_JSON + "]", "must be a JSON object"),
    ("train", '[{"model": "vae"}]', "owner_token"),
    ("train", '[{"model": "vae"}, null]', "owner_token is missing"),
    ("train", '[{"epochs": NaN}, ' + TOKEN_JSON + "]", "Epochs must be a whole number"),
    ("job", "[]", "job_id"),
    ("job", "[5]", "A job id must be text"),
    ("job", f'["{PLANTED}", [1]]', "owner_token must be text"),
    ("cancel", "[]", "job_id"),
    ("cancel", f'["{PLANTED}"]', "owner_token"),
    ("cancel", f'["{PLANTED}", 12345678]', "owner_token must be a secret string"),
    ("resume", f'["{PLANTED}", {TOKEN_JSON}, null]', "epochs is missing"),
    ("resume", f'["{PLANTED}", {TOKEN_JSON}, "abc"]', "Epochs must be a whole number"),
    ("resume", f'["{PLANTED}", {TOKEN_JSON}, NaN]', "Epochs must be a whole number"),
    ("resume", f'["{PLANTED}", {TOKEN_JSON}]', "epochs"),
    ("runs", '["gan"]', "model must be one of"),
    ("runs", '["vae", null, NaN]', "pictures must be true or false"),
    ("runs", '[{"model": "vae"}]', "model must be one of"),
]


@pytest.mark.parametrize("name, raw, message", PLAIN_HTTP_CASES, ids=[f"{c[0]}-{i}" for i, c in
                                                                     enumerate(PLAIN_HTTP_CASES)])
def test_plain_http_bad_requests_get_one_sentence_and_no_traceback(live_app, planted, capfd, name, raw, message):
    capfd.readouterr()
    with ServerLog() as log:
        event, data = api_call(live_app, name, raw)  # POST /gradio_api/call/<name>, then its event stream
    sentence = error_sentence(event, data)  # an error event with one short line, never {"error": null}
    assert message in sentence and sentence.endswith("."), sentence
    assert "Something went wrong" not in sentence
    assert not log.tracebacks() and "Traceback" not in capfd.readouterr().err


def test_plain_http_good_requests_answer(live_app, planted):
    event, data = api_call(live_app, "job", f'["{PLANTED}", {TOKEN_JSON}]')
    assert event == "complete" and data[0]["title"] == "planted" and data[0]["status"] == "done"
    event, data = api_call(live_app, "jobs", "[]")
    assert event == "complete" and PLANTED in [v["id"] for v in data[0]]
    assert all(math.isfinite(v["fraction"]) for v in data[0])


def test_training_turned_off_gives_a_clear_message(tmp_path, monkeypatch):
    # Its own small app: the session's live_app was built with training on.
    import app
    from conftest import free_port

    monkeypatch.setenv("LATENT_LAB_TRAINING", "off")
    runs = tmp_path / "runs"
    lab = app.build_app(runs_dir=runs, limits=app.limits_from_env())
    app.serve(lab, server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        off = Client(lab.blocks.local_url, verbose=False)
        with pytest.raises(Exception, match=r"Training is turned off on this server"):
            off.predict(SHORT, TOKEN, api_name="/train")
        assert off.predict(api_name="/jobs") == []  # nothing was queued
    finally:
        lab.close()


# ------------------------------------------------------------------------------------- the queue, in words
def test_queue_words_name_the_place_and_both_times():
    view = {"status": "queued", "queue_position": 3, "eta_start_s": 61.0, "eta_finish_s": 130.0}
    assert views.queue_text(view, now=0) == "3rd in the queue, starts in about 1 min, done in about 2 min"
    html = views.queue_html(view, now=0)
    assert html.startswith("3rd in the queue, starts in about 1 min (at <time datetime=\"1970-01-01T00:01:01Z\">")
    assert [views.queue_place(n).split()[0] for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]
    with i18n.speaking("zh-CN"):
        assert views.queue_text(view, now=0) == "排队第 3 位，约 1 分钟后开始，约 2 分钟后完成"
        assert views.status_word("interrupted") == "已中断（可以继续训练）"
    assert [views.about(s) for s in (3, 42, 89, 3600 * 1.5)] == [
        "a few seconds", "about 40 s", "about 1 min", "about 1 h 30 min"]


def test_queue_words_treat_missing_figures_as_unknown():
    assert views.queue_text({"status": "queued"}) == "waiting in the queue"  # a runner without queue figures
    assert views.queue_text({"status": "queued", "queue_position": True, "eta_start_s": "soon"}) == \
        "waiting in the queue"
    assert views.queue_text({"status": "running", "eta_s": 300}) == "done in about 5 min"  # the worker's ETA
    assert views.queue_text({"status": "running", "eta_s": 300, "eta_finish_s": 120}) == "done in about 2 min"
    assert views.queue_text({"status": "done", "queue_position": 1}) == "" and views.queue_text(None) == ""
    view = {"id": PLANTED, "title": "", "model_type": "vae", "dataset": "mnist-5k", "status": "queued",
            "epochs_done": 0, "target_epochs": 2, "figures": {}, "started": None, "created": 0,
            "queue_position": 2, "eta_start_s": 5, "eta_finish_s": 20}
    # The job ahead is past its estimate: the place is shown, and the start said to be unknown, not "soon".
    assert views.queue_text({"status": "queued", "queue_position": 1}) == \
        "1st in the queue, starts when the job ahead of it ends"
    (row,) = views.table_rows([view], lambda job_id: False)
    assert dict(zip(views.TABLE_COLUMNS, row))["when"] == "2nd in the queue, starts in a few seconds, " \
                                                           "done in about 20 s"
    assert "2nd in the queue" in views.progress_html(view)


@pytest.fixture(scope="module")
def one_slot(tmp_path_factory):
    """The app over a runs folder of its own, training one job at a time (so a second one waits)."""
    with ServedApp(tmp_path_factory.mktemp("one-slot-runs"), HostLimits(max_concurrent=1)) as served:
        yield served


@pytest.mark.slow
def test_a_waiting_job_shows_its_place_and_times_until_it_starts(one_slot):
    client = Client(one_slot.url, verbose=False)
    first, second = "first-owner-token", "second-owner-token"
    blocker = client.predict(dict(SHORT, epochs=100), first, api_name="/train")
    running = follow(client, blocker, lambda v: v["status"] == "running", "the first student's job to start")
    assert running["queue_position"] is None and running["eta_start_s"] is None
    waiting = client.predict(SHORT, second, api_name="/train")
    view = client.predict(waiting, second, api_name="/job")
    assert view["status"] == "queued" and view["queue_position"] == 1, view
    assert view["eta_start_s"] >= 0 and view["eta_finish_s"] >= view["eta_start_s"]
    listed = {v["id"]: v for v in client.predict(api_name="/jobs")}
    assert listed[waiting]["queue_position"] == 1 and listed[blocker]["queue_position"] is None
    # Once the first job is cancelled, the waiting one leaves the queue and starts.
    assert client.predict(blocker, first, api_name="/cancel") == "cancelled"
    view = wait_for_view(lambda: client.predict(waiting, api_name="/job"), lambda v: v["status"] != "queued",
                         "the waiting job to leave the queue once the first is cancelled")
    assert view["queue_position"] is None and view["eta_start_s"] is None
    client.predict(waiting, second, api_name="/cancel")


# ------------------------------------------------------------------------------------------- /runs
BETAS = {"beta half": 0.5, "beta four": 4.0}


@pytest.fixture(scope="module")
def compared_runs(client, runs_dir, planted):
    """Two real short VAE runs that differ in beta (each its own owner), finished; plus folders that are not:
    a job.json that is not JSON, and a finished run whose picture grid is not a picture. Returns {name: id}."""
    ids = {name: client.predict(dict(SHORT, epochs=1, beta=beta, name=name), f"owner-of-{name}", api_name="/train")
           for name, beta in BETAS.items()}
    for job_id in ids.values():
        view = follow(client, job_id, lambda v: v["status"] not in ("queued", "running"), f"the run {job_id} to finish")
        assert view["status"] == "done", view
    broken = runs_dir / "20240102-000000-0bad"
    broken.mkdir()
    (broken / "job.json").write_text('{"id": "20240102-000000-0bad", "status": ')
    fake = copy_shipped_run(runs_dir, "20240102-000000-0fa4", name="fake picture")
    (fake / "samples").mkdir()
    (fake / "samples" / "epoch-001.png").write_bytes(b"<svg>not a png</svg>")
    return ids


@pytest.mark.slow
def test_runs_lists_the_finished_runs_with_settings_figures_and_pictures(client, compared_runs):
    listed = client.predict("vae", "beta", True, api_name="/runs")
    ours = [r for r in listed if r["title"] in BETAS]
    assert [r["title"] for r in ours] == ["beta half", "beta four"]  # smallest beta first
    for run in ours:
        assert run["id"] == compared_runs[run["title"]] and run["name"] == f"run-{run['id']}"
        assert run["settings"]["beta"] == BETAS[run["title"]] and run["settings"]["hidden_size"] == 32
        assert run["settings"]["dataset"] == "mnist-5k" and run["epochs"] == 1 and run["model_type"] == "vae"
        figures = run["figures"]
        assert set(figures) == {"val_nelbo", "val_recon", "val_kl", "best_epoch"}
        assert figures["val_nelbo"] == pytest.approx(figures["val_recon"] + figures["val_kl"], rel=1e-3)
        assert run["grid_epoch"] == 1 and run["grid_png"].startswith("data:image/png;base64,")
        assert Image.open(io.BytesIO(base64.b64decode(run["grid_png"].split(",", 1)[1]))).format == "PNG"
    # A higher beta buys a smaller KL term.
    assert ours[1]["figures"]["val_kl"] < ours[0]["figures"]["val_kl"]
    # The malformed folders: one is left out, the other is listed without a picture.
    by_id = {r["id"]: r for r in listed}
    assert "20240102-000000-0bad" not in by_id
    assert by_id["20240102-000000-0fa4"]["grid_png"] is None and by_id["20240102-000000-0fa4"]["grid_epoch"] == 1
    # Best first by the model's own rule, and filters by model type.
    best = [r["figures"]["val_nelbo"] for r in client.predict("vae", "best", api_name="/runs") if r["figures"]]
    assert best == sorted(best)
    assert all(r["model_type"] == "rnn" for r in client.predict("rnn", api_name="/runs"))
    newest = client.predict(api_name="/runs")
    assert [r["finished"] for r in newest] == sorted((r["finished"] for r in newest), reverse=True)
    assert "grid_png" not in newest[0]


@pytest.mark.parametrize("args, message", [
    (("gan",), "model must be one of all, vae, rnn, writer, ae"),
    ((5,), "model must be one of"),
    (("vae", "colour"), "sort_by must be one of newest, best"),
    (("rnn", "beta"), "sort_by must be one of"),  # a RowRNN has no beta
    (("vae", "beta", "yes"), "pictures must be true or false"),
])
def test_runs_arguments_get_one_sentence(client, args, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name="/runs")


# ------------------------------------------------------------------------ issue 25: seeds and experiments
def test_each_visitor_gets_a_seed_of_their_own_and_the_choices_in_their_language(train_page):
    """Three students with default settings got the identical run (seed 0): the page now draws one per visitor."""
    seeds = {train_page.on_page_open("")[train_page.form.common["seed"]].value for _ in range(3)}
    assert len(seeds) == 3, seeds
    with i18n.speaking("zh-CN"):
        loaded = train_page.on_page_open("")
    models = loaded[train_page.compared.model].choices
    assert loaded[train_page.form.model].choices == [("VAE", "vae"), ("RowRNN", "rnn"), ("RowWriter", "writer"),
                                                     ("自编码器", "ae")]
    assert models[0] == ("全部模型", "all") and [v for _, v in models[1:]] == list(MODEL_KEYS)  # values unchanged
    experiments = loaded[train_page.form.experiment].choices
    assert [v for _, v in experiments] == list(EXPERIMENTS) and experiments[0][0].startswith("β 扫描")


def test_api_callers_who_name_no_seed_get_one_of_their_own(client, runs_dir):
    """Over /train too: two students' default runs differ, and each student's own repeat."""
    from jobs.records import JobFolder

    ids = [client.predict(dict(SHORT, epochs=1), token, api_name="/train")
           for token in ("seed-student-one", "seed-student-two")]
    for job_id in ids:
        client.predict(job_id, "seed-student-one" if job_id == ids[0] else "seed-student-two", api_name="/cancel")
    seeds = [JobFolder(runs_dir, job_id).record()["train_config"]["seed"] for job_id in ids]
    assert seeds[0] != seeds[1]
    from jobs.settings import owner_seed
    assert seeds == [owner_seed("seed-student-one"), owner_seed("seed-student-two")]


@pytest.mark.parametrize("key", list(EXPERIMENTS))
def test_each_class_experiment_fills_settings_the_api_accepts(train_page, key):
    experiment = EXPERIMENTS[key]
    spread = {json.dumps(settings_for(key, seed), sort_keys=True) for seed in range(12)}
    assert len(spread) == (len(experiment.varies[1]) if experiment.varies else 1)  # the class spreads over them
    setting, values = experiment.varies or (None, ())
    for seed in range(6):
        settings = settings_for(key, seed)
        kind, model_config, _ = configs_from_settings(settings, max_epochs=100)
        assert kind == (values[seed % len(values)] if setting == "model" else experiment.model)
    filled = train_page.on_experiment(key, 5)
    form = train_page.form
    model = settings_for(key, 5)["model"]
    assert filled[form.model] == model and filled[form.name] == settings_for(key, 5)["name"]
    visible = {m: [filled[c].visible for c in form.groups[m]] for m in MODEL_KEYS}
    assert all(all(v) == (m == model) for m, v in visible.items()), visible
    if setting not in (None, "model"):
        assert filled[form.per_model[experiment.model][setting]] == values[5 % len(values)]


def test_the_vae_or_autoencoder_experiment_alternates_the_model_with_the_same_settings(train_page):
    """Issue 25's classic lesson: the same network and settings, with and without the KL term, by the student's seed."""
    runs = [settings_for("vae_or_ae", seed) for seed in (0, 1)]
    assert [r["model"] for r in runs] == ["vae", "ae"] and [r["name"] for r in runs] == ["KL or not: VAE",
                                                                                      "KL or not: Autoencoder"]
    configs = [configs_from_settings(r, max_epochs=100)[1] for r in runs]
    assert (configs[0].latent_dim, configs[0].hidden_size, configs[0].beta) == (20, 400, 1.0)
    assert (configs[1].latent_dim, configs[1].hidden_size) == (20, 400)
    with i18n.speaking("zh-CN"):
        assert settings_for("vae_or_ae", 1)["name"] == "有无 KL 项：自编码器"
    filled = train_page.on_experiment("vae_or_ae", 3)
    form = train_page.form
    assert filled[form.model] == "ae" and filled[form.per_model["ae"]["latent_dim"]] == 20


# ------------------------------------------------------------------------ issue 26: a Chinese caller
def test_a_chinese_caller_gets_refusals_and_job_messages_in_chinese(live_app, runs_dir):
    """Accept-Language: zh-CN: a refused job, and a failed job's stored message (a key and its parameters,
    written with no request) are in Chinese; an old record's plain English message is still shown."""
    from jobs.records import JobFolder

    chinese = Client(live_app, verbose=False, headers={"Accept-Language": "zh-CN"})
    with pytest.raises(Exception, match="在这台服务器上，轮数必须在 1 到 100 之间，收到的是 500。"):
        chinese.predict(dict(SHORT, epochs=500), TOKEN, api_name="/train")
    with pytest.raises(Exception, match="学习率必须是数字"):
        chinese.predict(dict(SHORT, lr="fast"), TOKEN, api_name="/train")
    stored = {"key": "jobs.error_then", "params": {"error": {"key": "jobs.out_of_memory", "params": {}},
                                                   "kept": {"key": "jobs.kept", "params": {"epoch": 3}}}}
    for job_id, error in (("20240101-000000-0c01", stored), ("20240101-000000-0c02", "Old English words.")):
        folder = JobFolder(runs_dir, job_id)
        copy_shipped_run(runs_dir, job_id, owner=hash_token(TOKEN), status="failed")
        folder.save_record({**folder.record(), "error": error})
    assert chinese.predict("20240101-000000-0c01", api_name="/job")["error"] == \
        "任务内存不足。请试试更小的批大小或隐藏层宽度。已保留最后一个完好的检查点（第 3 轮），可以继续训练。"
    english = Client(live_app, verbose=False)
    assert english.predict("20240101-000000-0c01", api_name="/job")["error"] == \
        "The job ran out of memory. Try a smaller batch or hidden size. " \
        "The last good checkpoint (epoch 3) is kept; resume to continue."
    assert chinese.predict("20240101-000000-0c02", api_name="/job")["error"] == "Old English words."
    with pytest.raises(Exception, match="没有任务 20240101-000000-0c09"):
        chinese.predict("20240101-000000-0c09", api_name="/job")


def test_the_curves_picture_speaks_chinese_with_cjk_glyphs():
    """The exported curves: title, axes and legend in the reader's language, drawn with a CJK font (no missing-
    glyph boxes: matplotlib warns "Glyph ... missing" when it has none)."""
    import warnings

    with i18n.speaking("zh-CN"), warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a warning: here, a failure
        figure = views.curves_figure("vae", METRICS["vae"], "β = 2 的运行")
        axes = figure.axes[0]
        assert axes.get_xlabel() == "轮" and axes.get_ylabel() == "−ELBO（奈特/图像）"
        assert [t.get_text() for t in axes.get_legend().get_texts()] == ["训练（每步）", "训练集", "验证集"]
        assert views.curves_png("vae", METRICS["vae"], "β = 2 的运行")[:4] == b"\x89PNG"


def test_the_job_next_to_start_is_polled_as_often_as_a_running_one():
    """Issue 25: two students both read "1st in the queue": the one whose job had just started still saw its old
    place, polled every 4 s. The page of the job next to start now asks every second, so it sees the start (and
    the next student their new place) together."""
    assert views.tick_seconds("queued", 1) == views.tick_seconds("running") == views.RUNNING_TICK_S
    assert views.tick_seconds("queued", 2) == views.tick_seconds("queued") == views.WAITING_TICK_S
    assert views.tick_seconds(None) == views.IDLE_TICK_S
