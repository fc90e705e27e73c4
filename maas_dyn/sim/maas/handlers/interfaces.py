"""Network interfaces of nodes and their links to subnets.

Physical, bond, bridge and VLAN interfaces can be created. Machines may only be
re-cabled in the statuses MAAS allows (``ALLOWED_STATES`` of
``maasserver.api.interfaces``); devices have no status and are always editable.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from maas_dyn.sim.maas import render
from maas_dyn.sim.maas.handlers._common import can_view, lookup_by
from maas_dyn.sim.maas.models import Interface, Link, Machine
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.responses import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from maas_dyn.sim.maas.state import Node, State
from maas_dyn.sim.maas.status import Status
from maas_dyn.sim.maas.validation import MAC_ADDRESS, Form, invalid_choice, mandatory

EDITABLE_STATUSES = frozenset(
    {Status.NEW, Status.READY, Status.FAILED_TESTING, Status.ALLOCATED, Status.BROKEN}
)
LINK_MODES = ("auto", "dhcp", "static", "link_up")
BOND_MODES = (
    "balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb",
    "balance-alb",
)
BRIDGE_TYPES = ("standard", "ovs")


@action("InterfacesHandler", "read")
def read_all(context: Context) -> list[dict[str, Any]]:
    """List a node's interfaces."""
    node = _node(context)
    return [render.interface(context.state, node, i) for i in node.interfaces]


@action("InterfaceHandler", "read")
def read(context: Context) -> dict[str, Any]:
    """Return one interface, by id or name."""
    node = _node(context)
    return render.interface(context.state, node, _interface(context, node))


@action("InterfacesHandler", "create_physical")
def create_physical(context: Context) -> dict[str, Any]:
    """Add a physical interface."""
    node = _editable(context, "create")
    form = Form(context.params)
    mac = _mac(context.state, form)
    name = form.string("name") or f"eth{len(node.interfaces)}"
    _check_name(form, node, name)
    vlan_id = _vlan(context.state, form)
    tags = _tags(form)
    form.validate()
    assert mac is not None  # validate() raised otherwise
    interface = Interface(context.state.next_id("interface"), name, mac, vlan_id, tags=tags)
    return _added(context, node, interface)


@action("InterfacesHandler", "create_bond")
def create_bond(context: Context) -> dict[str, Any]:
    """Bond physical interfaces together."""
    node = _editable(context, "create bond")
    form = Form(context.params)
    name = form.string("name", required=True)
    if name:
        _check_name(form, node, name)
    parents = _parents(form, node, "parents")
    mode = form.choice("bond_mode", BOND_MODES, default="balance-rr")
    mac = _mac(context.state, form, required=False)
    form.validate()
    assert name is not None  # validate() raised otherwise
    bond = Interface(
        context.state.next_id("interface"),
        name,
        mac or parents[0].mac_address,
        parents[0].vlan_id,
        type="bond",
        parents=[p.name for p in parents],
        params={"bond_mode": mode},
    )
    return _added(context, node, bond, parents)


@action("InterfacesHandler", "create_bridge")
def create_bridge(context: Context) -> dict[str, Any]:
    """Put a bridge on top of an interface."""
    node = _editable(context, "create bridge")
    form = Form(context.params)
    parents = _parents(form, node, "parent", single=True)
    name = form.string("name") or (f"br-{parents[0].name}" if parents else "")
    if name:
        _check_name(form, node, name)
    bridge_type = form.choice("bridge_type", BRIDGE_TYPES, default="standard")
    stp = form.boolean("bridge_stp")
    forward_delay = form.integer("bridge_fd", default=15, min_value=0)
    form.validate()
    bridge = Interface(
        context.state.next_id("interface"),
        name,
        parents[0].mac_address,
        parents[0].vlan_id,
        type="bridge",
        parents=[parents[0].name],
        params={"bridge_type": bridge_type, "bridge_stp": stp, "bridge_fd": forward_delay},
    )
    return _added(context, node, bridge, parents)


@action("InterfacesHandler", "create_vlan")
def create_vlan(context: Context) -> dict[str, Any]:
    """Add a tagged VLAN interface on top of an interface."""
    state = context.state
    node = _editable(context, "create VLAN")
    form = Form(context.params)
    parents = _parents(form, node, "parent", single=True)
    raw_vlan = form.string("vlan", required=True) or ""
    vlan = state.vlans.get(int(raw_vlan)) if raw_vlan.isdigit() else None
    if raw_vlan and (vlan is None or vlan.vid == 0):
        form.error("vlan", invalid_choice(raw_vlan))
    form.validate()
    assert vlan is not None  # validate() raised otherwise
    name = f"{parents[0].name}.{vlan.vid}"
    if any(i.name == name for i in node.interfaces):
        raise ValidationFailed({"__all__": [f"Interface {name} already exists."]})
    interface = Interface(
        state.next_id("interface"), name, parents[0].mac_address, vlan.id, type="vlan",
        parents=[parents[0].name],
    )
    return _added(context, node, interface, parents)


