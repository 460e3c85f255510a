"""What every modality analyser returns, so fusion and explanation can treat them alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emoreason.result import Evidence


@dataclass
class TimedScores:
    """Canonical-label probabilities for one stretch of time (a frame, a speech segment, an utterance)."""

    start: float
    end: float
    scores: dict[str, float]
    weight: float = 1.0  # how much this item counts when pooled (e.g. face size x detection score)
    text: str = ""


@dataclass
class ModalityOutput:
    """One modality's contribution to an analysis.

    ``usable`` False means the modality drops out of fusion; ``reason`` then says why in plain words
    ("no face found in 50 frames", "no speech detected"). ``scores`` are pooled over the whole input;
    ``timeline`` holds the time-stamped scores that segments are built from. ``reliability`` (0..1)
    scales the modality's fusion weight (detection confidence, ASR confidence, speech share ...).
    ``details`` carries modality-specific facts for the Result (frames, peak_frame_time, speech_seconds,
    transcript, words ...) and ``series`` optional pandas DataFrames (AU time series, prosody table).
    """

    modality: str
    usable: bool
    reason: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    timeline: list[TimedScores] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    reliability: float = 1.0
    details: dict[str, Any] = field(default_factory=dict)
    series: dict[str, Any] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)  # model name -> version/identity for provenance

    @classmethod
    def unusable(cls, modality: str, reason: str, **details: Any) -> ModalityOutput:
        return cls(modality=modality, usable=False, reason=reason, reliability=0.0, details=dict(details))
