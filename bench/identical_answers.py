"""A class asking for the same answers at once: every client must get every picture whole and right.

    .venv/bin/python bench/identical_answers.py                 # 50 clients, 20 decodes and 10 uploads each
    .venv/bin/python bench/identical_answers.py --url URL       # against an app that is already running
    .venv/bin/python bench/identical_answers.py --clients 30 --decodes 20 --uploads 0

Each client (a thread with its own HTTP connection) asks /decode for one code that every client asks
for (what a class does when everyone presses Reset, or opens the same shared link) and downloads the
picture; and uploads real validation digits (a few, so uploads of identical files meet too), asks
/reconstruct for each and downloads its reconstruction. Every answer is compared with the one the
app gave for the same request alone, before the class started. Prints the counts; exits 1 unless
there are no errors and no wrong pictures.
"""

import argparse
import io
import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

Z = [0.25 - 0.025 * k for k in range(20)]  # the one code the whole class asks for
DIGITS = 3  # distinct uploaded digits: each is uploaded by many clients at once


def digit_pngs(n: int = DIGITS) -> list[bytes]:
    """Return `n` real validation digits of mnist-5k as PNG bytes, dark on white at 10x (as a photo would be)."""
    from genmodels.data import load_dataset

    ds = load_dataset("mnist-5k")
    pngs = []
    for k in range(n):
        buffer = io.BytesIO()
        Image.fromarray(255 - ds.val_x[k].numpy()).resize((280, 280), Image.Resampling.BILINEAR).save(buffer, "PNG")
        pngs.append(buffer.getvalue())
    return pngs


def decode(client: httpx.Client, url: str) -> bytes:
    """Return the picture /decode answers for Z, downloaded."""
    answer = client.post(f"{url}/gradio_api/run/decode", json={"data": [Z, "vae-mnist"]})
    answer.raise_for_status()
    picture = client.get(answer.json()["data"][0]["url"])
    picture.raise_for_status()
    return picture.content


def reconstruct(client: httpx.Client, url: str, png: bytes) -> tuple[bytes, str]:
    """Upload `png`, ask /reconstruct for it; return (its reconstruction downloaded, the label it gave)."""
    uploaded = client.post(f"{url}/gradio_api/upload", files={"files": ("digit.png", png, "image/png")})
    uploaded.raise_for_status()
    image = {"path": uploaded.json()[0], "meta": {"_type": "gradio.FileData"}}
    posted = client.post(f"{url}/gradio_api/call/reconstruct", json={"data": [image, "vae-mnist"]})
    posted.raise_for_status()
    stream = client.get(f"{url}/gradio_api/call/reconstruct/{posted.json()['event_id']}").text
    event, data = None, None
    for line in stream.splitlines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event in ("complete", "error"):
            data = json.loads(line.split(":", 1)[1])
    if event != "complete":
        raise RuntimeError(f"/reconstruct answered {event}: {str(data)[:200]}")
    picture = client.get(data[1]["url"])
    picture.raise_for_status()
    return picture.content, data[2]["label"]


def hammer(url: str, clients: int, decodes: int, uploads: int) -> dict:
    """Run `clients` concurrent clients, each `decodes` decodes and `uploads` upload-and-reconstructs;
    return the counts: requests, errors, wrong (a body or label other than the lone answer), seconds,
    and up to five error messages."""
    url = url.rstrip("/")
    pngs = digit_pngs() if uploads else []
    with httpx.Client(timeout=300) as client:  # alone: the answers every client must get
        expected_decode = decode(client, url)
        expected = [reconstruct(client, url, png) for png in pngs]
    counts, errors = Counter(), []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def student(number: int):
        jobs = ["decode"] * decodes + [k % DIGITS for k in range(number, number + uploads)]
        turn = number % max(1, len(jobs))
        jobs = jobs[turn:] + jobs[:turn]  # each client starts elsewhere in its list: the kinds meet
        with httpx.Client(timeout=300) as client:
            start.wait()
            for job in jobs:
                try:
                    got = decode(client, url) if job == "decode" else reconstruct(client, url, pngs[job])
                    right = got == (expected_decode if job == "decode" else expected[job])
                    outcome = "right" if right else "wrong"
                except (httpx.HTTPError, RuntimeError, KeyError, ValueError) as error:
                    outcome = "error"
                    with lock:
                        errors.append(f"{type(error).__name__}: {str(error)[:160]}")
                with lock:
                    counts[outcome] += 1

    began = time.perf_counter()
    threads = [threading.Thread(target=student, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"requests": sum(counts.values()), "right": counts["right"], "wrong": counts["wrong"],
            "errors": counts["error"], "seconds": round(time.perf_counter() - began, 1), "first_errors": errors[:5]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="an app already running (default: start one in this process)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--decodes", type=int, default=20)
    parser.add_argument("--uploads", type=int, default=10)
    args = parser.parse_args()
    lab = None
    if args.url:
        url = args.url
    else:
        from bench.slider_latency import start_app

        lab, url = start_app()
    try:
        result = hammer(url, args.clients, args.decodes, args.uploads)
    finally:
        if lab is not None:
            lab.close()
    print(f"{args.clients} clients x ({args.decodes} decodes + {args.uploads} uploads): {result['requests']} answers, "
          f"{result['right']} right, {result['wrong']} wrong pictures, {result['errors']} errors, {result['seconds']} s")
    for message in result["first_errors"]:
        print("  error:", message)
    return 0 if result["wrong"] == result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
