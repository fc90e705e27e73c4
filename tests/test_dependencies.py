"""Declared dependencies (setup.cfg) against imported ones (an import scan of the sources).

Each extra owns some files; what those files import from outside the standard library
must be declared by that extra, by the run-time requirements, or by an extra it includes
(``maas-dyn[sim,record]``), and each requirement an extra declares must be imported by its
files, unless it is a tool the project runs (mypy, ruff, mkdocs, pytest plugins) or a
stub-only package for a dependency the package imports.
"""

from __future__ import annotations

import ast
import configparser
import importlib.metadata
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

from maas_dyn import _optional
from maas_dyn._optional import EXTRAS, MissingExtraError, require

ROOT = Path(__file__).resolve().parents[1]

# The files each extra serves; every other file of maas_dyn/ is the run-time install's.
AREAS: dict[str, list[str]] = {
    "sim": ["maas_dyn/sim"],
    "record": ["maas_dyn/testing/http_cassette.py"],
    "metrics": ["maas_dyn/metrics.py"],
    "docs": ["docs"],
    "lint": [],
    "test": ["tests", "benchmarks", "examples"],
}
# Loaded only by pytest (an entry point in pytest11), which is there by definition.
PYTEST_PLUGIN = "maas_dyn/testing/pytest_plugin.py"
# Declared because they are run, not imported: the evidence that they are run.
TOOLS: dict[str, tuple[str, str]] = {
    "mypy": ("tests/test_quality.py", '"mypy", "--strict"'),
    "ruff": ("tests/test_quality.py", '"ruff", "check"'),
    "pytest-cov": ("setup.cfg", "--cov=maas_dyn"),
    "pytest-timeout": ("setup.cfg", "--timeout="),
    "mkdocs-material": ("mkdocs.yml", "name: material"),
    "mkdocstrings": ("mkdocs.yml", "- mkdocstrings:"),
}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements() -> tuple[set[str], dict[str, set[str]], dict[str, set[str]]]:
    """(run-time names, extra -> own names, extra -> included extras) from setup.cfg."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")

    def names(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]

    runtime = {_normal(_NAME.match(line).group()) for line in  # type: ignore[union-attr]
               names(config["options"]["install_requires"])}
    own: dict[str, set[str]] = {}
    included: dict[str, set[str]] = {}
    for extra, text in config["options.extras_require"].items():
        own[extra], included[extra] = set(), set()
        for line in names(text):
            match = re.fullmatch(r"maas-dyn\[([a-z,]+)\]", line)
            if match:
                included[extra] |= set(match.group(1).split(","))
            else:
                own[extra].add(_normal(_NAME.match(line).group()))  # type: ignore[union-attr]
    return runtime, own, included


def _files(paths: Iterable[str]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        target = ROOT / path
        found += sorted(target.rglob("*.py")) if target.is_dir() else [target]
    return found


def _imports(files: Iterable[Path]) -> set[str]:
    """Top-level modules outside the standard library and this project that ``files`` import."""
    found: set[str] = set()
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "importorskip" and node.args
                  and isinstance(node.args[0], ast.Constant)):
                found.add(str(node.args[0].value))  # pytest.importorskip("jedi")
    tops = {name.split(".")[0] for name in found}
    return {top for top in tops if top not in sys.stdlib_module_names
            and top not in ("maas_dyn", "tests", "benchmarks", "examples", "__future__")
            and top not in _local_modules()}


def _local_modules() -> set[str]:
    # Scripts of the repository imported by path (docs/_hooks/api_reference.py).
    return {f.stem for folder in ("docs", "benchmarks", "examples")
            for f in (ROOT / folder).rglob("*.py")}


def _packages_distributions() -> dict[str, set[str]]:
    """Top-level module -> distributions, from ``top_level.txt`` and the installed files.

    ``importlib.metadata.packages_distributions()`` reads only ``top_level.txt`` on Python
    3.10, which wheels built without setuptools (urllib3's) do not have.
    """
    provided: dict[str, set[str]] = {}
    for dist in importlib.metadata.distributions():
        tops = set((dist.read_text("top_level.txt") or "").split())
        for file in dist.files or ():
            if file.suffix == ".py" and not file.parts[0].endswith((".dist-info", ".data")):
                tops.add(file.parts[0] if len(file.parts) > 1 else file.stem)
        for top in tops:
            provided.setdefault(top, set()).add(dist.metadata["Name"])
    return provided


def _distributions(modules: Iterable[str]) -> set[str]:
    """The installed distributions providing ``modules`` (normalized names)."""
    provided = _packages_distributions()
    found = set()
    for module in modules:
        assert module in provided, f"{module!r} is imported but no installed distribution has it"
        found |= {_normal(name) for name in provided[module]}
    return found


def _area_imports() -> dict[str, set[str]]:
    claimed = {str(f) for area in AREAS.values() for f in _files(area)}
    runtime_files = [f for f in _files(["maas_dyn"])
                     if str(f) not in claimed and f != ROOT / PYTEST_PLUGIN]
    areas = {"runtime": _distributions(_imports(runtime_files))}
    for extra, paths in AREAS.items():
        areas[extra] = _distributions(_imports(_files(paths)))
    return areas


def _available(extra: str, runtime: set[str], own: dict[str, set[str]],
               included: dict[str, set[str]]) -> set[str]:
    names = set(runtime) | own[extra]
    for other in included[extra]:
        names |= _available(other, runtime, own, included)
    return names


def test_runtime_requirements_are_exactly_what_the_package_imports() -> None:
    runtime, _, _ = _requirements()
    assert runtime == _area_imports()["runtime"]


@pytest.mark.parametrize("extra", sorted(AREAS))
def test_every_import_of_an_extra_is_declared(extra: str) -> None:
    runtime, own, included = _requirements()
    missing = _area_imports()[extra] - _available(extra, runtime, own, included)
    assert not missing, f"{extra}: imported but not declared: {sorted(missing)}"


@pytest.mark.parametrize("extra", sorted(AREAS))
def test_every_requirement_of_an_extra_is_used(extra: str) -> None:
    _, own, _ = _requirements()
    imported = _area_imports()
    package = imported["runtime"] | imported["sim"] | imported["record"]
    unused = set()
    for name in own[extra]:
        if name in TOOLS:
            where, evidence = TOOLS[name]
            assert evidence in (ROOT / where).read_text(encoding="utf-8"), (name, where)
        elif name.startswith("types-"):
            assert name.removeprefix("types-") in package, f"stubs for an unused {name}"
        elif name not in imported[extra]:
            unused.add(name)
    assert not unused, f"{extra}: declared but not imported: {sorted(unused)}"


def test_every_extra_has_an_area_and_the_optional_table_agrees() -> None:
    _, own, _ = _requirements()
    assert set(own) == set(AREAS)
    for extra, modules in EXTRAS.items():
        assert {_normal(name) for name in modules.values()} == own[extra]


def test_a_missing_extra_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vcr", None)  # import vcr -> ImportError(name="vcr")
    with pytest.raises(MissingExtraError, match=r"pip install 'maas-dyn\[record\]'") as caught:
        require("record", "recording")
    assert isinstance(caught.value, ImportError)
    assert (caught.value.extra, caught.value.name) == ("record", "vcr")


def test_a_broken_installed_extra_keeps_its_own_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str) -> None:
        raise ModuleNotFoundError("No module named 'inner'", name="inner")

    monkeypatch.setattr(_optional.importlib, "import_module", broken)
    with pytest.raises(ModuleNotFoundError) as caught:
        require("sim", "the simulator")
    assert not isinstance(caught.value, MissingExtraError)


def test_maas_record_without_the_extra_is_a_one_line_error(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from maas_dyn.cli import maas as maas_cli

    monkeypatch.setitem(sys.modules, "vcr", None)
    assert maas_cli.main(["--record", str(tmp_path / "c.yaml"), "sim"]) != 0
    err = capsys.readouterr().err
    assert "pip install 'maas-dyn[record]'" in err and "Traceback" not in err


def test_reading_a_cassette_without_the_extra_names_it(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from maas_dyn.testing.http_cassette import http_cassette, read_cassette

    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(MissingExtraError, match="record"):
        read_cassette(tmp_path / "c.yaml")
    with pytest.raises(MissingExtraError, match="record"), http_cassette(tmp_path / "c.yaml",
                                                                         "record"):
        pass


def _release(version: str) -> tuple[int, ...]:
    numbers = tuple(int(part) for part in version.split("."))
    return numbers + (0,) * (4 - len(numbers))


def test_the_ci_lowest_bounds_are_setup_cfg_s_lower_bounds() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    declared: dict[str, str] = {}
    for text in (config["options"]["install_requires"],
                 config["options.extras_require"]["sim"],
                 config["options.extras_require"]["record"]):
        for line in filter(None, map(str.strip, text.splitlines())):
            name, _, bound = line.partition(">=")
            assert bound, f"{line!r} has no lower bound"
            declared[_normal(name)] = bound
    pinned = {}
    for line in (ROOT / ".ci" / "lowest-bounds.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pinned[_normal(name)] = version
    assert set(pinned) == set(declared)
    assert {n: _release(v) for n, v in pinned.items()} == {
        n: _release(v) for n, v in declared.items()}
