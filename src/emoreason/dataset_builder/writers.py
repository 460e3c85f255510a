"""The dataset's files: our JSONL, MERR (Emotion-LLaMA's field names) and ShareGPT/LLaVA conversations.

Every file is written atomically, in the records' order, with sorted keys inside each record, so the
same records always give byte-identical files.

MERR layout (what Emotion-LLaMA's ``FeatureFaceDataset`` reads; see docs/dataset_builder.md):
``MERR_coarse_grained.json`` / ``MERR_fine_grained.json`` keyed by clip name with ``AU_list``,
``visual_prior_list``, ``audio_prior_list``, ``peak_index`` (a string, as in MERR), ``peak_AU_list``,
``pseu_emotion`` and ``caption`` (coarse) or ``smp_reason_caption``, ``reason_caption`` and ``text``
(fine); ``MERR_coarse_grained.txt`` / ``MERR_fine_grained.txt`` with one ``name frame_count label``
line per clip; ``transcription_en_all.csv`` with ``name,sentence`` (a cell a spreadsheet would take for a
formula, such as a subtitle starting with ``-`` or ``=``, gets a leading ``'``:
:func:`~emoreason.io.results.spreadsheet_safe`; ``emoreason.emollm.dataset.read_subtitles`` removes it
again). Labels are MERR's words
(``fearful`` -> ``fear``, ``surprised`` -> ``surprise``); ``disgusted`` has no MERR label and is left out.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from emoreason.emollm.instructions import REASON_INSTRUCTIONS
from emoreason.errors import ConfigError
from emoreason.io.atomic import atomic_write_text
from emoreason.io.results import spreadsheet_safe
from emoreason.labels import CANONICAL, MERR

RECOGNITION_PROMPT = ("Please determine which emotion label in the video represents: "
                      + ", ".join(CANONICAL) + ".")
#: Emotion-LLaMA's five reasoning instructions (one is drawn per clip with the build's seed).
REASON_PROMPTS: tuple[str, ...] = REASON_INSTRUCTIONS


def _dumps(obj: Any, indent: int | None = None) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=indent)


def write_jsonl(records: Iterable[Mapping[str, Any]], path: str | Path) -> int:
    lines = [_dumps(r) for r in records]
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return len(lines)


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ConfigError(f"{path}:{lineno}: not a JSON line ({exc.msg})") from None
    return out


def merr_label(label: str | None) -> str | None:
    """A canonical label in MERR's words, or None where MERR has no such class."""
    return MERR.from_canonical.get(label) if label else None


def usable_for_training(record: Mapping[str, Any], keep_contradictions: bool = False) -> tuple[bool, str]:
    """Whether a record goes into the training exports, and if not, why (a counted reason)."""
    if not record.get("label"):
        return False, "no canonical label"
    check = record.get("reasoning_check") or {}
    if check.get("contradicts") and not keep_contradictions:
        return False, "reasoning contradicts the label"
    return True, ""


def merr_entries(records: Sequence[Mapping[str, Any]], grain: str) -> dict[str, dict[str, Any]]:
    """MERR JSON entries for the records MERR's label set can express (``grain``: coarse or fine)."""
    if grain not in ("coarse", "fine"):
        raise ConfigError(f"grain must be 'coarse' or 'fine', got {grain!r}")
    out: dict[str, dict[str, Any]] = {}
    for r in records:
        word = merr_label(r.get("label"))
        if word is None or (grain == "fine" and not r.get("reasoning")):
            continue
        peak = r.get("peak") or {}
        entry = {
            "AU_list": list(peak.get("frequent_aus") or []),
            "visual_prior_list": list(peak.get("phrases") or []),
            "audio_prior_list": r.get("audio_description", ""),
            "peak_index": str(peak.get("frame_index") if peak.get("frame_index") is not None else 0),
            "peak_AU_list": list(peak.get("active_aus") or []),
            "pseu_emotion": word,
        }
        if grain == "coarse":
            entry["caption"] = r.get("coarse_caption", "")
        else:
            entry["smp_reason_caption"] = r.get("reasoning", "")
            entry["reason_caption"] = r.get("reasoning", "")
            entry["text"] = r.get("subtitle") or ""
        out[r["id"]] = entry
    return out


def write_merr(records: Sequence[Mapping[str, Any]], out_dir: str | Path,
               keep_contradictions: bool = False) -> dict[str, int]:
    """Write the MERR files under ``out_dir``; returns how many clips each grain holds."""
    out = Path(out_dir)
    by_id = {r["id"]: r for r in records}
    coarse = merr_entries([r for r in records if r.get("label")], "coarse")
    fine = merr_entries([r for r in records if usable_for_training(r, keep_contradictions)[0]], "fine")
    for grain, entries in (("coarse", coarse), ("fine", fine)):
        atomic_write_text(out / f"MERR_{grain}_grained.json",
                          json.dumps(entries, ensure_ascii=False, indent=2))
        lines = [f"{name} {by_id[name].get('frame_count') or 0} {e['pseu_emotion']}"
                 for name, e in entries.items()]
        atomic_write_text(out / f"MERR_{grain}_grained.txt", "".join(line + "\n" for line in lines))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["name", "sentence"])
    for name in coarse:
        writer.writerow([spreadsheet_safe(name), spreadsheet_safe(by_id[name].get("subtitle") or "")])
    atomic_write_text(out / "transcription_en_all.csv", buf.getvalue())
    return {"coarse": len(coarse), "fine": len(fine)}


def read_merr(path: str | Path) -> dict[str, dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a MERR file is a JSON object keyed by clip name")
    return data


def sharegpt_entries(records: Sequence[Mapping[str, Any]], seed: int = 0, media: str = "video",
                     keep_contradictions: bool = False) -> list[dict[str, Any]]:
    """LLaVA/ShareGPT conversations: a recognition turn, then (with reasoning) a reasoning turn.

    ``media`` "video" points at the clip (``<video>``); "image" at its peak frame (``<image>``).
    The reasoning instruction is drawn from :data:`REASON_PROMPTS` by a RNG seeded with
    ``(seed, clip id)``, so it does not depend on the order or the number of clips.
    """
    if media not in ("video", "image"):
        raise ConfigError(f"media must be 'video' or 'image', got {media!r}")
    tag = f"<{media}>"
    out = []
    for r in records:
        ok, _ = usable_for_training(r, keep_contradictions)
        if not ok:
            continue
        said = (r.get("subtitle") or "").strip()
        context = f"The person in the video says: {said} " if said else ""
        turns = [{"from": "human", "value": f"{tag}\n{context}{RECOGNITION_PROMPT}"},
                 {"from": "gpt", "value": r["label"]}]
        if r.get("reasoning"):
            prompt = random.Random(f"{seed}:{r['id']}").choice(REASON_PROMPTS)
            turns += [{"from": "human", "value": prompt}, {"from": "gpt", "value": r["reasoning"]}]
        out.append({"id": r["id"], media: r["video"] if media == "video" else r["image"],
                    "conversations": turns})
    return out


def write_sharegpt(records: Sequence[Mapping[str, Any]], path: str | Path, seed: int = 0,
                   media: str = "video", keep_contradictions: bool = False) -> int:
    entries = sharegpt_entries(records, seed=seed, media=media, keep_contradictions=keep_contradictions)
    atomic_write_text(path, json.dumps(entries, ensure_ascii=False, indent=2))
    return len(entries)


def read_sharegpt(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, list) or any("conversations" not in e for e in data):
        raise ConfigError(f"{path}: a ShareGPT/LLaVA file is a JSON list of entries with 'conversations'")
    return data
