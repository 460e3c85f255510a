"""Run a trained multimodal LLM on a user's file (or text alone) and return an emoreason
:class:`~emoreason.result.Result`, through the three steps of :mod:`~emoreason.emollm.steps`:

1. **input**: the file's stream features (frozen encoders, the face stage's measures) and the subtitle
   (given, or transcribed; with the dialogue's earlier turns);
2. **scores**: the probability of each answer word (``config.label_words``) as the ``[emotion]``
   answer (mean log-probability per token of the word then end-of-sequence, softmax over the words),
   mapped onto the label set (words without a label there, like *doubt*, are reported in a note with
   their share);
3. **label**: the greedy ``[emotion]`` answer parsed against the label set; an answer that names no
   label is reported in a note and the label then comes from the scores (``strict=True`` raises
   :class:`~emoreason.errors.UnparsableAnswerError` instead) -- never silently "neutral";
4. **explanation**: the greedy ``[reason]`` answer, with repetition control (skipped with
   ``reason=False``).

A stream the clip has but no training example carried (``config.trained_streams``) is used, and a note
in the Result says so. :func:`answer_word_log_scores` is the scoring without the KV cache (one forward
pass over prompt + word per word, batched), the reference the cached scoring is tested against.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from emoreason import __version__
from emoreason.emollm.answer_parsing import SYNONYMS, parse_answer
from emoreason.emollm.checkpoint import core_model, load_trained, resolve_model
from emoreason.emollm.steps import (
    REASON_NO_REPEAT_NGRAM,
    Prepared,
    generate_answer,
    generate_text,
    prepare_input,
    score_labels,
)
from emoreason.errors import UnparsableAnswerError
from emoreason.labels import CANONICAL, get_label_map, valence_arousal_from_scores
from emoreason.result import ModalitySummary, Result

__all__ = ["REASON_NO_REPEAT_NGRAM", "analyze_with_emollm", "answer_word_log_scores", "generate_reasoning",
           "load_for_inference", "word_scores_to_label_set"]

#: Result modality of each encoder kind ("frame" = the whole scene frame, not a face crop).
_MODALITY_OF_KIND = {"frame": "frame", "face": "face", "temporal": "face", "audio": "voice",
                     "face_measures": "face"}


@functools.lru_cache(maxsize=2)
def load_for_inference(model_path: str) -> tuple[Any, Any]:
    """(model in eval mode, processor), cached per path; ``"compact"`` is the shipped compact model."""
    model, processor = load_trained(resolve_model(model_path), is_trainable=False)
    model.eval()
    return model, processor


def word_scores_to_label_set(word_probs: dict[str, float],
                             label_set: str) -> tuple[dict[str, float], float, list[str]]:
    """Answer-word probabilities -> label-set scores (summing to 1), the mass that had no label, and the
    words that carried it."""
    lm = get_label_map(label_set)
    out = dict.fromkeys(CANONICAL if lm.name == "canonical" else lm.labels, 0.0)
    lost = 0.0
    unmapped: list[str] = []
    for word, p in word_probs.items():
        target = word if word in out else None
        if target is None:
            concept = SYNONYMS.get(word)
            if concept in out:
                target = concept
            elif concept is not None and lm.name != "canonical":
                target = lm.from_canonical.get(concept)
        if target in out:
            out[target] += p
        else:
            lost += p
            unmapped.append(word)
    total = sum(out.values())
    if total <= 0:
        raise UnparsableAnswerError(f"none of the model's answer words maps onto the {label_set} label set")
    return {k: v / total for k, v in out.items()}, lost, unmapped


def answer_word_log_scores(core, processor, prompt: list[int], words: list[str],
                           features: dict[str, torch.Tensor]) -> torch.Tensor:
    """[K] mean log-probability per token of each word as the whole answer (its tokens, then
    end-of-sequence): length-normalised, so a label the tokenizer splits in pieces is not penalised
    against a one-piece label, as a plain sum would."""
    return core.continuation_log_likelihoods(torch.tensor([prompt]), [processor.answer_ids(w) for w in words],
                                             features=features, reduction="mean")


def generate_reasoning(model, processor, prompt: list[int], feats: dict[str, torch.Tensor],
                       max_new_tokens: int) -> str:
    """Greedy ``[reason]`` answer to ``prompt`` with repetition control (:data:`REASON_NO_REPEAT_NGRAM`)."""
    return generate_text(model, processor, prompt, feats, max_new_tokens, REASON_NO_REPEAT_NGRAM)


@dataclass(frozen=True)
class Recognition:
    """One item's label: the label-set ``scores`` (from the answer words' probabilities; ``lost`` the mass
    of ``unmapped`` words with no label there), the raw greedy ``[emotion]`` ``answer``, whether it
    ``parsed`` (else the label is the scores' arg-max and ``parse_error`` says why)."""

    label: str
    scores: dict[str, float]
    answer: str
    parsed: bool
    lost: float = 0.0
    unmapped: tuple[str, ...] = ()
    parse_error: str = ""
    word_probs: dict[str, float] | None = None  # each answer word's probability, before the mapping


def recognise(model, processor, prepared: Prepared, label_set: str = "canonical",
              strict: bool = False) -> Recognition:
    """The label of prepared inputs: the answer words' probabilities (:func:`score_labels`) mapped onto
    ``label_set``, then the greedy ``[emotion]`` answer parsed; an answer naming no label raises
    :class:`UnparsableAnswerError` with ``strict``, else the label is the scores' arg-max."""
    word_probs = score_labels(model, processor, prepared)
    scores, lost, unmapped = word_scores_to_label_set(word_probs, label_set)
    answer = generate_answer(model, processor, prepared, "emotion")
    try:
        label, parsed, error = parse_answer(answer, label_set).label, True, ""
    except UnparsableAnswerError as exc:
        if strict:
            raise
        label, parsed, error = max(scores, key=scores.get), False, str(exc)
    return Recognition(label, scores, answer, parsed, lost, tuple(unmapped), error, word_probs)


def analyze_with_emollm(source: str | Path | None, model_path: str | Path, text: str | None = None,
                        label_set: str = "canonical", *, context: Sequence[str] | None = None,
                        reason: bool = True, strict: bool = False, max_new_tokens: int = 200) -> Result:
    """Recognise and explain the emotion in ``source`` with the multimodal LLM at ``model_path`` (a folder,
    or ``"compact"``: the shipped compact model, :func:`~emoreason.emollm.checkpoint.resolve_model`).

    ``source``: an image, audio or video file, or None with ``text`` (text only). ``text`` is the subtitle
    (what the person says); without it a file's speech is transcribed with the default ASR. ``context``:
    earlier turns of the dialogue, oldest first. ``label_set`` names the taxonomy of the result (see
    :data:`emoreason.labels.LABEL_MAPS`). ``reason=False`` skips the ``[reason]`` generation (the
    explanation is then empty). The provenance holds the raw greedy ``[emotion]`` answer
    (``emollm_answer``) and whether it named a label (``emollm_answer_parsed``).
    """
    lm = get_label_map(label_set)
    model, processor = load_for_inference(str(model_path))
    config = core_model(model).config
    prepared = prepare_input(model, processor, source, text=text, context=context)
    notes = list(prepared.notes)
    present, subtitle = prepared.streams, prepared.subtitle
    rec = recognise(model, processor, prepared, lm.name, strict=strict)
    scores, label, answer, parsed = rec.scores, rec.label, rec.answer, rec.parsed
    if rec.lost > 0.005:
        notes.append(f"{rec.lost:.0%} of the answer probability went to words with no {lm.name} label "
                     f"({', '.join(rec.unmapped)})")
    if not parsed:
        notes.append(f"{rec.parse_error}; the label is taken from the answer-word probabilities instead")
    top = max(scores, key=scores.get)
    if label != top:
        notes.append(f"the generated answer says {label!r} while the answer-word probabilities "
                     f"favour {top!r}")
    explanation = ""
    if reason:
        explanation = generate_answer(model, processor, prepared, "reason", max_new_tokens)
        try:
            said = parse_answer(explanation, lm.name).label
            if said != label:
                notes.append(f"the reasoning concludes {said!r}, the recognition answer {label!r}")
        except UnparsableAnswerError:
            notes.append("the reasoning names no label of the label set")
    canon = scores if lm.name == "canonical" else _to_canonical(scores, lm)
    valence, arousal = valence_arousal_from_scores(canon) if canon else (0.0, 0.0)
    modality_of = {s: _MODALITY_OF_KIND[config.encoders[config.stream(s)["encoder"]]["kind"]]
                   for s in present}
    modalities = {m: ModalitySummary(used=m in modality_of.values(),
                                     reason=None if m in modality_of.values() else "no input for its streams",
                                     details={"streams": [s for s in present if modality_of[s] == m]})
                  for m in ("face", "voice", "frame")}
    modalities["text"] = ModalitySummary(used=bool(subtitle), reason=None if subtitle else "no subtitle",
                                         details={"transcript": subtitle})
    return Result(input=str(source) if source is not None else "<text>", duration=prepared.duration,
                  label=label, scores=scores, valence=valence,
                  arousal=arousal, modalities=modalities, explanation=explanation, transcript=subtitle,
                  label_set=lm.name, notes=notes,
                  provenance={"version": __version__, "pipeline": "emollm", "model": str(model_path),
                              "emollm_answer": answer, "emollm_answer_parsed": parsed,
                              "answer_word_probs": rec.word_probs,
                              "valence_arousal": "derived from category scores "
                                                 "(emoreason.labels.VALENCE_AROUSAL)"})


def _to_canonical(scores: dict[str, float], lm) -> dict[str, float]:
    out: dict[str, float] = {}
    for lab, p in scores.items():
        canon = lm.to_canonical.get(lab)
        if canon is not None:
            out[canon] = out.get(canon, 0.0) + p
    return out
