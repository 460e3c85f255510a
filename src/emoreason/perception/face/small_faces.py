"""Small and pre-cropped faces: finding a face that fills a small image, and how far to trust its cues.

A 48x48 FER-style crop or a 64x64 thumbnail is (mostly) a face: mediapipe's detector, which expects a face
inside a wider scene, often misses it. :func:`upscaled_face` retries such an image (long side at most
:data:`SMALL_IMAGE_SIDE`) with an edge-replicated border of :data:`PAD` x its long side on every side,
enlarged (bicubic) to :data:`UPSCALE_SIDE` px, and maps the mesh back to the image's own pixels.

Faces narrower than :data:`MIN_FACE_PX` (geometric mean of the mesh box's sides) are refused. Between that
and :data:`RELIABLE_FACE_PX` the expression models still read the face, but the mesh measures are noisy:
the face stage then reports the Action Units and gaze as low-confidence and gives no evidence from them
(:func:`cue_confidence`). Measured (``benchmarks/small_faces.py``, "stability": 145 ``facial_expressions``
photos shrunk from ~300-px faces): the largest of the 15 AU measures moved on average by 0.51 neutral-face
SDs at 128 px, 0.74 at 64, 0.95 at 48, 1.43 at 32 and 1.98 at 24 -- against 1.5 SDs for "clearly active" --
and the eye yaw by 1.6, 2.3, 2.5, 3.9 and 5.2 degrees; the head pose moved by at most 2.5 degrees even at
24 px, so it keeps its evidence at every size. On 500 FER+ valid images (48x48) the stage refuses 12 (a
40-px minimum without the retry refused 219); of 300 photos shrunk to 64x64, 3 (13).
"""

from __future__ import annotations

import cv2
import numpy as np

from emoreason.perception.face.mesh import FaceMesh, FaceMeshTracker

#: Faces narrower than this (px) are refused.
MIN_FACE_PX = 24
#: Below this face size (px) the mesh's Action Units and gaze are low-confidence.
RELIABLE_FACE_PX = 64
#: Images whose long side is at most this are retried padded and enlarged when no usable face is found.
SMALL_IMAGE_SIDE = 256
UPSCALE_SIDE = 256
PAD = 0.25


def upscaled_face(tracker: FaceMeshTracker, rgb: np.ndarray, pad: float = PAD,
                  side: int = UPSCALE_SIDE) -> FaceMesh | None:
    """The main face of ``rgb`` found on a padded, enlarged copy, in ``rgb``'s own pixels (or None)."""
    h, w = rgb.shape[:2]
    p = int(round(pad * max(h, w)))
    padded = cv2.copyMakeBorder(rgb, p, p, p, p, cv2.BORDER_REPLICATE) if p else rgb
    k = side / max(padded.shape[:2])
    big = cv2.resize(padded, (max(1, round(padded.shape[1] * k)), max(1, round(padded.shape[0] * k))),
                     interpolation=cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA)
    face, _ = tracker.main_face(np.ascontiguousarray(big))
    if face is None:
        return None
    pts = face.points.astype(np.float32, copy=True)
    pts[:, :2] = pts[:, :2] / k - p
    pts[:, 2] /= k
    x0, y0 = pts[:, 0].min(), pts[:, 1].min()
    x1, y1 = pts[:, 0].max(), pts[:, 1].max()
    return FaceMesh(points=pts, box=(float(x0), float(y0), float(x1), float(y1)))


def is_small_image(rgb: np.ndarray) -> bool:
    """Whether ``rgb`` is small enough to be retried by :func:`upscaled_face`."""
    return max(rgb.shape[:2]) <= SMALL_IMAGE_SIDE


def cue_confidence(face_px: float) -> dict[str, dict]:
    """What the face stage computed for a face of median size ``face_px`` and how far to trust it."""
    low = face_px < RELIABLE_FACE_PX
    why = (f"the face is {face_px:.0f} px, below {RELIABLE_FACE_PX} px: the mesh's measures are noisy"
           if low else "")
    au = {"computed": True, "confidence": "low" if low else "normal", "in_evidence": not low}
    gaze = {"computed": True, "confidence": "low" if low else "normal", "in_evidence": not low}
    if low:
        au["why"] = gaze["why"] = why
    return {"expression": {"computed": True, "confidence": "normal"},
            "action_units": au,
            "head_pose": {"computed": True, "confidence": "normal", "in_evidence": True},
            "gaze": gaze}
