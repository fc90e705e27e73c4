"""Storage of a machine: layouts, block devices, partitions, RAIDs and LVM.

MAAS only lets storage change on a Ready machine (formatting and mounting also on an
Allocated one); the statuses and refusals are tables here, the geometry lives in
:mod:`maas_dyn.sim.maas.layouts`.
"""

from __future__ import annotations

from typing import Any

from maas_dyn.sim.maas import layouts, render
from maas_dyn.sim.maas.handlers._common import machine_for
from maas_dyn.sim.maas.models import BlockDevice, Filesystem, Machine, Partition, Raid, VolumeGroup
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.render import PARTITION_TABLE_OVERHEAD, disk_usage, in_group
from maas_dyn.sim.maas.responses import (
    BadRequest,
    Conflict,
    NotFound,
    Response,
    ValidationFailed,
)
from maas_dyn.sim.maas.status import Status
from maas_dyn.sim.maas.validation import Form, invalid_choice, mandatory

FSTYPES = ("ext2", "ext3", "ext4", "xfs", "fat32", "vfat", "btrfs", "swap", "zfsroot")
# Statuses in which disks may be reshaped, and in which filesystems may change.
RESHAPE_STATUSES = frozenset({Status.READY})
FILESYSTEM_STATUSES = frozenset({Status.READY, Status.ALLOCATED})
Ref = tuple[str, int]


# -- layouts ---------------------------------------------------------------------------


@action("MachineHandler", "set_storage_layout")
def set_storage_layout(context: Context) -> dict[str, Any]:
    """Replace the storage configuration of a Ready machine with a layout."""
    state = context.state
    machine = machine_for(context, "admin")
    if machine.status != Status.READY:
        raise Conflict("Cannot change the storage layout on a machine that is not Ready.")
    form = Form(context.params)
    layout = form.choice("storage_layout", layouts.LAYOUTS, required=True)
    root_size = form.size("root_size")
    lv_size = form.size("lv_size")
    form.size("boot_size")
    vg_name = form.string("vg_name", default="vgroot") or "vgroot"
    lv_name = form.string("lv_name", default="lvroot") or "lvroot"
    root_device = form.string("root_device")
    form.validate()
    assert layout is not None  # validate() raised otherwise
    if layout not in layouts.MODELLED_LAYOUTS:
        raise context.not_modelled(f"storage layout '{layout}'")
    if root_device is not None:
        machine.boot_disk_id = _disk(machine, root_device, "root_device").id
    try:
        layouts.apply(
            state, machine, layout, root_size=root_size, vg_name=vg_name, lv_name=lv_name,
            lv_size=lv_size,
        )
    except ValueError as error:
        raise BadRequest(f"Failed to configure storage layout '{layout}': {error}") from None
    return render.machine(state, machine)


# -- block devices ---------------------------------------------------------------------


@action("BlockDevicesHandler", "read")
def read_blockdevices(context: Context) -> list[dict[str, Any]]:
    """List a machine's block devices."""
    machine = machine_for(context)
    return [render.blockdevice(context.state, machine, d) for d in machine.blockdevices]


@action("BlockDevicesHandler", "create", admin=True)
def create_blockdevice(context: Context) -> dict[str, Any]:
    """Add a physical block device to a machine."""
    state = context.state
    machine = machine_for(context, "admin")
    form = Form(context.params)
    name = form.string("name", required=True)
    size = form.size("size", required=True)
    block_size = form.integer("block_size", required=True, min_value=512)
    model = form.string("model", default="") or ""
    serial = form.string("serial", default="") or ""
    id_path = form.string("id_path")
    if not id_path and not (model and serial):
        form.error("__all__", "serial/model are required if id_path is not provided.")
    if name and any(d.name == name for d in machine.blockdevices):
        form.error("name", "Another block device on this machine has this name.")
    form.validate()
    assert name is not None and size is not None and block_size is not None
    disk = BlockDevice(state.next_id("blockdevice"), name, size, block_size=block_size,
                       model=model, serial=serial, id_path=id_path)
    machine.blockdevices.append(disk)
    return render.blockdevice(state, machine, disk)


@action("BlockDeviceHandler", "read")
def read_blockdevice(context: Context) -> dict[str, Any]:
    """Return a block device."""
    machine = machine_for(context)
    return render.blockdevice(context.state, machine, _disk(machine, context.arg("id")))


