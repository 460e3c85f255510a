"""Output paths checked before the work starts, so a typo costs a second, not the minutes of an analysis.

:func:`check_output_file` is for one file (``analyze -o``, ``--report``, ``--plot``), :func:`check_output_dir`
for a folder that a command fills (``eval -o``, ``build-dataset -o``). Each raises a one-line
:class:`~emoreason.errors.ConfigError` naming the option, or returns. Writability is tested by creating
(and removing) a temporary file where the output will go, so read-only file systems, permissions and
full disks are all caught, for root too. Nothing else is created.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from emoreason.errors import ConfigError


def check_output_file(path: str | os.PathLike, option: str = "-o") -> Path:
    """``path`` as a Path, once it is a file name (not a folder) in an existing folder we can write in."""
    path = Path(path)
    if str(path).endswith(os.sep) or path.is_dir():
        raise ConfigError(f"{option} {path} is a folder; give a file name")
    parent = path.parent
    if not parent.exists():
        raise ConfigError(f"{option} {path}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise ConfigError(f"{option} {path}: {parent} is not a folder")
    _probe_write(parent, option, path)
    return path


def check_output_dir(path: str | os.PathLike, option: str = "-o", *, kind: str = "run",
                     is_resumable: Callable[[Path], bool] | None = None) -> Path:
    """``path`` as a Path, once it is a folder we can fill: absent (with a writable existing ancestor; it
    is created later), empty, or an earlier ``kind`` run that ``is_resumable`` recognises."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path} is a file; give a folder")
    if path.is_dir():
        try:
            entries = any(path.iterdir())
        except OSError as exc:
            raise ConfigError(f"{option} {path}: cannot read the folder ({exc.strerror})") from None
        if entries and not (is_resumable is not None and is_resumable(path)):
            raise ConfigError(f"{option} {path} is a non-empty folder that is not an earlier {kind}; "
                              "give a new or empty folder (an earlier run's folder is resumed)")
        _probe_write(path, option, path)
        return path
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(f"{option} {path}: {ancestor} is not a folder")
    _probe_write(ancestor, option, path)
    return path


def _probe_write(folder: Path, option: str, path: Path) -> None:
    try:
        fd, probe = tempfile.mkstemp(prefix=".emoreason-write-check-", dir=folder)
    except OSError as exc:
        raise ConfigError(f"{option} {path}: cannot write in {folder} ({exc.strerror or exc})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
