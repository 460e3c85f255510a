"""Prosody on tones whose pitch, loudness and pauses are known."""

from __future__ import annotations

import math

import numpy as np
import pytest
import voice_fixtures as fx  # noqa: E402  (tests/perception is on pytest's pythonpath)

from emoreason.io.audio import ArrayAudio
from emoreason.perception.voice.prosody import COLUMNS, analyze_prosody, f0_track, prosody_features


@pytest.mark.parametrize("f0", [110.0, 200.0, 320.0])
def test_f0_of_a_steady_tone_is_found_within_a_few_hz(f0):
    feats = prosody_features(fx.harmonic_tone(f0, seconds=1.5))
    assert abs(feats["f0_mean_hz"] - f0) < 3.0
    assert abs(feats["f0_median_hz"] - f0) < 3.0
    assert abs(feats["f0_mean_st"] - 12 * math.log2(f0 / 100)) < 0.3
    assert feats["f0_range_st"] < 0.5
    assert feats["voiced_fraction"] > 0.9


def test_rising_and_falling_pitch_give_slopes_of_the_right_sign_and_size():
    rising = prosody_features(fx.harmonic_tone(150, 250, seconds=2.0))
    falling = prosody_features(fx.harmonic_tone(250, 150, seconds=2.0))
    expected = 12 * math.log2(250 / 150) / 2.0  # semitones per second, about 4.4
    assert rising["f0_slope_st_s"] == pytest.approx(expected, rel=0.15)
    assert falling["f0_slope_st_s"] == pytest.approx(-expected, rel=0.15)
    assert rising["f0_range_st"] > 5


def test_louder_tone_has_about_6_db_more_energy():
    quiet = prosody_features(fx.harmonic_tone(180, amplitude=0.1))
    loud = prosody_features(fx.harmonic_tone(180, amplitude=0.2))
    assert loud["energy_mean_db"] - quiet["energy_mean_db"] == pytest.approx(6.02, abs=0.3)
    assert loud["energy_range_db"] == pytest.approx(quiet["energy_range_db"], abs=0.3)  # gain-invariant


def test_syllable_rate_follows_the_amplitude_modulation():
    slow = prosody_features(fx.harmonic_tone(180, seconds=3.0, syllables_per_s=3.0))
    fast = prosody_features(fx.harmonic_tone(180, seconds=3.0, syllables_per_s=6.0))
    assert slow["rate_syl_s"] == pytest.approx(3.0, abs=0.6)
    assert fast["rate_syl_s"] == pytest.approx(6.0, abs=1.0)


def test_pauses_inside_a_segment_are_counted_and_timed():
    x = np.concatenate([fx.harmonic_tone(180, seconds=1.0), fx.silence(0.4),
                        fx.harmonic_tone(180, seconds=1.0), fx.silence(0.05),
                        fx.harmonic_tone(180, seconds=1.0)])
    feats = prosody_features(x)
    assert feats["pauses"] == 1  # the 50 ms gap is too short to count
    assert feats["pause_s"] == pytest.approx(0.4, abs=0.06)


def test_noise_has_little_voicing_and_silence_gives_nan():
    noisy = prosody_features(fx.noise(1.0, level=0.1))
    assert noisy["voiced_fraction"] < 0.3
    quiet = prosody_features(fx.silence(1.0))
    assert all(math.isnan(quiet[c]) for c in COLUMNS)
    assert len(f0_track(fx.silence(0.01))) == 0


def test_analyze_prosody_gives_one_row_per_segment_with_times():
    audio = ArrayAudio(np.concatenate([fx.harmonic_tone(120, seconds=1.0), fx.silence(0.5),
                                       fx.harmonic_tone(240, seconds=1.0)]))
    table = analyze_prosody(audio, [(0.0, 1.0), (1.5, 2.5)])
    assert list(table.columns) == ["start", "end", "duration", *COLUMNS]
    assert table["start"].tolist() == [0.0, 1.5]
    assert table["f0_mean_hz"].iloc[0] == pytest.approx(120, abs=3)
    assert table["f0_mean_hz"].iloc[1] == pytest.approx(240, abs=4)
