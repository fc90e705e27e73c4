"""``pool.*`` and ``pool.scrub.*``: pools built from the simulated disks.

``pool.create`` is a job that validates the topology like the middleware (disks exist and
are free, enough disks per vdev type, one data vdev type), "formats" the disks with
progress, then creates the pool and its root dataset. Scrubs run as jobs that update the
pool's ``scan`` as they go.
"""

from __future__ import annotations

import copy
import errno
import re
from datetime import datetime, timezone
from typing import Any

from maas_dyn.sim.truenas.exceptions import CallError, ValidationErrors
from maas_dyn.sim.truenas.jobs import Job
from maas_dyn.sim.truenas.registry import Call, MethodTable
from maas_dyn.sim.truenas.services.crud import Resource
from maas_dyn.sim.truenas.services.datasets import make_dataset, remove_pool_datasets
from maas_dyn.sim.truenas.services.disks import disk_by_name, set_disk_pool

__all__ = ["human_size", "methods"]

methods = MethodTable()
pools = Resource("pool", "Pool")
pools.register(methods, "pool")
scrub_tasks = Resource("pool.scrub", "Pool Scrub Task")
scrub_tasks.register(methods, "pool.scrub")

# Fewest disks per vdev type, and parity disks (capacity lost) per vdev.
_MIN_DISKS = {"STRIPE": 1, "MIRROR": 2, "DRAID1": 2, "DRAID2": 3, "DRAID3": 4,
              "RAIDZ1": 3, "RAIDZ2": 4, "RAIDZ3": 5}
_PARITY = {"RAIDZ1": 1, "RAIDZ2": 2, "RAIDZ3": 3, "DRAID1": 1, "DRAID2": 2, "DRAID3": 3}
_POOL_NAME = re.compile(r"^[a-zA-Z]([a-zA-Z0-9_\-:.]|\s)*$")
_RESERVED_NAMES = re.compile(r"^(mirror|raidz\d?|draid\d?|spare|log|cache|special|dedup|c\d.*)$")
_TOPOLOGY_KINDS = ("data", "log", "cache", "spare", "special", "dedup")
_SCRUB_SECONDS = 20.0
_SCRUB_STEPS = 10
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(size: float) -> str:
    """Format a byte count the way the middleware's ``*_str`` fields do.

    Args:
        size: Bytes.

    Returns:
        e.g. ``"3.62 TiB"``.
    """
    unit = 0
    while size >= 1024 and unit < len(_UNITS) - 1:
        size /= 1024
        unit += 1
    return f"{size:.2f} {_UNITS[unit]}" if unit else f"{int(size)} B"


def _guid(call: Call) -> str:
    return str(call.rt.rng.getrandbits(63))


def _stats(size: int) -> dict[str, Any]:
    return {"timestamp": 0, "read_errors": 0, "write_errors": 0, "checksum_errors": 0,
            "ops": [0] * 7, "bytes": [0] * 7, "size": size, "allocated": 0,
            "fragmentation": 0, "self_healed": 0, "configured_ashift": 12,
            "logical_ashift": 12, "physical_ashift": 12}


def _disk_vdev(call: Call, disk: dict[str, Any]) -> dict[str, Any]:
    partuuid = f"{call.rt.rng.getrandbits(128):032x}"
    partuuid = "-".join((partuuid[:8], partuuid[8:12], partuuid[12:16], partuuid[16:20],
                         partuuid[20:]))
    return {"name": partuuid, "type": "DISK", "path": f"/dev/disk/by-partuuid/{partuuid}",
            "guid": _guid(call), "status": "ONLINE", "stats": _stats(disk["size"] or 0),
            "children": [], "device": f"{disk['name']}1", "disk": disk["name"],
            "unavail_disk": None}


def _vdev_capacity(vdev_type: str, sizes: list[int]) -> int:
    if vdev_type == "STRIPE":
        return sum(sizes)
    if vdev_type == "MIRROR":
        return min(sizes)
    return min(sizes) * (len(sizes) - _PARITY[vdev_type])


