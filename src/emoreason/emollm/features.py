"""Decode a clip into encoder inputs, and cache the frozen encoders' features in safetensors shards.

Decoding (PyAV through :mod:`emoreason.io.media`): frames sampled evenly over the clip, faces cropped
with mediapipe's face mesh (the main face, box widened by 20 %), audio as 16 kHz mono. The frame
encoder sees the middle frame; face and temporal encoders see the face crops. A stream whose input is
missing (no face found, no audio track) is left out and said so in ``notes``; it is never faked.

Cache layout: ``index.json`` (clip id -> shard and streams, plus each stream's feature shape) and
``features-NNNNN.safetensors`` shards with tensors named ``<clip id>/<stream>``.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emoreason.emollm.processing_emollm import audio_to_inputs, frames_to_pixels, sample_indices
from emoreason.errors import ConfigError, EmoreasonError, ModelError
from emoreason.io.atomic import atomic_write_bytes, atomic_write_text

log = logging.getLogger(__name__)
INDEX = "index.json"


@dataclass
class ClipMedia:
    """Encoder inputs for one clip (batch of 1) and what could not be provided."""

    media: dict[str, torch.Tensor]
    audio_lengths: torch.Tensor | None
    duration: float | None
    notes: list[str] = field(default_factory=list)
    samples: np.ndarray | None = None  # the decoded 16 kHz mono audio (for speech recognition)


def _face_crops(frames: list[np.ndarray], widen: float = 1.2) -> list[np.ndarray | None]:
    from emoreason.perception.face.mesh import FaceMeshTracker

    crops: list[np.ndarray | None] = []
    with FaceMeshTracker(static=False) as tracker:
        for rgb in frames:
            face, _ = tracker.main_face(rgb)
            if face is None:
                crops.append(None)
                continue
            x0, y0, x1, y1 = face.box
            cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * widen
            h, w = rgb.shape[:2]
            a, b = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
            crops.append(rgb[b: int(min(h, cy + side / 2)), a: int(min(w, cx + side / 2))])
    return crops


def _fill_missing(crops: list[np.ndarray | None]) -> list[np.ndarray] | None:
    """Frames without a face borrow the nearest frame's crop; ``None`` if no frame had one."""
    have = [i for i, c in enumerate(crops) if c is not None]
    if not have:
        return None
    return [crops[min(have, key=lambda j, i=i: abs(j - i))] for i in range(len(crops))]


def _resize_stack(images: list[np.ndarray], size: int) -> np.ndarray:
    import cv2

    return np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA) for im in images])


def load_clip_media(path: str | Path, config: Any, encoders: set[str] | None = None) -> ClipMedia:
    """Decode ``path`` and prepare the inputs of ``encoders`` (default: every encoder in ``config``)."""
    from emoreason.io.media import decode, probe

    info = probe(path)
    notes: list[str] = []
    specs = {k: v for k, v in config.encoders.items() if encoders is None or k in encoders}
    samples = None
    wanted = max([int(s.get("num_frames", 1)) for s in specs.values() if s["kind"] != "audio"] or [1])
    frames: list[np.ndarray] = []
    media: dict[str, torch.Tensor] = {}
    audio_lengths = None
    with tempfile.TemporaryDirectory(prefix="emollm-") as tmp:
        wav = Path(tmp) / "audio.wav"
        fps = min(25.0, max(2.0, 2.0 * wanted / max(info.duration or 1.0, 0.1)))
        decode(path, fps=fps, on_frame=(lambda t, rgb: frames.append(rgb)) if info.has_video else None,
               audio_path=wav if info.has_audio else None, max_side=640)
        if info.has_audio and wav.exists():
            import soundfile as sf

            samples, _ = sf.read(str(wav), dtype="float32")
    if info.kind == "image":
        from emoreason.io.media import load_image

        frames = [load_image(path)]
    crops = None
    if frames and any(s["kind"] in ("face", "temporal") for s in specs.values()):
        crops = _fill_missing(_face_crops(frames))
        if crops is None:
            notes.append(f"no face found in {len(frames)} frames: face and temporal streams left out")
    for name, spec in specs.items():
        kind = spec["kind"]
        size = int(spec.get("image_size", 224))
        if kind == "frame" and frames:
            idx = sample_indices(len(frames), int(spec.get("num_frames", 1)))
            media[name] = frames_to_pixels(_resize_stack([frames[i] for i in idx], size), spec).unsqueeze(0)
        elif kind in ("face", "temporal") and crops:
            idx = sample_indices(len(crops), int(spec.get("num_frames", 16)))
            media[name] = frames_to_pixels(_resize_stack([crops[i] for i in idx], size), spec).unsqueeze(0)
        elif kind == "audio":
            if samples is None or len(samples) < 400:
                notes.append("no usable audio track: the audio stream is left out")
                continue
            model_type = (spec.get("config") or {}).get("model_type", "hubert")
            media[name] = audio_to_inputs(samples, model_type, bool(spec.get("normalize_audio", True))).unsqueeze(0)
            audio_lengths = torch.tensor([len(samples)])
        elif kind != "audio" and not frames:
            notes.append(f"no video frames: the {name} stream is left out")
    return ClipMedia(media, audio_lengths, info.duration, notes, samples)


