"""The HTTP API: ``create_app()`` builds the FastAPI application ``emoreason serve`` runs.

Endpoints: ``POST /v1/analyze`` (multipart upload of one media file, or JSON with text) → the Result
JSON; ``GET /healthz``; ``GET /v1/models``; ``GET /openapi.json`` and an offline ``GET /docs`` page;
``POST /v1/chat/completions`` when a multimodal LLM is loaded (see :mod:`emoreason.serve.chat`).

The analysis function and the models behind it are loaded once and shared by all requests; each
analysis runs in the :class:`~emoreason.serve.limits.WorkQueue`'s worker threads. The server reads no
path a client names: media arrive as uploads, saved in a private temporary directory (mode 0700) that
is deleted when the request's work is over.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.datastructures import UploadFile

from emoreason import __version__
from emoreason.errors import ConfigError
from emoreason.labels import get_label_map
from emoreason.result import Result
from emoreason.serve.chat import ChatModel, add_chat_routes
from emoreason.serve.docs_page import docs_html
from emoreason.serve.errors import ApiError, install_error_handlers
from emoreason.serve.limits import BodySizeLimit, Limits, WorkQueue, check_media_duration

log = logging.getLogger("emoreason.serve")

MODALITIES = ("face", "voice", "text")
OPTION_FIELDS = ("text", "labels", "modalities", "fps")
_PATH_FIELDS = ("source", "path", "input", "media_path", "file_path", "url", "model")
_CHUNK = 1024 * 1024


class Analyzer(Protocol):
    """What the server calls: ``emoreason.analyze`` or anything with its signature."""

    def __call__(self, source: Any = None, *, text: str | None = None, modalities: Iterable[str] | None = None,
                 labels: str = "canonical", fps: float = 5.0, **kwargs: Any) -> Result: ...


def default_analyzer() -> Analyzer:
    import emoreason

    analyze = getattr(emoreason, "analyze", None)
    if analyze is None:
        raise ConfigError("this install has no emoreason.analyze pipeline; the server cannot analyse")
    return analyze


def create_app(analyzer: Analyzer | None = None, *, limits: Limits | None = None,
               chat_model: ChatModel | None = None, chat_unavailable_reason: str | None = None,
               model_path: str | None = None, warmup: bool = False) -> FastAPI:
    """The API application.

    ``analyzer`` defaults to ``emoreason.analyze``; ``model_path`` (the MLLM chosen at start-up) is
    passed to it as ``model=``. ``chat_model`` enables ``/v1/chat/completions``; without one that
    endpoint answers 404 naming ``chat_unavailable_reason``. ``warmup`` runs one short text analysis
    at start-up so the models are loaded before the first request.
    """
    limits = limits or Limits()
    analyze = analyzer or default_analyzer()
    queue = WorkQueue(limits.max_concurrency, limits.max_queue, limits.retry_after_s)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warmup:
            await queue.run(analyze, None, text="Hello, this loads the models.", modalities=["text"],
                            timeout=limits.request_timeout_s)
            log.info("models loaded")
        yield
        queue.shutdown()

    app = FastAPI(title="emoreason", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Recognise emotion from face, voice and words, and explain it with the cues "
                              "observed. Errors have one shape: {\"error\": {\"type\", \"message\"}}.")
    app.state.limits = limits
    app.state.queue = queue
    app.add_middleware(BodySizeLimit, max_bytes=limits.max_upload_bytes)
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
              openapi_extra=_ANALYZE_OPENAPI, response_description="the Result as JSON")
    async def analyze_endpoint(request: Request) -> JSONResponse:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "multipart/form-data":
            result = await _analyze_upload(request)
        elif content_type == "application/json":
            result = await _analyze_json(request)
        else:
            raise ApiError(415, "unsupported_content_type",
                           "send multipart/form-data with a 'file' field, or application/json with 'text'")
        return JSONResponse(result.to_dict())

    async def _analyze_json(request: Request) -> Result:
        try:
            body = await request.json()
        except ValueError as exc:
            raise ApiError(400, "invalid_json", f"the body is not valid JSON ({exc})") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_request", "the JSON body must be an object such as {\"text\": \"...\"}")
        options = parse_options(body, limits)
        if not options.get("text"):
            raise ApiError(400, "invalid_request",
                           "a JSON request needs a non-empty 'text'; to analyse media, upload it as "
                           "multipart/form-data in the field 'file'")
        result = await queue.run(_call, analyze, None, options, model_path, timeout=limits.request_timeout_s)
        result.input = "<text>"
        return result

    async def _analyze_upload(request: Request) -> Result:
        form = await request.form(max_files=1, max_fields=len(OPTION_FIELDS) + 4,
                                  max_part_size=limits.max_text_chars * 4 + 1024)
        try:
            fields = {k: v for k, v in form.multi_items() if not isinstance(v, UploadFile)}
            files = [(k, v) for k, v in form.multi_items() if isinstance(v, UploadFile)]
            if any(k != "file" for k, _ in files):
                raise ApiError(400, "invalid_request", "upload the media in the multipart field named 'file'")
            options = parse_options(fields, limits)
            if not files:
                if options.get("text"):
                    result = await queue.run(_call, analyze, None, options, model_path,
                                             timeout=limits.request_timeout_s)
                    result.input = "<text>"
                    return result
                raise ApiError(400, "invalid_request", "no file uploaded: put the media in the field 'file'")
            upload = files[0][1]
            workdir = Path(tempfile.mkdtemp(prefix="emoreason-upload-"))
            try:
                media = workdir / ("upload" + _safe_suffix(upload.filename))
                await _save_upload(upload, media, limits.max_upload_bytes)
            except BaseException:
                shutil.rmtree(workdir, ignore_errors=True)
                raise
        finally:
            await form.close()
        result = await queue.run(_checked_call, analyze, media, options, model_path, limits.max_duration_s,
                                 timeout=limits.request_timeout_s,
                                 cleanup=lambda: shutil.rmtree(workdir, ignore_errors=True))
        result.input = _display_name(upload.filename) or media.name
        return result

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(docs_html(app.openapi()))

    add_chat_routes(app, chat_model, queue, limits, unavailable_reason=chat_unavailable_reason)
    return app


def parse_options(fields: Mapping[str, Any], limits: Limits) -> dict[str, Any]:
    """The analysis options a request gives, checked; a bad one is a 400 with a one-line message."""
    named = [k for k in fields if k in _PATH_FIELDS]
    if named:
        raise ApiError(400, "invalid_request",
                       f"field {named[0]!r} is not accepted: this server reads no server-side paths and the "
                       "model is chosen when the server starts; upload media in the multipart field 'file'")
    unknown = [k for k in fields if k not in OPTION_FIELDS]
    if unknown:
        raise ApiError(400, "invalid_request",
                       f"unknown field(s): {', '.join(map(str, unknown))}; accepted: file, {', '.join(OPTION_FIELDS)}")
    options: dict[str, Any] = {}
    text = fields.get("text")
    if text is not None:
        if not isinstance(text, str):
            raise ConfigError("'text' must be a string")
        if len(text) > limits.max_text_chars:
            raise ApiError(413, "text_too_long",
                           f"the text has {len(text)} characters; this server accepts at most {limits.max_text_chars}")
        options["text"] = text if text.strip() else None
    if fields.get("labels") is not None:
        options["labels"] = get_label_map(str(fields["labels"])).name
    mods = fields.get("modalities")
    if mods is not None:
        items = [m.strip().lower() for m in (mods.split(",") if isinstance(mods, str) else mods) if str(m).strip()]
        bad = [m for m in items if m not in MODALITIES]
        if bad or not items:
            raise ConfigError(f"modalities must be a comma-separated subset of {', '.join(MODALITIES)}")
        options["modalities"] = items
    if fields.get("fps") is not None:
        try:
            fps = float(fields["fps"])
        except (TypeError, ValueError):
            raise ConfigError(f"fps must be a number, not {fields['fps']!r}") from None
        if not 0 < fps <= 30:
            raise ConfigError("fps must be above 0 and at most 30")
        options["fps"] = fps
    return options


def _call(analyze: Analyzer, source: Any, options: dict[str, Any], model_path: str | None) -> Result:
    kwargs = dict(options)
    if model_path is not None:
        kwargs["model"] = model_path
    result = analyze(source, **kwargs)
    if not isinstance(result, Result):
        raise TypeError(f"the analyzer returned {type(result).__name__}, not a Result")
    return result


def _checked_call(analyze: Analyzer, media: Path, options: dict[str, Any], model_path: str | None,
                  max_duration_s: float) -> Result:
    check_media_duration(media, max_duration_s)
    return _call(analyze, str(media), options, model_path)


async def _save_upload(upload: UploadFile, target: Path, max_bytes: int) -> None:
    written = 0
    with open(target, "wb") as out:
        while chunk := await upload.read(_CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise ApiError(413, "payload_too_large",
                               f"the upload is larger than this server's limit of {max_bytes / 1024 / 1024:.1f} MiB")
            out.write(chunk)


def _safe_suffix(filename: str | None) -> str:
    """The upload's extension, if it is a plain one (decoders may use it as a hint)."""
    suffix = Path(filename or "").suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


def _display_name(filename: str | None) -> str:
    """The client's file name without any directory part, for the Result's ``input``."""
    name = re.split(r"[\\/]", filename or "")[-1]
    return re.sub(r"[\x00-\x1f]", "", name)[:200]


_ANALYZE_OPENAPI: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "video, audio or image"},
        "text": {"type": "string", "description": "transcript; wins over speech-to-text"},
        "labels": {"type": "string", "default": "canonical", "description": "label set, e.g. mer2023"},
        "modalities": {"type": "string", "description": "comma-separated subset of face,voice,text"},
        "fps": {"type": "number", "default": 5.0, "description": "frames analysed per second"}}}},
    "application/json": {"schema": {"type": "object", "required": ["text"], "properties": {
        "text": {"type": "string"}, "labels": {"type": "string", "default": "canonical"},
        "modalities": {"type": "array", "items": {"type": "string", "enum": list(MODALITIES)}}}}},
}}}
