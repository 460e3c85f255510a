"""MERR rules, MERR peak frame and AU phrases (pure functions, no models)."""

from __future__ import annotations

import pandas as pd
import pytest

from emoreason.perception.face.phrases import (
    describe_aus,
    merr_frequent_aus,
    merr_peak_index,
    merr_rule_label,
    normalize_au,
)


@pytest.mark.parametrize(("active", "expected"), [
    ({"AU06", "AU12"}, "happy"),
    ({"AU6", "AU12", "AU25"}, "happy"),
    ({"AU05", "AU26"}, "surprised"),
    ({"AU01", "AU04", "AU15"}, "sad"),
    ({"AU04", "AU05", "AU07", "AU23"}, "angry"),
    ({"AU04", "AU05", "AU07", "AU23", "AU26"}, "angry"),  # angry (4 AUs) beats surprise (2)
    ({"AU06", "AU12", "AU05", "AU26"}, None),  # happy and surprised equally specific: ambiguous
    ({"AU12"}, None),
    ({"AU04", "AU07"}, None),
    (set(), None),
])
def test_merr_rule_label(active, expected):
    assert merr_rule_label(active) == expected


def test_normalize_au_forms():
    assert normalize_au("AU5") == normalize_au("au05_r") == normalize_au("AU05_c") == "AU05"
    with pytest.raises(ValueError):
        normalize_au("smile")


def test_peak_index_uses_the_most_frequent_aus():
    # AU12 active in frames 1-4, AU06 in 2-4, AU04 only in frame 0 but very strong there.
    table = pd.DataFrame({
        "AU04": [4.0, 0.0, 0.0, 0.0, 0.0],
        "AU06": [0.0, 0.5, 2.0, 2.5, 1.6],
        "AU12": [0.0, 1.6, 2.0, 3.0, 1.8],
    }, index=[0.0, 0.2, 0.4, 0.6, 0.8])
    assert merr_frequent_aus(table, top_k=2) == ["AU12", "AU06"]
    assert merr_peak_index(table, top_k=2) == 3
    # with all three AUs summed the strong lone AU04 would not win either, but with top_k=1 AU12 alone decides
    assert merr_peak_index(table, top_k=1) == 3
    # a dict of sequences works too, and "_r" suffixes are understood
    assert merr_peak_index({"AU12_r": [0, 2, 1], "AU25_r": [0, 0, 0]}) == 1


def test_peak_index_without_active_aus_sums_everything():
    table = pd.DataFrame({"AU01": [0.1, 0.2, 0.0], "AU02": [0.1, 0.3, 0.9]})
    assert merr_frequent_aus(table) == []
    assert merr_peak_index(table) == 2


def test_peak_index_rejects_empty():
    with pytest.raises(ValueError):
        merr_peak_index(pd.DataFrame({"AU01": []}))


def test_describe_aus_merges_combinations_strongest_first():
    assert describe_aus({"AU05": 0.36, "AU26": 1.03}) == "Eyes widened, mouth wide open"
    text = describe_aus({"AU04": 2.0, "AU12": 0.0, "AU15_r": 3.0})
    assert text == "Lip corners pulled down, brows lowered"
    assert describe_aus({"AU01": 1.0, "AU02": 1.0, "AU26": 0.2}, threshold=0.5) == "Eyebrows raised"
    assert describe_aus({}) == ""
    assert describe_aus({"AU18": 1.0}) == "AU18"
    assert describe_aus({"AU06": 2.0, "AU12": 1.0}) == "Cheeks raised in a smile"
