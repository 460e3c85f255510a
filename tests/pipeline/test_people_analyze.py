"""``analyze(..., people=True)`` through the real stages: a two-voice conversation (espeak-ng voices),
each voice one person with their own turns, words and emotion; the clip's result as without people."""

from __future__ import annotations

import shutil

import pytest
import soundfile as sf
from tests.pipeline.result_dicts import without_timings

import emoreason
from emoreason.io.demo_clip import speak
from emoreason.io.synth_conversation import make_conversation

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")

LINES = [("I cannot believe you did that to me, this is terrible.", "A"),
         ("Oh come on, it was only a joke, relax a little.", "B"),
         ("No, I am really upset about it, really.", "A"),
         ("Fine, I am sorry, I did not mean to hurt you.", "B")]



@pytest.fixture(scope="module")
def conversation(tmp_path_factory):
    voices = {"A": {"voice": "en-us"}, "B": {"voice": "en-us+f3", "speed": 150}}
    clips = [(speak(text, **voices[who]), who) for text, who in LINES]
    audio, sr, ref = make_conversation(clips, seed=0)
    path = tmp_path_factory.mktemp("people") / "conversation.wav"
    sf.write(path, audio, sr)
    return str(path), ref


@pytest.fixture(scope="module")
def results(conversation):
    path, _ = conversation
    return emoreason.analyze(path, people=True), emoreason.analyze(path)


def test_two_voices_two_people_with_their_turns_and_words(results, conversation):
    with_people, _ = results
    _, ref = conversation
    assert [(p.person_id, p.voice, p.face_track) for p in with_people.people] == [("P1", 0, None),
                                                                                     ("P2", 1, None)]
    for person, who in zip(with_people.people, ("A", "B")):
        spans = [(a, b) for a, b, s in ref if s == who]
        assert len(person.turns) == len(spans)
        for (a, b), (ra, rb) in zip(person.turns, spans):  # turn boundaries within 0.5 s
            assert abs(a - ra) < 0.5 and abs(b - rb) < 0.5
        assert person.label and person.modalities["voice"].used
    assert "upset" in with_people.people[0].transcript and "sorry" in with_people.people[1].transcript
    assert "joke" not in with_people.people[0].transcript


def test_the_clip_is_as_without_people(results):
    with_people, without = results
    d = with_people.to_dict()
    assert len(d.pop("people")) == 2
    assert any("speakers estimated" in n for n in d["provenance"].pop("people")["notes"])
    assert without_timings(d) == without_timings(without.to_dict())
