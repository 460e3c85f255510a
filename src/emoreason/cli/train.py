"""``emoreason train-default-models``: regenerate the default models from the shared data, fixed seeds.

Parses the arguments and calls :func:`emoreason.training.default_models.train_default_models`, whose
docstring lists the stages (voice, face, text, lora, fusion) and what each writes. Reports and
confusion-matrix figures go to ``--reports`` (default ``train-reports`` in the working folder; the
repository keeps its copies in ``docs/model_cards``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from emoreason.training.default_models import STAGES, select_stages, train_default_models


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-default-models", help="regenerate the default voice, face and text models",
                       description="Regenerate the default voice, face and text models and the fusion "
                                   "calibration from the shared data, with fixed seeds.",
                       epilog="Stages: " + ", ".join(STAGES) + ". See the model cards for each one's scores.")
    p.add_argument("--data", type=Path, default=Path("../shared/data"), help="the shared data folder")
    p.add_argument("--out", type=Path, default=None,
                   help="models folder to write (default: the package's own, replacing the shipped models)")
    p.add_argument("--reports", type=Path, default=Path("train-reports"),
                   help="folder for cross-validation reports and figures (default: ./train-reports)")
    p.add_argument("--skip", default="", help="comma-separated stages to leave out, e.g. 'lora'")
    p.add_argument("--only", default="", help="comma-separated stages to run (default: all)")
    p.add_argument("--device", default="auto", help="for the lora stage: auto, cpu or cuda")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = train_default_models(select_stages(args.only, args.skip), args.data, out=args.out,
                               reports=args.reports, device=args.device)
    print(f"models in {out}, reports in {args.reports}")
    return 0
