"""The ``face_measures`` encoder kind: the face stage's numbers as a stream, cached from images and clips,
and the compact model's prompt pieces (answer words in the instruction, dialogue context in the subtitle)."""

from __future__ import annotations

import json

import face_fixtures as _fx  # noqa: F401  (tests/perception is on pytest's pythonpath)
import numpy as np
import pytest
import yaml
from PIL import Image

from emoreason.emollm.configuration_emollm import EmoLLMConfig
from emoreason.emollm.face_measures import (
    FACE_MEASURE_BLOCKS,
    FACE_MEASURE_DIM,
    FACE_MEASURE_NAMES,
    face_measure_vector,
)
from emoreason.emollm.features import FeatureCache, cache_features
from emoreason.emollm.instructions import (
    CANONICAL_LABEL_WORDS,
    EMOTION_INSTRUCTIONS,
    MERR_LABEL_WORDS,
    instruction_for,
    subtitle_with_context,
)
from emoreason.emollm.media import load_clip_media
from emoreason.emollm.recipe import recipe_from_dict
from emoreason.errors import ConfigError
from emoreason.io.synth import write_media
from emoreason.perception.face.analyzer import analyze_face_image

face_rgb, blank_rgb = _fx.face_rgb, _fx.blank_rgb

FACE_ENCODERS = {"face": {"kind": "face_measures", "feature_dim": FACE_MEASURE_DIM}}
FACE_STREAMS = [{"name": "face", "encoder": "face", "select": "mean", "group": 1, "num_tokens": 1,
                 "segment": "feature", "projector": "mlp2"}]


def _block(vec: np.ndarray, name: str) -> np.ndarray:
    start = 0
    for block, width in FACE_MEASURE_BLOCKS:
        if block == name:
            return vec[start:start + width]
        start += width
    raise KeyError(name)


def test_face_measures_of_a_real_face_are_the_face_stage_numbers(face_rgb):
    vec = face_measure_vector(face_rgb)
    assert vec is not None and vec.shape == (FACE_MEASURE_DIM,) and vec.dtype == np.float32
    assert len(FACE_MEASURE_NAMES) == FACE_MEASURE_DIM and np.isfinite(vec).all()
    for probs in ("expression", "fer", "facex", "ferplus_net"):
        assert _block(vec, probs).sum() == pytest.approx(1.0, abs=1e-4), probs
    stage = analyze_face_image(face_rgb, face_model="net_pool")  # the face stage's own public function
    expected = np.array([stage.scores[c] for c in stage.scores])
    np.testing.assert_allclose(_block(vec, "expression"), expected, atol=1e-5)
    aus = stage.series["aus"].iloc[0].to_numpy(dtype=float)
    np.testing.assert_allclose(_block(vec, "au"), aus, atol=1e-4)
    assert np.abs(_block(vec, "head_pose")).max() < 1.0  # a frontal face: well under 90 degrees


def test_no_face_gives_none(blank_rgb):
    assert face_measure_vector(blank_rgb) is None
    assert face_measure_vector([blank_rgb, blank_rgb]) is None


def test_config_checks_the_face_measures_encoder():
    cfg = EmoLLMConfig(text_config={"model_type": "llama", "hidden_size": 16, "num_hidden_layers": 1,
                                    "num_attention_heads": 2, "intermediate_size": 32, "vocab_size": 50},
                       encoders=FACE_ENCODERS, streams=FACE_STREAMS)
    assert cfg.computed_encoders() == ["face"]
    with pytest.raises(ConfigError, match="neither config nor path"):
        EmoLLMConfig(encoders={"face": {**FACE_ENCODERS["face"], "path": "x"}}, streams=FACE_STREAMS)
    with pytest.raises(ConfigError, match=f"gives {FACE_MEASURE_DIM} numbers"):
        EmoLLMConfig(encoders={"face": {"kind": "face_measures", "feature_dim": 8}}, streams=FACE_STREAMS)
    with pytest.raises(ConfigError, match="one vector per clip"):
        EmoLLMConfig(encoders=FACE_ENCODERS, streams=[{**FACE_STREAMS[0], "select": "cls"}])


def _recipe(tmp_path, records: list[dict]) -> object:
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return recipe_from_dict({"name": "t", "stage": "fine", "data": [str(data)],
                             "feature_cache": str(tmp_path / "cache"), "output_dir": str(tmp_path / "out"),
                             "model_config": {"encoders": FACE_ENCODERS, "streams": FACE_STREAMS,
                                              "label_words": list(CANONICAL_LABEL_WORDS)}})


def test_cache_features_computes_face_measures_for_image_records(tmp_path, face_rgb, blank_rgb):
    Image.fromarray(face_rgb).save(tmp_path / "face.png")
    Image.fromarray(blank_rgb).save(tmp_path / "blank.jpg")
    recipe = _recipe(tmp_path, [{"id": "face", "video": str(tmp_path / "face.png"), "label": "happy"},
                                {"id": "blank", "label": "disgusted"}])  # found in --videos by its id
    summary = cache_features(recipe, videos=tmp_path)
    assert summary.encoded == 2 and not summary.failed and not summary.missing
    cache = FeatureCache(tmp_path / "cache")
    cache.check(EmoLLMConfig(encoders=FACE_ENCODERS, streams=FACE_STREAMS))
    got = cache.get("face")["face"]
    assert list(got.shape) == [1, FACE_MEASURE_DIM]
    np.testing.assert_allclose(got[0].float().numpy(), face_measure_vector(tmp_path / "face.png"), atol=2e-3)
    assert cache.get("blank") == {}  # no face: no stream, never a made-up vector


