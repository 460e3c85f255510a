"""One clip in, one MERR-style record out: perception, peak frame, descriptions, labels, reasoning.

:func:`build_record` is a pure function of the clip and the :class:`BuildOptions` (given the same
models), so the runner can call it in any process, in any order, any number of times. It writes the
clip's side files (peak-frame JPEG, AU and prosody tables) atomically under the output directory and
returns the record; the runner stores the record.

Perception is pluggable: ``BuildOptions.perceiver`` names a ``module:function`` taking
``(path, subtitle, options)`` and returning a :class:`ClipPerception`. The default runs emoreason's
own pipeline (``emoreason.api.run_perception`` + ``build_result``); another function can wrap, say,
OpenFace, or a fake for tests.
"""

from __future__ import annotations

import importlib
import io
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from emoreason import __version__
from emoreason.api import build_people, build_result, run_perception
from emoreason.errors import ConfigError, UnsupportedFormatError
from emoreason.io.atomic import atomic_write_bytes, atomic_write_text
from emoreason.io.media import probe, read_frame_at
from emoreason.labels import get_label_map
from emoreason.perception.base import ModalityOutput
from emoreason.result import Result

from .captions import audio_description, coarse_caption, prosody_summary, visual_description
from .manifest import ClipSpec
from .people import person_records
from .pseudo_labels import PeakFrame, find_peak, pseudo_label
from .reasoning import ChatEndpoint, check_consistency, merr_question, offline_reasoning

RECORD_SCHEMA = "emoreason-merr/1"
DEFAULT_PERCEIVER = "emoreason.dataset_builder.builder:default_perceiver"


@dataclass(frozen=True)
class BuildOptions:
    """Everything that changes a record. Stored with the output so a resumed build uses the same."""

    seed: int = 0
    fps: float = 5.0
    modalities: str = "face,voice,text"
    label_set: str = "canonical"  # taxonomy of the labels given in the manifest
    reasoning: str = "offline"  # "offline" or "llm"
    llm_url: str | None = None
    llm_model: str | None = None
    vlm_url: str | None = None  # scene descriptions by a vision-language model (optional)
    vlm_model: str | None = None
    features: str | None = None  # a train-llm recipe whose encoders fill OUT/features (see runner)
    jpeg_quality: int = 90
    perceiver: str = DEFAULT_PERCEIVER
    people: bool = False  # also one record per person of the clip (dataset_builder.people)

    def __post_init__(self) -> None:
        if self.reasoning not in ("offline", "llm"):
            raise ConfigError(f"reasoning must be 'offline' or 'llm', got {self.reasoning!r}")
        if self.reasoning == "llm" and not (self.llm_url and self.llm_model):
            raise ConfigError("LLM reasoning needs an endpoint URL and a model name (--llm-url, --llm-model)")
        if bool(self.vlm_url) != bool(self.vlm_model):
            raise ConfigError("a scene-description model needs both --vlm-url and --vlm-model")
        if not 0 < self.fps <= 60:
            raise ConfigError(f"fps must be in (0, 60], got {self.fps}")
        unknown = [m for m in self.modalities.split(",") if m.strip() not in ("face", "voice", "text", "all")]
        if unknown or not self.modalities.strip():
            raise ConfigError("modalities must be a comma-separated subset of face,voice,text; "
                              f"got {self.modalities!r}")
        if not 1 <= self.jpeg_quality <= 100:
            raise ConfigError(f"JPEG quality must be 1..100, got {self.jpeg_quality}")
        get_label_map(self.label_set)

    def to_dict(self) -> dict[str, Any]:
        """The options as stored with a build; ``people`` only when on, so a build's stored
        options without the key match the default and resume."""
        d = asdict(self)
        if not d["people"]:
            del d["people"]
        return d


@dataclass
class ClipPerception:
    """What a perceiver returns for one clip."""

    result: Result  # fused label, scores, explanation (canonical labels)
    outputs: dict[str, ModalityOutput]  # "face" (series["aus"]), "voice" (series["prosody"]), "text"
    duration: float | None
    video_fps: float | None
    transcript: str = ""
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per perception stage (optional)
    # with BuildOptions.people: each person's modality outputs by person_id (the people are result.people)
    people_outputs: dict[str, dict[str, ModalityOutput]] = field(default_factory=dict)
    #: "video", or "audio" / "image" / "text" (no path): only a video gets a peak-frame JPEG
    media_kind: str = "video"


