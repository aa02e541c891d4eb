"""GET of the app's page: the copy the app keeps (ui/page_cache.py) against gradio building it, in one run.

    .venv/bin/python bench/page_get.py             # 60 single GETs of each, then 3 bursts of 47 of each

Starts `python app.py` in its own process (as bench/class_sim.py does) and asks for the page the
way a visitor does. A link the app has not seen yet (a new query string) is built by gradio, so
`/?visit=N` with a new N each time times gradio's own build, side by side with `/`, which after the
first visit is the kept copy. Single GETs are interleaved; a burst is 47 GETs at once, as when a
class opens a shared link (bench/class_sim.py spreads them over 10 s), and reports the time until
the last page arrived and the server's CPU time per page.
"""

import argparse
import statistics
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from itertools import count
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from class_sim import Server  # noqa: E402
from slider_latency import percentiles  # noqa: E402

visits = count()


def get_ms(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        response.read()
    return (time.perf_counter() - start) * 1000


def page_bytes(url: str) -> int:
    with urllib.request.urlopen(url, timeout=120) as response:
        return len(response.read())


def burst(server: Server, kept: bool, size: int) -> tuple[float, float, float]:
    """GET the page `size` times at once; return (p95 ms, ms until the last arrived, server CPU ms per page)."""
    urls = [server.url + ("/" if kept else f"/?visit={next(visits)}") for _ in range(size)]
    cpu, start = server.cpu_seconds(), time.perf_counter()
    with ThreadPoolExecutor(size) as pool:
        times = list(pool.map(get_ms, urls))
    last = (time.perf_counter() - start) * 1000
    return percentiles(times)["p95"], last, (server.cpu_seconds() - cpu) * 1000 / size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=60, help="single GETs of each kind")
    parser.add_argument("--burst", type=int, default=47, help="GETs at once in a burst")
    parser.add_argument("--bursts", type=int, default=3, help="bursts of each kind")
    args = parser.parse_args()
    server = Server()
    try:
        size = page_bytes(server.url + "/")  # the first visit builds the kept copy
        single = {True: [], False: []}
        for _ in range(args.n):
            single[True].append(get_ms(server.url + "/"))
            single[False].append(get_ms(server.url + f"/?visit={next(visits)}"))
        bursts = {True: [], False: []}
        for _ in range(args.bursts):
            for kept in (True, False):
                bursts[kept].append(burst(server, kept, args.burst))
    finally:
        server.stop()
    name = {True: "kept copy (`/`)", False: "built by gradio (a new link)"}
    print(f"GET of the page ({args.n} single GETs of each, interleaved; "
          f"{args.bursts} bursts of {args.burst} of each; app.py on this machine's CPU; the page is {size:,} bytes)\n")
    print("| page | single GET median | single GET p95 | burst p95 (median of bursts) "
          "| burst: until the last page | server CPU per page in a burst |")
    print("|---|---|---|---|---|---|")
    for kept in (True, False):
        figures = percentiles(single[kept])
        p95s, lasts, cpus = zip(*bursts[kept])
        print(f"| {name[kept]} | {figures['p50']} ms | {figures['p95']} ms "
              f"| {statistics.median(p95s):.0f} ms | {statistics.median(lasts):.0f} ms | {statistics.median(cpus):.1f} ms |")
    ratio = statistics.median(single[True]) / statistics.median(single[False])
    print(f"\nsingle GET median: kept / built = {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
