"""Slider-to-picture latency of the explorer: in a real browser (input event -> new image painted) and over HTTP.

    .venv/bin/python bench/slider_latency.py                 # starts the app on a free port, measures, stops it
    .venv/bin/python bench/slider_latency.py --url URL       # measures an app that is already running
    .venv/bin/python bench/slider_latency.py --variants      # also compares hot-path designs (gr.Image, queue, HTML)

Browser: headless /usr/bin/chromium via Playwright. For each sample the bench sets the first slider's
range input and dispatches an `input` event (what a drag does), then waits until the digit's <img>
has been replaced, decoded and a frame has been rendered with it (requestAnimationFrame). Samples
are sequential; the first `warmup` are dropped. HTTP: POST /gradio_api/run/decode (one request).
"""

import argparse
import json
import os
import socket
import statistics
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]

# Runs in the page: set slider `sliderId` to `value`, resolve with ms until the new picture in
# `boxSelector` is decoded and a frame containing it is being rendered.
_MEASURE_JS = """async ([sliderId, boxSelector, value]) => {
  const box = document.querySelector(boxSelector);
  const range = document.querySelector(`#${sliderId} input[type=range]`);
  const before = box.querySelector('img')?.getAttribute('src');
  const start = performance.now();
  const painted = new Promise((resolve, reject) => {
    const timer = setTimeout(() => { observer.disconnect(); reject(new Error('no new image within 10 s')); }, 10000);
    const observer = new MutationObserver(async () => {
      const img = box.querySelector('img');
      if (!img || img.getAttribute('src') === before || !img.getAttribute('src')) return;
      observer.disconnect(); clearTimeout(timer);
      try { await img.decode(); } catch (e) {}
      requestAnimationFrame(() => resolve(performance.now() - start));
    });
    observer.observe(box, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
  });
  range.value = String(value);
  range.dispatchEvent(new Event('input', {bubbles: true}));
  return await painted;
}"""


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """Return {'n', 'p50', 'p95', 'mean'} in milliseconds of a list of latencies."""
    ordered = sorted(samples_ms)
    p95_index = min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))
    return {"n": len(ordered), "p50": round(statistics.median(ordered), 1),
            "p95": round(ordered[p95_index], 1), "mean": round(statistics.fmean(ordered), 1)}


