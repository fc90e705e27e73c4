"""Deterministic initial content of the simulated region.

Everything derives from the state's seeded random generator, so two simulators with the
same seed and machine count hold identical data. Machine statuses follow a fixed cycle
so that any run of ten machines has some of each interesting status.
"""

from __future__ import annotations

from maas_dyn.sim.maas import layouts, records
from maas_dyn.sim.maas.models import (
    BlockDevice,
    BootResource,
    BootSource,
    BootSourceSelection,
    Controller,
    ControllerService,
    Device,
    Domain,
    Fabric,
    Interface,
    IPRange,
    Link,
    Machine,
    Pool,
    Space,
    Subnet,
    Tag,
    Vlan,
    Zone,
)
from maas_dyn.sim.maas.oauth import Token
from maas_dyn.sim.maas.releases import default_series, version_of
from maas_dyn.sim.maas.state import State
from maas_dyn.sim.maas.status import Status

ADMIN = "admin"

# Status of machine i is STATUS_CYCLE[i % 10]; owned ones belong to the admin.
STATUS_CYCLE = (
    Status.READY,
    Status.READY,
    Status.NEW,
    Status.DEPLOYED,
    Status.READY,
    Status.ALLOCATED,
    Status.READY,
    Status.READY,
    Status.BROKEN,
    Status.READY,
)
DISK_COUNTS = (4, 1, 2)
POWER_CYCLE = ("ipmi", "redfish", "virsh")
CPU_COUNTS = (4, 8, 16, 32, 64)
MEMORIES = (8192, 16384, 32768, 65536, 131072)
DISK_SIZES = (256_060_514_304, 500_107_862_016, 1_000_204_886_016, 2_000_398_934_016)
ADJECTIVES = (
    "able", "bold", "calm", "deep", "eager", "fair", "glad", "happy", "ideal", "jolly",
    "keen", "lucky", "merry", "noble", "open", "proud", "quick", "rapid", "sharp", "tidy",
)
ANIMALS = (
    "ant", "bat", "cod", "deer", "eel", "fox", "gnu", "hare", "ibis", "jay", "koala",
    "lark", "mole", "newt", "owl", "puma", "quail", "ram", "seal", "toad",
)
TAGS = ("virtual", "ssd", "gpu", "nvme", "rack-a")
OWNED = frozenset({Status.DEPLOYED, Status.ALLOCATED})
CONTROLLER = "maas-controller"
# The services of a region+rack controller, as ``service_set`` lists them; dhcpd6 is off
# because no VLAN serves DHCPv6 (MAAS reports it that way, not as a failure).
CONTROLLER_SERVICES = (
    ("regiond", "running", ""), ("bind9", "running", ""), ("ntp_region", "running", ""),
    ("proxy", "running", ""), ("syslog_region", "running", ""), ("http", "running", ""),
    ("rackd", "running", ""), ("dhcpd", "running", ""),
    ("dhcpd6", "off", "No IPv6 DHCP configured."), ("tftp", "running", ""),
    ("ntp_rack", "running", ""), ("dns_rack", "running", ""), ("proxy_rack", "running", ""),
    ("syslog_rack", "running", ""),
)

DEFAULT_CONFIG = {
    "maas_name": "maas-sim",
    "default_osystem": "ubuntu",
    "commissioning_distro_series": "",
    "default_min_hwe_kernel": "",
    "kernel_opts": "",
    "ntp_servers": "ntp.ubuntu.com",
    "ntp_external_only": False,
    "upstream_dns": "",
    "dnssec_validation": "auto",
    "http_proxy": "",
    "enable_http_proxy": True,
    "use_peer_proxy": False,
    "network_discovery": "enabled",
    "active_discovery_interval": 10800,
    "default_storage_layout": "flat",
    "enable_disk_erasing_on_release": False,
    "disk_erase_with_secure_erase": True,
    "disk_erase_with_quick_erase": False,
    "boot_images_auto_import": True,
    "enable_analytics": False,
    "completed_intro": True,
    "max_node_commissioning_results": 10,
    "maas_auto_ipmi_user": "maas",
    "enable_third_party_drivers": True,
    "node_timeout": 30,
}