def default_perceiver(path: str, subtitle: str | None, options: BuildOptions) -> ClipPerception:
    """emoreason's own perception (face, voice, text) and fusion, on a video, an audio file, an image,
    or (``path`` empty) the subtitle alone."""
    if not path:
        if not subtitle:
            raise UnsupportedFormatError("a text-only item needs a subtitle")
        p = run_perception(None, text=subtitle, modalities=options.modalities)
        return ClipPerception(result=build_result(p), outputs=p.outputs, duration=None, video_fps=None,
                              transcript=p.transcript, notes=list(p.notes), timings=dict(p.timings),
                              media_kind="text")
    info = probe(path)
    if info.kind != "video" and options.people:
        raise UnsupportedFormatError(f"{path}: holds no video stream (a {info.kind} file); "
                                     "people need a video")
    p = run_perception(path, text=subtitle, fps=options.fps, modalities=options.modalities,
                       people=options.people)
    result, people_outputs = build_result(p), {}
    if options.people:
        result.people = build_people(p, build_result, people_outputs)
    return ClipPerception(result=result, outputs=p.outputs, duration=info.duration,
                          video_fps=info.fps, transcript=p.transcript, notes=list(p.notes),
                          timings=dict(p.timings), people_outputs=people_outputs, media_kind=info.kind)


def load_perceiver(spec: str) -> Callable[[str, str | None, BuildOptions], ClipPerception]:
    module, _, name = spec.partition(":")
    if not module or not name:
        raise ConfigError(f"perceiver must be 'module:function', got {spec!r}")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load perceiver {spec!r}: {exc}") from None
    return fn


def build_record(spec: ClipSpec, options: BuildOptions, out_dir: str | Path) -> dict[str, Any]:
    """The record of one clip (our JSONL schema); side files go under ``out_dir``.

    Raises :class:`emoreason.errors.EmoreasonError` (or any exception) when the clip cannot be used;
    the runner logs it and moves on.
    """
    out = Path(out_dir)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 4)
        clock = now

    perc = load_perceiver(options.perceiver)(spec.path, spec.subtitle, options)
    lap("perception")
    timings.update({f"perception.{k}": round(float(v), 4) for k, v in perc.timings.items()})

    face, voice = perc.outputs.get("face"), perc.outputs.get("voice")
    au_table = face.series.get("aus") if face is not None and face.usable else None
    peak = find_peak(au_table)
    peak_time = peak.time if peak is not None else (perc.duration or 0.0) / 2
    image_rel, jpeg = None, None
    if perc.media_kind == "video":
        image_rel = f"frames/{spec.clip_id}.jpg"
        jpeg = _peak_jpeg(spec.path, peak_time, options.jpeg_quality)
        atomic_write_bytes(out / image_rel, jpeg)
    series = _write_series(out, spec.clip_id, _face_frames(face, au_table),
                           voice.series.get("prosody") if voice else None)
    lap("peak_frame")

    scene = None
    if options.vlm_url and jpeg is not None:
        scene = ChatEndpoint(options.vlm_url, options.vlm_model or "", api_key=_api_key(),
                             seed=options.seed).describe_image(jpeg)
        lap("scene")
    prosody = prosody_summary(voice.series.get("prosody")) if voice is not None and voice.usable else {}
    tone = audio_description(prosody, voice.scores if voice is not None and voice.usable else None)
    visual = visual_description(face.details if face is not None and face.usable else None, scene)
    expression = peak.expression if peak is not None and peak.expression else _no_expression(face)
    subtitle = spec.subtitle if spec.subtitle is not None else (perc.transcript or perc.result.transcript)
    caption = coarse_caption(visual, expression, tone, subtitle)
    labels = pseudo_label(peak, perc.result.label, perc.result.scores)
    label, label_source = _choose_label(spec, options, labels.merr_rule, perc.result.label)
    lap("descriptions")

    reasoning, reasoning_source, check = "", "none", None
    if label is not None:
        if options.reasoning == "llm":
            endpoint = ChatEndpoint(options.llm_url or "", options.llm_model or "", api_key=_api_key(),
                                    seed=options.seed)
            reasoning = endpoint.chat(merr_question(caption, label))
            reasoning_source = f"llm:{options.llm_model}"
        else:
            reasoning = offline_reasoning(perc.result.explanation, label, perc.result.label)
            reasoning_source = "offline"
        check = check_consistency(reasoning, label) if reasoning else None
    lap("reasoning")

    fps = perc.video_fps
    record = {
        "schema": RECORD_SCHEMA,
        "id": spec.clip_id,
        "video": spec.path or None,
        "image": image_rel,
        "duration": _r(perc.duration),
        "video_fps": _r(fps),
        "frame_count": int(round(perc.duration * fps)) if perc.duration and fps else None,
        "label": label,
        "label_source": label_source,
        "label_given": spec.label,
        "subtitle": subtitle,
        "subtitle_source": _subtitle_source(spec, perc, subtitle),
        "peak": _peak_dict(peak, fps, peak_time),
        "visual_expression": expression,
        "visual_description": visual,
        "scene_description": scene,
        "prosody": {k: _r(v) for k, v in prosody.items()},
        "audio_description": tone,
        "coarse_caption": caption,
        "pseudo_label": labels.to_dict(),
        "reasoning": reasoning,
        "reasoning_source": reasoning_source,
        "reasoning_check": (None if check is None
                            else {"contradicts": check.contradicts, "reason": check.reason}),
        "explanation": perc.result.explanation,
        "modalities": {m: {"used": o.usable, "reason": o.reason,
                           "label": max(o.scores, key=o.scores.get) if o.usable and o.scores else None}
                       for m, o in sorted(perc.outputs.items())},
        "series": series,
        "notes": list(perc.notes),
        "provenance": {"emoreason": __version__, "perceiver": options.perceiver, "seed": options.seed,
                       "models": dict(sorted(perc.result.provenance.get("models", {}).items()))},
        "_timings": timings,
    }
    if options.people:
        record["people"] = person_records(record, perc.result.people, perc.people_outputs, spec.path, out,
                                          _peak_jpeg, _peak_dict, options.jpeg_quality)
        lap("people")
    return record


