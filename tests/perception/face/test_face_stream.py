"""FaceAnalyzer as the pipeline drives it: streamed frames, counts, timeline, memory, determinism, and
facex run on every n-th frame."""

from __future__ import annotations

import cv2
import face_fixtures as _fx  # noqa: E402  (tests/perception is on pytest's pythonpath)
import numpy as np
import pandas as pd
import pytest
from frame_refs import frames_kept

from emoreason.errors import ConfigError, ModelError
from emoreason.labels import CANONICAL
from emoreason.perception.face.analyzer import FaceAnalyzer, au_evidence

face_rgb, small_face_rgb, blank_rgb = _fx.face_rgb, _fx.small_face_rgb, _fx.blank_rgb


def _run(frames, fps=5.0):
    analyzer = FaceAnalyzer(fps=fps)
    for i, frame in enumerate(frames):
        analyzer.add_frame(i / fps, frame)
    return analyzer.finish()


def test_video_counts_timeline_and_details(small_face_rgb, blank_rgb):
    blank = cv2.resize(blank_rgb, (256, 256))
    frames = [small_face_rgb] * 6 + [blank] * 2 + [small_face_rgb] * 4
    out = _run(frames)
    assert out.usable
    d = out.details
    assert (d["frames"], d["frames_with_face"]) == (12, 10)
    assert out.reliability == pytest.approx(10 / 12)
    assert [round(ts.start, 3) for ts in out.timeline] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.6, 1.8, 2.0, 2.2]
    assert all(ts.end == pytest.approx(ts.start + 0.2) for ts in out.timeline)
    assert list(out.series["aus"].index) == [ts.start for ts in out.timeline]
    assert d["peak_frame_time"] in list(out.series["aus"].index)
    assert abs(sum(out.scores.values()) - 1) < 1e-6
    assert out.models["face_mesh"].startswith("mediapipe")


def test_no_face_in_any_frame(blank_rgb):
    out = _run([blank_rgb] * 7)
    assert not out.usable and out.reason == "no face found in 7 frames"
    assert out.details["frames"] == 7


def test_small_faces_are_counted_not_used(small_face_rgb):
    analyzer = FaceAnalyzer(min_face=400)
    analyzer.add_frame(0.0, small_face_rgb)
    out = analyzer.finish()
    assert not out.usable and "smaller than 400 px" in out.reason and out.details["frames_small_face"] == 1


def test_streaming_keeps_numbers_not_frames(small_face_rgb):
    analyzer = FaceAnalyzer()
    assert frames_kept(analyzer.add_frame, small_face_rgb, 40) == 0  # the analyzer kept no frame
    per_frame = sum(a.nbytes for a in analyzer._raw) + sum(p.nbytes for p in analyzer._probs)
    assert per_frame / 40 < 1024  # a few hundred bytes of numbers per frame
    assert analyzer.finish().details["frames_with_face"] == 40


def test_deterministic(small_face_rgb):
    frames = [small_face_rgb, small_face_rgb[:, ::-1].copy(), small_face_rgb]
    a, b = _run(frames), _run(frames)
    assert a.scores == b.scores
    assert a.series["aus"].equals(b.series["aus"])
    assert a.details == b.details


def test_evidence_runs_from_a_hand_made_table():
    t = np.round(np.arange(8) * 0.2, 3)
    table = pd.DataFrame({"AU12": [0, 2, 3, 2.5, 0, 0, 0, 0], "AU04": [0, 0, 0, 0, 0, 0, 1.6, 0],
                          "AU25": [0.0] * 8}, index=t, dtype=float)
    ev = au_evidence(table, step=0.2)
    assert [e.name for e in ev] == ["AU12", "AU04"]
    assert (ev[0].start, ev[0].end, ev[0].value) == (0.2, pytest.approx(0.8), 3.0)
    assert ev[0].supports == "happy" and ev[0].description == "lip corners pull up"
    assert ev[0].modality == "face"


def test_bad_model_dir(tmp_path):
    with pytest.raises(ModelError, match="au_baseline.json"):
        FaceAnalyzer(model_dir=tmp_path)
    with pytest.raises(ConfigError, match="fps"):
        FaceAnalyzer(fps=0)


def test_person_baseline_from_the_most_neutral_frames():
    analyzer = FaceAnalyzer()
    analyzer.close()
    raw = np.full((20, 15), 1.0)
    raw[12:] = 0.2  # the last 8 frames look neutral
    probs = np.full((20, 7), 0.1)
    probs[12:, CANONICAL.index("neutral")] = 0.9
    base = analyzer._baseline(raw, probs)
    assert base.source.startswith("person") and np.allclose(list(base.center.values()), 0.2)
    assert base.scale == analyzer.population.scale
    probs[:, CANONICAL.index("neutral")] = 0.1  # nobody looks neutral: keep the population's neutral
    assert analyzer._baseline(raw, probs) is analyzer.population
    assert analyzer._baseline(raw[:3], probs[:3]) is analyzer.population  # too few frames


def test_video_runs_facex_every_other_frame_and_reuses_it(small_face_rgb):
    for every, runs in ((2, 3), (1, 6)):
        analyzer = FaceAnalyzer(fps=5.0, face_model="pool", facex_every=every)
        for i in range(6):
            analyzer.add_frame(i / 5, small_face_rgb)
        out = analyzer.finish()
        assert out.details["facex_runs"] == runs and out.details["frames_with_face"] == 6
    with pytest.raises(ConfigError):
        FaceAnalyzer(facex_every=0)
    assert FaceAnalyzer(static=True).facex_every == 1


def test_videos_run_facex_as_often_as_the_expression_model_says(small_face_rgb):
    # the FER+ net pool (the default) gives facex its smallest weight: every 6th frame in videos;
    # the fitted pools keep every 3rd; photos run it every time, and the caller's choice wins
    assert FaceAnalyzer(fps=5.0, face_model="net_pool").facex_every == 6
    assert FaceAnalyzer(fps=5.0, face_model="pool").facex_every == 3
    assert FaceAnalyzer(static=True, face_model="net_pool").facex_every == 1
    assert FaceAnalyzer(fps=5.0, face_model="net_pool", facex_every=2).facex_every == 2
    analyzer = FaceAnalyzer(fps=5.0, face_model="net_pool")
    for i in range(12):
        analyzer.add_frame(i / 5, small_face_rgb)
    assert analyzer.finish().details["facex_runs"] == 2


def test_facex_runs_again_when_the_face_moves(small_face_rgb):
    canvas = np.full((256, 512, 3), 60, np.uint8)
    left, right = canvas.copy(), canvas.copy()
    left[:, :256] = small_face_rgb
    right[:, 256:] = cv2.flip(small_face_rgb, 1)
    analyzer = FaceAnalyzer(fps=5.0, face_model="pool", facex_every=10)
    for i, frame in enumerate([left, left, right, right]):
        analyzer.add_frame(i / 5, frame)
    assert analyzer.finish().details["facex_runs"] == 2
