"""Score the predictions and write the report: JSON, Markdown, confusion-matrix / per-class PNGs, and
the table ``emoreason eval`` prints.

Metrics are computed on the items a system answered; items it failed on are counted (``n_failed``) and
listed by error, never scored as a guess. Provenance records the package version, the configuration,
the seed, the time and a SHA-256 of the item list. Scores come from :mod:`emoreason.eval.metrics`, figures
from :mod:`emoreason.eval.plots`, which is imported inside :func:`write_figures` (it loads matplotlib).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import platform
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from emoreason import __version__
from emoreason.eval import metrics as M
from emoreason.eval.bootstrap import bootstrap_ci
from emoreason.eval.datasets.base import LoadedDataset
from emoreason.eval.harness import Prediction, safe_name
from emoreason.eval.reasoning_metrics import Encoder, LlmJudge, judge_explanations, score_explanations
from emoreason.io.atomic import atomic_write_text

HEADLINE = ("accuracy", "war", "uar", "macro_f1", "weighted_f1")


def score_system(
    dataset: LoadedDataset,
    preds: list[Prediction],
    *,
    resamples: int = 1000,
    seed: int = 0,
    encoder: Encoder | None = None,
    judge: LlmJudge | None = None,
) -> dict[str, Any]:
    """Every metric for one system's predictions over ``dataset.items`` (aligned by position)."""
    items = dataset.items
    ok = [(it, p) for it, p in zip(items, preds) if p.ok]
    errors = Counter(p.error for p in preds if not p.ok)
    out: dict[str, Any] = {
        "n_items": len(items),
        "n_scored": len(ok),
        "n_failed": len(items) - len(ok),
        "failures": dict(errors.most_common(10)),
    }
    if not ok:
        return out
    rate = parse_rate(preds)
    if rate is not None:
        out["parse_rate"] = rate
    y_true = [it.label for it, _ in ok]
    y_pred = [p.label for _, p in ok]
    out["metrics"] = {
        name: bootstrap_ci(
            M.CLASSIFICATION_METRICS[name], y_true, y_pred, resamples=resamples, seed=seed
        ).as_dict()
        for name in HEADLINE
    }
    classes = M.class_order([it.label for it in items])
    out["classes"] = classes
    if len(ok) < len(items):  # the same numbers with every failed item counted as wrong
        every_pred = [p.label if p.ok else "(no answer)" for p in preds]
        every_true = [it.label for it in items]
        out["metrics_failures_as_wrong"] = {
            name: M.CLASSIFICATION_METRICS[name](every_true, every_pred) for name in HEADLINE
        }
    out["per_class"] = M.per_class(y_true, y_pred, classes).as_dict()
    cm_labels = M.class_order(classes, y_pred)
    out["confusion"] = {"labels": cm_labels, "matrix": M.confusion_matrix(y_true, y_pred, cm_labels).tolist()}
    out["predicted_distribution"] = dict(Counter(y_pred))
    voted = [(it.meta["votes"], p) for it, p in ok if it.meta.get("votes") and p.scores]
    if voted:  # annotators' vote counts (FER+): the predicted probabilities against them
        out["soft_labels"] = M.soft_label_summary([v for v, _ in voted], [p.scores for _, p in voted],
                                                  [p.label for _, p in voted])
    for dim in ("valence", "arousal"):
        pairs = [
            (getattr(it, dim), getattr(p, dim))
            for it, p in ok
            if getattr(it, dim) is not None and getattr(p, dim) is not None
        ]
        if len(pairs) >= 2:
            t, q = zip(*pairs)
            out[dim] = {"n": len(pairs), "ccc": M.ccc(t, q), "mse": M.mse(t, q)}
    pairs = [
        (p.explanation, it.reference_explanation)
        for it, p in ok
        if it.reference_explanation and p.explanation
    ]
    if pairs:
        out["reasoning"] = score_explanations(pairs, encoder)
        if encoder is None:
            out["reasoning"]["note"] = "clue overlap not computed: no sentence encoder"
        if judge is not None:
            out["reasoning"]["judge"] = judge_explanations(judge, pairs)
    out["seconds_per_item"] = float(np.mean([p.seconds for _, p in ok]))
    return out


