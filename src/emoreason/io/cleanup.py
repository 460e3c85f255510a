"""Temporary files that never outlive the analysis that made them, even when it is stopped by a signal.

The pipeline keeps the decoded audio of a media file (a WAV of tens to hundreds of MB) in a
:func:`temporary_directory` named ``emoreason-<pid>-*`` under the system temp folder (``$TMPDIR``), removed
when the ``with`` block ends, however it ends. Python unwinds ``with`` blocks on an exception, but a
SIGTERM (``kill``, ``timeout``, a container stopping) kills the process where it stands by default, and a
KeyboardInterrupt (SIGINT) can be swallowed by library code. While :func:`signals_interrupt` is active,
SIGTERM, SIGHUP and SIGINT raise :class:`Interrupted` (a KeyboardInterrupt), delivered again until the
work has unwound, so every ``finally`` and ``with`` block runs first. The CLI wraps each command in it.

A process killed outright (SIGKILL, the out-of-memory killer) cannot clean up; its folder stays behind,
and :func:`remove_stale_temporary_dirs` (run by every ``emoreason`` command) removes the ``emoreason-<pid>-*``
folders of processes that no longer exist.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

TEMP_PREFIX = "emoreason-"
#: A dead process's folder is removed only when it is at least this old (seconds): a process of another
#: pid namespace (a container sharing /tmp) may look dead from here.
STALE_AFTER_S = 600.0
HANDLED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT")
                        if hasattr(signal, name))
REDELIVER_S = 2.0  # a signal that library code swallowed is delivered again after this many seconds


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread when the process receives ``signum`` (SIGTERM, SIGHUP, SIGINT) during
    :func:`signals_interrupt`; a KeyboardInterrupt, so ``except Exception`` does not swallow it."""

    def __init__(self, signum: int) -> None:
        name = signal.Signals(signum).name
        super().__init__("interrupted" if name == "SIGINT" else f"stopped by signal {name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


_cleaning = 0  # > 0 while a temporary folder is being removed: a signal then waits for its next delivery


@contextlib.contextmanager
def temporary_directory() -> Iterator[str]:
    """``with temporary_directory() as tmp:`` a new folder ``$TMPDIR/emoreason-<pid>-XXXX``, removed with
    everything in it when the block ends, however it ends (a signal handled by :func:`signals_interrupt`
    does not cut the removal short)."""
    global _cleaning
    path = tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-")
    try:
        yield path
    finally:
        _cleaning += 1
        try:
            shutil.rmtree(path, ignore_errors=True)
        finally:
            _cleaning -= 1


@contextlib.contextmanager
def signals_interrupt(redeliver_s: float = REDELIVER_S) -> Iterator[None]:
    """While active, SIGTERM, SIGHUP and SIGINT raise :class:`Interrupted` in the main thread, so the work
    unwinds (temporary folders removed, atomic writes abandoned) before the process exits.

    Some library code swallows an exception raised inside it (a bare ``except:``), and a signal that lands
    there would be lost: so after the first signal a helper thread delivers it again every
    ``redeliver_s`` seconds until the block exits. While :func:`temporary_directory` is removing a folder
    a delivery does not raise (the next one will). Outside the main thread this does nothing (Python
    delivers signals to the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    first: list[int] = []
    done = threading.Event()

    def redeliver() -> None:
        while not done.wait(redeliver_s):
            _thread.interrupt_main(first[0])

    def handler(signum: int, frame: object) -> None:
        if not first:
            first.append(signum)
            threading.Thread(target=redeliver, name="emoreason-signal", daemon=True).start()
        if not _cleaning:
            raise Interrupted(first[0])

    previous = {s: signal.signal(s, handler) for s in HANDLED_SIGNALS}
    try:
        yield
    finally:
        done.set()
        for s, old in previous.items():
            signal.signal(s, old)


def remove_stale_temporary_dirs(root: str | os.PathLike | None = None, older_than: float = STALE_AFTER_S,
                                ) -> list[Path]:
    """Remove the ``emoreason-<pid>-*`` folders under ``root`` (default: the temp folder) whose process is
    gone and which are at least ``older_than`` seconds old; returns those removed. Folders of live
    processes, of other users and of other names are left alone."""
    base = Path(root) if root is not None else Path(tempfile.gettempdir())
    removed = []
    now = time.time()
    try:
        candidates = list(base.glob(f"{TEMP_PREFIX}*-*"))
    except OSError:
        return removed
    for path in candidates:
        pid_text = path.name[len(TEMP_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            st = path.lstat()
        except OSError:
            continue
        mine = st.st_uid == os.getuid()
        if not path.is_dir() or path.is_symlink() or not mine or now - st.st_mtime < older_than:
            continue
        if _process_exists(int(pid_text)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            removed.append(path)
    return removed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists (another user's), or we cannot tell: keep its folder
    return True
