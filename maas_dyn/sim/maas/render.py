"""Objects -> API JSON, with the field names and nesting of MAAS 3.x.

Machine documents are large and ``machines read`` may list thousands, so each machine's
encoded JSON is cached until the machine (or anything it embeds) changes.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from typing import Any

from maas_dyn.sim.maas.models import (
    BlockDevice,
    BootResource,
    BootSource,
    BootSourceSelection,
    Device,
    Domain,
    Event,
    Fabric,
    Filesystem,
    Interface,
    IPRange,
    Link,
    Machine,
    Partition,
    Pool,
    Raid,
    Space,
    SSHKey,
    Subnet,
    Tag,
    User,
    Vlan,
    VolumeGroup,
    Zone,
)
from maas_dyn.sim.maas.state import Node, State

Json = dict[str, Any]

EVENT_TIME_FORMAT = "%a, %d %b. %Y %H:%M:%S"
# Bytes a partition table takes from a disk (MAAS reserves the start and the end).
PARTITION_TABLE_OVERHEAD = 8 * 1024 * 1024
_SCRIPT_STATUS = {True: (2, "Passed"), False: (-1, "Unknown")}
_TEST_FIELDS = ("commissioning", "testing", "cpu_test", "memory_test", "network_test",
                "storage_test", "other_test", "interface_test")


def human_size(size: float) -> str:
    """Format a byte count like MAAS's ``human_readable_bytes`` (powers of 1000).

    Args:
        size: Bytes.

    Returns:
        E.g. ``"500.1 GB"``.
    """
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if abs(size) < 1000 or unit == "PB":
            return f"{size:.1f} {unit}" if unit != "bytes" else f"{int(size)} bytes"
        size /= 1000.0
    raise AssertionError("unreachable")  # pragma: no cover - the loop always returns


def _shared(state: State, kind: str, item_id: int, build: Callable[[], Json]) -> Json:
    # Machines embed the same zones, VLANs and subnets thousands of times; build each
    # once per generation (State.touch_all clears the memo when any of them changes).
    key = (kind, item_id)
    found = state.memo.get(key)
    if found is None:
        found = state.memo[key] = build()
    return found


def zone(state: State, item: Zone) -> Json:
    """Render a zone (shared: treat the result as read-only)."""
    return _shared(state, "zone", item.id, lambda: _zone(state, item))


def _zone(state: State, item: Zone) -> Json:
    return {
        "name": item.name,
        "description": item.description,
        "id": item.id,
        "resource_uri": f"{state.api_prefix}zones/{item.name}/",
    }


def pool(state: State, item: Pool) -> Json:
    """Render a resource pool (shared: treat the result as read-only)."""
    return _shared(state, "pool", item.id, lambda: _pool(state, item))


def _pool(state: State, item: Pool) -> Json:
    return {
        "name": item.name,
        "description": item.description,
        "id": item.id,
        "resource_uri": f"{state.api_prefix}resourcepool/{item.id}/",
    }


def domain(state: State, item: Domain) -> Json:
    """Render a DNS domain (shared: treat the result as read-only)."""
    return _shared(state, "domain", item.id, lambda: _domain(state, item))


def _domain(state: State, item: Domain) -> Json:
    return {
        "authoritative": item.authoritative,
        "ttl": item.ttl,
        "id": item.id,
        "name": item.name,
        "is_default": item.id == state.default_domain_id,
        "resource_record_count": 0,
        "resource_uri": f"{state.api_prefix}domains/{item.id}/",
    }


def vlan(state: State, item: Vlan) -> Json:
    """Render a VLAN (shared: treat the result as read-only).

    MAAS gives VLANs a flat ``vlans/<id>/`` resource URI.
    """
    return _shared(state, "vlan", item.id, lambda: _vlan(state, item))


def _vlan(state: State, item: Vlan) -> Json:
    space = state.spaces.get(item.space_id) if item.space_id is not None else None
    relay = state.vlans.get(item.relay_vlan_id) if item.relay_vlan_id is not None else None
    return {
        "vid": item.vid,
        "mtu": item.mtu,
        "dhcp_on": item.dhcp_on,
        "external_dhcp": item.external_dhcp,
        "relay_vlan": vlan(state, relay) if relay else None,
        "fabric": state.fabrics[item.fabric_id].name,
        "fabric_id": item.fabric_id,
        "primary_rack": item.primary_rack,
        "secondary_rack": item.secondary_rack,
        "space": space.name if space else "undefined",
        "id": item.id,
        "name": item.name,
        "resource_uri": f"{state.api_prefix}vlans/{item.id}/",
    }


def fabric(state: State, item: Fabric) -> Json:
    """Render a fabric with its VLANs."""
    return {
        "class_type": item.class_type,
        "id": item.id,
        "name": item.name,
        "vlans": [vlan(state, v) for v in state.vlans.values() if v.fabric_id == item.id],
        "resource_uri": f"{state.api_prefix}fabrics/{item.id}/",
    }


def subnet(state: State, item: Subnet) -> Json:
    """Render a subnet with its VLAN (shared: treat the result as read-only)."""
    return _shared(state, "subnet", item.id, lambda: _subnet(state, item))


def _subnet(state: State, item: Subnet) -> Json:
    parent = state.vlans[item.vlan_id]
    space = state.spaces.get(parent.space_id) if parent.space_id is not None else None
    return {
        "name": item.name,
        "description": item.description,
        "vlan": vlan(state, parent),
        "cidr": item.cidr,
        "rdns_mode": item.rdns_mode,
        "gateway_ip": item.gateway_ip,
        "dns_servers": list(item.dns_servers),
        "allow_dns": item.allow_dns,
        "allow_proxy": item.allow_proxy,
        "active_discovery": item.active_discovery,
        "managed": item.managed,
        "disabled_boot_architectures": list(item.disabled_boot_architectures),
        "space": space.name if space else "undefined",
        "id": item.id,
        "resource_uri": f"{state.api_prefix}subnets/{item.id}/",
    }


def space(state: State, item: Space) -> Json:
    """Render a space with its VLANs and subnets."""
    vlans = [v for v in state.vlans.values() if v.space_id == item.id]
    vlan_ids = {v.id for v in vlans}
    return {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "vlans": [vlan(state, v) for v in vlans],
        "subnets": [subnet(state, s) for s in state.subnets.values() if s.vlan_id in vlan_ids],
        "resource_uri": f"{state.api_prefix}spaces/{item.id}/",
    }


def iprange(state: State, item: IPRange) -> Json:
    """Render an IP range."""
    return {
        "id": item.id,
        "type": item.type,
        "start_ip": item.start_ip,
        "end_ip": item.end_ip,
        "comment": item.comment,
        "user": item.user,
        "subnet": subnet(state, state.subnets[item.subnet_id]),
        "resource_uri": f"{state.api_prefix}ipranges/{item.id}/",
    }


def tag(state: State, item: Tag) -> Json:
    """Render a tag."""
    return {
        "name": item.name,
        "definition": item.definition,
        "comment": item.comment,
        "kernel_opts": item.kernel_opts,
        "resource_uri": f"{state.api_prefix}tags/{item.name}/",
    }


def user(state: State, item: User) -> Json:
    """Render a user."""
    return {
        "is_superuser": item.is_superuser,
        "username": item.username,
        "email": item.email,
        "is_local": item.is_local,
        "resource_uri": f"{state.api_prefix}users/{item.username}/",
    }


def sshkey(state: State, item: SSHKey) -> Json:
    """Render an SSH key."""
    return {
        "id": item.id,
        "key": item.key,
        "keysource": item.keysource,
        "resource_uri": f"{state.api_prefix}account/prefs/sshkeys/{item.id}/",
    }


def link(state: State, item: Link) -> Json:
    """Render an interface link (an IP configuration)."""
    rendered: Json = {"id": item.id, "mode": item.mode}
    if item.ip_address is not None:
        rendered["ip_address"] = item.ip_address
    if item.subnet_id is not None and item.subnet_id in state.subnets:
        rendered["subnet"] = subnet(state, state.subnets[item.subnet_id])
    return rendered


def interface(state: State, node: Node, item: Interface) -> Json:
    """Render a network interface."""
    parent = state.vlans.get(item.vlan_id) if item.vlan_id is not None else None
    return {
        "system_id": node.system_id,
        "id": item.id,
        "name": item.name,
        "type": item.type,
        "vlan": vlan(state, parent) if parent else None,
        "mac_address": item.mac_address,
        "parents": list(item.parents),
        "children": list(item.children),
        "tags": list(item.tags),
        "enabled": item.enabled,
        "links": [link(state, each) for each in item.links],
        "params": dict(item.params) or "",
        "discovered": None,
        "effective_mtu": parent.mtu if parent else 1500,
        "vendor": item.vendor,
        "product": item.product,
        "firmware_version": item.firmware_version,
        "link_connected": item.link_connected,
        "interface_speed": item.interface_speed,
        "link_speed": item.link_speed,
        "numa_node": 0,
        "sriov_max_vf": 0,
        "resource_uri": f"{state.api_prefix}nodes/{node.system_id}/interfaces/{item.id}/",
    }


def filesystem(item: Filesystem | None) -> Json | None:
    """Render a filesystem (None stays None)."""
    if item is None:
        return None
    return {
        "fstype": item.fstype,
        "label": item.label,
        "uuid": item.uuid,
        "mount_point": item.mount_point,
        "mount_options": item.mount_options,
    }


def used_for(machine: Machine, fs: Filesystem | None, kind: str, item_id: int) -> str:
    """Describe what a disk or partition is used for, in MAAS's words.

    Args:
        machine: The owner.
        fs: The filesystem on it.
        kind: ``"block"`` or ``"partition"``.
        item_id: Its id.

    Returns:
        E.g. ``"ext4 formatted filesystem mounted at /"`` or ``"Unused"``.
    """
    for raid in machine.raids:
        if (kind, item_id) in raid.members:
            return f"Active {raid.level} device for {raid.name}"
        if (kind, item_id) in raid.spares:
            return f"Spare {raid.level} device for {raid.name}"
    for group in machine.volume_groups:
        if (kind, item_id) in group.members:
            return f"LVM volume for {group.name}"
    if fs is None:
        return "Unused"
    if fs.mount_point:
        return f"{fs.fstype} formatted filesystem mounted at {fs.mount_point}"
    return f"Unmounted {fs.fstype} formatted filesystem"


def partition(state: State, machine: Machine, disk: BlockDevice, item: Partition) -> Json:
    """Render a partition."""
    return {
        "uuid": item.uuid,
        "size": item.size,
        "bootable": item.bootable,
        "tags": list(item.tags),
        "type": "partition",
        "used_for": used_for(machine, item.filesystem, "partition", item.id),
        "system_id": machine.system_id,
        "path": f"/dev/disk/by-dname/{disk.name}-part{item.index}",
        "filesystem": filesystem(item.filesystem),
        "device_id": disk.id,
        "id": item.id,
        "resource_uri": (
            f"{state.api_prefix}nodes/{machine.system_id}/blockdevices/{disk.id}"
            f"/partition/{item.id}"
        ),
    }


def in_group(machine: Machine, kind: str, item_id: int) -> bool:
    """Tell whether a disk or partition belongs to a RAID or a volume group.

    Args:
        machine: The owner.
        kind: ``"block"`` or ``"partition"``.
        item_id: Its id.

    Returns:
        True when it is a member (or a spare) of one.
    """
    ref = (kind, item_id)
    return any(ref in r.members or ref in r.spares for r in machine.raids) or any(
        ref in g.members for g in machine.volume_groups
    )


def disk_usage(machine: Machine, disk: BlockDevice) -> int:
    """Return how many bytes of a disk are taken.

    Args:
        machine: The owner.
        disk: The disk.

    Returns:
        Used bytes.
    """
    taken = disk.filesystem is not None or in_group(machine, "block", disk.id)
    if taken:
        return disk.size
    if disk.partition_table_type is None:
        return 0
    return min(disk.size, PARTITION_TABLE_OVERHEAD + sum(p.size for p in disk.partitions))


def blockdevice(state: State, machine: Machine, disk: BlockDevice) -> Json:
    """Render a physical or virtual block device."""
    used = disk_usage(machine, disk)
    if disk.partitions:
        count = len(disk.partitions)
        usage = f"{disk.partition_table_type} partitioned with {count} partition"
        usage += "s" if count > 1 else ""
    else:
        usage = used_for(machine, disk.filesystem, "block", disk.id)
    return {
        "id_path": disk.id_path,
        "size": disk.size,
        "block_size": disk.block_size,
        "tags": list(disk.tags),
        "type": disk.type,
        "available_size": disk.size - used,
        "model": disk.model,
        "used_for": usage,
        "partitions": [partition(state, machine, disk, p) for p in disk.partitions],
        "system_id": machine.system_id,
        "name": disk.name,
        "path": f"/dev/disk/by-dname/{disk.name}",
        "serial": disk.serial,
        "used_size": used,
        "filesystem": filesystem(disk.filesystem),
        "storage_pool": None,
        "partition_table_type": disk.partition_table_type,
        "uuid": disk.uuid,
        "firmware_version": disk.firmware_version,
        "numa_node": 0,
        "id": disk.id,
        "resource_uri": f"{state.api_prefix}nodes/{machine.system_id}/blockdevices/{disk.id}/",
    }


def member(state: State, machine: Machine, kind: str, item_id: int) -> Json | None:
    """Render a RAID or volume group member, a disk or a partition.

    Args:
        state: The state.
        machine: The owner.
        kind: ``"block"`` or ``"partition"``.
        item_id: Its id.

    Returns:
        The JSON, or None when it no longer exists.
    """
    for disk in machine.blockdevices:
        if kind == "block" and disk.id == item_id:
            return blockdevice(state, machine, disk)
        for part in disk.partitions:
            if kind == "partition" and part.id == item_id:
                return partition(state, machine, disk, part)
    return None


def raid(state: State, machine: Machine, item: Raid) -> Json:
    """Render a RAID."""
    virtual = next(d for d in machine.blockdevices if d.id == item.virtual_device_id)
    return {
        "system_id": machine.system_id,
        "id": item.id,
        "uuid": item.uuid,
        "name": item.name,
        "level": item.level,
        "devices": [member(state, machine, *ref) for ref in item.members],
        "spare_devices": [member(state, machine, *ref) for ref in item.spares],
        "size": virtual.size,
        "human_size": human_size(virtual.size),
        "virtual_device": blockdevice(state, machine, virtual),
        "resource_uri": f"{state.api_prefix}nodes/{machine.system_id}/raid/{item.id}/",
    }


def volume_group(state: State, machine: Machine, item: VolumeGroup) -> Json:
    """Render an LVM volume group."""
    sizes = {("block", d.id): d.size for d in machine.blockdevices}
    sizes.update({("partition", p.id): p.size for d in machine.blockdevices for p in d.partitions})
    size = sum(sizes.get(ref, 0) for ref in item.members)
    volumes = [d for d in machine.blockdevices if d.id in item.logical_volume_ids]
    used = sum(d.size for d in volumes)
    return {
        "system_id": machine.system_id,
        "id": item.id,
        "uuid": item.uuid,
        "name": item.name,
        "devices": [member(state, machine, *ref) for ref in item.members],
        "size": size,
        "human_size": human_size(size),
        "available_size": size - used,
        "human_available_size": human_size(size - used),
        "used_size": used,
        "human_used_size": human_size(used),
        "logical_volumes": [blockdevice(state, machine, d) for d in volumes],
        "resource_uri": f"{state.api_prefix}nodes/{machine.system_id}/volume-group/{item.id}/",
    }


def _ip_addresses(node: Node) -> list[str]:
    return [
        each.ip_address
        for item in node.interfaces
        for each in item.links
        if each.ip_address is not None
    ]


def _gateways(state: State, machine: Machine) -> Json:
    # The chosen link (set_default_gateway) wins; otherwise the first one that can route.
    links = sorted(
        (each for item in machine.interfaces for each in item.links),
        key=lambda each: each.id != machine.gateway_link_id,
    )
    for each in links:
        gateway_subnet = state.subnets.get(each.subnet_id) if each.subnet_id else None
        if each.ip_address and gateway_subnet and gateway_subnet.gateway_ip:
            ipv4 = {"gateway_ip": gateway_subnet.gateway_ip, "link_id": each.id}
            return {"ipv4": ipv4, "ipv6": {"gateway_ip": None, "link_id": None}}
    empty = {"gateway_ip": None, "link_id": None}
    return {"ipv4": dict(empty), "ipv6": dict(empty)}


def machine(state: State, item: Machine) -> Json:
    """Render everything ``machine read`` shows."""
    disks = [blockdevice(state, item, d) for d in item.blockdevices]
    by_id = dict(zip((d.id for d in item.blockdevices), disks, strict=True))
    interfaces = [interface(state, item, i) for i in item.interfaces]
    zone_obj, pool_obj = state.zones[item.zone_id], state.pools[item.pool_id]
    domain_obj = state.domains[item.domain_id]
    rendered: Json = {
        "system_id": item.system_id,
        "hostname": item.hostname,
        "description": item.description,
        "hardware_uuid": item.hardware_uuid,
        "domain": domain(state, domain_obj),
        "fqdn": f"{item.hostname}.{domain_obj.name}",
        "owner": item.owner,
        "owner_data": dict(item.owner_data),
        "locked": item.locked,
        "cache_sets": [],
        "bcaches": [],
        "bios_boot_method": item.bios_boot_method,
        "boot_interface": interfaces[0] if interfaces else None,
        "architecture": item.architecture,
        "min_hwe_kernel": item.min_hwe_kernel,
        "hwe_kernel": item.hwe_kernel,
        "cpu_count": item.cpu_count,
        "cpu_speed": item.cpu_speed,
        "memory": item.memory,
        "swap_size": item.swap_size,
        "storage": sum(d.size for d in item.blockdevices if d.type == "physical") / 1e6,
        "status": int(item.status),
        "osystem": item.osystem,
        "distro_series": item.distro_series,
        "ephemeral_deploy": item.ephemeral_deploy,
        "error_description": item.error_description,
        "netboot": item.netboot,
        "power_type": item.power_type,
        "power_state": item.power_state,
        "tag_names": list(item.tag_names),
        "address_ttl": None,
        "ip_addresses": _ip_addresses(item),
        "interface_set": interfaces,
        "zone": zone(state, zone_obj),
        "pool": pool(state, pool_obj),
        "disable_ipv4": False,
        "boot_disk": by_id.get(item.boot_disk_id) if item.boot_disk_id is not None else None,
        "blockdevice_set": disks,
        "physicalblockdevice_set": [d for d in disks if d["type"] == "physical"],
        "virtualblockdevice_set": [d for d in disks if d["type"] == "virtual"],
        "volume_groups": [volume_group(state, item, g) for g in item.volume_groups],
        "raids": [raid(state, item, r) for r in item.raids],
        "status_action": "",
        "status_message": item.status_message,
        "status_name": item.status.label,
        "node_type": item.node_type,
        "node_type_name": item.node_type_name,
        "special_filesystems": [filesystem(fs) for fs in item.special_filesystems],
        "parent": None,
        "pod": None,
        "default_gateways": _gateways(state, item),
        "current_commissioning_result_id": None,
        "current_testing_result_id": None,
        "current_installation_result_id": None,
        "hardware_info": {
            "system_vendor": "QEMU",
            "system_product": "Standard PC (Q35 + ICH9, 2009)",
            "system_version": "pc-q35",
            "system_serial": "Unknown",
            "cpu_model": "Intel Core Processor (Skylake)",
            "mainboard_vendor": "Unknown",
            "mainboard_product": "Unknown",
            "mainboard_firmware_version": "1.16.3",
            "mainboard_firmware_date": "04/01/2014",
        },
        "numanode_set": [
            {"index": 0, "cores": list(range(item.cpu_count)), "memory": item.memory,
             "hugepages_set": []}
        ],
        "virtualmachine_id": None,
        "workload_annotations": dict(item.owner_data),
        "last_sync": None,
        "sync_interval": None,
        "next_sync": None,
        "enable_hw_sync": item.enable_hw_sync,
        "enable_kernel_crash_dump": item.enable_kernel_crash_dump,
        "is_dpu": False,
        "resource_uri": f"{state.api_prefix}machines/{item.system_id}/",
    }
    status, status_name = _SCRIPT_STATUS[item.commissioned]
    for prefix in _TEST_FIELDS:
        rendered[f"{prefix}_status"] = status
        rendered[f"{prefix}_status_name"] = status_name
    return rendered


def machine_bytes(state: State, item: Machine) -> bytes:
    """Return a machine's encoded JSON, from the cache when nothing changed.

    Args:
        state: The state.
        item: The machine.

    Returns:
        The JSON bytes.
    """
    cached = item.cache
    if cached is not None and cached[0] == state.generation:
        return cached[1]
    encoded = json.dumps(machine(state, item)).encode()
    item.cache = (state.generation, encoded)
    return encoded


def device(state: State, item: Device) -> Json:
    """Render a device."""
    domain_obj = state.domains[item.domain_id]
    return {
        "system_id": item.system_id,
        "hostname": item.hostname,
        "description": item.description,
        "domain": domain(state, domain_obj),
        "fqdn": f"{item.hostname}.{domain_obj.name}",
        "owner": item.owner,
        "owner_data": dict(item.owner_data),
        "parent": item.parent,
        "tag_names": list(item.tag_names),
        "address_ttl": item.address_ttl,
        "ip_addresses": _ip_addresses(item),
        "interface_set": [interface(state, item, i) for i in item.interfaces],
        "zone": zone(state, state.zones[item.zone_id]),
        "node_type": item.node_type,
        "node_type_name": item.node_type_name,
        "workload_annotations": dict(item.owner_data),
        "resource_uri": f"{state.api_prefix}devices/{item.system_id}/",
    }


def node_bytes(state: State, item: Node) -> bytes:
    """Return the encoded JSON of a machine or a device.

    Args:
        state: The state.
        item: The node.

    Returns:
        The JSON bytes.
    """
    if isinstance(item, Machine):
        return machine_bytes(state, item)
    return json.dumps(device(state, item)).encode()


def json_list(parts: list[bytes]) -> bytes:
    """Join encoded JSON documents into an encoded JSON list.

    Args:
        parts: Encoded documents.

    Returns:
        The encoded list.
    """
    return b"[" + b", ".join(parts) + b"]"


def event_time(state: State, sim_time: float) -> str:
    """Format a simulated time like MAAS formats event times.

    Args:
        state: The state (for the clock's epoch).
        sim_time: A simulated time.

    Returns:
        E.g. ``"Fri, 07 Dec. 2018 20:11:08"``.
    """
    return time.strftime(EVENT_TIME_FORMAT, time.gmtime(state.clock.epoch(sim_time)))


def event(state: State, item: Event) -> Json:
    """Render an event log entry."""
    return {
        "username": item.username,
        "node": item.node,
        "hostname": item.hostname,
        "id": item.id,
        "level": item.level,
        "created": event_time(state, item.created),
        "type": item.type,
        "description": item.description,
    }


def boot_resource(state: State, item: BootResource) -> Json:
    """Render a boot resource."""
    return {
        "id": item.id,
        "type": item.type,
        "name": item.name,
        "architecture": item.architecture,
        "subarches": item.subarches,
        "title": item.title,
        "resource_uri": f"{state.api_prefix}boot-resources/{item.id}/",
        # boot_resource_to_dict (maasserver/api/boot_resources.py): when a machine last
        # deployed the image; the simulator does not track it, so never.
        "last_deployed": None,
    }


def timestamp(state: State, sim_time: float) -> str:
    """Format a simulated time as MAAS's ISO timestamps (``2018-12-04T18:11:31.894``).

    Args:
        state: The state (for the clock's epoch).
        sim_time: A simulated time.

    Returns:
        The timestamp in UTC with milliseconds.
    """
    moment = datetime.datetime.fromtimestamp(state.clock.epoch(sim_time), datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def boot_source(state: State, item: BootSource) -> Json:
    """Render a boot source."""
    return {
        "id": item.id,
        "url": item.url,
        "keyring_filename": item.keyring_filename,
        "keyring_data": item.keyring_data,
        "created": timestamp(state, item.created),
        "updated": timestamp(state, item.updated),
        "resource_uri": f"{state.api_prefix}boot-sources/{item.id}/",
    }


def boot_source_selection(state: State, item: BootSourceSelection) -> Json:
    """Render a boot source selection."""
    return {
        "boot_source_id": item.boot_source_id,
        "id": item.id,
        "os": item.os,
        "release": item.release,
        "arches": list(item.arches),
        "subarches": list(item.subarches),
        "labels": list(item.labels),
        "resource_uri": (
            f"{state.api_prefix}boot-sources/{item.boot_source_id}/selections/{item.id}/"
        ),
    }
