"""A class of 50 on one server, over loopback: is one free 2-vCPU Space enough?

    .venv/bin/python bench/class_sim.py                   # 60 s, 50 students (3 real pages + 47 HTTP clients)
    .venv/bin/python bench/class_sim.py --seconds 300     # the 5-minute soak
    .venv/bin/python bench/class_sim.py --students 30 --pages 2

Starts `python app.py` in its own process (free port, temporary runs and cache folders) so its CPU
time and memory are its own. Then, for --seconds:
  - a few real headless Chromium pages (/usr/bin/chromium) drag sliders in the page, let go (the
    server's full view on release, timed in the page from the pointerup, and from the moment the
    page sends the event, to the server's picture in the DOM; and as Playwright sees it) and press
    Random now and then;
  - lightweight HTTP clients do what a page does: GET the page, the model description and the
    weights once, then with a student's pauses (1.5-4 s) release-time decodes (/decode), random
    samples (/sample), uploads of a real digit (/gradio_api/upload + /reconstruct) and readings
    (/classify). Map clicks are page-only events (no public endpoint); the pages stand for them.
Reports per-action p50/p95 and errors, the server's CPU (process CPU time / wall time), its peak
and start/end RSS, and the files in gradio's cache at the start and the end, as markdown tables.
"""

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import slider_latency  # noqa: E402  (free port, percentiles, Chromium settings)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Server:
    """`python app.py` in its own process, with its CPU time, memory and cache folder readable from /proc."""

    def __init__(self):
        self.port = slider_latency._free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cache = Path(tempfile.mkdtemp(prefix="class-sim-cache-"))
        env = dict(os.environ, PORT=str(self.port), GRADIO_SERVER_PORT=str(self.port), LATENT_LAB_DEVICE="cpu",
                   GRADIO_ANALYTICS_ENABLED="False", GRADIO_TEMP_DIR=str(self.cache),
                   LATENT_LAB_RUNS_DIR=tempfile.mkdtemp(prefix="class-sim-runs-"))
        self.started = time.perf_counter()
        self.process = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"app.py exited: {self.process.stderr.read()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=5):
                    break
            except OSError:
                time.sleep(0.1)
        self.cold_start_s = time.perf_counter() - self.started

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime

    def memory_mb(self) -> tuple[float, float]:
        """Return (RSS now, peak RSS) in MB."""
        status = dict(line.split(":", 1) for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines())
        return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024

    def threads(self) -> int:
        status = dict(line.split(":", 1) for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines())
        return int(status["Threads"])

    def cache_files(self) -> int:
        return sum(len(files) for _, _, files in os.walk(self.cache))  # folders vanish as the sweep runs

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


class Results:
    """Latencies and errors per action, from every client thread."""

    def __init__(self):
        self.times = defaultdict(list)
        self.errors = defaultdict(int)
        self.lock = threading.Lock()
        self.first_errors = []

    def timed(self, action: str, fn):
        start = time.perf_counter()
        try:
            fn()
        except Exception as error:  # noqa: BLE001 - every failure is counted and shown, whatever it is
            with self.lock:
                self.errors[action] += 1
                if len(self.first_errors) < 5:
                    self.first_errors.append(f"{action}: {error!r}"[:300])
            return
        with self.lock:
            self.times[action].append((time.perf_counter() - start) * 1000)


def http(url: str, body: bytes | None = None, content_type: str = "application/json") -> bytes:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type} if body else {})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def post_json(url: str, data) -> dict:
    return json.loads(http(url, json.dumps(data).encode()))


def call(base: str, name: str, data: list, session: str):
    """POST /gradio_api/call/<name> in the client's session (a page has one), read its event stream; raise
    unless it completed."""
    event_id = post_json(f"{base}/gradio_api/call/{name}", {"data": data, "session_hash": session})["event_id"]
    stream = http(f"{base}/gradio_api/call/{name}/{event_id}").decode()
    if "event: complete" not in stream:
        raise RuntimeError(f"/{name}: {stream[-300:]}")


def upload(base: str, png: bytes) -> dict:
    boundary = "classsimboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"digit.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + png + f"\r\n--{boundary}--\r\n".encode()
    path = json.loads(http(f"{base}/gradio_api/upload", body, f"multipart/form-data; boundary={boundary}"))[0]
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


