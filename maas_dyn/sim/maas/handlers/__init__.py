"""Implementations of the modelled actions, grouped by the resources they serve.

Importing this package registers every implementation in :data:`REGISTRY`.
"""

from maas_dyn.sim.maas.handlers import (
    accounts,
    boot,
    controllers,
    details,
    files,
    generic,
    interfaces,
    inventory,
    ipaddresses,
    machine,
    machines,
    network,
    nodes,
    records,
    storage,
    system,
    tags,
)
from maas_dyn.sim.maas.registry import REGISTRY

__all__ = [
    "REGISTRY",
    "accounts",
    "boot",
    "controllers",
    "details",
    "files",
    "generic",
    "interfaces",
    "inventory",
    "ipaddresses",
    "machine",
    "machines",
    "network",
    "nodes",
    "records",
    "storage",
    "system",
    "tags",
]
