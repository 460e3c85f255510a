"""The peak frame of a video (or the image itself) as a small JPEG data URI for the HTML report.

The frame nearest ``time`` is decoded with PyAV, scaled to at most ``max_side`` pixels, the face box
drawn on it when the face analyser reported one, and encoded as base64 JPEG. A file that cannot be
decoded raises :class:`PeakFrameError`, which the report shows on the page instead of the picture.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageDraw

from emoreason.errors import EmoreasonError


class PeakFrameError(EmoreasonError):
    """The peak frame could not be read from the media file."""


@dataclass
class PeakFrame:
    data_uri: str
    width: int
    height: int
    time: float | None  # the decoded frame's time (None for a still image)
    box_drawn: bool


def decode_frame(media_path: str | Path, time: float | None) -> tuple[np.ndarray, float | None]:
    """The RGB frame (HxWx3 uint8) nearest ``time`` seconds, and that frame's time."""
    path = Path(media_path)
    if not path.is_file():
        raise PeakFrameError(f"{path}: no such file")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise PeakFrameError(f"{path.name}: no video stream to take the peak frame from")
            stream = container.streams.video[0]
            target = max(float(time or 0.0), 0.0)
            if target > 0 and stream.time_base is not None:
                container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
            best: tuple[float, np.ndarray, float | None] | None = None
            for frame in container.decode(stream):
                timed = frame.pts is not None and stream.time_base
                t = float(frame.pts * stream.time_base) if timed else None
                dist = abs((t or 0.0) - target)
                if best is None or dist < best[0]:
                    best = (dist, frame.to_ndarray(format="rgb24"), t)
                if t is None or t >= target:
                    break
    except PeakFrameError:
        raise
    except Exception as exc:  # PyAV raises many types for undecodable files
        raise PeakFrameError(f"{path.name}: cannot decode a frame ({type(exc).__name__}: {exc})") from exc
    if best is None:
        raise PeakFrameError(f"{path.name}: the video stream holds no frame")
    return best[1], best[2]


def _box_pixels(box: Any, width: int, height: int) -> tuple[int, int, int, int] | None:
    """``box`` as pixel corners. Accepted: ``{"x","y","w","h"}`` or ``[x0, y0, x1, y1]``, either in
    pixels or as fractions of the frame (all values <= 1)."""
    if isinstance(box, Mapping) and {"x", "y", "w", "h"} <= set(box):
        x0, y0 = float(box["x"]), float(box["y"])
        x1, y1 = x0 + float(box["w"]), y0 + float(box["h"])
    elif isinstance(box, Sequence) and not isinstance(box, str) and len(box) == 4:
        x0, y0, x1, y1 = (float(v) for v in box)
    else:
        return None
    if max(abs(x0), abs(y0), abs(x1), abs(y1)) <= 1.0:
        x0, x1, y0, y1 = x0 * width, x1 * width, y0 * height, y1 * height
    if x1 <= x0 or y1 <= y0:
        return None
    return int(x0), int(y0), int(x1), int(y1)


def peak_frame_image(media_path: str | Path, time: float | None, face_box: Any = None,
                     max_side: int = 560) -> PeakFrame:
    """Decode, mark and encode the frame at ``time`` of ``media_path`` for embedding in HTML."""
    rgb, t = decode_frame(media_path, time)
    img = Image.fromarray(rgb)
    box = _box_pixels(face_box, img.width, img.height) if face_box is not None else None
    scale = min(1.0, max_side / max(img.width, img.height))
    if scale < 1.0:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                         Image.Resampling.LANCZOS)
    if box is not None:
        draw = ImageDraw.Draw(img)
        x0, y0, x1, y1 = (round(v * scale) for v in box)
        stroke = max(2, round(max(img.width, img.height) / 200))
        draw.rectangle((x0, y0, x1, y1), outline=(255, 214, 10), width=stroke)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=86)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return PeakFrame(f"data:image/jpeg;base64,{data}", img.width, img.height, t, box is not None)