def measure_http(url: str, n: int = 100, warmup: int = 10, api_name: str = "decode") -> dict[str, float]:
    """Return p50/p95/mean milliseconds of POST /gradio_api/run/<api_name> with a 20-float z (one round trip)."""
    endpoint = url.rstrip("/") + f"/gradio_api/run/{api_name}"
    samples = []
    for i in range(warmup + n):
        z = [round(((i * 7 + k) % 13) / 6.5 - 1, 2) for k in range(20)]  # a different code every call
        body = json.dumps({"data": [z, "vae-mnist"]}).encode()
        request = urllib.request.Request(endpoint, data=body, headers={"Content-Type": "application/json"})
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        if i >= warmup:
            samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def measure_page(page, n: int = 100, warmup: int = 15, slider_id: str = "ll-z0",
                 box_selector: str = "#ll-digit-box") -> dict[str, float]:
    """Return p50/p95/mean ms from slider input event to new image painted, on an open Playwright page."""
    page.wait_for_selector(f"{box_selector} img", timeout=60_000)
    samples = []
    for i in range(warmup + n):
        value = round(-2.5 + (i % 21) * 0.25, 2)  # walk the slider so every step gives a new picture
        if i % 21 == 0:
            value += 0.05 * ((i // 21) % 3)  # avoid repeating exactly the same value as 21 steps ago
        elapsed = page.evaluate(_MEASURE_JS, [slider_id, box_selector, value])
        if i >= warmup:
            samples.append(elapsed)
    return percentiles(samples)


def measure_drag(page, events: int = 60, interval_ms: float = 16.0, slider_id: str = "ll-z0",
                 box_selector: str = "#ll-digit-box") -> dict[str, float]:
    """Return how a fast drag is followed: input events sent at ~60 Hz, pictures painted, ms from last input to final picture."""
    return page.evaluate("""async ([sliderId, boxSelector, events, interval]) => {
      const box = document.querySelector(boxSelector);
      const range = document.querySelector(`#${sliderId} input[type=range]`);
      const seen = new Set([box.querySelector('img')?.getAttribute('src')]); let lastPaint = 0;
      const observer = new MutationObserver(() => {
        const src = box.querySelector('img')?.getAttribute('src');
        if (src && !seen.has(src)) { seen.add(src); lastPaint = performance.now(); } });
      observer.observe(box, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
      let lastInput = 0;
      for (let i = 0; i < events; i++) {
        range.value = String((-2 + 4 * i / events).toFixed(2));
        range.dispatchEvent(new Event('input', {bubbles: true}));
        lastInput = performance.now();
        await new Promise(r => setTimeout(r, interval));
      }
      const finalSrc = () => box.querySelector('img')?.getAttribute('src');
      let settled = finalSrc(); const t0 = performance.now();
      while (performance.now() - t0 < 3000) {           // wait until no new picture for 300 ms
        await new Promise(r => setTimeout(r, 300));
        if (finalSrc() === settled) break; settled = finalSrc();
      }
      observer.disconnect();
      return {input_events: events, pictures_shown: seen.size - 1,
              last_input_to_final_picture_ms: Math.round(lastPaint - lastInput)};
    }""", [slider_id, box_selector, events, interval_ms])


def measure_browser(url: str, n: int = 100, warmup: int = 15, slider_id: str = "ll-z0",
                    box_selector: str = "#ll-digit-box", drag: bool = False) -> dict:
    """Return p50/p95/mean ms from slider input event to new image painted in headless Chromium on `url`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            # The server's drag path: a page with the in-page models paints on a canvas instead
            # (bench/inpage_latency.py measures that one), so the models are kept from this page.
            page.route("**/latent-lab/**", lambda route: route.abort())
            page.goto(url)
            result = measure_page(page, n=n, warmup=warmup, slider_id=slider_id, box_selector=box_selector)
            if drag:
                result["drag"] = measure_drag(page, slider_id=slider_id, box_selector=box_selector)
            return result
        finally:
            browser.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app():
    """Return (app.LatentLab, url) of the real app launched in this process on a free port (CPU models)."""
    os.environ.setdefault("LATENT_LAB_DEVICE", "cpu")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import tempfile

    import app

    runs = tempfile.mkdtemp(prefix="bench-runs-")
    lab = app.build_app(runs_dir=runs)
    app.serve(lab, server_port=_free_port(), prevent_thread_lock=True, quiet=True)
    return lab, lab.blocks.local_url.rstrip("/")


def build_variants_app():
    """Return a small Blocks with the same VAE decode wired three ways, to compare hot-path designs."""
    import gradio as gr
    import numpy as np

    from genmodels.registry import ModelRegistry
    from ui.explore import render

    vae = ModelRegistry().load("vae-mnist")

    def decode(value):
        z = np.zeros(20, dtype=np.float32)
        z[0] = value
        import torch
        with torch.no_grad():
            return vae.decode(torch.from_numpy(z).reshape(1, 20)).reshape(28, 28).numpy()

    with gr.Blocks() as demo:
        for name, kind, queue in [("image_queued", "image", True), ("html_queued", "html", True),
                                  ("html_direct", "html", False)]:
            slider = gr.Slider(-3, 3, value=0, step=0.05, label=name, elem_id=f"v-{name}")
            if kind == "image":
                out = gr.Image(type="pil", format="png", elem_id=f"box-{name}", interactive=False)
                fn = lambda v: render.enlarge(decode(v), 280)  # noqa: E731 - a plain gr.Image round trip
            else:
                out = gr.HTML(elem_id=f"box-{name}", js_on_load=None)
                fn = lambda v: render.digit_html(decode(v))  # noqa: E731
            slider.input(fn, slider, out, trigger_mode="always_last", queue=queue, show_progress="hidden")
    return demo


def measure_variants(n: int = 60) -> dict[str, dict]:
    """Return browser latency figures for each hot-path variant (gr.Image queued, HTML queued, HTML without queue)."""
    demo = build_variants_app()
    demo.queue(default_concurrency_limit=4).launch(server_port=_free_port(), prevent_thread_lock=True, quiet=True)
    url = demo.local_url.rstrip("/")
    try:
        from playwright.sync_api import sync_playwright

        results = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 2000})
            page.goto(url)
            page.wait_for_selector("#v-image_queued input[type=range]", timeout=60_000)
            for name in ("image_queued", "html_queued", "html_direct"):
                page.evaluate(f"""() => {{ const r = document.querySelector('#v-{name} input[type=range]');
                    r.value = '0.3'; r.dispatchEvent(new Event('input', {{bubbles: true}})); }}""")
                page.wait_for_selector(f"#box-{name} img", timeout=30_000)
                results[name] = measure_page(page, n=n, warmup=10, slider_id=f"v-{name}", box_selector=f"#box-{name}")
            browser.close()
        return results
    finally:
        demo.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="measure an app that is already running at this URL")
    parser.add_argument("-n", type=int, default=100, help="samples per measurement after warm-up")
    parser.add_argument("--variants", action="store_true", help="also compare hot-path designs")
    args = parser.parse_args()
    lab = None
    url = args.url
    if not url:
        lab, url = start_app()
    try:
        http = measure_http(url, n=args.n)
        print(f"HTTP POST /gradio_api/run/decode: p50 {http['p50']} ms, p95 {http['p95']} ms (n={http['n']})")
        browser = measure_browser(url, n=args.n, drag=True)
        print(f"Browser slider input -> new image painted: p50 {browser['p50']} ms, p95 {browser['p95']} ms "
              f"(n={browser['n']}, after 15 warm-up)")
        print(f"Fast drag (60 input events at ~60 Hz): {json.dumps(browser['drag'])}")
    finally:
        if lab is not None:
            lab.close()
    if args.variants:
        for name, figures in measure_variants(n=min(args.n, 60)).items():
            print(f"variant {name}: p50 {figures['p50']} ms, p95 {figures['p95']} ms (n={figures['n']})")


if __name__ == "__main__":
    main()
