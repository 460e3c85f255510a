"""A real uvicorn server on 127.0.0.1 (free port, background thread) and a controllable fake analyzer."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvicorn
from PIL import Image
from skimage import data, transform

from emoreason.io.synth import write_media
from emoreason.labels import CANONICAL
from emoreason.result import Result

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@contextlib.contextmanager
def running_server(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yield its base URL; stop it afterwards."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


class FakeAnalyzer:
    """Stands in for emoreason.analyze: records each call, can be made slow or blocked, and builds its
    Result from what it was given (the uploaded bytes' size and the text) so tests can check both."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.calls: list[dict[str, Any]] = []
        self.release = threading.Event()
        self.release.set()
        self.started = threading.Semaphore(0)
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0

    def __call__(self, source: Any = None, **kwargs: Any) -> Result:
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        self.started.release()
        try:
            size = None
            if source is not None:
                p = Path(source)
                size = p.stat().st_size
            call = {"source": source, "size": size, "thread": threading.current_thread().name, **kwargs}
            with self.lock:
                self.calls.append(call)
            self.release.wait(30)
            if self.delay:
                time.sleep(self.delay)
            text = kwargs.get("text") or ""
            label = "angry" if "furious" in text else "happy"
            scores = dict.fromkeys(CANONICAL, 0.0)
            scores[label] = 1.0
            return Result(input=str(source), duration=None, label=label, scores=scores, valence=0.0,
                          arousal=0.0, transcript=text, label_set=kwargs.get("labels", "canonical"),
                          notes=[f"bytes={size}", f"read {source}"],
                          provenance={"workdir": str(Path(source).parent) if source else None})
        finally:
            with self.lock:
                self.active -= 1


@pytest.fixture
def fake() -> FakeAnalyzer:
    return FakeAnalyzer()


def wav_bytes(seconds: float = 1.0, sr: int = 16000, freq: float = 220.0) -> bytes:
    """A mono 16-bit WAV tone."""
    t = np.arange(int(seconds * sr)) / sr
    samples = (0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def png_bytes(w: int = 64, h: int = 48) -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def serve():
    """``with serve(app) as url:`` runs ``app`` on a real loopback port."""
    return running_server


@pytest.fixture
def wav() -> bytes:
    return wav_bytes(1.0)


@pytest.fixture
def png() -> bytes:
    return png_bytes()


def video_bytes(tmp_dir: Path, seconds: float = 2.0, fps: int = 10) -> bytes:
    """A small MPEG-4 clip of scikit-image's astronaut photo (a real face)."""
    base = (transform.resize(data.astronaut(), (240, 320), anti_aliasing=True) * 255).astype(np.uint8)
    return write_media(tmp_dir / "clip.mp4", [base] * int(seconds * fps), fps=fps).read_bytes()


@pytest.fixture
def video(tmp_path) -> bytes:
    return video_bytes(tmp_path)
