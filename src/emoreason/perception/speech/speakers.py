"""Speaker embeddings: resemblyzer's GE2E voice encoder (Apache-2.0) run in numpy.

The ``resemblyzer`` package ships its trained weights as ``resemblyzer/pretrained.pt``, a torch pickle.
:func:`weights_path` reads it once with ``torch.load(weights_only=True)`` (the tensor-only loader; the
file is the package's, never a user's), keeps the encoder's tensors (a 3-layer LSTM, hidden 256, and a
256x256 linear layer) and writes them as ``$EMOREASON_CACHE/speakers/ge2e.safetensors`` (default
``~/.cache/emoreason``) beside ``source.json``, which records the SHA-256 of the packaged file; every
load hashes the packaged file again and converts anew when it changed. torch is needed for that one
conversion only (imported inside :func:`_convert`); without it the conversion is a ``ModelError`` naming
the extra. Running the encoder needs numpy and librosa.

The front-end is resemblyzer's: a 40-band mel power spectrogram (25 ms windows, 10 ms hop, 16 kHz; not
log), 160 frames (1.6 s) per partial utterance; the embedding is the last layer's final hidden state
through linear + ReLU, L2-normalised (so cosine similarity is a dot product, all values >= 0).
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
from pathlib import Path

import librosa
import numpy as np
from safetensors.numpy import load_file, save_file

from emoreason.assets import cache_dir as assets_cache_dir
from emoreason.assets import sha256_file
from emoreason.errors import ConfigError, ModelError

SAMPLE_RATE = 16000
N_MELS = 40
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
PARTIAL_FRAMES = 160  # 1.6 s: the length the encoder was trained on
HIDDEN = 256
EMBED_DIM = 256
LAYERS = 3
NORM_TARGET_DBFS = -30.0  # resemblyzer raises quieter audio to this level (never lowers louder audio)
PACKAGE = "resemblyzer"
PACKAGED_FILE = "pretrained.pt"
WEIGHTS = "ge2e.safetensors"
SOURCE_FILE = "source.json"
_BATCH = 32  # windows per LSTM pass: bounds memory (about 30 MiB of gates) on long recordings


def cache_dir() -> Path:
    """``$EMOREASON_CACHE/speakers``, or ``~/.cache/emoreason/speakers``."""
    return assets_cache_dir() / "speakers"


def packaged_weights() -> Path:
    """resemblyzer's ``pretrained.pt``; a missing package is a ``ModelError`` naming it (found, not
    imported: resemblyzer's ``__init__`` imports torch)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("speaker embeddings need the 'resemblyzer' package "
                         "(./install.sh installs it; pip install --no-deps resemblyzer)")
    path = Path(next(iter(spec.submodule_search_locations))) / PACKAGED_FILE
    if not path.is_file():
        raise ModelError(f"the 'resemblyzer' package has no {PACKAGED_FILE}")
    return path


def weights_path() -> Path:
    """The converted safetensors file, converted now when absent or from another packaged file."""
    src = packaged_weights()
    digest = sha256_file(src)
    out = cache_dir()
    try:
        recorded = json.loads((out / SOURCE_FILE).read_text(encoding="utf-8")).get("sha256")
    except (OSError, ValueError, AttributeError):
        recorded = None
    if recorded == digest and (out / WEIGHTS).is_file():
        return out / WEIGHTS
    out.mkdir(parents=True, exist_ok=True)
    tensors = _convert(src)
    fd, tmp = tempfile.mkstemp(prefix=".ge2e.", suffix=".safetensors", dir=out)
    os.close(fd)
    try:
        save_file(tensors, tmp)
        os.replace(tmp, out / WEIGHTS)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    info = {"package": PACKAGE, "file": PACKAGED_FILE, "sha256": digest, "licence": "Apache-2.0"}
    fd, tmp = tempfile.mkstemp(prefix=".source.", suffix=".json", dir=out)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(info, fh, indent=1)
    os.replace(tmp, out / SOURCE_FILE)  # written last: the record says the weights beside it are complete
    return out / WEIGHTS


def _convert(src: Path) -> dict[str, np.ndarray]:
    """The encoder's tensors from resemblyzer's checkpoint, as float32 numpy arrays."""
    try:
        import torch
    except ImportError as exc:
        raise ModelError("converting resemblyzer's GE2E weights once needs torch "
                         "(pip install 'emoreason[llm]' or 'emoreason[train]')") from exc
    checkpoint = torch.load(src, map_location="cpu", weights_only=True)
    state = checkpoint.get("model_state") if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise ModelError(f"{src} holds no 'model_state'")
    kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    names = [f"lstm.{w}_l{k}" for k in range(LAYERS) for w in kinds]
    names += ["linear.weight", "linear.bias"]
    missing = [n for n in names if n not in state]
    if missing:
        raise ModelError(f"{src} lacks {', '.join(missing)}")
    return {n: state[n].detach().cpu().numpy().astype(np.float32) for n in names}


