"""The systems an evaluation compares: the default pipeline (per modality set), a multimodal-LLM checkpoint
(a folder, or ``compact``: the shipped compact model), and a file of someone else's predictions. Each is a
picklable callable ``EvalItem -> Result | dict``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emoreason import analyze, analyze_clips
from emoreason.errors import ConfigError, EmoreasonError, InputNotFoundError
from emoreason.eval.datasets.base import EvalItem, LoadedDataset, read_csv_rows
from emoreason.eval.datasets.manifest import MANIFEST_LABELS
from emoreason.labels import CANONICAL, LabelMap, get_label_map
from emoreason.perception.face.analyzer import check_face_model

MODALITY_SETS = {"face": ("face",), "voice": ("voice",), "text": ("text",), "all": ("face", "voice", "text")}


@dataclass(frozen=True)
class PipelineSystem:
    """``emoreason.analyze`` restricted to ``modalities``; ``model`` is an MLLM checkpoint or None (default).

    A text-only item (no media) goes through ``analyze(text=...)``. When the text modality is used and the
    item has a transcript, the transcript is given instead of speech-to-text; a dialogue corpus' earlier
    utterances (``item.meta["context"]``) go to the text model as context.
    """

    modalities: tuple[str, ...] = ("face", "voice", "text")
    model: str | None = None
    fps: float = 5.0
    face_model: str | None = None  # the face stage's expression model (None: the default); see analyze()

    def __call__(self, item: EvalItem) -> Any:
        text = item.text if "text" in self.modalities else None
        context = item.meta.get("context") or None  # earlier utterances of the dialogue (MELD, EmoryNLP)
        if item.path is None:
            if "text" not in self.modalities or not item.text:
                raise ConfigError(f"{item.id}: a text-only item needs the text modality and a transcript")
            return analyze(text=item.text, modalities=["text"], model=self.model, context=context)
        return analyze(item.path, text=text, modalities=list(self.modalities), fps=self.fps, model=self.model,
                       context=context, face_model=self.face_model)


@dataclass(frozen=True)
class EmollmSystem:
    """A multimodal LLM (``model``: a trained folder or ``compact``) on whatever an item has, labels only.

    The item's media (a clip, an image or an audio file; none for a text-only item) and its subtitle go to
    :func:`emoreason.emollm.infer.analyze_with_emollm` (what ``analyze(..., model=model)`` runs; imported on
    the first call: it loads torch); with ``reason`` False (the default) it answers labels only, no
    ``[reason]`` answer (with True that answer is the explanation the report scores). The subtitle is the
    item's transcript, or else the sentence its corpus says was spoken (``meta["statement"]``: RAVDESS, the
    subtitle the compact model was trained with), or else none (the model then transcribes a clip's speech
    itself); a dialogue's earlier utterances (``meta["context"]``) go as ``context``. The Result's provenance
    keeps the raw greedy ``[emotion]`` answer and whether it parsed, which the report turns into a parse rate.
    """

    model: str
    reason: bool = False

    def __call__(self, item: EvalItem) -> Any:
        from emoreason.emollm.infer import analyze_with_emollm

        source, text, context = emollm_inputs(item)
        return analyze_with_emollm(source, self.model, text=text, context=context, reason=self.reason)


def emollm_inputs(item: EvalItem) -> tuple[Path | None, str | None, list[str] | None]:
    """(media, subtitle, context) that :class:`EmollmSystem` gives a multimodal LLM for ``item``."""
    text = item.text if item.text is not None else item.meta.get("statement") or None
    if item.path is None and not text:
        raise ConfigError(f"{item.id}: an item without media needs a transcript")
    return item.path, text, item.meta.get("context") or None


def emollm_system(model: str, reason: bool = False) -> tuple[str, EmollmSystem]:
    """The report's name for a multimodal LLM (``compact``, or ``emollm:<folder name>``) and its system;
    a folder that does not exist, or ``compact`` when it is not installed, is an error here, before any
    item runs. Imports the model code (torch)."""
    from emoreason.emollm.checkpoint import COMPACT, resolve_model

    folder = resolve_model(model)  # ModelError when the compact model is not installed
    if not folder.exists():
        raise InputNotFoundError(f"model checkpoint {model} not found")
    return (COMPACT if model == COMPACT else f"emollm:{folder.name}"), EmollmSystem(model, reason)


@dataclass
class SpeakerClipsSystem:
    """The default pipeline with the voice of each speaker's clips read together
    (:func:`emoreason.analyze_clips`: speaker normalisation, as a corpus' protocol with speaker ids allows).
    ``groups`` maps each item id to its speaker's item ids (in corpus order); an item with no speaker id is
    its own group. A group is analysed when its first item is asked for and its results handed out as the
    others are; if the group fails (a missing or unreadable clip), each of its items records that error.
    Runs in one process (``runs_in_groups``): split across workers, every worker would redo whole groups."""

    modalities: tuple[str, ...]
    groups: dict[str, tuple[str, ...]]
    items: dict[str, EvalItem]
    fps: float = 5.0
    runs_in_groups = True
    _done: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __call__(self, item: EvalItem) -> Any:
        if item.id not in self._done:
            ids = self.groups.get(item.id, (item.id,))
            clips = [self.items[i] for i in ids]
            if any(c.path is None for c in clips):
                raise ConfigError(f"{item.id}: grouping by speaker needs a media file for every clip")
            texts = [c.text for c in clips] if "text" in self.modalities else None
            try:
                results: list[Any] = analyze_clips([c.path for c in clips], modalities=list(self.modalities),
                                                   fps=self.fps, texts=texts)
            except EmoreasonError as exc:
                results = [exc] * len(ids)
            self._done.update(zip(ids, results))
        out = self._done.pop(item.id)
        if isinstance(out, Exception):
            raise EmoreasonError(f"its speaker group of {len(self.groups.get(item.id, ()))} clips failed: "
                                 f"{type(out).__name__}: {out}")
        return out


def speaker_groups(items: Sequence[EvalItem]) -> dict[str, tuple[str, ...]]:
    """Item id -> the ids of the items with the same speaker id, in corpus order (itself alone if none)."""
    by_speaker: dict[str, list[str]] = {}
    for it in items:
        if it.speaker:
            by_speaker.setdefault(it.speaker, []).append(it.id)
    return {it.id: tuple(by_speaker[it.speaker]) if it.speaker else (it.id,) for it in items}


@dataclass(frozen=True)
class FilePredictions:
    """Predictions read from a CSV (``id,label[,explanation,valence,arousal]``) or JSONL (same keys, plus
    optional ``scores``). Labels may be canonical or in the dataset's own taxonomy (mapped through its
    label map) or a common spelling; an id absent from the file is that item's error."""

    path: str
    rows: dict[str, dict[str, Any]]
    label_map: LabelMap | None = None

    @classmethod
    def load(cls, path: str | Path, dataset: LoadedDataset | None = None) -> FilePredictions:
        p = Path(path).expanduser()
        if not p.is_file():
            raise InputNotFoundError(f"predictions file {p} not found")
        if p.suffix.lower() in (".jsonl", ".json"):
            rows = []
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError:
                        raise ConfigError(f"{p} line {n}: not JSON") from None
        elif p.suffix.lower() == ".csv":
            rows = read_csv_rows(p, ("id", "label"), str(p))
        else:
            raise ConfigError(f"predictions file {p}: use .csv or .jsonl")
        by_id = {}
        for n, r in enumerate(rows, start=1):
            if not isinstance(r, dict) or "id" not in r or "label" not in r:
                raise ConfigError(f"{p} record {n}: needs 'id' and 'label'")
            by_id[str(r["id"])] = r
        lm = None
        if dataset is not None and dataset.label_map not in ("canonical", "csv"):
            lm = get_label_map(dataset.label_map)
        return cls(str(p), by_id, lm)

    def __call__(self, item: EvalItem) -> dict[str, Any]:
        row = self.rows.get(item.id)
        if row is None:
            raise KeyError(f"no prediction for id {item.id!r} in {self.path}")
        out = dict(row)
        out["label"] = self._canonical(str(row["label"]))
        return out

    def _canonical(self, label: str) -> str:
        key = label.strip().lower()
        if key in CANONICAL:
            return key
        for lm in (self.label_map, MANIFEST_LABELS):
            if lm is not None and lm.to_canonical.get(key):
                return str(lm.to_canonical[key])
        raise ValueError(f"predicted label {label!r} has no canonical counterpart")


