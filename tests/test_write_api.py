"""The Write tab's named endpoints /write, /write_step and /complete through gradio_client, and its pieces without a server.

The endpoint tests run against the app serving `checkpoints/writer-mnist`. Until that checkpoint
is shipped they skip, unless LATENT_LAB_TEST_WRITER names a writer checkpoint folder (e.g. one made
with `python -m genmodels.train writer --epochs 1 --hidden-size 32 --head-size 32 --out /tmp/w`):
then an app over the shipped checkpoints plus that folder, served as writer-mnist, is tested.
"""

import json
import os
import re
import shutil
import socket
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import torch
from gradio_client import Client, handle_file
from hostile import ServerLog, api_call, error_sentence, leaks
from PIL import Image

import i18n
from genmodels import RowWriter, likelihood
from genmodels.checkpoints import WEIGHTS_FILE, read_config
from genmodels.data import load_dataset
from genmodels.preprocess import prepare_digit
from genmodels.registry import ModelRegistry
from ui.language import words
from ui.limits import MAX_BODY_BYTES
from ui.write import actions, build_write_tab, render
from ui.write.page import streamed_user_errors

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_WRITER = ROOT / "checkpoints" / "writer-mnist"
WRITER_ENV = "LATENT_LAB_TEST_WRITER"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _checkpoints_with_writer(folder: Path, writer: Path) -> Path:
    """Fill `folder` with links to the shipped checkpoints plus `writer` as writer-mnist; return it."""
    for shipped in (ROOT / "checkpoints").iterdir():
        if shipped.is_dir() and not shipped.name.startswith("."):
            (folder / shipped.name).symlink_to(shipped.resolve())
    (folder / "writer-mnist").symlink_to(writer.resolve())
    return folder


@pytest.fixture(scope="session")
def write_app(request, tmp_path_factory):
    """(URL, writer folder) of an app serving a writer called writer-mnist (see the module docstring)."""
    if (SHIPPED_WRITER / "config.json").is_file():
        yield request.getfixturevalue("live_app"), SHIPPED_WRITER
        return
    folder = os.environ.get(WRITER_ENV)
    if not folder:
        pytest.skip(f"checkpoints/writer-mnist does not exist yet (set {WRITER_ENV} to a writer checkpoint "
                    "folder to test against it)")
    writer = Path(folder)
    if not (writer / "config.json").is_file():
        pytest.fail(f"{WRITER_ENV}={folder} is not a checkpoint folder (no config.json).")
    import app

    checkpoints = _checkpoints_with_writer(tmp_path_factory.mktemp("checkpoints"), writer)
    lab = app.build_app(runs_dir=tmp_path_factory.mktemp("write-runs"), limits=app.limits_from_env(),
                         checkpoints_dir=checkpoints)
    app.serve(lab, server_port=_free_port(), prevent_thread_lock=True, quiet=True)
    yield lab.blocks.local_url.rstrip("/"), writer
    lab.close()


@pytest.fixture(scope="module")
def client(write_app):
    return Client(write_app[0], verbose=False)


def weights_stamp(folder: Path) -> str:
    """Return the SHA-256 of a checkpoint's weights as its config.json records it."""
    return str(read_config(folder).get("files", {}).get(WEIGHTS_FILE))


@pytest.fixture(scope="module")
def digit_file(tmp_path_factory):
    """A real validation digit drawn dark on white at 10x, as PNG."""
    ds = load_dataset("mnist-5k")
    path = tmp_path_factory.mktemp("write") / "digit.png"
    Image.fromarray(255 - ds.val_x[3].numpy()).resize((280, 280), Image.Resampling.BILINEAR).save(path)
    return path


def test_named_endpoints_are_listed(client):
    names = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/write", "/complete"} <= set(names)
    assert [p["parameter_name"] for p in names["/write"]["parameters"]] == ["label", "temperature", "seed", "model"]


