"""Judge-free explanation overlap, and the LLM judge against a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import numpy as np
import pytest

from emoreason.errors import ConfigError
from emoreason.eval.reasoning_metrics import (
    LlmJudge,
    clue_overlap,
    emotion_labels,
    judge_explanations,
    label_overlap,
    parse_score,
    score_explanations,
    split_clues,
)


def bag_of_words_encoder(texts: list[str]) -> np.ndarray:
    """A deterministic stand-in for MiniLM: hashed bag of words."""
    out = np.zeros((len(texts), 64))
    for i, t in enumerate(texts):
        for w in t.lower().replace(".", " ").replace(";", " ").split():
            out[i, sum(map(ord, w)) % 64] += 1
    return out


def test_emotion_labels_with_synonyms_and_negation():
    assert emotion_labels("She looks joyful and a bit surprised.") == {"happy", "surprised"}
    assert emotion_labels("He is not angry, just tired and anxious.") == {"fearful"}
    assert emotion_labels("He isn't sad.") == set()
    assert emotion_labels("The weather report.") == set()


def test_label_overlap_precision_recall():
    s = label_overlap("He seems happy and surprised.", "The person is delighted.")
    assert s == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3)}
    assert label_overlap("calm voice", "she is furious")["f1"] == 0.0
    assert label_overlap("", "happy")["f1"] == 0.0


def test_clue_overlap_ranks_matching_clues_higher():
    ref = "Her lip corners rise. Her voice is bright. She says she won; she is happy."
    close = "Her lip corners rise and her voice is bright. She is happy."
    far = "The man frowns deeply. He shouts at the door."
    good = clue_overlap(close, ref, bag_of_words_encoder)
    bad = clue_overlap(far, ref, bag_of_words_encoder)
    assert good["f1"] > bad["f1"] + 0.2
    assert clue_overlap(ref, ref, bag_of_words_encoder)["f1"] == pytest.approx(1.0)
    assert clue_overlap("", ref, bag_of_words_encoder)["f1"] == 0.0
    assert split_clues("One. Two! Three; four\nfive") == ["One.", "Two!", "Three;", "four", "five"]


def test_score_explanations_means():
    pairs = [("happy", "happy"), ("sad", "happy")]
    s = score_explanations(pairs)
    assert s["label_overlap_f1"] == pytest.approx(0.5) and "clue_overlap_f1" not in s
    s2 = score_explanations(pairs, bag_of_words_encoder)
    assert 0 <= s2["clue_overlap_f1"] <= 1
    assert score_explanations([]) == {}


def test_parse_score():
    assert parse_score("8") == 8.0
    assert parse_score("The predicted state is sad.\nScore: 10") == 10.0
    assert parse_score("I would say 7.5 out of 10") == 10.0  # the last number wins: ask for the number alone
    assert parse_score("no idea") is None
    assert parse_score("0") is None and parse_score("11") is None


def _judge_answer(body: dict) -> str:
    prompt = body["messages"][-1]["content"]
    if "UNPARSABLE" in prompt:
        return "cannot say"
    return "Clue score: 7" if "emotional clues" in prompt else "Both conclude happiness.\n9"


def test_llm_judge_protocol(fake_openai, monkeypatch):
    url, seen = fake_openai(_judge_answer)
    monkeypatch.setenv("JUDGE_KEY", "sk-test")
    judge = LlmJudge(url + "/v1", "judge-model-x", api_key_env="JUDGE_KEY")
    assert judge.score("she smiles; happy", "smiling, happy") == {"clue_overlap": 7.0, "label_overlap": 9.0}
    req = seen[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["body"]["model"] == "judge-model-x" and req["body"]["temperature"] == 0
    assert req["auth"] == "Bearer sk-test"
    assert "1 to 10" in req["body"]["messages"][-1]["content"]
    result = judge_explanations(judge, [("a happy", "b happy"), ("UNPARSABLE", "ref")])
    assert result["judge_model"] == "judge-model-x"
    assert result["n"] == 1 and result["failed"] == 1
    assert result["clue_overlap"] == 7.0 and result["label_overlap"] == 9.0


def test_llm_judge_unreachable_is_counted_not_fatal():
    judge = LlmJudge("http://127.0.0.1:9", "m", timeout=2)
    result = judge_explanations(judge, [("x", "y")])
    assert result["failed"] == 1 and result["n"] == 0
    with pytest.raises(ConfigError):
        LlmJudge("ftp://x", "m")
