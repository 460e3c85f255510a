"""The server's limits: upload size, media duration, request timeout and bounded concurrency.

- :class:`BodySizeLimit` (ASGI middleware) refuses a body larger than the limit with 413, from its
  Content-Length before reading, or as soon as the bytes received pass the limit.
- :func:`check_media_duration` opens an upload with PyAV and refuses media longer than the limit (413).
- :class:`WorkQueue` runs blocking work (analysis, generation) in a fixed pool of worker threads so the
  event loop stays free. At most ``max_concurrency`` jobs run and ``max_queue`` wait; a request beyond
  that gets 503 with Retry-After. A request that waits and runs longer than the timeout gets 504; its
  job cannot be killed (Python threads cannot be), so it keeps its slot until it ends and its
  clean-up runs then.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import av

from emoreason.errors import EmptyInputError, UnsupportedFormatError
from emoreason.serve.errors import ApiError, error_body

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int = 200 * 1024 * 1024
    max_duration_s: float = 600.0
    request_timeout_s: float = 300.0
    max_concurrency: int = 1
    max_queue: int = 4
    retry_after_s: int = 5
    max_text_chars: int = 20000

    def __post_init__(self) -> None:
        if self.max_upload_bytes <= 0 or self.max_duration_s <= 0 or self.request_timeout_s <= 0:
            raise ValueError("upload size, duration and timeout limits must be positive")
        if self.max_concurrency < 1 or self.max_queue < 0:
            raise ValueError("max_concurrency must be >= 1 and max_queue >= 0")


def too_large_message(limit: int) -> str:
    return f"the request body is larger than this server's limit of {_mb(limit)}"


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB" if n >= 1024 * 1024 else f"{n} bytes"


# Multipart framing (boundaries, part headers, form fields) on top of the file itself.
_MULTIPART_SLACK = 64 * 1024


class BodySizeLimit:
    """ASGI middleware: 413 for HTTP bodies over ``max_bytes`` (+ a little multipart framing).

    Paths in ``base64_paths`` carry media as base64 inside JSON, which is 4/3 the media's size: their
    body may be that much larger, and the decoded media are held to ``max_bytes`` where they are decoded.
    """

    def __init__(self, app: Any, max_bytes: int, base64_paths: tuple[str, ...] = ()):
        self.app = app
        self.max_bytes = max_bytes
        self.base64_paths = base64_paths
        self.allowed = max_bytes + _MULTIPART_SLACK

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        allowed = self.allowed
        if scope.get("path") in self.base64_paths:
            allowed = (self.max_bytes * 4) // 3 + 4 + _MULTIPART_SLACK
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > allowed:
            if int(length) <= _DRAIN_CAP:
                await _drain(receive)
            await _send_json(send, 413, error_body("payload_too_large", too_large_message(self.max_bytes)))
            return
        received = 0

        async def limited_receive() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > allowed:
                    if message.get("more_body", False):
                        await _drain(receive, _DRAIN_CAP - received)
                    raise ApiError(413, "payload_too_large", too_large_message(self.max_bytes))
            return message

        await self.app(scope, limited_receive, send)


# A body refused for its size is still read (and dropped) up to this many bytes before the 413 goes out,
# so the client, still sending, reads the answer instead of a reset connection. Past it, the connection
# is closed without reading more (the client may then see the reset instead of the 413).
_DRAIN_CAP = 16 * 1024 * 1024


async def _drain(receive: Callable, cap: int = _DRAIN_CAP) -> None:
    dropped = 0
    while dropped <= cap:
        message = await receive()
        if message["type"] != "http.request":
            return
        dropped += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _send_json(send: Callable, status: int, body: dict) -> None:
    data = json.dumps(body).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})


def check_media_duration(path: Path, max_duration_s: float) -> float | None:
    """The media's duration in seconds (``None`` for a still image); 413 when over the limit.

    Raises :class:`EmptyInputError` for a zero-byte file and :class:`UnsupportedFormatError` when
    PyAV cannot read it. When the container states no duration, packets are counted (without decoding)
    until the limit is passed.
    """
    if path.stat().st_size == 0:
        raise EmptyInputError("the uploaded file is empty (0 bytes)")
    try:
        container = av.open(str(path))
    except Exception as exc:  # PyAV raises several types for unreadable input
        raise UnsupportedFormatError("the upload could not be read as video, audio or an image") from exc
    with container:
        streams = [s for s in container.streams if s.type in ("video", "audio")]
        if not streams:
            raise UnsupportedFormatError("the upload holds no video or audio stream")
        duration = container.duration / 1_000_000 if container.duration else None
        if duration is None:
            for s in streams:
                if s.duration and s.time_base:
                    duration = max(duration or 0.0, float(s.duration * s.time_base))
        if duration is None:
            duration = _demuxed_duration(container, max_duration_s)
    if duration is not None and duration > max_duration_s:
        raise ApiError(413, "media_too_long",
                       f"the media lasts {duration:.1f} s; this server accepts at most {max_duration_s:g} s")
    return duration


def _demuxed_duration(container: Any, stop_after: float) -> float | None:
    """The latest packet end time, reading packets until ``stop_after`` is passed."""
    latest = None
    try:
        for packet in container.demux():
            if packet.pts is None or packet.time_base is None:
                continue
            end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            latest = max(latest or 0.0, end)
            if latest > stop_after:
                break
    except Exception as exc:
        raise UnsupportedFormatError("the upload's streams could not be read") from exc
    return latest


class WorkQueue:
    """A fixed pool of worker threads with a bounded waiting line."""

    def __init__(self, max_concurrency: int, max_queue: int, retry_after_s: int = 5,
                 name: str = "emoreason-work"):
        self.max_concurrency = max_concurrency
        self.capacity = max_concurrency + max_queue
        self.retry_after_s = retry_after_s
        self._executor = concurrent.futures.ThreadPoolExecutor(max_concurrency, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._admitted = 0
        self._running = 0

    @property
    def admitted(self) -> int:
        return self._admitted

    def stats(self) -> dict[str, int]:
        with self._lock:
            running = self._running
            return {"running": running, "queued": self._admitted - running, "capacity": self.capacity,
                    "max_concurrency": self.max_concurrency}

    def submit(self, fn: Callable[..., T], *args: Any, cleanup: Callable[[], None] | None = None,
               **kwargs: Any) -> concurrent.futures.Future:
        """Queue ``fn(*args, **kwargs)``; 503 when the line is full. ``cleanup`` runs once the job is over
        (done, failed, or cancelled before it started) — never while it may still be running."""
        with self._lock:
            full = self._admitted >= self.capacity
            if not full:
                self._admitted += 1
        if full:
            if cleanup is not None:
                cleanup()
            raise ApiError(503, "overloaded",
                           f"the server is busy ({self.capacity} requests running or waiting); retry later",
                           {"Retry-After": str(self.retry_after_s)})

        def job() -> T:
            with self._lock:
                self._running += 1
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self._running -= 1

        def done(_: concurrent.futures.Future) -> None:
            with self._lock:
                self._admitted -= 1
            if cleanup is not None:
                cleanup()

        future = self._executor.submit(job)
        future.add_done_callback(done)
        return future

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float,
                  cleanup: Callable[[], None] | None = None, **kwargs: Any) -> T:
        """Run ``fn`` in the pool and wait at most ``timeout`` seconds (queueing included); 504 after."""
        future = self.submit(fn, *args, cleanup=cleanup, **kwargs)
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout)
        except (asyncio.TimeoutError, TimeoutError):
            future.cancel()  # succeeds only if it had not started; a running job finishes on its own
            raise ApiError(504, "timeout",
                           f"the request took longer than this server's limit of {timeout:g} s") from None
        except asyncio.CancelledError:  # the client went away
            future.cancel()
            raise

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