def _choose_label(spec: ClipSpec, options: BuildOptions, rule: str | None, model: str | None):
    if spec.label is not None:
        canon = get_label_map(options.label_set).canonical(spec.label)
        return canon, ("given" if canon is not None else f"given ({spec.label!r} has no canonical label)")
    if rule is not None:
        return rule, "merr_rule"
    return model, "model"


def _subtitle_source(spec: ClipSpec, perc: ClipPerception, subtitle: str) -> str:
    """"given" (manifest), the text stage's own source ("asr:<model>", a sidecar file), or "none"."""
    if spec.subtitle is not None:
        return "given"
    if not subtitle:
        return "none"
    text = perc.outputs.get("text")
    return str((text.details.get("transcript_source") if text is not None else None) or "asr")


def _no_expression(face: ModalityOutput | None) -> str:
    if face is None or not face.usable:
        return "no visible facial expression (no face found)"
    return "a relaxed face with no clearly active action unit"


def _peak_dict(peak: PeakFrame | None, fps: float | None, t: float) -> dict[str, Any]:
    if peak is None:
        return {"source": "middle frame (no AU table)", "time": _r(t),
                "frame_index": int(round(t * fps)) if fps else None}
    return {"source": "merr_rule", "time": _r(peak.time), "row": peak.row,
            "frame_index": int(round(peak.time * fps)) if fps else None,
            "frequent_aus": peak.frequent_aus, "active_aus": peak.active,
            "aus": {a: _r(v) for a, v in sorted(peak.aus.items())}, "phrases": peak.phrases}


def _peak_jpeg(path: str, t: float, quality: int) -> bytes:
    rgb = read_frame_at(path, t)
    if rgb is None:
        raise UnsupportedFormatError(f"{path}: no video frame could be read at {t:.2f} s")
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _face_frames(face: ModalityOutput | None, au_table: Any) -> Any:
    """The per-frame face table written as ``series/<clip>.aus.csv``: the AU intensities, then the head pose
    (yaw, pitch, roll) and gaze columns when the face stage measured them (degrees)."""
    if au_table is None or face is None:
        return au_table
    extra = [face.series[k] for k in ("head_pose", "gaze") if face.series.get(k) is not None]
    return au_table.join(extra) if extra else au_table


def _write_series(out: Path, clip_id: str, aus: Any, prosody: Any) -> dict[str, str | None]:
    paths: dict[str, str | None] = {"aus": None, "prosody": None}
    for key, table, index_label in (("aus", aus, "time"), ("prosody", prosody, None)):
        if table is not None and len(table):
            rel = f"series/{clip_id}.{key}.csv"
            atomic_write_text(out / rel, table.to_csv(float_format="%.4f", index=index_label is not None,
                                                      index_label=index_label))
            paths[key] = rel
    return paths


def _api_key() -> str | None:
    return os.environ.get("EMOREASON_LLM_API_KEY") or None


def _r(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) or hasattr(v, "item"):
        f = float(v)
        return None if f != f or f in (float("inf"), float("-inf")) else round(f, 4)
    return v


def strip_private(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record without its run-specific keys (``_timings``): what the merged outputs hold."""
    return {k: v for k, v in record.items() if not k.startswith("_")}
