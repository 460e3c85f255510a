"""Greedy reasoning has repetition control: a model that loops cannot repeat itself."""

from __future__ import annotations

import torch

from emoreason.emollm.infer import REASON_NO_REPEAT_NGRAM, generate_reasoning
from emoreason.emollm.instructions import REASON_INSTRUCTIONS


def _looping(model, cycle: list[int]) -> None:
    """Make the tiny LLM a bigram machine that, greedily, goes cycle[0] -> cycle[1] -> cycle[2] -> cycle[0]:
    attention and MLP outputs are zeroed (the last hidden state is the token's own embedding) and the
    LM head maps each cycle token's (orthogonal) embedding onto the next one."""
    lm = model.language_model
    with torch.no_grad():
        for layer in lm.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        emb, head = model.get_input_embeddings().weight, model.get_output_embeddings().weight
        head.zero_()
        for k, tok in enumerate(cycle):
            emb[tok] = 0
            emb[tok, k] = 5.0
        for k, tok in enumerate(cycle):
            head[cycle[(k + 1) % len(cycle)]] = emb[tok]


def test_reasoning_never_repeats_an_ngram(tiny):
    model, proc = tiny
    model.eval()
    prompt = proc.prompt_ids("we won the game today", "reason", REASON_INSTRUCTIONS[0], streams_present=[])
    tok = proc.tokenizer
    cycle = [prompt[-1], tok.convert_tokens_to_ids("smiles"), tok.convert_tokens_to_ids("loud")]
    _looping(model, cycle)
    plain = model.generate(torch.tensor([prompt]), max_new_tokens=12, do_sample=False)[0].tolist()
    assert plain[:6] == cycle[1:] + cycle + cycle[:1]  # the model does loop when left alone
    words = generate_reasoning(model, proc, prompt, {}, 40).split()
    n = REASON_NO_REPEAT_NGRAM
    grams = [tuple(words[i: i + n]) for i in range(len(words) - n + 1)]
    assert len(words) > n and len(grams) == len(set(grams)), words
