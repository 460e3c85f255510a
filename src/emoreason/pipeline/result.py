"""From a :class:`~emoreason.pipeline.perceive.Perception` to a :class:`~emoreason.result.Result`: fusion,
each cue's share of the decision, the timeline's words, the explanation, and the output's label set."""

from __future__ import annotations

import time

from emoreason import __version__
from emoreason.explain import explain, explain_with_llm
from emoreason.fusion import FusionConfig, fuse
from emoreason.labels import CANONICAL, LabelMap, get_label_map, valence_arousal_from_scores
from emoreason.languages import join_words
from emoreason.pipeline.options import AnalyzeOptions
from emoreason.pipeline.people_result import build_people
from emoreason.pipeline.perceive import Perception
from emoreason.result import Evidence, ModalitySummary, Person, Result


def build_result(p: Perception, config: FusionConfig | None = None) -> Result:
    """Fuse ``p``'s modalities (``config``: the shipped fusion.json by default) into a canonical Result with
    its evidence, timeline and template explanation."""
    config = config or FusionConfig.default()
    fused = fuse(p.outputs, p.duration, config)
    label = max(fused.scores, key=fused.scores.get)
    evidence: list[Evidence] = []
    modalities: dict[str, ModalitySummary] = {}
    models: dict[str, str] = {}
    for m, out in p.outputs.items():
        models.update(out.models)
        if m in fused.shares:
            own = list(out.evidence)
            raw = [max(e.weight, 0.0) for e in own]
            total = sum(raw)
            for e, w in zip(own, raw):  # a cue's share of the decision: its modality's share, split
                e.weight = fused.shares[m] * (w / total if total > 0 else 1 / len(own))
            evidence.extend(own)
            modalities[m] = ModalitySummary(used=True, label=max(out.scores, key=out.scores.get),
                                            scores=dict(out.scores), weight=fused.shares[m],
                                            details=out.details)
        else:
            evidence.append(Evidence(modality=m, name="dropped", value=0.0,
                                     description=out.reason or "not usable"))
            modalities[m] = ModalitySummary(used=False, reason=out.reason, details=out.details)
    dropped = {m: o.reason or "not usable" for m, o in p.outputs.items() if m not in fused.shares}
    if p.spoken:  # each timeline segment holds the words whose middle falls inside it
        for seg in fused.segments:
            seg.text = join_words((w for w, a, b in p.spoken if seg.start <= (a + b) / 2 < seg.end
                                   or (seg is fused.segments[-1] and (a + b) / 2 >= seg.end)),
                                  p.language).strip()
    if p.kind in ("image", "text"):  # a still input has no timeline: cues carry no times
        for e in evidence:
            e.start = e.end = None
    valence, arousal = valence_arousal_from_scores(fused.scores)
    evidence.sort(key=lambda e: (e.start if e.start is not None else 1e9, -e.weight))
    return Result(
        input=p.input,
        duration=p.duration,
        label=label,
        scores={lab: fused.scores[lab] for lab in CANONICAL},
        valence=valence,
        arousal=arousal,
        modalities=modalities,
        segments=fused.segments,
        evidence=evidence,
        explanation=explain(label, fused.scores, evidence, fused.shares, dropped, language=p.language,
                            language_probability=p.language_probability),
        transcript=p.transcript,
        language=p.language,
        language_probability=p.language_probability,
        notes=list(p.notes),
        provenance={
            "version": __version__,
            "kind": p.kind,
            "models": models,
            "fusion": config.note or "priors and temperatures from fusion.json",
            "valence_arousal": "derived from the category scores with a circumplex rule of thumb "
                               "(emoreason.labels.VALENCE_AROUSAL), not predicted by a model",
            "timings": dict(p.timings),
            "seed": 0,
        },
    )


def relabel(result: Result, label_set: str) -> Result:
    """Rewrite a canonical result's scores and labels (its people's too) into another taxonomy (in
    place)."""
    lm = get_label_map(label_set)
    for item in (result, *result.people):
        _relabel(item, lm)
    result.label_set = lm.name
    if lm.note:
        result.notes.append(f"labels in the {lm.name} set: {lm.note}")
    return result


def _relabel(result: Result | Person, lm: LabelMap) -> None:
    """One result's or person's scores, labels and cues in ``lm``'s taxonomy (a person without scores
    keeps none)."""
    if result.scores:
        result.scores = lm.convert_scores(result.scores)
        result.label = max(result.scores, key=result.scores.get)
    for seg in result.segments:
        seg.scores = lm.convert_scores(seg.scores)
        seg.label = max(seg.scores, key=seg.scores.get)
    for mod in result.modalities.values():
        if mod.used and mod.scores:
            mod.scores = lm.convert_scores(mod.scores)
            mod.label = max(mod.scores, key=mod.scores.get)
    for e in result.evidence:
        if e.supports:
            e.supports = lm.from_canonical.get(e.supports) or e.supports


def finish_result(p: Perception, options: AnalyzeOptions, started: float) -> Result:
    """``p``'s Result as ``emoreason.analyze`` returns it: built, its explanation written by the LLM at
    ``options.explain_endpoint`` when one is given (the template stays, with a note, when it fails), the
    total time since ``started`` (a ``time.perf_counter()`` reading) recorded, and relabelled into
    ``options.labels``. With ``options.people``, its ``people`` (:func:`emoreason.pipeline.people_result.
    build_people`), each explained by the template (the LLM writes the clip's explanation only), with the
    notes on how they were found in ``provenance["people"]``."""
    result = build_result(p)
    if options.people:
        t0 = time.perf_counter()
        how: list[str] = []
        result.people = build_people(p, build_result, notes=how)
        result.provenance["people"] = {"notes": how}
        result.provenance["timings"]["people"] = time.perf_counter() - t0
    if options.explain_endpoint:
        try:
            result.explanation = explain_with_llm(options.explain_endpoint, options.explain_model,
                                                  result.label, result.scores, result.evidence,
                                                  result.transcript, language=result.language)
            result.provenance["explanation"] = f"LLM {options.explain_model} at {options.explain_endpoint}"
        except RuntimeError as exc:
            result.notes.append(f"LLM explanation not used: {exc}; the template explanation is given instead")
    result.provenance["timings"]["total"] = time.perf_counter() - started
    if options.labels != "canonical":
        relabel(result, options.labels)
    return result
