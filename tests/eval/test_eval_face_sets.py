"""The ferplus and image_folder adapters on tiny trees written here (real PNG files, synthetic votes)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from emoreason.errors import ConfigError, InputNotFoundError
from emoreason.eval.datasets import get_adapter
from emoreason.eval.datasets.ferplus import majority_label

HEADER = "path,majority,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"


def png(path: Path, value: int = 128, size: int = 48) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((size, size), value, np.uint8))
    return path


@pytest.fixture
def ferplus_root(tmp_path: Path) -> Path:
    rows = {
        "a": "happiness,0,8,1,0,0,0,0,0,1,0",  # clear majority
        "b": "neutral,5,5,0,0,0,0,0,0,0,0",  # tie: no majority (the CSV's arg-max says neutral)
        "c": "NF,0,0,0,0,0,0,0,0,0,10",  # not a face
        "d": "neutral,4,1,1,1,1,1,1,0,0,0",  # 4 of 4 after dropping single votes: neutral
        "e": "contempt,2,0,0,0,0,0,0,7,1,0",  # contempt: no canonical label
        "f": "unknown,3,0,0,0,0,0,0,0,6,1",  # unknown
        "g": "sadness,0,0,0,6,3,0,0,0,0,1",  # sad, with votes for angry
        "h": "fear,2,0,2,0,0,0,3,0,0,3",  # 3 of 10: no majority
    }
    lines = [HEADER]
    for name, rest in rows.items():
        png(tmp_path / "valid" / f"{name}.png")
        lines.append(f"valid/{name}.png,{rest}\n")
    lines.append("valid/missing.png,happiness,0,10,0,0,0,0,0,0,0,0\n")
    (tmp_path / "valid_labels.csv").write_text("".join(lines), encoding="utf-8")
    png(tmp_path / "train" / "t.png")
    (tmp_path / "train_labels.csv").write_text(HEADER + "train/t.png,anger,0,0,0,0,9,1,0,0,0,0\n",
                                               encoding="utf-8")
    return tmp_path


def test_ferplus_majority_rule_and_exclusions(ferplus_root):
    data = get_adapter("ferplus").load(ferplus_root)
    assert {it.id: it.label for it in data.items} == {"a.png": "happy", "d.png": "neutral", "g.png": "sad"}
    assert data.split == "valid" and data.modalities == ("face",)
    no_majority = "no majority (FER+ rule: > half of the votes after dropping single votes)"
    assert data.excluded == {no_majority: 2, "no canonical label: nf": 1, "no canonical label: contempt": 1,
                             "no canonical label: unknown": 1, "media file missing": 1}
    g = next(it for it in data.items if it.id == "g.png")
    assert g.meta["votes"] == {"neutral": 0, "happy": 0, "surprised": 0, "sad": 6, "angry": 3,
                               "disgusted": 0, "fearful": 0}
    assert g.meta["other_votes"] == {"contempt": 0, "unknown": 0, "NF": 1}
    assert g.path.is_file()
    train = get_adapter("fer+").load(ferplus_root / "train_labels.csv", "train")
    assert [(it.id, it.label) for it in train.items] == [("t.png", "angry")]


def test_ferplus_majority_label_rule():
    def votes(**kw):
        out = dict.fromkeys(("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
                             "contempt", "unknown", "NF"), 0)
        out.update(kw)
        return out

    assert majority_label(votes(neutral=5, happiness=5)) is None
    assert majority_label(votes(neutral=6, happiness=4)) == "neutral"
    assert majority_label(votes(anger=1, fear=1, sadness=1)) is None  # every vote dropped
    assert majority_label(votes(anger=3, fear=1, sadness=1, happiness=1, neutral=2)) == "anger"  # 3 of 5


def test_ferplus_original_release_layout(tmp_path):
    png(tmp_path / "FER2013Valid" / "fer1.png")
    png(tmp_path / "FER2013Train" / "fer0.png")
    (tmp_path / "fer2013new.csv").write_text(
        "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"
        "Training,fer0.png,10,0,0,0,0,0,0,0,0,0\n"
        "PublicTest,fer1.png,0,0,9,0,0,0,0,0,1,0\n"
        "PublicTest,,0,0,0,0,0,0,0,0,0,10\n", encoding="utf-8")
    data = get_adapter("ferplus").load(tmp_path)
    assert [(it.id, it.label) for it in data.items] == [("fer1.png", "surprised")]
    assert sum(data.excluded.values()) == 1


def test_ferplus_user_mistakes(tmp_path, ferplus_root):
    with pytest.raises(InputNotFoundError, match="valid_labels.csv"):
        get_adapter("ferplus").load(tmp_path / "nope")
    with pytest.raises(ConfigError, match="unknown split"):
        get_adapter("ferplus").load(ferplus_root, "test")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "valid_labels.csv").write_text("path,neutral\nx.png,3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="missing column"):
        get_adapter("ferplus").load(bad)


@pytest.fixture
def folder_root(tmp_path: Path) -> Path:
    png(tmp_path / "Happiness" / "h1.png")
    png(tmp_path / "happy" / "person" / "h2.jpg")
    png(tmp_path / "anger" / "a1.png")
    png(tmp_path / "contempt" / "c1.png")
    (tmp_path / "anger" / "notes.txt").write_text("x", encoding="utf-8")
    png(tmp_path / ".cache" / "x.png")
    return tmp_path


def test_image_folder_aliases(folder_root):
    data = get_adapter("image_folder").load(folder_root)
    assert {it.id: it.label for it in data.items} == {
        "Happiness/h1.png": "happy", "happy/person/h2.jpg": "happy", "anger/a1.png": "angry"}
    assert data.excluded == {"no canonical label: contempt": 1, "not an image (by extension)": 1}
    assert data.modalities == ("face",)


def test_image_folder_unknown_folder_names_are_an_error(folder_root):
    png(folder_root / "bored" / "b.png")
    png(folder_root / "misc" / "m.png")
    with pytest.raises(ConfigError, match="'bored', 'misc'.*name each folder one of"):
        get_adapter("image-folder").load(folder_root)


def test_image_folder_named_label_set(tmp_path):
    png(tmp_path / "sadness" / "s.png")
    png(tmp_path / "contempt" / "c.png")
    data = get_adapter("image_folder", label_set="ck+").load(tmp_path)
    assert [(it.id, it.label) for it in data.items] == [("sadness/s.png", "sad")]
    png(tmp_path / "joy" / "j.png")  # a MELD spelling, not a CK+ label
    with pytest.raises(ConfigError, match="'joy'.*not ck\\+ labels"):
        get_adapter("image_folder", label_set="ck+").load(tmp_path)


def test_image_folder_empty_or_missing_root(tmp_path):
    with pytest.raises(InputNotFoundError):
        get_adapter("image_folder").load(tmp_path / "nope")
    with pytest.raises(ConfigError, match="no class folders"):
        get_adapter("image_folder").load(tmp_path)
    (tmp_path / "sad").mkdir()
    with pytest.raises(ConfigError, match="no usable items"):
        get_adapter("image_folder").load(tmp_path)
