"""The MAAS dialect: a client built from ``/MAAS/api/2.0/describe/``.

Example::

    import maas_dyn

    maas = maas_dyn.maas.connect("http://region:5240/MAAS/", api_key="c:t:s")
    maas.machines.read(hostname=["node-1"])
    maas.machine.deploy("abc123", distro_series="jammy")
"""

from maas_dyn.maas.client import (
    Client,
    DescriptionChangedWarning,
    UndocumentedParameterWarning,
    connect,
)
from maas_dyn.maas.describe import Description, compute_hash
from maas_dyn.maas.response import Response
from maas_dyn.maas.transport import MockTransport, RawResponse, RequestsTransport

__all__ = [
    "Client",
    "Description",
    "DescriptionChangedWarning",
    "MockTransport",
    "RawResponse",
    "RequestsTransport",
    "Response",
    "UndocumentedParameterWarning",
    "compute_hash",
    "connect",
]
