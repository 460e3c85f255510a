"""``emoreason serve``: the HTTP API on this machine (127.0.0.1 unless --host says otherwise)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
from pathlib import Path
from typing import Any

from emoreason.errors import ConfigError

log = logging.getLogger("emoreason.serve")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve", help="run the HTTP API (POST /v1/analyze, /v1/chat/completions with --model)",
        description="Serve emoreason over HTTP. Media are uploaded, never read from server paths; the "
                    "models load once and are shared by all requests.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--model", metavar="PATH", help="a multimodal LLM checkpoint: analyses use it, and the "
                                                   "OpenAI-compatible /v1/chat/completions is enabled")
    p.add_argument("--max-upload-mb", type=float, default=200.0, help="largest upload accepted (default 200)")
    p.add_argument("--max-duration", type=float, default=600.0, help="longest media in seconds (default 600)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds a request may wait and run (default 300)")
    p.add_argument("--concurrency", type=int, default=1,
                   help="analyses run at once (default 1; more needs models that are safe to share between threads)")
    p.add_argument("--queue", type=int, default=4, help="requests that may wait; more get 503 (default 4)")
    p.add_argument("--no-warmup", action="store_true", help="do not load the models before the first request")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from emoreason.serve.app import create_app, default_analyzer, warm_up
    from emoreason.serve.limits import Limits

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be 1..65535, not {args.port}")
    try:
        limits = Limits(max_upload_bytes=int(args.max_upload_mb * 1024 * 1024), max_duration_s=args.max_duration,
                        request_timeout_s=args.timeout, max_concurrency=args.concurrency, max_queue=args.queue)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    chat_model, reason = (None, None)
    if args.model:
        if not Path(args.model).exists():
            raise ConfigError(f"--model {args.model}: no such file or directory")
        chat_model, reason = load_chat_model(args.model)
    if not _is_loopback(args.host):
        log.warning("binding %s: the API is reachable from other machines and has no authentication", args.host)
    analyze = default_analyzer()
    if not args.no_warmup:
        for line in warm_up(analyze, args.model):
            log.info("warm-up %s", line)
    app = create_app(analyze, limits=limits, chat_model=chat_model, chat_unavailable_reason=reason,
                     model_path=args.model)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info" if args.verbose else "warning",
                timeout_graceful_shutdown=5)
    return 0


def load_chat_model(path: str) -> tuple[Any, str | None]:
    """The chat model for the checkpoint at ``path``, or (None, why there is none).

    ``emoreason.emollm.infer.load_chat_model`` is used when the LLM package provides one; otherwise
    :class:`emoreason.serve.emollm_chat.EmoLLMChat`. A checkpoint that does not load is an error.
    """
    try:
        from emoreason.emollm import infer
    except ImportError as exc:
        reason = f"chat is unavailable: the multimodal LLM code could not be imported ({exc})"
        log.warning(reason)
        return None, reason
    loader = getattr(infer, "load_chat_model", None)
    if loader is not None:
        return loader(path), None
    from emoreason.serve.emollm_chat import EmoLLMChat

    return EmoLLMChat(path), None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