@action("BlockDeviceHandler", "update", admin=True)
def update_blockdevice(context: Context) -> dict[str, Any]:
    """Change the name or hardware facts of a block device."""
    machine, disk = _editable_disk(context, RESHAPE_STATUSES, "update")
    form = Form(context.params)
    name = form.string("name")
    size = form.size("size")
    block_size = form.integer("block_size", min_value=512)
    model, serial = form.string("model"), form.string("serial")
    id_path = form.string("id_path")
    form.validate()
    disk.name = name or disk.name
    disk.size = size or disk.size
    disk.block_size = block_size or disk.block_size
    disk.model = disk.model if model is None else model
    disk.serial = disk.serial if serial is None else serial
    disk.id_path = disk.id_path if id_path is None else id_path
    return render.blockdevice(context.state, machine, disk)


@action("BlockDeviceHandler", "delete", admin=True)
def delete_blockdevice(context: Context) -> None:
    """Delete a block device (a virtual one takes its RAID or logical volume along)."""
    machine, disk = _editable_disk(context, RESHAPE_STATUSES, "delete")
    if in_group(machine, "block", disk.id) or any(
        in_group(machine, "partition", p.id) for p in disk.partitions
    ):
        raise BadRequest(
            "Cannot delete block device because it is part of a RAID or volume group."
        )
    machine.raids = [r for r in machine.raids if r.virtual_device_id != disk.id]
    for group in machine.volume_groups:
        if disk.id in group.logical_volume_ids:
            group.logical_volume_ids.remove(disk.id)
    machine.blockdevices.remove(disk)
    if machine.boot_disk_id == disk.id:
        machine.boot_disk_id = None


@action(("BlockDeviceHandler", "PartitionHandler"), "add_tag", admin=True)
def add_tag(context: Context) -> dict[str, Any]:
    """Tag a block device or a partition."""
    tag = mandatory(context.params, "tag")
    return _retag(context, lambda tags: tags if tag in tags else [*tags, tag])


@action(("BlockDeviceHandler", "PartitionHandler"), "remove_tag", admin=True)
def remove_tag(context: Context) -> dict[str, Any]:
    """Untag a block device or a partition."""
    tag = mandatory(context.params, "tag")
    return _retag(context, lambda tags: [t for t in tags if t != tag])


@action("BlockDeviceHandler", "set_boot_disk", admin=True)
def set_boot_disk(context: Context) -> Response:
    """Choose the disk the machine boots from."""
    machine, disk = _editable_disk(context, RESHAPE_STATUSES, "update")
    if disk.type != "physical":
        raise BadRequest("Cannot set a virtual block device as the boot disk.")
    machine.boot_disk_id = disk.id
    return Response.text("OK")


@action(("BlockDeviceHandler", "PartitionHandler"), "format")
def format_filesystem(context: Context) -> dict[str, Any]:
    """Put a filesystem on a block device or a partition."""
    machine, target = _fs_target(context)
    form = Form(context.params)
    fstype = form.choice("fstype", FSTYPES, required=True)
    label = form.string("label", default="") or ""
    uuid = form.string("uuid") or context.state.new_uuid()
    form.validate()
    assert fstype is not None  # validate() raised otherwise
    kind = "block" if isinstance(target, BlockDevice) else "partition"
    if isinstance(target, BlockDevice) and target.partitions:
        raise ValidationFailed({"__all__": ["Cannot format block device with a partition table."]})
    if in_group(machine, kind, target.id):
        raise ValidationFailed(
            {"__all__": ["Cannot format a device that is part of a RAID or volume group."]}
        )
    if target.filesystem is not None and target.filesystem.mount_point:
        raise ValidationFailed(
            {"__all__": ["Cannot format a filesystem that is mounted; unmount it first."]}
        )
    target.filesystem = Filesystem(fstype, uuid, label)
    return _render_target(context, machine, target)


