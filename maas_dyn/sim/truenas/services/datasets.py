"""``pool.dataset.*``: filesystems and volumes (zvols) inside pools.

ZFS properties are objects ``{parsed, rawvalue, value, source, source_info}``; a property
set to ``INHERIT`` takes its parent's value with source INHERITED. Queries are flat by
default (every dataset, each with its children), hierarchical with
``extra.flat: false``, and without children with ``extra.retrieve_children: false``.
"""

from __future__ import annotations

import copy
import errno
import re
from datetime import datetime, timezone
from typing import Any

from maas_dyn.sim.truenas.exceptions import CallError, ValidationErrors
from maas_dyn.sim.truenas.filters import filter_list
from maas_dyn.sim.truenas.registry import Call, MethodTable
from maas_dyn.sim.truenas.services.crud import Resource

__all__ = ["make_dataset", "methods", "remove_pool_datasets"]

methods = MethodTable()
datasets = Resource("pool.dataset", "Dataset")
datasets.register(methods, "pool.dataset")

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_\-:. /]*$")
_INHERIT = "INHERIT"
_EMPTY_USED = 98304

# Property defaults of a new filesystem; a volume drops the filesystem-only ones.
_FILESYSTEM_DEFAULTS: dict[str, Any] = {
    "aclmode": "DISCARD", "acltype": "POSIX", "xattr": "SA", "atime": "OFF",
    "casesensitivity": "SENSITIVE", "checksum": "ON", "exec": "ON", "sync": "STANDARD",
    "compression": "LZ4", "compressratio": "1.00", "origin": "", "quota": 0, "refquota": 0,
    "reservation": 0, "refreservation": 0, "copies": 1, "snapdir": "HIDDEN",
    "readonly": "OFF", "recordsize": "128K", "deduplication": "OFF", "used": _EMPTY_USED,
    "usedbychildren": 0, "usedbydataset": _EMPTY_USED, "usedbyrefreservation": 0,
    "usedbysnapshots": 0, "available": 0, "special_small_block_size": 0, "pbkdf2iters": "0",
    "snapdev": "HIDDEN", "managedby": "", "comments": "", "quota_warning": 80,
    "quota_critical": 95, "refquota_warning": 80, "refquota_critical": 95,
    "key_format": "none", "encryption_algorithm": "off",
}
_FILESYSTEM_ONLY = ("aclmode", "acltype", "xattr", "atime", "casesensitivity", "exec",
                    "quota", "refquota", "snapdir", "recordsize", "special_small_block_size",
                    "quota_warning", "quota_critical", "refquota_warning",
                    "refquota_critical")
_VOLUME_ONLY = ("volsize", "volblocksize", "sparse")
# Inputs that are not ZFS properties.
_NOT_PROPERTIES = frozenset({"name", "type", "share_type", "encryption", "encryption_options",
                             "inherit_encryption", "user_properties", "create_ancestors",
                             "force_size", "user_properties_update", "force"})


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def zfs_property(value: Any, source: str = "LOCAL") -> dict[str, Any]:
    """Build a ZFS property object.

    Args:
        value: The value as the API takes it (e.g. ``"LZ4"``, ``1073741824``).
        source: ``LOCAL``, ``DEFAULT`` or ``INHERITED``.

    Returns:
        ``{parsed, rawvalue, value, source, source_info}``.
    """
    text = _text(value)
    parsed = value.lower() if isinstance(value, str) else value
    return {"parsed": parsed, "rawvalue": text.lower(), "value": text, "source": source,
            "source_info": None}


def _is_property(record: dict[str, Any], key: str) -> bool:
    return key not in _NOT_PROPERTIES and isinstance(record.get(key), dict) and \
        "parsed" in record[key]


def _parent(call: Call, name: str) -> dict[str, Any] | None:
    if "/" not in name:
        return None
    with call.rt.state.lock:
        found = call.rt.state.tables["pool.dataset"].get(name.rsplit("/", 1)[0])
        return copy.deepcopy(found)


def _apply(call: Call, record: dict[str, Any], data: dict[str, Any]) -> None:
    parent = _parent(call, record["name"])
    for key, value in data.items():
        if not _is_property(record, key):
            continue
        if value == _INHERIT and parent is not None and isinstance(parent.get(key), dict):
            record[key] = {**parent[key], "source": "INHERITED", "source_info": parent["name"]}
        elif value == _INHERIT:
            record[key]["source"] = "DEFAULT"
        else:
            record[key] = zfs_property(value)


