"""Inference in three public steps, so that features can be inspected or exchanged between items (e.g.
shuffled across a test set, to check that a model uses them) before the LLM reads them:

1. :func:`prepare_input`: a photo, audio file, clip or nothing (text only) and the words said ->
   :class:`Prepared` (each stream's features, the subtitle, notes);
2. :func:`score_labels`: the probability of each answer word (``config.label_words``) as the ``[emotion]``
   answer: the prompt runs once and its KV cache is shared by the words' continuations, batched; each
   word's score is the mean log-probability per token of the word then end-of-sequence (so a word the
   tokenizer splits is not penalised), softmax-normalised over the words;
3. :func:`generate_answer`: the greedy answer to the ``[emotion]`` or ``[reason]`` task (reasoning with
   repetition control).

:func:`~emoreason.emollm.infer.analyze_with_emollm` runs the three and builds the Result.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from emoreason.emollm.checkpoint import core_model
from emoreason.emollm.instructions import (
    REASON_INSTRUCTIONS,
    TASKS,
    emotion_instruction,
    subtitle_with_context,
)
from emoreason.emollm.media import load_clip_media
from emoreason.errors import ConfigError, ModelError, NoUsableModalityError
from emoreason.io.audio import ArrayAudio
from emoreason.perception.speech.asr import transcribe

#: Greedy reasoning never repeats a sequence of this many tokens (``no_repeat_ngram_size``): without it a
#: small LLM repeated one sentence ~13 times up to the token limit. Recognition answers (8 tokens) have none.
REASON_NO_REPEAT_NGRAM = 4
#: Tokens a recognition answer may take.
EMOTION_ANSWER_TOKENS = 8


@dataclass
class Prepared:
    """One item ready for the LLM: ``features`` (stream name -> [1, n, D]; a feature cache's [n, D] tensors,
    as ``FeatureCache.get`` returns them, are given their batch dimension here), the ``subtitle`` (with the
    dialogue's context), ``notes`` for the Result, the media's ``duration`` (None for text only) and the
    ``source`` it came from (None for text only)."""

    features: dict[str, torch.Tensor]
    subtitle: str
    notes: list[str] = field(default_factory=list)
    duration: float | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        self.features = {k: v.unsqueeze(0) if v.dim() == 2 else v for k, v in self.features.items()}

    @property
    def streams(self) -> list[str]:
        return list(self.features)


def _transcript(samples, notes: list[str]) -> str:
    if samples is None or len(samples) < 1600:
        return ""
    try:
        return transcribe(ArrayAudio(samples)).text
    except Exception as exc:  # ASR is optional context: say why it is missing
        notes.append(f"speech recognition failed ({exc.__class__.__name__}: {exc}); "
                     "no subtitle given to the model")
        return ""


def encode_source(core, source: str | Path):
    """(stream name -> features [1, n, D] in the layout's order, the decoded :class:`ClipMedia`) of one
    media file: the HF encoders' streams plus those emoreason computes itself (``face_measures``). Streams
    of encoders without weights are left out, with a note in the ClipMedia."""
    config = core.config
    runnable = set(core.encoders.towers) | set(config.computed_encoders())
    if not runnable:
        raise ModelError("the model has no encoder weights (it reads cached features only); set each "
                         "encoder's path in config.json to analyse media")
    cm = load_clip_media(source, config, runnable)
    missing = sorted(set(config.encoders) - runnable)
    if missing:
        cm.notes.append(f"no weights for encoder(s) {', '.join(missing)}: their streams are left out")
    with torch.no_grad():
        feats = core.encoders(cm.media, audio_lengths=cm.audio_lengths) if cm.media else {}
    feats.update(cm.features)
    return {s["name"]: feats[s["name"]] for s in config.streams if s["name"] in feats}, cm


def prepare_input(model, processor, source: str | Path | None = None, text: str | None = None,
                  context: Sequence[str] | None = None) -> Prepared:
    """Features and subtitle of one item. ``source``: an image, audio or video file, or None (text only).
    ``text``: what is said (without it a file's speech is transcribed by the default ASR); ``context``: the
    earlier turns of the dialogue, oldest first
    (:func:`~emoreason.emollm.instructions.subtitle_with_context`). Nothing to read at all is a
    :class:`~emoreason.errors.NoUsableModalityError`."""
    core = core_model(model)
    config = core.config
    notes: list[str] = []
    feats: dict[str, torch.Tensor] = {}
    duration = None
    samples = None
    if source is not None and not isinstance(source, (str, os.PathLike)):
        raise ConfigError(f"the multimodal LLM reads media from a file path, not a {type(source).__name__}")
    if source is not None:
        feats, cm = encode_source(core, source)
        notes += cm.notes
        duration, samples = cm.duration, cm.samples
    untrained = [s for s in feats if config.trained_streams is not None and s not in config.trained_streams]
    if untrained:
        notes.append(f"stream(s) {', '.join(untrained)} were never seen in training (no training example "
                     "carried them): their projected tokens are untrained, and the answer may not use them")
    said = text if text is not None else _transcript(samples, notes)
    subtitle = subtitle_with_context(said, context)
    if not feats and not subtitle:
        what = str(source) if source is not None else "the input"
        raise NoUsableModalityError(f"{what}: no face, audio or words the model could use")
    return Prepared(feats, subtitle, notes, duration, None if source is None else str(source))


def _prompt(processor, prepared: Prepared, task: str) -> list[int]:
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    instruction = emotion_instruction(processor.config.label_words) if task == "emotion" else \
        REASON_INSTRUCTIONS[0]
    return processor.prompt_ids(prepared.subtitle, task, instruction, prepared.streams)


@torch.no_grad()
def cached_continuation_log_likelihoods(core, prompt: list[int], continuations: list[list[int]],
                                        features: dict[str, torch.Tensor]) -> torch.Tensor:
    """[K] mean log-probability per token of each continuation after ``prompt``: the prompt runs once, its
    KV cache is repeated for the K continuations, which run as one right-padded batch."""
    device = core.get_input_embeddings().weight.device
    ids = torch.tensor([prompt], device=device)
    embeds = core.embed_multimodal(ids, features)
    lm = core.language_model
    out = lm(inputs_embeds=embeds, attention_mask=torch.ones_like(ids), use_cache=True)
    k, width = len(continuations), max(len(c) for c in continuations)
    cont = torch.zeros(k, width, dtype=torch.long, device=device)
    cmask = torch.zeros(k, width, dtype=torch.long, device=device)
    for i, c in enumerate(continuations):
        cont[i, : len(c)] = torch.tensor(c, device=device)
        cmask[i, : len(c)] = 1
    first = out.logits[0, -1].float().log_softmax(-1)[cont[:, 0]]  # [K]
    per_token = first[:, None]
    if width > 1:
        cache = getattr(out, "cache", None) or out.past_key_values
        cache.batch_repeat_interleave(k)
        # the cache argument is `cache` in transformers >= 5.2x, `past_key_values` before
        cache_arg = "cache" if "cache" in inspect.signature(lm.forward).parameters else "past_key_values"
        step_embeds = core.get_input_embeddings()(cont[:, :-1]).to(embeds.dtype)
        att = torch.cat([torch.ones(k, ids.shape[1], dtype=torch.long, device=device), cmask[:, :-1]], dim=1)
        logits = lm(inputs_embeds=step_embeds, attention_mask=att, use_cache=True,
                    **{cache_arg: cache}).logits.float().log_softmax(-1)
        rest = logits.gather(-1, cont[:, 1:].unsqueeze(-1)).squeeze(-1)
        per_token = torch.cat([per_token, rest], dim=1)
    per_token = per_token * cmask
    return per_token.sum(-1) / cmask.sum(-1)


def score_labels(model, processor, prepared: Prepared) -> dict[str, float]:
    """Each answer word's probability (softmax over ``config.label_words`` of the mean log-probability per
    token of the word then end-of-sequence, as the ``[emotion]`` answer)."""
    core = core_model(model)
    words = list(core.config.label_words)
    scores = cached_continuation_log_likelihoods(core, _prompt(processor, prepared, "emotion"),
                                                 [processor.answer_ids(w) for w in words], prepared.features)
    return dict(zip(words, torch.softmax(scores, dim=0).tolist(), strict=True))


def generate_text(model, processor, prompt: list[int], feats: dict[str, torch.Tensor],
                  max_new_tokens: int, no_repeat_ngram_size: int = 0) -> str:
    """Greedy continuation of ``prompt`` (placeholder tokens never generated), decoded."""
    core = core_model(model)
    tok = processor.tokenizer
    new = core.generate(torch.tensor([prompt]), features=feats, max_new_tokens=max_new_tokens,
                        do_sample=False, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                        suppress_tokens=list(core.config.placeholder_token_ids.values()),
                        no_repeat_ngram_size=no_repeat_ngram_size)
    return tok.decode(new[0], skip_special_tokens=True).strip()


def generate_answer(model, processor, prepared: Prepared, task: str = "emotion",
                    max_new_tokens: int | None = None) -> str:
    """The greedy answer to ``task``: ``"emotion"`` (the recognition prompt listing the answer words; at
    most :data:`EMOTION_ANSWER_TOKENS` tokens by default) or ``"reason"`` (Emotion-LLaMA's first reasoning
    prompt, no 4-token sequence repeated; 200 tokens by default)."""
    prompt = _prompt(processor, prepared, task)
    if task == "emotion":
        return generate_text(model, processor, prompt, prepared.features,
                             max_new_tokens or EMOTION_ANSWER_TOKENS)
    return generate_text(model, processor, prompt, prepared.features, max_new_tokens or 200,
                         REASON_NO_REPEAT_NGRAM)
