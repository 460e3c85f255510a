"""`emoreason serve` as a user starts it: a subprocess bound to 127.0.0.1, with the real pipeline."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from emoreason.cli.main import main


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cli_server():
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "emoreason.cli.main", "serve", "--port", str(port),
                             "--no-warmup", "--max-upload-mb", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"emoreason serve exited: {proc.stdout.read()}")
        try:
            httpx.get(url + "/healthz", timeout=1)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "emoreason serve did not start within 60 s"
            time.sleep(0.2)
    yield url, port
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_cli_serve_binds_loopback_and_answers(cli_server):
    url, port = cli_server
    assert httpx.get(url + "/healthz").json()["status"] == "ok"
    assert httpx.get(url + "/v1/models").json()["data"][0]["id"] == "emoreason-default"
    r = httpx.post(url + "/v1/analyze", files={"file": ("a.wav", b"\0" * (2 * 1024 * 1024), "audio/wav")})
    assert r.status_code == 413 and r.json()["error"]["type"] == "payload_too_large"
    # bound to loopback only: the machine's other addresses refuse the connection
    other = [a for a in _local_addresses() if not a.startswith("127.")]
    for addr in other[:1]:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{addr}:{port}/healthz", timeout=2)


def test_cli_serve_real_pipeline_on_text(cli_server):
    url, _ = cli_server
    r = httpx.post(url + "/v1/analyze", json={"text": "I am so happy, this is wonderful news!"}, timeout=120)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["input"] == "<text>"
    assert abs(sum(d["scores"].values()) - 1) < 1e-3 and d["label"] in d["scores"]
    assert d["modalities"]["text"]["used"] is True


def test_cli_serve_real_pipeline_on_video(cli_server, video):
    url, _ = cli_server
    files = {"file": ("my clip.mp4", video, "video/mp4"), "modalities": (None, "face")}
    r = httpx.post(url + "/v1/analyze", files=files, timeout=120)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["input"] == "my clip.mp4" and "emoreason-upload" not in r.text
    assert d["modalities"]["face"]["used"] is True and d["duration"] == pytest.approx(2.0, abs=0.2)
    assert abs(sum(d["scores"].values()) - 1) < 1e-3
    page = httpx.post(url + "/v1/analyze", files={**files, "format": (None, "html")}, timeout=120)
    assert page.status_code == 200 and "data:image/jpeg;base64," in page.text  # the real peak frame


@pytest.mark.parametrize("args, message", [
    (["--port", "70000"], "--port must be 1..65535"),
    (["--concurrency", "0"], "max_concurrency must be >= 1"),
    (["--model", "/nonexistent/model"], "--model /nonexistent/model: no such file or directory"),
])
def test_cli_serve_bad_options_one_line(args, message, capsys):
    assert main(["serve", *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"emoreason: error: {message}"), lines


def _local_addresses() -> list[str]:
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [a for a in out.split() if ":" not in a]
