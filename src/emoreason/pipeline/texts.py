"""Many texts at once: the text stage of :meth:`emoreason.pipeline.perceive.Pipeline.perceive` for a list of
``text=`` inputs, with the text model run over all of them in one batched pass
(:meth:`emoreason.perception.text.analyzer.TextAnalyzer.analyze_many`). Each :class:`Perception` is the one
``perceive(None, options)`` gives for that text alone (same scores, evidence and notes)."""

from __future__ import annotations

import time

from emoreason.io.guard import check_cancelled
from emoreason.perception.base import ModalityOutput
from emoreason.perception.text.transcript import Transcript, TranscriptSegment, cap_text
from emoreason.pipeline.options import AnalyzeOptions
from emoreason.pipeline.perceive import Perception, Pipeline


def perceive_texts(pipeline: Pipeline, options: list[AnalyzeOptions]) -> list[Perception]:
    """One text-only Perception per ``options`` (each with ``text`` set and the text modality wanted)."""
    check_cancelled()
    started = time.perf_counter()
    perceptions, jobs = [], []
    for opt in options:
        p = Perception(input="<text>", kind="text", duration=None)
        perceptions.append(p)
        if not opt.text.strip():
            p.outputs["text"] = ModalityOutput.unusable("text", "the given text is empty")
            continue
        text, cut = cap_text(opt.text)
        if cut:
            p.notes.append(cut)
        transcript = Transcript(segments=[TranscriptSegment(0.0, 0.0, text.strip(), [], 1.0)], source="user")
        transcript.language = opt.language  # as perceive() does; None: identified from the words
        p.transcript = transcript.text
        jobs.append((p, transcript, list(opt.context) if opt.context else None))
    if jobs:
        outputs = pipeline.text_analyzer().analyze_many([t for _, t, _ in jobs], [c for _, _, c in jobs])
        each = (time.perf_counter() - started) / len(jobs)  # the batch's time, shared out
        for (p, transcript, _), out in zip(jobs, outputs):
            p.outputs["text"] = out
            p.timings["text"] = each
            p.language, p.language_probability = transcript.language, transcript.language_probability
    return perceptions
