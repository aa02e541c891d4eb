"""Helpers of the hostile-input tests: plain-HTTP calls of the app's endpoints, leak checks, uploads, a log
capture for the server running in this process, and the waits with a deadline every test uses (wait_for).

Not a test module; the tests/test_*.py modules import it.
"""

import json
import uuid
import logging
import shutil
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
FILE_META = {"_type": "gradio.FileData"}
SENTENCE_LIMIT = 400  # characters: an error a visitor reads is one sentence, not a dump
# Seconds a test waits for an event before it fails saying so: a hang detector, never reached on a slow machine.
WAIT_S = 120.0


def api_call(url: str, name: str, raw_data: str, timeout_s: float = 300) -> tuple[str, object]:
    """POST `/gradio_api/call/<name>` with the body '{"data": <raw_data>}' (raw JSON text, so NaN and
    Infinity can be sent) and read its event stream; return (event, data) of the final event.

    A refused POST returns ('http-<status>', body text).
    """
    with httpx.Client(base_url=url, timeout=timeout_s) as client:
        posted = client.post(f"/gradio_api/call/{name}", content='{"data": ' + raw_data + "}",
                             headers={"content-type": "application/json"})
        if posted.status_code != 200:
            return f"http-{posted.status_code}", posted.text
        event_id = posted.json()["event_id"]
        streamed = client.get(f"/gradio_api/call/{name}/{event_id}")
    return last_event(streamed.text)


def last_event(stream: str) -> tuple[str, object]:
    """Return (event, parsed data) of the last complete/error event of a Gradio SSE stream."""
    event, found = None, ("no-event", stream)
    for line in stream.splitlines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event in ("complete", "error"):
            text = line.split(":", 1)[1].strip()
            try:
                found = (event, json.loads(text))
            except ValueError:
                found = (event, text)
    return found


def error_sentence(event: str, data) -> str:
    """Return the error message of an error event, or fail saying what came instead."""
    assert event == "error", f"expected an error event, got {event}: {str(data)[:300]}"
    assert isinstance(data, dict), f"error event without a message object: {data!r}"
    message = data.get("error")
    assert isinstance(message, str) and message.strip(), f'{{"error": null}} reached the client: {data!r}'
    assert len(message) <= SENTENCE_LIMIT and "\n" not in message.strip(), f"not one sentence: {message!r}"
    return message


def leak_markers(*extra) -> list[str]:
    """Strings that must never reach a visitor: tracebacks and server paths (the project, Python, `extra`)."""
    markers = ["Traceback", 'File "', str(ROOT), sys.prefix, sys.base_prefix]
    return [m for m in markers + [str(e) for e in extra] if m]


def leaks(payload, *extra) -> list[str]:
    """Return the markers of `leak_markers(*extra)` found in `payload` (any JSON-able value or text)."""
    text = payload if isinstance(payload, str) else json.dumps(payload, default=str)
    return [m for m in leak_markers(*extra) if m in text]


def upload(url: str, name: str, data: bytes) -> tuple[int, object]:
    """Upload `data` as a file called `name`; return (HTTP status, server path or the response text)."""
    with httpx.Client(base_url=url, timeout=120) as client:
        response = client.post("/gradio_api/upload", files={"files": (name, data, "application/octet-stream")})
    if response.status_code == 200:
        return 200, response.json()[0]
    return response.status_code, response.text


def file_data(path: str) -> dict:
    """Return the FileData object an endpoint's file input takes for an uploaded `path`."""
    return {"path": path, "meta": FILE_META}


class ServerLog(logging.Handler):
    """Collects every log record of this process (the live app runs in-process) while installed."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def tracebacks(self) -> list[str]:
        """Return the messages of records that carry a traceback."""
        return [r.getMessage() for r in self.records if r.exc_info or "Traceback" in r.getMessage()]

    def __enter__(self):
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc):
        logging.getLogger().removeHandler(self)


def wait_for(predicate, what: str, *, timeout_s: float = WAIT_S, interval_s: float = 0.1, last=None):
    """Poll `predicate` until it is truthy and return its value. The deadline detects a hang, it is not a
    speed claim: past it the test fails with a sentence naming `what` it waited for and the last state seen
    (`last()` when given, else the predicate's last value)."""
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()):
        if time.monotonic() > deadline:
            seen = last() if last is not None else value
            raise AssertionError(f"Waited {timeout_s:.0f} s for {what}; last state seen: {str(seen)[:500]!r}")
        time.sleep(interval_s)
    return value