def student(base: str, results: Results, digits: list[bytes], stop: threading.Event, seed: int, arrival_s: float):
    """One lightweight client: opens the page within `arrival_s` of the start (a class follows a shared
    link over some seconds, not in one instant), fetches what a page fetches once, then does a
    student's actions with pauses, in one session as a page (and gradio_client) does: gradio builds a
    session's state once, and for a call that names no session it builds a throwaway one every time."""
    rng = random.Random(seed)
    session = f"class-sim-{seed}"
    if stop.wait(rng.uniform(0, arrival_s)):
        return
    results.timed("GET page", lambda: http(base + "/"))
    info = {}
    results.timed("GET model description", lambda: info.update(json.loads(http(base + "/latent-lab/models/vae-mnist"))))
    if info:
        results.timed("GET weights (once)", lambda: http(base + info["weights"]))
    while not stop.wait(rng.uniform(1.5, 4.0)):
        roll = rng.random()
        if roll < 0.55:
            z = [round(rng.gauss(0, 1), 2) for _ in range(20)]
            results.timed("/decode (release)", lambda: post_json(f"{base}/gradio_api/run/decode",
                                                                 {"data": [z, "vae-mnist"], "session_hash": session}))
        elif roll < 0.80:
            results.timed("/sample (random)", lambda: post_json(f"{base}/gradio_api/run/sample",
                                                                {"data": ["vae-mnist", -1], "session_hash": session}))
        elif roll < 0.93:
            png = rng.choice(digits)
            results.timed("upload + /reconstruct", lambda: call(base, "reconstruct", [upload(base, png), "vae-mnist"],
                                                                         session))
        else:
            png = rng.choice(digits)
            results.timed("upload + /classify", lambda: call(base, "classify", [upload(base, png), "vae-mnist"], session))


# Timed inside the page: from the hand letting go (a real pointerup) or the Random click, and from
# the moment the page sends the event (gradio's POST to /queue/join), to the server's new digit in
# the DOM; Playwright's own round trips and polling are not counted.
PAGE_CLOCK = """() => {
    const clock = window.llBench = { start: null, sent: null, shown: null, src: null };
    const digit = () => {
        const img = document.querySelector("#ll-digit-box img.ll-digit");
        return img && img.getAttribute("src");
    };
    // On the window, which hears a click before the page's own listeners on the document do.
    window.addEventListener("pointerup", (e) => { if (e.isTrusted) clock.start = performance.now(); }, true);
    window.addEventListener("click", (e) => {
        if (e.target.closest && e.target.closest("#ll-random")) clock.start = performance.now();
    }, true);
    const fetch = window.fetch;
    window.fetch = function (url, ...rest) {
        if (String(url).includes("/queue/join") && clock.sent === null) clock.sent = performance.now();
        return fetch.call(this, url, ...rest);
    };
    new MutationObserver(() => {
        const now = digit();
        if (clock.shown === null && now && now !== clock.src) clock.shown = performance.now();
    })
        .observe(document.querySelector("#ll-digit-box"), { subtree: true, childList: true, attributes: true });
}"""


def pages(base: str, n_pages: int, results: Results, stop: threading.Event, ready: threading.Event):
    """A few real pages: drag in the page, let go (time until the server's full view arrives), Random now and then."""
    from playwright.sync_api import sync_playwright

    def timed_in_page(action: str, page, act, src: str):
        """Run `act` and record the page's own time from its start to the server's new digit."""
        wait = "([s, b]) => document.querySelector(s).getAttribute('src') !== b"
        page.evaluate("(src) => { Object.assign(window.llBench, { start: null, sent: null, shown: null, src }); }", src)
        results.timed(action + " (as Playwright sees it)", lambda: (act(), page.wait_for_function(
            wait, arg=["#ll-digit-box img.ll-digit", src])))
        clock = page.evaluate("() => window.llBench")
        if None in clock.values():
            with results.lock:
                results.errors[action + " (not timed in the page)"] += 1
            return
        with results.lock:
            results.times[action].append(clock["shown"] - clock["start"])
            results.times[action + ": sent -> shown"].append(clock["shown"] - clock["sent"])

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=slider_latency.CHROMIUM, args=slider_latency.CHROMIUM_ARGS)
        tabs = []
        for _ in range(n_pages):
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(30_000)
            page.on("pageerror", lambda error: results.errors.__setitem__("page script error",
                                                                           results.errors["page script error"] + 1))
            results.timed("page open (in-page models ready)", lambda pg=page: (
                pg.goto(base), pg.wait_for_function("() => window.llLive && window.llLive.models")))
            page.evaluate(PAGE_CLOCK)
            tabs.append(page)
        ready.set()
        rng = random.Random(7)
        round_ = 0
        while not stop.is_set():
            for page in tabs:
                src = page.locator("#ll-digit-box img.ll-digit").get_attribute("src")
                slot = rng.randrange(10)
                track = page.locator(f"#ll-z{slot} input[type=range]")
                box = track.bounding_box()
                y = box["y"] + box["height"] / 2
                # End in the half of the track away from the current value, so the picture must change.
                now = track.evaluate("(e) => (e.value - e.min) / (e.max - e.min)")
                end = rng.uniform(0.55, 0.8) if now < 0.5 else rng.uniform(0.2, 0.45)
                page.mouse.move(box["x"] + box["width"] * rng.uniform(0.2, 0.8), y)
                page.mouse.down()
                page.mouse.move(box["x"] + box["width"] * end, y, steps=15)
                timed_in_page("page release -> full view", page, page.mouse.up, src)
                if round_ % 4 == 3:
                    src = page.locator("#ll-digit-box img.ll-digit").get_attribute("src")
                    timed_in_page("page Random -> full view", page, lambda pg=page: pg.click("#ll-random"), src)
                if "Something went wrong" in page.content():
                    results.errors["page error toast"] += 1
            round_ += 1
        browser.close()


