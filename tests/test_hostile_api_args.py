"""Every endpoint checks its own arguments: wrong types, missing arguments, NaN and Infinity
(raw JSON text), lists where scalars belong, huge strings. Each bad request, sent over plain HTTP
(`POST /gradio_api/call/<name>`, then its event stream), gets an error event carrying one sentence
without a traceback or a server path ({"error": null} never reaches a client), and the server's log
(its logging records and its stderr: the app runs in this process) gets no traceback for it.

Cases marked `tab check pending` were failing when this module was written because the check
belongs in the tab's endpoint (ui/explore, ui/train); they are not strict, so they pass once fixed.
"""

import json

import pytest
from hostile import ServerLog, api_call, error_sentence, file_data, leaks, upload

from ui.limits import MAX_BODY_BYTES

Z = json.dumps([0.0] * 20)
HUGE_TEXT = json.dumps("x" * (MAX_BODY_BYTES // 2))  # huge, yet within the bound on bodies (a larger one gets 413)
GOOD_ID = "20000101-000000-abcd"  # the right shape, no such job
TOKEN = '"hostile-api-token"'

# (endpoint, raw JSON text of the data list); every one of them is a request the endpoint must refuse.
CASES = {
    "decode": [
        "[]", '["abc", "vae-mnist"]', '[5, "vae-mnist"]', '[{"a": 1}, "vae-mnist"]', '[null, "vae-mnist"]',
        "[NaN, \"vae-mnist\"]", "[[" + ",".join(["NaN"] * 20) + '], "vae-mnist"]',
        "[[" + ",".join(["Infinity"] * 20) + '], "vae-mnist"]', "[[" + ",".join(["1e400"] * 20) + '], "vae-mnist"]',
        "[[" + ",".join(["[0]"] * 20) + '], "vae-mnist"]', "[" + json.dumps([0] * 100_000) + ', "vae-mnist"]',
        f"[{HUGE_TEXT}, \"vae-mnist\"]", f"[{Z}, 5]", f'[{Z}, ["vae-mnist"]]', f'[{Z}, {{"a": 1}}]',
        f"[{Z}, {HUGE_TEXT}]", f'[{Z}, "rnn-mnist"]', f'[{Z}, "../../etc/passwd"]',
    ],
    "sample": [
        '["vae-mnist", NaN]', '["vae-mnist", Infinity]', '["vae-mnist", "abc"]', '["vae-mnist", [1]]',
        '["vae-mnist", {"a": 1}]', '["vae-mnist", 1e300]', '["vae-mnist", -5]', '["vae-mnist", 2.5]',
        '["vae-mnist", true]', "[5, 1]", '[["vae-mnist"], 1]', f"[{HUGE_TEXT}, 1]", '["vae-mnist", ' + HUGE_TEXT + "]",
    ],
    "reconstruct": [
        "[]", '[5, "vae-mnist"]', '["/etc/passwd", "vae-mnist"]', '[{"path": "/etc/passwd"}, "vae-mnist"]',
        json.dumps([file_data("/etc/passwd"), "vae-mnist"]), '[null, "vae-mnist"]', '[[1, 2], "vae-mnist"]',
        '[NaN, "vae-mnist"]', f'[{HUGE_TEXT}, "vae-mnist"]',
    ],
    "classify": [
        "[]", '[5, "vae-mnist"]', '["/etc/passwd", "vae-mnist"]', json.dumps([file_data("/etc/passwd"), "vae-mnist"]),
        '[null, "vae-mnist"]', '[{"a": 1}, "vae-mnist"]', '[NaN, "vae-mnist"]',
    ],
    "train": [
        "[]", f"[5, {TOKEN}]", f'["vae", {TOKEN}]', f"[[], {TOKEN}]", f"[null, {TOKEN}]", f"[NaN, {TOKEN}]",
        f'[{{"epochs": NaN}}, {TOKEN}]', f'[{{"epochs": Infinity}}, {TOKEN}]', f'[{{"epochs": 1e400}}, {TOKEN}]',
        f'[{{"epochs": [1]}}, {TOKEN}]', f'[{{"lr": "NaN"}}, {TOKEN}]', f'[{{"lr": NaN}}, {TOKEN}]',
        f'[{{"model": ["vae"]}}, {TOKEN}]', f'[{{"dataset": {HUGE_TEXT}}}, {TOKEN}]', f'[{{"name": {HUGE_TEXT}}}, {TOKEN}]',
        f'[{{"x": {{"y": {{"z": [[[[1]]]]}}}}}}, {TOKEN}]', '[{"epochs": 1}, NaN]', '[{"epochs": 1}, 12345678]',
        '[{"epochs": 1}, ["hostile-api-token"]]', f'[{{"epochs": "x"}}, {HUGE_TEXT}]', '[{"epochs": 1}]',
        '[{"epochs": 1}, "short"]',  # the one thing wrong: the token is too short
    ],
    "job": [
        "[]", f'["{GOOD_ID}"]', '[5, ""]', '[null, ""]', '[["20000101-000000-abcd"], ""]', '[NaN, ""]',
        f'[{HUGE_TEXT}, ""]', '["../../etc/passwd", ""]', f'["{GOOD_ID}", ""]', f'["{GOOD_ID}", NaN]',
        f'["{GOOD_ID}", [1]]',
    ],
    "cancel": [
        "[]", f"[5, {TOKEN}]", f"[null, {TOKEN}]", f"[NaN, {TOKEN}]", f"[{HUGE_TEXT}, {TOKEN}]", f'["{GOOD_ID}", {TOKEN}]',
        f'["{GOOD_ID}", NaN]', f'["{GOOD_ID}", 5]', f'["{GOOD_ID}"]', f'["{GOOD_ID}", {{"t": 1}}]',
    ],
    "resume": [
        "[]", f'["{GOOD_ID}", {TOKEN}, NaN]', f'["{GOOD_ID}", {TOKEN}, Infinity]', f'["{GOOD_ID}", {TOKEN}, "x"]',
        f'["{GOOD_ID}", {TOKEN}, [1]]', f'["{GOOD_ID}", {TOKEN}, -1]', f'["{GOOD_ID}", {TOKEN}, 1e300]',
        f'["{GOOD_ID}", {TOKEN}, 2.5]', f'["{GOOD_ID}", {TOKEN}]', f"[5, {TOKEN}, 1]", f'["{GOOD_ID}", null, 1]',
        f'["{GOOD_ID}", {TOKEN}, {HUGE_TEXT}]', f'["{GOOD_ID}", {TOKEN}, {json.dumps([1] * 10_000)}]',
    ],
    "write": [  # label, temperature, seed, model
        '[NaN, 1, -1, "writer-mnist"]', '[Infinity, 1, -1, "writer-mnist"]', '["seven", 1, -1, "writer-mnist"]',
        '[[7], 1, -1, "writer-mnist"]', '[11, 1, -1, "writer-mnist"]', '[7.5, 1, -1, "writer-mnist"]',
        '[true, 1, -1, "writer-mnist"]', '[7, NaN, -1, "writer-mnist"]', '[7, 0, -1, "writer-mnist"]',
        '[7, 1e300, -1, "writer-mnist"]', '[7, "hot", -1, "writer-mnist"]', '[7, 1, NaN, "writer-mnist"]',
        '[7, 1, -5, "writer-mnist"]', "[7, 1, 1, 5]", f"[7, 1, 1, {HUGE_TEXT}]", '[7, 1, 1, "vae-mnist"]',
        '[7, 1, 1, ["writer-mnist"]]',
    ],
    "complete": [  # image, k, n, temperature, seed, model
        "[]", "[5]", '[5, 14, 4, 1, -1, "writer-mnist"]', '["/etc/passwd", 14, 4, 1, -1, "writer-mnist"]',
        json.dumps([file_data("/etc/passwd"), 14, 4, 1, -1, "writer-mnist"]), '[null, 14, 4, 1, -1, "writer-mnist"]',
        '[NaN, 14, 4, 1, -1, "writer-mnist"]', '[{"a": 1}, 14, 4, 1, -1, "writer-mnist"]',
        f'[{HUGE_TEXT}, 14, 4, 1, -1, "writer-mnist"]',
    ],
    "explain": [  # image, model
        "[]", '[5, "vae-mnist"]', '["/etc/passwd", "vae-mnist"]', json.dumps([file_data("/etc/passwd"), "vae-mnist"]),
        '[null, "vae-mnist"]', '[{"a": 1}, "vae-mnist"]', '[NaN, "vae-mnist"]', f'[{HUGE_TEXT}, "vae-mnist"]',
        json.dumps([file_data("/etc/passwd"), "rnn-mnist"]), json.dumps([file_data("/etc/passwd"), "../../etc"]),
    ],
    "write_step": [  # rows, label, temperature, seed, model
        '[5, -1, 1, 1, "writer-mnist"]', '["rows", -1, 1, 1, "writer-mnist"]', '[[[0, 1]], -1, 1, 1, "writer-mnist"]',
        "[[" + json.dumps([2] * 28) + '], -1, 1, 1, "writer-mnist"]',
        "[[" + json.dumps([0.5] * 28) + '], -1, 1, 1, "writer-mnist"]',
        "[[" + ",".join(["NaN"] * 28) + '], -1, 1, 1, "writer-mnist"]',
        "[" + json.dumps([[0] * 28] * 28) + ', -1, 1, 1, "writer-mnist"]',  # all 28 rows written already
        "[" + json.dumps([[0] * 28] * 10_000) + ', -1, 1, 1, "writer-mnist"]', '[[], 11, 1, 1, "writer-mnist"]',
        '[[], -1, NaN, 1, "writer-mnist"]', '[[], -1, 0, 1, "writer-mnist"]', '[[], -1, 1, -5, "writer-mnist"]',
        '[[], -1, 1, 1, "vae-mnist"]', f"[[], -1, 1, 1, {HUGE_TEXT}]",
    ],
    "runs": [  # model, sort_by, pictures
        '["gan", "newest", false]', '[5, "newest", false]', '[["vae"], "newest", false]', '["vae", "colour", false]',
        '["rnn", "beta", false]', '["all", NaN, false]', '["all", "newest", "yes"]', '["all", "newest", 1]',
        f'[{HUGE_TEXT}, "newest", false]', f'["all", {HUGE_TEXT}, false]',
    ],
    "jobs": [],  # takes nothing; extra arguments are checked below
}

# Cases that failed when this module was written ({"error": null} or a traceback in the log): the
# check belongs to the tab's endpoint. Filled in from a run; see the module docstring.


def _params():
    out = []
    for name, raws in CASES.items():
        for i, raw in enumerate(raws):
            out.append(pytest.param(name, raw, id=f"{name}-{i}"))
    return out


@pytest.fixture
def server_log(capfd):
    """Yields a function returning the tracebacks the in-process server logged or printed since the test began."""
    capfd.readouterr()
    printed = []

    def tracebacks() -> list[str]:
        printed.append(capfd.readouterr().err)
        err = "".join(printed)
        return records.tracebacks() + (["stderr: " + err[-3000:]] if "Traceback" in err else [])

    with ServerLog() as records:
        yield tracebacks


@pytest.mark.parametrize("name, raw", _params())
def test_a_bad_request_gets_one_sentence_and_no_traceback(live_app, runs_dir, server_log, name, raw):
    event, data = api_call(live_app, name, raw)
    message = error_sentence(event, data)
    assert not leaks(message, runs_dir), message
    assert not server_log(), server_log()


@pytest.mark.parametrize("raw", ["[1]", '["x", "y", 3]', "[NaN]"], ids=["one", "three", "nan"])
def test_jobs_with_arguments_it_does_not_take_answers_without_a_traceback(live_app, runs_dir, server_log, raw):
    event, data = api_call(live_app, "jobs", raw)
    if event == "error":
        error_sentence(event, data)
    else:
        assert event == "complete" and isinstance(data[0], list)
    assert not leaks(data, runs_dir)
    assert not server_log()


@pytest.mark.parametrize("body", ["{bad json", '{"data": 5}', '{"nodata": []}', "[]", '"just text"', ""],
                         ids=["broken", "data-not-a-list", "no-data", "list", "text", "empty"])
def test_a_malformed_body_is_refused_without_a_traceback(live_app, runs_dir, server_log, body):
    import httpx

    response = httpx.post(f"{live_app}/gradio_api/call/decode", content=body,
                          headers={"content-type": "application/json"}, timeout=60)
    assert response.status_code in (200, 400, 422), response.status_code
    if response.status_code == 200:  # accepted for processing: the stream then carries the sentence
        event_id = response.json()["event_id"]
        from hostile import last_event
        event, data = last_event(httpx.get(f"{live_app}/gradio_api/call/decode/{event_id}", timeout=60).text)
        error_sentence(event, data)
    assert not leaks(response.text, runs_dir)
    assert not server_log()


def test_a_file_outside_the_upload_folder_is_never_read(live_app, server_log):
    """A FileData pointing at a server file (here the app's own source) is refused, not decoded."""
    from hostile import ROOT

    event, data = api_call(live_app, "classify", json.dumps([file_data(str(ROOT / "app.py")), "vae-mnist"]))
    assert event == "error"
    assert "Latent Lab" not in json.dumps(data)
    assert not server_log()


def test_a_good_request_still_works_after_the_bad_ones(live_app):
    event, data = api_call(live_app, "decode", f'[{Z}, "vae-mnist"]')
    assert event == "complete", data
    status, path = upload(live_app, "digit.png", _digit_png())
    assert status == 200
    event, data = api_call(live_app, "classify", json.dumps([file_data(path), "vae-mnist"]))
    assert event == "complete", data


def _digit_png() -> bytes:
    import io

    from PIL import Image, ImageDraw
    image = Image.new("L", (56, 56), 0)
    ImageDraw.Draw(image).line([(28, 8), (28, 48)], fill=255, width=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_caller_asking_for_chinese_gets_its_sentences_in_chinese(live_app, server_log):
    """The same refusals, for a caller whose Accept-Language asks for Chinese (ui/errors.py, the catalogue)."""
    import httpx

    from hostile import ROOT, last_event

    def call(name: str, data: list) -> str:
        with httpx.Client(base_url=live_app, timeout=120, headers={"Accept-Language": "zh-CN,zh;q=0.9"}) as client:
            event_id = client.post(f"/gradio_api/call/{name}", json={"data": data}).json()["event_id"]
            return error_sentence(*last_event(client.get(f"/gradio_api/call/{name}/{event_id}").text))

    assert call("decode", []) == "/decode 缺少 z 的值（它的参数：z, model）。"
    assert call("classify", [file_data(str(ROOT / "app.py")), "vae-mnist"]).startswith("文件必须先上传到本服务器")
    assert not server_log()
