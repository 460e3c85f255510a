"""Head pose (yaw, pitch, roll in degrees) from mediapipe's 478-point face mesh, by perspective-n-point.

The 3-D model is a template derived from data (``assets/face_geometry/head_template.json``, written by
``tools/derive_head_template.py``): the median mesh of 300 near-frontal neutral photos, in the face's own
frame (x from the subject's right eye to the left eye, y down the face, z away from the camera) and in
inter-ocular units. :func:`head_pose` fits the template's rigid points (eye corners, nose, forehead,
cheekbones, temples: points that expressions move little) to the mesh's image positions with OpenCV's
``solvePnP`` (SQPnP, or EPnP and the iterative solver when SQPnP fails; then Levenberg-Marquardt) under a
pinhole camera whose focal length is :data:`FOCAL_PER_SIDE` x the frame's long side (a field of view of
about 19 degrees across it) and whose centre is the frame's centre.

Angles, for a face looking into the camera all 0:

* ``yaw`` > 0: the face turns towards the image's right (the subject's left);
* ``pitch`` > 0: the head tilts up (chin raised), < 0: the head is lowered;
* ``roll`` > 0: the head tilts clockwise in the image.

The rotation from the template to the camera is ``Rz(roll) @ Ry(-yaw) @ Rx(-pitch)``
(:func:`rotation_matrix`). A mesh from a single photo carries no scale, so the pose is the template's,
not the person's: expect errors of a few degrees on real faces, more on faces turned beyond ~45 degrees,
where the mesh itself degrades.
"""

from __future__ import annotations

import json
from functools import lru_cache

import cv2
import numpy as np

from emoreason.assets import asset_path
from emoreason.errors import ModelError

#: Mesh points that expressions move little: eye corners, nose bridge and tip, nostrils' base, forehead,
#: cheekbones, temples and the face's sides at eye level.
RIGID_POINTS: tuple[int, ...] = (
    33, 133, 362, 263, 130, 359,        # eye corners
    168, 6, 197, 195, 5, 4, 1,          # nose bridge to tip
    98, 327, 2,                         # nostrils' base, subnasale
    10, 151, 9, 8,                      # forehead, glabella
    116, 345, 117, 346, 123, 352,       # cheekbones
    234, 454, 127, 356, 93, 323,        # face sides
    21, 251, 54, 284,                   # temples
)
#: Focal length in units of the frame's long side. Photos and clips are mostly crops or shot from a
#: distance: on 60 near-frontal neutral facial_expressions photos the template's mean reprojection error
#: (rigid points) was 6.5 px with a focal length of 1 x the long side, 2.6 px at 3 x and 1.7 px at 10 x,
#: with the median angles within 0.7 degrees of each other at 3 x and 10 x (their median pitch: -6 degrees).
FOCAL_PER_SIDE = 3.0
#: Inter-ocular distance (cm) that scales the template, so the translation solvePnP returns is roughly in cm.
IOD_CM = 6.3


@lru_cache(maxsize=1)
def template() -> np.ndarray:
    """The (478, 3) template in inter-ocular units (see the module's docstring)."""
    path = asset_path("face_geometry", "head_template.json")
    try:
        pts = np.asarray(json.loads(path.read_text(encoding="utf-8"))["points"], dtype=np.float64)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"cannot read the head template {path}: {exc}") from exc
    if pts.shape != (478, 3):
        raise ModelError(f"head template {path} has shape {pts.shape}, expected (478, 3)")
    return pts


def camera_matrix(width: float, height: float) -> np.ndarray:
    """The pinhole camera assumed for a ``width`` x ``height`` frame (focal: :data:`FOCAL_PER_SIDE` x the long
    side; centre: the frame's middle)."""
    f = FOCAL_PER_SIDE * float(max(width, height))
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


def rotation_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """The template-to-camera rotation for angles in degrees (the module's conventions)."""
    y, p, r = np.radians([-yaw, -pitch, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


def angles_from_matrix(rot: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a rotation made by :func:`rotation_matrix`."""
    phi = np.arcsin(np.clip(-rot[2, 0], -1.0, 1.0))
    theta = np.arctan2(rot[2, 1], rot[2, 2])
    psi = np.arctan2(rot[1, 0], rot[0, 0])
    return float(-np.degrees(phi)), float(-np.degrees(theta)), float(np.degrees(psi))


def head_pose(points: np.ndarray, width: float, height: float) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a mesh (478 points, pixels of a ``width`` x ``height`` frame).

    Raises ValueError when the fit fails (a degenerate mesh)."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] < 468 or not np.isfinite(pts[:, :2]).all():
        raise ValueError(f"expected a finite (478, 2+) mesh, got shape {pts.shape}")
    obj = np.ascontiguousarray(template()[list(RIGID_POINTS)] * IOD_CM)
    img = np.ascontiguousarray(pts[list(RIGID_POINTS), :2])
    cam = camera_matrix(width, height)
    for flag in (cv2.SOLVEPNP_SQPNP, cv2.SOLVEPNP_EPNP, cv2.SOLVEPNP_ITERATIVE):
        ok, rvec, tvec = cv2.solvePnP(obj, img, cam, None, flags=flag)
        if ok:
            break
    else:
        raise ValueError("solvePnP found no head pose")
    rvec, tvec = cv2.solvePnPRefineLM(obj, img, cam, None, rvec, tvec)
    rot, _ = cv2.Rodrigues(rvec)
    if tvec[2, 0] <= 0:  # the mirror solution behind the camera
        raise ValueError("solvePnP put the face behind the camera")
    return angles_from_matrix(rot)


def project(yaw: float, pitch: float, roll: float, width: int = 640, height: int = 480,
            distance_cm: float = 150.0, offset_px: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The template posed at these angles, ``distance_cm`` in front of the camera of a ``width`` x ``height``
    frame, projected to pixels: a synthetic (478, 3) mesh (z: depth in cm) whose pose is known."""
    obj = template() * IOD_CM
    cam = camera_matrix(width, height)
    t = np.array([offset_px[0] * distance_cm / cam[0, 0], offset_px[1] * distance_cm / cam[1, 1],
                  distance_cm])
    cam_pts = obj @ rotation_matrix(yaw, pitch, roll).T + t
    uv = cam_pts[:, :2] / cam_pts[:, 2:3] * cam[0, 0] + cam[:2, 2]
    return np.column_stack([uv, cam_pts[:, 2]])
