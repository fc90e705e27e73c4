"""Network: a VLAN on a fabric, a subnet with a dynamic range, machine interfaces linked.

Addresses are checked locally with :mod:`ipaddress` before anything is sent (a range
outside its subnet is a typo, not something to ask the server about); the rest is the
server's call, through the generated handlers::

    vlan = create_vlan(client, fabric_id=0, vid=100, name="storage", mtu=9000)
    setup = create_subnet(client, "10.100.0.0/24", vlan=vlan["id"], gateway_ip="10.100.0.1",
                          dynamic_range=("10.100.0.100", "10.100.0.199"))
    link_machines(client, ["abc123", "def456"], setup.subnet["id"], mode="auto")
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from maas_dyn.errors import InvalidParametersError
from maas_dyn.workflows._common import fields, logged_step
from maas_dyn.workflows.bulk import BulkResult, run_bulk

__all__ = [
    "LINK_MODES",
    "SubnetSetup",
    "create_subnet",
    "create_vlan",
    "link_interface",
    "link_machines",
]

# How ``interface link_subnet`` configures an address, and whether it takes ip_address.
LINK_MODES: Mapping[str, bool] = {"auto": False, "dhcp": False, "static": True,
                                  "link_up": False}
"""How ``interface link-subnet`` configures an address (``auto``, ``dhcp``, ``static``,
``link_up``), and whether the mode takes an ``ip_address``.
"""


@dataclass
class SubnetSetup:
    """A subnet and the IP ranges made with it.

    Attributes:
        subnet: The subnet as the server created it.
        ranges: Its IP ranges (the dynamic one first).
    """

    subnet: dict[str, Any]
    ranges: list[dict[str, Any]] = field(default_factory=list)


def create_vlan(client: Any, fabric_id: int | str, vid: int, *, name: str | None = None,
                mtu: int | None = None, description: str | None = None,
                space: str | None = None) -> dict[str, Any]:
    """Create a tagged VLAN on a fabric (``vlans create``).

    Args:
        client: A MAAS client.
        fabric_id: The fabric.
        vid: The 802.1Q VLAN id, 1-4094.
        name: Its name (default: the VID).
        mtu: Its MTU.
        description: Free text.
        space: The space it belongs to.

    Returns:
        The VLAN (its ``id`` is what subnets refer to).

    Raises:
        InvalidParametersError: The VID is out of range.
    """
    if not 1 <= vid <= 4094:
        raise InvalidParametersError(f"a VLAN id is 1-4094, not {vid}",
                                     errors={"vid": ["must be 1-4094"]})
    with logged_step(f"fabric-{fabric_id}", f"create vlan {vid}") as step:
        vlan: dict[str, Any] = client.request(
            "vlans", "create", fabric_id,
            fields=fields(vid=vid, name=name, mtu=mtu, description=description,
                          space=space)).data
        step.state = "created"
    return vlan


def _check_range(network: ipaddress.IPv4Network | ipaddress.IPv6Network,
                 start: str, end: str) -> None:
    try:
        first, last = ipaddress.ip_address(start), ipaddress.ip_address(end)
    except ValueError as exc:
        raise InvalidParametersError(f"bad address in the range: {exc}",
                                     errors={"dynamic_range": [str(exc)]}) from None
    if first not in network or last not in network or int(first) > int(last):
        problem = f"{start}-{end} is not an ascending range inside {network}"
        raise InvalidParametersError(problem, errors={"dynamic_range": [problem]})


def create_subnet(client: Any, cidr: str, *, vlan: int | str | None = None,
                  gateway_ip: str | None = None, dns_servers: Sequence[str] = (),
                  name: str | None = None,
                  dynamic_range: tuple[str, str] | None = None) -> SubnetSetup:
    """Create a subnet, and a dynamic IP range in it when asked.

    Args:
        client: A MAAS client.
        cidr: e.g. ``"10.100.0.0/24"``.
        vlan: The VLAN's ``id`` (default: the default VLAN of the default fabric).
        gateway_ip: The gateway.
        dns_servers: DNS servers handed out on the subnet.
        name: Its name (default: the CIDR).
        dynamic_range: ``(start, end)`` of the range MAAS may lease from (DHCP).

    Returns:
        The subnet and its range.

    Raises:
        InvalidParametersError: A malformed CIDR, or a range outside it (checked before
            anything is sent).
    """
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        raise InvalidParametersError(f"bad CIDR {cidr!r}: {exc}",
                                     errors={"cidr": [str(exc)]}) from None
    if dynamic_range is not None:
        _check_range(network, *dynamic_range)
    with logged_step(cidr, "create subnet") as step:
        subnet: dict[str, Any] = client.request(
            "subnets", "create", fields=fields(
                cidr=cidr, vlan=vlan, gateway_ip=gateway_ip, name=name,
                dns_servers=" ".join(dns_servers) or None)).data
        step.state = "created"
    setup = SubnetSetup(subnet)
    if dynamic_range is not None:
        with logged_step(cidr, "create dynamic range") as step:
            setup.ranges.append(client.request("ipranges", "create", fields=fields(
                type="dynamic", start_ip=dynamic_range[0], end_ip=dynamic_range[1],
                subnet=subnet["id"])).data)
            step.state = "created"
    return setup


def _interface_id(client: Any, system_id: str, interface: str | None) -> Any:
    if interface is None:
        boot = client.machine.read(system_id).get("boot_interface")
        if not boot:
            raise InvalidParametersError(f"{system_id} has no boot interface; name one",
                                         errors={"interface": ["required"]})
        return boot["id"]
    for each in client.interfaces.read(system_id):
        if interface in (each.get("name"), str(each.get("id"))):
            return each["id"]
    raise InvalidParametersError(f"{system_id} has no interface {interface!r}",
                                 errors={"interface": ["no such interface"]})


def link_interface(client: Any, system_id: str, subnet: int | str, *, mode: str = "auto",
                   interface: str | None = None,
                   ip_address: str | None = None) -> dict[str, Any]:
    """Link one machine's interface to a subnet (``interface link_subnet``).

    Args:
        client: A MAAS client.
        system_id: The machine (New, Ready, Allocated, Broken or Failed testing).
        subnet: The subnet's id (or CIDR).
        mode: A key of :data:`LINK_MODES`.
        interface: Interface name or id (default: the machine's boot interface).
        ip_address: With ``mode="static"``: the address (default: MAAS picks one).

    Returns:
        The interface as the server rendered it.

    Raises:
        InvalidParametersError: Unknown mode, an address with a mode that takes none,
            or no such interface.
    """
    mode = mode.lower()
    if mode not in LINK_MODES or (ip_address and not LINK_MODES[mode]):
        raise InvalidParametersError(
            f"mode must be one of {', '.join(LINK_MODES)} (ip_address only with static); "
            f"got {mode!r}", errors={"mode": ["invalid"]})
    with logged_step(system_id, f"link {mode}") as step:
        found = _interface_id(client, system_id, interface)
        linked: dict[str, Any] = client.request(
            "interface", "link_subnet", system_id, found,
            fields=fields(mode=mode.upper(), subnet=subnet, ip_address=ip_address)).data
        step.state = "linked"
    return linked


def link_machines(client: Any, system_ids: Iterable[str], subnet: int | str, *,
                  mode: str = "auto", interface: str | None = None, concurrency: int = 8,
                  progress: TextIO | bool | None = None) -> BulkResult[str]:
    """Link the same interface of many machines to a subnet, in parallel.

    Args:
        client: A MAAS client.
        system_ids: The machines.
        subnet: The subnet's id.
        mode: A key of :data:`LINK_MODES` (``static`` lets MAAS pick each address).
        interface: Interface name (default: each machine's boot interface).
        concurrency: Machines worked on at once.
        progress: Progress display.

    Returns:
        Per machine: the linked interface or the error.
    """
    return run_bulk(lambda system_id: link_interface(client, system_id, subnet, mode=mode,
                                                     interface=interface),
                    system_ids, concurrency=concurrency, label="link", progress=progress)
