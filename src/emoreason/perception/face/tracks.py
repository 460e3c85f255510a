"""The per-person face stage: every face of a video tracked (:class:`FaceTrack`, :class:`FaceTrackBuilder`
and :func:`mouth_opening` live in :mod:`~emoreason.perception.face.track_builder` and are re-exported
here) and each track analysed as :class:`~emoreason.perception.face.analyzer.FaceAnalyzer` analyses its
one face (the same expression model, AUs against each person's own neutral).

:class:`FaceFinder` gives each frame's faces: mediapipe's mesh with up to ``max_faces`` faces, a fresh mesh
graph after a hard cut (mediapipe's own tracking would otherwise carry the last shot's faces over the cut
for a few frames), and the full-range detector (faces meshed on a crop) on every :data:`DETECT_EVERY`-th
frame and whenever the mesh found fewer faces than the tracks it was following: the mesh's short-range
detector misses faces under about 15 % of the frame once it has found a larger one.
:class:`MultiFaceAnalyzer` feeds those faces to a :class:`FaceTrackBuilder` and each track's faces to its
own :meth:`FaceAnalyzer.sibling`.

dlib (the embeddings) is imported on the first embedding, mediapipe with the first tracker.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emoreason.perception.base import ModalityOutput
from emoreason.perception.face.analyzer import FaceAnalyzer
from emoreason.perception.face.mesh import FaceMesh, FaceMeshTracker, box_iou, check_rgb
from emoreason.perception.face.small_faces import MIN_FACE_PX
from emoreason.perception.face.track_builder import FaceTrack, FaceTrackBuilder, mouth_opening

__all__ = ["FaceFinder", "FaceTrack", "FaceTrackBuilder", "MultiFaceAnalyzer", "mouth_opening"]

#: Faces the mesh looks for in each frame of the multi-face path.
MAX_FACES = 4
#: The full-range face detector runs on every DETECT_EVERY-th frame (and whenever the mesh found fewer faces
#: than it was following).
DETECT_EVERY = 10


class FaceFinder:
    """Each frame's faces for the multi-face path (see the module's docstring); ``builder`` says which
    frames follow a cut and how many faces are being followed."""

    def __init__(self, builder: FaceTrackBuilder, max_faces: int = MAX_FACES) -> None:
        self.builder, self.max_faces = builder, int(max_faces)
        self.tracker = FaceMeshTracker(static=False, max_faces=self.max_faces)
        self.frames = 0
        self.detector_runs = 0

    def find(self, t: float, rgb: np.ndarray) -> tuple[list[FaceMesh], bool]:
        """The faces of the frame ``rgb`` taken at ``t`` s, and whether it follows a hard cut."""
        self.frames += 1
        cut = self.builder.is_cut(rgb)
        if cut:
            self.tracker.close()
            self.tracker = FaceMeshTracker(static=False, max_faces=self.max_faces)
        faces = self.tracker.faces(rgb)
        if faces and (len(faces) < self.builder.following(t) or self.frames % DETECT_EVERY == 1):
            self.detector_runs += 1
            faces += [f for f in self.tracker.faces_via_detector(rgb)
                      if all(box_iou(f.box, g.box) < 0.3 for g in faces)]
        return faces, cut

    def close(self) -> None:
        self.tracker.close()


class MultiFaceAnalyzer:
    """The face stage for every person of a video: all faces per frame (``max_faces``), tracked by a
    :class:`FaceTrackBuilder`, each track analysed as :class:`FaceAnalyzer` analyses its one face (one
    :meth:`FaceAnalyzer.sibling` per track: the same loaded expression model, AUs against the person's own
    neutral). A track's ``frames`` are the frames from its first to its last observation. Unlike the
    single-face path, a small image with no usable face is not retried enlarged."""

    def __init__(self, fps: float = 5.0, model_dir: str | Path | None = None, min_face: int = MIN_FACE_PX,
                 face_model: str | None = None, max_faces: int = MAX_FACES,
                 builder: FaceTrackBuilder | None = None) -> None:
        self._template = FaceAnalyzer(fps=fps, model_dir=model_dir, min_face=min_face, face_model=face_model)
        self._template.close()  # its main-face tracker is not used: the finder finds every face
        self.builder = builder if builder is not None else FaceTrackBuilder()
        self.finder = FaceFinder(self.builder, max_faces=max_faces)
        self._people: dict[int, FaceAnalyzer] = {}
        self._frame_times: list[float] = []

    def add_frame(self, t: float, rgb: np.ndarray) -> None:
        """Analyse every face of one HxWx3 uint8 RGB frame taken at ``t`` seconds."""
        check_rgb(rgb)
        self._frame_times.append(float(t))
        faces, cut = self.finder.find(t, rgb)
        keys = self.builder.add(t, rgb, faces, cut=cut)
        faces = [f for f, k in zip(faces, keys, strict=True) if k is not None]
        for face, key in zip(faces, [k for k in keys if k is not None], strict=True):
            person = self._people.get(key)
            if person is None:
                person = self._people[key] = self._template.sibling()
            if len(faces) > 1:
                person.multi_face_frames += 1
            person.add_face(t, rgb, face)

    def close(self) -> None:
        self.finder.close()

    def finish(self) -> tuple[list[FaceTrack], dict[int, ModalityOutput]]:
        """The tracks (:meth:`FaceTrackBuilder.finish`) and each one's face output, by track id."""
        self.close()
        tracks = self.builder.finish()
        key_of_id = {i: k for k, i in self.builder.id_of_key.items()}
        frame_times = np.asarray(self._frame_times)
        outputs: dict[int, ModalityOutput] = {}
        for track in tracks:
            person = self._people[key_of_id[track.track_id]]
            span = (frame_times >= track.times[0]) & (frame_times <= track.times[-1])
            person.frames = int(span.sum())
            outputs[track.track_id] = person.finish()
        return tracks, outputs
