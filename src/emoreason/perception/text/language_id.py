"""Which language a text is in: a character n-gram naive Bayes over XED's languages.

``identify_language(text) -> (code, probability)``: the ISO 639-1 code of the most likely language and
its probability. The model (``assets/text_language_id/language_id.json``, trained by
``python -m emoreason.training.text.language_id``; model card ``docs/model_cards/text_language_id.md``)
keeps, for each language, the log-probabilities of its most frequent character 1- to 4-grams (of the
lower-cased text with its words padded by spaces) and one floor log-probability for the rest. A text's
score for a language is the sum over its n-grams that some language knows (n-grams no language has are
skipped); the scores, divided by a temperature fitted on held-out lines, go through a softmax with a
uniform prior over the languages.

Limits: one line of a few words is often ambiguous between close languages (Bosnian, Croatian and
Serbian; Danish, Norwegian and Swedish; Czech and Slovak; Indonesian and Malay are the pairs the model
card measures), names and numbers carry no language, and a text with no letters (or none of whose
n-grams the model knows, e.g. Korean) gets ``("und", 0.0)``.
Only the languages in the asset are known (``LanguageId.languages``); anything else gets the closest one.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np

from emoreason.assets import asset_path
from emoreason.errors import ModelError

ASSET = ("text_language_id", "language_id.json")
UNDETERMINED = "und"
_LETTER = re.compile(r"[^\W\d_]")
_SPACE = re.compile(r"[\W\d_]+")


def script(ch: str) -> str:
    """The first word of a character's Unicode name (LATIN, CYRILLIC, CJK, ARABIC, HIRAGANA ...)."""
    return unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]


def char_ngrams(text: str, orders: tuple[int, ...] = (1, 2, 3)) -> dict[str, int]:
    """Counts of the character n-grams of ``text``: lower-cased, each word padded with one space each side
    (digits and punctuation are word breaks), e.g. ``"Hi!"`` -> `` h``, ``hi``, ``i ``, `` hi``, ``hi ``;
    plus one ``<SCRIPT>`` token per letter (``<LATIN>`` ...), so that a rare character still tells its
    script."""
    counts: dict[str, int] = {}
    for word in _SPACE.split(text.lower()):
        if not word:
            continue
        for ch in word:
            tok = f"<{script(ch)}>"
            counts[tok] = counts.get(tok, 0) + 1
        padded = f" {word} "
        for n in orders:
            for i in range(len(padded) - n + 1):
                gram = padded[i:i + n]
                if gram != " ":
                    counts[gram] = counts.get(gram, 0) + 1
    return counts


class LanguageId:
    """The naive Bayes model read from its JSON (``{"languages", "orders", "temperature", "floor",
    "ngrams": {gram: {language: log p}}}``)."""

    def __init__(self, spec: dict) -> None:
        try:
            self.languages: tuple[str, ...] = tuple(spec["languages"])
            self.orders = tuple(int(n) for n in spec["orders"])
            self.temperature = float(spec["temperature"])
            floor = np.array([float(spec["floor"][lang]) for lang in self.languages], dtype=np.float64)
            grams: dict[str, dict[str, float]] = spec["ngrams"]
            col = {lang: j for j, lang in enumerate(self.languages)}
            self.index = {gram: i for i, gram in enumerate(grams)}
            self.table = np.tile(floor, (len(grams), 1))  # (n-grams, languages): log p, floor where absent
            for i, known in enumerate(grams.values()):
                for lang, logp in known.items():
                    self.table[i, col[lang]] = float(logp)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(f"language-ID model: malformed spec ({exc!r})") from None
        if not self.languages or self.temperature <= 0:
            raise ModelError("language-ID model: no languages or a non-positive temperature")

    @classmethod
    def load(cls, path: Path | None = None) -> LanguageId:
        path = Path(path) if path is not None else asset_path(*ASSET)
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ModelError(f"language-ID model not found: {path}") from None
        except json.JSONDecodeError as exc:
            raise ModelError(f"language-ID model {path} is not JSON ({exc})") from None

    def log_scores(self, text: str) -> np.ndarray | None:
        """Each language's summed n-gram log-probability (n-grams unknown to every language skipped), in the
        order of ``languages``; None when no n-gram of ``text`` is known."""
        rows, counts = [], []
        for gram, k in char_ngrams(text, self.orders).items():
            i = self.index.get(gram)
            if i is not None:
                rows.append(i)
                counts.append(k)
        if not rows:
            return None
        return np.asarray(counts, dtype=np.float64) @ self.table[rows]

    def probabilities(self, text: str) -> dict[str, float]:
        """Softmax of the log scores over the temperature; ``{}`` for a text without letters or without
        any n-gram the model knows."""
        scores = self.log_scores(text) if _LETTER.search(text) else None
        if scores is None:
            return {}
        z = scores / self.temperature
        p = np.exp(z - z.max())
        p /= p.sum()
        return {lang: float(v) for lang, v in zip(self.languages, p)}

    def identify(self, text: str) -> tuple[str, float]:
        probs = self.probabilities(text)
        if not probs:
            return UNDETERMINED, 0.0
        best = max(sorted(probs), key=lambda lang: probs[lang])
        return best, probs[best]


@lru_cache(maxsize=1)
def default_model() -> LanguageId:
    """The shipped model, loaded once."""
    return LanguageId.load()


def identify_language(text: str) -> tuple[str, float]:
    """``(ISO 639-1 code, probability)`` of ``text``'s language; ``("und", 0.0)`` without letters."""
    return default_model().identify(text)
