"""Fabrics, VLANs, subnets (with address statistics), IP ranges and spaces."""

from __future__ import annotations

import ipaddress
from typing import Any

from maas_dyn.sim.maas import render
from maas_dyn.sim.maas.handlers._common import lookup, lookup_by
from maas_dyn.sim.maas.models import Fabric, IPRange, Machine, Space, Subnet, Vlan
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.responses import BadRequest, NotFound, ValidationFailed
from maas_dyn.sim.maas.state import State
from maas_dyn.sim.maas.validation import Form, invalid_choice

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Interval = tuple[int, int, str]
RANGE_TYPES = ("dynamic", "reserved")


# -- fabrics -------------------------------------------------------------------------


@action("FabricsHandler", "read")
def read_fabrics(context: Context) -> list[dict[str, Any]]:
    """List fabrics with their VLANs."""
    return [render.fabric(context.state, f) for f in context.state.fabrics.values()]


@action("FabricsHandler", "create", admin=True)
def create_fabric(context: Context) -> dict[str, Any]:
    """Create a fabric and its untagged VLAN."""
    state = context.state
    form = Form(context.params)
    name = form.string("name")
    if name and any(f.name == name for f in state.fabrics.values()):
        form.error("name", "Fabric with this Name already exists.")
    description = form.string("description", default="") or ""
    class_type = form.string("class_type")
    form.validate()
    fabric_id = state.next_id("fabric")
    fabric = Fabric(fabric_id, name or f"fabric-{fabric_id}", class_type, description)
    state.fabrics[fabric_id] = fabric
    vlan_id = state.next_id("vlan")
    state.vlans[vlan_id] = Vlan(vlan_id, fabric_id, 0, "untagged")
    return render.fabric(state, fabric)


@action("FabricHandler", "read")
def read_fabric(context: Context) -> dict[str, Any]:
    """Return a fabric."""
    return render.fabric(context.state, _fabric(context, context.arg("id")))


@action("FabricHandler", "update", admin=True)
def update_fabric(context: Context) -> dict[str, Any]:
    """Rename a fabric or change its class or description."""
    state = context.state
    fabric = _fabric(context, context.arg("id"))
    form = Form(context.params)
    name = form.string("name")
    if name and any(f.name == name and f is not fabric for f in state.fabrics.values()):
        form.error("name", "Fabric with this Name already exists.")
    description = form.string("description")
    class_type = form.string("class_type")
    form.validate()
    fabric.name = name or fabric.name
    fabric.description = fabric.description if description is None else description
    fabric.class_type = fabric.class_type if class_type is None else class_type or None
    state.touch_all()
    return render.fabric(state, fabric)


@action("FabricHandler", "delete", admin=True)
def delete_fabric(context: Context) -> None:
    """Delete a fabric with its VLANs and subnets, unless interfaces still use it."""
    state = context.state
    fabric = _fabric(context, context.arg("id"))
    if fabric.id == 0:
        raise ValidationFailed({"__all__": ["Cannot delete the default fabric."]})
    vlans = [v for v in state.vlans.values() if v.fabric_id == fabric.id]
    busy = sorted(
        f"{node.hostname}:{i.name}" for v in vlans for node, i in state.interfaces_on_vlan(v.id)
    )
    if busy:
        raise ValidationFailed(
            {"__all__": ["Can't delete fabric; the following interfaces are still connected: "
                         + ", ".join(busy)]}
        )
    for vlan in vlans:
        _drop_vlan(state, vlan)
    del state.fabrics[fabric.id]


# -- VLANs ---------------------------------------------------------------------------


@action("VlansHandler", "read")
def read_vlans(context: Context) -> list[dict[str, Any]]:
    """List the VLANs of a fabric."""
    fabric = _fabric(context, context.arg("fabric_id"))
    state = context.state
    return [render.vlan(state, v) for v in state.vlans.values() if v.fabric_id == fabric.id]


