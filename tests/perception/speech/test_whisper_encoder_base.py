"""The numpy Whisper encoder on the multilingual Whisper base weights (6 blocks, 512 wide, 8 heads) against
CTranslate2's own ``encode`` computing in float32 on the same fp16 weights."""

from __future__ import annotations

import numpy as np
import voice_fixtures as fx

from emoreason.perception.speech.whisper_models import multilingual_whisper_dir
from emoreason.perception.voice.embedding import WhisperVoiceEmbedder


def test_numpy_encoder_matches_ctranslate2_on_whisper_base():
    import ctranslate2  # heavy: only this test needs it

    model_dir = multilingual_whisper_dir()
    emb = WhisperVoiceEmbedder(model_dir, layers=(0, 1, 2, 3, 4, 5))
    enc = emb.encoder
    assert (enc.n_layers, enc.width, enc.n_heads, enc.n_outputs) == (6, 512, 8, 7)
    mel = emb._mel(fx.espeak("Die Kinder spielen im Garten, und the boxes are by the door."))
    outs = enc.layers(mel)
    ct2 = ctranslate2.models.Whisper(str(model_dir), device="cpu", compute_type="float32", intra_threads=1)
    ref = np.asarray(ct2.encode(ctranslate2.StorageView.from_array(mel[None]), to_cpu=True))[0]
    assert all(o.shape == ref.shape == (mel.shape[1] // 2, 512) for o in outs)
    assert np.abs(outs[-1] - ref).max() < 2e-3  # measured 6.8e-4 on a 2 s EmoDB clip (values up to ~24)
    assert np.abs(outs[3] - ref).max() > 1.0  # a middle block is not the final output
    row = emb.embed([fx.espeak("Hallo, wie geht es dir?")])
    assert row.shape == (1, emb.dim) == (1, 2 * 512 * 6)
