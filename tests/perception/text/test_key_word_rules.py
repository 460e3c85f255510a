"""The fast key-word search's work-saving rules, on stand-in networks: which words are tried (function words
skipped in long sentences, the words that score highest alone in very long ones), and when the second
candidate goes to the ensemble; the drop is always the ensemble's."""

from __future__ import annotations

import numpy as np

from emoreason.perception.text import key_words
from emoreason.perception.text.key_words import (
    PRIOR_AFTER_WORDS,
    PRIOR_WORDS,
    SKIP_AFTER_WORDS,
    search,
    tried,
)

LONG = "Oh, the man at the door - he was so rude to me and I am furious"


def test_short_sentences_try_every_word_long_ones_skip_function_words_and_punctuation():
    short = "I am at the door"
    assert tried(short.split(), "fast") == list(range(5))
    words = LONG.split()
    assert len(words) > SKIP_AFTER_WORDS
    kept = [words[k] for k in tried(words, "fast")]
    assert kept == ["Oh,", "man", "door", "so", "rude", "me", "I", "furious"]
    assert tried(words, "exact") == list(range(len(words)))
    only_skipped = "the a an to of with was be at".split()
    assert tried(only_skipped, "fast") == list(range(len(only_skipped)))  # nothing left: every word


def _stand_ins(first_scores: dict[str, float], ensemble: dict[str, float]):
    """A ranking network and an ensemble that give label 0 the listed score per text (rest spread)."""
    calls = []

    def rows(texts, table):
        out = np.full((len(texts), 7), 0.0)
        out[:, 0] = [table[t] for t in texts]
        out[:, 1] = 1.0 - out[:, 0]
        return out

    def rank(texts):
        return rows(texts, first_scores)

    def score(texts, histories, first=None, encoded=None):
        calls.append(list(texts))
        return rows(texts, ensemble)

    return rank, score, calls


def test_the_second_candidate_is_confirmed_only_within_the_gap():
    text = "you are late"
    variants = {"are late": 0.30, "you late": 0.80, "you are": 0.35}  # without "you", "are", "late"
    ensemble = {text: 0.9, "are late": 0.6, "you late": 0.85, "you are": 0.2}
    rank, score, calls = _stand_ins(variants, ensemble)
    got = search([(text, 0)], "fast", score, rank, has_first=False)
    assert calls == [[text, "are late", "you are"]]  # 0.35 - 0.30 is within the gap: both confirmed
    assert got[0][0] == "late" and got[0][2] == 2 and abs(got[0][1] - 0.7) < 1e-12  # the ensemble's drop

    far = dict(variants, **{"you are": 0.30 + key_words.KEY_WORD_GAP + 0.05})
    rank, score, calls = _stand_ins(far, ensemble)
    got = search([(text, 0)], "fast", score, rank, has_first=False)
    assert calls == [[text, "are late"]]  # beyond the gap: the first candidate alone
    assert got[0][0] == "you" and abs(got[0][1] - 0.3) < 1e-12


def test_a_drop_below_the_threshold_is_no_key_word_and_known_scores_are_not_recomputed():
    text = "fine thanks"
    rank, score, calls = _stand_ins({"thanks": 0.5, "fine": 0.6}, {"thanks": 0.55, "fine": 0.6})
    alone = [np.array([0.6] + [0.4 / 6] * 6)]
    assert search([(text, 0)], "fast", score, rank, has_first=False, alone=alone) == [None]
    assert calls == [["thanks", "fine"]]  # the sentence's own score was given


def test_in_very_long_sentences_only_the_words_that_score_highest_alone_are_left_out():
    words = [f"w{k}" for k in range(PRIOR_AFTER_WORDS + 2)]
    text = " ".join(words)
    alone = {w: 0.01 * k for k, w in enumerate(words)}  # read alone, later words score higher for label 0
    alone.update({"w3": 0.9, "w7": 0.8})
    variants = {" ".join(words[:k] + words[k + 1:]): 0.5 for k in range(len(words))}
    ranked = []

    def rank(texts):
        ranked.append(list(texts))
        out = np.zeros((len(texts), 7))
        out[:, 0] = [alone[t] if t in alone else variants[t] for t in texts]
        return out

    def score(texts, histories, first=None, encoded=None):
        out = np.zeros((len(texts), 7))
        out[:, 0] = [0.9 if t == text else 0.2 for t in texts]
        return out

    got = search([(text, 0)], "fast", score, rank, has_first=False)
    assert ranked[0] == words  # each word read alone, once
    top = sorted([3, 7, len(words) - 1][:PRIOR_WORDS])
    assert ranked[1] == [" ".join(words[:k] + words[k + 1:]) for k in top]  # only those left out
    assert got[0] is not None and got[0][2] in top and abs(got[0][1] - 0.7) < 1e-12
    short = " ".join(words[:PRIOR_AFTER_WORDS])
    ranked.clear()
    variants.update({" ".join(words[:k] + words[k + 1:PRIOR_AFTER_WORDS]): 0.5
                     for k in range(PRIOR_AFTER_WORDS)})
    search([(short, 0)], "fast", score, rank, has_first=False)
    assert len(ranked) == 1 and len(ranked[0]) == PRIOR_AFTER_WORDS  # not longer: every word tried


def test_a_repeated_word_takes_one_place_among_the_words_tried_in_a_very_long_sentence():
    words = ["yes!"] * 3 + [f"w{k}" for k in range(PRIOR_AFTER_WORDS)]
    text = " ".join(words)
    alone = {"yes!": 0.9, **{f"w{k}": 0.01 * k for k in range(PRIOR_AFTER_WORDS)}}
    ranked = []

    def rank(texts):
        ranked.append(list(texts))
        out = np.zeros((len(texts), 7))
        out[:, 0] = [alone.get(t, 0.5) for t in texts]
        return out

    def score(texts, histories, first=None, encoded=None):
        return np.full((len(texts), 7), 1 / 7)

    search([(text, 0)], "fast", score, rank, has_first=False)
    last = [f"w{k}" for k in range(PRIOR_AFTER_WORDS)][-(PRIOR_WORDS - 1):]
    want = [0] + [words.index(w) for w in last]  # "yes!" at its first place, then the best others
    assert ranked[1] == [" ".join(words[:k] + words[k + 1:]) for k in want]
