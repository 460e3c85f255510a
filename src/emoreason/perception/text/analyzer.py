"""Emotion from words, per transcript segment: English through the text ensemble (fine-tuned MiniLM LoRA
models reading the dialogue context, plus an MLP head on frozen MiniLM features and VADER), every other
language through the multilingual model (:mod:`emoreason.perception.text.multilingual`: a multilingual
sentence encoder and a head, each sentence read alone).

The language, per transcript: the one the caller forces (``languages=``), else the transcript's own (set
by speech recognition, or the language the caller named) when it has one, else the text language ID's
(:func:`emoreason.perception.text.language_id.identify_language` on the whole text; written back to the
transcript). English (``en``) and text with no letters go to the ensemble (better on English, see
``docs/languages.md``), anything else to the multilingual model; each model is loaded on first use. The
output's details record ``language``, ``language_probability`` (None when forced or given without one),
``language_source`` (forced, transcript, text) and ``text_route`` (ensemble, multilingual); ``models``
names the model that scored it.

Each segment with text gets canonical-label scores (the ``timeline``); the clip's scores pool them,
weighted by length in words and ASR confidence. ``reliability`` is the transcript's confidence (a
user-given transcript: 1.0). Evidence quotes what was said (with times when known), names the word
whose removal moves the decision most (occlusion, see :mod:`emoreason.perception.text.key_words`; for other
languages :meth:`MultilingualTextModel.key_words`), and, for English, gives VADER's polarity.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from emoreason.errors import ConfigError
from emoreason.labels import CANONICAL, VALENCE_AROUSAL
from emoreason.perception.base import ModalityOutput, TimedScores
from emoreason.perception.text.ensemble import TextEnsemble
from emoreason.perception.text.head import vader_features
from emoreason.perception.text.key_words import KEY_WORD_METHODS
from emoreason.perception.text.key_words import search as search_key_words
from emoreason.perception.text.multilingual import (
    CJK_CHARS,
    MultilingualTextModel,
    text_units,
)
from emoreason.perception.text.sentence_encoder import MODEL_NAME
from emoreason.perception.text.text_job import MAX_HISTORY, TextJob  # noqa: F401 (MAX_HISTORY: re-exported)
from emoreason.perception.text.transcript import Transcript
from emoreason.result import Evidence

MAX_QUOTES = 3  # segments quoted as evidence
MIN_QUOTE_SCORE = 0.4  # segments are quoted when their own label scores at least this (else only the best)
LOW_ASR_CONFIDENCE = 0.6


class TextAnalyzer:
    """``TextAnalyzer().analyze(transcript or "text", context=[previous utterances])`` -> ModalityOutput.

    ``key_words``: how the key word is searched, ``"fast"`` (one network) or ``"exact"`` (the whole
    ensemble), see :mod:`emoreason.perception.text.key_words`; labels and scores are the same either way."""

    def __init__(self, model_dir: str | Path | None = None, encoder_dir: str | Path | None = None,
                 key_words: str = "fast", multilingual_dir: str | Path | None = None):
        if key_words not in KEY_WORD_METHODS:
            raise ConfigError(f"key_words must be one of {KEY_WORD_METHODS}, got {key_words!r}")
        self._ensemble_dirs = (model_dir, encoder_dir)
        self._model: TextEnsemble | None = None
        self.labels = CANONICAL  # both models' output order
        self.key_word_method = key_words
        self.multilingual_dir = multilingual_dir
        self._multilingual: MultilingualTextModel | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> TextEnsemble:
        """The English ensemble, loaded on first use (text in other languages never loads it)."""
        with self._lock:
            if self._model is None:
                self._model = TextEnsemble.load(*self._ensemble_dirs)
            return self._model

    @property
    def multilingual(self) -> MultilingualTextModel:
        """The multilingual model, loaded on first use (English-only work never loads it)."""
        with self._lock:
            if self._multilingual is None:
                self._multilingual = MultilingualTextModel(self.multilingual_dir)
            return self._multilingual

    def score_texts(self, texts: list[str], histories: list[list[str]] | None = None,
                    first: np.ndarray | None = None, encoded: dict | None = None) -> np.ndarray:
        """``(n, 7)`` probabilities (CANONICAL order) for sentences, each with the utterances before it
        (oldest first; the model reads the last few); ``first``: the first network's rows already known,
        ``encoded``: the head's encoder outputs shared between calls (:meth:`TextEnsemble.predict_proba`)."""
        return self.model.predict_proba(texts, histories, first=first, encoded=encoded)

    def analyze(self, transcript: Transcript | str, context: list[str] | None = None,
                language: str | None = None) -> ModalityOutput:
        """One transcript (or text); ``language`` forces the language (an ISO 639-1 code such as "es")."""
        return self.analyze_many([transcript], [context], [language])[0]

    def analyze_many(self, transcripts: list[Transcript | str],
                     contexts: list[list[str] | None] | None = None,
                     languages: list[str | None] | None = None) -> list[ModalityOutput]:
        """:meth:`analyze` of each transcript (with its context and forced language, if any), each model
        run once over all of them: one batched pass per model scores every segment, and the key-word
        search runs over the variants of every result at once."""
        contexts = contexts if contexts is not None else [None] * len(transcripts)
        languages = languages if languages is not None else [None] * len(transcripts)
        jobs = [TextJob.make(t, c) for t, c in zip(transcripts, contexts)]
        for j, forced in zip(jobs, languages):
            j.set_language(forced)
        usable = [j for j in jobs if j.segs]
        english = [j for j in usable if j.route == "ensemble"]
        other = [j for j in usable if j.route == "multilingual"]
        found: dict[int, tuple[str, float, int] | None] = {}
        if english:
            encoded: dict = {}  # each sentence encoded once for the head, in the scoring and the search
            self._score(english, self.score_texts([t for j in english for t in j.texts],
                                                  [h for j in english for h in j.histories], encoded=encoded))
            keys = self._key_words([_best(j) for j in english],
                                   alone=[j.probs[j.chosen[0]] if not j.histories[j.chosen[0]] else None
                                          for j in english], encoded=encoded)
            found.update(zip((id(j) for j in english), keys))
        if other:
            model = self.multilingual
            self._score(other, model.predict_proba([t for j in other for t in j.texts]))
            keys = model.key_words([_best(j) for j in other])
            found.update(zip((id(j) for j in other), keys))
        out = []
        for j in jobs:
            out.append(self._output(j, found[id(j)]) if j.segs else ModalityOutput.unusable(
                "text", "no words were recognised", transcript_source=j.transcript.source,
                notes=list(j.transcript.notes)))
        return out

    def _score(self, jobs: list[TextJob], probs: np.ndarray) -> None:
        """Hand each job its rows of ``probs``, its segment weights and the segments it will quote."""
        at = 0
        for j in jobs:
            j.probs, at = probs[at:at + len(j.texts)], at + len(j.texts)
            j.weights = np.asarray([max(1, len(t.split())) * max(s.confidence, 0.05)
                                    for t, s in zip(j.texts, j.segs)])
            j.chosen = _choose_quotes(j.probs, j.weights, self.labels)

    def _output(self, j: TextJob, key: tuple[str, float, int] | None) -> ModalityOutput:
        transcript, segs, texts, before, labels = j.transcript, j.segs, j.texts, j.before, self.labels
        pooled = (j.probs * j.weights[:, None]).sum(axis=0) / j.weights.sum()
        scores = _canonical(pooled, labels)
        timeline = [TimedScores(s.start, s.end, _canonical(p, labels), float(w), t)
                    for s, p, w, t in zip(segs, j.probs, j.weights, texts)]
        reliability = 1.0 if transcript.source == "user" else float(np.clip(transcript.confidence, 0.0, 1.0))
        evidence = self._quotes(j, key)
        if j.route == "ensemble":  # VADER reads English only
            evidence.append(_polarity(texts, j.weights, segs, transcript.timed, max(scores, key=scores.get)))
        if transcript.source != "user" and reliability < LOW_ASR_CONFIDENCE:
            evidence.append(Evidence("text", "asr confidence", reliability, weight=0.0, unit="probability",
                                     description=f"the words were hard to make out (ASR confidence "
                                                 f"{reliability:.2f}), so they count for less"))
        details = {"transcript": transcript.text, "transcript_source": transcript.source,
                   "asr_confidence": round(transcript.confidence, 4), "segments": len(segs),
                   "words": sum(len(t.split()) for t in texts), "notes": list(transcript.notes),
                   "context_used": bool(before) and j.route == "ensemble" and self.model.uses_context,
                   "language": j.language, "language_probability": j.language_probability,
                   "language_source": j.language_source, "text_route": j.route,
                   "utterances": [{"start": s.start if transcript.timed else None,
                                   "end": s.end if transcript.timed else None, "text": t,
                                   "confidence": s.confidence} for s, t in zip(segs, texts)]}
        if before and not details["context_used"]:
            details["notes"].append("dialogue context was given but the text model does not use it")
        if j.route == "ensemble":
            models = {"text_model": self.model.name,
                      "sentence_encoder": MODEL_NAME, "sentiment": "vaderSentiment"}
        else:
            models = {"text_model": self.multilingual.name,
                      "sentence_encoder": self.multilingual.encoder.description}
        return ModalityOutput("text", True, scores=scores, timeline=timeline, evidence=evidence,
                              reliability=reliability, details=details, models=models)

    def _quotes(self, j: TextJob, key: tuple[str, float, int] | None) -> list[Evidence]:
        """The chosen segments (those that argue most clearly for their own label), the first with its key
        word if any."""
        labels, probs, texts = self.labels, j.probs, j.texts
        strength = probs.max(axis=1) * j.weights / j.weights.sum()
        out = []
        for i in j.chosen:
            label, p, seg = labels[int(probs[i].argmax())], float(probs[i].max()), j.segs[i]
            quote = texts[i] if len(texts[i]) <= 90 else texts[i][:87] + "..."
            start, end = (seg.start, seg.end) if j.transcript.timed else (None, None)
            out.append(Evidence("text", "words", p, start, end, weight=float(strength[i]), unit="probability",
                                description=f"says '{quote}'", supports=label))
            if key is not None and i == j.chosen[0]:
                word, drop, k = key
                w_start = w_end = None
                units = len(texts[i].split()) if j.route == "ensemble" else len(text_units(texts[i]))
                if j.transcript.timed and seg.words and len(seg.words) == units == len(texts[i].split()):
                    w_start, w_end = seg.words[k].start, seg.words[k].end
                out.append(Evidence("text", "key word", drop, w_start, w_end,
                                    weight=float(strength[i]) * drop, unit="score drop when removed",
                                    supports=label,
                                    description=f"{_unit_name(word)} '{word}' {_verb(word)} it ({label} "
                                                f"falls by {drop:.2f} without it, sentence read alone)"))
        return out

    def _key_word(self, text: str, label_index: int) -> tuple[str, float, int] | None:
        """The key word of one sentence (:meth:`_key_words`)."""
        return self._key_words([(text, label_index)])[0]

    def _key_words(self, requests: list[tuple[str, int]], method: str | None = None,
                   alone: list[np.ndarray | None] | None = None,
                   encoded: dict | None = None) -> list[tuple[str, float, int] | None]:
        """The key word of each ``(sentence, label index)`` by ``method`` (default: this analyzer's):
        ``(word, drop, index)`` or None (:func:`emoreason.perception.text.key_words.search`)."""
        model = self.model
        return search_key_words(requests, method or self.key_word_method, self.score_texts,
                                model.key_word_proba, bool(model.loras), alone, encoded)


