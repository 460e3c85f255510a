"""The multilingual text-corpus readers: label maps, exclusions, grouped deterministic splits."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from emoreason.errors import ConfigError, InputNotFoundError
from emoreason.eval.datasets.text_corpora import (
    emoevent_event_split,
    hash_split,
    parse_xed_labels,
    read_corpus,
    read_cped,
    read_emoevent,
    read_xed,
)
from emoreason.labels import CPED, EMOEVENT, XED

sys.path.insert(0, str(Path(__file__).parent))
from text_corpora_trees import make_cped, make_emoevent, make_xed  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def test_label_maps_document_the_plutchik_and_cped_choices():
    assert XED.canonical("trust") is None and XED.canonical("anticipation") is None
    assert XED.canonical("joy") == "happy"
    assert EMOEVENT.canonical("others") == "neutral"
    assert CPED.canonical("depress") == "sad" and CPED.canonical("worried") == "fearful"
    assert CPED.canonical("negative-other") is None


def test_parse_xed_labels():
    assert parse_xed_labels("1, 4, 7") == ("anger", "fear", "surprise")
    assert parse_xed_labels("0") == ("neutral",)
    assert parse_xed_labels("emotion") is None
    assert parse_xed_labels("1, 9") is None


def test_xed_rows_labels_and_exclusions(tmp_path):
    data = read_xed(make_xed(tmp_path / "xed"))
    by_text = {r.text: r for r in data.rows}
    assert by_text["!"].labels == ("angry", "fearful", "surprised") and by_text["!"].single is None
    assert by_text["We will win tomorrow ."].single == "happy"  # anticipation dropped
    assert by_text["We will win tomorrow ."].source_labels == ("anticipation", "joy")
    assert "I trust you ." not in by_text
    assert data.excluded["no canonical label: trust"] == 1
    assert data.excluded["malformed line (de-projections.tsv)"] == 2
    assert data.excluded["malformed line (tr-projections2.tsv)"] == 1  # its header
    assert data.excluded["malformed line (neu_en.txt)"] == 1  # the empty line
    assert by_text["Yeah I was just telling him."].labels == ("neutral",)
    langs = Counter(r.language for r in data.rows)
    assert langs == {"en": 8, "fi": 3, "de": 3, "tr": 1, "pt": 1}  # br -> pt
    assert {r.split for r in data.rows} <= {"train", "dev", "test"}


def test_xed_groups_keep_duplicates_and_films_together(tmp_path):
    data = read_xed(make_xed(tmp_path / "xed"))
    g = {r.text: r for r in data.rows}
    a, b = g["Get out of my house !"], g["Get out of my house!"]
    assert a.group == b.group and a.split == b.split
    assert g["Niin voi kai sanoa."].group == "film:fi/1965/59037/7041403.xml.gz"
    de = [r for r in data.rows if r.language == "de"]
    assert len({r.group for r in de}) == 1  # one block of consecutive projection lines


def test_xed_language_filter_and_wrong_root(tmp_path):
    root = make_xed(tmp_path / "xed")
    assert {r.language for r in read_xed(root, {"fi"}).rows} == {"fi"}
    with pytest.raises(InputNotFoundError, match="no files"):
        read_xed(root, {"xx"})
    with pytest.raises(InputNotFoundError, match="AnnotatedData"):
        read_xed(tmp_path)


def test_hash_split_is_deterministic_and_roughly_80_10_10():
    splits = Counter(hash_split("xed", f"g{i}") for i in range(5000))
    assert hash_split("xed", "g1") == hash_split("xed", "g1")
    assert 3800 < splits["train"] < 4200 and 350 < splits["dev"] < 650 and 350 < splits["test"] < 650


def test_emoevent_event_and_official_schemes(tmp_path):
    root = make_emoevent(tmp_path / "emoevent")
    ev = read_emoevent(root)
    split_of = emoevent_event_split({"NotreDame", "Venezuela", "GameOfThrones", "WorldBookDay"})
    assert sorted(split_of.values()) == ["dev", "test", "train", "train"]
    for r in ev.rows:  # a whole event sits in one split, in both languages
        assert r.split == split_of[r.group.split(":", 1)[1]]
    assert {r.language for r in ev.rows} == {"en", "es"} and len(ev.rows) == 36
    official = read_emoevent(root, scheme="official")
    assert Counter(r.split for r in official.rows) == {"train": 28, "dev": 8}
    assert {r.single for r in ev.rows} == {"happy", "neutral", "angry", "sad", "fearful", "surprised",
                                           "disgusted"}
    only_es = read_emoevent(root / "es", scheme="official")
    assert {r.language for r in only_es.rows} == {"es"}
    with pytest.raises(ConfigError, match="scheme"):
        read_emoevent(root, scheme="random")


def test_emoevent_bad_file_is_a_clear_error(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "dev.tsv").write_text("id\ttweet\n1\thello\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="lacks column"):
        read_emoevent(tmp_path)


def test_cped_rows_grouped_by_dialogue(tmp_path):
    data = read_cped(make_cped(tmp_path / "cped"))
    assert [r.single for r in data.rows] == ["surprised", "neutral", "sad", "fearful"]
    assert data.excluded == {"no canonical label: relaxed": 1}
    by_dialogue = {}
    for r in data.rows:
        by_dialogue.setdefault(r.group, set()).add(r.split)
    assert all(len(s) == 1 for s in by_dialogue.values())
    with pytest.raises(InputNotFoundError):
        read_cped(tmp_path)


def test_unknown_corpus():
    with pytest.raises(ConfigError, match="unknown text corpus"):
        read_corpus("affectnet", Path("."))


def test_shared_corpora_when_present():
    if not (SHARED / "xed" / "AnnotatedData").is_dir():
        pytest.skip("shared data folder not present")
    cped = read_corpus("cped", SHARED / "cped")
    assert len(cped.rows) + sum(cped.excluded.values()) == 11137
    ev = read_corpus("emoevent", SHARED / "emoevent")
    assert len(ev.rows) == 12423  # every row of the four files maps
    xed_fi = read_xed(SHARED / "xed", {"fi"})
    assert {r.split for r in xed_fi.rows} == {"train", "dev", "test"}
    assert len({r.group for r in xed_fi.rows if r.split == "test"}
               & {r.group for r in xed_fi.rows if r.split == "train"}) == 0


def test_xed_file_not_utf8_is_a_clear_error(tmp_path):
    bad = tmp_path / "xed" / "Projections" / "de-projections.tsv"
    bad.parent.mkdir(parents=True)
    bad.write_bytes("Gr\xfc\xdfe\t5\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_xed(tmp_path / "xed")
