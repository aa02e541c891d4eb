"""Soak: the real app under mixed traffic with a training job running; resources at start, after warm-up and at the end.

    .venv/bin/python bench/soak.py                  # 600 s of traffic from 4 threads (stops by itself)
    .venv/bin/python bench/soak.py --seconds 60 --threads 2

Starts the app in this process on a loopback port over a temporary runs folder and a private
Gradio temp folder, starts a long training job (mnist-5k) through /train, then sends mixed traffic
over plain HTTP: decode, sample, reconstruct and classify an uploaded digit, /job, /jobs, the
page, and now and then a cancel + resume of its own job. Inputs cycle through a fixed set (8 codes,
8 seeds, one digit file), so after the warm-up every output is already in Gradio's cache and the
cache should stop growing. Prints a markdown table: RSS (MB), threads, open file descriptors and
files in the Gradio temp folder at start, after warm-up and at the end, then requests, errors and
p50/p95 latency per endpoint. `soak()` is what tests/test_soak_short.py runs for 30 s.

The RSS grows with the sessions Gradio holds state for: every queued API call that names no
session opens one (about 0.45 MB here: a copy of the page's config per session), kept until
`state_session_capacity` (500, set by app.serve) evicts the least recently used. These clients name
none on purpose (what a careless script does); bench/class_sim.py's clients name one, as pages do.
"""

import argparse
import io
import json
import os
import random
import socket
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "soak-bench-owner-token"
JOB = {"model": "vae", "dataset": "mnist-5k", "epochs": 100, "hidden_size": 64, "batch_size": 128}
OWNER_ACTIONS = threading.Lock()  # the soak's cancel + resume pairs, one at a time
VARIANTS = 8  # distinct codes and seeds: after the warm-up every output is already cached
WEIGHTS = {"decode": 30, "sample": 15, "reconstruct": 10, "classify": 10, "job": 12, "jobs": 10, "page": 10,
           "cancel+resume": 3}


def resources(temp_dir: Path, sessions: int = 0) -> dict:
    """Return this process's RSS (MB), OS threads, open file descriptors, the files under `temp_dir` and
    `sessions` (the sessions Gradio holds state for: each API call without a session opens one)."""
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    files = sum(len(names) for _, _, names in os.walk(temp_dir))
    return {"rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1), "threads": int(fields["Threads"]),
            "fds": len(os.listdir("/proc/self/fd")), "temp_files": files, "sessions": sessions}


