"""The voice modality: speech segments -> prosody -> voice-emotion probabilities and cues.

Steps: silero VAD (:mod:`.vad`) unless the caller gives speech segments; prosody per segment
(:mod:`.prosody`); a feature vector per segment (Whisper tiny.en encoder states pooled per layer -- from
version 5 the outputs of all four blocks, run in numpy by :mod:`.whisper_encoder`; before, the final states --
and, when the model's config asks for them, log-mel functionals, :mod:`.voice_embedding`; plus the prosody
values);
the shipped classifier
(``assets/models/voice``: two logistic regressions and, from version 3, a small attention-pooling
network on the Whisper encoder frames (:mod:`.voice_frames`; block 1's output from version 5), all plain
arrays evaluated in numpy,
trained on RAVDESS -- NON-COMMERCIAL, CC BY-NC-SA 4.0; see docs/model_cards/voice.md). The frame
network's probabilities are mixed with the logistic regression's with the config's ``frame_model.weight``.

Level: from version 6 (``level_db`` in the model's config) each segment is scaled to an active speech level
of -30 dB re full scale before its features (:func:`.voice_embedding.normalise_level`), so a microphone's
gain does not move the emotion; the classifier's ``energy_mean_db`` is the levelled one, while the prosody
table and the within-recording cues keep the level as recorded. ``details["level_gain_db"]`` lists the gains.

Normalisation: with at least ``min_segments_recording`` (3) segments the "recording" classifier sees
each segment's features both as they are and z-scored within the recording (assumed to be one voice;
there is no diarisation), so a recording's speaker and channel show up as deviations from its own
average while a recording that stays in one mood still keeps its absolute cues; with fewer segments
the "population" classifier uses the features standardised with the training set's statistics. From
version 4 a third, "speaker" classifier sees only the within-recording z-scores (the speaker normalisation
of the field's protocols, which needs a recording that spans several emotions: z-scoring a recording that
stays in one mood removes exactly that mood). It is used, mixed with the frame network, when a recording
has at least ``speaker_model.min_segments`` (15) segments and the population classifier's mean
prediction over them spreads over at least ``speaker_model.min_effective_classes`` (6 of 8) classes
(``effective_classes``: exp of the entropy) -- a gate chosen on RAVDESS folds, a rule of thumb;
``speaker_normalisation="always"``/``"never"`` overrides it. Segment
probabilities over RAVDESS's 8 classes are mapped to the canonical labels (calm + neutral -> neutral)
and pooled over the recording weighted by segment duration. Each segment is also embedded at the
speeds listed as ``tta_speeds`` in the model's config (0.9x and 1.1x from version 5) and the probabilities of all views
averaged, as the model was trained with those augmentations.

Clips of one speaker (``VoiceAnalyzer.analyze_clips``; ``emoreason.analyze_clips``): each clip is read as one
utterance, from its first to its last speech, as the model was trained, and all the clips' utterances are
normalised and gated together as one recording; each clip gets its own output (``details["speaker_group"]``).

``reliability`` = min(1, speech seconds / 2) -- a heuristic: less than two seconds of speech gives the
voice a proportionally smaller say in fusion. ``details["arousal_prosody"]`` is the prosody arousal
rule of :mod:`.voice_cues` (a heuristic, not the model), duration-weighted over segments.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emoreason.assets import model_dir
from emoreason.errors import ConfigError, ModelError
from emoreason.io.audio import AudioSource
from emoreason.labels import CANONICAL
from emoreason.perception.base import ModalityOutput, TimedScores
from emoreason.perception.speech.vad import MAX_SEGMENT, detect_speech, split_long
from emoreason.perception.voice.cues import arousal_rule, voice_evidence
from emoreason.perception.voice.embedding import apply_gain_db, change_speed, level_gain_db
from emoreason.perception.voice.frames import FRAME_KEYS, frame_proba
from emoreason.perception.voice.prosody import COLUMNS, analyze_prosody

MODEL_FILE = "voice_model.safetensors"
CONFIG_FILE = "config.json"
FULL_RELIABILITY_SPEECH_S = 2.0
SPEAKER_NORMALISATION = ("auto", "always", "never")


def check_speaker_normalisation(value: object) -> str:
    """``value`` if it is one of :data:`SPEAKER_NORMALISATION`, else a ConfigError."""
    if value not in SPEAKER_NORMALISATION:
        raise ConfigError(f"speaker_normalisation must be one of {', '.join(SPEAKER_NORMALISATION)}, not {value!r}")
    return str(value)


def effective_classes(probs: np.ndarray) -> float:
    """exp(entropy) of the mean of the probability rows: 1 when every row names the same class with
    certainty, up to the number of classes when the rows spread evenly over them."""
    q = np.asarray(probs, dtype=np.float64).mean(axis=0)
    return float(np.exp(-(q * np.log(np.clip(q, 1e-12, None))).sum()))


def speaker_gate_opens(p_population: np.ndarray, min_segments: int, min_effective: float) -> tuple[bool, float]:
    """The speaker gate's rule for one recording, from the population path's probabilities of its
    segments: (open, effective classes)."""
    eff = effective_classes(p_population)
    return len(p_population) >= min_segments and eff >= min_effective, eff


def default_model_dir() -> Path:
    return model_dir("voice")


class VoiceClassifier:
    """The shipped voice-emotion classifier, evaluated in numpy."""

    def __init__(self, model_dir: str | Path | None = None, speaker_normalisation: str = "auto"):
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        self.speaker_normalisation = check_speaker_normalisation(speaker_normalisation)
        self.dir = Path(model_dir) if model_dir is not None else default_model_dir()
        cfg_path, weights = self.dir / CONFIG_FILE, self.dir / MODEL_FILE
        if not cfg_path.is_file() or not weights.is_file():
            raise ModelError(f"no voice model in {self.dir} (need {CONFIG_FILE} and {MODEL_FILE})")
        try:
            self.config = json.loads(cfg_path.read_text(encoding="utf-8"))
            self.tensors = {k: v.astype(np.float64) for k, v in load_file(str(weights)).items()}
            self.classes: list[str] = list(self.config["classes"])
            self.to_canonical: dict[str, str] = dict(self.config["to_canonical"])
            self.prosody_columns: list[str] = list(self.config["features"]["prosody"])
            whisper_cfg = self.config["features"]["whisper"]
            self.whisper_mode: str = whisper_cfg["mode"]
            # encoder outputs pooled into the features, and the frame network's input; -1 = the final
            # states (versions 1-4, whose configs do not name layers)
            self.whisper_layers: list[int] = [int(i) for i in whisper_cfg.get("layers", [-1])]
            self.with_mel: bool = "mel" in self.config["features"]
            self.min_segments: int = int(self.config.get("min_segments_recording", 3))
            self.tta_speeds: list[float] = [float(v) for v in self.config.get("tta_speeds", [])]
            # each segment's active speech level is set to this many dB re full scale before its features
            # (version 6 on); None: the level as recorded (versions 1-5)
            level = self.config.get("level_db")
            self.level_db: float | None = None if level is None else float(level)
            frame_cfg = self.config.get("frame_model")
            self.frame_weight: float = float(frame_cfg["weight"]) if frame_cfg else 0.0
            self.frame_layer: int = int(frame_cfg.get("layer", -1)) if frame_cfg else -1
            spk = self.config.get("speaker_model")
            self.speaker_min_segments = int(spk["min_segments"]) if spk else None
            self.speaker_min_effective = float(spk["min_effective_classes"]) if spk else None
            self.speaker_lr_weight = float(spk["lr_weight"]) if spk else 1.0
        except (OSError, ValueError, KeyError, TypeError, SafetensorError) as exc:
            raise ModelError(f"voice model in {self.dir} is malformed: {exc}") from exc
        self._check_shapes()
        if speaker_normalisation == "always" and not self.has_speaker_model:
            raise ModelError(f"the voice model in {self.dir} has no speaker-normalised classifier (version 4 on); "
                             "speaker_normalisation='always' needs one")
        if set(self.to_canonical.values()) - set(CANONICAL) or self.prosody_columns != list(COLUMNS):
            raise ModelError(f"voice model in {self.dir} does not match this version's labels or prosody")
        self.name = f"{self.config.get('name', 'voice')} v{self.config.get('version', '?')}"

    def _check_shapes(self) -> None:
        mean = self.tensors.get("population.mean")
        dim = 0 if mean is None else mean.shape[0]
        expected = {"population.feature_mean": (dim,), "population.feature_std": (dim,)}
        variants = [("population", dim), ("recording", 2 * dim)]
        if self.has_speaker_model:
            variants.append(("speaker", dim))
        for variant, width in variants:
            expected.update({f"{variant}.mean": (width,), f"{variant}.scale": (width,),
                             f"{variant}.coef": (len(self.classes), width),
                             f"{variant}.intercept": (len(self.classes),)})
        if self.frame_weight:
            proj = self.tensors.get("frames.proj_w")
            hidden, width = (0, 0) if proj is None or proj.ndim != 2 else proj.shape
            expected.update({"frames.in_mean": (width,), "frames.in_std": (width,), "frames.proj_w": (hidden, width),
                             "frames.proj_b": (hidden,), "frames.att_w": (1, hidden), "frames.att_b": (1,),
                             "frames.out_w": (len(self.classes), 3 * hidden), "frames.out_b": (len(self.classes),)})
        for key, shape in expected.items():
            if dim == 0 or key not in self.tensors or self.tensors[key].shape != shape:
                raise ModelError(f"voice model in {self.dir}: tensor {key!r} does not match its config")

    @property
    def has_speaker_model(self) -> bool:
        """Whether the model has the speaker-normalised classifier (version 4 on)."""
        return self.speaker_min_segments is not None

    @property
    def uses_frames(self) -> bool:
        """Whether the model wants the encoder states of each segment (``predict(..., frame_probs=...)``)."""
        return self.frame_weight > 0

    @property
    def dim(self) -> int:
        return int(self.tensors["population.mean"].shape[0])

    def _fill(self, features: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(features), self.tensors["population.feature_mean"], features)

    @staticmethod
    def _zscore(x: np.ndarray) -> np.ndarray:
        return (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-6)

    def _checked_views(self, features: np.ndarray | list[np.ndarray],
                       frame_probs: np.ndarray | None) -> list[np.ndarray]:
        """The feature views with unmeasurable values filled, after checking their shapes and the frame
        network's probabilities against the model."""
        views = [features] if isinstance(features, np.ndarray) else list(features)
        for f in views:
            if f.ndim != 2 or f.shape[1] != self.dim or len(f) != len(views[0]):
                raise ModelError(f"voice features have shape {f.shape}, the model expects (n, {self.dim})")
        if self.uses_frames and frame_probs is None:
            raise ModelError("this voice model needs the frame network's probabilities (the encoder states of "
                             "every segment, through segment_frame_proba)")
        if self.uses_frames and frame_probs.shape != (len(views[0]), len(self.classes)):
            raise ModelError(f"frame probabilities have shape {frame_probs.shape}, expected "
                             f"({len(views[0])}, {len(self.classes)})")
        return [self._fill(f) for f in views]

    def _lr(self, variant: str, views: list[np.ndarray]) -> np.ndarray:
        """One logistic regression's probabilities, averaged over the views."""
        t = {k.split(".", 1)[1]: v for k, v in self.tensors.items() if k.startswith(variant + ".")}
        probs = []
        for x in views:
            logits = ((x - t["mean"]) / t["scale"]) @ t["coef"].T + t["intercept"]
            logits -= logits.max(axis=1, keepdims=True)
            e = np.exp(logits)
            probs.append(e / e.sum(axis=1, keepdims=True))
        return np.mean(probs, axis=0)

    def _blend(self, p: np.ndarray, frame_probs: np.ndarray | None) -> np.ndarray:
        return p if not self.uses_frames else (1 - self.frame_weight) * p + self.frame_weight * frame_probs

    def speaker_gate(self, features: np.ndarray | list[np.ndarray],
                     frame_probs: np.ndarray | None = None) -> dict:
        """Whether the speaker-normalised classifier is used for these segments, and why:
        ``{"use": bool, "segments": n, "effective_classes": float or None, "mode": ...}``."""
        return self._gate(self._checked_views(features, frame_probs), frame_probs)

    def _gate(self, views: list[np.ndarray], frame_probs: np.ndarray | None) -> dict:
        n = len(views[0])
        gate = {"use": False, "segments": n, "effective_classes": None, "mode": self.speaker_normalisation}
        if not self.has_speaker_model or n < self.min_segments or self.speaker_normalisation == "never":
            return gate
        opens, eff = speaker_gate_opens(self._blend(self._lr("population", views), frame_probs),
                                        self.speaker_min_segments, self.speaker_min_effective)
        gate["effective_classes"] = round(eff, 3)
        gate["use"] = self.speaker_normalisation == "always" or opens
        return gate

    def segment_frame_proba(self, view_states: list[np.ndarray]) -> np.ndarray:
        """The frame network's class probabilities for one segment, averaged over its views."""
        fp = {k: self.tensors[f"frames.{k}"] for k in FRAME_KEYS}
        return frame_proba(fp, view_states).mean(axis=0)

    def predict(self, features: np.ndarray | list[np.ndarray],
                frame_probs: np.ndarray | None = None) -> tuple[np.ndarray, str]:
        """Canonical-label probabilities, one row per segment (columns in CANONICAL order), and the
        classifier used; :meth:`predict_with_gate` also returns the speaker gate's decision."""
        probs, variant, _ = self.predict_with_gate(features, frame_probs)
        return probs, variant

    def predict_with_gate(self, features: np.ndarray | list[np.ndarray],
                          frame_probs: np.ndarray | None = None) -> tuple[np.ndarray, str, dict]:
        """Canonical-label probabilities, one row per segment (columns in CANONICAL order), the
        classifier used and the speaker gate (:meth:`speaker_gate`).

        ``features``: one matrix (segments x dim), or several views of the same segments (the
        original and the ``tta_speeds`` views) whose probabilities are averaged. ``frame_probs``: for a
        model with a frame network (:attr:`uses_frames`, then required), its probabilities per segment
        (segments x classes, from :meth:`segment_frame_proba`, one segment's states at a time), mixed in
        with weight ``frame_weight``.
        """
        filled = self._checked_views(features, frame_probs)
        gate = self._gate(filled, frame_probs)
        if len(filled[0]) < self.min_segments:
            p, variant = self._blend(self._lr("population", filled), frame_probs), "population"
        elif gate["use"]:
            p_spk = self._lr("speaker", [self._zscore(x) for x in filled])
            w = self.speaker_lr_weight if self.uses_frames else 1.0
            p, variant = w * p_spk + (1 - w) * (frame_probs if self.uses_frames else 0.0), "speaker"
        else:
            p = self._blend(self._lr("recording", [np.hstack([x, self._zscore(x)]) for x in filled]), frame_probs)
            variant = "recording"
        canon = np.zeros((len(p), len(CANONICAL)))
        for j, cls in enumerate(self.classes):
            canon[:, CANONICAL.index(self.to_canonical[cls])] += p[:, j]
        return canon, variant, gate