def seed_region(state: State, *, machines: int, release: str) -> Token:
    """Fill an empty state with a small but complete region.

    Args:
        state: The empty state.
        machines: How many machines to create.
        release: The MAAS release served (picks the default series).

    Returns:
        The admin user's API token.
    """
    state.config.update(DEFAULT_CONFIG, default_distro_series=default_series(release))
    state.add_user(ADMIN, admin=True)
    admin_token = state.add_token(ADMIN)
    _seed_inventory(state)
    _seed_network(state)
    _seed_boot(state)
    # The two archives every MAAS region starts with.
    records.add(state, records.PACKAGE_REPOSITORIES, ADMIN, name="main_archive",
                url="http://archive.ubuntu.com/ubuntu")
    records.add(state, records.PACKAGE_REPOSITORIES, ADMIN, name="ports_archive",
                url="http://ports.ubuntu.com/ubuntu-ports",
                arches=["armhf", "arm64", "ppc64el", "s390x"])
    for index in range(machines):
        _add_machine(state, index)
    _seed_devices(state)
    # Last, so that the seeded machines' ids and names do not depend on it.
    _seed_controller(state, release)
    return admin_token


def _seed_inventory(state: State) -> None:
    for name, description in (("default", "Default zone"), ("zone-east", "East wing")):
        zone = Zone(state.next_id("zone"), name, description)
        state.zones[zone.id] = zone
    for name, description in (("default", "Default pool"), ("pool-gpu", "Machines with GPUs")):
        pool = Pool(state.next_id("pool", start=0), name, description)
        state.pools[pool.id] = pool
    state.default_zone_id, state.default_pool_id = 1, 0
    domain = Domain(state.next_id("domain", start=0), "maas")
    state.domains[domain.id] = domain
    state.default_domain_id = domain.id
    for name in TAGS:
        state.tags[name] = Tag(state.next_id("tag"), name, comment=f"seeded tag {name}")


def _seed_controller(state: State, release: str) -> None:
    system_id = state.new_system_id()
    services = [ControllerService(*row) for row in CONTROLLER_SERVICES]
    state.controllers[system_id] = Controller(state.next_id("node"), system_id, CONTROLLER, 4,
                                              services, version=version_of(release))
    # Every machine PXE-boots on fabric-0's untagged VLAN, so the rack serves DHCP there.
    pxe = state.fabric_vlan(0, 0)
    assert pxe is not None  # _seed_network made it
    pxe.dhcp_on, pxe.primary_rack = True, system_id


def _seed_network(state: State) -> None:
    space = Space(state.next_id("space"), "management")
    state.spaces[space.id] = space
    fabrics = [Fabric(state.next_id("fabric", start=0), f"fabric-{n}") for n in range(2)]
    state.fabrics.update((f.id, f) for f in fabrics)
    # VLAN ids start at 5001 like a fresh MAAS; vid 0 is each fabric's untagged VLAN.
    for fabric_id, vid, name, space_id in ((0, 0, "untagged", space.id), (0, 100, "100", None),
                                           (1, 0, "untagged", None)):
        vlan = Vlan(state.next_id("vlan", start=5001), fabric_id, vid, name, space_id=space_id)
        state.vlans[vlan.id] = vlan
    for cidr, vlan_id, gateway, dns in (
        ("10.0.0.0/16", 5001, "10.0.0.1", ["10.0.0.2"]),
        ("10.100.0.0/24", 5002, "10.100.0.1", []),
        ("192.168.10.0/24", 5003, "192.168.10.1", []),
    ):
        subnet = Subnet(state.next_id("subnet"), cidr, cidr, vlan_id, gateway, dns)
        state.subnets[subnet.id] = subnet
    for kind, start, end, comment in (
        ("dynamic", "10.0.255.1", "10.0.255.254", "DHCP"),
        ("reserved", "10.0.0.2", "10.0.0.9", "infrastructure"),
    ):
        iprange = IPRange(state.next_id("iprange"), kind, start, end, 1, comment)
        state.ipranges[iprange.id] = iprange


def _seed_boot(state: State) -> None:
    source = BootSource(state.next_id("bootsource"), "http://images.maas.io/ephemeral-v3/stable/")
    state.boot_sources[source.id] = source
    series = state.config["default_distro_series"]
    selection = BootSourceSelection(
        state.next_id("bootsourceselection"), source.id, "ubuntu", series, ["amd64"]
    )
    state.boot_source_selections[selection.id] = selection
    for name, arch in (
        (f"ubuntu/{series}", "amd64/ga-24.04"),
        (f"ubuntu/{series}", "arm64/ga-24.04"),
        ("ubuntu/jammy", "amd64/ga-22.04"),
        ("grub-efi-signed/uefi", "amd64/generic"),
        ("grub-efi/uefi", "arm64/generic"),
        ("pxelinux/pxe", "i386/generic"),
    ):
        resource_id = state.next_id("bootresource")
        state.boot_resources[resource_id] = BootResource(resource_id, name, arch)


