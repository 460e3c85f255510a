"""Prosody in plain words: salient voice cues as Evidence, and a documented arousal rule.

Input is a table of prosody z-scores, one row per speech segment, relative either to the speaker
(z-scored within the recording when it has several segments) or to the training voices (one segment:
then only measures that do not depend on the speaker's sex or the microphone gain are used -- pitch
range and contour, rate, pauses, loudness range, spectral balance -- never pitch or loudness level).

The arousal rule (a heuristic, not a trained model): arousal = tanh(0.5 * mean z) over pitch level,
pitch range, loudness level, loudness range, speaking rate and high-frequency energy, minus pause time;
measures not available in the current normalisation are left out. It follows the direction of the
effects summarised by Juslin & Laukka (2003, Psychol. Bull. 129(5)): higher, wider pitch, louder,
faster and "brighter" speech goes with higher arousal. Output -1..1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from emoreason.labels import VALENCE_AROUSAL
from emoreason.result import Evidence

SALIENT_Z = 1.0
MAX_EVIDENCE = 8
RISING_ST_S = 4.0  # a pitch slope this steep (semitones/s) counts as clearly rising/falling

# column, cue name, word when high, word when low, arousal direction, speaker-relative only
CUES: tuple[tuple[str, str, str, str, int, bool], ...] = (
    ("f0_mean_st", "pitch", "high", "low", +1, True),
    ("f0_range_st", "pitch range", "wide (lively intonation)", "narrow (flat intonation)", +1, False),
    ("energy_mean_db", "loudness", "loud", "quiet", +1, True),
    ("energy_range_db", "loudness range", "large (emphatic)", "small (even)", +1, False),
    ("rate_syl_s", "speaking rate", "fast", "slow", +1, False),
    ("pause_s", "pauses", "long", "short", -1, False),
    ("hf_ratio_db", "voice brightness", "bright, tense", "soft, dark", +1, False),
)


def arousal_rule(z: Mapping[str, float], speaker_relative: bool) -> float | None:
    """Arousal (-1..1) from one segment's prosody z-scores; None when nothing is measurable."""
    terms = []
    for col, _name, _hi, _lo, direction, speaker_only in CUES:
        value = z.get(col)
        if value is None or (speaker_only and not speaker_relative) or not math.isfinite(value):
            continue
        terms.append(direction * float(value))
    if not terms:
        return None
    return math.tanh(0.5 * sum(terms) / len(terms))


def _supports(direction: int, scores: Mapping[str, float]) -> str | None:
    """The segment's top label, if the cue's arousal direction agrees with that label's arousal."""
    if not scores:
        return None
    top = max(scores, key=scores.get)
    arousal = VALENCE_AROUSAL[top][1]
    return top if abs(arousal) >= 0.3 and (arousal > 0) == (direction > 0) else None


def voice_evidence(rows: list[dict], speaker_relative: bool) -> list[Evidence]:
    """Evidence for the salient cues of each segment; at most :data:`MAX_EVIDENCE`, strongest first.

    ``rows``: one dict per segment with ``start``, ``end``, ``scores`` (canonical), ``z`` (prosody
    z-scores by column) and ``raw`` (prosody values by column).
    """
    ref = "this speaker" if speaker_relative else "typical voices"
    found: list[Evidence] = []
    for row in rows:
        z, raw, scores = row["z"], row["raw"], row["scores"]
        for col, name, hi, lo, direction, speaker_only in CUES:
            value = z.get(col)
            if (speaker_only and not speaker_relative) or value is None or not math.isfinite(value):
                continue
            if abs(value) < SALIENT_Z:
                continue
            word = hi if value > 0 else lo
            found.append(Evidence(
                modality="voice", name=name, value=round(float(value), 2), unit="z",
                start=row["start"], end=row["end"],
                description=f"{name} {word} ({value:+.1f} SD vs {ref})",
                supports=_supports(direction if value > 0 else -direction, scores),
                weight=round(min(1.0, abs(value) / 3.0), 3)))
        slope = raw.get("f0_slope_st_s")
        if slope is not None and math.isfinite(slope) and abs(slope) >= RISING_ST_S:
            rising = slope > 0
            top2 = sorted(scores, key=scores.get, reverse=True)[:2]
            found.append(Evidence(
                modality="voice", name="pitch contour", value=round(float(slope), 2), unit="st/s",
                start=row["start"], end=row["end"],
                description=f"pitch {'rising' if rising else 'falling'} ({slope:+.1f} semitones/s)",
                supports="surprised" if rising and "surprised" in top2 else None,
                weight=round(min(1.0, abs(slope) / (3 * RISING_ST_S)), 3)))
    found.sort(key=lambda e: -e.weight)
    return sorted(found[:MAX_EVIDENCE], key=lambda e: (e.start or 0.0, -e.weight))
