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
        "description": item.description,
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
        **_controller_facts(item),
        "resource_uri": f"{state.api_prefix}{path}/{item.system_id}/",
    }


# The rest of DISPLAYED_RACK_CONTROLLER_FIELDS (maasserver/api/rackcontrollers.py; the
# region's list is the same): a commissioned, tested controller running Ubuntu.
_PASSED = {"status": 2, "status_name": "Passed"}
_TEST_STATUSES = ("commissioning", "testing", "cpu_test", "memory_test", "network_test",
                  "storage_test", "other_test", "interface_test")


def _controller_facts(item: Controller) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "hardware_uuid": f"00000000-0000-4000-8000-{item.id:012d}",
        "cpu_speed": 2400,
        "swap_size": None,
        "osystem": "ubuntu",
        "distro_series": "noble",
        "status_action": "",
        "current_commissioning_result_id": item.id * 10 + 1,
        "current_testing_result_id": item.id * 10 + 2,
        "current_installation_result_id": None,
        "hardware_info": {
            "system_vendor": "QEMU", "system_product": "Standard PC (Q35 + ICH9, 2009)",
            "system_family": "Unknown", "system_version": "pc-q35", "system_sku": "Unknown",
            "system_serial": "Unknown", "cpu_model": "Intel Xeon Processor (Icelake)",
            "mainboard_vendor": "Canonical Ltd.", "mainboard_product": "LXD",
            "mainboard_serial": "Unknown", "mainboard_version": "pc-q35",
            "mainboard_firmware_vendor": "EFI Development Kit II / OVMF",
            "mainboard_firmware_date": "02/06/2015", "mainboard_firmware_version": "0.0.0",
            "chassis_vendor": "QEMU", "chassis_type": "Other", "chassis_serial": "Unknown",
            "chassis_version": "pc-q35",
        },
    }
    for name in _TEST_STATUSES:
        facts[f"{name}_status"] = _PASSED["status"]
        facts[f"{name}_status_name"] = _PASSED["status_name"]
    return facts


def render_controller(context: Context, item: Controller) -> dict[str, Any]:
    """Render a controller as the handler that was called renders it.

    Args:
        context: The call (its handler picks the URI: rack or region controllers).
        item: The controller.

    Returns:
        The JSON object.
    """
    path = "regioncontrollers" if context.handler.startswith("Region") else "rackcontrollers"
    return _render(context.state, item, path)


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
