"""Several clips of one speaker, perceived together: :func:`perceive_clips` (``emoreason.analyze_clips``).

A corpus' clips of one actor, or the turns of one caller, are short: one clip alone gives the voice model
a single utterance, so it must compare that voice with the training voices (the "population" path). Read
together, the clips form one recording of that voice, and the voice model can normalise within it -- the
speaker normalisation of the field's protocols, which on RAVDESS's unseen actors gives a UAR of 0.85 over
each actor's 60 clips against 0.78 clip by clip (docs/model_cards/voice.md). Face and words are still read
clip by clip; only the voice stage is joint. The speaker gate decides, as for one long recording, whether
the clips span enough emotions for the speaker path (``speaker_normalisation``). Each clip is decoded once:
the sound decoded while its other modalities are perceived is kept (with the speech the voice activity
detector found in it, when the words' stage ran it) for the joint voice stage.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from emoreason.errors import ConfigError
from emoreason.io.audio import ArrayAudio, WavFileAudio
from emoreason.io.cleanup import temporary_directory
from emoreason.io.media import decode, probe
from emoreason.perception.base import ModalityOutput
from emoreason.pipeline.options import AnalyzeOptions
from emoreason.pipeline.perceive import Perception, Pipeline, check_duration


def perceive_clips(pipeline: Pipeline, sources: Sequence[str | Path], options: AnalyzeOptions,
                   texts: Sequence[str | None] | None = None) -> list[Perception]:
    """One Perception per clip, in order, with the voice of all ``sources`` (media files of **one**
    speaker) analysed as one recording
    (:meth:`emoreason.perception.voice.analyzer.VoiceAnalyzer.analyze_clips`); the other modalities are
    perceived clip by clip. ``texts``, one per clip (or None), replace speech-to-text for those clips."""
    if texts is not None and len(texts) != len(sources):
        raise ConfigError(f"texts has {len(texts)} entries for {len(sources)} clips")
    others = tuple(m for m in options.modalities if m != "voice")
    voice = "voice" in options.modalities
    perceptions: list[Perception] = []
    for k, source in enumerate(sources):
        path = Path(source)
        if others:
            text = texts[k] if texts is not None else None
            # one decoding per clip: its sound is kept for the joint voice stage below
            p = pipeline.perceive(path, replace(options, modalities=others, text=text), keep_audio=voice)
        else:
            info = probe(path)
            check_duration(str(path), info.duration)
            p = Perception(input=str(path), kind=info.kind, duration=info.duration)
        perceptions.append(p)
    if voice:
        _joint_voice(pipeline, perceptions, options.speaker_normalisation, decoded=bool(others))
    return perceptions


def _joint_voice(pipeline: Pipeline, perceptions: list[Perception], speaker_normalisation: str,
                 decoded: bool) -> None:
    """Every clip's voice output, from one reading of all the clips that have sound. ``decoded``: the
    clips' sound is in ``Perception.audio`` already (None: it has none), with the speech VAD found in
    ``Perception.speech`` when the words' stage looked."""
    t0 = time.perf_counter()
    audios, speech, where = [], [], []
    for i, p in enumerate(perceptions):
        if decoded:
            audio, reason = p.audio, _why_no_audio(p)
        else:
            audio, reason = clip_audio(Path(p.input))
        p.audio = None  # not kept beyond this stage
        if audio is None:
            p.outputs["voice"] = ModalityOutput.unusable("voice", reason)
        else:
            audios.append(audio)
            speech.append(p.speech)
            where.append(i)
    analyzer = pipeline.voice_analyzer(speaker_normalisation)
    outs = analyzer.analyze_clips(audios, speech=speech) if audios else []
    share = (time.perf_counter() - t0) / max(1, len(audios))
    for i, out in zip(where, outs):
        perceptions[i].outputs["voice"] = out
        perceptions[i].timings["voice"] = share
        perceptions[i].notes.append(f"voice read together with {len(audios) - 1} other clip(s) of the same "
                                    "speaker (analyze_clips)")


def _why_no_audio(p: Perception) -> str:
    """Why a clip perceived with ``keep_audio`` has no sound."""
    if p.kind != "image" and probe(Path(p.input)).has_audio:
        return "the audio track holds no sound"
    return "the file has no audio track"


def clip_audio(path: Path) -> tuple[ArrayAudio | None, str]:
    """The clip's audio in memory (16 kHz mono), or None and why not."""
    if not probe(path).has_audio:
        return None, "the file has no audio track"
    with temporary_directory() as tmp:
        wav = Path(tmp) / "audio.wav"
        stats = decode(path, audio_path=wav)
        if stats.audio_seconds <= 0 or not wav.exists():
            return None, "the audio track holds no sound"
        return ArrayAudio(WavFileAudio(wav).read()), ""
