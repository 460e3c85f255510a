"""Every one-word-out variant of each key-word request scored by the ranking network and by the ensemble,
cached for :mod:`key_word_rules` (issue 21: choose the fast search's rules by simulation, not guesses).

The requests are the ones ``TextAnalyzer.analyze_many`` makes for a dev set's utterances (with their
dialogue context): ``(sentence, label index)`` of each utterance. Per request the cache holds, for every
word ``k``: the first LoRA member's scores of the sentence without word ``k`` read alone (the fast search's
ranking), the ensemble's scores of it, the ensemble's and the first member's scores of the sentence read
alone, and the first member's scores of each word read alone; the key word the analyzer chose, and whether
the utterance had context (the ensemble's score of the sentence alone is then computed in the search).

    python benchmarks/key_word_cache.py --data ../shared/data --set meld --out /tmp/kw_meld.npz
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--set", choices=("meld", "emorynlp"), default="meld")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    from emoreason.eval.datasets.emorynlp import EmoryNlpAdapter
    from emoreason.eval.datasets.meld import MeldAdapter
    from emoreason.perception.text.analyzer import TextAnalyzer
    from emoreason.perception.text.key_words import MAX_OCCLUSION_WORDS

    adapter = MeldAdapter() if args.set == "meld" else EmoryNlpAdapter()
    items = adapter.load(Path(args.data) / args.set, "dev").items[:args.n]
    analyzer = TextAnalyzer()
    captured: list = []
    original = analyzer._key_words

    def capture(requests, method=None, alone=None, encoded=None):
        got = original(requests, method, alone, encoded)
        captured.append((list(requests), got, [a is None for a in alone]))
        return got

    analyzer._key_words = capture
    t0 = time.perf_counter()
    outs = analyzer.analyze_many([i.text for i in items], [list(i.meta.get("context") or []) for i in items])
    requests, chosen, contextual = captured[0] if captured else ([], [], [])
    print(f"{len(items)} utterances, {len(requests)} key-word requests ({time.perf_counter() - t0:.0f} s)",
          flush=True)
    model = analyzer.model
    searched = [(t, lab) for t, lab in requests if 2 <= len(t.split()) <= MAX_OCCLUSION_WORDS]
    variants, owner = [], []
    for r, (t, _) in enumerate(searched):
        w = t.split()
        variants += [" ".join(w[:k] + w[k + 1:]) for k in range(len(w))]
        owner += [r] * len(w)
    sentences = [t for t, _ in searched]
    words = sorted({w for t in sentences for w in t.split()})
    t0 = time.perf_counter()
    first = model.key_word_proba(variants + sentences)
    first_words = model.key_word_proba(words)
    print(f"first member: {len(variants)} variants, {len(sentences)} sentences, {len(words)} words "
          f"({time.perf_counter() - t0:.0f} s)", flush=True)
    t0 = time.perf_counter()
    enc: dict = {}
    ens = model.predict_proba(variants + sentences, [[] for _ in range(len(variants) + len(sentences))],
                              first=first, encoded=enc)
    print(f"ensemble ({time.perf_counter() - t0:.0f} s)", flush=True)
    nv = len(variants)
    word_index = {w: i for i, w in enumerate(words)}
    np.savez_compressed(
        args.out, first_var=first[:nv], ens_var=ens[:nv], first_alone=first[nv:], ens_alone=ens[nv:],
        owner=np.asarray(owner), first_words=first_words,
        word_ids=np.asarray([word_index[w] for t in sentences for w in t.split()]),
        meta=json.dumps({"set": args.set, "sentences": sentences, "labels": [lab for _, lab in searched],
                         "chosen": [c if c is None else [c[0], c[1], c[2]]
                                    for (t, _), c in zip(requests, chosen)
                                    if 2 <= len(t.split()) <= MAX_OCCLUSION_WORDS],
                         "context": [c for (t, _), c in zip(requests, contextual)
                                     if 2 <= len(t.split()) <= MAX_OCCLUSION_WORDS],
                         "utterances": len(items), "requests": len(requests),
                         "labels_out": [max(o.scores, key=o.scores.get) if o.usable else None
                                        for o in outs]}))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
