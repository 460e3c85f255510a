"""Train and score the text language-ID model (``perception.text.language_id``) on XED's lines.

Lines: every well-formed line of XED's annotated, neutral and projection files (emotion labels are not
needed, so lines whose only labels are trust or anticipation count too), with the language of its file
(``br`` -> pt, ``cn``/``tw`` -> zh) and the grouped split of :mod:`emoreason.eval.datasets.text_corpora`.
Languages with at least ``--min-lines`` training lines are modelled.

Fit (``train`` lines): per language, the counts of character n-grams of the ``--orders`` (default 1-4)
with one ``<SCRIPT>`` token per letter (``language_id.char_ngrams``); the model keeps the union of every
language's ``--top`` most frequent n-grams and, for each of them, the log-probability
``log((count + 0.5) / (total + 0.5 * V))`` in each language that saw it at least twice (``V``: the union's
size); the rest get the language's floor ``log(0.5 / (total + 0.5 * V))``. The softmax temperature is the
one of a grid that minimises the negative log-likelihood of the ``dev`` lines.

Scored on the ``dev`` lines (the accuracies that chose ``--orders`` and ``--top``) and on the ``test``
lines: accuracy per language and by length (characters), the most frequent confusions, and out of domain
on EmoEvent's dev tweets (en, es), CPED's validation lines (zh) and MELD's dev utterances (en) where those
folders exist. Writes the asset and a JSON of the scores::

    python -m emoreason.training.text.language_id --data ../shared/data \\
        --out src/emoreason/assets/text_language_id --scores docs/model_cards/text_language_id.json
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from emoreason.errors import ConfigError
from emoreason.eval.datasets.text_corpora import (
    hash_split,
    iter_xed_lines,
    read_cped,
    read_emoevent,
    read_meld,
    xed_files,
    xed_group,
)
from emoreason.io.atomic import atomic_write_text
from emoreason.perception.text.language_id import ASSET, LanguageId, char_ngrams

ORDERS = (1, 2, 3, 4)
LENGTH_BINS = ((0, 20), (21, 40), (41, 10**9))
#: Close languages a short line rarely separates: also scored as one answer (``accuracy_close_merged``).
CLOSE_GROUPS = (("bs", "hr", "sr"), ("da", "no", "sv"), ("cs", "sk"), ("id", "ms"))
TEMPERATURES = tuple(float(t) for t in (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50))


def xed_lines(root: Path) -> list[tuple[str, str, str]]:
    """``(text, language, split)`` for every well-formed XED line under ``root``."""
    out = []
    for path, lang, kind in xed_files(root):
        for i, text, labels, film in iter_xed_lines(path, kind):
            if labels is not None and text.strip():
                group = xed_group(path, lang, kind, i, text, film)
                out.append((" ".join(text.split()), lang, hash_split("xed", group)))
    return out


def fit(lines: list[tuple[str, str]], top: int, min_count: int = 2, orders: tuple[int, ...] = ORDERS) -> dict:
    """The model spec (see the module docstring; temperature 1 until :func:`fit_temperature`)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for text, lang in lines:
        counts[lang].update(char_ngrams(text, orders))
    languages = sorted(counts)
    union = sorted({g for lang in languages for g, _ in counts[lang].most_common(top)})
    v = len(union)
    totals = {lang: sum(counts[lang].values()) for lang in languages}
    ngrams = {}
    for g in union:
        known = {lang: round(math.log((counts[lang][g] + 0.5) / (totals[lang] + 0.5 * v)), 2)
                 for lang in languages if counts[lang][g] >= min_count}
        ngrams[g] = known
    floor = {lang: round(math.log(0.5 / (totals[lang] + 0.5 * v)), 2) for lang in languages}
    return {"format": "emoreason-language-id/1", "languages": languages, "orders": list(orders),
            "temperature": 1.0, "floor": floor, "ngrams": ngrams}


def log_score_matrix(model: LanguageId, texts: list[str]) -> np.ndarray:
    """Rows of log scores (zeros for a text with no known n-gram: a uniform answer)."""
    zero = np.zeros(len(model.languages))
    rows = [model.log_scores(t) for t in texts]
    return np.stack([zero if r is None else r for r in rows]) if rows else np.zeros((0, len(zero)))


def fit_temperature(model: LanguageId, texts: list[str], langs: list[str]
                    ) -> tuple[float, dict[float, float]]:
    """The grid temperature with the lowest mean negative log-likelihood of the true languages."""
    scores = log_score_matrix(model, texts)
    col = {lang: j for j, lang in enumerate(model.languages)}
    y = np.array([col[lang] for lang in langs])
    nll = {}
    for t in TEMPERATURES:
        z = scores / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll[t] = float(-logp[np.arange(len(y)), y].mean())
    best = min(nll, key=lambda t: nll[t])
    return best, nll


