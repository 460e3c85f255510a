"""The fusion fit's ``--only``: one modality refitted, the others' entries kept from the existing file."""

from __future__ import annotations

import json

import numpy as np

from emoreason.labels import CANONICAL
from emoreason.training import fusion


def test_only_face_refits_face_and_keeps_the_others(tmp_path, monkeypatch):
    kept = {"temperature": 0.9, "uar": 0.5, "accuracy": 0.6, "classes": 7, "skill": 0.4, "n": 10}
    voice = dict(kept, skill=0.8, temperature=0.8)
    out = tmp_path / "fusion.json"
    old_face = dict(kept, temperature=5.0)
    out.write_text(json.dumps({"held_out": {"text": kept, "face": old_face, "voice": voice}}))
    rng = np.random.default_rng(0)
    y = rng.integers(0, len(CANONICAL), 200)
    probs = np.full((200, len(CANONICAL)), 0.05)
    probs[np.arange(200), y] = 0.7  # a confident, mostly right face model: its temperature moves below 5
    probs /= probs.sum(1, keepdims=True)
    monkeypatch.setattr(fusion, "face_predictions", lambda *a, **k: (probs, y))
    monkeypatch.setattr(fusion, "text_predictions", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    monkeypatch.setattr(fusion, "voice_predictions", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    assert fusion.main(["--out", str(out), "--only", "face"]) == 0
    fitted = json.loads(out.read_text())
    assert fitted["held_out"]["text"] == kept and fitted["held_out"]["voice"] == voice
    assert fitted["held_out"]["face"]["temperature"] != 5.0 and fitted["held_out"]["face"]["n"] == 200
    skills = {m: r["skill"] for m, r in fitted["held_out"].items()}
    assert fitted["priors"] == {m: round(v / max(skills.values()), 3) for m, v in skills.items()}


def test_only_needs_an_existing_file(tmp_path):
    assert fusion.main(["--out", str(tmp_path / "none.json"), "--only", "face"]) == 2
