"""The package's import graph: library code never imports the CLI or the server, and module-level imports
form no cycle (docs/DEVELOPING.md states both rules)."""

from __future__ import annotations

import ast
from pathlib import Path

import emoreason

SRC = Path(emoreason.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The module ``name`` is, or the module holding it when ``name`` is a symbol in it."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path, module: str, *, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for n in names:
            if n.startswith("emoreason"):
                target = _resolve(n)
                if target and target != module:
                    found.add(target)
    return found


def test_library_code_never_imports_cli_or_serve():
    offenders = []
    for module, path in MODULES.items():
        if module.startswith(("emoreason.cli", "emoreason.serve")):
            continue
        for target in _imports(path, module, top_level_only=False):
            if target.startswith(("emoreason.cli", "emoreason.serve")):
                offenders.append(f"{module} -> {target}")
    assert not offenders, offenders


def test_module_level_imports_have_no_cycle():
    # Edges to a module's own parent packages are left out: importing a.b.c runs a/__init__ first anyway.
    graph = {}
    for module, path in MODULES.items():
        graph[module] = {t for t in _imports(path, module, top_level_only=True)
                         if not module.startswith(t + ".")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_checks_see_the_package():
    # the graph is read from the installed package's own files: a broken walk would pass vacuously
    assert "emoreason.pipeline" in MODULES and "emoreason.perception.face.analyzer" in MODULES
    fusion_imports = _imports(MODULES["emoreason.fusion"], "emoreason.fusion", top_level_only=True)
    assert "emoreason.labels" in fusion_imports
