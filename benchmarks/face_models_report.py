"""The face expression models compared in one run, on FER+ valid and on ``facial_expressions``.

    .venv/bin/python benchmarks/face_models_report.py --data ../shared/data --out reports/face_models
    .venv/bin/python benchmarks/face_models_report.py --sample 300 --out /tmp/fm   # a quick look

Path: every image goes through the face stage exactly as ``emoreason.analyze(path, modalities=["face"])``
sends it there (``load_still`` then ``analyze_face_image`` with the default face model), once. The stage's
expression model is wrapped (:class:`AllModels`) so that the readings it measured on that face (mesh,
AU measures, fer, facex and whatever else any compared model needs) are also scored by every other
compared model; the stage's own output is the default's, and the script checks that the recorded
default scores equal it. An image where the stage finds no usable face is *refused*: it counts as a miss
(predicted "no face") for every model, and the refusals are counted.

Systems: the new model alone (the registry name given by ``--new``, default: the one registered name
that is none of fer/facex/pool/head), fer, facex, the old pool (the fer+facex pool shipped before issue 16:
``pool.json`` at git ref ``--old-ref``) and the new default (``face_model="default"``).

Scores (all from :mod:`emoreason.eval.metrics`): UAR, accuracy (on FER+ the majority-vote accuracy:
labels by the ``ferplus`` adapter's FER+ majority rule), per-class recall, confusion matrices (one PNG per
corpus, a panel per system, from :mod:`emoreason.eval.plots`), FER+ soft-label numbers (cross-entropy,
KL, plurality accuracy) over the faces found. On ``facial_expressions`` the old pool was fitted on these
photos, so it is scored as ``training/face.py`` scored it: 5-fold cross-validation grouped by person, 3
seeds, pool refitted on each training fold (``training.face_pool.fit_pool``, the old pool's settings),
over the photos with a face (the 0.506 of the face card), plus the same with refusals as misses, and the
cross-source check (fitted on the LFW-style photos, scored on the film stills). Every other model is
scored on all photos; per source: LFW-style photos (``Name_0001.jpg``) and film stills (the rest).
The cross-validated rows come from ``face_models_cv.py`` beside this script.
Writes ``summary.json``, ``predictions_<corpus>.json`` and ``confusion_<corpus>.png`` to ``--out``
(atomically). sklearn and matplotlib are imported by the functions that use them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
from face_models_cv import NO_FACE, cv_default_on_ferplus, grouped_cv_pool  # beside this script

from emoreason.errors import EmoreasonError, ModelError
from emoreason.eval import metrics as M
from emoreason.eval.datasets import get_adapter
from emoreason.io.atomic import atomic_write_text
from emoreason.io.media import load_still
from emoreason.labels import CANONICAL
from emoreason.perception.face import analyzer as stage
from emoreason.perception.face.expression import (
    EXPRESSION_MODELS,
    PoolExpression,
    load_expression_model,
)
from emoreason.perception.face.pool import ExpressionPool
from emoreason.training.face_features import LFW_NAME

POOL_FILE = "src/emoreason/assets/models/face/pool.json"
OLD_POOL = "old pool"


class AllModels:
    """Stands in for the stage's expression model: every compared model scores the readings the stage
    measured; the stage gets (and reports) the default's scores. ``uses_*`` flags are true when any model
    needs that input, and an input model the default lacks (``net``) is another model's, so the stage
    computes everything once."""

    def __init__(self, models: dict, main: str) -> None:
        self.models, self.main, self.last, self.blocks = models, main, None, None

    def __getattr__(self, name: str):
        if name.startswith("uses_"):
            return any(getattr(m, name, False) for m in self.models.values())
        value = getattr(self.models[self.main], name)
        if value is None:  # an input the default does not need (the net): another model's
            value = next((v for m in self.models.values() if (v := getattr(m, name, None)) is not None), None)
        return value

    def scores(self, readings) -> dict[str, float]:
        self.last = {k: m.scores(readings) for k, m in self.models.items()}
        self.blocks = {k: np.asarray(v).tolist() for k, v in readings.feature_blocks().items()
                       if k in ("fer_logp", "facex_logp", "au")}
        return self.last[self.main]


def old_pool(ref: str) -> PoolExpression:
    """The pool shipped at git ref ``ref`` (read with ``git show``; no pickle)."""
    try:
        text = subprocess.run(["git", "show", f"{ref}:{POOL_FILE}"], capture_output=True, text=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"cannot read {POOL_FILE} at git ref {ref}: {exc}") from None
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "pool.json").write_text(text, encoding="utf-8")
        return PoolExpression(ExpressionPool.load(tmp))


def systems(new: str | None, ref: str) -> tuple[dict, list[str]]:
    """Compared models by report name, and notes."""
    notes = []
    names = [n for n in EXPRESSION_MODELS if n not in ("fer", "facex", "pool", "head")]
    new = new or ("net" if "net" in names else names[0] if len(names) == 1 else None)
    out = {}
    if new:
        try:
            out[f"new model ({new})"] = load_expression_model(new)
        except ModelError as exc:
            notes.append(f"new model {new!r} not scored: {exc}")
    else:
        notes.append(f"no new model registered (registry: {', '.join(EXPRESSION_MODELS)}): not scored")
    out["fer"], out["facex"] = load_expression_model("fer"), load_expression_model("facex")
    out[OLD_POOL] = old_pool(ref)
    default = load_expression_model("default")
    out[f"new default ({default.name})"] = default
    notes.append(f"old pool: {out[OLD_POOL].fitted.meta.get('name')} (pool.json at {ref}); new default: "
                 f"{default.name} {json.dumps(default.provenance)}")
    for name, m in out.items():  # what each fitted model says it was fitted / tuned on
        meta = {}
        for part in (getattr(m, "net", None), getattr(m, "fitted", None), getattr(m, "pool", None)):
            meta.update(getattr(part, "meta", None) or {})
        said = {k: v for k, v in meta.items() if k in ("trained_on", "tuned_on", "fit_on", "fitted_on")}
        if said:
            notes.append(f"{name}: {json.dumps(said)}")
    return out, notes


def run_stage(items, models: dict, main: str, log) -> list[dict]:
    """Each item through the face stage once (see the module docstring); one record per item."""
    rec = AllModels(models, main)
    records, t0 = [], time.perf_counter()
    with mock.patch.object(stage, "load_expression_model", lambda *a, **k: rec):
        for i, it in enumerate(items):
            rec.last = rec.blocks = None
            r = {"id": it.id, "label": it.label, "votes": it.meta.get("votes")}
            try:
                out = stage.analyze_face_image(load_still(it.path))
            except EmoreasonError as exc:
                out, r["error"] = None, str(exc)
            if out is None or not out.usable or rec.last is None:
                r["refused"] = r.get("error") or (out.details.get("reason") if out else "") or NO_FACE
            else:
                r["scores"] = rec.last
                r["blocks"] = rec.blocks
                r["stage_matches_default"] = bool(max(abs(out.scores[c] - rec.last[main][c])
                                                      for c in CANONICAL) < 1e-6)
            records.append(r)
            if (i + 1) % 250 == 0:
                log(f"  {i + 1}/{len(items)} images, {time.perf_counter() - t0:.0f} s")
    log(f"  {len(items)} images in {time.perf_counter() - t0:.0f} s "
        f"({(time.perf_counter() - t0) / max(len(items), 1) * 1000:.0f} ms each, all models)")
    return records


def predicted(records: list[dict], system: str) -> list[str]:
    return [max(r["scores"][system], key=r["scores"][system].get) if "scores" in r else NO_FACE
            for r in records]


def score(y: list[str], pred: list[str], extra: dict | None = None) -> dict:
    """UAR, accuracy, per-class recall, confusion (refusals are the "no face" column), over all items and
    over the items with a face."""
    found = [i for i, p in enumerate(pred) if p != NO_FACE]
    classes = M.class_order(y)
    labels = M.class_order(y, [pred[i] for i in found]) + ([NO_FACE] if len(found) < len(y) else [])
    out = {"n": len(y), "refused": len(y) - len(found), "uar": M.uar(y, pred),
           "accuracy": M.accuracy(y, pred),
           "recall": dict(zip(classes, M.per_class(y, pred, classes).recall.tolist(), strict=True)),
           "confusion": {"labels": labels, "matrix": M.confusion_matrix(y, pred, labels).tolist()}}
    if found and len(found) < len(y):
        fy, fp = [y[i] for i in found], [pred[i] for i in found]
        out["faces_found"] = {"n": len(found), "uar": M.uar(fy, fp), "accuracy": M.accuracy(fy, fp)}
    out.update(extra or {})
    return out


def evaluate_corpus(name: str, records: list[dict], models: dict, log) -> dict:
    """Every system's scores on one corpus (see the module docstring)."""
    y = [r["label"] for r in records]
    out = {}
    for system in models:
        if system == OLD_POOL and name == "facial_expressions":
            cv, pred = grouped_cv_pool(records, models[OLD_POOL].fitted, log)
            out[system] = score(y, pred, {"grouped_cv": cv, "note": "per-class, confusion and by-source: "
                                          "grouped-CV predictions of seed 0"})
        else:
            pred = predicted(records, system)
            extra = {}
            if name == "ferplus":
                voted = [(r["votes"], r["scores"][system], p) for r, p in zip(records, pred) if "scores" in r]
                extra["soft_labels_faces_found"] = M.soft_label_summary(*map(list, zip(*voted)))
                extra["plurality_accuracy_all"] = M.plurality_accuracy([r["votes"] for r in records], pred)
            out[system] = score(y, pred, extra)
        if name == "facial_expressions":
            lfw = [bool(LFW_NAME.search(r["id"])) for r in records]
            out[system]["by_source"] = {
                src: {"n": len(idx), "uar": M.uar([y[i] for i in idx], [pred[i] for i in idx]),
                      "accuracy": M.accuracy([y[i] for i in idx], [pred[i] for i in idx])}
                for src, idx in (("LFW-style photos", [i for i, v in enumerate(lfw) if v]),
                                 ("film stills", [i for i, v in enumerate(lfw) if not v])) if idx}
    main = next(k for k in models if k.startswith("new default"))
    cv = cv_default_on_ferplus(records, models, main, log) if name == "ferplus" else None
    if cv is not None:
        out[f"{main}, 5-fold CV"] = score(y, cv[1], {"cv": cv[0], "note": "per-class and confusion: seed 0"})
    return out