def test_write_is_binary_and_reproducible_with_a_seed(client, write_app):
    stamp = weights_stamp(write_app[1])
    out = client.predict(3, 0.8, 1234, "writer-mnist", api_name="/write")
    digit = np.array(out["digit"])
    assert digit.shape == (28, 28) and set(np.unique(digit)) <= {0, 1}
    assert out["seed"] == 1234 and out["label"] == 3 and out["model"] == "writer-mnist"
    again = client.predict(3, 0.8, 1234, "writer-mnist", api_name="/write")
    # The same digit the library writes with that seed: the endpoint adds nothing of its own.
    writer = RowWriter.from_pretrained(write_app[1], device="cpu")
    expected = writer.sample(1, label=3, temperature=0.8, generator=torch.Generator().manual_seed(1234))
    if weights_stamp(write_app[1]) != stamp:
        pytest.skip("the writer checkpoint was saved again during the test (it is still being trained)")
    assert again["digit"] == out["digit"]
    assert (torch.tensor(out["digit"]).float() == expected.reshape(28, 28)).all()
    probs = out["reader"]["probabilities"]
    assert len(probs) == 10 and abs(sum(probs.values()) - 1) < 1e-3
    assert out["reader"]["label"] == max(probs, key=probs.get)
    assert out["png"].startswith("data:image/png;base64,")


def test_write_without_a_seed_draws_afresh_and_says_which_seed(client):
    a = client.predict(-1, 1.0, -1, api_name="/write")
    b = client.predict(-1, 1.0, -1, api_name="/write")
    assert a["label"] is None and a["seed"] != b["seed"]
    repeat = client.predict(-1, 1.0, a["seed"], api_name="/write")
    assert repeat["digit"] == a["digit"]


def test_complete_keeps_the_prompt_rows_in_every_ending(client, digit_file, write_app):
    stamp = weights_stamp(write_app[1])
    out = client.predict(handle_file(str(digit_file)), 12, 5, 1.0, 99, "writer-mnist", api_name="/complete")
    prompt = np.array(out["prompt"])
    expected = (prepare_digit(Image.open(digit_file))[0].numpy() > 0.5).astype(int)
    assert (prompt == expected).all()
    assert out["k"] == 12 and len(out["endings"]) == 5
    for ending in out["endings"]:
        digit = np.array(ending["digit"])
        assert digit.shape == (28, 28) and set(np.unique(digit)) <= {0, 1}
        assert (digit[:12] == prompt[:12]).all()
        assert ending["label"] in [str(k) for k in range(10)] and 0 <= ending["probability"] <= 1
    again = client.predict(handle_file(str(digit_file)), 12, 5, 1.0, 99, "writer-mnist", api_name="/complete")
    if weights_stamp(write_app[1]) != stamp:
        pytest.skip("the writer checkpoint was saved again during the test (it is still being trained)")
    assert [e["digit"] for e in again["endings"]] == [e["digit"] for e in out["endings"]]


ONE_SENTENCE = re.compile(r"^[^\n]{10,240}[.!]$")


@pytest.mark.parametrize("args, words", [
    (("abc", 1.0, 1), "label"),
    ((12, 1.0, 1), "label"),
    ((3, 5.0, 1), "temperature"),
    ((3, 0.0, 1), "temperature"),
    ((3, "NaN", 1), "temperature"),
    ((3, 1.0, "abc"), "seed"),
    ((3, 1.0, [1]), "seed"),
    ((3, 1.0, "NaN"), "seed"),
    ((3, 1.0, 1.5), "seed"),
    ((3, 1.0, -7), "seed"),
    ((3, 1.0, 1, "vae-mnist"), "writer"),
    ((3, 1.0, 1, "no-such-model"), "Unknown writer"),
])
def test_bad_write_arguments_get_one_sentence(client, args, words):
    with pytest.raises(Exception) as caught:
        client.predict(*args, api_name="/write")
    message = str(caught.value)
    assert words in message and ONE_SENTENCE.match(message) and "Traceback" not in message, message


