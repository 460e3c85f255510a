"""Encoders of each family feed their streams; raw media and cached features give the same tokens."""

from __future__ import annotations

import pytest
import torch

from emoreason.emollm import EmoLLMConfig, EmoLLMForConditionalGeneration
from emoreason.emollm.encoders import EncoderTower, build_encoder
from emoreason.errors import ModelError

SMALL = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32}
FRAME_CONFIGS = {
    "vit": {"model_type": "vit", "image_size": 32, "patch_size": 8, **SMALL},
    "clip_vision_model": {"model_type": "clip_vision_model", "image_size": 32, "patch_size": 8, **SMALL},
    "siglip_vision_model": {"model_type": "siglip_vision_model", "image_size": 32, "patch_size": 8, **SMALL},
}
AUDIO_CONFIGS = {
    "hubert": {"model_type": "hubert", "conv_dim": [8, 8], "conv_stride": [5, 4], "conv_kernel": [10, 8],
               "num_conv_pos_embeddings": 8, "num_conv_pos_embedding_groups": 2, **SMALL},
    "wav2vec2": {"model_type": "wav2vec2", "conv_dim": [8, 8], "conv_stride": [5, 4], "conv_kernel": [10, 8],
                 "num_conv_pos_embeddings": 8, "num_conv_pos_embedding_groups": 2, **SMALL},
    "whisper": {"model_type": "whisper", "d_model": 16, "encoder_layers": 1, "decoder_layers": 1,
                "encoder_attention_heads": 2, "decoder_attention_heads": 2, "encoder_ffn_dim": 32,
                "decoder_ffn_dim": 32, "num_mel_bins": 80, "max_source_positions": 1500},
}


@pytest.mark.parametrize(("frame_type", "audio_type"), [("vit", "hubert"), ("clip_vision_model", "wav2vec2"),
                                                       ("siglip_vision_model", "whisper")])
def test_encoder_families_feed_streams(tiny_encoders_spec, frame_type, audio_type, make_tiny):
    enc = tiny_encoders_spec()
    enc["frame"]["config"] = FRAME_CONFIGS[frame_type]
    enc["audio"]["config"] = AUDIO_CONFIGS[audio_type]
    _, proc = make_tiny(with_encoders=False)
    cfg = EmoLLMConfig(text_config=proc.config.text_config.to_dict(), encoders=enc,
                       streams=proc.config.streams, placeholder_token_ids=proc.config.placeholder_token_ids)
    model = EmoLLMForConditionalGeneration(cfg).eval()
    if audio_type == "whisper":
        audio = torch.randn(1, 80, 3000)
    else:
        audio = torch.randn(1, 4000)
    media = {"frame": torch.randn(1, 3, 32, 32), "face": torch.randn(1, 2, 3, 32, 32),
             "temporal": torch.randn(1, 4, 3, 32, 32), "audio": audio}
    with torch.no_grad():
        feats = model.encoders(media, audio_lengths=torch.tensor([3200]))
    assert feats["frame_patches"].shape == (1, 16, 16)
    assert {k: tuple(v.shape) for k, v in feats.items() if k != "frame_patches"} == \
        {k: (1, 1, 16) for k in ("frame_cls", "face", "temporal", "audio")}
    ex = proc.encode("we won the game today", "emotion", "x", "happy")
    ids = torch.tensor([ex["input_ids"]])
    with torch.no_grad():
        from_media = model.embed_multimodal(ids, media=media, audio_lengths=torch.tensor([3200]))
        from_cache = model.embed_multimodal(ids, features=feats)
    assert torch.allclose(from_media, from_cache, atol=1e-6)
    assert all(not p.requires_grad for p in model.encoders.parameters())


def test_audio_mean_ignores_padding(tiny_encoders_spec):
    spec = tiny_encoders_spec()["audio"]
    tower = EncoderTower("audio", spec, build_encoder(spec).eval(), "hubert")
    wave = torch.randn(1, 3200)
    padded = torch.cat([wave, torch.zeros(1, 3200)], dim=1)
    with torch.no_grad():
        short = tower.select(tower.encode(wave, torch.tensor([3200])), "mean")
        long = tower.select(tower.encode(padded, torch.tensor([3200])), "mean")
        unmasked = tower.select(tower.encode(padded, None), "mean")
    assert not torch.allclose(long, unmasked, atol=1e-4)  # padding frames would change the mean
    assert short.shape == long.shape == (1, 1, 16)


def test_missing_encoder_weights_and_bad_llm_path(make_tiny, tmp_path):
    model, _ = make_tiny(with_encoders=False)
    with pytest.raises(ModelError, match="only reads cached features"):
        model.encoders({"frame": torch.randn(1, 3, 32, 32)})
    with pytest.raises(ModelError, match="neither an existing folder nor a known llm backbone name"):
        EmoLLMForConditionalGeneration.from_components(model.config, text_model_path=str(tmp_path / "nope"))


def test_gradient_checkpointing_trains(make_tiny, make_features):
    model, proc = make_tiny(with_encoders=False)
    model.gradient_checkpointing_enable()
    assert model.language_model.model.gradient_checkpointing
    model.train()
    batch = proc.collate([dict(proc.encode("hi", "emotion", "x", "happy"), features=make_features(model))])
    loss = model(**batch).loss
    loss.backward()
    grads = [p.grad for p in model.projectors.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
