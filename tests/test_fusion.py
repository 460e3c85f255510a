import pytest

from emoreason.errors import NoUsableModalityError
from emoreason.fusion import FusionConfig, fuse, segment_bounds
from emoreason.labels import CANONICAL
from emoreason.perception.base import ModalityOutput, TimedScores

EQUAL = FusionConfig(priors={"face": 1, "voice": 1, "text": 1},
                     temperatures={"face": 1, "voice": 1, "text": 1})


def onehot(label, p=0.9):
    rest = (1 - p) / (len(CANONICAL) - 1)
    return {lab: (p if lab == label else rest) for lab in CANONICAL}


def out(mod, label, reliability=1.0, timeline=None):
    s = onehot(label)
    return ModalityOutput(mod, True, scores=s, reliability=reliability,
                          timeline=timeline or [TimedScores(0.0, 4.0, s)])


def test_reliability_decides_between_disagreeing_modalities():
    f = fuse({"face": out("face", "happy", 0.9), "voice": out("voice", "angry", 0.3)}, 4.0, EQUAL)
    assert max(f.scores, key=f.scores.get) == "happy"
    assert f.shares["face"] == pytest.approx(0.75)
    assert sum(f.scores.values()) == pytest.approx(1.0)


def test_unusable_modality_drops_out():
    f = fuse({"face": ModalityOutput.unusable("face", "no face"), "voice": out("voice", "sad")}, 4.0, EQUAL)
    assert set(f.shares) == {"voice"}
    assert max(f.scores, key=f.scores.get) == "sad"


def test_nothing_usable_is_an_error_naming_the_reasons():
    with pytest.raises(NoUsableModalityError, match="no face"):
        fuse({"face": ModalityOutput.unusable("face", "no face")}, 2.0, EQUAL)


def test_temperature_flattens_an_overconfident_modality():
    sharp = FusionConfig(priors={"face": 1, "voice": 1}, temperatures={"face": 3.0, "voice": 1.0})
    a = fuse({"face": out("face", "happy"), "voice": out("voice", "angry")}, 4.0, sharp)
    assert a.scores["angry"] > a.scores["happy"]


def test_segments_follow_speech_and_windows_cap_at_ten_seconds():
    voice = out("voice", "angry", timeline=[TimedScores(2.0, 5.0, onehot("angry")),
                                             TimedScores(30.0, 33.0, onehot("sad"))])
    bounds = segment_bounds({"voice": voice}, 40.0)
    assert bounds[0] == (0.0, 2.0)
    assert (2.0, 5.0) in bounds
    assert all(e - s <= 10.0 + 1e-9 for s, e in bounds)
    assert bounds[-1][1] == 40.0
    assert all(b[0] == pytest.approx(a[1]) for a, b in zip(bounds, bounds[1:]))  # contiguous
    f = fuse({"voice": voice}, 40.0, EQUAL)
    labels = {(round(s.start), round(s.end)): s.label for s in f.segments}
    assert labels[(2, 5)] == "angry" and labels[(30, 33)] == "sad"
