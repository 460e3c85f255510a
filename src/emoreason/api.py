"""The Python API: :func:`analyze` (one input -> a :class:`Result`), :func:`analyze_clips` (one speaker's
clips read together), :func:`analyze_texts` (many texts, the text model batched) and
:func:`run_perception` (the perception stages alone, before fusion).

Each is a thin wrapper: it checks its options once as an
:class:`~emoreason.pipeline.options.AnalyzeOptions` and runs them through the process-wide
:func:`~emoreason.pipeline.perceive.default_pipeline`, which keeps the models loaded between calls. The
work itself is in :mod:`emoreason.pipeline`. The multimodal LLM's code (torch, transformers) is imported
inside :func:`analyze`, only when ``model=`` asks for it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from emoreason.errors import ConfigError, NoUsableModalityError
from emoreason.pipeline.clips import perceive_clips
from emoreason.pipeline.options import MODALITIES, AnalyzeOptions, parse_modalities
from emoreason.pipeline.people_result import build_people
from emoreason.pipeline.perceive import MIN_DURATION, Perception, default_pipeline
from emoreason.pipeline.result import build_result, finish_result, relabel
from emoreason.pipeline.texts import perceive_texts
from emoreason.result import Result

__all__ = ["analyze", "analyze_clips", "analyze_texts", "run_perception", "build_result", "build_people",
           "relabel", "Perception", "parse_modalities", "MODALITIES", "MIN_DURATION"]


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
    people: bool = False,
    speakers: int | None = None,
    language: str | None = None,
    reason: bool = True,
) -> Result:
    """Recognise the emotion in ``source`` and explain it.

    ``source``: a path to a video, audio or image file; an image array; a waveform array (with
    ``sample_rate``); or None with ``text``. Arrays are told apart by shape: HxWx3 (RGB), HxWx4 (alpha
    ignored) or HxWx1 is an image; 1-D is a waveform; a 2-D array is a multi-channel waveform (channels x
    samples or samples x channels) when ``sample_rate`` is given, else a grey image when both sides are at
    least 16 pixels (anything else is a ConfigError). Images may be uint8, 16-bit integers (scaled to 8
    bits) or floats in 0..1 or 0..255; waveforms float in -1..1 or integer PCM (int16 is divided by
    32768, and so on); NaN samples become 0. Each conversion is said in the result's ``notes``. An option
    of the wrong type or range is a :class:`~emoreason.errors.ConfigError` naming it. ``text`` (or a
    ``transcript`` .txt/.srt/.vtt file, or one beside the media) replaces speech-to-text. ``modalities``
    restricts the modalities used ("face,voice" or a list). ``labels`` names the taxonomy of the output (see
    :data:`emoreason.labels.LABEL_MAPS`). ``model`` is a multimodal-LLM checkpoint directory to use
    instead of the default pipeline, or ``"compact"`` (the shipped compact multimodal LLM); ``reason=False``
    (only with ``model``) skips the LLM's ``[reason]`` generation: labels and scores only, no explanation.
    ``explain_endpoint`` is an OpenAI-compatible server URL whose LLM
    rewrites the explanation from the evidence. ``asr_model`` is a local CTranslate2 Whisper model
    directory to use for speech-to-text instead of the shipped Whisper models. ``context``: what was
    said before (earlier utterances of a dialogue, oldest first); the text model reads the last three.
    ``speaker_normalisation``: "auto" lets the voice model z-score a recording within itself when it has
    many segments spread over many emotions (its gate); "always" forces that for recordings of 3 or more
    segments (right when they span several emotions, wrong for a recording in one mood), "never" turns it
    off. ``face_model``: the face stage's expression model -- "default" (the shipped fer+facex pool), "fer",
    "facex", "pool" or "head" (to compare with the peers); fusion keeps the face temperature and prior fitted
    for the default, so another choice is fused with the default's calibration. ``people``: also analyse
    each person in the input (:mod:`emoreason.pipeline.people`): the result's ``people`` lists them -- in a
    video, face tracks paired with diarised voices by mouth-voice synchrony, in audio the voices, in an
    image the faces -- each with their own label, scores, timeline, evidence and explanation, while the
    top-level fields still describe the clip as a whole, exactly as without ``people``. ``speakers``: how
    many voices to find (with ``people``; default: estimated). ``language``: the spoken
    language as a Whisper code ("de") or English name ("German"); None identifies it from the speech
    (the Result records it in ``language`` and ``language_probability``).
    """
    options = AnalyzeOptions(text=text, transcript=transcript, sample_rate=sample_rate, modalities=modalities,
                             labels=labels, fps=fps, model=model, progress=progress,
                             explain_endpoint=explain_endpoint, explain_model=explain_model,
                             asr_model=asr_model, context=context,
                             speaker_normalisation=speaker_normalisation, face_model=face_model,
                             people=people, speakers=speakers, language=language, reason=reason)
    if options.model is not None:
        from emoreason.emollm.infer import analyze_with_emollm  # torch and transformers: only for an MLLM

        return analyze_with_emollm(source, model_path=options.model, text=options.text,
                                   label_set=options.labels, context=options.context, reason=options.reason)
    started = time.perf_counter()
    p = default_pipeline().perceive(source, options)
    return finish_result(p, options, started)


def analyze_clips(
    sources: Sequence[str | Path],
    *,
    modalities: Sequence[str] | str | None = None,
    labels: str = "canonical",
    fps: float = 5.0,
    speaker_normalisation: str = "auto",
    face_model: str | None = None,
    texts: Sequence[str | None] | None = None,
    language: str | None = None,
) -> list[Result]:
    """One Result per clip, in order, with the voice of all ``sources`` (media files of **one** speaker)
    analysed as one recording, so the voice model can normalise per speaker
    (:func:`emoreason.pipeline.clips.perceive_clips`). The other options are :func:`analyze`'s; ``texts``,
    one per clip (or None), replace speech-to-text for those clips. Clips of several speakers would be
    compared with each other: group them by speaker first."""
    if isinstance(sources, (str, bytes, os.PathLike)) or not isinstance(sources, Iterable):
        raise ConfigError(f"sources must be a list of clip paths, got {type(sources).__name__}")
    sources = list(sources)
    if not sources:
        raise ConfigError("give at least one clip")
    bad = next((s for s in sources if not isinstance(s, (str, os.PathLike))), None)
    if bad is not None:
        raise ConfigError(f"sources must hold file paths, got {type(bad).__name__} ({bad!r:.40})")
    if texts is not None and (isinstance(texts, str) or not isinstance(texts, Sequence)
                              or any(t is not None and not isinstance(t, str) for t in texts)):
        raise ConfigError("texts must be a list with one string (or None) per clip")
    options = AnalyzeOptions(modalities=modalities, labels=labels, fps=fps,
                             speaker_normalisation=speaker_normalisation, face_model=face_model,
                             language=language)
    results = [build_result(p) for p in perceive_clips(default_pipeline(), sources, options, texts)]
    if options.labels != "canonical":
        results = [relabel(r, options.labels) for r in results]
    return results


def analyze_texts(
    texts: Sequence[str],
    *,
    contexts: Sequence[Sequence[str] | None] | None = None,
    labels: str = "canonical",
    language: str | None = None,
) -> list[Result]:
    """One Result per text, in order: each is what ``analyze(text=t, modalities="text", labels=labels,
    context=c, language=language)`` returns (same label, scores and evidence), with the text model run
    over all the texts in one batched pass and their key words in one more (repeated inputs scored
    once): 2.3-2.7 times as many sentences per second as a loop of :func:`analyze` calls on 2 cores
    (``benchmarks/bench_text.py`` measures both; the README's "Speed" gives the numbers). ``language``: the
    texts' language (a Whisper code or English name); None identifies each text's language from its words.
    ``contexts``: one list of earlier utterances (oldest first) or None per text. Each result's
    ``timings["total"]`` is its share of the batch's time plus its own fusion. An empty text is a
    NoUsableModalityError (as for :func:`analyze`), raised before any work."""
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Sequence):
        raise ConfigError(f"texts must be a list of strings, got {type(texts).__name__}")
    bad = next((t for t in texts if not isinstance(t, str)), None)
    if bad is not None:
        raise ConfigError(f"texts must hold strings, got {type(bad).__name__} ({bad!r:.40})")
    empty = next((i for i, t in enumerate(texts) if not t.strip()), None)
    if empty is not None:  # what analyze(text="") raises, before any work is done
        raise NoUsableModalityError(f"nothing to analyse (text {empty} of the list is empty)")
    if contexts is None:
        contexts = [None] * len(texts)
    elif (isinstance(contexts, (str, bytes)) or not isinstance(contexts, Sequence)
          or len(contexts) != len(texts)):
        raise ConfigError("contexts must be a list with one context (a list of utterances, or None) per text")
    options = [AnalyzeOptions(text=t, modalities=["text"], labels=labels, context=c, language=language)
               for t, c in zip(texts, contexts)]
    perceptions = perceive_texts(default_pipeline(), options)
    return [finish_result(p, o, time.perf_counter() - p.timings.get("text", 0.0))
            for p, o in zip(perceptions, options)]


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
    people: bool = False,
    speakers: int | None = None,
) -> Perception:
    """Run the requested perception stages on one input, before fusion (:func:`build_result` fuses);
    unusable modalities are kept with a reason. The options are :func:`analyze`'s (``transcript_path``
    is its ``transcript``, ``whisper_dir`` its ``asr_model``)."""
    options = AnalyzeOptions(text=text, transcript=transcript_path, sample_rate=sample_rate,
                             modalities=modalities, fps=fps, progress=progress, asr_model=whisper_dir,
                             context=context, speaker_normalisation=speaker_normalisation,
                             face_model=face_model, people=people, speakers=speakers)
    return default_pipeline().perceive(source, options)
