"""Emotion-LLaMA's prompts, answer vocabulary and sequence layout (from its code, 4ee28d2), used verbatim.

One layout for training and inference::

    <s>[INST] <video>{video streams}</video> <feature>{feature streams}</feature> The person in video
    says: {subtitle}. [{task}] {instruction} [/INST] {answer}</s>

The recognition instruction lists the model's answer words (:func:`emotion_instruction`: MERR's verbatim
prompt for MERR's nine words). :func:`subtitle_with_context` is the one way an utterance and the earlier
turns of its dialogue become the subtitle, for training prompts and for inference alike.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from emoreason.errors import ConfigError

TASKS = ("emotion", "reason")

#: Emotion-LLaMA's answer vocabulary: the nine labels its recognition prompt lists.
MERR_LABEL_WORDS = ("happy", "sad", "neutral", "angry", "worried", "surprise", "fear", "contempt", "doubt")
#: The compact model's answer words: the canonical seven labels, as answered (one SmolLM2 token each with
#: a leading space, except " disgusted" = " disgust" + "ed").
CANONICAL_LABEL_WORDS = ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised")
#: Earlier turns of a dialogue kept in a subtitle, and the words kept of each.
CONTEXT_TURNS = 2
CONTEXT_TURN_WORDS = 30

EMOTION_INSTRUCTIONS = (
    "Please determine which emotion label in the video represents: happy, sad, neutral, angry, worried, "
    "surprise, fear, contempt, doubt.",
)

REASON_INSTRUCTIONS = (
    "Please analyze all the clues in the video and reason out the emotional label of the person in the "
    "video.",
    "What is the emotional state of the person in the video? Please tell me the reason.",
    "What are the facial expressions and vocal tone used in the video? What is the intended meaning behind "
    "his words? Which emotion does this reflect?",
    "Please integrate information from various modalities to infer the emotional category of the person in "
    "the video.",
    "Could you describe the emotion-related features of the individual in the video? What emotional category "
    "do they fall into?",
)

#: Appended to a reasoning target before its label, as Emotion-LLaMA's data loader does.
REASON_INFER_SUFFIX = " Therefore, it is inferred that his emotional state is: "


def emotion_instruction(label_words: Sequence[str] = MERR_LABEL_WORDS) -> str:
    """The recognition prompt listing ``label_words``: Emotion-LLaMA's own, verbatim, when they are MERR's
    nine (in any order), else the same sentence with these words in the given order."""
    words = [w.strip() for w in label_words]
    if not words or any(not w for w in words):
        raise ConfigError("label_words must be a non-empty list of words")
    if sorted(words) == sorted(MERR_LABEL_WORDS):
        return EMOTION_INSTRUCTIONS[0]
    return f"Please determine which emotion label in the video represents: {', '.join(words)}."


def instruction_for(task: str, rng: random.Random | None = None, index: int | None = None,
                    label_words: Sequence[str] = MERR_LABEL_WORDS) -> str:
    """The instruction text for a task: the recognition prompt listing ``label_words``, or one of the five
    reasoning prompts (``index`` picks one, else ``rng`` draws one)."""
    pool = (emotion_instruction(label_words),) if task == "emotion" else \
        REASON_INSTRUCTIONS if task == "reason" else None
    if pool is None:
        raise ConfigError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    if index is not None:
        return pool[index % len(pool)]
    return (rng or random).choice(pool)


def reason_target(reasoning: str, label: str) -> str:
    """The answer a ``[reason]`` example trains on: the explanation, then the inferred label."""
    return reasoning.strip() + REASON_INFER_SUFFIX + label


def prompt_text_parts(subtitle: str | None, task: str, instruction: str,
                      close_inst: bool = True) -> tuple[str, str, str]:
    """The prompt text after the feature placeholders as (before the subtitle, the subtitle, after it), up
    to and including `` [/INST]`` (left out with ``close_inst=False``, when a chat template closes the
    user turn); the subtitle sentence is left out when empty (then the middle part is "")."""
    close = " [/INST]" if close_inst else ""
    said = subtitle.strip() if subtitle else ""
    if not said:
        return "</feature>", "", f" [{task}] {instruction}{close}"
    return "</feature> The person in video says:", f" {said}", f". [{task}] {instruction}{close}"


def text_after_features(subtitle: str | None, task: str, instruction: str, close_inst: bool = True) -> str:
    """:func:`prompt_text_parts` joined into one string."""
    return "".join(prompt_text_parts(subtitle, task, instruction, close_inst))


def _clip_words(text: str, limit: int) -> str:
    words = text.split()
    return " ".join(words) if len(words) <= limit else " ".join(words[:limit]) + " …"


def subtitle_with_context(text: str, context: Sequence[str] | None = None) -> str:
    """The subtitle of an utterance said after the earlier turns ``context`` of its dialogue (oldest
    first): the utterance, then the last :data:`CONTEXT_TURNS` non-empty turns in quotes, each cut to its
    first :data:`CONTEXT_TURN_WORDS` words, e.g. ``Oh really? (earlier in the conversation: "I got the
    job." / "We move in May.")``. Without context: the utterance with its spacing normalised."""
    said = re.sub(r"\s+", " ", text or "").strip()
    turns = [_clip_words(t, CONTEXT_TURN_WORDS) for t in (context or []) if t and t.strip()]
    turns = turns[-CONTEXT_TURNS:]
    if not turns:
        return said
    earlier = "(earlier in the conversation: " + " / ".join(f'"{t}"' for t in turns) + ")"
    return f"{said} {earlier}" if said else earlier
