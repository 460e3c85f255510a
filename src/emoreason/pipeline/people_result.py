"""From the per-person stages to :class:`~emoreason.result.Person` entries: who is who, and each person's
emotion fused by the same code that builds the clip's result.

People are made from what the input has (:func:`people_of`):

- a video with faces and voices: the face tracks paired with the voices (:func:`emoreason.pipeline.people.
  associate`); a pair is one person, a voice without a face an off-screen person, a face without a voice a
  silent one;
- audio (or a video whose faces were not asked for, or with no track): one person per voice;
- an image (or a video without voices): one person per face.

Each person's outputs -- their face track's face output, their voice's voice and text outputs, each
modality the clip used, an unusable one with its reason otherwise -- go through
:func:`emoreason.pipeline.result.build_result`, so a person's label, scores, timeline, evidence and
explanation are made exactly as the clip's are. One person who is the clip's only face and only voice is
given the clip's own outputs: a single-person clip gives one person whose result is the clip's.
People are numbered P1, P2 ... by when they are first seen or heard (among faces seen together, the first
to speak comes first).
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from PIL import Image

from emoreason.errors import NoUsableModalityError
from emoreason.perception.base import ModalityOutput
from emoreason.pipeline.people import associate
from emoreason.pipeline.perception import Perception
from emoreason.result import Person

#: The longest side of a person's thumbnail, in pixels.
THUMBNAIL_SIDE = 96


def people_of(p: Perception) -> tuple[list[tuple[int | None, int | None, float | None]], list[str]]:
    """Who is in ``p``: (face track id or None, speaker index or None, synchrony or None) per person, in
    order of first appearance, and the notes saying how they were found."""
    faces, voices = p.people_faces, p.people_voices
    tracks = list(faces.tracks) if faces is not None else []
    n_voices = int(voices.diarization.n_speakers) if voices is not None else 0
    notes: list[str] = list(voices.notes) if voices is not None else []
    found: list[tuple[int | None, int | None, float | None]]
    if tracks and n_voices:
        a = voices.association  # paired where the two paths met (people_stages.split_joined_voices)
        if a is None:  # the perception was not made by the pipeline's file path (a test's, a caller's)
            a = associate(tracks, voices.diarization, faces.times)
        notes.extend(a.notes)
        found = [(t, a.pairs.get(t), None) for t in a.track_ids]
        found = [(t, s, a.score(t, s) if s is not None else None) for t, s, _ in found]
        found += [(None, s, None) for s in a.offscreen]
    else:
        found = [(int(t.track_id), None, None) for t in tracks] + [(None, s, None) for s in range(n_voices)]
    first = {int(t.track_id): float(t.times[0]) if len(t.times) else np.inf for t in tracks}
    starts: dict[int, float] = {}
    for turn in (voices.diarization.turns if voices is not None else []):
        starts[int(turn.speaker)] = min(starts.get(int(turn.speaker), np.inf), float(turn.start))

    def seen_at(who: tuple[int | None, int | None, float | None]) -> tuple[float, float]:
        t, s, _ = who  # first seen or heard; faces seen together: the first to speak first
        heard = starts.get(s, np.inf) if s is not None else np.inf
        return min(first.get(t, np.inf) if t is not None else np.inf, heard), heard
    return sorted(found, key=seen_at), notes


def build_people(p: Perception, build_result: Any,
                 outputs: dict[str, dict[str, ModalityOutput]] | None = None,
                 notes: list[str] | None = None) -> list[Person]:
    """One :class:`Person` per person in ``p`` (see the module docstring); ``build_result`` is
    :func:`emoreason.pipeline.result.build_result` (passed in: that module calls this one). ``outputs``,
    when given, receives each person's modality outputs by ``person_id`` (the dataset builder's tables);
    ``notes`` the notes on how the people were found that concern no one person (the diarisation's
    limits, speech while no face was seen). A note on one voice or one face goes to that person."""
    if p.people_faces is None and p.people_voices is None:
        return []
    found, found_notes = people_of(p)
    faces, voices = p.people_faces, p.people_voices
    tracks = {int(t.track_id): t for t in (faces.tracks if faces is not None else [])}
    only_one = len(found) == 1 and len(tracks) <= 1 and (voices is None or voices.diarization.n_speakers <= 1)
    people = []
    for k, (track_id, speaker, sync) in enumerate(found, start=1):
        theirs = dict(p.outputs) if only_one else _outputs(p, track_id, speaker)
        words = voices.words.get(speaker, []) if voices is not None and speaker is not None else []
        person_p = Perception(input=p.input, kind=p.kind, duration=p.duration, outputs=theirs,
                              transcript=p.transcript if only_one else _said(voices, speaker),
                              spoken=list(p.spoken) if only_one else list(words))
        person = Person(person_id=f"P{k}", face_track=track_id, voice=speaker, association=sync)
        if outputs is not None:
            outputs[person.person_id] = person_p.outputs
        try:
            r = build_result(person_p)
        except NoUsableModalityError as exc:
            person.notes.append(f"no emotion for this person: {exc}")
            person.transcript = person_p.transcript
        else:
            person.label, person.scores = r.label, r.scores
            person.valence, person.arousal = r.valence, r.arousal
            person.modalities, person.segments, person.evidence = r.modalities, r.segments, r.evidence
            person.explanation, person.transcript = r.explanation, r.transcript
        if speaker is not None:
            person.turns = voices.turns(speaker)
            person.speaking_seconds = round(sum(b - a for a, b in person.turns), 3)
        if track_id is not None:
            track = tracks[track_id]
            person.on_screen_seconds = _on_screen_seconds(track, faces.times)
            person.thumbnail = thumbnail_jpeg(getattr(track, "thumbnail", None))
        people.append(person)
    for note in found_notes:
        owner = next((x for x in people if (x.voice is not None and note.startswith(f"voice {x.voice} "))
                      or (x.face_track is not None and note.startswith(f"face track {x.face_track} "))), None)
        if owner is not None:
            owner.notes.append(note)
        elif notes is not None and note not in notes:
            notes.append(note)
    return people


def _outputs(p: Perception, track_id: int | None, speaker: int | None) -> dict[str, ModalityOutput]:
    """One person's modality outputs, for each modality the clip has."""
    faces, voices = p.people_faces, p.people_voices
    out: dict[str, ModalityOutput] = {}
    for m, clip in p.outputs.items():
        if m == "face":
            if track_id is not None and faces is not None and track_id in faces.outputs:
                out[m] = faces.outputs[track_id]
            else:
                out[m] = ModalityOutput.unusable(m, clip.reason if not clip.usable else
                                                 "this person's face is not seen (an off-screen voice)")
        else:
            store = (voices.voice if m == "voice" else voices.text) if voices is not None else {}
            if speaker is not None and speaker in store:
                out[m] = store[speaker]
            elif not clip.usable:
                out[m] = ModalityOutput.unusable(m, clip.reason or "not usable")
            elif speaker is None:
                out[m] = ModalityOutput.unusable(m, "this person is never heard speaking")
            else:
                out[m] = ModalityOutput.unusable(m, "no words of this person were recognised" if m == "text"
                                                 else "this person's speech was not analysed")
    return out


def _said(voices: Any, speaker: int | None) -> str:
    return voices.transcripts.get(speaker, "") if voices is not None and speaker is not None else ""


def _on_screen_seconds(track: Any, times: np.ndarray) -> float:
    """The track's frames times the frame step (the median step of the clip's frame times)."""
    times = np.asarray(times, dtype=float)
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    return round(len(track.times) * step, 3)


def thumbnail_jpeg(rgb: np.ndarray | None, side: int = THUMBNAIL_SIDE) -> str | None:
    """An HxWx3 uint8 face crop as a base64 JPEG at most ``side`` pixels on its longer side (None: none)."""
    if rgb is None or np.asarray(rgb).ndim != 3 or min(np.asarray(rgb).shape[:2]) == 0:
        return None
    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8))
    image.thumbnail((side, side))
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=80)
    return base64.b64encode(buf.getvalue()).decode("ascii")
