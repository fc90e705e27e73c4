"""The objects a MAAS region holds, with MAAS's field names.

Plain mutable dataclasses; :mod:`~maas_dyn.sim.maas.state` owns them and guards them
with its lock, :mod:`~maas_dyn.sim.maas.render` turns them into API JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from maas_dyn.sim.maas.status import Status


@dataclass
class User:
    """A MAAS user account."""

    username: str
    email: str
    is_superuser: bool = False
    is_local: bool = True


@dataclass
class SSHKey:
    """A public SSH key of a user."""

    id: int
    username: str
    key: str
    keysource: str | None = None


@dataclass
class Zone:
    """An availability zone."""

    id: int
    name: str
    description: str = ""


@dataclass
class Pool:
    """A resource pool."""

    id: int
    name: str
    description: str = ""


@dataclass
class Domain:
    """A DNS domain."""

    id: int
    name: str
    authoritative: bool = True
    ttl: int | None = None


@dataclass
class Space:
    """A network space."""

    id: int
    name: str
    description: str = ""


@dataclass
class Fabric:
    """A fabric (a set of interconnected VLANs)."""

    id: int
    name: str
    class_type: str | None = None
    description: str = ""


@dataclass
class Vlan:
    """A VLAN of a fabric; ``vid`` 0 is the untagged VLAN."""

    id: int
    fabric_id: int
    vid: int
    name: str
    mtu: int = 1500
    dhcp_on: bool = False
    space_id: int | None = None
    description: str = ""
    external_dhcp: str | None = None
    relay_vlan_id: int | None = None
    primary_rack: str | None = None
    secondary_rack: str | None = None


@dataclass
class Subnet:
    """An IP subnet on a VLAN."""

    id: int
    name: str
    cidr: str
    vlan_id: int
    gateway_ip: str | None = None
    dns_servers: list[str] = field(default_factory=list)
    description: str = ""
    rdns_mode: int = 2
    allow_dns: bool = True
    allow_proxy: bool = True
    active_discovery: bool = False
    managed: bool = True
    disabled_boot_architectures: list[str] = field(default_factory=list)


@dataclass
class IPRange:
    """A dynamic or reserved range of a subnet."""

    id: int
    type: str
    start_ip: str
    end_ip: str
    subnet_id: int
    comment: str = ""
    user: str | None = None


@dataclass
class Tag:
    """A tag that nodes, interfaces or disks can carry."""

    id: int
    name: str
    definition: str = ""
    comment: str = ""
    kernel_opts: str = ""


@dataclass
class Link:
    """An IP configuration of an interface."""

    id: int
    mode: str
    subnet_id: int | None = None
    ip_address: str | None = None


@dataclass
class Interface:
    """A network interface of a node."""

    id: int
    name: str
    mac_address: str
    vlan_id: int | None
    type: str = "physical"
    enabled: bool = True
    links: list[Link] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    link_speed: int = 1000
    interface_speed: int = 1000
    link_connected: bool = True
    params: dict[str, Any] = field(default_factory=dict)
    vendor: str | None = None
    product: str | None = None
    firmware_version: str | None = None


@dataclass
class Filesystem:
    """A filesystem (or a RAID/LVM member marker) on a disk or partition."""

    fstype: str
    uuid: str
    label: str = ""
    mount_point: str | None = None
    mount_options: str | None = None


@dataclass
class Partition:
    """A partition of a block device."""

    id: int
    device_id: int
    index: int
    uuid: str
    size: int
    bootable: bool = False
    tags: list[str] = field(default_factory=list)
    filesystem: Filesystem | None = None


@dataclass
class BlockDevice:
    """A physical disk or a virtual one (RAID array, logical volume)."""

    id: int
    name: str
    size: int
    type: str = "physical"
    block_size: int = 512
    model: str = ""
    serial: str = ""
    id_path: str | None = None
    tags: list[str] = field(default_factory=list)
    uuid: str | None = None
    partition_table_type: str | None = None
    filesystem: Filesystem | None = None
    partitions: list[Partition] = field(default_factory=list)
    firmware_version: str | None = None


@dataclass
class Raid:
    """A software RAID built from disks and partitions of one machine.

    ``members`` and ``spares`` hold ``("block", id)`` or ``("partition", id)`` pairs.
    """

    id: int
    name: str
    uuid: str
    level: str
    virtual_device_id: int
    members: list[tuple[str, int]] = field(default_factory=list)
    spares: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class VolumeGroup:
    """An LVM volume group; ``members`` like :class:`Raid`, volumes are virtual disk ids."""

    id: int
    name: str
    uuid: str
    members: list[tuple[str, int]] = field(default_factory=list)
    logical_volume_ids: list[int] = field(default_factory=list)


@dataclass
class Pending:
    """A running operation of a machine: which phase, and when it ends.

    Attributes:
        operation: Key into the operation table of :mod:`lifecycle`.
        phase: Index of the running phase.
        due: Simulated time at which the phase ends.
        token: Distinguishes this run from an aborted earlier one in the timer heap.
        return_status: Status to go back to for operations that return (tests, rescue).
    """

    operation: str
    phase: int
    due: float
    token: int
    return_status: Status


@dataclass
class Machine:
    """A deployable machine and everything shown by ``machine read``."""

    id: int
    system_id: str
    hostname: str
    domain_id: int
    zone_id: int
    pool_id: int
    architecture: str
    cpu_count: int
    memory: int
    status: Status = Status.NEW
    cpu_speed: int = 0
    power_type: str = "manual"
    power_parameters: dict[str, Any] = field(default_factory=dict)
    power_state: str = "off"
    owner: str | None = None
    locked: bool = False
    osystem: str = ""
    distro_series: str = ""
    hwe_kernel: str | None = None
    min_hwe_kernel: str = ""
    description: str = ""
    agent_name: str = ""
    tag_names: list[str] = field(default_factory=list)
    owner_data: dict[str, str] = field(default_factory=dict)
    interfaces: list[Interface] = field(default_factory=list)
    blockdevices: list[BlockDevice] = field(default_factory=list)
    raids: list[Raid] = field(default_factory=list)
    volume_groups: list[VolumeGroup] = field(default_factory=list)
    special_filesystems: list[Filesystem] = field(default_factory=list)
    boot_disk_id: int | None = None
    gateway_link_id: int | None = None
    status_message: str = ""
    error_description: str = ""
    previous_status: Status | None = None
    netboot: bool = True
    ephemeral_deploy: bool = False
    swap_size: int | None = None
    hardware_uuid: str = ""
    bios_boot_method: str = "uefi"
    commissioned: bool = False
    enable_hw_sync: bool = False
    enable_kernel_crash_dump: bool = False
    pending: Pending | None = None
    runs: int = 0
    cache: tuple[int, bytes] | None = None

    node_type = 0
    node_type_name = "Machine"


@dataclass
class Device:
    """A non-deployable device (a phone, a switch, a container) known to MAAS."""

    id: int
    system_id: str
    hostname: str
    domain_id: int
    zone_id: int
    owner: str | None = None
    parent: str | None = None
    description: str = ""
    tag_names: list[str] = field(default_factory=list)
    interfaces: list[Interface] = field(default_factory=list)
    owner_data: dict[str, str] = field(default_factory=dict)
    address_ttl: int | None = None

    node_type = 1
    node_type_name = "Device"


@dataclass
class Record:
    """An object of a simple kind (static route, package repository...).

    Attributes:
        id: Its id, counted per kind.
        owner: Username of the creator.
        values: Field name -> stored value.
        dismissed_by: Users who dismissed it (notifications).
    """

    id: int
    owner: str
    values: dict[str, Any]
    dismissed_by: set[str] = field(default_factory=set)


@dataclass
class StoredFile:
    """A file in MAAS's file storage; ``key`` allows anonymous download."""

    filename: str
    owner: str
    content: bytes
    key: str


