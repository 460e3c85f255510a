"""Synthetic videos of two (or more) people, with ground truth: for the face-track and who-is-speaking tests
and benchmarks.

Each person is a real face photo (by default two that ship inside the scikit-image wheel: see
:func:`default_faces`; any other photos can be given, several views per person) whose mouth is
opened and closed on a schedule: the lower lip and chin are pushed down by a smooth warp and the gap between
the lips is painted dark, by up to ``MOUTH_OPEN_FRACTION`` of the face height. While a person speaks (their
turns), the mouth opens and closes about 4 times a second, like syllables; otherwise it stays closed.

Layouts (:func:`make_people_video`): ``"side_by_side"`` shows everyone at once, each in their own tile;
``"alternating"`` shows one person at a time, full frame, cutting hard to whoever speaks (shot /
reverse shot), so a person comes back after a cut. Options: a face scale, a horizontal shift, and an
occluding bar over a time range. The ground truth (:class:`PeopleTruth`) gives per frame each person's
face box (fractions of the frame, NaN when off screen) and mouth opening, the turns and the cut times.

The mouth warp needs each photo's lip points, so the face mesh (mediapipe) is imported when a video is made;
this is the one place ``io/`` reaches into ``perception/`` (deferred, for test material only).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from emoreason.errors import ConfigError
from emoreason.io.synth import write_media

#: How far the lips part at full opening, as a fraction of the face's height (forehead to chin).
MOUTH_OPEN_FRACTION = 0.09
#: Syllable rate (Hz) of the mouth while a person speaks.
SYLLABLE_HZ = 4.0
TILE = 320


def default_faces() -> list[np.ndarray]:
    """Two real faces as TILE x TILE RGB tiles, both shipped inside the scikit-image wheel: the astronaut
    (head and shoulders of a 512 px photo) and face 7 of ``data.lfw_subset()`` (a 25 x 25 grey crop from
    Labeled Faces in the Wild, enlarged to 200 px, so it is blurred). scikit-image's cameraman is a third real
    face, but in profile: the mesh does not read his mouth, so he is not a default."""
    from skimage import data

    astronaut = np.ascontiguousarray(data.astronaut()[0:320, 80:400])
    lfw = cv2.resize((data.lfw_subset()[7] * 255).astype(np.uint8), (200, 200), interpolation=cv2.INTER_CUBIC)
    second = np.full((TILE, TILE), 90, np.uint8)
    second[50:250, 60:260] = lfw
    first = cv2.resize(astronaut, (TILE, TILE), interpolation=cv2.INTER_AREA)
    return [first, np.stack([second] * 3, axis=-1)]


@dataclass
class _Face:
    """A photo with the mesh points its mouth warp needs (pixels of the photo)."""

    rgb: np.ndarray
    lip_up: np.ndarray  # inner upper lip middle (x, y)
    lip_lo: np.ndarray
    corners: np.ndarray  # (2, 2) mouth corners
    chin: np.ndarray
    height: float  # forehead to chin (px)
    box: tuple[float, float, float, float]

    @classmethod
    def of(cls, rgb: np.ndarray) -> _Face:
        from emoreason.perception.face.mesh import FaceMeshTracker

        rgb = np.ascontiguousarray(rgb)
        with FaceMeshTracker(static=True) as tracker:
            face, _ = tracker.main_face(rgb)
        if face is None:
            raise ConfigError("the face mesh found no face in a photo given to synth_people")
        p = face.points[:, :2]
        return cls(rgb=rgb, lip_up=p[13], lip_lo=p[14], corners=p[[61, 291]], chin=p[152],
                   height=float(np.linalg.norm(p[152] - p[10])), box=face.box)

    def with_mouth(self, amount: float) -> np.ndarray:
        """The photo with its mouth open by ``amount`` (0 closed .. 1 fully open)."""
        if amount <= 0:
            return self.rgb
        d = amount * MOUTH_OPEN_FRACTION * self.height
        h, w = self.rgb.shape[:2]
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        cx = float(self.corners[:, 0].mean())
        mouth_y = float((self.lip_up[1] + self.lip_lo[1]) / 2)
        half_w = max(float(abs(self.corners[1, 0] - self.corners[0, 0])) / 2, 4.0)
        chin_y = float(self.chin[1])
        # weight 1 around the mouth and down to the chin, fading out sideways and below the chin
        wx = np.exp(-0.5 * ((xs - cx) / (1.3 * half_w)) ** 2)
        below = np.clip((ys - mouth_y) / 2.0, 0, 1)
        fade = np.clip(1 - (ys - chin_y) / (0.25 * self.height), 0, 1)
        shift = d * wx * below * fade
        warped = cv2.remap(self.rgb, xs, ys - shift, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        axes = (int(round(0.8 * half_w)), max(1, int(round(d / 2))))
        cv2.ellipse(warped, (int(round(cx)), int(round(mouth_y + d / 2))), axes, 0, 0, 360, (40, 20, 20), -1)
        return warped


@dataclass
class PeopleTruth:
    """Ground truth of a synthetic video: ``boxes`` (people, frames, 4) as fractions (NaN: not on screen),
    ``mouth`` (people, frames) the opening drawn (0..1), ``turns`` (start, end, person), ``cuts`` (s)."""

    times: np.ndarray
    boxes: np.ndarray
    mouth: np.ndarray
    turns: list[tuple[float, float, int]]
    cuts: list[float] = field(default_factory=list)
    occluded: tuple[float, float] | None = None

    def speaking(self, person: int) -> np.ndarray:
        """Per frame, whether ``person`` is in one of their turns."""
        out = np.zeros(len(self.times), bool)
        for s, e, p in self.turns:
            if p == person:
                out |= (self.times >= s) & (self.times < e)
        return out


def mouth_amount(t: float, person: int, turns: Sequence[tuple[float, float, int]]) -> float:
    """The mouth opening of ``person`` at ``t``: a 4 Hz open-close cycle inside their turns, else 0."""
    for s, e, p in turns:
        if p == person and s <= t < e:
            return float(0.5 * (1 - np.cos(2 * np.pi * SYLLABLE_HZ * (t - s))))
    return 0.0


class PeopleVideo:
    """Frames rendered on demand (``frame(i)``, ``frames()``) plus their :class:`PeopleTruth`."""

    def __init__(self, faces: Sequence[np.ndarray | Sequence[np.ndarray]],
                 turns: Sequence[tuple[float, float, int]], seconds: float, fps: int = 5,
                 layout: str = "side_by_side", scale: float = 1.0, shift: float = 0.0,
                 occlude: tuple[float, float] | None = None, background: int = 90) -> None:
        if layout not in ("side_by_side", "alternating"):
            raise ConfigError(f"layout must be 'side_by_side' or 'alternating', got {layout!r}")
        if not 0.2 <= scale <= 1.0:
            raise ConfigError(f"scale must be in 0.2..1, got {scale}")
        views = [[f] if isinstance(f, np.ndarray) else list(f) for f in faces]
        self.views = [[_Face.of(np.asarray(v, dtype=np.uint8)) for v in person] for person in views]
        self.faces = [person[0] for person in self.views]
        self.turns = [(float(s), float(e), int(p)) for s, e, p in turns]
        if any(not 0 <= p < len(self.faces) for _, _, p in self.turns):
            raise ConfigError("a turn names a person with no face")
        self.fps, self.layout, self.scale, self.shift = int(fps), layout, float(scale), float(shift)
        self.occlude, self.background = occlude, int(background)
        self.n = int(round(seconds * fps))
        self.times = np.arange(self.n) / self.fps
        n_tiles = len(self.faces) if layout == "side_by_side" else 1
        self.width, self.height = TILE * n_tiles, TILE
        self.on_screen = self._on_screen()
        self.truth = self._truth()

    def _on_screen(self) -> list[list[tuple[int, int]]]:
        """Per frame, the (person, view) pairs shown, in tile order. Alternating: the last person to start
        speaking (else person 0), in their next view each time they come back after a cut."""
        if self.layout == "side_by_side":
            return [[(k, 0) for k in range(len(self.faces))]] * self.n
        out: list[list[tuple[int, int]]] = []
        current, appearances = -1, [-1] * len(self.faces)
        for t in self.times:
            started = [(s, p) for s, _, p in self.turns if s <= t]
            person = max(started)[1] if started else 0
            if person != current:
                current, appearances[person] = person, appearances[person] + 1
            out.append([(person, appearances[person] % len(self.views[person]))])
        return out

    def _place(self, k: int, slot: int) -> tuple[int, int, int]:
        """Top-left corner (x, y) and side of person ``k``'s tile in tile position ``slot``."""
        side = int(round(TILE * self.scale)) // 2 * 2
        x = slot * TILE + (TILE - side) // 2 + int(round(self.shift * (TILE - side) / 2))
        return x, (TILE - side) // 2, side

    def frame(self, i: int) -> np.ndarray:
        t = self.times[i]
        canvas = np.full((self.height, self.width, 3), self.background, np.uint8)
        for slot, (k, view) in enumerate(self.on_screen[i]):
            x, y, side = self._place(k, slot)
            tile = self.views[k][view].with_mouth(mouth_amount(t, k, self.turns))
            canvas[y:y + side, x:x + side] = cv2.resize(tile, (side, side), interpolation=cv2.INTER_AREA)
        if self.occlude is not None and self.occlude[0] <= t < self.occlude[1]:
            canvas[:, : self.width // 2] = 0  # a dark bar over the left half
        return canvas

    def frames(self) -> Iterator[np.ndarray]:
        for i in range(self.n):
            yield self.frame(i)

    def _truth(self) -> PeopleTruth:
        n_people = len(self.faces)
        boxes = np.full((n_people, self.n, 4), np.nan)
        mouth = np.zeros((n_people, self.n))
        for i, t in enumerate(self.times):
            for slot, (k, view) in enumerate(self.on_screen[i]):
                x, y, side = self._place(k, slot)
                f = self.views[k][view]
                s = side / f.rgb.shape[0]
                boxes[k, i] = [(x + f.box[0] * s) / self.width, (y + f.box[1] * s) / self.height,
                               (x + f.box[2] * s) / self.width, (y + f.box[3] * s) / self.height]
                mouth[k, i] = mouth_amount(t, k, self.turns)
        screens = self.on_screen
        cuts = [float(t) for i, t in enumerate(self.times) if i and screens[i] != screens[i - 1]]
        return PeopleTruth(self.times, boxes, mouth, list(self.turns), cuts, self.occlude)


def make_people_video(path: str | Path | None = None, faces: Sequence[np.ndarray] | None = None,
                      turns: Sequence[tuple[float, float, int]] | None = None, seconds: float = 6.0,
                      fps: int = 5, **options) -> PeopleVideo:
    """A synthetic conversation video (see the module's docstring), written to ``path`` (mp4, no audio)
    when given. Default turns: each person speaks in turn for 1.5 s, with 0.5 s pauses."""
    faces = default_faces() if faces is None else list(faces)
    if turns is None:
        turns, t, k = [], 0.25, 0
        while t + 1.5 <= seconds:
            turns.append((t, t + 1.5, k % len(faces)))
            t, k = t + 2.0, k + 1
    video = PeopleVideo(faces, turns, seconds, fps=fps, **options)
    if path is not None:
        write_media(path, video.frames(), fps=fps)
    return video
