"""Storage layouts and RAID geometry, applied to a machine's disks.

``flat`` and ``lvm`` build what MAAS builds on the boot disk (an EFI partition on UEFI
machines, then root as a partition or as an LVM logical volume); ``blank`` leaves every
disk empty. Layouts needing hardware the simulator does not model are refused.
"""

from __future__ import annotations

from maas_dyn.sim.maas.models import BlockDevice, Filesystem, Machine, Partition, VolumeGroup
from maas_dyn.sim.maas.render import PARTITION_TABLE_OVERHEAD
from maas_dyn.sim.maas.state import State

EFI_SIZE = 512 * 1024 * 1024
# mdadm keeps its superblock at the end of each member (RAID_SUPERBLOCK_OVERHEAD).
RAID_SUPERBLOCK_OVERHEAD = 1024 * 1024
LAYOUTS = ("flat", "lvm", "bcache", "vmfs6", "vmfs7", "custom", "blank")
MODELLED_LAYOUTS = ("flat", "lvm", "blank")


def raid_capacity(level: str, count: int) -> float:
    """Return how many members' worth of data a RAID of ``count`` members holds.

    Args:
        level: ``raid-0``, ``raid-1``, ``raid-5``, ``raid-6`` or ``raid-10``.
        count: Active members.

    Returns:
        The factor to multiply the smallest member size with.
    """
    return {
        "raid-0": float(count),
        "raid-1": 1.0,
        "raid-5": float(count - 1),
        "raid-6": float(count - 2),
        "raid-10": count / 2,
    }[level]


# Minimum active members and whether spares are allowed, per level (_validate_raid).
RAID_RULES: dict[str, tuple[int, bool]] = {
    "raid-0": (2, False),
    "raid-1": (2, True),
    "raid-5": (3, True),
    "raid-6": (4, True),
    "raid-10": (3, True),
}


def clear(machine: Machine) -> None:
    """Remove every partition, filesystem, RAID, volume group and virtual disk.

    Args:
        machine: The machine.
    """
    machine.raids.clear()
    machine.volume_groups.clear()
    machine.blockdevices[:] = [d for d in machine.blockdevices if d.type == "physical"]
    for disk in machine.blockdevices:
        disk.partitions.clear()
        disk.filesystem = None
        disk.partition_table_type = None


def boot_disk(machine: Machine) -> BlockDevice | None:
    """Return the machine's boot disk (the chosen one, else the first physical disk).

    Args:
        machine: The machine.

    Returns:
        The disk or None when the machine has no physical disk.
    """
    physical = [d for d in machine.blockdevices if d.type == "physical"]
    chosen = next((d for d in physical if d.id == machine.boot_disk_id), None)
    return chosen or (physical[0] if physical else None)


def apply(
    state: State,
    machine: Machine,
    layout: str,
    *,
    root_size: int | None = None,
    vg_name: str = "vgroot",
    lv_name: str = "lvroot",
    lv_size: int | None = None,
) -> None:
    """Replace a machine's storage configuration with a layout.

    Args:
        state: The region (for ids and UUIDs).
        machine: The machine.
        layout: One of :data:`MODELLED_LAYOUTS`.
        root_size: Size of the root partition; the rest of the disk when None.
        vg_name: Volume group name (``lvm``).
        lv_name: Logical volume name (``lvm``).
        lv_size: Logical volume size; the whole group when None (``lvm``).

    Raises:
        ValueError: The machine has no disk, or a size does not fit.
    """
    disk = boot_disk(machine)
    if disk is None:
        raise ValueError("Machine is missing a boot disk; no storage layout can be applied.")
    clear(machine)
    machine.boot_disk_id = disk.id
    if layout == "blank":
        return
    disk.partition_table_type = "GPT"
    free = disk.size - PARTITION_TABLE_OVERHEAD
    if machine.bios_boot_method == "uefi":
        efi = add_partition(state, disk, EFI_SIZE, bootable=True)
        efi.filesystem = Filesystem("fat32", state.new_uuid(), "efi", "/boot/efi")
        free -= EFI_SIZE
    size = root_size if root_size is not None else free
    if not 0 < size <= free:
        raise ValueError(f"Size is too large. Maximum size is {free}.")
    root = add_partition(state, disk, size)
    if layout == "flat":
        root.filesystem = Filesystem("ext4", state.new_uuid(), "root", "/")
        return
    volume_size = lv_size if lv_size is not None else size
    if not 0 < volume_size <= size:
        raise ValueError(f"Size is too large. Maximum size is {size}.")
    volume = BlockDevice(
        state.next_id("blockdevice"),
        lv_name,
        volume_size,
        type="virtual",
        uuid=state.new_uuid(),
        filesystem=Filesystem("ext4", state.new_uuid(), "root", "/"),
    )
    machine.blockdevices.append(volume)
    machine.volume_groups.append(
        VolumeGroup(
            state.next_id("filesystemgroup"),
            vg_name,
            state.new_uuid(),
            [("partition", root.id)],
            [volume.id],
        )
    )


def add_partition(
    state: State, disk: BlockDevice, size: int, *, bootable: bool = False
) -> Partition:
    """Append a partition to a disk.

    Args:
        state: The region (for ids and UUIDs).
        disk: The disk.
        size: Bytes.
        bootable: The bootable flag.

    Returns:
        The partition.
    """
    part = Partition(
        state.next_id("partition"),
        disk.id,
        len(disk.partitions) + 1,
        state.new_uuid(),
        size,
        bootable=bootable,
    )
    disk.partitions.append(part)
    return part
