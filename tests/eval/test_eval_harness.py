"""The harness with fake systems: ordering, failures counted, resume, parallel workers, prediction files."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

from emoreason.errors import ConfigError, InputNotFoundError
from emoreason.eval.datasets.base import EvalItem, LoadedDataset
from emoreason.eval.harness import Prediction, read_journal, run_all, run_system, to_prediction
from emoreason.eval.systems import FilePredictions, PipelineSystem, parse_modality_set, pipeline_systems

sys.path.insert(0, str(Path(__file__).parent))
from eval_fake_systems import LookupSystem, calls, pids  # noqa: E402


def make_dataset(n: int = 12, modalities=("voice",), text: bool = False) -> LoadedDataset:
    labels = ["happy", "sad", "angry", "neutral"]
    items = [
        EvalItem(
            id=f"clip{i:02d}",
            label=labels[i % 4],
            source_label=labels[i % 4],
            path=None if text else Path(f"/nonexistent/clip{i:02d}.wav"),
            text=f"utterance {i}" if text else None,
        )
        for i in range(n)
    ]
    return LoadedDataset("fake", "/fake", "dev", "canonical", tuple(modalities), items)


def test_predictions_in_item_order_and_failures_counted(tmp_path):
    data = make_dataset()
    system = LookupSystem(answers={"clip00": "sad"}, fail_ids=frozenset({"clip03", "clip07"}))
    preds = run_system(system, "fake", data.items, tmp_path / "fake.jsonl", progress=False)
    assert [p.id for p in preds] == [it.id for it in data.items]
    assert Counter(p.ok for p in preds) == {True: 10, False: 2}
    assert preds[0].label == "sad" and preds[1].label == "sad" and preds[2].label == "angry"
    failed = [p for p in preds if not p.ok]
    assert failed[0].error == "RuntimeError: synthetic failure on clip03"
    journal = read_journal(tmp_path / "fake.jsonl")
    assert len(journal) == 12 and journal["clip07"].error


def test_resume_skips_finished_and_retries_failed(tmp_path):
    data = make_dataset()
    log = tmp_path / "calls.txt"
    journal = tmp_path / "fake.jsonl"
    fault = tmp_path / "fault"
    fault.touch()
    system = LookupSystem(fail_ids=frozenset({"clip05"}), call_log=str(log), fail_while_exists=str(fault))
    first = run_system(system, "fake", data.items, journal, progress=False)
    assert len(calls(log)) == 12 and sum(not p.ok for p in first) == 1
    # simulate a run killed mid-write: a torn last line must be ignored
    with open(journal, "a", encoding="utf-8") as f:
        f.write('{"id": "clip09", "system": "fa')
    fault.unlink()  # the cause of the failure is fixed
    preds = run_system(system, "fake", data.items, journal, progress=False)
    assert calls(log)[12:] == ["clip05"]  # only the failed item ran again
    assert all(p.ok for p in preds)
    run_system(system, "fake", data.items, journal, progress=False, resume=False)
    assert len(calls(log)) == 12 + 1 + 12  # --fresh runs everything


def test_resume_refuses_a_differently_configured_system(tmp_path):
    data = make_dataset(3)
    journal = tmp_path / "s.jsonl"
    run_system(LookupSystem(), "s", data.items, journal, progress=False)
    with pytest.raises(ConfigError, match="differently configured"):
        run_system(LookupSystem(answers={"clip00": "sad"}), "s", data.items, journal, progress=False)
    fresh = run_system(
        LookupSystem(answers={"clip00": "sad"}), "s", data.items, journal, progress=False, resume=False
    )
    assert fresh[0].label == "sad"


def test_parallel_workers_match_serial(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    data = make_dataset(16)
    log = tmp_path / "calls.txt"
    system = LookupSystem(answers={"clip01": "happy"}, fail_ids=frozenset({"clip02"}), call_log=str(log))
    par = run_system(system, "fake", data.items, tmp_path / "par.jsonl", workers=2, progress=False)
    ser = run_system(
        LookupSystem(answers={"clip01": "happy"}, fail_ids=frozenset({"clip02"})),
        "fake",
        data.items,
        tmp_path / "ser.jsonl",
        progress=False,
    )
    assert [(p.id, p.label, p.error) for p in par] == [(p.id, p.label, p.error) for p in ser]
    worker_pids = pids(log)
    assert os.getpid() not in {int(p) for p in worker_pids}  # ran in worker processes
    assert 1 <= len(worker_pids) <= 2  # bounded pool


def test_run_all_names_and_journals(tmp_path):
    data = make_dataset(4)
    out = run_all(data, {"a sys": LookupSystem(), "b/sys": LookupSystem()}, tmp_path, progress=False)
    assert set(out) == {"a sys", "b/sys"}
    names = sorted(p.name for p in (tmp_path / "predictions").iterdir())
    assert names == ["a_sys.jsonl", "a_sys.system", "b_sys.jsonl", "b_sys.system"]
    with pytest.raises(ConfigError, match="file-safe"):
        run_all(data, {"a sys": LookupSystem(), "a_sys": LookupSystem()}, tmp_path, progress=False)
    with pytest.raises(ConfigError):
        run_system(LookupSystem(), "x", data.items, tmp_path / "x.jsonl", workers=0)


def test_to_prediction_rejects_non_canonical_output():
    assert to_prediction("a", "s", {"label": "joy"}, 0.1).error == "predicted label 'joy' is not canonical"
    assert to_prediction("a", "s", 42, 0.1).error.startswith("system returned int")
    ok = to_prediction("a", "s", {"label": "happy", "scores": {"happy": 0.9}, "valence": "0.3"}, 0.1)
    assert ok.ok and ok.valence == pytest.approx(0.3)


def test_predictions_file_csv_and_jsonl(tmp_path):
    data = make_dataset(4)
    data.label_map = "meld"
    csv_file = tmp_path / "theirs.csv"
    csv_file.write_text(
        "id,label,explanation\nclip00,joy,smiles\nclip01,sad,\nclip02,boredom,\n", encoding="utf-8"
    )
    sysf = FilePredictions.load(csv_file, data)
    preds = run_system(sysf, "file", data.items, tmp_path / "f.jsonl", progress=False)
    assert [(p.label, p.error is None) for p in preds[:2]] == [("happy", True), ("sad", True)]
    assert "no canonical counterpart" in preds[2].error
    assert "no prediction for id 'clip03'" in preds[3].error
    jl = tmp_path / "theirs.jsonl"
    jl.write_text(
        "\n".join(json.dumps({"id": it.id, "label": "angry", "valence": -0.5}) for it in data.items),
        encoding="utf-8",
    )
    preds = run_system(FilePredictions.load(jl, data), "jl", data.items, tmp_path / "j.jsonl", progress=False)
    assert all(p.label == "angry" and p.valence == -0.5 for p in preds)
    with pytest.raises(InputNotFoundError):
        FilePredictions.load(tmp_path / "missing.csv")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="needs 'id' and 'label'"):
        FilePredictions.load(bad)


def test_pipeline_systems_ablations_follow_the_dataset():
    voice_only = make_dataset(2, modalities=("voice",))
    systems, notes = pipeline_systems(voice_only, ["face", "voice", "text", "all"], ["default"])
    assert list(systems) == ["default[voice]"]
    assert systems["default[voice]"] == PipelineSystem(("voice",), None)
    assert any("default[face] skipped" in n for n in notes) and any(
        "default[all] uses voice" in n for n in notes
    )
    av = make_dataset(2, modalities=("face", "voice", "text"))
    systems, _ = pipeline_systems(av, ["face", "voice", "text", "all", "face+voice"], ["default"])
    assert list(systems) == [
        "default[face]",
        "default[voice]",
        "default[text]",
        "default[face+voice+text]",
        "default[face+voice]",
    ]
    with pytest.raises(ConfigError):
        parse_modality_set("smell")
    with pytest.raises(InputNotFoundError):
        pipeline_systems(av, ["all"], ["/no/such/checkpoint"])


def test_pipeline_systems_compare_face_models_on_face_sets_only():
    av = make_dataset(2, modalities=("face", "voice", "text"))
    systems, _ = pipeline_systems(av, ["face", "voice", "all"], ["default"],
                                  face_models=["default", "facex", "fer", "facex"])
    assert list(systems) == ["default[face]", "default[face; face facex]", "default[face; face fer]",
                             "default[voice]", "default[face+voice+text]",
                             "default[face+voice+text; face facex]", "default[face+voice+text; face fer]"]
    assert systems["default[face; face facex]"] == PipelineSystem(("face",), None, 5.0, "facex")
    assert systems["default[face]"].face_model is None
    with pytest.raises(ConfigError, match="face model"):
        pipeline_systems(av, ["face"], ["default"], face_models=["vgg"])


def test_pipeline_system_failure_on_missing_media_is_recorded(tmp_path):
    data = make_dataset(2, modalities=("voice",))
    preds = run_system(PipelineSystem(("voice",)), "p", data.items, tmp_path / "p.jsonl", progress=False)
    assert not any(p.ok for p in preds)
    assert all(p.error for p in preds)


def test_prediction_roundtrip():
    p = Prediction("a", "s", "happy", {"happy": 1.0}, 0.1, 0.2, "x", None, 0.5)
    assert p.ok and not Prediction("a", "s", error="boom").ok


def test_a_dying_worker_is_recorded_and_the_run_completes(tmp_path, monkeypatch):
    from eval_fake_systems import CrashingSystem

    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.setenv("EVAL_TEST_PARENT_PID", str(os.getpid()))
    data = make_dataset(10)
    journal = tmp_path / "crash.jsonl"
    preds = run_system(CrashingSystem("clip03"), "c", data.items, journal, workers=2, progress=False)
    assert [p.id for p in preds] == [it.id for it in data.items]
    assert any("worker process died" in (p.error or "") for p in preds)
    # a serial rerun (in this process the system does not crash) retries exactly the failed items
    again = run_system(CrashingSystem("clip03"), "c", data.items, journal, workers=1, progress=False)
    assert all(p.ok for p in again)


def test_constant_baseline_system():
    from emoreason.eval.systems import ConstantSystem

    item = make_dataset(1).items[0]
    assert ConstantSystem("neutral")(item)["label"] == "neutral"
    with pytest.raises(ConfigError, match="not canonical"):
        ConstantSystem("joy")


def test_speaker_clips_system_reads_each_speaker_once_and_records_group_failures(monkeypatch, tmp_path):
    import emoreason.eval.systems as sc
    from emoreason.errors import InputNotFoundError as Missing
    from emoreason.eval.systems import SpeakerClipsSystem, speaker_groups

    items = [EvalItem(id=f"c{i}", label="happy", source_label="happy", path=Path(f"/x/c{i}.wav"),
                      speaker=("A" if i < 3 else "B" if i < 5 else None)) for i in range(6)]
    groups = speaker_groups(items)
    assert groups["c0"] == ("c0", "c1", "c2") and groups["c4"] == ("c3", "c4") and groups["c5"] == ("c5",)
    calls = []

    def fake(paths, **kw):
        calls.append([p.name for p in paths])
        if any(p.name == "c3.wav" for p in paths):
            raise Missing("c3.wav not found")
        return [{"label": "sad", "scores": {"sad": 1.0}} for _ in paths]

    monkeypatch.setattr(sc, "analyze_clips", fake)
    data = LoadedDataset("fake", "/fake", "dev", "canonical", ("voice",), items)
    systems, notes = pipeline_systems(data, ["voice"], ["default"], voice_by_speaker=True)
    assert list(systems) == ["default[voice]", "default[voice; by speaker]"] and not notes
    assert isinstance(systems["default[voice; by speaker]"], SpeakerClipsSystem)
    preds = run_system(systems["default[voice; by speaker]"], "s", items, tmp_path / "s.jsonl",
                       progress=False)
    assert calls == [["c0.wav", "c1.wav", "c2.wav"], ["c3.wav", "c4.wav"], ["c5.wav"]]  # each group once
    assert [p.ok for p in preds] == [True, True, True, False, False, True]
    assert "speaker group of 2 clips failed" in preds[4].error and "c3.wav not found" in preds[4].error
    alone = make_dataset(3)  # no speaker ids: no by-speaker system, and a note says why
    systems, notes = pipeline_systems(alone, ["voice"], ["default"], voice_by_speaker=True)
    assert list(systems) == ["default[voice]"] and "no speaker shared" in notes[0]
