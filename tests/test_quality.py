"""The quality bar as tests: lint, strict typing and the layering of DESIGN.md."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "maas_dyn"

# Package -> packages it must never import (DESIGN.md "One engine, two dialects").
FORBIDDEN_IMPORTS = {
    "maas_dyn._dynamic": ("maas_dyn.maas", "maas_dyn.truenas", "maas_dyn.cli", "maas_dyn.sim",
                          "maas_dyn.testing", "maas_dyn.workflows", "maas_dyn.health"),
    "maas_dyn.errors": ("maas_dyn.maas", "maas_dyn.truenas"),
    # Resources sit with the engine: shared by both dialects, below the workflows (whose
    # waiters they reach through maas_dyn/_waiter_registry.py).
    "maas_dyn._resources": ("maas_dyn.maas", "maas_dyn.truenas", "maas_dyn.workflows",
                            "maas_dyn.cli", "maas_dyn.sim", "maas_dyn.testing"),
    "maas_dyn._waiter_registry": ("maas_dyn.maas", "maas_dyn.truenas", "maas_dyn.workflows"),
    "maas_dyn.maas": ("maas_dyn.truenas", "maas_dyn.cli", "maas_dyn.sim", "maas_dyn.testing",
                      "maas_dyn.workflows", "maas_dyn.health"),
    "maas_dyn.truenas": ("maas_dyn.maas", "maas_dyn.cli", "maas_dyn.sim", "maas_dyn.testing",
                         "maas_dyn.workflows", "maas_dyn.health"),
    "maas_dyn.sim.maas": ("maas_dyn.maas", "maas_dyn.truenas", "maas_dyn.sim.truenas"),
    "maas_dyn.sim.truenas": ("maas_dyn.maas", "maas_dyn.truenas", "maas_dyn.sim.maas"),
}
# The wire layer both sides of a protocol share (DESIGN.md "One wire layer"): the
# description readers, form decoding, ejson and the JSON-RPC code table. A simulator may
# import these modules of its own dialect and no other part of a client.
WIRE_MODULES = {
    "maas_dyn.sim.maas": ("maas_dyn.maas.describe", "maas_dyn.maas.formdata"),
    "maas_dyn.sim.truenas": ("maas_dyn.truenas.methods", "maas_dyn.truenas.wire"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_layering() -> None:
    violations = []
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        for owner, forbidden in FORBIDDEN_IMPORTS.items():
            if module == owner or module.startswith(owner + "."):
                wire = WIRE_MODULES.get(owner, ())
                violations += [f"{module} imports {name}" for name in _imports(path)
                               if any(name == f or name.startswith(f + ".") for f in forbidden)
                               and not any(name == w or name.startswith(w + ".") for w in wire)]
    assert violations == []


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          check=False)


def test_ruff_clean() -> None:
    folders = [f for f in ("maas_dyn", "tests", "benchmarks", "examples") if (ROOT / f).is_dir()]
    result = _run(sys.executable, "-m", "ruff", "check", *folders)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_clean() -> None:
    result = _run(sys.executable, "-m", "mypy", "--strict", "maas_dyn")
    assert result.returncode == 0, result.stdout + result.stderr
