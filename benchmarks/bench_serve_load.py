"""Load test for `emoreason serve`: N concurrent clients for M seconds against a local server.

Starts the server in a subprocess on 127.0.0.1 (a free port), measures its resident memory, runs the
clients (threads, one HTTP connection each), measures the memory again and prints requests/s,
latency percentiles and the error count.

    python benchmarks/bench_serve_load.py --clients 8 --seconds 20 --payload text --analyzer real
    python benchmarks/bench_serve_load.py --clients 8 --seconds 20 --payload wav --analyzer echo
    python benchmarks/bench_serve_load.py --clients 4 --seconds 30 --payload wav --model PATH  # the MLLM
    python benchmarks/bench_serve_load.py --clients 2 --payload mixed --requests 1000 --checkpoint 100

``--requests N`` runs N requests in all (instead of for ``--seconds``) and prints the server's resident
memory after the first ``--checkpoint`` requests and after all N: a long run's memory should stay flat.
``--payload mixed`` rotates text (JSON), a face image (PNG), a 1 s voice clip (WAV) and the demo video
(face, voice and speech-to-text; one in two of those asks for the HTML report).

``--analyzer real`` runs emoreason.analyze (the whole pipeline); ``--analyzer echo`` answers with a
Result made from the request without analysing it, which measures the server's own cost (HTTP,
upload handling, media probing, queueing, JSON). Bounded: at most 64 clients and 300 seconds, loopback
only.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from skimage import data, transform

from emoreason.io.demo_clip import make_demo_clip
from emoreason.io.synth import write_media
from emoreason.labels import CANONICAL
from emoreason.result import Result
from emoreason.serve.app import create_app, default_analyzer, warm_up
from emoreason.serve.limits import Limits

MAX_CLIENTS = 64
MAX_SECONDS = 300
MAX_REQUESTS = 5000


def echo_analyzer(source: Any = None, **kwargs: Any) -> Any:
    """A Result from the request itself (no analysis): the server's overhead alone."""
    size = Path(source).stat().st_size if source else 0
    scores = dict.fromkeys(CANONICAL, 0.0)
    scores["neutral"] = 1.0
    return Result(input=str(source), duration=None, label="neutral", scores=scores, valence=0.0, arousal=0.0,
                  transcript=kwargs.get("text") or "", notes=[f"echo: {size} bytes, no analysis"])


PAYLOAD_MODALITY = {"text": ["text"], "wav": ["voice"], "video": ["face"], "mixed": ["text", "voice", "face"]}


def serve(port: int, analyzer: str, concurrency: int, queue: int, model: str | None, payload: str) -> None:
    analyze = echo_analyzer if analyzer == "echo" else default_analyzer()
    if analyzer == "real" and model is None:
        warm_up(analyze, modalities=PAYLOAD_MODALITY[payload])  # load the models the payload needs
    limits = Limits(max_concurrency=concurrency, max_queue=queue, request_timeout_s=120)
    app = create_app(analyze, limits=limits, model_path=model)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error")


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def wav_tone(seconds: float = 1.0, sr: int = 16000) -> bytes:
    t = np.arange(int(seconds * sr)) / sr
    pcm = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def video_clip(seconds: float = 2.0, fps: int = 10, size: tuple[int, int] = (320, 240)) -> bytes:
    """A small MPEG-4 clip of scikit-image's astronaut photo (a face), brightening over time."""
    w, h = size
    base = (transform.resize(data.astronaut(), (h, w), anti_aliasing=True) * 255).astype(np.float32)
    n = int(seconds * fps)
    frames = (np.clip(base * (0.7 + 0.3 * i / n), 0, 255).astype(np.uint8) for i in range(n))
    with tempfile.TemporaryDirectory() as tmp:
        return write_media(Path(tmp) / "clip.mp4", frames, fps=fps).read_bytes()


def face_png() -> bytes:
    """scikit-image's astronaut photo (a face) as a 320x320 PNG."""
    from PIL import Image

    buf = io.BytesIO()
    face = (transform.resize(data.astronaut(), (320, 320), anti_aliasing=True) * 255).astype(np.uint8)
    Image.fromarray(face).save(buf, format="PNG")
    return buf.getvalue()


def demo_video() -> bytes:
    """The demo clip (a face photo with espeak-ng speech, ~7 s): face, voice and text in one request."""
    with tempfile.TemporaryDirectory() as tmp:
        return make_demo_clip(Path(tmp) / "demo.mp4").read_bytes()


