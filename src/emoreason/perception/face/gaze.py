"""Eye direction from the iris landmarks of mediapipe's refined mesh (points 468-477).

Per eye, in the face's own frame (:func:`~emoreason.perception.face.action_units.face_frame`: x from the
subject's right eye to the left eye, y down the face), the iris centre (468: the subject's right eye,
473: the left) is placed relative to the eye: horizontally against the midpoint of the eye corners,
vertically against the midpoint of the upper and lower lids, both divided by half the eye's width (corner
to corner). The two eyes are averaged. Offsets are turned into approximate angles of the eye in the head
by treating the eye as a ball of radius :data:`EYEBALL_OVER_HALF_WIDTH` half-widths:
``angle = asin(offset / EYEBALL_OVER_HALF_WIDTH)``, so these are rough (a few degrees at best, worse on
small faces).

Conventions match :mod:`~emoreason.perception.face.head_pose`: ``eye_yaw`` > 0 looks towards the image's
right, ``eye_pitch`` > 0 looks up. The gaze's direction relative to the camera is the head pose plus the
eye's angles (:func:`gaze_angles`). When an eye's opening (lid to lid) is below
:data:`MIN_EYE_OPENING` of its width (closed, blinking) its iris is not read; with both closed the angles
are NaN.
"""

from __future__ import annotations

import numpy as np

from emoreason.perception.face.action_units import (
    EYE_L_IN,
    EYE_L_OUT,
    EYE_R_IN,
    EYE_R_OUT,
    LID_L_LO,
    LID_L_UP,
    LID_R_LO,
    LID_R_UP,
    face_frame,
)

IRIS_R, IRIS_L = 468, 473
#: Eyeball radius in half eye-widths: about 12 mm against a palpebral fissure of about 30 mm.
EYEBALL_OVER_HALF_WIDTH = 0.8
#: Below this lid-to-lid opening (fraction of the eye's width) an eye is treated as closed.
MIN_EYE_OPENING = 0.12


def _eye(q: np.ndarray, iris: int, corners: tuple[int, int], upper: tuple[int, ...],
         lower: tuple[int, ...]) -> tuple[float, float] | None:
    """(horizontal, vertical) iris offset of one eye in half-widths (vertical: positive = down), or None
    when the eye is closed."""
    a, b = q[corners[0]], q[corners[1]]
    half = float(np.linalg.norm(b[:2] - a[:2])) / 2
    if half < 1e-6:
        return None
    up, lo = q[list(upper), 1].mean(), q[list(lower), 1].mean()
    if (lo - up) / (2 * half) < MIN_EYE_OPENING:
        return None
    h = (q[iris, 0] - (a[0] + b[0]) / 2) / half
    v = (q[iris, 1] - (up + lo) / 2) / half
    return float(h), float(v)


def eye_offsets(points: np.ndarray) -> tuple[float, float]:
    """Mean (horizontal, vertical) iris offset of the open eyes, in half eye-widths (horizontal > 0: towards
    the image's right for a frontal face; vertical > 0: down); NaN, NaN when both eyes are closed.

    Raises ValueError for a mesh without iris points (fewer than 478) or a degenerate one."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] < 478:
        raise ValueError(f"gaze needs the 478-point mesh with irises, got shape {pts.shape}")
    q = face_frame(pts)
    eyes = [_eye(q, IRIS_R, (EYE_R_OUT, EYE_R_IN), LID_R_UP, LID_R_LO),
            _eye(q, IRIS_L, (EYE_L_IN, EYE_L_OUT), LID_L_UP, LID_L_LO)]
    found = [e for e in eyes if e is not None]
    if not found:
        return float("nan"), float("nan")
    h, v = np.mean(found, axis=0)
    return float(h), float(v)


def eye_angles(points: np.ndarray) -> tuple[float, float]:
    """(eye_yaw, eye_pitch) in degrees: where the eyes point relative to the head (see the module)."""
    h, v = eye_offsets(points)
    if not np.isfinite(h):
        return float("nan"), float("nan")
    yaw = np.degrees(np.arcsin(np.clip(h / EYEBALL_OVER_HALF_WIDTH, -1.0, 1.0)))
    pitch = -np.degrees(np.arcsin(np.clip(v / EYEBALL_OVER_HALF_WIDTH, -1.0, 1.0)))
    return float(yaw), float(pitch)


def gaze_angles(head_yaw: float, head_pitch: float, eye_yaw: float, eye_pitch: float) -> tuple[float, float]:
    """The gaze relative to the camera: head angles plus eye-in-head angles (degrees)."""
    return head_yaw + eye_yaw, head_pitch + eye_pitch


def gaze_off_camera(gaze_yaw: float, gaze_pitch: float) -> float:
    """The angle (degrees) between the gaze and the line to the camera (small-angle sum of squares)."""
    return float(np.hypot(gaze_yaw, gaze_pitch))
