"""Turn any user image (upload, sketch, photo) into an MNIST-style 28x28 digit in [0,1].

MNIST was made this way (LeCun et al., "The MNIST database"): grey levels, white ink on black,
the digit size-normalised into a 20x20 box keeping its aspect ratio (with anti-aliasing), then
placed in a 28x28 field so that its centre of mass sits at the centre. A model trained on MNIST
only understands digits prepared the same way, so uploads and drawings go through these steps.
"""

import io
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

MNIST_SIDE = 28
DIGIT_BOX = 20  # MNIST fits each digit into 20x20 before centring it in 28x28
MIN_SIDE = 8  # smaller than this there is nothing a person could have drawn
MAX_PIXELS = 25_000_000  # 25 megapixels: refuse larger images before decoding them (bomb guard)
MAX_BYTES = 10 * 1024 * 1024  # uploads larger than 10 MB are refused
WORK_SIDE = 1024  # larger images are shrunk to this longest side first: the digit ends up 20x20 anyway
MIN_CONTRAST = 0.15  # ink must differ from the background by this much (of full scale)
INK_THRESHOLD = 0.2  # a pixel counts as ink for cropping above this (after normalising)
GREY_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 luma, as PIL's convert("L")


def load_image_file(source, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Return the first frame of an image file (path or bytes) as a decoded PIL image.

    Checks size in bytes and in pixels *before* decoding, so an empty, truncated, non-image,
    oversized or decompression-bomb file raises a ValueError with a sentence for the user.
    """
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ValueError("The uploaded file could not be found on the server; please upload it again.")
        size = path.stat().st_size
        if size > max_bytes:
            raise ValueError(f"The file is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB.")
        data = path.read_bytes()
    else:
        raise ValueError(f"Expected an image file path or bytes, got {type(source).__name__}.")
    if not data:
        raise ValueError("The file is empty; please upload a PNG, JPEG or WebP image.")
    if len(data) > max_bytes:
        raise ValueError(f"The file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB.")
    with warnings.catch_warnings():
        # Our own pixel limit below is stricter than PIL's bomb warning; turn PIL's into an error too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # Lazy: reads the header only. Only the formats we accept (JPEG includes phones' MPO):
            # PIL would hand PostScript to Ghostscript, and reads dozens of formats no upload needs.
            image = Image.open(io.BytesIO(data), formats=("PNG", "JPEG", "WEBP", "GIF", "BMP"))
            _check_size(image.size, max_pixels)
            image.seek(0)
            if image.format == "JPEG":
                # Decode a big photo at 1/2, 1/4 or 1/8 scale straight away (far less memory and time).
                image.draft(image.mode, (WORK_SIDE, WORK_SIDE))
            image.load()
        except UnidentifiedImageError:
            raise ValueError("This file is not an image we can read; please upload a PNG, JPEG or WebP image.") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValueError(f"The image is too large to open safely: it expands to more than "
                             f"{max_pixels / 1e6:.0f} megapixels. Please scale it down.") from None
        except (OSError, SyntaxError, EOFError):  # after UnidentifiedImageError, which is an OSError
            raise ValueError("The image file is damaged or truncated and could not be read.") from None
    try:
        image = ImageOps.exif_transpose(image)  # phone photos store their rotation in EXIF
    except Exception:  # a broken EXIF block should not cost the user their digit
        pass
    return image


def _check_size(size: tuple[int, int], max_pixels: int = MAX_PIXELS) -> None:
    width, height = size
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ValueError(f"The image is {width}x{height} pixels; it needs at least {MIN_SIDE}x{MIN_SIDE} to hold a digit.")
    if width * height > max_pixels:
        raise ValueError(f"The image is {width}x{height} pixels; the limit is {max_pixels / 1e6:.0f} megapixels. "
                         "Please scale it down.")


def _grey_and_alpha(image) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (grey, alpha) float32 arrays in [0,1], at most WORK_SIDE pixels on the longer side
    (alpha None when the image is fully opaque)."""
    if isinstance(image, Image.Image):
        _check_size(image.size)
        return _pil_grey_and_alpha(image)
    if isinstance(image, np.ndarray):
        grey, alpha = _array_grey_and_alpha(image)
        return _shrink_array(grey), (None if alpha is None else _shrink_array(alpha))
    raise ValueError(f"Expected a PIL image or a numpy array, got {type(image).__name__}.")


def _pil_grey_and_alpha(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    # Shrink while still 8-bit PIL pixels, before numpy sees them: a 16-megapixel RGBA upload
    # would otherwise take hundreds of MB as floats.
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        image = _shrink_image(image if image.mode in ("I", "F") else image.convert("I"))
        grey = np.asarray(image, dtype=np.float32)
        top = grey.max()
        return (grey / top if top > 0 else grey), None
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        rgba = np.asarray(_shrink_image(_as_mode(image, "RGBA")), dtype=np.float32) / 255
        return rgba[..., :3] @ GREY_WEIGHTS, rgba[..., 3]
    return np.asarray(_shrink_image(_as_mode(image, "L")), dtype=np.float32) / 255, None


def _array_grey_and_alpha(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"Expected an image array shaped (H,W), (H,W,3) or (H,W,4); got {arr.shape}.")
    _check_size((arr.shape[1], arr.shape[0]))
    if arr.dtype == bool:
        arr = arr.astype(np.float32)
    elif np.issubdtype(arr.dtype, np.integer):
        top = arr.max()
        arr = arr.astype(np.float32) / (255 if top <= 255 else float(top))
    elif np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32)
        if not np.isfinite(arr).all():
            raise ValueError("The image array contains NaN or infinite values.")
        arr = arr / 255 if arr.max() > 1 else arr
    else:
        raise ValueError(f"Unsupported image array type {arr.dtype}.")
    arr = np.clip(arr, 0, 1)
    if arr.ndim == 2:
        return arr, None
    return arr[..., :3] @ GREY_WEIGHTS, (arr[..., 3] if arr.shape[2] == 4 else None)


def _as_mode(image: Image.Image, mode: str) -> Image.Image:
    """Return `image` in `mode`, without a full-size copy when it is already in it."""
    return image if image.mode == mode else image.convert(mode)


def _working_size(size: tuple[int, int]) -> tuple[int, int] | None:
    """Return the (width, height) to shrink to so the longer side is WORK_SIDE, or None if already small."""
    width, height = size
    if max(width, height) <= WORK_SIDE:
        return None
    scale = WORK_SIDE / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _shrink_image(image: Image.Image) -> Image.Image:
    """Return `image` (a new one; the caller's is untouched) with its longer side at most WORK_SIDE."""
    target = _working_size(image.size)
    if target is None:
        return image
    factor = max(image.size) // WORK_SIDE
    if factor >= 2:
        image = image.reduce(factor)  # fast box filter by a whole factor
    return image.resize(target, Image.Resampling.LANCZOS)


def _shrink_array(arr: np.ndarray) -> np.ndarray:
    """Return a 2-D float32 array with its longer side at most WORK_SIDE (area-averaged)."""
    target = _working_size((arr.shape[1], arr.shape[0]))
    if target is None:
        return arr
    return np.asarray(_shrink_image(Image.fromarray(np.ascontiguousarray(arr, dtype=np.float32), mode="F")))


def _flatten_alpha(grey: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Return grey with transparent areas filled by a background that contrasts with the ink."""
    if alpha is None or alpha.min() > 0.99:
        return grey
    opaque = alpha > 0.5
    if not opaque.any():
        raise ValueError("The image is completely transparent: no digit found. Draw or upload a digit.")
    # Dark ink on transparency goes onto white, light ink onto black (the next step normalises both).
    background = 1.0 if grey[opaque].mean() < 0.5 else 0.0
    return grey * alpha + background * (1 - alpha)


def prepare_digit(image) -> torch.Tensor:
    """Return an MNIST-style digit (1, 28, 28) float32 in [0,1] (white ink on black) from a PIL image or array.

    Grey; invert when the background is light; crop to the ink; fit into a 20x20 box keeping the
    aspect ratio; centre by centre of mass in 28x28. Raises ValueError for blank or unusable images.
    """
    grey, alpha = _grey_and_alpha(image)
    grey = _flatten_alpha(grey, alpha)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    background = float(np.median(border))
    if background > 0.5:  # dark ink on light paper: MNIST has light ink on black
        grey, background = 1 - grey, 1 - background
    ink = np.clip(grey - background, 0, None)
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        raise ValueError("The image looks blank: no digit stands out from the background. Draw or upload a digit.")
    ink = ink / peak
    ink[ink < 0.05] = 0  # JPEG and paper noise would otherwise pull the crop and centre of mass
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    box = _fit_into_box(ink, DIGIT_BOX)
    return torch.from_numpy(_centre_by_mass(box, MNIST_SIDE)).float().unsqueeze(0)


def _fit_into_box(ink: np.ndarray, side: int) -> np.ndarray:
    """Return `ink` resized (anti-aliased) so its longer side is `side` pixels, aspect kept."""
    height, width = ink.shape
    scale = side / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(ink.astype(np.float32), mode="F").resize(
        new_size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    return np.clip(np.asarray(resized, dtype=np.float32), 0, 1)


def _centre_by_mass(box: np.ndarray, side: int) -> np.ndarray:
    """Return a side x side field with `box` pasted so its centre of mass is at the field centre."""
    height, width = box.shape
    total = box.sum()
    ys, xs = np.mgrid[0:height, 0:width]
    com_y = ((ys + 0.5) * box).sum() / total
    com_x = ((xs + 0.5) * box).sum() / total
    top = int(round(side / 2 - com_y))
    left = int(round(side / 2 - com_x))
    field = np.zeros((side, side), dtype=np.float32)
    # Paste with clipping: a lopsided digit may be shifted partly past the edge, as in MNIST.
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + height, side), min(left + width, side)
    field[y0:y1, x0:x1] = box[y0 - top:y1 - top, x0 - left:x1 - left]
    return field
