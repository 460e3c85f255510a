"""A stand-in perceiver with two people per clip (for the builder's ``people`` option): the scripted clip
of :mod:`fake_perception`, plus P1 (face and voice, the clip's scenario) and P2 (an off-screen voice that
sounds sad). Imported by name (``fake_people_perception:perceive``)."""

from __future__ import annotations

from fake_perception import perceive as perceive_clip

from emoreason.labels import CANONICAL
from emoreason.perception.base import ModalityOutput
from emoreason.result import Person

FAKE_PEOPLE_PERCEIVER = "fake_people_perception:perceive"


def perceive(path: str, subtitle: str | None, options) -> object:
    perc = perceive_clip(path, subtitle, options)
    sad = {lab: (0.7 if lab == "sad" else 0.05) for lab in CANONICAL}
    p1 = Person("P1", face_track=0, voice=0, speaking_seconds=0.4, label=perc.result.label,
                scores=dict(perc.result.scores), explanation=perc.result.explanation,
                transcript="first words", turns=[(0.1, 0.5)])
    p2 = Person("P2", voice=1, speaking_seconds=0.3, label="sad", scores=sad, transcript="second words",
                explanation="Voice: pitch low. Overall: sad (voice 100%).", turns=[(0.6, 0.9)])
    perc.result.people = [p1, p2]
    prosody = perc.outputs["voice"].series["prosody"]
    voice2 = ModalityOutput("voice", True, scores=sad, series={"prosody": prosody})
    perc.people_outputs = {"P1": dict(perc.outputs),
                           "P2": {"face": ModalityOutput.unusable("face", "not seen"), "voice": voice2}}
    return perc