def _topology(call: Call, topology: dict[str, Any]) -> tuple[dict[str, list[Any]], int]:
    """Build the pool's ``topology`` and its data capacity."""
    built: dict[str, list[Any]] = {kind: [] for kind in _TOPOLOGY_KINDS}
    capacity = 0
    for kind in _TOPOLOGY_KINDS:
        vdevs = topology.get("spares" if kind == "spare" else kind) or []
        if kind == "spare":
            vdevs = [{"type": "STRIPE", "disks": vdevs}] if vdevs else []
        for index, vdev in enumerate(vdevs):
            disks = [disk_by_name(call.rt.state, name) for name in vdev["disks"]]
            members = [_disk_vdev(call, d) for d in disks if d is not None]
            sizes = [d["size"] or 0 for d in disks if d is not None]
            if kind == "data":
                capacity += _vdev_capacity(vdev["type"], sizes)
            if vdev["type"] == "STRIPE":
                built[kind].extend(members)
                continue
            built[kind].append({
                "name": f"{vdev['type'].lower()}-{index}", "type": vdev["type"], "path": None,
                "guid": _guid(call), "status": "ONLINE", "stats": _stats(sum(sizes)),
                "children": members, "unavail_disk": None})
    return built, capacity


def _check_topology(call: Call, data: dict[str, Any]) -> ValidationErrors:
    verrors = ValidationErrors()
    topology = data["topology"]
    named: list[str] = list(topology.get("spares") or [])
    for kind in ("data", "special", "dedup", "cache", "log"):
        last_type = None
        for index, vdev in enumerate(topology.get(kind) or []):
            named.extend(vdev["disks"])
            minimum = _MIN_DISKS[vdev["type"]]
            if kind in ("data", "special", "dedup") and len(vdev["disks"]) < minimum:
                verrors.add(f"pool_create.topology.{kind}.{index}.disks",
                            f"You need at least {minimum} disk(s) for this vdev type.")
            if kind in ("data", "special", "dedup") and last_type not in (None, vdev["type"]):
                verrors.add(f"pool_create.topology.{kind}.{index}.type",
                            f"You are not allowed to create a pool with different {kind} vdev "
                            f"types ({last_type} and {vdev['type']}).")
            last_type = vdev["type"]
    for kind in ("cache", "log"):
        if len(topology.get(kind) or []) > 1:
            verrors.add(f"pool_create.topology.{kind}",
                        f"Only one row for the virtual device of type {kind} is allowed.")
    known = {d["name"]: d for d in call.rt.state.rows("disk")}
    missing = sorted({n for n in named if n not in known})
    if missing:
        verrors.add("pool_create.topology",
                    f"The following disks were not found in system: {','.join(missing)}.")
    used = sorted({n for n in named if n in known and known[n]["pool"]})
    repeated = sorted({n for n in named if named.count(n) > 1})
    if used or repeated:
        verrors.add("pool_create.topology",
                    f"The following disks are already in use: {','.join(used or repeated)}.")
    return verrors


def _check_name(name: str, schema: str) -> ValidationErrors:
    verrors = ValidationErrors()
    if not _POOL_NAME.match(name) or _RESERVED_NAMES.match(name):
        verrors.add(f"{schema}.name", "Invalid pool name", errno.EINVAL)
    return verrors


def pool_by_name(call: Call, name: str) -> dict[str, Any] | None:
    """Find a pool by name.

    Args:
        call: The current call.
        name: Pool name.

    Returns:
        A copy of the record, or ``None``.
    """
    return next((p for p in call.rt.state.rows("pool") if p["name"] == name), None)