class VoiceAnalyzer:
    """Voice emotion for one recording: ``VoiceAnalyzer().analyze(audio)`` -> ModalityOutput("voice")."""

    def __init__(self, model_dir: str | Path | None = None, whisper_dir: str | Path | None = None,
                 speaker_normalisation: str = "auto"):
        from emoreason.perception.voice.embedding import WhisperVoiceEmbedder

        self.classifier = VoiceClassifier(model_dir, speaker_normalisation=speaker_normalisation)
        c = self.classifier
        self.embedder = WhisperVoiceEmbedder(whisper_dir, mode=c.whisper_mode, with_mel=c.with_mel,
                                             layers=c.whisper_layers, frame_layer=c.frame_layer)
        if c.uses_frames and c.whisper_mode != "exact":
            raise ModelError(f"the voice model in {c.dir} has a frame network but asks for the "
                             f"{c.whisper_mode!r} mode: frame states exist only in the 'exact' mode")
        if self.embedder.dim + len(COLUMNS) != c.dim:
            raise ModelError(f"the voice model in {c.dir} expects {c.dim} features, but its config's Whisper "
                             f"layers {c.whisper_layers} on this encoder give {self.embedder.dim + len(COLUMNS)}")

    def analyze(self, audio: AudioSource, speech: list[tuple[float, float]] | None = None) -> ModalityOutput:
        timing: dict[str, float] = {}
        lap = _stopwatch(timing)
        segments = detect_speech(audio) if speech is None else _clean_segments(speech, audio)
        lap("vad")
        if not segments:
            return _no_speech(audio)
        feats = self._segment_features(audio, segments, lap)
        probs, variant, gate = self.classifier.predict_with_gate(feats.views, frame_probs=feats.frame_probs)
        speaker_relative = variant in ("recording", "speaker")
        # cues: within a recording, loudness differences are real; against the training voices, only
        # the levelled values are comparable
        z = self._prosody_z(feats.prosody if speaker_relative else feats.levelled, speaker_relative)
        return self._output(segments, feats, probs, z, variant, gate, timing, lap)

    def analyze_clips(self, audios: list[AudioSource]) -> list[ModalityOutput]:
        """Several clips of **one speaker** (a corpus' clips of one actor, the turns of one caller), read as
        one recording: each clip is one utterance, from its first to its last speech (as the model was
        trained; over 10 s it is split as the VAD splits), and the recording's normalisation and speaker gate
        see all the clips' utterances together. One output per clip, in order; a clip without speech gets
        an unusable output and takes no part."""
        timing: dict[str, float] = {}
        lap = _stopwatch(timing)
        spans = []
        for audio in audios:
            segs = detect_speech(audio)
            spans.append(_clean_segments([(segs[0][0], segs[-1][1])], audio) if segs else [])
        lap("vad")
        used = [i for i, s in enumerate(spans) if s]
        feats = [self._segment_features(audios[i], spans[i], lap) for i in used]
        if not feats:
            return [_no_speech(a) for a in audios]
        views = [np.concatenate([f.views[k] for f in feats]) for k in range(len(feats[0].views))]
        frame_probs = np.concatenate([f.frame_probs for f in feats]) if self.classifier.uses_frames else None
        probs, variant, gate = self.classifier.predict_with_gate(views, frame_probs=frame_probs)
        speaker_relative = variant in ("recording", "speaker")
        prosody = np.concatenate([f.prosody if speaker_relative else f.levelled for f in feats])
        z = self._prosody_z(prosody, speaker_relative)
        outs: list[ModalityOutput] = [_no_speech(a) for a in audios]
        edges = np.cumsum([0] + [len(spans[i]) for i in used])
        group = {"clips": len(audios), "clips_with_speech": len(used), "segments": int(edges[-1])}
        for k, i in enumerate(used):
            rows = slice(edges[k], edges[k + 1])
            outs[i] = self._output(spans[i], feats[k], probs[rows], z[rows], variant, gate, timing, lap)
            outs[i].details["speaker_group"] = group
        for i in used:  # each clip reports the group's timing, the stages' totals over all the clips
            outs[i].details["timing_s"] = dict(timing)
        return outs

    def _segment_features(self, audio: AudioSource, segments: list[tuple[float, float]], lap) -> _Features:
        table = analyze_prosody(audio, segments)
        prosody = table[list(COLUMNS)].to_numpy(dtype=np.float64)
        lap("prosody")
        speeds = [1.0, *self.classifier.tta_speeds]
        emb = np.zeros((len(speeds), len(segments), self.embedder.dim))
        uses_frames = self.classifier.uses_frames
        frame_probs = np.zeros((len(segments), len(self.classifier.classes))) if uses_frames else None
        level_db = self.classifier.level_db
        gains = np.zeros(len(segments))
        for i, (a, b) in enumerate(segments):  # one segment (its samples and encoder states) in memory at a time
            samples = audio.read(a, b)
            if level_db is not None:
                gains[i] = level_gain_db(samples, level_db)
                samples = apply_gain_db(samples, gains[i])
            views = [change_speed(samples, s) for s in speeds]
            if not uses_frames:
                emb[:, i] = self.embedder.embed(views)
            else:
                emb[:, i], seg_states = self.embedder.embed_with_states(views)
                frame_probs[i] = self.classifier.segment_frame_proba(seg_states)
        lap("embedding")
        # the classifier sees the prosody of the level-normalised segment: only the mean level moves (every
        # other prosody value is relative), by exactly the gain
        levelled = prosody.copy()
        levelled[:, COLUMNS.index("energy_mean_db")] += gains
        return _Features(table, prosody, levelled, [np.concatenate([e, levelled], axis=1) for e in emb],
                         frame_probs, gains)

    def _output(self, segments: list[tuple[float, float]], feats: _Features, probs: np.ndarray, z: np.ndarray,
                variant: str, gate: dict, timing: dict[str, float], lap) -> ModalityOutput:
        speaker_relative = variant in ("recording", "speaker")
        table, prosody = feats.table, feats.prosody
        durations = np.array([b - a for a, b in segments])
        pooled = (probs * durations[:, None]).sum(axis=0) / durations.sum()
        scores = {lab: float(p) for lab, p in zip(CANONICAL, pooled)}
        timeline, rows, arousal = [], [], []
        for i, (a, b) in enumerate(segments):
            seg_scores = {lab: float(p) for lab, p in zip(CANONICAL, probs[i])}
            timeline.append(TimedScores(start=a, end=b, scores=seg_scores, weight=float(durations[i])))
            zi = {c: float(z[i, k]) for k, c in enumerate(COLUMNS)}
            rows.append({"start": a, "end": b, "scores": seg_scores, "z": zi,
                         "raw": {c: float(prosody[i, k]) for k, c in enumerate(COLUMNS)}})
            arousal.append(arousal_rule(zi, speaker_relative))
        table["label"] = [max(t.scores, key=t.scores.get) for t in timeline]
        known = [(r, d) for r, d in zip(arousal, durations) if r is not None]
        lap("classifier_and_cues")
        speech_s = float(durations.sum())
        details = {
            "speech_seconds": round(speech_s, 3),
            "n_segments": len(segments),
            "normalisation": {"population": "population", "recording": "absolute + per-recording z-score",
                              "speaker": "per-recording z-score only (speaker-normalised)"}[variant],
            "classifier": variant,
            "speaker_gate": gate,
            "arousal_prosody": (sum(r * d for r, d in known) / sum(d for _, d in known)) if known else None,
            "arousal_source": "prosody rule (heuristic, see emoreason.perception.voice.cues)",
            "license_note": "voice model trained on RAVDESS: non-commercial use only (CC BY-NC-SA 4.0)",
            "level_gain_db": None if self.classifier.level_db is None else [round(float(g), 2) for g in feats.gains],
            "timing_s": timing,
        }
        return ModalityOutput(
            modality="voice", usable=True, scores=scores, timeline=timeline,
            evidence=voice_evidence(rows, speaker_relative),
            reliability=min(1.0, speech_s / FULL_RELIABILITY_SPEECH_S), details=details,
            series={"prosody": table},
            models={"voice": self.classifier.name, "vad": "silero VAD v6 (faster-whisper)",
                    "voice_encoder": f"Whisper tiny.en encoder ({self.embedder.mode}, pooled outputs "
                                     f"{list(self.embedder.layers)}, frames from {self.embedder.frame_layer})"},
        )

    def _prosody_z(self, prosody: np.ndarray, speaker_relative: bool) -> np.ndarray:
        """Prosody z-scores within the recording, or against the training voices."""
        n = len(COLUMNS)
        mean = self.classifier.tensors["population.feature_mean"][-n:]
        std = self.classifier.tensors["population.feature_std"][-n:]
        if not speaker_relative:
            return (prosody - mean) / std  # NaN stays NaN: no cue from what was not measured
        measured = ~np.isnan(prosody)
        count = measured.sum(axis=0)
        col_mean = np.where(count > 0, np.where(measured, prosody, 0.0).sum(axis=0) / np.maximum(count, 1), mean)
        filled = np.where(measured, prosody, col_mean)
        sd = filled.std(axis=0)
        z = np.where(sd > 1e-9, (filled - filled.mean(axis=0)) / np.where(sd > 1e-9, sd, 1.0), 0.0)
        return np.where(measured, z, np.nan)


