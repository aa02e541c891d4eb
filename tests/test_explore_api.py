"""The explorer's named API endpoints (ui/explore/api.py) through gradio_client and plain HTTP, against the live app.

Bad requests of every kind must come back as one sentence, never `{"error": null}`, never
"Something went wrong", and never leave a traceback in the server's log.
"""

import io
import json
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from gradio.utils import get_upload_folder
from gradio_client import Client, handle_file
from PIL import Image

from genmodels.data import load_dataset
from genmodels.registry import ModelRegistry
from ui.explore import api


@pytest.fixture(scope="module")
def client(live_app):
    return Client(live_app, verbose=False)


@pytest.fixture(scope="module")
def vae():
    return ModelRegistry(device="cpu").load("vae-mnist")


@pytest.fixture(scope="module")
def digit_file(tmp_path_factory):
    """A real validation digit (a '7' or whatever comes first), drawn dark on white at 10x, as PNG."""
    ds = load_dataset("mnist-5k")
    a, label = ds.val_x[0].numpy(), int(ds.val_y[0])
    path = tmp_path_factory.mktemp("digits") / "digit.png"
    Image.fromarray(255 - a).resize((280, 280), Image.Resampling.BILINEAR).save(path)
    return path, label


def read_png(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255


def test_named_endpoints_are_listed(client):
    names = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/decode", "/sample", "/reconstruct", "/classify"} <= set(names)


def test_decode_matches_the_in_process_vae(client, vae):
    z = [0.5 - 0.05 * k for k in range(20)]
    path = client.predict(z, "vae-mnist", api_name="/decode")
    picture = read_png(path)
    assert picture.shape == (28, 28)
    expected = vae.decode(torch.tensor([z])).reshape(28, 28).numpy()
    assert np.abs(picture - expected).max() <= 1 / 255 + 1e-6


def test_sample_returns_a_code_and_its_picture(client, vae):
    z, path = client.predict("vae-mnist", 7, api_name="/sample")
    assert len(z) == 20
    again, _ = client.predict("vae-mnist", 7, api_name="/sample")
    assert again == z  # a seed makes the draw reproducible
    expected = vae.decode(torch.tensor([z])).reshape(28, 28).numpy()
    assert np.abs(read_png(path) - expected).max() <= 2 / 255


def test_reconstruct_and_classify_an_uploaded_digit(client, digit_file):
    path, label = digit_file
    z, recon, probs = client.predict(handle_file(str(path)), "vae-mnist", api_name="/reconstruct")
    assert len(z) == 20 and all(abs(v) < 10 for v in z)
    assert read_png(recon).shape == (28, 28)
    assert probs["label"] == str(label)
    classified = client.predict(handle_file(str(path)), "vae-mnist", api_name="/classify")
    assert classified["label"] == str(label)
    total = sum(c["confidence"] for c in classified["confidences"])
    assert abs(total - 1) < 1e-3


def test_a_run_with_eight_latent_dimensions_is_served(client, latent8_run):
    z, path = client.predict(latent8_run, 4, api_name="/sample")
    assert len(z) == 8 and read_png(path).shape == (28, 28)
    assert read_png(client.predict([0.5] * 8, latent8_run, api_name="/decode")).shape == (28, 28)
    with pytest.raises(Exception, match="exactly 8"):
        client.predict([0.0] * 20, latent8_run, api_name="/decode")


@pytest.mark.parametrize("seed", [2**31, 2**63, -5])
def test_sample_refuses_seeds_out_of_range_with_a_sentence(client, seed):
    with pytest.raises(Exception, match="seed must be"):
        client.predict("vae-mnist", seed, api_name="/sample")
    z, _ = client.predict("vae-mnist", 2**31 - 1, api_name="/sample")  # the largest seed works
    assert len(z) == 20


def test_fashion_model_is_selectable(client):
    z, path = client.predict("vae-fashion", 1, api_name="/sample")
    assert len(z) == 20 and read_png(path).shape == (28, 28)


@pytest.mark.parametrize("z, message", [
    ([0.0] * 19, "exactly 20"),
    ([0.0] * 21, "exactly 20"),
    ([50.0] + [0.0] * 19, "between"),
    (["a"] * 20, "numbers"),
    ("not a list", "numbers"),
])
def test_bad_codes_get_a_short_message(client, z, message):
    with pytest.raises(Exception, match=message):
        client.predict(z, "vae-mnist", api_name="/decode")


def test_unknown_model_gets_a_short_message(client):
    with pytest.raises(Exception, match="Unknown model"):
        client.predict([0.0] * 20, "no-such-model", api_name="/decode")


def test_bad_files_get_a_short_message_and_the_app_keeps_serving(client, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), "white").save(blank)
    tiny = tmp_path / "tiny.png"
    Image.new("L", (1, 1)).save(tiny)
    huge = tmp_path / "huge.png"
    Image.new("1", (10_000, 10_000)).save(huge, optimize=True)
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), "white").save(buffer, format="PNG")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(buffer.getvalue()[:200])
    cases = {text: "not an image", empty: "empty", blank: "blank", tiny: "at least",
             huge: "megapixels", truncated: "damaged or truncated"}
    for path, message in cases.items():
        with pytest.raises(Exception, match=message):
            client.predict(handle_file(str(path)), "vae-mnist", api_name="/classify")
    z, _ = client.predict("vae-mnist", 3, api_name="/sample")  # still serving
    assert len(z) == 20