def digit_pngs(count: int = 10) -> list[bytes]:
    """Real validation digits, dark on white at 10x, as a phone photo of paper would be."""
    from PIL import Image

    from genmodels.data import load_dataset

    ds = load_dataset("mnist-5k")
    out = []
    for k in range(count):
        buffer = io.BytesIO()
        Image.fromarray(255 - ds.val_x[k].numpy()).resize((280, 280)).save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--pages", type=int, default=3, help="of the students, how many are real Chromium pages")
    parser.add_argument("--arrival", type=float, default=10.0, help="seconds over which the HTTP students arrive")
    parser.add_argument("--warmup", type=float, default=30.0,
                        help="seconds after which memory and cache are measured again (the growth is end minus this)")
    args = parser.parse_args()
    digits = digit_pngs()
    server = Server()
    results = Results()
    stop, ready = threading.Event(), threading.Event()
    threads = []
    if args.pages:
        threads.append(threading.Thread(target=pages, args=(server.url, args.pages, results, stop, ready), daemon=True))
        threads[0].start()
        ready.wait(timeout=180)
    cache_start, (rss_start, _) = server.cache_files(), server.memory_mb()
    cpu_start, wall_start = server.cpu_seconds(), time.perf_counter()
    for k in range(args.students - args.pages):
        threads.append(threading.Thread(target=student, args=(server.url, results, digits, stop, k, args.arrival),
                                        daemon=True))
        threads[-1].start()
    rss_samples, thread_samples, warm = [], [], None
    while time.perf_counter() - wall_start < args.seconds:
        time.sleep(min(5.0, args.seconds / 12))
        rss_samples.append(round(server.memory_mb()[0]))
        thread_samples.append(server.threads())
        if warm is None and time.perf_counter() - wall_start >= args.warmup:
            warm = (rss_samples[-1], server.cache_files())
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    wall = time.perf_counter() - wall_start
    cpu = server.cpu_seconds() - cpu_start
    rss_end, rss_peak = server.memory_mb()
    cache_end = server.cache_files()
    server.stop()

    print(f"Class simulation: {args.students} students ({args.pages} Chromium pages dragging in the page, "
          f"{args.students - args.pages} HTTP clients), {wall:.0f} s over loopback, one `python app.py`\n")
    print("| action | n | p50 (ms) | p95 (ms) | errors |")
    print("|---|---|---|---|---|")
    for action in sorted(set(results.times) | set(results.errors)):
        samples = results.times.get(action, [])
        figures = slider_latency.percentiles(samples) if samples else {"p50": "-", "p95": "-"}
        print(f"| {action} | {len(samples)} | {figures['p50']} | {figures['p95']} | {results.errors.get(action, 0)} |")
    print("\n| server | value |")
    print("|---|---|")
    print(f"| cold start (`python app.py` -> GET / 200) | {server.cold_start_s:.1f} s |")
    print(f"| CPU (process CPU time / wall time) | {cpu / wall:.2f} cores ({100 * cpu / wall / os.cpu_count():.0f}% "
          f"of {os.cpu_count()}) |")
    warm = warm or (rss_end, cache_end)
    print(f"| RSS at start / after {args.warmup:g} s / end / peak | {rss_start:.0f} / {warm[0]} / {rss_end:.0f} / "
          f"{rss_peak:.0f} MB |")
    print(f"| RSS during the run (every {min(5.0, args.seconds / 12):.0f} s) | {', '.join(map(str, rss_samples))} MB |")
    print(f"| server threads during the run | {', '.join(map(str, thread_samples))} |")
    print(f"| files in gradio's cache at start / after {args.warmup:g} s / end | {cache_start} / {warm[1]} / {cache_end} |")
    print(f"| errors in all | {sum(results.errors.values())} |")
    for line in results.first_errors:
        print(f"\nfirst errors: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
