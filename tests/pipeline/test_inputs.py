"""Careless input through the Python API (issue 18): arrays of the wrong type or range are converted with
a note or refused with a ConfigError naming the problem, and options of the wrong type are ConfigErrors."""

import shutil

import numpy as np
import pytest
from PIL import Image
from tests.conftest import requires_espeak

import emoreason
from emoreason.errors import ConfigError, EmoreasonError
from emoreason.io.audio import waveform_to_float
from emoreason.io.demo_clip import speak
from emoreason.io.image import image_to_rgb
from emoreason.io.media import probe
from emoreason.io.synth import write_media

SENTENCE = "I am going to the shop to buy some bread and milk today."


@pytest.fixture(scope="module")
def voice():
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    return speak(SENTENCE)


def test_wrong_answer_int_pcm_waveforms_are_scaled_by_their_type():
    x, notes = waveform_to_float(np.array([-32768, 0, 16384, 32767], np.int16))
    assert x.dtype == np.float32 and np.allclose(x, [-1.0, 0.0, 0.5, 32767 / 32768])
    assert notes == ["the waveform was int16 PCM: scaled by 1/32768 to -1..1"]
    x, _ = waveform_to_float(np.array([-(2 ** 31), 2 ** 30], np.int32))
    assert np.allclose(x, [-1.0, 0.5])
    x, notes = waveform_to_float(np.array([0, 128, 255], np.uint8))
    assert np.allclose(x, [-1.0, 0.0, 127 / 128]) and "centred on 128" in notes[0]
    x, notes = waveform_to_float(np.array([0.5, -0.25], np.float64))
    assert x.dtype == np.float32 and not notes  # float in -1..1: kept as is


def test_wrong_answer_float_waveform_beyond_unit_range_is_scaled_and_noted():
    x, notes = waveform_to_float(np.array([-16384.0, 0.0, 8192.0]))  # int16 PCM held in floats
    assert np.allclose(x, [-0.5, 0.0, 0.25]) and "int16 PCM in floats" in notes[0]
    x, notes = waveform_to_float(np.array([-3.5, 0.7, 1.75]))
    assert np.allclose(x, [-1.0, 0.2, 0.5]) and "divided by its peak" in notes[0]


@requires_espeak
def test_wrong_answer_int16_waveform_scaled(voice):
    pcm = np.round(voice * 32767).astype(np.int16)
    r = emoreason.analyze(pcm, sample_rate=16000, modalities="voice,text")
    assert "bread" in r.transcript.lower()  # read as float it was "We'll be right back."
    assert any("int16 PCM" in n for n in r.notes)
    ref = emoreason.analyze(voice, sample_rate=16000, modalities="voice")
    assert r.modalities["voice"].label == ref.modalities["voice"].label


def test_wrong_answer_nan_samples_replaced_and_counted():
    x, notes = waveform_to_float(np.array([0.1, np.nan, np.inf, -0.2], np.float32))
    assert np.array_equal(x, np.array([0.1, 0.0, 0.0, -0.2], np.float32))
    assert notes == ["2 of the waveform's 4 samples were not numbers (NaN or infinite) and were replaced "
                     "with 0"]


@requires_espeak
def test_wrong_answer_nan_samples_do_not_silence_the_clip(voice):
    x = voice.copy()
    x[1000:1010] = np.nan
    r = emoreason.analyze(x, sample_rate=16000, modalities="voice")
    assert r.modalities["voice"].used and any("10 of the waveform" in n for n in r.notes)


@pytest.mark.parametrize("bad", [np.full(16000, np.nan, np.float32), np.full(16000, np.inf)])
def test_all_non_finite_waveform_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="no finite sample"):
        emoreason.analyze(bad, sample_rate=16000)


@pytest.mark.parametrize("convert, note", [
    (lambda a: a.astype(np.float32) / 255, "float32 image in 0..1"),
    (lambda a: a.astype(np.float64), "float64 image in 0..255"),
    (lambda a: a.astype(np.uint16) * 256, "uint16 image (16-bit, 0..65535)"),
    (lambda a: a.astype(np.int16) * 128, "int16 image (16-bit, 0..32767)"),
    (lambda a: a.astype(np.int64), "int64 image with values in 0..255"),
    (lambda a: a.mean(axis=2).astype(np.uint8), "a grey image"),
    (lambda a: np.dstack([a, np.full(a.shape[:2], 255, np.uint8)]), "alpha channel"),
])
def test_wrong_answer_float_and_16bit_images_converted(astronaut, convert, note):
    r = emoreason.analyze(convert(astronaut), modalities="face")
    assert r.modalities["face"].used and r.label == "happy"
    assert any(note in n for n in r.notes)


def test_wrong_answer_16bit_grey_png_converted(tmp_path, astronaut):
    grey16 = np.round(astronaut.mean(axis=2) * 257).astype(np.uint16)
    Image.fromarray(grey16).save(tmp_path / "face16.png")  # mode I;16: PIL's RGB conversion clips it white
    r = emoreason.analyze(tmp_path / "face16.png", modalities="face")
    assert r.modalities["face"].used and any("16-bit" in n for n in r.notes)


@pytest.mark.parametrize("image, message", [
    (np.full((64, 64, 3), -3.0), r"0\.\.1 or 0\.\.255; this float64 image holds -3\.\.-3"),
    (np.linspace(0, 300, 64 * 64 * 3).reshape(64, 64, 3), "holds 0..300"),
    (np.full((64, 64, 3), np.nan, np.float32), "NaN"),
    (np.full((64, 64, 3), -1, np.int16), "must hold values from 0"),
    (np.full((64, 64, 3), 70000, np.int32), "reaches 70000"),
    (np.zeros((64, 64, 3), bool), "must hold numbers"),
    (np.zeros((64, 64, 5), np.uint8), "HxWx3"),
])
def test_images_out_of_range_are_config_errors(image, message):
    with pytest.raises(ConfigError, match=message):
        emoreason.analyze(image, modalities="face")


