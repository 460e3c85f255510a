"""OpenAI-compatible /v1/chat/completions against a fake multimodal model, over real HTTP."""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path

import httpx

from emoreason.errors import CorruptMediaError, UnparsableAnswerError
from emoreason.serve.app import create_app
from emoreason.serve.limits import Limits


class FakeChat:
    """Answers with what it received: the roles, the media kinds and their sizes on disk."""

    model_id = "tiny-emollm"

    def __init__(self, delay: float = 0.0, fail: Exception | None = None):
        self.delay, self.fail = delay, fail
        self.seen: list = []

    def stream_chat(self, turns, *, max_tokens, temperature):
        self.seen.append(turns)
        if self.fail:
            raise self.fail
        media = [(m.kind, m.path.stat().st_size, m.path) for t in turns for m in t.media]
        words = [f"roles={','.join(t.role for t in turns)}",
                 f"media={','.join(k for k, _, _ in media) or 'none'}",
                 f"sizes={','.join(str(s) for _, s, _ in media) or '0'}",
                 f"max={max_tokens}", f"temp={temperature}"]
        for i, w in enumerate(words):
            if self.delay:
                time.sleep(self.delay)
            yield (" " if i else "") + w


def data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def sse_events(r: httpx.Response) -> list:
    events = []
    for line in r.iter_lines():
        if line.startswith("data: "):
            payload = line[6:]
            events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def test_chat_non_streaming_with_video_and_audio_parts(serve, fake, wav, png):
    model = FakeChat()
    with serve(create_app(fake, chat_model=model)) as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.post("/v1/chat/completions", json={
            "model": "tiny-emollm", "max_tokens": 64, "temperature": 0.2,
            "messages": [{"role": "system", "content": "You are an emotion analysis expert."},
                         {"role": "user", "content": [
                             {"type": "image_url", "image_url": {"url": data_url("image/png", png)}},
                             {"type": "input_audio", "input_audio": {"data": base64.b64encode(wav).decode(),
                                                                     "format": "wav"}},
                             {"type": "audio_url", "audio_url": {"url": data_url("audio/wav", wav)}},
                             {"type": "text", "text": "Which emotion does this reflect?"}]}]})
        assert r.status_code == 200, r.text
        d = r.json()
    assert d["object"] == "chat.completion" and d["model"] == "tiny-emollm"
    assert d["choices"][0]["message"] == {
        "role": "assistant",
        "content": f"roles=system,user media=image,audio,audio sizes={len(png)},{len(wav)},{len(wav)} "
                   "max=64 temp=0.2"}
    user = model.seen[0][1]
    assert user.text == "Which emotion does this reflect?"
    assert not user.media[0].path.parent.exists()  # decoded media removed after the request


def test_chat_streams_sse(serve, fake, wav):
    model = FakeChat(delay=0.05)
    with serve(create_app(fake, chat_model=model)) as url, httpx.Client(base_url=url, timeout=10) as c:
        body = {"stream": True, "messages": [{"role": "user", "content": [
            {"type": "video_url", "video_url": {"url": data_url("audio/wav", wav)}},
            {"type": "text", "text": "why?"}]}]}
        with c.stream("POST", "/v1/chat/completions", json=body) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            events = sse_events(r)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(e["object"] == "chat.completion.chunk" for e in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in chunks)
    assert text == f"roles=user media=video sizes={len(wav)} max=512 temp=0.0"
    assert len(chunks) == 7  # role chunk + 5 pieces + stop chunk: streamed piece by piece


