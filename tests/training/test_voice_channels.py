"""The recording-channel perturbations used to test (and train) the voice model off the studio channel."""

from __future__ import annotations

import numpy as np
import pytest

from emoreason.perception.voice.embedding import (
    active_level_db,
    apply_gain_db,
    level_gain_db,
    normalise_level,
)
from emoreason.training.voice import channels as ac
from emoreason.training.voice import features as vfeat

SR = 16000


def _band_energy(x: np.ndarray, lo: float, hi: float) -> float:
    power = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SR)
    return float(power[(f >= lo) & (f < hi)].sum() / power.sum())


@pytest.fixture
def speechlike() -> np.ndarray:
    """Broadband test signal: harmonics of 140 Hz up to 7 kHz under a slow envelope."""
    t = np.arange(2 * SR) / SR
    x = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 50))
    return (0.05 * x * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def test_telephone_keeps_the_narrow_band_only(speechlike):
    out = ac.telephone(speechlike)
    assert out.shape == speechlike.shape and out.dtype == np.float32
    assert _band_energy(speechlike, 3800, 8000) > 1e-3
    assert _band_energy(out, 3800, 8000) < 1e-4
    assert _band_energy(out, 0, 200) < 0.05 < _band_energy(speechlike, 0, 200)
    # the pass band survives mu-law coding: the output still correlates with the band-limited input
    assert np.corrcoef(out, speechlike)[0, 1] > 0.3


def test_reverb_is_seeded_and_keeps_the_level(speechlike):
    a = ac.reverb(speechlike, 0.5, seed=1)
    assert np.array_equal(a, ac.reverb(speechlike, 0.5, seed=1))
    assert not np.array_equal(a, ac.reverb(speechlike, 0.5, seed=2))
    rms_in = np.sqrt(np.mean(speechlike.astype(np.float64) ** 2))
    assert np.isclose(np.sqrt(np.mean(a.astype(np.float64) ** 2)), rms_in, rtol=1e-4)
    with pytest.raises(ValueError):
        ac.room_impulse(0.0, seed=0)


def test_room_impulse_decays_by_60_db_over_rt60():
    h = ac.room_impulse(0.4, seed=0, direct_to_reverb_db=0.0)
    assert h[0] == 1.0 and len(h) == int(0.4 * SR)
    assert np.isclose(np.sum(h[1:] ** 2), 1.0)  # reverberant energy equals the direct sound's at 0 dB
    early, late = np.std(h[1:801]), np.std(h[-800:])
    assert 20 * np.log10(early / late) > 45  # ~55 dB between the first and last 50 ms of a 60 dB decay


def test_pink_noise_has_a_falling_spectrum_at_the_asked_snr(speechlike):
    noise = ac.pink_noise(4 * SR, seed=0)
    assert np.isclose(np.sqrt(np.mean(noise ** 2)), 1.0)
    assert _band_energy(noise, 100, 200) > 5 * _band_energy(noise, 4000, 4100)
    noisy = ac.coloured_noise(speechlike, 10.0, seed=0)
    added = noisy.astype(np.float64) - speechlike
    snr = 10 * np.log10(np.mean(speechlike.astype(np.float64) ** 2) / np.mean(added ** 2))
    assert abs(snr - 10.0) < 0.1


def test_gain_scales_only():
    x = np.linspace(-0.5, 0.5, 100, dtype=np.float32)
    assert np.allclose(apply_gain_db(x, -20.0), x / 10, atol=1e-7)


def test_channel_views_are_feature_kinds():
    for c in vfeat.CHANNELS:
        assert f"prosody_{c}" in vfeat.KINDS and f"layers_exact_{c}" in vfeat.KINDS
        x = np.random.RandomState(0).randn(SR).astype(np.float32) * 0.1
        out = vfeat._augment(x, c, 3)
        assert out.shape == x.shape and not np.array_equal(out, x)


def test_active_level_ignores_pauses_and_normalising_sets_it(speechlike):
    padded = np.concatenate([speechlike, np.zeros(SR, dtype=np.float32)])  # a second of pause
    assert abs(active_level_db(padded) - active_level_db(speechlike)) < 1.0
    out = normalise_level(speechlike * 0.01, -30.0)
    assert abs(active_level_db(out) + 30.0) < 1e-3
    assert np.allclose(out, normalise_level(speechlike, -30.0), atol=1e-6)
    assert active_level_db(np.zeros(100)) is None and level_gain_db(np.zeros(100), -30.0) == 0.0


def test_training_augmentations_draw_their_channel_from_the_seed(speechlike):
    band = ac.random_band(speechlike, seed=4)
    assert np.array_equal(band, ac.random_band(speechlike, seed=4))
    assert not np.array_equal(band, ac.random_band(speechlike, seed=5))
    # above the highest cut-off
    assert _band_energy(band, 6500, 8000) < 0.1 * _band_energy(speechlike, 6500, 8000)
    room = ac.random_room(speechlike, seed=4)
    assert np.array_equal(room, ac.random_room(speechlike, seed=4)) and room.shape == speechlike.shape
    assert not np.allclose(room, ac.reverb(speechlike, 0.5, seed=4))  # not the test channel's room
