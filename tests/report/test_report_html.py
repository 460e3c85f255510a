"""The HTML report: self-contained, showing the verdict, timeline, peak frame, transcript and evidence."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from emoreason.errors import InputNotFoundError
from emoreason.report.html import render_html, write_html_report
from emoreason.report.peak_frame import PeakFrameError, decode_frame
from emoreason.result import Result


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    return p


def test_report_is_self_contained_and_complete(clip_result, sample_video, tmp_path):
    out = write_html_report(clip_result, tmp_path / "r" / "report.html", media_path=sample_video)
    html = out.read_text(encoding="utf-8")
    doc = parse(html)
    # nothing fetched from anywhere: no external src/href, no script, no @import
    for tag, attrs in doc.tags:
        for key in ("src", "href"):
            assert not attrs.get(key, "data:").startswith(("http", "//", "file:")), (tag, attrs)
    assert "<script" not in html and "@import" not in html and "url(" not in html
    text = " ".join(doc.text)
    # verdict, explanation, evidence with times, AUs, modality summary
    assert "happy" in text and "lip corners pull up" in text and "0.8 s – 3.4 s" in text
    assert "At 1.2 s the lip corners pull up" in text
    assert "AU12" in text and "lip corner puller" in text and "1.12" in text
    assert "speech seconds: 4.80" in text
    # the timeline: one SVG row per track (fused + face + voice + words), a bar per segment
    svg = re.search(r"<svg class=\"timeline\".*?</svg>", html, re.S).group(0)
    assert svg.count('class="track-name"') == 4
    assert svg.count('<g class="seg">') == 3 + 3 + 3 + 2
    assert "voice, 0.0 s – 2.0 s: surprised 0.70, neutral 0.30" in svg
    # the transcript coloured by segment emotion, escaped
    utts = re.findall(r'<span class="utt" title="([^"]*)" style="background:(#[0-9a-f]{6})33', html)
    assert [u[0] for u in utts] == ["0.0 s – 2.0 s: surprised", "2.0 s – 4.0 s: happy", "4.0 s – 6.0 s: sad"]
    assert len({u[1] for u in utts}) == 3
    assert "&lt;b&gt;really&lt;/b&gt;" in html and "<b>really</b>" not in html


def test_peak_frame_embedded_from_the_right_time(clip_result, sample_video, tmp_path):
    html = render_html(clip_result, sample_video)
    m = re.search(r'<img src="data:image/jpeg;base64,([^"]+)" width="(\d+)" height="(\d+)"', html)
    assert m, "no embedded peak frame"
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(m.group(1)))).convert("RGB"))
    assert img.shape[:2] == (int(m.group(3)), int(m.group(2)))
    assert "Peak frame (1.2 s)" in html and "yellow box" in html
    # the sample clip brightens over time: the embedded frame matches frame 12 of 20 (t = 1.2 s)
    frame, t = decode_frame(sample_video, 1.2)
    assert t == pytest.approx(1.2, abs=0.051)
    early, _ = decode_frame(sample_video, 0.0)
    assert frame.mean() > early.mean() + 5
    # the box is drawn in yellow where the face box says (fractions 0.3..0.7 of the width)
    row = img[int(img.shape[0] * 0.45)]
    r, g, b = (row[:, i].astype(int) for i in range(3))
    yellow = np.where((r > 190) & (g > 160) & (b < 125))[0]  # JPEG blurs the colour a little
    assert yellow.size
    assert abs(yellow.min() / img.shape[1] - 0.3) < 0.03 and abs(yellow.max() / img.shape[1] - 0.7) < 0.03


def test_missing_or_broken_media(clip_result, tmp_path):
    with pytest.raises(InputNotFoundError):
        write_html_report(clip_result, tmp_path / "r.html", media_path=tmp_path / "missing.mp4")
    assert not (tmp_path / "r.html").exists()
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    html = render_html(clip_result, bad)
    assert "The peak frame could not be shown" in html and "bad.mp4" in html  # said, not silently left out
    with pytest.raises(PeakFrameError):
        decode_frame(bad, 1.0)
    assert "No media file was given" in render_html(clip_result)


def test_text_only_result(text_result, tmp_path):
    html = write_html_report(text_result, tmp_path / "t.html").read_text(encoding="utf-8")
    assert "whole input (no time axis)" in html
    assert "The face was not used: no video given." in html
    assert "This is outrageous." in html and "not split into segments" in html
    assert "The analysis listed no evidence." in html


def test_non_canonical_labels_and_empty_result(tmp_path):
    r = Result.from_dict({"input": "x.wav", "duration": 2.0, "label": "worried", "label_set": "mer2023",
                          "scores": {"worried": 0.6, "neutral": 0.4}, "valence": -0.3, "arousal": 0.5,
                          "segments": [{"start": 0, "end": 2, "label": "worried",
                                        "scores": {"worried": 0.6, "neutral": 0.4}}]})
    html = render_html(r)
    assert "#8e5ac8" in html  # worried takes fearful's colour
    assert "The analysis gave no explanation." in html


def test_report_is_deterministic(clip_result, sample_video):
    assert render_html(clip_result, sample_video) == render_html(clip_result, sample_video)


def test_still_image_peak_frame(clip_result, tmp_path):
    photo = tmp_path / "face.jpg"
    Image.fromarray(np.full((90, 120, 3), (200, 40, 40), dtype=np.uint8)).save(photo)
    clip_result.modalities["face"].details["peak_frame_time"] = 0.0
    del clip_result.modalities["face"].details["peak_face_box"]
    html = render_html(clip_result, photo)
    m = re.search(r'<img src="data:image/jpeg;base64,([^"]+)" width="120" height="90"', html)
    assert m and "yellow box" not in html
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(m.group(1)))).convert("RGB")).astype(int)
    assert np.abs(img.mean(axis=(0, 1)) - (200, 40, 40)).max() < 8


def test_face_used_without_peak_details(clip_result):
    clip_result.modalities["face"].details = {"streams": ["frame_patches"]}
    html = render_html(clip_result)
    assert "reported no peak frame and no Action Units" in html and "Face at its peak" not in html
