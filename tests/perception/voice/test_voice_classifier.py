"""The voice model's config: the shipped file's values, and older configs' missing keys upgraded to the
defaults that reproduce how those models ran."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from emoreason.errors import ModelError
from emoreason.perception.voice.classifier import (
    CONFIG_FILE,
    VoiceClassifier,
    VoiceModelConfig,
    default_model_dir,
    load_config,
    logistic_proba,
    upgrade_config,
    zscore,
)
from emoreason.perception.voice.prosody import COLUMNS


def _shipped() -> dict:
    return json.loads((default_model_dir() / CONFIG_FILE).read_text(encoding="utf-8"))


def _with_frames() -> dict:
    """The shipped config with a frame network's section as version 6 had (version 7 has none)."""
    raw = _shipped()
    raw["frame_model"] = {"weight": 0.5, "layer": 1}
    return raw


def test_the_shipped_config_is_read_as_written():
    cfg = load_config(default_model_dir() / CONFIG_FILE)
    assert cfg.classes == ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    assert cfg.to_canonical["calm"] == "neutral" and cfg.prosody_columns == list(COLUMNS)
    assert cfg.whisper_mode == "exact" and cfg.whisper_layers == [0, 1, 2, 3, 4, 5] and cfg.with_mel
    assert cfg.whisper_encoder == "base"
    assert cfg.level_db == -30.0 and cfg.tta_speeds == [0.9, 1.1] and cfg.min_segments == 3
    assert cfg.frame_weight == 0.0 and cfg.frame_layer == -1  # version 7: no frame network
    assert cfg.speaker_min_segments == 15 and cfg.speaker_min_effective == 6.0
    assert (cfg.name, cfg.version) == ("emoreason-voice-ravdess-emodb", "7")
    assert VoiceClassifier().name == "emoreason-voice-ravdess-emodb v7"


def test_an_old_config_gets_the_defaults_of_how_it_ran():
    raw = _shipped()
    for key in ("level_db", "tta_speeds", "min_segments_recording", "frame_model", "speaker_model", "name",
                "version"):
        raw.pop(key, None)
    del raw["features"]["whisper"]["layers"]
    del raw["features"]["whisper"]["encoder"]
    before = json.dumps(raw, sort_keys=True)
    cfg = VoiceModelConfig.from_dict(raw)
    assert json.dumps(raw, sort_keys=True) == before  # the caller's dict is left alone
    assert cfg.whisper_layers == [-1] and cfg.level_db is None and cfg.tta_speeds == []
    assert cfg.whisper_encoder == "tiny.en"
    assert cfg.min_segments == 3 and cfg.frame_weight == 0.0 and cfg.frame_layer == -1
    assert cfg.speaker_min_segments is None and cfg.speaker_min_effective is None
    assert cfg.speaker_lr_weight == 1.0 and (cfg.name, cfg.version) == ("voice", "?")
    up = upgrade_config(raw)
    assert up["frame_model"] is None and up["speaker_model"] is None and up["level_db"] is None


def test_empty_sections_count_as_absent_and_a_frame_model_without_layer_reads_the_final_states():
    raw = _with_frames()
    raw["speaker_model"] = {}
    del raw["frame_model"]["layer"]
    cfg = VoiceModelConfig.from_dict(raw)
    assert cfg.speaker_min_segments is None and cfg.frame_layer == -1 and cfg.frame_weight == 0.5


def test_required_keys_have_no_default(tmp_path):
    for path in (("classes",), ("frame_model", "weight"), ("speaker_model", "lr_weight")):
        raw = _with_frames()
        node = raw
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
        with pytest.raises(KeyError):
            VoiceModelConfig.from_dict(raw)
    bad = tmp_path / "model"
    bad.mkdir()
    shutil.copy(default_model_dir() / "voice_model.safetensors", bad / "voice_model.safetensors")
    raw = _shipped()
    raw["features"]["whisper"] = ["exact"]  # a section of the wrong kind
    (bad / CONFIG_FILE).write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="malformed"):
        VoiceClassifier(bad)


def test_logistic_proba_and_zscore():
    rng = np.random.RandomState(0)
    params = {"mean": rng.randn(4), "scale": rng.rand(4) + 0.5, "coef": rng.randn(3, 4),
              "intercept": rng.randn(3)}
    x = rng.randn(5, 4)
    logits = ((x - params["mean"]) / params["scale"]) @ params["coef"].T + params["intercept"]
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert np.allclose(logistic_proba(params, x), expected)
    z = zscore(x * 3 + 7)
    assert np.allclose(z.mean(axis=0), 0) and np.allclose(z.std(axis=0), 1, atol=1e-5)