@methods.method("pool.create", lock="pool_createupdate")
def create(call: Call) -> dict[str, Any]:
    """Run ``pool.create(data)`` as a job."""
    data = call.args[0]
    if pool_by_name(call, data["name"]) is not None:
        verrors = ValidationErrors([("pool_create.name", "A pool with this name already exists.",
                                     errno.EEXIST)])
    else:
        verrors = _check_name(data["name"], "pool_create")
    for problem in _check_topology(call, data):
        verrors.add(*problem)
    verrors.check()
    disks = [n for kind in ("data", "special", "dedup", "cache", "log")
             for vdev in data["topology"].get(kind) or [] for n in vdev["disks"]]
    disks += list(data["topology"].get("spares") or [])
    for index in range(len(disks)):
        call.step(30 * index / len(disks), f"Formatting disks ({index + 1}/{len(disks)})", 0.5)
    call.step(90, "Creating ZFS Pool", 2.0)
    call.progress(95, "Setting pool options")
    topology, capacity = _topology(call, data["topology"])
    state = call.rt.state
    with state.lock:
        pool_id = state.next_id("pool")
        record = state.record(
            "pool", id=pool_id, name=data["name"], guid=_guid(call), status="ONLINE",
            path=f"/mnt/{data['name']}", scan=None, expand=None, is_upgraded=True, healthy=True,
            warning=False, status_code="OK", status_detail=None, size=capacity, allocated=0,
            free=capacity, freeing=0, dedup_table_size=0, dedup_table_quota="auto",
            fragmentation="0", size_str=human_size(capacity), allocated_str=human_size(0),
            free_str=human_size(capacity), freeing_str=human_size(0),
            autotrim={"parsed": "off", "rawvalue": "off", "source": "DEFAULT", "value": "off"},
            topology=topology)
    set_disk_pool(call, disks, data["name"])
    make_dataset(call, data["name"], "FILESYSTEM", {"compression": "LZ4"})
    return pools.store(call, pool_id, record)


@methods.method("pool.export")
def export(call: Call) -> None:
    """Run ``pool.export(id, options)`` as a job: the pool, its datasets and shares go."""
    pool = pools.find(call, call.args[0])
    call.step(10, "Exporting pool", 1.0)
    remove_pool_datasets(call, pool["name"])
    set_disk_pool(call, [d["name"] for d in call.rt.state.rows("disk")
                         if d["pool"] == pool["name"]], None)
    call.step(90, "Removing pool from the database", 0.5)
    pools.remove(call, pool["id"])


@methods.method("pool.get_disks")
def get_disks(call: Call) -> list[str]:
    """Answer ``pool.get_disks(id)``: device names of one pool or of all pools."""
    wanted = None
    if call.args[0] is not None:
        wanted = pools.find(call, call.args[0])["name"]
    return [d["name"] for d in call.rt.state.rows("disk")
            if d["pool"] and (wanted is None or d["pool"] == wanted)]


@methods.method("pool.validate_name")
def validate_name(call: Call) -> bool:
    """Answer ``pool.validate_name(name)``: true, or the name's validation error."""
    _check_name(str(call.args[0] or ""), "pool_create").check()
    return True


@methods.method("pool.filesystem_choices")
def filesystem_choices(call: Call) -> list[str]:
    """Answer ``pool.filesystem_choices(types)``: dataset names of the wanted types."""
    types = call.args[0] if call.args else ["FILESYSTEM", "VOLUME"]
    return [d["name"] for d in call.rt.state.rows("pool.dataset") if d["type"] in types]


@methods.method("pool.is_upgraded")
def is_upgraded(call: Call) -> bool:
    """Answer ``pool.is_upgraded(id)``."""
    return bool(pools.find(call, call.args[0])["is_upgraded"])


def _set_scan(call: Call, pool_id: int, **scan: Any) -> None:
    with call.rt.state.lock:
        record = call.rt.state.tables["pool"].get(pool_id)
        if record is None:
            return
        base = record["scan"] or {}
        record["scan"] = {**base, **scan}
        updated = copy.deepcopy(record)
    call.publish("pool.query", "CHANGED", pool_id, updated)


def _scrub(call: Call, pool: dict[str, Any]) -> None:
    now = datetime.now(timezone.utc)
    total = pool["allocated"] or 0
    _set_scan(call, pool["id"], function="SCRUB", state="SCANNING", start_time=now,
              end_time=None, percentage=0.0, bytes_to_process=total, bytes_processed=0,
              bytes_issued=0, pause=None, errors=0, total_secs_left=int(_SCRUB_SECONDS))
    try:
        for step in range(_SCRUB_STEPS):
            percent = 100 * step / _SCRUB_STEPS
            call.step(percent, f"Scrubbing {pool['name']}", _SCRUB_SECONDS / _SCRUB_STEPS)
            _set_scan(call, pool["id"], percentage=percent,
                      total_secs_left=int(_SCRUB_SECONDS * (1 - step / _SCRUB_STEPS)))
    except BaseException:
        _set_scan(call, pool["id"], state="CANCELED", end_time=datetime.now(timezone.utc))
        raise
    _set_scan(call, pool["id"], state="FINISHED", percentage=100.0, total_secs_left=None,
              bytes_processed=total, end_time=datetime.now(timezone.utc))