@action(("BlockDeviceHandler", "PartitionHandler"), "unformat")
def unformat(context: Context) -> dict[str, Any]:
    """Remove the filesystem of a block device or a partition."""
    machine, target = _fs_target(context)
    if target.filesystem is None:
        raise BadRequest(f"{_what(target)} is not formatted.")
    if target.filesystem.mount_point:
        raise BadRequest(
            f"Filesystem is mounted and cannot be unformatted. Unmount the filesystem before "
            f"unformatting the {_what(target).lower()}."
        )
    target.filesystem = None
    return _render_target(context, machine, target)


@action(("BlockDeviceHandler", "PartitionHandler"), "mount")
def mount(context: Context) -> dict[str, Any]:
    """Mount the filesystem of a block device or a partition."""
    machine, target = _fs_target(context)
    form = Form(context.params)
    mount_point = form.string("mount_point", required=True)
    options = form.string("mount_options")
    if mount_point and not mount_point.startswith("/") and mount_point != "none":
        form.error("mount_point", "Enter a valid absolute path.")
    form.validate()
    if target.filesystem is None:
        raise ValidationFailed(
            {"__all__": [f"Cannot mount an unformatted {_what(target).lower()}."]}
        )
    target.filesystem.mount_point = mount_point
    target.filesystem.mount_options = options
    return _render_target(context, machine, target)


@action(("BlockDeviceHandler", "PartitionHandler"), "unmount")
def unmount(context: Context) -> dict[str, Any]:
    """Unmount the filesystem of a block device or a partition."""
    machine, target = _fs_target(context)
    if target.filesystem is None:
        raise BadRequest(f"{_what(target)} is not formatted.")
    if not target.filesystem.mount_point:
        raise BadRequest("Filesystem is already unmounted.")
    target.filesystem.mount_point = None
    target.filesystem.mount_options = None
    return _render_target(context, machine, target)


# -- partitions ------------------------------------------------------------------------


@action("PartitionsHandler", "read")
def read_partitions(context: Context) -> list[dict[str, Any]]:
    """List the partitions of a block device."""
    machine = machine_for(context)
    disk = _disk(machine, context.arg("device_id"))
    return [render.partition(context.state, machine, disk, p) for p in disk.partitions]


@action("PartitionsHandler", "create", admin=True)
def create_partition(context: Context) -> dict[str, Any]:
    """Add a partition to a block device (the rest of the disk when no size is given)."""
    state = context.state
    machine = machine_for(context, "admin")
    _check_status(machine, RESHAPE_STATUSES, "create a partition")
    disk = _disk(machine, context.arg("device_id"))
    form = Form(context.params)
    size = form.size("size")
    bootable = form.boolean("bootable")
    form.string("uuid")
    form.validate()
    if disk.filesystem is not None or in_group(machine, "block", disk.id):
        raise ValidationFailed(
            {"__all__": ["Cannot create a partition on a block device that is in use."]}
        )
    reserved = 0 if disk.partition_table_type else PARTITION_TABLE_OVERHEAD
    free = disk.size - disk_usage(machine, disk) - reserved
    if free <= 0 or (size is not None and size > free):
        raise ValidationFailed(
            {"size": ["Partition cannot be saved; not enough free space on the block device."]}
        )
    disk.partition_table_type = disk.partition_table_type or "GPT"
    part = layouts.add_partition(state, disk, size or free, bootable=bootable)
    return render.partition(state, machine, disk, part)


@action("PartitionHandler", "read")
def read_partition(context: Context) -> dict[str, Any]:
    """Return a partition."""
    machine = machine_for(context)
    disk, part = _partition(machine, context)
    return render.partition(context.state, machine, disk, part)


@action("PartitionHandler", "delete", admin=True)
def delete_partition(context: Context) -> None:
    """Delete a partition that is not in use."""
    machine = machine_for(context, "admin")
    _check_status(machine, RESHAPE_STATUSES, "delete a partition")
    disk, part = _partition(machine, context)
    if in_group(machine, "partition", part.id):
        raise BadRequest("Cannot delete partition because it is part of a RAID or volume group.")
    disk.partitions.remove(part)
    if not disk.partitions:
        disk.partition_table_type = None


# -- RAID ------------------------------------------------------------------------------


@action("RaidsHandler", "read")
def read_raids(context: Context) -> list[dict[str, Any]]:
    """List a machine's RAIDs."""
    machine = machine_for(context)
    return [render.raid(context.state, machine, r) for r in machine.raids]


