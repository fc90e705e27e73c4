"""Shared test fixtures: the real server descriptions in tests/fixtures/ (copies, see its README)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

# Only what the repository holds: a clone without any sibling folder runs the same tests.
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MAAS_FIXTURES = FIXTURES / "maas"
TRUENAS_FIXTURES = FIXTURES / "truenas"


def maas_fixture_files() -> list[Path]:
    """Every MAAS describe fixture (raw and pretty, with and without ``handlers``).

    Raises:
        FileNotFoundError: none is there; a parametrization over an empty list would
            otherwise collapse into a skip that nobody reads.
    """
    found = sorted(MAAS_FIXTURES.glob("describe-*.json.gz"))
    if not found:
        raise FileNotFoundError(f"no MAAS describe fixtures in {MAAS_FIXTURES}")
    return found


def load_json(path: Path) -> Any:
    """The JSON document in ``path``, gunzipped first when its name ends in ``.gz``."""
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return json.loads(data.decode("utf-8"))


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test's cache and config out of the user's home."""
    monkeypatch.setenv("MAAS_DYN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MAAS_DYN_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture(scope="session")
def doc37() -> Any:
    from maas_dyn._shipped import load_shipped

    return load_shipped("maas", "3.7")
