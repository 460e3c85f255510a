"""The package's import rules: light modules stay free of torch, the model type registers wherever the
model classes are used, and no emollm or dataset-builder module imports the CLI or the server."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def _run(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
               HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)


def test_light_modules_do_not_import_torch():
    done = _run("import sys\n"
                "import emoreason.emollm, emoreason.emollm.instructions, emoreason.emollm.answer_parsing\n"
                "import emoreason.emollm.dataset, emoreason.emollm.recipe\n"
                "import emoreason.dataset_builder.feature_cache, emoreason.cli.main\n"
                "heavy = sorted({'torch', 'transformers', 'peft', 'accelerate'} & set(sys.modules))\n"
                "assert not heavy, heavy\n")
    assert done.returncode == 0, done.stderr


def test_model_classes_from_the_package_register_the_model_type():
    done = _run("from emoreason.emollm import EmoLLMConfig, EmoLLMForConditionalGeneration, EmoLLMProcessor\n"
                "from emoreason.emollm import add_placeholder_tokens, parse_answer\n"
                "from transformers import AutoConfig, AutoModel\n"
                "assert type(AutoConfig.for_model('emollm')) is EmoLLMConfig\n"
                "assert AutoModel._model_mapping[EmoLLMConfig] is EmoLLMForConditionalGeneration\n"
                "assert parse_answer('happy').label == 'happy'\n")
    assert done.returncode == 0, done.stderr


def test_lower_layers_never_import_cli_or_serve():
    pkg = SRC / "emoreason"
    files = [*(pkg / "emollm").glob("*.py"), *(pkg / "dataset_builder").glob("*.py")]
    bad = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            bad += [f"{path.name}: {n}" for n in names if n.startswith(("emoreason.cli", "emoreason.serve"))]
    assert files and not bad
