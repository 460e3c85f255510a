"""``emoreason`` command line: one sub-command per module, each a typed ``run(args)`` function.

Exit codes: 0 done; 1 some of the work failed (e.g. some inputs of ``analyze`` could not be read: each is
recorded in the output and named on stderr); 2 a user's mistake (bad arguments, input or output path),
reported in one line; 130 interrupted (Ctrl-C); 128 + N stopped by signal N (143 for SIGTERM).
"""

from __future__ import annotations

import argparse
import logging
import sys

from emoreason import __version__
from emoreason.cli import analyze as analyze_cmd
from emoreason.cli import build_dataset as build_dataset_cmd
from emoreason.cli import demo as demo_cmd
from emoreason.cli import emollm as emollm_cmd
from emoreason.cli import eval as eval_cmd
from emoreason.cli import serve as serve_cmd
from emoreason.cli import train as train_cmd
from emoreason.cli.native_stderr import quiet_native_stderr
from emoreason.errors import EmoreasonError
from emoreason.io.cleanup import Interrupted, remove_stale_temporary_dirs, signals_interrupt

# Each module defines ``register(subparsers)`` which adds its sub-command with ``func=run``.
COMMAND_MODULES = [analyze_cmd, demo_cmd, build_dataset_cmd, serve_cmd, eval_cmd, emollm_cmd, train_cmd]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emoreason",
        description="Recognise emotion from face, voice and words, and explain it with the cues observed.",
    )
    parser.add_argument("--version", action="version", version=f"emoreason {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    remove_stale_temporary_dirs()  # what earlier runs killed outright (kill -9, out of memory) left behind
    try:
        # SIGTERM/SIGHUP/SIGINT unwind the work: temporary files are removed, no half-written output stays
        with signals_interrupt(), quiet_native_stderr(enabled=not args.verbose):
            return int(args.func(args) or 0)
    except EmoreasonError as exc:
        print(f"emoreason: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Interrupted as exc:
        print(f"emoreason: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("emoreason: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
