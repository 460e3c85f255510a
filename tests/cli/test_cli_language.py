"""``emoreason analyze --language``: a wrong code is one line and exit 2 before any work; a right one
reaches the analysis as a Whisper code."""

from __future__ import annotations

import pytest

from emoreason.cli import analyze as analyze_cmd
from emoreason.cli.main import main


def test_an_unknown_language_is_refused_with_one_line(capfd):
    assert main(["analyze", "--text", "hallo", "--language", "xx", "--no-progress"]) == 2
    err = capfd.readouterr().err
    assert "unknown language 'xx'" in err and "Traceback" not in err


def test_the_language_reaches_the_analysis(monkeypatch, capfd):
    seen = {}

    def fake(source, **kwargs):
        seen.update(kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(analyze_cmd, "analyze", fake)
    with pytest.raises(SystemExit):
        main(["analyze", "--text", "hallo", "--language", "German", "--no-progress"])
    assert seen["language"] == "German"  # checked and normalised by AnalyzeOptions inside analyze


def test_text_with_a_given_language_records_it():
    import emoreason

    r = emoreason.analyze(text="Ich bin so wütend auf dich!", language="de")
    assert r.language == "de" and r.language_probability is None
    assert "said in German" in r.explanation and "wütend" in r.explanation
