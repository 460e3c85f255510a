"""Run a trained multimodal LLM on a user's file and return an emoreason :class:`~emoreason.result.Result`.

Steps: decode the clip (frames, face crops, audio), encode with the model's frozen encoders, then

1. **scores**: the probability of each answer word (``config.label_words``, e.g. MERR's nine) as the
   ``[emotion]`` answer: the mean log-probability per token of the word's answer tokens (the word, then
   end-of-sequence; see :func:`answer_word_log_scores`), softmax-normalised over the words and mapped
   onto the label set (words without a label there, like *doubt*, are reported in a note with their share);
2. **label**: the greedy ``[emotion]`` answer parsed against the label set; an answer that names no
   label is reported in a note and the label then comes from the scores (``strict=True`` raises
   :class:`~emoreason.errors.UnparsableAnswerError` instead) — never silently "neutral";
3. **explanation**: the greedy ``[reason]`` answer, with repetition control.

A stream the clip has but no training example carried (``config.trained_streams``) is used, and a note
in the Result says so.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import torch

from emoreason import __version__
from emoreason.emollm.answer_parsing import SYNONYMS, parse_answer
from emoreason.emollm.checkpoint import core_model, load_trained
from emoreason.emollm.instructions import EMOTION_INSTRUCTIONS, REASON_INSTRUCTIONS
from emoreason.emollm.media import load_clip_media
from emoreason.errors import ModelError, NoUsableModalityError, UnparsableAnswerError
from emoreason.io.audio import ArrayAudio
from emoreason.labels import CANONICAL, get_label_map, valence_arousal_from_scores
from emoreason.perception.speech.asr import transcribe
from emoreason.result import ModalitySummary, Result

#: Result modality of each encoder kind ("frame" = the whole scene frame, not a face crop).
_MODALITY_OF_KIND = {"frame": "frame", "face": "face", "temporal": "face", "audio": "voice",
                     "face_measures": "face"}


@functools.lru_cache(maxsize=2)
def load_for_inference(model_path: str) -> tuple[Any, Any]:
    """(model in eval mode, processor), cached per path."""
    model, processor = load_trained(model_path, is_trainable=False)
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


#: Greedy reasoning never repeats a sequence of this many tokens (``no_repeat_ngram_size``): without it a
#: small LLM repeated one sentence ~13 times up to the token limit. Recognition answers (8 tokens) have none.
REASON_NO_REPEAT_NGRAM = 4


def _generate_text(model, processor, prompt: list[int], feats: dict[str, torch.Tensor],
                   max_new_tokens: int, no_repeat_ngram_size: int = 0) -> str:
    core = core_model(model)
    tok = processor.tokenizer
    new = core.generate(torch.tensor([prompt]), features=feats, max_new_tokens=max_new_tokens,
                        do_sample=False, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                        suppress_tokens=list(core.config.placeholder_token_ids.values()),
                        no_repeat_ngram_size=no_repeat_ngram_size)
    return tok.decode(new[0], skip_special_tokens=True).strip()


def generate_reasoning(model, processor, prompt: list[int], feats: dict[str, torch.Tensor],
                       max_new_tokens: int) -> str:
    """Greedy ``[reason]`` answer with repetition control (:data:`REASON_NO_REPEAT_NGRAM`)."""
    return _generate_text(model, processor, prompt, feats, max_new_tokens, REASON_NO_REPEAT_NGRAM)


def _subtitle(text: str | None, cm, notes: list[str]) -> str:
    if text is not None:
        return text
    if cm.samples is None or len(cm.samples) < 1600:
        return ""
    try:
        return transcribe(ArrayAudio(cm.samples)).text
    except Exception as exc:  # ASR is optional context: say why it is missing
        notes.append(f"speech recognition failed ({exc.__class__.__name__}: {exc}); "
                     "no subtitle given to the model")
        return ""


def analyze_with_emollm(source: str | Path, model_path: str | Path, text: str | None = None,
                     label_set: str = "canonical", *, reason: bool = True, strict: bool = False,
                     max_new_tokens: int = 200) -> Result:
    """Recognise and explain the emotion in ``source`` with the multimodal LLM at ``model_path``.

    ``text`` is the subtitle (what the person says); without it the clip is transcribed with the
    default ASR. ``label_set`` names the taxonomy of the result (see :data:`emoreason.labels.LABEL_MAPS`).
    """
    lm = get_label_map(label_set)
    model, processor = load_for_inference(str(model_path))
    core = core_model(model)
    config = core.config
    towers = set(core.encoders.towers) | set(config.computed_encoders())
    if not towers:
        raise ModelError(f"{model_path}: the model has no encoder weights (it reads cached features only); "
                         "set each encoder's path in config.json to analyse media")
    cm = load_clip_media(source, config, towers)
    notes = list(cm.notes)
    missing = sorted(set(config.encoders) - towers)
    if missing:
        notes.append(f"no weights for encoder(s) {', '.join(missing)}: their streams are left out")
    with torch.no_grad():
        feats = core.encoders(cm.media, audio_lengths=cm.audio_lengths) if cm.media else {}
    feats.update(cm.features)
    untrained = [s for s in feats if config.trained_streams is not None and s not in config.trained_streams]
    if untrained:
        notes.append(f"stream(s) {', '.join(untrained)} were never seen in training (no training example "
                     "carried them): their projected tokens are untrained, and the answer may not use them")
    subtitle = _subtitle(text, cm, notes)
    if not feats and not subtitle:
        raise NoUsableModalityError(f"{source}: no frames, face, audio or words the model could use")
    present = list(feats)
    prompt = processor.prompt_ids(subtitle, "emotion", EMOTION_INSTRUCTIONS[0], present)
    words = list(config.label_words)
    probs = torch.softmax(answer_word_log_scores(core, processor, prompt, words, feats), dim=0).tolist()
    scores, lost, unmapped = word_scores_to_label_set(dict(zip(words, probs, strict=True)), lm.name)
    if lost > 0.005:
        notes.append(f"{lost:.0%} of the answer probability went to words with no {lm.name} label "
                     f"({', '.join(unmapped)})")
    answer = _generate_text(model, processor, prompt, feats, 8)
    try:
        label = parse_answer(answer, lm.name).label
    except UnparsableAnswerError as exc:
        if strict:
            raise
        label = max(scores, key=scores.get)
        notes.append(f"{exc}; the label is taken from the answer-word probabilities instead")
    top = max(scores, key=scores.get)
    if label != top:
        notes.append(f"the generated answer says {label!r} while the answer-word probabilities "
                     f"favour {top!r}")
    explanation = ""
    if reason:
        rprompt = processor.prompt_ids(subtitle, "reason", REASON_INSTRUCTIONS[0], present)
        explanation = generate_reasoning(model, processor, rprompt, feats, max_new_tokens)
        try:
            said = parse_answer(explanation, lm.name).label
            if said != label:
                notes.append(f"the reasoning concludes {said!r}, the recognition answer {label!r}")
        except UnparsableAnswerError:
            notes.append("the reasoning names no label of the label set")
    canon = scores if lm.name == "canonical" else _to_canonical(scores, lm)
    valence, arousal = valence_arousal_from_scores(canon) if canon else (0.0, 0.0)
    used = {_MODALITY_OF_KIND[config.encoders[config.stream(s)["encoder"]]["kind"]] for s in present}
    modalities = {m: ModalitySummary(used=m in used, reason=None if m in used else "no input for its streams",
                                     details={"streams": [s for s in present if _MODALITY_OF_KIND[
                                         config.encoders[config.stream(s)["encoder"]]["kind"]] == m]})
                  for m in ("face", "voice", "frame")}
    modalities["text"] = ModalitySummary(used=bool(subtitle), reason=None if subtitle else "no subtitle",
                                         details={"transcript": subtitle})
    return Result(input=str(source), duration=cm.duration, label=label, scores=scores, valence=valence,
                  arousal=arousal, modalities=modalities, explanation=explanation, transcript=subtitle,
                  label_set=lm.name, notes=notes,
                  provenance={"version": __version__, "pipeline": "emollm", "model": str(model_path),
                              "recognition_answer": answer,
                              "answer_word_probs": dict(zip(words, probs, strict=True)),
                              "valence_arousal": "derived from category scores "
                                                 "(emoreason.labels.VALENCE_AROUSAL)"})


def _to_canonical(scores: dict[str, float], lm) -> dict[str, float]:
    out: dict[str, float] = {}
    for lab, p in scores.items():
        canon = lm.to_canonical.get(lab)
        if canon is not None:
            out[canon] = out.get(canon, 0.0) + p
    return out
