"""``emoreason analyze --people --speakers N``: the options reach the analysis, bad ones stop before any
work with one line and exit 2."""

from __future__ import annotations

import pytest

from emoreason.cli import analyze as analyze_cmd
from emoreason.cli.main import main
from emoreason.result import Person, Result


@pytest.fixture
def calls(monkeypatch) -> list[dict]:
    seen: list[dict] = []

    def fake(src, **kwargs):
        seen.append(kwargs)
        r = Result(input=str(src), duration=1.0, label="happy", scores={"happy": 1.0}, valence=0.5,
                   arousal=0.2)
        if kwargs.get("people"):
            r.people = [Person("P1", face_track=0, voice=0, speaking_seconds=1.0, label="happy",
                               scores={"happy": 1.0})]
        return r
    monkeypatch.setattr(analyze_cmd, "analyze", fake)
    return seen


@pytest.mark.parametrize("argv, message", [
    (["--speakers", "0"], "speakers must be between 1 and 20"),
    (["--people", "--speakers", "-1"], "speakers must be between 1 and 20"),
    (["--people", "--model", "runs/x"], "no per-person path"),
    (["b.wav", "--people", "--same-speaker"], "do not go together"),
])
def test_bad_people_options_exit_2_before_any_work(argv, message, calls, capfd):
    assert main(["analyze", "a.wav", *argv, "--no-progress"]) == 2
    err = capfd.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert calls == []


def test_people_and_speakers_reach_the_analysis(tmp_path, calls, capfd):
    assert main(["analyze", "a.wav", "--speakers", "2", "--no-progress"]) == 0
    assert calls[-1]["people"] is True and calls[-1]["speakers"] == 2
    assert "P1 [face 0, voice 0" in capfd.readouterr().out
    assert main(["analyze", "a.wav", "--people", "-o", str(tmp_path / "r.csv"), "--no-progress"]) == 0
    assert calls[-1]["people"] is True and calls[-1]["speakers"] is None
    assert "person" in (tmp_path / "r.csv").read_text().splitlines()[0]
    assert main(["analyze", "a.wav", "--no-progress"]) == 0
    assert "people" not in calls[-1] and "speakers" not in calls[-1]  # as before --people existed