def parse_rate(preds: list[Prediction]) -> dict[str, Any] | None:
    """The share of a multimodal LLM's greedy ``[emotion]`` answers that named a label, over the answered
    items whose prediction records it (``Prediction.answer_parsed``); None for a system that records none."""
    known = [p.answer_parsed for p in preds if p.ok and p.answer_parsed is not None]
    if not known:
        return None
    return {"n": len(known), "parsed": int(sum(known)), "rate": sum(known) / len(known)}


def build_report(
    dataset: LoadedDataset,
    predictions: dict[str, list[Prediction]],
    *,
    config: dict[str, Any],
    seed: int = 0,
    resamples: int = 1000,
    encoder: Encoder | None = None,
    judge: LlmJudge | None = None,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "dataset": {
            "name": dataset.name,
            "root": dataset.root,
            "split": dataset.split,
            "label_map": dataset.label_map,
            "modalities": list(dataset.modalities),
            "n_items": len(dataset.items),
            "n_excluded": dataset.n_excluded,
            "excluded": dict(dataset.excluded),
            "notes": list(dataset.notes) + list(notes or []),
            "data_hash": dataset.data_hash(),
        },
        "systems": {
            name: score_system(dataset, preds, resamples=resamples, seed=seed, encoder=encoder, judge=judge)
            for name, preds in predictions.items()
        },
        "provenance": {
            "package": "emoreason",
            "version": __version__,
            "seed": seed,
            "bootstrap_resamples": resamples,
            "config": config,
            "data_hash": dataset.data_hash(),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }


def summary_table(report: dict[str, Any]) -> str:
    """The plain-text table ``emoreason eval`` prints: one row per system, headline values without
    intervals."""
    d = report["dataset"]
    lines = [
        f"{d['name']} {d['split'] or ''}: {d['n_items']} items, {d['n_excluded']} excluded",
        f"{'system':<28} {'scored':>7} {'failed':>6} {'acc/WAR':>8} {'UAR':>7} {'macroF1':>8} {'wF1':>7}"
        f" {'UAR(all)':>9}",
    ]
    for name, s in report["systems"].items():
        m = s.get("metrics", {})

        def v(key: str, m: dict = m) -> str:
            return f"{m[key]['value']:.3f}" if key in m else "-"

        strict = s.get("metrics_failures_as_wrong", {}).get("uar")
        lines.append(
            f"{name:<28} {s['n_scored']:>7} {s['n_failed']:>6} {v('accuracy'):>8} {v('uar'):>7} "
            f"{v('macro_f1'):>8} {v('weighted_f1'):>7} {v('uar') if strict is None else f'{strict:.3f}':>9}"
        )
    lines.append("UAR(all): failed items counted as wrong")
    for name, s in report["systems"].items():
        if "parse_rate" in s:
            r = s["parse_rate"]
            lines.append(f"{name}: {r['rate']:.3f} of its greedy [emotion] answers named a label "
                         f"({r['parsed']}/{r['n']}; the others took the label from the answer-word scores)")
    return "\n".join(lines)


def write_report(report: dict[str, Any], out_dir: Path, *, plots: bool = True) -> list[Path]:
    """``report.json``, ``report.md`` and (with ``plots``) the figures of :func:`write_figures`."""
    out_dir = Path(out_dir)
    written = [out_dir / "report.json", out_dir / "report.md"]
    atomic_write_text(written[0], json.dumps(_clean(report), indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(written[1], to_markdown(report))
    if plots:
        written += write_figures(report, out_dir)
    return written


def write_figures(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Per scored system: ``confusion_<system>.png`` (row-normalised, with counts) and
    ``per_class_<system>.png`` (precision, recall, F1 per class)."""
    from emoreason.eval.plots import save_confusion_figure, save_per_class_figure

    written: list[Path] = []
    for name, s in report["systems"].items():
        if "confusion" not in s:
            continue
        counts = np.asarray(s["confusion"]["matrix"], dtype=float)
        title = f"{name}: confusion (row-normalised)"
        written += [
            save_confusion_figure([(counts, s["confusion"]["labels"], title)],
                                  Path(out_dir) / f"confusion_{safe_name(name)}.png"),
            save_per_class_figure(s["per_class"], Path(out_dir) / f"per_class_{safe_name(name)}.png",
                                  f"{name}: per-class scores"),
        ]
    return written


def _fmt(x: dict[str, float] | None) -> str:
    if not x:
        return "–"
    if math.isnan(x.get("low", float("nan"))):
        return f"{x['value']:.3f}"
    return f"{x['value']:.3f} [{x['low']:.3f}, {x['high']:.3f}]"


def to_markdown(report: dict[str, Any]) -> str:
    d, prov = report["dataset"], report["provenance"]
    lines = [
        f"# Evaluation: {d['name']} ({d['split'] or 'all'})",
        "",
        f"Items: {d['n_items']} from `{d['root']}`; excluded: {d['n_excluded']}"
        + (" (" + ", ".join(f"{k}: {v}" for k, v in d["excluded"].items()) + ")" if d["excluded"] else "")
        + f". Label map: `{d['label_map']}`. Data hash: `{d['data_hash'][:16]}`.",
        "",
    ]
    lines += [f"- note: {n}" for n in d["notes"]]
    level = int(round(100 * 0.95))
    lines += [
        "",
        f"Values with {level}% bootstrap intervals ({prov['bootstrap_resamples']} resamples, "
        f"seed {prov['seed']}); UAR = mean per-class recall, WAR = accuracy.",
        "",
        "Metrics are over the items a system answered; the last column counts failed items as wrong.",
        "",
        "| system | scored / items | failed | accuracy (WAR) | UAR | macro F1 | weighted F1 "
        "| UAR, all items |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in report["systems"].items():
        m = s.get("metrics", {})
        strict = s.get("metrics_failures_as_wrong", {}).get("uar", m.get("uar", {}).get("value"))
        lines.append(
            f"| {name} | {s['n_scored']} / {s['n_items']} | {s['n_failed']} | {_fmt(m.get('accuracy'))} "
            f"| {_fmt(m.get('uar'))} | {_fmt(m.get('macro_f1'))} | {_fmt(m.get('weighted_f1'))} "
            f"| {'–' if strict is None else f'{strict:.3f}'} |"
        )
    for name, s in report["systems"].items():
        lines += ["", f"## {name}", ""]
        if s.get("failures"):
            lines += ["Failures: " + "; ".join(f"{k} (x{v})" for k, v in s["failures"].items()), ""]
        if "parse_rate" in s:
            r = s["parse_rate"]
            lines += [f"Parse rate: {r['rate']:.3f} ({r['parsed']} of {r['n']} greedy [emotion] answers "
                      "named a label; the others took the label from the answer-word scores)", ""]
        if "per_class" in s:
            lines += ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
            lines += [
                f"| {c} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
                for c, v in s["per_class"].items()
            ]
        if "soft_labels" in s:
            sl = s["soft_labels"]
            lines.append(f"\nagainst the annotators' votes (n={sl['n']}): cross-entropy "
                         f"{sl['cross_entropy']:.3f}, KL {sl['kl']:.3f}, plurality accuracy "
                         f"{sl['plurality_accuracy']:.3f}")
        for dim in ("valence", "arousal"):
            if dim in s:
                lines.append(f"\n{dim}: CCC {s[dim]['ccc']:.3f}, MSE {s[dim]['mse']:.3f} (n={s[dim]['n']})")
        if "reasoning" in s:
            r = s["reasoning"]
            lines.append(
                "\nreasoning: "
                + ", ".join(
                    f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                    for k, v in r.items()
                    if k != "judge"
                )
            )
            if "judge" in r:
                j = r["judge"]
                lines.append(
                    f"\nLLM judge `{j['judge_model']}`: clue overlap {j['clue_overlap']:.2f}/10, "
                    f"label overlap {j['label_overlap']:.2f}/10 (n={j['n']}, failed {j['failed']})"
                )
    lines += ["", "## Provenance", "", "```json", json.dumps(_clean(prov), indent=2), "```", ""]
    return "\n".join(lines)


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else round(obj, 6)
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        return _clean(obj.item())
    return obj
