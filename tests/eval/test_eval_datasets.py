"""Every adapter on a tiny fake tree in its corpus' official layout (see tests/eval/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emoreason.errors import ConfigError, EmoreasonError, InputNotFoundError
from emoreason.eval.datasets import DATASET_NAMES, DatasetAdapter, get_adapter


def labels(data):
    return {it.id: it.label for it in data.items}


def test_registry_names_and_protocol():
    for name in DATASET_NAMES:
        adapter = get_adapter(name)
        assert isinstance(adapter, DatasetAdapter)
        assert adapter.layout.strip(), f"{name} documents no layout"
    with pytest.raises(ConfigError, match="unknown dataset"):
        get_adapter("affectnet")
    with pytest.raises(ConfigError, match="only to --dataset csv"):
        get_adapter("meld", label_set="meld")


def test_ravdess_codes(ravdess_tree):
    data = get_adapter("ravdess").load(ravdess_tree)
    assert labels(data) == {
        "03-01-01-01-01-01-01.wav": "neutral",
        "03-01-02-01-02-02-01.wav": "neutral",
        "03-01-05-02-01-01-01.wav": "angry",
        "02-01-07-01-01-01-02.mp4": "disgusted",
        "03-01-08-02-02-01-02.wav": "surprised",
    }
    assert data.excluded == {"file name is not a RAVDESS code": 1}
    calm = next(it for it in data.items if it.source_label == "calm")
    assert calm.meta["statement"] == "Dogs are sitting by the door" and calm.meta["repetition"] == 2
    assert next(it for it in data.items if it.id.startswith("02-")).meta["media"] == "video-only"
    assert data.modalities == ("face", "voice")
    only2 = get_adapter("ravdess").load(ravdess_tree, "actors:2")
    assert {it.speaker for it in only2.items} == {"Actor_02"}


def test_ravdess_shared_labels_csv(ravdess_shared):
    data = get_adapter("ravdess").load(ravdess_shared)
    assert [it.label for it in data.items] == ["neutral", "neutral", "angry", "disgusted"]
    assert data.modalities == ("voice",)
    held_out = get_adapter("ravdess").load(ravdess_shared / "labels.csv", "actors:19-24")
    assert [it.speaker for it in held_out.items] == ["Actor_19", "Actor_20"]
    with pytest.raises(ConfigError):
        get_adapter("ravdess").load(ravdess_shared, "odd")


def test_ravdess_missing_media_is_counted(ravdess_shared):
    next((ravdess_shared / "audio" / "Actor_19").iterdir()).unlink()
    data = get_adapter("ravdess").load(ravdess_shared)
    assert len(data.items) == 3 and data.excluded == {"media file missing": 1}


def test_crema_d_acted_and_votes(crema_tree):
    acted = get_adapter("crema-d").load(crema_tree)
    assert labels(acted) == {
        "1001_DFA_ANG_XX": "angry",
        "1001_IEO_HAP_HI": "happy",
        "1002_TIE_SAD_LO": "sad",
        "1002_ITS_NEU_XX": "neutral",
    }
    assert acted.items[0].path.suffix == ".flv"  # video preferred when present
    assert next(it for it in acted.items if it.id == "1002_ITS_NEU_XX").path.suffix == ".wav"
    voice = get_adapter("crema-d").load(crema_tree, "voice")
    assert labels(voice) == {
        "1001_DFA_ANG_XX": "angry",
        "1002_TIE_SAD_LO": "neutral",
        "1002_ITS_NEU_XX": "neutral",
    }
    assert voice.excluded == {"crowd vote tied or unknown (VoiceVote)": 1}
    assert all(it.path.suffix == ".wav" for it in voice.items)
    face = get_adapter("crema-d").load(crema_tree, "face")
    assert labels(face)["1002_TIE_SAD_LO"] == "sad"
    assert face.excluded == {"no video file for this split": 1}
    with pytest.raises(ConfigError, match="unknown split"):
        get_adapter("crema-d").load(crema_tree, "audio")


def test_meld_text_only_and_with_clips(meld_tree):
    data = get_adapter("meld").load(meld_tree)  # default split dev
    assert labels(data) == {"dia0_utt0": "sad", "dia0_utt1": "surprised", "dia1_utt0": "happy"}
    assert data.modalities == ("text",)
    assert all(it.path is None and it.text for it in data.items)
    assert "text-only" in data.notes[0]
    with pytest.raises(InputNotFoundError):
        get_adapter("meld").load(meld_tree, "test")


def test_dialogue_context_is_the_earlier_turns_of_the_same_dialogue(meld_tree, emorynlp_tree):
    from emoreason.eval.datasets.base import dialogue_context

    meld = {it.id: it.meta["context"] for it in get_adapter("meld").load(meld_tree).items}
    assert meld == {"dia0_utt0": [], "dia0_utt1": ["Oh my God, he's lost it."], "dia1_utt0": []}
    emory = {it.id: it.meta["context"] for it in get_adapter("emorynlp").load(emorynlp_tree).items}
    assert emory["s1_e15_c1_u4"] == ["Coffee.", "I am so happy!", "Relax."]  # an excluded turn still counts
    train = {it.id: it.meta["context"] for it in get_adapter("emorynlp").load(emorynlp_tree, "train").items}
    assert train == {"s01_e01_c01_u001": [], "s01_e01_c01_u003": ["There's nothing to tell!", "C'mon!"]}
    rows = [{"d": "a", "t": "10", "x": "late"}, {"d": "a", "t": "2", "x": "early"},
            {"d": "b", "t": "1", "x": "b1"}, {"d": "a", "t": "3", "x": "mid"},
            {"d": "a", "t": "11", "x": "last"}]
    ctx = dialogue_context(rows, lambda r: r["d"], lambda r: r["t"], lambda r: r["x"], turns=2)
    assert ctx == [["early", "mid"], [], [], ["early"], ["mid", "late"]]  # numeric turn order, not file order


def test_meld_clip_naming(meld_with_clips):
    data = get_adapter("meld").load(meld_with_clips, "dev")
    assert [it.path.name for it in data.items] == ["dia0_utt0.mp4", "dia0_utt1.mp4"]
    assert data.excluded == {"media file missing": 1}
    assert data.modalities == ("face", "voice", "text")


def test_emorynlp_csv_and_json(emorynlp_tree):
    dev = get_adapter("emorynlp").load(emorynlp_tree)
    assert [it.label for it in dev.items] == ["neutral", "happy", "angry"]
    assert dev.excluded == {"no canonical label: peaceful": 1}
    assert dev.items[0].speaker == "Rachel Green" and dev.items[0].id == "s1_e15_c1_u1"
    train = get_adapter("emorynlp").load(emorynlp_tree, "train")
    assert labels(train) == {"s01_e01_c01_u001": "neutral", "s01_e01_c01_u003": "fearful"}
    assert train.excluded == {"no canonical label: powerful": 1}


def test_iemocap_4class_and_6class(iemocap_tree):
    four = get_adapter("iemocap").load(iemocap_tree)
    assert labels(four) == {
        "Ses01F_impro01_F000": "neutral",
        "Ses01F_impro01_F001": "happy",
        "Ses01F_impro01_M002": "angry",
        "Ses05M_script01_1_F000": "sad",
    }
    assert four.excluded == {"outside the 4class protocol: fru": 1, "outside the 4class protocol: xxx": 1}
    exc = four.items[1]
    assert exc.source_label == "exc" and exc.text == "We did it!"
    assert exc.valence == pytest.approx(0.5) and exc.arousal == pytest.approx(0.5)
    assert exc.speaker == "Ses01F"
    six = get_adapter("iemocap").load(iemocap_tree, "6class")
    assert six.excluded == {"no canonical label: fru": 1, "outside the 6class protocol: xxx": 1}
    s5 = get_adapter("iemocap").load(iemocap_tree, "4class-session5")
    assert list(labels(s5)) == ["Ses05M_script01_1_F000"]
    with pytest.raises(ConfigError):
        get_adapter("iemocap").load(iemocap_tree, "5class")


def test_mer2023_csv_layout(mer2023_tree):
    data = get_adapter("mer2023").load(mer2023_tree)
    assert labels(data) == {"sample_00000001": "fearful", "sample_00000002": "happy"}
    assert data.excluded == {"media file missing": 1}
    first = data.items[0]
    assert first.valence == pytest.approx(-0.4) and first.text == "I am very worried"
    assert data.items[1].path.suffix == ".avi"
    test3 = get_adapter("mer2023").load(mer2023_tree, "test3")
    assert test3.items[0].valence is None  # -10 marks "no valence"


def test_mer2023_refuses_pickled_npz(tmp_path):
    import numpy as np

    root = tmp_path / "processed"
    (root / "video").mkdir(parents=True)
    np.savez(root / "label-6way.npz", train_corpus=np.array({"a": {"emo": "happy"}}, dtype=object))
    with pytest.raises(ConfigError, match="pickled"):
        get_adapter("mer2023").load(root)
    np.savez(
        root / "label-6way.npz",
        train_names=np.array(["a", "b"]),
        train_emos=np.array(["happy", "doubt"]),
        train_vals=np.array([2.5, 0.0]),
    )
    (root / "video" / "a.mp4").write_bytes(b"x")
    (root / "video" / "b.mp4").write_bytes(b"x")
    data = get_adapter("mer2023").load(root)
    assert labels(data) == {"a": "happy"} and data.excluded == {"unrecognised label: doubt": 1}


def test_dfew_split_csv(dfew_tree):
    data = get_adapter("dfew").load(dfew_tree)
    assert labels(data) == {"00001": "happy", "00002": "surprised", "00003": "fearful"}
    assert data.excluded == {"unrecognised label: 9": 1}
    with pytest.raises(InputNotFoundError):
        get_adapter("dfew").load(dfew_tree, "test2")
    with pytest.raises(ConfigError):
        get_adapter("dfew").load(dfew_tree, "val1")


def test_mafw_split_list(mafw_tree):
    data = get_adapter("mafw").load(mafw_tree, "test1")
    assert labels(data) == {"00025": "angry", "00026": "happy"}
    assert data.excluded == {"no canonical label: anxiety": 1, "no canonical label: contempt": 1}


def test_emodb_codes(emodb_tree):
    data = get_adapter("emodb").load(emodb_tree)
    assert labels(data) == {"03a01Fa": "happy", "03a01Wa": "angry", "16a05Tc": "sad"}
    assert data.excluded == {"no canonical label: boredom": 1, "file name is not an EmoDB code": 1}
    assert data.items[0].speaker == "03"


def test_emodb_flac_in_an_audio_folder(tmp_path):
    root = tmp_path / "emodb"
    (root / "audio").mkdir(parents=True)
    for name in ("03a01Fa.flac", "08b02Lb.flac", "labels.csv"):
        (root / "audio" / name).write_bytes(b"\0" * 16)
    data = get_adapter("emodb").load(root)
    assert labels(data) == {"03a01Fa": "happy"}
    assert data.excluded == {"no canonical label: boredom": 1}


def test_ckplus_official_and_folders(ckplus_tree, ckplus_folders):
    data = get_adapter("ck+").load(ckplus_tree)
    assert labels(data) == {"S005_001": "disgusted"}
    assert data.items[0].path.name == "S005_001_00000003.png"  # the peak (last) frame
    assert data.excluded == {
        "no canonical label: contempt": 1,
        "sequence without an emotion label (not validated)": 1,
    }
    folders = get_adapter("ckplus").load(ckplus_folders)
    assert sorted(it.label for it in folders.items) == ["angry", "angry", "happy"]
    assert folders.excluded == {"no canonical label: contempt": 1}


def test_facial_expressions_both_layouts(facial_expressions_shared, facial_expressions_repo):
    shared = get_adapter("facial_expressions").load(facial_expressions_shared)
    assert labels(shared) == {"a.jpg": "angry", "b.jpg": "happy"}
    assert shared.excluded == {"no canonical label: contempt": 1}
    repo = get_adapter("facial_expressions").load(facial_expressions_repo)
    assert sorted(it.label for it in repo.items) == ["angry", "surprised"]
    assert repo.excluded == {"media file missing": 1}


def test_csv_manifest(manifest):
    data = get_adapter("csv").load(manifest)
    assert [(it.id, it.label) for it in data.items] == [
        ("clips/a.wav", "happy"),
        ("clips/b.mp4", "angry"),
        ("line4", "sad"),
    ]
    assert data.excluded == {"media file missing": 1, "unrecognised label: boredom": 1}
    b = data.items[1]
    assert b.text == "Leave me alone!" and b.valence == pytest.approx(-0.6) and b.reference_explanation
    assert data.items[2].path is None
    assert data.modalities == ("face", "voice", "text")


def test_csv_manifest_with_named_label_set(tmp_path):
    m = tmp_path / "m.csv"
    m.write_text("path,emotion,transcript\n,joy,yay\n,happy,hm\n", encoding="utf-8")
    data = get_adapter("csv", label_set="meld").load(m)
    assert [it.label for it in data.items] == ["happy"]  # "happy" is not a MELD label
    assert data.excluded == {"unrecognised label: happy": 1}


@pytest.mark.parametrize(
    "content,match",
    [
        ("file,label\na.wav,happy\n", "missing column"),
        ("path,mood\na.wav,happy\n", "label' or 'emotion"),
        ("path,label,valence,transcript\n,happy,3,hi\n", "outside -1..1"),
        ("path,label\n,happy\n", "no usable items"),
    ],
)
def test_csv_manifest_user_mistakes(tmp_path, content, match):
    m = tmp_path / "bad.csv"
    m.write_text(content, encoding="utf-8")
    with pytest.raises(EmoreasonError, match=match):
        get_adapter("csv").load(m)


def test_wrong_roots_raise_clear_errors(tmp_path):
    with pytest.raises(InputNotFoundError):
        get_adapter("meld").load(tmp_path / "nope")
    with pytest.raises(InputNotFoundError):
        get_adapter("csv").load(tmp_path / "nope.csv")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="no usable items"):
        get_adapter("emodb").load(empty)


def test_data_hash_and_limit(meld_tree):
    data = get_adapter("meld").load(meld_tree)
    same = get_adapter("meld").load(meld_tree)
    assert data.data_hash() == same.data_hash()
    two = data.limited(2)
    assert len(two.items) == 2 and two.data_hash() != data.data_hash()
    assert any("--limit 2" in n for n in two.notes)
    assert data.limited(10) is data


def test_shared_folders_when_present():
    root = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
    if not (root / "meld" / "dev_sent_emo.csv").is_file():
        pytest.skip("shared data folder not present")
    meld = get_adapter("meld").load(root / "meld", "dev")
    assert len(meld.items) == 1109 and meld.n_excluded == 0
    emory = get_adapter("emorynlp").load(root / "emorynlp", "dev")
    assert len(emory.items) + emory.n_excluded == 954


def test_sample_is_seeded_and_keeps_order(emorynlp_tree):
    data = get_adapter("emorynlp").load(emorynlp_tree)
    a, b, c = data.sampled(2, seed=0), data.sampled(2, seed=0), data.sampled(2, seed=5)
    assert [it.id for it in a.items] == [it.id for it in b.items]
    ids = [it.id for it in data.items]
    assert [ids.index(it.id) for it in c.items] == sorted(ids.index(it.id) for it in c.items)
    assert any("--sample 2 (seed 0)" in n for n in a.notes)
    assert data.sampled(None) is data and data.sampled(99) is data
