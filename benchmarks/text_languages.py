"""The words model per language: the shipped multilingual head against the majority and keyword baselines
on held-out splits, the English ensemble beside it on the English corpora, and the speed of both paths.

Rows: ``emoreason.training.text.corpora``, single-label rows of the ``test`` split of each corpus
(XED, EmoEvent, CPED; grouped, never seen in training) and MELD's dev file (MELD has no test here). The
baselines are ``text_languages_baselines.score_language`` (majority class and learnt keywords, both fitted
on the full train split of that corpus and language). Metrics from ``emoreason.eval.metrics``.

Encoders: sentences/s of USE and e5 alone on the same 300 XED lines, one thread. English: the ensemble
(``assets/models/text``, sentences read alone) and the multilingual head on the same English rows, and
the two routed as typed text is (the head where the text language ID does not say English); MELD dev
also with its three turns of context for the ensemble (as ``--context`` feeds it). Speed, in this
process: ``analyze_texts`` over ``--speed-n`` Spanish (XED es test) and English (MELD dev) sentences,
after a warm-up batch; start-up: ``emoreason analyze --text ...`` in a fresh process, start to exit,
median of ``--reps``, for a Spanish and an English sentence.

    python benchmarks/text_languages.py --data ../shared/data [--cache DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from text_languages_baselines import score_language  # noqa: E402

from emoreason.eval.metrics import uar, weighted_f1  # noqa: E402
from emoreason.labels import CANONICAL  # noqa: E402
from emoreason.perception.text.language_id import identify_language  # noqa: E402
from emoreason.perception.text.multilingual import MultilingualTextModel  # noqa: E402
from emoreason.perception.text.text_job import ENSEMBLE_LANGUAGES  # noqa: E402
from emoreason.training.text.corpora import CORPORA, load_rows, select  # noqa: E402
from emoreason.training.text.embed_cache import embed_cached  # noqa: E402

CLI = [sys.executable, "-m", "emoreason.cli.main", "analyze", "--text"]


def _scores(y_true, probs) -> dict:
    pred = [CANONICAL[int(k)] for k in np.asarray(probs).argmax(axis=1)]
    return {"wf1": weighted_f1(y_true, pred), "uar": uar(y_true, pred)}


def _embed(model: MultilingualTextModel, texts: list[str], cache: Path | None) -> np.ndarray:
    return embed_cached(model.encoder, texts, cache, log=False) if cache else model.encoder.encode(texts)


def languages_table(data: Path, model: MultilingualTextModel, cache: Path | None,
                    min_test: int) -> list[dict]:
    loaded = load_rows(data, CORPORA)
    out = []
    for name, corpus in loaded.items():
        for lang in sorted({r.language for r in corpus.rows}):
            # MELD's dev file is its held-out split; elsewhere dev chose the head's settings, so a language
            # without test rows is left out (not scored on dev)
            test = select(corpus.rows, "dev" if name == "meld" else "test", [lang], single=True)
            if len(test) < min_test:
                continue
            base = score_language(corpus.rows, lang, "test", 0)
            texts = [r.text for r in test]
            emb = _embed(model, texts, cache)
            head = _scores([r.single for r in test], model.head.predict_proba(emb))
            row = {"corpus": name, "language": lang, "n_test": len(test), "split": test[0].split,
                   "head_wf1": head["wf1"], "head_uar": head["uar"],
                   **{k: base[k] for k in ("majority_wf1", "majority_uar", "keyword_wf1", "keyword_uar")}}
            out.append(row)
            print(f"{name:9} {lang:4} {len(test):>6} {row['split']:>5} {row['head_wf1']:>7.3f} "
                  f"{row['head_uar']:>7.3f} {row['majority_wf1']:>7.3f} {row['keyword_wf1']:>7.3f} "
                  f"{row['keyword_uar']:>7.3f} {row['head_wf1'] / max(row['keyword_wf1'], 1e-9):>6.2f}",
                  flush=True)
    return out


def english_table(data: Path, model: MultilingualTextModel, cache: Path | None) -> list[dict]:
    from emoreason.perception.text.ensemble import TextEnsemble
    from emoreason.training.text.data import load_meld
    ensemble = TextEnsemble.load()
    loaded = load_rows(data, ("xed", "emoevent"))
    sets = [(n, select(c.rows, "test", ["en"], single=True)) for n, c in loaded.items()]
    meld = load_meld(data, "dev")
    out = []
    for name, rows in sets + [("meld", None)]:
        if rows is None:
            texts, truth = meld.texts, [CANONICAL[int(k)] for k in meld.labels]
        else:
            texts, truth = [r.text for r in rows], [r.single for r in rows]
        emb = _embed(model, texts, cache)
        head, ens = model.head.predict_proba(emb), ensemble.predict_proba(texts, [[] for _ in texts])
        # as typed text is routed: the head where the text language ID does not say English
        other = np.asarray([identify_language(t)[0] not in ENSEMBLE_LANGUAGES for t in texts])
        row = {"corpus": name, "n": len(texts), "head": _scores(truth, head), "ensemble": _scores(truth, ens),
               "routed": _scores(truth, np.where(other[:, None], head, ens)), "to_head": float(other.mean())}
        if rows is None:
            row["ensemble_context"] = _scores(truth, ensemble.predict_proba(texts, meld.history))
        out.append(row)
        extra = (f"  routed by LID {row['routed']['wf1']:.3f} ({row['to_head']:.1%} to the head)"
                 + (f"  ensemble+context {row['ensemble_context']['wf1']:.3f}" if rows is None else ""))
        print(f"{name:9} en {len(texts):>6}  head wF1 {row['head']['wf1']:.3f} UAR {row['head']['uar']:.3f}  "
              f"ensemble wF1 {row['ensemble']['wf1']:.3f} UAR {row['ensemble']['uar']:.3f}{extra}",
              flush=True)
    return out


def encoder_speed(data: Path, n: int) -> dict:
    """Sentences/s of each packaged encoder alone on the same ``n`` XED test lines (es, de, zh: a third
    each), one thread (USE: its BLAS limit; e5: OMP_NUM_THREADS=1 set before it loads), after a warm-up."""
    from emoreason.perception.text.multilingual_encoder import ENCODERS, MultilingualEncoder
    rows = load_rows(data, ("xed",))["xed"].rows
    texts = [r.text for lang in ("es", "de", "zh") for r in select(rows, "test", [lang])[:n // 3]]
    out = {}
    for name in ENCODERS:
        t0 = time.perf_counter()
        enc = MultilingualEncoder(name, threads=1)
        enc.encode(["warm up"])
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        enc.encode(texts)
        dt = time.perf_counter() - t0
        out[name] = {"load_s": load, "sentences_per_s": len(texts) / dt}
        print(f"encoder {name}: load {load:.2f} s, {len(texts)} sentences in {dt:.2f} s = "
              f"{len(texts) / dt:.0f}/s", flush=True)
    return out


def routing(data: Path, model: MultilingualTextModel, threshold: float) -> dict:
    """What a minimum language-ID probability for leaving the ensemble would change, on the test rows
    (MELD: dev): the rows whose route it changes (English rows the text language ID sends to the head,
    non-English rows it sends there with less than ``threshold``), and each model's accuracy on them."""
    from emoreason.perception.text.ensemble import TextEnsemble
    loaded = load_rows(data, CORPORA)
    moved = {"en": [], "other": []}
    for name, corpus in loaded.items():
        for r in select(corpus.rows, "dev" if name == "meld" else "test", single=True):
            code, p = identify_language(r.text)
            if code not in ENSEMBLE_LANGUAGES and p < threshold:
                moved["en" if r.language == "en" else "other"].append(r)
    ensemble, out = TextEnsemble.load(), {}
    for key, rows in moved.items():
        texts, truth = [r.text for r in rows], np.asarray([CANONICAL.index(r.single) for r in rows])
        head = model.predict_proba(texts).argmax(axis=1)
        ens = ensemble.predict_proba(texts, [[] for _ in texts]).argmax(axis=1)
        out[key] = {"n": len(rows), "head_accuracy": float((head == truth).mean()),
                    "ensemble_accuracy": float((ens == truth).mean())}
        print(f"language ID p < {threshold}: {len(rows)} {'English' if key == 'en' else 'non-English'} rows "
              f"would go to the ensemble instead of the head; accuracy there: head "
              f"{out[key]['head_accuracy']:.3f}, ensemble {out[key]['ensemble_accuracy']:.3f}", flush=True)
    return out


