"""Words split by speaker (emoreason.pipeline.people_stages): each word to the turn it falls in."""

from __future__ import annotations

from people_fixtures import FakeTurn

from emoreason.perception.text.transcript import Transcript, TranscriptSegment, Word
from emoreason.pipeline.people_stages import speaker_at, split_transcript

TURNS = [FakeTurn(0.0, 2.0, 0), FakeTurn(2.1, 4.0, 1), FakeTurn(3.8, 5.0, 0)]


def test_speaker_at_prefers_overlap_then_the_nearest_turn():
    assert speaker_at(0.5, 0.8, TURNS) == 0 and speaker_at(2.5, 2.9, TURNS) == 1
    assert speaker_at(3.7, 4.0, TURNS) == 1  # overlaps both: the longer overlap wins
    assert speaker_at(5.3, 5.5, TURNS) == 0  # 0.3 s after the last turn: snapped
    assert speaker_at(7.0, 7.5, TURNS) is None


def test_split_transcript_by_word_times():
    words = [Word(" I", 0.2, 0.4, 0.9), Word(" am", 0.5, 0.7, 0.7), Word(" not", 2.3, 2.6, 0.5),
             Word(" sure", 2.7, 3.0, 0.5), Word(" fine", 4.3, 4.6, 1.0), Word(" lost", 9.0, 9.3, 1.0)]
    untimed = TranscriptSegment(2.2, 3.5, "no words here", [], 0.4)
    whole = TranscriptSegment(0.0, 5.0, "I am not sure fine lost", words, 0.8)
    t = Transcript([whole, untimed], source="asr:x")
    parts, lost = split_transcript(t, TURNS)
    assert lost == 1  # "lost" is in nobody's turn
    assert [s.text for s in parts[0].segments] == ["I am", "fine"]
    assert parts[0].text == "I am fine" and parts[0].segments[0].confidence == 0.8
    assert parts[1].text == "not sure no words here" and parts[1].segments[1] is untimed
    assert parts[1].source == "asr:x"


def test_joined_voices_are_split_only_when_that_pairs_more_faces(monkeypatch):
    from people_fixtures import FakeDiarization, FakeTrack, frame_times, talking_mouth

    from emoreason.pipeline import people_stages
    from emoreason.pipeline.options import AnalyzeOptions
    from emoreason.pipeline.people_stages import FacePeople, VoicePeople, split_joined_voices

    a, b = [(0.0, 2.0), (6.0, 8.0), (12.0, 13.0)], [(3.0, 5.0), (9.0, 11.0)]
    t = frame_times(14.0)
    faces = FacePeople([FakeTrack(0, t, talking_mouth(t, a)), FakeTrack(1, t, talking_mouth(t, b, seed=1))],
                       {}, t)
    joined = VoicePeople(FakeDiarization([FakeTurn(x, y, 0) for x, y in sorted(a + b)], 1))
    turns = [FakeTurn(x, y, 0) for x, y in a] + [FakeTurn(x, y, 1) for x, y in b]
    good = VoicePeople(FakeDiarization(sorted(turns, key=lambda u: u.start), 2))
    bad = VoicePeople(FakeDiarization([FakeTurn(0.0, 7.0, 0), FakeTurn(7.0, 14.0, 1)], 2))
    asked = []

    def fake(pipeline, outputs, options, audio, speech, transcript, n_speakers=None):
        asked.append(n_speakers)
        return fake.answer
    monkeypatch.setattr(people_stages, "perceive_voices", fake)
    options = AnalyzeOptions(people=True)
    fake.answer = good
    assert split_joined_voices(None, faces, joined, {}, options, None, None, None) is good and asked == [2]
    assert "diarised again for 2 voices, which paired 2 faces instead of 1" in good.notes[-1]
    assert good.association.pairs == {0: 0, 1: 1} and len(joined.association.pairs) == 1  # for people_of
    fake.answer = bad
    assert split_joined_voices(None, faces, joined, {}, options, None, None, None) is joined
    assert "were not used" in joined.notes[-1]
    given = AnalyzeOptions(people=True, speakers=1)  # the user's count stands
    assert split_joined_voices(None, faces, joined, {}, given, None, None, None) is joined and asked == [2, 2]
