"""The machine collection: listing, enlisting, allocating, accepting, bulk release."""

from __future__ import annotations

from typing import Any

from maas_dyn.sim.maas import filters, power, render
from maas_dyn.sim.maas.handlers._common import node_list
from maas_dyn.sim.maas.models import Interface, Link, Machine
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.request import Params
from maas_dyn.sim.maas.responses import (
    BadRequest,
    Conflict,
    Forbidden,
    Response,
    Unauthorized,
    ValidationFailed,
)
from maas_dyn.sim.maas.state import State
from maas_dyn.sim.maas.status import RELEASABLE, Status
from maas_dyn.sim.maas.validation import MAC_ADDRESS, Form, invalid_choice, mandatory

# Statuses whose nodes ``is_registered`` ignores (anonymous enlistment may still run).
_UNREGISTERED_ANON = frozenset({Status.NEW, Status.COMMISSIONING, Status.RETIRED})
_UNREGISTERED = frozenset({Status.RETIRED})


@action("MachinesHandler", "read")
def read(context: Context) -> bytes:
    """List the machines visible to the caller, filtered like ``ReadNodesForm``."""
    state = context.state
    criteria = filters.parse(state, context.params, "read", context.not_modelled)
    return node_list(
        context, (m for m in state.machines.values() if filters.matches(state, m, criteria))
    )


def _architecture(form: Form, *, required: bool) -> str:
    """Read ``architecture`` after MAAS's ``fix_architecture`` (maasserver/api/machines.py).

    A name without ``/`` takes ``subarchitecture`` or ``generic``; both forms at once are
    refused as text, as MAAS does.
    """
    architecture = form.params.get("architecture")
    subarchitecture = form.params.get("subarchitecture")
    if architecture and "/" in architecture:
        if subarchitecture:
            raise BadRequest("Subarchitecture cannot be specified twice.")
    elif architecture:
        architecture = f"{architecture}/{subarchitecture or 'generic'}"
    if not architecture:
        if required:
            form.error("architecture", "This field is required.")
        return "amd64/generic"
    if architecture not in filters.KNOWN_ARCHITECTURES:
        form.error("architecture", invalid_choice(architecture))
    return architecture


@action(("MachinesHandler", "AnonMachinesHandler"), "create")
def create(context: Context) -> dict[str, Any]:
    """Enlist a machine; admins' machines start commissioning unless told otherwise."""
    state = context.state
    form = Form(context.params)
    anonymous = context.user is None
    architecture = _architecture(form, required=anonymous)
    hostname = form.hostname()
    macs = _clean_macs(state, form)
    domain_id = _named(form, "domain", {d.name: d.id for d in state.domains.values()})
    zone_id = _named(form, "zone", {z.name: z.id for z in state.zones.values()})
    pool_id = _named(form, "pool", {p.name: p.id for p in state.pools.values()})
    cpu_count = form.integer("cpu_count", default=1, min_value=0)
    memory = form.size("memory", unit=1024 * 1024)
    commission = form.boolean("commission", default=True)
    deployed = form.boolean("deployed")
    sent_power_type = form.string("power_type")
    power_type = sent_power_type or "manual"
    if "mac_addresses" in form.errors and sent_power_type and sent_power_type != "ipmi":
        # MachineForm.clean (maasserver/forms/__init__.py): without cleaned MACs the
        # machine has no interfaces, and only IPMI may be set on such a machine.
        form.error("power_type",
                   f"Can't set power type to {sent_power_type} without network interfaces")
    skip_check = form.boolean("power_parameters_skip_check")
    description = form.string("description", default="") or ""
    form.validate()
    parameters = power.validate(
        power_type, power.from_request(context.params), skip_check=skip_check
    )
    if hostname is not None:
        hostname = hostname.split(".")[0]
        if any(n.hostname == hostname for n in state.nodes()):
            taken = f"Node with hostname '{hostname}' already exists."
            raise ValidationFailed({"hostname": [taken]})
    system_id = state.new_system_id()
    machine = Machine(
        id=state.next_id("node"),
        system_id=system_id,
        hostname=hostname or f"node-{system_id}",
        domain_id=state.default_domain_id if domain_id is None else domain_id,
        zone_id=state.default_zone_id if zone_id is None else zone_id,
        pool_id=state.default_pool_id if pool_id is None else pool_id,
        architecture=architecture or "amd64/generic",
        cpu_count=cpu_count or 1,
        memory=memory or 0,
        power_type=power_type,
        power_parameters=parameters,
        description=description,
        hardware_uuid=state.new_uuid(),
    )
    machine.interfaces = [
        Interface(state.next_id("interface"), f"eth{n}", mac, 5001 if n == 0 else None,
                  links=[Link(state.next_id("link"), "auto", 1)] if n == 0 else [])
        for n, mac in enumerate(macs)
    ]
    state.machines[system_id] = machine
    state.record_event(machine, "Node changed status", "Enlisted", username=context.username)
    if deployed:
        machine.owner = context.username or None
        machine.osystem = "ubuntu"
        machine.distro_series = state.config["default_distro_series"]
        machine.power_state = "on"
        state.set_status(machine, Status.DEPLOYED)
    elif context.is_admin and commission:
        state.lifecycle.start(machine, "commission")
    return render.machine(state, machine)


