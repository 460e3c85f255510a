"""mediapipe graphs and tflite interpreters are kept per thread and reused across clips and photos."""

from __future__ import annotations

import threading

import face_fixtures as _fx  # noqa: E402  (tests/perception is on pytest's pythonpath)
import numpy as np

from emoreason.perception.face.image_models import FacexClassifier, FerClassifier
from emoreason.perception.face.mesh import FaceMeshTracker

face_rgb, small_face_rgb, blank_rgb = _fx.face_rgb, _fx.small_face_rgb, _fx.blank_rgb


def _in_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


def test_a_closed_trackers_graph_serves_the_next_tracker_of_the_same_thread(small_face_rgb):
    first = FaceMeshTracker()
    second = FaceMeshTracker()  # both open: never the same graph
    assert first._mesh is not second._mesh
    graph = first._mesh
    face_a, _ = first.main_face(small_face_rgb)
    first.close()
    first.close()  # a second close gives nothing back twice
    third = FaceMeshTracker()
    assert third._mesh is graph
    face_b, _ = third.main_face(small_face_rgb)  # reset: the same answer as a fresh graph
    assert face_a is not None and np.array_equal(face_a.points, face_b.points)
    elsewhere = _in_thread(lambda: FaceMeshTracker()._mesh)
    assert elsewhere is not graph and elsewhere is not second._mesh
    second.close()
    third.close()


def test_a_reused_tracking_graph_forgets_the_previous_clip(small_face_rgb, blank_rgb):
    frames = [small_face_rgb, np.ascontiguousarray(small_face_rgb[:, ::-1]), small_face_rgb]
    with FaceMeshTracker() as fresh:
        expected = [fresh.main_face(f)[0].points for f in frames]
    with FaceMeshTracker() as used:  # the same graph, after another clip's frames
        for f in (blank_rgb, small_face_rgb):
            used.main_face(f)
    with FaceMeshTracker() as again:
        got = [again.main_face(f)[0].points for f in frames]
    assert all(np.array_equal(a, b) for a, b in zip(expected, got))


def test_classifiers_share_their_threads_interpreter():
    assert FerClassifier()._it is FerClassifier()._it
    assert FacexClassifier()._it is FacexClassifier()._it
    mine = FerClassifier()._it
    assert _in_thread(lambda: FerClassifier()._it) is not mine
