"""``alert.*``: alerts, which appear as ``collection_update`` events on ``alert.list``."""

from __future__ import annotations

import copy
import uuid
from datetime import datetime, timezone
from typing import Any

from maas_dyn.sim.truenas.exceptions import CallError
from maas_dyn.sim.truenas.registry import Call, MethodTable
from maas_dyn.sim.truenas.runtime import Runtime

__all__ = ["methods", "raise_alert"]

methods = MethodTable()
_COLLECTION = "alert.list"
_LEVELS = ("INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")


def raise_alert(rt: Runtime, klass: str, text: str, level: str = "WARNING",
                args: Any = None) -> dict[str, Any]:
    """Make an alert appear and publish it (ADDED on ``alert.list``).

    Args:
        rt: The simulator's parts.
        klass: Alert class, e.g. ``"PoolDegraded"``.
        text: Alert text.
        level: Severity, e.g. ``"WARNING"``.
        args: Alert arguments.

    Returns:
        The alert.

    Raises:
        ValueError: Unknown level.
    """
    if level not in _LEVELS:
        raise ValueError(f"level must be one of {', '.join(_LEVELS)}, not {level!r}")
    alert_id = str(uuid.UUID(int=rt.rng.getrandbits(128)))
    now = datetime.now(timezone.utc)
    alert = rt.state.result_item("alert.list", uuid=alert_id, source="", klass=klass,
                                 args=args, node="A", key=f"{klass}:{alert_id}", datetime=now,
                                 last_occurrence=now, dismissed=False, mail=None, text=text,
                                 id=alert_id, level=level, formatted=text, one_shot=False)
    with rt.state.lock:
        rt.state.tables["alert"][alert_id] = alert
    rt.events.publish(_COLLECTION, "ADDED", item_id=alert_id, fields=copy.deepcopy(alert))
    return copy.deepcopy(alert)


@methods.method("alert.list")
def alert_list(call: Call) -> list[dict[str, Any]]:
    """Answer ``alert.list()``."""
    return call.rt.state.rows("alert")


def _set_dismissed(call: Call, dismissed: bool) -> None:
    alert_id = call.args[0]
    with call.rt.state.lock:
        alert = call.rt.state.tables["alert"].get(alert_id)
        if alert is None:
            raise CallError(f"Alert {alert_id!r} not found")
        alert["dismissed"] = dismissed
        fields = copy.deepcopy(alert)
    call.publish(_COLLECTION, "CHANGED", alert_id, fields)


@methods.method("alert.dismiss")
def dismiss(call: Call) -> None:
    """Answer ``alert.dismiss(uuid)``."""
    _set_dismissed(call, True)


@methods.method("alert.restore")
def restore(call: Call) -> None:
    """Answer ``alert.restore(uuid)``."""
    _set_dismissed(call, False)