def _pool_free(call: Call, pool: str) -> int:
    with call.rt.state.lock:
        found = next((p for p in call.rt.state.tables["pool"].values() if p["name"] == pool),
                     None)
        return int(found["free"] or 0) if found else 0


def make_dataset(call: Call, name: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Create and store a dataset, publishing ADDED on ``pool.dataset.query``.

    Args:
        call: The current call.
        name: Full name, e.g. ``"tank/media"`` (a pool's root dataset is ``"tank"``).
        kind: ``FILESYSTEM`` or ``VOLUME``.
        data: Properties from ``pool.dataset.create``.

    Returns:
        A copy of the stored record.
    """
    state = call.rt.state
    pool = name.split("/", 1)[0]
    record = state.record(
        "pool.dataset", id=name, type=kind, name=name, pool=pool, encrypted=False,
        encryption_root=None, key_loaded=False, children=[],
        user_properties=dict(data.get("user_properties") or {}), locked=False,
        mountpoint=f"/mnt/{name}" if kind == "FILESYSTEM" else None)
    defaults = dict(_FILESYSTEM_DEFAULTS, available=_pool_free(call, pool),
                    creation=int(datetime.now(timezone.utc).timestamp()))
    if kind == "VOLUME":
        for key in _FILESYSTEM_ONLY:
            defaults.pop(key, None)
            record.pop(key, None)
        defaults.update(volsize=data["volsize"], volblocksize=data.get("volblocksize", "16K"),
                        sparse=_text(bool(data.get("sparse"))))
    else:
        for key in _VOLUME_ONLY:
            record.pop(key, None)
    for key, value in defaults.items():
        if key in record or key in _VOLUME_ONLY:
            record[key] = zfs_property(value, "DEFAULT")
    _apply(call, record, {k: v for k, v in data.items() if k not in _VOLUME_ONLY})
    return datasets.store(call, name, record)


def remove_pool_datasets(call: Call, pool: str) -> None:
    """Forget every dataset and snapshot of a pool (export or destroy).

    Args:
        call: The current call.
        pool: Pool name.
    """
    with call.rt.state.lock:
        names = [n for n in call.rt.state.tables["pool.dataset"] if n.split("/", 1)[0] == pool]
        snapshots = [n for n in call.rt.state.tables["snapshot"]
                     if n.split("/", 1)[0].split("@", 1)[0] == pool]
        for snapshot in snapshots:
            del call.rt.state.tables["snapshot"][snapshot]
    for name in sorted(names, key=len, reverse=True):
        datasets.remove(call, name)


def _with_children(rows: list[dict[str, Any]], retrieve_children: bool
                   ) -> list[dict[str, Any]]:
    for row in rows:
        row["children"] = []
    if not retrieve_children:
        return rows
    by_name = {row["name"]: row for row in rows}
    # Deepest first, so that a child is complete before it is copied into its parent.
    for row in sorted(rows, key=lambda r: r["name"].count("/"), reverse=True):
        parent = by_name.get(row["name"].rsplit("/", 1)[0]) if "/" in row["name"] else None
        if parent is not None:
            parent["children"].insert(0, copy.deepcopy(row))
    return rows


@methods.method("pool.dataset.query")
def query(call: Call) -> Any:
    """Answer ``pool.dataset.query(filters, options)``."""
    filters, options = call.args[0], call.args[1]
    extra = options.get("extra") or {}
    rows = _with_children(call.rt.state.rows("pool.dataset"),
                          extra.get("retrieve_children", True))
    if not extra.get("flat", True):
        rows = [row for row in rows if "/" not in row["name"]]
    return filter_list(rows, filters, options)


def _check_create(call: Call, data: dict[str, Any]) -> None:
    name = str(data.get("name") or "")
    verrors = ValidationErrors()
    if "/" not in name:
        verrors.add("pool_dataset_create.name", "You need a full name, e.g. pool/newdataset")
    elif not _NAME.match(name) or "//" in name or name.endswith("/"):
        verrors.add("pool_dataset_create.name", "Invalid dataset name")
    elif name.endswith(" "):
        verrors.add("pool_dataset_create.name",
                    "Trailing spaces are not permitted in dataset names")
    else:
        parent_name = name.rsplit("/", 1)[0]
        parent = _parent(call, name)
        if parent is None:
            where = "zpool" if "/" not in parent_name else "Parent dataset"
            verrors.add("pool_dataset_create.name", f"{where} ({parent_name}) does not exist.")
        elif parent["type"] == "VOLUME":
            verrors.add("pool_dataset_create.name",
                        f"{parent_name}: parent may not be a ZFS volume")
        if name in call.rt.state.tables["pool.dataset"]:
            verrors.add("pool_dataset_create.name", f"Path /mnt/{name} already exists",
                        errno.EEXIST)
    verrors.check()


@methods.method("pool.dataset.create")
def create(call: Call) -> dict[str, Any]:
    """Answer ``pool.dataset.create(data)``."""
    data = call.args[0]
    _check_create(call, data)
    return make_dataset(call, data["name"], data.get("type") or "FILESYSTEM", data)


@methods.method("pool.dataset.update")
def update(call: Call) -> dict[str, Any]:
    """Answer ``pool.dataset.update(id, data)``."""
    name, data = call.args[0], call.args[1]
    with call.rt.state.lock:
        record = copy.deepcopy(call.rt.state.tables["pool.dataset"].get(name))
    if record is None:
        raise ValidationErrors([("id", f"{name} does not exist", errno.ENOENT)])
    if "volsize" in data and record["type"] == "VOLUME" \
            and data["volsize"] < record["volsize"]["parsed"]:
        raise ValidationErrors([("pool_dataset_update.volsize",
                                 "You cannot shrink a zvol from GUI, this may lead to data loss.",
                                 errno.EINVAL)])
    _apply(call, record, data)
    for update_ in data.get("user_properties_update") or []:
        if update_.get("remove"):
            record["user_properties"].pop(update_["key"], None)
        else:
            record["user_properties"][update_["key"]] = zfs_property(update_.get("value"))
    return datasets.store(call, name, record)


@methods.method("pool.dataset.delete")
def delete(call: Call) -> bool:
    """Answer ``pool.dataset.delete(id, {recursive, force})``."""
    name, options = call.args[0], call.args[1]
    datasets.find(call, name)
    with call.rt.state.lock:
        children = [n for n in call.rt.state.tables["pool.dataset"] if n.startswith(f"{name}/")]
    if children and not options["recursive"]:
        raise CallError(f"Failed to delete dataset: cannot destroy {name!r}: filesystem has "
                        "children", errno.ENOTEMPTY)
    if "/" not in name:
        raise CallError(f"{name!r}: the root dataset of a pool cannot be deleted; export the "
                        "pool", errno.EINVAL)
    with call.rt.state.lock:
        snapshots = [n for n in call.rt.state.tables["snapshot"]
                     if n.split("@", 1)[0] in {name, *children}]
        for snapshot in snapshots:
            del call.rt.state.tables["snapshot"][snapshot]
    for child in sorted(children, key=len, reverse=True):
        datasets.remove(call, child)
    datasets.remove(call, name)
    return True


@methods.method("pool.dataset.snapshot_count")
def snapshot_count(call: Call) -> int:
    """Answer ``pool.dataset.snapshot_count(dataset)``."""
    with call.rt.state.lock:
        return sum(1 for n in call.rt.state.tables["snapshot"]
                   if n.split("@", 1)[0] == call.args[0])


@methods.method("pool.dataset.compression_choices")
def compression_choices(call: Call) -> dict[str, str]:
    """Answer ``pool.dataset.compression_choices()``."""
    return {name: name for name in ("OFF", "LZ4", "GZIP", "GZIP-1", "GZIP-9", "ZSTD",
                                    "ZSTD-FAST", "ZLE", "LZJB")}


@methods.method("pool.dataset.checksum_choices")
def checksum_choices(call: Call) -> dict[str, str]:
    """Answer ``pool.dataset.checksum_choices()``."""
    return {name: name for name in ("ON", "FLETCHER2", "FLETCHER4", "SHA256", "SHA512",
                                    "SKEIN", "EDONR", "BLAKE3")}


@methods.method("pool.dataset.recordsize_choices")
def recordsize_choices(call: Call) -> list[str]:
    """Answer ``pool.dataset.recordsize_choices(pool_name)``."""
    return ["512", "512B", "1K", "2K", "4K", "8K", "16K", "32K", "64K", "128K", "256K", "512K",
            "1M", "2M", "4M", "8M", "16M"]
