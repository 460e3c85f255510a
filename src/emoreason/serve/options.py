"""What a client may ask of ``POST /v1/analyze``: the CLI's analysis options, checked, and the helpers that
keep the server's own paths out of what it answers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emoreason.errors import ConfigError
from emoreason.pipeline.options import MODALITIES, AnalyzeOptions
from emoreason.serve.errors import ApiError
from emoreason.serve.limits import Limits

OPTION_FIELDS = ("text", "labels", "modalities", "fps", "speaker_normalisation", "face_model", "language",
                 "people", "speakers", "format")
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")
FILE_FIELDS = ("file", "transcript")
TRANSCRIPT_SUFFIXES = (".txt", ".srt", ".vtt")
RESPONSE_FORMATS = ("json", "html")
MAX_FPS = 30.0  # below the library's limit: a server's frames per second cost every client
# Options of the CLI a client may not set: they name server paths or make the server fetch a URL.
_SERVER_SIDE = ("source", "path", "input", "media_path", "file_path", "url", "model", "explain_endpoint",
                "explain_model", "output", "report", "plot")


def parse_options(fields: Mapping[str, Any], limits: Limits) -> dict[str, Any]:
    """The analysis options a request gives (``format`` included), checked; a bad one is a 4xx.

    Only the options the request names are returned, normalised as
    :class:`~emoreason.pipeline.options.AnalyzeOptions` stores them. The server is stricter than the
    library in two ways: modalities by their canonical names only, and at most :data:`MAX_FPS`."""
    named = [k for k in fields if k in _SERVER_SIDE]
    if named:
        raise ApiError(400, "invalid_request",
                       f"field {named[0]!r} is not accepted: this server reads no server-side paths, fetches "
                       "no URL, and its model is chosen when it starts; upload media in the field 'file'")
    unknown = [k for k in fields if k not in OPTION_FIELDS]
    if unknown:
        raise ApiError(400, "invalid_request", f"unknown field(s): {', '.join(map(str, unknown))}; accepted: "
                                               f"{', '.join(FILE_FIELDS + OPTION_FIELDS)}")
    options: dict[str, Any] = {}
    text = fields.get("text")
    if text is not None:
        if not isinstance(text, str):
            raise ConfigError("'text' must be a string")
        if len(text) > limits.max_text_chars:
            raise ApiError(413, "text_too_long", f"the text has {len(text)} characters; this server accepts "
                                                 f"at most {limits.max_text_chars}")
        options["text"] = text if text.strip() else None
    if fields.get("labels") is not None:
        options["labels"] = str(fields["labels"])
    mods = fields.get("modalities")
    if mods is not None:
        items = [str(m).strip().lower() for m in (mods.split(",") if isinstance(mods, str) else mods)
                 if str(m).strip()]
        if not items or any(m not in MODALITIES for m in items):
            raise ConfigError(f"modalities must be a comma-separated subset of {', '.join(MODALITIES)}")
        options["modalities"] = items
    if fields.get("fps") is not None:
        try:
            fps = float(fields["fps"])
        except (TypeError, ValueError):
            raise ConfigError(f"fps must be a number, not {fields['fps']!r}") from None
        if not 0 < fps <= MAX_FPS:
            raise ConfigError(f"fps must be above 0 and at most {MAX_FPS:g}")
        options["fps"] = fps
    for name in ("speaker_normalisation", "face_model", "language"):
        if fields.get(name) is not None:
            options[name] = fields[name]
    options.update(_people(fields))
    checked = AnalyzeOptions(**{k: v for k, v in options.items() if k != "text"})
    for name in ("labels", "speaker_normalisation", "face_model", "language"):
        if name in options:
            options[name] = getattr(checked, name)
    fmt = str(fields.get("format") or "json").lower()
    if fmt not in RESPONSE_FORMATS:
        raise ConfigError(f"format must be one of {', '.join(RESPONSE_FORMATS)}, not {fmt!r}")
    options["format"] = fmt
    return options


def _people(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``people`` (true/false, as JSON or as a form field's text) and ``speakers`` (a whole number, which
    implies ``people``), only when the request asks for people; a bad value is a ConfigError."""
    people, speakers = fields.get("people"), fields.get("speakers")
    if isinstance(people, str):
        word = people.strip().lower()
        if word not in _TRUE + _FALSE:
            raise ConfigError(f"people must be true or false, not {people!r:.40}")
        people = word in _TRUE
    elif people is not None and not isinstance(people, bool):
        raise ConfigError(f"people must be true or false, not {people!r:.40}")
    if isinstance(speakers, str):
        try:
            speakers = int(speakers.strip()) if speakers.strip() else None
        except ValueError:
            raise ConfigError(f"speakers must be a whole number of speakers, not {speakers!r:.40}") from None
    if not people and speakers is None:
        return {}
    return {"people": True, "speakers": speakers}


def safe_suffix(filename: str | None) -> str:
    """The upload's extension, if it is a plain one (decoders may use it as a hint)."""
    suffix = Path(filename or "").suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


def display_name(filename: str | None) -> str:
    """The client's file name without any directory part, for the Result's ``input``."""
    name = re.split(r"[\\/]", filename or "")[-1]
    return re.sub(r"[\x00-\x1f]", "", name)[:200]


def replace_in_strings(obj: Any, replacements: Mapping[str, str]) -> Any:
    """``obj`` (JSON-like) with each key of ``replacements`` replaced by its value in every string."""
    if isinstance(obj, str):
        for old, new in replacements.items():
            obj = obj.replace(old, new)
        return obj
    if isinstance(obj, dict):
        return {k: replace_in_strings(v, replacements) for k, v in obj.items()}
    if isinstance(obj, list):
        return [replace_in_strings(v, replacements) for v in obj]
    return obj
