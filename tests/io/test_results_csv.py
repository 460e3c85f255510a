"""CSV files emoreason writes are safe to open in a spreadsheet (no formula injection), numbers intact."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pandas as pd
import pytest

from emoreason.io.results import InputFailure, from_spreadsheet_safe, spreadsheet_safe, write_results
from emoreason.result import Result, Segment

HOSTILE = ['=HYPERLINK("http://evil","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def result(name: str, texts: list[str]) -> Result:
    segs = [Segment(float(i), float(i + 1), "happy", {"happy": 0.75, "sad": 0.25}, text=t)
            for i, t in enumerate(texts)]
    return Result(input=name, duration=len(texts), label="happy", scores={"happy": 0.75, "sad": 0.25},
                  valence=-0.3, arousal=0.1, segments=segs)


def test_security_csv_formula_injection_neutralised(tmp_path):
    out = tmp_path / "r.csv"
    texts = [*HOSTILE, "-0.3", "plain words", "'=already quoted", "1e-5"]
    write_results([result("=evil().mp4", texts), InputFailure("@bad.mp4", "UnsupportedFormatError",
                                                                "=cannot be decoded")], out, "csv")
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cells = [v for row in rows for v in row.values() if v]
    dangerous = [v for v in cells if v[0] in "=+-@\t\r" and v not in ("-0.3",)]
    assert dangerous == [], dangerous
    assert [r["text"] for r in rows[:len(texts)]] == ["'" + t.replace("\r", "\n") for t in HOSTILE] + [
        "-0.3", "plain words", "''=already quoted", "1e-5"]  # a lone CR (which ends a row) becomes LF
    assert len(rows) == len(texts) + 1
    assert rows[0]["file"] == "'=evil().mp4"
    assert rows[-1]["file"] == "'@bad.mp4" and rows[-1]["error_message"] == "'=cannot be decoded"
    table = pd.read_csv(out)
    assert table["happy"].dtype.kind == "f" and table["start"].dtype.kind == "f"  # numbers stay numbers


def test_security_csv_neutralising_round_trips_and_spares_numbers():
    for text in [*HOSTILE, "'=x", "''+y", "-0.3", "+12", ".5", "-1e-3", "hello", "", "'quoted'"]:
        assert from_spreadsheet_safe(spreadsheet_safe(text)) == text
    for number in ("-0.3", "+12", "-1e-3", "-.5"):
        assert spreadsheet_safe(number) == number
    assert spreadsheet_safe(-0.3) == -0.3 and spreadsheet_safe(None) is None
    assert spreadsheet_safe("-1-2") == "'-1-2"


def test_good_csv_unchanged(tmp_path):
    r = result("clip.mp4", ["hello there", "fine, thanks"])
    write_results([r], tmp_path / "r.csv", "csv")
    expected = r.to_dataframe().to_csv()
    assert (tmp_path / "r.csv").read_text(encoding="utf-8") == expected


def test_builder_transcription_csv_stays_exact(tmp_path):
    # MERR's transcription_en_all.csv is an interchange file read by Emotion-LLaMA's loader, not a
    # spreadsheet: its subtitles are written exactly, formula-like or not (docs/security.md says so).
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dataset_builder"))
    from test_builder_writers import record

    from emoreason.dataset_builder.writers import write_merr
    from emoreason.emollm.dataset import read_subtitles

    subtitles = ["=cmd|' /C calc'!A0", "- Where are you going?", "-0.5", "hi"]
    records = [record(f"c{i}", "happy", subtitle=s) for i, s in enumerate(subtitles)]
    write_merr(records, tmp_path)
    path = tmp_path / "transcription_en_all.csv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["sentence"] for r in rows] == subtitles
    assert read_subtitles(path) == {f"c{i}": s for i, s in enumerate(subtitles)}


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_outputs_keep_text_as_is(tmp_path, fmt):
    write_results([result("=evil.mp4", HOSTILE)], tmp_path / f"r.{fmt}", fmt)
    assert "'=HYPERLINK" not in (tmp_path / f"r.{fmt}").read_text()  # only CSV cells are quoted
