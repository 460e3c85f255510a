"""OpenAI-compatible ``POST /v1/chat/completions`` for a loaded multimodal LLM, streaming or not.

Messages take content parts as vLLM accepts them: ``text``, ``image_url``, ``video_url``, ``audio_url``
(each ``{"url": "data:<mime>;base64,..."}``) and ``input_audio`` (``{"data": base64, "format": "wav"}``).
Only ``data:`` URLs: the server fetches nothing and reads no path a client names. Decoded media go to
a private temporary directory, pass the same size and duration limits as uploads, and are deleted
when generation ends. The model is anything with the small :class:`ChatModel` protocol.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from emoreason.errors import EmoreasonError
from emoreason.serve.bodies import read_json
from emoreason.serve.errors import ApiError, api_error_from, error_body, error_responses
from emoreason.serve.limits import Limits, Reservation, WorkQueue, check_media_duration

MediaKind = Literal["image", "video", "audio"]
_PART_KINDS: dict[str, MediaKind] = {"image_url": "image", "video_url": "video", "audio_url": "audio"}
_AUDIO_FORMATS = {"wav": ".wav", "mp3": ".mp3", "flac": ".flac", "ogg": ".ogg", "m4a": ".m4a"}
_SUFFIX_FOR_MIME = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "video/mp4": ".mp4",
                    "video/webm": ".webm", "video/quicktime": ".mov", "video/x-matroska": ".mkv",
                    "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav", "audio/mpeg": ".mp3",
                    "audio/flac": ".flac", "audio/ogg": ".ogg", "audio/mp4": ".m4a"}


@dataclass
class MediaItem:
    kind: MediaKind
    path: Path


@dataclass
class ChatTurn:
    """One message: its role, its text (text parts joined by blank lines) and its media, in order."""

    role: str
    text: str
    media: list[MediaItem] = field(default_factory=list)


class ChatModel(Protocol):
    """What the chat endpoint needs from a multimodal LLM (e.g. one loaded by ``emoreason.emollm.infer``)."""

    model_id: str

    def stream_chat(self, turns: Sequence[ChatTurn], *, max_tokens: int, temperature: float) -> Iterator[str]:
        """Yield the answer piece by piece (tokens or words); must be safe to call from a worker thread."""
        ...


def add_chat_routes(app: FastAPI, model: ChatModel | None, queue: WorkQueue, limits: Limits,
                    unavailable_reason: str | None = None) -> None:
    """Register ``POST /v1/chat/completions`` (404 with the reason when no model is loaded)."""

    @app.post("/v1/chat/completions",
              summary="OpenAI-compatible chat with video/audio/image parts (SSE stream)",
              openapi_extra=_CHAT_OPENAPI, responses=error_responses(400, 404, 413, 415, 422, 500, 503, 504))
    async def chat_completions(request: Request) -> Any:
        if model is None:
            raise ApiError(404, "no_chat_model", unavailable_reason
                           or "no multimodal LLM is loaded; start the server with --model PATH")
        reservation = queue.reserve()  # before the body: its place in the line is held while it arrives
        try:
            return await _complete(request, model, reservation)
        finally:
            reservation.release()  # a no-op once the job has taken it over

    async def _complete(request: Request, model: ChatModel, reservation: Reservation) -> Any:
        body = await read_json(request)
        params = _params(body, model.model_id)
        workdir = Path(tempfile.mkdtemp(prefix="emoreason-chat-"))
        cleanup = _once(lambda: shutil.rmtree(workdir, ignore_errors=True))
        try:
            turns = await asyncio.to_thread(_turns, body["messages"], workdir, limits)
        except BaseException:
            cleanup()
            raise
        call_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        if not params["stream"]:
            def collect() -> str:
                return "".join(model.stream_chat(turns, max_tokens=params["max_tokens"],
                                                 temperature=params["temperature"]))
            try:
                text = await queue.run(collect, timeout=limits.request_timeout_s, cleanup=cleanup,
                                       reservation=reservation, disconnected=request.is_disconnected)
            except EmoreasonError as exc:  # named without the server's temporary directory
                err = api_error_from(exc)
                raise ApiError(err.status, err.type, err.message.replace(str(workdir), "<upload>")) from None
            return JSONResponse({"id": call_id, "object": "chat.completion", "created": created,
                                 "model": model.model_id, "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}]})
        stream = _Stream(model, turns, params, hide=str(workdir))
        queue.submit(stream.produce, cleanup=cleanup, reservation=reservation)
        return StreamingResponse(stream.events(call_id, created, limits.request_timeout_s),
                                 media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


class _Stream:
    """Bridges the model's blocking iterator (a worker thread) to server-sent events (the event loop)."""

    def __init__(self, model: ChatModel, turns: list[ChatTurn], params: dict[str, Any], hide: str):
        self.model, self.turns, self.params, self.hide = model, turns, params, hide
        self.loop = asyncio.get_running_loop()
        self.pieces: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.stop = threading.Event()

    def _put(self, kind: str, value: Any) -> None:
        self.loop.call_soon_threadsafe(self.pieces.put_nowait, (kind, value))

    def produce(self) -> None:
        try:
            for piece in self.model.stream_chat(self.turns, max_tokens=self.params["max_tokens"],
                                                temperature=self.params["temperature"]):
                if self.stop.is_set():
                    return
                self._put("piece", piece)
            self._put("end", None)
        except EmoreasonError as exc:
            err = api_error_from(exc)
            self._put("error", error_body(err.type, err.message.replace(self.hide, "<upload>")))
        except Exception as exc:  # reported in the stream: the HTTP status is already sent
            self._put("error", error_body("internal_error", f"generation failed ({type(exc).__name__})"))

    async def events(self, call_id: str, created: int, timeout: float) -> AsyncIterator[bytes]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            data = {"id": call_id, "object": "chat.completion.chunk", "created": created,
                    "model": self.model.model_id,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()

        deadline = time.monotonic() + timeout
        try:
            yield chunk({"role": "assistant", "content": ""})
            while True:
                remaining = deadline - time.monotonic()
                try:
                    kind, value = await asyncio.wait_for(self.pieces.get(), max(remaining, 0.001))
                except (asyncio.TimeoutError, TimeoutError):
                    body = error_body("timeout",
                                      f"generation took longer than this server's limit of {timeout:g} s")
                    yield f"data: {json.dumps(body)}\n\n".encode()
                    break
                if kind == "piece":
                    yield chunk({"content": value})
                elif kind == "end":
                    yield chunk({}, "stop")
                    break
                else:
                    yield f"data: {json.dumps(value)}\n\n".encode()
                    break
            yield b"data: [DONE]\n\n"
        finally:
            self.stop.set()  # a client that went away, a timeout or the end: the worker stops early


def _params(body: Any, model_id: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "the body must be a JSON object with 'messages'")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "invalid_request", "'messages' must be a non-empty list")
    asked = body.get("model")
    if asked not in (None, "", model_id):
        raise ApiError(404, "model_not_found",
                       f"model {asked!r} is not loaded; this server runs {model_id!r}")
    if body.get("n", 1) != 1:
        raise ApiError(400, "invalid_request", "only n=1 is supported")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens", 512))
    temperature = body.get("temperature", 0.0)
    if not isinstance(max_tokens, int) or not 1 <= max_tokens <= 8192:
        raise ApiError(400, "invalid_request", "max_tokens must be an integer from 1 to 8192")
    if not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
        raise ApiError(400, "invalid_request", "temperature must be a number from 0 to 2")
    return {"stream": bool(body.get("stream", False)), "max_tokens": max_tokens,
            "temperature": float(temperature)}


