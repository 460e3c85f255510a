"""The text path's speed-ups change no number: GELU in pieces equals GELU on the whole array."""

from __future__ import annotations

import numpy as np

from emoreason.perception.text import numpy_bert
from emoreason.perception.text.numpy_bert import erf32


def test_gelu_in_pieces_equals_the_formula_on_the_whole_array(monkeypatch):
    x = (np.random.default_rng(0).standard_normal((7, 1000)) * 3).astype(np.float32)
    x[0, :3] = [-9.0, 0.0, 9.0]  # beyond the clip of erf
    want = x * ((np.float32(1.0) + erf32(x * np.float32(0.7071067811865476))) * np.float32(0.5))
    monkeypatch.setattr(numpy_bert, "GELU_BLOCK", 999)  # pieces that do not divide the array
    got = numpy_bert._gelu(x.copy())
    assert got.dtype == np.float32 and np.array_equal(got, want)
    assert got[0, 0] == 0.0 and got[0, 2] == np.float32(9.0)