@pytest.mark.parametrize("kwargs, words", [
    (dict(k=0), "rows kept"),
    (dict(k=28), "rows kept"),
    (dict(k="ten"), "rows kept"),
    (dict(n=0), "endings"),
    (dict(n=17), "endings"),
    (dict(temperature=2.5), "temperature"),
    (dict(seed=[3]), "seed"),
])
def test_bad_complete_arguments_get_one_sentence(client, digit_file, kwargs, words):
    with pytest.raises(Exception) as caught:
        client.predict(handle_file(str(digit_file)), **kwargs, api_name="/complete")
    message = str(caught.value)
    assert words in message and ONE_SENTENCE.match(message), message


@pytest.fixture(scope="module")
def chinese_client(write_app):
    """A client whose calls ask for answers in Simplified Chinese (Accept-Language: zh-CN)."""
    return Client(write_app[0], headers={"Accept-Language": "zh-CN"}, verbose=False)


@pytest.mark.parametrize("args, api_name, key, params", [
    ((3, 5.0, 1), "/write", "write.check.temperature", dict(low=0.1, high=2.0, value=5.0)),
    ((3, 1.0, "abc"), "/write", "write.check.not_number_text", dict(what=i18n.Text("write.what.seed"), value="abc")),
    ((3, 1.0, 1, "no-such-model"), "/write", "write.check.unknown_writer", None),
    (([[0] * 28] * 28, 3, 1.0, 1), "/write_step", "write.check.all_written", dict(side=28)),
])
def test_api_callers_asking_for_chinese_get_their_sentences_in_chinese(chinese_client, args, api_name, key, params):
    with pytest.raises(Exception) as caught:
        chinese_client.predict(*args, api_name=api_name)
    message = str(caught.value)
    if params is None:  # a sentence quoting the list of writers: its start is enough
        assert message.startswith("没有名为“no-such-model”的书写器。可用的有："), message
    else:
        assert message == i18n.text(key, "zh-CN", **params), message
    assert re.search(r"[\u4e00-\u9fff]", message) and message.endswith("。"), message


def test_complete_refuses_a_path_on_the_server(client):
    with pytest.raises(Exception) as caught:
        client.predict("/etc/hostname", 10, api_name="/complete")
    assert "uploaded file" in str(caught.value)