@dataclass
class Reservation:
    """An IP address a user reserved with ``ipaddresses reserve``."""

    ip: str
    subnet_id: int
    owner: str
    created: float
    hostname: str = ""
    mac_address: str = ""


@dataclass
class Event:
    """One entry of the event log."""

    id: int
    node: str | None
    hostname: str
    username: str
    level: str
    created: float
    type: str
    description: str


@dataclass
class BootResource:
    """A boot image known to the region, with the sync state of its newest set.

    Attributes:
        version: Version of the newest resource set (``20250101`` style).
        size: Bytes of that set.
        complete: Whether every file of the set is on the region.
        progress: Percent synced while not complete.
    """

    id: int
    name: str
    architecture: str
    type: str = "Synced"
    subarches: str = "generic"
    title: str = ""
    version: str = "20250101"
    size: int = 1_073_741_824
    complete: bool = True
    progress: float = 100.0


@dataclass
class ControllerService:
    """One service a controller runs, as ``service_set`` reports it.

    Attributes:
        name: e.g. ``"rackd"``, ``"dhcpd"``, ``"bind9"``.
        status: ``running``, ``degraded``, ``dead``, ``off`` or ``unknown``.
        status_info: Why, for anything but running.
    """

    name: str
    status: str = "running"
    status_info: str = ""


@dataclass
class Controller:
    """A region and/or rack controller.

    Attributes:
        node_type: 2 rack, 3 region, 4 region and rack (MAAS's NODE_TYPE).
        services: Its ``service_set``.
        version: The MAAS version it runs.
    """

    id: int
    system_id: str
    hostname: str
    node_type: int
    services: list[ControllerService] = field(default_factory=list)
    version: str = ""
    domain_id: int = 0
    zone_id: int = 1
    architecture: str = "amd64/generic"
    cpu_count: int = 8
    memory: int = 16384
    description: str = ""

    @property
    def is_rack(self) -> bool:
        """True for rack and region+rack controllers."""
        return self.node_type in (2, 4)

    @property
    def is_region(self) -> bool:
        """True for region and region+rack controllers."""
        return self.node_type in (3, 4)


@dataclass
class BootSource:
    """A simplestreams source of boot images."""

    id: int
    url: str
    keyring_filename: str = "/usr/share/keyrings/ubuntu-cloudimage-keyring.gpg"
    keyring_data: str = ""
    created: float = 0.0
    updated: float = 0.0


@dataclass
class BootSourceSelection:
    """Which images of a boot source to import."""

    id: int
    boot_source_id: int
    os: str
    release: str
    arches: list[str] = field(default_factory=lambda: ["*"])
    subarches: list[str] = field(default_factory=lambda: ["*"])
    labels: list[str] = field(default_factory=lambda: ["*"])
