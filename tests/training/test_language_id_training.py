"""Language-ID training: XED lines with their split, a tiny fit, the temperature and the scores."""

from __future__ import annotations

import sys
from pathlib import Path

from emoreason.perception.text.language_id import LanguageId
from emoreason.training.text.language_id import fit, fit_temperature, score, xed_lines

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "eval"))
from text_corpora_trees import make_xed  # noqa: E402


def test_xed_lines_keep_every_well_formed_line(tmp_path):
    lines = xed_lines(make_xed(tmp_path / "xed"))
    texts = {t for t, _, _ in lines}
    assert "I trust you ." in texts  # no canonical emotion, still a line of English
    assert ("Isso estragou a minha mão.", "pt") in {(t, g) for t, g, _ in lines}  # br -> pt
    assert {s for _, _, s in lines} <= {"train", "dev", "test"}
    assert len(lines) == 7 + 2 + 2 + 1 + 3 + 1 + 1


def test_fit_separates_two_toy_languages():
    en = ["the cat sat on the mat", "where is the house", "this is the best day", "the dog and the cat"]
    fi = ["kissa istui matolla", "missä talo on", "tämä on paras päivä", "koira ja kissa"]
    spec = fit([(t, "en") for t in en] + [(t, "fi") for t in fi], top=200, min_count=1)
    model = LanguageId(spec)
    assert model.identify("the best cat")[0] == "en"
    assert model.identify("paras kissa")[0] == "fi"
    t, nll = fit_temperature(model, en[:2] + fi[:2], ["en", "en", "fi", "fi"])
    assert t in nll and nll[t] == min(nll.values())
    s = score(model, ["the house", "talo"], ["en", "fi"])
    assert s["accuracy"] == 1.0 and s["per_language"]["fi"]["n"] == 1
