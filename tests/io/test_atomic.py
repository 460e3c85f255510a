"""Atomic writes: the file appears whole or not at all, with the mode a plain open() would give it."""

import os

import pytest

from emoreason.io.atomic import atomic_path, atomic_write, atomic_write_bytes, atomic_write_text


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_writes_complete_files_with_the_usual_mode(tmp_path):
    atomic_write_text(tmp_path / "a" / "t.txt", "héllo")
    atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
    with atomic_path(tmp_path / "c.png") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".png" and tmp.name.startswith(".c.")
        tmp.write_bytes(b"png")
    assert (tmp_path / "a" / "t.txt").read_text() == "héllo"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01" and (tmp_path / "c.png").read_bytes() == b"png"
    assert (tmp_path / "b.bin").stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b.bin", "c.png"]  # no temporary file left


@pytest.mark.parametrize("writer", ["write", "path"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, writer):
    target = tmp_path / "r.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        if writer == "write":
            with atomic_write(target) as f:
                f.write("half")
                raise RuntimeError("crash")
        else:
            with atomic_path(target) as tmp:
                tmp.write_text("half")
                raise RuntimeError("crash")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["r.json"]
