"""One machine: reading, editing, and every lifecycle and power action.

Which statuses each action accepts, and how it refuses the others, is a table
(:data:`GUARDS`) taken from MAAS's node actions; the long-running part of each action
is an operation of :mod:`maas_dyn.sim.maas.lifecycle`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from maas_dyn.sim.maas import layouts, power, render
from maas_dyn.sim.maas.filters import KNOWN_ARCHITECTURES
from maas_dyn.sim.maas.handlers._common import can_view, machine_for
from maas_dyn.sim.maas.models import Filesystem, Machine
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.responses import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    NotModelled,
    ValidationFailed,
)
from maas_dyn.sim.maas.state import State
from maas_dyn.sim.maas.status import RELEASABLE, Status, can_transition, invalid_transition
from maas_dyn.sim.maas.validation import Form, invalid_choice, optional_params

_S = Status
_FAILED = frozenset(
    {
        _S.FAILED_COMMISSIONING,
        _S.FAILED_DEPLOYMENT,
        _S.FAILED_RELEASING,
        _S.FAILED_DISK_ERASING,
        _S.FAILED_ENTERING_RESCUE_MODE,
        _S.FAILED_EXITING_RESCUE_MODE,
        _S.FAILED_TESTING,
    }
)


@dataclass(frozen=True)
class Guard:
    """The statuses an action accepts and the error for all others.

    Attributes:
        statuses: Accepted statuses (``actionable_statuses`` of the MAAS node action).
        refusal: Builds the error for a machine in another status.
    """

    statuses: frozenset[Status]
    refusal: Callable[[Machine], ApiError]


def _not_available(display: str) -> Callable[[Machine], ApiError]:
    message = f"{display} is not available because of the current state of the node."
    return lambda machine: ValidationFailed({"__all__": [message]})


def _transition_to(status: Status) -> Callable[[Machine], ApiError]:
    return lambda machine: Conflict(invalid_transition(machine.status, status))


def _fixed(message: str) -> Callable[[Machine], ApiError]:
    return lambda machine: Conflict(message)


GUARDS: dict[str, Guard] = {
    "commission": Guard(
        frozenset({_S.NEW, _S.FAILED_COMMISSIONING, _S.READY, _S.BROKEN}),
        _not_available("Commission"),
    ),
    "test": Guard(
        frozenset(
            {_S.FAILED_COMMISSIONING, _S.NEW, _S.READY, _S.RESERVED, _S.ALLOCATED,
             _S.FAILED_DEPLOYMENT, _S.DEPLOYED, _S.MISSING, _S.RETIRED, _S.BROKEN,
             _S.RESCUE_MODE, _S.FAILED_RELEASING, _S.FAILED_DISK_ERASING,
             _S.FAILED_ENTERING_RESCUE_MODE, _S.FAILED_EXITING_RESCUE_MODE,
             _S.FAILED_TESTING}
        ),
        _not_available("Test"),
    ),
    "abort": Guard(
        frozenset({_S.COMMISSIONING, _S.DISK_ERASING, _S.DEPLOYING, _S.TESTING}),
        lambda m: Conflict(
            f"Cannot abort in current state: node {m.system_id} is in state {m.status.label}."
        ),
    ),
    "mark_broken": Guard(
        frozenset({_S.NEW, _S.COMMISSIONING, _S.READY, _S.ALLOCATED, _S.RELEASING,
                   _S.DEPLOYING, _S.DEPLOYED, _S.DISK_ERASING, _S.TESTING})
        | _FAILED,
        _transition_to(_S.BROKEN),
    ),
    "mark_fixed": Guard(frozenset({_S.BROKEN}), _fixed("Can't mark a non-broken node as 'Ready'.")),
    "lock": Guard(
        frozenset({_S.DEPLOYED, _S.DEPLOYING}),
        _fixed("Can't lock, node is not deployed or deploying"),
    ),
    "override_failed_testing": Guard(
        frozenset({_S.FAILED_TESTING}),
        _fixed("Unable to override node status. Node is not in 'Failed testing' status."),
    ),
    "rescue_mode": Guard(
        frozenset(
            {_S.NEW, _S.FAILED_COMMISSIONING, _S.READY, _S.RESERVED, _S.ALLOCATED,
             _S.FAILED_DEPLOYMENT, _S.DEPLOYED, _S.MISSING, _S.RETIRED, _S.BROKEN,
             _S.FAILED_DISK_ERASING, _S.FAILED_ENTERING_RESCUE_MODE,
             _S.FAILED_EXITING_RESCUE_MODE, _S.FAILED_TESTING}
        ),
        _transition_to(_S.ENTERING_RESCUE_MODE),
    ),
    "exit_rescue_mode": Guard(
        frozenset({_S.RESCUE_MODE, _S.ENTERING_RESCUE_MODE, _S.FAILED_ENTERING_RESCUE_MODE,
                   _S.FAILED_EXITING_RESCUE_MODE}),
        _transition_to(_S.EXITING_RESCUE_MODE),
    ),
    "restore": Guard(
        frozenset({_S.READY, _S.ALLOCATED, _S.FAILED_TESTING}),
        _fixed(
            "Machine must be in a ready, allocated or failed testing state to restore its "
            "configuration."
        ),
    ),
    "special_filesystems": Guard(
        frozenset({_S.READY, _S.ALLOCATED}),
        _fixed("Cannot mount the filesystem because the machine is not Allocated or Ready."),
    ),
}

# Where ``abort`` leaves a machine (abort_commissioning, abort_deploying, ...); testing
# goes back to the status before the tests.
ABORT_TARGETS: dict[Status, Status | None] = {
    _S.COMMISSIONING: _S.NEW,
    _S.DEPLOYING: _S.ALLOCATED,
    _S.DISK_ERASING: _S.FAILED_DISK_ERASING,
    _S.TESTING: None,
}
SPECIAL_FSTYPES = ("tmpfs", "ramfs")
KERNELS = ("ga-20.04", "ga-22.04", "ga-24.04", "hwe-22.04", "hwe-24.04")


def guard(name: str, machine: Machine) -> None:
    """Refuse an action the machine's status does not allow.

    Args:
        name: Key of :data:`GUARDS`.
        machine: The machine.

    Raises:
        ApiError: The status is not accepted (400 or 409 as MAAS answers).
    """
    rule = GUARDS[name]
    if machine.status not in rule.statuses:
        raise rule.refusal(machine)


@action("MachineHandler", "read")
def read(context: Context) -> bytes:
    """Return a machine."""
    return render.machine_bytes(context.state, machine_for(context))


@action("MachineHandler", "update")
def update(context: Context) -> dict[str, Any]:
    """Change hostname, placement, hardware facts or power settings of a machine."""
    state = context.state
    machine = machine_for(context, "edit")
    params = context.params
    if any(name.startswith("power_") for name in params.names()) and not context.is_admin:
        raise Forbidden()
    form = Form(params)
    hostname = form.hostname()
    changes = _placement(state, form)
    architecture = form.choice("architecture", KNOWN_ARCHITECTURES)
    cpu_count = form.integer("cpu_count", min_value=0)
    memory = form.size("memory", unit=1024 * 1024)
    swap_size = form.size("swap_size")
    min_hwe_kernel = form.string("min_hwe_kernel")
    description = form.string("description")
    power_type = form.string("power_type")
    skip_check = form.boolean("power_parameters_skip_check")
    if hostname is not None and any(
        n.hostname == hostname and n is not machine for n in state.nodes()
    ):
        form.error("hostname", f"Node with hostname '{hostname}' already exists.")
    form.validate()
    given = power.from_request(params)
    if power_type is not None or given:
        kind = power_type or machine.power_type
        merged = {**(machine.power_parameters if kind == machine.power_type else {}), **given}
        machine.power_parameters = power.validate(kind, merged, skip_check=skip_check)
        machine.power_type = kind
    for name, value in (
        ("hostname", hostname),
        ("architecture", architecture),
        ("cpu_count", cpu_count),
        ("memory", memory),
        ("swap_size", swap_size),
        ("min_hwe_kernel", min_hwe_kernel),
        ("description", description),
        *changes.items(),
    ):
        if value is not None:
            setattr(machine, name, value)
    return render.machine(state, machine)


@action("MachineHandler", "delete")
def delete(context: Context) -> None:
    """Delete a machine and give its addresses back."""
    machine = machine_for(context, "admin")
    if machine.locked:
        raise ValidationFailed({"__all__": ["Cannot delete a locked machine."]})
    context.state.remove_node(machine)


# MachineHandler.deploy reads these with get_optional_param before its form
# (maasserver/api/machines.py): name -> (formencode validator, default).
_DEPLOY_OPTIONS = {
    "install_kvm": ("StringBool", False),
    "register_vmhost": ("StringBool", False),
    "ephemeral_deploy": ("StringBool", False),
    "bridge_all": ("StringBool", False),
    "bridge_stp": ("StringBool", False),
    "bridge_fd": ("Int", 0),
    "enable_hw_sync": ("StringBool", False),
}


@action("MachineHandler", "deploy")
def deploy(context: Context) -> dict[str, Any]:
    """Deploy a machine, allocating it first when it is Ready."""
    state = context.state
    machine = machine_for(context, "edit")
    options = optional_params(context.params, _DEPLOY_OPTIONS)
    form = Form(context.params)
    series = form.string("distro_series") or state.config["default_distro_series"]
    known_series = _known_series(state)
    if series not in known_series:
        form.error(
            "distro_series",
            f"'{series}' is not a valid distro_series.  It should be one of: "
            + ", ".join(f"'{name}'" for name in sorted(known_series))
            + ".",
        )
    hwe_kernel = form.string("hwe_kernel")
    if hwe_kernel and hwe_kernel not in KERNELS:
        form.error("hwe_kernel", f"{hwe_kernel} is not available for {series} on "
                   f"{machine.architecture}.")
    ephemeral = bool(options["ephemeral_deploy"])
    install_kvm = bool(options["install_kvm"] or options["register_vmhost"])
    install_rackd = form.boolean("install_rackd")
    enable_hw_sync = bool(options["enable_hw_sync"])
    crash_dump = form.boolean("enable_kernel_crash_dump")
    form.validate()
    if install_rackd:
        raise BadRequest(
            "Deploying a machine as a rackd has been disabled and it's not supported anymore."
        )
    if install_kvm:
        raise context.not_modelled("deploying a machine as a VM host")
    if machine.status == Status.READY:
        if machine.owner not in (None, context.username):
            raise Conflict("Can't allocate a machine belonging to another user.")
        machine.owner = context.username
        state.set_status(machine, Status.ALLOCATED)
    if not can_transition(machine.status, Status.DEPLOYING):
        raise Conflict(f"Can't deploy a machine that is in the '{machine.status.label}' state")
    machine.osystem, machine.distro_series = "ubuntu", series
    machine.hwe_kernel = hwe_kernel or f"ga-{_series_version(series)}"
    machine.ephemeral_deploy = ephemeral
    machine.enable_hw_sync = enable_hw_sync
    machine.enable_kernel_crash_dump = crash_dump
    state.lifecycle.start(machine, "deploy")
    return render.machine(state, machine)


@action("MachineHandler", "release")
def release(context: Context) -> dict[str, Any]:
    """Release a machine (erasing its disks when asked)."""
    state = context.state
    machine = machine_for(context, "edit")
    form = Form(context.params)
    erase = form.boolean("erase", default=bool(state.config["enable_disk_erasing_on_release"]))
    secure = form.boolean("secure_erase")
    quick = form.boolean("quick_erase")
    form.boolean("force")
    form.string("comment")
    form.validate()
    if machine.status in (Status.RELEASING, Status.READY):
        pass  # a retried release already reached its goal; MAAS answers success
    elif machine.status in RELEASABLE:
        state.lifecycle.start(machine, "erase" if erase or secure or quick else "release")
    else:
        raise Conflict(
            f"Machine cannot be released in its current state ('{machine.status.label}')."
        )
    return render.machine(state, machine)


@action("MachineHandler", "commission")
def commission(context: Context) -> dict[str, Any]:
    """Commission a machine, running the commissioning tests unless told not to."""
    machine = machine_for(context, "admin")
    form = Form(context.params)
    for flag in ("enable_ssh", "skip_bmc_config", "skip_networking", "skip_storage"):
        form.boolean(flag)
    testing = form.string("testing_scripts", default="") or ""
    form.string("commissioning_scripts")
    form.validate()
    guard("commission", machine)
    without_tests = testing.strip().lower() == "none"
    context.state.lifecycle.start(
        machine, "commission_without_tests" if without_tests else "commission"
    )
    return render.machine(context.state, machine)


@action("MachineHandler", "test")
def test(context: Context) -> dict[str, Any]:
    """Run the hardware tests; the machine returns to its status afterwards."""
    machine = machine_for(context, "admin")
    form = Form(context.params)
    form.boolean("enable_ssh")
    form.string("testing_scripts")
    form.validate()
    guard("test", machine)
    context.state.lifecycle.start(machine, "test")
    return render.machine(context.state, machine)


@action("MachineHandler", "abort")
def abort(context: Context) -> dict[str, Any]:
    """Abort a running commissioning, deployment, test or disk erasure."""
    state = context.state
    machine = machine_for(context, "admin")
    guard("abort", machine)
    target = ABORT_TARGETS[machine.status]
    pending = machine.pending
    if target is None:
        commissioning = pending is not None and pending.operation.startswith("commission")
        target = Status.READY if commissioning or pending is None else pending.return_status
    machine.power_state = "off"
    state.set_status(machine, target)
    return render.machine(state, machine)


@action("MachineHandler", "power_on")
def power_on(context: Context) -> dict[str, Any]:
    """Power a machine on."""
    machine = machine_for(context, "edit")
    if machine.owner is None:
        raise Conflict("Can't start node: it hasn't been allocated.")
    machine.power_state = "on"
    return render.machine(context.state, machine)


@action("MachineHandler", "power_off")
def power_off(context: Context) -> dict[str, Any]:
    """Power a machine off."""
    machine = machine_for(context, "edit")
    form = Form(context.params)
    form.choice("stop_mode", ("hard", "soft"))
    form.validate()
    machine.power_state = "off"
    return render.machine(context.state, machine)


@action("MachineHandler", "query_power_state")
def query_power_state(context: Context) -> dict[str, str]:
    """Report the power state (the simulated BMC always answers)."""
    machine = machine_for(context)
    if machine.power_type == "manual":
        return {"state": "unknown"}
    return {"state": machine.power_state}


@action(("MachineHandler", "NodeHandler"), "power_parameters", admin=True)
def power_parameters(context: Context) -> dict[str, Any]:
    """Return the power parameters of a node."""
    node = context.state.node(context.arg("system_id"))
    return dict(node.power_parameters) if isinstance(node, Machine) else {}


@action("MachineHandler", "lock")
def lock(context: Context) -> dict[str, Any]:
    """Lock a deployed machine against changes."""
    machine = _owned(context)
    if machine.locked:
        raise Conflict("Machine is already locked")
    guard("lock", machine)
    machine.locked = True
    return render.machine(context.state, machine)


@action("MachineHandler", "unlock")
def unlock(context: Context) -> dict[str, Any]:
    """Unlock a machine."""
    machine = _owned(context)
    if not machine.locked:
        raise Conflict("Machine is not locked")
    machine.locked = False
    return render.machine(context.state, machine)


@action("MachineHandler", "mark_broken")
def mark_broken(context: Context) -> dict[str, Any]:
    """Mark a machine broken, keeping the comment as its error description."""
    machine = machine_for(context, "edit")
    comment = context.params.get("comment") or context.params.get("error_description") or ""
    guard("mark_broken", machine)
    machine.previous_status = machine.status
    machine.error_description = comment
    context.state.set_status(machine, Status.BROKEN)
    return render.machine(context.state, machine)


@action("MachineHandler", "mark_fixed")
def mark_fixed(context: Context) -> dict[str, Any]:
    """Mark a broken machine fixed (back to Deployed if it was deployed, else Ready)."""
    machine = machine_for(context, "admin")
    guard("mark_fixed", machine)
    target = Status.DEPLOYED if machine.previous_status == Status.DEPLOYED else Status.READY
    machine.error_description = ""
    context.state.set_status(machine, target)
    return render.machine(context.state, machine)


@action("MachineHandler", "override_failed_testing")
def override_failed_testing(context: Context) -> dict[str, Any]:
    """Accept a machine whose tests failed."""
    machine = machine_for(context, "admin")
    guard("override_failed_testing", machine)
    target = Status.DEPLOYED if machine.osystem else Status.READY
    context.state.set_status(machine, target)
    return render.machine(context.state, machine)


@action("MachineHandler", "rescue_mode")
def rescue_mode(context: Context) -> dict[str, Any]:
    """Boot a machine into the rescue environment."""
    machine = machine_for(context, "edit")
    guard("rescue_mode", machine)
    machine.previous_status = machine.status
    context.state.lifecycle.start(machine, "rescue")
    return render.machine(context.state, machine)


@action("MachineHandler", "exit_rescue_mode")
def exit_rescue_mode(context: Context) -> dict[str, Any]:
    """Leave the rescue environment, back to the status before it."""
    machine = machine_for(context, "edit")
    guard("exit_rescue_mode", machine)
    back = machine.previous_status or Status.READY
    context.state.lifecycle.start(machine, "exit_rescue", return_to=back)
    return render.machine(context.state, machine)


@action(("MachineHandler", "DeviceHandler"), "set_owner_data")
def set_owner_data(context: Context) -> Any:
    """Set owner data key/values; an empty value removes the key."""
    return _set_key_values(context)


@action(("MachineHandler", "DeviceHandler"), "set_workload_annotations")
def set_workload_annotations(context: Context) -> Any:
    """Set workload annotations (the same store as owner data in MAAS 3)."""
    return _set_key_values(context)


@action("MachineHandler", "restore_networking_configuration")
def restore_networking_configuration(context: Context) -> dict[str, Any]:
    """Reset interfaces to their commissioned configuration (DHCP-style auto links)."""
    machine = machine_for(context, "admin")
    guard("restore", machine)
    _restore_networking(machine)
    return render.machine(context.state, machine)


@action("MachineHandler", "restore_storage_configuration")
def restore_storage_configuration(context: Context) -> dict[str, Any]:
    """Reset storage to the default layout."""
    machine = machine_for(context, "admin")
    guard("restore", machine)
    _restore_storage(context.state, machine)
    return render.machine(context.state, machine)


@action("MachineHandler", "restore_default_configuration")
def restore_default_configuration(context: Context) -> dict[str, Any]:
    """Reset both networking and storage."""
    machine = machine_for(context, "admin")
    guard("restore", machine)
    _restore_networking(machine)
    _restore_storage(context.state, machine)
    return render.machine(context.state, machine)


@action("MachineHandler", "clear_default_gateways")
def clear_default_gateways(context: Context) -> dict[str, Any]:
    """Forget the default gateway chosen with ``interface set-default-gateway``."""
    machine = machine_for(context, "admin")
    machine.gateway_link_id = None
    return render.machine(context.state, machine)


@action("MachineHandler", "mount_special")
def mount_special(context: Context) -> dict[str, Any]:
    """Mount a tmpfs or ramfs."""
    machine = machine_for(context, "edit")
    form = Form(context.params)
    fstype = form.choice("fstype", SPECIAL_FSTYPES, required=True)
    mount_point = form.string("mount_point", required=True)
    options = form.string("mount_options")
    if mount_point and not mount_point.startswith("/"):
        form.error("mount_point", "Enter a valid absolute path.")
    form.validate()
    guard("special_filesystems", machine)
    assert fstype is not None and mount_point is not None  # validate() raised otherwise
    machine.special_filesystems = [
        fs for fs in machine.special_filesystems if fs.mount_point != mount_point
    ]
    machine.special_filesystems.append(
        Filesystem(fstype, context.state.new_uuid(), "", mount_point, options)
    )
    return render.machine(context.state, machine)


@action("MachineHandler", "unmount_special")
def unmount_special(context: Context) -> dict[str, Any]:
    """Unmount a tmpfs or ramfs."""
    machine = machine_for(context, "edit")
    form = Form(context.params)
    mount_point = form.string("mount_point", required=True)
    form.validate()
    guard("special_filesystems", machine)
    remaining = [fs for fs in machine.special_filesystems if fs.mount_point != mount_point]
    if len(remaining) == len(machine.special_filesystems):
        raise ValidationFailed({"mount_point": ["No special filesystem is mounted at this path."]})
    machine.special_filesystems = remaining
    return render.machine(context.state, machine)


def _owned(context: Context) -> Machine:
    machine = machine_for(context)
    if not context.is_admin and machine.owner != context.username:
        raise Forbidden()
    return machine


def _set_key_values(context: Context) -> Any:
    state = context.state
    node = state.node(context.arg("system_id"))
    if isinstance(node, Machine):
        node = machine_for(context, "edit")
    elif not can_view(context, node):
        raise NotFound("Device")
    for key in context.params.names():
        value = context.params.get(key) or ""
        if value:
            node.owner_data[key] = value
        else:
            node.owner_data.pop(key, None)
    if isinstance(node, Machine):
        return render.machine(state, node)
    return render.device(state, node)


def _placement(state: State, form: Form) -> dict[str, int]:
    changes: dict[str, int] = {}
    for field, attribute, find in (
        ("domain", "domain_id", state.domain_named),
        ("zone", "zone_id", state.zone_named),
        ("pool", "pool_id", state.pool_named),
    ):
        name = form.string(field)
        if name is None:
            continue
        found = find(name)
        if found is None:
            form.error(field, invalid_choice(name))
        else:
            changes[attribute] = found.id
    return changes


def _known_series(state: State) -> set[str]:
    return {
        resource.name.split("/", 1)[1]
        for resource in state.boot_resources.values()
        if resource.name.startswith("ubuntu/")
    }


def _series_version(series: str) -> str:
    return {"focal": "20.04", "jammy": "22.04", "noble": "24.04"}.get(series, "24.04")


def _restore_networking(machine: Machine) -> None:
    for index, interface in enumerate(machine.interfaces):
        for link in interface.links:
            link.mode = "auto" if index == 0 else "link_up"


def _restore_storage(state: State, machine: Machine) -> None:
    layout = str(state.config.get("default_storage_layout", "flat"))
    if layout not in layouts.MODELLED_LAYOUTS:
        raise NotModelled("MachineHandler", "restore_storage_configuration", None,
                          f"storage layout '{layout}'")
    try:
        layouts.apply(state, machine, layout)
    except ValueError as error:
        raise BadRequest(str(error)) from None

