"""Action Units in plain words, MERR's pseudo-label rules and MERR's peak-frame rule.

Shared by the face stage (evidence, explanations) and the dataset builder (MERR-format records).
AU keys may be written ``AU5``, ``AU05``, ``AU05_r`` or ``AU05_c``; they are normalised to ``AU05``.

pandas is imported by the functions that read an AU table, not with this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np

from emoreason.perception.face.action_units import ACTIVE_THRESHOLD

#: One past-tense phrase per AU, in MERR's descriptive style (used by :func:`describe_aus`).
AU_PHRASES: dict[str, str] = {
    "AU01": "inner brows raised",
    "AU02": "outer brows raised",
    "AU04": "brows lowered",
    "AU05": "eyes widened",
    "AU06": "cheeks raised",
    "AU07": "eyelids tightened",
    "AU09": "nose wrinkled",
    "AU10": "upper lip raised",
    "AU12": "lip corners pulled up",
    "AU14": "dimpled",
    "AU15": "lip corners pulled down",
    "AU17": "chin raised",
    "AU20": "lips stretched",
    "AU23": "lips tightened",
    "AU25": "lips parted",
    "AU26": "jaw dropped",
    "AU28": "lips sucked in",
    "AU43": "eyes closed",
    "AU45": "blinking",
}

#: Present-tense cue wording for evidence ("AU12: lip corners pull up").
AU_CUES: dict[str, str] = {
    "AU01": "inner brows rise",
    "AU02": "outer brows rise",
    "AU04": "brows lower and draw together",
    "AU05": "upper lids rise (eyes widen)",
    "AU06": "cheeks rise",
    "AU07": "eyelids tighten",
    "AU09": "nose wrinkles",
    "AU10": "upper lip rises",
    "AU12": "lip corners pull up",
    "AU15": "lip corners pull down",
    "AU20": "lips stretch sideways",
    "AU23": "lips tighten",
    "AU25": "lips part",
    "AU26": "jaw drops",
    "AU43": "eyes close",
}

#: Combinations described as one phrase, tried before single AUs (more AUs first).
AU_COMBO_PHRASES: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"AU05", "AU26"}), "eyes widened, mouth wide open"),
    (frozenset({"AU06", "AU12"}), "cheeks raised in a smile"),
    (frozenset({"AU01", "AU04"}), "inner brows raised and drawn together"),
    (frozenset({"AU04", "AU07"}), "frowning with tightened eyelids"),
    (frozenset({"AU01", "AU02"}), "eyebrows raised"),
    (frozenset({"AU25", "AU26"}), "mouth open"),
)

#: MERR's pseudo-label rules (Emotion-LLaMA docs), as canonical labels.
MERR_RULES: dict[str, frozenset[str]] = {
    "angry": frozenset({"AU04", "AU05", "AU07", "AU23"}),
    "sad": frozenset({"AU01", "AU04", "AU15"}),
    "happy": frozenset({"AU06", "AU12"}),
    "surprised": frozenset({"AU05", "AU26"}),
}

_AU_KEY = re.compile(r"^\s*AU\s*0*(\d+)(?:_[rc])?\s*$", re.IGNORECASE)


def normalize_au(key: str) -> str:
    """``"AU5"``, ``"au05_r"`` -> ``"AU05"``; raises ValueError on anything else."""
    m = _AU_KEY.match(str(key))
    if not m:
        raise ValueError(f"not an Action Unit name: {key!r}")
    return f"AU{int(m.group(1)):02d}"


def describe_aus(aus: Mapping[str, float], threshold: float = 0.0) -> str:
    """AUs with intensity above ``threshold`` as a phrase, strongest first, combinations merged.

    ``{"AU05": 0.36, "AU26": 1.03}`` -> ``"Eyes widened, mouth wide open"``. Empty string when none.
    Unknown AU numbers are written by their code ("AU18").
    """
    present = {normalize_au(k): float(v) for k, v in aus.items() if float(v) > threshold}
    parts: list[tuple[float, str]] = []
    left = dict(present)
    for combo, phrase in sorted(AU_COMBO_PHRASES, key=lambda cp: -len(cp[0])):
        if combo <= left.keys():
            parts.append((max(left[a] for a in combo), phrase))
            for a in combo:
                left.pop(a)
    parts += [(v, AU_PHRASES.get(a, a)) for a, v in left.items()]
    parts.sort(key=lambda vp: -vp[0])
    text = ", ".join(p for _, p in parts)
    return text[:1].upper() + text[1:]


def merr_rule_label(active: Iterable[str]) -> str | None:
    """MERR's pseudo-label from a set of active AUs (canonical label), or ``None``.

    happy = AU6+AU12; surprised = AU5+AU26; sad = AU1+AU4+AU15; angry = AU4+AU5+AU7+AU23. When several
    rules match, the one needing the most AUs wins (the most specific); a tie between equally specific
    rules (e.g. happy and surprised together) is ambiguous and gives ``None``.
    """
    act = {normalize_au(a) for a in active}
    matched = [(len(need), lab) for lab, need in MERR_RULES.items() if need <= act]
    if not matched:
        return None
    best = max(n for n, _ in matched)
    winners = [lab for n, lab in matched if n == best]
    return winners[0] if len(winners) == 1 else None


def merr_peak_index(au_table, threshold: float = ACTIVE_THRESHOLD, top_k: int = 3) -> int:
    """MERR's peak frame: position (0-based row) of the frame where the clip's most frequent AUs peak.

    ``au_table``: a pandas DataFrame (one row per frame, one column per AU intensity) or a mapping AU ->
    sequence. The ``top_k`` AUs active (intensity >= ``threshold``) in most frames are chosen (ties:
    larger total intensity); the peak is the frame with the highest sum of their intensities (first
    such frame on ties). When no AU is ever active, all AUs are summed. Raises ValueError when empty.
    """
    df = au_table_frame(au_table)
    if df.shape[0] == 0 or df.shape[1] == 0:
        raise ValueError("empty AU table")
    chosen = merr_frequent_aus(df, threshold, top_k) or list(df.columns)
    return int(np.argmax(df[chosen].to_numpy().sum(axis=1)))


def au_table_frame(au_table):
    """An AU table (pandas DataFrame, or mapping AU -> sequence) as a float DataFrame with normalised AU
    names (:func:`normalize_au`) and missing values as 0."""
    import pandas as pd

    df = au_table if isinstance(au_table, pd.DataFrame) else pd.DataFrame(dict(au_table))
    return df.rename(columns=lambda c: normalize_au(c)).astype(float).fillna(0.0)


def merr_frequent_aus(au_table, threshold: float = ACTIVE_THRESHOLD, top_k: int = 3) -> list[str]:
    """The AUs :func:`merr_peak_index` sums (most often active first); empty when none is active."""
    df = au_table_frame(au_table)
    counts = (df >= threshold).sum(axis=0)
    totals = df.sum(axis=0)
    order = sorted(df.columns, key=lambda c: (-counts[c], -totals[c], c))
    return [c for c in order[:top_k] if counts[c] > 0]
