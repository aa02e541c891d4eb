"""An upload of a real-looking photo in headless Chromium: "What the model sees" shows the normalised digit."""

import io

import numpy as np
import pytest
import torch
from browser_waits import text_at, wait_until
from PIL import Image

from test_browser_explore import loaded, no_error_toast, upload
from test_preprocess_real import MNIST_HIGH, MNIST_LOW, drawn_zero, width_of
from test_printed import FLAG_ONE, pen_digit

pytestmark = pytest.mark.browser


def test_an_uploaded_thin_pen_zero_is_shown_normalised_and_read(page, tmp_path):
    loaded(page)
    path = tmp_path / "thin-pen-zero.jpg"
    drawn_zero(line_width=2).convert("RGB").save(path, quality=85)  # a ball-point 0 on a large page
    upload(page, path)
    wait_until(page, "() => document.body.innerText.includes('your uploaded')", "the readout of the uploaded digit",
               last=text_at("#ll-probs"))
    src = page.locator("#ll-model-saw img").get_attribute("src")
    shown = page.evaluate("async (src) => Array.from(new Uint8Array(await (await fetch(src)).arrayBuffer()))", src)
    # The 28x28 digit is shown enlarged with hard pixel edges: one pixel in every block is the model's input.
    big = np.asarray(Image.open(io.BytesIO(bytes(shown))).convert("L"), dtype=np.float32) / 255
    step = big.shape[0] // 28
    seen = torch.from_numpy(big[step // 2::step, step // 2::step][:28, :28].copy()).unsqueeze(0)
    assert MNIST_LOW <= width_of(seen) <= MNIST_HIGH  # as wide as MNIST's strokes, not a hairline
    assert seen.max() >= 0.9
    assert top_reading(page) == "0"
    # A 1 with a flag and a foot, as many write it and MNIST's writers rarely did: read as a 1.
    path = tmp_path / "flagged-one.jpg"
    pen_digit(FLAG_ONE, width=8, slant=0.05).convert("RGB").save(path, quality=85)
    readout = page.locator("#ll-probs").inner_text()
    upload(page, path)
    wait_until(page, "([src, readout]) => document.querySelector('#ll-model-saw img')?.getAttribute('src') !== src"
               " && document.querySelector('#ll-probs').innerText !== readout",
               "the flagged 1's prepared picture and readout to replace the 0's", arg=[src, readout],
               last=text_at("#ll-probs"))
    assert top_reading(page) == "1"
    no_error_toast(page)


def top_reading(page) -> str:
    """Return the class the readout of the uploaded digit puts first."""
    return page.locator("#ll-probs h2, #ll-probs .output-class").first.inner_text().strip()
