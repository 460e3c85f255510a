"""Regenerate the default models from the shared data with fixed seeds (``emoreason train-default-models``).

Each stage is one training script, run in this process through its ``main(argv)`` with the arguments that
made the shipped files (each can also be run on its own with ``python -m MODULE``):

- ``voice``  -- :mod:`emoreason.training.voice.multicorpus` (version 7: RAVDESS + EmoDB, Whisper base; 12 min
  on a busy 2-core machine, plus the feature extraction the first time: docs/model_cards/voice.md);
- ``face``   -- :mod:`emoreason.training.ferplus.train` (the FER+ network, ``ferplus_net.onnx``: 6 epochs,
  450 s of CPU on one thread, 34 min on 2 cores shared with other work; then its pool with fer and facex,
  ``net_pool.json``, the default, fitted on FER+ valid: a few minutes), then
  :mod:`emoreason.training.face` (the older fer+facex pool and head on ``facial_expressions``; minutes);
- ``text``   -- :mod:`emoreason.training.text.model` (the MLP head on MiniLM features, MELD);
- ``lora``   -- :mod:`emoreason.training.text.finetune` (the three LoRA members and ``text_ensemble.json``
  with the shipped settings; minutes on a GPU, several hours on a laptop CPU -- leave it out with
  ``skip lora``; the shipped members came from a GPU run on a float16 copy of the base, so a rerun gives
  close, not bit-identical, adapters);
- ``fusion`` -- :mod:`emoreason.training.fusion`, reading the text and face models just written to ``out``.

``out`` is a models folder laid out like ``emoreason/assets/models`` (``voice/``, ``face/``, ``text/``,
``fusion.json``); reports and confusion-matrix figures go to ``reports``. When the lora stage does not run
and ``out`` is not the package's own folder, the shipped LoRA members are copied in, so the text model
there stays complete.

A stage's module is imported when the stage runs (:data:`STAGE_MODULES` names them), so choosing stages
loads only what they need.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from emoreason.assets import asset_path
from emoreason.errors import ConfigError, EmoreasonError
from emoreason.perception.text.ensemble import ENSEMBLE_FILE

STAGES = ("voice", "face", "text", "lora", "fusion")

#: The training scripts each stage runs, in order (modules with ``main(argv) -> exit code``).
STAGE_MODULES = {
    "voice": "emoreason.training.voice.multicorpus",
    "face": ("emoreason.training.ferplus.train", "emoreason.training.face"),
    "text": "emoreason.training.text.model",
    "lora": "emoreason.training.text.finetune",
    "fusion": "emoreason.training.fusion",
}


def package_models_dir() -> Path:
    """The models folder shipped inside the package."""
    return asset_path("models")


def select_stages(only: str = "", skip: str = "") -> list[str]:
    """The stages to run, in pipeline order, from comma-separated ``only`` (default: all) and ``skip``."""

    def parse(text: str) -> list[str]:
        names = [s.strip().lower() for s in text.split(",") if s.strip()]
        unknown = [n for n in names if n not in STAGES]
        if unknown:
            raise ConfigError(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
        return names

    chosen, left_out = parse(only) or list(STAGES), parse(skip)
    stages = [s for s in STAGES if s in chosen and s not in left_out]
    if not stages:
        raise ConfigError("no stage left to run")
    return stages


def stage_arguments(stage: str, data: Path, out: Path, reports: Path, device: str = "auto") -> list[str]:
    """The command-line arguments ``stage``'s training script gets (``face_net``: the face stage's first)."""
    args = {
        "face_net": ["--out", str(out / "face"), "--seed", "0", "--pool", "--pool-default"],
        "voice": ["--out", str(out / "voice"), "--report", str(reports / "voice_train.json")],
        "face": ["--out", str(out / "face"), "--figure", str(reports / "face_confusion.png")],
        "text": ["--out", str(out / "text"), "--figure", str(reports / "text_head_confusion.png"),
                 "--report", str(reports / "text_head.json")],
        "lora": ["--out", str(out / "text"), "--device", device,
                 "--figure", str(reports / "text_confusion.png"),
                 "--report", str(reports / "text_finetune.json")],
        "fusion": ["--out", str(out / "fusion.json"), "--models", str(out)],
    }
    return ["--data", str(data), *args[stage]]


def copy_shipped_lora(out: Path) -> None:
    """The shipped LoRA members and ensemble file, into another models folder (when lora is skipped)."""
    src = package_models_dir() / "text"
    dst = out / "text"
    dst.mkdir(parents=True, exist_ok=True)
    for member in sorted(src.glob("lora_s*")):
        if not (dst / member.name).exists():
            shutil.copytree(member, dst / member.name)
    if not (dst / ENSEMBLE_FILE).exists():
        shutil.copy2(src / ENSEMBLE_FILE, dst / ENSEMBLE_FILE)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def train_default_models(stages: Sequence[str], data: str | Path, out: str | Path | None = None,
                         reports: str | Path = "train-reports", device: str = "auto",
                         log: Callable[[str], None] = _stderr) -> Path:
    """Run ``stages`` (names from :data:`STAGES`, run in pipeline order) on the shared ``data`` folder.

    ``out``: the models folder to write (default: the package's own, replacing the shipped models);
    ``reports``: the folder for reports and figures; ``device``: the lora stage's (auto, cpu, cuda).
    Progress lines go to ``log``. A stage that exits non-zero stops the run with an
    :class:`~emoreason.errors.EmoreasonError` (the stages before it are written). Returns ``out``.
    """
    data = Path(data)
    if not data.is_dir():
        raise ConfigError(f"no data folder at {data} (give --data the shared data folder)")
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ConfigError(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    stages = [s for s in STAGES if s in stages]
    out = Path(out) if out is not None else package_models_dir()
    reports = Path(reports)
    out.mkdir(parents=True, exist_ok=True)
    reports.mkdir(parents=True, exist_ok=True)
    own = out.resolve() == package_models_dir().resolve()
    if "lora" not in stages and not own and {"text", "fusion"} & set(stages):
        copy_shipped_lora(out)
        log("lora skipped: the shipped LoRA members were copied into the text model folder")
    for i, stage in enumerate(stages, 1):
        log(f"[{i}/{len(stages)}] {stage} ...")
        start = time.perf_counter()
        modules = STAGE_MODULES[stage]
        modules = (modules,) if isinstance(modules, str) else modules
        code = 0
        for j, module in enumerate(modules):
            part = "face_net" if stage == "face" and j == 0 else stage
            code = importlib.import_module(module).main(stage_arguments(part, data, out, reports, device))
            if code:
                break
        if code:
            raise EmoreasonError(f"the {stage} stage failed (exit {code}); the stages before it are written")
        log(f"[{i}/{len(stages)}] {stage} done in {time.perf_counter() - start:.0f} s")
    return out
