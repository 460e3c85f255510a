"""``emoreason serve``: the HTTP API on this machine (127.0.0.1 unless --host says otherwise).

Beyond loopback an API key is required (``EMOREASON_API_KEY`` or ``--api-key``) unless ``--no-api-key``
waives it; see docs/security.md.

The server's modules (fastapi, uvicorn) are imported inside :func:`run`, so other commands start
without them.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from emoreason.errors import ConfigError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve", help="run the HTTP API (POST /v1/analyze, /v1/chat/completions with --model)",
        description="Serve emoreason over HTTP. Media are uploaded, never read from server paths; the "
                    "models load once and are shared by all requests.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--model", metavar="PATH", help="a multimodal LLM checkpoint: analyses use it, and the "
                                                   "OpenAI-compatible /v1/chat/completions is enabled")
    p.add_argument("--max-upload-mb", type=float, default=200.0, help="largest upload accepted (default 200)")
    p.add_argument("--max-duration", type=float, default=600.0,
                   help="longest media in seconds (default 600)")
    p.add_argument("--timeout", type=float, default=300.0,
                   help="seconds a request may wait and run (default 300)")
    p.add_argument("--concurrency", type=int, default=1,
                   help="analyses run at once (default 1; more needs models that are safe to share "
                        "between threads)")
    p.add_argument("--queue", type=int, default=4, help="requests that may wait; more get 503 (default 4)")
    p.add_argument("--upload-idle-timeout", type=float, default=30.0, metavar="S",
                   help="drop an upload that sends nothing for S seconds (default 30)")
    p.add_argument("--upload-timeout", type=float, default=600.0, metavar="S",
                   help="drop an upload not complete after S seconds (default 600)")
    p.add_argument("--max-upload-disk-mb", type=float, default=1024.0,
                   help="disk all uploads in progress or waiting may use together; more get 503 "
                        "(default 1024)")
    p.add_argument("--api-key", metavar="KEY",
                   help="require 'Authorization: Bearer KEY' (or 'X-API-Key: KEY') on every request but "
                        "/healthz; prefer the EMOREASON_API_KEY environment variable, which other users "
                        "cannot read from the process list. Required with a --host beyond loopback")
    p.add_argument("--no-api-key", action="store_true",
                   help="serve beyond loopback with no API key (e.g. behind an authenticating proxy)")
    p.add_argument("--no-warmup", action="store_true", help="do not load the models before the first request")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be 1..65535, not {args.port}")
    from emoreason.serve.auth import check_api_key
    from emoreason.serve.limits import Limits
    from emoreason.serve.server import serve

    api_key = args.api_key if args.api_key is not None else os.environ.get("EMOREASON_API_KEY") or None
    try:
        limits = Limits(max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
                        max_duration_s=args.max_duration, request_timeout_s=args.timeout,
                        max_concurrency=args.concurrency, max_queue=args.queue,
                        upload_idle_timeout_s=args.upload_idle_timeout, upload_timeout_s=args.upload_timeout,
                        max_upload_disk_bytes=int(args.max_upload_disk_mb * 1024 * 1024))
        if api_key is not None:
            check_api_key(api_key)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if args.model and not Path(args.model).exists():
        raise ConfigError(f"--model {args.model}: no such file or directory")
    serve(host=args.host, port=args.port, limits=limits, model_path=args.model, warmup=not args.no_warmup,
          verbose=args.verbose, api_key=api_key, allow_no_key=args.no_api_key)
    return 0