def post_json(url: str, body: dict, language: str = "en") -> tuple[int, dict | str]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Accept-Language": language})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def call(live_app: str, name: str, data, language: str = "en") -> tuple[str, object]:
    """POST /gradio_api/call/<name> asking for answers in `language`, then read the event stream; return (event,
    data) of its last message."""
    status, body = post_json(f"{live_app}/gradio_api/call/{name}", {"data": data}, language)
    assert status == 200, body
    with urllib.request.urlopen(f"{live_app}/gradio_api/call/{name}/{body['event_id']}", timeout=30) as response:
        stream = response.read().decode()
    event = stream.split("event:")[-1].split("\n", 1)[0].strip()
    return event, json.loads(stream.split("data:")[-1].strip().splitlines()[0])


def a_sentence(message) -> bool:
    """True for a short human message: text, not null, not an apology for a crash, no traceback."""
    return (isinstance(message, str) and 10 < len(message) < 400 and "Traceback" not in message
            and "Something went wrong" not in message and "didn't receive enough" not in message)


@pytest.mark.parametrize("seed", ["abc", 1.5, [1, 2], True, {"seed": 1}, "7"])
def test_sample_refuses_seeds_that_are_not_whole_numbers(client, seed):
    with pytest.raises(Exception, match="seed must be"):
        client.predict("vae-mnist", seed, api_name="/sample")


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_sample_refuses_nan_and_infinity_sent_as_raw_json(live_app, token):
    # gradio_client cannot send these (strict JSON), but a hand-written request can.
    request = urllib.request.Request(f"{live_app}/gradio_api/call/sample", headers={"Content-Type": "application/json"},
                                     data=f'{{"data": ["vae-mnist", {token}]}}'.encode())
    with urllib.request.urlopen(request, timeout=30) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{live_app}/gradio_api/call/sample/{event_id}", timeout=30) as response:
        stream = response.read().decode()
    assert "event: error" in stream and "seed must be" in stream


BAD_CALLS = [
    ("sample", ["vae-mnist", "abc"], "seed must be"),
    ("sample", ["vae-mnist", [3]], "seed must be"),
    ("sample", [42, 1], "model must be"),
    ("decode", [], "needs a value for z"),
    ("decode", [[0.0] * 3, "vae-mnist"], "exactly 20"),
    ("decode", [[True] * 20, "vae-mnist"], "list of 20 numbers"),
    ("decode", [[[0.0]] * 20, "vae-mnist"], "list of 20 numbers"),
    ("decode", [{"z": 1}, "vae-mnist"], "list of 20 numbers"),
    ("decode", [None, "vae-mnist"], "list of 20 numbers"),
    ("decode", [[0.0] * 20, "no-such-model"], "Unknown model"),
    ("decode", [[0.0] * 20, "rnn-mnist"], "needs a VAE"),
    ("decode", [[0.0] * 20, ["vae-mnist"]], "model must be"),
    ("classify", [], "needs a value for image"),
    ("classify", ["/etc/passwd", "vae-mnist"], "uploaded file"),
    ("classify", [{"path": "/etc/passwd"}, "vae-mnist"], "uploaded file"),
    ("classify", [{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}, "vae-mnist"], "uploaded to this"),
    ("reconstruct", [{"url": "http://example.com/a.png", "meta": {"_type": "gradio.FileData"}}], "uploaded to this"),
]


@pytest.mark.parametrize("name, data, message", BAD_CALLS)
def test_bad_calls_over_plain_http_answer_one_sentence_and_log_no_traceback(live_app, capfd, name, data, message):
    event, answer = call(live_app, name, data)
    assert event == "error"
    text = answer.get("error") if isinstance(answer, dict) else answer
    assert a_sentence(text) and message in text, answer
    logged = capfd.readouterr()
    assert "Traceback" not in logged.out + logged.err


