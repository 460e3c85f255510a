"""One transcript on its way through the text stage
(:meth:`emoreason.perception.text.analyzer.TextAnalyzer.analyze_many`): its usable segments, their
histories, its language and the model it goes to, and, once scored, its probabilities, weights and
quoted segments.

The language: the one the caller forces, else the transcript's own (set by speech recognition, or the
language the caller named), else the text language ID's on the whole text (written back to the
transcript). :data:`ENSEMBLE_LANGUAGES` go to the English ensemble, the rest to the multilingual model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emoreason.languages import check_language
from emoreason.perception.text.language_id import identify_language
from emoreason.perception.text.sentence_encoder import normalise_text
from emoreason.perception.text.transcript import Transcript, TranscriptSegment

MAX_HISTORY = 8  # preceding utterances kept per segment (the LoRA models read 3, the head 1)
#: Languages the English ensemble scores ("und": a text with no letters, which the text language ID cannot
#: place); every other language goes to the multilingual model.
ENSEMBLE_LANGUAGES = ("en", "und")


@dataclass
class TextJob:
    """One transcript on its way through
    :meth:`~emoreason.perception.text.analyzer.TextAnalyzer.analyze_many`."""

    transcript: Transcript
    segs: list[TranscriptSegment]
    texts: list[str]
    before: list[str]
    histories: list[list[str]]
    probs: np.ndarray | None = None
    weights: np.ndarray | None = None
    chosen: list[int] = field(default_factory=list)
    language: str | None = None
    language_probability: float | None = None
    language_source: str | None = None
    route: str = "ensemble"

    def set_language(self, forced: str | None) -> None:
        """The language (forced, the transcript's own, or the text language ID's) and the model it goes to."""
        own = self.transcript.language
        if forced:
            self.language, self.language_source = check_language(forced), "forced"
        elif own:
            prob = self.transcript.language_probability
            self.language, self.language_source = str(own).lower(), "transcript"
            self.language_probability = None if prob is None else float(prob)
        elif self.texts:
            code, prob = identify_language(" ".join(self.texts))
            self.language, self.language_probability, self.language_source = code, float(prob), "text"
            # the pipeline reads the language back from the transcript
            self.transcript.language, self.transcript.language_probability = code, float(prob)
        if self.language is not None:
            base = self.language.split("-")[0].split("_")[0]
            self.route = "ensemble" if base in ENSEMBLE_LANGUAGES else "multilingual"

    @classmethod
    def make(cls, transcript: Transcript | str, context: list[str] | None) -> TextJob:
        if isinstance(transcript, str):
            transcript = Transcript([TranscriptSegment(0.0, 0.0, transcript)], source="user", timed=False)
        segs = [s for s in transcript.segments if normalise_text(s.text)]
        texts = [normalise_text(s.text) for s in segs]
        before = [normalise_text(c) for c in (context or []) if normalise_text(c)]
        # each segment's history: what was said before it, the last MAX_HISTORY turns (the models read
        # fewer), so a transcript of n segments costs n, not n**2 / 2, list items
        histories = [(before + texts[max(0, i - MAX_HISTORY):i])[-MAX_HISTORY:] for i in range(len(texts))]
        return cls(transcript, segs, texts, before, histories)
