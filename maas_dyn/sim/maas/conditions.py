"""Health fault switches: put the region into the states that health checks look for.

Wire faults (error answers, drops) live in :mod:`~maas_dyn.sim.maas.faults`; these
change what the region *is*: a dead controller service, a machine stuck deploying for
hours, a failed deployment with its error event, boot images that are not synced, a
VLAN without DHCP, a nearly full subnet, an ERROR in the event log. Each switch takes
the state's lock and invalidates the cached JSON it affects::

    with MAASSimulator(machines=8) as sim:
        sim.conditions.stop_service("dhcpd")
        sim.conditions.stick_machine(system_id, for_seconds=7200)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from maas_dyn.sim.maas.handlers.boot import IMPORT_DURATION
from maas_dyn.sim.maas.models import BootResource, Controller, Event, IPRange, Machine
from maas_dyn.sim.maas.state import State
from maas_dyn.sim.maas.status import Status

__all__ = ["Conditions"]

STATUS_EVENT = "Node changed status"


class Conditions:
    """The health fault switches of one simulator (``sim.conditions``).

    Args:
        state: The simulated region.
    """

    def __init__(self, state: State) -> None:
        self._state = state

    def stop_service(self, service: str, status: str = "dead", info: str = "",
                     controller: str | None = None) -> None:
        """Change a controller service's status in ``service_set``.

        Args:
            service: e.g. ``"dhcpd"``, ``"rackd"``, ``"bind9"``.
            status: ``dead``, ``degraded``, ``unknown``, ``off`` or ``running``.
            info: The ``status_info`` text (a default one when empty).
            controller: Hostname or system_id; the first controller when None.

        Raises:
            KeyError: No such controller or service.
        """
        with self._state.lock:
            found = self._controller(controller)
            entry = next((s for s in found.services if s.name == service), None)
            if entry is None:
                raise KeyError(f"{found.hostname} runs no service {service!r}")
            entry.status = status
            entry.status_info = info or ("" if status == "running"
                                         else f"{service} is {status} (simulated)")

    def stick_machine(self, system_id: str, status: Status = Status.DEPLOYING,
                      for_seconds: float = 3600.0) -> Event:
        """Put a machine into a transitional status that never completes.

        The status-change event is backdated, so the machine looks stuck for
        ``for_seconds`` already.

        Args:
            system_id: The machine.
            status: The transitional status.
            for_seconds: How long ago it entered that status (simulated seconds).

        Returns:
            The backdated status-change event.
        """
        with self._state.lock:
            machine = self._state.machine(system_id)
            old = machine.status
            self._state.set_status(machine, status)
            if old == status:  # set_status records only real changes
                self._state.record_event(machine, STATUS_EVENT,
                                         f"From '{old.label}' to '{status.label}'")
            event = self._last_event(machine)
            event.created = self._state.clock.now() - for_seconds
            return event

    def fail_machine(self, system_id: str, status: Status = Status.FAILED_DEPLOYMENT,
                     reason: str = "Installation failed (simulated)") -> Event:
        """Put a machine into a failed status (or Broken) with an ERROR event saying why.

        Args:
            system_id: The machine.
            status: A ``Failed ...`` status or ``Status.BROKEN``.
            reason: The error description and event text.

        Returns:
            The ERROR event.
        """
        with self._state.lock:
            machine = self._state.machine(system_id)
            self._state.set_status(machine, status, reason)
            machine.error_description = reason
            return self._state.record_event(machine, "Node installation failure", reason,
                                            level="ERROR")

    def unsync_boot_resource(self, name: str | None = None, progress: float = 40.0
                             ) -> BootResource:
        """Mark a boot resource's newest set as incomplete (still syncing).

        Args:
            name: Resource name, e.g. ``"ubuntu/jammy"``; the first resource when None.
            progress: Percent synced so far.

        Returns:
            The resource.

        Raises:
            KeyError: No such resource.
        """
        with self._state.lock:
            resources = self._state.boot_resources.values()
            found = next((r for r in resources if name in (None, r.name)), None)
            if found is None:
                raise KeyError(f"no boot resource named {name!r}")
            found.complete, found.progress = False, progress
            return found

    def start_import(self, seconds: float = IMPORT_DURATION) -> None:
        """Make ``boot-resources is-importing`` answer true for a while.

        Args:
            seconds: Simulated seconds the import runs.
        """
        with self._state.lock:
            self._state.import_finishes_at = self._state.clock.now() + seconds

    def disable_dhcp(self, fabric_id: int = 0, vid: int = 0) -> None:
        """Turn DHCP off on a VLAN (the seeded machines boot on fabric 0, vid 0).

        Args:
            fabric_id: The fabric.
            vid: The VLAN id on the wire.

        Raises:
            KeyError: No such VLAN.
        """
        with self._state.lock:
            vlan = self._state.fabric_vlan(fabric_id, vid)
            if vlan is None:
                raise KeyError(f"fabric {fabric_id} has no VLAN {vid}")
            vlan.dhcp_on, vlan.relay_vlan_id = False, None
            self._state.touch_all()  # machine documents embed their VLANs

    def fill_subnet(self, cidr: str, fraction: float) -> IPRange:
        """Reserve addresses at the top of a subnet so its usage reaches ``fraction``.

        Args:
            cidr: The subnet, e.g. ``"192.168.10.0/24"``.
            fraction: Share of the subnet's addresses to reserve, in (0, 1].

        Returns:
            The reserved range.

        Raises:
            KeyError: No such subnet.
            ValueError: ``fraction`` outside (0, 1].
        """
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"fraction must be within (0, 1], got {fraction}")
        with self._state.lock:
            subnet = next((s for s in self._state.subnets.values() if s.cidr == cidr), None)
            if subnet is None:
                raise KeyError(f"no subnet {cidr}")
            network = ipaddress.ip_network(cidr)
            last = int(network.broadcast_address) - 1
            count = max(1, round((network.num_addresses - 2) * fraction))
            start = ipaddress.ip_address(last - count + 1)
            iprange = IPRange(self._state.next_id("iprange"), "reserved", str(start),
                              str(ipaddress.ip_address(last)), subnet.id, "filled (simulated)")
            self._state.ipranges[iprange.id] = iprange
            return iprange

    def error_event(self, description: str, system_id: str | None = None,
                    event_type: str = "Node installation failure") -> Event:
        """Add an ERROR entry to the event log.

        Args:
            description: The event text.
            system_id: The machine it is about, if any.
            event_type: The event type text.

        Returns:
            The event.
        """
        with self._state.lock:
            node = self._state.machine(system_id) if system_id else None
            return self._state.record_event(node, event_type, description, level="ERROR")

    def _controller(self, name: str | None) -> Controller:
        controllers: Iterable[Controller] = self._state.controllers.values()
        found = next((c for c in controllers if name in (None, c.hostname, c.system_id)), None)
        if found is None:
            raise KeyError(f"no controller {name!r}")
        return found

    def _last_event(self, machine: Machine) -> Event:
        return next(e for e in reversed(self._state.events)
                    if e.node == machine.system_id and e.type == STATUS_EVENT)
