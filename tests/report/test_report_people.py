"""The report's people: a row per person with their thumbnail, label, scores and explanation, and a
timeline row per person in the HTML and in the PNG."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from emoreason.pipeline.people_result import thumbnail_jpeg
from emoreason.report.html import render_html
from emoreason.report.palette import LABEL_COLOURS
from emoreason.report.timeline_data import build_timeline, people_timeline
from emoreason.report.timeline_plot import plot_timeline
from emoreason.result import Person, Result, Segment


def with_people(result: Result) -> Result:
    face = np.zeros((80, 60, 3), np.uint8)
    face[:, :, 0] = 200
    result.people = [
        Person("P1", face_track=0, voice=0, speaking_seconds=4.0, on_screen_seconds=6.0, label="angry",
               scores={"angry": 0.8, "neutral": 0.2},
               segments=[Segment(0.0, 3.0, "angry", {"angry": 0.8, "neutral": 0.2}),
                         Segment(3.0, 6.0, "angry", {"angry": 0.6, "neutral": 0.4})],
               explanation="P1 raises the voice <loudly>", transcript="get out",
               thumbnail=thumbnail_jpeg(face)),
        Person("P2", voice=1, speaking_seconds=2.0, notes=["voice 1 has no face"]),
    ]
    return result


def test_report_has_a_row_per_person_with_thumbnail_and_explanation(clip_result):
    page = render_html(with_people(clip_result))
    assert "People (2)" in page
    assert page.count('class="thumb"') == 1 and 'class="thumb none"' in page
    src = page.split('class="thumb" alt="face of P1" src="data:image/jpeg;base64,')[1].split('"')[0]
    assert Image.open(io.BytesIO(base64.b64decode(src))).size == (60, 80)
    assert "P1 raises the voice &lt;loudly&gt;" in page and "get out" in page  # escaped
    assert "no emotion: none of their modalities was usable" in page and "voice 1 has no face" in page
    assert ">P1</text>" in page  # the people timeline's row
    clip_result.provenance["people"] = {"notes": ["2 speakers estimated"]}
    assert "<li>2 speakers estimated</li>" in render_html(clip_result)
    assert "People" not in render_html(Result.from_dict(clip_result.to_dict() | {"people": []}))


def test_a_thumbnail_that_is_not_base64_is_not_embedded(clip_result):
    r = with_people(clip_result)
    r.people[0].thumbnail = '"><script>alert(1)</script>'
    page = render_html(r)
    assert "<script>" not in page and page.count('class="thumb none"') == 2


def test_people_timeline_and_png_rows(clip_result, tmp_path):
    r = with_people(clip_result)
    t = people_timeline(r)
    assert [tr.name for tr in t.tracks] == ["P1"] and t.end == 6.0  # P2 has no segments
    assert len(build_timeline(r).tracks) == 4  # the clip's rows: fused, face, voice, words
    without = np.asarray(Image.open(plot_timeline(Result.from_dict({**r.to_dict(), "people": []}),
                                                  tmp_path / "a.png")))
    img = np.asarray(Image.open(plot_timeline(r, tmp_path / "b.png")).convert("RGB"))
    assert img.shape[0] > without.shape[0]  # one more row
    red = np.array([int(LABEL_COLOURS["angry"][i:i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(img.astype(int) - red).sum(axis=2) < 12).mean() > 0.01  # P1's angry row
