"""Face detection and the 478-point face mesh, through mediapipe 0.10.21's ``solutions.face_mesh``.

The mesh model and its face detector ship inside the mediapipe wheel (Apache-2.0); nothing is
downloaded. Frames are downscaled so that their long side is at most ``max_side`` pixels before
the mesh runs (landmarks come back in the original frame's pixel coordinates).

The mesh's own detector is mediapipe's short-range model, which misses faces narrower than about
15 % of the frame. When it finds nothing, the full-range face detector (``face_detection``,
``model_selection=1``; finds faces down to about 8 % of the frame width) looks for faces, and the mesh
runs again on a square crop around each one.

When several faces appear, :class:`FaceMeshTracker` keeps the *main* face: the one that overlaps
the main face of the previous frames most, or, when none overlaps, the largest. In a video
(``follow_small``), a main face too small for the mesh's own detector is followed: on the next frames a
mesh graph in video mode runs on a square centred on its last position only (no full-frame mesh, no
full-range detection; the face sits in the middle of every square, so the graph tracks it from square to
square as it tracks a face from frame to frame), and the whole frame is searched again on every
:data:`SEARCH_EVERY`-th frame or as soon as the face is not found there. Larger faces are tracked by
mediapipe's own video mode on the whole frame.

The mediapipe graphs are kept per thread (:func:`_acquire` / :func:`_release`): a tracker borrows its
thread's free graphs and gives them back on :meth:`FaceMeshTracker.close`, so a thread that analyses
many clips or photos builds its graphs once (0.15-0.2 s each time otherwise) and never shares one with
another thread. A borrowed tracking graph is reset, so no face state carries from one clip to the next.
mediapipe's native log lines from building a graph and from its first frames are kept off stderr
(:mod:`emoreason.perception.native_log`).

mediapipe is imported when a tracker is made, not with this module (it takes about a second).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from emoreason.errors import ModelError, UnsupportedFormatError
from emoreason.perception.face.landmarks import landmark_xyz
from emoreason.perception.native_log import quiet_native_logs

#: Long side (px) a frame is downscaled to before the mesh runs.
DEFAULT_MAX_SIDE = 640
#: Following a small face (:meth:`FaceMeshTracker.main_face`): the square meshed around its last box, as a
#: multiple of the box's longer side -- the full-range detector's square is twice its box, whose side was
#: 0.91 x the mesh box's longer side (median of 40 frames of the benchmark clip; 0.87-0.97) -- and how often
#: the whole frame is searched all the same (every n-th frame: 2 s at 5 fps; a search costs ~15 ms on a
#: 720p frame's 960-px decode, a followed frame ~3 ms).
FOLLOW_SCALE = 1.8
SEARCH_EVERY = 10


@dataclass
class FaceMesh:
    """One face: 478 landmarks in pixels of the original frame (x, y, z; z in x's pixel scale)."""

    points: np.ndarray  # (478, 3) float32
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels

    @property
    def size(self) -> float:
        """Geometric mean of the box's width and height (px)."""
        x0, y0, x1, y1 = self.box
        return float(np.sqrt(max(x1 - x0, 0.0) * max(y1 - y0, 0.0)))


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes (0 when both are empty)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def check_rgb(rgb: np.ndarray) -> np.ndarray:
    """Validate an HxWx3 uint8 RGB frame (raises :class:`UnsupportedFormatError` on anything else)."""
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3:
        shape = getattr(rgb, "shape", None)
        raise UnsupportedFormatError(f"expected an HxWx3 RGB image, got shape {shape}")
    if rgb.dtype != np.uint8:
        raise UnsupportedFormatError(f"expected a uint8 RGB image, got dtype {rgb.dtype}")
    if min(rgb.shape[:2]) < 1:
        raise UnsupportedFormatError(f"empty image of shape {rgb.shape}")
    return rgb


def as_rgb(image: np.ndarray) -> np.ndarray:
    """A photo as HxWx3 uint8 RGB: grey (HxW) is repeated, RGBA loses its alpha; anything else is checked."""
    if isinstance(image, np.ndarray) and image.dtype == np.uint8:
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        elif image.ndim == 3 and image.shape[2] == 4:
            image = np.ascontiguousarray(image[:, :, :3])
    return check_rgb(image)


def _to_mesh(landmarks, x_off: float, y_off: float, w: float, h: float) -> FaceMesh:
    """mediapipe's normalised landmarks of an image (or crop at x_off, y_off) of size w x h -> pixels."""
    xyz = landmark_xyz(landmarks)
    pts = np.empty((len(xyz), 3), dtype=np.float32)
    pts[:, 0] = x_off + xyz[:, 0] * w
    pts[:, 1] = y_off + xyz[:, 1] * h
    pts[:, 2] = xyz[:, 2] * w
    x0, y0 = pts[:, 0].min(), pts[:, 1].min()
    x1, y1 = pts[:, 0].max(), pts[:, 1].max()
    return FaceMesh(points=pts, box=(float(x0), float(y0), float(x1), float(y1)))


_pool = threading.local()  # this thread's free graphs, by kind
_BLANK = np.zeros((64, 64, 3), np.uint8)


def _acquire(kind: tuple, make):
    """A free graph of ``kind`` from this thread's pool (reset), or a new one from ``make()``; either way
    it has run once on a blank frame, so its calculators are open and their start-up log lines written."""
    free = getattr(_pool, "free", None)
    if free is None:
        free = _pool.free = {}
    graphs = free.get(kind)
    with quiet_native_logs():
        if graphs:
            graph = graphs.pop()
            graph.reset()  # no tracking state from the previous clip
        else:
            graph = make()
            graph.emoreason_quiet = True  # until its first face (mediapipe warns once then)
        graph.process(_BLANK)
    return graph


def _release(kind: tuple, graph) -> None:
    """Give ``graph`` back to this thread's pool."""
    _pool.free.setdefault(kind, []).append(graph)


class FaceMeshTracker:
    """Runs mediapipe's face mesh on frames and returns the main face's mesh (or ``None``).

    ``static=True`` treats every frame as unrelated (photos); ``static=False`` lets mediapipe track
    faces between consecutive video frames, which is faster. Deterministic for a given frame sequence.
    A tracker is used by the thread that made it; :meth:`close` gives its graphs back to that thread.
    """

    def __init__(self, static: bool = False, max_faces: int = 3, max_side: int = DEFAULT_MAX_SIDE,
                 min_detection_confidence: float = 0.5, follow_small: bool = False) -> None:
        """``follow_small`` (videos only): follow a small main face without searching every frame (see
        :meth:`main_face`)."""
        try:
            from mediapipe.python.solutions import face_mesh as mp_face_mesh
        except ImportError as exc:  # pragma: no cover - a broken install
            raise ModelError(f"mediapipe's face mesh could not be loaded ({exc}); "
                             "reinstall mediapipe==0.10.21") from exc
        self.max_side = int(max_side)
        self._kind = ("mesh", static, max_faces, min_detection_confidence)
        self._mesh = _acquire(self._kind, lambda: mp_face_mesh.FaceMesh(
            static_image_mode=static, max_num_faces=max_faces, refine_landmarks=True,
            min_detection_confidence=min_detection_confidence, min_tracking_confidence=0.5,
        ))
        self._main_box: tuple[float, float, float, float] | None = None
        self._max_faces = max_faces
        self._min_conf = min_detection_confidence
        self._detector = None  # borrowed on first need (full-range face detection)
        self._crop_mesh = None
        self.follow_small = bool(follow_small) and not static
        self._follow_mesh = None  # the mesh in video mode on the followed face's square (made on first need)
        self._following = False
        self._since_search = 0
        self._last_count = 0
        self.followed_frames = 0  # frames whose main face was followed rather than searched for

    def close(self) -> None:
        """Give the graphs back to this thread's pool (a second call does nothing)."""
        for kind, graph in ((self._kind, self._mesh), (("detector", self._min_conf), self._detector),
                            (("crop_mesh", self._min_conf), self._crop_mesh),
                            (("follow_mesh", self._min_conf), self._follow_mesh)):
            if graph is not None:
                _release(kind, graph)
        self._mesh = self._detector = self._crop_mesh = self._follow_mesh = None

    def __enter__(self) -> FaceMeshTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def faces(self, rgb: np.ndarray) -> list[FaceMesh]:
        """All faces the mesh found in this frame (pixel coordinates of ``rgb``)."""
        return self._search(rgb)[0]

    def _search(self, rgb: np.ndarray) -> tuple[list[FaceMesh], bool]:
        """All faces in this frame, and whether they came from the full-range detector (the mesh's own
        detector found none)."""
        check_rgb(rgb)
        h, w = rgb.shape[:2]
        small, scale = self._downscaled(rgb)
        if self._mesh is None:
            raise ModelError("this face tracker was closed")
        with quiet_native_logs(self._mesh.emoreason_quiet):
            res = self._mesh.process(small)
        if res.multi_face_landmarks:
            self._mesh.emoreason_quiet = False
        out = [_to_mesh(lms, 0.0, 0.0, w, h) for lms in res.multi_face_landmarks or []]
        return (out, False) if out else (self._faces_via_detector(rgb, small, scale), True)

    def faces_via_detector(self, rgb: np.ndarray) -> list[FaceMesh]:
        """The faces the full-range detector finds, each meshed on a crop around it (what :meth:`faces`
        falls back to when the mesh finds none); the multi-face path asks for them when the mesh missed a
        face it was following (faces under about 15 % of the frame beside a larger one)."""
        check_rgb(rgb)
        small, scale = self._downscaled(rgb)
        return self._faces_via_detector(rgb, small, scale)

    def _downscaled(self, rgb: np.ndarray) -> tuple[np.ndarray, float]:
        """``rgb`` shrunk so that its longer side is at most ``max_side`` (contiguous), and the scale."""
        h, w = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        small = rgb
        if scale < 1.0:
            small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                               interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(small), scale

    def _faces_via_detector(self, rgb: np.ndarray, small: np.ndarray, scale: float) -> list[FaceMesh]:
        """Full-range detection, then the mesh on a square crop (twice the box) around each face."""
        from mediapipe.python.solutions import face_detection, face_mesh

        if self._detector is None:
            self._detector = _acquire(("detector", self._min_conf), lambda: face_detection.FaceDetection(
                model_selection=1, min_detection_confidence=self._min_conf))
            self._crop_mesh = _acquire(("crop_mesh", self._min_conf), lambda: face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                min_detection_confidence=self._min_conf))
        with quiet_native_logs(self._detector.emoreason_quiet):
            dets = self._detector.process(small).detections or []
        if dets:
            self._detector.emoreason_quiet = False
        h, w = rgb.shape[:2]
        out: list[FaceMesh] = []
        for det in dets[: self._max_faces]:
            bb = det.location_data.relative_bounding_box
            side = 2.0 * max(bb.width * w, bb.height * h)
            out += self._mesh_around(self._crop_mesh, rgb, (bb.xmin + bb.width / 2) * w,
                                     (bb.ymin + bb.height / 2) * h, side)
        return out

    @staticmethod
    def _mesh_around(graph, rgb: np.ndarray, cx: float, cy: float, side: float) -> list[FaceMesh]:
        """The mesh ``graph`` (one face) on the square of ``side`` px centred at (cx, cy), clipped to the
        frame and shrunk to 256 px at most."""
        h, w = rgb.shape[:2]
        x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
        x1, y1 = int(round(cx + side / 2)), int(round(cy + side / 2))
        crop = rgb[max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)]
        if min(crop.shape[:2]) < 8:
            return []
        cw, ch = crop.shape[1], crop.shape[0]
        k = min(1.0, 256 / max(cw, ch))
        if k < 1.0:
            crop = cv2.resize(crop, (max(1, round(cw * k)), max(1, round(ch * k))),
                              interpolation=cv2.INTER_AREA)
        with quiet_native_logs(graph.emoreason_quiet):
            res = graph.process(np.ascontiguousarray(crop))
        if res.multi_face_landmarks:
            graph.emoreason_quiet = False
        return [_to_mesh(lms, float(max(x0, 0)), float(max(y0, 0)), cw, ch)
                for lms in res.multi_face_landmarks or []]

    def main_face(self, rgb: np.ndarray) -> tuple[FaceMesh | None, int]:
        """The main face of this frame and the number of faces found.

        The main face is the one overlapping the previous main face most (IoU > 0.3); otherwise the
        largest one. Persistence is kept by remembering the last main face's box. In videos
        (``follow_small``), a main face that only the full-range detector found is followed on the next
        frames by meshing a square around its last box (:data:`FOLLOW_SCALE` x its longer side), without
        searching the whole frame, for up to :data:`SEARCH_EVERY` - 1 frames in a row or until that square
        holds no face (IoU > 0.3 with the last box); the number of faces returned on those frames is the
        last search's.
        """
        if self._following and self._since_search < SEARCH_EVERY - 1:
            face = self._followed(rgb)
            if face is not None:
                self.followed_frames += 1
                self._since_search += 1
                self._main_box = face.box
                return face, self._last_count
        found, via_detector = self._search(rgb)
        self._since_search, self._last_count = 0, len(found)
        self._following = False
        if not found:
            return None, 0
        best: FaceMesh | None = None
        if self._main_box is not None:
            ious = [box_iou(f.box, self._main_box) for f in found]
            i = int(np.argmax(ious))
            if ious[i] > 0.3:
                best = found[i]
        if best is None:
            best = max(found, key=lambda f: f.size)
        self._main_box = best.box
        self._following = self.follow_small and via_detector
        return best, len(found)

    def _followed(self, rgb: np.ndarray) -> FaceMesh | None:
        """The face in the square around the last main face's box (see :meth:`main_face`), or None."""
        check_rgb(rgb)
        if self._mesh is None:
            raise ModelError("this face tracker was closed")
        if self._follow_mesh is None:
            from mediapipe.python.solutions import face_mesh

            self._follow_mesh = _acquire(("follow_mesh", self._min_conf), lambda: face_mesh.FaceMesh(
                static_image_mode=False, max_num_faces=1, refine_landmarks=True,
                min_detection_confidence=self._min_conf, min_tracking_confidence=0.5))
        x0, y0, x1, y1 = self._main_box
        side = FOLLOW_SCALE * max(x1 - x0, y1 - y0)
        faces = self._mesh_around(self._follow_mesh, rgb, (x0 + x1) / 2, (y0 + y1) / 2, side)
        best = max(faces, key=lambda f: box_iou(f.box, self._main_box), default=None)
        return best if best is not None and box_iou(best.box, self._main_box) > 0.3 else None
