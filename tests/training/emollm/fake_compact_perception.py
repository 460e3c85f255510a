"""A scripted perceiver for the compact-data tests: every item is "happy" by the pipeline.

So the builder closes the reasoning of a happy item with "Therefore ... happy" (kept), and flags any
other item's ("names happy but never sad": contradicts). Imported by name
(``fake_compact_perception:perceive``); the tests put this folder on ``sys.path``.
"""

from __future__ import annotations

from pathlib import Path

from emoreason.labels import CANONICAL
from emoreason.perception.base import ModalityOutput
from emoreason.result import Result

FAKE = "fake_compact_perception:perceive"


def perceive(path: str, subtitle: str | None, options) -> object:
    from emoreason.dataset_builder.builder import ClipPerception

    modality = options.modalities
    scores = {lab: (0.7 if lab == "happy" else 0.05) for lab in CANONICAL}
    out = ModalityOutput(modality, True, scores=scores)
    kind = {"voice": "audio", "face": "image", "text": "text"}[modality]
    if kind != "text":
        assert Path(path).is_file(), path
    else:
        assert path == "" and subtitle, (path, subtitle)
    result = Result(input=path or None, duration=None, label="happy", scores=scores, valence=0.5, arousal=0.2,
                    explanation=f"{modality} cue. Overall: happy ({modality} 100%).",
                    transcript=subtitle or "", provenance={"models": {"fake": "1"}})
    return ClipPerception(result=result, outputs={modality: out}, duration=None, video_fps=None,
                          transcript=subtitle or "", media_kind=kind)
