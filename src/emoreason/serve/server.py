"""Run the HTTP API: load the chat model of a multimodal-LLM checkpoint (if one is named), warm the
analysis models up, and serve :func:`~emoreason.serve.app.create_app`'s application with uvicorn.

The multimodal LLM's code (torch, transformers) is imported inside :func:`load_chat_model`, only when a
checkpoint is named.
"""

from __future__ import annotations

import ipaddress
import logging

import uvicorn

from emoreason.errors import ConfigError
from emoreason.serve.app import create_app, default_analyzer, warm_up
from emoreason.serve.emollm_chat import EmoLLMChat
from emoreason.serve.limits import Limits

log = logging.getLogger("emoreason.serve")


def serve(*, host: str, port: int, limits: Limits, model_path: str | None = None, warmup: bool = True,
          verbose: bool = False, api_key: str | None = None, allow_no_key: bool = False) -> None:
    """Serve the API on ``host:port`` until interrupted. ``model_path``: a multimodal-LLM checkpoint that
    analyses use and ``/v1/chat/completions`` serves; ``warmup``: load every model before the first
    request; ``api_key``: required of every request but ``/healthz``. Binding beyond loopback without a key
    is refused (:func:`check_exposure`) unless ``allow_no_key``."""
    check_exposure(host, api_key, allow_no_key)
    chat_model, reason = load_chat_model(model_path) if model_path else (None, None)
    analyze = default_analyzer()
    if warmup:
        for line in warm_up(analyze, model_path):
            log.info("warm-up %s", line)
    app = create_app(analyze, limits=limits, chat_model=chat_model, chat_unavailable_reason=reason,
                     model_path=model_path, api_key=api_key)
    where = f"[{host}]" if ":" in host else host
    log.warning("serving on http://%s:%d (%s); Ctrl-C stops", where, port,
                "API key required" if api_key else "no API key")
    uvicorn.run(app, host=host, port=port, log_level="info" if verbose else "warning",
                timeout_graceful_shutdown=5)


def check_exposure(host: str, api_key: str | None, allow_no_key: bool) -> None:
    """Refuse (:class:`ConfigError`) to bind beyond loopback without an API key unless the waiver is given,
    which is logged loudly; a key and the waiver together are a contradiction."""
    if api_key is not None and allow_no_key:
        raise ConfigError("--api-key (or EMOREASON_API_KEY) and --no-api-key contradict each other")
    if api_key is not None or is_loopback(host):
        return
    if not allow_no_key:
        raise ConfigError(f"--host {host} makes the API reachable from other machines: give an API key "
                          "(EMOREASON_API_KEY=... or --api-key KEY), or pass --no-api-key to serve it open")
    log.warning("!!! --no-api-key: binding %s with NO authentication: anyone who can reach this address can "
                "use the API and its compute; put it behind an authenticating reverse proxy !!!", host)


def load_chat_model(path: str) -> tuple[EmoLLMChat | None, str | None]:
    """The chat model (:class:`~emoreason.serve.emollm_chat.EmoLLMChat`) for the checkpoint at ``path``, or
    (None, why there is none) when the multimodal LLM's code cannot be imported. A checkpoint that does not
    load is an error."""
    try:
        import emoreason.emollm.infer  # noqa: F401 - torch, transformers, peft: installed with emoreason[llm]
    except ImportError as exc:
        reason = f"chat is unavailable: the multimodal LLM code could not be imported ({exc})"
        log.warning(reason)
        return None, reason
    return EmoLLMChat(path), None


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``localhost`` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
