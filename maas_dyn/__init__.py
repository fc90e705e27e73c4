"""maas_dyn: live clients for MAAS and TrueNAS built from the servers' own descriptions.

Example::

    import maas_dyn

    maas = maas_dyn.connect_maas("http://region:5240/MAAS/", api_key="c:t:s")
    maas.machine.deploy("abc123", distro_series="jammy")

Sub-packages are imported on first use, so ``import maas_dyn`` stays cheap for a CLI
that needs only one dialect.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from maas_dyn._version import __version__

if TYPE_CHECKING:
    from maas_dyn import errors, maas
    from maas_dyn._shipped import shipped_releases
    from maas_dyn.maas import connect as connect_maas
    from maas_dyn.retry import RetryPolicy

__all__ = [
    "RetryPolicy",
    "__version__",
    "connect_maas",
    "errors",
    "maas",
    "shipped_releases",
]

# Public name -> (module, attribute or "" for the module itself).
_LAZY = {
    "errors": ("maas_dyn.errors", ""),
    "maas": ("maas_dyn.maas", ""),
    "connect_maas": ("maas_dyn.maas", "connect"),
    "RetryPolicy": ("maas_dyn.retry", "RetryPolicy"),
    "shipped_releases": ("maas_dyn._shipped", "shipped_releases"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'maas_dyn' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = import_module(module_name)
    value = getattr(module, attribute) if attribute else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