@action("VlansHandler", "create", admin=True)
def create_vlan(context: Context) -> dict[str, Any]:
    """Create a tagged VLAN on a fabric."""
    state = context.state
    fabric = _fabric(context, context.arg("fabric_id"))
    form = Form(context.params)
    vid = form.integer("vid", required=True, min_value=0)
    if vid is not None and not 1 <= vid <= 4094:
        form.error("vid", "VID must be between 0 and 4094.")
    elif vid is not None and state.fabric_vlan(fabric.id, vid) is not None:
        form.error("__all__", "VLAN with this Fabric and Vid already exists.")
    name = form.string("name")
    mtu = form.integer("mtu", default=1500, min_value=552)
    description = form.string("description", default="") or ""
    space_id = _space_field(state, form)
    form.validate()
    assert vid is not None  # validate() raised otherwise
    vlan_id = state.next_id("vlan")
    vlan = Vlan(vlan_id, fabric.id, vid, name or str(vid), mtu or 1500, False, space_id,
                description)
    state.vlans[vlan_id] = vlan
    return render.vlan(state, vlan)


@action("VlanHandler", "read")
def read_vlan(context: Context) -> dict[str, Any]:
    """Return a VLAN of a fabric by its VID."""
    return render.vlan(context.state, _vlan(context))


@action("VlanHandler", "update", admin=True)
def update_vlan(context: Context) -> dict[str, Any]:
    """Change a VLAN's name, MTU, DHCP, space or description."""
    state = context.state
    vlan = _vlan(context)
    form = Form(context.params)
    name = form.string("name")
    mtu = form.integer("mtu", min_value=552)
    description = form.string("description")
    dhcp_on = form.boolean("dhcp_on", default=vlan.dhcp_on)
    primary_rack = form.string("primary_rack")
    if dhcp_on and not (primary_rack or vlan.primary_rack):
        form.error("dhcp_on", "dhcp can only be turned on when a primary rack controller "
                   "is available.")
    space_id = _space_field(state, form) if context.params.has("space") else vlan.space_id
    form.validate()
    vlan.name = name or vlan.name
    vlan.mtu = mtu or vlan.mtu
    vlan.description = vlan.description if description is None else description
    vlan.dhcp_on = dhcp_on
    vlan.space_id = space_id
    state.touch_all()
    return render.vlan(state, vlan)


@action("VlanHandler", "delete", admin=True)
def delete_vlan(context: Context) -> None:
    """Delete a tagged VLAN and its subnets."""
    state = context.state
    vlan = _vlan(context)
    if vlan.vid == 0:
        raise ValidationFailed({"__all__": ["The default VLAN of a fabric cannot be deleted."]})
    _drop_vlan(state, vlan)


# -- subnets -------------------------------------------------------------------------


@action("SubnetsHandler", "read")
def read_subnets(context: Context) -> list[dict[str, Any]]:
    """List subnets."""
    return [render.subnet(context.state, s) for s in context.state.subnets.values()]


@action("SubnetsHandler", "create", admin=True)
def create_subnet(context: Context) -> dict[str, Any]:
    """Create a subnet on a VLAN (the default VLAN unless told otherwise)."""
    state = context.state
    form = Form(context.params)
    cidr = form.string("cidr", required=True)
    network = _network(form, cidr)
    if network is not None and any(s.cidr == str(network) for s in state.subnets.values()):
        form.error("cidr", "Subnet with this Cidr already exists.")
    gateway = _gateway(form, network)
    if network is not None and "gateway_ip" not in form.errors and any(
        network.version == other.version and network.overlaps(other)
        for other in (ipaddress.ip_network(s.cidr) for s in state.subnets.values())
    ):
        # Subnet.clean (maasserver/models/subnet.py) checks the gateway, then
        # validate_cidr, alongside the unique check: any containing or contained subnet
        # refuses it; a bad gateway raises first and hides the overlap.
        form.error("__all__", f"Subnet {network} would overlap with existing subnets.")
    vlan_id = _placement(state, form)
    subnet = Subnet(
        0,
        form.string("name", default="") or "",
        str(network),
        vlan_id or 0,
        gateway,
        _dns_servers(form),
        form.string("description", default="") or "",
        form.integer("rdns_mode", default=2) or 0,
        form.boolean("allow_dns", default=True),
        form.boolean("allow_proxy", default=True),
        form.boolean("active_discovery"),
        form.boolean("managed", default=True),
    )
    form.validate()
    subnet.id = state.next_id("subnet")
    subnet.name = subnet.name or subnet.cidr
    state.subnets[subnet.id] = subnet
    return render.subnet(state, subnet)