@action("InterfaceHandler", "update")
def update(context: Context) -> dict[str, Any]:
    """Rename or re-cable an interface, or change its speeds and state."""
    node = _editable(context, "update")
    interface = _interface(context, node)
    form = Form(context.params)
    name = form.string("name")
    if name and name != interface.name:
        _check_name(form, node, name)
    mac = _mac(context.state, form, required=False)
    vlan_id = _vlan(context.state, form) if context.params.has("vlan") else interface.vlan_id
    enabled = form.boolean("enabled", default=interface.enabled)
    connected = form.boolean("link_connected", default=interface.link_connected)
    link_speed = form.integer("link_speed", min_value=0)
    interface_speed = form.integer("interface_speed", min_value=0)
    form.validate()
    if name and name != interface.name:
        _rename(node, interface.name, name)
    interface.mac_address = mac or interface.mac_address
    interface.vlan_id = vlan_id
    interface.enabled = enabled
    interface.link_connected = connected
    interface.link_speed = interface.link_speed if link_speed is None else link_speed
    interface.interface_speed = (
        interface.interface_speed if interface_speed is None else interface_speed
    )
    return render.interface(context.state, node, interface)


@action("InterfaceHandler", "delete")
def delete(context: Context) -> None:
    """Delete an interface that nothing is built on."""
    node = _editable(context, "delete")
    interface = _interface(context, node)
    if interface.children:
        raise BadRequest(
            f"Cannot delete interface {interface.name}: it is a parent of "
            + ", ".join(interface.children)
            + "."
        )
    _unlink_all(context.state, interface)
    for parent in node.interfaces:
        if interface.name in parent.children:
            parent.children.remove(interface.name)
    node.interfaces.remove(interface)


@action("InterfaceHandler", "link_subnet")
def link_subnet(context: Context) -> dict[str, Any]:
    """Give an interface an IP configuration on a subnet."""
    state = context.state
    node = _editable(context, "link subnet")
    interface = _interface(context, node)
    form = Form(context.params)
    raw_mode = (form.string("mode", required=True) or "").lower()
    if raw_mode and raw_mode not in LINK_MODES:
        form.error("mode", invalid_choice(raw_mode.upper()))
    raw_subnet = form.string("subnet", required=raw_mode not in ("", "link_up"))
    subnet = next((s for s in state.subnets.values() if raw_subnet in (str(s.id), s.cidr)), None)
    if raw_subnet and subnet is None:
        form.error("subnet", invalid_choice(raw_subnet))
    address = form.string("ip_address") if raw_mode == "static" else None
    if address is not None and subnet is not None:
        _check_address(form, state, subnet.cidr, address)
    form.boolean("default_gateway")
    form.validate()
    if subnet is not None:
        interface.vlan_id = subnet.vlan_id
    _drop_link_up(interface)
    if raw_mode == "static" and subnet is not None:
        address = address or state.allocate_ip(subnet)
        if address is None:
            raise ValidationFailed({"ip_address": ["No more IP addresses are available."]})
    interface.links.append(
        Link(state.next_id("link"), raw_mode, subnet.id if subnet else None, address)
    )
    return render.interface(state, node, interface)


@action("InterfaceHandler", "unlink_subnet")
def unlink_subnet(context: Context) -> dict[str, Any]:
    """Remove one IP configuration of an interface."""
    state = context.state
    node = _editable(context, "unlink subnet")
    interface = _interface(context, node)
    raw = mandatory(context.params, "id")
    link = next((each for each in interface.links if str(each.id) == raw), None)
    if link is None:
        raise ValidationFailed({"id": [invalid_choice(raw)]})
    state.release_ip(link.subnet_id, link.ip_address)
    interface.links.remove(link)
    if not interface.links:
        interface.links.append(Link(state.next_id("link"), "link_up"))
    return render.interface(state, node, interface)


@action("InterfaceHandler", "disconnect")
def disconnect(context: Context) -> dict[str, Any]:
    """Remove every IP configuration and the VLAN of an interface."""
    node = _editable(context, "disconnect")
    interface = _interface(context, node)
    _unlink_all(context.state, interface)
    interface.vlan_id = None
    return render.interface(context.state, node, interface)


@action("InterfaceHandler", "set_default_gateway")
def set_default_gateway(context: Context) -> dict[str, Any]:
    """Route the machine through the gateway of one of this interface's links."""
    node = _editable(context, "set default gateway for")
    interface = _interface(context, node)
    if not isinstance(node, Machine):
        raise BadRequest("Only machines have a default gateway.")
    raw = context.params.get("link_id")
    routable = [
        each for each in interface.links
        if each.subnet_id in context.state.subnets
        and context.state.subnets[each.subnet_id].gateway_ip
        and each.mode in ("auto", "static", "dhcp")
    ]
    chosen = next((each for each in routable if raw is None or str(each.id) == raw), None)
    if chosen is None:
        raise ValidationFailed(
            {"link_id": ["This interface has no link with a gateway to use."]}
        )
    node.gateway_link_id = chosen.id
    return render.interface(context.state, node, interface)


