"""Projector initialisation and stored paths, under the installed transformers."""

from __future__ import annotations

import os

import pytest
import torch
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

from emoreason.emollm.configuration_emollm import EmoLLMConfig
from emoreason.emollm.modeling_emollm import EmoLLMForConditionalGeneration
from emoreason.emollm.tiny import INIT_RANGE, tiny_encoders, tiny_streams, tiny_text_config


def test_projectors_start_from_the_llm_initializer_range(make_tiny):
    model, _ = make_tiny(with_encoders=False)
    for name, proj in model.projectors.items():
        for lin in (m for m in proj.modules() if isinstance(m, torch.nn.Linear)):
            assert torch.count_nonzero(lin.bias) == 0, name
            assert lin.weight.std().item() == pytest.approx(INIT_RANGE, rel=0.25), name


def test_relative_component_paths_are_stored_resolved(tmp_path, monkeypatch):
    enc = tiny_encoders()
    llm = AutoModelForCausalLM.from_config(AutoConfig.for_model(**tiny_text_config()))
    llm.save_pretrained(tmp_path / "llm")
    tower = AutoModel.from_config(AutoConfig.for_model(**enc["audio"]["config"]))
    tower.save_pretrained(tmp_path / "enc" / "audio")
    for spec in enc.values():
        spec["config"] = None
    enc["audio"]["path"] = os.path.join("enc", "audio")
    monkeypatch.chdir(tmp_path)
    model = EmoLLMForConditionalGeneration.from_components(EmoLLMConfig(encoders=enc, streams=tiny_streams()),
                                                           "llm")
    assert model.config.text_model_path == str((tmp_path / "llm").resolve())
    assert model.config.encoders["audio"]["path"] == str((tmp_path / "enc" / "audio").resolve())


def test_feature_tokens_follow_the_reference_order(tiny):
    """Emotion-LLaMA concatenates patches, then face MAE, VideoMAE, audio, then the frame's CLS token."""
    model, proc = tiny
    ids = proc.prompt_ids("we won", "emotion", "Please determine.")
    by_id = {v: k for k, v in model.config.placeholder_token_ids.items()}
    order = list(dict.fromkeys(by_id[t] for t in ids if t in by_id))
    assert order == ["frame_patches", "face", "temporal", "audio", "frame_cls"]
