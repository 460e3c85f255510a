"""Per-person records of a multi-person clip (``BuildOptions.people``, ``build-dataset --people``).

With ``people`` on, the clip's record keeps its own fields (the clip as a whole) and gains ``people``: one
MERR-style record per person found (:func:`emoreason.api.build_people`), built like a clip's record from
that person's own outputs -- their face's AU peak and phrases, their voice's prosody and tone, their words
as the subtitle, their label (the model's: a manifest's label names the clip, not a person), the offline
reasoning from their explanation -- and their peak frame (the clip's frame at their face's peak) written
beside the clip's. Each has its own ``id`` (``<clip id>_P1`` ...), so the MERR and ShareGPT exports hold
one entry per person (:func:`export_records`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from emoreason.io.atomic import atomic_write_bytes
from emoreason.perception.base import ModalityOutput
from emoreason.result import Person

from .captions import audio_description, coarse_caption, prosody_summary, visual_description
from .pseudo_labels import find_peak, pseudo_label
from .reasoning import check_consistency, offline_reasoning


def person_records(clip: Mapping[str, Any], people: Sequence[Person],
                   outputs: Mapping[str, Mapping[str, ModalityOutput]], video: str, out_dir: str | Path,
                   peak_jpeg: Any, peak_dict: Any, jpeg_quality: int) -> list[dict[str, Any]]:
    """One record per person of the clip whose record is ``clip``; ``peak_jpeg(path, t, quality)`` and
    ``peak_dict(peak, fps, t)`` are the builder's own (passed in: the builder calls this module)."""
    records = []
    for person in people:
        mine = outputs.get(person.person_id, {})
        face, voice = mine.get("face"), mine.get("voice")
        au_table = face.series.get("aus") if face is not None and face.usable else None
        peak = find_peak(au_table)
        peak_time = peak.time if peak is not None else _first_seen(person, clip)
        image = f"frames/{clip['id']}_{person.person_id}.jpg"
        atomic_write_bytes(Path(out_dir) / image, peak_jpeg(video, peak_time, jpeg_quality))
        prosody = prosody_summary(voice.series.get("prosody")) if voice is not None and voice.usable else {}
        tone = audio_description(prosody, voice.scores if voice is not None and voice.usable else None)
        visual = visual_description(face.details if face is not None and face.usable else None)
        expression = (peak.expression if peak is not None and peak.expression
                      else "no face seen" if person.face_track is None else "no clear expression")
        caption = coarse_caption(visual, expression, tone, person.transcript)
        label = person.label
        reasoning = offline_reasoning(person.explanation, label, label) if label else ""
        check = check_consistency(reasoning, label) if reasoning and label else None
        records.append({
            "id": f"{clip['id']}_{person.person_id}",
            "clip": clip["id"],
            "person_id": person.person_id,
            "face_track": person.face_track,
            "voice": person.voice,
            "turns": [[round(a, 3), round(b, 3)] for a, b in person.turns],
            "speaking_seconds": person.speaking_seconds,
            "on_screen_seconds": person.on_screen_seconds,
            "video": clip["video"],
            "image": image,
            "frame_count": clip.get("frame_count"),
            "label": label,
            "label_source": "model (this person)",
            "subtitle": person.transcript,
            "peak": peak_dict(peak, clip.get("video_fps"), peak_time),
            "visual_expression": expression,
            "visual_description": visual,
            "prosody": {k: round(float(v), 4) for k, v in prosody.items()},
            "audio_description": tone,
            "coarse_caption": caption,
            "pseudo_label": pseudo_label(peak, label, person.scores).to_dict() if label else None,
            "reasoning": reasoning,
            "reasoning_source": "offline" if reasoning else "none",
            "reasoning_check": (None if check is None
                                else {"contradicts": check.contradicts, "reason": check.reason}),
            "explanation": person.explanation,
            "notes": list(person.notes),
        })
    return records


def export_records(records: Sequence[Mapping[str, Any]], people: bool) -> list[Mapping[str, Any]]:
    """What the MERR and ShareGPT exports hold: the clips' records, or with ``people`` each clip's
    per-person records in their place (a clip without people keeps its own record)."""
    if not people:
        return list(records)
    out: list[Mapping[str, Any]] = []
    for r in records:
        out.extend(r.get("people") or [r])
    return out


def _first_seen(person: Person, clip: Mapping[str, Any]) -> float:
    """Where to take a person's frame when their face has no AU peak: their first turn, else mid-clip."""
    if person.turns:
        return float(person.turns[0][0])
    return float(clip.get("duration") or 0.0) / 2
