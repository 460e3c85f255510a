"""The HTTP API over real HTTP: every endpoint, the options, the upload's life cycle."""

from __future__ import annotations

import concurrent.futures
import os
import stat
import time
from pathlib import Path

import httpx
import pytest

from emoreason.serve.app import create_app
from emoreason.serve.limits import Limits


def test_health_models_docs(serve, fake):
    with serve(create_app(fake)) as url, httpx.Client(base_url=url, timeout=10) as c:
        h = c.get("/healthz")
        assert h.status_code == 200
        assert h.json()["status"] == "ok"
        assert h.json()["queue"] == {"running": 0, "queued": 0, "capacity": 5, "max_concurrency": 1}
        m = c.get("/v1/models").json()
        assert m["object"] == "list"
        assert [d["id"] for d in m["data"]] == ["emoreason-default"]
        schema = c.get("/openapi.json").json()
        assert {"/v1/analyze", "/healthz", "/v1/models", "/v1/chat/completions"} <= set(schema["paths"])
        body = schema["paths"]["/v1/analyze"]["post"]["requestBody"]["content"]
        assert {"multipart/form-data", "application/json"} <= set(body)
        assert {"413", "415", "503", "504"} <= set(schema["paths"]["/v1/analyze"]["post"]["responses"])
        docs = c.get("/docs")
        assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
        assert "/v1/analyze" in docs.text and "<script" not in docs.text and "cdn" not in docs.text.lower()


def test_analyze_json_text_passes_options(serve, fake):
    with serve(create_app(fake)) as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.post("/v1/analyze", json={"text": "I am furious", "labels": "MER2023", "modalities": ["text"]})
        assert r.status_code == 200, r.text
        d = r.json()
        assert d["label"] == "angry" and d["input"] == "<text>" and d["schema_version"] == "1"
        assert d["label_set"] == "mer2023"
    assert fake.calls[0]["source"] is None
    assert fake.calls[0]["text"] == "I am furious"
    assert fake.calls[0]["modalities"] == ["text"]


def test_upload_wav_private_dir_removed_after(serve, fake, wav):
    seen = {}

    def spy(source=None, **kw):
        p = Path(source)
        seen["path"] = p
        seen["dir_mode"] = stat.S_IMODE(os.stat(p.parent).st_mode)
        seen["bytes"] = p.read_bytes()
        return fake(source, **kw)

    with serve(create_app(spy)) as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.post("/v1/analyze", files={"file": ("../../etc/tone.WAV", wav, "audio/wav")},
                   data={"modalities": "voice,text", "fps": "2", "text": "hello there",
                         "speaker_normalisation": "never", "face_model": "facex"})
        assert r.status_code == 200, r.text
        d = r.json()
    assert d["input"] == "tone.WAV"  # the client's name without its directories, never the server path
    assert "emoreason-upload" not in r.text and str(seen["path"].parent) not in r.text
    assert d["notes"] == [f"bytes={len(wav)}", "read tone.WAV"] and d["provenance"] == {"workdir": "<upload>"}
    assert seen["bytes"] == wav
    assert seen["path"].suffix == ".wav" and seen["dir_mode"] == 0o700
    assert not seen["path"].parent.exists()
    call = fake.calls[0]
    assert call["modalities"] == ["voice", "text"] and call["fps"] == 2.0 and call["text"] == "hello there"
    assert call["speaker_normalisation"] == "never" and call["face_model"] == "facex"


def test_upload_image(serve, fake, png):
    with serve(create_app(fake)) as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.post("/v1/analyze", files={"file": ("face.png", png, "image/png")})
        assert r.status_code == 200, r.text
    assert fake.calls[0]["size"] == len(png)


def test_text_field_alone_in_multipart(serve, fake):
    with serve(create_app(fake)) as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.post("/v1/analyze", files={"text": (None, "so happy")})
        assert r.status_code == 200, r.text
        assert r.json()["input"] == "<text>"


def test_models_lists_chat_model_and_mllm(serve, fake):
    class Chat:
        model_id = "tiny-emollm"

        def stream_chat(self, turns, *, max_tokens, temperature):
            yield "ok"

    app = create_app(fake, chat_model=Chat(), model_path="/models/x")
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        ids = [d["id"] for d in c.get("/v1/models").json()["data"]]
        assert ids == ["emoreason-mllm", "tiny-emollm"]
        assert c.get("/healthz").json()["chat_model"] == "tiny-emollm"
        c.post("/v1/analyze", json={"text": "hi"})
    assert fake.calls[0]["model"] == "/models/x"


@pytest.mark.parametrize("n_clients", [6])
def test_concurrent_requests(serve, fake, n_clients):
    fake.release.clear()
    app = create_app(fake, limits=Limits(max_concurrency=2, max_queue=n_clients))
    with serve(app) as url:
        def one(i: int) -> httpx.Response:
            with httpx.Client(base_url=url, timeout=20) as c:
                text = f"request {i} furious" if i % 2 else f"request {i}"
                return c.post("/v1/analyze", json={"text": text})

        with concurrent.futures.ThreadPoolExecutor(n_clients) as pool:
            futures = [pool.submit(one, i) for i in range(n_clients)]
            for _ in range(2):
                assert fake.started.acquire(timeout=10)
            with httpx.Client(base_url=url, timeout=5) as c:  # the event loop answers while workers are busy
                t0 = time.monotonic()
                q = c.get("/healthz").json()["queue"]
                assert time.monotonic() - t0 < 1.0
            assert q["running"] == 2
            fake.release.set()
            responses = [f.result() for f in futures]
    assert [r.status_code for r in responses] == [200] * n_clients
    assert [r.json()["label"] for r in responses] == ["angry" if i % 2 else "happy" for i in range(n_clients)]
    assert fake.max_active == 2


def test_transcript_upload_and_html_report(serve, fake, wav):
    seen = {}

    def spy(source=None, **kw):
        if "transcript" in kw:
            seen["transcript"] = Path(kw["transcript"]).read_text(encoding="utf-8")
            seen["kw"] = kw
        return fake(source, **kw)

    srt = "1\n00:00:00,000 --> 00:00:01,000\nI am furious\n"
    with serve(create_app(spy)) as url, httpx.Client(base_url=url, timeout=20) as c:
        r = c.post("/v1/analyze", files={"file": ("tone.wav", wav, "audio/wav"),
                                         "transcript": ("tone.srt", srt.encode(), "text/plain"),
                                         "format": (None, "html")})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/html")
        page = r.text
        assert page.startswith("<!DOCTYPE html>") and "tone.wav" in page and "<svg" in page
        assert "emoreason-upload" not in page
        bad = c.post("/v1/analyze", files={"file": ("tone.wav", wav, "audio/wav"),
                                           "transcript": ("t.doc", b"x", "text/plain")})
        assert bad.status_code == 400 and ".txt, .srt, .vtt" in bad.json()["error"]["message"]
        alone = c.post("/v1/analyze", files={"transcript": ("t.srt", srt.encode(), "text/plain")})
        assert alone.status_code == 400
        j = c.post("/v1/analyze", json={"text": "hello", "format": "html"})
        assert j.status_code == 200 and "<!DOCTYPE html>" in j.text and "&lt;text&gt;" in j.text
        assert c.post("/v1/analyze", json={"text": "x", "format": "pdf"}).status_code == 400
        r = c.post("/v1/analyze", json={"text": "x", "explain_endpoint": "http://169.254.169.254/"})
        assert r.status_code == 400 and "fetches no URL" in r.json()["error"]["message"]
    assert seen["transcript"] == srt and "format" not in seen["kw"]
