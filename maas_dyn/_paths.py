"""Per-user directories for caches and configuration, without a dependency.

``MAAS_DYN_CACHE_DIR`` and ``MAAS_DYN_CONFIG_DIR`` override the platform defaults
(XDG on Linux and BSD, ``~/Library`` on macOS, ``%LOCALAPPDATA%``/``%APPDATA%`` on
Windows).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["user_cache_dir", "user_config_dir"]

_APP = "maas_dyn"


def _platform_dir(env_override: str, xdg: str, xdg_default: str, mac: str, win_env: str) -> Path:
    override = os.environ.get(env_override)
    if override:
        return Path(override)
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / mac / _APP
    if sys.platform == "win32":
        return Path(os.environ.get(win_env) or home) / _APP
    return Path(os.environ.get(xdg) or home / xdg_default) / _APP


def user_cache_dir() -> Path:
    """Return the directory for caches (not created here)."""
    return _platform_dir("MAAS_DYN_CACHE_DIR", "XDG_CACHE_HOME", ".cache", "Caches",
                         "LOCALAPPDATA")


def user_config_dir() -> Path:
    """Return the directory for configuration such as CLI profiles (not created here)."""
    return _platform_dir("MAAS_DYN_CONFIG_DIR", "XDG_CONFIG_HOME", ".config",
                         "Application Support", "APPDATA")
