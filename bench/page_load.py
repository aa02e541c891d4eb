"""What one visit costs: a fresh page of the app opened in headless Chromium until its digit is drawn in the page.

    .venv/bin/python bench/page_load.py [-n 10]

Starts `python app.py` in its own process (bench/class_sim.py's Server) and opens the app `-n` times, each
in a fresh browser context (a new visitor: nothing cached, as in every browser test), until the page's own
decoder has painted the digit (window.llLive.models is set). Reports per visit the time until then, the
server's CPU time, and the whole machine's busy CPU time (/proc/stat: Chromium, the server and this script
together), as medians; one warm-up visit first. Run it on an otherwise idle machine: the machine's figure
counts everything that runs.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import slider_latency  # noqa: E402
from class_sim import Server  # noqa: E402
from cpu_by_process import busy_and_all  # noqa: E402

READY = "() => window.llLive && window.llLive.models"  # the page's decoder is loaded and has drawn the digit
WAIT_MS = 120_000  # a deadline that only turns a hang into an error


def visit(browser, url: str) -> None:
    """Open `url` in a fresh context and wait until the page has drawn its digit itself."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        page.goto(url, timeout=WAIT_MS)
        page.wait_for_function(READY, timeout=WAIT_MS)
    finally:
        context.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=10, help="visits to time (after one warm-up visit)")
    args = parser.parse_args(argv)
    server = Server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=slider_latency.CHROMIUM, args=slider_latency.CHROMIUM_ARGS)
            visit(browser, server.url)
            walls, servers, machines = [], [], []
            for _ in range(args.n):
                wall, cpu, busy = time.perf_counter(), server.cpu_seconds(), busy_and_all()[0]
                visit(browser, server.url)
                walls.append(time.perf_counter() - wall)
                servers.append(server.cpu_seconds() - cpu)
                machines.append(busy_and_all()[0] - busy)
            browser.close()
    finally:
        server.stop()
    print(f"{args.n} visits, medians: until the page drew its digit {statistics.median(walls):.2f} s; "
          f"CPU: server {statistics.median(servers):.2f} s, whole machine {statistics.median(machines):.2f} s "
          f"({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