def _add_machine(state: State, index: int) -> Machine:
    rng = state.random
    system_id = state.new_system_id()
    hostname = f"{ADJECTIVES[rng.randrange(20)]}-{ANIMALS[rng.randrange(20)]}-{index:05d}"
    status = STATUS_CYCLE[index % len(STATUS_CYCLE)]
    machine = Machine(
        id=state.next_id("node"),
        system_id=system_id,
        hostname=hostname,
        domain_id=0,
        zone_id=1 + index % 2,
        pool_id=1 if index % 7 == 3 else 0,
        architecture="arm64/generic" if index % 10 == 9 else "amd64/generic",
        cpu_count=CPU_COUNTS[rng.randrange(len(CPU_COUNTS))],
        memory=MEMORIES[rng.randrange(len(MEMORIES))],
        status=status,
        cpu_speed=2400,
        hardware_uuid=state.new_uuid(),
        commissioned=status != Status.NEW,
        status_message=status.label,
    )
    machine.power_type = POWER_CYCLE[index % len(POWER_CYCLE)]
    machine.power_parameters = _power_parameters(machine.power_type, index, hostname)
    machine.tag_names = [tag for position, tag in enumerate(TAGS) if index % (position + 2) == 0]
    machine.interfaces = _interfaces(state, index)
    machine.blockdevices = [
        BlockDevice(
            state.next_id("blockdevice"),
            f"sd{chr(ord('a') + disk)}",
            DISK_SIZES[(index + disk) % len(DISK_SIZES)],
            model="QEMU HARDDISK",
            serial=f"QM{index:05d}{disk}",
            id_path=f"/dev/disk/by-id/wwn-0x5000c500{index:06x}{disk:02x}",
            tags=["ssd"] if disk == 0 else ["rotary"],
        )
        for disk in range(DISK_COUNTS[index % len(DISK_COUNTS)])
    ]
    if machine.commissioned:
        layouts.apply(state, machine, "flat")
    if status in OWNED:
        machine.owner = ADMIN
    if status == Status.DEPLOYED:
        machine.osystem, machine.distro_series = "ubuntu", state.config["default_distro_series"]
        machine.power_state = "on"
        for link in machine.interfaces[0].links:
            link.ip_address = state.allocate_ip(state.subnets[1])
    if status == Status.BROKEN:
        machine.error_description = "Seeded as broken"
    state.machines[system_id] = machine
    return machine


def _power_parameters(power_type: str, index: int, hostname: str) -> dict[str, str]:
    bmc = f"10.1.{index // 250}.{index % 250 + 1}"
    if power_type == "ipmi":
        return {"power_driver": "LAN_2_0", "power_boot_type": "auto", "power_address": bmc,
                "power_user": "maas", "power_pass": "maas-bmc", "cipher_suite_id": "3",
                "privilege_level": "OPERATOR", "k_g": "", "mac_address": ""}
    if power_type == "redfish":
        return {"power_address": bmc, "power_user": "root", "power_pass": "calvin",
                "node_id": f"System.Embedded.{index}"}
    return {"power_address": "qemu+ssh://ubuntu@10.1.0.1/system", "power_pass": "",
            "power_id": hostname}


def _interfaces(state: State, index: int) -> list[Interface]:
    boot = Interface(
        state.next_id("interface"),
        "eth0",
        state.new_mac(),
        5001,
        links=[Link(state.next_id("link"), "auto", 1)],
    )
    if index % 5 != 4:
        return [boot]
    second = Interface(
        state.next_id("interface"),
        "eth1",
        state.new_mac(),
        5003,
        links=[Link(state.next_id("link"), "link_up", 3)],
        link_speed=10000,
        interface_speed=10000,
    )
    return [boot, second]


def _seed_devices(state: State) -> None:
    for name, parent in (("switch-01", None), ("bmc-console", None)):
        system_id = state.new_system_id()
        interface = Interface(
            state.next_id("interface"),
            "eth0",
            state.new_mac(),
            5001,
            links=[Link(state.next_id("link"), "static", 1, state.allocate_ip(state.subnets[1]))],
        )
        state.devices[system_id] = Device(
            state.next_id("node"),
            system_id,
            name,
            0,
            1,
            owner=ADMIN,
            parent=parent,
            interfaces=[interface],
        )
