"""IP addresses users reserve outside of any node (``ipaddresses reserve``)."""

from __future__ import annotations

import ipaddress
from typing import Any

from maas_dyn.sim.maas import render
from maas_dyn.sim.maas.models import Reservation, Subnet
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.responses import ApiError, BadRequest
from maas_dyn.sim.maas.state import State
from maas_dyn.sim.maas.validation import MAC_ADDRESS, mandatory

USER_RESERVED = 4  # IPADDRESS_TYPE.USER_RESERVED


@action("IPAddressesHandler", "read")
def read(context: Context) -> list[dict[str, Any]]:
    """List reserved addresses: the caller's, or everybody's for admins with ``all``."""
    everyone = context.is_admin and (context.params.get("all") or "").lower() in ("1", "true")
    owner = context.params.get("owner") if context.is_admin else None
    return [
        _render(context.state, r)
        for r in context.state.reservations.values()
        if (everyone or r.owner == (owner or context.username))
    ]


@action("IPAddressesHandler", "reserve")
def reserve(context: Context) -> dict[str, Any]:
    """Reserve an address, a given one or the next free one of a subnet."""
    state = context.state
    params = context.params
    wanted = params.get("ip") or params.get("ip_address")
    subnet = _subnet(state, params.get("subnet"), wanted)
    mac = params.get("mac_address") or ""
    if mac and not MAC_ADDRESS.match(mac):
        raise BadRequest(f"Invalid MAC address: {mac}")
    if wanted is None:
        address = state.allocate_ip(subnet)
        if address is None:
            raise ApiError(503, f"No more IPs available in subnet: {subnet.cidr}.")
    elif state.claim_ip(subnet, wanted):
        address = wanted
    else:
        raise ApiError(404, f"The IP address {wanted} is already in use.")
    reservation = Reservation(address, subnet.id, context.username, state.clock.now(),
                              params.get("hostname") or "", mac.lower())
    state.reservations[address] = reservation
    return _render(state, reservation)


@action("IPAddressesHandler", "release")
def release(context: Context) -> None:
    """Give a reserved address back."""
    state = context.state
    address = mandatory(context.params, "ip")
    reservation = state.reservations.get(address)
    force = context.is_admin and (context.params.get("force") or "").lower() in ("1", "true")
    if reservation is None or not (force or reservation.owner == context.username):
        raise BadRequest(f"Unable to release IP address {address}: it is not reserved by you.")
    state.release_ip(reservation.subnet_id, address)
    del state.reservations[address]


def _subnet(state: State, raw: str | None, wanted: str | None) -> Subnet:
    if raw:
        found = next((s for s in state.subnets.values() if raw in (str(s.id), s.cidr)), None)
        if found is None:
            raise BadRequest(f"Unable to identify subnet: {raw}.")
        if wanted is not None and not _inside(wanted, found):
            raise BadRequest(f"IP address {wanted} is not within subnet {found.cidr}.")
        return found
    if wanted is None:
        raise BadRequest("Either subnet or ip must be specified.")
    found = next((s for s in state.subnets.values() if _inside(wanted, s)), None)
    if found is None:
        raise BadRequest(f"No subnet found for IP address {wanted}.")
    return found


def _inside(address: str, subnet: Subnet) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(subnet.cidr)
    except ValueError:
        return False


def _render(state: State, reservation: Reservation) -> dict[str, Any]:
    owner = state.users.get(reservation.owner)
    return {
        "alloc_type": USER_RESERVED,
        "alloc_type_name": "User reserved",
        "created": render.timestamp(state, reservation.created),
        "ip": reservation.ip,
        "owner": render.user(state, owner) if owner else None,
        "subnet": render.subnet(state, state.subnets[reservation.subnet_id]),
        "resource_uri": f"{state.api_prefix}ipaddresses/",
    }