@pytest.mark.parametrize("name, data, message", [
    ("sample", ["vae-mnist", "abc"], "随机种子必须是整数（-1 表示随机抽取）。"),
    ("decode", [[0.0] * 3, "vae-mnist"], "z 必须恰好有 20 个数（每个隐变量一个），现在有 3 个。"),
    ("decode", [[0.0] * 20, 42], "model 必须是一个检查点的名称，例如“vae-mnist”。"),
    ("classify", [{"path": "/etc/passwd"}, "vae-mnist"], "图像必须是已上传的文件"),
])
def test_a_caller_asking_for_chinese_gets_its_errors_in_chinese(live_app, name, data, message):
    event, answer = call(live_app, name, data, language="zh-CN,zh;q=0.9")
    assert event == "error" and message in answer.get("error"), answer
    event, answer = call(live_app, name, data)  # the next caller, in English, is answered in English
    assert event == "error" and "的" not in answer.get("error"), answer


def test_a_chinese_caller_gets_the_preprocessing_refusal_in_chinese(live_app, tmp_path):
    path = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(path)
    client = Client(live_app, verbose=False, headers={"Accept-Language": "zh-CN"})
    with pytest.raises(Exception, match="图像看起来是空白的"):
        client.predict(handle_file(str(path)), "vae-mnist", api_name="/classify")


def test_missing_optional_arguments_take_their_defaults(live_app):
    event, data = call(live_app, "decode", [[0.0] * 20])  # model defaults to vae-mnist
    assert event == "complete" and data[0]["url"].endswith(".png")
    event, data = call(live_app, "sample", [])
    assert event == "complete" and len(data[0]) == 20


def test_plain_http_decode_in_one_request(live_app, vae):
    z = [0.1 * (k % 5) for k in range(20)]
    status, body = post_json(f"{live_app}/gradio_api/run/decode", {"data": [z, "vae-mnist"]})
    assert status == 200
    with urllib.request.urlopen(body["data"][0]["url"], timeout=30) as response:
        picture = np.asarray(Image.open(io.BytesIO(response.read())).convert("L"), dtype=np.float32) / 255
    expected = vae.decode(torch.tensor([z])).reshape(28, 28).numpy()
    assert np.abs(picture - expected).max() <= 1 / 255 + 1e-6


def test_plain_http_call_protocol_and_errors(live_app):
    status, body = post_json(f"{live_app}/gradio_api/call/sample", {"data": ["vae-mnist", 5]})
    assert status == 200
    with urllib.request.urlopen(f"{live_app}/gradio_api/call/sample/{body['event_id']}", timeout=30) as response:
        stream = response.read().decode()
    assert "event: complete" in stream
    data = json.loads(stream.split("data:", 1)[1].strip().splitlines()[0])
    assert len(data[0]) == 20
    status, body = post_json(f"{live_app}/gradio_api/run/decode", {"data": [[0.0] * 3, "vae-mnist"]})
    assert status == 500 and "exactly 20" in body and "Traceback" not in body
    status, body = post_json(f"{live_app}/gradio_api/run/decode", {"data": []})
    assert status == 500 and "needs a value for z" in body


def test_upload_size_limit_is_enforced(live_app):
    payload = b"\x89PNG" + b"\0" * (11 * 1024 * 1024)
    boundary = "latentlabboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{live_app}/gradio_api/upload", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=60)
    assert error.value.code == 413


def cache_files() -> set[Path]:
    return {p for p in Path(get_upload_folder()).rglob("*") if p.is_file()}


def test_many_api_decodes_leave_a_bounded_number_of_files(live_app, monkeypatch):
    monkeypatch.setattr(api.API_FILES, "keep", 20)
    before = cache_files()
    for k in range(120):
        z = [round(0.01 * k - 0.5 + 0.03 * d, 3) for d in range(20)]  # a new picture every call
        request = urllib.request.Request(f"{live_app}/gradio_api/run/decode", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"data": [z, "vae-mnist"]}).encode())
        with urllib.request.urlopen(request, timeout=30) as response:
            url = json.loads(response.read())["data"][0]["url"]
    with urllib.request.urlopen(url, timeout=30) as response:  # the newest picture is still served
        assert response.read().startswith(b"\x89PNG")
    new = cache_files() - before
    assert len(new) <= 20 + 5, f"{len(new)} new files in gradio's cache after 120 calls"


def test_uploads_read_by_the_api_are_among_its_bounded_files(client, digit_file, monkeypatch):
    """Each gradio_client call uploads its image again: the uploads, like the answers, are kept only
    while they are among the API's newest files."""
    monkeypatch.setattr(api.API_FILES, "keep", 10)
    path, label = digit_file
    before = cache_files()
    for k in range(25):
        digit = Image.open(path).rotate(k / 2, fillcolor=255)  # a new file every call
        digit.save(path.parent / f"turned-{k}.png")
        assert client.predict(handle_file(str(path.parent / f"turned-{k}.png")), "vae-mnist",
                              api_name="/classify")["label"] == str(label)
    new = cache_files() - before
    assert len(new) <= 10 + 2, f"{len(new)} new files in gradio's cache after 25 uploads"

