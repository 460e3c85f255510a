"""Voice activity detection: speech found, silence and noise ignored, long speech split, long audio
chunked."""

from __future__ import annotations

import numpy as np
import voice_fixtures as fx  # noqa: E402  (tests/perception is on pytest's pythonpath)

from emoreason.io.audio import ArrayAudio
from emoreason.perception.speech import vad
from emoreason.perception.speech.vad import detect_speech, split_long


def test_finds_each_sentence_between_silences():
    sentence = fx.espeak("I can't believe you did this to me.")
    x = np.concatenate([fx.silence(2.0), sentence, fx.silence(2.0), sentence, fx.silence(1.0)])
    segs = detect_speech(ArrayAudio(x))
    assert len(segs) == 2
    n = len(sentence) / fx.SR
    for (a, b), true_start in zip(segs, (2.0, 4.0 + n)):
        assert abs(a - true_start) < 0.4
        assert abs(b - (true_start + n)) < 0.4


def test_no_speech_in_silence_or_noise():
    assert detect_speech(ArrayAudio(fx.silence(5.0))) == []
    assert detect_speech(ArrayAudio(fx.noise(5.0, level=0.05))) == []
    assert detect_speech(ArrayAudio(fx.silence(0.01))) == []


def test_min_speech_drops_short_segments():
    word = fx.espeak("yes")
    x = np.concatenate([fx.silence(1.0), word, fx.silence(1.0)])
    assert detect_speech(ArrayAudio(x), min_speech=0.1)
    assert detect_speech(ArrayAudio(x), min_speech=len(word) / fx.SR + 1.0) == []


def test_split_long_cuts_at_the_quiet_moment_and_keeps_pieces_under_the_limit():
    x = np.concatenate([fx.harmonic_tone(150, seconds=7.0), fx.silence(0.3),
                        fx.harmonic_tone(150, seconds=7.0)])
    pieces = split_long(ArrayAudio(x), 0.0, len(x) / fx.SR, max_len=10.0)
    assert len(pieces) == 2
    assert 7.0 <= pieces[0][1] <= 7.3  # inside the gap
    assert pieces[0][1] == pieces[1][0]
    long_tone = ArrayAudio(fx.harmonic_tone(150, seconds=31.0))
    pieces = split_long(long_tone, 0.0, 31.0, max_len=10.0)
    assert all(b - a <= 10.0 + 1e-9 for a, b in pieces)
    assert pieces[0][0] == 0.0 and pieces[-1][1] == 31.0


def test_continuous_speech_longer_than_10_s_is_split():
    text = "and then we walked along the river talking about everything that happened last summer " * 3
    x = np.concatenate([fx.silence(0.5), fx.espeak(text, speed=170), fx.silence(0.5)])
    segs = detect_speech(ArrayAudio(x))
    assert sum(b - a for a, b in segs) > 10.0
    assert all(b - a <= 10.0 + 1e-6 for a, b in segs)


class _CountingAudio(ArrayAudio):
    """Records the longest stretch any caller read at once."""

    longest = 0.0

    def read(self, start: float = 0.0, end: float | None = None) -> np.ndarray:
        out = super().read(start, end)
        self.longest = max(self.longest, len(out) / self.sample_rate)
        return out


def test_long_audio_is_read_in_chunks_and_speech_across_a_chunk_edge_stays_one_segment(monkeypatch):
    monkeypatch.setattr(vad, "CHUNK_SECONDS", 8.0)
    sentence = fx.espeak("The quick brown fox jumps over the lazy dog near the river bank.", speed=140)
    n = len(sentence) / fx.SR
    lead = 8.0 - n / 2  # the sentence straddles the first chunk edge at 8 s
    x = np.concatenate([fx.silence(lead), sentence, fx.silence(20.0 - lead - n)])
    audio = _CountingAudio(x)
    segs = detect_speech(audio)
    assert audio.longest <= 8.0 + 1e-6
    assert len(segs) == 1
    assert segs[0][0] < 8.0 < segs[0][1]