def test_a_clip_gives_the_mean_over_its_frames_and_audio_only_files_none(tmp_path, face_rgb):
    small = np.ascontiguousarray(face_rgb[::2, ::2])
    clip = write_media(tmp_path / "clip.mp4", [small] * 10, fps=10,
                       audio=np.zeros(16000, dtype=np.float32))
    cfg = EmoLLMConfig(encoders=FACE_ENCODERS, streams=FACE_STREAMS)
    cm = load_clip_media(clip, cfg, {"face"})
    assert list(cm.features["face"].shape) == [1, 1, FACE_MEASURE_DIM] and not cm.media
    np.testing.assert_allclose(cm.features["face"][0, 0].numpy(), face_measure_vector(clip), atol=1e-5)
    wav = write_media(tmp_path / "voice.wav", None, audio=np.zeros(16000, dtype=np.float32))
    assert face_measure_vector(wav) is None
    assert "face" not in load_clip_media(wav, cfg, {"face"}).features


def test_subtitle_with_context_keeps_the_last_two_turns_cut():
    long = " ".join(f"w{i}" for i in range(50))
    got = subtitle_with_context("Oh  really?", [long, "", "I got the job.", "We move in May."])
    assert got == 'Oh really? (earlier in the conversation: "I got the job." / "We move in May.")'
    cut = subtitle_with_context("ok", [long])
    assert '"w0 w1' in cut and "w29 …" in cut and "w30" not in cut
    assert subtitle_with_context(" Hi ", None) == subtitle_with_context("Hi", []) == "Hi"


def test_the_recognition_instruction_lists_the_answer_words():
    assert instruction_for("emotion", index=0) == EMOTION_INSTRUCTIONS[0]
    assert instruction_for("emotion", label_words=sorted(MERR_LABEL_WORDS)) == EMOTION_INSTRUCTIONS[0]
    got = instruction_for("emotion", label_words=CANONICAL_LABEL_WORDS)
    assert got.endswith("represents: neutral, happy, sad, angry, fearful, disgusted, surprised.")
    with pytest.raises(ConfigError):
        instruction_for("emotion", label_words=[])


def test_cache_train_analyze_with_the_face_measures_stream(tmp_path, face_rgb):
    from emoreason.cli.main import main
    from emoreason.emollm.infer import analyze_with_emollm, load_for_inference
    from emoreason.emollm.tiny import tiny_text_config

    Image.fromarray(face_rgb).save(tmp_path / "face.png")
    Image.fromarray(np.ascontiguousarray(face_rgb[:, ::-1])).save(tmp_path / "mirrored.png")
    records = [{"id": "face", "video": str(tmp_path / "face.png"), "label": "happy", "subtitle": "we won"},
               {"id": "mirrored", "video": str(tmp_path / "mirrored.png"), "label": "disgusted"}]
    (tmp_path / "data.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    recipe = {"name": "t", "stage": "fine", "data": [str(tmp_path / "data.jsonl")],
              "feature_cache": str(tmp_path / "cache"), "output_dir": str(tmp_path / "out"),
              "model_config": {"text_config": tiny_text_config(), "encoders": FACE_ENCODERS,
                               "streams": FACE_STREAMS, "label_words": list(CANONICAL_LABEL_WORDS)},
              "tokenizer_path": "wordlevel", "tasks": ["emotion"],
              "lora": {"r": 4, "alpha": 8, "dropout": 0.0},
              "optim": {"lr": 1e-3, "batch_size": 2, "max_steps": 2}, "max_length": 160, "tensorboard": False}
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    assert main(["cache-features", str(tmp_path / "recipe.yaml")]) == 0
    assert main(["train-llm", str(tmp_path / "recipe.yaml")]) == 0
    assert json.loads((tmp_path / "out" / "config.json").read_text())["trained_streams"] == ["face"]
    load_for_inference.cache_clear()
    r = analyze_with_emollm(tmp_path / "face.png", tmp_path / "out", text="we won", reason=False)
    assert r.modalities["face"].used and r.modalities["face"].details["streams"] == ["face"]
    assert set(r.provenance["answer_word_probs"]) == set(CANONICAL_LABEL_WORDS)
    load_for_inference.cache_clear()


def test_text_only_records_train_without_features(tmp_path, face_rgb):
    from emoreason.emollm.dataset import is_text_only, read_jsonl
    from emoreason.emollm.features import recipe_clips
    from emoreason.emollm.tiny import build_tiny_model
    from emoreason.emollm.train import InstructionDataset

    assert is_text_only({"modalities": ["text"]}) and is_text_only({"modalities": "text"})
    assert not is_text_only({"modalities": ["text"], "video": "a.mp4"}) and not is_text_only({})
    assert not is_text_only({"modalities": ["face", "text"]})
    Image.fromarray(face_rgb).save(tmp_path / "face.png")
    line = {"id": "line", "label": "sad", "subtitle": "I miss her", "modalities": ["text"]}
    recipe = _recipe(tmp_path, [{"id": "face", "video": str(tmp_path / "face.png"), "label": "happy"}, line,
                                {"id": "lost", "label": "sad"}])
    clips, missing = recipe_clips(recipe)
    assert [c for c, _ in clips] == ["face"] and missing == ["lost"]
    assert cache_features(recipe).encoded == 1
    examples, _ = read_jsonl(tmp_path / "data.jsonl", label_words=CANONICAL_LABEL_WORDS)
    model, proc = build_tiny_model(with_encoders=False)
    ds = InstructionDataset(examples, FeatureCache(tmp_path / "cache"), proc, max_length=200)
    assert [e.clip_id for e in ds.examples] == ["face", "line"] and ds.missing == 1
    assert ds[1]["features"] == {} and ds[0]["features"]  # the text-only line: no features, no placeholders
