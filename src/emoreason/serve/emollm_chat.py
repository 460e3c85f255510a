"""The chat protocol (:class:`emoreason.serve.chat.ChatModel`) for an emoreason multimodal LLM checkpoint.

Emotion-LLaMA's prompt holds one clip and one instruction, so a conversation is read that way: the
one media part (video, audio or image) is encoded by the model's frozen encoders, the last user
message is the instruction, and a leading ``[emotion]`` or ``[reason]`` tag picks the task (default
``reason``). A system message or earlier turns have no place in that layout and are refused, not
silently dropped. Generation is greedy at temperature 0, sampled above, and streams token by token.

This module runs the model throughout, so torch and transformers are imported at its top; the server
imports it only when it is given a multimodal-LLM checkpoint.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

from emoreason.emollm.checkpoint import core_model
from emoreason.emollm.infer import load_for_inference
from emoreason.emollm.instructions import instruction_for
from emoreason.emollm.steps import encode_source
from emoreason.errors import ConfigError
from emoreason.serve.chat import ChatTurn

_TASK_TAG = re.compile(r"^\s*\[(emotion|reason)\]\s*", re.I)


class EmoLLMChat:
    """A loaded checkpoint, shared by all requests; one generation at a time (the weights are shared)."""

    def __init__(self, model_path: str | Path):
        self.model_path = str(model_path)
        self.model, self.processor = load_for_inference(self.model_path)
        self.model_id = Path(self.model_path).resolve().name or "emollm"
        self._lock = threading.Lock()

    def prompt(self, turns: Sequence[ChatTurn]) -> tuple[list[int], dict[str, Any]]:
        """The prompt ids and encoder features for a conversation (see the module's notes)."""
        if len(turns) != 1 or turns[0].role != "user":
            raise ConfigError("this model answers one user message about one clip (Emotion-LLaMA's layout); "
                              "send a single user message with no system message or history")
        turn = turns[0]
        if len(turn.media) > 1:
            raise ConfigError("this model reads one clip per request; send one video, audio or image part")
        text = turn.text
        m = _TASK_TAG.match(text)
        task = m.group(1).lower() if m else "reason"
        instruction = text[m.end():].strip() if m else text.strip()
        core = core_model(self.model)
        if not instruction:
            instruction = instruction_for(task, index=0, label_words=core.config.label_words)
        feats: dict[str, Any] = {}
        if turn.media:
            feats, _ = encode_source(core, turn.media[0].path)
        ids = self.processor.prompt_ids(None, task, instruction, list(feats))
        return ids, feats

    def stream_chat(self, turns: Sequence[ChatTurn], *, max_tokens: int, temperature: float) -> Iterator[str]:
        ids, feats = self.prompt(turns)
        core = core_model(self.model)
        tok = self.processor.tokenizer
        streamer = TextIteratorStreamer(tok, skip_prompt=True, skip_special_tokens=True, timeout=600)
        stop = threading.Event()

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
                return stop.is_set()

        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else \
            {"do_sample": False}
        failure: list[BaseException] = []

        def generate() -> None:
            try:
                with self._lock, torch.no_grad():
                    core.generate(torch.tensor([ids]), features=feats, max_new_tokens=max_tokens,
                                  streamer=streamer, eos_token_id=tok.eos_token_id,
                                  pad_token_id=tok.pad_token_id,
                                  suppress_tokens=list(core.config.placeholder_token_ids.values()),
                                  stopping_criteria=StoppingCriteriaList([_Stop()]), **sampling)
            except BaseException as exc:  # re-raised in the consuming thread below
                failure.append(exc)
                streamer.end()

        worker = threading.Thread(target=generate, name="emollm-generate", daemon=True)
        worker.start()
        try:
            for piece in streamer:
                if piece:
                    yield piece
        finally:
            stop.set()
            worker.join()
        if failure:
            raise failure[0]
