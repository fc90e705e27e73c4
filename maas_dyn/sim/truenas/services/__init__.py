"""Modelled methods, one module per resource group.

:data:`HANDLERS` maps every modelled method name to its handler. A method of the served
description that is not in it answers ENOTSUP.
"""

from __future__ import annotations

from maas_dyn.sim.truenas.registry import MethodTable
from maas_dyn.sim.truenas.services import (
    accounts,
    alerts,
    auth,
    core,
    daemons,
    datasets,
    disks,
    files,
    network,
    pools,
    sharing,
    snapshots,
    system,
)

__all__ = ["HANDLERS"]

HANDLERS = MethodTable.merged(
    core.methods, auth.methods, accounts.methods, disks.methods, pools.methods,
    datasets.methods, snapshots.methods, sharing.methods, network.methods, system.methods,
    alerts.methods, daemons.methods, files.methods,
)
