"""The face stage: frames -> main face -> AU-like cues, expression probabilities, MERR peak frame.

``FaceAnalyzer`` is fed frames one at a time (``add_frame``) and keeps only per-frame numbers (AU
measures, probabilities, box), never the frames, so memory grows by a few hundred bytes per frame.
Per frame it finds the main face (:mod:`~emoreason.perception.face.mesh`; in videos a face too small
for the mesh's own detector is followed around its last position and the whole frame searched every few
frames: on the frames between, the number of faces behind ``frames_several_faces`` is the last
search's), measures its AU-like cues
(:mod:`~emoreason.perception.face.action_units`), runs fer (and facex and the FER+ network when the
expression model needs them; :mod:`~emoreason.perception.face.image_models`,
:mod:`~emoreason.perception.face.expression_net`) and lets the chosen expression model
(:mod:`~emoreason.perception.face.expression`) combine them. ``finish`` turns the numbers into a
:class:`ModalityOutput`:

* AU intensities per frame, relative to the person's own neutral when the clip has one (the median
  geometry of the clip's most neutral-looking frames), else relative to a population neutral
  (``au_baseline.json``, measured on the neutral photos of ``facial_expressions``);
* expression probabilities per frame, pooled over frames weighted by face size;
* the peak frame by MERR's rule, and evidence: the few most salient runs of clearly active AUs;
* head pose and gaze per frame (:mod:`~emoreason.perception.face.geometry`) and their cues (head lowered,
  gaze averted, head shakes and nods).

``add_frame`` finds the main face and hands it to ``add_face``; the multi-face path
(:class:`~emoreason.perception.face.tracks.MultiFaceAnalyzer`) feeds each person's faces to their own
``sibling()`` analyzer (the same loaded models, that person's numbers) through ``add_face``.

Small faces (:mod:`~emoreason.perception.face.small_faces`): a small image with no usable face is retried
padded and enlarged; faces narrower than ``min_face`` (24 px) are refused; on faces below 64 px the
Action Units and gaze are reported as low-confidence (``details["cues"]``) and give no evidence.

pandas is imported in :meth:`FaceAnalyzer.finish`, not with this module, which the option checks
(:func:`check_face_model`) import; mediapipe and the tflite runtime load with the tracker and the models.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from emoreason.errors import ConfigError, ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.base import ModalityOutput, TimedScores
from emoreason.perception.face import action_units as au
from emoreason.perception.face.crops import GrayFrame, face_crop_gray, face_square_gray
from emoreason.perception.face.expression import (
    DEFAULT_FACE_MODEL_DIR,
    FACE_MODELS,
    ExpressionModel,
    FaceReadings,
    check_face_model,
    load_expression_model,
)
from emoreason.perception.face.expression_net import canonical_scores, net_crop
from emoreason.perception.face.geometry import GeometryTrack
from emoreason.perception.face.head_cues import frame_runs
from emoreason.perception.face.image_models import FacexClassifier, FerClassifier
from emoreason.perception.face.mesh import FaceMesh, FaceMeshTracker, as_rgb, box_iou, check_rgb
from emoreason.perception.face.phrases import AU_CUES, describe_aus, merr_peak_index, merr_rule_label
from emoreason.perception.face.small_faces import MIN_FACE_PX, cue_confidence, is_small_image, upscaled_face
from emoreason.result import Evidence

__all__ = ["FACE_MODELS", "FaceAnalyzer", "analyze_face_image", "au_evidence", "check_face_model"]

#: The canonical label each AU argues for when it is the salient cue (None: no single label).
AU_SUPPORTS: dict[str, str | None] = {
    "AU01": "sad", "AU02": "surprised", "AU04": "angry", "AU05": "surprised", "AU06": "happy",
    "AU07": "angry", "AU09": "disgusted", "AU10": "disgusted", "AU12": "happy", "AU15": "sad",
    "AU20": "fearful", "AU23": "angry", "AU25": None, "AU26": "surprised", "AU43": None,
}
MIN_FRAMES_FOR_PERSON_BASELINE = 5
#: The clip's most neutral frames must look neutral on average (P(neutral)) to serve as the baseline.
MIN_NEUTRAL_PROB_FOR_BASELINE = 0.35
MAX_EVIDENCE = 4
#: In videos facex (the slowest image model, ~20-30 ms a face on one core) runs on every n-th frame with a
#: face, n the expression model's ``facex_every_video`` (FACEX_EVERY = 3 for the fitted pools; 6 for the
#: FER+ net pool, where facex weighs least); between runs its last probabilities are reused while the face
#: box stays put (IoU >= FACEX_REUSE_IOU with the box it ran on). fer, the network and the mesh run on every
#: frame. Every 3rd frame is 0.6 s apart at 5 fps (README, Speed).
FACEX_EVERY = ExpressionModel.facex_every_video
FACEX_REUSE_IOU = 0.5
#: When the FER+ network runs and its size-weighted mean P(unknown) + P(NF) over the clip's faces reaches
#: UNREADABLE_LOW_WEIGHT, the face's reliability is multiplied by UNREADABLE_FACTOR and the result says why.
#: 0.1 is about the 99th percentile on FER+ valid's emotion-labelled faces (docs/model_cards/face.md).
UNREADABLE_LOW_WEIGHT = 0.1
UNREADABLE_FACTOR = 0.5


class FaceAnalyzer:
    """Streaming face analysis of one video (or of one photo with ``static=True``)."""

    def __init__(self, fps: float = 5.0, model_dir: str | Path | None = None, min_face: int = MIN_FACE_PX,
                 static: bool = False, face_model: str | None = None, facex_every: int | None = None,
                 follow_small: bool | None = None) -> None:
        """``face_model``: one of :data:`FACE_MODELS` (``"default"``/``None``: the shipped choice; see
        :mod:`~emoreason.perception.face.expression`). ``facex_every``: run facex on every n-th frame with
        a face (default 1 for photos, the expression model's ``facex_every_video`` for videos).
        ``follow_small``: follow a small face instead of searching every frame for it (default: in videos;
        :class:`~emoreason.perception.face.mesh.FaceMeshTracker`); False searches the whole frame
        on every frame (about twice the CPU on such faces)."""
        face_model = check_face_model(face_model)
        if not fps > 0:
            raise ConfigError(f"fps must be positive, got {fps}")
        if facex_every is not None and (isinstance(facex_every, bool) or not isinstance(facex_every, int)
                                        or facex_every < 1):
            raise ConfigError(f"facex_every must be a whole number >= 1, got {facex_every!r}")
        self.fps = float(fps)
        self.min_face = int(min_face)
        self.static = static
        mdir = Path(model_dir) if model_dir is not None else DEFAULT_FACE_MODEL_DIR
        base_path = mdir / "au_baseline.json"
        if not base_path.is_file():
            raise ModelError(f"face model folder {mdir} has no au_baseline.json")
        self.population = au.AUBaseline.load(base_path)
        self.expression = load_expression_model(face_model, mdir)
        every = (1 if static else self.expression.facex_every_video) if facex_every is None else facex_every
        self.facex_every = every
        self.fer = FerClassifier()
        self.facex = FacexClassifier() if self.expression.uses_facex else None
        self.net = self.expression.net
        follow = (not static) if follow_small is None else bool(follow_small)
        self.tracker: FaceMeshTracker | None = FaceMeshTracker(static=static, follow_small=follow)
        self._retry_tracker: FaceMeshTracker | None = None  # static, for small images (made on first need)
        self.models = {"face_mesh": "mediapipe 0.10.21 face_mesh (refine_landmarks)",
                       "fer": "fer 25.10.3 emotion_model_quantized.tflite (FER2013)"}
        if self.facex is not None:
            self.models["facex"] = "facex 1.1.0 model_optimized.tflite (training data not stated)"
        self.models.update(self.expression.provenance)
        self._new_face_state()

    def _new_face_state(self) -> None:
        """The per-face numbers, empty (the loaded models are kept)."""
        self.facex_runs = 0
        self._facex_last: dict[str, float] | None = None
        self._facex_box: tuple[float, float, float, float] | None = None
        self._facex_age = 0
        self._unreadable: list[float] = []
        self.upscaled = 0
        self.geometry = GeometryTrack()
        self.frames = 0
        self.small_faces = 0
        self.multi_face_frames = 0
        self._times: list[float] = []
        self._raw: list[np.ndarray] = []
        self._probs: list[np.ndarray] = []
        self._sizes: list[float] = []
        self._boxes: list[tuple[float, float, float, float]] = []

    def sibling(self) -> FaceAnalyzer:
        """A fresh analyzer for another face of the same video, sharing this one's loaded models; it has no
        face tracker of its own and is fed with :meth:`add_face` (its ``frames`` count is the caller's)."""
        other = copy.copy(self)
        other.tracker = other._retry_tracker = None
        other.models = dict(self.models)
        other._new_face_state()
        return other

    @property
    def expression_model(self) -> str:
        """``"net_pool"``, ``"ferplus_net"``, ``"pool"``, ``"face_head"``, ``"facex"`` or ``"fer"``: what
        gives the expression probabilities."""
        return self.expression.name

    def add_frame(self, t: float, rgb: np.ndarray) -> None:
        """Analyse one HxWx3 uint8 RGB frame taken at time ``t`` seconds."""
        check_rgb(rgb)
        self.frames += 1
        face, n_faces = self.tracker.main_face(rgb)
        if (face is None or face.size < self.min_face) and is_small_image(rgb):
            retried = upscaled_face(self._retry(), rgb)
            if retried is not None and (face is None or retried.size > face.size):
                face, n_faces = retried, max(n_faces, 1)
                self.upscaled += 1
        if face is None:
            return
        if n_faces > 1:
            self.multi_face_frames += 1
        self.add_face(t, rgb, face)

    def add_face(self, t: float, rgb: np.ndarray, face: FaceMesh) -> bool:
        """Analyse ``face`` (found in the frame ``rgb`` taken at ``t`` s) as this analyzer's face; False when
        it is too small or its mesh degenerate (then only counted). Does not count the frame."""
        if face.size < self.min_face:
            self.small_faces += 1
            return False
        try:
            raw = au.raw_vector(face.points)
        except ValueError:  # a degenerate mesh: count it as no face
            return False
        gray = GrayFrame(rgb)  # one grey conversion of the face's region for all crops
        fer_scores, fer_features = self.fer.predict(face_crop_gray(gray, face.points))
        facex_scores = self._facex_scores(gray, face) if self.facex is not None else None
        net_probs = self.net.run(net_crop(gray, face.points)) if self.net is not None else None
        readings = FaceReadings(face.points, raw, fer_scores, fer_features, facex_scores, net_probs)
        if net_probs is not None:
            self._unreadable.append(canonical_scores(net_probs)[1])
        scores = self.expression.scores(readings)
        self._times.append(float(t))
        self._raw.append(raw)
        self._probs.append(np.array([scores[c] for c in CANONICAL]))
        self._sizes.append(face.size)
        h, w = rgb.shape[:2]
        self.geometry.add(face.points, w, h)
        x0, y0, x1, y1 = face.box
        self._boxes.append((x0 / w, y0 / h, x1 / w, y1 / h))  # fractions of the frame
        return True

    def _facex_scores(self, rgb: np.ndarray | GrayFrame, face: FaceMesh) -> dict[str, float]:
        """facex's probabilities for this face: a fresh run every ``facex_every``-th face or when the face
        moved, else the last run's."""
        fresh = (self._facex_last is None or self._facex_age + 1 >= self.facex_every
                 or box_iou(face.box, self._facex_box) < FACEX_REUSE_IOU)
        if fresh:
            self._facex_last = self.facex.predict(face_square_gray(rgb, face.points))
            self._facex_box, self._facex_age = tuple(face.box), 0
            self.facex_runs += 1
        else:
            self._facex_age += 1
        return self._facex_last

    def _retry(self) -> FaceMeshTracker:
        """The static tracker that looks at enlarged small images (the main one when it is static)."""
        if self.static:
            return self.tracker
        if self._retry_tracker is None:
            self._retry_tracker = FaceMeshTracker(static=True)
        return self._retry_tracker

    def close(self) -> None:
        for tracker in (self.tracker, self._retry_tracker):
            if tracker is not None:
                tracker.close()

    # ---- summary ---------------------------------------------------------------------------------
    def _baseline(self, raw: np.ndarray, probs: np.ndarray) -> au.AUBaseline:
        n = len(raw)
        if self.static or n < MIN_FRAMES_FOR_PERSON_BASELINE:
            return self.population
        neutral = probs[:, CANONICAL.index("neutral")]
        k = max(MIN_FRAMES_FOR_PERSON_BASELINE, n // 4)
        idx = np.argsort(-neutral, kind="stable")[:k]
        if neutral[idx].mean() < MIN_NEUTRAL_PROB_FOR_BASELINE:
            return self.population
        center = np.median(raw[idx], axis=0)
        return self.population.with_center(dict(zip(au.AU_NAMES, center, strict=True)),
                                           source=f"person: median of the clip's {k} most neutral frames")

    def finish(self) -> ModalityOutput:
        """Summarise everything added so far (call once, after the last frame)."""
        self.close()
        counts = {"frames": self.frames, "frames_with_face": len(self._times),
                  "frames_small_face": self.small_faces, "frames_several_faces": self.multi_face_frames,
                  "frames_upscaled": self.upscaled}
        if self.facex is not None:
            counts["facex_runs"] = self.facex_runs
        if not self.static:  # frames whose face was followed, not searched for in the whole frame
            counts["frames_followed"] = self.tracker.followed_frames if self.tracker is not None else 0
        if not self._times:
            why = f"no face found in {self.frames} frame{'s' if self.frames != 1 else ''}"
            if self.small_faces:
                why += f" ({self.small_faces} with a face smaller than {self.min_face} px)"
            return ModalityOutput.unusable("face", why, **counts)
        import pandas as pd

        times = np.array(self._times)
        raw = np.stack(self._raw)
        probs = np.stack(self._probs)
        weights = np.array(self._sizes) / max(self._sizes)
        baseline = self._baseline(raw, probs)
        inten = np.maximum(0.0, (raw - np.array([baseline.center[a] for a in au.AU_NAMES]))
                           / np.array([baseline.scale[a] for a in au.AU_NAMES]))
        table = pd.DataFrame(inten, columns=list(au.AU_NAMES), index=pd.Index(times, name="time"))
        peak = merr_peak_index(table)
        peak_row = table.iloc[peak]
        active_at_peak = {a: float(v) for a, v in peak_row.items() if v >= au.ACTIVE_THRESHOLD}
        peak_aus = active_at_peak or {a: float(v) for a, v in peak_row.nlargest(3).items()}
        pooled = (probs * weights[:, None]).sum(0) / weights.sum()
        scores = {c: float(p) for c, p in zip(CANONICAL, pooled, strict=True)}
        step = 1.0 / self.fps
        timeline = [TimedScores(start=float(t), end=float(t) + step, weight=float(w),
                                scores={c: float(p) for c, p in zip(CANONICAL, pr, strict=True)})
                    for t, pr, w in zip(times, probs, weights, strict=True)]
        face_px = float(np.median(self._sizes))
        cues = cue_confidence(face_px)
        evidence = au_evidence(table, step) if cues["action_units"]["in_evidence"] else []
        evidence += self.geometry.evidence(times, step, with_gaze=cues["gaze"]["in_evidence"])
        details = dict(counts)
        details.update({
            "peak_frame_time": float(times[peak]), "peak_aus": peak_aus,
            "peak_description": describe_aus(active_at_peak),
            "merr_rule_label": merr_rule_label(active_at_peak),
            "au_baseline": baseline.source, "expression_model": self.expression_model,
            "au_unit": "SDs of neutral faces across people, above the baseline",
            "peak_face_box": [round(float(v), 4) for v in self._boxes[peak]],
            "face_px": round(face_px, 1), "cues": cues, "head_pose_median": self.geometry.summary(),
        })
        boxes = pd.DataFrame(self._boxes, columns=["x0", "y0", "x1", "y1"], index=table.index)
        reliability = len(times) / max(self.frames, 1)
        if self._unreadable:
            unreadable = float(np.average(self._unreadable, weights=weights))
            details["unreadable_probability"] = round(unreadable, 4)
            if unreadable >= UNREADABLE_LOW_WEIGHT:
                reliability *= UNREADABLE_FACTOR
                note = (f"the face was given half weight: the expression network read it as unclear or not "
                        f"a face more often than 99 % of clear faces (P = {unreadable:.2f})")
                details["reliability_note"] = note
                evidence.append(Evidence(modality="face", name="unreadable_face", value=unreadable,
                                         start=float(times[0]), end=float(times[-1]) + step,
                                         description=note, unit="probability", supports=None))
        return ModalityOutput(
            modality="face", usable=True, scores=scores, timeline=timeline,
            evidence=evidence, reliability=reliability,
            details=details, models=dict(self.models),
            series={"aus": table, "boxes": boxes,
                    "probabilities": pd.DataFrame(probs, columns=list(CANONICAL), index=table.index),
                    **self.geometry.series(table.index)},
        )


def au_evidence(table, step: float, threshold: float = au.ACTIVE_THRESHOLD,
                limit: int = MAX_EVIDENCE) -> list[Evidence]:
    """Contiguous runs where an AU is clearly active, most salient first (peak x sqrt(frames))."""
    times = table.index.to_numpy(dtype=float)
    found: list[tuple[float, Evidence]] = []
    for name in table.columns:
        v = table[name].to_numpy()
        for i, j in frame_runs(v >= threshold, times, step):
            peak = float(v[i:j + 1].max())
            ev = Evidence(modality="face", name=name, value=peak, start=float(times[i]),
                          end=float(times[j]) + step, description=AU_CUES.get(name, name),
                          unit="neutral-face SDs", supports=AU_SUPPORTS.get(name))
            found.append((peak * np.sqrt(j - i + 1), ev))
    found.sort(key=lambda se: -se[0])
    return [ev for _, ev in found[:limit]]


def analyze_face_image(rgb: np.ndarray, model_dir: str | Path | None = None,
                       face_model: str | None = None) -> ModalityOutput:
    """Face analysis of a single photo (AUs against the population neutral baseline).

    ``rgb``: HxWx3 uint8 RGB (HxW grey and HxWx4 RGBA are accepted too)."""
    rgb = as_rgb(rgb)
    analyzer = FaceAnalyzer(fps=1.0, model_dir=model_dir, static=True, face_model=face_model)
    analyzer.add_frame(0.0, rgb)
    return analyzer.finish()
