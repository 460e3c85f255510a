"""The padded-token count that decides whether a batched call runs on two threads."""

from __future__ import annotations

from types import SimpleNamespace

from emoreason.perception.text.batching import padded_tokens, total_tokens


def _encs(*lengths: int) -> list:
    return [SimpleNamespace(ids=[0] * n) for n in lengths]


def test_total_tokens_counts_each_batch_padded_to_its_longest():
    batches = [_encs(3, 5), _encs(7), _encs()]
    assert [padded_tokens(b) for b in batches] == [10, 7, 0]
    assert total_tokens(batches) == 17
    assert total_tokens(iter(batches)) == 17  # any iterable, read once
    assert total_tokens([]) == 0