@action("RaidsHandler", "create", admin=True)
def create_raid(context: Context) -> dict[str, Any]:
    """Build a software RAID from unused disks and partitions of a Ready machine."""
    state = context.state
    machine = machine_for(context, "admin")
    if machine.status != Status.READY:
        raise Conflict("Cannot create RAID because the machine is not Ready.")
    form = Form(context.params)
    level = form.choice("level", tuple(layouts.RAID_RULES), required=True)
    name = form.string("name") or f"md{len(machine.raids)}"
    uuid = form.string("uuid") or state.new_uuid()
    members = _refs(machine, form, "block_devices", "partitions")
    spares = _refs(machine, form, "spare_devices", "spare_partitions")
    if any(d.name == name for d in machine.blockdevices):
        form.error("name", "Another block device on this machine has this name.")
    form.validate()
    assert level is not None  # validate() raised otherwise
    minimum, spares_allowed = layouts.RAID_RULES[level]
    if len(members) < minimum or (spares and not spares_allowed):
        tail = "and any number of spares." if spares_allowed else "and no spares."
        number = level.split("-")[1]
        raise ValidationFailed(
            {"__all__": [f"RAID level {number} must have at least {minimum} raid devices {tail}"]}
        )
    sizes = _sizes(machine)
    smallest = min(sizes[ref] for ref in members)
    if level == "raid-0":
        size = sum(sizes[ref] for ref in members) - layouts.RAID_SUPERBLOCK_OVERHEAD * len(members)
    else:
        capacity = layouts.raid_capacity(level, len(members))
        size = int(smallest * capacity) - layouts.RAID_SUPERBLOCK_OVERHEAD
    virtual = BlockDevice(state.next_id("blockdevice"), name, size, type="virtual",
                          uuid=state.new_uuid())
    machine.blockdevices.append(virtual)
    raid = Raid(state.next_id("filesystemgroup"), name, uuid, level, virtual.id, members, spares)
    machine.raids.append(raid)
    for ref in members:
        _set_fs(machine, ref, Filesystem("raid", state.new_uuid()))
    for ref in spares:
        _set_fs(machine, ref, Filesystem("raid-spare", state.new_uuid()))
    return render.raid(state, machine, raid)


@action("RaidHandler", "read")
def read_raid(context: Context) -> dict[str, Any]:
    """Return a RAID."""
    machine = machine_for(context)
    return render.raid(context.state, machine, _raid(machine, context.arg("id")))


@action("RaidHandler", "update", admin=True)
def update_raid(context: Context) -> dict[str, Any]:
    """Rename a RAID or change its UUID (membership changes are not modelled)."""
    machine = machine_for(context, "admin")
    if machine.status != Status.READY:
        raise Conflict("Cannot update RAID because the machine is not Ready.")
    raid = _raid(machine, context.arg("id"))
    params = context.params
    reshaping = [name for name in params.names() if name.startswith(("add_", "remove_"))]
    if reshaping:
        raise context.not_modelled(f"changing RAID members ({', '.join(sorted(reshaping))})")
    raid.name = params.get("name") or raid.name
    raid.uuid = params.get("uuid") or raid.uuid
    virtual = next(d for d in machine.blockdevices if d.id == raid.virtual_device_id)
    virtual.name = raid.name
    return render.raid(context.state, machine, raid)


@action("RaidHandler", "delete", admin=True)
def delete_raid(context: Context) -> None:
    """Take a RAID apart; its members become unused."""
    machine = machine_for(context, "admin")
    if machine.status != Status.READY:
        raise Conflict("Cannot delete RAID because the machine is not Ready.")
    raid = _raid(machine, context.arg("id"))
    machine.raids.remove(raid)
    machine.blockdevices = [d for d in machine.blockdevices if d.id != raid.virtual_device_id]
    for ref in raid.members + raid.spares:
        _set_fs(machine, ref, None)


# -- LVM -------------------------------------------------------------------------------


@action("VolumeGroupsHandler", "read")
def read_volume_groups(context: Context) -> list[dict[str, Any]]:
    """List a machine's volume groups."""
    machine = machine_for(context)
    return [render.volume_group(context.state, machine, g) for g in machine.volume_groups]


