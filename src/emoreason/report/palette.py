"""Colours and display names shared by the HTML report and the timeline picture, and the report's
coloured score bar (:func:`score_bar`).

Each canonical label has one colour everywhere. Labels of another taxonomy (``--labels mer2023``
writes "worried", "surprise" ...) take the colour of the canonical label they map to; a label with no
canonical counterpart (MERR's "doubt") gets a stable colour from a spare palette.
"""

from __future__ import annotations

import hashlib
import re
from html import escape

from emoreason.labels import CANONICAL, LABEL_MAPS

LABEL_COLOURS: dict[str, str] = {
    "neutral": "#8d96a3",
    "happy": "#f2b705",
    "sad": "#3a6fb7",
    "angry": "#d1495b",
    "fearful": "#8e5ac8",
    "disgusted": "#4f9a45",
    "surprised": "#f07f1d",
}
_SPARE = ("#1b9aaa", "#c05299", "#7a6c5d", "#2e4057", "#a1c181", "#e07a5f")

MODALITY_NAMES: dict[str, str] = {"fused": "all cues", "face": "face", "voice": "voice", "text": "words"}

# FACS names of the Action Units the face analyser measures (emoreason.perception.face.action_units).
AU_NAMES: dict[str, str] = {
    "AU1": "inner brow raiser", "AU2": "outer brow raiser", "AU4": "brow lowerer",
    "AU5": "upper lid raiser", "AU6": "cheek raiser", "AU7": "lid tightener", "AU9": "nose wrinkler",
    "AU10": "upper lip raiser", "AU12": "lip corner puller", "AU15": "lip corner depressor",
    "AU17": "chin raiser", "AU20": "lip stretcher", "AU23": "lip tightener", "AU25": "lips part",
    "AU26": "jaw drop", "AU43": "eyes closed", "AU45": "blink",
}


def canonical_of(label: str, label_set: str = "canonical") -> str | None:
    """The canonical label ``label`` stands for in ``label_set`` (``None`` when it has none)."""
    key = label.strip().lower()
    if key in CANONICAL:
        return key
    label_map = LABEL_MAPS.get(label_set.strip().lower())
    maps = [label_map] if label_map is not None else []
    maps += [m for m in LABEL_MAPS.values() if m is not label_map]
    for m in maps:
        if key in m.to_canonical:
            return m.to_canonical[key]
    return None


def label_colour(label: str, label_set: str = "canonical") -> str:
    """A hex colour for ``label``; the same label always gets the same colour."""
    canon = canonical_of(label, label_set)
    if canon is not None:
        return LABEL_COLOURS[canon]
    digest = hashlib.sha1(label.strip().lower().encode("utf-8")).digest()
    return _SPARE[digest[0] % len(_SPARE)]


def label_order(labels: list[str] | set[str] | tuple[str, ...], label_set: str = "canonical") -> list[str]:
    """Labels in a stable display order: canonical order first, then the rest alphabetically."""
    def key(lab: str) -> tuple[int, str]:
        canon = canonical_of(lab, label_set)
        return (CANONICAL.index(canon) if canon in CANONICAL else len(CANONICAL), lab)

    return sorted(set(labels), key=key)


def au_display(code: str) -> tuple[str, str]:
    """Normalise an AU code ("AU06", "au6", "AU12_r") to ("AU6", "cheek raiser")."""
    m = re.search(r"(\d+)", code)
    short = f"AU{int(m.group(1))}" if m else code
    return short, AU_NAMES.get(short, "")


def text_on(hex_colour: str) -> str:
    """Black or white, whichever reads better on ``hex_colour``."""
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#111111" if luminance > 140 else "#ffffff"


def score_bar(label: str, p: float, label_set: str, extra_class: str = "") -> str:
    """One HTML bar row: the label, a bar of ``p`` (clipped to 0..1) in the label's colour, the value."""
    pct = max(0.0, min(1.0, float(p))) * 100
    cls = f"bar-row {extra_class}".strip()
    return (f'<div class="{cls}"><span class="name">{escape(label)}</span><div class="bar">'
            f'<span style="width:{pct:.1f}%;background:{label_colour(label, label_set)}"></span></div>'
            f'<span class="val">{p:.2f}</span></div>')
