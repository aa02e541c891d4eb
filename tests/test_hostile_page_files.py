"""The page's own events that take a file (the Explore tab's upload, the Write tab's upload and drawing),
called as a hostile client would, with a path that was never uploaded such as /etc/passwd: each answers
one sentence, logs no traceback and reads nothing (ui/errors.py refuse_foreign_files)."""


import httpx
import pytest
from hostile import ServerLog, call_event, error_sentence, leaks

FILE_KINDS = {"file", "image", "imageeditor", "sketchpad", "gallery"}
PASSWD = {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}, "orig_name": "passwd"}
HOSTILE = {
    "a foreign FileData": PASSWD,
    "a bare path": "/etc/passwd",
    "a path climbing out of the cache": dict(PASSWD, path="/tmp/gradio/../../etc/passwd"),
    "a foreign layer of a drawing": {"background": None, "layers": [PASSWD], "composite": PASSWD},
    "a number": 7,
}


def page_events_taking_files(url: str) -> list[tuple[int, list[dict], int]]:
    """Return (fn_index, its input components' config, the position of the file input) of each page event with a file input."""
    config = httpx.get(f"{url}/config", timeout=60).json()
    components = {c["id"]: c for c in config["components"]}
    found = []
    for index, dependency in enumerate(config["dependencies"]):
        inputs = [components[i] for i in dependency["inputs"]]
        for position, component in enumerate(inputs):
            if component["type"] in FILE_KINDS:
                found.append((index, inputs, position))
    return found


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_page_file_events_refuse_foreign_paths_with_a_sentence(live_app, kind, capfd):
    events = page_events_taking_files(live_app)
    assert len(events) >= 3, f"expected the Explore upload and the Write tab's upload and drawing: {events}"
    with ServerLog() as log:
        for fn_index, inputs, position in events:
            data = [c["props"].get("value") for c in inputs]
            data[position] = HOSTILE[kind]
            event, output = call_event(live_app, fn_index, data)
            message = error_sentence(event, output)
            assert not leaks(message), (fn_index, message)
    logged = capfd.readouterr()
    assert "Traceback" not in logged.out + logged.err and not log.tracebacks(), (logged.err[-2000:], log.tracebacks())
    assert "root:x:0:0" not in logged.out + logged.err