def test_complete_of_a_blank_picture_says_so(client, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("L", (100, 100), 255).save(blank)
    with pytest.raises(Exception) as caught:
        client.predict(handle_file(str(blank)), 10, api_name="/complete")
    assert "blank" in str(caught.value)


# ---------------------------------------------------------------------- /write_step
def test_write_step_is_listed_with_its_arguments(client):
    names = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert [p["parameter_name"] for p in names["/write_step"]["parameters"]] == [
        "rows", "label", "temperature", "seed", "model"]


def test_28_steps_write_the_digit_of_write_and_end_at_its_exact_log_likelihood(client, write_app):
    stamp = weights_stamp(write_app[1])
    writer = RowWriter.from_pretrained(write_app[1], device="cpu")
    rows, total, steps = [], 0.0, []
    while len(rows) < 28:
        step = client.predict(rows, 4, 0.7, 2024, "writer-mnist", api_name="/write_step")
        assert step["row"] == len(rows) and step["rows"][:-1] == rows and step["rows"][-1] == step["pixels"]
        assert step["done"] == (step["row"] == 27) and step["seed"] == 2024 and step["label"] == 4
        total += step["row_log_likelihood"]
        assert step["log_likelihood"] == pytest.approx(total, abs=1e-3)  # the running sum of the rows' terms
        rows = step["rows"]
        steps.append(step)
    digit = client.predict(4, 0.7, 2024, "writer-mnist", api_name="/write")["digit"]
    if weights_stamp(write_app[1]) != stamp:
        pytest.skip("the writer checkpoint was saved again during the test (it is still being trained)")
    assert rows == digit
    image = torch.tensor(rows, dtype=torch.float32)[None]
    with torch.no_grad():
        assert steps[-1]["log_likelihood"] == pytest.approx(writer.log_prob(image, 4).item(), abs=1e-3)
        # Each step's probabilities are the model's conditionals of that row given everything before each pixel.
        conditionals = torch.sigmoid(writer(image, 4))[0]
    for step in steps:
        assert np.allclose(step["probabilities"], conditionals[step["row"]].numpy(), atol=1e-4)
        logits = torch.logit(torch.tensor(step["probabilities"], dtype=torch.float64).clamp(1e-6, 1 - 1e-6))
        assert np.allclose(step["tempered"], torch.sigmoid(logits / 0.7).numpy(), atol=1e-3)
        assert sum(step["reader"]["probabilities"].values()) == pytest.approx(1, abs=1e-3)


def test_write_step_without_rows_starts_a_digit_and_says_its_seed(client):
    first = client.predict(api_name="/write_step")
    assert first["row"] == 0 and len(first["rows"]) == 1 and first["label"] is None and 0 <= first["seed"]
    again = client.predict([], -1, 1.0, first["seed"], api_name="/write_step")
    assert again["pixels"] == first["pixels"] and again["probabilities"] == first["probabilities"]


ROW = json.dumps([0] * 28)
BAD_STEPS = [  # (raw JSON text of [rows, label, temperature, seed, model], words the sentence must hold)
    ('[5, 7, 1, 1, "writer-mnist"]', "list of rows"),
    ('["abc", 7, 1, 1, "writer-mnist"]', "list of rows"),
    ('[{"a": 1}, 7, 1, 1, "writer-mnist"]', "list of rows"),
    ('[[[0, 1]], 7, 1, 1, "writer-mnist"]', "Row 0"),
    ('[[[' + ",".join(["NaN"] * 28) + ']], 7, 1, 1, "writer-mnist"]', "Row 0"),
    ('[[[' + ",".join(["Infinity"] * 28) + ']], 7, 1, 1, "writer-mnist"]', "Row 0"),
    ('[[[' + ",".join(["1e400"] * 28) + ']], 7, 1, 1, "writer-mnist"]', "Row 0"),
    ('[[[' + ",".join(["true"] * 28) + ']], 7, 1, 1, "writer-mnist"]', "Row 0"),
    ('[[[' + ",".join(["2"] * 28) + ']], 7, 1, 1, "writer-mnist"]', "Row 0"),
    ('[[[' + ",".join(["0.5"] * 28) + ']], 7, 1, 1, "writer-mnist"]', "Row 0"),
    ('[[[' + ",".join(['"1"'] * 28) + ']], 7, 1, 1, "writer-mnist"]', "Row 0"),
    ('[[[' + ",".join(["[0]"] * 28) + ']], 7, 1, 1, "writer-mnist"]', "Row 0"),
    (f'[[{ROW}, 5], 7, 1, 1, "writer-mnist"]', "Row 1"),
    (f'[[{",".join([ROW] * 28)}], 7, 1, 1, "writer-mnist"]', "All 28 rows are written already"),
    (f'[{ROW}, 7, 1, 1, "writer-mnist"]', "Row 0"),  # one row, not a list of rows
    (f'[{json.dumps([[0] * 28] * 10_000)}, 7, 1, 1, "writer-mnist"]', "at most 27"),
    (f'[{json.dumps("x" * (MAX_BODY_BYTES // 2))}, 7, 1, 1, "writer-mnist"]', "list of rows"),
    ('[[], NaN, 1, 1, "writer-mnist"]', "label"),
    ('[[], 10, 1, 1, "writer-mnist"]', "label"),
    ('[[], 7, 0, 1, "writer-mnist"]', "temperature"),
    ('[[], 7, Infinity, 1, "writer-mnist"]', "temperature"),
    ('[[], 7, "hot", 1, "writer-mnist"]', "temperature"),
    ('[[], 7, 1, NaN, "writer-mnist"]', "seed"),
    ('[[], 7, 1, -5, "writer-mnist"]', "seed"),
    ('[[], 7, 1, [1], "writer-mnist"]', "seed"),
    ("[[], 7, 1, 1, 5]", "writer"),
    ('[[], 7, 1, 1, "vae-mnist"]', "writer"),
    (f'[[], 7, 1, 1, {json.dumps("x" * (MAX_BODY_BYTES // 2))}]', "Unknown writer"),
]


@pytest.fixture
def server_log(capfd):
    """Yields a function returning the tracebacks the in-process server logged or printed since the test began."""
    capfd.readouterr()

    def tracebacks() -> list[str]:
        err = capfd.readouterr().err
        return records.tracebacks() + (["stderr: " + err[-3000:]] if "Traceback" in err else [])

    with ServerLog() as records:
        yield tracebacks


@pytest.mark.parametrize("raw, words", BAD_STEPS, ids=[f"step-{k}" for k in range(len(BAD_STEPS))])
def test_a_bad_write_step_gets_one_sentence_and_no_traceback(write_app, server_log, raw, words):
    event, data = api_call(write_app[0], "write_step", raw)
    message = error_sentence(event, data)
    assert words in message and ONE_SENTENCE.match(message) and not leaks(message), message
    assert not server_log()


# ---------------------------------------------------------------------- without a server
def test_the_tab_says_plainly_when_there_is_no_writer(tmp_path):
    shutil.copytree(ROOT / "checkpoints" / "vae-mnist", tmp_path / "vae-mnist")
    with gr.Blocks():
        page = build_write_tab(ModelRegistry(tmp_path, device="cpu"))
    assert page.write.notice.value == str(words("write.no_writer"))  # the catalogue's, shown in the page's language
    assert page.write.notice.visible and not page.write.write.interactive
    with pytest.raises(gr.Error, match="No writer checkpoint is available"):
        list(streamed_user_errors(page.on_write)("", "any", 1.0, 1))


def test_the_nll_table_is_read_from_the_checkpoints_never_measured(tmp_path, monkeypatch):
    for name in ("writer-mnist", "vae-mnist"):
        shutil.copytree(ROOT / "checkpoints" / name, tmp_path / name)
    registry = ModelRegistry(tmp_path, device="cpu")
    # A request must not measure: any call of the measurement fails this test.
    monkeypatch.setattr(likelihood, "measure", lambda *args, **kwargs: pytest.fail("measured in a request"))
    models = actions.load_models(registry, "writer-mnist")
    figures = actions.nll_figures(registry, models)
    stored = [likelihood.stored(read_config(tmp_path / name)) for name in ("writer-mnist", "vae-mnist")]
    assert [figures.writer, figures.vae] == stored
    text = render.nll_markdown(figures, models.writer_name, models.vae_name)
    assert f"**{stored[0]['nats']:.1f}**" in text and f"≤ **{stored[1]['nats']:.1f}**" in text
    assert "500 binarized validation digits of mnist-5k" in text and "not measured" not in text

    config = read_config(tmp_path / "vae-mnist")  # a VAE saved without the measurement
    del config[likelihood.NLL_KEY]
    (tmp_path / "vae-mnist" / "config.json").write_text(json.dumps(config))
    figures = actions.nll_figures(registry, models)
    assert figures.writer == stored[0] and figures.vae is None
    text = render.nll_markdown(figures, models.writer_name, models.vae_name)
    assert "| VAE `vae-mnist` | not measured |" in text and f"**{stored[0]['nats']:.1f}**" in text


def test_the_nll_table_says_when_the_figures_are_not_on_the_same_digits():
    writer = {"nats": 80.0, "given_class": 75.0, "bound": "exact", "dataset": "mnist", "split": "validation",
              "digits": 5000, "binarize_seed": 0}
    vae = {"nats": 97.0, "bound": "iwae", "k": 1000, "dataset": "mnist-5k", "split": "validation", "digits": 500,
           "binarize_seed": 0}
    text = render.nll_markdown(actions.NllFigures(writer, vae), "w", "v")
    assert "Not on the same digits" in text and "5,000 binarized validation digits of mnist" in text
    text = render.nll_markdown(actions.NllFigures(None, None, "There is no VAE trained on mnist to compare with."),
                               "w", None)
    assert "| writer `w` | not measured |" in text and "There is no VAE trained on mnist" in text


def test_the_pictures_words_are_in_the_language_of_the_call():
    record = {"nats": 80.0, "given_class": 75.0, "bound": "exact", "dataset": "mnist", "split": "validation",
              "digits": 5000, "binarize_seed": 0}
    with i18n.speaking("zh-CN"):
        row = render.next_row_html(2, np.full(28, 0.5), np.full(28, 0.5), np.zeros(28), 1.0, -3.0, -10.0)
        table = render.nll_markdown(actions.NllFigures(record, None, "-"), "w", "v")
        ending = render.endings_html(np.zeros((1, 28, 28)), 14, ["7"], [0.9])
    assert "第 3/28 行：逐个像素的着墨概率" in row and "<b>-10.0</b> 奈特（本行 -3.0）" in row
    assert "| 模型 | 负对数似然（奈特/图） |" in table and "mnist 中 5,000 个二值化的验证集数字" in table
    assert "识别为 7 · 90%" in ending and 'alt="第 1 种结尾"' in ending


@pytest.fixture(scope="module")
def write_page():
    with gr.Blocks():
        page = build_write_tab(ModelRegistry(ROOT / "checkpoints", device="cpu"))
    return page


def test_steps_in_the_page_continue_this_sessions_digit_and_write_the_same_digit_as_write(write_page):
    page, state, seeds = write_page, None, set()
    for t in range(28):
        out = page.on_step("writer-mnist", "2", 0.9, 31, state)
        state = out[page.steps]
        assert len(state["rows"]) == t + 1
        assert f'data-row="{t}"' in out[page.write.next_row]
        seeds.add(state["seed"])
    assert seeds == {31} and 'data-done="true"' in out[page.write.digit]
    models = actions.load_models(page.registry, "writer-mnist")
    digit = actions.write_digit(models, 2, 0.9, actions.generator(31))
    assert (np.array(state["rows"]) == digit).all()
    written = torch.tensor(state["rows"], dtype=torch.float32)[None]
    with torch.no_grad():
        log_p = models.writer.log_prob(written, 2).item()
    shown = float(re.search(r'data-log-likelihood="([-\d.]+)"', out[page.write.next_row]).group(1))
    assert shown == pytest.approx(log_p, abs=1e-3)
    # A finished digit: the next Step starts a new one; a Play tick stops instead of starting one.
    assert page.on_play_tick("writer-mnist", "2", 0.9, 31, state)[page.write.play_timer].active is False
    assert len(page.on_step("writer-mnist", "2", 0.9, 31, state)[page.steps]["rows"]) == 1


def test_another_class_or_seed_starts_a_new_digit_and_a_temperature_change_goes_on(write_page):
    page = write_page
    state = page.on_step("writer-mnist", "any", 1.0, -1, None)[page.steps]
    state = page.on_step("writer-mnist", "any", 1.0, -1, state)[page.steps]
    assert len(state["rows"]) == 2  # -1 in the seed box: a fresh seed per digit, kept while it is written
    hotter = page.on_step("writer-mnist", "any", 1.5, -1, state)[page.steps]
    assert len(hotter["rows"]) == 3 and hotter["seed"] == state["seed"]
    assert len(page.on_step("writer-mnist", "5", 1.5, -1, hotter)[page.steps]["rows"]) == 1
    assert len(page.on_step("writer-mnist", "any", 1.5, 8, hotter)[page.steps]["rows"]) == 1


def test_play_switches_the_timer_on_and_a_bad_setting_stops_it_with_one_warning(write_page):
    page = write_page
    out = page.on_play("writer-mnist", "any", 1.0, 5, None)
    assert out[page.write.play_timer].active is True and len(out[page.steps]["rows"]) == 1
    tick = page.on_play_tick("writer-mnist", "any", 1.0, 5, out[page.steps])
    assert len(tick[page.steps]["rows"]) == 2 and page.write.play_timer not in tick
    with pytest.warns(UserWarning, match="temperature"):
        stopped = page.on_play_tick("writer-mnist", "any", 9.0, 5, tick[page.steps])
    assert stopped[page.write.play_timer].active is False and page.steps not in stopped
    assert page.on_stop()[page.write.play_timer].active is False
