"""MNIST-style preprocessing of user images: real MNIST digits redrawn many ways must come back readable."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from genmodels.data import load_dataset
from genmodels.preprocess import load_image_file, prepare_digit
from genmodels.registry import ModelRegistry


@pytest.fixture(scope="module")
def digits():
    """50 real validation digits (uint8 28x28) and their labels."""
    ds = load_dataset("mnist-5k")
    return ds.val_x[:50].numpy(), ds.val_y[:50]


@pytest.fixture(scope="module")
def rnn():
    return ModelRegistry(device="cpu").load("rnn-mnist")


def png(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def dark_on_light_photo(a: np.ndarray) -> Image.Image:
    """A digit printed dark on off-white paper, scaled up 10x, in colour, off-centre."""
    ink = Image.fromarray(255 - a).resize((280, 280), Image.Resampling.BILINEAR).convert("RGB")
    paper = Image.new("RGB", (640, 480), (235, 230, 220))
    paper.paste(ink, (300, 60), Image.fromarray(a).resize((280, 280)))
    return paper


def transparent_dark_ink(a: np.ndarray) -> Image.Image:
    """Black ink whose shape is only in the alpha channel (a typical drawing-app export)."""
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = a
    return Image.fromarray(rgba, "RGBA").resize((140, 140), Image.Resampling.BILINEAR)


def light_on_dark_small(a: np.ndarray) -> Image.Image:
    return Image.fromarray(a).resize((56, 56), Image.Resampling.BILINEAR)


def white_on_transparent(a: np.ndarray) -> Image.Image:
    """White strokes on a transparent layer (what the sketch canvas gives)."""
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[..., 3] = a
    return Image.fromarray(rgba, "RGBA").resize((280, 280), Image.Resampling.BILINEAR)


def black_on_white_canvas(a: np.ndarray) -> Image.Image:
    """Black strokes on a white 400x300 canvas, the digit off to one side."""
    canvas = Image.new("RGB", (400, 300), "white")
    canvas.paste((0, 0, 0), (190, 70), Image.fromarray(a).resize((200, 200), Image.Resampling.BILINEAR))
    return canvas


def on_a_grey_gradient(a: np.ndarray) -> Image.Image:
    """Dark ink on paper lit from the left: the right edge of the paper is as dark as the ink."""
    light = np.linspace(1.0, 0.25, 640, dtype=np.float32)[None, :]
    ink = np.zeros((480, 640), np.float32)
    ink[100:380, 180:460] = np.asarray(Image.fromarray(a).resize((280, 280), Image.Resampling.BILINEAR)) / 255
    reflectance = 0.85 * (1 - ink) + 0.2 * ink
    return Image.fromarray(np.clip(reflectance * light * 255, 0, 255).astype(np.uint8))


@pytest.mark.parametrize("redraw", [dark_on_light_photo, transparent_dark_ink, light_on_dark_small,
                                    white_on_transparent, black_on_white_canvas, on_a_grey_gradient])
def test_redrawn_digits_are_read_like_the_originals(digits, rnn, redraw):
    images, labels = digits
    prepared = torch.stack([prepare_digit(redraw(a)) for a in images])
    assert prepared.shape == (50, 1, 28, 28)
    assert prepared.min() >= 0 and prepared.max() <= 1
    accuracy = (rnn.predict_proba(prepared).argmax(1) == labels).float().mean().item()
    original = (rnn.predict_proba(torch.from_numpy(images).float() / 255).argmax(1) == labels).float().mean().item()
    assert accuracy >= original - 0.12, (accuracy, original)


def test_output_is_centred_in_a_20_pixel_box(digits):
    wide = np.zeros((100, 300), np.uint8)
    wide[40:60, 20:280] = 255  # a long horizontal bar far off-centre horizontally
    out = prepare_digit(wide)[0].numpy()
    cols = np.flatnonzero(out.max(0) > 0.05)
    rows = np.flatnonzero(out.max(1) > 0.05)
    assert 19 <= cols[-1] - cols[0] + 1 <= 21  # the longer side fills the 20-pixel box
    assert rows[-1] - rows[0] + 1 <= 4  # aspect ratio kept
    ys, xs = np.mgrid[0:28, 0:28]
    assert abs((xs * out).sum() / out.sum() - 13.5) <= 1
    assert abs((ys * out).sum() / out.sum() - 13.5) <= 1


def test_numpy_rgb_float_and_grey_inputs_agree(digits):
    a = digits[0][3]
    grey = prepare_digit(a)
    rgb = prepare_digit(np.stack([a, a, a], axis=-1).astype(np.float32) / 255)
    assert torch.allclose(grey, rgb, atol=0.02)


@pytest.mark.parametrize("blank", [np.zeros((64, 64), np.uint8), np.full((64, 64), 255, np.uint8),
                                   np.full((64, 64, 4), 0, np.uint8)])
def test_blank_images_are_refused_with_a_sentence(blank):
    with pytest.raises(ValueError, match="blank|transparent"):
        prepare_digit(blank)


def test_tiny_huge_and_odd_inputs_are_refused():
    with pytest.raises(ValueError, match="at least"):
        prepare_digit(Image.new("L", (1, 1)))
    with pytest.raises(ValueError, match="megapixels"):
        prepare_digit(np.zeros((6000, 6000), np.uint8))
    with pytest.raises(ValueError, match="PIL image or a numpy array"):
        prepare_digit("not an image")
    with pytest.raises(ValueError, match="shaped"):
        prepare_digit(np.zeros((4, 30, 30), np.uint8))


def test_load_image_file_reads_png_jpeg_webp(digits):
    image = dark_on_light_photo(digits[0][0])
    for fmt in ("PNG", "JPEG", "WEBP"):
        loaded = load_image_file(png(image, fmt))
        assert loaded.size == image.size
        assert prepare_digit(loaded).shape == (1, 28, 28)


def test_load_image_file_refuses_bad_files(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        load_image_file(b"")
    with pytest.raises(ValueError, match="not an image"):
        load_image_file(b"hello, this is text")
    good = png(Image.new("RGB", (200, 200), "white"))
    with pytest.raises(ValueError, match="damaged or truncated"):
        load_image_file(good[: len(good) // 2])
    with pytest.raises(ValueError, match="limit"):
        load_image_file(good, max_bytes=100)
    with pytest.raises(ValueError, match="at least"):
        load_image_file(png(Image.new("L", (1, 1))))
    # 10,000 x 10,000 compresses to a few hundred kB but would need 100 MB+ to decode.
    huge = png(Image.new("1", (10_000, 10_000)), optimize=True)
    with pytest.raises(ValueError, match="megapixels"):
        load_image_file(huge)
    path = tmp_path / "missing.png"
    with pytest.raises(ValueError, match="could not be found"):
        load_image_file(path)


def test_large_photos_are_shrunk_early_and_read_like_small_ones(digits, rnn):
    """A 12-megapixel photo (JPEG and RGBA PNG) gives the same digit as a small copy, without touching the caller's image."""
    from genmodels.preprocess import WORK_SIDE, _pil_grey_and_alpha

    a, label = digits[0][5], int(digits[1][5])
    small = dark_on_light_photo(a)  # 640x480
    big = small.resize((4000, 3000), Image.Resampling.BICUBIC)
    grey, alpha = _pil_grey_and_alpha(big)
    assert max(grey.shape) == WORK_SIDE and grey.dtype == np.float32 and alpha is None
    assert big.size == (4000, 3000)
    reference = prepare_digit(small)
    for data in (png(big, "JPEG", quality=90), png(big.convert("RGBA"), compress_level=1)):
        prepared = prepare_digit(load_image_file(data))
        assert prepared.dtype == torch.float32
        assert (prepared - reference).abs().mean() < 0.03
        assert rnn.predict_proba(prepared.unsqueeze(0)).argmax().item() == label


def test_large_arrays_are_shrunk_too(digits):
    a = digits[0][2]
    big = np.asarray(Image.fromarray(a).resize((2800, 2800), Image.Resampling.BILINEAR))
    assert (prepare_digit(big) - prepare_digit(a)).abs().mean() < 0.03
