"""Uploads: decompression bombs, truncated and garbage files, huge dimensions, wrong
extensions, SVG and HTML posing as images, PostScript, EXIF-rotated, CMYK and 16-bit images.

Each goes through the real app over plain HTTP (upload, then /classify or /reconstruct): a file
the app cannot use gets one sentence (no traceback, no server path), a usable one gets its
answer, and the app keeps serving afterwards.
"""

import io
import json
import struct
import zlib

import numpy as np
import pytest
from hostile import ServerLog, api_call, error_sentence, file_data, leaks, upload
from PIL import Image

Z = json.dumps([0.0] * 20)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_of_size(width: int, height: int, rows: int | None = None) -> bytes:
    """A greyscale PNG whose header says width x height; only `rows` rows of zeros are stored (all when None)."""
    stored = height if rows is None else rows
    packer = zlib.compressobj(9)
    row = b"\0" * (width + 1)  # filter byte + pixels
    body = b"".join(packer.compress(row) for _ in range(stored)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def encoded(image: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


@pytest.fixture(scope="module")
def paper_digit(digits) -> Image.Image:
    """A validation 7 from mnist-5k as a photo would show it: black ink on white paper, 140x140 RGB."""
    index = int((digits.val_y == 7).nonzero()[0])
    ink = digits.val_x[index].numpy().astype(np.uint8)
    return Image.fromarray(255 - ink, mode="L").resize((140, 140), Image.Resampling.BICUBIC).convert("RGB")


def send(url: str, name: str, data: bytes, endpoint: str = "classify") -> tuple[str, object]:
    """Upload `data` as `name` and call `endpoint` with it; ('http-<status>', text) when the upload is refused."""
    status, path = upload(url, name, data)
    if status != 200:
        return f"http-{status}", path
    return api_call(url, endpoint, json.dumps([file_data(path), "vae-mnist"]))


def assert_still_serving(url: str) -> None:
    event, data = api_call(url, "decode", f'[{Z}, "vae-mnist"]')
    assert event == "complete", data


def _bad_files() -> dict[str, tuple[str, bytes, str]]:
    """{case: (file name, bytes, a word the sentence must contain)}."""
    digit = Image.new("L", (64, 64), 255)
    digit.paste(0, (28, 8, 36, 56))
    good_png, good_jpeg = encoded(digit, "PNG"), encoded(digit.convert("RGB"), "JPEG")
    return {
        "bomb: 64 megapixels of zeros in 66 kB": ("bomb.png", png_of_size(8000, 8000), "megapixels"),
        "header claims 100000 x 100000": ("huge.png", png_of_size(100_000, 100_000, rows=1), "megapixels"),
        "header claims 1 x 30000000": ("strip.png", png_of_size(1, 30_000_000, rows=1), "pixels"),
        "GIF screen 65535 x 65535": ("huge.gif", _gif_of_size(65535, 65535), "pixels"),
        "too small to hold a digit": ("tiny.png", encoded(Image.new("L", (3, 3)), "PNG"), "at least"),
        "truncated PNG": ("cut.png", good_png[:len(good_png) // 2], "damaged"),
        "truncated JPEG": ("cut.jpg", good_jpeg[:len(good_jpeg) // 2], "damaged"),
        "garbage named .png": ("noise.png", bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)),
                               "not an image"),
        "empty file": ("empty.png", b"", "empty"),
        "SVG named .png": ("digit.png", b'<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28">'
                                        b'<script>alert(1)</script><rect width="28" height="28"/></svg>', "not an image"),
        "SVG": ("digit.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="9"/></svg>', "not an image"),
        "HTML named .png": ("digit.png", b"<!doctype html><html><script>alert(document.cookie)</script></html>",
                            "not an image"),
        "HTML": ("page.html", b"<html><body onload=alert(1)></body></html>", "not an image"),
        "PostScript": ("digit.eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\nnewpath 0 0 moveto "
                                    b"28 28 lineto stroke showpage\n%%EOF\n", ""),
        "a Python file": ("evil.py", b"import os\nos.system('echo owned')\n", "not an image"),
    }


def _gif_of_size(width: int, height: int) -> bytes:
    """A GIF whose logical screen is width x height, holding one 1x1 frame."""
    image = encoded(Image.new("P", (1, 1)), "GIF")
    return image[:6] + struct.pack("<HH", width, height) + image[10:]


BAD_FILES = _bad_files()


@pytest.mark.parametrize("case", list(BAD_FILES))
@pytest.mark.parametrize("endpoint", ["classify", "reconstruct"])
def test_a_file_the_app_cannot_use_gets_one_sentence(live_app, runs_dir, case, endpoint, capfd):
    name, data, word = BAD_FILES[case]
    capfd.readouterr()
    with ServerLog() as log:
        event, payload = send(live_app, name, data, endpoint)
    message = error_sentence(event, payload)
    assert word.lower() in message.lower(), message
    assert not leaks(message, runs_dir), message
    assert not log.tracebacks() and "Traceback" not in capfd.readouterr().err
    assert_still_serving(live_app)


def test_postscript_is_refused_without_running_ghostscript(live_app, monkeypatch):
    """PIL hands EPS files to Ghostscript, a large interpreter: an upload never gets that far."""
    from PIL import EpsImagePlugin

    calls = []
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *a, **k: calls.append(a) or Image.new("L", (28, 28)))
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", "gs", raising=False)
    name, data, _ = BAD_FILES["PostScript"]
    event, payload = send(live_app, name, data)
    error_sentence(event, payload)
    assert calls == []


def test_a_file_over_the_size_limit_is_refused_at_upload(live_app):
    from genmodels.preprocess import MAX_BYTES

    status, text = upload(live_app, "big.png", b"\0" * (MAX_BYTES + 1))
    assert status in (400, 413), status
    assert "Traceback" not in text and len(text) < 1000
    assert_still_serving(live_app)


def _top_class(payload) -> str:
    probabilities = payload[0] if isinstance(payload, list) else payload
    if isinstance(probabilities, dict) and "confidences" in probabilities:  # a gr.Label value
        return probabilities["label"]
    return max(probabilities, key=probabilities.get)


@pytest.mark.parametrize("variant", ["EXIF-rotated JPEG", "CMYK JPEG", "16-bit PNG", "palette PNG with transparency",
                                     "1-bit PNG", "WebP", "BMP", "animated GIF", "PNG named .jpg", "JPEG named .txt"])
def test_unusual_but_valid_images_read_like_the_plain_one(live_app, paper_digit, variant):
    event, plain = send(live_app, "plain.png", encoded(paper_digit, "PNG"))
    assert event == "complete", plain
    name, data = _variant(paper_digit, variant)
    event, payload = send(live_app, name, data)
    assert event == "complete", payload
    assert _top_class(payload) == _top_class(plain), (variant, payload, plain)


def _variant(image: Image.Image, variant: str) -> tuple[str, bytes]:
    grey = image.convert("L")
    if variant == "EXIF-rotated JPEG":  # stored turned a quarter, with the tag that turns it back
        exif = Image.Exif()
        exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
        return "phone.jpg", encoded(image.rotate(90, expand=True), "JPEG", quality=95, exif=exif.tobytes())
    if variant == "CMYK JPEG":
        return "print.jpg", encoded(image.convert("CMYK"), "JPEG", quality=95)
    if variant == "16-bit PNG":
        wide = (np.asarray(grey, dtype=np.uint16) * 257).astype(np.uint16)
        return "scan16.png", encoded(Image.fromarray(wide, mode="I;16"), "PNG")
    if variant == "palette PNG with transparency":
        return "palette.png", encoded(image.convert("P"), "PNG", transparency=255)
    if variant == "1-bit PNG":
        return "bw.png", encoded(grey.point(lambda v: 255 if v > 128 else 0).convert("1"), "PNG")
    if variant == "WebP":
        return "digit.webp", encoded(image, "WEBP", lossless=True)
    if variant == "BMP":
        return "digit.bmp", encoded(image, "BMP")
    if variant == "animated GIF":  # the first frame is the digit
        blank = Image.new("L", image.size, 255)
        out = io.BytesIO()
        grey.save(out, format="GIF", save_all=True, append_images=[blank, blank], duration=100, loop=0)
        return "anim.gif", out.getvalue()
    if variant == "PNG named .jpg":
        return "digit.jpg", encoded(image, "PNG")
    if variant == "JPEG named .txt":
        return "digit.txt", encoded(image, "JPEG", quality=95)
    raise AssertionError(variant)
