"""Checks of a multimodal LLM beyond its labels (original and swapped inputs are labelled by
:func:`emoreason.emollm.infer.recognise`, as ``analyze(..., model=...)`` labels them).

* :func:`derangement` / :func:`donors_within`: a fixed permutation that gives every item the inputs of
  another item of its own corpus (never its own when the corpus has two items or more), for the test
  "does the model use its inputs": scored with each item's audio/face features (or subtitle) replaced by
  a donor's, the score must fall.
* :func:`reasoning_verdict`: a ``[reason]`` answer's parsed conclusion against the ``[emotion]`` label and
  the truth; :func:`timed_reasoning`: that answer with its first-token latency and tokens/s.

torch and the model code (:mod:`emoreason.emollm.steps`, :mod:`emoreason.emollm.infer`) are imported
inside the functions that run the model, so that importing this module stays light.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Hashable, Sequence
from typing import Any

from emoreason.emollm.answer_parsing import parse_answer
from emoreason.errors import UnparsableAnswerError


def derangement(n: int, seed: int = 0) -> list[int]:
    """A fixed random permutation of ``range(n)`` in which no index maps to itself when ``n > 1``
    (Sattolo's algorithm: a uniformly random single cycle); ``[0]`` for one item."""
    if n < 0:
        raise ValueError(f"n must be 0 or more, got {n}")
    perm = list(range(n))
    rng = random.Random(seed)
    for i in range(n - 1, 0, -1):
        j = rng.randrange(i)
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def donors_within(groups: Sequence[Hashable], seed: int = 0) -> list[int]:
    """For each position, the position whose inputs it gets: another position of the same group (e.g.
    corpus), never itself in a group of two or more (a group of one keeps its own)."""
    members: dict[Hashable, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    donors = list(range(len(groups)))
    for k, idx in enumerate(members.values()):
        perm = derangement(len(idx), seed + k)
        for pos, src in zip(idx, perm):
            donors[pos] = idx[src]
    return donors


def with_inputs_of(prepared: Any, donor: Any, what: str) -> Any:
    """``prepared`` with the donor's ``features`` (every media stream) or ``subtitle`` (``what``)."""
    if what not in ("features", "subtitle"):
        raise ValueError(f"what must be 'features' or 'subtitle', got {what!r}")
    return dataclasses.replace(prepared, **{what: getattr(donor, what)})


def reasoning_verdict(reasoning: str, answer_label: str, truth: str) -> dict[str, Any]:
    """The reasoning's parsed conclusion (None when it names no canonical label) and whether it contradicts
    the ``[emotion]`` label and the truth (both False when unparsable: counted apart)."""
    try:
        said: str | None = parse_answer(reasoning, "canonical").label
    except UnparsableAnswerError:
        said = None
    return {"conclusion": said, "unparsable": said is None,
            "contradicts_answer": said is not None and said != answer_label,
            "contradicts_truth": said is not None and said != truth}


def timed_reasoning(model: Any, processor: Any, prepared: Any, max_new_tokens: int) -> dict[str, Any]:
    """The greedy ``[reason]`` answer with its timing: ``first_token_s`` (a generation of one token: the
    prompt's forward pass and the first token), ``seconds`` (the whole answer), ``new_tokens`` (the
    answer's tokens, re-tokenised) and ``tokens_per_s`` (new tokens over the whole answer's time)."""
    from emoreason.emollm.steps import generate_answer

    t0 = time.perf_counter()
    generate_answer(model, processor, prepared, "reason", 1)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    text = generate_answer(model, processor, prepared, "reason", max_new_tokens)
    seconds = time.perf_counter() - t0
    n = len(processor.tokenizer(text, add_special_tokens=False)["input_ids"]) if text else 0
    return {"text": text, "first_token_s": first, "seconds": seconds, "new_tokens": n,
            "tokens_per_s": n / seconds if seconds > 0 else float("nan")}
