"""What the MAAS health rules read, each thing read once per check.

The expensive read is ``machines read``: it happens exactly once, and every machine
rule works from it. Per-machine detail (the events that date a status change or
explain a failure) is read only for the machines that need it, in batches of system
ids per ``events query``; a machine is asked about on its own only when its batch
filled a whole page, so its events may have been cut off.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from maas_dyn.health.sources import http_date, once
from maas_dyn.maas.client import Client

__all__ = ["EVENT_TIME_FORMAT", "STATUS_EVENT", "MAASSource", "event_time"]

# How MAAS formats event times (server time, UTC on a normally configured region).
EVENT_TIME_FORMAT = "%a, %d %b. %Y %H:%M:%S"
STATUS_EVENT = "Node changed status"
# System ids per events query: keeps the query string short (~1 KiB).
EVENT_BATCH = 100
# MAAS refuses a larger limit.
EVENT_PAGE = 1000
# Events read for one machine whose batch page was full.
SINGLE_PAGE = 100
# Machines asked about one by one at most, per check.
MAX_SINGLE_QUERIES = 100


def event_time(text: str) -> datetime | None:
    """Parse an event's ``created`` (``Fri, 07 Dec. 2018 20:11:08``) as UTC.

    Args:
        text: The value.

    Returns:
        The time, or ``None`` when it is not in that format.
    """
    try:
        return datetime.strptime(text, EVENT_TIME_FORMAT).replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None


def _batches(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    return (items[start:start + size] for start in range(0, len(items), size))


class MAASSource:
    """Reads from a MAAS region for the health rules, each read at most once.

    Args:
        client: A connected (or profile-built) client.
        event_statuses: Status codes of the machines whose events are read (stuck and
            failed ones: the rules need when they changed status and why they failed).
        window: Seconds that count as "recent" for ERROR events.
    """

    def __init__(self, client: Client, event_statuses: Iterable[int],
                 window: float = 3600.0) -> None:
        self.client = client
        self.event_statuses = frozenset(event_statuses)
        self.window = window
        self._cache: dict[str, tuple[bool, Any]] = {}
        self._now: datetime | None = None

    @property
    def now(self) -> datetime:
        """The server's clock, from the last response read (this machine's before any)."""
        return self._now or datetime.now(timezone.utc)

    def _seen(self) -> None:
        last = self.client.last_response
        self._now = http_date(last.headers if last is not None else None)

    @once
    def machines(self) -> list[dict[str, Any]]:
        """Every machine (one ``machines read``)."""
        found: list[dict[str, Any]] = self.client.machines.read()
        self._seen()
        return found

    @once
    def node_events(self) -> dict[str, list[dict[str, Any]]]:
        """Newest-first events of the machines whose status is one of :attr:`event_statuses`."""
        wanted = sorted(m["system_id"] for m in self.machines()
                        if m.get("status") in self.event_statuses)
        found: dict[str, list[dict[str, Any]]] = {}
        full: list[str] = []
        for batch in _batches(wanted, EVENT_BATCH):
            page = self.client.events.query(id=list(batch), level="DEBUG", limit=EVENT_PAGE)
            self._seen()
            for event in page.get("events") or []:
                found.setdefault(str(event.get("node")), []).append(event)
            if len(page.get("events") or []) >= EVENT_PAGE:
                full += [sid for sid in batch if not _has_status_event(found.get(sid, []))]
        for system_id in full[:MAX_SINGLE_QUERIES]:
            page = self.client.events.query(id=system_id, level="DEBUG", limit=SINGLE_PAGE)
            found[system_id] = list(page.get("events") or [])
        return found

    @once
    def controllers(self) -> list[dict[str, Any]]:
        """Every region and rack controller, once each (region+rack ones are in both)."""
        racks: list[dict[str, Any]] = self.client.rack_controllers.read()
        regions: list[dict[str, Any]] = self.client.region_controllers.read()
        unique = {c["system_id"]: c for c in [*regions, *racks]}
        return list(unique.values())

    @once
    def boot_resources(self) -> list[dict[str, Any]]:
        """Boot resources, each with its ``sets`` (one read per resource)."""
        listed: list[dict[str, Any]] = self.client.boot_resources.read()
        return [self.client.boot_resource.read(r["id"]) for r in listed]

    @once
    def importing(self) -> bool:
        """Whether an image import is running."""
        return bool(self.client.boot_resources.is_importing())

    @once
    def subnets(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Every subnet with its statistics (one read per subnet)."""
        listed: list[dict[str, Any]] = self.client.subnets.read()
        return [(s, self.client.subnet.statistics(s["id"])) for s in listed]

    @once
    def errors(self) -> list[dict[str, Any]]:
        """ERROR (and worse) events newer than :attr:`window`, newest first."""
        page = self.client.events.query(level="ERROR", limit=EVENT_PAGE)
        self._seen()
        recent = []
        for event in page.get("events") or []:
            created = event_time(str(event.get("created")))
            if created is not None and (self.now - created).total_seconds() <= self.window:
                recent.append(event)
        return recent


def _has_status_event(events: list[dict[str, Any]]) -> bool:
    return any(e.get("type") == STATUS_EVENT for e in events)
