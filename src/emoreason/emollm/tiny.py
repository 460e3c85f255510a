"""A tiny random multimodal-LLM setup that runs end to end on a CPU in seconds (tests, smoke runs).

``python -m emoreason.emollm.tiny DIR`` writes into DIR: tiny random encoders (ViT frame, ViT-MAE face,
VideoMAE temporal, HuBERT audio) saved as HF folders, two synthetic clips (a bright frame with a high
tone labelled happy, a dark one with a low tone labelled sad) and ``data.jsonl``; then
``configs/emollm/tiny_cpu.yaml`` trains on them. The numbers it produces mean nothing about emotion:
it exercises the machinery only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoConfig, AutoModel

from emoreason.emollm.configuration_emollm import EmoLLMConfig, emotion_llama_streams
from emoreason.emollm.modeling_emollm import EmoLLMForConditionalGeneration
from emoreason.emollm.processing_emollm import EmoLLMProcessor, add_placeholder_tokens
from emoreason.emollm.tokenizer import train_wordlevel_tokenizer
from emoreason.io.synth import write_media

HIDDEN = 48
INIT_RANGE = 0.2  # pretrained-like scale: with 0.02 a frozen LM head cannot express confident answers
CLIPS = {"clip_happy": ("happy", (250, 200, 40), 440.0), "clip_sad": ("sad", (20, 40, 120), 110.0)}
SUBTITLE = "we won the game today"


def tiny_encoders() -> dict[str, dict[str, Any]]:
    """Encoder specs with tiny random HF configs (16-d features; 32 px images)."""
    vit = {"model_type": "vit", "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
           "intermediate_size": 32, "image_size": 32, "patch_size": 8}
    mae = {"model_type": "vit_mae", "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
           "intermediate_size": 32, "image_size": 32, "patch_size": 16, "decoder_hidden_size": 16,
           "decoder_num_hidden_layers": 1, "decoder_num_attention_heads": 2, "decoder_intermediate_size": 32}
    vmae = {"model_type": "videomae", "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
            "intermediate_size": 32, "image_size": 32, "patch_size": 16, "num_frames": 4, "tubelet_size": 2,
            "use_mean_pooling": False}
    hubert = {"model_type": "hubert", "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
              "intermediate_size": 32, "conv_dim": [8, 8], "conv_stride": [5, 4], "conv_kernel": [10, 8],
              "num_conv_pos_embeddings": 8, "num_conv_pos_embedding_groups": 2, "do_stable_layer_norm": False,
              "feat_extract_norm": "group"}
    return {
        "frame": {"kind": "frame", "feature_dim": 16, "config": vit, "image_size": 32, "num_frames": 1},
        "face": {"kind": "face", "feature_dim": 16, "config": mae, "image_size": 32, "num_frames": 2},
        "temporal": {"kind": "temporal", "feature_dim": 16, "config": vmae, "image_size": 32,
                     "num_frames": 4},
        "audio": {"kind": "audio", "feature_dim": 16, "config": hubert},
    }


def tiny_streams() -> list[dict[str, Any]]:
    """Emotion-LLaMA's streams at tiny scale: the 16 patches of the 32 px frame grouped 4 -> 1 (4 video
    tokens), then the 4 one-token feature streams; the face stream uses the 2-layer projector."""
    streams = emotion_llama_streams()
    by_name = {s["name"]: s for s in streams}
    by_name["frame_patches"]["num_tokens"] = 4
    by_name["face"]["projector"] = "mlp2"
    return streams


def tiny_text_config(vocab_size: int = 200) -> dict[str, Any]:
    """A 2-layer Llama, hidden 48."""
    return {"model_type": "llama", "hidden_size": HIDDEN, "intermediate_size": 96, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 4, "vocab_size": vocab_size,
            "max_position_embeddings": 256, "tie_word_embeddings": False, "bos_token_id": 1,
            "eos_token_id": 2, "pad_token_id": 0, "initializer_range": INIT_RANGE}


TOKENIZER_SENTENCES = ["I can not believe it .", "we won the game today .",
                       "the person smiles widely and the voice is bright and loud .",
                       "the brows are lowered and the voice is harsh ."]


def build_tiny_model(with_encoders: bool = True, seed: int = 0):
    """A tiny random EmoLLM and its processor: a 2-layer Llama, a word-level tokenizer over
    :data:`TOKENIZER_SENTENCES` and, when ``with_encoders``, the tiny random encoders."""
    torch.manual_seed(seed)
    tok = train_wordlevel_tokenizer(TOKENIZER_SENTENCES)
    enc = tiny_encoders()
    if not with_encoders:
        for spec in enc.values():
            spec["config"] = None
    cfg = EmoLLMConfig(text_config=tiny_text_config(len(tok)), encoders=enc, streams=tiny_streams())
    model = EmoLLMForConditionalGeneration(cfg)
    add_placeholder_tokens(tok, cfg, model)
    return model, EmoLLMProcessor(tok, model.config)


def write_clip(path: str | Path, colour: tuple[int, int, int], freq: float, seconds: float = 1.0,
               fps: int = 10) -> Path:
    """A 64 px clip of one colour with a moving square, and a sine tone with a little noise."""
    rng = np.random.default_rng(0)
    frames = []
    for i in range(int(seconds * fps)):
        img = np.zeros((64, 64, 3), dtype=np.uint8) + np.array(colour, dtype=np.uint8)
        img[(i * 4) % 48: (i * 4) % 48 + 16, 10:26] = 255 - np.array(colour, dtype=np.uint8)
        frames.append(img)
    t = np.arange(int(seconds * 16000)) / 16000
    audio = 0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(len(t))
    return write_media(path, frames, fps=fps, audio=audio.astype(np.float32))


def write_tiny_project(root: str | Path) -> dict[str, Any]:
    """Write encoders, clips and data.jsonl under ``root``; return the ``model_config`` for a recipe."""
    root = Path(root)
    encoders = tiny_encoders()
    for name, spec in encoders.items():
        AutoModel.from_config(AutoConfig.for_model(**spec["config"])).save_pretrained(root / "enc" / name)
        spec["path"] = str(root / "enc" / name)
        spec["config"] = None
    (root / "videos").mkdir(parents=True, exist_ok=True)
    records = []
    for cid, (label, colour, freq) in CLIPS.items():
        write_clip(root / "videos" / f"{cid}.mp4", colour, freq)
        records.append({"id": cid, "video": str(root / "videos" / f"{cid}.mp4"), "label": label,
                        "subtitle": SUBTITLE,
                        "reasoning": f"the person smiles widely and the voice is bright and loud . {label}"})
    (root / "data.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return {"text_config": tiny_text_config(), "encoders": encoders, "streams": tiny_streams()}


if __name__ == "__main__":  # pragma: no cover - a convenience entry point
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "build/emollm-tiny")
    write_tiny_project(target)
    print(f"wrote tiny encoders, 2 clips and data.jsonl to {target}")
