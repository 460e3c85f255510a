"""evaluate() and ``emoreason eval`` end to end with fake systems and prediction files; report content."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sklearn import metrics as skm

from emoreason.cli.main import main
from emoreason.eval.evaluate import evaluate
from emoreason.eval.report import to_markdown

sys.path.insert(0, str(Path(__file__).parent))
from eval_fake_systems import LookupSystem  # noqa: E402
from test_eval_reasoning import bag_of_words_encoder  # noqa: E402


@pytest.fixture
def text_manifest(tmp_path: Path) -> Path:
    rows = ["path,label,transcript,valence,explanation"]
    gold = ["happy", "sad", "angry", "neutral", "happy", "sad", "angry", "happy", "neutral", "sad"]
    for i, lab in enumerate(gold):
        rows.append(
            f",{lab},utterance number {i},{0.5 if lab == 'happy' else -0.5},"
            f"The speaker sounds {lab}. Her words are {lab}."
        )
    rows.append(",contempt,sneer,,")  # known label without a canonical counterpart
    m = tmp_path / "manifest.csv"
    m.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return m


def test_evaluate_report_matches_sklearn(tmp_path, text_manifest):
    wrong = {"line3": "happy", "line6": "neutral", "line9": "happy"}  # ids are line numbers in the CSV
    system = LookupSystem(
        answers=wrong, fail_ids=frozenset({"line11"}), explanation="She is happy. Bright voice."
    )
    out = tmp_path / "report"
    report = evaluate(
        "csv",
        text_manifest,
        out,
        models=(),
        systems={"fake": system},
        resamples=200,
        seed=1,
        progress=False,
        encoder=bag_of_words_encoder,
    )
    d = report["dataset"]
    assert d["n_items"] == 10 and d["excluded"] == {"no canonical label: contempt": 1}
    s = report["systems"]["fake"]
    assert (s["n_items"], s["n_scored"], s["n_failed"]) == (10, 9, 1)
    assert s["failures"] == {"RuntimeError: synthetic failure on line11": 1}
    lines = text_manifest.read_text().splitlines()[1:11]
    y_true = [ln.split(",")[1] for ln in lines]
    ids = [f"line{i + 2}" for i in range(10)]
    y_pred = [wrong.get(i, t) for i, t in zip(ids, y_true)]
    keep = [k for k, i in enumerate(ids) if i != "line11"]
    t = [y_true[k] for k in keep]
    p = [y_pred[k] for k in keep]
    m = s["metrics"]
    assert m["accuracy"]["value"] == pytest.approx(skm.accuracy_score(t, p))
    assert m["uar"]["value"] == pytest.approx(skm.balanced_accuracy_score(t, p))
    assert m["weighted_f1"]["value"] == pytest.approx(skm.f1_score(t, p, average="weighted"))
    assert m["accuracy"]["low"] <= m["accuracy"]["value"] <= m["accuracy"]["high"]
    assert s["confusion"]["labels"] == ["neutral", "happy", "sad", "angry"]
    assert sum(map(sum, s["confusion"]["matrix"])) == 9
    assert s["valence"]["n"] == 9 and "ccc" in s["valence"]
    assert 0 < s["reasoning"]["label_overlap_f1"] < 1 and "clue_overlap_f1" in s["reasoning"]
    prov = report["provenance"]
    assert prov["version"] and prov["seed"] == 1 and len(prov["data_hash"]) == 64
    assert prov["config"]["systems"] == ["fake"]
    files = sorted(p.name for p in out.iterdir())
    assert files == ["confusion_fake.png", "per_class_fake.png", "predictions", "report.json", "report.md"]
    assert (out / "confusion_fake.png").read_bytes()[:4] == b"\x89PNG"
    saved = json.loads((out / "report.json").read_text())
    assert saved["systems"]["fake"]["n_failed"] == 1
    md = (out / "report.md").read_text()
    strict = s["metrics_failures_as_wrong"]
    assert strict["accuracy"] == pytest.approx(skm.accuracy_score(y_true, [*p[:9], "(no answer)"]))
    assert strict["accuracy"] < m["accuracy"]["value"]
    assert "| fake | 9 / 10 | 1 |" in md and "contempt" in md and "## Provenance" in md


def test_evaluate_is_resumable(tmp_path, text_manifest):
    log = tmp_path / "calls.txt"
    args = dict(models=(), resamples=0, progress=False, reasoning="labels")
    evaluate("csv", text_manifest, tmp_path / "r", systems={"s": LookupSystem(call_log=str(log))}, **args)
    first = log.read_text().count("\n")
    report = evaluate(
        "csv", text_manifest, tmp_path / "r", systems={"s": LookupSystem(call_log=str(log))}, limit=4, **args
    )
    assert first == 10 and log.read_text().count("\n") == 10  # nothing ran again
    assert report["systems"]["s"]["n_items"] == 4
    assert "note" in report["systems"]["s"]["reasoning"]  # labels only: clue overlap not computed


def test_cli_scores_a_predictions_file(tmp_path, text_manifest, capsys):
    preds = tmp_path / "theirs.jsonl"
    preds.write_text(
        "\n".join(json.dumps({"id": f"line{i + 2}", "label": "sad"}) for i in range(10)), encoding="utf-8"
    )
    out = tmp_path / "cli"
    rc = main(
        [
            "eval",
            "--dataset",
            "csv",
            "--root",
            str(text_manifest),
            "--predictions",
            str(preds),
            "--no-pipeline",
            "-o",
            str(out),
            "--bootstrap",
            "50",
            "--no-progress",
            "--reasoning",
            "labels",
            "--baseline",
            "sad",
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "file:theirs" in printed and "0.300" in printed  # 3 of 10 are sad
    report = json.loads((out / "report.json").read_text())
    assert report["systems"]["file:theirs"]["metrics"]["accuracy"]["value"] == pytest.approx(0.3)
    assert report["systems"]["always-sad"]["metrics"]["uar"]["value"] == pytest.approx(1 / 4)  # 4 classes


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--dataset", "affectnet", "--root", "x"], "unknown dataset"),
        (["--dataset", "meld", "--root", "/no/such/dir"], "does not exist"),
        (["--dataset", "csv", "--root", "{m}", "--workers", "0"], "--workers"),
        (["--dataset", "csv", "--root", "{m}", "--modalities", "smell"], "unknown modality set"),
        (["--dataset", "csv", "--root", "{m}", "--no-pipeline"], "nothing to evaluate"),
    ],
)
def test_cli_user_mistakes_give_one_line(tmp_path, text_manifest, capsys, argv, message):
    argv = [a.replace("{m}", str(text_manifest)) for a in argv]
    rc = main(["eval", *argv, "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_markdown_without_scored_items():
    report = {
        "dataset": {
            "name": "x",
            "split": None,
            "n_items": 1,
            "root": "r",
            "n_excluded": 0,
            "excluded": {},
            "label_map": "canonical",
            "data_hash": "0" * 64,
            "notes": [],
        },
        "systems": {"s": {"n_items": 1, "n_scored": 0, "n_failed": 1, "failures": {"boom": 1}}},
        "provenance": {"bootstrap_resamples": 0, "seed": 0},
    }
    md = to_markdown(report)
    assert "| s | 0 / 1 | 1 | – |" in md and md.rstrip().count("| – |") >= 1 and "boom (x1)" in md