@action("VolumeGroupsHandler", "create", admin=True)
def create_volume_group(context: Context) -> dict[str, Any]:
    """Create a volume group from unused disks and partitions."""
    state = context.state
    machine = machine_for(context, "admin")
    _check_status(machine, RESHAPE_STATUSES, "create a volume group")
    form = Form(context.params)
    name = form.string("name", required=True)
    if name and any(g.name == name for g in machine.volume_groups):
        form.error("name", "Volume group with this name already exists.")
    form.string("uuid")
    members = _refs(machine, form, "block_devices", "partitions")
    if not members and not form.errors:
        form.error("__all__", "At least one valid block device or partition is required.")
    form.validate()
    assert name is not None  # validate() raised otherwise
    group = VolumeGroup(state.next_id("filesystemgroup"), name,
                        context.params.get("uuid") or state.new_uuid(), members)
    machine.volume_groups.append(group)
    return render.volume_group(state, machine, group)


@action("VolumeGroupHandler", "read")
def read_volume_group(context: Context) -> dict[str, Any]:
    """Return a volume group."""
    machine = machine_for(context)
    return render.volume_group(context.state, machine, _group(machine, context.arg("id")))


@action("VolumeGroupHandler", "delete", admin=True)
def delete_volume_group(context: Context) -> None:
    """Delete a volume group and its logical volumes."""
    machine = machine_for(context, "admin")
    _check_status(machine, RESHAPE_STATUSES, "delete a volume group")
    group = _group(machine, context.arg("id"))
    machine.volume_groups.remove(group)
    machine.blockdevices = [d for d in machine.blockdevices
                            if d.id not in group.logical_volume_ids]


@action("VolumeGroupHandler", "create_logical_volume", admin=True)
def create_logical_volume(context: Context) -> dict[str, Any]:
    """Carve a logical volume out of a volume group."""
    state = context.state
    machine = machine_for(context, "admin")
    _check_status(machine, RESHAPE_STATUSES, "create a logical volume")
    group = _group(machine, context.arg("id"))
    form = Form(context.params)
    name = form.string("name", required=True)
    size = form.size("size")
    form.validate()
    assert name is not None  # validate() raised otherwise
    rendered = render.volume_group(state, machine, group)
    available = int(rendered["available_size"])
    if available <= 0 or (size is not None and size > available):
        raise ValidationFailed({"size": [f"Size is too large. Maximum size is {available}."]})
    volume = BlockDevice(state.next_id("blockdevice"), name, size or available,
                         type="virtual", uuid=state.new_uuid())
    machine.blockdevices.append(volume)
    group.logical_volume_ids.append(volume.id)
    return render.blockdevice(state, machine, volume)


@action("VolumeGroupHandler", "delete_logical_volume", admin=True)
def delete_logical_volume(context: Context) -> Response:
    """Remove a logical volume from a volume group."""
    machine = machine_for(context, "admin")
    _check_status(machine, RESHAPE_STATUSES, "delete a logical volume")
    group = _group(machine, context.arg("id"))
    raw = mandatory(context.params, "id")
    if not raw.isdigit() or int(raw) not in group.logical_volume_ids:
        raise NotFound("VirtualBlockDevice")
    group.logical_volume_ids.remove(int(raw))
    machine.blockdevices = [d for d in machine.blockdevices if d.id != int(raw)]
    return Response.no_content()


# -- helpers ---------------------------------------------------------------------------


def _check_status(machine: Machine, allowed: frozenset[Status], what: str) -> None:
    if machine.status not in allowed:
        names = " or ".join(sorted(s.label for s in allowed))
        raise Conflict(f"Cannot {what} because the machine is not {names}.")


def _disk(machine: Machine, raw: str, field: str | None = None) -> BlockDevice:
    for disk in machine.blockdevices:
        if raw in (str(disk.id), disk.name):
            return disk
    if field is not None:
        raise ValidationFailed({field: [invalid_choice(raw)]})
    raise NotFound("BlockDevice")


def _partition(machine: Machine, context: Context) -> tuple[BlockDevice, Partition]:
    disk = _disk(machine, context.arg("device_id"))
    for part in disk.partitions:
        if str(part.id) == context.arg("id"):
            return disk, part
    raise NotFound("Partition")


def _raid(machine: Machine, raw: str) -> Raid:
    for raid in machine.raids:
        if raw in (str(raid.id), raid.name):
            return raid
    raise NotFound("RAID")


