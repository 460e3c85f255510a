"""Tiny XED, EmoEvent and CPED folders in their real layouts (rows copied in shape from the shared files)."""

from __future__ import annotations

from pathlib import Path

XED_EN = (
    "!\t1, 4, 7\n"
    "Get out of my house !\t1\n"
    "Get out of my house!\t1\n"  # the same line as above once punctuation is ignored
    "I trust you .\t8\n"  # trust only: no canonical label
    "We will win tomorrow .\t2, 5\n"  # anticipation dropped: happy
    "I am so scared of the dark .\t4\n"
    "What a lovely day .\t5\n"
)
XED_FI = "Laske aseet maahan.\t1, 4\nOlen niin iloinen.\t5\n"
NEU_EN = "9\tYeah I was just telling him.\n9\tOne moment please.\n\n"
NEU_FI = "1620\tNiin voi kai sanoa.\t2\t428\tfi/1965/59037/7041403.xml.gz\n"
DE_PROJ = (
    "Was ist mit dir passiert?\t4, 7\n"
    "Das Geschäft läuft sehr schlecht.\t6\n"
    '"Heul dich ruhig aus.\n'  # a quoted multi-line leftover: malformed
    "en/1990/1/2.xml.gz\tde/1990/1/3.xml.gz\t12\t13\tI swear.\tIch schwöre.\n"  # pair metadata
    "Er will sterben!\t4\n"
)
TR_PROJ = "phrase\temotion\nEli bozdu.\t4\n"
BR_PROJ = "Isso estragou a minha mão.\t1, 4\n"

EMOEVENT_HEADER = "id\tevent\ttweet\toffensive\temotion\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_xed(root: Path) -> Path:
    write(root / "AnnotatedData" / "en-annotated.tsv", XED_EN)
    write(root / "AnnotatedData" / "fi-annotated.tsv", XED_FI)
    write(root / "AnnotatedData" / "neu_en.txt", NEU_EN)
    write(root / "AnnotatedData" / "neu_fi.txt", NEU_FI)
    write(root / "Projections" / "de-projections.tsv", DE_PROJ)
    write(root / "Projections" / "tr-projections2.tsv", TR_PROJ)
    write(root / "Projections" / "br-projections.tsv", BR_PROJ)
    return root


def make_emoevent(root: Path) -> Path:
    events = ["NotreDame", "Venezuela", "GameOfThrones", "WorldBookDay"]
    emotions = ["joy", "others", "anger", "sadness", "fear", "surprise", "disgust"]
    for lang in ("en", "es"):
        for split, n in (("train", 14), ("dev", 4)):
            lines = [f"{lang}{split}{i}\t{events[i % 4]}\t{lang} tweet {i} #{events[i % 4]}\tNO\t"
                     f"{emotions[i % 7]}\n" for i in range(n)]
            write(root / lang / f"{split}.tsv", EMOEVENT_HEADER + "".join(lines))
    return root


CPED_HEADER = ("\ufeffTV_ID,Dialogue_ID,Utterance_ID,Speaker,Gender,Age,Neuroticism,Extraversion,Openness,"
               "Agreeableness,Conscientiousness,Scene,FacePosition_LU,FacePosition_RD,Sentiment,Emotion,DA,"
               "Utterance\n")


def make_cped(root: Path, file: str = "valid_split.csv") -> Path:
    rows = [("32_000", "astonished", "怎么了"), ("32_000", "neutral", "撞车了吗"),
            ("32_001", "relaxed", "没事"), ("32_001", "depress", "我好累"), ("40_002", "worried", "怎么办")]
    body = "".join(
        f"{d.split('_')[0]},{d},{d}_{i:03d},于春晓,female,young,high,high,low,high,high,car,1_2,3_4,"
        f"negative,{emo},question,{text}\n" for i, (d, emo, text) in enumerate(rows))
    write(root / file, CPED_HEADER + body)
    return root
