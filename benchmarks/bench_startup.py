"""Start-up of a fresh process, before and after, alternating: process start -> first result on a clip,
minus the same clip's processing time in the then warm process (imports and model loading).

"before" is the code at a git ref (``--before``, default bench_analyze.BASE_REF) exported into a
temporary folder (``code_at.py``), "after" this tree. ``--modalities`` restricts the stages (e.g.
``face,voice`` leaves out the text stage, whose loading is the text model's own).

    .venv/bin/python benchmarks/bench_startup.py CLIP.mp4 --modalities face,voice --reps 3
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_analyze import BASE_REF  # noqa: E402
from code_at import REPO, code_at  # noqa: E402

CHILD = """
import sys, time
spawned, clip, modalities = float(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
from emoreason.api import analyze
analyze(clip, modalities=modalities)
first = time.time() - spawned
t0 = time.perf_counter()
analyze(clip, modalities=modalities)
print(first, time.perf_counter() - t0)
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clip")
    ap.add_argument("--modalities", default="face,voice,text")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--before", default=BASE_REF)
    args = ap.parse_args(argv)
    print(f"{args.clip}, {args.modalities}; before = {args.before}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    with code_at(args.before) as before_src:
        for _ in range(args.reps):
            for name, src in (("before", before_src), ("after", REPO / "src")):
                env = dict(os.environ, PYTHONPATH=str(src), HF_HUB_OFFLINE="1")
                cmd = [sys.executable, "-c", CHILD, str(time.time()), args.clip, args.modalities]
                out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
                if out.returncode != 0:
                    raise SystemExit(out.stderr[-3000:])
                first, warm = map(float, out.stdout.split()[-2:])
                print(f"{name:<7} first result {first:5.2f} s, warm run {warm:5.2f} s, start-up "
                      f"{first - warm:5.2f} s (load average {os.getloadavg()[0]:.1f})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
