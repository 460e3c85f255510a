"""A self-contained HTML page a person can read: the verdict, the explanation, the timeline of scores per
modality, the peak frame with its Action Units, the transcript coloured by segment emotion and the
evidence, and with people (``analyze(..., people=True)``) a row and a timeline row per person
(:mod:`emoreason.report.people`). Everything is inline (CSS, SVG, the frame as base64 JPEG); the page
needs no network and no script.
"""

from __future__ import annotations

import json
import logging
import os
from html import escape
from pathlib import Path
from typing import Any

from emoreason import __version__
from emoreason.errors import InputNotFoundError
from emoreason.io.atomic import atomic_write_text
from emoreason.report.languages import isolate_quotes, lang_attrs, language_fact, language_line
from emoreason.report.palette import MODALITY_NAMES, au_display, label_colour, label_order, score_bar, text_on
from emoreason.report.peak_frame import PeakFrameError, peak_frame_image
from emoreason.report.people import people_section
from emoreason.report.style import CSS
from emoreason.report.timeline_data import build_timeline, format_time
from emoreason.report.timeline_svg import legend_html, timeline_svg
from emoreason.result import Result

log = logging.getLogger(__name__)


def write_html_report(result: Result, path: str | os.PathLike,
                      media_path: str | os.PathLike | None = None) -> Path:
    """Write ``result`` as one self-contained HTML file at ``path`` (atomically) and return the path.

    ``media_path`` is the analysed file: when given and the face was used, the peak frame is decoded
    from it and embedded. A frame that cannot be decoded is named on the page, not silently left out.
    """
    path = Path(path)
    if media_path is not None and not Path(media_path).is_file():
        raise InputNotFoundError(f"{media_path}: no such file (needed for the report's peak frame)")
    atomic_write_text(path, render_html(result, media_path))
    return path


def render_html(result: Result, media_path: str | os.PathLike | None = None) -> str:
    """The report page as a string."""
    name = Path(result.input).name or "input"
    body = [
        _header(result, name),
        _card("Why", _explanation(result)),
        _card("Timeline", _timeline(result)),
        people_section(result),
        _face_section(result, media_path),
        _transcript_section(result),
        _card("Evidence", _evidence_table(result)),
        _card("Modalities", _modalities_table(result)),
        _notes_section(result),
    ]
    version = result.provenance.get("version", __version__) if result.provenance else __version__
    footer = f"<footer>emoreason {escape(str(version))} · schema {escape(result.schema_version)}</footer>"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(name)}: {escape(result.label)} — emoreason report</title>"
            f"<style>{CSS}</style></head><body><main>"
            + "".join(part for part in body if part) + footer + "</main></body></html>\n")


def _card(title: str, inner: str, extra_class: str = "") -> str:
    return f'<section class="card {extra_class}"><h2>{escape(title)}</h2>{inner}</section>'


def _tag(label: str, label_set: str) -> str:
    colour = label_colour(label, label_set)
    return f'<span class="tag" style="background:{colour};color:{text_on(colour)}">{escape(label)}</span>'


def _header(result: Result, name: str) -> str:
    colour = label_colour(result.label, result.label_set)
    facts = []
    if result.label in result.scores:
        facts.append(f"score {result.scores[result.label]:.2f}")
    if result.duration:
        facts.append(format_time(result.duration))
    used = [MODALITY_NAMES.get(m, m) for m, s in result.modalities.items() if s.used]
    if used:
        facts.append("from " + ", ".join(used))
    if result.language is not None:
        facts.append(language_fact(result))
    if result.label_set != "canonical":
        facts.append(f"labels: {result.label_set}")
    gauges = "".join(_gauge(title, value, low, high) for title, value, low, high in (
        ("valence", result.valence, "negative", "positive"), ("arousal", result.arousal, "calm", "excited")))
    verdict = (f'<div class="verdict"><div class="file">{escape(name)}</div>'
               f'<h1><span class="pill" style="background:{colour};color:{text_on(colour)}">'
               f"{escape(result.label)}</span></h1>"
               f'<div class="sub">{escape(" · ".join(facts))}</div><div class="gauges">{gauges}</div></div>')
    rows = "".join(score_bar(lab, p, result.label_set) for lab, p in result.top)
    return f'<header class="top">{verdict}<div class="scores">{rows}</div></header>'


def _gauge(title: str, value: float, low: str, high: str) -> str:
    v = max(-1.0, min(1.0, float(value)))
    left = (v + 1) / 2 * 100
    return (f'<div class="gauge"><div class="lbl"><span>{escape(title)}</span><b>{v:+.2f}</b></div>'
            '<div class="track"><div class="mid"></div>'
            f'<div class="mark" style="left:calc({left:.1f}% - 2px)"></div></div>'
            f'<div class="ends"><span>{escape(low)}</span><span>{escape(high)}</span></div></div>')


