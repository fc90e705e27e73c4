"""``sharing.smb.*`` and ``sharing.nfs.*``: shares of dataset mount points."""

from __future__ import annotations

import errno
from typing import Any

from maas_dyn.sim.truenas.exceptions import ValidationErrors
from maas_dyn.sim.truenas.registry import Call, MethodTable
from maas_dyn.sim.truenas.services.crud import Resource

__all__ = ["methods"]

methods = MethodTable()
smb = Resource("sharing.smb", "SMB Share")
smb.register(methods, "sharing.smb")
nfs = Resource("sharing.nfs", "NFS Share")
nfs.register(methods, "sharing.nfs")

_EXTERNAL = "EXTERNAL"


def _path_problem(call: Call, path: str) -> str | None:
    if path == _EXTERNAL:
        return None
    if not path.startswith("/mnt/"):
        return "Path must reside within a pool mount point"
    mounted = {d["mountpoint"] for d in call.rt.state.rows("pool.dataset") if d["mountpoint"]}
    if not any(path == m or path.startswith(f"{m}/") for m in mounted):
        return "Path does not exist"
    return None


def _validate(call: Call, resource: Resource, schema: str, data: dict[str, Any],
              share_id: int | None) -> None:
    verrors = ValidationErrors()
    others = [s for s in call.rt.state.rows(resource.table) if s["id"] != share_id]
    if "path" in data and (problem := _path_problem(call, data["path"])):
        verrors.add(f"{schema}.path", problem, errno.ENOENT)
    if resource is smb and "name" in data and any(
            s["name"].lower() == data["name"].lower() for s in others):
        verrors.add(f"{schema}.name", "Share with this name already exists.", errno.EEXIST)
    if resource is nfs and "path" in data and any(s["path"] == data["path"] for s in others):
        verrors.add(f"{schema}.path", "Export with this path already exists.", errno.EEXIST)
    verrors.check()


def _create(call: Call, resource: Resource, schema: str) -> dict[str, Any]:
    data = dict(call.args[0])
    _validate(call, resource, schema, data, None)
    share_id = call.rt.state.next_id(resource.table)
    record = call.rt.state.record(resource.table, **{**data, "id": share_id, "locked": False})
    return resource.store(call, share_id, record)


def _update(call: Call, resource: Resource, schema: str) -> dict[str, Any]:
    share_id, data = call.args[0], call.args[1]
    record = resource.find(call, share_id)
    _validate(call, resource, schema, data, share_id)
    record.update(data)
    return resource.store(call, share_id, record)


@methods.method("sharing.smb.create")
def smb_create(call: Call) -> dict[str, Any]:
    """Answer ``sharing.smb.create(data)``."""
    return _create(call, smb, "sharingsmb_create")


@methods.method("sharing.smb.update")
def smb_update(call: Call) -> dict[str, Any]:
    """Answer ``sharing.smb.update(id, data)``."""
    return _update(call, smb, "sharingsmb_update")


@methods.method("sharing.smb.delete")
def smb_delete(call: Call) -> bool:
    """Answer ``sharing.smb.delete(id)``."""
    smb.remove(call, call.args[0])
    return True


@methods.method("sharing.nfs.create")
def nfs_create(call: Call) -> dict[str, Any]:
    """Answer ``sharing.nfs.create(data)``."""
    return _create(call, nfs, "sharingnfs_create")


@methods.method("sharing.nfs.update")
def nfs_update(call: Call) -> dict[str, Any]:
    """Answer ``sharing.nfs.update(id, data)``."""
    return _update(call, nfs, "sharingnfs_update")


@methods.method("sharing.nfs.delete")
def nfs_delete(call: Call) -> bool:
    """Answer ``sharing.nfs.delete(id)``."""
    nfs.remove(call, call.args[0])
    return True
