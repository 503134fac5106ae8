"""The layer rules of DESIGN.md, enforced on every import statement in every layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("connector", "mappings", "plugins", "documents", "daemon", "sandbox")
ALLOWED: dict[str, set[str]] = {
    "connector": set(),
    "mappings": set(),
    "plugins": {"connector", "mappings"},
    "documents": {"mappings"},
    "daemon": {"plugins", "documents", "mappings", "connector"},
    "sandbox": set(),
}
# `truancy demo` and `truancy sandbox serve` exist to run the sandbox; nothing else in the daemon may.
EXCEPTIONS = {("daemon/demo.py", "sandbox"), ("daemon/cli.py", "sandbox")}


def internal_imports(path: Path) -> set[str]:
    """The truancy layers a module imports, at any depth (including imports inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "truancy" and len(parts) > 1:
                found.add(parts[1])
            elif parts[0] in LAYERS:
                found.add(f"bare:{parts[0]}")
    return found


def layer_modules() -> list[tuple[str, Path]]:
    return [(layer, path) for layer in LAYERS for path in sorted((REPO / layer).rglob("*.py"))]


@pytest.mark.parametrize(("layer", "path"), layer_modules(), ids=lambda v: str(v))
def test_layer_imports_only_what_it_may(layer: str, path: Path) -> None:
    relative = path.relative_to(REPO).as_posix()
    imported = internal_imports(path) - {layer}
    bare = {name for name in imported if name.startswith("bare:")}
    assert not bare, f"{relative} imports a bare top-level layer package {bare}: use truancy.<layer>"
    forbidden = {name for name in imported if name not in ALLOWED[layer]}
    forbidden -= {target for source, target in EXCEPTIONS if source == relative}
    assert not forbidden, f"{relative} ({layer}) may not import {sorted(forbidden)}"


def test_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from truancy.daemon import store\n    import plugins.base\n")
    assert internal_imports(module) == {"daemon", "bare:plugins"}
