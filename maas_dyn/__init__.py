"""maas_dyn: live clients for MAAS and TrueNAS built from the servers' own descriptions.

Example::

    import maas_dyn

    maas = maas_dyn.connect_maas("http://region:5240/MAAS/", api_key="c:t:s")
    maas.machine.deploy("abc123", distro_series="jammy")

Sub-packages are imported on first use, so ``import maas_dyn`` stays cheap for a CLI
that needs only one dialect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas_dyn._lazy import lazy_attributes
from maas_dyn._version import __version__

if TYPE_CHECKING:
    from maas_dyn import aio, errors, maas, truenas
    from maas_dyn._shipped import shipped_releases
    from maas_dyn.maas import connect as connect_maas
    from maas_dyn.retry import RetryPolicy
    from maas_dyn.truenas import connect as connect_truenas

__all__ = [
    "RetryPolicy",
    "__version__",
    "aio",
    "connect_maas",
    "connect_truenas",
    "errors",
    "maas",
    "shipped_releases",
    "truenas",
]

# Public name -> (module, attribute or "" for the module itself).
__getattr__, __dir__ = lazy_attributes(__name__, globals(), {
    "aio": ("maas_dyn.aio", ""),
    "errors": ("maas_dyn.errors", ""),
    "maas": ("maas_dyn.maas", ""),
    "connect_maas": ("maas_dyn.maas", "connect"),
    "RetryPolicy": ("maas_dyn.retry", "RetryPolicy"),
    "shipped_releases": ("maas_dyn._shipped", "shipped_releases"),
    "truenas": ("maas_dyn.truenas", ""),
    "connect_truenas": ("maas_dyn.truenas", "connect"),
}, __all__)

# Resources' wait("deployed") looks waiters up in a registry (maas_dyn/_waiter_registry.py)
# the workflows package fills when imported. The package on top names that module, so no
# lower layer imports it; the registry imports it on the first wait().
_WAITER_MODULES = ("maas_dyn.workflows.waiters",)
