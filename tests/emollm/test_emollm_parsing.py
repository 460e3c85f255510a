"""Answer parsing: synonyms, negation, conclusions, label sets, and answers that name no label."""

from __future__ import annotations

import pytest

from emoreason.emollm.answer_parsing import parse_answer
from emoreason.errors import UnparsableAnswerError


@pytest.mark.parametrize(("answer", "label_set", "want"), [
    ("happy", "canonical", "happy"),
    ("Happy.", "canonical", "happy"),
    ("worried", "canonical", "fearful"),
    ("worried", "merr", "worried"),
    ("worried", "mer2023", "worried"),
    ("fear", "merr", "fear"),
    ("The emotion is joy", "canonical", "happy"),
    ("surprise", "canonical", "surprised"),
    ("He looks disgusted", "canonical", "disgusted"),
    ("She is not happy, she is sad", "canonical", "sad"),
    ("He smiles at first, yet his voice trembles and he is scared", "canonical", "fearful"),
    ("Although he smiles, the person feels angry.", "canonical", "angry"),
    ("Smiling, a happy tone ... Therefore, it is inferred that his emotional state is: sad", "canonical",
     "sad"),
    ("calm", "ravdess", "calm"),
    ("calm", "canonical", "neutral"),
    ("anger", "crema-d", "anger"),
    ("furious", "crema-d", "anger"),
    ("doubt", "merr", "doubt"),
])
def test_parse_answer(answer, label_set, want):
    assert parse_answer(answer, label_set).label == want


@pytest.mark.parametrize(("answer", "label_set"), [
    ("", "canonical"),
    ("I cannot tell from this video.", "canonical"),
    ("doubt", "canonical"),  # a MERR word with no canonical label is not turned into anything
    ("contempt", "mer2023"),
    ("not happy", "canonical"),
])
def test_unparsable_answers_are_reported(answer, label_set):
    with pytest.raises(UnparsableAnswerError, match="names no"):
        parse_answer(answer, label_set)


def test_ambiguous_mentions_flagged_and_last_wins():
    parsed = parse_answer("happy or sad", "canonical")
    assert parsed.ambiguous and parsed.label == "sad" and set(parsed.mentioned) == {"happy", "sad"}


@pytest.mark.parametrize("answer", [
    "Please determine which emotion label in the video represents: happy, sad, neutral, angry, worried, "
    "surprise, fear, contempt, doubt.",
    "which emotion label in the video represents: happy, sad, neutral",
    "happy, sad, neutral, angry or worried",
])
def test_an_echoed_label_list_is_unparsable(answer):
    with pytest.raises(UnparsableAnswerError, match="names no canonical label"):
        parse_answer(answer, "canonical")


def test_a_verdict_after_an_echoed_list_still_counts():
    echo = "Which emotion label represents: happy, sad, neutral, angry, worried? The emotion is sad."
    assert parse_answer(echo, "canonical").label == "sad"
    assert parse_answer("He is happy, then sad.", "canonical").label == "sad"  # two labels: not a list
