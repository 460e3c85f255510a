"""Shared test setup: offline, deterministic, synthetic media made on the spot, a fake LLM server."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from skimage import data  # noqa: E402

from emoreason.io.demo_clip import make_demo_clip  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


requires_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return data.astronaut()


@pytest.fixture(scope="session")
def speech_clip(tmp_path_factory) -> str:
    """A ~7 s mp4: the astronaut photo with espeak-ng saying the demo sentence (session-wide)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    return str(make_demo_clip(tmp_path_factory.mktemp("media") / "speech.mp4"))


FakeOpenAI = Callable[[Callable[[dict], str]], tuple[str, list[dict[str, Any]]]]


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """Start fake OpenAI-compatible chat servers on 127.0.0.1: ``url, seen = fake_openai(answer)`` serves
    ``answer(request_body)`` as the assistant's message at ``url`` (no ``/v1``; every path answers) and
    records each request in ``seen`` as ``{"path", "body", "auth"}`` (the Authorization header)."""
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Callable[[dict], str]) -> tuple[str, list[dict[str, Any]]]:
        seen: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                doc = {"choices": [{"message": {"role": "assistant", "content": answer(body)}}],
                       "model": body.get("model")}
                data = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


TINY_LLM = "tiny-test-llm"  # the name the tiny backbone is registered under


@pytest.fixture()
def tiny_llm_backbone(tmp_path, monkeypatch):
    """A tiny random Llama + word-level tokenizer registered as the packaged LLM ``tiny-test-llm``; yields its
    folder. (Imports inside: only the multimodal-LLM tests pay for torch.)"""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from emoreason.emollm import backbones
    from emoreason.emollm.infer import load_for_inference
    from emoreason.emollm.tiny import TOKENIZER_SENTENCES, tiny_text_config
    from emoreason.emollm.tokenizer import train_wordlevel_tokenizer

    folder = tmp_path / "tiny-llm"
    tok = train_wordlevel_tokenizer(TOKENIZER_SENTENCES)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(AutoConfig.for_model(**tiny_text_config(len(tok)))).save_pretrained(folder)
    tok.save_pretrained(folder)
    real_resolve = backbones.resolve
    entry = backbones.Backbone(TINY_LLM, "llm", "tiny-pkg", "tiny_pkg", "x", "MIT", lambda s, o: None)
    monkeypatch.setitem(backbones.BACKBONES, TINY_LLM, entry)
    monkeypatch.setattr(backbones, "resolve", lambda name: folder if name == TINY_LLM else real_resolve(name))
    load_for_inference.cache_clear()
    yield folder
    load_for_inference.cache_clear()


@pytest.fixture()
def tiny_compact_run(tiny_llm_backbone):
    """``make(root, seed=0) -> (model, processor)``: saves at ``root`` a LoRA run around the tiny backbone
    with one ``face_measures`` stream, its LoRA and projector weights random and non-trivial."""
    import torch

    from emoreason.emollm import backbones, checkpoint
    from emoreason.emollm.checkpoint import prepare_placeholders, save_trained
    from emoreason.emollm.configuration_emollm import EmoLLMConfig
    from emoreason.emollm.face_measures import FACE_MEASURE_DIM
    from emoreason.emollm.instructions import CANONICAL_LABEL_WORDS
    from emoreason.emollm.lora import apply_lora
    from emoreason.emollm.modeling_emollm import EmoLLMForConditionalGeneration
    from emoreason.emollm.processing_emollm import EmoLLMProcessor

    def make(root, seed: int = 0):
        encoders = {"face": {"kind": "face_measures", "feature_dim": FACE_MEASURE_DIM}}
        streams = [{"name": "face", "encoder": "face", "select": "mean", "group": 1, "num_tokens": 1,
                    "segment": "feature", "projector": "mlp2"}]
        config = EmoLLMConfig(encoders=encoders, streams=streams, label_words=list(CANONICAL_LABEL_WORDS),
                              label_set="canonical", text_model_path=TINY_LLM, trained_streams=["face"])
        model = EmoLLMForConditionalGeneration.from_components(config)
        tok = checkpoint.load_tokenizer(backbones.llm_path(TINY_LLM))
        prepare_placeholders(model, tok)
        model = apply_lora(model, r=4, alpha=8, dropout=0.0)
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in model.parameters():
                if p.requires_grad:
                    p.copy_(torch.randn(p.shape, generator=g) * 0.3)
        proc = EmoLLMProcessor(tok, checkpoint.core_model(model).config)
        save_trained(root, model, proc, save_base=False)
        return model.eval(), proc

    return make
