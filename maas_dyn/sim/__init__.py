"""Embedded simulators of a MAAS region and a TrueNAS middleware.

Both are real servers on 127.0.0.1 driven by the real descriptions shipped with the
package. They are imported lazily so that the MAAS simulator does not need the
``websockets`` package that the TrueNAS one is built on.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["MAASSimulator", "TrueNASSimulator"]

_EXPORTS = {
    "MAASSimulator": "maas_dyn.sim.maas",
    "TrueNASSimulator": "maas_dyn.sim.truenas",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'maas_dyn.sim' has no attribute {name!r}")
    return getattr(import_module(module), name)
