"""Emotion from words: the text ensemble (fine-tuned MiniLM LoRA models reading the dialogue context,
plus an MLP head on frozen MiniLM features and VADER), per transcript segment.

Each segment with text gets canonical-label scores (the ``timeline``); the clip's scores pool them,
weighted by length in words and ASR confidence. ``reliability`` is the transcript's confidence (a
user-given transcript: 1.0). Evidence quotes what was said (with times when known), names the word
whose removal moves the decision most (occlusion, see :meth:`TextAnalyzer._key_words`), and gives VADER's
polarity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emoreason.errors import ConfigError
from emoreason.labels import CANONICAL, VALENCE_AROUSAL
from emoreason.perception.base import ModalityOutput, TimedScores
from emoreason.perception.text.ensemble import TextEnsemble
from emoreason.perception.text.head import vader_features
from emoreason.perception.text.sentence_encoder import MODEL_NAME, normalise_text
from emoreason.perception.text.transcript import Transcript, TranscriptSegment
from emoreason.result import Evidence

MAX_QUOTES = 3  # segments quoted as evidence
MIN_QUOTE_SCORE = 0.4  # segments are quoted when their own label scores at least this (else only the best)
MAX_OCCLUSION_WORDS = 40  # longer segments are not searched for a key word
MIN_KEY_WORD_DROP = 0.1  # removing the key word must lower its label's score by this much
KEY_WORD_METHODS = ("fast", "exact")  # see TextAnalyzer._key_words
KEY_WORD_CANDIDATES = 2  # words the fast search hands to the ensemble
LOW_ASR_CONFIDENCE = 0.6
MAX_HISTORY = 8  # preceding utterances kept per segment (the LoRA models read 3, the head 1)


class TextAnalyzer:
    """``TextAnalyzer().analyze(transcript or "text", context=[previous utterances])`` -> ModalityOutput.

    ``key_words``: how the key word is searched, ``"fast"`` (one network) or ``"exact"`` (the whole
    ensemble), see :meth:`_key_words`; labels and scores are the same either way."""

    def __init__(self, model_dir: str | Path | None = None, encoder_dir: str | Path | None = None,
                 key_words: str = "fast"):
        if key_words not in KEY_WORD_METHODS:
            raise ConfigError(f"key_words must be one of {KEY_WORD_METHODS}, got {key_words!r}")
        self.model = TextEnsemble.load(model_dir, encoder_dir)
        self.labels = self.model.labels
        self.key_word_method = key_words

    def score_texts(self, texts: list[str], histories: list[list[str]] | None = None) -> np.ndarray:
        """``(n, 7)`` probabilities (CANONICAL order) for sentences, each with the utterances before it
        (oldest first; the model reads the last few)."""
        return self.model.predict_proba(texts, histories)

    def analyze(self, transcript: Transcript | str, context: list[str] | None = None) -> ModalityOutput:
        return self.analyze_many([transcript], [context])[0]

    def analyze_many(self, transcripts: list[Transcript | str],
                     contexts: list[list[str] | None] | None = None) -> list[ModalityOutput]:
        """:meth:`analyze` of each transcript (with its context), the networks run once over all of them:
        one batched pass scores every segment, and the key-word search (:meth:`_key_words`) runs over the
        variants of every result at once."""
        contexts = contexts if contexts is not None else [None] * len(transcripts)
        jobs = [_Job.make(t, c) for t, c in zip(transcripts, contexts)]
        usable = [j for j in jobs if j.segs]
        probs = self.score_texts([t for j in usable for t in j.texts],
                                 [h for j in usable for h in j.histories])
        at = 0
        for j in usable:
            j.probs, at = probs[at:at + len(j.texts)], at + len(j.texts)
            j.weights = np.asarray([max(1, len(t.split())) * max(s.confidence, 0.05)
                                    for t, s in zip(j.texts, j.segs)])
            j.chosen = _choose_quotes(j.probs, j.weights, self.labels)
        keys = self._key_words([(j.texts[j.chosen[0]], int(j.probs[j.chosen[0]].argmax())) for j in usable],
                               alone=[j.probs[j.chosen[0]] if not j.histories[j.chosen[0]] else None
                                      for j in usable])
        out, found = [], dict(zip((id(j) for j in usable), keys))
        for j in jobs:
            out.append(self._output(j, found[id(j)]) if j.segs else ModalityOutput.unusable(
                "text", "no words were recognised", transcript_source=j.transcript.source,
                notes=list(j.transcript.notes)))
        return out

    def _output(self, j: _Job, key: tuple[str, float, int] | None) -> ModalityOutput:
        transcript, segs, texts, before, labels = j.transcript, j.segs, j.texts, j.before, self.labels
        pooled = (j.probs * j.weights[:, None]).sum(axis=0) / j.weights.sum()
        scores = _canonical(pooled, labels)
        timeline = [TimedScores(s.start, s.end, _canonical(p, labels), float(w), t)
                    for s, p, w, t in zip(segs, j.probs, j.weights, texts)]
        reliability = 1.0 if transcript.source == "user" else float(np.clip(transcript.confidence, 0.0, 1.0))
        evidence = self._quotes(j, key)
        evidence.append(_polarity(texts, j.weights, segs, transcript.timed, max(scores, key=scores.get)))
        if transcript.source != "user" and reliability < LOW_ASR_CONFIDENCE:
            evidence.append(Evidence("text", "asr confidence", reliability, weight=0.0, unit="probability",
                                     description=f"the words were hard to make out (ASR confidence "
                                                 f"{reliability:.2f}), so they count for less"))
        details = {"transcript": transcript.text, "transcript_source": transcript.source,
                   "asr_confidence": round(transcript.confidence, 4), "segments": len(segs),
                   "words": sum(len(t.split()) for t in texts), "notes": list(transcript.notes),
                   "context_used": bool(before) and self.model.uses_context,
                   "utterances": [{"start": s.start if transcript.timed else None,
                                   "end": s.end if transcript.timed else None, "text": t,
                                   "confidence": s.confidence} for s, t in zip(segs, texts)]}
        if before and not self.model.uses_context:
            details["notes"].append("dialogue context was given but the text model does not use it")
        models = {"text_model": self.model.name,
                  "sentence_encoder": MODEL_NAME, "sentiment": "vaderSentiment"}
        return ModalityOutput("text", True, scores=scores, timeline=timeline, evidence=evidence,
                              reliability=reliability, details=details, models=models)

    def _quotes(self, j: _Job, key: tuple[str, float, int] | None) -> list[Evidence]:
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
                if j.transcript.timed and seg.words and len(seg.words) == len(texts[i].split()):
                    w_start, w_end = seg.words[k].start, seg.words[k].end
                out.append(Evidence("text", "key word", drop, w_start, w_end,
                                    weight=float(strength[i]) * drop, unit="score drop when removed",
                                    supports=label,
                                    description=f"the word '{word}' carries it ({label} falls by {drop:.2f} "
                                                "without it, sentence read alone)"))
        return out

    def _key_word(self, text: str, label_index: int) -> tuple[str, float, int] | None:
        """The key word of one sentence (:meth:`_key_words`)."""
        return self._key_words([(text, label_index)])[0]

    def _key_words(self, requests: list[tuple[str, int]], method: str | None = None,
                   alone: list[np.ndarray | None] | None = None) -> list[tuple[str, float, int] | None]:
        """Occlusion on each sentence read alone (no dialogue context): the word whose removal lowers
        the label's score most, with the ensemble's drop and the word's index (None when that drop is below
        :data:`MIN_KEY_WORD_DROP`, or for one word or more than :data:`MAX_OCCLUSION_WORDS`). All
        sentences' variants are scored in one batched pass (context would make each variant up to 128
        tokens; alone it is about a fifth of the work).

        ``"exact"`` scores every one-word-out variant with the whole ensemble (four networks).
        ``"fast"`` ranks the words with one network (:meth:`TextEnsemble.key_word_proba`), scores the
        sentence without each of its :data:`KEY_WORD_CANDIDATES` best with the ensemble, and keeps the one
        whose removal lowers the ensemble's score most: for MELD dev's 8.9-word sentences about half of the
        exact search's work, the same key word (or both none) for 97.8% of the 1,109 dev utterances
        (``benchmarks/bench_text.py``). ``alone``: the ensemble's scores of each sentence read alone where
        already known (else None), so they are not computed twice."""
        method = method or self.key_word_method
        spans, variants = [], []
        for text, _ in requests:
            words = text.split()
            if len(words) < 2 or len(words) > MAX_OCCLUSION_WORDS:
                spans.append(None)
                continue
            if method == "exact":  # the sentence itself, for the drop
                variants.append(text)
            spans.append((len(variants), words))  # where its one-word-out variants start
            variants += [" ".join(words[:k] + words[k + 1:]) for k in range(len(words))]
        if method == "exact":
            scored = self.score_texts(variants, [[] for _ in variants]) if variants else None
        else:
            scored = self.model.key_word_proba(variants) if variants else None
        found = []  # (words, candidate indices, best first)
        for (_, label_index), span in zip(requests, spans):
            if span is not None:
                at, words = span
                s = scored[at:at + len(words), label_index]
                span = (words, [int(np.argmin(s))] if method == "exact" else
                        [int(k) for k in np.argsort(s, kind="stable")[:KEY_WORD_CANDIDATES]])
            found.append(span)
        if method != "exact":  # the ensemble's scores of the sentence, and of it without each candidate
            alone = alone or [None] * len(requests)
            todo = [(text, i) for i, ((text, _), f) in enumerate(zip(requests, found))
                    if f is not None and alone[i] is None]
            without = [" ".join(f[0][:k] + f[0][k + 1:]) for f in found if f is not None for k in f[1]]
            texts = [t for t, _ in todo] + without
            ens = self.score_texts(texts, [[] for _ in texts])
            full = dict(zip((i for _, i in todo), ens[:len(todo)]))
            rest = iter(ens[len(todo):])
        out = []
        for i, ((_, label_index), f) in enumerate(zip(requests, found)):
            if f is None:
                out.append(None)
                continue
            words, ks = f
            if method == "exact":
                k, at = ks[0], spans[i][0]
                drop = float(scored[at - 1, label_index] - scored[at + k, label_index])
            else:
                base = alone[i] if alone[i] is not None else full[i]
                after = [float(next(rest)[label_index]) for _ in ks]
                k = ks[int(np.argmin(after))]
                drop = float(base[label_index]) - min(after)
            word = words[k].strip(".,!?;:\"'()")
            out.append((word or words[k], drop, k) if drop >= MIN_KEY_WORD_DROP else None)
        return out


@dataclass
class _Job:
    """One transcript on its way through :meth:`TextAnalyzer.analyze_many`."""

    transcript: Transcript
    segs: list[TranscriptSegment]
    texts: list[str]
    before: list[str]
    histories: list[list[str]]
    probs: np.ndarray | None = None
    weights: np.ndarray | None = None
    chosen: list[int] = field(default_factory=list)

    @classmethod
    def make(cls, transcript: Transcript | str, context: list[str] | None) -> _Job:
        if isinstance(transcript, str):
            transcript = Transcript([TranscriptSegment(0.0, 0.0, transcript)], source="user", timed=False)
        segs = [s for s in transcript.segments if normalise_text(s.text)]
        texts = [normalise_text(s.text) for s in segs]
        before = [normalise_text(c) for c in (context or []) if normalise_text(c)]
        # each segment's history: what was said before it, the last MAX_HISTORY turns (the models read
        # fewer), so a transcript of n segments costs n, not n**2 / 2, list items
        histories = [(before + texts[max(0, i - MAX_HISTORY):i])[-MAX_HISTORY:] for i in range(len(texts))]
        return cls(transcript, segs, texts, before, histories)


def _choose_quotes(probs: np.ndarray, weights: np.ndarray, labels: tuple[str, ...]) -> list[int]:
    """The segments that argue most clearly for their own label: the strongest first, non-neutral ones
    preferred; an unsure model still shows its best guess."""
    top = probs.argmax(axis=1)
    strength = probs[np.arange(len(probs)), top] * weights / weights.sum()
    ranked = [int(i) for i in np.argsort(-strength, kind="stable")]
    order = [i for i in ranked if probs[i, top[i]] >= MIN_QUOTE_SCORE]
    non_neutral = [i for i in order if labels[top[i]] != "neutral"]
    return (non_neutral or order or ranked[:1])[:MAX_QUOTES]


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
