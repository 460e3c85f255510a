"""Access control: an API key every request must carry, except the liveness probe.

:class:`ApiKeyAuth` (ASGI middleware) answers 401 in the server's JSON error shape, before reading the
body, to any request without the key, given as ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``. The
key is compared in constant time (:func:`hmac.compare_digest`). ``GET /healthz`` stays open for load
balancers and process managers; ``/docs`` and ``/openapi.json`` need the key like the API itself.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from emoreason.serve.errors import error_body
from emoreason.serve.limits import send_json_and_close

OPEN_PATHS = frozenset({"/healthz"})
MIN_KEY_CHARS = 16


def check_api_key(key: str) -> str:
    """``key`` if it is usable as an API key; a ValueError saying why not."""
    if len(key) < MIN_KEY_CHARS or any(c.isspace() for c in key) or not key.isprintable():
        raise ValueError(f"the API key must be at least {MIN_KEY_CHARS} printable characters without spaces "
                         "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return key


class ApiKeyAuth:
    """ASGI middleware: 401 unless the request carries ``key`` (see the module's docstring)."""

    def __init__(self, app: Any, key: str):
        self.app = app
        self.key = check_api_key(key).encode("utf-8")

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope.get("path") in OPEN_PATHS or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        message = "this server needs an API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
        await send_json_and_close(receive, send, 401, error_body("unauthorized", message),
                                  [(b"www-authenticate", b'Bearer realm="emoreason"')])

    def _allowed(self, scope: dict) -> bool:
        given = b""
        for name, value in scope.get("headers") or []:
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                given = value[7:].strip()
            elif name == b"x-api-key" and not given:
                given = value.strip()
        return hmac.compare_digest(given, self.key)