@action("MachinesHandler", "allocate")
def allocate(context: Context) -> dict[str, Any]:
    """Allocate the first Ready machine that meets every constraint."""
    state = context.state
    params = context.params
    criteria = filters.parse(state, params, "allocate", context.not_modelled)
    form = Form(params)
    agent_name = form.string("agent_name", default="") or ""
    dry_run = form.boolean("dry_run")
    for flag in ("verbose", "bridge_all", "bridge_stp"):
        form.boolean(flag)
    form.integer("bridge_fd", min_value=0)
    form.validate()
    machine = next(
        (
            m
            for m in state.machines.values()
            if m.status == Status.READY
            and m.owner is None
            and not m.locked
            and filters.matches(state, m, criteria)
        ),
        None,
    )
    if machine is None:
        raise Conflict(_unavailable(params, filters.describe(criteria)))
    if not dry_run:
        machine.owner = context.username
        machine.agent_name = agent_name
        state.set_status(machine, Status.ALLOCATED)
    rendered = render.machine(state, machine)
    rendered["constraints_by_type"] = {}
    return rendered


@action("AnonMachinesHandler", "accept")
def anonymous_accept(context: Context) -> None:
    """Refuse anonymous acceptance like MAAS does."""
    raise Unauthorized("You must be logged in to accept machines.")


@action("MachinesHandler", "accept")
def accept(context: Context) -> list[dict[str, Any]]:
    """Accept enlisted machines: New ones start commissioning."""
    state = context.state
    system_ids = _existing(state, context.params.get_list("machines"))
    if not context.is_admin and system_ids:
        raise Forbidden(
            "You don't have the required permission to accept the following machine(s): "
            + ", ".join(sorted(system_ids))
            + "."
        )
    return [
        render.machine(state, m)
        for m in (state.machines[sid] for sid in sorted(system_ids))
        if _accept(state, m)
    ]


@action("MachinesHandler", "accept_all", admin=True)
def accept_all(context: Context) -> list[dict[str, Any]]:
    """Accept every New machine."""
    state = context.state
    new = [m for m in state.machines.values() if m.status == Status.NEW]
    return [render.machine(state, m) for m in new if _accept(state, m)]


@action("MachinesHandler", "release")
def release_many(context: Context) -> list[str]:
    """Release several machines; Ready ones are left alone."""
    state = context.state
    system_ids = _existing(state, context.params.get_list("machines"))
    denied = sorted(
        sid
        for sid in system_ids
        if state.machines[sid].locked
        or not (context.is_admin or state.machines[sid].owner in (None, context.username))
    )
    if denied:
        raise Forbidden(
            "You don't have the required permission to release the following machine(s): "
            + ", ".join(denied)
            + "."
        )
    machines = [state.machines[sid] for sid in sorted(system_ids)]
    failed = [
        f"{m.system_id} ('{m.status.label}')"
        for m in machines
        if m.status != Status.READY and m.status not in RELEASABLE
    ]
    if failed:
        raise Conflict(
            "Machine(s) cannot be released in their current state: " + ", ".join(failed) + "."
        )
    released = [m for m in machines if m.status in RELEASABLE]
    for machine in released:
        state.lifecycle.start(machine, "release")
    return [m.system_id for m in released]


@action("MachinesHandler", "list_allocated")
def list_allocated(context: Context) -> bytes:
    """List the caller's machines in the Allocated state."""
    wanted = set(context.params.get_list("id"))
    return node_list(
        context,
        (
            m
            for m in context.state.machines.values()
            if m.owner == context.username
            and m.status == Status.ALLOCATED
            and (not wanted or m.system_id in wanted)
        ),
    )


