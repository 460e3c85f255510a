"""The Pipeline owns the loaded analyzers: one per speaker path for the voice, one for the text, reused."""


import numpy as np
import pytest

import emoreason
from emoreason import api
from emoreason.errors import ConfigError
from emoreason.pipeline.options import AnalyzeOptions
from emoreason.pipeline.perceive import Pipeline, default_pipeline


def test_default_pipeline_is_one_per_process_and_keeps_its_models():
    pipeline = default_pipeline()
    assert default_pipeline() is pipeline
    emoreason.analyze(text="What a wonderful day, I love it!")
    text = pipeline.text_analyzer()
    emoreason.analyze(text="I am so angry with you.")
    assert pipeline.text_analyzer() is text


def test_voice_analyzer_is_kept_per_speaker_normalisation():
    pipeline = Pipeline()
    auto = pipeline.voice_analyzer("auto")
    assert pipeline.voice_analyzer("auto") is auto
    never = pipeline.voice_analyzer("never")
    assert never is not auto and pipeline.voice_analyzer("never") is never


def test_a_pipeline_perceives_text_and_the_api_fuses_it():
    p = Pipeline().perceive(None, AnalyzeOptions(text="I miss her so much.", modalities="text"))
    assert p.kind == "text" and p.outputs["text"].usable and p.transcript == "I miss her so much."
    r = api.build_result(p)
    assert r.label == max(r.scores, key=r.scores.get) and r.modalities["text"].used


def test_input_checks():
    with pytest.raises(ConfigError, match="give a media file, an image, a waveform or text"):
        emoreason.analyze()
    with pytest.raises(ConfigError, match="needs its sample_rate"):
        emoreason.analyze(np.zeros(16000, np.float32))
    with pytest.raises(ConfigError, match="give at least one clip"):
        emoreason.analyze_clips([])
