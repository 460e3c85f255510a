"""Tiny random EmoLLM pieces for CPU tests: encoders, a 2-layer Llama and a word-level tokenizer."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch

from emoreason.models.emollm.prompts import EMOTION_INSTRUCTIONS, REASON_INFER_SUFFIX, REASON_INSTRUCTIONS

HIDDEN = 48
INIT_RANGE = 0.2  # pretrained-like scale: with 0.02 a frozen LM head cannot express confident answers
SENTENCES = [
    "[INST] <video> </video> <feature> </feature> The person in video says: I can not believe it .",
    "The person in video says: we won the game today . [emotion] [reason] [/INST]",
    *EMOTION_INSTRUCTIONS, *REASON_INSTRUCTIONS, REASON_INFER_SUFFIX,
    "happy sad neutral angry worried surprise fear contempt doubt",
    "the person smiles widely and the voice is bright and loud .",
    "the brows are lowered and the voice is harsh .",
]


def tiny_encoders() -> dict:
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
        "temporal": {"kind": "temporal", "feature_dim": 16, "config": vmae, "image_size": 32, "num_frames": 4},
        "audio": {"kind": "audio", "feature_dim": 16, "config": hubert},
    }


def tiny_streams() -> list[dict]:
    # 16 patches of the 32 px frame grouped 4 -> 1: 4 video tokens, then 4 one-token feature streams
    return [
        {"name": "frame_patches", "encoder": "frame", "select": "patches", "group": 4, "num_tokens": 4,
         "segment": "video", "projector": "linear"},
        {"name": "frame_cls", "encoder": "frame", "select": "cls", "group": 1, "num_tokens": 1,
         "segment": "feature", "projector": "linear"},
        {"name": "face", "encoder": "face", "select": "mean", "group": 1, "num_tokens": 1,
         "segment": "feature", "projector": "mlp2"},
        {"name": "temporal", "encoder": "temporal", "select": "mean", "group": 1, "num_tokens": 1,
         "segment": "feature", "projector": "linear"},
        {"name": "audio", "encoder": "audio", "select": "mean", "group": 1, "num_tokens": 1,
         "segment": "feature", "projector": "linear"},
    ]


def tiny_text_config(vocab_size: int) -> dict:
    return {"model_type": "llama", "hidden_size": HIDDEN, "intermediate_size": 96, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 4, "vocab_size": vocab_size,
            "max_position_embeddings": 256, "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2,
            "pad_token_id": 0, "initializer_range": INIT_RANGE}


def build_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                 pre_tokenizers.Punctuation()])
    trainer = trainers.WordLevelTrainer(special_tokens=["<pad>", "<s>", "</s>", "<unk>"])
    tok.train_from_iterator(SENTENCES, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>")
    return fast


def build_tiny(with_encoders: bool = True, seed: int = 0):
    """(model, processor) with random weights; encoders only when ``with_encoders``."""
    from emoreason.models.emollm import (
        EmoLLMConfig,
        EmoLLMForConditionalGeneration,
        EmoLLMProcessor,
        add_placeholder_tokens,
    )

    torch.manual_seed(seed)
    tok = build_tokenizer()
    enc = tiny_encoders()
    if not with_encoders:
        for spec in enc.values():
            spec["config"] = None
    cfg = EmoLLMConfig(text_config=tiny_text_config(len(tok)), encoders=enc, streams=tiny_streams())
    model = EmoLLMForConditionalGeneration(cfg)
    add_placeholder_tokens(tok, cfg, model)
    return model, EmoLLMProcessor(tok, model.config)


def random_features(model, batch: int | None = None, seed: int = 0) -> dict[str, torch.Tensor]:
    """Per-stream features [n_raw, D] for one clip, or [batch, n_raw, D]."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for s in model.config.streams:
        dim = model.config.encoders[s["encoder"]]["feature_dim"]
        shape = (s["group"] * s["num_tokens"], dim) if batch is None else (batch, s["group"] * s["num_tokens"], dim)
        out[s["name"]] = torch.randn(*shape, generator=g)
    return out


@pytest.fixture()
def tiny():
    return build_tiny(with_encoders=False)


@pytest.fixture()
def tiny_with_encoders():
    return build_tiny(with_encoders=True)


@pytest.fixture()
def make_tiny():
    """Factory: ``make_tiny(with_encoders=False, seed=0)`` -> (model, processor)."""
    return build_tiny


@pytest.fixture()
def make_features():
    """Factory: ``make_features(model, batch=None, seed=0)`` -> per-stream random features."""
    return random_features


@pytest.fixture()
def tiny_parts():
    """The config builders above, for tests that write recipes."""
    import types

    return types.SimpleNamespace(tiny_encoders=tiny_encoders, tiny_streams=tiny_streams,
                                 tiny_text_config=tiny_text_config)
