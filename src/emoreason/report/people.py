"""The report's people: one row per person of a multi-person result (``analyze(..., people=True)``) --
their face thumbnail, label, scores bar, speaking and on-screen time, who they are (face track, voice) and
their explanation -- and the timeline with one row per person. Empty for a result without people."""

from __future__ import annotations

import re
from html import escape

from emoreason.report.palette import label_colour, score_bar, text_on
from emoreason.report.timeline_data import format_time, people_timeline
from emoreason.report.timeline_svg import legend_html, timeline_svg
from emoreason.result import Person, Result

_BASE64 = re.compile(r"[A-Za-z0-9+/=]+")


def people_section(result: Result) -> str:
    """The "People" card (empty string when the result has no people)."""
    if not result.people:
        return ""
    rows = "".join(_person_row(p, result.label_set) for p in result.people)
    timeline = people_timeline(result)
    drawn = ""
    if timeline is not None:
        drawn = (legend_html(timeline.labels, result.label_set) + timeline_svg(timeline, result.label_set)
                 + '<p class="note">One row per person: their own segments, their face, voice and words '
                   'fused. The clip as a whole is above.</p>')
    how = (result.provenance or {}).get("people", {}).get("notes") or []
    if how:
        drawn += '<ul class="notes">' + "".join(f"<li>{escape(str(n))}</li>" for n in how) + "</ul>"
    return (f'<section class="card people"><h2>People ({len(result.people)})</h2>'
            f'<table><thead><tr><th>person</th><th>emotion</th><th style="text-align:right">speaks</th>'
            f'<th style="text-align:right">seen</th><th>why</th></tr></thead><tbody>{rows}</tbody></table>'
            f"{drawn}</section>")


def _person_row(person: Person, label_set: str) -> str:
    thumb = ""
    if person.thumbnail and _BASE64.fullmatch(person.thumbnail):
        thumb = (f'<img class="thumb" alt="face of {escape(person.person_id)}" '
                 f'src="data:image/jpeg;base64,{person.thumbnail}">')
    else:
        thumb = '<div class="thumb none">no face</div>'
    who = [f"face track {person.face_track}" if person.face_track is not None else "face not seen",
           f"voice {person.voice}" if person.voice is not None else "never heard"]
    if person.label:
        colour = label_colour(person.label, label_set)
        top = sorted(person.scores.items(), key=lambda kv: -kv[1])[:3]
        bars = "".join(score_bar(lab, p, label_set, "mini") for lab, p in top)
        emotion = (f'<span class="tag" style="background:{colour};color:{text_on(colour)}">'
                   f"{escape(person.label)}</span>{bars}")
    else:
        emotion = '<span class="note">no emotion: none of their modalities was usable</span>'
    why = escape(person.explanation) if person.explanation else ""
    if person.transcript:
        said = person.transcript if len(person.transcript) <= 200 else person.transcript[:197] + "..."
        why += f'<div class="desc">said: “{escape(said)}”</div>'
    why += "".join(f'<div class="desc">note: {escape(n)}</div>' for n in person.notes)
    return (f'<tr><td class="who">{thumb}<b>{escape(person.person_id)}</b>'
            f'<div class="desc">{escape(" · ".join(who))}</div></td><td>{emotion}</td>'
            f'<td class="num">{escape(format_time(person.speaking_seconds))}</td>'
            f'<td class="num">{escape(format_time(person.on_screen_seconds))}</td><td>{why}</td></tr>')