def _digit_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("L", (96, 96), 255)
    ImageDraw.Draw(image).line([(30, 16), (66, 16), (44, 82)], fill=0, width=9)  # a 7, dark ink on paper
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class Traffic:
    """One client thread's calls; records (endpoint, seconds, ok) and the first few errors."""

    def __init__(self, url: str, stats: dict, errors: list, lock: threading.Lock):
        import httpx

        self.client = httpx.Client(base_url=url, timeout=300)
        self.stats, self.errors, self.lock = stats, errors, lock
        self.job_id = None
        self.image = None

    def call(self, name: str, data: list):
        """POST /gradio_api/call/<name>, read the event stream; return the output list (raises on an error event)."""
        posted = self.client.post(f"/gradio_api/call/{name}", json={"data": data})
        posted.raise_for_status()
        text = self.client.get(f"/gradio_api/call/{name}/{posted.json()['event_id']}").text
        event, payload = None, None
        for line in text.splitlines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                payload = json.loads(line.split(":", 1)[1])
                if event == "error":
                    raise RuntimeError(f"{name}: {payload}")
                return payload
        raise RuntimeError(f"{name}: no complete event in {text[:200]!r}")

    def upload(self) -> dict:
        if self.image is None:
            response = self.client.post("/gradio_api/upload", files={"files": ("digit.png", _digit_png(), "image/png")})
            response.raise_for_status()
            self.image = {"path": response.json()[0], "meta": {"_type": "gradio.FileData"}}
        return self.image

    def do(self, action: str, variant: int) -> None:
        started = time.perf_counter()
        ok = True
        try:
            self._act(action, variant)
        except Exception as error:  # noqa: BLE001 -- every failure is counted and reported
            ok = False
            with self.lock:
                if len(self.errors) < 20:
                    self.errors.append(f"{action}: {str(error)[:300]}")
        with self.lock:
            self.stats[action].append((time.perf_counter() - started, ok))

    def _act(self, action: str, variant: int) -> None:
        if action == "decode":
            z = [round(((variant * 7 + i * 3) % 11 - 5) / 5, 2) for i in range(20)]
            self.call("decode", [z, "vae-mnist"])
        elif action == "sample":
            self.call("sample", ["vae-mnist", variant])
        elif action in ("reconstruct", "classify"):
            self.call(action, [self.upload(), "vae-mnist"])
        elif action == "job":
            self.call("job", [self.job_id, TOKEN])
        elif action == "jobs":
            self.call("jobs", [])
        elif action == "page":
            response = self.client.get("/")
            response.raise_for_status()
        elif action == "cancel+resume":
            with OWNER_ACTIONS:  # one owner: two of their tabs would not cancel and resume at the same instant
                view = self.call("job", [self.job_id, TOKEN])[0]
                if view["status"] == "running" and view["epochs_done"] >= 1:  # something to resume from
                    status = self.call("cancel", [self.job_id, TOKEN])[0]
                    if status != "cancelled":
                        raise RuntimeError(f"cancel gave {status}")
                    self.call("resume", [self.job_id, TOKEN, 50])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def soak(seconds: float = 600, threads: int = 4, warmup_s: float | None = None, seed: int = 0) -> dict:
    """Run the soak and return {'start', 'warm', 'end': resources, 'endpoints': {name: {...}}, 'errors': [...]}.

    The app and its job are stopped before returning; `warmup_s` (default a fifth of `seconds`, at
    most 60 s) is the part of the traffic after which the 'warm' figures are taken.
    """
    warmup_s = min(60.0, seconds / 5) if warmup_s is None else warmup_s
    work = Path(tempfile.mkdtemp(prefix="latent-lab-soak-"))
    temp_dir = work / "gradio-temp"
    temp_dir.mkdir()
    previous = os.environ.get("GRADIO_TEMP_DIR")
    os.environ["GRADIO_TEMP_DIR"] = str(temp_dir)  # read when the Blocks and the server are built
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import app
    from jobs import HostLimits
    from ui.gradio_internals import held_sessions

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    lab = app.build_app(runs_dir=work / "runs", limits=HostLimits(max_concurrent=1, max_queue=2, max_epochs=100))
    app.serve(lab, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    url = lab.blocks.local_url.rstrip("/")
    stats: dict[str, list] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    figures = {"start": resources(temp_dir, held_sessions(lab.blocks))}
    try:
        first = Traffic(url, stats, errors, lock)
        job_id = first.call("train", [JOB, TOKEN])[0]
        clients = [first] + [Traffic(url, stats, errors, lock) for _ in range(threads - 1)]
        for client in clients:
            client.job_id = job_id
        # Prime every variant once, so that the warm-up has seen every output the traffic can ask for.
        for variant in range(VARIANTS):
            for action in ("decode", "sample", "reconstruct", "classify"):
                first.do(action, variant)
        started = time.monotonic()
        warm_at = started + warmup_s
        end_at = started + seconds
        warm_taken = threading.Event()

        def run(index: int) -> None:
            rng = random.Random(seed + index)
            actions, weights = list(WEIGHTS), list(WEIGHTS.values())
            while time.monotonic() < end_at:
                if index == 0 and not warm_taken.is_set() and time.monotonic() >= warm_at:
                    figures["warm"] = resources(temp_dir, held_sessions(lab.blocks))
                    warm_taken.set()
                clients[index].do(rng.choices(actions, weights)[0], rng.randrange(VARIANTS))

        workers = [threading.Thread(target=run, args=(i,), name=f"soak-{i}") for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        figures.setdefault("warm", resources(temp_dir, held_sessions(lab.blocks)))
        figures["end"] = resources(temp_dir, held_sessions(lab.blocks))
        figures["job"] = first.call("job", [job_id, TOKEN])[0]["status"]
        for client in clients:
            client.client.close()
    finally:
        lab.close()
        if previous is None:
            os.environ.pop("GRADIO_TEMP_DIR", None)
        else:
            os.environ["GRADIO_TEMP_DIR"] = previous
    figures["endpoints"] = {
        name: {"requests": len(calls), "errors": sum(1 for _, ok in calls if not ok),
               "p50_ms": round(1000 * _percentile([t for t, _ in calls], 0.5), 1),
               "p95_ms": round(1000 * _percentile([t for t, _ in calls], 0.95), 1)}
        for name, calls in sorted(stats.items())}
    figures["errors"] = errors
    figures["seconds"], figures["threads"] = seconds, threads
    return figures


def markdown(figures: dict) -> str:
    """Return the soak's figures as two markdown tables."""
    lines = [f"Soak: {figures['seconds']:g} s of traffic from {figures['threads']} threads, one training job "
             f"(its status at the end: {figures.get('job', '?')}).", "",
             "| | RSS (MB) | threads | open fds | Gradio temp files | sessions held |", "|---|---:|---:|---:|---:|---:|"]
    for when in ("start", "warm", "end"):
        f = figures[when]
        label = {"start": "start", "warm": "after warm-up", "end": "end"}[when]
        lines.append(f"| {label} | {f['rss_mb']} | {f['threads']} | {f['fds']} | {f['temp_files']} | {f['sessions']} |")
    lines += ["", "| endpoint | requests | errors | p50 (ms) | p95 (ms) |", "|---|---:|---:|---:|---:|"]
    for name, e in figures["endpoints"].items():
        lines.append(f"| {name} | {e['requests']} | {e['errors']} | {e['p50_ms']} | {e['p95_ms']} |")
    if figures["errors"]:
        lines += ["", "First errors:"] + [f"- {e}" for e in figures["errors"]]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600, help="seconds of traffic (default 600)")
    parser.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds before the 'after warm-up' figures")
    args = parser.parse_args(argv)
    os.environ.setdefault("LATENT_LAB_DEVICE", "cpu")
    import torch

    torch.set_num_threads(1)  # like the tests: tiny models on a shared machine run steadiest on one thread
    figures = soak(args.seconds, args.threads, args.warmup)
    print(markdown(figures))
    return 1 if figures["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
