"""The compact multimodal LLM's instruction data, from RAVDESS speech, FER+ faces and MELD dialogue lines.

``python -m emoreason.training.emollm.compact_data --data ../shared/data --out DIR --seed 0`` writes
``DIR/train.jsonl`` and ``DIR/heldout.jsonl`` (the dataset builder's JSONL, read by
``emoreason.emollm.dataset.read_examples``: ``id``, ``video`` = the media file (absent for text-only
items), ``label`` (canonical), ``subtitle``, ``modalities``, and for some items ``reasoning`` with its
``reasoning_check``) and ``DIR/summary.json`` (counts per split, corpus and label; what the reasoning
step kept and dropped; the training-time estimate). The same arguments give the same files.

Splits are fixed (the evaluation measures on the held-out side): RAVDESS actors 1-14 train, 15-18 held
out; FER+ ``train`` / ``valid``; MELD ``train`` / ``dev``. Items are read by the evaluation's corpus
adapters (``emoreason.eval.datasets``), so labels go through the same maps as ``emoreason eval`` (RAVDESS
calm -> neutral; FER+ majority rule, contempt / unknown / not-a-face dropped; MELD joy -> happy).

* RAVDESS: every training clip, modality ``voice``, subtitle = the sentence spoken.
* FER+: a label-balanced sample (``--ferplus`` items: each class up to an equal share, classes smaller
  than that whole), modality ``face``, no subtitle.
* MELD: a balanced sample likewise (``--meld``), modality ``text`` (no media), subtitle = the line with
  the earlier turns of its dialogue through ``emollm.instructions.subtitle_with_context``.

Reasoning targets (``--reason-per-corpus`` training items of each corpus, balanced over labels) come
from the dataset builder run as a library (:mod:`.compact_reasoning`): the project's own perception on
the item's modality alone, and the builder's offline reasoning from the measured cues, with its
contradiction check (a contradicting text stays in the record, flagged; the reader drops its
``[reason]`` example).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emoreason.emollm.instructions import subtitle_with_context
from emoreason.eval.datasets.ferplus import FerPlusAdapter
from emoreason.eval.datasets.meld import MeldAdapter
from emoreason.eval.datasets.ravdess import RavdessAdapter
from emoreason.io.atomic import atomic_write_text
from emoreason.training.script import print_summary

TRAIN_ACTORS, HELDOUT_ACTORS = "actors:1-14", "actors:15-18"
CORPORA = ("ravdess", "ferplus", "meld")


@dataclass(frozen=True)
class Item:
    """One training or held-out item: where its media is (None: text only), its label and prompt text.

    ``text`` is what the project's own perception reads (the spoken sentence, the MELD line alone);
    ``subtitle`` what the LLM's prompt carries (for MELD with the dialogue's earlier turns).
    """

    id: str
    corpus: str
    label: str
    source_label: str
    subtitle: str
    modalities: tuple[str, ...]
    video: str | None = None
    text: str | None = None

    def record(self) -> dict[str, Any]:
        """The item as one JSONL record (without reasoning)."""
        rec: dict[str, Any] = {"id": self.id, "corpus": self.corpus}
        if self.video is not None:
            rec["video"] = self.video
        rec.update(label=self.label, source_label=self.source_label, subtitle=self.subtitle,
                   modalities=list(self.modalities))
        return rec


def ravdess_items(root: Path, split: str) -> list[Item]:
    """RAVDESS speech clips of the given actors (``actors:1-14``): voice, subtitle = the sentence."""
    data = RavdessAdapter().load(root / "ravdess_speech", split)
    return [Item(f"ravdess-{Path(it.id).stem}", "ravdess", it.label, it.source_label,
                 str(it.meta.get("statement", "")), ("voice",), str(Path(it.path).resolve()),
                 str(it.meta.get("statement", "")))
            for it in data.items]


def ferplus_items(root: Path, split: str, sample: int | None = None, seed: int = 0) -> list[Item]:
    """FER+ faces of a split (``sample``: the evaluation's own seeded sample, ``LoadedDataset.sampled``); ids
    name the split (``ferplus-valid-fer0028638``)."""
    data = FerPlusAdapter().load(root / "ferplus", split).sampled(sample, seed)
    return [Item(f"ferplus-{split}-{Path(it.id).stem}", "ferplus", it.label, it.source_label, "", ("face",),
                 str(Path(it.path).resolve()))
            for it in data.items]


def meld_items(root: Path, split: str, sample: int | None = None, seed: int = 0) -> list[Item]:
    """MELD lines of a split, text only; the subtitle carries the dialogue's earlier turns. Ids name the
    split (``meld-dev-dia0_utt1``): MELD numbers the dialogues of each split from 0."""
    data = MeldAdapter().load(root / "meld", split).sampled(sample, seed)
    return [Item(f"meld-{split}-{it.id}", "meld", it.label, it.source_label,
                 subtitle_with_context(it.text or "", list(it.meta.get("context", []))), ("text",),
                 None, it.text)
            for it in data.items]


def water_fill(sizes: dict[str, int], total: int) -> dict[str, int]:
    """How many of each class to take for ``total`` in all: an equal share each, a class smaller than
    its share whole, its unused share spread over the larger ones."""
    caps: dict[str, int] = {}
    remaining = total
    order = sorted(sizes, key=lambda k: (sizes[k], k))
    for k, lab in enumerate(order):
        caps[lab] = min(sizes[lab], remaining // (len(order) - k))
        remaining -= caps[lab]
    return caps


def balanced_sample(items: Sequence[Item], total: int | None, seed: int) -> list[Item]:
    """A seeded, label-balanced sample of ``total`` items (all of them when ``total`` is None or larger),
    kept in the input order."""
    if total is None or total >= len(items):
        return list(items)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, it in enumerate(items):
        by_label[it.label].append(i)
    caps = water_fill({lab: len(v) for lab, v in by_label.items()}, total)
    rng = random.Random(seed)
    keep = [i for lab in sorted(by_label) for i in rng.sample(by_label[lab], caps[lab])]
    return [items[i] for i in sorted(keep)]


def select(data: Path, seed: int, ferplus: int | None, meld: int | None,
           heldout_ferplus: int | None, heldout_meld: int | None) -> dict[str, dict[str, list[Item]]]:
    """split -> corpus -> items, per the fixed splits."""
    return {
        "train": {"ravdess": ravdess_items(data, TRAIN_ACTORS),
                  "ferplus": balanced_sample(ferplus_items(data, "train"), ferplus, seed),
                  "meld": balanced_sample(meld_items(data, "train"), meld, seed)},
        "heldout": {"ravdess": ravdess_items(data, HELDOUT_ACTORS),
                    "ferplus": ferplus_items(data, "valid", heldout_ferplus, seed),
                    "meld": meld_items(data, "dev", heldout_meld, seed)},
    }


def build(data: Path, out: Path, seed: int = 0, ferplus: int | None = 1700, meld: int | None = 1700,
          reason_per_corpus: int = 150, heldout_ferplus: int | None = 500, heldout_meld: int | None = None,
          perceiver: str | None = None, count_tokens: Callable[[str], int] | None = None,
          progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write ``train.jsonl``, ``heldout.jsonl`` and ``summary.json`` under ``out``; returns the summary.

    ``perceiver``: the builder's perceiver (``module:function``; default the project's pipeline).
    ``count_tokens``: a tokenizer's length function for the training-time estimate (None: no estimate).
    """
    from emoreason.training.emollm.compact_reasoning import (  # the builder loads the pipeline
        add_reasoning,
        estimate_training,
    )

    splits = select(data, seed, ferplus, meld, heldout_ferplus, heldout_meld)
    summary: dict[str, Any] = {"seed": seed, "splits": {}, "reasoning": {}}
    for split, corpora in splits.items():
        records = [it.record() for c in CORPORA for it in corpora[c]]
        if split == "train":
            chosen = {c: balanced_sample(corpora[c], reason_per_corpus, seed + 1) for c in CORPORA}
            summary["reasoning"] = add_reasoning(records, chosen, out / "builder", seed, perceiver, progress)
            if count_tokens is not None:
                summary["estimate"] = estimate_training(records, count_tokens)
        summary["splits"][split] = {c: dict(sorted(Counter(it.label for it in corpora[c]).items()))
                                    for c in CORPORA}
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        atomic_write_text(out / f"{split}.jsonl", lines)
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    return summary


def smollm2_token_counter() -> Callable[[str], int]:
    """SmolLM2-135M-Instruct's tokenizer (the packaged backbone) as a length function."""
    from transformers import AutoTokenizer  # heavy; only the estimate needs it

    from emoreason.emollm import backbones

    tok = AutoTokenizer.from_pretrained(str(backbones.llm_path("smollm2-135m-instruct")))
    return lambda text: len(tok(text, add_special_tokens=False)["input_ids"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m emoreason.training.emollm.compact_data",
                                 description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"), help="the shared corpora")
    ap.add_argument("--out", type=Path, required=True, help="output folder (outside the repository)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ferplus", type=int, default=1700, help="FER+ training items (balanced)")
    ap.add_argument("--meld", type=int, default=1700, help="MELD training items (balanced)")
    ap.add_argument("--reason-per-corpus", type=int, default=150, help="[reason] items per corpus")
    ap.add_argument("--heldout-ferplus", type=int, default=500,
                    help="FER+ valid items held out (the eval's --sample N --seed SEED items); 0: all")
    ap.add_argument("--heldout-meld", type=int, default=0, help="MELD dev items held out; 0: all")
    ap.add_argument("--no-estimate", action="store_true", help="skip the training-time estimate")
    args = ap.parse_args(argv)
    return print_summary(lambda: build(args.data, args.out, args.seed, args.ferplus, args.meld,
                                       args.reason_per_corpus, args.heldout_ferplus or None,
                                       args.heldout_meld or None,
                                       count_tokens=None if args.no_estimate else smollm2_token_counter(),
                                       progress=lambda line: print(line, file=sys.stderr, flush=True)),
                         indent=1)


if __name__ == "__main__":
    sys.exit(main())