@action("SubnetHandler", "read")
def read_subnet(context: Context) -> dict[str, Any]:
    """Return a subnet by id, CIDR or ``name:``/``cidr:`` specifier."""
    return render.subnet(context.state, _subnet(context))


@action("SubnetHandler", "update", admin=True)
def update_subnet(context: Context) -> dict[str, Any]:
    """Change a subnet's settings."""
    state = context.state
    subnet = _subnet(context)
    form = Form(context.params)
    network = ipaddress.ip_network(subnet.cidr)
    params = context.params
    gateway = _gateway(form, network) if params.has("gateway_ip") else subnet.gateway_ip
    moved = any(params.has(name) for name in ("vlan", "fabric", "vid"))
    vlan_id = _placement(state, form) if moved else subnet.vlan_id
    name = form.string("name")
    description = form.string("description")
    dns = _dns_servers(form) if params.has("dns_servers") else subnet.dns_servers
    flags = {
        flag: form.boolean(flag, default=getattr(subnet, flag))
        for flag in ("allow_dns", "allow_proxy", "active_discovery", "managed")
    }
    form.validate()
    subnet.gateway_ip = gateway
    subnet.vlan_id = vlan_id or subnet.vlan_id
    subnet.name = name or subnet.name
    subnet.description = subnet.description if description is None else description
    subnet.dns_servers = dns
    for flag, value in flags.items():
        setattr(subnet, flag, value)
    state.touch_all()
    return render.subnet(state, subnet)


@action("SubnetHandler", "delete", admin=True)
def delete_subnet(context: Context) -> None:
    """Delete a subnet, its ranges and the links that used it."""
    state = context.state
    subnet = _subnet(context)
    _drop_subnet(state, subnet)


@action("SubnetHandler", "statistics")
def statistics(context: Context) -> dict[str, Any]:
    """Report address usage of a subnet."""
    subnet = _subnet(context)
    first, last, version = _host_bounds(subnet)
    used = _reserved(context.state, subnet)
    total = last - first + 1
    gaps = _gaps(first, last, used)
    available = sum(end - start + 1 for start, end in gaps)
    unavailable = total - available
    usage = unavailable / total if total else 0.0
    return {
        "num_available": available,
        "largest_available": max((end - start + 1 for start, end in gaps), default=0),
        "num_unavailable": unavailable,
        "total_addresses": total,
        "usage": usage,
        "usage_string": f"{usage:.0%}",
        "available_string": f"{1 - usage:.0%}",
        "first_address": str(ipaddress.ip_address(first)),
        "last_address": str(ipaddress.ip_address(last)),
        "ip_version": version,
    }


@action("SubnetHandler", "unreserved_ip_ranges")
def unreserved_ip_ranges(context: Context) -> list[dict[str, Any]]:
    """List the free address ranges of a subnet."""
    subnet = _subnet(context)
    first, last, _ = _host_bounds(subnet)
    return [
        {
            "start": str(ipaddress.ip_address(start)),
            "end": str(ipaddress.ip_address(end)),
            "num_addresses": end - start + 1,
        }
        for start, end in _gaps(first, last, _reserved(context.state, subnet))
    ]


@action("SubnetHandler", "reserved_ip_ranges")
def reserved_ip_ranges(context: Context) -> list[dict[str, Any]]:
    """List the taken address ranges of a subnet and why they are taken."""
    subnet = _subnet(context)
    return [
        {
            "start": str(ipaddress.ip_address(start)),
            "end": str(ipaddress.ip_address(end)),
            "num_addresses": end - start + 1,
            "purpose": [purpose],
        }
        for start, end, purpose in _reserved(context.state, subnet)
    ]


@action("SubnetHandler", "ip_addresses")
def ip_addresses(context: Context) -> list[dict[str, Any]]:
    """List the addresses nodes hold on a subnet."""
    state = context.state
    subnet = _subnet(context)
    stamp = render.event_time(state, 0.0)
    found = []
    for node in state.nodes():
        for interface in node.interfaces:
            for link in interface.links:
                if link.subnet_id != subnet.id or link.ip_address is None:
                    continue
                entry: dict[str, Any] = {
                    "ip": link.ip_address,
                    "alloc_type": 0 if link.mode == "auto" else 1,
                    "created": stamp,
                    "updated": stamp,
                    "node_summary": {
                        "system_id": node.system_id,
                        "node_type": node.node_type,
                        "fqdn": f"{node.hostname}.{state.domains[node.domain_id].name}",
                        "hostname": node.hostname,
                        "is_container": False,
                        "via": interface.name,
                    },
                }
                if node.owner:
                    entry["user"] = node.owner
                found.append(entry)
    return sorted(found, key=lambda e: ipaddress.ip_address(e["ip"]))


