"""Perception of one input: a media file, an image, a waveform or text -> each modality's output.

:class:`Pipeline` owns the loaded analyzers and sends each kind of input through the stages it can feed. A
media file is decoded in two passes: first its sound, to a temporary WAV (fast: the video packets are
skipped); then, while a background thread (:mod:`emoreason.pipeline.concurrent`) runs the audio path
(:mod:`emoreason.pipeline.audio_path`) on that WAV -- voice activity once, then on the speech it found the
voice model (in a thread of its own) beside speech-to-text and the text model -- the calling thread decodes
frames into the face stage as they come; numpy's BLAS meanwhile runs as many threads as speech-to-text's
CTranslate2 (:func:`~emoreason.pipeline.concurrent.shared_cores`). The paths meet again before fusion. An
image goes to the face stage, a waveform to the audio path (voice and text stages), text to the text stage.
The result is a :class:`Perception`: every requested modality's output (an unusable one with its reason), the
transcript and the time each stage took (the stages of the two paths overlap, so their times add up to more
than the whole). With ``people``, each path also runs its per-person stage
(:mod:`emoreason.pipeline.people_stages`): the video path tracks every face, the audio path diarises the
voices and analyses each; the clip's own outputs are made exactly as without ``people``.

:func:`default_pipeline` is the process-wide pipeline that ``emoreason.analyze`` uses, so repeated calls load
the models once.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from emoreason.errors import ConfigError, CorruptMediaError
from emoreason.io.audio import ArrayAudio, AudioSource, WavFileAudio, waveform_to_float
from emoreason.io.cleanup import temporary_directory
from emoreason.io.image import image_to_rgb
from emoreason.io.media import DecodeStats, decode, load_still, probe, truncation_note
from emoreason.perception.base import ModalityOutput
from emoreason.perception.face.analyzer import FaceAnalyzer, analyze_face_image
from emoreason.perception.text.analyzer import TextAnalyzer
from emoreason.perception.text.transcript import find_sidecar_transcript
from emoreason.perception.voice.analyzer import VoiceAnalyzer
from emoreason.pipeline.audio_path import run_audio_path, text_stage
from emoreason.pipeline.concurrent import Background, shared_cores
from emoreason.pipeline.options import AnalyzeOptions
from emoreason.pipeline.people_stages import FacePeopleBuilder, split_joined_voices
from emoreason.pipeline.perception import MIN_DURATION, Perception, check_duration

MIN_IMAGE_SIDE = 16  # a 2-D array without a sample rate is a grey image when both sides are at least this
MAX_CHANNELS = 32  # a 2-D waveform's shorter side holds its channels

__all__ = ["MIN_DURATION", "Perception", "Pipeline", "check_duration", "default_pipeline"]


class Pipeline:
    """The perception stages and their loaded models.

    The voice analyzer is loaded once per ``speaker_normalisation`` choice and the text analyzer once;
    both are then shared by every input perceived through this pipeline, from any thread. A
    :class:`FaceAnalyzer` holds one input's state (its face tracker and per-frame numbers), so one is made
    per input; its mediapipe graphs and tflite interpreters come from its thread's pool
    (:mod:`emoreason.perception.face.mesh`, :mod:`emoreason.perception.face.image_models`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._voice: dict[str, VoiceAnalyzer] = {}
        self._text: TextAnalyzer | None = None

    def voice_analyzer(self, speaker_normalisation: str = "auto") -> VoiceAnalyzer:
        """The shipped voice model with this speaker path ("auto", "always" or "never"), loaded once."""
        with self._lock:
            if speaker_normalisation not in self._voice:
                analyzer = VoiceAnalyzer(speaker_normalisation=speaker_normalisation)
                self._voice[speaker_normalisation] = analyzer
            return self._voice[speaker_normalisation]

    def text_analyzer(self) -> TextAnalyzer:
        """The shipped text model, loaded once."""
        with self._lock:
            if self._text is None:
                self._text = TextAnalyzer()
            return self._text

    def perceive(self, source: Any, options: AnalyzeOptions, keep_audio: bool = False) -> Perception:
        """Run ``options.modalities`` on ``source`` (a path, an HxWx3 image, a waveform, or None with
        ``options.text``); a modality that cannot be used is kept with its reason. ``keep_audio``: a media
        file's sound is decoded (whatever the modalities) and kept in ``Perception.audio``, with the
        speech found in it, if any stage looked, in ``Perception.speech``."""
        if source is None:
            if options.text is None:
                raise ConfigError("give a media file, an image, a waveform or text")
            p = Perception(input="<text>", kind="text", duration=None)
            text_stage(self, p, options)
            return p
        if isinstance(source, np.ndarray):
            with shared_cores():  # the voice and words paths side by side
                return self._perceive_array(source, options)
        if not isinstance(source, (str, os.PathLike)):
            raise ConfigError(f"source must be a file path, a numpy image or waveform, or None with text=; "
                              f"got {type(source).__name__}")
        with shared_cores():  # the video, voice and words paths side by side
            return self._perceive_file(Path(source), options, keep_audio)

    def _perceive_array(self, source: np.ndarray, options: AnalyzeOptions) -> Perception:
        """An array is an image or a waveform, by its shape: HxWx3 (or x4, x1) is an image; 1-D is a
        waveform (``sample_rate`` needed); 2-D is a multi-channel waveform when ``sample_rate`` is given,
        else a grey image when both sides are at least :data:`MIN_IMAGE_SIDE`. Its values are converted
        (:func:`~emoreason.io.image.image_to_rgb`, :func:`~emoreason.io.audio.waveform_to_float`) with
        a note for each conversion."""
        shape = source.shape
        as_image = source.ndim == 3 or (source.ndim == 2 and not options.sample_rate
                                        and min(shape) >= MIN_IMAGE_SIDE)
        if as_image:
            rgb, notes = image_to_rgb(source)
            p = Perception(input="<image>", kind="image", duration=None, notes=notes)
            self._face_image(p, options, rgb)
            text_stage(self, p, options)
            return p
        if source.ndim == 2 and not options.sample_rate:
            raise ConfigError(f"a 2-D array of shape {shape} is read as a waveform (channels x samples) with "
                              f"sample_rate=, or as a grey image when both sides are at least "
                              f"{MIN_IMAGE_SIDE} pixels")
        if source.ndim not in (1, 2):
            raise ConfigError(f"cannot analyse an array of shape {shape}: expected an HxWx3 image, an HxW "
                              "grey image, or a waveform (1-D, or channels x samples with sample_rate=)")
        if not options.sample_rate:
            raise ConfigError("a waveform needs its sample_rate")
        if source.ndim == 2 and min(shape) > MAX_CHANNELS:
            raise ConfigError(f"a 2-D waveform is channels x samples (or samples x channels) with at most "
                              f"{MAX_CHANNELS} channels; got shape {shape}")
        samples, notes = waveform_to_float(source)
        audio = ArrayAudio(samples, options.sample_rate)
        p = Perception(input="<waveform>", kind="waveform", duration=audio.duration, notes=notes)
        check_duration(p.input, audio.duration)
        self._audio_path(p, options, audio, None)
        return p

    def _perceive_file(self, path: Path, options: AnalyzeOptions, keep_audio: bool = False) -> Perception:
        wanted = options.modalities
        info = probe(path)
        p = Perception(input=str(path), kind=info.kind, duration=info.duration)
        given_text = bool(options.text or options.transcript)  # the words need no audio track
        if info.kind == "image":
            self._face_image(p, options, load_still(path, p.notes))
            text_stage(self, p, options, transcript_path=options.transcript)
            return p
        check_duration(str(path), info.duration)
        if "face" in wanted and not info.has_video:
            p.outputs["face"] = ModalityOutput.unusable("face", "the file has no video track")
        need_audio = bool({"voice", "text"} & set(wanted) or keep_audio or options.people) and info.has_audio
        if not info.has_audio:
            for m in ("voice", "text"):
                if m in wanted and not (m == "text" and given_text):
                    p.outputs[m] = ModalityOutput.unusable(m, "the file has no audio track")
        sidecar = options.transcript
        if sidecar is None and options.text is None:
            sidecar = find_sidecar_transcript(path)
        with_face = "face" in wanted and info.has_video
        bar = _progress_bar(options.progress, info.duration, path.name)
        with temporary_directory() as tmp:
            audio, heard_s = None, 0.0
            if need_audio:  # the audio first (a fast pass that skips the video packets) ...
                t0 = time.perf_counter()
                stats = self._audio_pass(path, Path(tmp) / "audio.wav", with_face,
                                         None if with_face or not bar else (lambda t: bar.update(t - bar.n)))
                p.timings["decode"] = time.perf_counter() - t0
                p.notes.extend(stats.notes)
                heard_s = stats.audio_seconds
                if p.duration is None:
                    p.duration = heard_s or None
                if heard_s > 0 and (Path(tmp) / "audio.wav").exists():
                    audio = WavFileAudio(Path(tmp) / "audio.wav")
                    if keep_audio:
                        p.audio = audio = ArrayAudio(audio.read())
                else:
                    for m in ("voice", "text"):
                        if m in wanted and m not in p.outputs and not (m == "text" and given_text):
                            p.outputs[m] = ModalityOutput.unusable(m, "the audio track holds no sound")
            heard = Perception(input=p.input, kind=p.kind, duration=p.duration, outputs=dict(p.outputs))
            # ... then voice and words in a background thread while this one reads the frames' faces
            job = Background(lambda: self._audio_path(heard, options, audio, sidecar)) if with_face else None
            if job is None:
                self._audio_path(heard, options, audio, sidecar)
            else:
                try:
                    seen_s, stated = self._video_path(p, path, options, bar)
                except BaseException:
                    with contextlib.suppress(BaseException):  # the temporary WAV outlives its reader
                        job.result()
                    raise
                job.result()
                if p.people_faces is not None and heard.people_voices is not None and audio is not None:
                    t0 = time.perf_counter()  # the faces may show voices the diarisation joined
                    heard.people_voices = split_joined_voices(self, p.people_faces, heard.people_voices,
                                                              heard.outputs, options, audio, heard.speech,
                                                              heard.words)
                    p.timings["people_split"] = time.perf_counter() - t0
                note = truncation_note(stated, max(seen_s, heard_s))  # the two passes judged together
                if note:
                    p.notes.append(note)
                if info.duration is None:
                    p.duration = max(seen_s, heard_s) or None
        if bar:
            bar.close()
        p.outputs.update(heard.outputs)
        p.notes.extend(heard.notes)
        p.timings.update(heard.timings)
        p.transcript, p.spoken, p.speech = heard.transcript, heard.spoken, heard.speech
        p.words, p.people_voices = heard.words, heard.people_voices
        p.language, p.language_probability = heard.language, heard.language_probability
        return p

    @staticmethod
    def _audio_pass(path: Path, wav: Path, with_video: bool, progress: Any) -> DecodeStats:
        """The file's sound decoded to ``wav``; beside a video pass, a silent audio track is no error (the
        voice and words are then unusable, with their reason)."""
        if not with_video:
            return decode(path, audio_path=wav, progress=progress)
        try:
            return decode(path, audio_path=wav, check_truncation=False)
        except CorruptMediaError:  # the audio stream holds no decodable sound
            return DecodeStats()

    def _video_path(self, p: Perception, path: Path, options: AnalyzeOptions, bar: Any
                    ) -> tuple[float, float | None]:
        """Frames at ``options.fps`` decoded into the face stage as they come; the seconds of video seen
        and the container's stated duration."""
        t_start = time.perf_counter()
        face = FaceAnalyzer(fps=options.fps, face_model=options.face_model)
        faces = FacePeopleBuilder(options) if options.people else None
        p.timings["face_load"] = time.perf_counter() - t_start
        face_time = people_time = 0.0

        def on_frame(t: float, rgb: np.ndarray) -> None:
            nonlocal face_time, people_time
            t0 = time.perf_counter()
            face.add_frame(t, rgb)
            face_time += time.perf_counter() - t0
            if faces is not None:
                t0 = time.perf_counter()
                faces.add_frame(t, rgb)
                people_time += time.perf_counter() - t0

        t0 = time.perf_counter()
        stats = decode(path, fps=options.fps, on_frame=on_frame, check_truncation=False,
                       progress=(lambda t: bar.update(t - bar.n)) if bar else None)
        p.timings["decode"] = (p.timings.get("decode", 0.0) + time.perf_counter() - t0 - face_time
                               - people_time)
        p.notes.extend(stats.notes)
        t0 = time.perf_counter()
        p.outputs["face"] = face.finish()
        p.timings["face"] = face_time + time.perf_counter() - t0
        if faces is not None:
            t0 = time.perf_counter()
            p.people_faces = faces.finish()
            p.timings["people_faces"] = people_time + time.perf_counter() - t0
        return stats.video_seconds, stats.stated

    def _audio_path(self, p: Perception, options: AnalyzeOptions, audio: AudioSource | None,
                    sidecar: str | Path | None) -> None:
        """The audio path on ``audio`` (:func:`~emoreason.pipeline.audio_path.run_audio_path`)."""
        run_audio_path(self, p, options, audio, sidecar)

    def _face_image(self, p: Perception, options: AnalyzeOptions, rgb: np.ndarray) -> None:
        if "face" not in options.modalities:
            return
        t0 = time.perf_counter()
        p.outputs["face"] = analyze_face_image(rgb, face_model=options.face_model)
        p.timings["face"] = time.perf_counter() - t0
        if options.people:  # an image's people are its faces
            t0 = time.perf_counter()
            faces = FacePeopleBuilder(options, still=True)
            faces.add_frame(0.0, rgb)
            p.people_faces = faces.finish()
            p.timings["people_faces"] = time.perf_counter() - t0


_default: Pipeline | None = None
_default_lock = threading.Lock()


def default_pipeline() -> Pipeline:
    """The process-wide :class:`Pipeline` (made on first use) that ``emoreason.analyze`` runs through."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Pipeline()
        return _default


def _progress_bar(enabled: bool, total: float | None, name: str) -> Any:
    if not enabled:
        return None
    return tqdm(total=round(total or 0, 1) or None, desc=f"decoding {name}", unit="s",
                bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s [{elapsed}<{remaining}]")