def score(model: LanguageId, texts: list[str], langs: list[str]) -> dict:
    """Accuracy overall, per language, by length; the top confusions; mean probability of the answer."""
    pred = [model.identify(t) for t in texts]
    ok = [p[0] == g for p, g in zip(pred, langs)]
    per_lang: dict[str, list[bool]] = defaultdict(list)
    for g, o in zip(langs, ok):
        per_lang[g].append(o)
    by_len = {}
    for lo, hi in LENGTH_BINS:
        sel = [o for t, o in zip(texts, ok) if lo <= len(t) <= hi]
        name = f"{lo}-{hi if hi < 10**9 else ''}"
        by_len[name] = {"n": len(sel), "accuracy": float(np.mean(sel)) if sel else None}
    merge = {lang: "/".join(g) for g in CLOSE_GROUPS for lang in g}
    ok_merged = [merge.get(p[0], p[0]) == merge.get(g, g) for p, g in zip(pred, langs)]
    confusions = Counter((g, p[0]) for p, g in zip(pred, langs) if p[0] != g)
    return {
        "n": len(texts), "accuracy": float(np.mean(ok)) if ok else None,
        "accuracy_close_merged": float(np.mean(ok_merged)) if ok else None,
        "mean_probability": float(np.mean([p[1] for p in pred])) if pred else None,
        "per_language": {g: {"n": len(v), "accuracy": float(np.mean(v))}
                         for g, v in sorted(per_lang.items())},
        "by_length_chars": by_len,
        "top_confusions": [{"true": g, "predicted": p, "n": n} for (g, p), n in confusions.most_common(15)],
    }


def out_of_domain(data: Path, model: LanguageId) -> dict:
    """Accuracy on the other text corpora's held-out rows, where the folders exist."""
    sets = {}
    if (data / "emoevent").is_dir():
        rows = read_emoevent(data / "emoevent", scheme="official", files=("dev",)).rows
        sets["emoevent dev (tweets)"] = rows
    if (data / "cped" / "valid_split.csv").is_file():
        sets["cped valid"] = read_cped(data / "cped").rows
    if (data / "meld").is_dir():
        sets["meld dev"] = [r for r in read_meld(data / "meld").rows if r.split == "dev"]
    return {name: score(model, [r.text for r in rows], [r.language for r in rows])
            for name, rows in sets.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="the shared data folder (holds xed/)")
    p.add_argument("--out", type=Path, required=True, help=f"folder for {ASSET[1]}")
    p.add_argument("--scores", type=Path, help="write the held-out scores as JSON here")
    p.add_argument("--top", type=int, default=1500, help="most frequent n-grams kept per language")
    p.add_argument("--min-lines", type=int, default=300, help="fewest training lines for a language")
    p.add_argument("--orders", default=",".join(map(str, ORDERS)), help="n-gram orders (default 1,2,3,4)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    lines = xed_lines(args.data / "xed")
    n_train = Counter(lang for _, lang, split in lines if split == "train")
    keep = {lang for lang, n in n_train.items() if n >= args.min_lines}
    if not keep:
        raise ConfigError(f"no language has {args.min_lines} training lines under {args.data / 'xed'}")
    dropped = sorted(set(n_train) - keep)
    by_split = {s: [(t, g) for t, g, sp in lines if sp == s and g in keep] for s in ("train", "dev", "test")}
    spec = fit(by_split["train"], args.top, orders=tuple(int(n) for n in args.orders.split(",")))
    model = LanguageId(spec)
    dev_texts, dev_langs = zip(*by_split["dev"])
    spec["temperature"], nll = fit_temperature(model, list(dev_texts), list(dev_langs))
    model = LanguageId(spec)
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / ASSET[1], json.dumps(spec, ensure_ascii=False, separators=(",", ":")))
    test_texts, test_langs = zip(*by_split["test"])
    result = {
        "languages": spec["languages"], "not_modelled (too few lines)": dropped,
        "n_ngrams": len(spec["ngrams"]), "asset_bytes": (args.out / ASSET[1]).stat().st_size,
        "train_lines": {g: n_train[g] for g in sorted(keep)}, "temperature": spec["temperature"],
        "dev_nll_by_temperature": nll,
        "xed_dev": {k: v for k, v in score(model, list(dev_texts), list(dev_langs)).items()
                    if k in ("n", "accuracy", "accuracy_close_merged", "by_length_chars")},
        "xed_test": score(model, list(test_texts), list(test_langs)),
        "out_of_domain": out_of_domain(args.data, model), "seconds": round(time.perf_counter() - t0, 1),
    }
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if args.scores:
        atomic_write_text(args.scores, text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
