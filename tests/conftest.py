"""Shared test fixtures: the real server descriptions in ../shared/fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
MAAS_FIXTURES = SHARED_FIXTURES / "maas"


def maas_fixture_files() -> list[Path]:
    """Every MAAS describe fixture (raw and pretty, with and without ``handlers``)."""
    return sorted(MAAS_FIXTURES.glob("describe-*.json"))


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test's cache and config out of the user's home."""
    monkeypatch.setenv("MAAS_DYN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MAAS_DYN_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture(scope="session")
def doc37() -> Any:
    from maas_dyn._shipped import load_shipped

    return load_shipped("maas", "3.7")
