"""A user's clip -> the multimodal LLM's encoder inputs (pixel values, waveforms) for one clip.

Decoding (PyAV through :mod:`emoreason.io.media`): frames sampled evenly over the clip, faces cropped
with mediapipe's face mesh (the main face, box widened by 20 %), audio as 16 kHz mono. The frame
encoder sees the middle frame; face and temporal encoders see the face crops. A ``face_measures``
encoder's stream features are computed here from the frames by the face stage
(:func:`~emoreason.emollm.face_measures.face_measure_vector`) and returned in ``ClipMedia.features``.
An image file is one frame. A stream whose input is missing (no face found, no audio track) is left out
and said so in ``notes``; it is never faked.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import soundfile as sf
import torch
from transformers import WhisperFeatureExtractor

from emoreason.emollm.face_measures import NUM_FRAMES as FACE_MEASURE_FRAMES
from emoreason.emollm.face_measures import clip_fps, face_measure_vector
from emoreason.io.image import load_image
from emoreason.io.media import decode, probe
from emoreason.perception.face.mesh import FaceMeshTracker


def frames_to_pixels(frames: np.ndarray, spec: dict[str, Any]) -> torch.Tensor:
    """uint8 frames [T, H, W, 3] -> float [T, 3, S, S], resized to ``image_size`` and normalised."""
    size = int(spec.get("image_size", 224))
    mean = torch.tensor(spec.get("image_mean", [0.5, 0.5, 0.5])).view(1, 3, 1, 1)
    std = torch.tensor(spec.get("image_std", [0.5, 0.5, 0.5])).view(1, 3, 1, 1)
    x = torch.as_tensor(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return (x - mean) / std


def sample_indices(n_available: int, n_wanted: int) -> list[int]:
    """``n_wanted`` evenly spaced (centred) indices into ``n_available`` items (repeats when there are
    fewer)."""
    if n_available <= 0:
        return []
    return [min(n_available - 1, int((i + 0.5) * n_available / n_wanted)) for i in range(n_wanted)]


def audio_to_inputs(samples: np.ndarray, model_type: str, normalize: bool = True) -> torch.Tensor:
    """16 kHz mono float32 -> encoder input: raw (optionally normalised) waveform, or Whisper log-mel."""
    x = np.asarray(samples, dtype=np.float32)
    if model_type == "whisper":
        fe = WhisperFeatureExtractor()
        return torch.as_tensor(fe(x, sampling_rate=16000, return_tensors="np")["input_features"][0])
    if normalize:
        x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    return torch.as_tensor(x)


@dataclass
class ClipMedia:
    """Encoder inputs for one clip (batch of 1) and what could not be provided."""

    media: dict[str, torch.Tensor]
    audio_lengths: torch.Tensor | None
    duration: float | None
    notes: list[str] = field(default_factory=list)
    samples: np.ndarray | None = None  # the decoded 16 kHz mono audio (for speech recognition)
    #: stream name -> features [1, 1, D] computed from the media (``face_measures`` encoders)
    features: dict[str, torch.Tensor] = field(default_factory=dict)


def _face_crops(frames: list[np.ndarray], widen: float = 1.2) -> list[np.ndarray | None]:
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
    return np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA) for im in images])


def _num_frames(spec: dict[str, Any]) -> int:
    return FACE_MEASURE_FRAMES if spec["kind"] == "face_measures" else int(spec.get("num_frames", 1))


def load_clip_media(path: str | Path, config: Any, encoders: set[str] | None = None) -> ClipMedia:
    """Decode ``path`` and prepare the inputs of ``encoders`` (default: every encoder in ``config``)."""
    info = probe(path)
    notes: list[str] = []
    specs = {k: v for k, v in config.encoders.items() if encoders is None or k in encoders}
    samples = None
    wanted = max([_num_frames(s) for s in specs.values() if s["kind"] != "audio"] or [1])
    frames: list[np.ndarray] = []
    media: dict[str, torch.Tensor] = {}
    audio_lengths = None
    fps = clip_fps(info.duration, wanted)
    if info.kind == "image":
        frames = [load_image(path)]
    else:
        with tempfile.TemporaryDirectory(prefix="emollm-") as tmp:
            wav = Path(tmp) / "audio.wav"
            decode(path, fps=fps, on_frame=(lambda t, rgb: frames.append(rgb)) if info.has_video else None,
                   audio_path=wav if info.has_audio else None, max_side=640)
            if info.has_audio and wav.exists():
                samples, _ = sf.read(str(wav), dtype="float32")
    crops = None
    if frames and any(s["kind"] in ("face", "temporal") for s in specs.values()):
        crops = _fill_missing(_face_crops(frames))
        if crops is None:
            notes.append(f"no face found in {len(frames)} frames: face and temporal streams left out")
    computed: dict[str, torch.Tensor] = {}
    for name, spec in specs.items():
        kind = spec["kind"]
        size = int(spec.get("image_size", 224))
        if kind == "face_measures" and frames:
            vec = face_measure_vector(frames[0] if info.kind == "image" else frames, fps=fps)
            if vec is None:
                notes.append(f"the face stage found no face in {len(frames)} frames: "
                             f"the {name} stream is left out")
            else:
                t = torch.from_numpy(vec).view(1, 1, -1)
                computed.update({s["name"]: t for s in config.streams if s["encoder"] == name})
        elif kind == "frame" and frames:
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
            wave = audio_to_inputs(samples, model_type, bool(spec.get("normalize_audio", True)))
            media[name] = wave.unsqueeze(0)
            audio_lengths = torch.tensor([len(samples)])
        elif kind != "audio" and not frames:
            notes.append(f"no video frames: the {name} stream is left out")
    return ClipMedia(media, audio_lengths, info.duration, notes, samples, computed)
