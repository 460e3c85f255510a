import json

import pytest

from emoreason.result import Evidence, ModalitySummary, Result, Segment


def make_result() -> Result:
    return Result(
        input="clip.mp4", duration=3.0, label="happy",
        scores={"neutral": 0.2, "happy": 0.7, "sad": 0.1, "angry": 0.0, "fearful": 0.0, "disgusted": 0.0,
                "surprised": 0.0},
        valence=0.5, arousal=0.3,
        modalities={"face": ModalitySummary(used=True, label="happy", scores={"happy": 1.0}, weight=1.0)},
        segments=[Segment(0.0, 1.5, "happy", {"happy": 0.8, "neutral": 0.2}, {"face": {"happy": 0.8}}, "hi"),
                  Segment(1.5, 3.0, "neutral", {"happy": 0.4, "neutral": 0.6})],
        evidence=[Evidence("face", "AU12", 0.8, 1.0, 1.4, 0.5, "lip corners pull up", supports="happy")],
        explanation="x", transcript="hi",
    )


def test_round_trip_through_json():
    r = make_result()
    d = json.loads(r.to_json())
    back = Result.from_dict(d)
    assert back.to_dict() == r.to_dict()
    assert d["schema_version"] == "1"


def test_dataframe_indexed_by_file_start_end():
    df = make_result().to_dataframe()
    assert list(df.index.names) == ["file", "start", "end"]
    assert len(df) == 2
    assert df["happy"].iloc[0] == pytest.approx(0.8)
    assert df["face_label"].iloc[0] == "happy"


def test_nan_becomes_null():
    r = make_result()
    r.valence = float("nan")
    assert r.to_dict()["valence"] is None


def test_summary_mentions_label_and_transcript():
    s = make_result().summary()
    assert "happy" in s and '"hi"' in s


def make_people_result() -> Result:
    from emoreason.result import Person

    r = make_result()
    r.people = [
        Person("P1", face_track=0, voice=1, speaking_seconds=1.2, on_screen_seconds=3.0, label="happy",
               scores={"happy": 0.9, "neutral": 0.1}, valence=0.6, arousal=0.3,
               modalities={"voice": ModalitySummary(used=True, label="happy", scores={"happy": 0.9})},
               segments=[Segment(0.0, 1.5, "happy", {"happy": 0.9, "neutral": 0.1}, {"voice": {"happy": 1.0}},
                                 "hi")],
               evidence=[Evidence("voice", "pitch", 1.2, 0.0, 1.2, 0.4, "high pitch", "z", "happy")],
               explanation="P1 sounds happy", transcript="hi", turns=[(0.0, 1.2)], association=0.8,
               thumbnail="/9j/AAAA"),
        Person("P2", face_track=1, notes=["never speaks"]),
    ]
    return r


def test_people_round_trip_through_json():
    r = make_people_result()
    d = json.loads(r.to_json())
    assert [p["person_id"] for p in d["people"]] == ["P1", "P2"]
    back = Result.from_dict(d)
    assert back.to_dict() == r.to_dict()
    assert back.people[0].turns == [(0.0, 1.2)] and back.people[0].segments[0].text == "hi"
    assert back.people[1].label is None and back.people[1].voice is None


def test_result_without_people_is_the_old_dict_and_old_json_loads():
    r = make_result()
    d = r.to_dict()
    assert "people" not in d  # schema "1" readers see exactly the fields they knew
    back = Result.from_dict(d)
    assert back.people == [] and back.to_dict() == d


def test_people_dataframe_has_a_person_column():
    df = make_people_result().people_dataframe()
    assert list(df.index.names) == ["file", "person", "start", "end"]
    assert list(df.index.get_level_values("person")) == ["P1", "P2"]
    assert df["happy"].iloc[0] == pytest.approx(0.9) and df["voice_label"].iloc[0] == "happy"
    assert df["face_track"].tolist() == [0, 1]
    assert make_result().people_dataframe().empty


def test_summary_lists_people():
    s = make_people_result().summary()
    assert "P1 [face 0, voice 1" in s and "P2 [face 1, no voice" in s and "no usable modality" in s
    assert 'said: "hi"' in s
