"""The HTTP API: ``create_app()`` builds the FastAPI application ``emoreason serve`` runs.

Endpoints: ``POST /v1/analyze`` (multipart upload of one media file, or JSON with text) → the Result
JSON, or with ``format=html`` the self-contained HTML report; ``GET /healthz``; ``GET /v1/models``;
``GET /openapi.json`` and an offline ``GET /docs`` page; ``POST /v1/chat/completions`` when a multimodal
LLM is loaded (see :mod:`emoreason.serve.chat`).

The analysis function and the models behind it are loaded once and shared by all requests; each
analysis runs in the :class:`~emoreason.serve.limits.WorkQueue`'s worker threads; a request takes its
place in that queue before its body is read. The server reads no path a client names: media arrive as
uploads, streamed into a private temporary directory (mode 0700) that is deleted when the request's work
is over, or as soon as the upload fails, stalls or its client goes away. A request that times out or
whose client goes away cancels its analysis (checked between frames and between stages). The multimodal
LLM's code (torch, transformers) is imported inside :func:`warm_up`, only when the server runs a checkpoint.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from skimage import data as skimage_data

from emoreason import __version__
from emoreason.api import analyze as emoreason_analyze
from emoreason.errors import AnalysisCancelledError, EmoreasonError, NoUsableModalityError, TooShortError
from emoreason.io.guard import decode_guard
from emoreason.perception.face.analyzer import FACE_MODELS
from emoreason.perception.voice.analyzer import SPEAKER_NORMALISATION
from emoreason.pipeline.options import MODALITIES
from emoreason.report.html import render_html
from emoreason.result import Result
from emoreason.serve.auth import ApiKeyAuth
from emoreason.serve.bodies import MultipartUpload, UploadBudget, read_json
from emoreason.serve.chat import ChatModel, add_chat_routes
from emoreason.serve.docs_page import docs_html
from emoreason.serve.errors import ApiError, api_error_from, error_responses, install_error_handlers
from emoreason.serve.limits import BodySizeLimit, Limits, Reservation, WorkQueue, check_media_duration
from emoreason.serve.options import OPTION_FIELDS, display_name, parse_options, replace_in_strings

log = logging.getLogger("emoreason.serve")

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
               model_path: str | None = None, api_key: str | None = None) -> FastAPI:
    """The API application.

    ``analyzer`` defaults to ``emoreason.analyze``; ``model_path`` (the MLLM chosen at start-up) is
    passed to it as ``model=``. ``chat_model`` enables ``/v1/chat/completions``; without one that
    endpoint answers 404 naming ``chat_unavailable_reason``. ``api_key``: every request but
    ``GET /healthz`` must carry it (:mod:`emoreason.serve.auth`). Call :func:`warm_up` first to load the
    models before the first request.
    """
    limits = limits or Limits()
    analyze = analyzer or default_analyzer()
    queue = WorkQueue(limits.max_concurrency, limits.max_queue, limits.retry_after_s)
    budget = UploadBudget(limits.max_upload_disk_bytes, limits.retry_after_s)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        queue.shutdown()

    app = FastAPI(title="emoreason", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Recognise emotion from face, voice and words, and explain it with the cues "
                              "observed. Errors have one shape: {\"error\": {\"type\", \"message\"}}.")
    app.state.limits = limits
    app.state.queue = queue
    app.state.upload_budget = budget
    app.add_middleware(BodySizeLimit, max_bytes=limits.max_upload_bytes,
                       base64_paths=("/v1/chat/completions",), idle_timeout_s=limits.upload_idle_timeout_s,
                       total_timeout_s=limits.upload_timeout_s)
    if api_key is not None:  # outermost: a request without the key is answered before anything else
        app.add_middleware(ApiKeyAuth, key=api_key)
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
        if content_type not in ("multipart/form-data", "application/json"):
            raise ApiError(415, "unsupported_content_type",
                           "send multipart/form-data with a 'file' field, or application/json with 'text'")
        reservation = queue.reserve()  # before the body: an upload holds its place in the line
        try:
            if content_type == "multipart/form-data":
                return await _analyze_upload(request, reservation)
            return await _analyze_json(request, reservation)
        finally:
            reservation.release()  # a no-op once the job has taken it over

    async def _run(request: Request, job: _Job, reservation: Reservation,
                   cleanup: Callable[[], None] | None = None) -> Response:
        try:
            kind, body = await queue.run(job.run, timeout=limits.request_timeout_s, cleanup=cleanup,
                                         reservation=reservation, cancel=job.cancel,
                                         disconnected=request.is_disconnected)
        except EmoreasonError as exc:  # its message, without the server's temporary paths
            err = api_error_from(exc)
            raise ApiError(err.status, err.type, replace_in_strings(err.message, job.hide)) from None
        return HTMLResponse(body) if kind == "html" else JSONResponse(body)

    async def _analyze_json(request: Request, reservation: Reservation) -> Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_request",
                           "the JSON body must be an object such as {\"text\": \"...\"}")
        options = parse_options(body, limits)
        if not options.get("text"):
            raise ApiError(400, "invalid_request",
                           "a JSON request needs a non-empty 'text'; to analyse media, upload it as "
                           "multipart/form-data in the field 'file'")
        return await _run(request, _Job(analyze, model_path, options, limits.max_duration_s), reservation)

    async def _analyze_upload(request: Request, reservation: Reservation) -> Response:
        workdir = Path(tempfile.mkdtemp(prefix="emoreason-upload-"))
        upload = MultipartUpload(workdir, budget, {"file": limits.max_upload_bytes,
                                                   "transcript": min(limits.max_upload_bytes,
                                                                     _MAX_TRANSCRIPT_BYTES)},
                                 max_field_bytes=limits.max_text_chars * 4 + 1024,
                                 max_fields=len(OPTION_FIELDS) + 4)

        def cleanup() -> None:
            shutil.rmtree(workdir, ignore_errors=True)
            upload.release()

        try:
            await upload.receive(request)
            options = parse_options(upload.fields, limits)
            if "file" not in upload.files:
                if options.get("text") and "transcript" not in upload.files:
                    cleanup()
                    return await _run(request, _Job(analyze, model_path, options, limits.max_duration_s),
                                      reservation)
                raise ApiError(400, "invalid_request", "no media uploaded: put the media in the field 'file'")
            if "transcript" in upload.files:
                options["transcript"] = str(upload.files["transcript"].path)
        except BaseException:
            cleanup()
            raise
        saved = upload.files["file"]
        name = display_name(saved.filename) or saved.path.name
        job = _Job(analyze, model_path, options, limits.max_duration_s, media=saved.path, name=name,
                   hide={str(saved.path): name, str(workdir): "<upload>"})
        return await _run(request, job, reservation, cleanup=cleanup)

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
    """One analysis, run in a worker thread: check the media's stated duration, analyse with the decoded
    duration held to the limit and a cancel flag the decoder and the stages check, then answer in the
    requested format while the upload still exists (the HTML report embeds its peak frame)."""

    def __init__(self, analyze: Analyzer, model_path: str | None, options: dict[str, Any],
                 max_duration_s: float, media: Path | None = None, name: str = "<text>",
                 hide: dict[str, str] | None = None):
        self.analyze, self.model_path, self.max_duration_s = analyze, model_path, max_duration_s
        self.options = dict(options)
        self.format = self.options.pop("format", "json")
        self.media, self.name, self.hide = media, name, hide or {}
        self.cancel = threading.Event()  # set when the request times out or its client goes away

    def run(self) -> tuple[str, Any]:
        if self.cancel.is_set():  # given up on while it waited in the queue
            raise AnalysisCancelledError("the request was dropped before its analysis started")
        if self.media is not None:
            check_media_duration(self.media, self.max_duration_s)
        kwargs = dict(self.options)
        if self.model_path is not None:
            kwargs["model"] = self.model_path
        with decode_guard(self.max_duration_s, self.cancel):  # the decoded time, whatever the header says
            result = self.analyze(str(self.media) if self.media is not None else None, **kwargs)
        if self.cancel.is_set():
            raise AnalysisCancelledError("the request was dropped during its analysis")
        if not isinstance(result, Result):
            raise TypeError(f"the analyzer returned {type(result).__name__}, not a Result")
        result.input = self.name
        if self.format == "html":
            return "html", replace_in_strings(render_html(result, self.media), self.hide)
        return "json", replace_in_strings(result.to_dict(), self.hide)


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
        "people": {"type": "boolean", "default": False,
                   "description": "also analyse each person (faces tracked, voices diarised): the result's "
                                  "'people' list"},
        "speakers": {"type": "integer", "minimum": 1, "description": "how many people speak (implies "
                                                                     "people; default: estimated)"},
        "transcript": {"type": "string", "format": "binary", "description": "a .txt/.srt/.vtt transcript"},
        "format": {"type": "string", "enum": ["json", "html"], "default": "json",
                   "description": "html: the self-contained HTML report instead of the JSON"}}}},
    "application/json": {"schema": {"type": "object", "required": ["text"], "properties": {
        "text": {"type": "string"}, "labels": {"type": "string", "default": "canonical"},
        "modalities": {"type": "array", "items": {"type": "string", "enum": list(MODALITIES)}},
        "format": {"type": "string", "enum": ["json", "html"], "default": "json"}}}},
}}}
