"""Tests of maas_dyn/_cache.py, maas_dyn/_paths.py and maas_dyn/_shipped.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from maas_dyn import _paths
from maas_dyn._cache import DescriptionCache
from maas_dyn._shipped import load_shipped, shipped_releases
from maas_dyn.errors import DescriptionError


def test_store_and_load(tmp_path: Path) -> None:
    cache = DescriptionCache("maas", tmp_path)
    assert cache.load("http://a/MAAS/") is None
    path = cache.store("http://a/MAAS/", "h1", b"{}")
    assert path is not None and path.read_bytes() == b"{}"
    cache.store("http://a/MAAS/", "h2", b"[]")
    assert cache.load("http://a/MAAS/") == ("h2", b"[]")
    assert cache.load("http://a/MAAS/", "h1") == ("h1", b"{}")
    assert cache.load("http://b/MAAS/") is None
    assert not list(path.parent.glob(".tmp-*"))
    cache.forget("http://a/MAAS/")
    assert cache.load("http://a/MAAS/") is None
    cache.forget("http://a/MAAS/")


def test_keys_cannot_escape_the_folder(tmp_path: Path) -> None:
    cache = DescriptionCache("truenas", tmp_path)
    path = cache.store("wss://nas/api/current", "../../evil", b"{}")
    assert path is not None and path.parent.parent == tmp_path / "truenas"


@pytest.mark.parametrize(
    ("platform", "env", "expected_cache", "expected_config"),
    [
        ("linux", {}, ".cache/maas_dyn", ".config/maas_dyn"),
        ("linux", {"XDG_CACHE_HOME": "/xdg/c", "XDG_CONFIG_HOME": "/xdg/f"},
         "/xdg/c/maas_dyn", "/xdg/f/maas_dyn"),
        ("darwin", {}, "Library/Caches/maas_dyn", "Library/Application Support/maas_dyn"),
        ("win32", {"LOCALAPPDATA": "/w/l", "APPDATA": "/w/r"}, "/w/l/maas_dyn", "/w/r/maas_dyn"),
    ],
)
def test_platform_dirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, platform: str,
                       env: dict[str, str], expected_cache: str, expected_config: str) -> None:
    for name in ("MAAS_DYN_CACHE_DIR", "MAAS_DYN_CONFIG_DIR", "XDG_CACHE_HOME",
                 "XDG_CONFIG_HOME", "LOCALAPPDATA", "APPDATA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(_paths.sys, "platform", platform)
    monkeypatch.setattr(_paths.Path, "home", staticmethod(lambda: tmp_path))
    assert _paths.user_cache_dir() in (Path(expected_cache), tmp_path / expected_cache)
    assert _paths.user_config_dir() in (Path(expected_config), tmp_path / expected_config)


def test_environment_overrides(tmp_path: Path) -> None:
    # conftest points both at tmp_path
    assert _paths.user_cache_dir() == tmp_path / "cache"
    assert _paths.user_config_dir() == tmp_path / "config"


def test_shipped_releases() -> None:
    assert shipped_releases("maas")[0] == "1.9"
    assert shipped_releases("maas")[-1] == "3.7"
    assert shipped_releases("truenas") == ["25.04", "25.10", "26.0"]
    with pytest.raises(DescriptionError, match="shipped: 1.9, 2.0"):
        load_shipped("maas", "9.9")
