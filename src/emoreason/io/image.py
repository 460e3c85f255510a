"""Images in: image files (Pillow, with a pixel cap against decompression bombs) and image arrays of any
common type, as HxWx3 uint8 RGB, with notes saying what was converted."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from emoreason.errors import ConfigError, MediaTooLargeError, UnsupportedFormatError
from emoreason.io.paths import check_path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
#: PIL modes with more than 8 bits a channel: converted by scaling, not by PIL (which clips them).
WIDE_IMAGE_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I", "F"}
# The most pixels an image may hold (Pillow's decompression-bomb threshold, ~89 megapixels): a tiny file
# can declare 50000x50000 and expand to gigabytes when decoded.
MAX_IMAGE_PIXELS = 89_478_485


def load_image(path: str | Path, notes: list[str] | None = None) -> np.ndarray:
    """An image file as an HxWx3 uint8 RGB array. 16-bit and float images (PIL modes I;16, I, F: 16-bit
    PNG, TIFF) are scaled to 8 bits by :func:`image_to_rgb`, which PIL's own conversion does not do (it
    clips them white); what was converted is appended to ``notes``."""
    path = check_path(path)
    try:
        with _open_image(path) as im:
            if im.mode not in WIDE_IMAGE_MODES:
                return np.asarray(im.convert("RGB"))
            try:
                rgb, said = image_to_rgb(np.asarray(im))
            except ConfigError as exc:
                raise UnsupportedFormatError(f"{path}: {exc}") from None
            if notes is not None:
                notes.extend(said)
            return rgb
    except (UnidentifiedImageError, OSError) as exc:
        raise UnsupportedFormatError(f"{path}: not a readable image ({exc.__class__.__name__})") from None


def _open_image(path: Path) -> Image.Image:
    """``Image.open`` (the header only), refused with :class:`MediaTooLargeError` past MAX_IMAGE_PIXELS."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(path)
        except Image.DecompressionBombError:
            im = None
    if im is None or im.width * im.height > MAX_IMAGE_PIXELS:
        size = f"{im.width}x{im.height} pixels" if im is not None else "over twice the limit"
        if im is not None:
            im.close()
        raise MediaTooLargeError(f"{path}: the image is too large ({size}); at most "
                                 f"{MAX_IMAGE_PIXELS / 1e6:.0f} megapixels are read")
    return im


def image_to_rgb(image: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """An image array as HxWx3 uint8 RGB, and notes saying what was converted (none for HxWx3 uint8).

    Shapes: HxW (grey) and HxWx1 become RGB by repeating the channel; HxWx4 loses its alpha channel.
    Values: integer images whose values lie in 0..255 are read as 8-bit whatever their type; larger
    values are read as 16-bit (0..65535, or 0..32767 for int16) and scaled to 0..255. Float images in
    0..1 are scaled by 255; float images in 0..255 are rounded. Anything else (negative or larger
    values, NaN, booleans) is a ConfigError that says what was found.
    """
    x = np.asarray(image)
    notes: list[str] = []
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim == 2:
        notes.append("a grey image: its one channel was used as red, green and blue")
    elif x.ndim != 3 or x.shape[-1] not in (3, 4):
        raise ConfigError(f"an image must be HxW (grey), HxWx3 (RGB) or HxWx4 (RGBA), got shape {x.shape}")
    elif x.shape[-1] == 4:
        x = x[..., :3]
        notes.append("the image's alpha channel was ignored")
    if x.dtype != np.uint8:
        x, note = _to_uint8(x)
        notes.append(note)
    if x.ndim == 2:
        x = np.repeat(x[..., None], 3, axis=2)
    return np.ascontiguousarray(x), notes


def _to_uint8(x: np.ndarray) -> tuple[np.ndarray, str]:
    kind, name = x.dtype.kind, x.dtype.name
    if kind not in "iuf" or x.size == 0:
        raise ConfigError(f"an image must hold numbers (uint8 0..255, 16-bit integers or floats in 0..1), "
                          f"got {x.size} values of {x.dtype}")
    if kind == "f" and not np.isfinite(x).all():
        raise ConfigError(f"the {name} image holds NaN or infinite values")
    lo, hi = float(x.min()), float(x.max())
    if kind == "f":
        if lo >= 0 and hi <= 1:
            return np.round(x * 255).astype(np.uint8), f"a {name} image in 0..1: scaled to 0..255"
        if lo >= 0 and hi <= 255:
            return np.round(x).astype(np.uint8), f"a {name} image in 0..255: rounded to 8-bit"
        raise ConfigError(f"a float image must hold values in 0..1 or 0..255; this {name} image holds "
                          f"{lo:g}..{hi:g}")
    if lo < 0:
        raise ConfigError(f"an integer image must hold values from 0; this {name} image holds {lo:g}..{hi:g}")
    if hi <= 255:
        return x.astype(np.uint8), f"a {name} image with values in 0..255: read as 8-bit"
    full = 32767 if name == "int16" else 65535
    if hi > full:
        raise ConfigError(f"an integer image must hold 8-bit (0..255) or 16-bit (0..{full}) values; this "
                          f"{name} image reaches {hi:g}")
    scaled = np.round(x.astype(np.float64) * (255.0 / full)).astype(np.uint8)
    return scaled, f"a {name} image (16-bit, 0..{full}): scaled to 0..255"
