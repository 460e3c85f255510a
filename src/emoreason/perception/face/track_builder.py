"""Face tracks: every face of a video followed from frame to frame, with who it is and how open its mouth is.

(:mod:`~emoreason.perception.face.tracks` re-exports what is here and adds the per-person face stage.)

:class:`FaceTrackBuilder` is fed each frame's faces (``add(t, rgb, faces)``, faces from
:class:`~emoreason.perception.face.tracks.FaceFinder` or any list of
:class:`~emoreason.perception.face.mesh.FaceMesh`) and returns each face's track key:

* a face whose box lies mostly inside a larger face's box is a duplicate and is dropped;

* a face continues the open track whose last box overlaps it most (Hungarian match on 1 - IoU, pairs under
  ``min_iou`` refused); a track not seen for more than ``max_gap_s`` seconds is ended;
* a hard cut (the frame's 32x32 grey thumbnail and its grey histogram both differ from the previous
  frame's: :data:`CUT_DIFF`, :data:`CUT_HIST`) ends every open track, since boxes say nothing across a cut;
* appearance: dlib's 128-d embedding (:mod:`~emoreason.perception.face.identity`) is computed for a
  track's first face, then every ``embed_every_s`` seconds, and at once when the face's 16x16 grey patch
  stops looking like the track's last one (:data:`PATCH_NCC`); not on every frame (one costs 0.1-0.3 s;
  docs/people.md, "Face tracks"). A face whose embedding is farther than ``reid_distance`` from its
  track's mean ends that track and starts another;
* re-identification: a face that starts a track is compared with the ended tracks, and continues the
  nearest one (same id) when their distance is under ``reid_distance`` (dlib's 0.6), so a person who
  leaves, is cut away from or is hidden for a while comes back under their id;
* per face it keeps the time, the box (fractions of the frame), the size, the mouth opening
  (:func:`mouth_opening`) and, per track, the thumbnail with the best size x sharpness.

``finish()`` drops tracks seen in fewer than ``min_observations`` frames and numbers the rest 0, 1, ...
by first appearance. What it does not do: merge two tracks after the fact (a face whose first
embedding failed, being under 32 px, is not re-identified later), or tell apart look-alikes: two people
whose embeddings lie under 0.6 apart are told apart only by their boxes, so after a cut one may take the
other's id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from emoreason.errors import ConfigError
from emoreason.perception.face.action_units import CHIN, FOREHEAD, LIP_LO_IN, LIP_UP_IN
from emoreason.perception.face.identity import SAME_PERSON_DISTANCE, distance, face_embedding
from emoreason.perception.face.mesh import FaceMesh, box_iou, check_rgb

__all__ = ["FaceTrack", "FaceTrackBuilder", "mouth_opening"]

THUMBNAIL_PX = 96
#: A frame is taken for a hard cut when its 32x32 grey thumbnail differs from the previous frame's by more
#: than CUT_DIFF grey levels (0-255) on average *and* its 32-bin grey histogram by more than CUT_HIST (half
#: the L1 distance, 0-1). On the synthetic videos of benchmarks/face_tracks.py consecutive frames of one
#: shot differed by at most 3.9 levels and 0.023, cuts and a bar appearing by 14.9-75 levels and
#: 0.083-0.69; a frame shifted by 6 px (a pan) differs by 17.5 levels but 0.00 in histogram.
CUT_DIFF = 12.0
CUT_HIST = 0.06
#: A matched face whose 16x16 grey patch correlates less than this with its track's last patch (normalised
#: cross-correlation) gets its embedding checked at once, not at the next ``embed_every_s``: a cut between
#: two people at one place that the frame difference missed. Same person, consecutive frames: 1st
#: percentile 0.81; across such cuts at most 0.67 (same benchmark).
PATCH_NCC = 0.6


def mouth_opening(points: np.ndarray) -> float:
    """Inner-lip gap (mesh points 13 and 14, the middle of the upper and lower inner lip) over the face
    height (point 10, the top of the forehead, to point 152, the chin), in 3-D mesh units."""
    height = float(np.linalg.norm(points[CHIN] - points[FOREHEAD]))
    if height <= 0:
        return 0.0
    return float(np.linalg.norm(points[LIP_LO_IN] - points[LIP_UP_IN])) / height


@dataclass
class FaceTrack:
    """One person's face over a video: per observation its time (s), box (x0, y0, x1, y1 as fractions of
    the frame), mouth opening (:func:`mouth_opening`) and size (px); the mean of its dlib embeddings
    (zeros when none could be computed; ``n_embeddings`` says how many); the best view (HxWx3 uint8)."""

    track_id: int
    times: np.ndarray
    boxes: np.ndarray
    mouth_open: np.ndarray
    embedding: np.ndarray
    thumbnail: np.ndarray
    sizes: np.ndarray
    n_embeddings: int = 0


@dataclass
class _Open:
    """A track under construction."""

    key: int
    times: list[float] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    px_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    mouth: list[float] = field(default_factory=list)
    sizes: list[float] = field(default_factory=list)
    embeddings: list[np.ndarray] = field(default_factory=list)
    last_embed_t: float = -np.inf
    patch: np.ndarray | None = None
    thumbnail: np.ndarray | None = None
    thumb_score: float = -1.0

    def mean_embedding(self) -> np.ndarray | None:
        return np.mean(self.embeddings, axis=0) if self.embeddings else None


class FaceTrackBuilder:
    """Builds :class:`FaceTrack` s from the faces of successive frames (see the module's docstring)."""

    def __init__(self, max_gap_s: float = 1.0, min_iou: float = 0.3, embed_every_s: float = 10.0,
                 reid_distance: float = SAME_PERSON_DISTANCE, min_observations: int = 3,
                 cut_diff: float = CUT_DIFF,
                 embedder: Callable[[np.ndarray, FaceMesh], np.ndarray | None] = face_embedding) -> None:
        if not max_gap_s > 0 or not embed_every_s >= 0 or not 0 < min_iou <= 1 or not reid_distance > 0:
            raise ConfigError("max_gap_s and reid_distance must be > 0, embed_every_s >= 0, "
                              "min_iou in (0, 1]")
        if min_observations < 1:
            raise ConfigError(f"min_observations must be >= 1, got {min_observations}")
        self.max_gap_s, self.min_iou = float(max_gap_s), float(min_iou)
        self.embed_every_s, self.reid_distance = float(embed_every_s), float(reid_distance)
        self.min_observations, self.cut_diff = min_observations, float(cut_diff)
        self.embedder = embedder
        self._open: list[_Open] = []
        self._ended: list[_Open] = []
        self._next_key = 0
        self._prev_small: tuple[np.ndarray, np.ndarray] | None = None
        self.cuts = 0
        self.embeddings_computed = 0
        self.reidentified = 0
        self.id_of_key: dict[int, int] = {}  # filled by finish(): internal key -> final track id

    # ---- per frame -------------------------------------------------------------------------------
    def add(self, t: float, rgb: np.ndarray, faces: list[FaceMesh],
            cut: bool | None = None) -> list[int | None]:
        """Add one frame's faces; returns each face's internal track key (the final ids come from
        :meth:`finish`, through :attr:`id_of_key`), ``None`` for a face dropped as a duplicate (its box
        mostly inside a larger face's box). ``cut``: whether this frame follows a hard cut (default: ask
        :meth:`is_cut`)."""
        check_rgb(rgb)
        t = float(t)
        if self.is_cut(rgb) if cut is None else cut:
            self._ended.extend(self._open)
            self._open = []
        for tr in [tr for tr in self._open if t - tr.times[-1] > self.max_gap_s]:
            self._open.remove(tr)
            self._ended.append(tr)
        kept = _without_duplicates(faces)
        matches = self._match([faces[i] for i in kept])
        keys: list[int | None] = [None] * len(faces)
        in_frame: set[int] = set()
        for j, i in enumerate(kept):
            face, tr = faces[i], matches.get(j)
            emb, patch = None, _patch(rgb, face.box)
            if tr is not None and (t - tr.last_embed_t >= self.embed_every_s or _changed(patch, tr.patch)):
                emb = self._embed(rgb, face)
                mean = tr.mean_embedding()
                if emb is not None and mean is not None and distance(emb, mean) > self.reid_distance:
                    self._open.remove(tr)  # someone else now stands where this track was: it ends
                    self._ended.append(tr)
                    tr = None
            if tr is None:
                if emb is None:
                    emb = self._embed(rgb, face)
                tr = self._start(emb, in_frame)
            self._observe(tr, t, rgb, face, emb)
            tr.patch = patch
            in_frame.add(tr.key)
            keys[i] = tr.key
        return keys

    def following(self, t: float) -> int:
        """How many open tracks were seen within ``max_gap_s`` before ``t``."""
        return sum(t - tr.times[-1] <= self.max_gap_s for tr in self._open)

    def is_cut(self, rgb: np.ndarray) -> bool:
        """Whether ``rgb`` follows a hard cut from the frame last given here (counted in :attr:`cuts`)."""
        grey = cv2.cvtColor(check_rgb(rgb), cv2.COLOR_RGB2GRAY)
        small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
        hist = cv2.calcHist([grey], [0], None, [32], [0, 256]).ravel()
        hist /= max(float(hist.sum()), 1.0)
        prev, self._prev_small = self._prev_small, (small, hist)
        cut = (prev is not None and float(np.abs(small - prev[0]).mean()) > self.cut_diff
               and 0.5 * float(np.abs(hist - prev[1]).sum()) > CUT_HIST)
        self.cuts += cut
        return cut

    def _match(self, faces: list[FaceMesh]) -> dict[int, _Open]:
        """Face index -> open track, by a Hungarian match on 1 - IoU of the boxes (IoU >= min_iou)."""
        if not faces or not self._open:
            return {}
        from scipy.optimize import linear_sum_assignment

        iou = np.array([[box_iou(f.box, tr.px_box) for tr in self._open] for f in faces])
        rows, cols = linear_sum_assignment(1.0 - iou)
        return {int(r): self._open[c] for r, c in zip(rows, cols, strict=True) if iou[r, c] >= self.min_iou}

    def _embed(self, rgb: np.ndarray, face: FaceMesh) -> np.ndarray | None:
        emb = self.embedder(rgb, face)
        if emb is not None:
            self.embeddings_computed += 1
        return emb

    def _start(self, emb: np.ndarray | None, in_frame: set[int]) -> _Open:
        """A track for a face that continues none: an ended track of the same person, else a new one."""
        best, best_d = None, self.reid_distance
        if emb is not None:
            for tr in self._ended:
                mean = tr.mean_embedding()
                if mean is not None and tr.key not in in_frame and (d := distance(emb, mean)) < best_d:
                    best, best_d = tr, d
        if best is not None:
            self._ended.remove(best)
            self.reidentified += 1
        else:
            best = _Open(key=self._next_key)
            self._next_key += 1
        self._open.append(best)
        return best

    def _observe(self, tr: _Open, t: float, rgb: np.ndarray, face: FaceMesh, emb: np.ndarray | None) -> None:
        h, w = rgb.shape[:2]
        x0, y0, x1, y1 = face.box
        tr.times.append(t)
        tr.px_box = tuple(face.box)
        tr.boxes.append((x0 / w, y0 / h, x1 / w, y1 / h))
        tr.mouth.append(mouth_opening(face.points))
        tr.sizes.append(face.size)
        if emb is not None:
            tr.embeddings.append(emb)
            tr.last_embed_t = t
        if face.size >= 0.8 * max(tr.sizes):
            crop = _crop(rgb, face.box)
            if crop is not None:
                grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
                sharp = float(cv2.Laplacian(grey, cv2.CV_32F).var())
                score = face.size * sharp / (sharp + 50.0)
                if score > tr.thumb_score:
                    tr.thumbnail, tr.thumb_score = crop, score

    # ---- the end ---------------------------------------------------------------------------------
    def finish(self) -> list[FaceTrack]:
        """The tracks seen in at least ``min_observations`` frames, numbered 0.. by first appearance."""
        kept = sorted((tr for tr in self._ended + self._open if len(tr.times) >= self.min_observations),
                      key=lambda tr: (tr.times[0], tr.key))
        self.id_of_key = {tr.key: i for i, tr in enumerate(kept)}
        out = []
        for i, tr in enumerate(kept):
            order = np.argsort(tr.times, kind="stable")
            mean = tr.mean_embedding()
            out.append(FaceTrack(
                track_id=i, times=np.asarray(tr.times)[order], boxes=np.asarray(tr.boxes)[order],
                mouth_open=np.asarray(tr.mouth)[order], sizes=np.asarray(tr.sizes)[order],
                embedding=mean.astype(np.float32) if mean is not None else np.zeros(128, np.float32),
                thumbnail=tr.thumbnail if tr.thumbnail is not None else np.zeros((1, 1, 3), np.uint8),
                n_embeddings=len(tr.embeddings)))
        return out


def _without_duplicates(faces: list[FaceMesh], inside: float = 0.6) -> list[int]:
    """Indices of the faces to keep, largest first: a face whose box lies more than ``inside`` of its area
    within a larger kept face's box is a duplicate (mediapipe's tracker can hold a stale face on a new one
    for a few frames after a cut)."""
    kept: list[int] = []
    for i in sorted(range(len(faces)), key=lambda k: -faces[k].size):
        a = faces[i].box
        area = max((a[2] - a[0]) * (a[3] - a[1]), 1e-9)
        overlaps = []
        for j in kept:
            b = faces[j].box
            ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
            iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
            overlaps.append(ix * iy / area)
        if not overlaps or max(overlaps) <= inside:
            kept.append(i)
    return sorted(kept)


def _patch(rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray | None:
    """The face box as a 16x16 grey patch, zero mean and unit norm (None for an empty or flat box)."""
    h, w = rgb.shape[:2]
    x0, y0 = int(max(0, box[0])), int(max(0, box[1]))
    x1, y1 = int(min(w, box[2])), int(min(h, box[3]))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    p = cv2.resize(grey, (16, 16), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    p -= p.mean()
    norm = float(np.linalg.norm(p))
    return p / norm if norm > 1e-3 else None


def _changed(patch: np.ndarray | None, before: np.ndarray | None) -> bool:
    return patch is not None and before is not None and float(patch @ before) < PATCH_NCC


def _crop(rgb: np.ndarray, box: tuple[float, float, float, float], margin: float = 0.15) -> np.ndarray | None:
    """The face box with a margin, resized so that its long side is :data:`THUMBNAIL_PX` (a copy)."""
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = box
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    left, top = int(max(0, x0 - mx)), int(max(0, y0 - my))
    right, bottom = int(min(w, x1 + mx)), int(min(h, y1 + my))
    if right - left < 2 or bottom - top < 2:
        return None
    crop = rgb[top:bottom, left:right]
    k = THUMBNAIL_PX / max(crop.shape[:2])
    size = (max(1, round(crop.shape[1] * k)), max(1, round(crop.shape[0] * k)))
    return cv2.resize(crop, size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
