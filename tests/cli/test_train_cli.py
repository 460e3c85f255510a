"""``emoreason train-default-models``: stage selection, the arguments each training script gets, errors.
The training scripts themselves are replaced by recorders here (they have their own tests)."""

from __future__ import annotations

import pytest

from emoreason.cli.main import main
from emoreason.errors import ConfigError
from emoreason.training import face as face_model
from emoreason.training import fusion as fusion_calibration
from emoreason.training.default_models import package_models_dir, select_stages, train_default_models
from emoreason.training.ferplus import train as face_net
from emoreason.training.text import finetune as text_finetune
from emoreason.training.text import model as text_model
from emoreason.training.voice import multicorpus as voice_model


@pytest.fixture()
def calls(monkeypatch):
    seen: list[tuple[str, list[str]]] = []
    for name, module in (("voice", voice_model), ("face_net", face_net), ("face", face_model),
                         ("text", text_model), ("lora", text_finetune), ("fusion", fusion_calibration)):
        monkeypatch.setattr(module, "main", lambda argv, name=name: seen.append((name, argv)) or 0)
    return seen


def _arg(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_every_stage_runs_in_order_into_the_output_folder(tmp_path, calls, capfd):
    out, rep = tmp_path / "models", tmp_path / "reports"
    assert main(["train-default-models", "--data", str(tmp_path), "--out", str(out),
                 "--reports", str(rep)]) == 0
    assert [name for name, _ in calls] == ["voice", "face_net", "face", "text", "lora", "fusion"]
    argv = dict(calls)
    assert _arg(argv["voice"], "--out") == str(out / "voice")
    assert _arg(argv["voice"], "--data") == str(tmp_path)
    assert _arg(argv["voice"], "--report") == str(rep / "voice_train.json")
    assert _arg(argv["face"], "--out") == _arg(argv["face_net"], "--out") == str(out / "face")
    assert _arg(argv["text"], "--out") == _arg(argv["lora"], "--out") == str(out / "text")
    assert _arg(argv["fusion"], "--out") == str(out / "fusion.json")
    assert _arg(argv["fusion"], "--models") == str(out)
    assert not (out / "text" / "lora_s0").exists()  # the lora stage writes its own members
    assert "[5/5] fusion done" in capfd.readouterr().err  # progress goes to the terminal's stderr


def test_skipping_lora_copies_the_shipped_members_so_the_text_model_is_complete(tmp_path, calls):
    out = tmp_path / "models"
    assert main(["train-default-models", "--data", str(tmp_path), "--out", str(out), "--reports",
                 str(tmp_path / "r"), "--skip", "lora"]) == 0
    assert "lora" not in [name for name, _ in calls]
    shipped = sorted(p.name for p in (package_models_dir() / "text").glob("lora_s*"))
    assert shipped and sorted(p.name for p in (out / "text").glob("lora_s*")) == shipped
    assert (out / "text" / "text_ensemble.json").is_file()


def test_only_picks_stages_and_bad_requests_are_clear_errors(tmp_path, calls, capsys):
    assert main(["train-default-models", "--data", str(tmp_path), "--out", str(tmp_path / "m"),
                 "--reports", str(tmp_path / "r"), "--only", "fusion,voice"]) == 0
    assert [name for name, _ in calls] == ["voice", "fusion"]  # always in pipeline order
    assert main(["train-default-models", "--data", str(tmp_path), "--only", "speech"]) == 2
    assert "unknown stage(s) speech" in capsys.readouterr().err
    assert main(["train-default-models", "--data", str(tmp_path), "--only", "voice", "--skip", "voice"]) == 2
    assert main(["train-default-models", "--data", str(tmp_path / "missing")]) == 2
    assert "no data folder" in capsys.readouterr().err


def test_a_failing_stage_stops_the_run_with_a_non_zero_exit(tmp_path, monkeypatch, calls, capsys):
    monkeypatch.setattr(face_model, "main", lambda argv: 3)
    code = main(["train-default-models", "--data", str(tmp_path), "--out", str(tmp_path / "m"),
                 "--reports", str(tmp_path / "r"), "--skip", "lora"])
    assert code != 0 and "the face stage failed (exit 3)" in capsys.readouterr().err
    assert [name for name, _ in calls] == ["voice", "face_net"]  # nothing after the failed stage ran


def test_the_library_function_runs_the_stages_without_the_command_line(tmp_path, calls):
    lines: list[str] = []
    out = train_default_models(["fusion", "face"], tmp_path, out=tmp_path / "m", reports=tmp_path / "r",
                               log=lines.append)
    assert out == tmp_path / "m" and [name for name, _ in calls] == ["face_net", "face", "fusion"]
    assert lines[0].startswith("lora skipped") and lines[-1].startswith("[2/2] fusion done")
    assert select_stages("", "lora,voice") == ["face", "text", "fusion"]
    with pytest.raises(ConfigError, match="unknown stage"):
        train_default_models(["speech"], tmp_path)
