"""The MAAS dialect: a client built from ``/MAAS/api/2.0/describe/``.

Example::

    import maas_dyn

    maas = maas_dyn.maas.connect("http://region:5240/MAAS/", api_key="c:t:s")
    maas.machines.read(hostname=["node-1"])
    maas.machine.deploy("abc123", distro_series="jammy")

Names are imported on first use, so tools that only read descriptions (completion,
help, diffs) do not pay for ``requests``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas_dyn._lazy import lazy_attributes

if TYPE_CHECKING:
    from maas_dyn.maas.client import (
        Client,
        DescriptionChangedWarning,
        ParameterTypeWarning,
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
    "ParameterTypeWarning",
    "RawResponse",
    "RequestsTransport",
    "Response",
    "UndocumentedParameterWarning",
    "compute_hash",
    "connect",
]

__getattr__, __dir__ = lazy_attributes(__name__, globals(), {
    "Client": ("maas_dyn.maas.client", "Client"),
    "DescriptionChangedWarning": ("maas_dyn.maas.client", "DescriptionChangedWarning"),
    "UndocumentedParameterWarning": ("maas_dyn.maas.client", "UndocumentedParameterWarning"),
    "ParameterTypeWarning": ("maas_dyn.maas.client", "ParameterTypeWarning"),
    "connect": ("maas_dyn.maas.client", "connect"),
    "Description": ("maas_dyn.maas.describe", "Description"),
    "compute_hash": ("maas_dyn.maas.describe", "compute_hash"),
    "Response": ("maas_dyn.maas.response", "Response"),
    "MockTransport": ("maas_dyn.maas.transport", "MockTransport"),
    "RawResponse": ("maas_dyn.maas.transport", "RawResponse"),
    "RequestsTransport": ("maas_dyn.maas.transport", "RequestsTransport"),
}, __all__)
