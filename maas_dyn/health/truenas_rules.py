"""TrueNAS health rules: the table, its thresholds, and :func:`check_truenas`.

Each rule is a row of :data:`RULES`; what counts as a problem is data:
:data:`ALERT_LEVELS` (alert level -> status), :data:`POOL_LEVELS`,
:data:`SERVICE_LEVELS` and the numeric :data:`THRESHOLDS` (scrub age, disk errors,
quota use, failed jobs).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from maas_dyn.health.checks import Levels, Observation, Report, Rule, Status, Threshold, evaluate
from maas_dyn.health.sources import age_text
from maas_dyn.health.truenas_source import TrueNASSource, as_datetime
from maas_dyn.truenas.client import Client

__all__ = ["ALERT_LEVELS", "POOL_LEVELS", "RULES", "SERVICE_LEVELS", "THRESHOLDS",
           "check_truenas"]

_DAY = 86400.0

# The middleware's alert levels, least severe first, and how bad each is.
ALERT_LEVELS = Levels({"INFO": Status.OK, "NOTICE": Status.OK, "WARNING": Status.WARNING,
                       "ERROR": Status.CRITICAL, "CRITICAL": Status.CRITICAL,
                       "ALERT": Status.CRITICAL, "EMERGENCY": Status.CRITICAL})
# zpool states; UNHEALTHY is an ONLINE pool whose ``healthy`` flag is false (errors seen).
# A DEGRADED pool has lost redundancy: the middleware alerts on it as CRITICAL too.
POOL_LEVELS = Levels({"ONLINE": Status.OK, "UNHEALTHY": Status.WARNING,
                      "DEGRADED": Status.CRITICAL, "FAULTED": Status.CRITICAL,
                      "OFFLINE": Status.CRITICAL, "UNAVAIL": Status.CRITICAL,
                      "REMOVED": Status.CRITICAL}, Status.CRITICAL)
# An enabled service (starts on boot) should be running; anything else is an outage.
SERVICE_LEVELS = Levels({"RUNNING": Status.OK}, Status.CRITICAL)

THRESHOLDS: Mapping[str, Threshold] = {
    # TrueNAS schedules scrubs every 35 days by default.
    "scrub_age": Threshold(35 * _DAY, 70 * _DAY, missing=Status.WARNING, unit="s"),
    "disk_errors": Threshold(1, 10, unit="count"),
    "dataset_quota": Threshold(0.80, 0.95, unit="ratio"),
    "failed_jobs": Threshold(1, 5, unit="count"),
}


# -- measures ---------------------------------------------------------------------------

def _alerts(source: TrueNASSource) -> Iterator[Observation]:
    alerts = source.alerts()
    seen = [str(a.get("level")) for a in alerts if a.get("level") not in ALERT_LEVELS.table]
    # A level a newer middleware adds is counted too (graded by the table's default).
    for level in [*ALERT_LEVELS.table, *dict.fromkeys(seen)]:
        texts = [str(a.get("formatted") or a.get("text")) for a in alerts
                 if a.get("level") == level]
        shown = "; ".join(texts[:3]) + (f"; ... {len(texts) - 3} more" if len(texts) > 3 else "")
        yield Observation(f"{level} alerts", len(texts), level if texts else None,
                          {"level": level, "count": len(texts),
                           "texts": f": {shown}" if texts else ""})


def _pool_state(pool: Mapping[str, Any]) -> str:
    status = str(pool.get("status") or "UNKNOWN")
    return "UNHEALTHY" if status == "ONLINE" and pool.get("healthy") is False else status


def _pools(source: TrueNASSource) -> Iterator[Observation]:
    for pool in source.pools():
        state = _pool_state(pool)
        detail = pool.get("status_detail")
        yield Observation(f"pool {pool.get('name')}", 1 if state == "ONLINE" else 0, state,
                          {"pool": str(pool.get("name")), "state": state,
                           "detail": f" ({detail})" if detail else ""})


def _scrub_age(pool: Mapping[str, Any], source: TrueNASSource) -> float | None:
    scan = pool.get("scan")
    if not isinstance(scan, Mapping) or scan.get("function") != "SCRUB":
        return None
    if scan.get("state") == "SCANNING":
        return 0.0
    ended = as_datetime(scan.get("end_time")) if scan.get("state") == "FINISHED" else None
    return None if ended is None else max(0.0, (source.now() - ended).total_seconds())


def _scrubs(source: TrueNASSource) -> Iterator[Observation]:
    for pool in source.pools():
        age = _scrub_age(pool, source)
        when = f"{age_text(age)} ago" if age is not None else "never (no finished scrub)"
        yield Observation(f"pool {pool.get('name')}", age, None,
                          {"pool": str(pool.get("name")), "when": when})


def _disks(topology: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    stack = [vdev for vdevs in topology.values() for vdev in vdevs or []]
    while stack:  # every vdev is visited once: the topology is a finite tree
        vdev = stack.pop()
        if vdev.get("type") == "DISK":
            yield vdev
        stack.extend(vdev.get("children") or [])


def _disk_errors(source: TrueNASSource) -> Iterator[Observation]:
    for pool in source.pools():
        for vdev in sorted(_disks(pool.get("topology") or {}), key=lambda v: str(v.get("disk"))):
            stats = vdev.get("stats") or {}
            counts = {k: int(stats.get(f"{k}_errors") or 0) for k in ("read", "write", "checksum")}
            disk = str(vdev.get("disk") or vdev.get("name"))
            yield Observation(f"disk {disk}", sum(counts.values()), None,
                              {"disk": disk, "pool": str(pool.get("name")), **counts})


def _bytes(prop: Any) -> int:
    # Dataset sizes are ZFS property objects ({"parsed": bytes, ...}) or plain numbers.
    value = prop.get("parsed") if isinstance(prop, Mapping) else prop
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _quotas(source: TrueNASSource) -> Iterator[Observation]:
    for dataset in source.datasets():
        quota = _bytes(dataset.get("quota"))
        if quota <= 0:
            continue
        used = _bytes(dataset.get("used"))
        yield Observation(f"dataset {dataset.get('name')}", used / quota, None,
                          {"dataset": str(dataset.get("name")), "usage": f"{used / quota:.0%}",
                           "quota": quota})


def _failed_jobs(source: TrueNASSource) -> Iterator[Observation]:
    jobs = source.failed_jobs()
    shown = "; ".join(f"{j.get('method')} #{j.get('id')}: {' '.join(str(j.get('error')).split())}"
                      for j in jobs[:3])
    yield Observation("failed jobs", len(jobs), None,
                      {"count": len(jobs), "window": age_text(source.window),
                       "jobs": f": {shown}" if jobs else ""})


def _services(source: TrueNASSource) -> Iterator[Observation]:
    for service in source.services():
        if not service.get("enable"):
            continue  # a disabled service is meant to be stopped
        state = str(service.get("state"))
        yield Observation(f"service {service.get('service')}", 1 if state == "RUNNING" else 0,
                          state, {"service": str(service.get("service")), "state": state})


RULES: tuple[Rule[TrueNASSource], ...] = (
    Rule("alerts", "active alerts", "Alerts not dismissed, per level.", _alerts, ALERT_LEVELS,
         "{count} {level} alerts{texts}", ("level",), counts="alerts"),
    Rule("pool_status", "pool status", "1 when a pool is ONLINE and healthy.", _pools,
         POOL_LEVELS, "{pool} {state}{detail}", ("pool",)),
    Rule("scrub_age", "last scrub", "Seconds since each pool's last finished scrub.",
         _scrubs, "scrub_age", "{pool} last scrubbed {when}", ("pool",)),
    Rule("disk_errors", "disk errors",
         "Read, write and checksum errors of each pool member disk.", _disk_errors,
         "disk_errors", "{disk} in {pool}: {read} read, {write} write, {checksum} checksum "
         "errors", ("disk", "pool")),
    Rule("dataset_quota", "dataset quota use", "Share of each dataset's quota in use.",
         _quotas, "dataset_quota", "{dataset}: {usage} of its quota used", ("dataset",)),
    Rule("failed_jobs", "failed jobs", "Jobs that failed within the recent window.",
         _failed_jobs, "failed_jobs", "{count} jobs failed in the last {window}{jobs}"),
    Rule("services", "enabled services running",
         "1 when a service that is enabled (starts on boot) is running.", _services,
         SERVICE_LEVELS, "{service} (enabled) is {state}", ("service",)),
)


def check_truenas(client: Client, *, thresholds: Mapping[str, Threshold] | None = None,
                  window: float = 3600.0) -> Report:
    """Check a TrueNAS system's health.

    Args:
        client: A connected :class:`maas_dyn.truenas.Client`.
        thresholds: Replacements for entries of :data:`THRESHOLDS`, by name.
        window: Seconds that count as "recent" for failed jobs.

    Returns:
        The report; its ``exit_code`` is 3 (UNKNOWN) when the system cannot be reached
        or refuses the credentials.
    """
    source = TrueNASSource(client, window)
    merged = {**THRESHOLDS, **(thresholds or {})}
    return evaluate(RULES, source, merged, dialect="truenas", target=client.endpoint.url)
