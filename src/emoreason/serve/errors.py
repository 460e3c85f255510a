"""One JSON error shape for every failure the server reports: ``{"error": {"type", "message"}}``.

A user's mistake (an :class:`~emoreason.errors.EmoreasonError`) becomes a 4xx with its one-line message;
anything unexpected becomes a 500 whose message names no internals (the traceback goes to the log).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from emoreason import errors as E

log = logging.getLogger("emoreason.serve")


class ApiError(Exception):
    """An error with its HTTP status, a short machine-readable type and a one-line message."""

    def __init__(self, status: int, type: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.headers = headers or {}


# Most specific first: the first class in an exception's MRO found here decides.
_EMOREASON_STATUS: dict[type[E.EmoreasonError], tuple[int, str]] = {
    E.InputNotFoundError: (400, "input_not_found"),
    E.EmptyInputError: (400, "empty_input"),
    E.UnsupportedFormatError: (415, "unsupported_format"),
    E.CorruptMediaError: (422, "corrupt_media"),
    E.TooShortError: (422, "too_short"),
    E.MediaTooLongError: (413, "media_too_long"),
    E.MediaTooLargeError: (413, "media_too_large"),
    E.AnalysisCancelledError: (503, "cancelled"),  # only when the request is gone: nobody reads it
    E.NoUsableModalityError: (422, "no_usable_modality"),
    E.TranscriptError: (400, "transcript_error"),
    E.ConfigError: (400, "invalid_option"),
    E.ModelError: (500, "model_error"),  # the server's own setup, not the client's mistake
    E.UnparsableAnswerError: (422, "unparsable_answer"),
    E.EmoreasonError: (400, "invalid_input"),
}

_HTTP_TYPES = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
               415: "unsupported_format", 422: "invalid_request", 503: "overloaded", 504: "timeout"}


_ERROR_SCHEMA = {"type": "object", "properties": {"error": {"type": "object", "properties": {
    "type": {"type": "string"}, "message": {"type": "string"}}}}}


def error_responses(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI ``responses`` entries for the listed error statuses, all in the one error shape."""
    what = {400: "a bad option or input", 404: "no such model", 413: "too large or too long",
            415: "a format the server does not read", 422: "nothing usable in the input",
            500: "the server's own failure", 503: "busy: retry after Retry-After seconds",
            504: "took longer than the request timeout"}
    return {code: {"description": what.get(code, "error"),
                   "content": {"application/json": {"schema": _ERROR_SCHEMA}}} for code in statuses}


def error_body(type: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"type": type, "message": message}}


def error_response(status: int, type: str, message: str,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(type, message), status_code=status, headers=headers)


def api_error_from(exc: E.EmoreasonError) -> ApiError:
    """The HTTP form of an emoreason error."""
    for cls in type(exc).__mro__:
        if cls in _EMOREASON_STATUS:
            status, kind = _EMOREASON_STATUS[cls]
            model = isinstance(exc, E.ModelError)
            message = f"the server's model setup failed: {exc}" if model else str(exc)
            return ApiError(status, kind, message)
    return ApiError(400, "invalid_input", str(exc))  # pragma: no cover - EmoreasonError is in the table


def install_error_handlers(app: FastAPI) -> None:
    """Route every error the app can raise through :func:`error_response`."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.type, exc.message, exc.headers)

    @app.exception_handler(E.EmoreasonError)
    async def _emoreason_error(_: Request, exc: E.EmoreasonError) -> JSONResponse:
        err = api_error_from(exc)
        if err.status >= 500:
            log.error("model error: %s", exc)
        return error_response(err.status, err.type, err.message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for item in exc.errors():
            where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
            problems.append(f"{where}: {item.get('msg', 'invalid')}" if where else str(item.get("msg")))
        return error_response(422, "invalid_request", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = _HTTP_TYPES.get(exc.status_code, "http_error")
        message = str(exc.detail) if exc.detail else kind.replace("_", " ")
        if exc.status_code == 404:
            message = f"no such endpoint: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return error_response(exc.status_code, kind, message, getattr(exc, "headers", None))

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, _: Exception) -> Response:
        log.warning("client went away during %s %s; its work was dropped", request.method, request.url.path)
        return Response(status_code=499)  # never read: the connection is closed

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error",
                              f"the server failed while handling this request ({type(exc).__name__}); "
                              "see the server log")
