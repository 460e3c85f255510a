"""DER and speaker-count accuracy on hand-made cases with known answers."""

from __future__ import annotations

import pytest

from emoreason.eval.diarisation import count_accuracy, der, total_der

REF = [(0.0, 4.0, "ann"), (5.0, 9.0, "bob")]  # 8 s of reference speech


def test_perfect_and_relabelled_hypotheses_score_zero():
    assert der(REF, REF).der == 0.0
    assert der(REF, [(0.0, 4.0, 1), (5.0, 9.0, 0)]).der == 0.0  # ids are mapped, not compared


def test_one_speaker_for_all_confuses_the_second_speaker():
    s = der(REF, [(0.0, 4.0, 0), (5.0, 9.0, 0)])
    assert s.confusion == pytest.approx(4.0) and s.missed == 0 and s.false_alarm == 0
    assert s.der == pytest.approx(0.5)


def test_missed_and_false_alarm_time():
    s = der(REF, [(0.0, 3.0, "x"), (5.0, 10.0, "y")])  # 1 s of ann missed, 1 s after bob is false alarm
    assert s.missed == pytest.approx(1.0) and s.false_alarm == pytest.approx(1.0) and s.confusion == 0
    assert s.der == pytest.approx(2 / 8)
    assert der(REF, []).der == pytest.approx(1.0)


def test_overlap_counts_each_reference_speaker():
    ref = [(0.0, 4.0, "a"), (3.0, 6.0, "b")]  # 7 s of speaker time, 1 s overlapped
    s = der(ref, [(0.0, 3.5, 0), (3.5, 6.0, 1)])  # one speaker at a time
    assert s.scored == pytest.approx(7.0)
    assert s.missed == pytest.approx(1.0)  # in the overlap one of the two speakers is always missing
    assert s.confusion == pytest.approx(0.0)


def test_collar_forgives_edges():
    late = [(0.2, 4.0, 0), (5.2, 9.0, 1)]  # each turn found 0.2 s late
    assert der(REF, late).missed == pytest.approx(0.4)
    s = der(REF, late, collar=0.25)
    assert s.der == 0.0
    assert s.scored == pytest.approx(8.0 - 4 * 0.25)  # the 0.25 s of speech inside each of 4 edges left out


def test_pooled_der_and_count_accuracy():
    a, b = der(REF, REF), der(REF, [(0.0, 4.0, 0), (5.0, 9.0, 0)])
    assert total_der([a, b]) == pytest.approx(4.0 / 16.0)
    assert count_accuracy([2, 3, 1, 4], [2, 2, 1, 4]) == pytest.approx(0.75)
    with pytest.raises(ValueError):
        count_accuracy([2], [])
