"""Turn a model's free-text answer into a label from a label set, or say that it names none.

Emotion-LLaMA's own evaluation maps any unknown answer to "neutral"; here an answer that names no
label raises :class:`~emoreason.errors.UnparsableAnswerError` (or the caller records a note).

Rules: words are matched whole and case-insensitively, with synonyms and inflections ("worried",
"joyful", "anger", "scared" ...); a mention right after a negation ("not happy", "isn't sad") does
not count; when several labels are named, an explicit conclusion ("emotional state is: X",
"feels X", "label is X") wins, otherwise the last mention does (reasoning ends with its verdict).
A list of three or more labels joined only by commas, "or", "and" or slashes (the recognition prompt's
"represents: happy, sad, neutral, …", echoed back) is an enumeration, not a verdict: its words do not
count, so an answer that only echoes the prompt is unparsable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from emoreason.errors import UnparsableAnswerError
from emoreason.labels import get_label_map

#: Surface words -> canonical labels (plus two MERR labels with no canonical counterpart).
SYNONYMS: dict[str, str] = {
    **dict.fromkeys(["neutral", "calm", "neutrality", "indifferent", "composed", "peaceful"], "neutral"),
    **dict.fromkeys(["happy", "happiness", "joy", "joyful", "glad", "cheerful", "delighted", "pleased",
                     "excited", "amused"], "happy"),
    **dict.fromkeys(["sad", "sadness", "unhappy", "sorrow", "sorrowful", "upset", "depressed", "grief",
                     "disappointed", "melancholy"], "sad"),
    **dict.fromkeys(["angry", "anger", "mad", "furious", "annoyed", "irritated", "frustrated", "rage",
                     "hostile"], "angry"),
    **dict.fromkeys(["fearful", "fear", "afraid", "scared", "frightened", "worried", "worry", "anxious",
                     "anxiety", "nervous", "terrified"], "fearful"),
    **dict.fromkeys(["disgusted", "disgust", "revulsion", "repulsed", "disgusting"], "disgusted"),
    **dict.fromkeys(["surprised", "surprise", "astonished", "amazed", "shocked", "startled"], "surprised"),
    "contempt": "contempt", "contemptuous": "contempt", "scorn": "contempt",
    "doubt": "doubt", "doubtful": "doubt", "skeptical": "doubt", "sceptical": "doubt", "suspicious": "doubt",
}

_NEGATIONS = {"not", "no", "never", "neither", "nor", "without", "isn't", "wasn't", "doesn't", "don't",
              "hardly", "n't"}
_CONCLUSION = re.compile(
    r"(emotional state is|emotion is|emotion label is|label is|category is|feels?|feeling|"
    r"reflects?|represents?|inferred that)\W+(?:(?:a|an|the|of|very|quite|rather|mostly|feeling|being)\W+)*"
    r"([a-z']+)", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedAnswer:
    """The label found (in the requested label set), the word that named it, and what else was named."""

    label: str
    word: str
    mentioned: tuple[str, ...]
    ambiguous: bool


def _to_set(concept: str, label_set: str, word: str = "") -> str | None:
    """The word itself when it is a label of ``label_set``, else its concept (canonical label, contempt or
    doubt) expressed in ``label_set``; ``None`` if it has no label there."""
    lm = get_label_map(label_set)
    if word in lm.to_canonical:
        return word
    if concept in ("contempt", "doubt"):
        return concept if concept in lm.to_canonical else None
    if lm.name == "canonical":
        return concept
    return lm.from_canonical.get(concept)


_LIST_GAP = re.compile(r"[\s,;/]*(?:(?:or|and)\b)?[\s,;/]*", re.IGNORECASE)
_MIN_ENUMERATION = 3


def _enumerated(text: str, spans: list[tuple[int, int]]) -> set[int]:
    """Start positions of label words that belong to a list of >= 3 labels separated only by commas,
    "or", "and", slashes or semicolons."""
    out: set[int] = set()
    run = [0]
    for k in range(1, len(spans) + 1):
        joined = k < len(spans) and _LIST_GAP.fullmatch(text[spans[k - 1][1]: spans[k][0]]) is not None
        if joined:
            run.append(k)
            continue
        if len(run) >= _MIN_ENUMERATION:
            out.update(spans[j][0] for j in run)
        run = [k]
    return out


def _mentions(text: str) -> list[tuple[int, str, str]]:
    matches = list(_WORD.finditer(text))
    words = [(m.start(), m.group(0).lower()) for m in matches]
    labels = [(m.start(), m.end()) for m in matches if m.group(0).lower() in SYNONYMS]
    listed = _enumerated(text, labels)
    found = []
    for i, (pos, w) in enumerate(words):
        concept = SYNONYMS.get(w)
        if concept is None or pos in listed:
            continue
        before = {x for _, x in words[max(0, i - 2): i]}
        if before & _NEGATIONS:
            continue
        found.append((pos, w, concept))
    return found


def parse_answer(text: str, label_set: str = "canonical") -> ParsedAnswer:
    """Find the label an answer names, in ``label_set``'s vocabulary; raise if it names none."""
    mentions = _mentions(text or "")
    in_set = [(pos, w, _to_set(c, label_set, w)) for pos, w, c in mentions]
    usable = [(pos, w, lab) for pos, w, lab in in_set if lab is not None]
    if not usable:
        named = ", ".join(sorted({w for _, w, _ in mentions}))
        extra = f" (it names {named}, which the {label_set} set lacks)" if named else ""
        snippet = " ".join((text or "").split())[:80]
        raise UnparsableAnswerError(f"the model's answer names no {label_set} label{extra}: {snippet!r}")
    distinct = tuple(dict.fromkeys(lab for _, _, lab in usable))
    if len(distinct) == 1:
        return ParsedAnswer(distinct[0], usable[0][1], distinct, False)
    counted = {pos for pos, _, _ in usable}
    for m in reversed(list(_CONCLUSION.finditer(text))):
        if m.start(2) not in counted:  # a conclusion whose word was negated or is part of a list
            continue
        word = m.group(2).lower()
        concept = SYNONYMS.get(word)
        lab = _to_set(concept, label_set, word) if concept else None
        if lab is not None:
            return ParsedAnswer(lab, word, distinct, False)
    pos, word, lab = usable[-1]
    return ParsedAnswer(lab, word, distinct, True)
