"""Fixtures for the dataset-builder tests: tiny real video files, a scripted perceiver, a fake LLM server."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # ``fake_perception`` by name: here and in spawned workers (they copy sys.path)
    sys.path.insert(0, str(HERE))

from fake_perception import CLIP_NAMES, make_clip  # noqa: E402


@pytest.fixture(autouse=True)
def _fake_perceiver_importable(monkeypatch) -> None:
    """Make ``fake_perception`` importable in subprocesses and Ray workers too."""
    paths = (str(HERE), os.environ.get("PYTHONPATH"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory) -> Path:
    """Five readable clips (scenarios by name, see fake_perception) and two broken files."""
    d = tmp_path_factory.mktemp("clips")
    for i, name in enumerate(CLIP_NAMES):
        make_clip(d / f"{name}.mp4", seed=i)
    (d / "corrupt_x.mp4").write_bytes(b"\x00not a video at all\x00" * 50)
    (d / "empty_y.mp4").write_bytes(b"")
    return d


class FakeLLM:
    """An OpenAI-compatible chat server on 127.0.0.1; ``reply(request_json) -> (status, content)``."""

    def __init__(self, reply: Callable[[dict], tuple[int, str]]):
        self.requests: list[dict] = []
        self.reply = reply
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "body": body})
                status, content = outer.reply(body)
                payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]})
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_llm() -> Iterator[Callable[[Callable[[dict], tuple[int, str]]], FakeLLM]]:
    servers: list[FakeLLM] = []

    def start(reply: Callable[[dict], tuple[int, str]]) -> FakeLLM:
        servers.append(FakeLLM(reply))
        return servers[-1]

    yield start
    for s in servers:
        s.close()
