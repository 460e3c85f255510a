"""The compact multimodal LLM against the default pipeline on held-out items (issue 19: measure honestly).

    PYTHONPATH=src python benchmarks/emollm_compact.py --model compact --data ../shared/data \
        --per-corpus 300 [--out OUT] [--reason-n 15] [--seed 0] [--voice-features DIR]

Items the compact model never trained on: RAVDESS actors 15-18 (all 240 clips, or ``--ravdess N``), FER+
valid and MELD dev (with each line's dialogue context), each a seeded sample of ``--per-corpus`` items
(``LoadedDataset.sampled``, as ``emoreason eval --sample N --seed S``). Per corpus it prints

(a) accuracy, UAR and weighted F1 of the model, the default pipeline and the majority class of the corpus'
    training split, on the items every system answered (failures counted apart);
(b) the model's parse rate (greedy ``[emotion]`` answers that named a label);
(c) whether the model uses its inputs: every item scored again with its audio/face features replaced by
    those of another item of the corpus (a fixed derangement), and for MELD (text only) with another line's
    subtitle (the text control); both scores and the difference (the original labels are the journal's;
    ``--recheck`` items are recomputed from the same prepared inputs as a check);
(d) ``[reason]`` answers on ``--reason-n`` items: conclusions contradicting the ``[emotion]`` label, the
    truth, and unparsable ones;
(e) generation speed: first-token latency and tokens/s (medians), beside the base LLM alone (LoRA off)
    generating as many tokens (same repetition control) after the first item's prompt without its media
    tokens, in the same run; the model's load time.

(a) and (b) come from the prediction journals ``emoreason eval`` writes, under the same names, in
``OUT/<corpus>/predictions/``: ``emoreason eval --dataset ravdess --root .../ravdess_speech --split
actors:15-18 --model default --model compact -o OUT/ravdess`` (FER+, MELD: ``--sample N --seed S``) and this
script fill and reuse the same journals. ``--voice-features`` (the voice model's training-feature cache)
adds, for RAVDESS, the voice model's recipe refit without actors 15-18: the shipped voice model trained on
every RAVDESS actor, so its RAVDESS numbers here are in-sample. All numbers go to ``OUT/benchmark.json``
(or ``--json``). ``--parts`` picks (c) and (d)/(e), so that they can run in separate processes (e.g. the
corpora's (c) side by side on two cores, then (d)/(e) alone for the speed numbers).
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from emoreason.emollm.infer import recognise
from emoreason.eval import metrics as M
from emoreason.eval.datasets import get_adapter
from emoreason.eval.emollm_checks import (
    donors_within,
    reasoning_verdict,
    timed_reasoning,
    with_inputs_of,
)
from emoreason.eval.harness import run_system, safe_name
from emoreason.eval.systems import emollm_inputs, emollm_system, pipeline_systems
from emoreason.io.atomic import atomic_write_text

#: What the default pipeline's models saw of each corpus' held-out items (their model cards).
PIPELINE_CAVEATS = {
    "ravdess": "the shipped voice model was trained on all 1,080 RAVDESS clips (actors 1-18): in-sample here",
    "ferplus": "the default face pool's weights and biases were fitted on FER+ valid ([face; face net]: "
               "its FER+ network alone, trained on FER+ train only)",
    "meld": "MELD dev chose the text model's design and fitted its head's calibration"}
#: corpus -> (folder under --data, held-out split, training split)
CORPORA = {"ravdess": ("ravdess_speech", "actors:15-18", "actors:1-14"),
           "ferplus": ("ferplus", "valid", "train"), "meld": ("meld", "dev", "train")}
HEADLINE = {"acc": M.accuracy, "uar": M.uar, "wf1": M.weighted_f1}


def scores(y_true: list[str], y_pred: list[str]) -> dict[str, float]:
    return {k: f(y_true, y_pred) for k, f in HEADLINE.items()}


def fmt(s: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.3f}" for k, v in s.items())


def voice_refit(data_dir: Path, cache: Path, held: set[int]) -> dict[str, str]:
    """The voice model's recipe (version 7's population path, three views averaged) refit on RAVDESS
    without the ``held`` actors (and EmoDB), from its cached training features: item id -> label."""
    from emoreason.perception.voice.classifier import logistic_proba
    from emoreason.training.voice import multicorpus as mc
    from emoreason.training.voice.corpora import load_both
    from emoreason.training.voice.features import extract

    mc.extract = functools.partial(extract, cache_dir=cache)  # training_set reads through this name
    views, y, speaker, corpus = mc.training_set(data_dir)
    df = load_both(data_dir)
    keep = ((df["corpus"] == "ravdess") | df["label"].notna()).to_numpy()
    names = [Path(p).name for p in df["path"].to_numpy()[keep]]
    test = np.array([c == "ravdess" and int(str(s)[-2:]) in held for c, s in zip(corpus, speaker)])
    params = mc.fit_population([v[~test] for v in views], y[~test], "balanced")
    proba = np.mean([logistic_proba(params, v[test]) for v in views], axis=0)
    canon = {"calm": "neutral", "disgust": "disgusted"}
    classes = [canon.get(c, c) for c in mc.CLASSES]
    order = list(dict.fromkeys(classes))
    summed = np.zeros((len(proba), len(order)))
    for j, c in enumerate(classes):
        summed[:, order.index(c)] += proba[:, j]
    ids = [n for n, t in zip(names, test) if t]
    return {i: order[k] for i, k in zip(ids, summed.argmax(axis=1))}


def plain_llm_speed(model, processor, prompt: list[int], n_new: int) -> tuple[float, float]:
    """The base LLM alone (LoRA off, no projectors, no features): first-token latency and tokens/s of
    greedy generation of ``n_new`` tokens after the text-only ``prompt``, with the reasoning's repetition
    control (``no_repeat_ngram_size``)."""
    import torch

    from emoreason.emollm.checkpoint import core_model
    from emoreason.emollm.steps import REASON_NO_REPEAT_NGRAM

    llm = core_model(model).language_model
    ids = torch.tensor([prompt])
    kw = {"do_sample": False, "pad_token_id": processor.tokenizer.pad_token_id,
          "no_repeat_ngram_size": REASON_NO_REPEAT_NGRAM}
    with torch.no_grad(), _adapters_off(model):
        t0 = time.perf_counter()
        llm.generate(ids, max_new_tokens=1, min_new_tokens=1, **kw)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        llm.generate(ids, max_new_tokens=n_new, min_new_tokens=n_new, **kw)
        return first, n_new / (time.perf_counter() - t0)


def _adapters_off(model):
    import contextlib

    return model.disable_adapter() if hasattr(model, "disable_adapter") else contextlib.nullcontext()


def prepare(model, processor, items) -> tuple[list, list, list[float]]:
    """(prepared inputs, their items, seconds each) for the items the model can read."""
    from emoreason.emollm.steps import prepare_input
    from emoreason.errors import EmoreasonError

    prepared, kept, seconds = [], [], []
    for it in items:
        source, text, context = emollm_inputs(it)
        t0 = time.perf_counter()
        try:
            prepared.append(prepare_input(model, processor, source=source, text=text, context=context))
        except EmoreasonError:
            continue
        seconds.append(time.perf_counter() - t0)
        kept.append(it)
    return prepared, kept, seconds


def run_corpus(name: str, args, model, processor, out: dict) -> None:
    folder, held_split, train_split = CORPORA[name]
    adapter = get_adapter(name, None)
    n = args.ravdess if name == "ravdess" else args.per_corpus  # RAVDESS: all 240 held-out clips by default
    data = adapter.load(args.data / folder, held_split).sampled(n, args.seed)
    train = adapter.load(args.data / folder, train_split).items
    majority = Counter(it.label for it in train).most_common(1)[0][0]
    items = data.items
    res: dict = out.setdefault(name, {"split": held_split, "n_items": len(items), "majority_class": majority,
                                      "pipeline_caveat": PIPELINE_CAVEATS[name]})
    print(f"\n== {name} {held_split}: {len(items)} items (seed {args.seed}); majority of {train_split}: "
          f"{majority}", flush=True)

    faces = ("default", "net") if name == "ferplus" else ("default",)  # net: trained on FER+ train only
    systems = dict(pipeline_systems(data, ["all"], ["default"], face_models=faces)[0])
    mllm, system = emollm_system(args.model)
    systems[mllm] = system
    preds = {n: run_system(s, n, items, args.out / name / "predictions" / f"{safe_name(n)}.jsonl",
                           progress=False) for n, s in systems.items()}
    labels = {n: {p.id: p.label for p in ps if p.ok} for n, ps in preds.items()}
    labels[f"majority ({majority})"] = {it.id: majority for it in items}
    if name == "ravdess" and args.voice_features:
        saved = args.out / name / "voice_refit.json"  # the refit's labels, kept for later runs
        if not saved.is_file():
            refit = voice_refit(args.data, args.voice_features, {15, 16, 17, 18})
            atomic_write_text(saved, json.dumps(refit, indent=0) + "\n")
        labels["voice recipe refit w/o actors 15-18"] = json.loads(saved.read_text())
    common = [it for it in items if all(it.id in lab for lab in labels.values())]
    truth = [it.label for it in common]
    res["n_common"] = len(common)
    res["failed"] = {n: sum(it.id not in lab for it in items) for n, lab in labels.items()}
    res["systems"] = {n: scores(truth, [lab[it.id] for it in common]) for n, lab in labels.items()}
    print(f"(a) on the {len(common)} items every system answered (failures: {res['failed']}); pipeline "
          f"caveat: {PIPELINE_CAVEATS[name]}")
    for n, s in res["systems"].items():
        print(f"    {n:<40} {fmt(s)}")
    mine = [p for p in preds[mllm] if p.ok]
    known = [p.answer_parsed for p in mine if p.answer_parsed is not None]
    res["parse_rate"] = {"n": len(known), "parsed": int(sum(known)),
                         "rate": sum(known) / len(known) if known else float("nan")}
    res["median_label_s"] = statistics.median(p.seconds for p in mine) if mine else None
    print(f"(b) parse rate {res['parse_rate']['rate']:.3f} ({res['parse_rate']['parsed']}/{len(known)}); "
          "median seconds per item of the model's label (analyze_with_emollm, no reasoning; journal) "
          + (f"{res['median_label_s']:.3f}" if mine else "-"))
    answered = [it for it in items if it.id in labels[mllm]]  # the model failed on the others
    if "shuffle" in args.parts:
        res["inputs_used"] = inputs_used(name, args, model, processor, answered, labels[mllm])
    if "reasoning" in args.parts:
        res["reasoning"] = reasoning(args, model, processor, answered, labels[mllm])


def inputs_used(name: str, args, model, processor, items, journal: dict[str, str]) -> dict:
    """(c): every item's label again with another item's features (or, text only, subtitle)."""
    import torch

    prepared, kept, t_prep = prepare(model, processor, items)
    what = "features" if any(p.features for p in prepared) else "subtitle"
    donors = donors_within([name] * len(kept), args.seed)
    orig = [journal[it.id] for it in kept]  # the journal's labels: analyze_with_emollm's
    swapped, rechecked = [], 0
    with torch.no_grad():
        for i, p in enumerate(prepared):
            if i < args.recheck:  # recognise() on the same inputs must give the journal's label
                rechecked += recognise(model, processor, p).label == orig[i]
            swapped.append(recognise(model, processor, with_inputs_of(p, prepared[donors[i]], what)).label)
    truth = [it.label for it in kept]
    u = {"swapped": what, "n": len(kept), "left_out": len(items) - len(kept),
         "original": scores(truth, orig), "swapped_scores": scores(truth, swapped),
         "labels_changed": sum(a != b for a, b in zip(orig, swapped)),
         "recheck": {"n": min(args.recheck, len(kept)), "equal": rechecked},
         "median_prepare_s": statistics.median(t_prep) if t_prep else None}
    print(f"(c) {what} of another {name} item ({len(kept)} items, {u['left_out']} not preparable): "
          f"original {fmt(u['original'])} | swapped {fmt(u['swapped_scores'])} | difference "
          + " ".join(f"{k} {u['original'][k] - u['swapped_scores'][k]:+.3f}" for k in HEADLINE)
          + f"; labels changed {u['labels_changed']}/{len(kept)}; recomputed originals equal the journal's "
          f"on {rechecked}/{u['recheck']['n']}; median prepare {u['median_prepare_s']:.3f} s", flush=True)
    return u


def reasoning(args, model, processor, items, journal: dict[str, str]) -> dict:
    """(d) and (e): [reason] answers on a seeded subset, their verdicts and their speed."""
    import torch

    from emoreason.emollm.instructions import REASON_INSTRUCTIONS

    rng = np.random.RandomState(args.seed)
    subset = [items[i] for i in sorted(rng.choice(len(items), size=min(args.reason_n, len(items)),
                                                  replace=False).tolist())]
    prepared, kept, _ = prepare(model, processor, subset)
    rows = []
    with torch.no_grad():
        for it, p in zip(kept, prepared):
            r = timed_reasoning(model, processor, p, args.max_new_tokens)
            r.update(reasoning_verdict(r["text"], journal[it.id], it.label), id=it.id, truth=it.label,
                     answer_label=journal[it.id])
            rows.append(r)
    g = {"n": len(rows), "contradicts_answer": sum(r["contradicts_answer"] for r in rows),
         "contradicts_truth": sum(r["contradicts_truth"] for r in rows),
         "unparsable": sum(r["unparsable"] for r in rows),
         "median_first_token_s": statistics.median(r["first_token_s"] for r in rows) if rows else None,
         "median_tokens_per_s": statistics.median(r["tokens_per_s"] for r in rows) if rows else None,
         "median_new_tokens": statistics.median(r["new_tokens"] for r in rows) if rows else None,
         "answers": rows}
    print(f"(d) [reason] on {len(rows)} items: contradicts its [emotion] label {g['contradicts_answer']}, "
          f"contradicts the truth {g['contradicts_truth']}, unparsable {g['unparsable']}")
    for r in rows[:3]:
        print(f"    {r['id']} truth {r['truth']}, label {r['answer_label']}: {r['text'][:300]!r}")
    if rows:
        text_prompt = processor.prompt_ids(prepared[0].subtitle, "reason", REASON_INSTRUCTIONS[0], [])
        n_prompt = len(text_prompt)
        first, tps = plain_llm_speed(model, processor, text_prompt, int(g["median_new_tokens"]) or 1)
        g["plain_llm"] = {"prompt_tokens": n_prompt, "first_token_s": first, "tokens_per_s": tps}
        print(f"(e) median first-token latency {g['median_first_token_s']:.3f} s, "
              f"{g['median_tokens_per_s']:.1f} tokens/s (median {g['median_new_tokens']} tokens); "
              f"the base LLM alone (LoRA off), same run, the first item's {n_prompt}-token prompt without "
              f"its media tokens: first token {first:.3f} s, {tps:.1f} tokens/s", flush=True)
    return g


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="compact", help="a trained emollm folder or 'compact'")
    ap.add_argument("--data", type=Path, required=True, help="the shared data folder (../shared/data)")
    ap.add_argument("--out", type=Path, default=Path("reports/emollm_compact"),
                    help="journals and benchmark.json go here (default reports/emollm_compact)")
    ap.add_argument("--per-corpus", type=int, default=300, help="FER+ and MELD items (a seeded sample)")
    ap.add_argument("--ravdess", type=int, help="RAVDESS items (a seeded sample; default: all 240)")
    ap.add_argument("--corpora", default="ravdess,ferplus,meld")
    ap.add_argument("--reason-n", type=int, default=15, help="[reason] answers per corpus")
    ap.add_argument("--max-new-tokens", type=int, default=200, help="[reason] answer length limit")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--recheck", type=int, default=10,
                    help="items per corpus whose label is recomputed from the prepared inputs "
                    "(it must equal the journal's)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--voice-features", type=Path, help="the voice model's training-feature cache")
    ap.add_argument("--parts", default="shuffle,reasoning",
                    help="beyond (a)/(b): shuffle (c), reasoning (d, e); comma-separated, or 'none'")
    ap.add_argument("--json", type=Path, help="where the numbers go (default OUT/benchmark.json)")
    args = ap.parse_args(argv)
    args.parts = {x.strip() for x in args.parts.split(",")} - {"none", ""}
    if args.parts - {"shuffle", "reasoning"}:
        ap.error(f"unknown --parts {', '.join(sorted(args.parts - {'shuffle', 'reasoning'}))}")
    target = args.json or args.out / "benchmark.json"
    import torch

    from emoreason.emollm.infer import load_for_inference

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model, processor = load_for_inference(args.model)
    out: dict = {"command": " ".join(sys.argv), "model": args.model, "threads": args.threads,
                 "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                 "load_s": time.perf_counter() - t0}
    print(f"model {args.model}: loaded in {out['load_s']:.2f} s (torch threads {args.threads})")
    for name in args.corpora.split(","):
        run_corpus(name.strip(), args, model, processor, out)
        atomic_write_text(target, json.dumps(out, indent=1, default=str) + "\n")
    out["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    atomic_write_text(target, json.dumps(out, indent=1, default=str) + "\n")
    print(f"\nwrote {target}")
    return 0


if __name__ == "__main__":
    from emoreason.errors import EmoreasonError

    try:
        sys.exit(main())
    except EmoreasonError as exc:  # a wrong --data, --model ...: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
