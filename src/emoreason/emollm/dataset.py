"""Instruction data for the multimodal LLM: MERR JSON and the dataset builder's JSONL -> examples.

Accepted inputs (the reader is tolerant; what it cannot use is counted in ``ReadReport``, never guessed):

* **MERR JSON** (Emotion-LLaMA): an object keyed by clip name. Per clip: ``pseu_emotion`` (label),
  ``caption`` (coarse file), ``smp_reason_caption`` or ``reason_caption`` (fine file), ``text``
  (subtitle, fine file). Optional ground-truth labels from a MERR text list (``name frames label -10``
  per line) override ``pseu_emotion``; optional subtitles from a CSV with ``name`` and ``english`` /
  ``sentence`` / ``subtitle`` columns.
* **MER-Factory JSON** (one clip per file, as in ``merr_format_examples``): ``source_path``,
  ``final_summary`` (the reasoning), ``coarse_descriptions_at_peak`` (its ``audio_analysis`` may hold
  the transcript). These carry no label: they give ``[reason]`` examples only.
* **JSONL** from the dataset builder, one record per clip: ``id``, ``video``, ``label``, ``subtitle`` or
  ``transcript``, ``coarse_caption``, ``reasoning`` (all but ``id`` optional). A record with no ``video``
  whose ``modalities`` field names only ``text`` is text-only: it trains with no media features (it is
  neither looked for in the feature cache nor reported as missing media).

Each clip gives an ``[emotion]`` example (answer: the label word) when it has a label, and a
``[reason]`` example when it has the stage's text (``coarse``: the coarse caption; ``fine``: the
reasoning), whose answer is that text + " Therefore, it is inferred that his emotional state is: " +
label, as in Emotion-LLaMA's loader. Labels are written in the model's answer vocabulary
(``label_words``, MERR's nine words by default); a label with no word there is skipped and counted.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emoreason.emollm.answer_parsing import SYNONYMS
from emoreason.emollm.instructions import MERR_LABEL_WORDS, reason_target
from emoreason.errors import ConfigError, InputNotFoundError
from emoreason.labels import MERR

STAGES = ("coarse", "fine")


@dataclass(frozen=True)
class InstructionExample:
    """One training example: a clip, a task tag, the answer text and the clip's subtitle."""

    clip_id: str
    task: str
    answer: str
    subtitle: str = ""
    label: str | None = None
    video: str | None = None
    #: no media at all (a builder record with ``modalities: [text]`` and no ``video``): trained on the words
    #: alone, with no features, rather than looked for in the feature cache
    text_only: bool = False


@dataclass
class ReadReport:
    """What a reader kept and skipped (reason -> count)."""

    clips: int = 0
    examples: int = 0
    skipped: Counter = field(default_factory=Counter)

    def line(self) -> str:
        skipped = ", ".join(f"{n} {why}" for why, n in self.skipped.most_common()) or "none"
        return f"{self.clips} clips, {self.examples} examples; skipped: {skipped}"


def to_answer_word(label: str | None, label_words: Sequence[str] = MERR_LABEL_WORDS) -> str | None:
    """A dataset label in the model's answer vocabulary (exact, or via synonyms), or ``None``."""
    if not label:
        return None
    key = str(label).strip().lower()
    if key in label_words:
        return key
    concept = SYNONYMS.get(key)
    if concept is None:
        return None
    candidates = [w for w in label_words if SYNONYMS.get(w) == concept]
    preferred = MERR.from_canonical.get(concept)  # fearful -> "fear", not "worried"
    if preferred in candidates:
        return preferred
    return candidates[0] if candidates else None


def clip_examples(clip_id: str, label: str | None, subtitle: str, text: str | None, stage: str,
                  report: ReadReport, label_words: Sequence[str] = MERR_LABEL_WORDS,
                  video: str | None = None, text_only: bool = False) -> list[InstructionExample]:
    """The ``[emotion]`` and ``[reason]`` examples of one clip."""
    report.clips += 1
    word = to_answer_word(label, label_words)
    if label and word is None:
        report.skipped[f"label {label!r} not in the answer vocabulary"] += 1
    out = []
    if word is not None:
        out.append(InstructionExample(clip_id, "emotion", word, subtitle, word, video, text_only))
    if text and text.strip():
        answer = reason_target(text, word) if word is not None else text.strip()
        out.append(InstructionExample(clip_id, "reason", answer, subtitle, word, video, text_only))
    elif stage:
        report.skipped[f"no {stage} text"] += 1
    report.examples += len(out)
    return out


def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise InputNotFoundError(f"{path}: no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid UTF-8 JSON ({exc})") from None


def read_label_list(path: str | Path) -> dict[str, str]:
    """A MERR text list (``name frame_count label -10`` per line) -> name -> label."""
    out = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 3:
            out[parts[0]] = parts[2]
    return out


