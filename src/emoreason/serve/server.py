"""Run the HTTP API: load the chat model of a multimodal-LLM checkpoint (if one is named), warm the
analysis models up, and serve :func:`~emoreason.serve.app.create_app`'s application with uvicorn.

The multimodal LLM's code (torch, transformers) is imported inside :func:`load_chat_model`, only when a
checkpoint is named.
"""

from __future__ import annotations

import ipaddress
import logging

import uvicorn

from emoreason.serve.app import create_app, default_analyzer, warm_up
from emoreason.serve.emollm_chat import EmoLLMChat
from emoreason.serve.limits import Limits

log = logging.getLogger("emoreason.serve")


def serve(*, host: str, port: int, limits: Limits, model_path: str | None = None, warmup: bool = True,
          verbose: bool = False) -> None:
    """Serve the API on ``host:port`` until interrupted. ``model_path``: a multimodal-LLM checkpoint that
    analyses use and ``/v1/chat/completions`` serves; ``warmup``: load every model before the first
    request."""
    chat_model, reason = load_chat_model(model_path) if model_path else (None, None)
    if not is_loopback(host):
        log.warning("binding %s: the API is reachable from other machines and has no authentication", host)
    analyze = default_analyzer()
    if warmup:
        for line in warm_up(analyze, model_path):
            log.info("warm-up %s", line)
    app = create_app(analyze, limits=limits, chat_model=chat_model, chat_unavailable_reason=reason,
                     model_path=model_path)
    uvicorn.run(app, host=host, port=port, log_level="info" if verbose else "warning",
                timeout_graceful_shutdown=5)


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
