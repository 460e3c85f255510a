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
