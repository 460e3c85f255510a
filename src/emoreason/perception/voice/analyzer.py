"""The voice stage: one recording (or one speaker's clips) -> voice-emotion scores, prosody and cues.

For each speech segment (silero VAD, :mod:`emoreason.perception.speech.vad`, unless the caller gives the
segments; longer than 10 s ones are split as the VAD splits its own):

1. prosody (:mod:`.prosody`), as recorded;
2. the segment scaled to the model's active speech level (``level_db`` in its config,
   :func:`.embedding.level_gain_db`), so a microphone's gain does not move the emotion;
   ``details["level_gain_db"]`` lists the gains;
3. the segment and its test-time speed views (``tta_speeds``: each played faster and slower, as the model
   was trained with those augmentations) through the Whisper encoder the model names (tiny.en or the
   multilingual base, :func:`.embedding.encoder_dir`; :mod:`.embedding`): the
   pooled states of the config's layers, the log-mel functionals, and the frame network's probabilities
   from one layer's states (:mod:`.frames`);
4. a feature row per view: [encoder | log-mel | prosody, with ``energy_mean_db`` levelled]; the
   :class:`~emoreason.perception.voice.classifier.VoiceClassifier` averages the views' probabilities and
   picks the population, recording or speaker classifier (normalisation within the recording, speaker
   gate: see :mod:`.classifier`).

Segment probabilities, mapped to the canonical labels, are pooled over the recording weighted by segment
duration. Cues (:mod:`.cues`) are described from prosody z-scores: within the recording (the level as
recorded: within one recording, louder is real) when the recording or speaker classifier was used,
otherwise against the training voices (the levelled values: only those are comparable).

Clips of one speaker (:meth:`VoiceAnalyzer.analyze_clips`; ``emoreason.analyze_clips``): each clip is read
as one utterance, from its first to its last speech, as the model was trained, and all the clips'
utterances are normalised and gated together as one recording; each clip gets its own output
(``details["speaker_group"]``).

``reliability`` = min(1, speech seconds / 2) -- a heuristic: less than two seconds of speech gives the
voice a proportionally smaller say in fusion. ``details["arousal_prosody"]`` is the prosody arousal
rule of :mod:`.cues` (a heuristic, not the model), duration-weighted over segments.

The model is trained on RAVDESS: NON-COMMERCIAL, CC BY-NC-SA 4.0 (docs/model_cards/voice.md).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from emoreason.errors import ModelError
from emoreason.io.audio import ArrayAudio, AudioSource
from emoreason.io.guard import check_cancelled
from emoreason.labels import CANONICAL
from emoreason.perception.base import ModalityOutput, TimedScores
from emoreason.perception.speech.vad import MAX_SEGMENT, detect_speech, split_long
from emoreason.perception.voice.classifier import (
    SPEAKER_NORMALISATION,
    VoiceClassifier,
    check_speaker_normalisation,
    default_model_dir,
    effective_classes,
    speaker_gate_opens,
)
from emoreason.perception.voice.cues import arousal_rule, voice_evidence
from emoreason.perception.voice.embedding import (
    WhisperVoiceEmbedder,
    apply_gain_db,
    change_speed,
    encoder_dir,
    level_gain_db,
)
from emoreason.perception.voice.prosody import COLUMNS, analyze_prosody

# the classifier's names, importable from here as before the classifier had its own module
__all__ = ["FULL_RELIABILITY_SPEECH_S", "SPEAKER_NORMALISATION", "VoiceAnalyzer", "VoiceClassifier",
           "check_speaker_normalisation", "default_model_dir", "effective_classes", "main",
           "speaker_gate_opens"]

FULL_RELIABILITY_SPEECH_S = 2.0


class VoiceAnalyzer:
    """Voice emotion for one recording: ``VoiceAnalyzer().analyze(audio)`` -> ModalityOutput("voice")."""

    def __init__(self, model_dir: str | Path | None = None, whisper_dir: str | Path | None = None,
                 speaker_normalisation: str = "auto"):
        self.classifier = VoiceClassifier(model_dir, speaker_normalisation=speaker_normalisation)
        c, cfg = self.classifier, self.classifier.config
        whisper_dir = encoder_dir(cfg.whisper_encoder) if whisper_dir is None else whisper_dir
        self.embedder = WhisperVoiceEmbedder(whisper_dir, mode=cfg.whisper_mode, with_mel=cfg.with_mel,
                                             layers=cfg.whisper_layers, frame_layer=cfg.frame_layer)
        if c.uses_frames and cfg.whisper_mode != "exact":
            raise ModelError(f"the voice model in {c.dir} has a frame network but asks for the "
                             f"{cfg.whisper_mode!r} mode: frame states exist only in the 'exact' mode")
        if self.embedder.dim + len(COLUMNS) != c.dim:
            raise ModelError(f"the voice model in {c.dir} expects {c.dim} features, but its config's Whisper "
                             f"layers {cfg.whisper_layers} on this encoder give "
                             f"{self.embedder.dim + len(COLUMNS)}")

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

    def analyze_clips(self, audios: list[AudioSource],
                      speech: list[list[tuple[float, float]] | None] | None = None) -> list[ModalityOutput]:
        """Several clips of **one speaker** (a corpus' clips of one actor, the turns of one caller), read as
        one recording: each clip is one utterance, from its first to its last speech (as the model was
        trained; over 10 s it is split as the VAD splits), and the recording's normalisation and speaker gate
        see all the clips' utterances together. One output per clip, in order; a clip without speech gets
        an unusable output and takes no part. ``speech``: per clip, the segments
        :func:`~emoreason.perception.speech.vad.detect_speech` found in it already (None: not known)."""
        timing: dict[str, float] = {}
        lap = _stopwatch(timing)
        spans = []
        for k, audio in enumerate(audios):
            known = speech[k] if speech is not None else None
            segs = detect_speech(audio) if known is None else known
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
        speeds = [1.0, *self.classifier.config.tta_speeds]
        dim = self.embedder.dim
        # each view's rows written in place (the embedding's float32 values, exactly, then the prosody): the
        # features are held once, as float64, for the classifier
        views = [np.empty((len(segments), dim + len(COLUMNS))) for _ in speeds]
        uses_frames = self.classifier.uses_frames
        frame_probs = np.zeros((len(segments), len(self.classifier.config.classes))) if uses_frames else None
        level_db = self.classifier.config.level_db
        gains = np.zeros(len(segments))
        # one segment (its samples and encoder states) in memory at a time
        for i, (a, b) in enumerate(segments):
            check_cancelled()  # a caller that gave up (emoreason.io.guard) stops between segments
            samples = audio.read(a, b)
            if level_db is not None:
                gains[i] = level_gain_db(samples, level_db)
                samples = apply_gain_db(samples, gains[i])
            played = [change_speed(samples, s) for s in speeds]
            if not uses_frames:
                emb = self.embedder.embed(played)
            else:
                emb, seg_states = self.embedder.embed_with_states(played)
                frame_probs[i] = self.classifier.segment_frame_proba(seg_states)
            for view, row in zip(views, emb):
                view[i, :dim] = row
        lap("embedding")
        # the classifier sees the prosody of the level-normalised segment: only the mean level moves (every
        # other prosody value is relative), by exactly the gain
        levelled = prosody.copy()
        levelled[:, COLUMNS.index("energy_mean_db")] += gains
        for view in views:
            view[:, dim:] = levelled
        return _Features(table, prosody, levelled, views, frame_probs, gains)

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
            "level_gain_db": (None if self.classifier.config.level_db is None
                              else [round(float(g), 2) for g in feats.gains]),
            "timing_s": timing,
        }
        return ModalityOutput(
            modality="voice", usable=True, scores=scores, timeline=timeline,
            evidence=voice_evidence(rows, speaker_relative),
            reliability=min(1.0, speech_s / FULL_RELIABILITY_SPEECH_S), details=details,
            series={"prosody": table},
            models={"voice": self.classifier.name, "vad": "silero VAD v6 (faster-whisper)",
                    "voice_encoder": f"Whisper {self.classifier.config.whisper_encoder} encoder "
                                     f"({self.embedder.mode}, pooled outputs "
                                     f"{list(self.embedder.layers)}, "
                                     f"frames from {self.embedder.frame_layer})"},
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
        measured_sum = np.where(measured, prosody, 0.0).sum(axis=0)
        col_mean = np.where(count > 0, measured_sum / np.maximum(count, 1), mean)
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
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m emoreason.perception.voice.analyzer AUDIO_FILE (wav, flac, ogg)",
              file=sys.stderr)
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
            supports = f" -> {ev.supports}" if ev.supports else ""
            print(f"  {ev.start:6.2f}-{ev.end:6.2f} s  {ev.description}{supports}")
    print(f"{audio.duration:.1f} s of audio in {took:.2f} s: real-time factor {took / audio.duration:.3f} "
          f"(stages: {out.details.get('timing_s', {})})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
