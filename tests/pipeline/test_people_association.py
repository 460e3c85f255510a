"""Face tracks paired with voices by synchrony: synthetic mouths and turns (emoreason.pipeline.people)."""

from __future__ import annotations

import numpy as np
import pytest
from people_fixtures import FakeDiarization, FakeTrack, FakeTurn, frame_times, talking_mouth

from emoreason.pipeline.people import associate, mouth_movement, synchrony

TURNS_A = [(0.0, 2.5), (5.0, 7.0), (10.5, 12.0)]
TURNS_B = [(2.8, 4.8), (7.3, 10.2), (12.4, 14.0)]


def diarization(*speakers: list[tuple[float, float]]) -> FakeDiarization:
    turns = [FakeTurn(a, b, s) for s, spans in enumerate(speakers) for a, b in spans]
    return FakeDiarization(turns=sorted(turns, key=lambda t: t.start), n_speakers=len(speakers))


def test_movement_is_high_while_talking_and_low_at_rest():
    t = frame_times(6.0)
    move = mouth_movement(t, talking_mouth(t, [(0.0, 3.0)]))
    assert np.nanmean(move[(t > 0.5) & (t < 2.5)]) > 4 * np.nanmean(move[t > 3.5])


def test_synchrony_undefined_without_both_states():
    assert np.isnan(synchrony(np.linspace(0, 1, 10), np.ones(10)))
    assert synchrony(np.r_[np.zeros(5), np.ones(5)], np.r_[np.zeros(5), np.ones(5)]) == pytest.approx(1.0)


def test_two_faces_two_voices_paired_by_whose_mouth_moves():
    t = frame_times(14.0)
    # track ids in the opposite order from the voices: the pairing must come from the signals
    tracks = [FakeTrack(7, t, talking_mouth(t, TURNS_B, seed=1)), FakeTrack(3, t, talking_mouth(t, TURNS_A))]
    a = associate(tracks, diarization(TURNS_A, TURNS_B), t)
    assert a.pairs == {3: 0, 7: 1}
    assert a.score(3, 0) > 0.5 and a.score(3, 1) < 0
    assert a.offscreen == [] and a.silent == []


def test_voice_without_face_is_offscreen_and_still_face_is_silent():
    t = frame_times(14.0)
    still = FakeTrack(2, t, 0.02 + 0.003 * np.random.default_rng(3).standard_normal(len(t)))
    talker = FakeTrack(1, t, talking_mouth(t, TURNS_A))
    a = associate([talker, still], diarization(TURNS_A, TURNS_B), t)
    assert a.pairs == {1: 0}
    assert a.offscreen == [1] and a.silent == [2]
    assert any("voice 1 has no face" in n for n in a.notes)
    assert any("face track 2 is paired with no voice" in n for n in a.notes)


def test_face_seen_only_part_of_the_time_is_scored_where_seen():
    t = frame_times(14.0)
    seen = t < 8.0  # the face leaves the frame after 8 s (a cut): scored on its own frames only
    track = FakeTrack(0, t[seen], talking_mouth(t, TURNS_B)[seen])
    a = associate([track], diarization(TURNS_A, TURNS_B), t)
    assert a.pairs == {0: 1} and a.offscreen == [0]


def test_one_face_one_voice_speaking_throughout_is_one_person():
    t = frame_times(6.0)
    track = FakeTrack(0, t, talking_mouth(t, [(0.0, 6.0)]))
    a = associate([track], diarization([(0.0, 6.0)]), t)
    assert a.pairs == {0: 0} and np.isnan(a.scores[0, 0])
    assert any("taken as one person" in n for n in a.notes)


def test_one_face_one_voice_against_each_other_are_two_people():
    t = frame_times(14.0)  # the mouth moves exactly when the voice is silent: a dubbed or off-screen voice
    quiet = [(2.5, 5.0), (7.0, 10.5), (12.0, 14.0)]
    a = associate([FakeTrack(0, t, talking_mouth(t, quiet))], diarization(TURNS_A), t)
    assert a.pairs == {} and a.offscreen == [0] and a.silent == [0]


def test_no_faces_or_no_voices():
    t = frame_times(4.0)
    a = associate([], diarization([(0.0, 2.0)]), t)
    assert a.offscreen == [0] and "no face was seen" in a.notes[0] and "2.0 s of speech" in a.notes[-1]
    b = associate([FakeTrack(0, t, talking_mouth(t, [(0, 2)]))], FakeDiarization([], 0), t)
    assert b.silent == [0] and b.pairs == {}


def test_two_faces_moving_with_one_voice_ask_for_another_voice():
    from emoreason.pipeline.people import voices_to_ask

    t = frame_times(14.0)
    a, b = [(0.0, 2.0), (6.0, 8.0), (12.0, 13.0)], [(3.0, 5.0), (9.0, 11.0)]  # pauses of a second
    tracks = [FakeTrack(0, t, talking_mouth(t, a)), FakeTrack(1, t, talking_mouth(t, b, seed=1))]
    joined = diarization(sorted(a + b))
    assert voices_to_ask(associate(tracks, joined, t)) == 2
    assert voices_to_ask(associate(tracks, joined, t), max_voices=1) is None
    assert voices_to_ask(associate(tracks, diarization(a, b), t)) is None  # as many voices as faces
    listener = FakeTrack(1, t, 0.02 + 0.003 * np.random.default_rng(5).standard_normal(len(t)))
    assert voices_to_ask(associate([tracks[0], listener], diarization(a), t)) is None  # a talker, a listener


def test_shot_reverse_shot_pairs_by_who_is_on_screen_while_talking():
    t = frame_times(14.0)
    a, b = [(0.0, 2.5), (5.0, 7.0), (10.5, 12.0)], [(2.5, 5.0), (7.0, 10.5), (12.0, 14.0)]  # no pauses
    shows = [(t >= x) & (t < y) for x, y in a], [(t >= x) & (t < y) for x, y in b]
    on_a, on_b = np.any(shows[0], axis=0), np.any(shows[1], axis=0)
    # each face is seen only while it speaks: its voice is heard in all its frames, no correlation
    tracks = [FakeTrack(4, t[on_b], talking_mouth(t, b, seed=1)[on_b]),
              FakeTrack(2, t[on_a], talking_mouth(t, a)[on_a])]
    got = associate(tracks, diarization(a, b), t)
    assert got.pairs == {2: 0, 4: 1} and got.score(2, 0) > 0.9
    # a still face shown only while voice 1 speaks (a listener's reaction shot) is not taken for it
    still = FakeTrack(4, t[on_b], 0.02 + 0.003 * np.random.default_rng(1).standard_normal(on_b.sum()))
    got = associate([tracks[1], still], diarization(a, b), t)
    assert got.pairs == {2: 0} and got.silent == [4]
