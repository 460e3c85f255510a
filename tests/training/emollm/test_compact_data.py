"""The compact model's data builder on tiny fake corpora: splits, label maps, subtitles with context,
modalities, the builder's reasoning and its contradiction rule, the estimate, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_compact_perception import FAKE

from emoreason.emollm.dataset import read_examples
from emoreason.emollm.instructions import subtitle_with_context
from emoreason.labels import CANONICAL
from emoreason.training.emollm.compact_data import Item, balanced_sample, build, main, water_fill
from emoreason.training.emollm.compact_reasoning import TOKENS_PER_S

STATEMENTS = {"Kids are talking by the door", "Dogs are sitting by the door"}


def words(text: str) -> int:
    return len(text.split())


def _build(data: Path, out: Path, seed: int = 0, **kw):
    args = dict(seed=seed, ferplus=20, meld=30, reason_per_corpus=4, heldout_ferplus=None,
                heldout_meld=None, perceiver=FAKE, count_tokens=words)
    args.update(kw)
    return build(data, out, **args)


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def built(fake_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("compact")
    summary = _build(fake_data, out)
    return out, summary, _read(out / "train.jsonl"), _read(out / "heldout.jsonl")


def test_water_fill_takes_small_classes_whole_and_shares_the_rest():
    assert water_fill({"a": 30, "b": 20, "c": 6, "d": 2}, 20) == {"d": 2, "c": 6, "b": 6, "a": 6}
    assert water_fill({"a": 3, "b": 3}, 100) == {"a": 3, "b": 3}


def test_balanced_sample_is_seeded_and_keeps_the_input_order():
    items = [Item(f"i{k:02d}", "x", "neutral" if k % 4 else "sad", "", "", ("text",)) for k in range(40)]
    a = balanced_sample(items, 16, 0)
    assert [i.id for i in a] == sorted(i.id for i in a)
    assert sum(i.label == "sad" for i in a) == 8 == sum(i.label == "neutral" for i in a)
    assert balanced_sample(items, 16, 0) == a and balanced_sample(items, 16, 1) != a
    assert balanced_sample(items, None, 0) == items == balanced_sample(items, 99, 0)


def test_ravdess_split_by_actor_with_the_sentence_as_subtitle(built):
    _, _, train, held = built
    tr = [r for r in train if r["corpus"] == "ravdess"]
    he = [r for r in held if r["corpus"] == "ravdess"]
    assert len(tr) == 14 * 16 and len(he) == 4 * 16  # every clip of actors 1-14 / 15-18
    actor = lambda r: int(Path(r["video"]).stem.split("-")[-1])  # noqa: E731
    assert {actor(r) for r in tr} == set(range(1, 15)) and {actor(r) for r in he} == set(range(15, 19))
    assert all(r["modalities"] == ["voice"] and Path(r["video"]).is_absolute() for r in tr + he)
    assert {r["subtitle"] for r in tr} == STATEMENTS
    calm = [r for r in tr if r["source_label"] == "calm"]
    assert calm and all(r["label"] == "neutral" for r in calm)  # the canonical map: calm -> neutral
    assert {r["label"] for r in tr} == set(CANONICAL)


def test_ferplus_majority_labels_balanced_and_valid_held_out(built):
    _, summary, train, held = built
    tr = [r for r in train if r["corpus"] == "ferplus"]
    # 30 neutral, 20 happy, 6 sad, 2 disgust; contempt, NF and the no-majority image dropped
    assert summary["splits"]["train"]["ferplus"] == {"disgusted": 2, "happy": 6, "neutral": 6, "sad": 6}
    assert all(r["modalities"] == ["face"] and r["subtitle"] == "" for r in tr)
    assert all(r["video"].endswith(".png") for r in tr)
    he = [r for r in held if r["corpus"] == "ferplus"]
    assert len(he) == 12 and all("/valid/" in r["video"] for r in he)
    assert not {r["id"] for r in tr} & {r["id"] for r in he}


def test_meld_is_text_only_with_the_dialogue_context(built, fake_data):
    _, summary, train, held = built
    tr = [r for r in train if r["corpus"] == "meld"]
    assert sum(summary["splits"]["train"]["meld"].values()) == 30 == len(tr)
    assert all(r["modalities"] == ["text"] and "video" not in r for r in tr)
    by_id = {r["id"]: r for r in tr + held}
    line = lambda split, d, u: f"{split} dialogue {d} line {u} says something"  # noqa: E731
    for r in tr:  # the earlier turns of the same dialogue, as the eval adapter gives them (up to 3)
        d, u = (int(x) for x in r["id"].removeprefix("meld-train-dia").split("_utt"))
        context = [line("train", d, j) for j in range(max(0, u - 3), u)]
        assert r["subtitle"] == subtitle_with_context(line("train", d, u), context)
    assert any(line("train", 0, 0) in r["subtitle"] and r["id"] != "meld-train-dia0_utt0" for r in tr)
    first = by_id["meld-dev-dia1_utt0"]
    assert first["subtitle"] == subtitle_with_context(line("dev", 1, 0), [])
    assert by_id["meld-dev-dia1_utt3"]["label"] == "angry" and by_id["meld-dev-dia1_utt1"]["label"] == "happy"
    assert len([r for r in held if r["corpus"] == "meld"]) == 18
    assert {r["id"] for r in tr}.isdisjoint(r["id"] for r in held)


def test_reasoning_from_the_builder_with_its_contradiction_rule(built):
    _, summary, train, _ = built
    reasoned = [r for r in train if "reasoning" in r]
    for corpus in ("ravdess", "ferplus", "meld"):
        c = summary["reasoning"][corpus]
        assert c["tried"] == 4 and c["kept"] + c["contradicts"] + c["empty"] + c["failed"] == 4
        mine = [r for r in reasoned if r["corpus"] == corpus]
        assert len(mine) == 4  # a contradicting text stays in the record, flagged
        kept = [r for r in mine if not r["reasoning_check"]["contradicts"]]
        assert len(kept) == c["kept"] == sum(1 for r in mine if r["label"] == "happy")
        assert all(r["reasoning"].endswith("most likely feels happy.") for r in kept)
    examples, report = read_examples([Path(built[0]) / "train.jsonl"], "fine", label_words=CANONICAL)
    n_reason = sum(1 for e in examples if e.task == "reason")
    assert n_reason == sum(summary["reasoning"][c]["kept"] for c in summary["reasoning"])
    assert sum(1 for e in examples if e.task == "emotion") == len(train)
    # MELD items train on the words alone; media items look up their features by id and path
    assert {e.clip_id.split("-")[0] for e in examples if e.text_only} == {"meld"}
    assert all(e.video for e in examples if not e.text_only)
    dropped = sum(summary["reasoning"][c]["contradicts"] for c in summary["reasoning"])
    assert report.skipped["reasoning that contradicts the label (its [reason] example)"] == dropped > 0


def test_estimate_counts_emotion_and_unflagged_reason_examples(built):
    _, summary, train, _ = built
    est = summary["estimate"]
    kept = sum(summary["reasoning"][c]["kept"] for c in summary["reasoning"])
    assert est["examples"] == {"emotion": len(train), "reason": kept}
    assert est["minutes_per_epoch"] == round(est["tokens_total"] / TOKENS_PER_S / 60, 1)


def test_same_arguments_same_files_another_seed_another_sample(fake_data, tmp_path, built):
    out, _, _, _ = built
    _build(fake_data, tmp_path / "again")
    for name in ("train.jsonl", "heldout.jsonl", "summary.json"):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes()
    _build(fake_data, tmp_path / "seed1", seed=1)
    ids = lambda p: [r["id"] for r in _read(p) if r["corpus"] == "meld"]  # noqa: E731
    assert ids(tmp_path / "seed1" / "train.jsonl") != ids(out / "train.jsonl")


def test_cli_reports_a_missing_corpus_without_a_traceback(tmp_path, capsys):
    assert main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"), "--no-estimate"]) == 2
    assert "emoreason:" in capsys.readouterr().err
    assert not (tmp_path / "o" / "train.jsonl").exists()
