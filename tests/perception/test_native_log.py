"""Native libraries' log lines stay off stderr: in the Python API, and around model building only."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from emoreason.perception.native_log import quiet_native_logs

ABSL = (b"W0000 00:00:1796471199.922689   21555 inference_feedback_manager.cc:114] Feedback manager "
        b"requires a model with a single signature inference.\n")


def test_native_lines_go_to_the_debug_log_and_other_lines_to_stderr(capfd, caplog):
    with caplog.at_level(logging.DEBUG, logger="emoreason.native"), quiet_native_logs():
        os.write(2, ABSL)
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"a Python warning from another thread\n")
        with quiet_native_logs():  # nested (another thread's model): one redirection
            os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called\n")
    err = capfd.readouterr().err
    assert err == "a Python warning from another thread\n"
    logged = [r.getMessage() for r in caplog.records if r.name == "emoreason.native"]
    assert len(logged) == 3 and "inference_feedback_manager" in logged[0]
    os.write(2, ABSL)  # outside the block fd 2 is the terminal again
    assert "inference_feedback_manager" in capfd.readouterr().err


def test_disabled_blocks_and_the_environment_switch_leave_stderr_alone(capfd, monkeypatch):
    with quiet_native_logs(enabled=False):
        os.write(2, ABSL)
    monkeypatch.setenv("EMOREASON_NATIVE_LOGS", "1")
    with quiet_native_logs():
        os.write(2, ABSL)
    assert capfd.readouterr().err == (ABSL + ABSL).decode()


QUIET_SCRIPT = """
import sys
import numpy as np
from skimage import data
import emoreason
face = np.ascontiguousarray(data.astronaut())
labels = [emoreason.analyze(face, modalities=["face"]).label for _ in range(2)]
labels += [emoreason.analyze(sys.argv[1], modalities=["face", "voice"]).label for _ in range(2)]
print(" ".join(labels))
"""


def test_the_python_api_writes_nothing_to_stderr(speech_clip):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    env.pop("EMOREASON_NATIVE_LOGS", None)
    out = subprocess.run([sys.executable, "-c", QUIET_SCRIPT, speech_clip], capture_output=True, text=True,
                         env=env, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stderr == ""
    assert len(out.stdout.split()) == 4
