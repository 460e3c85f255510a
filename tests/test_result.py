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
