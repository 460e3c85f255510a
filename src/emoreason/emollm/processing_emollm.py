"""Tokenisation into Emotion-LLaMA's layout and batching.

Every sequence, for training, scoring or generation, is built by :meth:`EmoLLMProcessor.prompt_ids`,
so placeholders sit at the same places in all three. Each stream has its own placeholder token
(``<emo_frame_patches>``, ``<emo_audio>`` ...) repeated ``num_tokens`` times; a stream a clip lacks
(no face found, no audio track) gets no placeholders and no features.

The Emotion-LLaMA body (``<video>…</video> <feature>…</feature> The person in video says: … [task]
instruction``) is the user turn of the tokenizer's chat template when it has one (SmolLM2: ChatML, with
its default system turn); a tokenizer without a template gets LLaMA-2's ``<s>[INST] … [/INST]``. User
text (subtitle, instruction, answer) is tokenised with special tokens *not* recognised, so a literal
``<emo_audio>`` in a subtitle stays text and cannot add a placeholder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch

from emoreason.emollm.configuration_emollm import EmoLLMConfig
from emoreason.emollm.instructions import prompt_text_parts
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
        self.chat_template = bool(getattr(tokenizer, "chat_template", None))
        self._turn = self._chat_turn() if self.chat_template else None

    def _text(self, text: str) -> list[int]:
        if text not in self._cache:
            self._cache[text] = self._user_text(text)
        return self._cache[text]

    def _user_text(self, text: str) -> list[int]:
        """Token ids of text with special tokens not recognised (``<emo_audio>`` stays plain text)."""
        return list(self.tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"])

    def _chat_turn(self) -> tuple[list[int], list[int]]:
        """(ids before, ids after) the user message in the chat template, with the generation prompt."""
        marker = "\u2063EMOLLM\u2063"
        rendered = self.tokenizer.apply_chat_template([{"role": "user", "content": marker}], tokenize=False,
                                                      add_generation_prompt=True)
        if rendered.count(marker) != 1:
            raise ConfigError("the tokenizer's chat template does not render the user message once")
        before, after = rendered.split(marker)
        enc = self.tokenizer
        return (list(enc(before, add_special_tokens=False)["input_ids"]),
                list(enc(after, add_special_tokens=False)["input_ids"]))

    def _placeholders(self, segment: str, present: Iterable[str] | None) -> list[int]:
        keep = None if present is None else set(present)
        out: list[int] = []
        for s in self.config.streams:
            if s.get("segment", "feature") == segment and (keep is None or s["name"] in keep):
                out += [self.config.placeholder_token_ids[s["name"]]] * int(s.get("num_tokens", 1))
        return out

    def prompt_ids(self, subtitle: str | None, task: str, instruction: str,
                   streams_present: Iterable[str] | None = None,
                   max_subtitle_tokens: int | None = None) -> list[int]:
        """The chat template's user turn around ``<video>…</video> <feature>…</feature> The person in
        video says: … [task] instruction``, ending with the assistant prompt; without a template,
        ``<s>[INST] <video>…</video> <feature>…</feature> … [/INST]``. ``max_subtitle_tokens`` keeps
        only the subtitle's first tokens (0: the subtitle sentence is left out)."""
        present = None if streams_present is None else list(streams_present)
        if max_subtitle_tokens is not None and max_subtitle_tokens <= 0:
            subtitle = None
        before, said, after = prompt_text_parts(subtitle, task, instruction, close_inst=self._turn is None)
        said_ids = self._user_text(said) if said else []
        if max_subtitle_tokens is not None:
            said_ids = said_ids[:max_subtitle_tokens]
        if self._turn is not None:
            start, head, end = self._turn[0], "<video>", self._turn[1]
        else:
            start = [] if self.tokenizer.bos_token_id is None else [int(self.tokenizer.bos_token_id)]
            head, end = "[INST] <video>", []
        return (start + self._text(head) + self._placeholders("video", present)
                + self._text("</video> <feature>") + self._placeholders("feature", present)
                + self._user_text(before) + said_ids + self._user_text(after) + end)

    def answer_ids(self, answer: str) -> list[int]:
        """The target tokens: the answer then end-of-sequence. The answer is tokenised with a leading
        space (as it follows ``[/INST] `` in LLaMA-2's layout), so with byte-level BPE a label is its
        word-initial piece (" sad" is one token, "sad" two); a lone leading space piece is dropped."""
        ids = self._user_text(" " + answer.strip())
        if len(ids) > 1 and not self.tokenizer.decode(ids[:1]).strip():
            ids = ids[1:]
        return ids + [int(self.tokenizer.eos_token_id)]

    def encode(self, subtitle: str | None, task: str, instruction: str, answer: str,
               streams_present: Iterable[str] | None = None,
               max_length: int | None = None) -> dict[str, list[int]]:
        """``input_ids`` and ``labels`` (prompt positions = ignore_index, so loss is on the answer only).

        Over ``max_length``, the subtitle is cut first (its first tokens kept), then the answer (its end,
        keeping end-of-sequence); the placeholders and the instruction are never cut. Only a
        ``max_length`` too small for the prompt without a subtitle is an error."""
        prompt = self.prompt_ids(subtitle, task, instruction, streams_present)
        ans = self.answer_ids(answer)
        over = 0 if max_length is None else len(prompt) + len(ans) - max_length
        if over > 0 and subtitle and subtitle.strip():
            n_said = len(self._user_text(prompt_text_parts(subtitle, task, instruction)[1]))
            prompt = self.prompt_ids(subtitle, task, instruction, streams_present,
                                     max_subtitle_tokens=max(0, n_said - over))
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