def _explanation(result: Result) -> str:
    if result.explanation.strip():
        return f'<p class="explanation" dir="auto">{isolate_quotes(result.explanation.strip())}</p>'
    return '<p class="note">The analysis gave no explanation.</p>'


def _timeline(result: Result) -> str:
    timeline = build_timeline(result)
    what = ("Each bar is one segment; its colours stack the probability of each label, per modality. "
            "Hover a bar for its numbers." if result.segments else
            "The input has no segments; the bars show the scores over the whole input.")
    return (legend_html(timeline.labels, result.label_set) + timeline_svg(timeline, result.label_set)
            + f'<p class="note">{escape(what)}</p>')


def _face_section(result: Result, media_path: str | os.PathLike | None) -> str:
    face = result.modalities.get("face")
    if face is None:
        return ""
    if not face.used:
        reason = escape(face.reason or "no reason given")
        return _card("Face", f'<p class="note">The face was not used: {reason}.</p>')
    details = face.details or {}
    peak_time = details.get("peak_frame_time")
    aus: dict[str, Any] = details.get("peak_aus") or {}
    if peak_time is None and not aus:
        return _card("Face", '<p class="note">The face was used, but this analysis reported no peak frame '
                             "and no Action Units.</p>")
    picture = ""
    if media_path is None:
        picture = '<p class="note">No media file was given to the report, so the peak frame is not shown.</p>'
    elif peak_time is None:
        picture = '<p class="note">The face analysis named no peak frame.</p>'
    else:
        try:
            frame = peak_frame_image(media_path, float(peak_time), details.get("peak_face_box"))
            when = format_time(frame.time) if frame.time is not None else "still image"
            box = " The yellow box marks the face analysed." if frame.box_drawn else ""
            picture = (f'<figure><img src="{frame.data_uri}" width="{frame.width}" height="{frame.height}" '
                       f'alt="peak frame at {escape(when)}"><figcaption>Peak frame ({escape(when)}): '
                       f"where the clip's most frequent active Action Units are strongest.{box}"
                       "</figcaption></figure>")
        except PeakFrameError as exc:
            log.warning("report: %s", exc)
            picture = f'<p class="warn">The peak frame could not be shown: {escape(str(exc))}</p>'
    au_html = (_au_table(aus, details.get("au_unit")) if aus
               else '<p class="note">No Action Unit intensities were reported.</p>')
    if details.get("peak_description"):
        au_html = f'<p><b>Seen at the peak:</b> {escape(str(details["peak_description"]))}</p>' + au_html
    facts = []
    for key, title in (("frames", "frames analysed"), ("frames_with_face", "with a face")):
        if key in details:
            facts.append(f"{escape(str(details[key]))} {title}")
    fact_line = f'<p class="note">{" · ".join(facts)}</p>' if facts else ""
    fact_line += _pose_row(details.get("head_pose_median"), details.get("cues"))
    heading = "Face at its peak" + (f" ({format_time(float(peak_time))})" if peak_time is not None else "")
    return _card(heading, f'<div class="two"><div>{picture}</div><div>{au_html}{fact_line}</div></div>')


def _pose_row(pose: Any, cues: Any) -> str:
    """The face's median head pose and gaze (degrees), and a warning when its Action Units were
    low-confidence; empty when the analysis measured no pose."""
    if not isinstance(pose, dict) or pose.get("yaw") is None:
        return ""
    parts = [f"{key} {float(pose[key]):+.0f}°" for key in ("yaw", "pitch", "roll")
             if pose.get(key) is not None]
    row = "<b>Head pose</b> (median): " + escape(" · ".join(parts))
    if pose.get("gaze_off_camera") is not None:
        row += escape(f"; gaze {float(pose['gaze_off_camera']):.0f}° off the camera")
    row += ('<br><span class="note">yaw &gt; 0: turned towards the image\'s right; '
            'pitch &lt; 0: head lowered</span>')
    note = ""
    au = cues.get("action_units") if isinstance(cues, dict) else None
    if isinstance(au, dict) and au.get("confidence") == "low":
        why = escape(str(au.get("why", "")))
        note = f'<p class="warn">Action Units and gaze: low confidence ({why}).</p>'
    return f"<p>{row}</p>{note}"


