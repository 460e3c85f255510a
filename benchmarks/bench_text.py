"""The words path before and after a change, in one run (issue 21).

``before`` is the code of a base commit (default: the parent of the commit that added
``tests/perception/text/test_key_words.py``, i.e. the exact key-word occlusion through all four networks;
``--before`` the parent of the commit adding ``perception/text/numpy_bert.py`` gives the torch path),
exported into a temporary folder (``code_at.py``) and run from there; ``after`` is this checkout's
``src``. Each side runs in its own subprocess (the same Python). Printed:

- start-up: ``emoreason analyze --text "I can't believe you did that"`` from process start to exit, in a
  fresh process (best and median of ``--repeats``), and whether torch was imported;
- sentences/s on the first ``--n`` MELD dev utterances (with their dialogue context): ``analyze`` one at a
  time and ``analyze_texts`` over the list (each side that has it), with the CPU seconds (user + system) of
  the worker process in the same span beside the wall seconds and the share of the list's time spent in the
  key-word search; the key words chosen and their agreement (same word, or both none) between the sides;
  the same for ``--n`` utterances without context; the ``--n`` utterances as one transcript (each segment
  reads the ones before it; one key-word search, for the quoted segment) through ``TextAnalyzer.analyze``.
  Both models (the English ensemble and the multilingual
  model, which the text language ID picks for a few short MELD lines) are loaded before timing;
- ``--dev`` sets (MELD, EmoryNLP), all dev utterances: ``analyze(text=, context=)`` one at a time on the
  before side when it has no ``analyze_texts`` (its text
  model's outputs scored in batches beforehand, see :func:`_prescore`), ``analyze_texts`` on the after
  side: accuracy, UAR, macro-F1 and weighted F1, how many labels differ, the largest score difference and
  the key words' agreement (same word or both none; and the same word where the before side found one);
- ``--ort``: onnxruntime beside numpy on the same MiniLM batches (session creation and forward time);
  needs torch to export the graph.

    python benchmarks/bench_text.py --data ../shared/data [--n 100] [--repeats 3] [--ort] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from code_at import code_at  # this folder is on sys.path when the script runs

ROOT = Path(__file__).resolve().parents[1]
SENTENCE = "I can't believe you did that"


def base_commit() -> str:
    out = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--",
                          "tests/perception/text/test_key_words.py"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    if not out:
        raise SystemExit("cannot find the commit that added test_key_words.py; give --before REV")
    return out[-1] + "^"


def env_for(src: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(src), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")


def startup(src: Path, repeats: int) -> dict:
    times, torch_loaded, answer = [], None, ""
    code = (f"import sys, runpy; sys.argv = ['emoreason', 'analyze', '--text', {SENTENCE!r}]\n"
            "try:\n    runpy.run_module('emoreason.cli.main', run_name='__main__')\n"
            "finally:\n    print('TORCH', 'torch' in sys.modules, file=sys.stderr)\n")
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", code], env=env_for(src), capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if r.returncode != 0:
            raise SystemExit(f"start-up run failed: {r.stderr[-2000:]}")
        torch_loaded = "TORCH True" in r.stderr
        answer = r.stdout.splitlines()[0] if r.stdout else ""
    return {"best_s": min(times), "median_s": statistics.median(times), "torch_imported": torch_loaded,
            "answer": answer}


def run_worker(src: Path, task: dict) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(task, f)
    try:
        r = subprocess.run([sys.executable, __file__, "--worker", f.name], env=env_for(src),
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"worker failed: {r.stderr[-3000:]}")
        return json.loads(r.stdout.splitlines()[-1])
    finally:
        os.unlink(f.name)


def worker(task_path: str) -> None:
    """Runs inside a side's subprocess (its ``emoreason`` on PYTHONPATH)."""
    import emoreason

    task = json.loads(Path(task_path).read_text())
    texts, contexts = task["texts"], task["contexts"]
    out: dict = {}
    emoreason.analyze(text="warm up")  # models loaded before timing: the English ensemble,
    emoreason.analyze(text="Je suis très content de te voir aujourd'hui, mon ami.")  # the multilingual one

    def key_word(r):
        return next((re.match(r"the word '(.*)' carries", e.description).group(1)
                     for e in r.evidence if e.name == "key word"), None)

    def row(r):
        return {"label": r.label, "scores": r.scores, "key": key_word(r)}

    if task["mode"] == "speed":
        from emoreason.perception.text.analyzer import TextAnalyzer

        spent, original = [0.0], TextAnalyzer._key_words

        def timed(self, *a, **k):  # the key-word search's share of the time
            t = time.perf_counter()
            try:
                return original(self, *a, **k)
            finally:
                spent[0] += time.perf_counter() - t

        TextAnalyzer._key_words = timed
        n = len(texts)
        t0, c0 = time.perf_counter(), cpu_seconds()
        single = [emoreason.analyze(text=t, context=c) for t, c in zip(texts, contexts)]
        took = time.perf_counter() - t0
        out["single_per_s"], out["single_key_share"] = n / took, spent[0] / took
        out["single_wall_s"], out["single_cpu_s"] = took, cpu_seconds() - c0
        out["single"] = [row(r) for r in single]
        if hasattr(emoreason, "analyze_texts"):
            spent[0] = 0.0
            t0, c0 = time.perf_counter(), cpu_seconds()
            batched = emoreason.analyze_texts(texts, contexts=contexts)
            took = time.perf_counter() - t0
            out["batched_per_s"], out["batched_key_share"] = n / took, spent[0] / took
            out["batched_wall_s"], out["batched_cpu_s"] = took, cpu_seconds() - c0
            out["batched"] = [row(r) for r in batched]
        if task.get("transcript"):  # the same utterances as one transcript through the text stage
            from emoreason.perception.text.transcript import Transcript, TranscriptSegment
            from emoreason.pipeline.perceive import default_pipeline

            segments = [TranscriptSegment(2.0 * i, 2.0 * i + 2.0, t) for i, t in enumerate(texts)]
            transcript = Transcript(segments, source="user")
            spent[0] = 0.0
            t0, c0 = time.perf_counter(), cpu_seconds()
            got = default_pipeline().text_analyzer().analyze(transcript)
            took = time.perf_counter() - t0
            out["transcript_per_s"], out["transcript_key_share"] = n / took, spent[0] / took
            out["transcript_wall_s"], out["transcript_cpu_s"] = took, cpu_seconds() - c0
            out["transcript"] = {"scores": got.scores, "timeline": [t.scores for t in got.timeline],
                                 "evidence": [e.description for e in got.evidence]}
    else:  # all MELD dev: labels, scores and key words
        t0, c0 = time.perf_counter(), cpu_seconds()
        if hasattr(emoreason, "analyze_texts"):
            results = emoreason.analyze_texts(texts, contexts=contexts)
            out["how"] = "analyze_texts"
        else:
            _prescore(texts, contexts)
            results = [emoreason.analyze(text=t, context=c) for t, c in zip(texts, contexts)]
            out["how"] = "analyze one at a time, the text model's outputs scored beforehand in batches"
        out["seconds"], out["cpu_seconds"] = time.perf_counter() - t0, cpu_seconds() - c0
        out["rows"] = [row(r) for r in results]
    out["torch_imported"] = "torch" in sys.modules
    print(json.dumps(out))


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (all its threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _prescore(texts: list[str], contexts: list[list[str]]) -> None:
    """Before side: every input that ``analyze`` will give ``TextAnalyzer.score_texts`` (each utterance with
    its history, and its key-word variants read alone) scored in one batched call up front; ``analyze`` then
    reads them from a cache, so the torch path finishes in minutes on a busy machine. Batching changes the
    padding, so a score may move in the last float32 digit."""
    import numpy as np

    from emoreason.perception.text.analyzer import MAX_HISTORY, TextAnalyzer
    from emoreason.perception.text.sentence_encoder import normalise_text
    from emoreason.pipeline.perceive import default_pipeline

    original, cache = TextAnalyzer.score_texts, {}

    def cached(self, batch, histories=None):
        keys = [(t, tuple(h)) for t, h in zip(batch, histories or [[] for _ in batch])]
        missing = list(dict.fromkeys(k for k in keys if k not in cache))
        if missing:
            cache.update(zip(missing, original(self, [k[0] for k in missing], [list(k[1]) for k in missing])))
        return np.stack([cache[k] for k in keys])

    TextAnalyzer.score_texts = cached
    wanted = []
    for text, ctx in zip(texts, contexts):
        t = normalise_text(text)
        before = [normalise_text(c) for c in ctx if normalise_text(c)]
        wanted.append((t, tuple(before[-MAX_HISTORY:])))
        words = t.split()
        wanted += [(v, ()) for v in [t] + [" ".join(words[:k] + words[k + 1:]) for k in range(len(words))]]
    cached(default_pipeline().text_analyzer(), [k[0] for k in wanted], [list(k[1]) for k in wanted])


def ort_vs_numpy(texts: list[str], contexts: list[list[str]]) -> dict:
    """onnxruntime (graph exported from transformers' BertModel) beside NumpyBert on the LoRA members' real
    batches (utterance + context, 32 per batch)."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from transformers import AutoModel

    from emoreason.perception.text.lora import format_context
    from emoreason.perception.text.numpy_bert import NumpyBert, encode_batch, tokenizer
    from emoreason.perception.text.sentence_encoder import default_minilm_dir

    d = default_minilm_dir()
    model = AutoModel.from_pretrained(str(d), local_files_only=True).eval()

    class Last(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = model

        def forward(self, i, a, t):
            return self.m(input_ids=i, attention_mask=a, token_type_ids=t).last_hidden_state

    tok = tokenizer(d, 128)
    ctx = [format_context(h, 3) for h in contexts]
    order = sorted(range(len(texts)), key=lambda k: len(texts[k]) + len(ctx[k]))
    batches = [encode_batch(tok, [texts[k] for k in order[i:i + 32]], [ctx[k] for k in order[i:i + 32]])
               for i in range(0, len(order), 32)]
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "minilm.onnx")
        ids = torch.ones((2, 8), dtype=torch.long)
        torch.onnx.export(Last(), (ids, ids, ids * 0), path, input_names=["i", "a", "t"], output_names=["h"],
                          dynamic_axes={k: {0: "b", 1: "l"} for k in "iat"}, opset_version=17, dynamo=False)
        so = ort.SessionOptions()
        so.intra_op_num_threads = os.cpu_count() or 1
        t0 = time.perf_counter()
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        created = time.perf_counter() - t0
    t0 = time.perf_counter()
    nb = NumpyBert.load(d)
    loaded = time.perf_counter() - t0
    res = {"ort_session_s": created, "numpy_load_s": loaded}
    for name, fn in (("numpy", lambda b: nb.hidden_states(*b)[-1]),
                     ("ort", lambda b: sess.run(None, dict(zip("iat", b)))[0])):
        fn(batches[0])
        t0 = time.perf_counter()
        outs = [fn(b) for b in batches]
        res[f"{name}_batched_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for b in batches[:5]:
            for r in range(b[0].shape[0]):
                fn(tuple(x[r:r + 1, :int(b[1][r].sum())] for x in b))
        res[f"{name}_one_by_one_s ({sum(b[0].shape[0] for b in batches[:5])} sentences)"] = \
            time.perf_counter() - t0
        res[f"_{name}"] = outs
    res["max_abs_diff"] = float(max(np.abs((a - b)[m[1] > 0]).max()
                                    for a, b, m in zip(res.pop("_numpy"), res.pop("_ort"), batches)))
    return res


def metrics(gold: list[str], pred: list[str]) -> dict:
    from emoreason.eval.metrics import classification_summary

    return {k: round(v, 4) for k, v in classification_summary(gold, pred).items()}


def dev_comparison(dev_set: str, data: Path, sides: dict, report: dict) -> None:
    """All of ``dev_set``'s dev utterances (with their dialogue context) through each side: accuracy and
    friends per side, then how many labels differ, the largest score difference and the key words'
    agreement between the sides."""
    from emoreason.eval.datasets.emorynlp import EmoryNlpAdapter
    from emoreason.eval.datasets.meld import MeldAdapter

    adapter = MeldAdapter() if dev_set == "meld" else EmoryNlpAdapter()
    items = adapter.load(data / dev_set, "dev").items
    gold = [i.label for i in items]
    task = {"mode": "dev", "texts": [i.text for i in items],
            "contexts": [list(i.meta.get("context") or []) for i in items]}
    dev = {side: run_worker(src, task) for side, src in sides.items()}
    name = {"meld": "MELD", "emorynlp": "EmoryNLP"}[dev_set]
    for side in sides:
        pred = [r["label"] for r in dev[side]["rows"]]
        report[f"{dev_set}_dev_{side}"] = m = dict(metrics(gold, pred), seconds=dev[side]["seconds"],
                                                   how=dev[side]["how"], cpu_seconds=dev[side]["cpu_seconds"])
        print(f"{name} dev {side:6s} ({len(pred)} utt., {dev[side]['how']}, {m['seconds']:.0f} s wall, "
              f"{m['cpu_seconds']:.0f} CPU-s): acc {m['accuracy']:.3f}  UAR {m['uar']:.3f}  "
              f"macro-F1 {m['macro_f1']:.3f}  wF1 {m['weighted_f1']:.3f}", flush=True)
    rows = list(zip(dev["before"]["rows"], dev["after"]["rows"]))
    differ = sum(x["label"] != y["label"] for x, y in rows)
    diff = max(abs(x["scores"][k] - y["scores"][k]) for x, y in rows for k in x["scores"])
    same = sum(x["key"] == y["key"] for x, y in rows)
    found = [sum(r[k]["key"] is not None for r in rows) for k in (0, 1)]
    top = sum(x["key"] == y["key"] for x, y in rows if x["key"] is not None)
    report[f"{dev_set}_dev_labels_differ"], report[f"{dev_set}_dev_max_score_diff"] = differ, diff
    report[f"{dev_set}_dev_key_word_agreement"] = same / len(rows)
    report[f"{dev_set}_dev_key_words_found"] = found
    report[f"{dev_set}_dev_key_word_same_where_before_found"] = top / max(1, found[0])
    print(f"{name} dev: labels differ in {differ}/{len(rows)}; max |score diff| {diff:.2e}; key words same "
          f"(word or both none) in {same}/{len(rows)} ({same / len(rows):.1%}); same word in "
          f"{top}/{found[0]} where before found one ({top / max(1, found[0]):.1%}); found before "
          f"{found[0]}, after {found[1]}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--before", default=None, help="git revision of the baseline (default: see docstring)")
    ap.add_argument("--n", type=int, default=100, help="MELD dev utterances for the speed and key-word runs")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-dev", action="store_true", help="skip the all-of-dev comparisons")
    ap.add_argument("--dev", nargs="+", default=["meld"], choices=("meld", "emorynlp"),
                    help="dev sets compared utterance by utterance (all of each)")
    ap.add_argument("--dev-only", action="store_true", help="only the dev comparisons (nothing timed)")
    ap.add_argument("--ort", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker)

    sys.path.insert(0, str(ROOT / "src"))
    from emoreason.eval.datasets.meld import MeldAdapter

    items = MeldAdapter().load(Path(args.data) / "meld", "dev").items
    texts, contexts = [i.text for i in items], [list(i.meta.get("context") or []) for i in items]
    rev = args.before or base_commit()
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "before": rev,
                    "cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg()}
    print(f"{report['date']}  before = {rev}  after = {ROOT / 'src'}  cpus {os.cpu_count()}  "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    with code_at(rev) as before_src:
        sides = {"before": before_src, "after": ROOT / "src"}
        for side, src in ({} if args.dev_only else sides).items():
            report[f"startup_{side}"] = s = startup(src, args.repeats)
            print(f"start-up {side:6s}: best {s['best_s']:.2f} s, median {s['median_s']:.2f} s "
                  f"(torch imported: {s['torch_imported']}) -> {s['answer']}", flush=True)
        for dev_set in ([] if args.skip_dev else args.dev):
            dev_comparison(dev_set, Path(args.data), sides, report)
        if args.dev_only:
            sides = {}
        for name, ctx in (("with context", contexts[:args.n]), ("alone", [[] for _ in texts[:args.n]])):
            if not sides:
                break
            task = {"mode": "speed", "texts": texts[:args.n], "contexts": ctx,
                    "transcript": name == "with context"}
            speed = {side: run_worker(src, task) for side, src in sides.items()}
            b, a = speed["before"], speed["after"]
            same = sum(x["key"] == y["key"] for x, y in zip(b["single"], a["batched"]))
            alike = all(x["label"] == y["label"] and x["key"] == y["key"]
                        for x, y in zip(a["single"], a["batched"]))
            report[f"speed {name}"] = {"n": args.n, "key_word_agreement": same / args.n,
                                       "after_batched_alike": alike}
            report[f"speed {name}"].update({f"{side}_{k}": v for side, r in speed.items()
                                            for k, v in r.items() if k.endswith(("_per_s", "_share", "_s"))})

            def rate(r, how):
                if f"{how}_per_s" not in r:
                    return "-"
                return (f"{r[how + '_per_s']:.2f} ({r[how + '_wall_s']:.1f} s wall, "
                        f"{r[how + '_cpu_s']:.1f} CPU-s; key words {r[how + '_key_share']:.0%} of the time)")

            print(f"sentences/s, {args.n} MELD dev utterances {name}: one at a time: before "
                  f"{rate(b, 'single')}, after {rate(a, 'single')}; analyze_texts: before "
                  f"{rate(b, 'batched')}, after {rate(a, 'batched')} (after: labels and key words as one at "
                  f"a time: {alike}); key words same as before in {same}/{args.n}", flush=True)
            if "transcript" in a:
                tb, ta = b["transcript"], a["transcript"]
                diff = max(abs(x[k] - y[k]) for x, y in zip(tb["timeline"] + [tb["scores"]],
                                                            ta["timeline"] + [ta["scores"]]) for k in x)
                same_evidence = tb["evidence"] == ta["evidence"]
                report["speed transcript"] = {"max_score_diff": diff, "same_evidence": same_evidence}
                print(f"sentences/s, the {args.n} utterances as one transcript (TextAnalyzer.analyze): "
                      f"before "
                      f"{rate(b, 'transcript')}, after {rate(a, 'transcript')}; largest score difference "
                      f"{diff:.1e}, same evidence: {same_evidence}", flush=True)
    report["load_avg_at_end"] = os.getloadavg()
    print(f"load at end {os.getloadavg()[0]:.1f} (1 min), {os.getloadavg()[1]:.1f} (5 min)", flush=True)
    if args.ort:
        report["ort"] = o = ort_vs_numpy(texts[:args.n], contexts[:args.n])
        print("onnxruntime vs numpy (MiniLM, LoRA members' batches): "
              + ", ".join(f"{k} {v:.3g}" for k, v in o.items()), flush=True)
    if args.json:
        from emoreason.io.atomic import atomic_write_text

        atomic_write_text(Path(args.json), json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
