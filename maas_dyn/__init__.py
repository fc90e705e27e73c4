"""maas_dyn: live clients for MAAS and TrueNAS built from the servers' own descriptions.

Example::

    import maas_dyn

    maas = maas_dyn.connect_maas("http://region:5240/MAAS/", api_key="c:t:s")
    maas.machine.deploy("abc123", distro_series="jammy")
"""

from maas_dyn import errors, maas
from maas_dyn._shipped import shipped_releases
from maas_dyn._version import __version__
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
