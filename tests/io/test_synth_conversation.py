"""Synthetic conversations: the reference turns say where each clip's speech is, pauses are silent,
overlaps and noise are as asked, turn plans give every speaker turns, and a seed repeats a conversation."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from emoreason.errors import ConfigError, InputNotFoundError
from emoreason.io.synth_conversation import make_conversation, overlap_seconds, plan_turns, ravdess_by_actor

SR = 16000


def _burst(seconds: float, freq: float) -> np.ndarray:
    """A tone with 0.3 s of silence either side (trimmed off by make_conversation)."""
    t = np.arange(int(seconds * SR)) / SR
    pad = np.zeros(int(0.3 * SR), np.float32)
    return np.concatenate([pad, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), pad])


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def test_reference_turns_cover_the_speech_and_pauses_are_silent():
    clips = [(_burst(1.0, 200), "a"), (_burst(1.5, 300), "b"), (_burst(0.8, 200), "a")]
    audio, sr, ref = make_conversation(clips, pause=(0.5, 0.5), lead=0.5, seed=0)
    assert sr == SR and [s for _, _, s in ref] == ["a", "b", "a"]
    for (a, b, _), seconds in zip(ref, (1.0, 1.5, 0.8)):
        assert b - a == pytest.approx(seconds, abs=0.05)  # trimmed to 512-sample frames
        assert _rms(audio[int(a * SR):int(b * SR)]) > 0.03
    for (_, b, _), (a2, _, _) in zip(ref, ref[1:]):
        assert a2 - b == pytest.approx(0.5, abs=0.01)
        assert _rms(audio[int((b + 0.02) * SR):int((a2 - 0.02) * SR)]) == 0.0
    assert ref[0][0] == pytest.approx(0.5) and len(audio) / SR == pytest.approx(ref[-1][1] + 0.5, abs=0.01)
    assert overlap_seconds(ref) == 0.0


def test_overlaps_and_noise_as_asked():
    clips = [(_burst(2.0, 200), 1), (_burst(2.0, 300), 2), (_burst(2.0, 200), 1)]
    audio, _, ref = make_conversation(clips, overlap_prob=1.0, overlap=(0.5, 0.5), snr_db=10.0, seed=0)
    assert overlap_seconds(ref) == pytest.approx(1.0, abs=0.01)  # two changes, 0.5 s each
    assert ref[1][0] == pytest.approx(ref[0][1] - 0.5, abs=0.01)
    lead = audio[: int(0.4 * SR)]  # before the first turn: noise only
    speech = audio[int(ref[0][0] * SR):int(ref[0][1] * SR)]
    snr = 20 * np.log10(_rms(speech) / _rms(lead))
    assert 8.0 < snr < 12.5


def test_seed_repeats_a_conversation():
    clips = [(_burst(1.0, 200), "a"), (_burst(1.0, 300), "b")]
    one = make_conversation(clips, snr_db=20, overlap_prob=0.5, seed=7)
    two = make_conversation(clips, snr_db=20, overlap_prob=0.5, seed=7)
    other = make_conversation(clips, snr_db=20, overlap_prob=0.5, seed=8)
    assert np.array_equal(one[0], two[0]) and one[2] == two[2]
    assert not np.array_equal(one[0], other[0])


def test_plan_turns_gives_every_speaker_two_turns_and_changes_speaker():
    by = {s: [f"{s}{i}" for i in range(5)] for s in "abc"}
    for seed in range(200):
        n = 6 + seed % 11
        plan = plan_turns(by, n, seed=seed, same_speaker_prob=0.0)
        speakers = [s for _, s in plan]
        assert len(plan) == n and all(speakers.count(s) >= 2 for s in "abc")
        assert all(x != y for x, y in zip(speakers, speakers[1:]))
        assert all(src.startswith(s) for src, s in plan)
        for name in "abc":  # no clip twice while the speaker has unused ones
            assert len({src for src, s in plan if s == name}) == min(speakers.count(name), 5)
        assert max(speakers.count(name) for name in "abc") <= (n + 1) // 2
    with pytest.raises(ConfigError):
        plan_turns(by, 2)


def test_files_are_read_and_resampled(tmp_path):
    path = tmp_path / "clip.flac"
    sf.write(str(path), _burst(1.0, 200)[::2], 8000)  # 8 kHz file
    audio, sr, ref = make_conversation([(path, "a")], seed=0)
    assert sr == SR and ref[0][1] - ref[0][0] == pytest.approx(1.0, abs=0.05)
    with pytest.raises(InputNotFoundError):
        make_conversation([(tmp_path / "missing.flac", "a")])
    with pytest.raises(ConfigError):
        make_conversation([(np.zeros(SR, np.float32), "a")])  # silent clip
    with pytest.raises(InputNotFoundError):
        ravdess_by_actor(tmp_path)


def test_ravdess_by_actor_reads_labels(tmp_path):
    (tmp_path / "labels.csv").write_text(
        "path,emotion,intensity,statement,repetition,actor,sex\n"
        "audio/Actor_01/a.flac,neutral,normal,x,1,1,male\n"
        "audio/Actor_02/b.flac,happy,normal,x,1,2,female\n"
        "audio/Actor_01/c.flac,sad,normal,x,1,1,male\n")
    by = ravdess_by_actor(tmp_path)
    assert list(by) == [1, 2] and [p.name for p in by[1]] == ["a.flac", "c.flac"]
    assert list(ravdess_by_actor(tmp_path, actors=[2])) == [2]
