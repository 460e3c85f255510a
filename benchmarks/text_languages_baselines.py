"""Per-language floor baselines on the multilingual text corpora: majority class and learnt keywords.

For every (corpus, language) with enough single-label rows, fits on the held-out scheme's ``train`` rows
(``emoreason.training.text.corpora``; single-label rows only: XED lines with exactly one canonical label
after anticipation/trust are dropped) and scores the ``test`` rows (MELD: its dev file, it has no test
here) with ``eval.metrics``: weighted F1 and UAR of the majority class (the baseline every model must
beat) and of ``training.text.keyword_baseline.KeywordBaseline``; the ratio column is keyword wF1 over
majority wF1. Also the share of test rows where the keyword model found no keyword.

    python benchmarks/text_languages_baselines.py --data ../shared/data [--split test] [--min-test 100]
        [--json out.json] [--keywords 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from emoreason.eval.metrics import uar, weighted_f1  # noqa: E402
from emoreason.training.text.corpora import CORPORA, load_rows, select  # noqa: E402
from emoreason.training.text.keyword_baseline import KeywordBaseline, majority_label  # noqa: E402


def score_language(rows, language: str, split: str, n_keywords: int) -> dict | None:
    """Fit on the language's train rows, score ``split`` (MELD's rows have no test: dev instead)."""
    train = select(rows, "train", [language], single=True)
    test = select(rows, split, [language], single=True) or select(rows, "dev", [language], single=True)
    if not train or not test:
        return None
    y_true = [r.single for r in test]
    maj = majority_label(r.single for r in train)
    model = KeywordBaseline().fit([r.text for r in train], [r.single for r in train])
    y_kw = model.predict([r.text for r in test])
    no_kw = sum(1 for r in test if max(model.scores(r.text).values()) <= 0) / len(test)
    y_maj = [maj] * len(test)
    return {
        "language": language, "n_train": len(train), "n_test": len(test), "scored_split": test[0].split,
        "majority": maj, "majority_wf1": weighted_f1(y_true, y_maj), "majority_uar": uar(y_true, y_maj),
        "keyword_wf1": weighted_f1(y_true, y_kw), "keyword_uar": uar(y_true, y_kw), "no_keyword": no_kw,
        "keywords": {lab: model.top_keywords(lab, n_keywords) for lab in sorted(model.keywords)},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="the shared data folder")
    p.add_argument("--corpora", default=",".join(CORPORA))
    p.add_argument("--split", default="test", choices=["dev", "test"], help="rows scored (default test)")
    p.add_argument("--min-test", type=int, default=100, help="skip languages with fewer scored rows")
    p.add_argument("--keywords", type=int, default=0, help="print the top N keywords per label too")
    p.add_argument("--json", type=Path, help="also write the table as JSON")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    loaded = load_rows(args.data, [c for c in args.corpora.split(",") if c])
    results = []
    print(f"{'corpus':9} {'lang':4} {'n_train':>7} {'n_test':>6} {'majority':>9} {'maj wF1':>7} "
          f"{'maj UAR':>7} {'kw wF1':>6} {'kw UAR':>6} {'ratio':>5} {'no kw':>5}")
    for name, data in loaded.items():
        for lang in sorted({r.language for r in data.rows}):
            res = score_language(data.rows, lang, args.split, args.keywords)
            if res is None or res["n_test"] < args.min_test:
                continue
            res["corpus"] = name
            results.append(res)
            ratio = res["keyword_wf1"] / res["majority_wf1"] if res["majority_wf1"] > 0 else float("inf")
            print(f"{name:9} {lang:4} {res['n_train']:>7} {res['n_test']:>6} {res['majority']:>9} "
                  f"{res['majority_wf1']:>7.3f} {res['majority_uar']:>7.3f} {res['keyword_wf1']:>6.3f} "
                  f"{res['keyword_uar']:>6.3f} {ratio:>5.2f} {res['no_keyword']:>5.2f}")
            for lab, words in res["keywords"].items() if args.keywords else ():
                print(f"{'':15} {lab:9} {' '.join(words)}")
    print(f"({len(results)} corpus-languages; split scored: {args.split}, MELD: dev; "
          f"{time.perf_counter() - t0:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