def job_state(view: dict) -> str:
    """Return the parts of a job's status view that say where it stands (status, epochs, queue place, error)."""
    return (f"status {view.get('status')}, {view.get('epochs_done')} epochs done, queue position "
            f"{view.get('queue_position')}, error {view.get('error')!r}")


def wait_for_view(read, until, what: str, *, timeout_s: float = WAIT_S, interval_s: float = 0.1) -> dict:
    """Poll `read()` (a job's status view) until `until(view)` holds; return that view. Past the deadline fail
    naming `what` and where the last view read stood (job_state)."""
    seen = {}

    def arrived() -> bool:
        seen["view"] = read()
        return bool(until(seen["view"]))

    wait_for(arrived, what, timeout_s=timeout_s, interval_s=interval_s, last=lambda: job_state(seen["view"]))
    return seen["view"]


def wait_job(runner, job_id: str, timeout_s: float = WAIT_S) -> dict:
    """Return the job's status view once it is neither queued nor running (runner.wait); past `timeout_s` fail
    with a sentence saying where it stood."""
    view = runner.wait(job_id, timeout_s=timeout_s)
    if view["status"] in ("queued", "running"):
        raise AssertionError(f"Waited {timeout_s:.0f} s for job {job_id} to finish; last state seen: {job_state(view)}")
    return view


def copy_shipped_run(runs_dir: Path, job_id: str, checkpoint: str = "vae-mnist", owner: str = "",
                     status: str = "done", name: str = "") -> Path:
    """Plant a finished job whose checkpoint is a copy of a shipped one (no training); return its folder."""
    from jobs.records import JobFolder, read_config

    folder = JobFolder(runs_dir, job_id)
    folder.path.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "checkpoints" / checkpoint, folder.checkpoint, dirs_exist_ok=True)
    config = read_config(folder.checkpoint)
    now = time.time()
    folder.save_record({
        "id": job_id, "name": name, "model_type": config["model_type"], "model_config": config["model"],
        "train_config": {"dataset": config.get("dataset", "mnist-5k")}, "status": status, "owner": owner,
        "created": now, "queued": now, "started": now, "finished": now, "pid": None, "error": None,
        "cancel_requested": None, "target_epochs": config.get("epochs_trained", 1),
        "segments": [{"epochs": config.get("epochs_trained", 1), "resume": False}]})
    return folder.path


class ServedApp:
    """The real app over its own runs folder, served in this process on a free loopback port (a context manager).

    `url` is its address, `lab` the app.LatentLab (lab.jobs is its JobRunner), `runs_dir` its runs folder.
    """

    def __init__(self, runs_dir: Path, limits=None, **launch_kwargs):
        self.runs_dir, self.limits, self.launch_kwargs = Path(runs_dir), limits, launch_kwargs
        self.lab, self.url = None, None

    def __enter__(self):
        import socket

        import app

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.lab = app.build_app(runs_dir=self.runs_dir, limits=self.limits or app.limits_from_env())
        app.serve(self.lab, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                  **self.launch_kwargs)
        self.url = self.lab.blocks.local_url.rstrip("/")
        return self

    def __exit__(self, *exc):
        self.lab.close()


def descendants(pid: int) -> list[tuple[int, str]]:
    """Return (pid, command line) of every process below `pid`, read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        try:
            found.append((child, Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()))
        except OSError:
            continue
        todo += children.get(child, [])
    return found


def call_event(url: str, fn_index: int, data: list) -> tuple[str, object]:
    """Call page event `fn_index` through gradio's queue as the page does, its body raw JSON (NaN can be sent);
    return (event, output) of its end."""
    session = uuid.uuid4().hex[:10]
    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
                       "trigger_id": None})
    with httpx.Client(base_url=url, timeout=120) as client:
        joined = client.post("/gradio_api/queue/join", content=body, headers={"content-type": "application/json"})
        if joined.status_code != 200:
            return f"http-{joined.status_code}", joined.text
        stream = client.get("/gradio_api/queue/data", params={"session_hash": session}).text
    for line in stream.splitlines():
        if line.startswith("data:"):
            message = json.loads(line[5:])
            if message.get("msg") == "process_completed":
                return ("complete" if message.get("success") else "error"), message.get("output")
    return "no-end", stream[-300:]
