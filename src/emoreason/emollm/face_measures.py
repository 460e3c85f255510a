"""The ``face_measures`` encoder kind: the project's own face stage's numbers as one feature vector.

No neural encoder: each frame with a face goes through the face stage
(:class:`~emoreason.perception.face.analyzer.FaceAnalyzer`, the code behind ``analyze_face_image`` and
the default pipeline's face path) with its ``net_pool`` expression model (:data:`FACE_MODEL`, pinned: a
different default would change the numbers a trained model reads). Per frame the vector holds
(:data:`FACE_MEASURE_BLOCKS`, in this order):

* ``expression`` (7): the face stage's probabilities by canonical label (:data:`~emoreason.labels.CANONICAL`);
* ``fer`` (7), ``facex`` (7): its member image models' probabilities, canonical order;
* ``ferplus_net`` (10): the FER+ network's ten probabilities (``FERPLUS_CLASSES`` order, with *unknown*
  and *not a face*);
* ``au`` (15): the AU intensities in ``action_units.AU_NAMES`` order (SDs of neutral faces above the
  baseline: the population's for a photo, the person's own for a clip with enough neutral frames);
* ``head_pose`` (3): yaw, pitch, roll in degrees / 90 (0 where the pose was not read).

A photo gives its one frame's vector; a clip the mean over the frames with a face among
:data:`NUM_FRAMES` frames spread evenly over it. ``None`` when no frame has a face.

The member readings are taken where the face stage hands them to its expression model (the analyzer's
``expression`` is wrapped by a recorder), so they are exactly the numbers the face stage combines.
mediapipe, the tflite runtime and onnxruntime load with the analyzer, on the first call.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emoreason.labels import CANONICAL
from emoreason.perception.face.action_units import AU_NAMES
from emoreason.perception.face.analyzer import FaceAnalyzer
from emoreason.perception.face.expression import FaceReadings
from emoreason.perception.face.expression_net import FERPLUS_CLASSES
from emoreason.perception.face.geometry import POSE_COLUMNS
from emoreason.perception.face.mesh import as_rgb

#: The face stage's expression model the measures are read with.
FACE_MODEL = "net_pool"
#: Frames of a clip the face stage looks at (evenly spread, centred).
NUM_FRAMES = 16
#: (block name, width) in vector order.
FACE_MEASURE_BLOCKS: tuple[tuple[str, int], ...] = (
    ("expression", len(CANONICAL)), ("fer", len(CANONICAL)), ("facex", len(CANONICAL)),
    ("ferplus_net", len(FERPLUS_CLASSES)), ("au", len(AU_NAMES)), ("head_pose", len(POSE_COLUMNS)))
#: Width of the vector.
FACE_MEASURE_DIM = sum(w for _, w in FACE_MEASURE_BLOCKS)
#: One name per entry of the vector (``block:item``).
FACE_MEASURE_NAMES: tuple[str, ...] = (
    *(f"expression:{c}" for c in CANONICAL), *(f"fer:{c}" for c in CANONICAL),
    *(f"facex:{c}" for c in CANONICAL), *(f"ferplus_net:{c}" for c in FERPLUS_CLASSES),
    *(f"au:{a}" for a in AU_NAMES), *(f"head_pose:{c}" for c in POSE_COLUMNS))
HEAD_POSE_SCALE = 90.0


class _RecordingExpression:
    """The analyzer's expression model, recording the readings of every face it scores."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.readings: list[FaceReadings] = []

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def scores(self, readings: FaceReadings) -> dict[str, float]:
        self.readings.append(readings)
        return self.inner.scores(readings)


def _canonical(scores: dict[str, float] | None, what: str) -> np.ndarray:
    if scores is None:
        raise RuntimeError(f"the face stage's {FACE_MODEL} model ran without {what}")
    return np.array([float(scores[c]) for c in CANONICAL])


def _analyse(frames: list[np.ndarray], fps: float) -> np.ndarray | None:
    analyzer = FaceAnalyzer(fps=fps, static=len(frames) == 1, face_model=FACE_MODEL)
    recorder = _RecordingExpression(analyzer.expression)
    analyzer.expression = recorder
    for i, rgb in enumerate(frames):
        analyzer.add_frame(i / fps, rgb)
    out = analyzer.finish()
    if not out.usable:
        return None
    series = out.series
    probs = series["probabilities"][list(CANONICAL)].to_numpy(dtype=float)
    aus = series["aus"][list(AU_NAMES)].to_numpy(dtype=float)
    pose = np.nan_to_num(series["head_pose"][list(POSE_COLUMNS)].to_numpy(dtype=float)) / HEAD_POSE_SCALE
    if len(recorder.readings) != len(probs):
        raise RuntimeError(f"the face stage scored {len(recorder.readings)} faces but kept {len(probs)}")
    members = np.stack([np.concatenate([_canonical(r.fer_scores, "fer"), _canonical(r.facex_scores, "facex"),
                                        np.asarray(r.net_probs, dtype=float)])
                        for r in recorder.readings])
    rows = np.concatenate([probs, members, aus, pose], axis=1)
    return rows.mean(0).astype(np.float32)


def _sample(n_available: int, n_wanted: int) -> list[int]:
    if n_available <= n_wanted:
        return list(range(n_available))
    return [min(n_available - 1, int((i + 0.5) * n_available / n_wanted)) for i in range(n_wanted)]


def face_measure_vector(source: str | Path | np.ndarray | Sequence[np.ndarray],
                        fps: float | None = None) -> np.ndarray | None:
    """The face measures (float32 [:data:`FACE_MEASURE_DIM`]) of a photo or a clip; None: no face found.

    ``source``: an image or video file, one RGB (or grey) frame (a photo), or a sequence of RGB frames of
    one clip (``fps``: their rate, default 5; of more than :data:`NUM_FRAMES` frames that many are used).
    A file without video frames (audio only) has no face: None.
    """
    if isinstance(source, (str, Path)):
        frames, fps = _read_frames(Path(source))
    elif isinstance(source, np.ndarray) and source.ndim in (2, 3) and (source.ndim == 2 or source.shape[-1]
                                                                      in (3, 4)):
        frames = [source]
    else:
        frames = list(source)
    if not frames:
        return None
    fps = float(fps or 5.0)
    idx = _sample(len(frames), NUM_FRAMES)
    step = len(frames) / len(idx)
    return _analyse([as_rgb(frames[i]) for i in idx], fps / step if len(idx) > 1 else 1.0)


def _read_frames(path: Path) -> tuple[list[np.ndarray], float]:
    """A file's frames for the measures: the image itself, or a clip decoded at a rate giving about
    2 x :data:`NUM_FRAMES` frames (2-25 fps, at most 640 px on the long side)."""
    from emoreason.io.image import load_image
    from emoreason.io.media import decode, probe

    info = probe(path)
    if info.kind == "image":
        return [load_image(path)], 1.0
    if not info.has_video:
        return [], 1.0
    fps = clip_fps(info.duration)
    frames: list[np.ndarray] = []
    decode(path, fps=fps, on_frame=lambda t, rgb: frames.append(rgb), max_side=640)
    return frames, fps


def clip_fps(duration: float | None, wanted: int = NUM_FRAMES) -> float:
    """The decoding rate that gives about ``2 x wanted`` frames of a clip (2-25 fps)."""
    return min(25.0, max(2.0, 2.0 * wanted / max(duration or 1.0, 0.1)))
