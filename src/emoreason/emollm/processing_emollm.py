"""Tokenisation into Emotion-LLaMA's layout and batching.

Every sequence, for training, scoring or generation, is built by :meth:`EmoLLMProcessor.prompt_ids`,
so placeholders sit at the same places in all three. Each stream has its own placeholder token
(``<emo_frame_patches>``, ``<emo_audio>`` ...) repeated ``num_tokens`` times; a stream a clip lacks
(no face found, no audio track) gets no placeholders and no features.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch

from emoreason.emollm.configuration_emollm import EmoLLMConfig
from emoreason.emollm.instructions import text_after_features
from emoreason.errors import ConfigError


def placeholder_token(stream: str) -> str:
    return f"<emo_{stream}>"


def add_placeholder_tokens(tokenizer, config: EmoLLMConfig, model=None) -> dict[str, int]:
    """Add one special placeholder token per stream, record the ids in ``config`` and resize ``model``."""
    tokens = [placeholder_token(s["name"]) for s in config.streams]
    missing = [t for t in tokens if t not in tokenizer.get_vocab()]
    if missing:
        tokenizer.add_tokens(missing, special_tokens=True)
    ids = {s["name"]: int(tokenizer.convert_tokens_to_ids(placeholder_token(s["name"])))
           for s in config.streams}
    config.placeholder_token_ids = ids
    if model is not None:
        model.config.placeholder_token_ids = dict(ids)
        emb = model.get_input_embeddings()
        if emb.weight.shape[0] < len(tokenizer):
            model.language_model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
            model.config.text_config.vocab_size = len(tokenizer)
            config.text_config.vocab_size = len(tokenizer)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return ids


class EmoLLMProcessor:
    """Builds token ids, labels and batches for :class:`EmoLLMForConditionalGeneration`."""

    def __init__(self, tokenizer, config: EmoLLMConfig):
        if not config.placeholder_token_ids:
            raise ConfigError("config has no placeholder token ids: call add_placeholder_tokens first")
        if tokenizer.eos_token_id is None:
            raise ConfigError("the tokenizer has no end-of-sequence token")
        self.tokenizer = tokenizer
        self.config = config
        self._cache: dict[str, list[int]] = {}

    def _text(self, text: str) -> list[int]:
        if text not in self._cache:
            self._cache[text] = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        return self._cache[text]

    def _placeholders(self, segment: str, present: Iterable[str] | None) -> list[int]:
        keep = None if present is None else set(present)
        out: list[int] = []
        for s in self.config.streams:
            if s.get("segment", "feature") == segment and (keep is None or s["name"] in keep):
                out += [self.config.placeholder_token_ids[s["name"]]] * int(s.get("num_tokens", 1))
        return out

    def prompt_ids(self, subtitle: str | None, task: str, instruction: str,
                   streams_present: Iterable[str] | None = None) -> list[int]:
        """``<s>[INST] <video>…</video> <feature>…</feature> The person in video says: …[/INST]``."""
        present = None if streams_present is None else list(streams_present)
        bos = [] if self.tokenizer.bos_token_id is None else [int(self.tokenizer.bos_token_id)]
        return (bos + self._text("[INST] <video>") + self._placeholders("video", present)
                + self._text("</video> <feature>") + self._placeholders("feature", present)
                + list(self.tokenizer(text_after_features(subtitle, task, instruction),
                                      add_special_tokens=False)["input_ids"]))

    def answer_ids(self, answer: str) -> list[int]:
        """The target tokens: the answer then end-of-sequence."""
        return list(self.tokenizer(answer.strip(), add_special_tokens=False)["input_ids"]) + \
            [int(self.tokenizer.eos_token_id)]

    def encode(self, subtitle: str | None, task: str, instruction: str, answer: str,
               streams_present: Iterable[str] | None = None,
               max_length: int | None = None) -> dict[str, list[int]]:
        """``input_ids`` and ``labels`` (prompt positions = ignore_index, so loss is on the answer only)."""
        prompt = self.prompt_ids(subtitle, task, instruction, streams_present)
        ans = self.answer_ids(answer)
        if max_length is not None and len(prompt) + len(ans) > max_length:
            keep = max_length - len(prompt)
            if keep < 2:
                raise ConfigError(f"max_length {max_length} leaves no room for the answer "
                                  f"(prompt is {len(prompt)} tokens)")
            ans = ans[: keep - 1] + [int(self.tokenizer.eos_token_id)]
        return {"input_ids": prompt + ans, "labels": [self.config.ignore_index] * len(prompt) + ans}

    def collate(self, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """Right-pad ``input_ids``/``labels``; stack each stream's ``features`` (zeros + mask where
        absent)."""
        pad = self.tokenizer.pad_token_id
        pad = int(self.tokenizer.eos_token_id if pad is None else pad)
        width = max(len(it["input_ids"]) for it in items)
        b = len(items)
        input_ids = torch.full((b, width), pad, dtype=torch.long)
        labels = torch.full((b, width), self.config.ignore_index, dtype=torch.long)
        attention = torch.zeros((b, width), dtype=torch.long)
        for i, it in enumerate(items):
            n = len(it["input_ids"])
            input_ids[i, :n] = torch.tensor(it["input_ids"])
            attention[i, :n] = 1
            if "labels" in it:
                labels[i, :n] = torch.tensor(it["labels"])
        batch: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention}
        if any("labels" in it for it in items):
            batch["labels"] = labels
        features: dict[str, torch.Tensor] = {}
        masks: dict[str, torch.Tensor] = {}
        for s in self.config.streams:
            name = s["name"]
            have = [name in it.get("features", {}) for it in items]
            if not any(have):
                continue
            ref = next(it["features"][name] for it, h in zip(items, have, strict=True) if h)
            stacked = torch.zeros((b, *ref.shape), dtype=ref.dtype)
            for i, (it, h) in enumerate(zip(items, have, strict=True)):
                if h:
                    stacked[i] = torch.as_tensor(it["features"][name])
            features[name] = stacked
            if not all(have):
                masks[name] = torch.tensor(have)
        if features:
            batch["features"] = features
        if masks:
            batch["feature_mask"] = masks
        return batch