# -- IP ranges -----------------------------------------------------------------------


@action("IPRangesHandler", "read")
def read_ipranges(context: Context) -> list[dict[str, Any]]:
    """List IP ranges."""
    return [render.iprange(context.state, r) for r in context.state.ipranges.values()]


@action("IPRangesHandler", "create")
def create_iprange(context: Context) -> dict[str, Any]:
    """Create a dynamic (admins only) or reserved IP range."""
    state = context.state
    form = Form(context.params)
    kind = form.choice("type", RANGE_TYPES, required=True)
    start = _address(form, "start_ip")
    end = _address(form, "end_ip")
    subnet = _range_subnet(state, form, start)
    form.string("comment")
    if kind == "dynamic" and not context.is_admin:
        form.error("type", "Only administrators can create dynamic IP ranges.")
    form.validate()
    assert kind is not None and start is not None and end is not None and subnet is not None
    iprange = IPRange(0, kind, str(start), str(end), subnet.id,
                      context.params.get("comment") or "", context.username or None)
    _check_range(state, iprange, None)
    iprange.id = state.next_id("iprange")
    state.ipranges[iprange.id] = iprange
    return render.iprange(state, iprange)


@action("IPRangeHandler", "read")
def read_iprange(context: Context) -> dict[str, Any]:
    """Return an IP range."""
    return render.iprange(context.state, lookup(context.state.ipranges, context.arg("id"),
                                                 "IPRange"))


@action("IPRangeHandler", "update")
def update_iprange(context: Context) -> dict[str, Any]:
    """Change an IP range's bounds or comment."""
    state = context.state
    iprange = lookup(state.ipranges, context.arg("id"), "IPRange")
    _check_range_owner(context, iprange)
    form = Form(context.params)
    start = _address(form, "start_ip", required=False)
    end = _address(form, "end_ip", required=False)
    comment = form.string("comment")
    form.validate()
    changed = IPRange(iprange.id, iprange.type, str(start or iprange.start_ip),
                      str(end or iprange.end_ip), iprange.subnet_id, iprange.comment, iprange.user)
    _check_range(state, changed, iprange.id)
    iprange.start_ip, iprange.end_ip = changed.start_ip, changed.end_ip
    iprange.comment = iprange.comment if comment is None else comment
    return render.iprange(state, iprange)


@action("IPRangeHandler", "delete")
def delete_iprange(context: Context) -> None:
    """Delete an IP range."""
    iprange = lookup(context.state.ipranges, context.arg("id"), "IPRange")
    _check_range_owner(context, iprange)
    del context.state.ipranges[iprange.id]


# -- spaces --------------------------------------------------------------------------


@action("SpacesHandler", "read")
def read_spaces(context: Context) -> list[dict[str, Any]]:
    """List spaces with their VLANs and subnets."""
    return [render.space(context.state, s) for s in context.state.spaces.values()]


@action("SpacesHandler", "create", admin=True)
def create_space(context: Context) -> dict[str, Any]:
    """Create a space."""
    state = context.state
    form = Form(context.params)
    name = form.string("name", required=True)
    if name and any(s.name == name for s in state.spaces.values()):
        form.error("name", "Space with this Name already exists.")
    description = form.string("description", default="") or ""
    form.validate()
    assert name is not None  # validate() raised otherwise
    space = Space(state.next_id("space"), name, description)
    state.spaces[space.id] = space
    return render.space(state, space)


@action("SpaceHandler", "read")
def read_space(context: Context) -> dict[str, Any]:
    """Return a space by id or name."""
    return render.space(context.state, _space(context))


