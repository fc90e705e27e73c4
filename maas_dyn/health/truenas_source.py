"""What the TrueNAS health rules read, each thing read once per check.

Six calls make a full check: ``system.info`` (the server's clock), ``alert.list``,
``pool.query`` (status, scrub and per-disk error counters in one), ``pool.dataset.query``,
``core.get_jobs`` (failed ones only) and ``service.query``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from maas_dyn.health.sources import once
from maas_dyn.truenas.client import Client

__all__ = ["TrueNASSource", "as_datetime"]


def as_datetime(value: Any) -> datetime | None:
    """Read a middleware timestamp: a datetime, ``{"$date": ms}``, epoch seconds or ISO text.

    Args:
        value: The value as the client decoded it.

    Returns:
        An aware datetime, or ``None`` when the value is not a timestamp.
    """
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, Mapping) and isinstance(value.get("$date"), (int, float)):
        return datetime.fromtimestamp(value["$date"] / 1000, tz=timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    if isinstance(value, str):
        try:
            return as_datetime(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


class TrueNASSource:
    """Reads from a TrueNAS middleware for the health rules, each read at most once.

    Args:
        client: A connected :class:`maas_dyn.truenas.Client`.
        window: Seconds that count as "recent" for failed jobs.
    """

    def __init__(self, client: Client, window: float = 3600.0) -> None:
        self.client = client
        self.window = window
        self._cache: dict[str, tuple[bool, Any]] = {}

    @once
    def now(self) -> datetime:
        """The server's clock (``system.info``'s ``datetime``), this machine's if absent."""
        info = self.client.system.info()
        return as_datetime(info.get("datetime")) or datetime.now(timezone.utc)

    @once
    def alerts(self) -> list[dict[str, Any]]:
        """Alerts nobody dismissed."""
        return [a for a in self.client.alert.list() if not a.get("dismissed")]

    @once
    def pools(self) -> list[dict[str, Any]]:
        """Every pool, with status, scan and topology."""
        found: list[dict[str, Any]] = self.client.pool.query()
        return found

    @once
    def datasets(self) -> list[dict[str, Any]]:
        """Every dataset, without nested children (each one is listed anyway)."""
        found: list[dict[str, Any]] = self.client.pool.dataset.query(
            [], {"extra": {"retrieve_children": False}})
        return found

    @once
    def failed_jobs(self) -> list[dict[str, Any]]:
        """Jobs that FAILED within :attr:`window` of the server's clock, newest first."""
        now = self.now()
        recent = []
        for job in self.client.core.get_jobs([["state", "=", "FAILED"]]):
            finished = as_datetime(job.get("time_finished") or job.get("time_started"))
            if finished is not None and (now - finished).total_seconds() <= self.window:
                recent.append(job)
        return sorted(recent, key=lambda j: int(j.get("id") or 0), reverse=True)

    @once
    def services(self) -> list[dict[str, Any]]:
        """Every service with its ``enable`` flag and ``state``."""
        found: list[dict[str, Any]] = self.client.service.query()
        return found
