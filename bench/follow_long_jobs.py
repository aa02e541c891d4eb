"""Explorer latency (p95 of /decode) while 30 visitors follow two long jobs over /job, against idle.

    .venv/bin/python bench/follow_long_jobs.py                       # 30 followers, cursors (what is new)
    .venv/bin/python bench/follow_long_jobs.py --full                # each call asks for the whole history
    .venv/bin/python bench/follow_long_jobs.py --followers 30 --epochs 100 --n 100 --rounds 2

Starts the real app on a free port (temporary runs folder) and plants two finished jobs with the
metrics of a 100-epoch run (10 step lines and one epoch line per epoch), to which a writer thread
keeps appending step lines as a running job would. Each follower polls /job once a second like
the Train tab's API users, passing back the `cursor` it got (or, with --full, none: every call
carries the whole history, as before cursors existed). Rounds alternate idle / followed so drift on
a shared machine hits both sides alike. Prints the /decode percentiles, the followed/idle p95
ratio and the mean /job response size.
"""

import argparse
import json
import multiprocessing
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import slider_latency  # noqa: E402  (the explorer's bench: app start-up and the /decode measurement)

from jobs.records import JobFolder, append_jsonl  # noqa: E402

JOB_IDS = ("20250101-000000-f001", "20250101-000000-f002")
SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter: the app and its threads are not copied


def plant(runs_dir: Path, job_id: str, epochs: int) -> JobFolder:
    """Write a finished VAE job with `epochs` epochs of metrics into the runs folder; return its folder."""
    folder = JobFolder(runs_dir, job_id)
    now = time.time()
    folder.save_record({
        "id": job_id, "name": "long run", "model_type": "vae", "model_config": {"latent_dim": 20},
        "train_config": {"dataset": "mnist-5k", "epochs": epochs}, "status": "done", "owner": "", "created": now,
        "queued": now, "started": now, "finished": now, "pid": None, "error": None, "cancel_requested": None,
        "target_epochs": epochs, "segments": [{"epochs": epochs, "resume": False}]})
    lines = []
    for epoch in range(1, epochs + 1):
        lines += [json.dumps({"kind": "step", "epoch": epoch, "x": epoch - 1 + s / 10, "loss": 150.0 / epoch})
                  for s in range(1, 11)]
        lines.append(json.dumps({"kind": "epoch", "epoch": epoch, "val_nelbo": 100 + 50 / epoch,
                                 "train_nelbo": 101 + 50 / epoch, "val_kl": 20.0, "train_kl": 20.0}))
    folder.metrics_file.write_text("\n".join(lines) + "\n")
    return folder


def grow(folders, stop: threading.Event, epochs: int) -> None:
    """Append a step line to each job every 0.1 s, as a running job's worker does."""
    x = float(epochs)
    while not stop.wait(0.1):
        x += 0.01
        for folder in folders:
            append_jsonl(folder.metrics_file, {"kind": "step", "epoch": epochs, "x": x, "loss": 1.0}, folder.root)


def follow(url: str, job_id: str, full: bool, stop, sizes: list[int]) -> None:
    """Poll /job once a second, passing back the cursor (unless `full`); record each response's bytes."""
    cursor = ""
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop.is_set():
            started = time.monotonic()
            posted = client.post("/gradio_api/call/job", json={"data": [job_id, "", "" if full else cursor]})
            streamed = client.get(f"/gradio_api/call/job/{posted.json()['event_id']}")
            sizes.append(len(streamed.content))
            for line in streamed.text.splitlines():
                if line.startswith("data:") and line[5:].strip().startswith("["):
                    cursor = json.loads(line[5:])[0]["metrics"]["cursor"]
            stop.wait(max(0.0, 1.0 - (time.monotonic() - started)))


def followers(url: str, count: int, full: bool, stop, sizes_out) -> None:
    """Run `count` followers (threads) until `stop` is set, then put their response sizes on `sizes_out`.
    They run in a process of their own, as visitors' browsers do: in the app's interpreter their threads would
    hold the GIL against the server and the probe, and measure the bench instead of the app."""
    sizes: list[int] = []
    threads = [threading.Thread(target=follow, args=(url, JOB_IDS[i % 2], full, stop, sizes), daemon=True)
               for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sizes_out.put(sizes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--followers", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=100, help="epochs of metrics each planted job holds")
    parser.add_argument("--n", type=int, default=100, help="/decode samples per side and round")
    parser.add_argument("--rounds", type=int, default=1, help="idle/followed pairs")
    parser.add_argument("--full", action="store_true", help="followers ask for the whole history every call")
    args = parser.parse_args()

    lab, url = slider_latency.start_app()
    folders = [plant(lab.jobs.runs_dir, job_id, args.epochs) for job_id in JOB_IDS]
    idle, followed, sizes = [], [], []
    try:
        for _ in range(args.rounds):
            idle.append(slider_latency.measure_http(url, n=args.n, warmup=10))
            stop, grown = SPAWN.Event(), threading.Event()
            sizes_out = SPAWN.Queue()
            writer = threading.Thread(target=grow, args=(folders, grown, args.epochs), daemon=True)
            visitors = SPAWN.Process(target=followers, args=(url, args.followers, args.full, stop, sizes_out))
            writer.start()
            visitors.start()
            time.sleep(5.0)  # every follower has its first (whole) answer
            followed.append(slider_latency.measure_http(url, n=args.n, warmup=10))
            stop.set()
            grown.set()
            sizes += sizes_out.get(timeout=120)
            visitors.join(timeout=60)
            writer.join(timeout=60)
    finally:
        lab.close()
    p95_idle = statistics.median(r["p95"] for r in idle)
    p95_followed = statistics.median(r["p95"] for r in followed)
    mode = "whole history every call" if args.full else "cursor (what is new)"
    print(f"{args.followers} followers of two {args.epochs}-epoch jobs, {mode}; /decode over HTTP")
    print("| side | p50 | p95 |")
    print("|---|---|---|")
    print(f"| idle | {statistics.median(r['p50'] for r in idle):.1f} ms | {p95_idle:.1f} ms |")
    print(f"| followed | {statistics.median(r['p50'] for r in followed):.1f} ms | {p95_followed:.1f} ms |")
    print(f"p95 followed/idle: {p95_followed / p95_idle:.2f}x; mean /job response: "
          f"{statistics.fmean(sizes) / 1000 if sizes else 0:.1f} kB over {len(sizes)} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
