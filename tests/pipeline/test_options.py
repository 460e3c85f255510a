"""AnalyzeOptions: every option checked once, with the messages users see, and stored normalised."""

from dataclasses import replace
from pathlib import Path

import pytest

from emoreason.errors import ConfigError
from emoreason.pipeline.options import MODALITIES, AnalyzeOptions, parse_modalities


def test_defaults_are_normalised():
    o = AnalyzeOptions()
    assert o.modalities == MODALITIES and o.labels == "canonical" and o.fps == 5.0
    assert o.face_model is None and o.speaker_normalisation == "auto" and o.context is None
    assert o.whisper_dir is None


def test_values_are_stored_normalised():
    o = AnalyzeOptions(modalities="audio, words", labels=" MER2023 ", face_model="default",
                       context=["a", "b"], asr_model=Path("/m/whisper"))
    assert o.modalities == ("voice", "text") and o.labels == "mer2023" and o.face_model is None
    assert o.context == ("a", "b") and o.whisper_dir == "/m/whisper"
    assert AnalyzeOptions(face_model="facex").face_model == "facex"
    assert AnalyzeOptions(context=[]).context is None


@pytest.mark.parametrize("kwargs, message", [
    ({"labels": "nope"}, "unknown label set 'nope'"),
    ({"modalities": "smell"}, "unknown modality 'smell'"),
    ({"modalities": []}, "no modality selected"),
    ({"fps": 0}, r"fps must be in \(0, 60\], got 0"),
    ({"fps": 61}, r"fps must be in \(0, 60\], got 61"),
    ({"speaker_normalisation": "often"}, "speaker_normalisation must be one of auto, always, never"),
    ({"face_model": "vgg"}, "face model must be one of"),
    ({"model": "runs/emollm", "face_model": "fer"}, "has its own face encoders"),
])
def test_bad_options_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        AnalyzeOptions(**kwargs)


def test_replace_checks_again():
    o = AnalyzeOptions(modalities="face,voice")
    assert replace(o, modalities=("face",)).modalities == ("face",)
    with pytest.raises(ConfigError, match="fps"):
        replace(o, fps=-1)


def test_parse_modalities_keeps_order_and_drops_repeats():
    assert parse_modalities("text,face,text") == ("text", "face")
    assert parse_modalities(["VIDEO", "all"]) == MODALITIES
    assert parse_modalities(None) == MODALITIES
