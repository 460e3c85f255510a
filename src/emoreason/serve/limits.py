"""The server's limits: upload size, stalls and disk, media duration, request timeout, bounded concurrency.

- :class:`BodySizeLimit` (ASGI middleware) refuses a body larger than the limit with 413, from its
  Content-Length before reading, or as soon as the bytes received pass the limit; and drops a body that
  sends nothing for ``upload_idle_timeout_s`` or is not complete after ``upload_timeout_s`` (408).
- :func:`check_media_duration` opens an upload with PyAV and refuses media whose header states more than
  the limit (413) before any decoding; the decoded time is held to the same limit while the analysis
  decodes (:func:`emoreason.io.guard.decode_guard`), since a header can lie.
- :class:`WorkQueue` runs blocking work (analysis, generation) in a fixed pool of worker threads so the
  event loop stays free. At most ``max_concurrency`` jobs run and ``max_queue`` wait, uploads still being
  received included (:meth:`WorkQueue.reserve` takes their place before the body is read); a request
  beyond that gets 503 with Retry-After. A request that waits and runs longer than the timeout gets 504,
  and one whose client goes away is dropped; either way its job's cancel flag is set, which the analysis
  checks between frames and between stages, so its worker is soon free. The clean-up runs when the job
  is over.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import av
from starlette.requests import ClientDisconnect

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
    upload_idle_timeout_s: float = 30.0  # a body that sends nothing this long is dropped
    upload_timeout_s: float = 600.0  # a body must be complete this long after it starts
    max_upload_disk_bytes: int = 1024 * 1024 * 1024  # all uploads on disk together, waiting ones included

    def __post_init__(self) -> None:
        if min(self.max_upload_bytes, self.max_duration_s, self.request_timeout_s, self.upload_idle_timeout_s,
               self.upload_timeout_s, self.max_upload_disk_bytes) <= 0:
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
    """ASGI middleware: 413 for HTTP bodies over ``max_bytes`` (+ a little multipart framing); 408 for a
    body that sends nothing for ``idle_timeout_s`` seconds or is not complete after ``total_timeout_s``.

    Paths in ``base64_paths`` carry media as base64 inside JSON, which is 4/3 the media's size: their
    body may be that much larger, and the decoded media are held to ``max_bytes`` where they are decoded.
    The 408 is raised from the body's reader, so the handler reading it removes what it wrote.
    """

    def __init__(self, app: Any, max_bytes: int, base64_paths: tuple[str, ...] = (),
                 idle_timeout_s: float = 30.0, total_timeout_s: float = 600.0):
        self.app = app
        self.max_bytes = max_bytes
        self.base64_paths = base64_paths
        self.allowed = max_bytes + _MULTIPART_SLACK
        self.idle_timeout_s = idle_timeout_s
        self.total_timeout_s = total_timeout_s

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
        complete = False
        deadline = asyncio.get_running_loop().time() + self.total_timeout_s

        async def limited_receive() -> dict:
            nonlocal received, complete
            if complete:  # the body is in: what follows is the wait for a disconnect, not bounded
                return await receive()
            wait = min(self.idle_timeout_s, deadline - asyncio.get_running_loop().time())
            try:
                message = await asyncio.wait_for(receive(), max(wait, 0.0))
            except (asyncio.TimeoutError, TimeoutError):
                idle = wait >= self.idle_timeout_s
                raise ApiError(408, "upload_stalled", f"the request body sent nothing for "
                               f"{self.idle_timeout_s:g} s; it was dropped" if idle else
                               f"the request body was not complete after {self.total_timeout_s:g} s; "
                               "it was dropped", {"Connection": "close"}) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
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
_DRAIN_WAIT_S = 5.0


async def _drain(receive: Callable, cap: int = _DRAIN_CAP) -> None:
    dropped = 0
    while dropped <= cap:
        message = await receive()
        if message["type"] != "http.request":
            return
        dropped += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _send_json(send: Callable, status: int, body: dict,
                     extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
    data = json.dumps(body).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode()), (b"connection", b"close"),
                            *(extra_headers or [])]})
    await send({"type": "http.response.body", "body": data})


async def send_json_and_close(receive: Callable, send: Callable, status: int, body: dict,
                              extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Answer ``body`` without handing the body to the app: a small body is read and dropped first (so
    the client, still sending, reads the answer), for at most a few seconds, then the connection is
    closed."""
    with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
        await asyncio.wait_for(_drain(receive), _DRAIN_WAIT_S)
    await _send_json(send, status, body, extra_headers)


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


