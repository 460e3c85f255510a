"""Request bodies: JSON parsed without a 500 on hostile nesting, and multipart uploads streamed to disk.

:func:`read_json` answers 400 for a body that is not JSON or is nested past the parser's depth.
:class:`MultipartUpload` parses a ``multipart/form-data`` body as it arrives: form fields are kept in
memory (each bounded), files are written straight into the request's private work directory under fixed
names (``upload<.ext>``, ``transcript<.ext>``), each file bounded in size, and every byte written counted
against the server-wide :class:`UploadBudget`, so uploads in progress or waiting in the queue cannot fill
the disk. How long a body may stall is enforced where it is received
(:class:`~emoreason.serve.limits.BodySizeLimit`).
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import python_multipart
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from starlette.requests import Request

from emoreason.serve.errors import ApiError
from emoreason.serve.options import TRANSCRIPT_SUFFIXES, safe_suffix


async def read_json(request: Request) -> Any:
    """The request's body parsed as JSON; 400 when it is not JSON or nests too deeply to parse."""
    body = await request.body()
    try:
        return json.loads(body)
    except RecursionError:
        raise ApiError(400, "invalid_json", "the JSON body is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ApiError(400, "invalid_json", f"the body is not valid JSON ({exc})") from None


class UploadBudget:
    """The bytes all uploads in progress or awaiting analysis may hold on disk together; 503 past it."""

    def __init__(self, max_bytes: int, retry_after_s: int = 5):
        self.max_bytes = max_bytes
        self.retry_after_s = retry_after_s
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        return self._used

    def take(self, n: int) -> None:
        with self._lock:
            if self._used + n > self.max_bytes:
                raise ApiError(503, "uploads_full",
                               "the uploads in progress fill this server's upload space; retry later",
                               {"Retry-After": str(self.retry_after_s), "Connection": "close"})
            self._used += n

    def release(self, n: int) -> None:
        with self._lock:
            self._used = max(0, self._used - n)


@dataclass
class SavedFile:
    field: str
    filename: str
    path: Path
    size: int = 0


@dataclass
class _Part:
    name: str = ""
    disposition: bytes = b""
    data: bytearray | None = None
    file: SavedFile | None = None
    out: BinaryIO | None = None
    limit: int = 0


class MultipartUpload:
    """One ``multipart/form-data`` body, received into ``workdir``.

    ``file_limits`` maps each accepted file field to its largest size in bytes; a field of another
    name, a second file in one field, a file over its limit, a form field over ``max_field_bytes`` or
    more than ``max_fields`` fields is a 4xx as soon as it is seen, before the rest is read. Call
    :meth:`release` when the files are deleted, to return their bytes to the budget.
    """

    def __init__(self, workdir: Path, budget: UploadBudget, file_limits: dict[str, int],
                 max_field_bytes: int, max_fields: int):
        self.workdir, self.budget, self.file_limits = workdir, budget, file_limits
        self.max_field_bytes, self.max_fields = max_field_bytes, max_fields
        self.fields: dict[str, str] = {}
        self.files: dict[str, SavedFile] = {}
        self.taken = 0
        self._part = _Part()
        self._header_name = b""
        self._header_value = b""
        self._pending: list[tuple[BinaryIO, bytes]] = []
        self._open: list[BinaryIO] = []
        self._ended: list[BinaryIO] = []

    async def receive(self, request: Request) -> None:
        """Read the whole body; fields land in :attr:`fields`, files in :attr:`files`."""
        _, params = parse_options_header(request.headers.get("content-type", ""))
        boundary = params.get(b"boundary")
        if not boundary:
            raise ApiError(400, "invalid_request", "the multipart body has no boundary")
        parser = python_multipart.MultipartParser(boundary, {
            "on_part_begin": self._on_part_begin, "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end, "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value, "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished})
        try:
            async for chunk in request.stream():
                try:
                    parser.write(chunk)
                except FormParserError as exc:
                    raise ApiError(400, "invalid_request",
                                   f"the multipart body is malformed ({exc})") from None
                await self._flush()
            parser.finalize()
            await self._flush()
        finally:
            for out in self._open:
                out.close()
        if self._part.out is not None:  # the body ended without closing the part
            raise ApiError(400, "invalid_request", "the multipart body ends inside a part")

    def release(self) -> None:
        self.budget.release(self.taken)
        self.taken = 0

    async def _flush(self) -> None:
        writes, self._pending = self._pending, []
        by_file: dict[int, tuple[BinaryIO, list[bytes]]] = {}
        for out, data in writes:
            by_file.setdefault(id(out), (out, []))[1].append(data)
        for out, pieces in by_file.values():
            await asyncio.to_thread(out.write, b"".join(pieces))  # disk writes off the event loop
        ended, self._ended = self._ended, []
        for out in ended:
            out.close()

    def _on_part_begin(self) -> None:
        self._part = _Part()

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        if len(self._header_value) > 4096:
            raise ApiError(400, "invalid_request", "a multipart part header is too long")

    def _on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._part.disposition = self._header_value
        self._header_name = self._header_value = b""

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._part.disposition)
        name = options.get(b"name")
        if name is None:
            raise ApiError(400, "invalid_request", "a multipart part has no name")
        part = self._part
        part.name = name.decode("utf-8", "replace")
        if b"filename" not in options:
            if len(self.fields) >= self.max_fields:
                raise ApiError(400, "invalid_request", "too many form fields")
            part.data = bytearray()
            return
        if part.name not in self.file_limits or part.name in self.files:
            raise ApiError(400, "invalid_request",
                           "upload the media in the field 'file' (and a .txt/.srt/.vtt transcript, if any, "
                           "in the field 'transcript'), one file each")
        filename = options[b"filename"].decode("utf-8", "replace")
        suffix = safe_suffix(filename)
        if part.name == "transcript" and suffix not in TRANSCRIPT_SUFFIXES:
            raise ApiError(400, "invalid_request",
                           f"the transcript must be a {', '.join(TRANSCRIPT_SUFFIXES)} file, "
                           f"not {suffix or 'unnamed'}")
        stem = "upload" if part.name == "file" else part.name
        part.file = SavedFile(part.name, filename, self.workdir / (stem + suffix))
        part.limit = self.file_limits[part.name]
        part.out = open(part.file.path, "wb")  # noqa: SIM115 - closed at the part's end or in receive()
        self._open.append(part.out)
        self.files[part.name] = part.file

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        part, chunk = self._part, data[start:end]
        if part.data is not None:
            if len(part.data) + len(chunk) > self.max_field_bytes:
                raise ApiError(413, "field_too_large", f"the form field {part.name!r} is larger than this "
                                                       f"server's limit of {self.max_field_bytes} bytes")
            part.data.extend(chunk)
            return
        if part.file is None:
            return
        part.file.size += len(chunk)
        if part.file.size > part.limit:
            raise ApiError(413, "payload_too_large", f"the file in {part.name!r} is larger than this "
                                                     f"server's limit of {_size(part.limit)}")
        self.budget.take(len(chunk))
        self.taken += len(chunk)
        self._pending.append((part.out, bytes(chunk)))  # type: ignore[arg-type]

    def _on_part_end(self) -> None:
        part = self._part
        if part.data is not None:
            self.fields[part.name] = part.data.decode("utf-8", "replace")
        elif part.out is not None:
            self._ended.append(part.out)  # closed once its pending data are written
            part.out = None


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB" if n >= 1024 * 1024 else f"{n} bytes"
