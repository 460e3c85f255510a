import numpy as np

from emoreason.io.audio import ArrayAudio
from emoreason.perception.speech.vad import _loud_enough


def test_lenient_pass_keeps_only_stretches_well_above_the_noise_floor():
    rng = np.random.RandomState(0)
    x = (0.002 * rng.randn(16000 * 6)).astype(np.float32)  # a quiet room
    x[16000 * 2: 16000 * 3] += (0.2 * np.sin(2 * np.pi * 180 * np.arange(16000) / 16000)).astype(np.float32)
    audio = ArrayAudio(x)
    assert _loud_enough(audio, 2.0, 3.0)
    assert not _loud_enough(audio, 4.0, 5.0)
