"""Slider move -> pixels painted: the page's own decoder (ui/static/latent_lab.js) beside the server's path.

    .venv/bin/python bench/inpage_latency.py              # both paths, local and through a +150 ms proxy
    .venv/bin/python bench/inpage_latency.py -n 100 --server-n 20 --no-cold-start

Starts the real app on a free port and headless Chromium (/usr/bin/chromium). Each sample is one
real mouse step on the first slider (Playwright's mouse, so Chromium delivers the input event in
its frame like a hand would), one at a time. In the page: from the `input` event's handler
(performance.now()) to the requestAnimationFrame callback of the frame in which explore.js painted
the new picture on its canvas; "work" is the decode + paint alone, and the RNN's reading that
explore.js does right after that frame. The server path is the
same page with /latent-lab blocked (the fallback): from the input handler to the frame after the
server's new <img> is decoded. "Through the proxy" adds 150 ms to every request with a tiny
asyncio TCP proxy on 127.0.0.1 (what a far-away Space feels like). Also times a cold start:
`python app.py` started -> GET / answers 200.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import slider_latency  # noqa: E402  (app start-up, percentiles, Chromium settings)

# Arms one measurement: the next input event on slider 0 starts the clock; it stops in the frame that
# shows the new picture (in the page: explore.js painted; on the server path: a new <img> decoded).
_ARM_JS = """(inPage) => {
  const range = document.querySelector('#ll-z0 input[type=range]');
  window.__sample = new Promise((resolve) => {
    // On the document, registered after explore.js's listener: runs after it has asked for its frame.
    const onInput = (event) => {
      if (event.target !== range) return;
      document.removeEventListener('input', onInput);
      const start = performance.now();
      const paints = window.llLive.paints;
      if (inPage) {
        const check = () => (window.llLive.paints > paints
          ? resolve(performance.now() - start) : requestAnimationFrame(check));
        requestAnimationFrame(check);  // queued after explore.js's frame callback: runs once it painted
        return;
      }
      const box = document.querySelector('#ll-digit-box');
      const before = box.querySelector('img').getAttribute('src');
      const observer = new MutationObserver(async () => {
        const img = box.querySelector('img');
        if (!img || img.getAttribute('src') === before) return;
        observer.disconnect();
        try { await img.decode(); } catch (e) {}
        requestAnimationFrame(() => resolve(performance.now() - start));
      });
      observer.observe(box, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
    };
    document.addEventListener('input', onInput);
  });
}"""

# The work of one frame, timed in the page: decode + paint (in the frame), the RNN's reading (just after it).
_WORK_JS = """(n) => {
  const live = window.llLive, canvas = document.createElement('canvas'), paint = [], read = [];
  for (let i = 0; i < n; i++) {
    const z = new Float32Array(live.z.length).map(() => Math.random() * 4 - 2);
    const start = performance.now();
    const pixels = live.models.decode(z);
    window.LatentLab.paint(canvas, pixels);
    const painted = performance.now();
    live.models.readRows(pixels);
    paint.push(painted - start);
    read.push(performance.now() - painted);
  }
  return [paint, read];
}"""


class DelayProxy:
    """A loopback TCP proxy that holds every chunk the browser sends for `delay_s` before passing it on."""

    def __init__(self, upstream_port: int, delay_s: float = 0.150):
        self.upstream_port, self.delay_s = upstream_port, delay_s
        self.port = slider_latency._free_port()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait()

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", self.port))
        ready.set()
        self.loop.run_forever()

    async def _pipe(self, reader, writer, delay_s):
        try:
            while data := await reader.read(65536):
                if delay_s:
                    await asyncio.sleep(delay_s)  # a request (or its next chunk) arrives 150 ms late
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _client(self, reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_writer, self.delay_s), self._pipe(up_reader, writer, 0))

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)


def measure_path(browser, url: str, in_page: bool, n: int, warmup: int = 5) -> dict:
    """Return percentiles of input -> painted frame over n single mouse steps on slider 0."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        if not in_page:
            # The in-page models only (their script and files); the page scripts' Gradio helpers stay.
            for pattern in ("**/latent-lab/static/latent_lab.js", "**/latent-lab/models/**", "**/latent-lab/weights/**"):
                page.route(pattern, lambda route: route.abort())
        page.goto(url)
        page.wait_for_selector("#ll-digit-box img.ll-digit")
        page.wait_for_selector("#ll-map img", state="attached")
        if in_page:
            page.wait_for_function("() => window.llLive && window.llLive.models && window.llLive.paints > 0")
        else:
            page.wait_for_function("() => window.llExploreReady")
        box = page.locator("#ll-z0 input[type=range]").bounding_box()
        y = box["y"] + box["height"] / 2
        positions = [box["x"] + box["width"] * (0.2 + 0.6 * k / 30) for k in range(31)]
        positions += positions[-2:0:-1]  # back and forth: every step a new value
        page.mouse.move(positions[0], y)
        page.mouse.down()
        samples = []
        for i in range(warmup + n):
            page.evaluate(_ARM_JS, in_page)
            page.mouse.move(positions[(i + 1) % len(positions)], y)
            elapsed = page.evaluate("() => window.__sample")
            if i >= warmup:
                samples.append(elapsed)
        page.mouse.up()
        result = slider_latency.percentiles(samples)
        if in_page:
            paint, read = page.evaluate(_WORK_JS, 200)
            result["paint"], result["read"] = slider_latency.percentiles(paint), slider_latency.percentiles(read)
        return result
    finally:
        context.close()


def cold_start(timeout_s: float = 120.0) -> float:
    """Return seconds from starting `python app.py` (own process, free port) to GET / answering 200."""
    port = slider_latency._free_port()
    env = dict(os.environ, PORT=str(port), GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False",
               LATENT_LAB_DEVICE="cpu", LATENT_LAB_RUNS_DIR=tempfile.mkdtemp(prefix="bench-cold-"))
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < timeout_s:
            if process.poll() is not None:
                raise RuntimeError("app.py exited during start-up")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("app.py did not serve its page in time")
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=200, help="in-page samples per setting")
    parser.add_argument("--server-n", type=int, default=40, help="server-path samples per setting")
    parser.add_argument("--delay-ms", type=float, default=150.0, help="what the proxy adds to every request")
    parser.add_argument("--no-cold-start", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    demo, url = slider_latency.start_app()
    port = int(url.rsplit(":", 1)[1])
    proxy = DelayProxy(port, args.delay_ms / 1000)
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=slider_latency.CHROMIUM, args=slider_latency.CHROMIUM_ARGS)
            for where, base in (("local", url), (f"+{args.delay_ms:g} ms proxy", f"http://127.0.0.1:{proxy.port}")):
                for in_page in (True, False):
                    figures = measure_path(browser, base, in_page, args.n if in_page else args.server_n)
                    rows.append((where, "in the page" if in_page else "server (scripts blocked)", figures))
            browser.close()
    finally:
        proxy.close()
        demo.close()
    print("| network | drag path | n | p50 (ms) | p95 (ms) | mean (ms) |")
    print("|---|---|---|---|---|---|")
    for where, path, f in rows:
        print(f"| {where} | {path} | {f['n']} | {f['p50']} | {f['p95']} | {f['mean']} |")
    local = rows[0][2]
    print(f"\nIn-page work (n={local['paint']['n']}): decode + paint p50 {local['paint']['p50']} ms, "
          f"p95 {local['paint']['p95']} ms; RNN reading of 28 rows (after the frame) p50 {local['read']['p50']} ms, "
          f"p95 {local['read']['p95']} ms")
    if not args.no_cold_start:
        print(f"\nCold start (`python app.py` -> GET / 200): {cold_start():.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
