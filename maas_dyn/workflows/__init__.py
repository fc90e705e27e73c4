"""Automation on top of the generated clients: waiters, bulk operations, workflows."""

from maas_dyn.workflows.waiters import WAITERS, Waiter, WaiterSpec, get_waiter

__all__ = ["WAITERS", "Waiter", "WaiterSpec", "get_waiter"]
