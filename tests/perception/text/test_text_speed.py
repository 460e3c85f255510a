"""The text path's speed-ups change no number: GELU in pieces equals GELU on the whole array, batches on
two threads give each batch's own result in order, and the head's encoder runs once per distinct text."""

from __future__ import annotations

import multiprocessing
import os
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from emoreason.perception.text import batching, numpy_bert
from emoreason.perception.text.analyzer import TextAnalyzer
from emoreason.perception.text.batching import map_batches
from emoreason.perception.text.numpy_bert import erf32
from emoreason.perception.text.sentence_encoder import SentenceEncoder


def test_gelu_in_pieces_equals_the_formula_on_the_whole_array(monkeypatch):
    x = (np.random.default_rng(0).standard_normal((7, 1000)) * 3).astype(np.float32)
    x[0, :3] = [-9.0, 0.0, 9.0]  # beyond the clip of erf
    want = x * ((np.float32(1.0) + erf32(x * np.float32(0.7071067811865476))) * np.float32(0.5))
    monkeypatch.setattr(numpy_bert, "GELU_BLOCK", 999)  # pieces that do not divide the array
    got = numpy_bert._gelu(x.copy())
    assert got.dtype == np.float32 and np.array_equal(got, want)
    assert got[0, 0] == 0.0 and got[0, 2] == np.float32(9.0)


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_map_batches_keeps_the_order_uses_the_threads_and_raises(monkeypatch):
    monkeypatch.setattr(batching, "batch_threads", lambda: 2)
    seen, blas = set(), []
    before = _blas_threads()

    def square(x):
        seen.add(threading.current_thread().name)
        blas.extend(_blas_threads())
        return x * x

    assert map_batches(square, range(50), tokens=10**6) == [x * x for x in range(50)]
    assert all(name.startswith("emoreason-text") for name in seen)
    assert blas and set(blas) == {1}  # one BLAS thread meanwhile
    assert _blas_threads() == before  # restored after

    def fail(x):
        if x == 3:
            raise ValueError("batch 3")
        return x

    with pytest.raises(ValueError, match="batch 3"):
        map_batches(fail, range(6), tokens=10**6)
    assert _blas_threads() == before
    seen.clear()
    assert map_batches(square, range(4), tokens=batching.MIN_THREADED_TOKENS - 1) == [0, 1, 4, 9]
    assert seen == {threading.current_thread().name}  # a small call stays on the calling thread


def _child(queue) -> None:
    queue.put(map_batches(lambda x: x + 1, range(8), tokens=10**6))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_makes_its_own_pool(monkeypatch):
    monkeypatch.setattr(batching, "batch_threads", lambda: 2)
    assert map_batches(lambda x: x, range(4), tokens=10**6) == [0, 1, 2, 3]  # the parent's pool exists
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0 and queue.get(timeout=5) == list(range(1, 9))


def test_batch_threads_is_at_most_the_cap():
    assert 1 <= batching.batch_threads() <= batching.MAX_BATCH_THREADS


def test_the_head_encodes_each_distinct_text_once_and_scores_as_before(monkeypatch):
    model = TextAnalyzer().model
    texts = ["I can't believe you did that", "no way", "I can't believe you did that", "fine."]
    histories = [[], ["I can't believe you did that"], ["what?", "no way"], []]
    want = [model.predict_proba([t], [h])[0] for t, h in zip(texts, histories)]  # one at a time
    calls = []
    original = SentenceEncoder.encode_layers

    def counted(self, batch, layers, batch_size=64):
        calls.append(list(batch))
        return original(self, batch, layers, batch_size)

    monkeypatch.setattr(SentenceEncoder, "encode_layers", counted)
    encoded: dict = {}
    got = model.predict_proba(texts, histories, encoded=encoded)
    again = model.predict_proba(["no way", "fine."], [[], []], encoded=encoded)
    assert [sorted(c) for c in calls] == [sorted({"I can't believe you did that", "no way", "fine."})]
    assert np.abs(got - np.stack(want)).max() < 1e-6
    assert np.abs(again - model.predict_proba(["no way", "fine."])).max() < 1e-6