@dataclass
class _Features:
    """One recording's (or clip's) segments as the classifier and the cues read them."""

    table: Any  # the prosody DataFrame, one row per segment
    prosody: np.ndarray  # as recorded
    levelled: np.ndarray  # energy_mean_db shifted by the level gain
    views: list[np.ndarray]  # features per test view (speeds), segments x dim
    frame_probs: np.ndarray | None
    gains: np.ndarray


def _stopwatch(timing: dict[str, float]):
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        timing[name] = round(timing.get(name, 0.0) + now - clock[0], 4)
        clock[0] = now
    return lap


def _no_speech(audio: AudioSource) -> ModalityOutput:
    return ModalityOutput.unusable("voice", f"no speech detected in {audio.duration:.1f} s of audio",
                                   speech_seconds=0.0, n_segments=0)


def _clean_segments(speech: list[tuple[float, float]], audio: AudioSource) -> list[tuple[float, float]]:
    """Caller-given segments clipped to the recording, empty or reversed ones dropped, and those longer
    than the VAD's maximum (10 s) split as the VAD splits its own."""
    out: list[tuple[float, float]] = []
    for a, b in speech:
        a, b = max(0.0, float(a)), min(float(audio.duration), float(b))
        if math.isfinite(a) and math.isfinite(b) and b - a > 0.05:
            out.extend(split_long(audio, a, b, MAX_SEGMENT))
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    """``python -m emoreason.perception.voice.analyzer FILE.wav``: the voice stage alone, with its timing."""
    import sys

    import soundfile as sf

    from emoreason.io.audio import ArrayAudio

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m emoreason.perception.voice.analyzer AUDIO_FILE (wav, flac, ogg)", file=sys.stderr)
        return 2
    samples, sr = sf.read(args[0], dtype="float32", always_2d=False)
    audio = ArrayAudio(samples, sr)
    analyzer = VoiceAnalyzer()
    start = time.perf_counter()
    out = analyzer.analyze(audio)
    took = time.perf_counter() - start
    if not out.usable:
        print(f"voice not usable: {out.reason}")
    else:
        top = sorted(out.scores.items(), key=lambda kv: -kv[1])[:3]
        print(f"voice: {', '.join(f'{k} {v:.2f}' for k, v in top)}  ({out.details['n_segments']} segments, "
              f"{out.details['speech_seconds']:.1f} s speech, {out.details['normalisation']})")
        for ev in out.evidence:
            print(f"  {ev.start:6.2f}-{ev.end:6.2f} s  {ev.description}" + (f" -> {ev.supports}" if ev.supports else ""))
    print(f"{audio.duration:.1f} s of audio in {took:.2f} s: real-time factor {took / audio.duration:.3f} "
          f"(stages: {out.details.get('timing_s', {})})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
