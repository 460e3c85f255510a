"""Score the LoRA grid's members on MELD dev and EmoryNLP dev (never trained on) and the ensembles they would
make with the shipped MLP head, on the CPU, with the original base MiniLM (as ``analyze`` loads them).

    python tools/text_ensemble_check.py --grid OUT_OF_text_lora_grid.sh \\
        [--json docs/model_cards/text_lora_grid.json]

Also lists the MELD dev scores the GPU run printed (``DESIGN/sSEED/report.json``, float16 base), for
designs whose adapters were not kept. Designs are the grid's folders (``DESIGN/sSEED/lora_sSEED``); the
shipped members (``lora_s0..2`` of the shipped folder) join the design ``ctx3``. For each design:
members' weighted F1 (mean ± std), and each triple of consecutive seeds as an ensemble with the head at
the shipped weight (1/3), as shipped, and all of a design's seeds as one ensemble.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from emoreason.io.atomic import atomic_write_text
from emoreason.perception.text.ensemble import TextEnsemble
from emoreason.perception.text.lora import LoraTextModel
from emoreason.training.text.data import load_emorynlp, load_meld
from emoreason.training.text.model import metrics


def with_head(lora_probs: list[np.ndarray], head_probs: np.ndarray, head_weight: float) -> np.ndarray:
    """The ensemble's probabilities: the LoRA members' averaged, joined with the head's at ``head_weight``."""
    return head_weight * head_probs + (1 - head_weight) * np.mean(lora_probs, 0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", type=Path, required=True)
    ap.add_argument("--shipped", type=Path, default=Path("src/emoreason/assets/models/text"))
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--head-weight", type=float, default=1 / 3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    sets = {"meld_dev": load_meld(args.data, "dev"), "emorynlp_dev": load_emorynlp(args.data, "dev")}
    members: dict[str, dict[int, Path]] = {}
    for folder in sorted(args.grid.glob("*/s*/lora_s*")):
        members.setdefault(folder.parts[-3], {})[int(folder.name.removeprefix("lora_s"))] = folder
    for seed in (0, 1, 2):
        members.setdefault("ctx3", {})[seed] = args.shipped / f"lora_s{seed}"
    head_model = TextEnsemble.load(args.shipped)
    head = {k: head_model._head_proba(s.texts, s.history) for k, s in sets.items()}
    wf1 = {k: (lambda p, y=s.labels: metrics(y, p.argmax(1))["weighted_f1"]) for k, s in sets.items()}
    report: dict = {"head_alone": {k: wf1[k](p) for k, p in head.items()}, "head_weight": args.head_weight,
                    "designs": {}}
    print("head alone: " + ", ".join(f"{k} {v:.4f}" for k, v in report["head_alone"].items()))
    for design, by_seed in sorted(members.items()):
        probs, meta = {}, {}
        for seed, folder in sorted(by_seed.items()):
            model = LoraTextModel.load(folder)
            probs[seed] = {k: model.predict_proba(s.texts, s.history) for k, s in sets.items()}
            meta = meta or model.meta
        seeds = sorted(probs)
        row: dict = {"seeds": seeds,
                     "spec": {k: meta[k] for k in ("rank", "context_turns", "max_length", "epochs")}}
        for k in sets:
            f = [wf1[k](probs[s][k]) for s in seeds]
            row[f"{k}_members"] = {"per_seed": f, "mean": float(np.mean(f)), "std": float(np.std(f))}
            triples = [seeds[i:i + 3] for i in range(0, len(seeds) - 2, 3)]
            ens = [wf1[k](with_head([probs[s][k] for s in t], head[k], args.head_weight)) for t in triples]
            row[f"{k}_ensembles"] = {"triples": triples, "per_triple": ens, "mean": float(np.mean(ens)),
                                     "std": float(np.std(ens))}
            row[f"{k}_all_seeds_ensemble"] = wf1[k](with_head([probs[s][k] for s in seeds], head[k],
                                                              args.head_weight))
        report["designs"][design] = row
        print(f"{design:7s} " + " | ".join(
            f"{k}: members {row[k + '_members']['mean']:.4f} ± {row[k + '_members']['std']:.4f}, "
            f"ensembles {row[k + '_ensembles']['mean']:.4f} ± {row[k + '_ensembles']['std']:.4f} "
            f"(n={len(row[k + '_ensembles']['per_triple'])}), "
            f"all {len(seeds)} seeds {row[k + '_all_seeds_ensemble']:.4f}"
            for k in sets), flush=True)
    # what the GPU measured (float16 base), every design
    for rep in sorted(args.grid.glob("*/s*/report.json")):
        r = json.loads(rep.read_text())
        for seed, v in r["seeds"].items():
            gpu = report.setdefault("gpu_meld_dev_members", {}).setdefault(rep.parts[-3], {})
            gpu[seed] = v["final"]["weighted_f1"]
    for design, gpu in sorted(report.get("gpu_meld_dev_members", {}).items()):
        values = list(gpu.values())
        print(f"{design:7s} on the GPU: MELD dev members {np.mean(values):.4f} ± {np.std(values):.4f} "
              f"(seeds {', '.join(sorted(gpu))})")
    if args.json is not None:
        atomic_write_text(args.json, json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