def test_chat_errors(serve, fake, wav):
    with serve(create_app(fake)) as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 404 and r.json()["error"]["type"] == "no_chat_model"
        assert "--model PATH" in r.json()["error"]["message"]
    limits = Limits(max_duration_s=0.5)
    with serve(create_app(fake, chat_model=FakeChat(), limits=limits)) as url, \
            httpx.Client(base_url=url, timeout=10) as c:
        def post(body):
            return c.post("/v1/chat/completions", json=body)

        def user(*parts):
            return {"messages": [{"role": "user", "content": list(parts)}]}

        cases = [
            ({"messages": []}, 400, "invalid_request"),
            ({"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}, 404, "model_not_found"),
            ({"messages": [{"role": "wizard", "content": "hi"}]}, 400, "invalid_request"),
            ({"n": 2, "messages": [{"role": "user", "content": "hi"}]}, 400, "invalid_request"),
            ({"max_tokens": 0, "messages": [{"role": "user", "content": "hi"}]}, 400, "invalid_request"),
            (user({"type": "video_url", "video_url": {"url": "http://example.com/a.mp4"}}), 400,
             "invalid_request"),
            (user({"type": "video_url", "video_url": {"url": "file:///etc/passwd"}}), 400, "invalid_request"),
            (user({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}), 400,
             "invalid_request"),
            (user({"type": "hologram"}), 400, "invalid_request"),
            (user({"type": "input_audio", "input_audio": {"data": "AAAA", "format": "aiff"}}), 400,
             "invalid_request"),
            (user({"type": "audio_url", "audio_url": {"url": data_url("audio/wav", wav)}}), 413,
             "media_too_long"),
            (user({"type": "video_url", "video_url": {"url": data_url("video/mp4", b"not a video")}}), 415,
             "unsupported_format"),
        ]
        for body, status, kind in cases:
            r = post(body)
            assert (r.status_code, r.json()["error"]["type"]) == (status, kind), (body, r.text)
        only_data = post(cases[5][0]).json()["error"]["message"]
        assert "only data: URLs" in only_data


def test_chat_stream_reports_model_error_and_timeout(serve, fake):
    msgs = {"stream": True, "messages": [{"role": "user", "content": "hi"}]}
    failing = FakeChat(fail=UnparsableAnswerError("the answer names no label"))
    with serve(create_app(fake, chat_model=failing)) as url, httpx.Client(base_url=url, timeout=10) as c:
        with c.stream("POST", "/v1/chat/completions", json=msgs) as r:
            events = sse_events(r)
        assert events[-1] == "[DONE]"
        assert events[-2] == {"error": {"type": "unparsable_answer", "message": "the answer names no label"}}
        r = c.post("/v1/chat/completions", json={**msgs, "stream": False})
        assert r.status_code == 422 and r.json()["error"]["type"] == "unparsable_answer"
    slow = FakeChat(delay=0.4)
    with serve(create_app(fake, chat_model=slow, limits=Limits(request_timeout_s=0.6))) as url, \
            httpx.Client(base_url=url, timeout=10) as c:
        with c.stream("POST", "/v1/chat/completions", json=msgs) as r:
            events = sse_events(r)
        assert events[-1] == "[DONE]"
        assert events[-2]["error"]["type"] == "timeout"
        assert 1 <= sum(1 for e in events[:-2] if e["choices"][0]["delta"].get("content")) < 5
        r = c.post("/v1/chat/completions", json={**msgs, "stream": False})
        assert r.status_code == 504 and r.json()["error"]["type"] == "timeout"


def test_chat_stream_queue_full_is_503_before_streaming(serve, fake):
    gate = threading.Event()

    class Blocking(FakeChat):
        def stream_chat(self, turns, *, max_tokens, temperature):
            gate.wait(20)
            yield "done"

    app = create_app(fake, chat_model=Blocking(), limits=Limits(max_concurrency=1, max_queue=0))
    msgs = {"stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        with c.stream("POST", "/v1/chat/completions", json=msgs) as first:
            assert first.status_code == 200
            r = c.post("/v1/chat/completions", json=msgs)
            assert r.status_code == 503 and r.headers["retry-after"]
            gate.set()
            events = sse_events(first)
            assert "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1]) == "done"


def test_no_temp_files_left(serve, fake, wav, tmp_path):
    model = FakeChat()
    with serve(create_app(fake, chat_model=model)) as url, httpx.Client(base_url=url, timeout=10) as c:
        c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": [
            {"type": "audio_url", "audio_url": {"url": data_url("audio/wav", wav)}}]}]})
    assert all(not Path(m.path).exists() for t in model.seen[0] for m in t.media)


def test_client_leaving_mid_stream_stops_generation(serve, fake):
    produced: list[int] = []

    class Long(FakeChat):
        def stream_chat(self, turns, *, max_tokens, temperature):
            for i in range(200):
                produced.append(i)
                time.sleep(0.02)
                yield f"w{i} "

    app = create_app(fake, chat_model=Long())
    msgs = {"stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with serve(app) as url:
        with (httpx.Client(base_url=url, timeout=10) as c,
              c.stream("POST", "/v1/chat/completions", json=msgs) as r):
            lines = r.iter_lines()
            got = [line for line, _ in zip(lines, range(6))]
            assert any("w1" in line for line in got)
        with httpx.Client(base_url=url, timeout=10) as c:
            deadline = time.monotonic() + 10
            while c.get("/healthz").json()["queue"]["running"]:
                assert time.monotonic() < deadline, "the generation kept running after the client left"
                time.sleep(0.05)
    assert len(produced) < 100


def test_chat_media_size_limit_counts_decoded_bytes(serve, fake, wav):
    """base64 inflates media by 4/3: media at the limit pass, larger media get 413."""
    model = FakeChat()
    limits = Limits(max_upload_bytes=len(wav))
    app = create_app(fake, chat_model=model, limits=limits)
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        def ask(data: bytes) -> httpx.Response:
            return c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": [
                {"type": "audio_url", "audio_url": {"url": data_url("audio/wav", data)}}]}]})

        assert ask(wav).status_code == 200
        r = ask(wav + b"\0" * 1000)
        assert r.status_code == 413 and r.json()["error"]["type"] == "payload_too_large"
        r = ask(wav * 3)  # refused from its Content-Length, before the body is read
        assert r.status_code == 413 and r.json()["error"]["type"] == "payload_too_large"


def test_chat_errors_do_not_reveal_the_temp_dir(serve, fake, wav):
    class Failing(FakeChat):
        def stream_chat(self, turns, *, max_tokens, temperature):
            raise CorruptMediaError(f"{turns[0].media[0].path}: truncated")
            yield ""  # pragma: no cover

    body = {"messages": [{"role": "user", "content": [
        {"type": "audio_url", "audio_url": {"url": data_url("audio/wav", wav)}}]}]}
    with serve(create_app(fake, chat_model=Failing())) as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.post("/v1/chat/completions", json=body)
        assert r.status_code == 422 and r.json()["error"]["message"] == "<upload>/m0_0.wav: truncated"
        with c.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as s:
            events = sse_events(s)
        assert events[-2] == {"error": {"type": "corrupt_media", "message": "<upload>/m0_0.wav: truncated"}}
