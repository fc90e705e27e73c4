"""Snapshots: ``pool.snapshot.*`` (25.10 and later) or ``zfs.snapshot.*`` (25.04).

Both names are registered; the served release decides which exist. Records are shaped
from whichever ``get_instance`` the release documents.
"""

from __future__ import annotations

import copy
import errno
from datetime import datetime, timezone
from typing import Any

from maas_dyn.sim.truenas.exceptions import CallError, ValidationErrors
from maas_dyn.sim.truenas.registry import Call, MethodTable
from maas_dyn.sim.truenas.services.crud import Resource, namespace_of
from maas_dyn.sim.truenas.services.datasets import make_dataset, zfs_property

__all__ = ["methods"]

methods = MethodTable()
_NAMESPACES = ("pool.snapshot", "zfs.snapshot")
snapshots = Resource("snapshot", "Snapshot")
snapshots.register(methods, *_NAMESPACES)


def _make(call: Call, dataset: str, name: str) -> dict[str, Any]:
    state = call.rt.state
    snapshot_id = f"{dataset}@{name}"
    txg = str(state.next_id("txg") + 1000)
    properties: dict[str, dict[str, Any]] = {
        key: {"value": value, "rawvalue": value, "source": "NONE", "parsed": value}
        for key, value in (("createtxg", txg), ("used", "0"), ("referenced", "96K"))}
    properties["creation"] = {"value": datetime.now(timezone.utc).isoformat(),
                              "rawvalue": str(int(datetime.now(timezone.utc).timestamp())),
                              "source": "NONE", "parsed": datetime.now(timezone.utc)}
    record = state.record(namespace_of(call.method), id=snapshot_id, properties=properties,
                          pool=dataset.split("/", 1)[0], name=snapshot_id, type="SNAPSHOT",
                          snapshot_name=name, dataset=dataset, createtxg=txg, holds={},
                          retention=None)
    return snapshots.store(call, snapshot_id, record)


@methods.method("pool.snapshot.create", "zfs.snapshot.create")
def create(call: Call) -> dict[str, Any]:
    """Answer ``<ns>.snapshot.create(data)``; ``recursive`` snapshots the children too."""
    data = call.args[0]
    dataset = data.get("dataset") or ""
    name = data.get("name") or datetime.now(timezone.utc).strftime(
        data.get("naming_schema") or "auto-%Y-%m-%d_%H-%M")
    with call.rt.state.lock:
        names = list(call.rt.state.tables["pool.dataset"])
        taken = f"{dataset}@{name}" in call.rt.state.tables["snapshot"]
    if dataset not in names:
        raise ValidationErrors([("snapshot_create.dataset", f"{dataset!r} dataset not found",
                                 errno.ENOENT)])
    if taken:
        raise CallError(f"Failed to snapshot {dataset}@{name}: dataset already exists",
                        errno.EEXIST)
    targets = [dataset]
    if data.get("recursive"):
        excluded = set(data.get("exclude") or [])
        targets += [n for n in names if n.startswith(f"{dataset}/") and n not in excluded]
    created = [_make(call, target, name) for target in targets]
    return created[0]


@methods.method("pool.snapshot.delete", "zfs.snapshot.delete")
def delete(call: Call) -> bool:
    """Answer ``<ns>.snapshot.delete(id, options)``."""
    snapshot_id = call.args[0]
    options = call.arg(1) or {}
    snapshots.find(call, snapshot_id)
    dataset, _, name = snapshot_id.partition("@")
    victims = [snapshot_id]
    if options.get("recursive"):
        with call.rt.state.lock:
            victims += [n for n in call.rt.state.tables["snapshot"]
                        if n.startswith(f"{dataset}/") and n.endswith(f"@{name}")]
    for victim in victims:
        snapshots.remove(call, victim)
    return True


@methods.method("pool.snapshot.rollback", "zfs.snapshot.rollback")
def rollback(call: Call) -> None:
    """Answer ``<ns>.snapshot.rollback(id, options)``; newer snapshots need ``recursive``."""
    snapshot = snapshots.find(call, call.args[0])
    options = call.arg(1) or {}
    newer = [row["id"] for row in call.rt.state.rows("snapshot")
             if row["dataset"] == snapshot["dataset"]
             and int(row["createtxg"]) > int(snapshot["createtxg"])]
    if newer and not options.get("recursive"):
        raise CallError(f"Failed to rollback snapshot: cannot rollback to {snapshot['id']!r}: "
                        "more recent snapshots or bookmarks exist", errno.EEXIST)
    for victim in newer:
        snapshots.remove(call, victim)


@methods.method("pool.snapshot.clone", "zfs.snapshot.clone")
def clone(call: Call) -> bool:
    """Answer ``<ns>.snapshot.clone({snapshot, dataset_dst, dataset_properties})``."""
    data = call.args[0]
    snapshot = snapshots.find(call, data.get("snapshot"))
    with call.rt.state.lock:
        source = copy.deepcopy(call.rt.state.tables["pool.dataset"].get(snapshot["dataset"]))
        exists = data.get("dataset_dst") in call.rt.state.tables["pool.dataset"]
    if exists or source is None:
        raise CallError(f"Failed to clone snapshot: dataset {data['dataset_dst']!r} already "
                        "exists", errno.EEXIST)
    properties = dict(data.get("dataset_properties") or {})
    if source["type"] == "VOLUME":
        properties.setdefault("volsize", source["volsize"]["parsed"])
    clone_ = make_dataset(call, data["dataset_dst"], source["type"], properties)
    clone_["origin"] = zfs_property(snapshot["id"])
    with call.rt.state.lock:
        call.rt.state.tables["pool.dataset"][clone_["id"]]["origin"] = clone_["origin"]
    return True


def _set_holds(call: Call, holds: dict[str, Any]) -> None:
    record = snapshots.find(call, call.args[0])
    record["holds"] = holds
    snapshots.store(call, record["id"], record)


@methods.method("pool.snapshot.hold", "zfs.snapshot.hold")
def hold(call: Call) -> None:
    """Answer ``<ns>.snapshot.hold(id, options)``."""
    _set_holds(call, {"truenas": 1})


@methods.method("pool.snapshot.release", "zfs.snapshot.release")
def release(call: Call) -> None:
    """Answer ``<ns>.snapshot.release(id, options)``."""
    _set_holds(call, {})
