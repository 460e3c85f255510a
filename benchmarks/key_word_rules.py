"""The fast key-word search's rules simulated on cached scores (``key_word_cache.py``): for each rule, the
key words it would choose, their agreement with the cached analyzer's (same word or both none) and with the
exact search (every variant through the ensemble), and the network work it costs in tokens (the ranking
pass, the words read alone, and the ensemble's confirmation, as ``TextEnsemble.predict_proba`` runs them),
as a share of the work of the rules the cache was made with.

The rules: the function words skipped in sentences of more than ``skip`` words; in sentences of more than
``prior`` words only the ``top`` tried words that score highest for the label read alone; ``candidates``
handed to the ensemble, the second only within ``gap``. The grid's rules that no cheaper rule beats in
agreement on the first cache (the one rules are chosen on) are printed, each with its agreement on the
others; then the rule of ``perception/text/key_words.py`` as it stands.

    python benchmarks/key_word_rules.py /tmp/kw_meld.npz [/tmp/kw_emorynlp.npz ...]
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import numpy as np

from emoreason.perception.text.key_words import MIN_KEY_WORD_DROP, PUNCTUATION, SKIPPED_WORDS


@dataclass
class Case:
    words: list[str]
    label: int
    first_var: np.ndarray  # (n words,) first member's label score without each word
    ens_var: np.ndarray  # (n words,) the ensemble's
    ens_alone: float
    first_alone: float
    first_words: np.ndarray  # (n words,) first member's label score of each word read alone
    tokens: np.ndarray  # (n words,) tokens of each variant
    word_tokens: np.ndarray  # (n words,) tokens of each word read alone
    chosen: tuple | None
    context: bool  # the utterance had context (its ensemble score alone must be computed)


def load(path: str) -> list[Case]:
    from emoreason.perception.text.numpy_bert import encode_texts, tokenizer
    from emoreason.perception.text.sentence_encoder import default_minilm_dir

    z = np.load(path)
    meta = json.loads(str(z["meta"]))
    tok = tokenizer(default_minilm_dir(), 128)
    owner, cases, at = z["owner"], [], 0
    wid = z["word_ids"]
    for r, (text, label) in enumerate(zip(meta["sentences"], meta["labels"])):
        words = text.split()
        rows = np.arange(at, at + len(words))
        assert (owner[rows] == r).all()
        variants = [" ".join(words[:k] + words[k + 1:]) for k in range(len(words))]
        tokens = np.asarray([len(e.ids) for e in encode_texts(tok, variants)])
        word_tokens = np.asarray([len(e.ids) for e in encode_texts(tok, words)])
        c = meta["chosen"][r]
        cases.append(Case(words, label, z["first_var"][rows, label], z["ens_var"][rows, label],
                          float(z["ens_alone"][r, label]), float(z["first_alone"][r, label]),
                          z["first_words"][wid[rows], label], tokens, word_tokens,
                          None if c is None else tuple(c),
                          bool(meta.get("context", [True] * len(meta["sentences"]))[r])))
        at += len(words)
    return cases


def skip_rule(words: list[str], after: int, skipped=SKIPPED_WORDS) -> list[int]:
    every = list(range(len(words)))
    if len(words) <= after:
        return every
    kept = [k for k, w in enumerate(words)
            if any(ch.isalnum() for ch in w) and w.strip(PUNCTUATION).lower() not in skipped]
    return kept or every


def simulate(c: Case, tried: list[int], candidates: int, gap: float) -> tuple[tuple | None, int, int]:
    """(key word (word, index) or None, ranking tokens, confirmation tokens)."""
    s = c.first_var[tried]
    order = [int(i) for i in np.argsort(s, kind="stable")[:candidates]]
    if len(order) > 1 and s[order[1]] - s[order[0]] > gap:
        order = order[:1]
    ks = [tried[i] for i in order]
    rank_tokens = int(c.tokens[tried].sum()) if len(tried) > 1 or candidates < 1 else 0
    sentence_tokens = int(c.tokens.max()) + 1
    # the sentence alone: three LoRA members where the utterance had context (the head's encoder read it
    # when the utterance was scored); each candidate: two LoRA members and the head's encoder
    confirm = 3 * int(c.tokens[ks].sum()) + (3 * sentence_tokens if c.context else 0)
    after = c.ens_var[ks]
    k = ks[int(np.argmin(after))]
    drop = c.ens_alone - float(after.min())
    if drop < MIN_KEY_WORD_DROP:
        return None, rank_tokens, confirm
    word = c.words[k].strip(PUNCTUATION) or c.words[k]
    return (word, k), rank_tokens, confirm


def exact(c: Case) -> tuple | None:
    k = int(np.argmin(c.ens_var))
    if c.ens_alone - float(c.ens_var[k]) < MIN_KEY_WORD_DROP:
        return None
    return (c.words[k].strip(PUNCTUATION) or c.words[k], k)


def same(a, b) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and a[0] == b[0])


@dataclass(frozen=True)
class Rule:
    skip: int = 8
    prior: int | None = None
    top: int = 3
    candidates: int = 2
    gap: float = 0.2

    def __str__(self) -> str:
        prior = f"n>{self.prior}: top {self.top} alone" if self.prior is not None else "no prior"
        return f"skip>{self.skip}, {prior}, {self.candidates} cand., gap {self.gap}"

    def run(self, c: Case) -> tuple[tuple | None, int]:
        """(key word, tokens)."""
        tried, extra = skip_rule(c.words, self.skip), 0
        if self.prior is not None and len(c.words) > self.prior and len(tried) > self.top:
            extra = int(c.word_tokens[tried].sum())  # an upper bound: a word read in several sentences once
            kept: dict[str, int] = {}  # as key_words._prior: distinct words, each at its first place
            for j in np.argsort(-c.first_words[tried], kind="stable"):
                if len(kept) == self.top:
                    break
                kept.setdefault(c.words[tried[j]], tried[j])
            tried = sorted(kept.values())
        got, rank, confirm = simulate(c, tried, self.candidates, self.gap)
        return got, rank + confirm + extra


def evaluate(sets: dict[str, list[Case]], rules: list[Rule]) -> None:
    names = list(sets)
    base = {n: sum(Rule().run(c)[1] for c in cs) for n, cs in sets.items()}
    rows = []
    for rule in rules:
        row = []
        for n, cs in sets.items():
            got = [rule.run(c) for c in cs]
            row.append((sum(same(g, c.chosen) for (g, _), c in zip(got, cs)) / len(cs),
                        sum(same(g, exact(c)) for (g, _), c in zip(got, cs)) / len(cs),
                        sum(t for _, t in got) / base[n]))
        rows.append((rule, row))
    best = -1.0
    print("rule | " + " | ".join(f"{n}: agree / with exact / tokens" for n in names))
    for rule, row in sorted(rows, key=lambda r: (r[1][0][2], -r[1][0][0])):
        if row[0][0] > best or rule == rules[-1]:
            best = max(best, row[0][0])
            print(f"{str(rule):48s} | " + " | ".join(f"{a:6.1%} / {e:6.1%} / {t:6.1%}" for a, e, t in row)
                  + ("   <- key_words.py now" if rule == rules[-1] else ""))


def main() -> None:
    from emoreason.perception.text import key_words as kw

    sets = {}
    for path in sys.argv[1:]:
        cases = load(path)
        reproduced = sum(same(Rule().run(c)[0], c.chosen) for c in cases)
        print(f"{path}: {len(cases)} searched sentences; the rules of the cache (skip>8, 2 cand., gap 0.2) "
              f"reproduce the cached key word for {reproduced} ({reproduced / len(cases):.1%})")
        sets[path.rsplit("/", 1)[-1]] = cases
    grid = [Rule(8, prior, top, cand, gap) for prior in (None, 8, 10, 12, 15, 20) for top in (3, 4, 6)
            for cand, gap in ((2, 0.2), (2, 0.1), (2, 0.05), (1, 0.0)) if prior is not None or top == 3]
    grid += [Rule(skip, None, 3, cand, gap) for skip in (0, 5) for cand, gap in ((2, 0.2), (2, 0.1))]
    now = Rule(kw.SKIP_AFTER_WORDS, kw.PRIOR_AFTER_WORDS, kw.PRIOR_WORDS, kw.KEY_WORD_CANDIDATES,
               kw.KEY_WORD_GAP)
    evaluate(sets, [r for r in grid if r != now] + [now])


if __name__ == "__main__":
    main()
