"""Storage: layouts and software RAID on MAAS machines; ZFS pools and datasets on TrueNAS.

The rules are tables: which options each MAAS storage layout takes (:data:`LAYOUTS`),
how many members each RAID level needs (:data:`RAID_LEVELS`, MAAS's own limits), and
how many disks each ZFS vdev type needs (:data:`VDEV_TYPES`). Requests that break them
fail before anything is sent, naming the rule; everything else is the server's call, and
its refusal comes back as the typed error (a layout the region does not support, e.g.
bcache on a server that answers 501, raises :class:`~maas_dyn.errors.MAASAPIError` with
``status == 501``; nothing is faked)::

    apply_layout(client, "abc123", "lvm", vg_name="vg0", lv_size="50G")
    apply_layout(client, "abc123", "blank")
    create_raid(client, "abc123", "raid-5", block_devices=[d["id"] for d in
                unused_disks(client, "abc123")[:3]])
    pool = create_pool(nas, "tank", ["sda", "sdb", "sdc", "sdd"], vdev_type="MIRROR",
                       on_progress=print)
    create_datasets(nas, "tank", {"vms": {"compression": "ZSTD"}, "backups": {}})
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from maas_dyn.errors import InvalidParametersError
from maas_dyn.truenas.jobs import ProgressCallback
from maas_dyn.workflows._common import fields, logged_step

__all__ = [
    "LAYOUTS",
    "RAID_LEVELS",
    "VDEV_TYPES",
    "RaidLevel",
    "VdevType",
    "apply_layout",
    "create_datasets",
    "create_pool",
    "create_raid",
    "raid_level",
    "unused_disks",
    "unused_nas_disks",
]

_ROOT = frozenset({"boot_size", "root_size", "root_device"})

# Storage layouts of ``machine set_storage_layout`` and the options each takes.
LAYOUTS: Mapping[str, frozenset[str]] = {
    "flat": _ROOT,
    "lvm": _ROOT | {"vg_name", "lv_name", "lv_size"},
    "bcache": _ROOT | {"cache_device", "cache_mode", "cache_size", "cache_no_part"},
    "vmfs6": _ROOT,
    "vmfs7": _ROOT,
    "blank": frozenset(),
}
"""The storage layouts of ``machine set-storage-layout`` and the options each takes:
``flat``, ``lvm``, ``bcache``, ``vmfs6``, ``vmfs7``, ``blank``.
"""


@dataclass(frozen=True)
class RaidLevel:
    """What a software RAID level needs.

    Attributes:
        min_members: Fewest active members (block devices and partitions together).
        spares: Whether spare devices are allowed.
    """

    min_members: int
    spares: bool


# MAAS's own rules (maasserver/forms: "RAID level N must have at least M raid devices").
RAID_LEVELS: Mapping[str, RaidLevel] = {
    "raid-0": RaidLevel(2, spares=False),
    "raid-1": RaidLevel(2, spares=True),
    "raid-5": RaidLevel(3, spares=True),
    "raid-6": RaidLevel(4, spares=True),
    "raid-10": RaidLevel(3, spares=True),
}
"""The software RAID levels MAAS builds, with the fewest members each needs and whether it
takes spares (MAAS's own rules).
"""


@dataclass(frozen=True)
class VdevType:
    """What a ZFS data vdev type needs.

    Attributes:
        min_disks: Fewest disks per vdev.
        default_width: Disks per vdev when not given (``None``: all disks in one vdev).
    """

    min_disks: int
    default_width: int | None


VDEV_TYPES: Mapping[str, VdevType] = {
    "STRIPE": VdevType(1, default_width=1),
    "MIRROR": VdevType(2, default_width=2),  # pairs: striped mirrors, the usual layout
    "RAIDZ1": VdevType(3, default_width=None),
    "RAIDZ2": VdevType(4, default_width=None),
    "RAIDZ3": VdevType(5, default_width=None),
}
"""The ZFS data vdev types of a TrueNAS pool, with the fewest disks each needs and its
default width: ``STRIPE``, ``MIRROR`` (pairs), ``RAIDZ1``, ``RAIDZ2``, ``RAIDZ3``.
"""
_VDEV_ALIASES = {"RAIDZ": "RAIDZ1"}


# -- MAAS ------------------------------------------------------------------------------


def apply_layout(client: Any, system_id: str, layout: str, **options: Any) -> dict[str, Any]:
    """Replace a Ready machine's storage with a layout (``machine set_storage_layout``).

    Args:
        client: A MAAS client.
        system_id: The machine (must be Ready).
        layout: A key of :data:`LAYOUTS`.
        **options: The layout's options (``root_size="20G"``, ``vg_name``...).

    Returns:
        The machine as the server rendered it.

    Raises:
        InvalidParametersError: Unknown layout, or an option it does not take.
        MAASAPIError: The server refused (e.g. 409 not Ready, 501 layout not supported).
    """
    allowed = LAYOUTS.get(layout)
    if allowed is None:
        raise InvalidParametersError(f"unknown storage layout {layout!r}; known: "
                                     f"{', '.join(LAYOUTS)}",
                                     errors={"storage_layout": ["unknown layout"]})
    wrong = sorted(set(options) - allowed)
    if wrong:
        raise InvalidParametersError(
            f"the {layout} layout takes {', '.join(sorted(allowed)) or 'no options'}; "
            f"not {', '.join(wrong)}", errors={name: ["not an option of this layout"]
                                               for name in wrong})
    with logged_step(system_id, f"storage layout {layout}") as step:
        machine: dict[str, Any] = client.request(
            "machine", "set_storage_layout", system_id,
            fields=fields(storage_layout=layout, **options)).data
        step.state = "applied"
    return machine


def raid_level(level: str | int) -> str:
    """Normalise a RAID level: ``5``, ``"5"``, ``"raid5"``, ``"RAID-5"`` -> ``"raid-5"``.

    Args:
        level: The level as a user wrote it.

    Returns:
        A key of :data:`RAID_LEVELS`.

    Raises:
        InvalidParametersError: Not a level MAAS supports.
    """
    match = re.fullmatch(r"(?:raid)?-?(\d+)", str(level).strip().lower())
    name = f"raid-{match.group(1)}" if match else str(level)
    if name not in RAID_LEVELS:
        raise InvalidParametersError(f"unknown RAID level {level!r}; known: "
                                     f"{', '.join(RAID_LEVELS)}",
                                     errors={"level": ["unknown RAID level"]})
    return name


def create_raid(
    client: Any,
    system_id: str,
    level: str | int,
    *,
    block_devices: Sequence[int | str] = (),
    partitions: Sequence[int | str] = (),
    spare_devices: Sequence[int | str] = (),
    spare_partitions: Sequence[int | str] = (),
    name: str | None = None,
) -> dict[str, Any]:
    """Create a software RAID on a Ready machine (``raids create``).

    Args:
        client: A MAAS client.
        system_id: The machine.
        level: RAID level (see :func:`raid_level`).
        block_devices: Ids of member disks.
        partitions: Ids of member partitions.
        spare_devices: Ids of spare disks.
        spare_partitions: Ids of spare partitions.
        name: Name of the RAID device (default: the server's ``mdN``).

    Returns:
        The RAID as the server rendered it.

    Raises:
        InvalidParametersError: Too few members for the level, or spares where the
            level takes none (checked before anything is sent).
        MAASAPIError: The server refused.
    """
    level = raid_level(level)
    rule = RAID_LEVELS[level]
    members = len(block_devices) + len(partitions)
    spares = len(spare_devices) + len(spare_partitions)
    if members < rule.min_members or (spares and not rule.spares):
        need = f"at least {rule.min_members} members" + ("" if rule.spares else " and no spares")
        raise InvalidParametersError(
            f"{level} needs {need}; got {members} member(s) and {spares} spare(s)",
            errors={"block_devices": [f"{level} needs {need}"]})
    with logged_step(system_id, f"create {level}") as step:
        raid: dict[str, Any] = client.request(
            "raids", "create", system_id,
            fields=fields(level=level, name=name, block_devices=list(block_devices),
                          partitions=list(partitions), spare_devices=list(spare_devices),
                          spare_partitions=list(spare_partitions))).data
        step.state = "created"
    return raid


def unused_disks(client: Any, system_id: str) -> list[dict[str, Any]]:
    """Return a machine's physical disks that hold no partition and no filesystem.

    Args:
        client: A MAAS client.
        system_id: The machine.

    Returns:
        The disks (e.g. after the ``blank`` layout: every physical disk).
    """
    return [disk for disk in client.block_devices.read(system_id)
            if disk.get("type") == "physical" and not disk.get("partitions")
            and not disk.get("filesystem")]


# -- TrueNAS ---------------------------------------------------------------------------


def unused_nas_disks(nas: Any) -> list[str]:
    """Return the names of the TrueNAS disks that belong to no pool (``disk.details``).

    Args:
        nas: A TrueNAS client.

    Returns:
        Disk names, e.g. ``["sda", "sdb"]``.
    """
    return [str(disk["name"]) for disk in nas.disk.details()["unused"]]


def _vdevs(vdev_type: str, disks: Sequence[str], width: int | None) -> list[dict[str, Any]]:
    kind = VDEV_TYPES[vdev_type]
    width = width or kind.default_width or len(disks)
    problem = ""
    if width < kind.min_disks:
        problem = f"a {vdev_type} vdev needs at least {kind.min_disks} disks, not {width}"
    elif not disks or len(disks) % width:
        problem = f"{len(disks)} disk(s) do not make whole {vdev_type} vdevs of {width}"
    if problem:
        raise InvalidParametersError(problem, errors={"topology.data": [problem]})
    return [{"type": vdev_type, "disks": list(disks[i:i + width])}
            for i in range(0, len(disks), width)]


def create_pool(nas: Any, name: str, disks: Sequence[str], *, vdev_type: str = "MIRROR",
                vdev_width: int | None = None, timeout: float | None = None,
                on_progress: ProgressCallback | None = None) -> dict[str, Any]:
    """Create a ZFS pool (``pool.create``, a job) and wait for it, with progress.

    Args:
        nas: A TrueNAS client.
        name: Pool name.
        disks: Disk names (see :func:`unused_nas_disks`).
        vdev_type: A key of :data:`VDEV_TYPES` (``"raidz"`` means ``RAIDZ1``).
        vdev_width: Disks per data vdev (default: the type's, e.g. mirrored pairs).
        timeout: Seconds to wait for the job.
        on_progress: Called with each new job progress ``{"percent", "description"}``.

    Returns:
        The pool as the job returned it.

    Raises:
        InvalidParametersError: The disks do not make whole vdevs of the type.
        JobFailed: The job failed (``JobValidationFailed`` lists invalid fields).
    """
    kind = _VDEV_ALIASES.get(vdev_type.upper(), vdev_type.upper())
    if kind not in VDEV_TYPES:
        raise InvalidParametersError(f"unknown vdev type {vdev_type!r}; known: "
                                     f"{', '.join(VDEV_TYPES)}",
                                     errors={"topology.data.type": ["unknown vdev type"]})
    topology = {"data": _vdevs(kind, disks, vdev_width)}
    with logged_step(name, f"create pool {kind}") as step:
        job = nas.pool.create({"name": name, "topology": topology})
        pool: dict[str, Any] = job.wait(timeout, on_progress)
        step.state = str(pool.get("status", "created"))
    return pool


def create_datasets(nas: Any, pool: str,
                    datasets: Mapping[str, Mapping[str, Any]] | Sequence[str]
                    ) -> list[dict[str, Any]]:
    """Create datasets in a pool (``pool.dataset.create``), in the order given.

    Args:
        nas: A TrueNAS client.
        pool: The pool (or a parent dataset), e.g. ``"tank"``.
        datasets: Names relative to the pool, or names mapped to their properties
            (``{"vms": {"compression": "ZSTD"}}``); ``"a/b"`` nests.

    Returns:
        The datasets as the server created them.
    """
    wanted = datasets if isinstance(datasets, Mapping) else {key: {} for key in datasets}
    created = []
    for relative, properties in wanted.items():
        full = f"{pool}/{relative}"
        with logged_step(full, "create dataset") as step:
            created.append(nas.pool.dataset.create({"name": full, **properties}))
            step.state = "created"
    return created
