"""The pieces of the multimodal-LLM checks that need no model: the input shuffle, reasoning verdicts,
and the parse rate carried from a Result's provenance into the report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest

from emoreason.eval.datasets.base import EvalItem, LoadedDataset
from emoreason.eval.emollm_checks import derangement, donors_within, reasoning_verdict, with_inputs_of
from emoreason.eval.harness import Prediction, to_prediction
from emoreason.eval.report import build_report, parse_rate, summary_table, to_markdown


@pytest.mark.parametrize("n", [2, 3, 7, 50])
def test_derangement_is_a_permutation_without_fixed_points(n):
    for seed in range(5):
        perm = derangement(n, seed)
        assert sorted(perm) == list(range(n))
        assert all(perm[i] != i for i in range(n))
    assert derangement(n, 1) == derangement(n, 1)  # fixed by the seed


def test_derangement_edge_cases():
    assert derangement(0) == [] and derangement(1) == [0]
    with pytest.raises(ValueError):
        derangement(-1)


def test_donors_stay_within_their_group_and_never_point_to_themselves():
    groups = ["ravdess"] * 5 + ["ferplus"] * 4 + ["meld"] * 1 + ["ravdess"] * 2
    donors = donors_within(groups, seed=3)
    assert sorted(donors) == list(range(len(groups)))  # every item donates exactly once
    for i, d in enumerate(donors):
        assert groups[d] == groups[i]
        assert d != i or Counter(groups)[groups[i]] == 1
    assert donors[9] == 9  # the one MELD item keeps its own inputs


@dataclass(frozen=True)
class _Prepared:
    features: dict
    subtitle: str


def test_with_inputs_of_swaps_one_part_only():
    a, b = _Prepared({"audio": 1}, "a"), _Prepared({"audio": 2}, "b")
    assert with_inputs_of(a, b, "features") == _Prepared({"audio": 2}, "a")
    assert with_inputs_of(a, b, "subtitle") == _Prepared({"audio": 1}, "b")
    with pytest.raises(ValueError):
        with_inputs_of(a, b, "frames")


def test_reasoning_verdicts():
    v = reasoning_verdict("Her voice trembles. Therefore, it is inferred that her emotional state is: sad.",
                          "sad", "fearful")
    assert v == {"conclusion": "sad", "unparsable": False, "contradicts_answer": False,
                 "contradicts_truth": True}
    v = reasoning_verdict("The voice is loud and bright.", "happy", "happy")
    assert v["unparsable"] and not v["contradicts_answer"] and not v["contradicts_truth"]


def test_parse_rate_comes_from_the_results_provenance():
    outs = [{"label": "happy", "provenance": {"emollm_answer": "happy", "emollm_answer_parsed": True}},
            {"label": "sad", "provenance": {"emollm_answer": "I cannot tell", "emollm_answer_parsed": False}},
            {"label": "sad", "provenance": {"emollm_answer": "sad.", "emollm_answer_parsed": True}}]
    preds = [to_prediction(str(i), "compact", o, 0.1) for i, o in enumerate(outs)]
    assert [p.answer_parsed for p in preds] == [True, False, True] and preds[1].answer == "I cannot tell"
    preds.append(Prediction("3", "compact", error="no face"))  # a failed item is not in the rate
    assert parse_rate(preds) == {"n": 3, "parsed": 2, "rate": 2 / 3}
    pipeline = [to_prediction(str(i), "default", {"label": "sad"}, 0.1) for i in range(4)]
    assert parse_rate(pipeline) is None  # the pipeline has no answer to parse

    items = [EvalItem(str(i), lab, lab) for i, lab in enumerate(["happy", "sad", "sad", "neutral"])]
    data = LoadedDataset("toy", "/x", None, "canonical", ("face",), items)
    report = build_report(data, {"compact": preds, "default": pipeline}, config={}, resamples=0)
    assert report["systems"]["compact"]["parse_rate"]["parsed"] == 2
    assert "parse_rate" not in report["systems"]["default"]
    assert "compact: 0.667 of its greedy [emotion] answers named a label (2/3" in summary_table(report)
    assert "Parse rate: 0.667 (2 of 3" in to_markdown(report)
