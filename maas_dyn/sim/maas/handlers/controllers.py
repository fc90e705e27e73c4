"""Region and rack controllers: who they are and the state of their services.

``service_set`` is what ``maas-dyn PROFILE health`` reads to find services that are not
running; :mod:`~maas_dyn.sim.maas.conditions` changes it. A region+rack controller is
listed by both ``rackcontrollers read`` and ``regioncontrollers read``, as in MAAS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from maas_dyn.sim.maas import render
from maas_dyn.sim.maas.models import Controller
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.responses import NotFound
from maas_dyn.sim.maas.state import State

# node_type -> node_type_name, as MAAS's NODE_TYPE_CHOICES spell them.
_TYPE_NAMES = {2: "Rack controller", 3: "Region controller", 4: "Region and rack controller"}
# Filters the list actions model; any other parameter answers 501.
_FILTERS = ("hostname", "id")


def _render(state: State, item: Controller, path: str) -> dict[str, Any]:
    domain = state.domains[item.domain_id]
    return {
        "system_id": item.system_id,
        "hostname": item.hostname,
        "description": "",
        "domain": render.domain(state, domain),
        "fqdn": f"{item.hostname}.{domain.name}",
        "architecture": item.architecture,
        "cpu_count": item.cpu_count,
        "memory": item.memory,
        "power_type": "manual",
        "power_state": "unknown",
        "ip_addresses": [],
        "interface_set": [],
        "zone": render.zone(state, state.zones[item.zone_id]),
        "node_type": item.node_type,
        "node_type_name": _TYPE_NAMES[item.node_type],
        "service_set": [
            {"name": s.name, "status": s.status, "status_info": s.status_info}
            for s in item.services
        ],
        "version": item.version,
        "tag_names": [],
        "resource_uri": f"{state.api_prefix}{path}/{item.system_id}/",
    }


def _listing(context: Context, wanted: Callable[[Controller], bool], path: str
             ) -> list[dict[str, Any]]:
    params = context.params
    unknown = sorted(n for n in params.names() if n not in (*_FILTERS, "op"))
    if unknown:
        raise context.not_modelled(f"filters {unknown}")
    hostnames, ids = params.get_list("hostname"), params.get_list("id")
    return [
        _render(context.state, c, path)
        for c in context.state.controllers.values()
        if wanted(c) and (not hostnames or c.hostname in hostnames)
        and (not ids or c.system_id in ids)
    ]


def _one(context: Context, wanted: Callable[[Controller], bool], model: str, path: str
         ) -> dict[str, Any]:
    found = context.state.controllers.get(context.arg("system_id"))
    if found is None or not wanted(found):
        raise NotFound(model)
    return _render(context.state, found, path)


def _is_rack(controller: Controller) -> bool:
    return controller.is_rack


def _is_region(controller: Controller) -> bool:
    return controller.is_region


@action("RackControllersHandler", "read")
def read_racks(context: Context) -> list[dict[str, Any]]:
    """List rack controllers (and region+rack ones)."""
    return _listing(context, _is_rack, "rackcontrollers")


@action("RackControllerHandler", "read")
def read_rack(context: Context) -> dict[str, Any]:
    """Return one rack controller."""
    return _one(context, _is_rack, "RackController", "rackcontrollers")


@action("RegionControllersHandler", "read")
def read_regions(context: Context) -> list[dict[str, Any]]:
    """List region controllers (and region+rack ones)."""
    return _listing(context, _is_region, "regioncontrollers")


@action("RegionControllerHandler", "read")
def read_region(context: Context) -> dict[str, Any]:
    """Return one region controller."""
    return _one(context, _is_region, "RegionController", "regioncontrollers")
