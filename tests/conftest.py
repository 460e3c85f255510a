"""Shared test setup: offline, deterministic, synthetic media made on the spot, a fake LLM server."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from skimage import data  # noqa: E402

from emoreason.io.demo_clip import make_demo_clip  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


requires_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return data.astronaut()


@pytest.fixture(scope="session")
def speech_clip(tmp_path_factory) -> str:
    """A ~7 s mp4: the astronaut photo with espeak-ng saying the demo sentence (session-wide)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    return str(make_demo_clip(tmp_path_factory.mktemp("media") / "speech.mp4"))


FakeOpenAI = Callable[[Callable[[dict], str]], tuple[str, list[dict[str, Any]]]]


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """Start fake OpenAI-compatible chat servers on 127.0.0.1: ``url, seen = fake_openai(answer)`` serves
    ``answer(request_body)`` as the assistant's message at ``url`` (no ``/v1``; every path answers) and
    records each request in ``seen`` as ``{"path", "body", "auth"}`` (the Authorization header)."""
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Callable[[dict], str]) -> tuple[str, list[dict[str, Any]]]:
        seen: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                doc = {"choices": [{"message": {"role": "assistant", "content": answer(body)}}],
                       "model": body.get("model")}
                data = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
