"""The result of one analysis: a label, scores, valence/arousal, a timeline and the evidence.

With ``people=True`` (several people in one input) the Result also holds :class:`Person` entries, one per
person found (a face track, a voice, or both), each with its own label, scores, timeline and evidence. The
top-level fields always describe the clip as a whole, computed exactly as without ``people``, so readers of
schema "1" keep working; ``people`` is empty when not asked for, and JSON without a ``people`` key loads with
none.

pandas is imported inside the ``*dataframe`` methods: it is slow to import and only they need it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from emoreason.languages import language_name

SCHEMA_VERSION = "1"


@dataclass
class Evidence:
    """One observed cue: what was seen or heard, when, and how much it weighed in the decision.

    ``value`` is the cue's measured strength in the unit named by ``unit`` (for Action Units a
    person-relative intensity where 0 is the person's own baseline; for prosody z-scores or Hz).
    ``weight`` is the cue's share in the final decision (0..1, approximate).
    """

    modality: str
    name: str
    value: float
    start: float | None = None
    end: float | None = None
    weight: float = 0.0
    description: str = ""
    unit: str = ""
    supports: str | None = None  # the canonical label this cue argues for, if any


@dataclass
class Segment:
    """One stretch of the timeline with its own label and scores."""

    start: float
    end: float
    label: str
    scores: dict[str, float]
    modalities: dict[str, dict[str, float]] = field(default_factory=dict)
    text: str = ""


@dataclass
class ModalitySummary:
    """What one modality concluded on its own, or why it was not used."""

    used: bool
    label: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    weight: float = 0.0
    reason: str | None = None  # why it was not used
    details: dict[str, Any] = field(default_factory=dict)  # e.g. frames, peak_frame_time, speech_seconds


@dataclass
class Person:
    """One person of a multi-person analysis: who (a face track, a voice, or both), when, and their emotion.

    ``person_id`` is "P1", "P2" ... in order of first appearance. ``face_track`` is the face tracker's id
    (None: never seen, an off-screen voice); ``voice`` the diarisation's speaker index (None: never heard
    speaking). ``label`` and ``scores`` are None/empty when none of the person's modalities was usable
    (``notes`` says why). ``segments`` is the person's own timeline; ``transcript`` the words attributed to
    their voice; ``thumbnail`` a small base64 JPEG of their face (no ``data:`` prefix), or None.
    ``association`` is the face-voice pair's score (mouth-voice correlation, plus the on-screen contrast:
    :mod:`emoreason.pipeline.people`; None when there is no pair; the one face of a one-voice clip whose
    score could not be measured has None too).
    """

    person_id: str
    face_track: int | None = None
    voice: int | None = None
    speaking_seconds: float = 0.0
    on_screen_seconds: float = 0.0
    label: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    valence: float | None = None
    arousal: float | None = None
    modalities: dict[str, ModalitySummary] = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    explanation: str = ""
    transcript: str = ""
    notes: list[str] = field(default_factory=list)
    turns: list[tuple[float, float]] = field(default_factory=list)  # when their voice is heard (s)
    association: float | None = None
    thumbnail: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Person:
        d = dict(d)
        d["modalities"] = {k: ModalitySummary(**v) for k, v in (d.get("modalities") or {}).items()}
        d["segments"] = [Segment(**s) for s in d.get("segments") or []]
        d["evidence"] = [Evidence(**e) for e in d.get("evidence") or []]
        d["turns"] = [(float(a), float(b)) for a, b in d.get("turns") or []]
        return cls(**d)


@dataclass
class Result:
    """The analysis of one input. ``scores`` are canonical labels -> probabilities summing to 1.

    ``language`` is the spoken (or written) language as a Whisper code ("de") and ``language_probability``
    its identification's probability; None when not known, and the probability None when it was given.
    """

    input: str
    duration: float | None
    label: str
    scores: dict[str, float]
    valence: float
    arousal: float
    modalities: dict[str, ModalitySummary] = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    explanation: str = ""
    transcript: str = ""
    language: str | None = None
    language_probability: float | None = None
    label_set: str = "canonical"
    notes: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION
    people: list[Person] = field(default_factory=list)  # filled only when several people are asked for

    # ---- views -------------------------------------------------------------------------------
    @property
    def top(self) -> list[tuple[str, float]]:
        """Labels sorted by score, best first."""
        return sorted(self.scores.items(), key=lambda kv: -kv[1])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (floats rounded to 4 decimals, NaN turned into None). ``people`` is left out
        when empty (a result without people has no ``people`` key)."""
        d = _clean(asdict(self))
        if not d["people"]:
            del d["people"]
        return d

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Result:
        d = dict(d)
        d["modalities"] = {k: ModalitySummary(**v) for k, v in d.get("modalities", {}).items()}
        d["segments"] = [Segment(**s) for s in d.get("segments", [])]
        d["evidence"] = [Evidence(**e) for e in d.get("evidence", [])]
        d["people"] = [Person.from_dict(p) for p in d.get("people") or []]
        return cls(**d)

    def to_dataframe(self):
        """The timeline as a pandas DataFrame indexed by (file, start, end), one score column per label.

        Columns: ``label``, one ``<label>`` column per score, ``text``, and ``<modality>_label`` for
        each modality that scored the segment. A result without segments gives one whole-clip row.
        """
        import pandas as pd

        rows = []
        segments = self.segments or [
            Segment(start=0.0, end=self.duration or 0.0, label=self.label, scores=self.scores)
        ]
        for seg in segments:
            row: dict[str, Any] = {"file": self.input, "start": seg.start, "end": seg.end, "label": seg.label}
            row.update(seg.scores)
            for mod, sc in seg.modalities.items():
                if sc:
                    row[f"{mod}_label"] = max(sc, key=sc.get)
            row["text"] = seg.text
            rows.append(row)
        return pd.DataFrame(rows).set_index(["file", "start", "end"])

    def people_dataframe(self):
        """Each person's timeline as a DataFrame indexed by (file, person, start, end), one score column
        per label, with ``label``, ``text``, ``<modality>_label``, ``face_track``, ``voice`` and
        ``speaking_seconds``. A person without segments gives one whole-clip row (empty scores when no
        modality of theirs was usable). A result without people gives an empty frame with those index
        levels."""
        import pandas as pd

        rows = []
        for person in self.people:
            segments = person.segments or [Segment(start=0.0, end=self.duration or 0.0,
                                                   label=person.label or "", scores=person.scores)]
            for seg in segments:
                row: dict[str, Any] = {"file": self.input, "person": person.person_id, "start": seg.start,
                                       "end": seg.end, "label": seg.label}
                row.update(seg.scores)
                for mod, sc in seg.modalities.items():
                    if sc:
                        row[f"{mod}_label"] = max(sc, key=sc.get)
                row.update(text=seg.text, face_track=person.face_track, voice=person.voice,
                           speaking_seconds=person.speaking_seconds)
                rows.append(row)
        index = ["file", "person", "start", "end"]
        if not rows:
            return pd.DataFrame(columns=[*index, "label"]).set_index(index)
        frame = pd.DataFrame(rows).astype({"face_track": "Int64", "voice": "Int64"})
        return frame.set_index(index)

    def evidence_dataframe(self):
        import pandas as pd

        return pd.DataFrame([asdict(e) for e in self.evidence])

    def _language_tag(self) -> str:
        """" (German, p 0.97)", " (German, given)" or "" when the language is not known."""
        if self.language is None:
            return ""
        name = language_name(self.language)
        p = self.language_probability
        return f" ({name}, " + (f"p {p:.2f})" if p is not None else "given)")

    def summary(self) -> str:
        """A few lines for a terminal."""
        lines = [f"{self.input}: {self.label}  (" + ", ".join(f"{k} {v:.2f}" for k, v in self.top[:3]) + ")"]
        lines.append(f"  valence {self.valence:+.2f}  arousal {self.arousal:+.2f}"
                     + (f"  duration {self.duration:.1f} s" if self.duration else ""))
        for name, m in self.modalities.items():
            if m.used:
                lines.append(f"  {name:<5} {m.label or '-':<10} weight {m.weight:.2f}")
            else:
                lines.append(f"  {name:<5} not used: {m.reason}")
        if self.transcript:
            t = self.transcript if len(self.transcript) < 160 else self.transcript[:157] + "..."
            lines.append(f'  said{self._language_tag()}: "{t}"')
        if self.explanation:
            lines.append("  why: " + self.explanation)
        for n in self.notes:
            lines.append("  note: " + n)
        for person in self.people:
            lines.append("  " + _person_line(person))
        return "\n".join(lines)


def _person_line(person: Person) -> str:
    """One line per person for :meth:`Result.summary`."""
    who = [f"face {person.face_track}" if person.face_track is not None else "no face",
           f"voice {person.voice}" if person.voice is not None else "no voice"]
    if person.label:
        top = sorted(person.scores.items(), key=lambda kv: -kv[1])[:2]
        what = f"{person.label} (" + ", ".join(f"{k} {v:.2f}" for k, v in top) + ")"
    else:
        what = "no usable modality"
    line = f"{person.person_id} [{', '.join(who)}, speaks {person.speaking_seconds:.1f} s]: {what}"
    if person.transcript:
        said = person.transcript if len(person.transcript) < 100 else person.transcript[:97] + "..."
        line += f'\n      said: "{said}"'
    if person.explanation:
        line += "\n      why: " + person.explanation
    return line


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        if math.isnan(obj) or math.isinf(obj):
            return None
        return round(obj, 4)
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return _clean(obj.item())
    return obj