def _turns(messages: list[Any], workdir: Path, limits: Limits) -> list[ChatTurn]:
    turns: list[ChatTurn] = []
    budget = [limits.max_upload_bytes]
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ("system", "user", "assistant"):
            raise ApiError(400, "invalid_request", f"messages[{i}] needs a role of system, user or assistant")
        content = msg.get("content")
        if isinstance(content, str):
            turns.append(ChatTurn(msg["role"], content))
            continue
        if not isinstance(content, list):
            raise ApiError(400, "invalid_request",
                           f"messages[{i}].content must be a string or a list of parts")
        texts: list[str] = []
        media: list[MediaItem] = []
        for j, part in enumerate(content):
            where = f"messages[{i}].content[{j}]"
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text":
                texts.append(str(part.get("text", "")))
            elif kind in _PART_KINDS or kind == "input_audio":
                media.append(_save_part(part, kind, workdir / f"m{i}_{j}", budget, limits, where))
            else:
                raise ApiError(400, "invalid_request",
                               f"{where}: unknown part type {kind!r}; use text, image_url, video_url, "
                               "audio_url or input_audio")
        turns.append(ChatTurn(msg["role"], "\n\n".join(texts), media))
    return turns


def _save_part(part: dict[str, Any], kind: str, stem: Path, budget: list[int], limits: Limits,
               where: str) -> MediaItem:
    if kind == "input_audio":
        spec = part.get("input_audio") or {}
        fmt = str(spec.get("format", "wav")).lower()
        if fmt not in _AUDIO_FORMATS:
            raise ApiError(400, "invalid_request",
                           f"{where}: audio format {fmt!r} is not one of {', '.join(_AUDIO_FORMATS)}")
        data, suffix, media_kind = _b64(spec.get("data"), where), _AUDIO_FORMATS[fmt], "audio"
    else:
        spec = part.get(kind) or {}
        url = spec.get("url") if isinstance(spec, dict) else spec
        if not isinstance(url, str) or not url.startswith("data:"):
            raise ApiError(400, "invalid_request",
                           f"{where}: only data: URLs are accepted (base64 media inline); "
                           "this server fetches no URL and reads no server path")
        header, _, payload = url[5:].partition(",")
        mime = header.split(";")[0].lower()
        if ";base64" not in header:
            raise ApiError(400, "invalid_request",
                           f"{where}: the data URL must be base64 (data:<mime>;base64,...)")
        data, suffix, media_kind = _b64(payload, where), _SUFFIX_FOR_MIME.get(mime, ""), _PART_KINDS[kind]
    budget[0] -= len(data)
    if budget[0] < 0:
        raise ApiError(413, "payload_too_large",
                       "the media in this request exceed this server's limit of "
                       f"{limits.max_upload_bytes} bytes")
    path = stem.with_suffix(suffix) if suffix else stem
    path.write_bytes(data)
    check_media_duration(path, limits.max_duration_s)
    return MediaItem(media_kind, path)  # type: ignore[arg-type]


def _b64(payload: Any, where: str) -> bytes:
    if not isinstance(payload, str) or not payload:
        raise ApiError(400, "invalid_request", f"{where}: no base64 data")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "invalid_request", f"{where}: the data is not valid base64") from None


def _once(fn: Any) -> Any:
    done = threading.Event()

    def run() -> None:
        if not done.is_set():
            done.set()
            fn()
    return run


_CHAT_OPENAPI: dict[str, Any] = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"type": "object", "required": ["messages"], "properties": {
        "messages": {"type": "array", "description": "role system/user/assistant; content a string or parts: "
                     "text, image_url, video_url, audio_url ({url: data:<mime>;base64,...}), "
                     "input_audio ({data, format})", "items": {"type": "object"}},
        "model": {"type": "string", "description": "the loaded model's id (see /v1/models), or omitted"},
        "stream": {"type": "boolean", "default": False,
                   "description": "server-sent events, ending in [DONE]"},
        "max_tokens": {"type": "integer", "default": 512},
        "temperature": {"type": "number", "default": 0.0}}}}}}}
