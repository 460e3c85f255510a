"""The builder on an audio file, an image and a text-only item (no peak frame for them), and the default
perceiver on a text-only item with the project's real text model."""

from __future__ import annotations

import numpy as np
import pytest

from emoreason.dataset_builder.builder import BuildOptions, ClipPerception, build_record, default_perceiver
from emoreason.dataset_builder.manifest import ClipSpec
from emoreason.errors import UnsupportedFormatError
from emoreason.labels import CANONICAL
from emoreason.perception.base import ModalityOutput
from emoreason.result import Result

KINDS = {"voice": "audio", "face": "image", "text": "text"}


def scripted(path: str, subtitle: str | None, options: BuildOptions) -> ClipPerception:
    """The pipeline says sad on the item's one modality."""
    m = options.modalities
    scores = {lab: (0.7 if lab == "sad" else 0.05) for lab in CANONICAL}
    result = Result(input=path or None, duration=None, label="sad", scores=scores, valence=-0.5, arousal=0.0,
                    explanation=f"{m}: a cue. Overall: sad ({m} 100%).", transcript=subtitle or "",
                    provenance={"models": {}})
    return ClipPerception(result=result, outputs={m: ModalityOutput(m, True, scores=scores)}, duration=None,
                          video_fps=None, transcript=subtitle or "", media_kind=KINDS[m])


@pytest.mark.parametrize("modality", ["voice", "face", "text"])
def test_a_record_without_video_has_no_peak_frame(tmp_path, modality):
    media = {"voice": "a.flac", "face": "a.png", "text": ""}[modality]
    if media:
        (tmp_path / media).write_bytes(b"never decoded by the scripted perceiver")
    spec = ClipSpec("item", str(tmp_path / media) if media else "", "sad", None if media else "I lost it all")
    options = BuildOptions(modalities=modality, perceiver=f"{__name__}:scripted")
    rec = build_record(spec, options, tmp_path / "out")
    assert rec["image"] is None and not (tmp_path / "out" / "frames").exists()
    assert rec["video"] == (spec.path or None)
    assert rec["reasoning"].endswith("most likely feels sad.") and not rec["reasoning_check"]["contradicts"]


def test_default_perceiver_reads_a_text_only_item_with_the_text_model():
    text = "I am so happy, this is the best day of my life!"
    perc = default_perceiver("", text, BuildOptions(modalities="text"))
    assert perc.media_kind == "text" and perc.outputs["text"].usable
    assert perc.result.label == "happy" and "Words:" in perc.result.explanation
    with pytest.raises(UnsupportedFormatError):
        default_perceiver("", None, BuildOptions(modalities="text"))


def test_default_perceiver_rejects_people_on_an_image(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "a.png")
    with pytest.raises(UnsupportedFormatError, match="people need a video"):
        default_perceiver(str(tmp_path / "a.png"), None, BuildOptions(modalities="face", people=True))
