"""Answer-word scores: the mean log-probability per answer token, checked against a plain forward pass."""

from __future__ import annotations

import torch

from emoreason.emollm.infer import answer_word_log_scores
from emoreason.emollm.instructions import EMOTION_INSTRUCTIONS


def test_answer_word_scores_are_mean_log_prob_per_token(tiny):
    model, proc = tiny
    model.eval()
    prompt = proc.prompt_ids("we won the game today", "emotion", EMOTION_INSTRUCTIONS[0], streams_present=[])
    words = ["happy", "the voice is bright", "sad"]  # answers of 2, 5 and 2 tokens (with end-of-sequence)
    got = answer_word_log_scores(model, proc, prompt, words, {})
    want = []
    for w in words:
        ans = proc.answer_ids(w)
        with torch.no_grad():
            logp = model(input_ids=torch.tensor([prompt + ans])).logits[0].log_softmax(-1)
        per_token = [logp[len(prompt) - 1 + i, t] for i, t in enumerate(ans)]
        want.append(sum(per_token) / len(ans))
    assert len({len(proc.answer_ids(w)) for w in words}) == 2
    torch.testing.assert_close(got, torch.stack(want), atol=1e-4, rtol=1e-4)


def test_the_lost_mass_note_names_only_unmapped_words():
    from emoreason.emollm.infer import word_scores_to_label_set

    probs = {"angry": 0.5, "worried": 0.2, "doubt": 0.2, "contempt": 0.1}
    scores, lost, unmapped = word_scores_to_label_set(probs, "crema-d")
    assert scores["anger"] > 0 and unmapped == ["doubt", "contempt"]
    assert abs(lost - 0.3) < 1e-9 and abs(sum(scores.values()) - 1) < 1e-9
