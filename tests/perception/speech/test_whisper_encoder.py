"""The numpy Whisper encoder: the file reader on hand-written model files, and the network against
CTranslate2's own ``encode`` on the shipped tiny.en weights."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import voice_fixtures as fx

from emoreason.errors import ModelError
from emoreason.perception.speech.whisper_encoder import WhisperEncoder, read_encoder_variables
from emoreason.perception.voice.embedding import WhisperVoiceEmbedder


def _string(text: str) -> bytes:
    data = text.encode() + b"\0"
    return struct.pack("<H", len(data)) + data


def _write_model(path, variables: dict[str, tuple[int, np.ndarray]], version: int = 6,
                 spec: str = "WhisperSpec"):
    """A CTranslate2-format file: {name: (dtype id, array)}."""
    out = (struct.pack("<I", version) + _string(spec) + struct.pack("<I", 3)
           + struct.pack("<I", len(variables)))
    for name, (dtype_id, arr) in variables.items():
        raw = np.ascontiguousarray(arr).tobytes()
        out += _string(name) + struct.pack("<B", arr.ndim) + b"".join(struct.pack("<I", d) for d in arr.shape)
        out += struct.pack("<B", dtype_id) + struct.pack("<I", len(raw)) + raw
    path.write_bytes(out + struct.pack("<I", 0))
    return path


def test_reader_keeps_encoder_variables_and_dequantises(tmp_path):
    w = np.array([[10, -20], [30, 40]], dtype=np.int8)
    scale = np.array([10.0, 20.0], dtype=np.float32)
    half = np.array([1.5, -2.25], dtype=np.float16)
    bf16 = (np.array([3.0, -0.5], dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)
    path = _write_model(tmp_path / "model.bin", {
        "decoder/embeddings/weight": (0, np.ones((3, 2), dtype=np.float32)),
        "encoder/layer_0/ffn/linear_0/weight": (1, w),
        "encoder/layer_0/ffn/linear_0/weight_scale": (0, scale),
        "encoder/layer_0/ffn/linear_0/bias": (4, half),
        "encoder/layer_norm/gamma": (5, bf16),
        "encoder/num_heads": (2, np.array(6, dtype=np.int16)),
    })
    v = read_encoder_variables(path)
    assert set(v) == {"layer_0/ffn/linear_0/weight", "layer_0/ffn/linear_0/bias", "layer_norm/gamma",
                      "num_heads"}
    assert np.allclose(v["layer_0/ffn/linear_0/weight"], [[1.0, -2.0], [1.5, 2.0]])
    assert np.allclose(v["layer_0/ffn/linear_0/bias"], [1.5, -2.25])
    assert np.allclose(v["layer_norm/gamma"], [3.0, -0.5])
    assert int(v["num_heads"]) == 6


@pytest.mark.parametrize("version, spec, match",
                         [(5, "WhisperSpec", "version 5"), (6, "TransformerSpec", "not a Whisper")])
def test_reader_refuses_other_formats(tmp_path, version, spec, match):
    path = _write_model(tmp_path / "model.bin", {}, version=version, spec=spec)
    with pytest.raises(ModelError, match=match):
        read_encoder_variables(path)


def test_reader_reports_a_truncated_file(tmp_path):
    path = _write_model(tmp_path / "model.bin", {"encoder/conv1/bias": (0, np.ones(384, dtype=np.float32))})
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(ModelError, match="ends early"):
        read_encoder_variables(path)


def test_encoder_refuses_incomplete_weights():
    v = {"num_heads": np.array(2.0), "conv1/bias": np.zeros(4), "conv1/weight": np.zeros((4, 3, 3)),
         "conv2/bias": np.zeros(4), "conv2/weight": np.zeros((4, 4, 3)),
         "layer_0/ffn/linear_0/bias": np.zeros(8)}
    with pytest.raises(ModelError, match="incomplete"):
        WhisperEncoder(v)


def test_numpy_encoder_matches_ctranslate2():
    """The final output is CTranslate2's (which rounds the weights to int8); the blocks differ from it."""
    import ctranslate2  # heavy: only this test needs it

    emb = WhisperVoiceEmbedder()
    mel = emb._mel(fx.espeak("The boxes are by the door, please bring them in."))
    outs = emb.encoder.layers(mel)
    ref = np.asarray(emb.whisper.model.encode(ctranslate2.StorageView.from_array(mel[None]), to_cpu=True))[0]
    assert len(outs) == emb.encoder.n_outputs == 5
    assert all(o.shape == ref.shape == (mel.shape[1] // 2, 384) for o in outs)
    assert np.corrcoef(outs[-1].ravel(), ref.ravel())[0, 1] > 0.995
    assert np.corrcoef(outs[1].ravel(), ref.ravel())[0, 1] < 0.9
    with pytest.raises(ModelError, match="log-mel"):
        emb.encoder.layers(mel[:40])
