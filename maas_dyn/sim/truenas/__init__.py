"""An embedded TrueNAS middleware simulator, driven by the shipped ``core.get_methods``.

It serves JSON-RPC 2.0 on ``/api/current`` (and ``/api/<version>``), the legacy
``/websocket`` protocol, and the HTTP ``/api/versions``, ``/_upload`` and ``/_download``
endpoints, on 127.0.0.1. Methods of the description it does not model answer ENOTSUP.
See ``MODELLED.md`` for the modelled methods.
"""

from __future__ import annotations

from maas_dyn._optional import require

# Before anything imports websockets: without the extra, say which one to install.
require("sim", "the TrueNAS simulator")

from maas_dyn.sim.truenas.faults import Faults  # noqa: E402
from maas_dyn.sim.truenas.simulator import TrueNASSimulator  # noqa: E402

__all__ = ["Faults", "TrueNASSimulator"]
