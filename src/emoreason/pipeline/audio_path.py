"""The audio path's stages, for :class:`~emoreason.pipeline.perceive.Pipeline`: voice activity, the voice
model, the words (given text, a transcript file, or speech-to-text, then the text model) and, with
``people``, the voices.

:func:`run_audio_path` runs voice activity once on the sound; then the voice model in a thread of its own
(:class:`~emoreason.pipeline.concurrent.Background`) beside the words, which need only the speech found;
with ``people``, the voices last. The outputs and timings are put back in the serial order (voice before
text), so fusion adds them in the same order. :func:`text_stage` is also the whole of a text or an image's
words. Each stage takes the pipeline whose loaded analyzers it uses.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING

from emoreason.io.audio import AudioSource
from emoreason.io.guard import check_cancelled
from emoreason.perception.base import ModalityOutput
from emoreason.perception.speech.asr import NOT_ENGLISH_NOTE, transcribe
from emoreason.perception.speech.vad import detect_speech
from emoreason.perception.text.transcript import Transcript, TranscriptSegment, cap_text, read_transcript
from emoreason.pipeline.concurrent import Background
from emoreason.pipeline.options import AnalyzeOptions
from emoreason.pipeline.people_stages import perceive_voices
from emoreason.pipeline.perception import Perception, Speech

if TYPE_CHECKING:
    from emoreason.pipeline.perceive import Pipeline


def run_audio_path(pipeline: Pipeline, p: Perception, options: AnalyzeOptions, audio: AudioSource | None,
                   sidecar: str | Path | None) -> None:
    """Voice activity once on ``audio`` (when there is sound); then the voice model in its own thread
    (:class:`~emoreason.pipeline.concurrent.Background`) beside the words (speech-to-text, then the
    text model), which need only the speech found; with ``people``, the voices last. The outputs
    and timings keep the serial order (voice before text), so fusion adds them in the same order."""
    speech = _vad_stage(p, options, audio) if audio is not None else None
    p.speech = speech
    voice = None
    if speech is not None and "voice" in options.modalities:
        voice = Background(lambda: _voice_stage(pipeline, options, audio, speech), name="emoreason-voice")
    try:
        text_stage(pipeline, p, options, audio, speech, sidecar)
    except BaseException:
        if voice is not None:
            with contextlib.suppress(BaseException):  # the temporary WAV outlives its reader
                voice.result()
        raise
    if voice is not None:
        p.outputs["voice"], p.timings["voice"] = voice.result()
        _move_to_end(p.outputs, ("text",))
        _move_to_end(p.timings, ("asr", "text"))
    if audio is not None:
        _voices_stage(pipeline, p, options, audio, speech)


def _voices_stage(pipeline: Pipeline, p: Perception, options: AnalyzeOptions, audio: AudioSource,
                  speech: Speech | None) -> None:
    """With ``people``: the voices diarised and each analysed (after the clip's voice and words)."""
    if not options.people:
        return
    check_cancelled()
    t0 = time.perf_counter()
    p.people_voices = perceive_voices(pipeline, p.outputs, options, audio, speech, p.words)
    p.timings["people_voices"] = time.perf_counter() - t0


def _vad_stage(p: Perception, options: AnalyzeOptions, audio: AudioSource) -> Speech | None:
    """Voice activity (wanted by the voice and text stages): the speech found, or None when neither
    stage runs."""
    if not ({"voice", "text"} & set(options.modalities)):
        return None
    check_cancelled()  # between stages: a caller that gave up (emoreason.io.guard) stops here
    t0 = time.perf_counter()
    speech = detect_speech(audio)
    p.timings["vad"] = time.perf_counter() - t0
    return speech


def _voice_stage(pipeline: Pipeline, options: AnalyzeOptions, audio: AudioSource, speech: Speech
                 ) -> tuple[ModalityOutput, float]:
    """The voice model on the speech found: its output and the seconds it took."""
    check_cancelled()
    t0 = time.perf_counter()
    out = pipeline.voice_analyzer(options.speaker_normalisation).analyze(audio, speech)
    return out, time.perf_counter() - t0


def text_stage(pipeline: Pipeline, p: Perception, options: AnalyzeOptions, audio: AudioSource | None = None,
               speech: Speech | None = None, transcript_path: str | Path | None = None) -> None:
    """The words from ``options.text``, else the transcript file, else speech-to-text; then the text
    model (with ``options.context``)."""
    if "text" not in options.modalities or "text" in p.outputs:
        return
    check_cancelled()
    text = options.text
    if text is not None:
        if not text.strip():
            p.outputs["text"] = ModalityOutput.unusable("text", "the given text is empty")
            return
        text, cut = cap_text(text)  # the server's limit: longer text costs minutes for nothing
        if cut:
            p.notes.append(cut)
        end = p.duration or 0.0
        transcript = Transcript(segments=[TranscriptSegment(0.0, end, text.strip(), [], 1.0)],
                                source="user")
    elif transcript_path is not None:
        transcript = read_transcript(transcript_path, duration=p.duration)
    elif audio is not None:
        if speech is not None and not speech:
            p.outputs["text"] = ModalityOutput.unusable("text", "no speech to transcribe")
            return
        t0 = time.perf_counter()
        transcript = transcribe(audio, speech, model_dir=options.whisper_dir, language=options.language)
        p.timings["asr"] = time.perf_counter() - t0
        p.words = transcript
        p.language, p.language_probability = transcript.language, transcript.language_probability
        if NOT_ENGLISH_NOTE in transcript.notes:
            # invented English carries no emotion of the speaker's: the words are shown, not used
            p.transcript = transcript.text
            p.notes.append(NOT_ENGLISH_NOTE)
            p.outputs["text"] = ModalityOutput.unusable(
                "text", f"{NOT_ENGLISH_NOTE}; give the words with text= or a transcript file to use them",
                transcript=transcript.text, transcript_source=transcript.source,
                notes=list(transcript.notes))
            return
    else:
        return
    if transcript.language is None and options.language is not None:
        transcript.language = options.language  # given words in the language the caller named
    p.transcript = transcript.text
    p.words = transcript
    if getattr(transcript, "timed", True) and p.kind not in ("text", "image"):
        for seg in transcript.segments:
            if seg.words:
                p.spoken.extend((w.text.strip(), w.start, w.end) for w in seg.words)
            else:
                p.spoken.append((seg.text, seg.start, seg.end))
    t0 = time.perf_counter()
    context = list(options.context) if options.context else None
    p.outputs["text"] = pipeline.text_analyzer().analyze(transcript, context=context)
    p.timings["text"] = time.perf_counter() - t0
    # read after the text analyzer: for given text it may set the transcript's language from the words
    p.language, p.language_probability = transcript.language, transcript.language_probability


def _move_to_end(d: dict, keys: tuple[str, ...]) -> None:
    """``keys`` of ``d`` (those present) moved to its end, in this order."""
    for k in keys:
        if k in d:
            d[k] = d.pop(k)
