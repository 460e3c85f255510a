"""Write files so a reader never sees half of one: write to a temporary file beside it, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_read_umask()  # read once at import: os.umask is process-wide and not thread-safe


def _umask_mode() -> int:
    """The mode a plain open() would give a new file (mkstemp's 0600 is too private for outputs)."""
    return _FILE_MODE


@contextlib.contextmanager
def _swap_in(path: Path, prefix: str, suffix: str) -> Iterator[Path]:
    """A new temporary file beside ``path``, renamed to ``path`` (with the usual file mode) when the block
    succeeds and deleted when it fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """``with atomic_write(p) as f: f.write(...)`` — ``p`` appears complete or not at all."""
    path = Path(path)
    with _swap_in(path, prefix=f".{path.name}.", suffix=".tmp") as tmp:
        with open(tmp, mode, encoding=None if "b" in mode else encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_write(path, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_write(path, "w") as f:
        f.write(text)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path for a writer that wants a file name (matplotlib, soundfile); rename on
    success."""
    path = Path(path)
    with _swap_in(path, prefix=f".{path.stem}.", suffix=path.suffix) as tmp:
        yield tmp