@action("SpaceHandler", "update", admin=True)
def update_space(context: Context) -> dict[str, Any]:
    """Rename a space or change its description."""
    state = context.state
    space = _space(context)
    form = Form(context.params)
    name = form.string("name")
    if name and any(s.name == name and s is not space for s in state.spaces.values()):
        form.error("name", "Space with this Name already exists.")
    description = form.string("description")
    form.validate()
    space.name = name or space.name
    space.description = space.description if description is None else description
    state.touch_all()
    return render.space(state, space)


@action("SpaceHandler", "delete", admin=True)
def delete_space(context: Context) -> None:
    """Delete a space; its VLANs become space-less."""
    state = context.state
    space = _space(context)
    for vlan in state.vlans.values():
        if vlan.space_id == space.id:
            vlan.space_id = None
    del state.spaces[space.id]
    state.touch_all()


# -- helpers -------------------------------------------------------------------------


def _fabric(context: Context, raw: str) -> Fabric:
    return lookup_by(context.state.fabrics.values(), raw, "Fabric", lambda f: f.id,
                     lambda f: f.name)


def _vlan(context: Context) -> Vlan:
    fabric = _fabric(context, context.arg("fabric_id"))
    try:
        vid = int(context.arg("vid"))
    except ValueError:
        raise NotFound("VLAN") from None
    vlan = context.state.fabric_vlan(fabric.id, vid)
    if vlan is None:
        raise NotFound("VLAN")
    return vlan


def _subnet(context: Context) -> Subnet:
    raw = context.arg("id")
    kind, _, value = raw.partition(":")
    subnets = context.state.subnets.values()
    if kind in ("cidr", "name") and value:
        return lookup_by(subnets, value, "Subnet", lambda s: getattr(s, kind))
    return lookup_by(subnets, raw, "Subnet", lambda s: s.id, lambda s: s.cidr)


def _space(context: Context) -> Space:
    return lookup_by(context.state.spaces.values(), context.arg("id"), "Space",
                     lambda s: s.id, lambda s: s.name)


def _space_field(state: State, form: Form) -> int | None:
    name = form.string("space")
    if not name or name == "undefined":
        return None
    found = next((s for s in state.spaces.values() if name in (s.name, str(s.id))), None)
    if found is None:
        form.error("space", invalid_choice(name))
        return None
    return found.id


def _network(
    form: Form, cidr: str | None
) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if cidr is None:
        return None
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        form.error("cidr", "Required format: <network>/<prefixlen>.")
        return None


def _gateway(
    form: Form, network: ipaddress.IPv4Network | ipaddress.IPv6Network | None
) -> str | None:
    raw = form.string("gateway_ip")
    if not raw:
        return None
    try:
        gateway = ipaddress.ip_address(raw)
    except ValueError:
        form.error("gateway_ip", "Enter a valid IPv4 or IPv6 address.")
        return None
    if network is not None and gateway not in network:
        form.error("gateway_ip", "Gateway IP must be within CIDR range.")
    return str(gateway)


def _dns_servers(form: Form) -> list[str]:
    servers = [
        part
        for value in form.params.get_list("dns_servers")
        for part in value.replace(",", " ").split()
    ]
    for server in servers:
        try:
            ipaddress.ip_address(server)
        except ValueError:
            form.error("dns_servers", f"Invalid IP address: {server}.")
    return servers


def _placement(state: State, form: Form) -> int | None:
    raw_vlan = form.string("vlan")
    if raw_vlan:
        if raw_vlan.isdigit() and int(raw_vlan) in state.vlans:
            return int(raw_vlan)
        form.error("vlan", invalid_choice(raw_vlan))
        return None
    raw_fabric = form.string("fabric")
    fabric = (
        next((f for f in state.fabrics.values() if raw_fabric in (f.name, str(f.id))), None)
        if raw_fabric
        else state.fabrics.get(0)
    )
    if fabric is None:
        form.error("fabric", invalid_choice(raw_fabric or ""))
        return None
    vid = form.integer("vid", default=0) or 0
    vlan = state.fabric_vlan(fabric.id, vid)
    if vlan is None:
        form.error("vid", f"No VLAN with vid {vid} in fabric {fabric.name}.")
        return None
    return vlan.id


def _address(form: Form, name: str, *, required: bool = True) -> Address | None:
    raw = form.string(name, required=required)
    if raw is None:
        return None
    try:
        return ipaddress.ip_address(raw)
    except ValueError:
        form.error(name, "Enter a valid IPv4 or IPv6 address.")
        return None


