"""Every error the API reports, over real HTTP, in the one shape {"error": {"type", "message"}}."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from emoreason.errors import CorruptMediaError, ModelError, NoUsableModalityError
from emoreason.serve.app import create_app
from emoreason.serve.limits import Limits


def err(r: httpx.Response, status: int, kind: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message"}, body
    assert body["error"]["type"] == kind, body
    assert "Traceback" not in body["error"]["message"] and "\n" not in body["error"]["message"]
    return body["error"]["message"]


def test_request_errors(serve, fake, tmp_path):
    with serve(create_app(fake)) as url, httpx.Client(base_url=url, timeout=10) as c:
        assert "no such endpoint" in err(c.get("/nope"), 404, "not_found")
        assert "not allowed" in err(c.get("/v1/analyze"), 405, "method_not_allowed")
        err(c.post("/v1/analyze", content=b"hello", headers={"content-type": "text/plain"}), 415,
            "unsupported_content_type")
        err(c.post("/v1/analyze", data={"text": "hi"}), 415, "unsupported_content_type")  # urlencoded
        err(c.post("/v1/analyze", content=b"{not json", headers={"content-type": "application/json"}), 400,
            "invalid_json")
        err(c.post("/v1/analyze", json=["text"]), 400, "invalid_request")
        assert "needs a non-empty 'text'" in err(c.post("/v1/analyze", json={"text": "  "}), 400,
                                                 "invalid_request")
        assert "no server-side paths" in err(c.post("/v1/analyze", json={"path": "/etc/passwd"}), 400,
                                             "invalid_request")
        assert "model is chosen" in err(c.post("/v1/analyze", json={"text": "x", "model": "/m"}), 400,
                                        "invalid_request")
        assert "unknown field" in err(c.post("/v1/analyze", json={"text": "x", "colour": 1}), 400,
                                      "invalid_request")
        assert "label set" in err(c.post("/v1/analyze", json={"text": "x", "labels": "nope"}), 400,
                                  "invalid_option")
        err(c.post("/v1/analyze", json={"text": "x", "modalities": "smell"}), 400, "invalid_option")
        err(c.post("/v1/analyze", files={"fps": (None, "fast"), "text": (None, "x")}), 400, "invalid_option")
        err(c.post("/v1/analyze", files={"fps": (None, "500"), "text": (None, "x")}), 400, "invalid_option")
        often = {"text": "x", "speaker_normalisation": "often"}
        assert "speaker_normalisation" in err(c.post("/v1/analyze", json=often), 400, "invalid_option")
        assert "face model" in err(c.post("/v1/analyze", json={"text": "x", "face_model": "vgg"}), 400,
                                   "invalid_option")
        err(c.post("/v1/analyze", files={"video": ("a.wav", b"RIFF", "audio/wav")}), 400, "invalid_request")
        no_media = {"labels": (None, "meld")}  # no file, no text
        err(c.post("/v1/analyze", files=no_media), 400, "invalid_request")
        # bad media: zero bytes, a text file named .mp4, random bytes
        err(c.post("/v1/analyze", files={"file": ("a.mp4", b"", "video/mp4")}), 400, "empty_input")
        text_as_mp4 = {"file": ("a.mp4", b"just some text\n" * 20, "video/mp4")}
        msg = err(c.post("/v1/analyze", files=text_as_mp4), 415, "unsupported_format")
        assert "could not be read" in msg
    assert fake.calls == []  # nothing bad reached the analyzer


def test_too_large_upload_413(serve, fake, wav):
    limits = Limits(max_upload_bytes=4096)
    with serve(create_app(fake, limits=limits)) as url, httpx.Client(base_url=url, timeout=10) as c:
        big = b"\0" * 200_000
        msg = err(c.post("/v1/analyze", files={"file": ("a.wav", big, "audio/wav")}), 413,
                  "payload_too_large")
        assert "limit" in msg and "4096 bytes" in msg

        def chunks():  # no Content-Length: the limit must hold while the body streams in
            for _ in range(50):
                yield b"x" * 8192

        r = c.post("/v1/analyze", content=chunks(), headers={"content-type": "application/json"})
        err(r, 413, "payload_too_large")
        # over the file limit but under the framing slack: caught while saving the upload
        err(c.post("/v1/analyze", files={"file": ("a.wav", wav, "audio/wav")}), 413, "payload_too_large")
    assert fake.calls == []


def test_too_long_media_and_text_413(serve, fake, wav):
    limits = Limits(max_duration_s=0.5, max_text_chars=100)
    with serve(create_app(fake, limits=limits)) as url, httpx.Client(base_url=url, timeout=10) as c:
        msg = err(c.post("/v1/analyze", files={"file": ("tone.wav", wav, "audio/wav")}), 413,
                  "media_too_long")
        assert "1.0 s" in msg and "0.5 s" in msg
        err(c.post("/v1/analyze", json={"text": "a" * 101}), 413, "text_too_long")
        assert c.post("/v1/analyze", json={"text": "a" * 100}).status_code == 200


def test_analyzer_errors_map_to_statuses(serve):
    errors = iter([NoUsableModalityError("no face, no speech and no words found"),
                   CorruptMediaError("the video stream is truncated"), ModelError("text head missing"),
                   RuntimeError("secret internal detail")])

    def failing(source=None, **kw):
        raise next(errors)

    with serve(create_app(failing)) as url, httpx.Client(base_url=url, timeout=10) as c:
        def post():
            return c.post("/v1/analyze", json={"text": "x"})
        assert err(post(), 422, "no_usable_modality") == "no face, no speech and no words found"
        err(post(), 422, "corrupt_media")
        assert "model setup" in err(post(), 500, "model_error")
        msg = err(post(), 500, "internal_error")
        assert "RuntimeError" in msg and "secret" not in msg


def test_queue_full_503_with_retry_after(serve, fake):
    fake.release.clear()
    limits = Limits(max_concurrency=1, max_queue=1, retry_after_s=7)
    with serve(create_app(fake, limits=limits)) as url:
        results: list[httpx.Response] = []

        def one():
            with httpx.Client(base_url=url, timeout=20) as c:
                results.append(c.post("/v1/analyze", json={"text": "x"}))

        threads = [threading.Thread(target=one) for _ in range(2)]
        for t in threads:
            t.start()
        assert fake.started.acquire(timeout=10)  # one runs ...
        deadline = time.monotonic() + 10
        with httpx.Client(base_url=url, timeout=10) as c:
            while c.get("/healthz").json()["queue"]["queued"] < 1:  # ... and one waits
                assert time.monotonic() < deadline
                time.sleep(0.02)
            r = c.post("/v1/analyze", json={"text": "x"})
            assert "busy" in err(r, 503, "overloaded")
            assert r.headers["retry-after"] == "7"
            fake.release.set()
            for t in threads:
                t.join(20)
            assert [x.status_code for x in results] == [200, 200]
            assert c.post("/v1/analyze", json={"text": "x"}).status_code == 200  # capacity is back


def test_timeout_504_and_slot_kept_until_job_ends(serve, fake, wav):
    fake.release.clear()
    limits = Limits(request_timeout_s=0.3, max_concurrency=1, max_queue=0)
    with serve(create_app(fake, limits=limits)) as url, httpx.Client(base_url=url, timeout=10) as c:
        t0 = time.monotonic()
        msg = err(c.post("/v1/analyze", files={"file": ("t.wav", wav, "audio/wav")}), 504, "timeout")
        assert time.monotonic() - t0 < 3 and "0.3 s" in msg
        # the job cannot be killed: it keeps its slot (503) and its upload until it really ends
        err(c.post("/v1/analyze", json={"text": "x"}), 503, "overloaded")
        upload = fake.calls[0]["source"]
        assert Path(upload).exists()
        fake.release.set()
        deadline = time.monotonic() + 10
        while c.get("/healthz").json()["queue"]["running"]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.05)
        assert not Path(upload).parent.exists()
        assert c.post("/v1/analyze", json={"text": "x"}).status_code == 200


@pytest.mark.parametrize("limit_kwargs", [{"max_concurrency": 0}, {"max_upload_bytes": 0}, {"max_queue": -1}])
def test_bad_limits_rejected(limit_kwargs):
    with pytest.raises(ValueError):
        Limits(**limit_kwargs)


def test_malformed_multipart(serve, fake):
    with serve(create_app(fake)) as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.post("/v1/analyze", content=b"--xyz\r\nContent-Disposition: form-data\r\n\r\nbroken",
                   headers={"content-type": "multipart/form-data; boundary=xyz"})
        err(r, 400, "invalid_request")
        r = c.post("/v1/analyze", content=b"whatever", headers={"content-type": "multipart/form-data"})
        err(r, 400, "invalid_request")
    assert fake.calls == []


def test_error_messages_do_not_reveal_the_upload_path(serve, wav):
    def failing(source=None, **kw):
        raise CorruptMediaError(f"{source}: the audio stream is truncated (in {source.rsplit('/', 1)[0]})")

    with serve(create_app(failing)) as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.post("/v1/analyze", files={"file": ("my clip.wav", wav, "audio/wav")})
        assert err(r, 422, "corrupt_media") == "my clip.wav: the audio stream is truncated (in <upload>)"