def _best(j: TextJob) -> tuple[str, int]:
    """The job's first quoted segment and its label index: what the key-word search explains."""
    return j.texts[j.chosen[0]], int(j.probs[j.chosen[0]].argmax())


def _choose_quotes(probs: np.ndarray, weights: np.ndarray, labels: tuple[str, ...]) -> list[int]:
    """The segments that argue most clearly for their own label: the strongest first, non-neutral ones
    preferred; an unsure model still shows its best guess."""
    top = probs.argmax(axis=1)
    strength = probs[np.arange(len(probs)), top] * weights / weights.sum()
    ranked = [int(i) for i in np.argsort(-strength, kind="stable")]
    order = [i for i in ranked if probs[i, top[i]] >= MIN_QUOTE_SCORE]
    non_neutral = [i for i in order if labels[top[i]] != "neutral"]
    return (non_neutral or order or ranked[:1])[:MAX_QUOTES]


def _unit_name(word: str) -> str:
    """How a key unit is named: Chinese and Japanese spans are characters, not a word."""
    return "the characters" if CJK_CHARS.search(word) else "the word"


def _verb(word: str) -> str:
    return "carry" if CJK_CHARS.search(word) else "carries"


def _canonical(p: np.ndarray, labels: tuple[str, ...]) -> dict[str, float]:
    scores = {lab: 0.0 for lab in CANONICAL}
    for lab, v in zip(labels, p):
        scores[lab] = float(v)
    total = sum(scores.values())
    return {k: v / total for k, v in scores.items()}


def _polarity(texts, weights, segs, timed: bool, label: str) -> Evidence:
    """VADER compound pooled like the scores; it supports the label when their valence signs agree."""
    compound = float((vader_features(texts)[:, 3] * weights).sum() / weights.sum())
    size = abs(compound)
    strength = "strongly" if size >= 0.5 else "mildly" if size >= 0.05 else None
    sign = "positive" if compound > 0 else "negative"
    desc = f"{strength} {sign} wording (VADER {compound:+.2f})" if strength else \
        f"neutral wording (VADER {compound:+.2f})"
    valence = VALENCE_AROUSAL[label][0]
    agrees = (strength is None and label == "neutral") or (strength is not None and valence * compound > 0)
    start, end = (segs[0].start, segs[-1].end) if timed else (None, None)
    return Evidence("text", "sentiment", compound, start, end, weight=0.0, unit="VADER compound",
                    description=desc, supports=label if agrees else None)
