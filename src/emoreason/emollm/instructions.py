"""Emotion-LLaMA's prompts, answer vocabulary and sequence layout (from its code, 4ee28d2), used verbatim.

One layout for training and inference::

    <s>[INST] <video>{video streams}</video> <feature>{feature streams}</feature> The person in video
    says: {subtitle}. [{task}] {instruction} [/INST] {answer}</s>
"""

from __future__ import annotations

import random

from emoreason.errors import ConfigError

TASKS = ("emotion", "reason")

#: Emotion-LLaMA's answer vocabulary: the nine labels its recognition prompt lists.
MERR_LABEL_WORDS = ("happy", "sad", "neutral", "angry", "worried", "surprise", "fear", "contempt", "doubt")

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


def instruction_for(task: str, rng: random.Random | None = None, index: int | None = None) -> str:
    """The instruction text for a task: the recognition prompt, or one of the five reasoning prompts."""
    pool = EMOTION_INSTRUCTIONS if task == "emotion" else REASON_INSTRUCTIONS if task == "reason" else None
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