def _au_table(aus: dict[str, Any], unit: str | None = None) -> str:
    items = []
    for code, value in aus.items():
        try:
            items.append((code, float(value)))
        except (TypeError, ValueError):
            continue
    items.sort(key=lambda kv: -kv[1])
    scale = max([abs(v) for _, v in items] + [1e-9])
    rows = []
    for code, value in items:
        short, name = au_display(code)
        width = max(0.0, value) / scale * 100
        rows.append(f"<tr><td><b>{escape(short)}</b></td><td>{escape(name)}</td>"
                    f'<td class="num"><span class="wbar"><span style="width:{width:.0f}%"></span></span>'
                    f"{value:.2f}</td></tr>")
    return ("<table><thead><tr><th>AU</th><th>movement</th><th style=\"text-align:right\">intensity</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f'<p class="note">Intensity unit: {escape(unit or "not stated by the face analysis")}.</p>')


def _transcript_section(result: Result) -> str:
    spoken = [s for s in sorted(result.segments, key=lambda s: s.start) if s.text.strip()]
    if spoken:
        spans = []
        for seg in spoken:
            colour = label_colour(seg.label, result.label_set)
            tip = f"{format_time(seg.start)} – {format_time(seg.end)}: {seg.label}"
            spans.append(f'<span class="utt" title="{escape(tip)}" style="background:{colour}33;'
                         f'border-bottom:3px solid {colour}"><span class="t">{escape(format_time(seg.start))}'
                         f"</span><bdi{lang_attrs(result)}>{escape(seg.text.strip())}</bdi></span> ")
        labels = label_order({s.label for s in spoken}, result.label_set)
        return _card("What was said", legend_html(labels, result.label_set) + language_line(result)
                     + f'<div class="transcript"{lang_attrs(result)}>{"".join(spans)}</div>'
                     + '<p class="note">Each stretch is coloured by the emotion of its segment.</p>')
    text = result.transcript.strip() or (result.modalities.get("text").details.get("transcript", "")
                                         if result.modalities.get("text") else "")
    if text:
        return _card("What was said", language_line(result)
                     + f'<div class="transcript"{lang_attrs(result)}>{escape(text)}</div>'
                     '<p class="note">The transcript is not split into segments, so it is not coloured.</p>')
    return ""


def _evidence_table(result: Result) -> str:
    if not result.evidence:
        return '<p class="note">The analysis listed no evidence.</p>'
    rows = []
    for ev in sorted(result.evidence, key=lambda e: (-e.weight, e.start if e.start is not None else 0.0)):
        name, movement = (au_display(ev.name) if ev.name.upper().startswith("AU") else (ev.name, ""))
        desc = ev.description or movement
        when = ""
        if ev.start is not None:
            when = format_time(ev.start)
            if ev.end is not None and ev.end > ev.start:
                when += f" – {format_time(ev.end)}"
        value = f"{ev.value:.2f}" + (f" {escape(ev.unit)}" if ev.unit else "")
        weight = max(0.0, min(1.0, ev.weight)) * 100
        supports = _tag(ev.supports, result.label_set) if ev.supports else ""
        modality = escape(MODALITY_NAMES.get(ev.modality, ev.modality))
        rows.append(f'<tr><td><span class="mod">{modality}</span></td>'
                    f'<td><b>{escape(name)}</b><div class="desc" dir="auto">{isolate_quotes(desc)}</div></td>'
                    f'<td class="num">{value}</td><td class="num">{escape(when)}</td>'
                    f'<td class="num"><span class="wbar"><span style="width:{weight:.0f}%"></span></span>'
                    f"{ev.weight:.2f}</td><td>{supports}</td></tr>")
    return ("<table><thead><tr><th>modality</th><th>cue</th><th style=\"text-align:right\">value</th>"
            "<th style=\"text-align:right\">when</th><th style=\"text-align:right\">weight</th>"
            f"<th>argues for</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


_HIDDEN_DETAILS = {"peak_aus", "transcript", "words", "peak_face_box", "peak_description", "au_unit"}


def _modalities_table(result: Result) -> str:
    if not result.modalities:
        return '<p class="note">No per-modality results were recorded.</p>'
    rows = []
    for mod, s in result.modalities.items():
        facts = [f"{k.replace('_', ' ')}: {_short(v)}" for k, v in (s.details or {}).items()
                 if k not in _HIDDEN_DETAILS and isinstance(v, (int, float, str)) and not isinstance(v, bool)]
        if s.used:
            status = _tag(s.label, result.label_set) if s.label else "used"
        else:
            status = f'<span class="note">not used: {escape(s.reason or "no reason given")}</span>'
        rows.append(f"<tr><td><b>{escape(MODALITY_NAMES.get(mod, mod))}</b></td><td>{status}</td>"
                    f'<td class="num">{s.weight:.2f}</td>'
                    f'<td class="desc">{escape(" · ".join(facts))}</td></tr>')
    return ("<table><thead><tr><th>modality</th><th>on its own</th><th style=\"text-align:right\">weight</th>"
            f"<th>details</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _notes_section(result: Result) -> str:
    notes = "".join(f"<li>{escape(n)}</li>" for n in result.notes)
    inner = f'<ul class="notes">{notes}</ul>' if notes else ""
    if result.provenance:
        prov = escape(json.dumps(result.provenance, indent=2, ensure_ascii=False, default=str))
        inner += ("<details><summary>Provenance (models, versions, settings)</summary>"
                  f"<pre>{prov}</pre></details>")
    return _card("Notes", inner) if inner else ""
