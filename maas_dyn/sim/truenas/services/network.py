"""``interface.*`` (read side) and ``staticroute.*``."""

from __future__ import annotations

import errno
import ipaddress
from typing import Any

from maas_dyn.sim.truenas.exceptions import ValidationErrors
from maas_dyn.sim.truenas.registry import Call, MethodTable
from maas_dyn.sim.truenas.services.crud import Resource

__all__ = ["methods"]

methods = MethodTable()
interfaces = Resource("interface", "Interface")
interfaces.register(methods, "interface")
routes = Resource("staticroute", "Static Route")
routes.register(methods, "staticroute")


@methods.method("interface.choices")
def choices(call: Call) -> dict[str, str]:
    """Answer ``interface.choices(options)``: ``{name: description}``."""
    options = call.args[0]
    excluded_types = set(options.get("exclude_types") or [])
    return {i["name"]: i["description"] or i["name"] for i in call.rt.state.rows("interface")
            if i["type"] not in excluded_types}


@methods.method("interface.websocket_local_ip")
def websocket_local_ip(call: Call) -> str:
    """Answer ``interface.websocket_local_ip()``: the address the client connected to."""
    return "127.0.0.1"


@methods.method("interface.websocket_interface")
def websocket_interface(call: Call) -> Any:
    """Answer ``interface.websocket_interface()``: the interface of that address."""
    rows = call.rt.state.rows("interface")
    return rows[0] if rows else None


@methods.method("interface.has_pending_changes")
def has_pending_changes(call: Call) -> bool:
    """Answer ``interface.has_pending_changes()``; the simulator applies nothing lazily."""
    return False


@methods.method("interface.ip_in_use")
def ip_in_use(call: Call) -> list[dict[str, Any]]:
    """Answer ``interface.ip_in_use(options)``: configured IPv4 addresses."""
    return [{"type": alias["type"], "address": alias["address"], "netmask": alias["netmask"],
             "broadcast": alias.get("broadcast", "")}
            for interface in call.rt.state.rows("interface")
            for alias in interface["state"]["aliases"] if alias["type"] == "INET"]


def _check_route(data: dict[str, Any], schema: str) -> None:
    verrors = ValidationErrors()
    try:
        destination = ipaddress.ip_network(data["destination"], strict=False)
    except ValueError:
        verrors.add(f"{schema}.destination", "Not a valid IP network", errno.EINVAL)
        destination = None
    try:
        gateway = ipaddress.ip_address(data["gateway"])
    except ValueError:
        verrors.add(f"{schema}.gateway", "Not a valid IP address", errno.EINVAL)
        gateway = None
    if destination and gateway and destination.version != gateway.version:
        verrors.add(f"{schema}.destination",
                    "Destination and gateway address families must match", errno.EINVAL)
    verrors.check()


@methods.method("staticroute.create")
def route_create(call: Call) -> dict[str, Any]:
    """Answer ``staticroute.create(data)``."""
    data = call.args[0]
    _check_route(data, "staticroute_create")
    route_id = call.rt.state.next_id("staticroute")
    record = call.rt.state.record("staticroute", **{"description": "", **data, "id": route_id})
    return routes.store(call, route_id, record)


@methods.method("staticroute.update")
def route_update(call: Call) -> dict[str, Any]:
    """Answer ``staticroute.update(id, data)``."""
    record = routes.find(call, call.args[0])
    record.update(call.args[1])
    _check_route(record, "staticroute_update")
    return routes.store(call, call.args[0], record)


@methods.method("staticroute.delete")
def route_delete(call: Call) -> bool:
    """Answer ``staticroute.delete(id)``."""
    routes.remove(call, call.args[0])
    return True
