"""Voice cues in words, the prosody arousal rule, and the Whisper voice embedding."""

from __future__ import annotations

import numpy as np
import pytest
import voice_fixtures as fx  # noqa: E402  (tests/perception is on pytest's pythonpath)

from emoreason.errors import ModelError
from emoreason.perception.voice.cues import MAX_EVIDENCE, arousal_rule, voice_evidence
from emoreason.perception.voice.embedding import MEL_BANDS, MEL_DIM, WhisperVoiceEmbedder, mel_functionals

ANGRY = {"neutral": 0.05, "happy": 0.05, "sad": 0.02, "angry": 0.7, "fearful": 0.1, "disgusted": 0.03,
         "surprised": 0.05}
SAD = {"neutral": 0.2, "happy": 0.02, "sad": 0.7, "angry": 0.02, "fearful": 0.02, "disgusted": 0.02,
       "surprised": 0.02}


def _row(z: dict, scores: dict, slope: float = 0.0, start: float = 1.0) -> dict:
    return {"start": start, "end": start + 2.0, "scores": scores, "z": z, "raw": {"f0_slope_st_s": slope}}


def test_arousal_rule_direction_and_what_it_may_use():
    excited = {"f0_mean_st": 2.0, "energy_mean_db": 2.0, "rate_syl_s": 1.5, "pause_s": -1.0}
    calm = {k: -v for k, v in excited.items()}
    assert arousal_rule(excited, speaker_relative=True) > 0.5
    assert arousal_rule(calm, speaker_relative=True) < -0.5
    # pitch and loudness level need the speaker: alone, only rate and pauses count
    assert arousal_rule({"f0_mean_st": 3.0, "energy_mean_db": 3.0}, speaker_relative=False) is None
    assert arousal_rule({"rate_syl_s": float("nan")}, speaker_relative=True) is None


def test_only_salient_cues_become_evidence_and_support_matching_labels():
    rows = [_row({"f0_mean_st": 1.8, "energy_mean_db": 0.4, "rate_syl_s": 1.2}, ANGRY)]
    ev = voice_evidence(rows, speaker_relative=True)
    assert [e.name for e in ev] == ["pitch", "speaking rate"]
    pitch = ev[0]
    assert pitch.description == "pitch high (+1.8 SD vs this speaker)"
    assert pitch.value == 1.8 and pitch.unit == "z" and pitch.start == 1.0 and pitch.end == 3.0
    assert pitch.supports == "angry"
    low = voice_evidence([_row({"f0_mean_st": -1.5}, ANGRY)], speaker_relative=True)
    assert low[0].description.startswith("pitch low") and low[0].supports is None  # disagrees with angry
    sad = voice_evidence([_row({"rate_syl_s": -2.0}, SAD)], speaker_relative=True)
    assert sad[0].supports == "sad"


def test_rising_contour_supports_surprise_when_the_model_leans_there():
    surprised = dict(ANGRY, surprised=0.6, angry=0.2)
    ev = voice_evidence([_row({}, surprised, slope=6.0)], speaker_relative=False)
    assert ev[0].name == "pitch contour" and ev[0].supports == "surprised"
    assert "rising" in ev[0].description
    falling = voice_evidence([_row({}, surprised, slope=-6.0)], speaker_relative=False)
    assert "falling" in falling[0].description and falling[0].supports is None


def test_evidence_is_capped_and_time_ordered():
    rows = [_row({"f0_range_st": 1.0 + i, "rate_syl_s": 2.0, "pause_s": 1.5}, ANGRY, start=10.0 - i)
            for i in range(6)]
    ev = voice_evidence(rows, speaker_relative=False)
    assert len(ev) == MAX_EVIDENCE
    assert [e.start for e in ev] == sorted(e.start for e in ev)
    assert all("typical voices" in e.description for e in ev)


@pytest.fixture(scope="module")
def embedder() -> WhisperVoiceEmbedder:
    return WhisperVoiceEmbedder()


def test_embedding_shape_determinism_and_short_input(embedder):
    speech = fx.espeak("Please put the boxes by the door.")
    a = embedder.embed([speech, speech[:1600], np.zeros(10, dtype=np.float32)])
    assert a.shape == (3, embedder.dim) and embedder.dim == 768
    assert np.all(np.isfinite(a))
    assert np.array_equal(a, embedder.embed([speech, speech[:1600], np.zeros(10, dtype=np.float32)]))
    assert not np.allclose(a[0], a[1])
    assert embedder.embed([]).shape == (0, embedder.dim)


def test_embedding_pools_each_requested_layer(embedder):
    speech = fx.espeak("Please put the boxes by the door.")
    layered = WhisperVoiceEmbedder(layers=(0, 1, 2, 3), frame_layer=1)
    rows, states = layered.embed_with_states([speech])
    outs = layered.encoder.layers(layered._mel(speech))
    assert layered.dim == 4 * 768 and rows.shape == (1, layered.dim)
    for k in range(4):
        assert np.allclose(rows[0, 768 * k:768 * (k + 1)], np.concatenate([outs[k].mean(0), outs[k].std(0)]))
    assert np.array_equal(states[0], outs[1])
    assert np.allclose(embedder.embed([speech])[0], np.concatenate([outs[-1].mean(0), outs[-1].std(0)]))
    with pytest.raises(ModelError, match="do not exist"):
        WhisperVoiceEmbedder(layers=(0, 5))
    with pytest.raises(ModelError, match="do not exist"):
        WhisperVoiceEmbedder(frame_layer=-6)


def test_mel_functionals_on_known_frames():
    ramp = np.tile(np.arange(10, dtype=np.float64), (MEL_BANDS, 1))  # every band rises by 1 per frame
    f = mel_functionals(ramp)
    assert f.shape == (MEL_DIM,)
    mean, std, spread, delta = f.reshape(4, MEL_BANDS)
    assert np.allclose(mean, 4.5) and np.allclose(std, np.arange(10).std())
    assert np.allclose(spread, np.percentile(np.arange(10), 90) - np.percentile(np.arange(10), 10))
    assert np.allclose(delta, 1.0)
    assert np.allclose(mel_functionals(np.ones((MEL_BANDS, 1)))[MEL_BANDS:], 0.0)  # one frame: no spread


def test_embedding_with_mel_appends_the_mel_functionals(embedder):
    speech = fx.espeak("Please put the boxes by the door.")
    both = WhisperVoiceEmbedder(with_mel=True)
    row = both.embed([speech])
    assert both.dim == embedder.dim + MEL_DIM and row.shape == (1, both.dim)
    assert np.allclose(row[0, :embedder.dim], embedder.embed([speech])[0])
    assert np.allclose(row[0, embedder.dim:], both.mel_only([speech])[0])


def test_padded_mode_pools_only_the_frames_that_cover_real_audio():
    padded = WhisperVoiceEmbedder(mode="padded")
    tone = fx.harmonic_tone(150, seconds=1.0)
    states = padded.encoder.layers(padded._padded_mel(tone))[-1]
    assert states.shape[0] == 1500  # 30 s window of 20 ms states
    real = states[:50]  # 1 s of audio
    assert np.allclose(padded.embed([tone])[0], np.concatenate([real.mean(0), real.std(0)]), atol=1e-5)
    assert padded.embed_with_states([tone])[1] == []
    with pytest.raises(ModelError, match="only available in the 'exact' mode"):
        padded.states([tone])
    with pytest.raises(ModelError, match="unknown Whisper embedding mode"):
        WhisperVoiceEmbedder(mode="wide")