def make_payload(payload: str, audio: str | None = None) -> Any:
    if payload == "mixed":
        return {"wav": Path(audio).read_bytes() if audio else wav_tone(), "png": face_png(),
                "audio_name": Path(audio).name if audio else "tone.wav", "mp4": demo_video()}
    return wav_tone() if payload == "wav" else video_clip() if payload == "video" else b""


def client_loop(url: str, payload: str, media: bytes, deadline: float, out: list[tuple[float, int]],
                lock: threading.Lock, max_requests: int | None = None) -> None:
    texts = ["I can't believe we won, this is wonderful!", "Leave me alone, I am furious.",
             "I miss her so much.", "The meeting is at three."]
    wav = clip = media
    i = 0
    with httpx.Client(base_url=url, timeout=130) as c:
        while time.monotonic() < deadline and (max_requests is None or i < max_requests):
            t0 = time.perf_counter()
            kind = payload if payload != "mixed" else ("text", "png", "wav", "mp4")[i % 4]
            try:
                if kind == "png":
                    r = c.post("/v1/analyze", files={"file": ("face.png", media["png"], "image/png"),
                                                     "modalities": (None, "face")})
                elif kind == "wav" and payload == "mixed":
                    r = c.post("/v1/analyze", files={"file": (media["audio_name"], media["wav"],
                                                              "application/octet-stream"),
                                                     "modalities": (None, "voice")})
                elif kind == "wav":
                    r = c.post("/v1/analyze", files={"file": ("tone.wav", wav, "audio/wav"),
                                                     "modalities": (None, "voice")})
                elif kind == "mp4":  # the whole chain; every other one as the HTML report
                    r = c.post("/v1/analyze", files={"file": ("demo.mp4", media["mp4"], "video/mp4"),
                                                     "format": (None, "html" if i % 8 == 3 else "json")})
                elif kind == "video":
                    r = c.post("/v1/analyze", files={"file": ("clip.mp4", clip, "video/mp4"),
                                                     "modalities": (None, "face")})
                else:
                    r = c.post("/v1/analyze", json={"text": texts[i % len(texts)], "modalities": ["text"]})
                status = r.status_code
            except httpx.HTTPError:
                status = -1
            with lock:
                out.append((time.perf_counter() - t0, status))
            i += 1


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[k]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--payload", choices=("text", "wav", "video", "mixed"), default="text",
                    help="text (JSON, text modality), wav (1 s tone, voice), "
                         "video (2 s 320x240 face clip, face), mixed (text, a face PNG, a 1 s WAV in turn)")
    ap.add_argument("--audio", metavar="FILE",
                    help="with --payload mixed: a speech clip to send instead of the 1 s tone (which holds "
                         "no speech, so its answer is 422)")
    ap.add_argument("--requests", type=int, help="run this many requests in all instead of --seconds")
    ap.add_argument("--checkpoint", type=int, default=100,
                    help="with --requests: also report the server's memory after this many (default 100)")
    ap.add_argument("--analyzer", choices=("real", "echo"), default="real")
    ap.add_argument("--concurrency", type=int, default=1, help="the server's worker threads")
    ap.add_argument("--queue", type=int, default=None,
                    help="the server's queue (default: clients, so no 503)")
    ap.add_argument("--model", help="a multimodal-LLM checkpoint the real analyzer runs (analyze(model=...))")
    ap.add_argument("--serve-only", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not 1 <= args.clients <= MAX_CLIENTS or not 0 < args.seconds <= MAX_SECONDS:
        ap.error(f"--clients must be 1..{MAX_CLIENTS} and --seconds 0..{MAX_SECONDS}")
    if args.requests is not None and not 0 < args.checkpoint < args.requests <= MAX_REQUESTS:
        ap.error(f"--requests must be 1..{MAX_REQUESTS}, above --checkpoint")
    queue = args.queue if args.queue is not None else args.clients
    if args.serve_only:
        serve(args.serve_only, args.analyzer, args.concurrency, queue, args.model, args.payload)
        return 0

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, __file__, "--serve-only", str(port), "--analyzer", args.analyzer,
           "--payload", args.payload, "--concurrency", str(args.concurrency), "--queue", str(queue),
           "--clients", str(args.clients)] + (["--model", args.model] if args.model else [])
    server = subprocess.Popen(cmd, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                print("the server exited before it was ready", file=sys.stderr)
                return 1
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    print("the server did not start within 120 s", file=sys.stderr)
                    return 1
                time.sleep(0.2)
        media = make_payload(args.payload, args.audio)
        if args.requests is not None:
            return run_requests(url, server.pid, args, media)
        warm: list[tuple[float, int]] = []  # a few requests first: lazy loads and first-use allocations
        client_loop(url, args.payload, media, time.monotonic() + 120, warm, threading.Lock(), max_requests=5)
        rss_before = rss_mib(server.pid)
        results: list[tuple[float, int]] = []
        lock = threading.Lock()
        t0 = time.monotonic()
        stop = t0 + args.seconds
        threads = [threading.Thread(target=client_loop, args=(url, args.payload, media, stop, results, lock))
                   for _ in range(args.clients)]
        for t in threads:
            t.start()
        samples = []  # the server's RSS once a second while the load runs
        while any(t.is_alive() for t in threads):
            samples.append(rss_mib(server.pid))
            time.sleep(1.0)
        wall = time.monotonic() - t0
        rss_after = rss_mib(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
    ok = [lat for lat, st in results if st == 200]
    codes: dict[str, int] = {}
    for _, st in results:
        codes[str(st)] = codes.get(str(st), 0) + 1
    report = {"analyzer": args.analyzer, "model": args.model, "payload": args.payload,
              "clients": args.clients, "server_concurrency": args.concurrency, "server_queue": queue,
              "seconds": round(wall, 2), "requests": len(results), "ok": len(ok),
              "errors": len(results) - len(ok), "status_counts": codes,
              "requests_per_s": round(len(ok) / wall, 2),
              "latency_ms": {f"p{q}": round(percentile(ok, q) * 1000, 1) for q in (50, 95, 99)},
              "warmup_statuses": sorted({st for _, st in warm}),
              "server_rss_mib": {"before": round(rss_before, 1), "after": round(rss_after, 1),
                                 "change": round(rss_after - rss_before, 1),
                                 "during_max": round(max(samples + [rss_after]), 1),
                                 "first_half_max": round(max(samples[: len(samples) // 2]
                                                             or [rss_before]), 1),
                                 "every_5_s": [round(x) for x in samples[::5]]}}
    print(f"{args.clients} clients x {wall:.1f} s, {args.analyzer} analyzer, {args.payload} payload: "
          f"{report['requests_per_s']} req/s, p50 {report['latency_ms']['p50']} ms, "
          f"p95 {report['latency_ms']['p95']} ms, "
          f"p99 {report['latency_ms']['p99']} ms, {report['errors']} errors {codes}, "
          f"server RSS {rss_before:.1f} -> {rss_after:.1f} MiB")
    print(json.dumps(report))
    return 0 if report["errors"] == 0 else 1


def run_requests(url: str, pid: int, args: argparse.Namespace, media: Any) -> int:
    """``args.requests`` requests from ``args.clients`` clients; the server's RSS after the first
    ``args.checkpoint`` and after all of them."""
    lock = threading.Lock()
    rows: list[tuple[float, int]] = []
    rss: dict[int, float] = {}
    t0 = time.monotonic()
    done = 0
    for upto in (args.checkpoint, args.requests):
        n = upto - done
        share = [n // args.clients + (1 if k < n % args.clients else 0) for k in range(args.clients)]
        end = time.monotonic() + 3600
        threads = [threading.Thread(target=client_loop, args=(url, args.payload, media, end, rows, lock, m))
                   for m in share if m]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done = upto
        rss[upto] = rss_mib(pid)
        print(f"after {upto} requests: server RSS {rss[upto]:.1f} MiB ({time.monotonic() - t0:.0f} s)",
              flush=True)
    codes: dict[str, int] = {}
    for _, st in rows:
        codes[str(st)] = codes.get(str(st), 0) + 1
    first, last = rss[args.checkpoint], rss[args.requests]
    growth = 100 * (last - first) / first
    print(json.dumps({"payload": args.payload, "clients": args.clients, "requests": len(rows),
                      "status_counts": codes, "seconds": round(time.monotonic() - t0, 1),
                      "rss_mib": {str(k): round(v, 1) for k, v in rss.items()},
                      "growth_percent": round(growth, 1)}))
    return 0 if codes.get("200", 0) + codes.get("422", 0) == len(rows) else 1  # 422: nothing usable


if __name__ == "__main__":
    sys.exit(main())
