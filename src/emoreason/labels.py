"""The canonical emotion labels and named maps to and from other corpora's taxonomies.

Every map is an explicit dictionary. A source label that has no canonical counterpart maps to
``None``: callers exclude and count such items, they never guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from emoreason.errors import ConfigError

CANONICAL: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised")

# Rule of thumb, not a model: positions of each category on Russell's circumplex (valence, arousal
# in -1..1), approximate values in the spirit of Russell (1980) and the NRC VAD lexicon's entries for
# the category words. Used to derive valence/arousal from category scores when no model predicts them.
VALENCE_AROUSAL: dict[str, tuple[float, float]] = {
    "neutral": (0.0, -0.2),
    "happy": (0.8, 0.5),
    "sad": (-0.7, -0.4),
    "angry": (-0.6, 0.8),
    "fearful": (-0.7, 0.6),
    "disgusted": (-0.7, 0.3),
    "surprised": (0.2, 0.8),
}


@dataclass(frozen=True)
class LabelMap:
    """A corpus' label set and how its labels map onto the canonical ones.

    ``to_canonical`` maps each of the corpus' labels (lower case) to a canonical label or ``None``.
    ``from_canonical`` names, for each canonical label, the corpus label used when writing results in
    that taxonomy (``None`` where the corpus has no such class).
    """

    name: str
    labels: tuple[str, ...]
    to_canonical: Mapping[str, str | None]
    from_canonical: Mapping[str, str | None] = field(default_factory=dict)
    note: str = ""

    def canonical(self, label: str) -> str | None:
        key = label.strip().lower()
        if key not in self.to_canonical:
            raise KeyError(f"{key!r} is not a {self.name} label (known: {', '.join(self.labels)})")
        return self.to_canonical[key]

    def convert_scores(self, scores: Mapping[str, float]) -> dict[str, float]:
        """Re-key canonical scores into this taxonomy; classes it lacks are dropped, the rest renormalised."""
        out = {lab: 0.0 for lab in self.labels if lab in set(self.from_canonical.values())}
        for canon, p in scores.items():
            target = self.from_canonical.get(canon)
            if target is not None:
                out[target] = out.get(target, 0.0) + float(p)
        total = sum(out.values())
        if total > 0:
            out = {k: v / total for k, v in out.items()}
        return out


def _identity_from(to_canonical: Mapping[str, str | None]) -> dict[str, str | None]:
    inverse: dict[str, str | None] = dict.fromkeys(CANONICAL)
    for src, canon in to_canonical.items():
        if canon is not None and inverse[canon] is None:
            inverse[canon] = src
    return inverse


def _make(name: str, to_canonical: dict[str, str | None], note: str = "",
          from_canonical: dict[str, str | None] | None = None) -> LabelMap:
    return LabelMap(
        name=name,
        labels=tuple(to_canonical),
        to_canonical=to_canonical,
        from_canonical=from_canonical if from_canonical is not None else _identity_from(to_canonical),
        note=note,
    )


CANONICAL_MAP = _make("canonical", {lab: lab for lab in CANONICAL})

MER2023 = _make(
    "mer2023",
    {"neutral": "neutral", "angry": "angry", "happy": "happy", "sad": "sad",
     "worried": "fearful", "surprise": "surprised"},
    note="worried -> fearful; MER2023 has no disgust class (dropped when writing).",
)

MERR = _make(
    "merr",
    {"neutral": "neutral", "angry": "angry", "happy": "happy", "sad": "sad", "worried": "fearful",
     "surprise": "surprised", "fear": "fearful", "contempt": None, "doubt": None},
    note="Emotion-LLaMA's 9-label prompt; contempt and doubt have no canonical label.",
    from_canonical={"neutral": "neutral", "happy": "happy", "sad": "sad", "angry": "angry",
                    "fearful": "fear", "disgusted": None, "surprised": "surprise"},
)

RAVDESS = _make(
    "ravdess",
    {"neutral": "neutral", "calm": "neutral", "happy": "happy", "sad": "sad", "angry": "angry",
     "fearful": "fearful", "disgust": "disgusted", "surprised": "surprised"},
    note="calm -> neutral (written back as neutral).",
)

CREMA_D = _make(
    "crema-d",
    {"neutral": "neutral", "happy": "happy", "sad": "sad", "anger": "angry", "fear": "fearful",
     "disgust": "disgusted"},
    note="CREMA-D has no surprise class (dropped when writing).",
)

MELD = _make(
    "meld",
    {"neutral": "neutral", "joy": "happy", "sadness": "sad", "anger": "angry", "fear": "fearful",
     "disgust": "disgusted", "surprise": "surprised"},
    note="joy -> happy.",
)

EMORYNLP = _make(
    "emorynlp",
    {"neutral": "neutral", "joyful": "happy", "sad": "sad", "mad": "angry", "scared": "fearful",
     "peaceful": None, "powerful": None},
    note="Willcox-wheel labels: peaceful and powerful have no canonical label (excluded, counted).",
)

FACIAL_EXPRESSIONS = _make(
    "facial_expressions",
    {"neutral": "neutral", "happiness": "happy", "sadness": "sad", "anger": "angry", "fear": "fearful",
     "disgust": "disgusted", "surprise": "surprised", "contempt": None},
    note="contempt has no canonical label.",
)

DFEW = _make(
    "dfew",
    {"happy": "happy", "sad": "sad", "neutral": "neutral", "angry": "angry", "surprise": "surprised",
     "disgust": "disgusted", "fear": "fearful"},
)

MAFW = _make(
    "mafw",
    {"anger": "angry", "disgust": "disgusted", "fear": "fearful", "happiness": "happy",
     "neutral": "neutral", "sadness": "sad", "surprise": "surprised", "contempt": None,
     "anxiety": None, "helplessness": None, "disappointment": None},
    note="contempt, anxiety, helplessness, disappointment: no canonical label.",
)

EMODB = _make(
    "emodb",
    {"anger": "angry", "boredom": None, "disgust": "disgusted", "fear": "fearful", "happiness": "happy",
     "sadness": "sad", "neutral": "neutral"},
    note="boredom has no canonical label.",
)

CK_PLUS = _make(
    "ck+",
    {"neutral": "neutral", "anger": "angry", "contempt": None, "disgust": "disgusted", "fear": "fearful",
     "happy": "happy", "sadness": "sad", "surprise": "surprised"},
    note="contempt has no canonical label.",
)

IEMOCAP = _make(
    "iemocap",
    {"neu": "neutral", "hap": "happy", "exc": "happy", "sad": "sad", "ang": "angry", "fea": "fearful",
     "dis": "disgusted", "sur": "surprised", "fru": None, "xxx": None, "oth": None},
    note="hap + exc -> happy (the usual 4-class merge); fru, xxx, oth have no canonical label.",
)

GOEMOTIONS_EKMAN = _make(
    "goemotions-ekman",
    {"neutral": "neutral", "joy": "happy", "sadness": "sad", "anger": "angry", "fear": "fearful",
     "disgust": "disgusted", "surprise": "surprised"},
)

ISEAR = _make(
    "isear",
    {"joy": "happy", "fear": "fearful", "anger": "angry", "sadness": "sad", "disgust": "disgusted",
     "shame": None, "guilt": None},
    note="shame and guilt have no canonical label.",
)

XED = _make(
    "xed",
    {"neutral": "neutral", "anger": "angry", "anticipation": None, "disgust": "disgusted", "fear": "fearful",
     "joy": "happy", "sadness": "sad", "surprise": "surprised", "trust": None},
    note="XED's Plutchik labels (codes 1..8, 0 neutral): anticipation and trust have no canonical label "
    "(dropped from a line's label set; a line left with none is excluded and counted).",
)

EMOEVENT = _make(
    "emoevent",
    {"others": "neutral", "anger": "angry", "disgust": "disgusted", "fear": "fearful", "joy": "happy",
     "sadness": "sad", "surprise": "surprised"},
    note="others (none of the six emotions) -> neutral; it also holds emotions outside the six.",
)

CPED = _make(
    "cped",
    {"neutral": "neutral", "happy": "happy", "anger": "angry", "sadness": "sad", "depress": "sad",
     "fear": "fearful", "worried": "fearful", "disgust": "disgusted", "astonished": "surprised",
     "relaxed": None, "grateful": None, "positive-other": None, "negative-other": None,
     "angry": "angry", "sad": "sad", "depressed": "sad", "feared": "fearful", "disgusted": "disgusted",
     "other-positive": None, "other-negative": None},
    note="depress -> sad, worried -> fearful (as MER2023); relaxed, grateful, positive-other and "
    "negative-other have no canonical label. The README's spellings (angry, feared, ...) are accepted too.",
)

#: Every named map, by the name the CLI's ``--labels`` accepts.
LABEL_MAPS: dict[str, LabelMap] = {
    m.name: m
    for m in (CANONICAL_MAP, MER2023, MERR, RAVDESS, CREMA_D, MELD, EMORYNLP, FACIAL_EXPRESSIONS,
              DFEW, MAFW, EMODB, CK_PLUS, IEMOCAP, GOEMOTIONS_EKMAN, ISEAR, XED, EMOEVENT, CPED)
}


def get_label_map(name: str) -> LabelMap:
    key = name.strip().lower()
    if key not in LABEL_MAPS:
        raise ConfigError(f"unknown label set {name!r}; choose one of: {', '.join(LABEL_MAPS)}")
    return LABEL_MAPS[key]


def normalise_scores(scores: Mapping[str, float]) -> dict[str, float]:
    """Return canonical-ordered scores summing to 1 (missing labels count as 0)."""
    vals = {lab: max(0.0, float(scores.get(lab, 0.0))) for lab in CANONICAL}
    total = sum(vals.values())
    if total <= 0:
        raise ValueError("scores are all zero")
    return {k: v / total for k, v in vals.items()}


def valence_arousal_from_scores(scores: Mapping[str, float]) -> tuple[float, float]:
    """Expected (valence, arousal) under the category scores, using :data:`VALENCE_AROUSAL`."""
    v = sum(float(scores.get(lab, 0.0)) * VALENCE_AROUSAL[lab][0] for lab in CANONICAL)
    a = sum(float(scores.get(lab, 0.0)) * VALENCE_AROUSAL[lab][1] for lab in CANONICAL)
    return max(-1.0, min(1.0, v)), max(-1.0, min(1.0, a))
