"""MAAS health rules: the table, its thresholds, and :func:`check_maas`.

Each rule is a row of :data:`RULES`; what counts as a problem is data:
:data:`TRANSITIONAL` (statuses a machine should leave by itself, with how long is too
long in :data:`THRESHOLDS`), :data:`FAILED` (failed statuses and how bad each is),
:data:`SERVICE_LEVELS`, :data:`DHCP_LEVELS`, :data:`SYNC_LEVELS`. A full check reads
``machines read`` once, the controllers, boot resources, subnets with their
statistics and the ERROR events, plus events of the stuck and failed machines only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from maas_dyn.health.checks import Levels, Observation, Report, Rule, Status, Threshold, evaluate
from maas_dyn.health.maas_source import STATUS_EVENT, MAASSource, event_time
from maas_dyn.health.sources import age_text
from maas_dyn.maas.client import Client

__all__ = [
    "DHCP_LEVELS",
    "FAILED",
    "RULES",
    "SERVICE_LEVELS",
    "SYNC_LEVELS",
    "THRESHOLDS",
    "TRANSITIONAL",
    "check_maas",
]

_MINUTE, _HOUR = 60.0, 3600.0

# Statuses a machine leaves by itself (status code -> threshold name suffix). MAAS gives
# up on a node after ``node_timeout`` (30 minutes by default), so longer means stuck.
TRANSITIONAL: Mapping[int, str] = {
    1: "commissioning", 9: "deploying", 12: "releasing", 14: "disk_erasing", 21: "testing",
    17: "entering_rescue_mode", 19: "exiting_rescue_mode",
}

# Failed statuses (code -> name as MAAS spells it, how bad). Broken was set by a person,
# so it is known and only a warning; a failure nobody looked at yet is critical.
FAILED: Mapping[int, tuple[str, Status]] = {
    2: ("Failed commissioning", Status.CRITICAL), 8: ("Broken", Status.WARNING),
    11: ("Failed deployment", Status.CRITICAL), 13: ("Releasing failed", Status.CRITICAL),
    15: ("Failed disk erasing", Status.CRITICAL),
    18: ("Failed to enter rescue mode", Status.CRITICAL),
    20: ("Failed to exit rescue mode", Status.CRITICAL),
    22: ("Failed testing", Status.CRITICAL),
}

# ``service_set`` statuses; "off" is a service switched off on purpose (e.g. dhcpd6).
SERVICE_LEVELS = Levels({"running": Status.OK, "off": Status.OK, "degraded": Status.WARNING,
                         "unknown": Status.WARNING, "dead": Status.CRITICAL,
                         "missing": Status.CRITICAL})
# A VLAN machines PXE-boot on needs DHCP (MAAS's own or a relay).
DHCP_LEVELS = Levels({"dhcp": Status.OK, "relay": Status.OK, "no-dhcp": Status.WARNING})
# Boot images: not yet on the region, or none at all (nothing can be deployed).
SYNC_LEVELS = Levels({"synced": Status.OK, "syncing": Status.WARNING, "none": Status.CRITICAL})
IMPORT_LEVELS = Levels({"idle": Status.OK, "importing": Status.WARNING})
ALWAYS_OK = Levels({}, default=Status.OK)

THRESHOLDS: Mapping[str, Threshold] = {
    "stuck.commissioning": Threshold(30 * _MINUTE, 60 * _MINUTE, unit="s"),
    "stuck.deploying": Threshold(30 * _MINUTE, 60 * _MINUTE, unit="s"),
    "stuck.releasing": Threshold(30 * _MINUTE, 60 * _MINUTE, unit="s"),
    "stuck.disk_erasing": Threshold(6 * _HOUR, 12 * _HOUR, unit="s"),
    "stuck.testing": Threshold(1 * _HOUR, 2 * _HOUR, unit="s"),
    "stuck.entering_rescue_mode": Threshold(30 * _MINUTE, 60 * _MINUTE, unit="s"),
    "stuck.exiting_rescue_mode": Threshold(30 * _MINUTE, 60 * _MINUTE, unit="s"),
    "subnet_usage": Threshold(0.80, 0.95, unit="ratio"),
    "recent_errors": Threshold(1, 10, unit="count"),
}


def _name(machine: Mapping[str, Any]) -> dict[str, str]:
    return {"hostname": str(machine.get("hostname") or ""),
            "system_id": str(machine.get("system_id") or ""),
            "status": str(machine.get("status_name") or machine.get("status"))}


# -- measures ---------------------------------------------------------------------------

def _by_status(source: MAASSource) -> Iterator[Observation]:
    counts = Counter(str(m.get("status_name") or m.get("status")) for m in source.machines())
    for status, count in sorted(counts.items()):
        yield Observation(status, count, fields={"status": status, "count": count})


def _status_since(events: list[dict[str, Any]], source: MAASSource) -> float | None:
    change = next((e for e in events if e.get("type") == STATUS_EVENT), None)
    when = event_time(str(change.get("created"))) if change else None
    return None if when is None else max(0.0, (source.now - when).total_seconds())


def _stuck(source: MAASSource) -> Iterator[Observation]:
    busy = [m for m in source.machines() if m.get("status") in TRANSITIONAL]
    events = source.node_events() if busy else {}
    for machine in busy:
        age = _status_since(events.get(str(machine["system_id"]), []), source)
        fields = {**_name(machine), "age": age_text(age) if age is not None
                  else "an unknown time (no status-change event)"}
        yield Observation(f"machine {fields['hostname']}", age,
                          TRANSITIONAL[machine["status"]], fields)


def _last_event(events: list[dict[str, Any]], machine: Mapping[str, Any]) -> str:
    # The newest INFO-or-worse event says most; DEBUG noise (PXE, TFTP) says least.
    useful = next((e for e in events if e.get("level") not in ("DEBUG", "AUDIT")), None)
    if useful is not None:
        return f"{useful.get('created')}: {useful.get('description') or useful.get('type')}"
    reason = machine.get("error_description") or machine.get("status_message")
    return str(reason) if reason else "no events"


def _failed(source: MAASSource) -> Iterator[Observation]:
    failed = [m for m in source.machines() if m.get("status") in FAILED]
    events = source.node_events() if failed else {}
    for machine in failed:
        fields = {**_name(machine),
                  "last_event": _last_event(events.get(str(machine["system_id"]), []), machine)}
        yield Observation(f"machine {fields['hostname']}", 1, FAILED[machine["status"]][0],
                          fields)


def _services(source: MAASSource) -> Iterator[Observation]:
    controllers = source.controllers()
    if not any(c.get("node_type") in (2, 4) for c in controllers):
        yield Observation("rack controllers", 0, "missing",
                          {"controller": "(none)", "service": "rackd", "status": "missing",
                           "info": ": no rack controller is registered"})
    for controller in controllers:
        for service in controller.get("service_set") or []:
            status = str(service.get("status"))
            info = service.get("status_info")
            yield Observation(
                f"{controller.get('hostname')} {service.get('name')}",
                1 if SERVICE_LEVELS.grade(status) == Status.OK else 0, status,
                {"controller": str(controller.get("hostname")),
                 "service": str(service.get("name")), "status": status,
                 "info": f" ({info})" if info else ""})


def _sync_state(resource: Mapping[str, Any]) -> tuple[str, float]:
    sets = resource.get("sets") or {}
    newest = sets[max(sets)] if sets else {}
    if newest.get("complete", True):
        return "synced", 100.0
    return "syncing", float(newest.get("progress") or 0.0)


def _boot_resources(source: MAASSource) -> Iterator[Observation]:
    resources = source.boot_resources()
    if not resources:
        yield Observation("boot resources", 0, "none",
                          {"name": "(none)", "architecture": "", "state": "none: nothing "
                           "can be commissioned or deployed until images are imported"})
    for resource in resources:
        state, progress = _sync_state(resource)
        text = state if state == "synced" else f"{state}, {progress:g}% on the region"
        yield Observation(f"{resource.get('name')} {resource.get('architecture')}", progress,
                          state, {"name": str(resource.get("name")),
                                  "architecture": str(resource.get("architecture")),
                                  "state": text})


def _import(source: MAASSource) -> Iterator[Observation]:
    importing = source.importing()
    yield Observation("image import", int(importing), "importing" if importing else "idle",
                      {"state": "running" if importing else "not running"})


def _dhcp(source: MAASSource) -> Iterator[Observation]:
    # Machines PXE-boot on their boot interface's VLAN, which machine documents embed.
    machines: Counter[int] = Counter()
    vlans: dict[int, Mapping[str, Any]] = {}
    for machine in source.machines():
        interface = machine.get("boot_interface") or {}
        vlan = interface.get("vlan")
        if isinstance(vlan, Mapping) and "id" in vlan:
            machines[vlan["id"]] += 1
            vlans[vlan["id"]] = vlan
    for vlan_id, count in sorted(machines.items()):
        vlan = vlans[vlan_id]
        name = f"{vlan.get('fabric')}.{vlan.get('name')}"
        state = "dhcp" if vlan.get("dhcp_on") else ("relay" if vlan.get("relay_vlan")
                                                    else "no-dhcp")
        yield Observation(f"VLAN {name}", count, state,
                          {"vlan": name, "machines": count,
                           "dhcp": {"dhcp": "on", "relay": "relayed"}.get(state, "OFF")})


def _subnets(source: MAASSource) -> Iterator[Observation]:
    for subnet, stats in source.subnets():
        usage = float(stats.get("usage") or 0.0)
        yield Observation(f"subnet {subnet.get('cidr')}", usage, None,
                          {"subnet": str(subnet.get("cidr")), "usage": f"{usage:.0%}",
                           "available": stats.get("num_available", "?")})


def _errors(source: MAASSource) -> Iterator[Observation]:
    recent = source.errors()
    newest = recent[0] if recent else None
    latest = (f"; newest: {newest.get('hostname') or 'region'}: "
              f"{newest.get('description') or newest.get('type')}" if newest else "")
    yield Observation("ERROR events", len(recent), None,
                      {"count": len(recent), "window": age_text(source.window),
                       "latest": latest})


RULES: tuple[Rule[MAASSource], ...] = (
    Rule("machines_by_status", "machines by status", "Machines per status.", _by_status,
         ALWAYS_OK, "{status}: {count}", ("status",)),
    Rule("stuck_machines", "machines stuck in a transition",
         "Seconds machines have been in a status they should leave by themselves "
         "(NaN: no status-change event).", _stuck, "stuck.{category}",
         "{hostname} ({system_id}) {status} for {age}", ("system_id", "hostname", "status")),
    Rule("failed_machines", "failed and broken machines",
         "1 for each machine in a failed status or Broken.", _failed,
         Levels({name: status for name, status in FAILED.values()}, Status.CRITICAL),
         "{hostname} ({system_id}) {status}: {last_event}", ("system_id", "hostname", "status")),
    Rule("controller_services", "controller services",
         "1 when a controller service runs (or is off by design), 0 when dead, degraded "
         "or unknown.", _services, SERVICE_LEVELS, "{controller}: {service} {status}{info}",
         ("controller", "service")),
    Rule("boot_resources", "boot images synced",
         "Percent of each boot resource's newest set that is on the region.",
         _boot_resources, SYNC_LEVELS, "{name} {architecture}: {state}",
         ("name", "architecture")),
    Rule("boot_import", "boot image import", "1 while boot images are being imported.",
         _import, IMPORT_LEVELS, "image import {state}"),
    Rule("dhcp_vlans", "DHCP where machines boot",
         "Machines whose boot interface is on each VLAN.", _dhcp, DHCP_LEVELS,
         "{vlan}: {machines} machines boot here, DHCP {dhcp}", ("vlan",)),
    Rule("subnet_usage", "subnet address usage", "Share of each subnet's addresses in use.",
         _subnets, "subnet_usage", "{subnet}: {usage} used, {available} free", ("subnet",)),
    Rule("recent_errors", "recent ERROR events",
         "ERROR events within the recent window.", _errors, "recent_errors",
         "{count} ERROR events in the last {window}{latest}"),
)


def check_maas(client: Client, *, thresholds: Mapping[str, Threshold] | None = None,
               window: float = 3600.0) -> Report:
    """Check a MAAS region's health.

    Args:
        client: A client for the region (``maas_dyn.maas.connect(...)``).
        thresholds: Replacements for entries of :data:`THRESHOLDS`, by name.
        window: Seconds that count as "recent" for ERROR events.

    Returns:
        The report; its ``exit_code`` is 3 (UNKNOWN) when the region cannot be reached
        or refuses the API key.
    """
    source = MAASSource(client, (*TRANSITIONAL, *FAILED), window)
    merged = {**THRESHOLDS, **(thresholds or {})}
    return evaluate(RULES, source, merged, dialect="maas", target=client.url)
