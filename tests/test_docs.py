"""The manual: it builds with ``mkdocs build --strict`` and every Python example runs.

Each page's ``python`` blocks run in order in one namespace. A page with a
``<!-- docs-setup: maas truenas -->`` comment (outside code blocks) gets running
simulators and the names its examples use (see docs/contributing-docs.md).
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
SETUP = re.compile(r"^<!-- docs-setup: ([a-z ]+) -->$", re.MULTILINE)


def python_blocks(text: str) -> list[str]:
    return [body for language, body in FENCE.findall(text) if language == "python"]


def setups(text: str) -> set[str]:
    outside = FENCE.sub("", text)
    return {word for found in SETUP.findall(outside) for word in found.split()}


@contextlib.contextmanager
def servers(wanted: set[str]) -> Iterator[dict[str, Any]]:
    """Start the simulators a page asks for; yield the names its examples use."""
    assert wanted <= {"maas", "truenas"}, wanted
    names: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        if "maas" in wanted:
            from maas_dyn.sim.maas import MAASSimulator

            sim = stack.enter_context(MAASSimulator(machines=8, speed=100.0))
            names.update(maas_sim=sim, MAAS_URL=sim.url, MAAS_API_KEY=sim.api_key)
        if "truenas" in wanted:
            from maas_dyn.sim.truenas import TrueNASSimulator

            nas = stack.enter_context(TrueNASSimulator(speed=200.0))
            names.update(nas_sim=nas, NAS_URL=nas.url, NAS_USER=nas.username,
                         NAS_PASSWORD=nas.password)
        yield names


def test_the_manual_has_the_pages_it_promises() -> None:
    names = {page.stem for page in PAGES}
    assert {"index", "getting-started", "exploring", "cli", "errors", "bulk-async",
            "workflows", "health", "testing", "simulators"} <= names
    assert sum(len(python_blocks(page.read_text())) for page in PAGES) >= 20


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_every_python_example_runs(page: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = page.read_text(encoding="utf-8")
    blocks = python_blocks(text)
    with servers(setups(text)) as names:
        namespace: dict[str, Any] = {"__name__": f"docs_{page.stem}", **names}
        for number, block in enumerate(blocks, start=1):
            code = compile(block, f"{page.name} (python block {number})", "exec")
            exec(code, namespace)  # the examples are ours, in docs/
    capsys.readouterr()


def test_setup_markers_are_read_outside_code_blocks() -> None:
    text = "<!-- docs-setup: maas -->\n```text\n<!-- docs-setup: truenas -->\n```\n"
    assert setups(text) == {"maas"}
    assert python_blocks("```python\nx = 1\n```\n```sh\nls\n```\n") == ["x = 1\n"]


def test_the_manual_builds_without_warnings(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install '.[docs]')")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert built.returncode == 0, built.stderr
    assert "WARNING" not in built.stderr, built.stderr
    site = tmp_path / "site"
    assert (site / "health" / "index.html").exists()
    reference = (site / "reference" / "maas_dyn.health" / "index.html").read_text()
    assert "check_maas" in reference
    assert not (site / "_hooks").exists()
