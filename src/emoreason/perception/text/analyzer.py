"""Emotion from words: the text ensemble (fine-tuned MiniLM LoRA models reading the dialogue context,
plus an MLP head on frozen MiniLM features and VADER), per transcript segment.

Each segment with text gets canonical-label scores (the ``timeline``); the clip's scores pool them,
weighted by length in words and ASR confidence. ``reliability`` is the transcript's confidence (a
user-given transcript: 1.0). Evidence quotes what was said (with times when known), names the word
whose removal moves the decision most (occlusion), and gives VADER's polarity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
LOW_ASR_CONFIDENCE = 0.6
MAX_HISTORY = 8  # preceding utterances kept per segment (the LoRA models read 3, the head 1)


class TextAnalyzer:
    """``TextAnalyzer().analyze(transcript or "text", context=[previous utterances])`` -> ModalityOutput."""

    def __init__(self, model_dir: str | Path | None = None, encoder_dir: str | Path | None = None):
        self.model = TextEnsemble.load(model_dir, encoder_dir)
        self.labels = self.model.labels

    def score_texts(self, texts: list[str], histories: list[list[str]] | None = None) -> np.ndarray:
        """``(n, 7)`` probabilities (CANONICAL order) for sentences, each with the utterances before it
        (oldest first; the model reads the last few)."""
        return self.model.predict_proba(texts, histories)

    def analyze(self, transcript: Transcript | str, context: list[str] | None = None) -> ModalityOutput:
        if isinstance(transcript, str):
            transcript = Transcript([TranscriptSegment(0.0, 0.0, transcript)], source="user", timed=False)
        segs = [s for s in transcript.segments if normalise_text(s.text)]
        if not segs:
            return ModalityOutput.unusable("text", "no words were recognised",
                                           transcript_source=transcript.source, notes=list(transcript.notes))
        texts = [normalise_text(s.text) for s in segs]
        before = [normalise_text(c) for c in (context or []) if normalise_text(c)]
        # each segment's history: what was said before it, the last MAX_HISTORY turns (the models read
        # fewer), so a transcript of n segments costs n, not n**2 / 2, list items
        histories = [(before + texts[max(0, i - MAX_HISTORY):i])[-MAX_HISTORY:] for i in range(len(texts))]
        probs = self.score_texts(texts, histories)
        labels = self.labels
        weights = np.asarray([max(1, len(t.split())) * max(s.confidence, 0.05) for t, s in zip(texts, segs)])
        pooled = (probs * weights[:, None]).sum(axis=0) / weights.sum()
        scores = _canonical(pooled, labels)
        timeline = [TimedScores(s.start, s.end, _canonical(p, labels), float(w), t)
                    for s, p, w, t in zip(segs, probs, weights, texts)]
        reliability = 1.0 if transcript.source == "user" else float(np.clip(transcript.confidence, 0.0, 1.0))
        evidence = self._quotes(segs, texts, histories, probs, weights, transcript.timed)
        evidence.append(_polarity(texts, weights, segs, transcript.timed, max(scores, key=scores.get)))
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

    def _quotes(self, segs, texts, histories, probs, weights, timed: bool) -> list[Evidence]:
        """The segments that argue most clearly for their own label, each with its key word if any."""
        labels = self.labels
        top = probs.argmax(axis=1)
        strength = probs[np.arange(len(texts)), top] * weights / weights.sum()
        ranked = [int(i) for i in np.argsort(-strength, kind="stable")]
        order = [i for i in ranked if probs[i, top[i]] >= MIN_QUOTE_SCORE]
        non_neutral = [i for i in order if labels[top[i]] != "neutral"]
        # an unsure model still shows its best guess
        chosen = (non_neutral or order or ranked[:1])[:MAX_QUOTES]
        out = []
        for i in chosen:
            label, p, seg = labels[top[i]], float(probs[i, top[i]]), segs[i]
            quote = texts[i] if len(texts[i]) <= 90 else texts[i][:87] + "..."
            start, end = (seg.start, seg.end) if timed else (None, None)
            out.append(Evidence("text", "words", p, start, end, weight=float(strength[i]), unit="probability",
                                description=f"says '{quote}'", supports=label))
            # the occlusion search re-encodes the sentence once per word: only for the strongest quote
            key = self._key_word(texts[i], top[i]) if i == chosen[0] else None
            if key is not None:
                word, drop, k = key
                w_start = w_end = None
                if timed and seg.words and len(seg.words) == len(texts[i].split()):
                    w_start, w_end = seg.words[k].start, seg.words[k].end
                out.append(Evidence("text", "key word", drop, w_start, w_end,
                                    weight=float(strength[i]) * drop, unit="score drop when removed",
                                    supports=label,
                                    description=f"the word '{word}' carries it ({label} falls by {drop:.2f} "
                                                "without it, sentence read alone)"))
        return out

    def _key_word(self, text: str, label_index: int) -> tuple[str, float, int] | None:
        """Occlusion on the sentence read alone (no dialogue context): with context every variant would
        carry up to 128 tokens through four networks; alone it is about a fifth of the work."""
        words = text.split()
        if len(words) < 2 or len(words) > MAX_OCCLUSION_WORDS:
            return None
        variants = [text] + [" ".join(words[:k] + words[k + 1:]) for k in range(len(words))]
        scored = self.score_texts(variants, [[] for _ in variants])[:, label_index]
        k = int(np.argmin(scored[1:]))
        drop = float(scored[0] - scored[1 + k])
        word = words[k].strip(".,!?;:\"'()")
        return (word or words[k], drop, k) if drop >= MIN_KEY_WORD_DROP else None


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