def mel_frames(wav: np.ndarray) -> np.ndarray:
    """The encoder's input: (n_frames, 40) mel power spectrogram of 16 kHz ``wav``, one frame per 10 ms."""
    mel = librosa.feature.melspectrogram(y=np.asarray(wav, dtype=np.float32), sr=SAMPLE_RATE, n_fft=N_FFT,
                                         hop_length=HOP, n_mels=N_MELS)
    return mel.astype(np.float32).T


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # exact, and no overflow warning for large |x|


class SpeakerEncoder:
    """GE2E speaker encoder: mel windows -> 256-d L2-normalised embeddings (numpy, no torch)."""

    def __init__(self, weights: str | Path | None = None):
        w = load_file(str(weights or weights_path()))
        self._layers = []
        for k in range(LAYERS):
            self._layers.append((np.ascontiguousarray(w[f"lstm.weight_ih_l{k}"].T),
                                 np.ascontiguousarray(w[f"lstm.weight_hh_l{k}"].T),
                                 w[f"lstm.bias_ih_l{k}"] + w[f"lstm.bias_hh_l{k}"]))
        self._linear_w = np.ascontiguousarray(w["linear.weight"].T)
        self._linear_b = w["linear.bias"]

    def embed_mels(self, mels: np.ndarray) -> np.ndarray:
        """(batch, n_frames, 40) mel windows of one length -> (batch, 256) embeddings."""
        mels = np.asarray(mels, dtype=np.float32)
        if mels.ndim != 3 or mels.shape[2] != N_MELS or mels.shape[1] == 0:
            raise ConfigError(f"mel windows must be (batch, frames>0, {N_MELS}), got {mels.shape}")
        out = [self._embed_batch(mels[i:i + _BATCH]) for i in range(0, len(mels), _BATCH)]
        return np.concatenate(out) if out else np.zeros((0, EMBED_DIM), np.float32)

    def _embed_batch(self, x: np.ndarray) -> np.ndarray:
        b, t, _ = x.shape
        for w_ih, w_hh, bias in self._layers:
            gates_in = (x.reshape(b * t, -1) @ w_ih).reshape(b, t, 4 * HIDDEN)
            gates_in += bias
            h = np.zeros((b, HIDDEN), np.float32)
            c = np.zeros((b, HIDDEN), np.float32)
            seq = np.empty((b, t, HIDDEN), np.float32)
            for step in range(t):
                g = gates_in[:, step] + h @ w_hh
                i, f = _sigmoid(g[:, :HIDDEN]), _sigmoid(g[:, HIDDEN:2 * HIDDEN])
                cand, o = np.tanh(g[:, 2 * HIDDEN:3 * HIDDEN]), _sigmoid(g[:, 3 * HIDDEN:])
                c = f * c + i * cand
                h = o * np.tanh(c)
                seq[:, step] = h
            x = seq
        raw = np.maximum(h @ self._linear_w + self._linear_b, 0.0)
        norm = np.linalg.norm(raw, axis=1, keepdims=True)
        return (raw / np.maximum(norm, 1e-12)).astype(np.float32)

    def embed_utterance(self, wav: np.ndarray, rate: float = 1.3, min_coverage: float = 0.75) -> np.ndarray:
        """One 256-d embedding of 16 kHz ``wav``: resemblyzer's ``embed_utterance`` (1.6 s partials,
        ``rate`` per second, the last kept when it covers ``min_coverage``; their mean, L2-normalised).
        The waveform is used as given (no volume normalisation or silence trimming)."""
        wav = np.asarray(wav, dtype=np.float32)
        if wav.size == 0:
            raise ConfigError("cannot embed an empty waveform")
        frame_step = int(np.round(SAMPLE_RATE / rate / HOP))
        n_frames = int(np.ceil((len(wav) + 1) / HOP))
        starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + frame_step + 1), frame_step))
        last = starts[-1] * HOP
        if (len(wav) - last) / (PARTIAL_FRAMES * HOP) < min_coverage and len(starts) > 1:
            starts.pop()
        need = (starts[-1] + PARTIAL_FRAMES) * HOP
        if need >= len(wav):
            wav = np.pad(wav, (0, need - len(wav)))
        mel = mel_frames(wav)
        partials = self.embed_mels(np.stack([mel[s:s + PARTIAL_FRAMES] for s in starts]))
        mean = partials.mean(axis=0)
        return (mean / np.linalg.norm(mean)).astype(np.float32)
