"""Explorer slider latency (p95) while idle vs while a training job runs, side by side in one run.

    .venv/bin/python bench/latency_under_training.py                 # HTTP /decode and browser, 1 round
    .venv/bin/python bench/latency_under_training.py --no-browser --n 200 --rounds 2

Starts the real app on a free port (temporary runs folder), measures the explorer's `/decode`
round trip over HTTP (and slider-to-picture in headless Chromium, via bench/slider_latency.py),
then launches a real training job through the app's `/train` API (full-size VAE, 784-400-20, on
mnist-5k), measures again while it trains, and cancels it. Rounds alternate idle / training so
drift on a shared machine hits both sides alike. Prints a table and the training/idle p95 ratio.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import slider_latency  # noqa: E402  (the explorer helper's bench: app start-up and the measurements)

TOKEN = "latency-bench-owner"
JOB = {"model": "vae", "dataset": "mnist-5k", "epochs": 100, "hidden_size": 400, "batch_size": 128}


def wait_running(client, job_id, timeout_s=120) -> dict:
    """Block until the job is in its training loop (past data loading: some of it done); return its status view."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        view = client.predict(job_id, api_name="/job")
        if view["status"] == "running" and view["fraction"] > 0:
            return view
        if view["status"] not in ("queued", "running"):
            raise RuntimeError(f"the bench job ended early: {view['status']}: {view['error']}")
        time.sleep(0.3)
    raise RuntimeError("the bench job did not start training in time")


def epochs_trained(view) -> float:
    """Return the epochs a job's status view says it has trained, the current epoch's steps included."""
    return view["fraction"] * view["target_epochs"]


def measure(url, n, browser) -> dict:
    """Return {'http': percentiles, 'browser': percentiles or None} in milliseconds."""
    result = {"http": slider_latency.measure_http(url, n=n, warmup=10)}
    result["browser"] = slider_latency.measure_browser(url, n=max(20, n // 2), warmup=10) if browser else None
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="HTTP samples per side (browser: half)")
    parser.add_argument("--rounds", type=int, default=1, help="idle/training pairs")
    parser.add_argument("--no-browser", action="store_true", help="HTTP only (no Chromium)")
    args = parser.parse_args()
    browser = not args.no_browser and os.path.exists(slider_latency.CHROMIUM)

    from gradio_client import Client

    demo, url = slider_latency.start_app()
    client = Client(url, verbose=False)
    sides = {"idle": [], "training": []}
    epochs_during = []
    try:
        for _ in range(args.rounds):
            sides["idle"].append(measure(url, args.n, browser))
            job_id = client.predict(JOB, TOKEN, api_name="/train")
            before = wait_running(client, job_id)
            sides["training"].append(measure(url, args.n, browser))
            after = client.predict(job_id, api_name="/job")
            if after["status"] != "running":
                raise RuntimeError(f"the job stopped during the measurement ({after['status']}); use fewer samples")
            epochs_during.append(epochs_trained(after) - epochs_trained(before))
            client.predict(job_id, TOKEN, api_name="/cancel")
    finally:
        demo.close()

    def worst(side, kind):
        values = [r[kind]["p95"] for r in sides[side] if r[kind]]
        return max(values) if values else None

    def median(side, kind):
        values = sorted(r[kind]["p50"] for r in sides[side] if r[kind])
        return values[len(values) // 2] if values else None

    print(f"Explorer slider latency, idle vs while a VAE (784-400-20) trains on mnist-5k "
          f"({args.rounds} round(s), {args.n} HTTP samples per side; job: own process, nice 10, 1 thread)")
    print(f"{'measure':<28}{'idle p50':>10}{'idle p95':>10}{'train p50':>11}{'train p95':>11}{'p95 ratio':>11}")
    for kind, label in (("http", "HTTP /decode round trip"), ("browser", "browser slider -> picture")):
        idle, train = worst("idle", kind), worst("training", kind)
        if idle is None:
            continue
        print(f"{label:<28}{median('idle', kind):>8.1f}ms{idle:>8.1f}ms{median('training', kind):>9.1f}ms"
              f"{train:>9.1f}ms{train / idle:>10.2f}x")
    print(f"the job trained {sum(epochs_during):.1f} epochs while being measured (it was running throughout)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
