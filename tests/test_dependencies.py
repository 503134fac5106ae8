"""Every third-party module the installed layers import at load time comes with ``pip install .``.

A module only a test extra brings (as ``jsonschema`` once was for the sandbox) passes ``make test``
and breaks ``make demo`` on a fresh clone; this test catches it without a network or a new venv.
"""

from __future__ import annotations

import ast
import sys
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("connector", "mappings", "plugins", "documents", "daemon", "sandbox")


def _module_level_imports(path: Path) -> set[str]:
    """Top-level package names imported when the module loads (imports inside functions are lazy)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _runtime_closure() -> set[str]:
    """The distributions ``pip install truancy-sync`` installs: its dependencies, transitively, no extras."""
    seen: set[str] = set()
    pending = ["truancy-sync"]
    while pending:
        name = pending.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return seen


def test_every_load_time_import_is_a_runtime_dependency() -> None:
    imported: dict[str, Path] = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            for name in _module_level_imports(path):
                imported.setdefault(name, path)
    third_party = {
        name: path
        for name, path in imported.items()
        if name not in sys.stdlib_module_names and name not in ("truancy", "__future__")
    }
    assert "yaml" in third_party  # the scan sees real imports
    providers = packages_distributions()
    closure = _runtime_closure()
    missing = sorted(
        f"{name} (imported by {path.relative_to(ROOT)})"
        for name, path in third_party.items()
        if not any(dist.lower().replace("_", "-") in closure for dist in providers.get(name, [name]))
    )
    assert missing == [], "imported at load time but not installed by `pip install .`: " + ", ".join(missing)
