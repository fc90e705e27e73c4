"""``disk.*``: the simulated disks (sda..sdh) and which pool uses them."""

from __future__ import annotations

import copy
import errno
from typing import Any

from maas_dyn.sim.truenas.exceptions import CallError
from maas_dyn.sim.truenas.registry import Call, MethodTable
from maas_dyn.sim.truenas.services.crud import Resource
from maas_dyn.sim.truenas.state import State

__all__ = ["disk_by_name", "make_disk", "methods", "set_disk_pool"]

methods = MethodTable()
disks = Resource("disk", "Disk")
disks.register(methods, "disk")

_UPDATABLE = ("number", "lunid", "hddstandby", "advpowermgmt", "bus", "enclosure", "pool",
              "passwd")
# Secrets the middleware only returns with ``extra: {"passwords": true}``.
_HIDDEN = ("passwd", "kmip_uid")


def make_disk(state: State, name: str, *, serial: str, size: int, model: str,
              rotation: int | None) -> dict[str, Any]:
    """Create and store a disk record.

    Args:
        state: The state.
        name: Device name, e.g. ``"sda"``.
        serial: Serial number.
        size: Size in bytes.
        model: Model string.
        rotation: RPM, or ``None`` for an SSD.

    Returns:
        The stored record.
    """
    identifier = f"{{serial_lunid}}{serial}_5000c500{serial[-6:].lower()}"
    record = state.record(
        "disk", identifier=identifier, name=name, subsystem="scsi",
        number=2048 + 16 * (ord(name[-1]) - ord("a")), serial=serial, lunid=None, size=size,
        description="", transfermode="Auto", hddstandby="ALWAYS ON", advpowermgmt="DISABLED",
        expiretime=None, model=model, rotationrate=rotation,
        type="HDD" if rotation else "SSD", zfs_guid=None, bus="ATA", devname=name,
        enclosure=None, pool=None)
    for key in _HIDDEN:
        record.pop(key, None)
    with state.lock:
        state.tables["disk"][identifier] = record
    return record


def disk_by_name(state: State, name: str) -> dict[str, Any] | None:
    """Find a disk by device name.

    Args:
        state: The state.
        name: e.g. ``"sda"``.

    Returns:
        A copy of the record, or ``None``.
    """
    with state.lock:
        found = next((d for d in state.tables["disk"].values() if d["name"] == name), None)
        return copy.deepcopy(found)


def set_disk_pool(call: Call, names: list[str], pool: str | None) -> None:
    """Mark disks as members of a pool (or free) and publish the change.

    Args:
        call: The current call.
        names: Device names.
        pool: Pool name, or ``None`` to free them.
    """
    changed = []
    with call.rt.state.lock:
        for disk in call.rt.state.tables["disk"].values():
            if disk["name"] in names:
                disk["pool"] = pool
                changed.append(copy.deepcopy(disk))
    for disk in changed:
        call.publish("disk.query", "CHANGED", disk["identifier"], disk)


@methods.method("disk.update")
def update(call: Call) -> dict[str, Any]:
    """Answer ``disk.update(id, data)``."""
    record = disks.find(call, call.args[0])
    record.update({key: value for key, value in call.args[1].items() if key in _UPDATABLE})
    stored = disks.store(call, call.args[0], record)
    for key in _HIDDEN:
        stored.pop(key, None)
    return stored


@methods.method("disk.get_used")
def get_used(call: Call) -> list[dict[str, Any]]:
    """Answer ``disk.get_used(join_partitions)``: disks that belong to a pool."""
    return [disk for disk in call.rt.state.rows("disk") if disk["pool"]]


def _details(disk: dict[str, Any]) -> dict[str, Any]:
    return {**disk, "exported_zpool": None, "unsupported_md_devices": None,
            "duplicate_serial": [], "partitions": [], "imported_zpool": disk["pool"]}


@methods.method("disk.details")
def details(call: Call) -> Any:
    """Answer ``disk.details({join_partitions, type})``."""
    rows = call.rt.state.rows("disk")
    found = {
        "used": [_details(d) for d in rows if d["pool"]],
        "unused": [_details(d) for d in rows if not d["pool"]],
    }
    wanted = call.args[0]["type"]
    return found if wanted == "BOTH" else found[wanted.lower()]


@methods.method("disk.wipe", abortable=True)
def wipe(call: Call) -> None:
    """Run ``disk.wipe(dev, mode, synccache)`` as a job; a disk in a pool is refused."""
    name, mode = call.args[0], call.args[1]
    disk = disk_by_name(call.rt.state, name)
    if disk is None:
        raise CallError(f"{name}: disk does not exist", errno.ENOENT)
    if disk["pool"]:
        raise CallError(f"{name}: disk is in use by pool {disk['pool']!r}", errno.EBUSY)
    steps = 10 if mode == "QUICK" else 50
    for step in range(steps):
        call.step(100 * step / steps, f"Wiping {name}", 0.2)