def _group(machine: Machine, raw: str) -> VolumeGroup:
    for group in machine.volume_groups:
        if raw in (str(group.id), group.name):
            return group
    raise NotFound("VolumeGroup")


def _editable_disk(
    context: Context, allowed: frozenset[Status], what: str
) -> tuple[Machine, BlockDevice]:
    machine = machine_for(context, "admin")
    disk = _disk(machine, context.arg("id"))
    _check_status(machine, allowed, f"{what} block device")
    return machine, disk


def _fs_target(context: Context) -> tuple[Machine, BlockDevice | Partition]:
    machine = machine_for(context, "edit")
    if "device_id" in context.path:
        target: BlockDevice | Partition = _partition(machine, context)[1]
    else:
        target = _disk(machine, context.arg("id"))
    _check_status(machine, FILESYSTEM_STATUSES, f"change the filesystem of this {_what(target)}")
    return machine, target


def _what(target: BlockDevice | Partition) -> str:
    return "Block device" if isinstance(target, BlockDevice) else "Partition"


def _render_target(
    context: Context, machine: Machine, target: BlockDevice | Partition
) -> dict[str, Any]:
    if isinstance(target, BlockDevice):
        return render.blockdevice(context.state, machine, target)
    disk = next(d for d in machine.blockdevices if d.id == target.device_id)
    return render.partition(context.state, machine, disk, target)


def _retag(context: Context, change: Any) -> dict[str, Any]:
    machine = machine_for(context, "admin")
    target: BlockDevice | Partition
    if "device_id" in context.path:
        target = _partition(machine, context)[1]
    else:
        target = _disk(machine, context.arg("id"))
    target.tags = change(target.tags)
    return _render_target(context, machine, target)


def _refs(machine: Machine, form: Form, disks_field: str, parts_field: str) -> list[Ref]:
    refs: list[Ref] = []
    for raw in form.params.get_list(disks_field):
        disk = next((d for d in machine.blockdevices if raw in (str(d.id), d.name)), None)
        if disk is None or disk.partitions or disk.filesystem or in_group(machine, "block",
                                                                         disk.id):
            form.error(disks_field, invalid_choice(raw))
        else:
            refs.append(("block", disk.id))
    partitions = {str(p.id): p for d in machine.blockdevices for p in d.partitions}
    for raw in form.params.get_list(parts_field):
        part = partitions.get(raw)
        if part is None or part.filesystem or in_group(machine, "partition", part.id):
            form.error(parts_field, invalid_choice(raw))
        else:
            refs.append(("partition", part.id))
    return refs


def _sizes(machine: Machine) -> dict[Ref, int]:
    sizes: dict[Ref, int] = {("block", d.id): d.size for d in machine.blockdevices}
    sizes.update({("partition", p.id): p.size for d in machine.blockdevices for p in d.partitions})
    return sizes


def _set_fs(machine: Machine, ref: Ref, fs: Filesystem | None) -> None:
    kind, item_id = ref
    for disk in machine.blockdevices:
        if kind == "block" and disk.id == item_id:
            disk.filesystem = fs
        for part in disk.partitions:
            if kind == "partition" and part.id == item_id:
                part.filesystem = fs


@action("VolumeGroupHandler", "update", admin=True)
def update_volume_group(context: Context) -> dict[str, Any]:
    """Rename a volume group or change its UUID (VolumeGroupForm's name and uuid).

    Adding or removing member devices is not modelled and answers 501 naming it.
    """
    machine = machine_for(context, "admin")
    _check_status(machine, RESHAPE_STATUSES, "update a volume group")
    group = _group(machine, context.arg("id"))
    members = sorted(n for n in context.params.names()
                     if n.startswith(("add_", "remove_")))
    if members:
        raise context.not_modelled(f"changing members with {members}")
    form = Form(context.params)
    name = form.string("name")
    uuid = form.string("uuid")
    if name is not None and any(g.name == name and g is not group
                                for g in machine.volume_groups):
        form.error("name", f"Volume group with name '{name}' already exists.")
    form.validate()
    group.name = name or group.name
    group.uuid = uuid or group.uuid
    return render.volume_group(context.state, machine, group)