class Reservation:
    """A place in a :class:`WorkQueue` taken before the request's body is read; :meth:`WorkQueue.submit`
    uses it, :meth:`release` gives it back unused (idempotent)."""

    def __init__(self, queue: WorkQueue):
        self._queue = queue
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._queue._leave()

    def _hand_over(self) -> None:
        if not self._held:
            raise RuntimeError("this reservation was already used or released")
        self._held = False


class ClientGone(ClientDisconnect):
    """The client closed the connection before its answer was ready."""


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

    def reserve(self) -> Reservation:
        """Take a place in the line (503 when it is full): uploads count against the queue from their
        first byte, so stalled or slow uploads cannot pile up behind it."""
        with self._lock:
            full = self._admitted >= self.capacity
            if not full:
                self._admitted += 1
        if full:
            raise ApiError(503, "overloaded",
                           f"the server is busy ({self.capacity} requests running or waiting); retry later",
                           {"Retry-After": str(self.retry_after_s), "Connection": "close"})
        return Reservation(self)

    def _leave(self) -> None:
        with self._lock:
            self._admitted -= 1

    def submit(self, fn: Callable[..., T], *args: Any, cleanup: Callable[[], None] | None = None,
               reservation: Reservation | None = None, **kwargs: Any) -> concurrent.futures.Future:
        """Queue ``fn(*args, **kwargs)`` in ``reservation``'s place, or a new one (503 when the line is
        full). ``cleanup`` runs once the job is over (done, failed, or cancelled before it started) —
        never while it may still be running."""
        try:
            if reservation is None:
                reservation = self.reserve()
            reservation._hand_over()
        except BaseException:
            if cleanup is not None:
                cleanup()
            raise

        def job() -> T:
            with self._lock:
                self._running += 1
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self._running -= 1

        def done(_: concurrent.futures.Future) -> None:
            self._leave()
            if cleanup is not None:
                cleanup()

        future = self._executor.submit(job)
        future.add_done_callback(done)
        return future

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float,
                  cleanup: Callable[[], None] | None = None, reservation: Reservation | None = None,
                  cancel: threading.Event | None = None,
                  disconnected: Callable[[], Awaitable[bool]] | None = None, **kwargs: Any) -> T:
        """Run ``fn`` in the pool and wait at most ``timeout`` seconds (queueing included); 504 after.

        On a timeout, or when ``disconnected()`` (polled while waiting) says the client is gone
        (:class:`ClientGone`), ``cancel`` is set so the job stops at its next check, and a job that has
        not started is dropped."""
        future = self.submit(fn, *args, cleanup=cleanup, reservation=reservation, **kwargs)
        waiting = asyncio.ensure_future(asyncio.wrap_future(future))
        deadline = asyncio.get_running_loop().time() + timeout
        try:
            while True:
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    raise ApiError(504, "timeout",
                                   f"the request took longer than this server's limit of {timeout:g} s")
                done, _ = await asyncio.wait({waiting}, timeout=min(left, _POLL_S) if disconnected else left)
                if done:
                    return waiting.result()
                if disconnected is not None and await disconnected():
                    raise ClientGone()
        except BaseException:  # a timeout, a client gone, or the request task cancelled
            if not waiting.done():
                if cancel is not None:
                    cancel.set()
                future.cancel()  # succeeds only if it had not started; a running job sees ``cancel``
                waiting.cancel()
            raise

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


_POLL_S = 0.25  # how often a waiting request checks that its client is still there
