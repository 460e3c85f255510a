"""Reasoning targets for the compact model's data, by the dataset builder run as a library, and the
training-time estimate.

:func:`add_reasoning` runs ``emoreason.dataset_builder.builder.build_record`` on chosen training items,
each with its own modality only (RAVDESS ``voice``, FER+ ``face``, MELD ``text``): the project's
perception measures the cues, the builder's offline reasoning turns the fused explanation into the
reasoning text (closed with "Therefore, ... feels {label}" when the pipeline's label is the item's), and
the builder's contradiction check flags a text that argues for another emotion. Imports the builder, and
with it the whole perception pipeline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from emoreason.dataset_builder.builder import DEFAULT_PERCEIVER, BuildOptions, build_record
from emoreason.dataset_builder.manifest import ClipSpec
from emoreason.emollm.instructions import reason_target
from emoreason.errors import EmoreasonError

#: Training throughput the lead measured for SmolLM2-135M + LoRA r8 q/v, fp32, 2 threads, batch 8 x 96
#: tokens on the idle 2-core machine; the estimate divides the data's tokens by it.
TOKENS_PER_S = 250.0
#: Prompt tokens around the subtitle and the answer with one media stream (chat template and system turn,
#: the placeholder, task tag, instruction; ``EmoLLMProcessor.encode`` with SmolLM2's tokenizer and the
#: compact recipe: 75 for [emotion], 64-74 (mean 67) for the five [reason] instructions).
PROMPT_TOKENS = {"emotion": 75, "reason": 67}


def add_reasoning(records: list[dict[str, Any]], chosen: dict[str, Sequence[Any]], out_dir: Path, seed: int,
                  perceiver: str | None = None,
                  progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Add ``reasoning``, ``reasoning_check`` and ``reasoning_source`` to the records of the chosen items
    (corpus -> items with ``id``, ``video``, ``label``, ``text``, ``modalities``); builder side files go
    under ``out_dir``. Returns per corpus: items tried, reasoning kept, flagged as contradicting the label
    (with the check's reasons), empty, failed (with the error)."""
    by_id = {r["id"]: r for r in records}
    counts: dict[str, Any] = {}
    for corpus, items in chosen.items():
        c: dict[str, Any] = {"tried": 0, "kept": 0, "contradicts": 0, "empty": 0, "failed": 0,
                             "contradiction_reasons": Counter(), "failures": Counter(),
                             "kept_labels": Counter()}
        for item in items:
            c["tried"] += 1
            options = BuildOptions(seed=seed, modalities=",".join(item.modalities), reasoning="offline",
                                   perceiver=perceiver or DEFAULT_PERCEIVER)
            spec = ClipSpec(item.id, item.video or "", item.label, item.text)
            try:
                built = build_record(spec, options, out_dir)
            except EmoreasonError as exc:
                c["failed"] += 1
                c["failures"][type(exc).__name__] += 1
                continue
            text, check = built.get("reasoning") or "", built.get("reasoning_check")
            if not text:
                c["empty"] += 1
                continue
            by_id[item.id].update(reasoning=text, reasoning_check=check,
                                  reasoning_source="offline (emoreason.dataset_builder)")
            if check and check["contradicts"]:
                c["contradicts"] += 1
                c["contradiction_reasons"][_reason_kind(check["reason"])] += 1
            else:
                c["kept"] += 1
                c["kept_labels"][item.label] += 1
            if progress and c["tried"] % 25 == 0:
                progress(f"reasoning {corpus}: {c['tried']}/{len(items)} ({c['kept']} kept)")
        counts[corpus] = {k: dict(sorted(v.items())) if isinstance(v, Counter) else v for k, v in c.items()}
    return counts


def _reason_kind(reason: str) -> str:
    """The check's reason without the item's words: "names angry but never sad" -> "names another
    emotion, never the label"."""
    if reason.startswith("names "):
        return "names another emotion, never the label"
    if reason.startswith("ends on "):
        return "ends on another emotion"
    if reason.startswith("negates "):
        return "negates the label"
    return reason


def estimate_training(records: Sequence[dict[str, Any]], count_tokens: Callable[[str], int],
                      tokens_per_s: float = TOKENS_PER_S,
                      prompt_tokens: dict[str, int] | None = None) -> dict[str, Any]:
    """Examples, tokens and minutes per epoch the training data will take (before padding).

    Every record gives an ``[emotion]`` example; one with reasoning that the check did not flag gives a
    ``[reason]`` example too, whose answer is the reasoning then the inferred label."""
    prompt = prompt_tokens or PROMPT_TOKENS
    examples, tokens = Counter(), Counter()
    for r in records:
        sub = count_tokens(r.get("subtitle") or "")
        examples["emotion"] += 1
        tokens["emotion"] += prompt["emotion"] + sub + count_tokens(" " + r["label"]) + 1
        check = r.get("reasoning_check") or {}
        if r.get("reasoning") and not check.get("contradicts"):
            examples["reason"] += 1
            answer = reason_target(r["reasoning"], r["label"])
            tokens["reason"] += prompt["reason"] + sub + count_tokens(" " + answer) + 1
    total = sum(tokens.values())
    return {"examples": dict(examples), "tokens": dict(tokens), "tokens_total": total,
            "mean_tokens": {k: round(tokens[k] / examples[k], 1) for k in examples},
            "tokens_per_s": tokens_per_s, "minutes_per_epoch": round(total / tokens_per_s / 60, 1),
            "prompt_tokens": dict(prompt)}
