"""Results with people: a person column in the CSV, the people kept in JSON and JSONL."""

from __future__ import annotations

import json

import pandas as pd

from emoreason.io.results import CLIP_PERSON, InputFailure, write_results
from emoreason.result import Person, Result, Segment


def result(name: str, people: bool) -> Result:
    r = Result(input=name, duration=2.0, label="happy", scores={"happy": 0.75, "sad": 0.25}, valence=0.3,
               arousal=0.1, segments=[Segment(0.0, 2.0, "happy", {"happy": 0.75, "sad": 0.25}, text="hi")])
    if people:
        r.people = [Person("P1", face_track=0, voice=0, speaking_seconds=1.0, label="sad",
                           scores={"happy": 0.2, "sad": 0.8},
                           segments=[Segment(0.0, 1.0, "sad", {"happy": 0.2, "sad": 0.8}, text="=hi")]),
                    Person("P2", voice=1, label="happy", scores={"happy": 0.9, "sad": 0.1})]
    return r


def test_csv_has_a_person_column_when_some_result_has_people(tmp_path):
    out = tmp_path / "r.csv"
    failure = InputFailure("c.mp4", "X", "bad")
    write_results([result("a.mp4", True), result("b.mp4", False), failure], out, "csv")
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df.columns[:4]) == ["file", "person", "start", "end"]
    a = df[df.file == "a.mp4"]
    assert a.person.tolist() == [CLIP_PERSON, "P1", "P2"]
    assert a.label.tolist() == ["happy", "sad", "happy"]
    assert a[a.person == "P1"].text.iloc[0] == "'=hi"  # person rows are spreadsheet-safe too
    assert a[a.person == "P2"].voice.iloc[0] == "1" and a[a.person == "P2"].face_track.iloc[0] == ""
    assert df[df.file == "b.mp4"].person.tolist() == [CLIP_PERSON]
    assert df[df.file == "c.mp4"].error_type.tolist() == ["X"]


def test_csv_without_people_has_no_person_column(tmp_path):
    out = tmp_path / "r.csv"
    write_results([result("a.mp4", False)], out, "csv")
    assert "person" not in pd.read_csv(out).columns


def test_jsonl_and_json_carry_the_people(tmp_path):
    write_results([result("a.mp4", True), result("b.mp4", False)], tmp_path / "r.jsonl", "jsonl")
    lines = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [p["person_id"] for p in lines[0]["people"]] == ["P1", "P2"] and "people" not in lines[1]
    back = Result.from_dict(lines[0])
    assert back.people[0].label == "sad" and back.people[1].voice == 1
    write_results([result("a.mp4", True)], tmp_path / "r.json", "json")
    assert Result.from_dict(json.loads((tmp_path / "r.json").read_text())).to_dict() == lines[0]
