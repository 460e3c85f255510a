"""Transcripts: what was said, when, and how sure we are — from ASR or read from a .txt/.srt/.vtt file.

A transcript file given by the user wins over speech recognition; its confidence is 1.0. Files are
decoded as UTF-8 (with or without BOM) or UTF-16/UTF-32 with a BOM; anything else, or a malformed
subtitle file, raises :class:`~emoreason.errors.TranscriptError` naming the file and the problem.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from emoreason.errors import TranscriptError
from emoreason.languages import join_words

SIDECAR_SUFFIXES = (".srt", ".vtt", ".txt")
#: Given text (``analyze(text=...)``, ``--text``) beyond this many characters is cut, with a note: the
#: server's default limit (``serve.limits.Limits.max_text_chars``), where longer text is refused.
MAX_TEXT_CHARS = 20000


def cap_text(text: str, limit: int = MAX_TEXT_CHARS) -> tuple[str, str | None]:
    """``text`` cut to at most ``limit`` characters (at a space when one is near the end), and a note
    saying so; ``(text, None)`` when it is short enough."""
    if len(text) <= limit:
        return text, None
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.9:
        cut = cut[:space]
    return cut, (f"the given text has {len(text):,} characters; only its first {len(cut):,} were analysed "
                 f"(at most {limit:,})")


@dataclass
class Word:
    text: str
    start: float
    end: float
    probability: float


@dataclass
class TranscriptSegment:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    confidence: float = 1.0  # 0..1: ASR word-probability mean; 1.0 for a user-given transcript


@dataclass
class Transcript:
    """Segments in time order. ``source`` is "asr:<model>", "user" or the file it was read from.

    ``timed`` is False when the times are not known (a plain .txt file): segment times are then an even
    spread over the media's duration (or all 0.0 without one) and must not be quoted as evidence.
    ``notes`` say what was dropped or could not be done (e.g. a repetition loop trimmed from ASR output).
    ``language`` is a Whisper language code ("de") and ``language_probability`` the identification's
    probability: speech-to-text sets both (the probability stays None when the caller gave the
    language); for given text and transcript files both stay None until the text analyzer, which
    receives this object, sets them from the words.
    """

    segments: list[TranscriptSegment]
    source: str
    timed: bool = True
    notes: list[str] = field(default_factory=list)
    language: str | None = None
    language_probability: float | None = None

    @property
    def text(self) -> str:
        return join_words((s.text.strip() for s in self.segments if s.text.strip()), self.language)

    @property
    def confidence(self) -> float:
        """Mean segment confidence weighted by text length (0.0 when there is no text)."""
        pairs = [(len(s.text.strip()), s.confidence) for s in self.segments if s.text.strip()]
        total = sum(n for n, _ in pairs)
        return sum(n * c for n, c in pairs) / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- reading files ---------------------------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text_file(path: Path) -> str:
    """The file's text; UTF-8, or UTF-8/16/32 with a byte-order mark; otherwise a TranscriptError."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(f"cannot read transcript {path}: {exc.strerror or exc}") from None
    encoding = next((enc for bom, enc in _BOMS if raw.startswith(bom)), "utf-8")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise TranscriptError(
            f"transcript {path} is not valid {encoding} text (byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start}); save it as UTF-8") from None
    if "\x00" in text:
        raise TranscriptError(f"transcript {path} holds NUL characters: it is binary or an unmarked UTF-16 "
                              "file; save it as UTF-8")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_transcript(path: str | Path, duration: float | None = None) -> Transcript:
    """Read a .txt (one utterance per line), .srt or .vtt transcript."""
    path = Path(path)
    if not path.is_file():
        raise TranscriptError(f"transcript not found: {path}")
    suffix = path.suffix.lower()
    if suffix not in SIDECAR_SUFFIXES:
        raise TranscriptError(f"transcript {path}: unknown type {suffix or '(none)'}; use .txt, .srt or .vtt")
    text = decode_text_file(path)
    if not text.strip():
        raise TranscriptError(f"transcript {path} is empty")
    if suffix == ".txt":
        lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
        return Transcript(_spread(lines, duration), source=str(path), timed=False)
    segments = _parse_srt(text, path) if suffix == ".srt" else _parse_vtt(text, path)
    if not segments:
        raise TranscriptError(f"transcript {path} holds no cues with text")
    return Transcript(segments, source=str(path), timed=True)


