"""Training throughput of the multimodal LLM against plain transformers + peft on the LLM alone.

Both models: a LLaMA-2-7B-shaped LLM with random weights, LoRA r=64 / alpha 16 on q_proj and v_proj,
AdamW, the same batch, the same total sequence length and the same answer-token loss mask. The
multimodal model also splices Emotion-LLaMA's 260 feature tokens (random cached features: 1024 x 1408
frame patches grouped 4 -> 256, CLS, face, temporal, audio) and trains its projectors. Each mode
(eager, torch.compile) runs both models in the same process; the ratio is multimodal / plain.

    python benchmarks/bench_emollm_train.py                 # GPU, LLaMA-2-7B shape, batch 8 x 512
    python benchmarks/bench_emollm_train.py --tiny          # CPU smoke run: tiny shapes, seconds
    python benchmarks/bench_emollm_train.py --gradient-checkpointing --modes eager compile

Peak memory: ``torch.cuda.max_memory_allocated`` per run on a GPU; on a CPU only the process's peak
RSS so far (it never goes down, so later runs include earlier ones) is available and is labelled so.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import sys
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoConfig, AutoModelForCausalLM

from emoreason.emollm.configuration_emollm import EmoLLMConfig, emotion_llama_encoders, emotion_llama_streams
from emoreason.emollm.lora import apply_lora
from emoreason.emollm.modeling_emollm import EmoLLMForConditionalGeneration

LLAMA2_7B = {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
             "num_attention_heads": 32, "num_key_value_heads": 32, "vocab_size": 32000,
             "max_position_embeddings": 4096, "tie_word_embeddings": False}
TINY = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 4, "vocab_size": 512,
        "max_position_embeddings": 512, "tie_word_embeddings": False}


def layout(tiny: bool):
    encoders, streams = emotion_llama_encoders(), emotion_llama_streams()
    if tiny:  # 64 patches of 32-d grouped 4 -> 16 tokens, 16-d one-token streams: 20 multimodal tokens
        for spec in encoders.values():
            spec["feature_dim"] = 32 if spec["kind"] == "frame" else 16
        streams[0]["num_tokens"] = 16
    return encoders, streams


def build(kind: str, text_cfg: dict, tiny: bool, dtype: torch.dtype, device: str, r: int):
    vocab = text_cfg["vocab_size"]
    if kind == "plain":
        lm = AutoModelForCausalLM.from_config(AutoConfig.for_model(**text_cfg), dtype=dtype).to(device)
        return get_peft_model(lm, LoraConfig(r=r, lora_alpha=16, lora_dropout=0.05,
                                             target_modules=["q_proj", "v_proj"])), None
    encoders, streams = layout(tiny)
    ids = {s["name"]: vocab - 1 - i for i, s in enumerate(streams)}  # last vocab rows as placeholders
    cfg = EmoLLMConfig(text_config=text_cfg, encoders=encoders, streams=streams, placeholder_token_ids=ids)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # build in the training dtype: no fp32 copy of a 7B model
    try:
        with torch.device(device):
            model = EmoLLMForConditionalGeneration(cfg)
    finally:
        torch.set_default_dtype(previous)
    return apply_lora(model, r=r, alpha=16, dropout=0.05), cfg


def make_batch(cfg, batch: int, seq: int, answer: int, vocab: int, device: str, dtype: torch.dtype,
               seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab - 16, (batch, seq), generator=g)
    labels = torch.full_like(ids, -100)
    labels[:, -answer:] = ids[:, -answer:]
    out = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    if cfg is not None:
        pos, feats = 1, {}
        for s in cfg.streams:
            n = int(s["num_tokens"])
            ids[:, pos: pos + n] = cfg.placeholder_token_ids[s["name"]]
            pos += n + 1
            dim = cfg.encoders[s["encoder"]]["feature_dim"]
            feats[s["name"]] = torch.randn(batch, n * int(s["group"]), dim, generator=g).to(device, dtype)
        if pos + answer > seq:
            raise SystemExit(f"--seq {seq} is too short for the multimodal layout plus {answer} "
                             "answer tokens")
        out["features"] = feats
    return {k: (v.to(device) if torch.is_tensor(v) else v) for k, v in out.items()}


def run(kind: str, mode: str, args, device: str, dtype: torch.dtype) -> dict:
    text_cfg = dict(TINY if args.tiny else LLAMA2_7B)
    torch.manual_seed(0)
    model, cfg = build(kind, text_cfg, args.tiny, dtype, device, args.rank)
    if args.gradient_checkpointing:
        inner = model.get_base_model()
        target = inner.language_model if cfg is not None else inner
        target.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if cfg is None:
            model.enable_input_require_grads()
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5, weight_decay=0.05)
    step_fn = torch.compile(model) if mode == "compile" else model
    batch = make_batch(cfg, args.batch, args.seq, args.answer, text_cfg["vocab_size"], device, dtype)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for i in range(args.warmup + args.steps):
        if device == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        loss = step_fn(**batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
        if i >= args.warmup:
            times.append(time.perf_counter() - t)
    tokens = args.batch * args.seq * len(times)
    result = {"model": kind, "mode": mode, "tokens_per_s": round(tokens / sum(times), 1),
              "step_s": round(sum(times) / len(times), 4), "loss": round(float(loss.detach()), 4)}
    if device == "cuda":
        result["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    else:
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result["process_peak_rss_gib_so_far"] = round(peak_kib / 2**20, 2)
    del model, opt, step_fn, batch
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tiny", action="store_true", help="tiny shapes for a CPU smoke run")
    p.add_argument("--batch", type=int, help="sequences per step (default 8; tiny 2)")
    p.add_argument("--seq", type=int,
                   help="tokens per sequence, multimodal tokens included (default 512; tiny 96)")
    p.add_argument("--answer", type=int, default=32, help="answer tokens carrying the loss (default 32)")
    p.add_argument("--rank", type=int, default=64, help="LoRA rank (default 64)")
    p.add_argument("--steps", type=int, help="timed steps (default 10; tiny 5)")
    p.add_argument("--warmup", type=int, help="untimed steps first (default 3; tiny 2)")
    p.add_argument("--modes", nargs="+", default=["eager", "compile"], choices=["eager", "compile"])
    p.add_argument("--repeats", type=int, default=1,
                   help="alternate plain/multimodal runs this many times and report the median (noisy CPUs)")
    p.add_argument("--gradient-checkpointing", action="store_true")
    p.add_argument("--device", choices=["cuda", "cpu"], help="default: cuda when available")
    args = p.parse_args(argv)
    args.batch = args.batch or (2 if args.tiny else 8)
    args.seq = args.seq or (96 if args.tiny else 512)
    args.steps = args.steps or (5 if args.tiny else 10)
    args.warmup = args.warmup if args.warmup is not None else (2 if args.tiny else 3)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    card = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    print(f"device: {card}; torch {torch.__version__}; batch {args.batch} x {args.seq} tokens; "
          f"LoRA r={args.rank} q/v; gradient checkpointing {'on' if args.gradient_checkpointing else 'off'}",
          file=sys.stderr)
    for mode in args.modes:
        runs: dict[str, list[dict]] = {"plain": [], "multimodal": []}
        for i in range(args.repeats):
            order = ("plain", "multimodal") if i % 2 == 0 else ("multimodal", "plain")
            for kind in order:
                runs[kind].append(run(kind, mode, args, device, dtype))
                print(json.dumps(runs[kind][-1]))
        med = {k: statistics.median(r["tokens_per_s"] for r in v) for k, v in runs.items()}
        print(f"{mode}: median tokens/s plain {med['plain']:.1f}, multimodal {med['multimodal']:.1f}; "
              f"multimodal / plain = {med['multimodal'] / med['plain']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
