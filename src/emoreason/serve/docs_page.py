"""An API documentation page built from the OpenAPI schema on the server itself.

FastAPI's default /docs loads Swagger UI from a CDN, which an offline machine cannot reach; this page
is plain HTML with inline CSS, listing each endpoint, its request fields and its answers. The full
machine-readable schema stays at /openapi.json.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

_CSS = """body{font:15px/1.5 -apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;
background:#f5f7fa;color:#1d2330}main{max-width:920px;margin:0 auto;padding:24px 20px}
section{background:#fff;border:1px solid #e3e7ee;border-radius:12px;padding:14px 18px;margin:0 0 14px}
.m{display:inline-block;min-width:52px;text-align:center;border-radius:6px;padding:1px 8px;font-weight:700;
color:#fff;margin-right:8px}.get{background:#2d7be3}.post{background:#1f9d61}
code{background:#eef1f6;padding:1px 5px;border-radius:4px}table{border-collapse:collapse;width:100%;
font-size:14px}td,th{text-align:left;border-bottom:1px solid #eef1f5;padding:4px 6px;vertical-align:top}
.muted{color:#5f6b7a}"""


def docs_html(schema: dict[str, Any]) -> str:
    """The documentation page for ``schema`` (an OpenAPI 3 dict)."""
    info = schema.get("info", {})
    title, version = escape(info.get("title", "API")), escape(info.get("version", ""))
    parts = [f"<h1>{title} <span class=muted>{version}</span></h1>",
             f"<p>{escape(info.get('description', ''))}</p>",
             '<p class=muted>Machine-readable schema: <a href="/openapi.json">/openapi.json</a></p>']
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            parts.append(_operation(path, method, op))
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>emoreason API</title>"
            f"<style>{_CSS}</style></head><body><main>{''.join(parts)}</main></body></html>")


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    html = [f'<section><h3><span class="m {escape(method)}">{escape(method.upper())}</span>'
            f"<code>{escape(path)}</code> {escape(op.get('summary', ''))}</h3>"]
    if op.get("description"):
        html.append(f"<p>{escape(op['description'])}</p>")
    for ctype, body in op.get("requestBody", {}).get("content", {}).items():
        props = body.get("schema", {}).get("properties", {})
        required = set(body.get("schema", {}).get("required", []))
        if not props:
            continue
        rows = "".join(
            f"<tr><td><code>{escape(name)}</code>{' *' if name in required else ''}</td>"
            f"<td>{escape(_type(p))}</td><td>{escape(str(p.get('description', '')))}"
            f"{escape(' (default ' + json.dumps(p['default']) + ')') if 'default' in p else ''}</td></tr>"
            for name, p in props.items())
        html.append(f"<p class=muted>{escape(ctype)}</p><table><tr><th>field</th><th>type</th><th></th></tr>"
                    f"{rows}</table>")
    answers = ", ".join(f"{escape(code)} {escape(r.get('description', ''))}"
                        for code, r in op.get("responses", {}).items())
    html.append(f"<p class=muted>Answers: {answers}</p></section>")
    return "".join(html)


def _type(prop: dict[str, Any]) -> str:
    if prop.get("type") == "array":
        return f"array of {prop.get('items', {}).get('type', 'any')}"
    return str(prop.get("format") or prop.get("type") or "any")
