"""One process-wide BLAS thread limit: the smallest asked for while anyone asks, the originals back after,
whatever order the callers leave in."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info

from emoreason import blas_threads as bt


class FakeController:
    """Two BLAS libraries, one on 4 threads and one on 1, recording the limits set."""

    def __init__(self):
        self.threads = {"a.so": 4, "b.so": 1}

    def info(self):
        return [{"filepath": k, "user_api": "blas", "num_threads": v} for k, v in self.threads.items()]

    def limit(self, limits):
        self.threads.update(limits)


def test_interleaved_callers_restore_the_originals(monkeypatch):
    fake = FakeController()
    monkeypatch.setattr(bt, "ThreadpoolController", lambda: fake)
    first, second = bt.blas_threads(2), bt.blas_threads(1)
    first.__enter__()
    assert fake.threads == {"a.so": 2, "b.so": 1}  # never raised above what a library had
    second.__enter__()
    assert fake.threads == {"a.so": 1, "b.so": 1}  # the smallest asked for
    first.__exit__(None, None, None)  # the first caller leaves first: the other's limit stays
    assert fake.threads == {"a.so": 1, "b.so": 1}
    second.__exit__(None, None, None)
    assert fake.threads == {"a.so": 4, "b.so": 1}
    with bt.blas_threads(3):
        assert fake.threads == {"a.so": 3, "b.so": 1}
    assert fake.threads == {"a.so": 4, "b.so": 1} and not bt._asked and not bt._original


def test_real_blas_is_limited_and_restored():
    np.ones((64, 64)) @ np.ones((64, 64))  # numpy's BLAS loaded
    before = {lib["filepath"]: lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
    assert before
    with bt.blas_threads(1):
        assert all(lib["num_threads"] == 1 for lib in threadpool_info() if lib["user_api"] == "blas")
    after = {lib["filepath"]: lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
    assert after == before