def _range_subnet(state: State, form: Form, start: Address | None) -> Subnet | None:
    raw = form.string("subnet")
    if raw:
        found = next((s for s in state.subnets.values() if raw in (str(s.id), s.cidr)), None)
        if found is None:
            form.error("subnet", invalid_choice(raw))
        return found
    if start is None:
        return None
    found = next(
        (s for s in state.subnets.values() if start in ipaddress.ip_network(s.cidr)), None
    )
    if found is None:
        form.error("subnet", "Could not find an appropriate subnet.")
    return found


def _check_range(state: State, iprange: IPRange, own_id: int | None) -> None:
    network = ipaddress.ip_network(state.subnets[iprange.subnet_id].cidr)
    start_ip, end_ip = ipaddress.ip_address(iprange.start_ip), ipaddress.ip_address(iprange.end_ip)
    if start_ip not in network or end_ip not in network:
        raise ValidationFailed({"__all__": [f"IP addresses must be within subnet: {network}."]})
    start, end = int(start_ip), int(end_ip)
    if end < start:
        raise ValidationFailed(
            {"__all__": ["End IP address must not be less than Start IP address."]}
        )
    for other in state.ipranges.values():
        if other.id == own_id or other.subnet_id != iprange.subnet_id:
            continue
        other_start = int(ipaddress.ip_address(other.start_ip))
        other_end = int(ipaddress.ip_address(other.end_ip))
        if start <= other_end and other_start <= end:
            raise ValidationFailed(
                {"__all__": [f"Requested {iprange.type} range conflicts with an existing "
                             f"{other.type} range."]}
            )


def _check_range_owner(context: Context, iprange: IPRange) -> None:
    if not context.is_admin and iprange.user != context.username:
        raise BadRequest("Only the owner or an administrator can change this range.")


def _host_bounds(subnet: Subnet) -> tuple[int, int, int]:
    network = ipaddress.ip_network(subnet.cidr)
    first, last = int(network.network_address), int(network.broadcast_address)
    if network.version == 4 and network.num_addresses > 2:
        first, last = first + 1, last - 1
    return first, last, network.version


def _reserved(state: State, subnet: Subnet) -> list[Interval]:
    taken: list[Interval] = [
        (int(ipaddress.ip_address(r.start_ip)), int(ipaddress.ip_address(r.end_ip)), r.type)
        for r in state.ipranges.values()
        if r.subnet_id == subnet.id
    ]
    if subnet.gateway_ip:
        gateway = int(ipaddress.ip_address(subnet.gateway_ip))
        taken.append((gateway, gateway, "gateway-ip"))
    for address in state.used_ips(subnet.id):
        number = int(ipaddress.ip_address(address))
        taken.append((number, number, "assigned-ip"))
    return sorted(taken)


def _gaps(first: int, last: int, taken: list[Interval]) -> list[tuple[int, int]]:
    gaps = []
    cursor = first
    for start, end, _ in taken:
        if start > cursor:
            gaps.append((cursor, min(start - 1, last)))
        cursor = max(cursor, end + 1)
        if cursor > last:
            break
    if cursor <= last:
        gaps.append((cursor, last))
    return [(start, end) for start, end in gaps if start <= end]


def _drop_subnet(state: State, subnet: Subnet) -> None:
    for node in state.nodes():
        for interface in node.interfaces:
            for link in interface.links:
                if link.subnet_id == subnet.id:
                    state.release_ip(link.subnet_id, link.ip_address)
                    link.subnet_id, link.ip_address = None, None
        if isinstance(node, Machine):
            state.touch(node)
    for range_id in [r.id for r in state.ipranges.values() if r.subnet_id == subnet.id]:
        del state.ipranges[range_id]
    del state.subnets[subnet.id]
    state.touch_all()


def _drop_vlan(state: State, vlan: Vlan) -> None:
    for subnet in [s for s in state.subnets.values() if s.vlan_id == vlan.id]:
        _drop_subnet(state, subnet)
    for _, interface in state.interfaces_on_vlan(vlan.id):
        interface.vlan_id = None
    del state.vlans[vlan.id]
    state.touch_all()
