"""Identical answers asked for at once never corrupt each other: every client gets the whole, right picture.

A class asks for the same picture at once (everyone presses Reset, or opens the same shared link).
The app names each picture it writes by its content, so identical requests share one file: it must
never be rewritten while another client downloads it. These tests run real concurrent clients
against the live app, and Gradio's own picture writer (gr.Image's output) from many threads.
"""

import hashlib
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

import gradio.processing_utils as gradio_processing

from ui import gradio_internals as gi

from bench.identical_answers import decode, hammer

CLIENTS, ASKS = 16, 10  # the full class (50 clients, 20 decodes and 10 uploads each) is bench/identical_answers.py


def test_identical_decodes_at_once_all_get_the_whole_picture(live_app):
    with httpx.Client(timeout=120) as client:
        expected = decode(client, live_app)  # alone: nothing else writes meanwhile
    assert Image.open(io.BytesIO(expected)).size == (28, 28)
    bodies, errors = [], []
    lock = threading.Lock()

    def student():
        with httpx.Client(timeout=120) as client:
            for _ in range(ASKS):
                try:
                    body = decode(client, live_app)
                except httpx.HTTPError as error:
                    with lock:
                        errors.append(f"{type(error).__name__}: {error}")
                    continue
                with lock:
                    bodies.append(body)

    threads = [threading.Thread(target=student) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wrong = sum(body != expected for body in bodies)
    assert not errors and not wrong, (
        f"of {CLIENTS * ASKS} identical decodes, {len(errors)} failed ({errors[:3]}) and {wrong} returned "
        f"a body other than the picture ({len(bodies)} downloaded)")


def test_a_small_class_decoding_and_uploading_at_once_gets_every_picture_right(live_app):
    result = hammer(live_app, clients=8, decodes=4, uploads=3)
    assert result["requests"] == 8 * 7 and result["wrong"] == result["errors"] == 0, result


def test_gradio_picture_writes_at_once_never_expose_a_partial_file(tmp_path):
    """gr.Image's output (processing_utils.save_pil_to_cache) from many threads at once, with readers."""
    gi.make_cache_writes_atomic()
    picture = Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8))
    path = Path(gradio_processing.save_pil_to_cache(picture, str(tmp_path), format="png"))
    whole = path.read_bytes()
    stop, seen = threading.Event(), []

    def reader():
        while not stop.is_set():
            data = path.read_bytes()
            if data != whole:
                seen.append(len(data))

    def writer(_):
        return gradio_processing.save_pil_to_cache(picture, str(tmp_path), format="png")

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        with ThreadPoolExecutor(4) as pool:
            paths = set(pool.map(writer, range(200)))
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert paths == {str(path)}, f"identical pictures landed on different paths: {paths}"
    assert not seen, f"a reader saw {len(seen)} partial copies of the picture (sizes {sorted(set(seen))[:5]})"
    assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(whole).digest()
    leftovers = [p.name for p in path.parent.iterdir() if p != path]
    assert not leftovers, f"temporary files left beside the picture: {leftovers}"
