"""The HTTP API: ``create_app()`` builds the FastAPI application ``emoreason serve`` runs.

Endpoints: ``POST /v1/analyze`` (multipart upload of one media file, or JSON with text) → the Result
JSON, or with ``format=html`` the self-contained HTML report; ``GET /healthz``; ``GET /v1/models``;
``GET /openapi.json`` and an offline ``GET /docs`` page; ``POST /v1/chat/completions`` when a multimodal
LLM is loaded (see :mod:`emoreason.serve.chat`).

The analysis function and the models behind it are loaded once and shared by all requests; each
analysis runs in the :class:`~emoreason.serve.limits.WorkQueue`'s worker threads. The server reads no
path a client names: media arrive as uploads, saved in a private temporary directory (mode 0700) that
is deleted when the request's work is over. The multimodal LLM's code (torch, transformers) is
imported inside :func:`warm_up`, only when the server runs a checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from skimage import data as skimage_data
from starlette.datastructures import UploadFile

from emoreason import __version__
from emoreason.api import analyze as emoreason_analyze
from emoreason.errors import EmoreasonError, NoUsableModalityError, TooShortError
from emoreason.perception.face.analyzer import FACE_MODELS
from emoreason.perception.voice.analyzer import SPEAKER_NORMALISATION
from emoreason.pipeline.options import MODALITIES
from emoreason.report.html import render_html
from emoreason.result import Result
from emoreason.serve.chat import ChatModel, add_chat_routes
from emoreason.serve.docs_page import docs_html
from emoreason.serve.errors import ApiError, api_error_from, error_responses, install_error_handlers
from emoreason.serve.limits import BodySizeLimit, Limits, WorkQueue, check_media_duration, too_large_message
from emoreason.serve.options import (
    FILE_FIELDS,
    OPTION_FIELDS,
    TRANSCRIPT_SUFFIXES,
    display_name,
    parse_options,
    replace_in_strings,
    safe_suffix,
)

log = logging.getLogger("emoreason.serve")

_CHUNK = 1024 * 1024
_MAX_TRANSCRIPT_BYTES = 2 * 1024 * 1024


class Analyzer(Protocol):
    """What the server calls: ``emoreason.analyze`` or anything with its signature."""

    def __call__(self, source: Any = None, *, text: str | None = None,
                 modalities: Iterable[str] | None = None, labels: str = "canonical", fps: float = 5.0,
                 **kwargs: Any) -> Result: ...


def default_analyzer() -> Analyzer:
    """``emoreason.analyze``: the default pipeline, its models loaded once for the whole process."""
    return emoreason_analyze


def create_app(analyzer: Analyzer | None = None, *, limits: Limits | None = None,
               chat_model: ChatModel | None = None, chat_unavailable_reason: str | None = None,
               model_path: str | None = None) -> FastAPI:
    """The API application.

    ``analyzer`` defaults to ``emoreason.analyze``; ``model_path`` (the MLLM chosen at start-up) is
    passed to it as ``model=``. ``chat_model`` enables ``/v1/chat/completions``; without one that
    endpoint answers 404 naming ``chat_unavailable_reason``. Call :func:`warm_up` first to load the
    models before the first request.
    """
    limits = limits or Limits()
    analyze = analyzer or default_analyzer()
    queue = WorkQueue(limits.max_concurrency, limits.max_queue, limits.retry_after_s)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        queue.shutdown()

    app = FastAPI(title="emoreason", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Recognise emotion from face, voice and words, and explain it with the cues "
                              "observed. Errors have one shape: {\"error\": {\"type\", \"message\"}}.")
    app.state.limits = limits
    app.state.queue = queue
    app.add_middleware(BodySizeLimit, max_bytes=limits.max_upload_bytes,
                       base64_paths=("/v1/chat/completions",))
    install_error_handlers(app)

    @app.get("/healthz", summary="Liveness and queue state")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "queue": queue.stats(),
                "chat_model": chat_model.model_id if chat_model else None}

    @app.get("/v1/models", summary="The models this server runs (OpenAI-style list)")
    async def models() -> dict[str, Any]:
        data = [{"id": "emoreason-mllm" if model_path else "emoreason-default", "object": "model",
                 "owned_by": "emoreason", "endpoints": ["/v1/analyze"]}]
        if chat_model is not None:
            data.append({"id": chat_model.model_id, "object": "model", "owned_by": "emoreason",
                         "endpoints": ["/v1/chat/completions"]})
        return {"object": "list", "data": data}

    @app.post("/v1/analyze", summary="Analyse one uploaded media file, or text",
              openapi_extra=_ANALYZE_OPENAPI, response_description="the Result as JSON, or the HTML report",
              responses=error_responses(400, 413, 415, 422, 500, 503, 504))
    async def analyze_endpoint(request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "multipart/form-data":
            return await _analyze_upload(request)
        if content_type == "application/json":
            return await _analyze_json(request)
        raise ApiError(415, "unsupported_content_type",
                       "send multipart/form-data with a 'file' field, or application/json with 'text'")

    async def _run(job: _Job, cleanup: Callable[[], None] | None = None) -> Response:
        try:
            kind, body = await queue.run(job.run, timeout=limits.request_timeout_s, cleanup=cleanup)
        except EmoreasonError as exc:  # its message, without the server's temporary paths
            err = api_error_from(exc)
            raise ApiError(err.status, err.type, replace_in_strings(err.message, job.hide)) from None
        return HTMLResponse(body) if kind == "html" else JSONResponse(body)

    async def _analyze_json(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError as exc:
            raise ApiError(400, "invalid_json", f"the body is not valid JSON ({exc})") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_request",
                           "the JSON body must be an object such as {\"text\": \"...\"}")
        options = parse_options(body, limits)
        if not options.get("text"):
            raise ApiError(400, "invalid_request",
                           "a JSON request needs a non-empty 'text'; to analyse media, upload it as "
                           "multipart/form-data in the field 'file'")
        return await _run(_Job(analyze, model_path, options, limits.max_duration_s))

    async def _analyze_upload(request: Request) -> Response:
        form = await request.form(max_files=len(FILE_FIELDS), max_fields=len(OPTION_FIELDS) + 4,
                                  max_part_size=limits.max_text_chars * 4 + 1024)
        try:
            fields = {k: v for k, v in form.multi_items() if not isinstance(v, UploadFile)}
            files = {k: v for k, v in form.multi_items() if isinstance(v, UploadFile)}
            if any(k not in FILE_FIELDS for k in files):
                raise ApiError(400, "invalid_request",
                               "upload the media in the field 'file' (and a .txt/.srt/.vtt "
                               "transcript, if any, in the field 'transcript')")
            options = parse_options(fields, limits)
            if "file" not in files:
                if options.get("text") and "transcript" not in files:
                    return await _run(_Job(analyze, model_path, options, limits.max_duration_s))
                raise ApiError(400, "invalid_request", "no media uploaded: put the media in the field 'file'")
            upload = files["file"]
            workdir = Path(tempfile.mkdtemp(prefix="emoreason-upload-"))
            try:
                media = workdir / ("upload" + safe_suffix(upload.filename))
                await _save_upload(upload, media, limits.max_upload_bytes)
                if "transcript" in files:
                    options["transcript"] = str(await _save_transcript(files["transcript"], workdir, limits))
            except BaseException:
                shutil.rmtree(workdir, ignore_errors=True)
                raise
        finally:
            await form.close()
        name = display_name(upload.filename) or media.name
        job = _Job(analyze, model_path, options, limits.max_duration_s, media=media, name=name,
                   hide={str(media): name, str(workdir): "<upload>"})
        return await _run(job, cleanup=lambda: shutil.rmtree(workdir, ignore_errors=True))

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(docs_html(app.openapi()))

    add_chat_routes(app, chat_model, queue, limits, unavailable_reason=chat_unavailable_reason)
    return app


def warm_up(analyze: Analyzer, model_path: str | None = None,
            modalities: Iterable[str] = MODALITIES) -> list[str]:
    """Run the pipeline once per modality on tiny synthetic inputs so every model is loaded (and shared
    by all requests) before the server takes one. A missing model raises (``ModelError``); an input
    that merely holds nothing to analyse is fine. Returns what each warm-up run said."""
    if model_path is not None:  # analyses run the multimodal LLM: load it (cached, shared with chat)
        from emoreason.emollm.infer import load_for_inference

        load_for_inference(str(model_path))
        return [f"multimodal LLM {model_path}: loaded"]
    sr = 16000
    t = np.arange(sr) / sr
    tone = (0.2 * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    face = skimage_data.astronaut()
    runs = [("text", None, {"text": "Hello, this loads the models."}),
            ("voice", tone, {"sample_rate": sr}), ("face", face, {})]
    said = []
    for modality, source, kwargs in runs:
        if modality not in modalities:
            continue
        try:
            analyze(source, modalities=[modality], **kwargs)
            said.append(f"{modality}: loaded")
        except (NoUsableModalityError, TooShortError) as exc:
            said.append(f"{modality}: loaded ({exc})")
    return said


class _Job:
    """One analysis, run in a worker thread: check the media's duration, analyse, then answer in the
    requested format while the upload still exists (the HTML report embeds its peak frame)."""

    def __init__(self, analyze: Analyzer, model_path: str | None, options: dict[str, Any],
                 max_duration_s: float, media: Path | None = None, name: str = "<text>",
                 hide: dict[str, str] | None = None):
        self.analyze, self.model_path, self.max_duration_s = analyze, model_path, max_duration_s
        self.options = dict(options)
        self.format = self.options.pop("format", "json")
        self.media, self.name, self.hide = media, name, hide or {}

    def run(self) -> tuple[str, Any]:
        if self.media is not None:
            check_media_duration(self.media, self.max_duration_s)
        kwargs = dict(self.options)
        if self.model_path is not None:
            kwargs["model"] = self.model_path
        result = self.analyze(str(self.media) if self.media is not None else None, **kwargs)
        if not isinstance(result, Result):
            raise TypeError(f"the analyzer returned {type(result).__name__}, not a Result")
        result.input = self.name
        if self.format == "html":
            return "html", replace_in_strings(render_html(result, self.media), self.hide)
        return "json", replace_in_strings(result.to_dict(), self.hide)


async def _save_upload(upload: UploadFile, target: Path, max_bytes: int) -> None:
    written = 0
    with open(target, "wb") as out:
        while chunk := await upload.read(_CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise ApiError(413, "payload_too_large", too_large_message(max_bytes))
            await asyncio.to_thread(out.write, chunk)  # disk writes off the event loop


async def _save_transcript(upload: UploadFile, workdir: Path, limits: Limits) -> Path:
    suffix = safe_suffix(upload.filename)
    if suffix not in TRANSCRIPT_SUFFIXES:
        raise ApiError(400, "invalid_request",
                       f"the transcript must be a {', '.join(TRANSCRIPT_SUFFIXES)} file, "
                       f"not {suffix or 'unnamed'}")
    path = workdir / ("transcript" + suffix)
    await _save_upload(upload, path, min(limits.max_upload_bytes, _MAX_TRANSCRIPT_BYTES))
    return path


_ANALYZE_OPENAPI: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "video, audio or image"},
        "text": {"type": "string", "description": "transcript; wins over speech-to-text"},
        "labels": {"type": "string", "default": "canonical", "description": "label set, e.g. mer2023"},
        "modalities": {"type": "string", "description": "comma-separated subset of face,voice,text"},
        "fps": {"type": "number", "default": 5.0, "description": "frames analysed per second"},
        "speaker_normalisation": {"type": "string", "enum": list(SPEAKER_NORMALISATION), "default": "auto",
                                  "description": "z-score the voice within the recording (auto: the voice "
                                                 "model's gate decides)"},
        "face_model": {"type": "string", "enum": list(FACE_MODELS), "default": "default",
                       "description": "the face stage's expression model "
                                      "(default: the shipped fer+facex pool)"},
        "transcript": {"type": "string", "format": "binary", "description": "a .txt/.srt/.vtt transcript"},
        "format": {"type": "string", "enum": ["json", "html"], "default": "json",
                   "description": "html: the self-contained HTML report instead of the JSON"}}}},
    "application/json": {"schema": {"type": "object", "required": ["text"], "properties": {
        "text": {"type": "string"}, "labels": {"type": "string", "default": "canonical"},
        "modalities": {"type": "array", "items": {"type": "string", "enum": list(MODALITIES)}},
        "format": {"type": "string", "enum": ["json", "html"], "default": "json"}}}},
}}}
