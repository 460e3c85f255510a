"""The multilingual Whisper folder joined from split pieces: hash-checked, atomic, idempotent."""

from __future__ import annotations

import hashlib
import json

import pytest

from emoreason.errors import ModelError
from emoreason.perception.speech import whisper_models
from emoreason.perception.speech.whisper_models import join_split_model


def _fake_parts(tmp_path):
    src = tmp_path / "pkg"
    src.mkdir()
    body = bytes(range(256)) * 40
    a, b = src / "model.bin.part1", src / "model.bin.part2"
    a.write_bytes(body[:3000])
    b.write_bytes(body[3000:])
    side = []
    for name in ("config.json", "tokenizer.json"):
        (src / name).write_text(json.dumps({"name": name}), encoding="utf-8")
        side.append(src / name)
    return [a, b], side, hashlib.sha256(body).hexdigest(), body


def test_join_writes_the_whole_model_and_is_idempotent(tmp_path):
    pieces, side, sha, body = _fake_parts(tmp_path)
    out = join_split_model(pieces, side, tmp_path / "cache" / "whisper-base", sha)
    assert (out / "model.bin").read_bytes() == body
    assert json.loads((out / "config.json").read_text())["name"] == "config.json"
    assert json.loads((out / "source.json").read_text())["sha256"] == sha
    stamp = (out / "model.bin").stat().st_mtime_ns
    assert join_split_model(pieces, side, out, sha) == out
    assert (out / "model.bin").stat().st_mtime_ns == stamp  # not joined again
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".whisper-base.")
            and not p.name.endswith(".lock")] == []  # no temporary folder left


def test_join_rejoins_a_truncated_model(tmp_path):
    pieces, side, sha, body = _fake_parts(tmp_path)
    out = join_split_model(pieces, side, tmp_path / "whisper-base", sha)
    (out / "model.bin").write_bytes(body[:100])  # damaged after the join: the size check catches it
    assert (join_split_model(pieces, side, out, sha) / "model.bin").read_bytes() == body


def test_join_refuses_a_wrong_hash_and_leaves_nothing(tmp_path):
    pieces, side, sha, _ = _fake_parts(tmp_path)
    out = tmp_path / "cache" / "whisper-base"
    with pytest.raises(ModelError, match="SHA-256"):
        join_split_model(pieces[::-1], side, out, sha)  # pieces in the wrong order
    assert not out.exists()
    assert [p for p in out.parent.iterdir() if not p.name.endswith(".lock")] == []


def test_missing_part_package_is_a_model_error(monkeypatch):
    monkeypatch.setattr(whisper_models, "PIECES", (whisper_models.PIECES[0],
                                                   ("no-such-dist", "no_such_module_xyz", "data/x")))
    with pytest.raises(ModelError, match="no-such-dist"):
        whisper_models.multilingual_whisper_dir()


def test_the_packaged_parts_join_to_the_recorded_hash(tmp_path, monkeypatch):
    """The real packages (145 MB joined and hashed in about a second)."""
    monkeypatch.setenv("EMOREASON_CACHE", str(tmp_path))
    out = whisper_models.multilingual_whisper_dir()
    assert out == tmp_path / "whisper-base"
    assert {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"} <= {p.name for p in out.iterdir()}
    assert json.loads((out / "source.json").read_text())["sha256"] == whisper_models.MODEL_SHA256
