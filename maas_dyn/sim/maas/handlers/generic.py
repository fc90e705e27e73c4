"""Read-mostly handlers whose real answers need no stored model of their own.

* Networks (maasserver/api/networks.py): the deprecated view of subnets. ``read``
  renders each subnet as ``subnet-<id>``; create, update, delete, connect_macs and
  disconnect_macs answer ``rc.NOT_HERE`` (410 Gone) as the region does.
* Discoveries (maasserver/api/discoveries.py): the simulated region observes no
  traffic, so every listing is empty, ``clear`` and ``clear_by_mac_and_ip`` delete
  nothing (204), and a discovery id is a 404.
* Installation results, node devices and script results (api/results.py,
  api/node_devices.py, api/scriptresults.py): empty listings, 404 for any id.
* Controllers: ``power_parameters`` (manual power: no parameters), ``set_zone``,
  ``update``, ``delete``, power switching and querying (manual power: ``unknown``), and
  the rack's boot images (the simulated racks hold every boot resource).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from maas_dyn.sim.maas.handlers import controllers
from maas_dyn.sim.maas.models import Controller, Subnet
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.responses import (
    TEXT_TYPE,
    ApiError,
    NotFound,
    Response,
    ValidationFailed,
)
from maas_dyn.sim.maas.state import State
from maas_dyn.sim.maas.validation import Form, invalid_choice, mandatory

_GONE = 410


def _network(state: State, subnet: Subnet) -> dict[str, Any]:
    network = ipaddress.ip_network(subnet.cidr)
    return {
        "name": f"subnet-{subnet.id}",
        "ip": str(network.network_address),
        "netmask": str(network.netmask),
        "vlan_tag": state.vlans[subnet.vlan_id].vid,
        "description": subnet.name,
        "default_gateway": subnet.gateway_ip,
        "dns_servers": list(subnet.dns_servers),
        "resource_uri": f"{state.api_prefix}networks/subnet-{subnet.id}/",
    }


def _subnet_named(context: Context) -> Subnet:
    # get_object_by_specifiers_or_raise: "subnet-<id>", an id, a CIDR or a name.
    raw = context.arg("name")
    wanted = raw.removeprefix("subnet-")
    for subnet in context.state.subnets.values():
        if wanted == str(subnet.id) or raw in (subnet.cidr, subnet.name):
            return subnet
    raise NotFound("Subnet")


@action("NetworksHandler", "read")
def read_networks(context: Context) -> list[dict[str, Any]]:
    """List every subnet as a network."""
    state = context.state
    return [_network(state, s) for s in state.subnets.values()]


@action("NetworkHandler", "read")
def read_network(context: Context) -> dict[str, Any]:
    """Return one subnet as a network."""
    return _network(context.state, _subnet_named(context))


@action("NetworkHandler", "list_connected_macs")
def list_connected_macs(context: Context) -> list[dict[str, str]]:
    """List the MAC addresses of the interfaces on the network's VLAN."""
    subnet = _subnet_named(context)
    return [
        {"mac_address": interface.mac_address}
        for _node, interface in context.state.interfaces_on_vlan(subnet.vlan_id)
    ]


def _gone(context: Context) -> None:
    """Answer 410 Gone: networks are read-only since MAAS 2.0."""
    raise ApiError(_GONE, "")


for _handler, _name in (("NetworksHandler", "create"), ("NetworkHandler", "update"),
                        ("NetworkHandler", "delete"), ("NetworkHandler", "connect_macs"),
                        ("NetworkHandler", "disconnect_macs")):
    action(_handler, _name)(_gone)


def _empty(context: Context) -> list[Any]:
    """Answer an empty listing: the simulated region has none of these."""
    return []


for _handler, _name in (("DiscoveriesHandler", "read"), ("DiscoveriesHandler", "by_unknown_mac"),
                        ("DiscoveriesHandler", "by_unknown_ip"),
                        ("DiscoveriesHandler", "by_unknown_ip_and_mac"),
                        ("NodeResultsHandler", "read"), ("NodeDevicesHandler", "read"),
                        ("NodeScriptResultsHandler", "read")):
    action(_handler, _name)(_empty)


@action("DiscoveryHandler", "read")
def read_discovery(context: Context) -> None:
    """No discovery exists, so every id is a 404."""
    raise NotFound("Discovery")


@action(("NodeDeviceHandler", "NodeScriptResultHandler"), "read")
@action(("NodeDeviceHandler", "NodeScriptResultHandler"), "delete", admin=True)
@action("NodeScriptResultHandler", "update", admin=True)
@action("NodeScriptResultHandler", "download")
def read_missing(context: Context) -> None:
    """No node device or script result exists for the given id: 404."""
    context.state.node(context.arg("system_id"))
    raise NotFound("NodeDevice" if context.handler == "NodeDeviceHandler" else "ScriptResult")