def _running_scrubs(call: Call, pool_id: int) -> list[Job]:
    by_id = [job for job in call.rt.jobs.active("pool.scrub")
             if job.arguments[:2] == [pool_id, "START"]]
    by_name = [job for job in call.rt.jobs.active("pool.scrub.scrub")
               if job.arguments[1:2] in ([], ["START"])
               and (pool := pool_by_name(call, job.arguments[0])) is not None
               and pool["id"] == pool_id]
    return [job for job in by_id + by_name if job is not call.job]


@methods.method("pool.scrub", abortable=True)
def scrub(call: Call) -> None:
    """Run ``pool.scrub(id, action)`` as a job: START scrubs, STOP and PAUSE end a scrub."""
    pool = pools.find(call, call.args[0])
    if call.args[1] == "START":
        _scrub(call, pool)
        return
    for job in _running_scrubs(call, pool["id"]):
        call.rt.jobs.abort(job)
    if call.args[1] == "PAUSE":
        _set_scan(call, pool["id"], pause=datetime.now(timezone.utc))


@methods.method("pool.scrub.scrub", abortable=True)
def scrub_by_name(call: Call) -> None:
    """Run ``pool.scrub.scrub(name, action)`` as a job (25.10+; ``plugins/pool_/scrub.py``).

    The same actions as ``pool.scrub(id, action)``, on a pool named rather than numbered;
    START follows the scrub until it finishes, as the middleware's job polls
    ``zfs.pool.scrub_state``.
    """
    pool = pool_by_name(call, call.args[0])
    if pool is None:
        raise CallError(f"{call.args[0]!r} pool not found", errno.ENOENT)
    action = call.arg(1, "START")
    if action == "START":
        _scrub(call, pool)
        call.progress(100, "Scrub finished")
        return
    for job in _running_scrubs(call, pool["id"]):
        call.rt.jobs.abort(job)
    if action == "PAUSE":
        _set_scan(call, pool["id"], pause=datetime.now(timezone.utc))
        call.progress(100, "Scrub paused")


@methods.method("pool.scrub.run")
def scrub_run(call: Call) -> None:
    """Answer ``pool.scrub.run(name, threshold)``: start a scrub job and return."""
    pool = pool_by_name(call, call.args[0])
    if pool is None:
        raise CallError(f"{call.args[0]!r} pool not found", errno.ENOENT)
    credentials = call.session.credentials.dump() if call.session.credentials else None

    def body(job: Job) -> None:
        _scrub(Call(call.rt, call.session, "pool.scrub", [pool["id"], "START"],
                    call.dispatcher, job), pool)

    call.rt.jobs.submit("pool.scrub", [pool["id"], "START"], body, credentials=credentials,
                        abortable=True)


@methods.method("pool.scrub.create")
def scrub_create(call: Call) -> dict[str, Any]:
    """Answer ``pool.scrub.create(data)``: a periodic scrub task."""
    data = call.args[0]
    pool = pools.find(call, data["pool"])
    if any(t["pool"] == data["pool"] for t in call.rt.state.rows("pool.scrub")):
        raise ValidationErrors([("pool_scrub_create.pool",
                                 "A scrub with this pool already exists", errno.EEXIST)])
    task_id = call.rt.state.next_id("pool.scrub")
    record = call.rt.state.record("pool.scrub", **{"description": "", **data, "id": task_id,
                                                   "pool_name": pool["name"]})
    return scrub_tasks.store(call, task_id, record)


@methods.method("pool.scrub.update")
def scrub_update(call: Call) -> dict[str, Any]:
    """Answer ``pool.scrub.update(id, data)``."""
    record = scrub_tasks.find(call, call.args[0])
    record.update(call.args[1])
    if "pool" in call.args[1]:
        record["pool_name"] = pools.find(call, call.args[1]["pool"])["name"]
    return scrub_tasks.store(call, call.args[0], record)


@methods.method("pool.scrub.delete")
def scrub_delete(call: Call) -> bool:
    """Answer ``pool.scrub.delete(id)``."""
    scrub_tasks.remove(call, call.args[0])
    return True