# ---- the cache -----------------------------------------------------------------------------------
class FeatureCache:
    """Read cached stream features by clip id (shards opened lazily, tensors read on demand)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        index = self.root / INDEX
        if not index.is_file():
            raise ConfigError(f"{self.root} is not a feature cache (no {INDEX}); build one with cache-features")
        meta = json.loads(index.read_text(encoding="utf-8"))
        self.clips: dict[str, dict[str, Any]] = meta["clips"]
        self.shapes: dict[str, list[int]] = meta["shapes"]

    def __contains__(self, clip_id: str) -> bool:
        return clip_id in self.clips

    def __len__(self) -> int:
        return len(self.clips)

    def check(self, config: Any) -> None:
        """Raise ``ModelError`` if the cached shapes do not match the model's streams."""
        for s in config.streams:
            want = [int(s.get("group", 1)) * int(s.get("num_tokens", 1)),
                    int(config.encoders[s["encoder"]]["feature_dim"])]
            got = self.shapes.get(s["name"])
            if got is not None and list(got) != want:
                raise ModelError(f"feature cache {self.root}: stream {s['name']!r} has shape {got}, model wants {want}")

    def get(self, clip_id: str) -> dict[str, torch.Tensor]:
        from safetensors import safe_open

        entry = self.clips[clip_id]
        with safe_open(str(self.root / entry["shard"]), framework="pt") as f:
            return {s: f.get_tensor(f"{clip_id}/{s}") for s in entry["streams"]}


def build_feature_cache(model: Any, clips: Iterable[tuple[str, str | Path]], out_dir: str | Path,
                        shard_size: int = 64, dtype: torch.dtype = torch.float16,
                        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Encode each (clip id, media path) with ``model``'s frozen encoders into ``out_dir``; resumable.

    Clips already in the index are skipped; a clip that cannot be decoded is skipped and counted.
    Returns counts: ``encoded``, ``already``, ``failed`` (clip id -> reason).
    """
    import safetensors.torch

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    index_path = out / INDEX
    meta = json.loads(index_path.read_text(encoding="utf-8")) if index_path.is_file() else {"clips": {}, "shapes": {}}
    pending: dict[str, torch.Tensor] = {}
    pending_clips: dict[str, list[str]] = {}
    shard_no = len({e["shard"] for e in meta["clips"].values()})
    counts: dict[str, Any] = {"encoded": 0, "already": 0, "failed": {}}

    def flush() -> None:
        nonlocal shard_no, pending, pending_clips
        if not pending_clips:
            return
        name = f"features-{shard_no:05d}.safetensors"
        atomic_write_bytes(out / name, safetensors.torch.save(pending))
        for cid, streams in pending_clips.items():
            meta["clips"][cid] = {"shard": name, "streams": streams}
        atomic_write_text(index_path, json.dumps(meta, indent=1))
        shard_no += 1
        pending, pending_clips = {}, {}

    model.eval()
    for clip_id, path in clips:
        if clip_id in meta["clips"] or clip_id in pending_clips:
            counts["already"] += 1
            continue
        try:
            cm = load_clip_media(path, model.config, set(model.encoders.towers))
            with torch.no_grad():
                feats = model.encoders(cm.media, audio_lengths=cm.audio_lengths) if cm.media else {}
        except EmoreasonError as exc:
            counts["failed"][clip_id] = str(exc)
            continue
        for stream, x in feats.items():
            pending[f"{clip_id}/{stream}"] = x[0].to(dtype).contiguous()
            meta["shapes"][stream] = list(x.shape[1:])
        pending_clips[clip_id] = sorted(feats)
        counts["encoded"] += 1
        if progress:
            progress(clip_id)
        if len(pending_clips) >= shard_size:
            flush()
    flush()
    if not index_path.exists():
        atomic_write_text(index_path, json.dumps(meta, indent=1))
    return counts