def read_subtitles(path: str | Path) -> dict[str, str]:
    """A transcript CSV (``name`` and ``english`` / ``sentence`` / ``subtitle`` columns) -> name -> text."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for col in ("english", "sentence", "subtitle", "transcript", "text"):
        if rows and col in rows[0]:
            return {r["name"]: r[col] or "" for r in rows if r.get("name")}
    raise ConfigError(f"{path}: needs a 'name' column and one of english/sentence/subtitle/transcript/text")


def read_merr(path: str | Path, stage: str = "fine", labels: dict[str, str] | None = None,
              subtitles: dict[str, str] | None = None,
              label_words: Sequence[str] = MERR_LABEL_WORDS) -> tuple[list[InstructionExample], ReadReport]:
    """Examples from a MERR coarse/fine JSON file or a MER-Factory single-clip JSON file."""
    if stage not in STAGES:
        raise ConfigError(f"stage must be one of {STAGES}, got {stage!r}")
    path = Path(path)
    data = _load_json(path)
    report = ReadReport()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object keyed by clip name")
    if "source_path" in data and "final_summary" in data:  # MER-Factory: one clip per file
        clip = Path(str(data["source_path"])).stem
        audio = (data.get("coarse_descriptions_at_peak") or {}).get("audio_analysis", "")
        subtitle = (subtitles or {}).get(clip, audio.split("\n")[0] if audio else "")
        text = data.get("final_summary") if stage == "fine" else \
            (data.get("coarse_descriptions_at_peak") or {}).get("visual_expression")
        label = (labels or {}).get(clip)
        return clip_examples(clip, label, subtitle, text, stage, report, label_words), report
    examples: list[InstructionExample] = []
    for clip, rec in data.items():
        if not isinstance(rec, dict):
            report.skipped["record is not an object"] += 1
            continue
        label = (labels or {}).get(clip) or rec.get("pseu_emotion") or rec.get("label")
        subtitle = (subtitles or {}).get(clip) or rec.get("text") or rec.get("subtitle") or ""
        if stage == "coarse":
            text = rec.get("caption") or rec.get("coarse_caption")
        else:
            text = rec.get("smp_reason_caption") or rec.get("reason_caption") or rec.get("reasoning")
        examples += clip_examples(str(clip), label, str(subtitle), text, stage, report, label_words)
    return examples, report


def is_text_only(rec: dict[str, Any]) -> bool:
    """Whether a builder record has words only: no ``video`` and a ``modalities`` field (a list or a
    comma-separated string) naming only ``text`` (or ``words``). A record without the field is not."""
    mods = rec.get("modalities")
    if rec.get("video") or mods is None:
        return False
    names = [m.strip() for m in (mods.split(",") if isinstance(mods, str) else mods)]
    return bool(names) and set(names) <= {"text", "words"}


def read_jsonl(path: str | Path, stage: str = "fine",
               label_words: Sequence[str] = MERR_LABEL_WORDS) -> tuple[list[InstructionExample], ReadReport]:
    """Examples from the dataset builder's JSONL (one record per clip); bad lines are counted, not fatal."""
    if stage not in STAGES:
        raise ConfigError(f"stage must be one of {STAGES}, got {stage!r}")
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(f"{path}: no such file")
    report = ReadReport()
    examples: list[InstructionExample] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                report.skipped["line is not JSON"] += 1
                continue
            clip = rec.get("id") or (Path(rec["video"]).stem if rec.get("video") else None)
            if not clip:
                report.skipped["record has no id"] += 1
                continue
            subtitle = rec.get("subtitle") or rec.get("transcript") or ""
            text = rec.get("coarse_caption") if stage == "coarse" else rec.get("reasoning")
            check = rec.get("reasoning_check") or {}
            contradicted = stage != "coarse" and bool(text) and check.get("contradicts")
            if contradicted:
                # MERR filtered such reasoning: keep the clip's [emotion] example, drop its [reason] one
                report.skipped["reasoning that contradicts the label (its [reason] example)"] += 1
            examples += clip_examples(str(clip), rec.get("label"), str(subtitle),
                                      None if contradicted else text, "" if contradicted else stage, report,
                                      label_words, rec.get("video"), is_text_only(rec))
    return examples, report


def read_examples(paths: Iterable[str | Path], stage: str = "fine", labels_file: str | Path | None = None,
                  subtitles_file: str | Path | None = None, label_words: Sequence[str] = MERR_LABEL_WORDS,
                  ) -> tuple[list[InstructionExample], ReadReport]:
    """Read several files (``.jsonl`` by the builder's reader, ``.json`` by the MERR reader) into one
    list."""
    labels = read_label_list(labels_file) if labels_file else None
    subtitles = read_subtitles(subtitles_file) if subtitles_file else None
    total = ReadReport()
    out: list[InstructionExample] = []
    for p in paths:
        if str(p).endswith(".jsonl"):
            ex, rep = read_jsonl(p, stage, label_words)
        else:
            ex, rep = read_merr(p, stage, labels, subtitles, label_words)
        out += ex
        total.clips += rep.clips
        total.examples += rep.examples
        total.skipped.update(rep.skipped)
    return out, total
