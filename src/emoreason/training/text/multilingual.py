"""Train the multilingual words model: a head over a multilingual sentence encoder's embedding, on XED
(annotated en/fi and its projections to ~30 languages), EmoEvent (en, es), CPED (zh) and MELD (en).

Data (:mod:`emoreason.training.text.corpora`): single-label rows only (a row with exactly one canonical
label). Fit on each corpus' ``train`` split, at most ``--per-group`` rows per (corpus, language), drawn
with a fixed seed; choose the settings and fit the temperature on the ``dev`` splits (MELD has no split
of ours: 10 % of its train dialogues, by hash, stand in for dev, and its dev file is its held-out test);
score on the ``test`` splits (:mod:`emoreason.training.text.multilingual_eval`). Rows are weighted so
that every language weighs the same in the loss (English, the largest, does not dominate), and within a
language by class: ``(1 / class count) ** class_power``.

Heads tried (``--heads``): multinomial logistic regression (scikit-learn) at several strengths, and a
one-hidden-layer ReLU network (torch, mini-batch AdamW with early stopping on dev). The one with the best
mean per-language weighted F1 on dev is kept; its softmax temperature is fitted on dev by negative
log-likelihood. Shipped as safetensors + JSON (:class:`MultilingualHead`), run in numpy.

scikit-learn and torch are imported inside the functions that fit (training only).

    python -m emoreason.training.text.multilingual --data ../shared/data --encoder use \\
        --cache /tmp/cache-text-ml --out src/emoreason/assets/text_multilingual
"""

from __future__ import annotations

import argparse
import json
import os
import random
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from emoreason.errors import EmoreasonError
from emoreason.eval.datasets.text_corpora import TextRow, hash_split
from emoreason.io.atomic import atomic_write_text
from emoreason.labels import CANONICAL
from emoreason.perception.text.multilingual import MultilingualHead, default_multilingual_dir
from emoreason.perception.text.multilingual_encoder import ENCODERS, MultilingualEncoder
from emoreason.training.text.corpora import CORPORA, load_rows
from emoreason.training.text.embed_cache import embed_cached
from emoreason.training.text.multilingual_eval import per_language, summary_line

SEED = 0
MIN_LANGUAGE_ROWS = 100  # a language with fewer rows weighs by its rows (each as one of a 100-row language)


def split_rows(data: Path, per_group: int, dev_per_group: int, test_per_group: int | None = None,
               languages: set[str] | None = None, seed: int = SEED) -> dict[str, list[TextRow]]:
    """``{"train", "dev", "test"}`` single-label rows (see the module docstring for the rules); ``languages``
    keeps only those; ``test_per_group`` caps the test rows too (for a quick comparison of encoders)."""
    loaded = load_rows(data, CORPORA)
    out: dict[str, list[TextRow]] = {"train": [], "dev": [], "test": []}
    for corpus in loaded.values():
        for row in corpus.rows:
            if row.single is None or (languages is not None and row.language not in languages):
                continue
            split = row.split
            if row.corpus == "meld":  # its dev file is the held-out test; dev is 10 % of train dialogues
                split = "test" if row.split == "dev" else (
                    "dev" if hash_split("meld-dev", row.group) == "dev" else "train")
            out[split].append(row)
    rng = random.Random(seed)
    out["train"] = _cap(out["train"], per_group, rng)
    out["dev"] = _cap(out["dev"], dev_per_group, rng)
    if test_per_group is not None:
        out["test"] = _cap(out["test"], test_per_group, rng)
    return out


def _cap(rows: list[TextRow], n: int, rng: random.Random) -> list[TextRow]:
    groups: dict[tuple[str, str], list[TextRow]] = defaultdict(list)
    for r in rows:
        groups[(r.corpus, r.language)].append(r)
    kept = []
    for key in sorted(groups):
        g = groups[key]
        kept += g if len(g) <= n else rng.sample(g, n)
    return kept


def row_weights(rows: list[TextRow], class_power: float) -> np.ndarray:
    """Every language sums to the same weight (one with fewer than :data:`MIN_LANGUAGE_ROWS` rows: that
    weight times its rows / MIN_LANGUAGE_ROWS); within it, classes weigh ``(1/count) ** class_power``."""
    by_lang = Counter(r.language for r in rows)
    by_class = Counter((r.language, r.single) for r in rows)
    w = np.asarray([(1.0 / by_class[(r.language, r.single)]) ** class_power for r in rows])
    for lang in by_lang:
        idx = [i for i, r in enumerate(rows) if r.language == lang]
        share = min(1.0, by_lang[lang] / MIN_LANGUAGE_ROWS)
        w[idx] *= share / w[idx].sum()
    return w * len(rows) / w.sum()


def fit_logreg(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.linear_model import LogisticRegression
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(x, y, sample_weight=w)
    coef, bias = np.zeros((x.shape[1], len(CANONICAL))), np.full(len(CANONICAL), -30.0)
    coef[:, model.classes_] = model.coef_.T
    bias[model.classes_] = model.intercept_
    return [(coef, bias)]


def fit_mlp(x: np.ndarray, y: np.ndarray, w: np.ndarray, xd: np.ndarray, yd: np.ndarray, hidden: int,
            weight_decay: float, epochs: int = 40, patience: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """One hidden ReLU layer, dropout 0.3, AdamW on mini-batches of 256 (weighted cross-entropy); the epoch
    with the lowest dev loss is kept (training stops ``patience`` epochs after it)."""
    import torch
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    net = torch.nn.Sequential(torch.nn.Dropout(0.3), torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(),
                              torch.nn.Dropout(0.3), torch.nn.Linear(hidden, len(CANONICAL)))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=weight_decay)
    xt, yt, wt = (torch.as_tensor(a) for a in (x.astype(np.float32), y, w.astype(np.float32)))
    xdt, ydt = torch.as_tensor(xd.astype(np.float32)), torch.as_tensor(yd)
    gen = torch.Generator().manual_seed(SEED)
    best, best_state, since = np.inf, None, 0
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(len(xt), generator=gen).split(256):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx], reduction="none")
            loss = (loss * wt[idx]).mean()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            dev_loss = float(torch.nn.functional.cross_entropy(net(xdt), ydt))
        if dev_loss < best:
            best, best_state, since = dev_loss, [p.detach().clone() for p in net.parameters()], 0
        else:
            since += 1
            if since >= patience:
                break
    w1, b1, w2, b2 = (p.numpy().astype(np.float64) for p in best_state)
    return [(w1.T, b1), (w2.T, b2)]