def find_sidecar_transcript(media_path: str | Path) -> Path | None:
    """``clip.srt``, ``clip.vtt`` or ``clip.txt`` beside ``clip.mp4`` (first found, in that order)."""
    media_path = Path(media_path)
    for suffix in SIDECAR_SUFFIXES:
        for candidate in (media_path.with_suffix(suffix), media_path.with_suffix(suffix.upper())):
            if candidate != media_path and candidate.is_file():
                return candidate
    return None


def _spread(lines: list[str], duration: float | None) -> list[TranscriptSegment]:
    """Untimed lines; with a duration, spread over it in proportion to their length."""
    if duration is None or duration <= 0:
        return [TranscriptSegment(0.0, 0.0, ln) for ln in lines]
    total = sum(len(ln) for ln in lines)
    out, t = [], 0.0
    for ln in lines:
        dt = duration * len(ln) / total
        out.append(TranscriptSegment(round(t, 3), round(min(duration, t + dt), 3), ln))
        t += dt
    return out


_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})"
_CUE_TIMES = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+.*)?$")
_TAGS = re.compile(r"<[^>]*>|\{\\[^}]*\}")


def _seconds(h: str | None, m: str, s: str, frac: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(frac.ljust(3, "0")) / 1000


def _cue(line: str, path: Path, lineno: int) -> tuple[float, float] | None:
    match = _CUE_TIMES.match(line)
    if match is None:
        return None
    g = match.groups()
    start, end = _seconds(*g[:4]), _seconds(*g[4:])
    if end < start:
        raise TranscriptError(f"transcript {path} line {lineno}: cue ends ({end:.3f} s) before it starts "
                              f"({start:.3f} s)")
    return start, end


def _clean(lines: list[str]) -> str:
    parts = (html.unescape(_TAGS.sub("", ln)).strip() for ln in lines)
    return " ".join(p for p in parts if p)


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks with the 1-based line number of their first line."""
    out, current, first = [], [], 0
    for i, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not current:
                first = i
            current.append(line)
        elif current:
            out.append((first, current))
            current = []
    if current:
        out.append((first, current))
    return out


def _parse_srt(text: str, path: Path) -> list[TranscriptSegment]:
    return _timed_segments(_blocks(text), path, lambda b: 1 if b[0].strip().isdigit() and len(b) > 1 else 0,
                           "a time line like '00:00:01,000 --> 00:00:02,500'")


def _parse_vtt(text: str, path: Path) -> list[TranscriptSegment]:
    blocks = _blocks(text.lstrip("\ufeff"))
    if not blocks or not blocks[0][1][0].startswith("WEBVTT"):
        raise TranscriptError(f"transcript {path}: a WebVTT file must start with 'WEBVTT'")
    cues = [(first, b) for first, b in blocks[1:] if not b[0].strip().startswith(("NOTE", "STYLE", "REGION"))]
    return _timed_segments(cues, path, lambda b: 0 if "-->" in b[0] else 1,
                           "a cue time line like '00:01.000 --> 00:02.500'")


def _timed_segments(blocks: list[tuple[int, list[str]]], path: Path, time_line: Callable[[list[str]], int],
                    expected: str) -> list[TranscriptSegment]:
    """One segment per cue block with text: its times from the line at ``time_line(block)`` (an SRT number
    or a WebVTT cue identifier may come before it), its text the lines after; sorted by start."""
    segments = []
    for first, block in blocks:
        k = time_line(block)
        times = _cue(block[k], path, first + k) if k < len(block) else None
        if times is None:
            found = f", found {block[k].strip()[:40]!r}" if k < len(block) else ""
            raise TranscriptError(f"transcript {path} line {first + k}: expected {expected}{found}")
        body = _clean(block[k + 1:])
        if body:
            segments.append(TranscriptSegment(times[0], times[1], body))
    return sorted(segments, key=lambda s: s.start)
