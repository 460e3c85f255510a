"""``analyze``: from a media file, an image, a waveform or text to a :class:`Result`."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from emoreason import __version__
from emoreason.errors import ConfigError, TooShortError
from emoreason.explain import explain, explain_with_llm
from emoreason.fusion import FusionConfig, fuse
from emoreason.io.audio import ArrayAudio, AudioSource, WavFileAudio
from emoreason.labels import CANONICAL, get_label_map, valence_arousal_from_scores
from emoreason.perception.base import ModalityOutput
from emoreason.result import Evidence, ModalitySummary, Result

log = logging.getLogger(__name__)

MODALITIES = ("face", "voice", "text")
MIN_DURATION = 0.5  # seconds of media needed to say anything


@dataclass
class Perception:
    """Everything the perception stages produced for one input, before fusion."""

    input: str
    kind: str  # video, audio, image, waveform, text
    duration: float | None
    outputs: dict[str, ModalityOutput] = field(default_factory=dict)
    transcript: str = ""
    spoken: list[tuple[str, float, float]] = field(default_factory=list)  # (words, start, end), timed
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def parse_modalities(modalities: Iterable[str] | str | None) -> tuple[str, ...]:
    if modalities is None:
        return MODALITIES
    if isinstance(modalities, str):
        modalities = [m for m in modalities.split(",") if m.strip()]
    chosen = []
    for m in modalities:
        m = m.strip().lower()
        m = {"audio": "voice", "words": "text", "video": "face"}.get(m, m)
        if m == "all":
            return MODALITIES
        if m not in MODALITIES:
            raise ConfigError(f"unknown modality {m!r}; choose from face, voice, text (or all)")
        if m not in chosen:
            chosen.append(m)
    if not chosen:
        raise ConfigError("no modality selected")
    return tuple(chosen)


@lru_cache(maxsize=2)
def _voice_analyzer(model_dir: str | None, speaker_normalisation: str = "auto"):
    from emoreason.perception.voice.analyzer import VoiceAnalyzer

    return VoiceAnalyzer(model_dir=model_dir, speaker_normalisation=speaker_normalisation)


@lru_cache(maxsize=2)
def _text_analyzer(model_dir: str | None):
    from emoreason.perception.text.analyzer import TextAnalyzer

    return TextAnalyzer(model_dir=model_dir)


def run_perception(
    source: Any = None,
    *,
    text: str | None = None,
    transcript_path: str | Path | None = None,
    sample_rate: int | None = None,
    modalities: Iterable[str] | str | None = None,
    fps: float = 5.0,
    progress: bool = False,
    whisper_dir: str | None = None,
    context: Sequence[str] | None = None,
    speaker_normalisation: str = "auto",
    face_model: str | None = None,
) -> Perception:
    """Run the requested perception stages on one input; unusable modalities are kept with a reason.
    ``context``: utterances said before this input (a dialogue), oldest first, read by the text model.
    ``speaker_normalisation``: the voice model's speaker path -- "auto" (its gate decides), "always", "never".
    ``face_model``: the face stage's expression model -- None or "default" (the shipped choice), "fer",
    "facex", "pool" or "head"."""
    from emoreason.perception.face.analyzer import check_face_model
    from emoreason.perception.voice.analyzer import check_speaker_normalisation

    wanted = parse_modalities(modalities)
    check_speaker_normalisation(speaker_normalisation)
    face_model = check_face_model(face_model)
    if fps <= 0 or fps > 60:
        raise ConfigError(f"fps must be in (0, 60], got {fps}")
    if source is None:
        if text is None:
            raise ConfigError("give a media file, an image, a waveform or text")
        p = Perception(input="<text>", kind="text", duration=None)
        _run_text(p, wanted, None, None, text, None, whisper_dir, context)
        return p
    if isinstance(source, np.ndarray):
        if source.ndim == 3 and source.shape[-1] in (3, 4):
            p = Perception(input="<image>", kind="image", duration=None)
            _run_image(p, wanted, source[..., :3].astype(np.uint8), face_model)
            _run_text(p, wanted, None, None, text, None, whisper_dir, context)
            return p
        if source.ndim in (1, 2):
            if not sample_rate:
                raise ConfigError("a waveform needs its sample_rate")
            audio = ArrayAudio(source, sample_rate)
            p = Perception(input="<waveform>", kind="waveform", duration=audio.duration)
            _check_duration(p.input, audio.duration)
            speech = _run_voice(p, wanted, audio, speaker_normalisation)
            _run_text(p, wanted, audio, speech, text, None, whisper_dir, context)
            return p
        raise ConfigError(f"cannot analyse an array of shape {source.shape}: expected HxWx3 image or a waveform")
    return _run_file(Path(source), wanted, text, transcript_path, fps, progress, whisper_dir, context,
                     speaker_normalisation, face_model)


def _check_duration(name: str, duration: float | None) -> None:
    if duration is not None and duration < MIN_DURATION:
        raise TooShortError(f"{name}: {duration:.2f} s of media is too short (at least {MIN_DURATION} s needed)")


def _run_file(path: Path, wanted, text, transcript_path, fps, progress, whisper_dir, context=None,
              speaker_normalisation: str = "auto", face_model: str | None = None) -> Perception:
    from emoreason.io.media import decode, load_image, probe

    info = probe(path)
    p = Perception(input=str(path), kind=info.kind, duration=info.duration)
    if info.kind == "image":
        _run_image(p, wanted, load_image(path), face_model)
        _run_text(p, wanted, None, None, text, transcript_path, whisper_dir, context)
        return p
    _check_duration(str(path), info.duration)
    face = None
    if "face" in wanted and info.has_video:
        from emoreason.perception.face.analyzer import FaceAnalyzer

        face = FaceAnalyzer(fps=fps, face_model=face_model)
    elif "face" in wanted:
        p.outputs["face"] = ModalityOutput.unusable("face", "the file has no video track")
    need_audio = bool({"voice", "text"} & set(wanted)) and info.has_audio
    if not info.has_audio:
        for m in ("voice", "text"):
            if m in wanted and not (m == "text" and (text or transcript_path)):
                p.outputs[m] = ModalityOutput.unusable(m, "the file has no audio track")
    face_time = 0.0

    def on_frame(t: float, rgb: np.ndarray) -> None:
        nonlocal face_time
        t0 = time.perf_counter()
        face.add_frame(t, rgb)  # type: ignore[union-attr]
        face_time += time.perf_counter() - t0

    bar = _progress_bar(progress, info.duration, path.name)
    with tempfile.TemporaryDirectory(prefix="emoreason-") as tmp:
        wav = Path(tmp) / "audio.wav"
        t0 = time.perf_counter()
        stats = decode(path, fps=fps, on_frame=on_frame if face else None,
                       audio_path=wav if need_audio else None,
                       progress=(lambda t: bar.update(t - bar.n)) if bar else None)
        if bar:
            bar.close()
        p.timings["decode"] = time.perf_counter() - t0 - face_time
        p.notes.extend(stats.notes)
        if face is not None:
            t0 = time.perf_counter()
            p.outputs["face"] = face.finish()
            p.timings["face"] = face_time + time.perf_counter() - t0
        if p.duration is None:
            p.duration = max(stats.video_seconds, stats.audio_seconds) or None
        audio = WavFileAudio(wav) if need_audio and wav.exists() and stats.audio_seconds > 0 else None
        if need_audio and audio is None:
            for m in ("voice", "text"):
                if m in wanted and m not in p.outputs and not (m == "text" and (text or transcript_path)):
                    p.outputs[m] = ModalityOutput.unusable(m, "the audio track holds no sound")
        speech = _run_voice(p, wanted, audio, speaker_normalisation) if audio is not None else None
        sidecar = transcript_path
        if sidecar is None and text is None:
            from emoreason.perception.text.transcript import find_sidecar_transcript

            sidecar = find_sidecar_transcript(path)
        _run_text(p, wanted, audio, speech, text, sidecar, whisper_dir, context)
    return p


def _run_image(p: Perception, wanted, rgb: np.ndarray, face_model: str | None = None) -> None:
    if "face" not in wanted:
        return
    from emoreason.perception.face.analyzer import analyze_face_image

    t0 = time.perf_counter()
    p.outputs["face"] = analyze_face_image(rgb, face_model=face_model)
    p.timings["face"] = time.perf_counter() - t0


def _run_voice(p: Perception, wanted, audio: AudioSource,
               speaker_normalisation: str = "auto") -> list[tuple[float, float]] | None:
    if not ({"voice", "text"} & set(wanted)):
        return None
    from emoreason.perception.speech.vad import detect_speech

    t0 = time.perf_counter()
    speech = detect_speech(audio)
    p.timings["vad"] = time.perf_counter() - t0
    if "voice" in wanted:
        t0 = time.perf_counter()
        p.outputs["voice"] = _voice_analyzer(None, speaker_normalisation).analyze(audio, speech)
        p.timings["voice"] = time.perf_counter() - t0
    return speech


def _run_text(p: Perception, wanted, audio, speech, text, transcript_path, whisper_dir, context=None) -> None:
    if "text" not in wanted or "text" in p.outputs:
        return
    from emoreason.perception.text.transcript import Transcript, TranscriptSegment, read_transcript

    transcript = None
    if text is not None:
        if not text.strip():
            p.outputs["text"] = ModalityOutput.unusable("text", "the given text is empty")
            return
        end = p.duration or 0.0
        transcript = Transcript(segments=[TranscriptSegment(0.0, end, text.strip(), [], 1.0)], source="user")
    elif transcript_path is not None:
        transcript = read_transcript(transcript_path, duration=p.duration)
    elif audio is not None:
        if speech is not None and not speech:
            p.outputs["text"] = ModalityOutput.unusable("text", "no speech to transcribe")
            return
        from emoreason.perception.speech.asr import transcribe

        t0 = time.perf_counter()
        transcript = transcribe(audio, speech, model_dir=whisper_dir)
        p.timings["asr"] = time.perf_counter() - t0
    else:
        return
    p.transcript = transcript.text
    if getattr(transcript, "timed", True) and p.kind not in ("text", "image"):
        for seg in transcript.segments:
            if seg.words:
                p.spoken.extend((w.text.strip(), w.start, w.end) for w in seg.words)
            else:
                p.spoken.append((seg.text, seg.start, seg.end))
    t0 = time.perf_counter()
    p.outputs["text"] = _text_analyzer(None).analyze(transcript, context=list(context) if context else None)
    p.timings["text"] = time.perf_counter() - t0


def _progress_bar(enabled: bool, total: float | None, name: str):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=round(total or 0, 1) or None, desc=f"decoding {name}", unit="s",
                bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s [{elapsed}<{remaining}]")


def analyze(
    source: Any = None,
    *,
    text: str | None = None,
    transcript: str | Path | None = None,
    sample_rate: int | None = None,
    modalities: Iterable[str] | str | None = None,
    labels: str = "canonical",
    fps: float = 5.0,
    model: str | Path | None = None,
    progress: bool = False,
    explain_endpoint: str | None = None,
    explain_model: str = "default",
    asr_model: str | Path | None = None,
    context: Sequence[str] | None = None,
    speaker_normalisation: str = "auto",
    face_model: str | None = None,
) -> Result:
    """Recognise the emotion in ``source`` and explain it.

    ``source``: a path to a video, audio or image file; an HxWx3 uint8 RGB image; a waveform (with
    ``sample_rate``); or None with ``text``. ``text`` (or a ``transcript`` .txt/.srt/.vtt file, or one
    beside the media) replaces speech-to-text. ``modalities`` restricts the modalities used
    ("face,voice" or a list). ``labels`` names the taxonomy of the output (see
    :data:`emoreason.labels.LABEL_MAPS`). ``model`` is a multimodal-LLM checkpoint directory to use
    instead of the default pipeline. ``explain_endpoint`` is an OpenAI-compatible server URL whose LLM
    rewrites the explanation from the evidence. ``asr_model`` is a local CTranslate2 Whisper model
    directory to use for speech-to-text instead of the shipped Whisper tiny.en. ``context``: what was
    said before (earlier utterances of a dialogue, oldest first); the text model reads the last three.
    ``speaker_normalisation``: "auto" lets the voice model z-score a recording within itself when it has
    many segments spread over many emotions (its gate); "always" forces that for recordings of 3 or more
    segments (right when they span several emotions, wrong for a recording in one mood), "never" turns it off.
    ``face_model``: the face stage's expression model -- "default" (the shipped fer+facex pool), "fer", "facex",
    "pool" or "head" (to compare with the peers); fusion keeps the face temperature and prior fitted for the
    default, so another choice is fused with the default's calibration.
    """
    label_map = get_label_map(labels)
    if model is not None:
        from emoreason.emollm.infer import analyze_with_llm

        if face_model not in (None, "default"):
            raise ConfigError("face_model chooses the default pipeline's face model; an MLLM checkpoint "
                              "(model=...) has its own face encoders")

        return analyze_with_llm(source, model_path=model, text=text, label_set=label_map.name)
    t_start = time.perf_counter()
    p = run_perception(source, text=text, transcript_path=transcript, sample_rate=sample_rate,
                       modalities=modalities, fps=fps, progress=progress,
                       whisper_dir=str(asr_model) if asr_model is not None else None, context=context,
                       speaker_normalisation=speaker_normalisation, face_model=face_model)
    result = build_result(p)
    if explain_endpoint:
        try:
            result.explanation = explain_with_llm(explain_endpoint, explain_model, result.label, result.scores,
                                                  result.evidence, result.transcript)
            result.provenance["explanation"] = f"LLM {explain_model} at {explain_endpoint}"
        except RuntimeError as exc:
            result.notes.append(f"LLM explanation not used: {exc}; the template explanation is given instead")
    result.provenance["timings"]["total"] = time.perf_counter() - t_start
    if label_map.name != "canonical":
        relabel(result, label_map.name)
    return result


def build_result(p: Perception, config: FusionConfig | None = None) -> Result:
    config = config or FusionConfig.default()
    fused = fuse(p.outputs, p.duration, config)
    label = max(fused.scores, key=fused.scores.get)
    evidence: list[Evidence] = []
    modalities: dict[str, ModalitySummary] = {}
    models: dict[str, str] = {}
    for m, out in p.outputs.items():
        models.update(out.models)
        if m in fused.shares:
            own = list(out.evidence)
            raw = [max(e.weight, 0.0) for e in own]
            total = sum(raw)
            for e, w in zip(own, raw):  # a cue's share of the decision: its modality's share, split
                e.weight = fused.shares[m] * (w / total if total > 0 else 1 / len(own))
            evidence.extend(own)
            modalities[m] = ModalitySummary(used=True, label=max(out.scores, key=out.scores.get),
                                            scores=dict(out.scores), weight=fused.shares[m], details=out.details)
        else:
            evidence.append(Evidence(modality=m, name="dropped", value=0.0, description=out.reason or "not usable"))
            modalities[m] = ModalitySummary(used=False, reason=out.reason, details=out.details)
    dropped = {m: o.reason or "not usable" for m, o in p.outputs.items() if m not in fused.shares}
    if p.spoken:  # each timeline segment holds the words whose middle falls inside it
        for seg in fused.segments:
            seg.text = " ".join(w for w, a, b in p.spoken if seg.start <= (a + b) / 2 < seg.end
                                or (seg is fused.segments[-1] and (a + b) / 2 >= seg.end)).strip()
    if p.kind in ("image", "text"):  # a still input has no timeline: cues carry no times
        for e in evidence:
            e.start = e.end = None
    valence, arousal = valence_arousal_from_scores(fused.scores)
    evidence.sort(key=lambda e: (e.start if e.start is not None else 1e9, -e.weight))
    return Result(
        input=p.input,
        duration=p.duration,
        label=label,
        scores={lab: fused.scores[lab] for lab in CANONICAL},
        valence=valence,
        arousal=arousal,
        modalities=modalities,
        segments=fused.segments,
        evidence=evidence,
        explanation=explain(label, fused.scores, evidence, fused.shares, dropped),
        transcript=p.transcript,
        notes=list(p.notes),
        provenance={
            "version": __version__,
            "kind": p.kind,
            "models": models,
            "fusion": config.note or "priors and temperatures from fusion.json",
            "valence_arousal": "derived from the category scores with a circumplex rule of thumb "
                               "(emoreason.labels.VALENCE_AROUSAL), not predicted by a model",
            "timings": dict(p.timings),
            "seed": 0,
        },
    )


def relabel(result: Result, label_set: str) -> Result:
    """Rewrite a canonical result's scores and labels into another taxonomy (in place)."""
    lm = get_label_map(label_set)
    result.scores = lm.convert_scores(result.scores)
    result.label = max(result.scores, key=result.scores.get)
    for seg in result.segments:
        seg.scores = lm.convert_scores(seg.scores)
        seg.label = max(seg.scores, key=seg.scores.get)
    for mod in result.modalities.values():
        if mod.used and mod.scores:
            mod.scores = lm.convert_scores(mod.scores)
            mod.label = max(mod.scores, key=mod.scores.get)
    for e in result.evidence:
        if e.supports:
            e.supports = lm.from_canonical.get(e.supports) or e.supports
    result.label_set = lm.name
    if lm.note:
        result.notes.append(f"labels in the {lm.name} set: {lm.note}")
    return result
