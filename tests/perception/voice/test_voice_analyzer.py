"""VoiceAnalyzer end to end on synthetic speech, with the shipped model."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import soundfile as sf
import voice_fixtures as fx  # noqa: E402  (tests/perception is on pytest's pythonpath)
from safetensors.numpy import load_file, save

from emoreason import analyze, analyze_clips
from emoreason.cli.main import main
from emoreason.errors import ConfigError, InputNotFoundError, ModelError
from emoreason.io.audio import ArrayAudio
from emoreason.labels import CANONICAL
from emoreason.perception.speech.vad import detect_speech
from emoreason.perception.voice.analyzer import VoiceAnalyzer
from emoreason.perception.voice.classifier import VoiceClassifier, default_model_dir
from emoreason.perception.voice.prosody import COLUMNS


@pytest.fixture(scope="module")
def analyzer() -> VoiceAnalyzer:
    return VoiceAnalyzer()


@pytest.fixture(scope="module")
def recording() -> ArrayAudio:
    return ArrayAudio(fx.spoken_recording())


def _sums_to_one(scores: dict[str, float]) -> bool:
    return list(scores) == list(CANONICAL) and math.isclose(sum(scores.values()), 1.0, abs_tol=1e-6)


def test_silence_and_noise_are_unusable_with_a_reason(analyzer):
    out = analyzer.analyze(ArrayAudio(fx.silence(3.0)))
    assert not out.usable and out.modality == "voice"
    assert out.reason == "no speech detected in 3.0 s of audio"
    assert out.reliability == 0.0 and out.details["speech_seconds"] == 0.0
    assert not analyzer.analyze(ArrayAudio(fx.noise(2.0))).usable


def test_recording_with_several_segments_is_normalised_within_itself(analyzer, recording):
    out = analyzer.analyze(recording)
    assert out.usable and out.modality == "voice"
    assert out.details["n_segments"] == len(fx.SENTENCES)
    assert out.details["normalisation"] == "absolute + per-recording z-score"
    assert out.details["classifier"] == "recording"
    assert _sums_to_one(out.scores)
    assert len(out.timeline) == len(fx.SENTENCES)
    assert all(_sums_to_one(t.scores) for t in out.timeline)
    table = out.series["prosody"]
    assert len(table) == len(fx.SENTENCES) and {"start", "end", *COLUMNS} <= set(table.columns)
    speech_s = sum(t.end - t.start for t in out.timeline)
    assert out.details["speech_seconds"] == pytest.approx(speech_s, abs=0.01)
    assert out.reliability == 1.0
    assert -1.0 <= out.details["arousal_prosody"] <= 1.0
    for ev in out.evidence:
        assert ev.modality == "voice" and ev.start is not None and ev.end > ev.start
        assert ev.supports is None or ev.supports in CANONICAL
        assert "this speaker" in ev.description or ev.unit == "st/s"
    assert "RAVDESS" in out.models["voice"] or "ravdess" in out.models["voice"]


def test_segment_pitch_order_follows_espeak_pitch(analyzer, recording):
    table = analyzer.analyze(recording).series["prosody"]
    assert table["f0_median_hz"].iloc[0] < table["f0_median_hz"].iloc[-1]  # espeak -p 30 vs -p 75


def test_one_segment_uses_the_population_statistics(analyzer):
    x = np.concatenate([fx.silence(0.5), fx.espeak("What a wonderful surprise."), fx.silence(0.5)])
    out = analyzer.analyze(ArrayAudio(x))
    assert out.usable and out.details["n_segments"] == 1
    assert out.details["normalisation"] == "population" and out.details["classifier"] == "population"
    assert _sums_to_one(out.scores)
    assert out.scores == pytest.approx(out.timeline[0].scores)
    assert all("this speaker" not in e.description for e in out.evidence)
    assert not any(e.name in ("pitch", "loudness") for e in out.evidence)  # level cues need the speaker


def test_given_segments_are_used_and_bad_ones_dropped(analyzer, recording):
    out = analyzer.analyze(recording, speech=[(0.5, 2.0), (-3.0, -1.0), (5.0, 4.0)])
    assert out.details["n_segments"] == 1
    assert out.timeline[0].start == 0.5 and out.timeline[0].end == 2.0
    assert out.reliability == pytest.approx(0.75)
    whole = analyzer.analyze(recording, speech=[(0.0, recording.duration)])
    assert recording.duration > 10.0 and whole.details["n_segments"] >= 2
    assert all(t.end - t.start <= 10.0 + 1e-6 for t in whole.timeline)
    none = analyzer.analyze(recording, speech=[])
    assert not none.usable and "no speech" in none.reason


def test_same_input_same_output(analyzer, recording):
    a, b = analyzer.analyze(recording), analyzer.analyze(recording)
    assert a.scores == b.scores
    assert [e.description for e in a.evidence] == [e.description for e in b.evidence]


def test_shipped_model_is_small_plain_arrays_and_marked_non_commercial():
    d = default_model_dir()
    assert sum(f.stat().st_size for f in d.iterdir()) < 10 * 1024 * 1024
    assert {p.suffix for p in d.iterdir()} <= {".json", ".safetensors", ".md"}
    assert "NON-COMMERCIAL" in (d / "LICENSE.md").read_text()
    assert "NON-COMMERCIAL" in json.loads((d / "config.json").read_text())["license"]
    clf = VoiceClassifier()
    assert clf.config.classes[:2] == ["neutral", "calm"] and clf.config.to_canonical["calm"] == "neutral"


def test_missing_or_malformed_model_raises_model_error(tmp_path):
    with pytest.raises(ModelError, match="no voice model"):
        VoiceClassifier(tmp_path)
    bad = tmp_path / "bad"
    shutil.copytree(default_model_dir(), bad)
    (bad / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="malformed"):
        VoiceClassifier(bad)
    cfg = json.loads((default_model_dir() / "config.json").read_text())
    cfg["classes"] = cfg["classes"][:-1]
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match="does not match its config"):
        VoiceClassifier(bad)
    (bad / "config.json").write_text((default_model_dir() / "config.json").read_text())
    (bad / "voice_model.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(ModelError, match="malformed"):
        VoiceClassifier(bad)
    with pytest.raises(ModelError, match="expects"):
        VoiceClassifier().predict(np.zeros((2, 5)))
    cfg = json.loads((default_model_dir() / "config.json").read_text())
    cfg["features"]["whisper"]["layers"] = [-1]  # one pooled layer: fewer features than the weights take
    (bad / "config.json").write_text(json.dumps(cfg))
    shutil.copy(default_model_dir() / "voice_model.safetensors", bad / "voice_model.safetensors")
    with pytest.raises(ModelError, match="expects .* features"):
        VoiceAnalyzer(bad)
    cfg["features"]["whisper"]["mode"] = "padded"  # a frame network needs the exact mode's states
    cfg["frame_model"] = {"weight": 0.5, "layer": 1}
    (bad / "config.json").write_text(json.dumps(cfg))
    tensors = load_file(str(default_model_dir() / "voice_model.safetensors"))
    n, width, hidden = len(cfg["classes"]), 512, 4
    shapes = {"in_mean": (width,), "in_std": (width,), "proj_w": (hidden, width), "proj_b": (hidden,),
              "att_w": (1, hidden), "att_b": (1,), "out_w": (n, 3 * hidden), "out_b": (n,)}
    for key, shape in shapes.items():
        tensors[f"frames.{key}"] = np.ones(shape, dtype=np.float32)
    (bad / "voice_model.safetensors").write_bytes(save(tensors))
    with pytest.raises(ModelError, match="frame network but asks for the 'padded' mode"):
        VoiceAnalyzer(bad)


def test_the_encoder_and_layers_follow_the_model_config(analyzer, tmp_path):
    cfg = json.loads((default_model_dir() / "config.json").read_text())
    assert list(analyzer.embedder.layers) == cfg["features"]["whisper"]["layers"] == [0, 1, 2, 3, 4, 5]
    assert analyzer.embedder.encoder.width == 512 and cfg["features"]["whisper"]["encoder"] == "base"
    cfg["features"]["whisper"]["encoder"] = "large"
    bad = tmp_path / "bad"
    shutil.copytree(default_model_dir(), bad)
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match="unknown Whisper encoder 'large'"):
        VoiceAnalyzer(bad)


def test_a_segment_without_voice_leaves_no_nan_in_scores_or_cues(analyzer, recording):
    speech = detect_speech(recording) + [(recording.duration - 0.9, recording.duration - 0.1)]  # silence
    out = analyzer.analyze(recording, speech=speech)
    assert out.details["n_segments"] == len(fx.SENTENCES) + 1
    assert out.series["prosody"]["f0_mean_hz"].isna().iloc[-1]
    assert _sums_to_one(out.scores) and all(_sums_to_one(t.scores) for t in out.timeline)
    assert all(math.isfinite(e.value) for e in out.evidence)
    assert all(e.start < recording.duration - 0.9 for e in out.evidence)  # no cue from the silence


def test_speaker_gate_is_reported_and_the_user_can_force_it(recording):
    auto = VoiceAnalyzer().analyze(recording)
    gate = auto.details["speaker_gate"]
    assert gate["mode"] == "auto" and gate["segments"] == len(fx.SENTENCES)
    assert gate["segments"] < VoiceClassifier().config.speaker_min_segments and not gate["use"]  # too few
    assert gate["effective_classes"] is not None and 1.0 <= gate["effective_classes"] <= 8.0
    forced = VoiceAnalyzer(speaker_normalisation="always").analyze(recording)
    assert forced.details["classifier"] == "speaker" and forced.details["speaker_gate"]["use"]
    assert "speaker-normalised" in forced.details["normalisation"]
    assert _sums_to_one(forced.scores) and forced.scores != auto.scores
    assert any("this speaker" in e.description for e in forced.evidence)  # cues relative to the recording
    never = VoiceAnalyzer(speaker_normalisation="never").analyze(recording)
    assert never.scores == pytest.approx(auto.scores)  # the gate was closed anyway


def test_speaker_normalisation_option_reaches_the_voice_model_and_is_checked(recording, capsys):
    r = analyze(recording.samples, sample_rate=recording.sample_rate, modalities=["voice"],
                speaker_normalisation="always")
    assert r.modalities["voice"].details["classifier"] == "speaker"
    assert r.modalities["voice"].details["speaker_gate"]["mode"] == "always"

    with pytest.raises(ConfigError, match="speaker_normalisation"):
        analyze(text="fine", speaker_normalisation="sometimes")
    with pytest.raises(SystemExit) as exc:
        main(["analyze", "--text", "fine", "--speaker-normalisation", "sometimes"])
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_the_recording_level_does_not_change_the_emotion(analyzer, recording):
    """Each segment's speech level is set before its features: a recording 20 dB quieter or 10 dB louder
    (another microphone gain) gets the same scores; the segments are given, so the VAD is not tested."""
    assert analyzer.classifier.config.level_db is not None
    segments = [(t.start, t.end) for t in analyzer.analyze(recording).timeline]
    base = analyzer.analyze(recording, speech=segments)
    for scale in (0.1, 3.0):
        out = analyzer.analyze(ArrayAudio(recording.samples * scale), speech=segments)
        assert np.allclose([out.scores[k] for k in CANONICAL], [base.scores[k] for k in CANONICAL], atol=2e-3)
        shift = 20 * np.log10(scale)
        expected = np.array(base.details["level_gain_db"]) - shift
        assert np.allclose(out.details["level_gain_db"], expected, atol=0.05)


def test_clips_of_one_speaker_are_read_as_one_recording(analyzer, recording):
    """analyze_clips: each clip is one utterance; all of them are normalised together, exactly as one
    recording holding the same utterances would be; a clip without speech is unusable and takes no part."""
    whole = analyzer.analyze(recording)
    clips = [ArrayAudio(recording.read(max(0.0, t.start - 0.3), t.end + 0.3)) for t in whole.timeline]
    outs = analyzer.analyze_clips([*clips[:2], ArrayAudio(fx.silence(2.0)), *clips[2:]])
    assert len(outs) == len(clips) + 1 and not outs[2].usable and "no speech" in outs[2].reason
    used = [o for o in outs if o.usable]
    assert all(o.details["n_segments"] == 1 and o.details["classifier"] == "recording" for o in used)
    assert used[0].details["speaker_group"] == {"clips": 5, "clips_with_speech": 4, "segments": 4}
    # the same utterances, cut where analyze_clips cut them, joined into one recording with pauses between
    gap = fx.silence(1.0)
    parts, spans, t = [gap], [], len(gap) / 16000
    for clip, o in zip(clips, used):
        a, b = o.timeline[0].start, o.timeline[0].end
        parts += [clip.samples, gap]
        spans.append((t + a, t + b))
        t += (len(clip.samples) + len(gap)) / 16000
    joined = analyzer.analyze(ArrayAudio(np.concatenate(parts)), speech=spans)
    for o, seg in zip(used, joined.timeline):
        assert o.scores == pytest.approx(seg.scores, abs=1e-6)
    alone = analyzer.analyze(clips[0])  # one utterance alone: the population path, other scores
    assert alone.details["classifier"] == "population" and alone.scores != pytest.approx(used[0].scores)
    assert all(not o.usable for o in analyzer.analyze_clips([ArrayAudio(fx.silence(1.0))]))


def test_analyze_clips_on_files_and_the_cli(tmp_path, recording, capsys):
    whole = VoiceAnalyzer().analyze(recording)
    paths = []
    for i, t in enumerate(whole.timeline):
        paths.append(tmp_path / f"clip{i}.wav")
        sf.write(paths[-1], recording.read(max(0.0, t.start - 0.3), t.end + 0.3), 16000)
    results = analyze_clips(paths, modalities="voice")
    assert [r.input for r in results] == [str(p) for p in paths]
    assert all(r.modalities["voice"].details["speaker_group"]["clips"] == len(paths) for r in results)
    assert all(any("read together with 3 other clip(s)" in n for n in r.notes) for r in results)
    with pytest.raises(InputNotFoundError):
        analyze_clips([*paths, tmp_path / "missing.wav"], modalities="voice")
    with pytest.raises(ConfigError):
        analyze_clips([])
    out = tmp_path / "r.jsonl"
    assert main(["analyze", *map(str, paths), "--same-speaker", "--modalities", "voice", "-o", str(out),
                 "--no-progress"]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == len(paths) and all(json.loads(x)["modalities"]["voice"]["used"] for x in lines)
    assert main(["analyze", str(paths[0]), "--same-speaker"]) == 2
    assert "two or more media files" in capsys.readouterr().err