def test_image_to_rgb_keeps_uint8_rgb_untouched(astronaut):
    rgb, notes = image_to_rgb(astronaut)
    assert np.array_equal(rgb, astronaut) and not notes


def test_wrong_answer_2d_grey_array_is_an_image_not_a_waveform(astronaut):
    grey = astronaut.mean(axis=2).astype(np.uint8)
    r = emoreason.analyze(grey)  # was: "a waveform needs its sample_rate"
    assert r.modalities["face"].used and r.duration is None


def test_2d_array_rule_with_sample_rate_is_a_waveform_and_otherwise_explained():
    stereo = np.zeros((2, 16000), np.float32)
    p = emoreason.run_perception(stereo, sample_rate=16000, modalities="voice")
    assert p.kind == "waveform" and p.duration == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="2-D array of shape \\(2, 16000\\).*sample_rate="):
        emoreason.analyze(stereo)
    with pytest.raises(ConfigError, match="at most 32 channels"):
        emoreason.analyze(np.zeros((64, 64), np.float32), sample_rate=16000)
    with pytest.raises(ConfigError, match="cannot analyse an array of shape"):
        emoreason.analyze(np.zeros((2, 2, 2, 2), np.float32))


def test_one_frame_video_is_analysed_as_a_still(tmp_path, astronaut):
    clip = write_media(tmp_path / "one.mp4", [astronaut[:480, :480]], fps=25)
    assert probe(clip).kind == "image"  # was: UnsupportedFormatError "not a readable image"
    r = emoreason.analyze(clip, modalities="face")
    assert r.modalities["face"].used and r.label == "happy"
    assert any("single frame" in n for n in r.notes)


BAD_CALLS = [
    ({"source": 5}, "source must be a file path"),
    ({"source": [0.1, 0.2], "sample_rate": 16000}, "got list"),
    ({"source": np.array(["a", "b"]), "sample_rate": 16000}, "must hold numbers"),
    ({"text": 5}, "text must be a string"),
    ({"text": b"hello"}, "text must be a string"),
    ({"sample_rate": -1}, "sample_rate must be between 1000 and 384000 Hz, got -1"),
    ({"sample_rate": "16000"}, "sample_rate must be a whole number"),
    ({"sample_rate": 16000.5}, "sample_rate must be a whole number"),
    ({"sample_rate": float("nan")}, "sample_rate must be a whole number"),
    ({"modalities": 5}, "modalities must be a string"),
    ({"modalities": [5]}, "modalities must name modalities as strings"),
    ({"fps": "5"}, "fps must be a number"),
    ({"fps": None}, "fps must be a number"),
    ({"fps": float("nan")}, r"fps must be in \(0, 60\]"),
    ({"fps": True}, "fps must be a number"),
    ({"labels": 3}, "labels must be a string"),
    ({"context": 5}, "context must be a list"),
    ({"context": "what was said"}, "context must be a list"),
    ({"context": ["ok", 5]}, "context must hold strings"),
    ({"transcript": 5}, "transcript must be a path"),
    ({"asr_model": 5}, "asr_model must be a path"),
    ({"model": 5}, "model must be a path"),
    ({"progress": "no"}, "progress must be True or False"),
    ({"speaker_normalisation": 1}, "speaker_normalisation must be a string"),
    ({"face_model": 1}, "face_model must be a string"),
    ({"explain_endpoint": 5}, "explain_endpoint must be a string"),
    ({"explain_model": None}, "explain_model must be a string"),
]


@pytest.mark.parametrize("kwargs, message", BAD_CALLS, ids=[f"{next(iter(k))}={v!r:.20}" for k, _ in BAD_CALLS
                                                           for v in [next(iter(k.values()))]])
def test_tracebacks_wrong_types_to_the_python_api_are_config_errors(kwargs, message):
    kwargs = dict(kwargs)
    source = kwargs.pop("source", np.zeros(16000, np.float32) if "sample_rate" in kwargs else None)
    if source is None and "text" not in kwargs:
        kwargs["text"] = "hello there"
    with pytest.raises(ConfigError, match=message):
        emoreason.analyze(source, **kwargs)


@pytest.mark.parametrize("call, message", [
    (lambda: emoreason.run_perception(5), "source must be a file path"),
    (lambda: emoreason.run_perception(text="hi", fps="5"), "fps must be a number"),
    (lambda: emoreason.run_perception(text="hi", whisper_dir=5), "asr_model must be a path"),
    (lambda: emoreason.analyze_clips("clip.mp4"), "sources must be a list of clip paths, got str"),
    (lambda: emoreason.analyze_clips(5), "sources must be a list"),
    (lambda: emoreason.analyze_clips([5]), "sources must hold file paths, got int"),
    (lambda: emoreason.analyze_clips(["a.mp4"], fps="5"), "fps must be a number"),
    (lambda: emoreason.analyze_clips(["a.mp4"], modalities=5), "modalities must be a string"),
    (lambda: emoreason.analyze_clips(["a.mp4"], texts="hello"), "texts must be a list"),
])
def test_tracebacks_analyze_clips_and_run_perception_share_the_checks(call, message):
    with pytest.raises(EmoreasonError, match=message):
        call()
