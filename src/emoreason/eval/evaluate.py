"""``evaluate``: dataset -> systems -> predictions -> report, the Python side of ``emoreason eval``."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from emoreason.errors import ConfigError
from emoreason.eval.datasets import get_adapter
from emoreason.eval.harness import System, run_all
from emoreason.eval.reasoning_metrics import Encoder, LlmJudge, default_encoder
from emoreason.eval.report import build_report, write_report
from emoreason.eval.systems import ConstantSystem, FilePredictions, pipeline_systems
from emoreason.io.outputs import check_output_dir

log = logging.getLogger(__name__)


def is_eval_folder(path: Path) -> bool:
    """Whether ``path`` holds an earlier evaluation (its prediction journals or its report)."""
    return (path / "predictions").is_dir() or (path / "report.json").is_file()


def check_eval_output(out_dir: str | Path) -> Path:
    """A ConfigError unless ``out_dir`` can take a report: a new or empty folder we can write in, or an
    earlier evaluation's folder (resumed; see :func:`is_eval_folder`). Creates nothing."""
    return check_output_dir(out_dir, "-o", kind="eval run", is_resumable=is_eval_folder)


def evaluate(
    dataset: str,
    root: str | Path,
    out_dir: str | Path,
    *,
    split: str | None = None,
    models: Sequence[str] = ("default",),
    modalities: Sequence[str] = ("all",),
    predictions: Sequence[str | Path] = (),
    baselines: Sequence[str] = (),
    systems: Mapping[str, System] | None = None,
    label_set: str | None = None,
    limit: int | None = None,
    sample: int | None = None,
    workers: int = 1,
    seed: int = 0,
    resamples: int = 1000,
    fps: float = 5.0,
    face_models: Sequence[str] = ("default",),
    voice_by_speaker: bool = False,
    mllm_reasoning: bool = False,
    progress: bool = True,
    resume: bool = True,
    reasoning: str = "auto",
    judge: LlmJudge | None = None,
    plots: bool = True,
    encoder: Encoder | None = None,
) -> dict[str, Any]:
    """Evaluate systems on one dataset split and write ``report.json``/``report.md``/PNGs to ``out_dir``.

    Systems compared side by side: the pipeline (``default`` in ``models``) for each modality set in
    ``modalities`` (face, voice, text, all, or ``face+voice`` ...), one multimodal LLM per other entry of
    ``models`` (``compact`` or a trained folder), one system per predictions file (CSV/JSONL), and any
    extra callables in ``systems``; ``baselines`` adds one constant predictor per label (the
    majority-class baseline).
    ``face_models`` runs each face-using set once per face expression model (any of
    :data:`~emoreason.perception.face.analyzer.FACE_MODELS`), to compare the default face stage with its
    peers in one report.
    ``voice_by_speaker`` adds, for each set using the voice, the pipeline with each speaker's clips read
    together (speaker normalisation over the corpus' speaker ids; :class:`SpeakerClipsSystem`).
    A multimodal LLM in ``models`` (``compact`` or a folder) answers labels only, with its parse rate;
    ``mllm_reasoning`` makes it generate its ``[reason]`` answer too, as the explanation (slow).
    Pass ``models=()`` to run no pipeline. ``sample`` draws a seeded random subset (``seed``) before
    ``limit`` takes the first items. ``reasoning``: ``auto`` (sentence-embedding clue
    overlap when the dataset has reference explanations), ``labels`` (emotion-word overlap only), ``off``.
    Returns the report dict. ``out_dir`` is checked first (:func:`check_eval_output`).
    """
    for opt, value in (("--limit", limit), ("--sample", sample), ("--workers", workers)):
        if value is not None and value < 1:
            raise ConfigError(f"{opt} must be at least 1, got {value}")
    if resamples < 0:
        raise ConfigError(f"--bootstrap must be 0 or more, got {resamples}")
    if reasoning not in ("auto", "labels", "off"):
        raise ConfigError(f"reasoning must be auto, labels or off, got {reasoning!r}")
    check_eval_output(out_dir)
    data = get_adapter(dataset, label_set).load(Path(root), split).sampled(sample, seed).limited(limit)
    chosen, notes = ({}, [])
    if models:
        chosen, notes = pipeline_systems(data, list(modalities), list(models), fps, face_models,
                                         voice_by_speaker, mllm_reasoning)
    all_systems: dict[str, System] = dict(chosen)
    for p in predictions:
        all_systems[f"file:{Path(p).stem}"] = FilePredictions.load(p, data)
    for label in baselines:
        all_systems[f"always-{label}"] = ConstantSystem(label)
    all_systems.update(systems or {})
    if not all_systems:
        raise ConfigError(
            "nothing to evaluate: no model, predictions file or system given"
            + (f" ({'; '.join(notes)})" if notes else "")
        )
    for n in notes:
        log.warning(n)
    out = Path(out_dir)
    preds = run_all(data, all_systems, out, workers=workers, progress=progress, resume=resume)
    has_refs = any(it.reference_explanation for it in data.items)
    if encoder is None and reasoning == "auto" and has_refs:
        encoder = default_encoder()
    if reasoning == "off":
        for it in data.items:
            it.reference_explanation = None
    config = {
        "dataset": data.name,
        "root": str(root),
        "split": split,
        "models": list(models),
        "mllm_reasoning": mllm_reasoning,
        "modalities": list(modalities),
        "predictions": [str(p) for p in predictions],
        "baselines": list(baselines),
        "systems": list(all_systems),
        "label_set": label_set,
        "limit": limit,
        "sample": sample,
        "workers": workers,
        "fps": fps,
        "reasoning": reasoning,
        "judge_model": judge.model if judge else None,
    }
    report = build_report(
        data,
        preds,
        config=config,
        seed=seed,
        resamples=resamples,
        encoder=encoder if reasoning == "auto" else None,
        judge=judge,
        notes=notes,
    )
    write_report(report, out, plots=plots)
    return report
