"""``emoreason analyze``: one or more inputs → a summary in the terminal, or JSON / JSONL / CSV files.

Batch mode (:func:`emoreason.batch.analyze_batch`) applies when the one input is a folder or a ``.csv``
manifest, or when ``--workers``, ``--backend`` or ``--retry-failed`` is given: results are appended to a
JSONL file as each input finishes, and a rerun resumes. A plain list of files without those options is
analysed here, in this process, one after the other, and written when all are done.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from emoreason.api import analyze, analyze_clips
from emoreason.batch import analyze_batch, failures_path, find_inputs
from emoreason.errors import ConfigError, EmoreasonError, ModelError
from emoreason.io.batch_runner import BACKENDS
from emoreason.io.outputs import check_output_file
from emoreason.io.results import RESULT_FORMATS, InputFailure, write_results
from emoreason.labels import LABEL_MAPS
from emoreason.perception.face.analyzer import FACE_MODELS
from emoreason.perception.voice.analyzer import SPEAKER_NORMALISATION
from emoreason.pipeline.options import AnalyzeOptions
from emoreason.report.html import write_html_report
from emoreason.report.timeline_plot import plot_timeline
from emoreason.result import Result

log = logging.getLogger(__name__)
#: Errors of the setup (a bad option, a model missing), not of one input: they stop a batch.
SETUP_ERRORS = (ConfigError, ModelError)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="recognise and explain the emotion in videos, audio, images or text",
                       description="Recognise the emotion in each input and explain it with the cues "
                                   "observed.")
    p.add_argument("inputs", nargs="*",
                   help="video, audio or image files (none with --text: text only), or one folder (its media "
                        "files, recursively) or CSV manifest (a 'path' column, relative to the CSV's folder) "
                        "for batch mode; an input that fails is recorded as an error and the exit code is 1")
    p.add_argument("--text", help="what is said (replaces speech-to-text); alone: analyse this text")
    p.add_argument("--context", action="append", default=None, metavar="UTTERANCE",
                   help="something said before this input (repeat, oldest first); "
                        "the text model reads the last 3")
    p.add_argument("--transcript", type=Path,
                   help="a .txt/.srt/.vtt transcript (default: one beside the media)")
    p.add_argument("--modalities", default="all",
                   help="comma-separated subset of face,voice,text (default all)")
    p.add_argument("--labels", default="canonical", choices=sorted(LABEL_MAPS),
                   help="label set of the output")
    p.add_argument("--fps", type=float, default=5.0, help="video frames analysed per second (default 5)")
    p.add_argument("--model",
                   help="a multimodal-LLM checkpoint directory to use instead of the default pipeline, "
                        "or 'compact' (the shipped compact model)")
    p.add_argument("-o", "--output", type=Path,
                   help="write results here (format from --format or the suffix)")
    p.add_argument("--format", choices=RESULT_FORMATS, help="output format (default: from -o suffix)")
    p.add_argument("--report", type=Path, help="also write a self-contained HTML report (one input)")
    p.add_argument("--plot", type=Path, help="also write the timeline as a PNG (one input)")
    p.add_argument("--explain-endpoint", help="OpenAI-compatible server URL whose LLM writes the explanation")
    p.add_argument("--explain-model", default="default", help="model name to ask that server for")
    p.add_argument("--asr-model", type=Path,
                   help="a local CTranslate2 Whisper model directory (default: the shipped multilingual "
                        "Whisper base)")
    p.add_argument("--language", metavar="CODE",
                   help="the spoken language as a Whisper code (en, de, zh, ...) or English name; "
                        "default: identified from the speech")
    p.add_argument("--speaker-normalisation", choices=SPEAKER_NORMALISATION, default="auto",
                   help="z-score the voice within the recording: auto (when it has 15+ segments spread "
                        "over many emotions), always (3+ segments), never (default auto)")
    p.add_argument("--face-model", choices=FACE_MODELS, default="default",
                   help="the face stage's expression model: default (the shipped fer+facex pool), or one of "
                        "the others to compare with (fusion keeps the default's face calibration)")
    p.add_argument("--people", action="store_true",
                   help="also analyse each person: faces tracked, voices diarised and paired by mouth-voice "
                        "synchrony, one label, timeline and explanation per person (the clip's overall "
                        "result is kept as without --people)")
    p.add_argument("--speakers", type=int, metavar="N",
                   help="how many people speak (implies --people; default: estimated from the voices)")
    p.add_argument("--same-speaker", action="store_true",
                   help="the inputs are clips of one speaker: read their voice together as one recording, "
                        "so the voice model can normalise per speaker (one result per clip)")
    batch = p.add_argument_group(
        "batch mode", "a folder, a CSV manifest, or any of these options: -o results.jsonl gets one line per "
        "input as it finishes (in that order), failures go to results.failures.jsonl, the options to "
        "results.options.json; rerun the same command after a crash or kill -9 to resume")
    batch.add_argument("--workers", type=int, metavar="N",
                       help="worker processes, each loading the models once (default in batch mode: "
                            "min(2, CPUs)); 1 runs in this process")
    batch.add_argument("--backend", choices=BACKENDS,
                       help="local worker processes (default) or Ray tasks (needs ray: pip install "
                            "'emoreason[distributed]'; see docs/cluster.md)")
    batch.add_argument("--address", "--ray-address", dest="address",
                       help="Ray cluster address for --backend ray, e.g. auto (default: start a local one)")
    batch.add_argument("--retry-failed", action="store_true",
                       help="on resuming, analyse again the inputs recorded as failed (default: skip them)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (there is none either when stderr is not a terminal)")
    p.set_defaults(func=run)


def _archive(args: argparse.Namespace) -> str | None:
    """The one input when it is a folder or a .csv manifest, else None."""
    one = args.inputs[0] if len(args.inputs) == 1 else None
    return one if one is not None and (os.path.isdir(one) or one.lower().endswith(".csv")) else None


def is_batch(args: argparse.Namespace) -> bool:
    """Batch mode: one folder or .csv manifest, or a batch option."""
    return (_archive(args) is not None or args.workers is not None or args.backend is not None
            or args.retry_failed)


def _people(args: argparse.Namespace) -> dict:
    """``people`` and ``speakers`` for the analysis, only when asked for (``--speakers`` implies
    ``--people``), so a batch's recorded options hold no people keys otherwise; checked here, before any work
    (``--speakers 0`` is a ConfigError)."""
    if not args.people and args.speakers is None:
        return {}
    AnalyzeOptions(people=True, speakers=args.speakers, model=args.model)
    return {"people": True, "speakers": args.speakers}


def run_batch(args: argparse.Namespace) -> int:
    """Batch mode: resumable, one JSONL line per input; exit 0 when every input has a result, else 1."""
    if not args.inputs:
        raise ConfigError("batch mode needs inputs: a folder, a .csv manifest or media files")
    people = _people(args)
    refused = [name for name, value in (("--text", args.text), ("--transcript", args.transcript),
                                        ("--context", args.context), ("--report", args.report),
                                        ("--plot", args.plot), ("--same-speaker", args.same_speaker))
               if value]
    if refused:
        raise ConfigError(f"batch mode (a folder, a manifest, --workers, --backend, --retry-failed) "
                          f"does not take {', '.join(refused)}")
    if args.output is None or (args.format or args.output.suffix.lstrip(".").lower()) != "jsonl":
        raise ConfigError("batch mode writes JSON lines: give -o RESULTS.jsonl")
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be at least 1 (got {args.workers})")
    if args.address and args.backend != "ray":
        raise ConfigError("--address is for --backend ray")
    check_output_file(args.output, "-o")
    archive = _archive(args)
    inputs = find_inputs(archive) if archive is not None else args.inputs
    summary = analyze_batch(
        inputs, args.output, workers=args.workers or min(2, os.cpu_count() or 1),
        backend=args.backend or "processes", address=args.address, retry_failed=args.retry_failed,
        progress=not args.no_progress and sys.stderr.isatty(),
        modalities=args.modalities, labels=args.labels, fps=args.fps, model=args.model,
        explain_endpoint=args.explain_endpoint, explain_model=args.explain_model, asr_model=args.asr_model,
        speaker_normalisation=args.speaker_normalisation, face_model=args.face_model, language=args.language,
        **people)
    print(f"wrote {args.output}: {summary.describe()}", file=sys.stderr)
    if summary.failed and not args.retry_failed and summary.skipped:
        print(f"emoreason: inputs in {failures_path(args.output)} are skipped on a rerun; "
              "--retry-failed analyses them again", file=sys.stderr)
    return 0 if summary.analysed == summary.inputs else 1


def run(args: argparse.Namespace) -> int:
    """Analyse each input and print or write the results; 0 when all were analysed, 1 when some inputs of
    a batch failed (each recorded in the output as an :class:`InputFailure` and named on stderr), and a
    ConfigError (exit 2) for wrong arguments or an output path that cannot be written, raised before any
    work. Batch mode (:func:`is_batch`) goes to :func:`run_batch`."""
    if is_batch(args):
        return run_batch(args)
    if not args.inputs and args.text is None:
        raise ConfigError("give at least one input file, or --text")
    if (args.report or args.plot) and len(args.inputs) > 1:
        raise ConfigError("--report and --plot take one input at a time")
    for option, path in (("-o", args.output), ("--report", args.report), ("--plot", args.plot)):
        if path is not None:
            check_output_file(path, option)
    fmt = args.format or (args.output.suffix.lstrip(".").lower() if args.output else None)
    if fmt is not None and fmt not in RESULT_FORMATS:
        raise ConfigError(f"cannot write {fmt!r}: use --format json, jsonl or csv")
    sources = args.inputs or [None]
    results: list[Result | InputFailure] = []
    people = _people(args)
    if args.same_speaker:
        if len(args.inputs) < 2 or args.model or args.text is not None or args.transcript or args.context:
            raise ConfigError("--same-speaker takes two or more media files of one speaker, without --model, "
                              "--text, --transcript or --context")
        if people:
            raise ConfigError("--same-speaker (clips of one speaker) and --people/--speakers (several people "
                              "in one clip) do not go together")
        results.extend(analyze_clips(args.inputs, modalities=args.modalities, labels=args.labels,
                                     fps=args.fps, speaker_normalisation=args.speaker_normalisation,
                                     face_model=args.face_model, language=args.language))
        sources = []
        if args.output is None:
            for r in results:
                print(r.summary())
    batch = len(sources) > 1
    for src in sources:
        try:
            r = analyze(src, text=args.text, transcript=args.transcript, modalities=args.modalities,
                        labels=args.labels, fps=args.fps, model=args.model,
                        progress=not args.no_progress and sys.stderr.isatty(),
                        explain_endpoint=args.explain_endpoint, explain_model=args.explain_model,
                        asr_model=args.asr_model, context=args.context,
                        speaker_normalisation=args.speaker_normalisation, face_model=args.face_model,
                        language=args.language, **people)
        except SETUP_ERRORS:
            raise  # every input would fail the same way
        except Exception as exc:  # noqa: BLE001 - in a batch, one input's failure is recorded, not fatal
            if not batch:
                raise
            failure = InputFailure.from_exception(src, exc)
            log.info("%s failed", src, exc_info=not isinstance(exc, EmoreasonError))
            print(f"emoreason: error: {failure.line()}", file=sys.stderr)
            results.append(failure)
            continue
        results.append(r)
        if args.output is None:
            print(r.summary())
    failed = sum(isinstance(r, InputFailure) for r in results)
    if args.output is not None:
        write_results(results, args.output, fmt or "json")
        print(f"wrote {len(results)} result(s) to {args.output}"
              + (f" ({failed} failed: their errors are recorded there)" if failed else ""), file=sys.stderr)
    elif failed:
        print(f"emoreason: {failed} of {len(results)} inputs failed", file=sys.stderr)
    if args.report:
        write_html_report(results[0], args.report, media_path=sources[0])
        print(f"wrote report {args.report}", file=sys.stderr)
    if args.plot:
        plot_timeline(results[0], args.plot)
        print(f"wrote timeline {args.plot}", file=sys.stderr)
    return 1 if failed else 0