@action("DiscoveriesHandler", "clear", admin=True)
def clear(context: Context) -> Response:
    """Delete every discovery (there are none)."""
    return Response(204, b"", "")


@action("DiscoveriesHandler", "clear_by_mac_and_ip", admin=True)
def clear_by_mac_and_ip(context: Context) -> Response:
    """Delete the discoveries of a MAC and IP pair (there are none)."""
    mandatory(context.params, "ip")
    mandatory(context.params, "mac")
    return Response(204, b"", "")


@action(("RackControllerHandler", "RegionControllerHandler"), "power_parameters", admin=True)
def controller_power_parameters(context: Context) -> dict[str, Any]:
    """Return a controller's power parameters: controllers use manual power here."""
    if context.arg("system_id") not in context.state.controllers:
        raise NotFound("Node")
    return {}


@action("RackControllersHandler", "power_parameters", admin=True)
def racks_power_parameters(context: Context) -> dict[str, dict[str, Any]]:
    """Return the power parameters of all (or the given) rack controllers."""
    wanted = set(context.params.get_list("id"))
    return {
        c.system_id: {}
        for c in context.state.controllers.values()
        if c.node_type in (2, 4) and (not wanted or c.system_id in wanted)
    }


@action(("RackControllersHandler", "RegionControllersHandler"), "set_zone", admin=True)
def controllers_set_zone(context: Context) -> Response:
    """Move the given controllers to a zone."""
    state = context.state
    name = mandatory(context.params, "zone")
    zone = state.zone_named(name)
    if zone is None:
        raise ValidationFailed({"zone": [invalid_choice(name)]})
    for system_id in context.params.get_list("nodes"):
        if system_id in state.controllers:
            state.controllers[system_id].zone_id = zone.id
    return Response(200, b"", "")



def _controller(context: Context) -> Controller:
    found = context.state.controllers.get(context.arg("system_id"))
    if found is None:
        raise NotFound("Node")
    return found


@action(("RackControllerHandler", "RegionControllerHandler"), "update", admin=True)
def update_controller(context: Context) -> dict[str, Any]:
    """Change a controller's description or zone (ControllerForm)."""
    state = context.state
    controller = _controller(context)
    form = Form(context.params)
    description = form.string("description")
    zone_name = form.string("zone")
    zone = None if zone_name is None else state.zone_named(zone_name)
    if zone_name is not None and zone is None:
        form.error("zone", invalid_choice(zone_name))
    form.validate()
    if description is not None:
        controller.description = description
    if zone is not None:
        controller.zone_id = zone.id
    return controllers.render_controller(context, controller)


@action(("RackControllerHandler", "RegionControllerHandler"), "delete", admin=True)
def delete_controller(context: Context) -> Response:
    """Remove a controller (api/rackcontrollers.py, api/regioncontrollers.py: rc.DELETED).

    The simulated controllers host no VM hosts, so ``force`` is never needed.
    """
    controller = _controller(context)
    del context.state.controllers[controller.system_id]
    return Response(204, b"", "")


@action("RackControllerHandler", "query_power_state")
def query_controller_power(context: Context) -> dict[str, str]:
    """Controllers use the manual driver here, which cannot query: ``unknown``."""
    _controller(context)
    return {"state": "unknown"}


@action("RackControllerHandler", "power_on")
@action("RackControllerHandler", "power_off")
def switch_controller_power(context: Context) -> dict[str, Any]:
    """Manual power does nothing; MAAS answers with the controller."""
    return controllers.render_controller(context, _controller(context))


@action(("RackControllerHandler", "RackControllersHandler"), "import_boot_images", admin=True)
def import_boot_images(context: Context) -> Response:
    """Start syncing images to rack controllers (instant: the simulated racks are synced)."""
    if context.handler == "RackControllerHandler":
        _controller(context)
    return Response(200, b"Import of boot images started on all rack controllers", TEXT_TYPE)


@action("RackControllerHandler", "list_boot_images")
def list_boot_images(context: Context) -> dict[str, Any]:
    """List the images a rack controller holds: every complete boot resource."""
    _controller(context)
    images = [
        {"name": r.name, "architecture": r.architecture.split("/")[0],
         "subarchitecture": r.architecture.split("/")[-1]}
        for r in context.state.boot_resources.values()
    ]
    return {"connected": True, "status": "synced", "images": images}
