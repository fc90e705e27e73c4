"""Automation on top of the generated clients: waiters, bulk operations, workflows.

Each workflow is a small module with a Python API built on the generated handlers:
:mod:`~maas_dyn.workflows.provisioning` (commission, test, deploy, release),
:mod:`~maas_dyn.workflows.tagging` (tags from hardware facts),
:mod:`~maas_dyn.workflows.storage` (layouts, RAID; ZFS pools and datasets on TrueNAS),
:mod:`~maas_dyn.workflows.network` (VLANs, subnets, links) and
:mod:`~maas_dyn.workflows.power` (power parameters, on/off/cycle, queries). Every step
is logged through the ``maas_dyn.workflows`` logger with
``extra={"machine", "action", "state", "duration"}``.
"""

from maas_dyn.workflows._common import Step, select_machines
from maas_dyn.workflows.bulk import BulkResult, ItemResult, run_bulk
from maas_dyn.workflows.waiters import WAITERS, Waiter, WaiterSpec, get_waiter

__all__ = [
    "WAITERS",
    "BulkResult",
    "ItemResult",
    "Step",
    "Waiter",
    "WaiterSpec",
    "get_waiter",
    "run_bulk",
    "select_machines",
]
