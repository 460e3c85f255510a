"""``emoreason train-default-models``: regenerate the default models from the shared data, fixed seeds.

Runs, in order, the training scripts that made the shipped files (each can also be run on its own):

- ``voice``  -- ``python -m emoreason.training.voice.model`` (RAVDESS; about 20-40 min on 2 cores, plus
  about 4 min of feature extraction the first time);
- ``face``   -- ``python -m emoreason.training.face`` (``facial_expressions``; a few minutes);
- ``text``   -- ``python -m emoreason.training.text.model`` (the MLP head on MiniLM features, MELD);
- ``lora``   -- ``python -m emoreason.training.text.finetune`` (the three LoRA members and
  ``text_ensemble.json`` with the shipped settings; minutes on a GPU, several hours on a laptop CPU -- leave
  it out with ``--skip lora``; the shipped members came from a GPU run on a float16 copy of the base, so a
  rerun gives close, not bit-identical, adapters);
- ``fusion`` -- ``python -m emoreason.training.fusion``, reading the text and face models just
  written to ``--out``.

``--out`` is a models folder laid out like ``emoreason/assets/models`` (``voice/``, ``face/``, ``text/``,
``fusion.json``); reports and confusion-matrix figures go to ``--reports`` (default ``train-reports`` in
the working folder; the repository keeps its copies in ``docs/model_cards``). With ``--skip lora`` and an
``--out`` other than the package's own folder, the shipped LoRA members are copied in, so the text model
there stays complete.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from emoreason.assets import asset_path
from emoreason.errors import ConfigError, EmoreasonError

STAGES = ("voice", "face", "text", "lora", "fusion")


def package_models_dir() -> Path:
    return asset_path("models")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-default-models", help="regenerate the default voice, face and text models",
                       description="Regenerate the default voice, face and text models and the fusion "
                                   "calibration from the shared data, with fixed seeds.",
                       epilog="Stages: " + ", ".join(STAGES) + ". See the model cards for each one's scores.")
    p.add_argument("--data", type=Path, default=Path("../shared/data"), help="the shared data folder")
    p.add_argument("--out", type=Path, default=None,
                   help="models folder to write (default: the package's own, replacing the shipped models)")
    p.add_argument("--reports", type=Path, default=None,
                   help="folder for cross-validation reports and figures (default: ./train-reports)")
    p.add_argument("--skip", default="", help="comma-separated stages to leave out, e.g. 'lora'")
    p.add_argument("--only", default="", help="comma-separated stages to run (default: all)")
    p.add_argument("--device", default="auto", help="for the lora stage: auto, cpu or cuda")
    p.set_defaults(func=run)


def _stage_list(only: str, skip: str) -> list[str]:
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


def _commands(data: Path, out: Path, reports: Path, device: str) -> dict[str, Callable[[], int]]:
    """Each stage as a call of its training script's ``main`` with the arguments it needs."""

    def voice() -> int:
        from emoreason.training.voice import model as voice_model
        return voice_model.main(["--data", str(data), "--out", str(out / "voice"),
                                 "--report", str(reports / "voice_cv.json"),
                                 "--plot", str(reports / "voice_confusion.png")])

    def face() -> int:
        from emoreason.training import face as face_model
        return face_model.main(["--data", str(data), "--out", str(out / "face"),
                                "--figure", str(reports / "face_confusion.png")])

    def text() -> int:
        from emoreason.training.text import model as text_model
        return text_model.main(["--data", str(data), "--out", str(out / "text"),
                                "--figure", str(reports / "text_head_confusion.png"),
                                "--report", str(reports / "text_head.json")])

    def lora() -> int:
        from emoreason.training.text import finetune as text_finetune
        return text_finetune.main(["--data", str(data), "--out", str(out / "text"), "--device", device,
                                   "--figure", str(reports / "text_confusion.png"),
                                   "--report", str(reports / "text_finetune.json")])

    def fusion() -> int:
        from emoreason.training import fusion as fusion_calibration
        return fusion_calibration.main(["--data", str(data), "--out", str(out / "fusion.json"),
                                        "--models", str(out)])

    return {"voice": voice, "face": face, "text": text, "lora": lora, "fusion": fusion}


def _copy_shipped_lora(out: Path) -> None:
    """The shipped LoRA members and ensemble file, into another models folder (when lora is skipped)."""
    from emoreason.perception.text.ensemble import ENSEMBLE_FILE

    src = package_models_dir() / "text"
    dst = out / "text"
    dst.mkdir(parents=True, exist_ok=True)
    for member in sorted(src.glob("lora_s*")):
        if not (dst / member.name).exists():
            shutil.copytree(member, dst / member.name)
    if not (dst / ENSEMBLE_FILE).exists():
        shutil.copy2(src / ENSEMBLE_FILE, dst / ENSEMBLE_FILE)


def run(args: argparse.Namespace) -> int:
    data = Path(args.data)
    if not data.is_dir():
        raise ConfigError(f"no data folder at {data} (give --data the shared data folder)")
    stages = _stage_list(args.only, args.skip)
    out = Path(args.out) if args.out is not None else package_models_dir()
    reports = Path(args.reports) if args.reports is not None else Path("train-reports")
    out.mkdir(parents=True, exist_ok=True)
    reports.mkdir(parents=True, exist_ok=True)
    own = out.resolve() == package_models_dir().resolve()
    if "lora" not in stages and not own and {"text", "fusion"} & set(stages):
        _copy_shipped_lora(out)
        print("lora skipped: the shipped LoRA members were copied into the text model folder", file=sys.stderr)
    commands = _commands(data, out, reports, args.device)
    for i, stage in enumerate(stages, 1):
        print(f"[{i}/{len(stages)}] {stage} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        code = commands[stage]()
        if code:
            raise EmoreasonError(f"the {stage} stage failed (exit {code}); the stages before it are written")
        print(f"[{i}/{len(stages)}] {stage} done in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    print(f"models in {out}, reports in {reports}")
    return 0