@action("MachinesHandler", "power_parameters", admin=True)
def power_parameters(context: Context) -> dict[str, dict[str, Any]]:
    """Return the power parameters of all (or the given) machines."""
    wanted = set(context.params.get_list("id"))
    return {
        m.system_id: dict(m.power_parameters)
        for m in context.state.machines.values()
        if not wanted or m.system_id in wanted
    }


@action(("MachinesHandler", "NodesHandler", "DevicesHandler", "RackControllersHandler",
         "RegionControllersHandler"), "is_registered")
def is_registered(context: Context) -> bool:
    """Tell whether a MAC address belongs to a registered node."""
    return _registered(context, _UNREGISTERED)


@action(("AnonMachinesHandler", "AnonNodesHandler"), "is_registered")
def is_registered_anonymous(context: Context) -> bool:
    """Tell whether a MAC address belongs to a node that finished enlisting."""
    return _registered(context, _UNREGISTERED_ANON)


@action(("AnonMachinesHandler", "AnonNodesHandler"), "is_action_in_progress")
def is_action_in_progress(context: Context) -> bool:
    """Tell whether the node with a MAC address is commissioning or deploying."""
    mac = mandatory(context.params, "mac_address").lower()
    return any(
        node.status in (Status.COMMISSIONING, Status.DEPLOYING)
        for node in context.state.machines.values()
        for interface in node.interfaces
        if interface.mac_address == mac
    )


@action(("MachinesHandler", "NodesHandler", "DevicesHandler"), "set_zone", admin=True)
def set_zone(context: Context) -> Response:
    """Move nodes to a zone."""
    state = context.state
    form = Form(context.params)
    name = form.string("zone", required=True)
    target = state.zone_named(name) if name else None
    if name and target is None:
        form.error("zone", invalid_choice(name))
    form.validate()
    assert target is not None  # validate() raised otherwise
    # Resolve every node first so that an unknown one changes nothing.
    nodes = [state.node(system_id) for system_id in context.params.get_list("nodes")]
    for node in nodes:
        node.zone_id = target.id
        state.touch(node)
    return Response.json(None)


def _unavailable(params: Params, described: str) -> str:
    if not described:
        return "No machine available."
    system_id = params.get("system_id")
    if system_id is not None:
        return f"No machine with system ID {system_id} available."
    given = [(name, params.get_list(name)) for name in params.names() if name != "op"]
    return f'No available machine matches constraints: {given} (resolved to "{described}")'


def _registered(context: Context, ignored: frozenset[Status]) -> bool:
    mac = mandatory(context.params, "mac_address").lower()
    if not MAC_ADDRESS.match(mac):
        raise BadRequest(f"Invalid MAC address: {mac}")
    for node in context.state.nodes():
        if isinstance(node, Machine) and node.status in ignored:
            continue
        if any(interface.mac_address == mac for interface in node.interfaces):
            return True
    return False


def _clean_macs(state: State, form: Form) -> list[str]:
    macs = form.params.get_list("mac_addresses")
    if not macs:
        form.error("mac_addresses", "This field is required.")
        return []
    known = {i.mac_address: n.hostname for n in state.nodes() for i in n.interfaces}
    cleaned = []
    for mac in macs:
        if not MAC_ADDRESS.match(mac):
            form.error("mac_addresses", f"'{mac}' is not a valid MAC address.")
            continue
        normal = mac.lower().replace("-", ":")
        if normal in known:
            form.error("mac_addresses", f"MAC address {normal} already in use on {known[normal]}.")
        cleaned.append(normal)
    return cleaned


def _named(form: Form, field: str, known: dict[str, int]) -> int | None:
    name = form.string(field)
    if name is None:
        return None
    if name not in known:
        form.error(field, invalid_choice(name))
        return None
    return known[name]


def _existing(state: State, system_ids: list[str]) -> set[str]:
    wanted = set(system_ids)
    unknown = sorted(wanted - state.machines.keys())
    if unknown:
        raise BadRequest("Unknown machine(s): " + ", ".join(unknown) + ".")
    return wanted


def _accept(state: State, machine: Machine) -> bool:
    if machine.status == Status.NEW:
        state.lifecycle.start(machine, "commission")
        return True
    if machine.status in (Status.READY, Status.COMMISSIONING, Status.TESTING):
        return False
    raise Conflict(
        f"Cannot accept node enlistment: node {machine.system_id} is in state "
        f"{machine.status.label}."
    )

