"""Shared test setup: offline, deterministic, synthetic media made on the spot."""

from __future__ import annotations

import os
import shutil

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
