"""Plain-words descriptions of a clip, and MERR's coarse caption built from them.

The audio description turns the prosody table (``emoreason.perception.voice.prosody``: one row per speech
segment) into a few words such as "loud, fast, rising pitch". The thresholds are documented rules of
thumb for adult conversational speech, not a trained model, and are absolute (one clip gives too
little of a voice to compare it with itself):

- loudness: mean RMS level of the speech over ``LOUD_DB`` dBFS is "loud", under ``SOFT_DB`` "soft".
  Recording gain shifts this: treat it as a property of the recording as much as of the voice.
- rate: the syllable-nucleus estimate over ``FAST_SYL_S`` per second is "fast", under ``SLOW_SYL_S``
  "slow" (conversational speech runs at about 4-5 syllables per second).
- pitch movement: the duration-weighted F0 slope over ``RISING_ST_S`` semitones/s is "rising pitch",
  under ``FALLING_ST_S`` "falling pitch" (ordinary declination is a gentle fall, so the falling
  threshold is further from zero).
- pitch range: a 90-10 percentile spread over ``WIDE_RANGE_ST`` semitones is "lively, varied pitch",
  under ``NARROW_RANGE_ST`` "flat, monotone pitch".
- pauses: more than ``PAUSES_PER_S`` pauses per second of speech is "hesitant, with pauses".
Nothing measured moves a value into neither bucket, which says nothing ("steady, even tone" when no
rule fires). A voice-emotion label is appended ("sounding angry") only when the voice model's top
probability reaches ``VOICE_LABEL_MIN``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

LOUD_DB, SOFT_DB = -16.0, -34.0
FAST_SYL_S, SLOW_SYL_S = 5.5, 3.0
RISING_ST_S, FALLING_ST_S = 2.0, -4.0
WIDE_RANGE_ST, NARROW_RANGE_ST = 8.0, 2.5
PAUSES_PER_S = 0.6
VOICE_LABEL_MIN = 0.5

COARSE_TEMPLATE = ("This person in the video is {visual}. The person's expression and actions include "
                   "{expression}, and the person's tone is {tone}. Saying: {subtitle}")

SOUNDING = {"neutral": "calm", "happy": "happy", "sad": "sad", "angry": "angry", "fearful": "fearful",
            "disgusted": "disgusted", "surprised": "surprised"}


def prosody_summary(prosody: Any) -> dict[str, float]:
    """Duration-weighted means of the prosody table's columns (NaNs ignored); ``{}`` for no rows."""
    if prosody is None or len(prosody) == 0:
        return {}
    durations = (prosody["end"] - prosody["start"]).clip(lower=1e-3).to_numpy(dtype=float)
    out: dict[str, float] = {"speech_seconds": float(durations.sum()), "segments": float(len(prosody))}
    for col in ("energy_mean_db", "rate_syl_s", "f0_slope_st_s", "f0_range_st", "f0_mean_hz",
                "voiced_fraction"):
        if col not in prosody.columns:
            continue
        vals = prosody[col].to_numpy(dtype=float)
        ok = ~(vals != vals)  # not NaN
        if ok.any():
            out[col] = float((vals[ok] * durations[ok]).sum() / durations[ok].sum())
    if "pauses" in prosody.columns:
        out["pauses_per_s"] = float(prosody["pauses"].fillna(0).sum() / out["speech_seconds"])
    return out


def audio_description(summary: Mapping[str, float], voice_scores: Mapping[str, float] | None = None) -> str:
    """A few words on how the person sounds, from :func:`prosody_summary` (and voice-model scores)."""
    if not summary or summary.get("speech_seconds", 0.0) <= 0:
        return "silent (no speech detected)"
    words: list[str] = []

    def have(key: str) -> bool:
        v = summary.get(key)
        return v is not None and not math.isnan(v)

    if have("energy_mean_db"):
        if summary["energy_mean_db"] >= LOUD_DB:
            words.append("loud")
        elif summary["energy_mean_db"] <= SOFT_DB:
            words.append("soft")
    if have("rate_syl_s"):
        if summary["rate_syl_s"] >= FAST_SYL_S:
            words.append("fast")
        elif summary["rate_syl_s"] <= SLOW_SYL_S:
            words.append("slow")
    if have("f0_slope_st_s"):
        if summary["f0_slope_st_s"] >= RISING_ST_S:
            words.append("rising pitch")
        elif summary["f0_slope_st_s"] <= FALLING_ST_S:
            words.append("falling pitch")
    if have("f0_range_st"):
        if summary["f0_range_st"] >= WIDE_RANGE_ST:
            words.append("lively, varied pitch")
        elif summary["f0_range_st"] <= NARROW_RANGE_ST:
            words.append("flat, monotone pitch")
    if summary.get("pauses_per_s", 0.0) > PAUSES_PER_S:
        words.append("hesitant, with pauses")
    if not words:
        words.append("steady, even tone")
    if voice_scores:
        label, p = max(voice_scores.items(), key=lambda kv: kv[1])
        if p >= VOICE_LABEL_MIN and label in SOUNDING:
            words.append(f"sounding {SOUNDING[label]}")
    return ", ".join(words)


def visual_description(face_details: Mapping[str, Any] | None, scene: str | None = None) -> str:
    """MERR's "visual objective" slot: the scene description if a vision model gave one, else what we know.

    Without a vision-language model we state only what the face stage measured (how often a face
    was visible), never an invented scene.
    """
    if scene:
        return scene.strip().rstrip(".")
    if not face_details:
        return "not visible (no face found)"
    frames = int(face_details.get("frames") or 0)
    with_face = int(face_details.get("frames_with_face") or 0)
    if frames <= 0 or with_face <= 0:
        return "not visible (no face found)"
    share = with_face / frames
    return f"on camera, face visible in {share:.0%} of the sampled frames"


def coarse_caption(visual: str, expression: str, tone: str, subtitle: str) -> str:
    """MERR's coarse caption: ``This person in the video is {visual}. ... Saying: {subtitle}``."""
    said = subtitle.strip() or "(nothing audible)"
    return COARSE_TEMPLATE.format(visual=visual.strip().rstrip("."),
                                  expression=expression.strip().rstrip("."),
                                  tone=tone.strip().rstrip("."), subtitle=said)
