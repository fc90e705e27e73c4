"""The async facade: the same generated objects with ``async`` methods.

``maas_dyn.aio.maas`` runs the sync MAAS funnel in a bounded thread pool, so a script
can ``await`` hundreds of calls from one event loop without blocking it.
``maas_dyn.aio.truenas`` sends each call on the TrueNAS WebSocket at once and awaits the
future the connection's reader thread completes: no thread per call, jobs awaitable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas_dyn._lazy import lazy_attributes

if TYPE_CHECKING:
    from maas_dyn.aio import maas, truenas

__all__ = ["maas", "truenas"]

# ``maas_dyn.aio.maas.connect(...)`` works after a bare ``import maas_dyn``; each dialect
# is imported on first use.
__getattr__, __dir__ = lazy_attributes(__name__, globals(), {
    "maas": ("maas_dyn.aio.maas", ""),
    "truenas": ("maas_dyn.aio.truenas", ""),
}, __all__)
