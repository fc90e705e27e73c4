"""Health fault switches: put the appliance into the states that health checks look for.

Wire faults (dropped connections, slow replies, failing jobs) live in
:mod:`~maas_dyn.sim.truenas.faults`; these change what the appliance *is*: a degraded
pool, a disk with read errors, a scrub long ago, a dataset near its quota, a failed job,
an enabled service that is stopped. Alerts have their own switch,
:meth:`TrueNASSimulator.raise_alert`. Each switch changes the state under its lock and
publishes the change like the middleware would::

    with TrueNASSimulator() as sim:
        ...  # create a pool "tank" through the client
        sim.conditions.degrade_pool("tank")
        sim.conditions.last_scrub("tank", days_ago=90)
"""

from __future__ import annotations

import copy
import errno
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from maas_dyn.sim.truenas.exceptions import CallError
from maas_dyn.sim.truenas.jobs import Job
from maas_dyn.sim.truenas.runtime import Runtime
from maas_dyn.sim.truenas.services.alerts import raise_alert
from maas_dyn.sim.truenas.services.datasets import zfs_property

__all__ = ["Conditions"]

Record = dict[str, Any]


class Conditions:
    """The health fault switches of one simulator (``sim.conditions``).

    Args:
        rt: The simulator's parts.
    """

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    def degrade_pool(self, pool: str, status: str = "DEGRADED", healthy: bool = False,
                     detail: str = "One or more devices has been removed (simulated)") -> None:
        """Change a pool's ``status`` and ``healthy`` as ``zpool status`` would show them.

        Args:
            pool: Pool name.
            status: ``ONLINE``, ``DEGRADED``, ``FAULTED``, ``OFFLINE``, ``UNAVAIL``...
            healthy: The pool's ``healthy`` flag.
            detail: The ``status_detail`` text.
        """
        def change(record: Record) -> None:
            record.update(status=status, healthy=healthy, warning=not healthy,
                          status_code="OK" if healthy else "DEGRADED",
                          status_detail=None if healthy else detail)

        self._change_pool(pool, change)
        if not healthy:
            # The middleware's VolumeStatus alert source (alert/source/volume_status.py)
            # reports an unhealthy pool as a CRITICAL "VolumeStatus" alert, so alert.list
            # subscribers see it too.
            args = {"volume": pool, "state": status, "status": detail, "devices": ""}
            raise_alert(self._rt, "VolumeStatus",
                        "Pool {volume} state is {state}: {status}{devices}".format(**args),
                        "CRITICAL", args)

    def disk_errors(self, disk: str, read: int = 0, write: int = 0, checksum: int = 0) -> None:
        """Set the error counters of a pool member disk (``zpool status`` columns).

        Args:
            disk: Device name, e.g. ``"sda"``.
            read: Read errors.
            write: Write errors.
            checksum: Checksum errors.

        Raises:
            KeyError: No pool uses that disk.
        """
        with self._rt.state.lock:
            owner = next((p["name"] for p in self._rt.state.tables["pool"].values()
                          if any(v.get("disk") == disk for v in _leaves(p["topology"]))), None)
        if owner is None:
            raise KeyError(f"no pool uses disk {disk!r}")

        def change(record: Record) -> None:
            for leaf in _leaves(record["topology"]):
                if leaf.get("disk") == disk:
                    leaf["stats"].update(read_errors=read, write_errors=write,
                                         checksum_errors=checksum)

        self._change_pool(owner, change)

    def last_scrub(self, pool: str, days_ago: float, state: str = "FINISHED") -> None:
        """Pretend the pool's last scrub ended ``days_ago`` days ago.

        Args:
            pool: Pool name.
            days_ago: Age of the scrub.
            state: The scan state (``FINISHED`` or ``CANCELED``).
        """
        ended = datetime.now(timezone.utc) - timedelta(days=days_ago)

        def change(record: Record) -> None:
            record["scan"] = {
                "function": "SCRUB", "state": state, "start_time": ended - timedelta(hours=1),
                "end_time": ended, "percentage": 100.0, "bytes_to_process": 0,
                "bytes_processed": 0, "bytes_issued": 0, "pause": None, "errors": 0,
                "total_secs_left": None,
            }

        self._change_pool(pool, change)

    def fill_dataset(self, dataset: str, quota: int, used: int) -> None:
        """Give a dataset a quota and a used size.

        Args:
            dataset: Full dataset name, e.g. ``"tank/media"``.
            quota: The quota in bytes.
            used: Bytes used.

        Raises:
            KeyError: No such dataset.
        """
        with self._rt.state.lock:
            record = self._rt.state.tables["pool.dataset"].get(dataset)
            if record is None:
                raise KeyError(f"no dataset {dataset!r}")
            record["quota"] = zfs_property(quota)
            record["used"] = zfs_property(used)
            fields = copy.deepcopy(record)
        self._rt.events.publish("pool.dataset.query", "CHANGED", item_id=dataset, fields=fields)

    def stop_service(self, service: str, enable: bool = True) -> None:
        """Stop a service (crashed, say) while it stays enabled to start on boot.

        Args:
            service: e.g. ``"cifs"``, ``"nfs"``, ``"ssh"``.
            enable: The ``enable`` flag to leave on it.

        Raises:
            KeyError: No such service.
        """
        with self._rt.state.lock:
            record = next((s for s in self._rt.state.tables["service"].values()
                           if s["service"] == service), None)
            if record is None:
                raise KeyError(f"no service {service!r}")
            record.update(enable=enable, state="STOPPED", pids=[])
            fields = copy.deepcopy(record)
        self._rt.events.publish("service.query", "CHANGED", item_id=fields["id"],
                                fields=fields)

    def fail_job(self, method: str = "pool.scrub", error: str = "Simulated job failure",
                 minutes_ago: float = 0.0) -> Job:
        """Record a job of ``method`` that ran and FAILED.

        Args:
            method: The job's method name.
            error: Its error message.
            minutes_ago: How long ago it finished.

        Returns:
            The failed job (``core.get_jobs`` lists it).
        """
        def body(job: Job) -> None:
            raise CallError(error, errno.EIO)

        job = self._rt.jobs.submit(method, [], body, inline=True)
        if minutes_ago:
            shift = timedelta(minutes=minutes_ago)
            job.time_started -= shift
            job.time_finished = (job.time_finished or datetime.now(timezone.utc)) - shift
        return job

    def _change_pool(self, pool: str, change: Callable[[Record], None]) -> None:
        with self._rt.state.lock:
            record = next((p for p in self._rt.state.tables["pool"].values()
                           if p["name"] == pool), None)
            if record is None:
                raise KeyError(f"no pool {pool!r}")
            change(record)
            fields = copy.deepcopy(record)
        # Published outside the lock: sending to sessions must not hold up the state.
        self._rt.events.publish("pool.query", "CHANGED", item_id=fields["id"], fields=fields)


def _leaves(topology: dict[str, Any]) -> list[dict[str, Any]]:
    """Every DISK vdev of a pool's topology, however deeply nested."""
    found: list[dict[str, Any]] = []
    stack = [vdev for vdevs in topology.values() for vdev in vdevs or []]
    while stack:
        vdev = stack.pop()
        if vdev.get("type") == "DISK":
            found.append(vdev)
        stack.extend(vdev.get("children") or [])
    return found
