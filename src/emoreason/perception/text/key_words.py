"""The English text stage's key word: occlusion on each sentence read alone (no dialogue context), the word
whose removal lowers the label's score most, with the ensemble's drop and the word's index (None when that
drop is below :data:`MIN_KEY_WORD_DROP`, or for one word or more than :data:`MAX_OCCLUSION_WORDS`). All
sentences' variants are scored in one batched pass (context would make each variant up to 128 tokens;
alone it is about a fifth of the work).

``"exact"`` scores every one-word-out variant with the whole ensemble (four networks).
``"fast"`` ranks the words with one network (:meth:`TextEnsemble.key_word_proba`), scores the sentence
without each of its :data:`KEY_WORD_CANDIDATES` best with the ensemble, and keeps the one whose removal
lowers the ensemble's score most; the drop reported is always the ensemble's. Three rules spare it work
(``benchmarks/key_word_rules.py`` simulates them from every variant's cached scores,
``benchmarks/bench_text.py --dev meld emorynlp`` measures them):

- in a sentence of more than :data:`SKIP_AFTER_WORDS` words, the :data:`SKIPPED_WORDS` (articles,
  prepositions, conjunctions, forms of "to be", third-person pronouns) and tokens without a letter or digit
  are not tried (unless nothing else is left): the ranking's cost grows with the square of the sentence's
  length;
- in a sentence of more than :data:`PRIOR_AFTER_WORDS` words, only the :data:`PRIOR_WORDS` tried words that
  the first network scores highest for the label when it reads each word alone are left out (each distinct
  word read once per call, a few tokens each; a word said twice is tried at its first place);
- the second candidate goes to the ensemble only when the first network scores the sentence without it
  within :data:`KEY_WORD_GAP` of the sentence without the first.

The rules were chosen on MELD dev. The first and third, against the search without them (2026-12-05,
``analyze_texts`` with context, labels and scores identical): the same key word or both none for 1,102 of
the 1,109 MELD dev utterances and 796 of the 802 EmoryNLP dev utterances (not used to choose them); without
any rule the fast search found the exact search's key word for 97.8% of MELD dev. The second, against the
search with the other two (2026-12-05, ``bench_text.py --before db37686 --dev meld emorynlp --dev-only``,
labels and scores identical): 1,083 of 1,109 MELD dev (97.7%) and 784 of 802 EmoryNLP dev (97.8%), with
106 instead of 121 CPU-s for all of MELD dev (68 instead of 78 for EmoryNLP): the sentences it cuts are the
costliest. ``key_word_rules.py`` prints the trade-off of other settings: from 8 words with a gap of 0.05 the
search costs about two thirds of its work without the rule, and 1,003 of 1,109 MELD dev key words (90.4%)
and 747 of 802 EmoryNLP dev (93.1%) stay the same. Other rankings simulated on the same scores
kept fewer key words for the work they spare (gradient x input of the first network, the states of a middle
layer reused for the upper ones, groups of words left out, word pairs and triples read alone).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from emoreason.labels import CANONICAL
from emoreason.perception.text.multilingual import MAX_UNITS, MIN_KEY_WORD_DROP

MAX_OCCLUSION_WORDS = MAX_UNITS
KEY_WORD_METHODS = ("fast", "exact")
KEY_WORD_CANDIDATES = 2  # words the fast search hands to the ensemble
KEY_WORD_GAP = 0.2  # first-network score gap beyond which the second candidate is not confirmed
SKIP_AFTER_WORDS = 8
PRIOR_AFTER_WORDS = 15  # longer sentences: only the PRIOR_WORDS words that read alone score highest are tried
PRIOR_WORDS = 3
SKIPPED_WORDS = frozenset(
    "the a an to of with was be been were are am is at by from as into than and or but in on for it's he she "
    "her his its their they them there".split())
PUNCTUATION = ".,!?;:\"'()"

Scorer = Callable[..., np.ndarray]  # (texts, histories, first=None, encoded=None) -> (n, 7)


def tried(words: list[str], method: str) -> list[int]:
    """The indices of the words the search leaves out one at a time."""
    every = list(range(len(words)))
    if method == "exact" or len(words) <= SKIP_AFTER_WORDS:
        return every
    kept = [k for k, w in enumerate(words)
            if any(c.isalnum() for c in w) and w.strip(PUNCTUATION).lower() not in SKIPPED_WORDS]
    return kept or every


def search(requests: list[tuple[str, int]], method: str, score: Scorer,
           rank: Callable[[list[str]], np.ndarray], has_first: bool,
           alone: list[np.ndarray | None] | None = None,
           encoded: dict | None = None) -> list[tuple[str, float, int] | None]:
    """The key word of each ``(sentence, label index)``: ``(word, drop, index)`` or None.

    ``score``: the ensemble (:meth:`TextEnsemble.predict_proba`); ``rank``: the one network of the fast
    search (:meth:`TextEnsemble.key_word_proba`), ``has_first``: whether that network is the ensemble's
    first member (its rows are then handed to ``score`` as known). ``alone``: the ensemble's scores of
    each sentence read alone where already known (else None), so they are not computed twice;
    ``encoded``: the head's encoder outputs already computed."""
    spans, variants = [], []
    for text, _ in requests:
        words = text.split()
        if len(words) < 2 or len(words) > MAX_OCCLUSION_WORDS:
            spans.append(None)
            continue
        spans.append((words, tried(words, method)))
    if method != "exact":
        spans = _prior(spans, [label for _, label in requests], rank)
    for i, span in enumerate(spans):
        if span is None:
            continue
        words, ks = span
        if method == "exact":  # the sentence itself, for the drop
            variants.append(requests[i][0])
        spans[i] = (len(variants), words, ks)  # where its one-word-out variants start
        variants += [" ".join(words[:k] + words[k + 1:]) for k in ks]
    if method == "exact":
        scored = score(variants, [[] for _ in variants], encoded=encoded) if variants else None
    else:
        scored = rank(variants) if variants else None
    found = []  # (words, candidate indices best first, their rows in ``scored``)
    for (_, label_index), span in zip(requests, spans):
        if span is not None:
            at, words, ks = span
            s = scored[at:at + len(ks), label_index]
            order = [int(np.argmin(s))] if method == "exact" else \
                [int(i) for i in np.argsort(s, kind="stable")[:KEY_WORD_CANDIDATES]]
            if method != "exact" and len(order) > 1 and s[order[1]] - s[order[0]] > KEY_WORD_GAP:
                order = order[:1]
            span = (words, [ks[i] for i in order], [at + i for i in order])
        found.append(span)
    if method != "exact":  # the ensemble's scores of the sentence, and of it without each candidate
        alone = alone or [None] * len(requests)
        todo = [(text, i) for i, ((text, _), f) in enumerate(zip(requests, found))
                if f is not None and alone[i] is None]
        without = [" ".join(f[0][:k] + f[0][k + 1:]) for f in found if f is not None for k in f[1]]
        texts = [t for t, _ in todo] + without
        # the first network already read each candidate variant alone (``scored``): not run again
        first = np.full((len(texts), len(CANONICAL)), np.nan)
        known = [scored[row] for f in found if f is not None for row in f[2]]
        if known:
            first[len(todo):] = known
        ens = score(texts, [[] for _ in texts], first=first if has_first else None, encoded=encoded)
        full = dict(zip((i for _, i in todo), ens[:len(todo)]))
        rest = iter(ens[len(todo):])
    out = []
    for i, ((_, label_index), f) in enumerate(zip(requests, found)):
        if f is None:
            out.append(None)
            continue
        words, ks, rows = f
        if method == "exact":
            k, row = ks[0], rows[0]
            drop = float(scored[spans[i][0] - 1, label_index] - scored[row, label_index])
        else:
            base = alone[i] if alone[i] is not None else full[i]
            after = [float(next(rest)[label_index]) for _ in ks]
            k = ks[int(np.argmin(after))]
            drop = float(base[label_index]) - min(after)
        word = words[k].strip(PUNCTUATION)
        out.append((word or words[k], drop, k) if drop >= MIN_KEY_WORD_DROP else None)
    return out


def _prior(spans: list, labels: list[int], rank: Callable[[list[str]], np.ndarray]) -> list:
    """``spans`` (``(words, tried indices)`` or None) with the tried words of each sentence of more than
    :data:`PRIOR_AFTER_WORDS` words cut to the :data:`PRIOR_WORDS` distinct words whose own score for the
    label (``rank`` of the word read alone, each distinct word once) is highest (ties: the earlier word),
    each at its first place, in sentence order."""
    long = [i for i, span in enumerate(spans)
            if span is not None and len(span[0]) > PRIOR_AFTER_WORDS and len(span[1]) > PRIOR_WORDS]
    if not long:
        return spans
    distinct = list(dict.fromkeys(spans[i][0][k] for i in long for k in spans[i][1]))
    row = dict(zip(distinct, rank(distinct)))
    out = list(spans)
    for i in long:
        words, ks = spans[i]
        own = np.asarray([row[words[k]][labels[i]] for k in ks])
        kept: dict[str, int] = {}  # a word said twice scores the same alone: its first place only
        for j in np.argsort(-own, kind="stable"):
            if len(kept) == PRIOR_WORDS:
                break
            kept.setdefault(words[ks[j]], ks[j])
        out[i] = (words, sorted(kept.values()))
    return out
