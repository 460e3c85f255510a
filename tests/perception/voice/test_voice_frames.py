"""The frame-level voice network: numpy inference matches torch, training sees the signal, and the
exported model needs (and uses) the encoder states. Tiny synthetic data, CPU only."""

from __future__ import annotations

import numpy as np
import pytest

from emoreason.errors import ModelError
from emoreason.perception.voice.classifier import VoiceClassifier
from emoreason.perception.voice.frames import FRAME_KEYS, frame_proba
from emoreason.perception.voice.prosody import COLUMNS
from emoreason.training.voice import crossval as cv
from emoreason.training.voice import frames as vf
from emoreason.training.voice import model as vm
from emoreason.training.voice import recipe as rc

DIM = 16


def _frames(y: np.ndarray, seed: int, signal: float = 1.5):
    """One view: for clip i, 5-12 frames of noise plus a class direction on a few frames."""
    rng = np.random.RandomState(seed)
    centres = np.random.RandomState(99).randn(len(rc.CLASSES), DIM) * signal
    seqs = []
    for c in y:
        n = rng.randint(5, 13)
        s = rng.randn(n, DIM)
        s[: n // 2] += centres[c]
        seqs.append(s.astype(np.float16))
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in seqs])]).astype(np.int64)
    return np.concatenate(seqs), offsets


def test_numpy_inference_matches_torch():
    import torch

    torch.manual_seed(0)
    net = vf._net(DIM, len(rc.CLASSES), 8).eval()
    sd = {k: v.detach().numpy().astype(np.float64) for k, v in net.state_dict().items()}
    params = {"in_mean": np.zeros(DIM), "in_std": np.ones(DIM), "proj_w": sd["proj.weight"],
              "proj_b": sd["proj.bias"], "att_w": sd["att.weight"], "att_b": sd["att.bias"],
              "out_w": sd["out.weight"], "out_b": sd["out.bias"]}
    rng = np.random.RandomState(1)
    segs = [rng.randn(n, DIM).astype(np.float32) for n in (3, 7, 12)]
    ours = frame_proba(params, segs)
    x = np.zeros((3, 12, DIM), dtype=np.float32)
    mask = np.zeros((3, 12), dtype=bool)
    for i, s in enumerate(segs):
        x[i, :len(s)], mask[i, :len(s)] = s, True
    with torch.no_grad():
        ref = torch.softmax(net(torch.from_numpy(x), torch.from_numpy(mask)), dim=1).numpy()
    assert np.allclose(ours, ref, atol=1e-5)
    assert set(params) == set(FRAME_KEYS)


def test_training_learns_the_class_signal_and_is_reproducible():
    y = np.repeat(np.arange(len(rc.CLASSES)), 12)
    views = [_frames(y, s) for s in range(3)]
    train, test = np.arange(0, len(y), 2), np.arange(1, len(y), 2)
    a = vf.fit_frames(views, y, train, len(rc.CLASSES), seed=0, epochs=15)
    b = vf.fit_frames(views, y, train, len(rc.CLASSES), seed=0, epochs=15)
    assert all(np.array_equal(a[k], b[k]) for k in FRAME_KEYS)
    p = vf.predict_frames(a, views[:2], test)
    assert p.shape == (len(test), len(rc.CLASSES)) and np.allclose(p.sum(axis=1), 1)
    assert np.mean(p.argmax(axis=1) == y[test]) > 0.8


def _clips(per_class: int, n_actors: int):
    """Labels, actors, pooled-feature views and frame views of a small synthetic voice corpus."""
    rng = np.random.RandomState(0)
    y = np.tile(np.repeat(np.arange(len(rc.CLASSES)), per_class), n_actors)
    actor = np.repeat(np.arange(1, n_actors + 1), per_class * len(rc.CLASSES))
    x = rng.randn(len(y), 6 + len(COLUMNS)) + y[:, None]
    views = [x + rng.randn(*x.shape) * 0.1 for _ in range(1 + len(rc.AUGMENTATIONS))]
    frames = [_frames(y, s) for s in range(1 + len(rc.AUGMENTATIONS))]
    return y, actor, x, views, frames


def test_exported_model_with_frames_needs_and_uses_the_states(tmp_path, monkeypatch):
    monkeypatch.setattr(vf, "EPOCHS", 3)
    y, actor, x, views, frames = _clips(per_class=3, n_actors=4)
    vm.export(views, y, actor, tmp_path, report={}, frames=frames)
    clf = VoiceClassifier(tmp_path)
    assert clf.uses_frames and clf.config.frame_weight == rc.FRAME_WEIGHT
    with pytest.raises(ModelError, match="frame network"):
        clf.predict(x[:2])
    with pytest.raises(ModelError, match="frame network"):
        clf.speaker_gate(x[:20])  # the gate reads the population blend, so it needs them too
    states = [vf.clip_states(frames[0], i) for i in range(2)]
    per_segment = np.stack([clf.segment_frame_proba([st]) for st in states])
    both, _ = clf.predict(x[:2], frame_probs=per_segment)
    assert both.shape == (2, 7) and np.allclose(both.sum(axis=1), 1)
    alone, _ = clf.predict(x[:2], frame_probs=np.full_like(per_segment, 1 / per_segment.shape[1]))
    assert not np.allclose(alone, both)  # the frame network's share really moves the result
    # several views of a segment: their frame probabilities are averaged
    two = clf.segment_frame_proba([states[0], states[1]])
    assert np.allclose(two, (clf.segment_frame_proba([states[0]]) + clf.segment_frame_proba([states[1]])) / 2)
    with pytest.raises(ModelError, match="frame probabilities"):
        clf.predict(x[:2], frame_probs=per_segment[:1])


def test_cross_validation_with_frames_reports_the_blend_and_its_parts(monkeypatch):
    monkeypatch.setattr(vf, "EPOCHS", 2)
    y, actor, x, views, frames = _clips(per_class=2, n_actors=6)
    report = cv.cross_validate(views, x[:, -len(COLUMNS):], y, actor, frames=frames)
    keys = ("ours_frames", "lr_population", "lr_recording_all", "ours_population", "ours_recording_same5")
    for key in keys:
        assert np.array(report[key]["confusion"]).sum() == len(y) * len(rc.SEEDS)
    assert report["lr_population"]["uar_mean"] > 0.5


def test_shipped_model_has_no_frame_network_and_needs_no_states():
    """The shipped model (multicorpus.py) has the regressions only; a frame network is tested on an
    exported folder above."""
    clf = VoiceClassifier()
    assert not clf.uses_frames and clf.config.frame_weight == 0
    assert not any(k.startswith("frames.") for k in clf.tensors)
    probs, variant = clf.predict(np.zeros((1, clf.dim)))
    assert variant == "population" and np.isclose(probs.sum(), 1.0)
