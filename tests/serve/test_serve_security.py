"""The server exposed to hostile or careless clients (issue 18, "Security"), over real HTTP on 127.0.0.1:
API keys, logs that reach the console, the decoded-duration limit, cancellation, stalled and oversized
uploads, hostile JSON and decompression-bomb images, client disconnects."""

from __future__ import annotations

import json
import logging
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from emoreason.api import analyze as real_analyze
from emoreason.cli.main import main
from emoreason.errors import AnalysisCancelledError, MediaTooLargeError, MediaTooLongError
from emoreason.io.guard import check_cancelled, decode_guard
from emoreason.io.image import load_image
from emoreason.io.media import decode
from emoreason.serve.app import create_app
from emoreason.serve.limits import Limits
from emoreason.serve.server import check_exposure

KEY = "k" * 8 + "-test-key-0123456789"


def err(r: httpx.Response, status: int, kind: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["type"] == kind, body
    assert "Traceback" not in body["error"]["message"] and "\n" not in body["error"]["message"]
    return body["error"]["message"]


def lying_m4a(path: Path, seconds: float = 60.0, claims: float = 5.0, sr: int = 8000) -> Path:
    """An AAC file holding ``seconds`` of tone whose mvhd/tkhd/mdhd durations claim ``claims`` seconds."""
    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("aac", rate=sr)
        s.layout = "mono"
        n = 1024
        for i in range(int(seconds * sr / n)):
            x = (0.3 * np.sin(2 * np.pi * 220 * (np.arange(n) + i * n) / sr)).astype(np.float32)[None]
            f = av.AudioFrame.from_ndarray(x, format="flt", layout="mono")
            f.sample_rate, f.pts = sr, i * n
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    data = bytearray(path.read_bytes())
    mvhd = data.find(b"mvhd")
    movie_scale = struct.unpack(">I", data[mvhd + 16:mvhd + 20])[0]
    data[mvhd + 20:mvhd + 24] = struct.pack(">I", int(claims * movie_scale))
    tkhd = data.find(b"tkhd")  # version 0: duration after flags, 2 times, track id and a reserved word
    data[tkhd + 24:tkhd + 28] = struct.pack(">I", int(claims * movie_scale))
    mdhd = data.find(b"mdhd")
    media_scale = struct.unpack(">I", data[mdhd + 16:mdhd + 20])[0]
    data[mdhd + 20:mdhd + 24] = struct.pack(">I", int(claims * media_scale))
    path.write_bytes(bytes(data))
    with av.open(str(path)) as c:  # the header lies to the demuxer too
        assert c.duration / 1e6 == pytest.approx(claims, abs=0.1)
    return path


def bomb_png(w: int = 50000, h: int = 50000) -> bytes:
    """A PNG of a few hundred bytes whose header declares ``w`` x ``h`` RGB pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = zlib.compress(b"\0" * (1 + w * 3) * 4, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


# --- access control ---------------------------------------------------------------------------------

def test_security_api_key_required_on_running_server(serve, fake):
    with serve(create_app(fake, api_key=KEY)) as url, httpx.Client(base_url=url, timeout=10) as c:
        assert c.get("/healthz").json()["status"] == "ok"  # open for probes
        msg = err(c.post("/v1/analyze", json={"text": "hi"}), 401, "unauthorized")
        assert "API key" in msg
        assert c.post("/v1/analyze", json={"text": "hi"}).headers["www-authenticate"].startswith("Bearer")
        err(c.post("/v1/analyze", json={"text": "hi"}, headers={"Authorization": "Bearer wrong-key-xyz"}),
            401, "unauthorized")
        err(c.get("/v1/models"), 401, "unauthorized")
        err(c.get("/docs"), 401, "unauthorized")
        err(c.get("/openapi.json"), 401, "unauthorized")
        ok = c.post("/v1/analyze", json={"text": "hi"}, headers={"Authorization": f"Bearer {KEY}"})
        assert ok.status_code == 200, ok.text
        assert c.get("/v1/models", headers={"X-API-Key": KEY}).status_code == 200
        # the body of a request without the key is never handed to the app
        r = c.post("/v1/analyze", files={"file": ("a.wav", b"\0" * 100_000, "audio/wav")})
        err(r, 401, "unauthorized")
    assert len(fake.calls) == 1


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_security_key_required_beyond_loopback_cli_exit_2(host, capsys, monkeypatch):
    monkeypatch.delenv("EMOREASON_API_KEY", raising=False)
    assert main(["serve", "--host", host, "--no-warmup"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "give an API key" in lines[0] and "--no-api-key" in lines[0], lines


def test_security_key_waiver_is_loud_and_keys_are_checked(caplog, capsys):
    with caplog.at_level(logging.WARNING, logger="emoreason.serve"):
        check_exposure("0.0.0.0", None, allow_no_key=True)
    assert "NO authentication" in caplog.text
    check_exposure("127.0.0.1", None, allow_no_key=False)
    check_exposure("::1", None, allow_no_key=False)
    check_exposure("0.0.0.0", KEY, allow_no_key=False)
    assert main(["serve", "--api-key", "short", "--no-warmup"]) == 2
    assert "at least 16" in capsys.readouterr().err
    assert main(["serve", "--api-key", KEY, "--no-api-key", "--no-warmup"]) == 2
    assert "contradict" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_security_cli_server_key_from_env_and_logs_reach_console(tmp_path):
    """`emoreason serve` as started by a user: the key from EMOREASON_API_KEY is enforced, and the
    server's log lines reach the console although native stderr is silenced."""
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "EMOREASON_API_KEY": KEY}
    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "emoreason.cli.main", "serve", "--port", str(port),
                                 "--no-warmup"], env=env, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "emoreason serve did not start within 90 s"
                time.sleep(0.2)
        err(httpx.post(url + "/v1/analyze", json={"text": "hi"}, timeout=10), 401, "unauthorized")
        assert httpx.get(url + "/v1/models", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    out = log_path.read_text()
    assert f"serving on http://127.0.0.1:{port} (API key required)" in out, out
    assert "Traceback" not in out, out


def test_security_logging_reaches_console_while_native_stderr_is_silenced():
    code = ("import logging, os\n"
            "logging.basicConfig(level=logging.WARNING, format='%(levelname)s %(name)s: %(message)s')\n"
            "from emoreason.cli.native_stderr import quiet_native_stderr\n"
            "with quiet_native_stderr():\n"
            "    os.write(2, b'I0000 native TFLite noise\\n')\n"
            "    logging.getLogger('emoreason.serve').warning('a warning for the user')\n"
            "logging.getLogger('emoreason').warning('after the block')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stderr
    assert "WARNING emoreason.serve: a warning for the user" in out, out
    assert "after the block" in out and "native TFLite noise" not in out, out


# --- decoded duration, cancellation ------------------------------------------------------------------

def test_security_decoded_duration_limit_on_running_server(serve, tmp_path):
    """A file whose header claims 5 s but holds 60 s: stopped once the decoded time passes the limit."""
    media = lying_m4a(tmp_path / "lying.m4a").read_bytes()
    limits = Limits(max_duration_s=10)
    with serve(create_app(real_analyze, limits=limits)) as url, httpx.Client(base_url=url, timeout=60) as c:
        t0 = time.monotonic()
        r = c.post("/v1/analyze", files={"file": ("talk.m4a", media, "audio/mp4"),
                                         "modalities": (None, "voice")})
        msg = err(r, 413, "media_too_long")
        assert "10 s of decoded time" in msg and "header" in msg and "emoreason-upload" not in msg
        assert time.monotonic() - t0 < 30


def test_security_decoded_duration_limit_in_decode(tmp_path):
    path = lying_m4a(tmp_path / "lying.m4a", seconds=30, claims=2)
    with decode_guard(max_seconds=10), pytest.raises(MediaTooLongError, match="decoded time"):
        decode(path, audio_path=tmp_path / "a.wav")
    stats = decode(path, audio_path=tmp_path / "b.wav")  # no guard: decoded in full, as before
    assert stats.audio_seconds == pytest.approx(30, abs=0.5)


def test_security_cancel_stops_decoding_and_stages(tmp_path):
    path = lying_m4a(tmp_path / "a.m4a", seconds=20, claims=20)
    cancel = threading.Event()
    cancel.set()
    with decode_guard(cancel=cancel), pytest.raises(AnalysisCancelledError):
        decode(path, audio_path=tmp_path / "a.wav")
    with decode_guard(cancel=cancel), pytest.raises(AnalysisCancelledError):
        check_cancelled()
    check_cancelled()  # outside a guard: nothing to check


class Cooperative:
    """An analyzer that works in small steps, checking for cancellation between them (as the pipeline
    does between frames and stages), and records how it ended."""

    def __init__(self, seconds: float = 20.0):
        self.seconds = seconds
        self.ended: list[str] = []
        self.started = threading.Event()
        self.finished = threading.Event()

    def __call__(self, source=None, **kwargs):
        self.started.set()
        try:
            t_end = time.monotonic() + self.seconds
            while time.monotonic() < t_end:
                check_cancelled()
                time.sleep(0.02)
            self.ended.append("completed")
        except AnalysisCancelledError:
            self.ended.append("cancelled")
            raise
        finally:
            self.finished.set()
        raise AssertionError("not reached in these tests")


def test_security_timed_out_request_cancels_its_work(serve):
    work = Cooperative()
    limits = Limits(request_timeout_s=1.0, max_concurrency=1, max_queue=0)
    with serve(create_app(work, limits=limits)) as url, httpx.Client(base_url=url, timeout=30) as c:
        err(c.post("/v1/analyze", json={"text": "hi"}), 504, "timeout")
        assert work.finished.wait(2), "the worker kept running after the 504"
        assert work.ended == ["cancelled"]
        time.sleep(0.1)
        assert c.get("/healthz").json()["queue"]["running"] == 0


def test_security_client_disconnect_cancels_work_and_logs_one_line(serve, caplog):
    work = Cooperative()
    with caplog.at_level(logging.INFO, logger="emoreason.serve"), \
            serve(create_app(work, limits=Limits(max_concurrency=1, max_queue=0))) as url:
        port = int(url.rsplit(":", 1)[1])
        body = json.dumps({"text": "hello"}).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            assert work.started.wait(5)
        assert work.finished.wait(3), "the worker kept running after its client went away"
        assert work.ended == ["cancelled"]
        time.sleep(0.2)
        assert httpx.get(url + "/healthz").json()["queue"]["running"] == 0
    gone = [r for r in caplog.records if "client went away" in r.getMessage()]
    assert len(gone) == 1 and gone[0].exc_info is None, caplog.text
    assert "Traceback" not in caplog.text


# --- uploads -----------------------------------------------------------------------------------------

def _partial_upload(port: int, declared: int, sent: bytes) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\n"
              b"Content-Type: multipart/form-data; boundary=XyZ\r\n"
              b"Content-Length: " + str(declared).encode() + b"\r\n\r\n" + sent)
    return s


def _uploads_in(folder: Path) -> list[Path]:
    return sorted(folder.glob("emoreason-upload-*"))


def test_security_stalled_upload_dropped_and_removed(serve, fake, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    limits = Limits(upload_idle_timeout_s=1.0, max_concurrency=1, max_queue=0)
    app = create_app(fake, limits=limits)
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        port = int(url.rsplit(":", 1)[1])
        head = (b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.wav\"\r\n"
                b"Content-Type: audio/wav\r\n\r\n")
        s = _partial_upload(port, 50_000_000, head + b"RIFF" + b"\0" * 200_000)
        try:
            time.sleep(0.4)
            saved = _uploads_in(tmp_path)
            assert len(saved) == 1 and (saved[0] / "upload.wav").stat().st_size > 100_000  # being written
            assert app.state.upload_budget.used > 100_000
            # the upload holds the only place in the queue: another request is turned away at once
            r = c.post("/v1/analyze", json={"text": "hi"})
            err(r, 503, "overloaded")
            assert r.headers["retry-after"]
            t0 = time.monotonic()
            answer = b""
            while chunk := s.recv(65536):  # the server answers, then closes the connection
                answer += chunk
            waited = time.monotonic() - t0
        finally:
            s.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"upload_stalled" in answer and b"sent nothing for 1 s" in answer
        assert waited < 5
        assert _uploads_in(tmp_path) == []  # its temporary file is gone
        assert app.state.upload_budget.used == 0
        assert c.get("/healthz").json()["queue"] == {"running": 0, "queued": 0, "capacity": 1,
                                                     "max_concurrency": 1}
        assert c.post("/v1/analyze", json={"text": "hi"}).status_code == 200
    assert fake.calls[0]["text"] == "hi" and len(fake.calls) == 1


def test_security_upload_disk_budget_503(serve, fake, tmp_path, monkeypatch, wav):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    app = create_app(fake, limits=Limits(max_upload_disk_bytes=10_000))
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.post("/v1/analyze", files={"file": ("a.wav", wav, "audio/wav")})  # 32 kB > 10 kB budget
        assert "upload space" in err(r, 503, "uploads_full")
        small = c.post("/v1/analyze", files={"file": ("a.wav", wav[:8000], "audio/wav")})
        assert small.status_code == 200, small.text
    assert _uploads_in(tmp_path) == [] and app.state.upload_budget.used == 0


def test_security_upload_disconnect_mid_body_removed_one_line(serve, fake, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    app = create_app(fake)
    with caplog.at_level(logging.INFO, logger="emoreason.serve"), serve(app) as url:
        port = int(url.rsplit(":", 1)[1])
        head = (b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n")
        s = _partial_upload(port, 5_000_000, head + b"\0" * 100_000)
        time.sleep(0.3)
        s.close()
        deadline = time.monotonic() + 5
        while (_uploads_in(tmp_path) or app.state.upload_budget.used) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _uploads_in(tmp_path) == [] and app.state.upload_budget.used == 0
        assert httpx.get(url + "/healthz").json()["queue"]["queued"] == 0
    gone = [r for r in caplog.records if "client went away" in r.getMessage()]
    assert len(gone) == 1 and gone[0].exc_info is None, caplog.text
    assert fake.calls == []


# --- hostile bodies and images -----------------------------------------------------------------------

def test_security_deeply_nested_json_400(serve, fake):
    deep = b"[" * 200_000 + b"]" * 200_000
    with serve(create_app(fake)) as url, httpx.Client(base_url=url, timeout=30) as c:
        r = c.post("/v1/analyze", content=deep, headers={"content-type": "application/json"})
        assert "nested too deeply" in err(r, 400, "invalid_json")
        obj = b'{"text": ' * 100_000 + b'"x"' + b"}" * 100_000
        err(c.post("/v1/analyze", content=obj, headers={"content-type": "application/json"}), 400,
            "invalid_json")
        assert c.get("/healthz").status_code == 200
    assert fake.calls == []


def test_security_decompression_bomb_png(serve, tmp_path, capsys):
    bomb = bomb_png()
    assert len(bomb) < 2000
    (tmp_path / "bomb.png").write_bytes(bomb)
    with pytest.raises(MediaTooLargeError, match="too large"):
        load_image(tmp_path / "bomb.png")
    (tmp_path / "big.png").write_bytes(bomb_png(12000, 10000))  # 120 MP: past the cap, under Pillow's error
    with pytest.raises(MediaTooLargeError, match="12000x10000"):
        load_image(tmp_path / "big.png")
    with serve(create_app(real_analyze)) as url, httpx.Client(base_url=url, timeout=60) as c:
        r = c.post("/v1/analyze",
                   files={"file": ("face.png", bomb, "image/png"), "modalities": (None, "face")})
        assert "too large" in err(r, 413, "media_too_large")
    assert main(["analyze", str(tmp_path / "bomb.png"), "--modalities", "face"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("emoreason: error:") and "too large" in lines[0], lines
