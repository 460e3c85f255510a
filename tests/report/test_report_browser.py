"""The HTML report rendered by headless Chromium (Debian's `chromium`): it draws, with no console error."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emoreason.report.html import write_html_report
from emoreason.report.palette import LABEL_COLOURS

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                    "(apt-get install -y chromium)")


def render(page: Path, shot: Path, profile: Path) -> tuple[np.ndarray, list[str]]:
    """Screenshot ``page`` and return the picture and the console messages Chromium logged."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--hide-scrollbars", "--window-size=1200,2200",
           "--enable-logging=stderr", "--v=0", f"--screenshot={shot}", page.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    assert shot.is_file(), f"chromium wrote no screenshot (rc {proc.returncode}): {proc.stderr[-2000:]}"
    problem = re.compile(r"CONSOLE[:(]\d+|Uncaught|Failed to load")
    console = [line for line in proc.stderr.splitlines() if problem.search(line)]
    return np.asarray(Image.open(shot).convert("RGB")), console


@needs_chromium
def test_console_errors_are_caught(tmp_path):
    """A page that does log an error is seen as one: the check below can fail."""
    page = tmp_path / "bad.html"
    page.write_text('<html><body><p>x</p><script>console.error("boom-123")</script></body></html>')
    _, console = render(page, tmp_path / "bad.png", tmp_path / "profile")
    assert any("boom-123" in line for line in console), console


@needs_chromium
def test_report_renders_in_chromium(clip_result, sample_video, tmp_path):
    page = write_html_report(clip_result, tmp_path / "report.html", media_path=sample_video)
    img, console = render(page, tmp_path / "report.png", tmp_path / "profile")
    assert console == []
    assert img.shape[:2] == (2200, 1200)
    assert img.std() > 20, "the screenshot is blank"

    def share(colour: str) -> float:
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        return float((np.abs(img.astype(int) - rgb).sum(axis=2) < 12).mean())

    # the verdict pill, the score bars and the timeline are drawn in the labels' colours
    for lab in ("happy", "surprised", "sad", "neutral"):
        assert share(LABEL_COLOURS[lab]) > 0.002, lab
    # the peak frame (a photo) is drawn: many distinct colours in its area
    top = img[: img.shape[0] // 2]
    assert len(np.unique(top.reshape(-1, 3) // 8, axis=0)) > 500