@action("InterfaceHandler", "add_tag")
def add_tag(context: Context) -> dict[str, Any]:
    """Tag an interface."""
    node = _editable(context, "update")
    interface = _interface(context, node)
    tag = mandatory(context.params, "tag")
    if tag not in interface.tags:
        interface.tags.append(tag)
    return render.interface(context.state, node, interface)


@action("InterfaceHandler", "remove_tag")
def remove_tag(context: Context) -> dict[str, Any]:
    """Untag an interface."""
    node = _editable(context, "update")
    interface = _interface(context, node)
    tag = mandatory(context.params, "tag")
    interface.tags = [t for t in interface.tags if t != tag]
    return render.interface(context.state, node, interface)


def _node(context: Context) -> Node:
    node = context.state.node(context.arg("system_id"))
    if not can_view(context, node):
        raise NotFound("Node")
    return node


def _editable(context: Context, operation: str) -> Node:
    node = _node(context)
    if isinstance(node, Machine):
        if not context.is_admin:
            raise Forbidden()
        if node.status not in EDITABLE_STATUSES:
            raise Conflict(
                f"Cannot {operation} interface because the machine is not New, Ready, "
                "Allocated, or Broken."
            )
    elif not (context.is_admin or node.owner == context.username):
        raise Forbidden()
    return node


def _interface(context: Context, node: Node) -> Interface:
    return lookup_by(
        node.interfaces, context.arg("id"), "Interface", lambda i: i.id, lambda i: i.name
    )


def _added(
    context: Context, node: Node, interface: Interface, parents: list[Interface] | None = None
) -> dict[str, Any]:
    for parent in parents or []:
        parent.children.append(interface.name)
        # Addresses move up to the new interface; the parents only carry the link.
        _unlink_all(context.state, parent)
    node.interfaces.append(interface)
    interface.links = interface.links or [Link(context.state.next_id("link"), "link_up")]
    return render.interface(context.state, node, interface)


def _mac(state: State, form: Form, *, required: bool = True) -> str | None:
    raw = form.string("mac_address", required=required)
    if raw is None:
        return None
    if not MAC_ADDRESS.match(raw):
        form.error("mac_address", f"'{raw}' is not a valid MAC address.")
        return None
    mac = raw.lower().replace("-", ":")
    if any(i.mac_address == mac for n in state.nodes() for i in n.interfaces):
        form.error("mac_address", "This MAC address is already in use.")
    return mac


def _check_name(form: Form, node: Node, name: str) -> None:
    if any(i.name == name for i in node.interfaces):
        form.error("name", f"Interface {name} already exists on this node.")


def _vlan(state: State, form: Form) -> int | None:
    raw = form.string("vlan")
    if not raw:
        return None
    if raw.isdigit() and int(raw) in state.vlans:
        return int(raw)
    form.error("vlan", invalid_choice(raw))
    return None


def _tags(form: Form) -> list[str]:
    return [t for v in form.params.get_list("tags") for t in v.replace(",", " ").split()]


def _parents(form: Form, node: Node, field: str, *, single: bool = False) -> list[Interface]:
    raws = form.params.get_list(field)
    if not raws:
        form.error(field, "This field is required.")
        return []
    if single and len(raws) > 1:
        form.error(field, "Only one parent is allowed.")
        return []
    found = []
    for raw in raws:
        parent = next((i for i in node.interfaces if raw in (str(i.id), i.name)), None)
        if parent is None or (not single and parent.children):
            form.error(field, invalid_choice(raw))
        else:
            found.append(parent)
    return found


def _check_address(form: Form, state: State, cidr: str, address: str) -> None:
    try:
        inside = ipaddress.ip_address(address) in ipaddress.ip_network(cidr)
    except ValueError:
        form.error("ip_address", "Enter a valid IPv4 or IPv6 address.")
        return
    if not inside:
        form.error("ip_address", f"IP address is not within subnet: {cidr}.")
        return
    subnet = next(s for s in state.subnets.values() if s.cidr == cidr)
    if not state.claim_ip(subnet, address):
        form.error("ip_address", f"IP address {address} is already in use.")


def _drop_link_up(interface: Interface) -> None:
    interface.links = [each for each in interface.links if each.mode != "link_up"]


def _unlink_all(state: State, interface: Interface) -> None:
    for each in interface.links:
        state.release_ip(each.subnet_id, each.ip_address)
    interface.links = []


def _rename(node: Node, old: str, new: str) -> None:
    for other in node.interfaces:
        other.parents = [new if p == old else p for p in other.parents]
        other.children = [new if c == old else c for c in other.children]
    next(i for i in node.interfaces if i.name == old).name = new
