"""The in-memory region: every object table, id generation, lookups and status changes.

One re-entrant lock guards everything; the dispatcher holds it while a handler runs, and
tests take it (``with sim.state.lock:``) to inspect or change objects directly.
"""

from __future__ import annotations

import ipaddress
import itertools
import random
import string
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

from maas_dyn.sim.maas.clock import SimClock
from maas_dyn.sim.maas.lifecycle import Lifecycle
from maas_dyn.sim.maas.models import (
    BootResource,
    BootSource,
    BootSourceSelection,
    Controller,
    Device,
    Domain,
    Event,
    Fabric,
    Interface,
    IPRange,
    Machine,
    Pool,
    Record,
    Reservation,
    Space,
    SSHKey,
    StoredFile,
    Subnet,
    Tag,
    User,
    Vlan,
    Zone,
)
from maas_dyn.sim.maas.oauth import Token
from maas_dyn.sim.maas.responses import NotFound
from maas_dyn.sim.maas.status import Status

MAX_EVENTS = 100_000
_MAX_ID_DRAWS = 1000
_SYSTEM_ID_ALPHABET = "abcdefghjkmnpqrstuvwxy0123456789"
_KEY_ALPHABET = string.ascii_letters + string.digits

Node = Machine | Device


class State:
    """Everything the simulated region knows.

    Args:
        clock: The simulated clock.
        seed: Seeds every generated identifier and the lifecycle failures.
        api_prefix: Path prefix of the API, e.g. ``/MAAS/api/2.0/`` (for resource URIs).
        release: The MAAS release whose description is served, e.g. ``"3.7"``.
    """

    def __init__(self, clock: SimClock, seed: int, api_prefix: str, release: str) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.api_prefix = api_prefix
        self.release = release
        self.random = random.Random(seed)  # noqa: S311 - simulated data, not secrets
        self.generation = 0
        # Rendered JSON of shared objects (VLANs, subnets...), valid for one generation.
        self.memo: dict[tuple[str, int], Any] = {}
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        self.sshkeys: dict[int, SSHKey] = {}
        self.zones: dict[int, Zone] = {}
        self.pools: dict[int, Pool] = {}
        self.domains: dict[int, Domain] = {}
        # Where nodes go when nothing else is said (the seed creates these objects).
        self.default_domain_id = 0
        self.default_zone_id = 0
        self.default_pool_id = 0
        self.spaces: dict[int, Space] = {}
        self.fabrics: dict[int, Fabric] = {}
        self.vlans: dict[int, Vlan] = {}
        self.subnets: dict[int, Subnet] = {}
        self.ipranges: dict[int, IPRange] = {}
        self.tags: dict[str, Tag] = {}
        self.machines: dict[str, Machine] = {}
        self.devices: dict[str, Device] = {}
        self.controllers: dict[str, Controller] = {}
        self.events: deque[Event] = deque(maxlen=MAX_EVENTS)
        self.boot_resources: dict[int, BootResource] = {}
        self.boot_sources: dict[int, BootSource] = {}
        self.boot_source_selections: dict[int, BootSourceSelection] = {}
        # Objects of the simple kinds of records.py, by kind then id.
        self.records: dict[str, dict[int, Record]] = {}
        self.files: dict[tuple[str, str], StoredFile] = {}
        self.reservations: dict[str, Reservation] = {}
        self.config: dict[str, Any] = {}
        self.import_finishes_at: float | None = None
        self._ids: dict[str, Iterator[int]] = {}
        self._system_ids: set[str] = set()
        self._macs = itertools.count(1)
        self._used_ips: dict[int, set[str]] = {}
        self._ip_cursors: dict[int, int] = {}
        self.lifecycle = Lifecycle(
            clock,
            seed,
            self._status_changed,
            {
                "commissioned": self._commissioned,
                "deployed": self._deployed,
                "released": self._released,
            },
        )

    # -- identifiers -------------------------------------------------------------------

    def next_id(self, kind: str, start: int = 1) -> int:
        """Return the next integer id of a kind of object.

        Args:
            kind: Any name; each kind counts on its own.
            start: First id of a new kind.

        Returns:
            The id.
        """
        counter = self._ids.get(kind)
        if counter is None:
            counter = self._ids[kind] = itertools.count(start)
        return next(counter)

    def new_system_id(self) -> str:
        """Return a fresh six-character system_id.

        Returns:
            The id, unique among all nodes ever created.
        """
        # 32**6 ids: a handful of draws always suffices; the bound keeps the loop finite.
        for _ in range(_MAX_ID_DRAWS):
            candidate = "".join(self.random.choices(_SYSTEM_ID_ALPHABET, k=6))
            if candidate not in self._system_ids:
                self._system_ids.add(candidate)
                return candidate
        raise RuntimeError("could not draw an unused system_id")

    def new_uuid(self) -> str:
        """Return a seeded random UUID4 string.

        Returns:
            The UUID.
        """
        # Set the version (4) and variant (RFC 4122) bits by hand: building uuid.UUID
        # objects dominates seeding time at 10,000 machines.
        value = self.random.getrandbits(128)
        value = (value & ~(0xF000 << 64)) | (0x4000 << 64)
        value = (value & ~(0xC000 << 48)) | (0x8000 << 48)
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def new_mac(self) -> str:
        """Return a MAC address never handed out before (QEMU's 52:54:00 prefix).

        Returns:
            The address.
        """
        number = next(self._macs)
        return "52:54:00:" + ":".join(f"{(number >> shift) & 0xFF:02x}" for shift in (16, 8, 0))

    def new_key(self, length: int) -> str:
        """Return a random alphanumeric string (OAuth keys and secrets).

        Args:
            length: Number of characters.

        Returns:
            The string.
        """
        return "".join(self.random.choices(_KEY_ALPHABET, k=length))

    # -- users and keys ----------------------------------------------------------------

    def add_user(self, username: str, *, email: str = "", admin: bool = False) -> User:
        """Create a user.

        Args:
            username: The name.
            email: The address (generated when empty).
            admin: Make the user a superuser.

        Returns:
            The user.
        """
        user = User(username, email or f"{username}@example.com", is_superuser=admin)
        self.users[username] = user
        return user

    def add_token(self, username: str, name: str = "MAAS consumer") -> Token:
        """Create an API key for a user.

        Args:
            username: The owner.
            name: The consumer name.

        Returns:
            The token.
        """
        token = Token(self.new_key(18), self.new_key(18), self.new_key(32), username, name)
        self.tokens[token.token_key] = token
        return token

    def has_consumer(self, consumer_key: str) -> bool:
        """Tell whether a consumer key exists (for the OAuth verifier).

        Args:
            consumer_key: The key.

        Returns:
            True when some token uses it.
        """
        return any(token.consumer_key == consumer_key for token in self.tokens.values())

    def find_token(self, token_key: str) -> Token | None:
        """Return a token by its key (for the OAuth verifier).

        Args:
            token_key: The key.

        Returns:
            The token or None.
        """
        return self.tokens.get(token_key)

    # -- lookups -----------------------------------------------------------------------

    def machine(self, system_id: str) -> Machine:
        """Return a machine.

        Args:
            system_id: Its system_id.

        Returns:
            The machine.

        Raises:
            NotFound: No such machine.
        """
        found = self.machines.get(system_id)
        if found is None:
            raise NotFound("Machine")
        return found

    def device(self, system_id: str) -> Device:
        """Return a device.

        Args:
            system_id: Its system_id.

        Returns:
            The device.

        Raises:
            NotFound: No such device.
        """
        found = self.devices.get(system_id)
        if found is None:
            raise NotFound("Device")
        return found

    def node(self, system_id: str) -> Node:
        """Return a machine or a device.

        Args:
            system_id: Its system_id.

        Returns:
            The node.

        Raises:
            NotFound: No such node.
        """
        found: Node | None = self.machines.get(system_id) or self.devices.get(system_id)
        if found is None:
            raise NotFound("Node")
        return found

    def nodes(self) -> Iterator[Node]:
        """Iterate over every node, machines first, each kind in id order.

        Yields:
            The nodes.
        """
        yield from self.machines.values()
        yield from self.devices.values()

    def zone_named(self, name: str) -> Zone | None:
        """Return a zone by name.

        Args:
            name: The zone name.

        Returns:
            The zone or None.
        """
        return next((zone for zone in self.zones.values() if zone.name == name), None)

    def pool_named(self, name: str) -> Pool | None:
        """Return a resource pool by name.

        Args:
            name: The pool name.

        Returns:
            The pool or None.
        """
        return next((pool for pool in self.pools.values() if pool.name == name), None)

    def domain_named(self, name: str) -> Domain | None:
        """Return a domain by name.

        Args:
            name: The domain name.

        Returns:
            The domain or None.
        """
        return next((domain for domain in self.domains.values() if domain.name == name), None)

    def fabric_vlan(self, fabric_id: int, vid: int) -> Vlan | None:
        """Return the VLAN of a fabric with a given VID.

        Args:
            fabric_id: The fabric id.
            vid: The VLAN id on the wire (0 = untagged).

        Returns:
            The VLAN or None.
        """
        return next(
            (v for v in self.vlans.values() if v.fabric_id == fabric_id and v.vid == vid), None
        )

    def interfaces_on_vlan(self, vlan_id: int) -> Iterator[tuple[Node, Interface]]:
        """Iterate over every interface attached to a VLAN.

        Args:
            vlan_id: The VLAN id.

        Yields:
            (node, interface) pairs.
        """
        for node in self.nodes():
            for interface in node.interfaces:
                if interface.vlan_id == vlan_id:
                    yield node, interface

    # -- changes -----------------------------------------------------------------------

    def remove_node(self, node: Node) -> None:
        """Delete a machine or a device, giving its addresses back.

        Args:
            node: The node.
        """
        for interface in node.interfaces:
            for link in interface.links:
                self.release_ip(link.subnet_id, link.ip_address)
        if isinstance(node, Machine):
            self.lifecycle.cancel(node)
            del self.machines[node.system_id]
        else:
            del self.devices[node.system_id]

    def touch(self, node: Node) -> None:
        """Mark a node changed so its cached JSON is rebuilt.

        Args:
            node: The node.
        """
        if isinstance(node, Machine):
            node.cache = None

    def touch_all(self) -> None:
        """Invalidate every cached node JSON (a zone, VLAN, tag... it embeds changed)."""
        self.generation += 1
        self.memo.clear()

    def settle(self) -> int:
        """Complete every lifecycle phase that is due now.

        Returns:
            How many phases ended.
        """
        with self.lock:
            return self.lifecycle.settle(self.machines)

    def set_status(self, machine: Machine, status: Status, message: str = "") -> None:
        """Change a machine's status at once (allocate, mark broken...).

        Args:
            machine: The machine.
            status: The new status.
            message: New ``status_message``; the status label when empty.
        """
        self.lifecycle.cancel(machine)
        old = machine.status
        machine.status = status
        machine.status_message = message or status.label
        self._status_changed(machine, old, status)

    def record_event(
        self,
        node: Node | None,
        event_type: str,
        description: str,
        *,
        level: str = "INFO",
        username: str = "",
    ) -> Event:
        """Append an entry to the event log.

        Args:
            node: The node it is about, if any.
            event_type: The event type description, e.g. ``"Node changed status"``.
            description: The event text.
            level: ``DEBUG``, ``INFO``, ``WARNING``, ``ERROR``, ``CRITICAL`` or ``AUDIT``.
            username: Who caused it (``"unknown"`` when empty).

        Returns:
            The event.
        """
        event = Event(
            self.next_id("event"),
            node.system_id if node else None,
            node.hostname if node else "",
            username or (node.owner if node and node.owner else "unknown"),
            level,
            self.clock.now(),
            event_type,
            description,
        )
        self.events.append(event)
        return event

    def allocate_ip(self, subnet: Subnet) -> str | None:
        """Hand out the next free address of a subnet, outside gateway and ranges.

        Args:
            subnet: The subnet.

        Returns:
            The address, or None when the subnet is full.
        """
        used = self._used_ips.setdefault(subnet.id, set())
        network = ipaddress.ip_network(subnet.cidr, strict=False)
        ranges = [
            (int(ipaddress.ip_address(r.start_ip)), int(ipaddress.ip_address(r.end_ip)))
            for r in self.ipranges.values()
            if r.subnet_id == subnet.id
        ]
        # Host offsets 1 .. size-2 skip the network and broadcast addresses; the scan
        # starts where the last one ended so seeding thousands of nodes stays linear.
        span = min(network.num_addresses - 2, 1 << 16)
        cursor = self._ip_cursors.get(subnet.id, 0)
        for step in range(max(span, 0)):
            offset = 1 + (cursor + step) % span
            host = network.network_address + offset
            text = str(host)
            if text in used or text == subnet.gateway_ip:
                continue
            if any(start <= int(host) <= end for start, end in ranges):
                continue
            used.add(text)
            self._ip_cursors[subnet.id] = offset
            return text
        return None

    def claim_ip(self, subnet: Subnet, address: str) -> bool:
        """Take a given address of a subnet if nobody holds it.

        Args:
            subnet: The subnet.
            address: The address (already checked to be inside the subnet).

        Returns:
            False when the address is taken, the gateway, or inside an IP range.
        """
        used = self._used_ips.setdefault(subnet.id, set())
        number = int(ipaddress.ip_address(address))
        in_range = any(
            int(ipaddress.ip_address(r.start_ip)) <= number <= int(ipaddress.ip_address(r.end_ip))
            for r in self.ipranges.values()
            if r.subnet_id == subnet.id
        )
        if address in used or address == subnet.gateway_ip or in_range:
            return False
        used.add(address)
        return True

    def release_ip(self, subnet_id: int | None, address: str | None) -> None:
        """Give an address back to its subnet.

        Args:
            subnet_id: The subnet id (None is ignored).
            address: The address (None is ignored).
        """
        if subnet_id is not None and address is not None:
            self._used_ips.get(subnet_id, set()).discard(address)

    def used_ips(self, subnet_id: int) -> set[str]:
        """Return the addresses handed out on a subnet.

        Args:
            subnet_id: The subnet id.

        Returns:
            A copy of the set.
        """
        return set(self._used_ips.get(subnet_id, ()))

    # -- lifecycle callbacks -----------------------------------------------------------

    def _status_changed(self, machine: Machine, old: Status, new: Status) -> None:
        machine.cache = None
        if old != new:
            change = f"From '{old.label}' to '{new.label}'"
            self.record_event(machine, "Node changed status", change)

    def _commissioned(self, machine: Machine) -> None:
        machine.commissioned = True

    def _deployed(self, machine: Machine) -> None:
        for interface in machine.interfaces:
            for link in interface.links:
                subnet = self.subnets.get(link.subnet_id) if link.subnet_id is not None else None
                if link.mode == "auto" and link.ip_address is None and subnet is not None:
                    link.ip_address = self.allocate_ip(subnet)

    def _released(self, machine: Machine) -> None:
        for interface in machine.interfaces:
            for link in interface.links:
                if link.mode == "auto":
                    self.release_ip(link.subnet_id, link.ip_address)
                    link.ip_address = None
        machine.owner = None
        machine.agent_name = ""
        machine.osystem = ""
        machine.distro_series = ""
        machine.hwe_kernel = None
        machine.owner_data = {}
        machine.ephemeral_deploy = False