@dataclass(frozen=True)
class ConstantSystem:
    """Always answers ``label``: the majority-class baseline that puts every other number in context."""

    label: str

    def __post_init__(self) -> None:
        if self.label not in CANONICAL:
            raise ConfigError(f"baseline label {self.label!r} is not canonical ({', '.join(CANONICAL)})")

    def __call__(self, item: EvalItem) -> dict[str, Any]:
        return {"label": self.label, "scores": {self.label: 1.0}}


def pipeline_systems(
    dataset: LoadedDataset, modality_sets: list[str], models: list[str], fps: float = 5.0,
    face_models: Sequence[str] = ("default",), voice_by_speaker: bool = False, mllm_reasoning: bool = False,
) -> tuple[dict[str, PipelineSystem | SpeakerClipsSystem | EmollmSystem], list[str]]:
    """One PipelineSystem per modality set that the dataset can feed for the ``default`` entry of
    ``models``, one :class:`EmollmSystem` per other entry (a multimodal-LLM folder or ``compact``; it reads
    every input an item has, so modality sets do not apply to it), plus notes on skipped ones.

    ``modality_sets``: face, voice, text, all, or a ``+``-joined combination such as ``face+voice``. A set
    sharing nothing with the dataset's modalities is skipped with a note; otherwise it is cut down to what
    the dataset has. ``face_models``: the default pipeline's face expression models to compare (names from
    ``FACE_MODELS``); each set that uses the face runs once per model, named e.g.
    ``default[face; face facex]``.
    ``voice_by_speaker`` adds, for each set that uses the voice, a :class:`SpeakerClipsSystem` named e.g.
    ``default[voice; by speaker]`` (when the corpus gives speaker ids). ``mllm_reasoning``: the multimodal
    LLMs also generate their ``[reason]`` answer (slow), as the explanation.
    """
    chosen_faces = list(dict.fromkeys(check_face_model(f) for f in face_models)) or [None]
    systems: dict[str, PipelineSystem | SpeakerClipsSystem | EmollmSystem] = {}
    notes: list[str] = []
    groups = speaker_groups(dataset.items) if voice_by_speaker else {}
    if voice_by_speaker and not any(len(g) > 1 for g in groups.values()):
        notes.append(f"voice by speaker skipped: {dataset.name} gives no speaker shared by two items")
        groups = {}
    for model in models:
        if model != "default":
            name, system = emollm_system(model, mllm_reasoning)
            systems.setdefault(name, system)
            continue
        tag = "default"
        for spec in modality_sets:
            wanted = parse_modality_set(spec)
            usable = tuple(m for m in wanted if m in dataset.modalities)
            if not usable:
                notes.append(
                    f"{tag}[{spec}] skipped: {dataset.name} offers only {', '.join(dataset.modalities)}"
                )
                continue
            if usable != wanted:
                notes.append(f"{tag}[{spec}] uses {'+'.join(usable)} (what {dataset.name} offers)")
            faces = chosen_faces if "face" in usable else [None]
            for face in faces:
                name = f"{tag}[{'+'.join(usable)}" + (f"; face {face}]" if face else "]")
                systems.setdefault(name, PipelineSystem(usable, None, fps, face))
            if groups and "voice" in usable:
                by_id = {it.id: it for it in dataset.items}
                systems.setdefault(f"{tag}[{'+'.join(usable)}; by speaker]",
                                   SpeakerClipsSystem(usable, groups, by_id, fps))
    return systems, notes


def parse_modality_set(spec: str) -> tuple[str, ...]:
    spec = spec.strip().lower()
    if spec in MODALITY_SETS:
        return MODALITY_SETS[spec]
    parts = tuple(p for p in spec.split("+") if p)
    if not parts or any(p not in ("face", "voice", "text") for p in parts):
        raise ConfigError(f"unknown modality set {spec!r}: use face, voice, text, all or e.g. face+voice")
    return tuple(m for m in ("face", "voice", "text") if m in parts)
