"""Speaker diarisation on synthetic conversations: speakers found, turn boundaries within a tolerance,
the count given or estimated, silence, bad input, resampling, cancelling and the activity matrix."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import speaker_fixtures as sfx  # noqa: E402  (tests/perception is on pytest's pythonpath)

from emoreason.errors import AnalysisCancelledError, ConfigError
from emoreason.eval.diarisation import der
from emoreason.io.guard import decode_guard
from emoreason.io.synth_conversation import make_conversation, plan_turns, ravdess_by_actor
from emoreason.perception.speech.diarize import Diarization, SpeakerTurn, diarize, embed_windows

TOLERANCE = 0.5  # seconds between a reference turn's edge and the found one


def _espeak_conversation(variants: list[str], n_turns: int, seed: int):
    clips = {v: [sfx.voice(v, s) for s in sfx.SENTENCES] for v in variants}
    return make_conversation(plan_turns(clips, n_turns, seed=seed, same_speaker_prob=0.0), seed=seed,
                             pause=(0.5, 1.0))


def _mapped_turns(d: Diarization, ref) -> dict:
    """Each found speaker -> the reference speaker it shares most time with."""
    out = {}
    for k in range(d.n_speakers):
        share: dict = {}
        for t in d.turns:
            if t.speaker == k:
                for a, b, s in ref:
                    share[s] = share.get(s, 0.0) + max(0.0, min(b, t.end) - max(a, t.start))
        out[k] = max(share, key=share.get)
    return out


def _hyp(d: Diarization):
    return [(t.start, t.end, t.speaker) for t in d.turns]


def test_two_espeak_voices_found_with_their_turns():
    audio, sr, ref = _espeak_conversation(["en+m1", "en+f3"], 6, seed=1)
    d = diarize(audio, sr)
    assert d.n_speakers == 2 and d.embeddings.shape == (2, 256)
    assert [t.speaker for t in d.turns][0] == 0  # numbered by first appearance
    assert der(ref, _hyp(d), collar=0.25).der < 0.1
    assert len(set(_mapped_turns(d, ref).values())) == 2
    assert _edges_found(d, ref)
    assert any("overlapped speech" in n for n in d.notes)


def _edges_found(d: Diarization, ref) -> bool:
    """Every reference turn has a found turn of its speaker with both edges within TOLERANCE."""
    mapping = _mapped_turns(d, ref)
    return all(any(mapping[t.speaker] == s and abs(t.start - a) < TOLERANCE and abs(t.end - b) < TOLERANCE
                   for t in d.turns) for a, b, s in ref)


def test_three_espeak_voices_with_the_count_given():
    audio, sr, ref = _espeak_conversation(["en+m1", "en+f3", "en+klatt"], 9, seed=2)
    d = diarize(audio, sr, n_speakers=3)
    assert d.n_speakers == 3
    assert der(ref, _hyp(d), collar=0.25).der < 0.15
    assert len(set(_mapped_turns(d, ref).values())) == 3
    assert _edges_found(d, ref)


def test_windows_are_1_6_s_every_half_second_and_short_segments_one_window():
    class MeanEncoder:  # stands in for GE2E: the window's mean mel frame, made unit length
        def embed_mels(self, mels):
            m = np.abs(mels).mean(axis=1)[:, :40]
            v = np.concatenate([m, np.zeros((len(m), 216), np.float32)], axis=1)
            return v / np.linalg.norm(v, axis=1, keepdims=True)

    x = np.random.default_rng(0).standard_normal(16000 * 6).astype(np.float32) * 0.1
    spans, emb = embed_windows(x, [(0.0, 2.7), (3.0, 3.3), (4.0, 5.0)], MeanEncoder())
    assert spans.tolist() == [[0, 160], [50, 210], [100, 260], [110, 270], [400, 500]]  # 3.0-3.3 < 0.4 s
    assert emb.shape == (5, 256) and np.allclose(np.linalg.norm(emb, axis=1), 1.0)


def test_three_ravdess_actors_with_the_count_given():
    sfx.needs_ravdess()
    by_actor = ravdess_by_actor(sfx.RAVDESS, actors=[9, 12, 14])  # held-out actors (tuning used 1-8)
    clips = plan_turns(by_actor, 12, seed=3)
    audio, sr, ref = make_conversation(clips, seed=3, snr_db=30.0)
    d = diarize(audio, sr, n_speakers=3)
    assert d.n_speakers == 3
    one = der(ref, [(a, b, 0) for a, b, _ in ref], collar=0.25).der  # one speaker for all: ~0.6
    assert der(ref, _hyp(d), collar=0.25).der < 0.5 * one


def test_one_voice_stays_one_speaker():
    audio, sr, ref = _espeak_conversation(["en+f3"], 4, seed=4)
    d = diarize(audio, sr)
    assert d.n_speakers == 1 and {t.speaker for t in d.turns} == {0}
    assert der(ref, _hyp(d), collar=0.25).der < 0.1


def test_silence_gives_no_turns_and_a_note():
    d = diarize(np.zeros(16000 * 3, np.float32), 16000)
    assert d.turns == [] and d.n_speakers == 0 and d.embeddings.shape == (0, 256)
    assert d.notes == ["no speech found: no speaker turns"]
    assert d.activity(np.array([0.5, 1.0])).shape == (0, 2)
    given = diarize(np.zeros(16000, np.float32), 16000, speech=[])
    assert given.n_speakers == 0


def test_digital_silence_in_given_speech_and_odd_waveforms():
    d = diarize(np.zeros(16000 * 2, np.float32), 16000, speech=[(0.0, 2.0)])
    assert d.n_speakers == 0 and d.turns == []
    audio, sr, ref = _espeak_conversation(["en+m1", "en+f3"], 4, seed=7)
    pcm = np.round(audio * 20000).astype(np.int16)
    pcm_result = diarize(pcm, sr, n_speakers=2)
    assert pcm_result.n_speakers == 2 and any("int16 PCM" in n for n in pcm_result.notes)
    holes = audio.copy()
    holes[1000:1100] = np.nan
    d = diarize(holes, sr, n_speakers=2)
    assert d.n_speakers == 2 and any("not numbers" in n for n in d.notes)
    assert der(ref, _hyp(d), collar=0.25).der < 0.15
    seven = diarize(audio, sr, n_speakers=7, max_speakers=6)  # a given count wins over the cap
    assert 2 <= seven.n_speakers <= 7
    assert seven.n_speakers == 7 or any("kept no turn" in n for n in seven.notes)


def test_other_sample_rates_are_resampled():
    audio, sr, ref = _espeak_conversation(["en+m1", "en+f3"], 4, seed=5)
    x8k = audio[::2].copy()  # 8 kHz (no anti-alias filter needed for this check)
    d = diarize(x8k, 8000, n_speakers=2)
    assert d.n_speakers == 2 and der(ref, _hyp(d), collar=0.25).der < 0.15


@pytest.mark.parametrize("kwargs", [dict(audio=np.zeros((2, 100), np.float32)),
                                    dict(audio=np.zeros(0, np.float32)),
                                    dict(sample_rate=0),
                                    dict(audio=np.zeros(100, np.complex64)),
                                    dict(n_speakers=0),
                                    dict(max_speakers=0)])
def test_bad_arguments_are_config_errors(kwargs):
    args = dict(audio=np.zeros(16000, np.float32), sample_rate=16000) | kwargs
    with pytest.raises(ConfigError):
        diarize(**args)


def test_activity_marks_each_speakers_turns():
    d = Diarization([SpeakerTurn(0.0, 1.0, 0), SpeakerTurn(1.5, 2.0, 1), SpeakerTurn(2.0, 3.0, 0)], 2,
                    np.zeros((2, 256), np.float32))
    act = d.activity(np.array([0.5, 1.2, 1.5, 1.99, 2.0, 3.0]))
    assert act.tolist() == [[1, 0, 0, 0, 1, 0], [0, 0, 1, 1, 0, 0]]


def test_a_cancelled_caller_stops_it():
    audio, sr, _ = _espeak_conversation(["en+m1", "en+f3"], 2, seed=6)
    flag = threading.Event()
    flag.set()
    with decode_guard(cancel=flag), pytest.raises(AnalysisCancelledError):
        diarize(audio, sr, speech=[(0.5, 2.0)])
