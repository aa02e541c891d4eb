"""Request bodies are bounded (ui/limits.py MAX_BODY_BYTES, ui/guards.py): a larger one is answered 413 with
one sentence before the app reads it, declared or streamed; uploads keep gradio's own bound, which the
upload fields state."""

import json

import httpx

from ui.guards import too_large_sentence
from ui.language import shown
from ui.limits import MAX_BODY_BYTES, MAX_UPLOAD_BYTES, UPLOAD_LIMIT_MB

Z = [0.0] * 20


def a_refusal(response: httpx.Response) -> str:
    """Return the sentence of a 413 answer, or fail saying what came instead."""
    assert response.status_code == 413, (response.status_code, response.text[:300])
    message = response.json()["error"]
    assert message == too_large_sentence() and "\n" not in message and "Traceback" not in message
    return message


def decodes(client: httpx.Client) -> bool:
    answer = client.post("/gradio_api/run/decode", json={"data": [Z, "vae-mnist"]})
    return answer.status_code == 200 and answer.json()["data"][0]["url"].endswith(".png")


def test_a_25_mb_decode_body_is_refused_with_a_sentence_unread(live_app):
    body = b'{"data": [[' + b"0.0, " * (25_000_000 // 5) + b'0.0], "vae-mnist"]}'
    with httpx.Client(base_url=live_app, timeout=120) as client:
        a_refusal(client.post("/gradio_api/run/decode", content=body, headers={"content-type": "application/json"}))
        a_refusal(client.post("/gradio_api/queue/join", content=body, headers={"content-type": "application/json"}))
        assert decodes(client), "the app stopped answering after refusing a large body"


def test_a_streamed_body_without_a_length_is_counted(live_app):
    def chunks():
        yield b'{"data": [['
        for _ in range(2 * MAX_BODY_BYTES // 50_000):
            yield b"0.0, " * 10_000
        yield b'0.0], "vae-mnist"]}'

    with httpx.Client(base_url=live_app, timeout=120) as client:
        a_refusal(client.post("/gradio_api/run/decode", content=chunks(), headers={"content-type": "application/json"}))
        assert decodes(client)


def test_a_body_within_the_bound_reaches_the_app(live_app):
    padded = json.dumps({"data": [Z, "vae-mnist"]}) + " " * (MAX_BODY_BYTES - 1000)
    with httpx.Client(base_url=live_app, timeout=120) as client:
        answer = client.post("/gradio_api/run/decode", content=padded, headers={"content-type": "application/json"})
        streamed = client.post("/gradio_api/run/decode", content=iter([padded[:500_000].encode(), padded[500_000:].encode()]),
                               headers={"content-type": "application/json"})
    assert answer.status_code == 200 and answer.json()["data"][0]["url"].endswith(".png"), answer.text[:300]
    assert streamed.status_code == 200, streamed.text[:300]


def test_uploads_keep_gradios_bound_which_the_upload_fields_state(live_app):
    picture = b"\x89PNG" + b"\0" * (3 * MAX_BODY_BYTES)  # over the body bound, within the upload bound
    with httpx.Client(base_url=live_app, timeout=120) as client:
        accepted = client.post("/gradio_api/upload", files={"files": ("big.png", picture, "image/png")})
        refused = client.post("/gradio_api/upload",
                              files={"files": ("huge.png", b"\0" * (MAX_UPLOAD_BYTES + 1), "image/png")})
        config = client.get("/config").json()
    assert accepted.status_code == 200, accepted.text[:300]
    assert refused.status_code == 413, refused.text[:300]
    assert config["max_file_size"] == MAX_UPLOAD_BYTES
    labels = [c["props"].get("label") or "" for c in config["components"] if c["type"] == "file"
              and c["props"].get("interactive") is not False]
    for language in ("en", "zh-CN"):  # a label from the catalogue, as each language shows it
        shown_labels = [shown(label, language) for label in labels]
        assert labels and all(f"{UPLOAD_LIMIT_MB} MB" in label for label in shown_labels), shown_labels


def test_a_caller_asking_for_chinese_is_refused_in_chinese(live_app):
    body = b'{"data": [[' + b"0.0, " * (2 * MAX_BODY_BYTES // 5) + b'0.0], "vae-mnist"]}'
    answer = httpx.post(f"{live_app}/gradio_api/run/decode", content=body, timeout=120,
                        headers={"content-type": "application/json", "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert answer.status_code == 413 and answer.json()["error"] == too_large_sentence(language="zh-CN")
    assert answer.json()["error"].startswith("这个请求超出了本服务器接受的大小（最多 1,000 kB）")
