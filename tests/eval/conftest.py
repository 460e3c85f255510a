"""Tiny fake corpora in each official layout (file names and CSV columns as the corpora ship them).

Media files are placeholders (a few bytes): the adapters read names and label files, not media.
Layout sources are named in each adapter's docstring.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def touch(path: Path, data: bytes = b"\0" * 16) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def ravdess_tree(tmp_path: Path) -> Path:
    root = tmp_path / "Audio_Speech_Actors_01-24"
    # actor 1: neutral, calm, angry strong; actor 2: disgust (video-only mp4), surprised
    for name in ("03-01-01-01-01-01-01.wav", "03-01-02-01-02-02-01.wav", "03-01-05-02-01-01-01.wav"):
        touch(root / "Actor_01" / name)
    for name in ("02-01-07-01-01-01-02.mp4", "03-01-08-02-02-01-02.wav"):
        touch(root / "Actor_02" / name)
    touch(root / "Actor_02" / "notes.wav")  # not a RAVDESS code: excluded and counted
    return root


@pytest.fixture
def ravdess_shared(tmp_path: Path) -> Path:
    root = tmp_path / "ravdess_speech"
    rows = ["path,emotion,intensity,statement,repetition,actor,sex"]
    for actor, code, emo in (
        (1, "01", "neutral"),
        (1, "02", "calm"),
        (19, "05", "angry"),
        (20, "07", "disgust"),
    ):
        rel = f"audio/Actor_{actor:02d}/03-01-{code}-01-01-01-{actor:02d}.flac"
        touch(root / rel)
        rows.append(
            f"{rel},{emo},normal,Kids are talking by the door,1,{actor},{'male' if actor % 2 else 'female'}"
        )
    write(root / "labels.csv", "\n".join(rows) + "\n")
    return root


@pytest.fixture
def crema_tree(tmp_path: Path) -> Path:
    root = tmp_path / "CREMA-D"
    names = ["1001_DFA_ANG_XX", "1001_IEO_HAP_HI", "1002_TIE_SAD_LO", "1002_ITS_NEU_XX"]
    for n in names:
        touch(root / "AudioWAV" / f"{n}.wav")
    for n in names[:3]:
        touch(root / "VideoFlash" / f"{n}.flv")
    write(
        root / "processedResults" / "summaryTable.csv",
        ",FileName,VoiceVote,VoiceLevel,FaceVote,FaceLevel,MultiModalVote,MultiModalLevel\n"
        "1,1001_DFA_ANG_XX,A,75,A,75,A,75\n"
        "2,1001_IEO_HAP_HI,H:N,50,H,80,H,80\n"  # tied voice vote
        "3,1002_TIE_SAD_LO,N,60,S,40,S,50\n"
        "4,1002_ITS_NEU_XX,N,90,N,90,N,90\n",
    )
    return root


MELD_HEADER = (
    "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n"
)


@pytest.fixture
def meld_tree(tmp_path: Path) -> Path:
    root = tmp_path / "MELD.Raw"
    write(
        root / "dev_sent_emo.csv",
        MELD_HEADER
        + '1,"Oh my God, he\'s lost it.",Phoebe,sadness,negative,0,0,4,7,"00:20:57,256","00:21:00,049"\n'
        + '2,What?,Monica,surprise,negative,0,1,4,7,"00:21:01,927","00:21:03,261"\n'
        + '3,That is great news!,Joey,joy,positive,1,0,4,7,"00:21:04,000","00:21:05,000"\n',
    )
    return root


@pytest.fixture
def meld_with_clips(meld_tree: Path) -> Path:
    touch(meld_tree / "dev_splits_complete" / "dia0_utt0.mp4")
    touch(meld_tree / "dev_splits_complete" / "dia0_utt1.mp4")  # dia1_utt0.mp4 missing on purpose
    return meld_tree


@pytest.fixture
def emorynlp_tree(tmp_path: Path) -> Path:
    root = tmp_path / "emorynlp"
    write(
        root / "emorynlp_dev_final.csv",
        "Utterance,Speaker,Emotion,Scene_ID,Utterance_ID,Season,Episode,Start_Time,End_Time\n"
        "Coffee.,['Rachel Green'],Neutral,1,1,1,15,00:00:03.795,00:00:05.004\n"
        "I am so happy!,['Joey Tribbiani'],Joyful,1,2,1,15,00:00:05.171,00:00:07.423\n"
        "Relax.,['Ross Geller'],Peaceful,1,3,1,15,00:00:07.5,00:00:08.0\n"
        "Get out!,['Monica Geller'],Mad,1,4,1,15,00:00:08.1,00:00:09.0\n",
    )
    doc = {
        "episodes": [
            {
                "episode_id": "s01_e01",
                "scenes": [
                    {
                        "scene_id": "s01_e01_c01",
                        "utterances": [
                            {
                                "utterance_id": "s01_e01_c01_u001",
                                "speakers": ["Monica Geller"],
                                "transcript": "There's nothing to tell!",
                                "emotion": "Neutral",
                            },
                            {
                                "utterance_id": "s01_e01_c01_u002",
                                "speakers": ["Joey Tribbiani"],
                                "transcript": "C'mon!",
                                "emotion": "Powerful",
                            },
                            {
                                "utterance_id": "s01_e01_c01_u003",
                                "speakers": ["Chandler Bing"],
                                "transcript": "Oh no.",
                                "emotion": "Scared",
                            },
                        ],
                    }
                ],
            }
        ]
    }
    write(root / "json" / "emotion-detection-trn.json", json.dumps(doc))
    return root


@pytest.fixture
def iemocap_tree(tmp_path: Path) -> Path:
    root = tmp_path / "IEMOCAP_full_release"
    s1 = root / "Session1"
    write(
        s1 / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt",
        "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
        "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\n"
        "C-E2:\tNeutral;\t()\n"
        "[10.0100 - 11.3925]\tSes01F_impro01_F001\texc\t[4.0000, 4.0000, 3.0000]\n"
        "[14.8872 - 18.0175]\tSes01F_impro01_M001\tfru\t[2.0000, 3.5000, 3.0000]\n"
        "[19.0 - 20.5]\tSes01F_impro01_M002\tang\t[1.5000, 4.5000, 4.0000]\n"
        "[21.0 - 22.0]\tSes01F_impro01_M003\txxx\t[2.5000, 3.0000, 3.0000]\n",
    )
    write(
        s1 / "dialog" / "transcriptions" / "Ses01F_impro01.txt",
        "Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.\n"
        "Ses01F_impro01_F001 [010.0100-011.3925]: We did it!\n"
        "Ses01F_impro01_M002 [019.0000-020.5000]: Stop that now.\n",
    )
    for turn in ("F000", "F001", "M001", "M002", "M003"):
        touch(s1 / "sentences" / "wav" / "Ses01F_impro01" / f"Ses01F_impro01_{turn}.wav")
    s5 = root / "Session5"
    write(
        s5 / "dialog" / "EmoEvaluation" / "Ses05M_script01_1.txt",
        "[1.0 - 2.0]\tSes05M_script01_1_F000\tsad\t[1.5000, 2.0000, 2.0000]\n",
    )
    touch(s5 / "sentences" / "wav" / "Ses05M_script01_1" / "Ses05M_script01_1_F000.wav")
    return root


@pytest.fixture
def mer2023_tree(tmp_path: Path) -> Path:
    root = tmp_path / "mer2023-dataset"
    write(
        root / "train-label.csv",
        "name,discrete,valence\nsample_00000001,worried,-2.0\n"
        "sample_00000002,happy,3.5\nsample_00000003,sad,-4\n",
    )
    write(root / "test3-label.csv", "name,discrete,valence\nsample_00000009,neutral,-10\n")
    touch(root / "train" / "sample_00000001.mp4")
    touch(root / "train" / "sample_00000002.avi")
    touch(root / "test3" / "sample_00000009.mp4")
    write(root / "transcription.csv", "name,chinese,english\nsample_00000001,我很担心,I am very worried\n")
    return root


@pytest.fixture
def dfew_tree(tmp_path: Path) -> Path:
    root = tmp_path / "DFEW"
    write(
        root / "EmoLabel_DataSplit" / "test(single-labeled)" / "set_1.csv",
        "video_name,label\n1,1\n2,5\n3,7\n4,9\n",
    )
    for n in ("00001", "00002", "00003"):
        touch(root / "Clip" / "original" / f"{n}.mp4")
    return root


@pytest.fixture
def mafw_tree(tmp_path: Path) -> Path:
    root = tmp_path / "MAFW"
    write(
        root / "Train & Test Set" / "single" / "no_caption" / "set_1" / "test.txt",
        "00025.mp4 anger\n00026.mp4 happiness\n00027.mp4 anxiety\n00028.mp4 contempt\n",
    )
    for n in ("00025", "00026", "00027", "00028"):
        touch(root / "data" / "clips" / f"{n}.mp4")
    return root


@pytest.fixture
def emodb_tree(tmp_path: Path) -> Path:
    root = tmp_path / "emodb"
    for name in ("03a01Fa.wav", "03a01Wa.wav", "08b02Lb.wav", "16a05Tc.wav", "README.wav"):
        touch(root / "wav" / name)
    return root


@pytest.fixture
def ckplus_tree(tmp_path: Path) -> Path:
    root = tmp_path / "CK+"
    for subj, seq, code, n in (
        ("S005", "001", "3.0000000e+00", 3),
        ("S010", "002", "2.0000000e+00", 2),
        ("S011", "004", None, 2),
    ):
        for i in range(1, n + 1):
            touch(root / "cohn-kanade-images" / subj / seq / f"{subj}_{seq}_{i:08d}.png")
        if code is not None:
            write(root / "Emotion" / subj / seq / f"{subj}_{seq}_{n:08d}_emotion.txt", f"   {code}\n")
    return root


@pytest.fixture
def ckplus_folders(tmp_path: Path) -> Path:
    root = tmp_path / "CK+48"
    for label, n in (("anger", 2), ("contempt", 1), ("happy", 1)):
        for i in range(n):
            touch(root / label / f"S{i:03d}_{label}.png")
    return root


@pytest.fixture
def facial_expressions_shared(tmp_path: Path) -> Path:
    root = tmp_path / "facial_expressions"
    write(
        root / "labels.csv",
        "path,emotion,annotator_id\nimages/a.jpg,anger,302\nimages/b.jpg,happiness,302\n"
        "images/c.jpg,contempt,11\n",
    )
    for n in "abc":
        touch(root / "images" / f"{n}.jpg")
    return root


@pytest.fixture
def facial_expressions_repo(tmp_path: Path) -> Path:
    root = tmp_path / "facial_expressions-master"
    write(
        root / "data" / "legend.csv",
        "user.id,image,emotion\n628,facial-expressions_2868588k.jpg,anger\n"
        "628,facial-expressions_2868585k.jpg,SURPRISE\n628,x.jpg,HAPPINESS\n",
    )
    for n in ("facial-expressions_2868588k.jpg", "facial-expressions_2868585k.jpg"):
        touch(root / "images" / n)
    return root


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    root = tmp_path / "mine"
    touch(root / "clips" / "a.wav")
    touch(root / "clips" / "b.mp4")
    return write(
        root / "labels.csv",
        "path,label,transcript,speaker,valence,explanation\n"
        "clips/a.wav,joy,,spk1,0.5,\n"
        "clips/b.mp4,angry,Leave me alone!,spk2,-0.6,He frowns and shouts; he is angry.\n"
        ",sad,I miss her so much.,spk3,,\n"
        "clips/c.wav,happy,,spk1,,\n"  # missing file
        "clips/a.wav,boredom,,spk1,,\n",
    )  # unknown label