def table(name: str, res: dict) -> str:
    lines = [f"\n{name}", f"{'system':<34} {'n':>5} {'refused':>7} {'UAR':>6} {'acc':>6} {'UAR found':>9}  "
             "recall per class"]
    for system, s in res.items():
        found = s.get("faces_found", {}).get("uar", s["uar"])
        recall = " ".join(f"{c[:4]} {v:.2f}" for c, v in s["recall"].items())
        lines.append(f"{system:<34} {s['n']:>5} {s['refused']:>7} {s['uar']:>6.3f} {s['accuracy']:>6.3f} "
                     f"{found:>9.3f}  {recall}")
        if "soft_labels_faces_found" in s:
            sl = s["soft_labels_faces_found"]
            lines.append(f"{'':<34} votes: CE {sl['cross_entropy']:.3f}, KL {sl['kl']:.3f}, plurality acc "
                         f"{s['plurality_accuracy_all']:.3f} (all), {sl['plurality_accuracy']:.3f} (found)")
        for src, v in s.get("by_source", {}).items():
            lines.append(f"{'':<34} {src}: n {v['n']}, UAR {v['uar']:.3f}, acc {v['accuracy']:.3f}")
        if "cv" in s:
            lines.append(f"{'':<34} CV over 3 seeds: UAR {s['cv']['uar_mean']:.3f} ± "
                         f"{s['cv']['uar_std']:.3f}, accuracy {s['cv']['accuracy_mean']:.3f} ± "
                         f"{s['cv']['accuracy_std']:.3f}")
        if "grouped_cv" in s:
            g = s["grouped_cv"]
            lines.append(f"{'':<34} grouped CV: UAR {g['uar_faces_found_mean']:.3f} ± "
                         f"{g['uar_faces_found_std']:.3f} (faces found), {g['uar_all_mean']:.3f} "
                         f"(refusals as misses); cross-source (film "
                         f"stills, n {g['cross_source_n']}) UAR {g['cross_source_uar']:.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"), help="the shared data folder")
    ap.add_argument("--out", type=Path, default=Path("reports/face_models"))
    ap.add_argument("--sample", type=int, default=None, help="a seeded random N images per corpus")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--new", default=None, help="registry name of the new model (default: found)")
    ap.add_argument("--old-ref", default="bf9b36c", help="git ref of the old pool (main before issue 16)")
    args = ap.parse_args(argv)
    log = lambda s: print(s, flush=True)  # noqa: E731
    from emoreason.eval.plots import save_confusion_figure

    # small --sample runs leave fewer faces of a class than folds; sklearn warns, the split still runs
    warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)

    models, notes = systems(args.new, args.old_ref)
    main_name = next(k for k in models if k.startswith("new default"))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout
    summary = {"command": " ".join(sys.argv), "commit": commit.strip(),
               "created": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
               "path": "load_still + analyze_face_image: analyze(path, modalities=['face'])'s face stage",
               "notes": notes, "corpora": {}}
    for n in notes:
        log(f"note: {n}")
    for name, split in (("ferplus", "valid"), ("facial_expressions", "all")):
        data = get_adapter(name).load(args.data / name, split).sampled(args.sample, args.seed)
        log(f"{name} {split}: {len(data.items)} images ({data.n_excluded} excluded: {dict(data.excluded)})")
        records = run_stage(data.items, models, main_name, log)
        res = evaluate_corpus(name, records, models, log)
        mismatch = sum(1 for r in records if r.get("stage_matches_default") is False)
        summary["corpora"][name] = {"split": split, "n": len(records), "excluded": dict(data.excluded),
                                    "notes": data.notes,
                                    "stage_output_differs_from_recorded_default": mismatch,
                                    "systems": res}
        log(table(f"{name} {split} (n={len(records)}{', sample' if args.sample else ''})", res))
        log(f"  stage output != recorded default scores on {mismatch} images")
        panels = [(np.array(s["confusion"]["matrix"]), s["confusion"]["labels"], k) for k, s in res.items()]
        save_confusion_figure(panels, args.out / f"confusion_{name}.png", suptitle=f"{name} {split}: rows "
                              "normalised; 'no face' = refused", dpi=80, panel_size=(5.5, 5))
        slim = [{k: v for k, v in r.items() if k != "blocks"} for r in records]
        atomic_write_text(args.out / f"predictions_{name}.json", json.dumps(slim) + "\n")
    atomic_write_text(args.out / "summary.json", json.dumps(summary, indent=1) + "\n")
    log(f"wrote {args.out}/summary.json, confusion_*.png, predictions_*.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
