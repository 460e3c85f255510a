"""mediapipe's landmark lists as numpy arrays, read from their serialised bytes in one pass.

Reading 478 landmarks field by field through protobuf costs ~0.4 ms a face; :func:`landmark_xyz` reads the
list's serialised bytes with one numpy view (~0.05 ms) and gives the same float32 numbers.
"""

from __future__ import annotations

import numpy as np

#: A ``NormalizedLandmark`` holding x, y and z only, as serialised: field 1 of the list (tag 0x0a, 15
#: bytes), then x, y, z as little-endian float32 (tags 0x0d, 0x15, 0x1d).
_LANDMARK_RECORD = np.dtype([("tag", "u1"), ("len", "u1"), ("tx", "u1"), ("x", "<f4"), ("ty", "u1"),
                             ("y", "<f4"), ("tz", "u1"), ("z", "<f4")])
_LANDMARK_TAGS = {"tag": 0x0A, "len": 15, "tx": 0x0D, "ty": 0x15, "tz": 0x1D}


def landmark_xyz(landmarks) -> np.ndarray:
    """(N, 3) float64 normalised x, y, z of a ``NormalizedLandmarkList``: read from its serialised bytes
    in one pass when every landmark holds exactly x, y and z (mediapipe's face mesh), else field by field
    (the same numbers: the floats are float32 either way)."""
    data = landmarks.SerializeToString()
    if len(data) == _LANDMARK_RECORD.itemsize * len(landmarks.landmark):
        rec = np.frombuffer(data, dtype=_LANDMARK_RECORD)
        if all((rec[name] == value).all() for name, value in _LANDMARK_TAGS.items()):
            return np.stack([rec["x"], rec["y"], rec["z"]], axis=1).astype(np.float64)
    return np.array([(p.x, p.y, p.z) for p in landmarks.landmark], dtype=np.float64).reshape(-1, 3)