def fit_temperature(head: MultilingualHead, emb: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature with the lowest dev negative log-likelihood (grid 0.5 .. 3)."""
    best_t, best = 1.0, np.inf
    for t in np.round(np.arange(0.5, 3.01, 0.05), 2):
        head.temperature = float(t)
        nll = -np.log(np.maximum(head.predict_proba(emb)[np.arange(len(y)), y], 1e-12)).mean()
        if nll < best:
            best_t, best = float(t), nll
    head.temperature = best_t
    return best_t


def candidates(heads: str) -> list[dict]:
    """The settings tried (a small grid: each fit takes minutes on a shared 2-core machine)."""
    out = []
    if "logreg" in heads:
        out += [{"kind": "logreg", "c": c, "class_power": power} for power in (0.0, 0.5) for c in (0.03, 0.3)]
    if "mlp" in heads:
        out += [{"kind": "mlp", "hidden": 256, "weight_decay": 1e-2, "class_power": power}
                for power in (0.0, 0.5)]
    return out


def train(data: Path, encoder_name: str, cache: Path, out: Path | None, per_group: int, dev_per_group: int,
          heads: str, report: Path | None, test_per_group: int | None = None,
          languages: set[str] | None = None) -> dict:
    rows = split_rows(data, per_group, dev_per_group, test_per_group, languages)
    print("rows:", {k: len(v) for k, v in rows.items()}, flush=True)
    encoder = MultilingualEncoder(encoder_name, threads=1)
    emb = {k: embed_cached(encoder, [r.text for r in v], cache) for k, v in rows.items()}
    y = {k: np.asarray([CANONICAL.index(r.single) for r in v]) for k, v in rows.items()}
    mean, scale = emb["train"].mean(0), emb["train"].std(0) + 1e-6
    z = {k: (e - mean) / scale for k, e in emb.items()}
    tried, best = [], None
    for cand in candidates(heads):
        w = row_weights(rows["train"], cand["class_power"])
        if cand["kind"] == "logreg":
            layers = fit_logreg(z["train"], y["train"], w, cand["c"])
        else:
            layers = fit_mlp(z["train"], y["train"], w, z["dev"], y["dev"], cand["hidden"],
                             cand["weight_decay"])
        head = MultilingualHead(encoder_name, mean, scale, layers)
        table = per_language(rows["dev"], head.predict_proba(emb["dev"]))
        score = float(np.mean([t["weighted_f1"] for t in table.values()]))
        tried.append(dict(cand, dev_mean_weighted_f1=round(score, 4)))
        print(f"  {cand}: dev mean weighted F1 {score:.4f}", flush=True)
        if best is None or score > best[0]:
            best = (score, cand, head)
    _, cand, head = best
    temperature = fit_temperature(head, emb["dev"], y["dev"])
    test = per_language(rows["test"], head.predict_proba(emb["test"]), rows["train"])
    facts = {"name": f"emoreason multilingual text head ({encoder_name}, {cand['kind']})",
             "encoder_description": ENCODERS[encoder_name][0], "chosen": cand, "tried": tried,
             "temperature": temperature,
             "training_rows": dict(Counter(f"{r.corpus}:{r.language}" for r in rows["train"])),
             "per_group": per_group, "seed": SEED}
    head.meta = {k: facts[k] for k in ("name", "encoder_description", "chosen", "per_group", "seed")}
    head.meta["training_rows"] = len(rows["train"])
    if out is not None:
        head.save(out)
        print(f"wrote {out}")
    result = dict(facts, test=test)
    for key, t in sorted(test.items()):
        print(summary_line(key, t))
    if report is not None:
        atomic_write_text(report, json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="the shared data folder (xed/, emoevent/ ...)")
    p.add_argument("--encoder", choices=sorted(ENCODERS), default="use")
    p.add_argument("--cache", type=Path, required=True, help="embedding cache folder (outside the repo)")
    p.add_argument("--out", type=Path, default=None, help=f"write the head here (default: none; the shipped "
                   f"one is {default_multilingual_dir()})")
    p.add_argument("--per-group", type=int, default=4000, help="training rows per (corpus, language) at most")
    p.add_argument("--dev-per-group", type=int, default=1000, help="dev rows per (corpus, language) at most")
    p.add_argument("--test-per-group", type=int, default=None, help="cap the test rows too (default: all)")
    p.add_argument("--languages", default=None, help="comma-separated language codes (default: all)")
    p.add_argument("--heads", default="logreg,mlp", help="head kinds to try: logreg, mlp")
    p.add_argument("--report", type=Path, default=None, help="write the settings tried and test scores "
                   "(JSON)")
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        langs = {c.strip() for c in args.languages.split(",")} if args.languages else None
        train(args.data, args.encoder, args.cache, args.out, args.per_group, args.dev_per_group, args.heads,
              args.report, args.test_per_group, langs)
    except EmoreasonError as exc:
        print(f"error: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
