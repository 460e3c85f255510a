"""A stopped analysis leaves nothing behind: SIGTERM/SIGINT mid-decode remove the temporary WAV folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from emoreason.io.cleanup import (
    Interrupted,
    remove_stale_temporary_dirs,
    signals_interrupt,
    temporary_directory,
)
from emoreason.io.synth import write_media

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    """Two minutes of a warbling tone: long enough to be mid-analysis when the signal comes."""
    t = np.arange(16000 * 120) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2).astype(np.float32)
    return write_media(tmp_path_factory.mktemp("long") / "long.mp3", audio=audio)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_leftover_temp_wav_removed_on_signal(tmp_path, long_clip, sig):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "out" / "r.json"
    out.parent.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "emoreason.cli.main", "analyze", str(long_clip),
                             "--no-progress", "-o", str(out)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(tmp.glob("emoreason-*/audio.wav")) and proc.poll() is None:
            assert time.monotonic() < deadline, "the analysis never started decoding"
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.3)  # mid-decode, the WAV being written
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not list(tmp.glob("emoreason-*")), "temporary folder left behind"
    assert not list(out.parent.iterdir()), "an output (or its temporary file) was left behind"


def test_leftover_temp_dir_of_a_killed_process_swept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"emoreason-{dead.pid}-abc"
    (stale / "sub").mkdir(parents=True)
    (stale / "sub" / "audio.wav").write_bytes(b"RIFF" * 100)
    live = tmp_path / f"emoreason-{os.getpid()}-def"
    live.mkdir()
    fresh = tmp_path / f"emoreason-{dead.pid}-new"
    fresh.mkdir()
    other = tmp_path / "emoreason-text-cache"
    other.mkdir()
    old = time.time() - 3600
    for p in (stale, live, other):
        os.utime(p, (old, old))
    assert remove_stale_temporary_dirs(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and fresh.exists() and other.exists()


def test_temporary_directory_is_recognisable_and_removed():
    with temporary_directory() as tmp:
        assert Path(tmp).name.startswith(f"emoreason-{os.getpid()}-")
    assert not Path(tmp).exists()


def test_leftover_signal_swallowed_by_library_code_is_delivered_again():
    before = signal.getsignal(signal.SIGTERM)
    started = time.monotonic()
    with pytest.raises(Interrupted) as info:
        with signals_interrupt(redeliver_s=0.2):
            try:  # library code with a bare except, where the first delivery lands
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)
            except BaseException:
                pass
            while time.monotonic() - started < 10:
                time.sleep(0.01)
    assert info.value.signum == signal.SIGTERM and info.value.exit_code == 143
    assert time.monotonic() - started < 5
    assert signal.getsignal(signal.SIGTERM) == before
