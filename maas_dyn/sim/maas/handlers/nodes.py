"""Nodes in general, devices, network interfaces and the power driver catalogue."""

from __future__ import annotations

from typing import Any

from maas_dyn.sim.maas import filters, power, render
from maas_dyn.sim.maas.handlers._common import can_view, node_list
from maas_dyn.sim.maas.models import Device, Interface, Machine
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.responses import Forbidden, NotFound, ValidationFailed
from maas_dyn.sim.maas.state import Node
from maas_dyn.sim.maas.validation import MAC_ADDRESS, Form, invalid_choice


@action("NodesHandler", "read")
def read_nodes(context: Context) -> bytes:
    """List machines and devices, filtered like ``machines read``."""
    state = context.state
    criteria = filters.parse(state, context.params, "read", context.not_modelled)
    return node_list(context, (n for n in state.nodes() if filters.matches(state, n, criteria)))


@action("NodeHandler", "read")
def read_node(context: Context) -> bytes:
    """Return any node, rendered as its own kind."""
    node = _visible_node(context)
    return render.node_bytes(context.state, node)


@action("NodeHandler", "delete", admin=True)
def delete_node(context: Context) -> None:
    """Delete a machine or a device."""
    state = context.state
    node = state.node(context.arg("system_id"))
    _forget(context, node)


@action("DevicesHandler", "read")
def read_devices(context: Context) -> bytes:
    """List devices, filtered like ``machines read``."""
    state = context.state
    criteria = filters.parse(state, context.params, "read", context.not_modelled)
    return node_list(
        context, (d for d in state.devices.values() if filters.matches(state, d, criteria))
    )


@action("DevicesHandler", "create")
def create_device(context: Context) -> dict[str, Any]:
    """Create a device owned by the caller."""
    state = context.state
    form = Form(context.params)
    hostname = form.hostname()
    if hostname is not None and any(n.hostname == hostname for n in state.nodes()):
        form.error("hostname", f"Node with hostname '{hostname}' already exists.")
    macs = form.params.get_list("mac_addresses")
    if not macs:
        form.error("mac_addresses", "This field is required.")
    for mac in macs:
        if not MAC_ADDRESS.match(mac):
            form.error("mac_addresses", f"'{mac}' is not a valid MAC address.")
    parent = form.string("parent")
    if parent is not None and parent not in state.machines:
        form.error("parent", invalid_choice(parent))
    domain_name = form.string("domain")
    domain = state.domain_named(domain_name) if domain_name else None
    if domain_name and domain is None:
        form.error("domain", invalid_choice(domain_name))
    description = form.string("description", default="") or ""
    form.validate()
    system_id = state.new_system_id()
    device = Device(
        state.next_id("node"),
        system_id,
        hostname or f"device-{system_id}",
        domain.id if domain else state.default_domain_id,
        state.default_zone_id,
        owner=context.username,
        parent=parent,
        description=description,
        interfaces=[
            Interface(state.next_id("interface"), f"eth{n}", mac.lower(), None)
            for n, mac in enumerate(macs)
        ],
    )
    state.devices[system_id] = device
    return render.device(state, device)


@action("DeviceHandler", "read")
def read_device(context: Context) -> dict[str, Any]:
    """Return a device."""
    return render.device(context.state, _device(context))


@action("DeviceHandler", "update")
def update_device(context: Context) -> dict[str, Any]:
    """Change a device's hostname, domain, zone, parent or description."""
    state = context.state
    device = _device(context, edit=True)
    form = Form(context.params)
    hostname = form.hostname()
    description = form.string("description")
    parent = form.string("parent")
    if parent and parent not in state.machines:
        form.error("parent", invalid_choice(parent))
    placement: dict[str, int] = {}
    for field, find, attribute in (
        ("domain", state.domain_named, "domain_id"),
        ("zone", state.zone_named, "zone_id"),
    ):
        name = form.string(field)
        found = find(name) if name is not None else None
        if name is not None and found is None:
            form.error(field, invalid_choice(name))
        elif found is not None:
            placement[attribute] = found.id
    form.validate()
    if hostname is not None:
        device.hostname = hostname
    if description is not None:
        device.description = description
    if parent is not None:
        device.parent = parent or None
    for attribute, value in placement.items():
        setattr(device, attribute, value)
    return render.device(state, device)


@action("DeviceHandler", "delete")
def delete_device(context: Context) -> None:
    """Delete a device."""
    _forget(context, _device(context, edit=True))


@action("DeviceHandler", "power_parameters", admin=True)
def device_power_parameters(context: Context) -> dict[str, Any]:
    """Devices have no power driver: MAAS answers an empty object."""
    _device(context)
    return {}


@action("RackControllersHandler", "describe_power_types")
def describe_power_types(context: Context) -> list[dict[str, Any]]:
    """Describe the power drivers the simulator knows."""
    return [power.describe(driver) for driver in power.POWER_TYPES.values()]


def _visible_node(context: Context) -> Node:
    node = context.state.node(context.arg("system_id"))
    if not can_view(context, node):
        raise NotFound("Node")
    return node


def _device(context: Context, *, edit: bool = False) -> Device:
    device = context.state.device(context.arg("system_id"))
    if not can_view(context, device):
        raise NotFound("Device")
    if edit and not (context.is_admin or device.owner == context.username):
        raise Forbidden()
    return device


def _forget(context: Context, node: Node) -> None:
    if isinstance(node, Machine) and node.locked:
        raise ValidationFailed({"__all__": ["Cannot delete a locked machine."]})
    context.state.remove_node(node)

