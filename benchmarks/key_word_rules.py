"""The fast key-word search's rules simulated on cached scores (``key_word_cache.py``): for each rule, the
key words it would choose, their agreement with the analyzer's (same word or both none) and with the exact
search (every variant through the ensemble), and the network work it costs (tokens of the ranking pass and
of the ensemble's confirmation, as ``TextEnsemble.predict_proba`` would run them).

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
        c = meta["chosen"][r]
        cases.append(Case(words, label, z["first_var"][rows, label], z["ens_var"][rows, label],
                          float(z["ens_alone"][r, label]), float(z["first_alone"][r, label]),
                          z["first_words"][wid[rows], label], tokens, None if c is None else tuple(c),
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


RULES = {
    "current (skip > 8 words, 2 candidates, gap 0.2)": lambda c: (skip_rule(c.words, 8), 2, 0.2),
}


def evaluate(cases: list[Case], rules: dict) -> None:
    base = [simulate(c, *RULES["current (skip > 8 words, 2 candidates, gap 0.2)"](c)) for c in cases]
    b_rank, b_conf = sum(b[1] for b in base), sum(b[2] for b in base)
    reproduced = sum(same(b[0], c.chosen) for b, c in zip(base, cases))
    print(f"  {len(cases)} searched sentences; the simulated current rule reproduces the analyzer's key word "
          f"for {reproduced} ({reproduced / len(cases):.1%}); tokens: rank {b_rank}, confirm {b_conf}")
    ex = [exact(c) for c in cases]
    for name, rule in rules.items():
        got = [simulate(c, *rule(c)) for c in cases]
        rank, conf = sum(g[1] for g in got), sum(g[2] for g in got)
        agree = sum(same(g[0], c.chosen) for g, c in zip(got, cases))
        agree_ex = sum(same(g[0], e) for g, e in zip(got, ex))
        print(f"  {name:60s} agree {agree / len(cases):6.1%} (exact {agree_ex / len(cases):6.1%})  "
              f"search tokens {(rank + conf) / (b_rank + b_conf):5.1%} of now (rank {rank}, confirm {conf})")


def main() -> None:
    for path in sys.argv[1:]:
        print(path)
        evaluate(load(path), RULES)


if __name__ == "__main__":
    main()