def speed(data: Path, n: int, reps: int) -> dict:
    from emoreason import analyze_texts
    loaded = load_rows(data, ("xed", "meld"))
    es = [r.text for r in select(loaded["xed"].rows, "test", ["es"])][:n]
    en = [r.text for r in select(loaded["meld"].rows, "dev", ["en"])][:n]
    out = {}
    for lang, texts in (("es", es), ("en", en)):
        analyze_texts(texts[:8])  # models loaded
        t0 = time.perf_counter()
        results = analyze_texts(texts)
        dt = time.perf_counter() - t0
        routes = {r.modalities["text"].details.get("text_route") for r in results}
        out[f"{lang}_sentences_per_s"] = len(texts) / dt
        print(f"analyze_texts, {len(texts)} {lang} sentences: {len(texts) / dt:.1f}/s {sorted(routes)}",
              flush=True)
    for lang, sentence in (("es", "Estoy muy feliz, es el mejor día de mi vida"),
                           ("en", "I am so happy, this is the best day of my life")):
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            subprocess.run(CLI + [sentence], check=True, capture_output=True, cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
            times.append(time.perf_counter() - t0)
        out[f"{lang}_startup_s"] = statistics.median(times)
        print(f"start-up, --text in {lang}: median {statistics.median(times):.2f} s of {reps} "
              f"({', '.join(f'{t:.2f}' for t in times)})", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="the shared data folder")
    p.add_argument("--cache", type=Path, default=None, help="an embedding cache folder (outside the repo)")
    p.add_argument("--min-test", type=int, default=50, help="skip corpus-languages with fewer test rows")
    p.add_argument("--speed-n", type=int, default=200)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--skip", default="", help="comma-separated parts to skip: languages, english, encoders, "
                   "speed")
    p.add_argument("--threshold", type=float, default=None, help="also: what routing text to the head only "
                   "from this language-ID probability up would change")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # before e5's OpenMP pool starts
    skip = set(args.skip.split(","))
    model = MultilingualTextModel(threads=1)
    print(f"head: {model.name}, encoder {model.encoder.description}")
    result = {"head": model.name}
    if "languages" not in skip:
        print(f"{'corpus':9} {'lang':4} {'n_test':>6} {'split':>5} {'wF1':>7} {'UAR':>7} {'maj wF1':>7} "
              f"{'kw wF1':>7} {'kw UAR':>7} {'/kw':>6}")
        result["languages"] = languages_table(args.data, model, args.cache, args.min_test)
    if "english" not in skip:
        result["english"] = english_table(args.data, model, args.cache)
    if args.threshold is not None:
        result["routing"] = routing(args.data, model, args.threshold)
    if "encoders" not in skip:
        result["encoders"] = encoder_speed(args.data, 300)
    if "speed" not in skip:
        result["speed"] = speed(args.data, args.speed_n, args.reps)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
