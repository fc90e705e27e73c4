"""Disks, pools, scrubs, datasets, zvols and snapshots."""

from __future__ import annotations

from typing import Any

import pytest

from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.sim.truenas.services.pools import human_size

from .conftest import RpcClient


def _pool(admin: RpcClient, name: str, vdev_type: str, disks: list[str],
          **topology: Any) -> dict[str, Any]:
    job_id = admin.call("pool.create", {"name": name, "topology": {
        "data": [{"type": vdev_type, "disks": disks}], **topology}})
    return admin.wait_job(job_id)


def test_seeded_disks(admin: RpcClient) -> None:
    disks = admin.call("disk.query", [], {"order_by": ["name"]})
    assert [d["name"] for d in disks] == [f"sd{c}" for c in "abcdefgh"]
    assert all(d["pool"] is None and "passwd" not in d for d in disks)
    assert disks[0]["size"] == 4 * 1000**4 and disks[6]["type"] == "SSD"
    identifier = disks[0]["identifier"]
    updated = admin.call("disk.update", identifier, {"hddstandby": "30", "passwd": "s"})
    assert updated["hddstandby"] == "30" and "passwd" not in updated
    assert admin.call("disk.get_instance", identifier)["hddstandby"] == "30"


@pytest.mark.parametrize(("vdev_type", "disks", "size"), [
    ("STRIPE", ["sda", "sde"], 12 * 1000**4),
    ("MIRROR", ["sde", "sdf"], 8 * 1000**4),
    ("RAIDZ1", ["sda", "sdb", "sdc"], 8 * 1000**4),
    ("RAIDZ2", ["sda", "sdb", "sdc", "sdd"], 8 * 1000**4),
    ("RAIDZ3", ["sda", "sdb", "sdc", "sdd", "sde"], 8 * 1000**4),
])
def test_pool_layouts(admin: RpcClient, vdev_type: str, disks: list[str], size: int) -> None:
    job = _pool(admin, "tank", vdev_type, disks)
    assert job["state"] == "SUCCESS", job["error"]
    pool = admin.call("pool.query", [["name", "=", "tank"]], {"get": True})
    assert pool["size"] == size and pool["size_str"] == human_size(size)
    assert pool["status"] == "ONLINE" and pool["healthy"] is True
    data = pool["topology"]["data"]
    if vdev_type == "STRIPE":
        assert [v["disk"] for v in data] == disks
    else:
        assert data[0]["type"] == vdev_type
        assert [c["disk"] for c in data[0]["children"]] == disks
    assert sorted(admin.call("pool.get_disks", pool["id"])) == sorted(disks)
    assert admin.call("pool.get_disks") == sorted(disks)
    used = admin.call("disk.query", [["pool", "=", "tank"]], {"select": ["name"]})
    assert sorted(d["name"] for d in used) == sorted(disks)
    assert admin.call("pool.dataset.query", [["id", "=", "tank"]], {"get": True})[
        "mountpoint"] == "/mnt/tank"


def test_pool_with_auxiliary_vdevs(admin: RpcClient) -> None:
    job = _pool(admin, "tank", "MIRROR", ["sda", "sdb"], cache=[{"type": "STRIPE",
                                                                  "disks": ["sdg"]}],
                log=[{"type": "MIRROR", "disks": ["sdh", "sdc"]}], spares=["sdd"])
    assert job["state"] == "SUCCESS", job["error"]
    topology = job["result"]["topology"]
    assert [v["disk"] for v in topology["cache"]] == ["sdg"]
    assert topology["log"][0]["type"] == "MIRROR"
    assert [v["disk"] for v in topology["spare"]] == ["sdd"]
    assert job["result"]["size"] == 4 * 1000**4


@pytest.mark.parametrize(("data", "expected"), [
    ({"name": "tank", "topology": {"data": [{"type": "MIRROR", "disks": ["sda"]}]}},
     [["pool_create.topology.data.0.disks", "You need at least 2 disk(s) for this vdev type.",
       22]]),
    ({"name": "tank", "topology": {"data": [{"type": "MIRROR", "disks": ["sda", "sdb"]},
                                            {"type": "STRIPE", "disks": ["sdc"]}]}},
     [["pool_create.topology.data.1.type", "You are not allowed to create a pool with "
       "different data vdev types (MIRROR and STRIPE).", 22]]),
    ({"name": "tank", "topology": {"data": [{"type": "STRIPE", "disks": ["sdz"]}]}},
     [["pool_create.topology", "The following disks were not found in system: sdz.", 22]]),
    ({"name": "tank", "topology": {"data": [{"type": "MIRROR", "disks": ["sda", "sda"]}]}},
     [["pool_create.topology", "The following disks are already in use: sda.", 22]]),
    ({"name": "tank", "topology": {"data": [{"type": "STRIPE", "disks": ["sda"]}],
                                   "log": [{"type": "STRIPE", "disks": ["sdb"]},
                                           {"type": "STRIPE", "disks": ["sdc"]}]}},
     [["pool_create.topology.log", "Only one row for the virtual device of type log is "
       "allowed.", 22]]),
    ({"name": "mirror", "topology": {"data": [{"type": "STRIPE", "disks": ["sda"]}]}},
     [["pool_create.name", "Invalid pool name", 22]]),
])
def test_pool_validation(admin: RpcClient, data: dict[str, Any],
                         expected: list[list[Any]]) -> None:
    job = admin.wait_job(admin.call("pool.create", data))
    assert job["state"] == "FAILED" and job["exc_info"]["extra"] == expected


def test_pool_names(admin: RpcClient) -> None:
    assert admin.call("pool.validate_name", "tank") is True
    assert admin.error("pool.validate_name", "1tank")["data"]["extra"] == [
        ["pool_create.name", "Invalid pool name", 22]]
    _pool(admin, "tank", "STRIPE", ["sda"])
    job = _pool(admin, "tank", "STRIPE", ["sdb"])
    assert job["exc_info"]["extra"][0][:2] == ["pool_create.name",
                                               "A pool with this name already exists."]


def test_pool_creations_take_turns(admin: RpcClient) -> None:
    first = admin.call("pool.create", {"name": "tank", "topology": {
        "data": [{"type": "STRIPE", "disks": ["sda"]}]}})
    second = admin.call("pool.create", {"name": "tank", "topology": {
        "data": [{"type": "STRIPE", "disks": ["sdb"]}]}})
    states = sorted([admin.wait_job(first)["state"], admin.wait_job(second)["state"]])
    assert states == ["FAILED", "SUCCESS"]


def test_export_frees_everything(sim: TrueNASSimulator, admin: RpcClient) -> None:
    pool = _pool(admin, "tank", "MIRROR", ["sda", "sdb"])["result"]
    admin.call("pool.dataset.create", {"name": "tank/media"})
    admin.call("pool.snapshot.create", {"dataset": "tank/media", "name": "s1"})
    job = admin.wait_job(admin.call("pool.export", pool["id"]))
    assert job["state"] == "SUCCESS"
    assert admin.call("pool.query") == []
    assert admin.call("pool.dataset.query") == []
    assert admin.call("pool.snapshot.query") == []
    assert admin.call("disk.query", [["pool", "!=", None]]) == []


def test_scrubs(sim: TrueNASSimulator, admin: RpcClient) -> None:
    pool = _pool(admin, "tank", "MIRROR", ["sda", "sdb"])["result"]
    assert admin.call("pool.is_upgraded", pool["id"]) is True
    admin.call("core.subscribe", "pool.query")
    job = admin.wait_job(admin.call("pool.scrub", pool["id"], "START"))
    assert job["state"] == "SUCCESS"
    scan = admin.call("pool.get_instance", pool["id"])["scan"]
    assert (scan["function"], scan["state"], scan["percentage"]) == ("SCRUB", "FINISHED", 100.0)
    assert admin.next_event("pool.query")["fields"]["scan"]["state"] == "SCANNING"
    assert admin.call("pool.scrub.run", "tank") is None
    running = next(j for j in admin.call("core.get_jobs", [["method", "=", "pool.scrub"]])
                   if j["state"] != "SUCCESS")
    stop = admin.wait_job(admin.call("pool.scrub", pool["id"], "STOP"))
    assert stop["state"] == "SUCCESS"
    assert admin.wait_job(running["id"])["state"] in ("ABORTED", "SUCCESS")
    admin.wait_job(admin.call("pool.scrub", pool["id"], "PAUSE"))
    assert admin.call("pool.get_instance", pool["id"])["scan"]["pause"] is not None
    assert admin.error("pool.scrub.run", "nope")["data"]["reason"] == (
        "[ENOENT] 'nope' pool not found")


def test_scrub_tasks(admin: RpcClient) -> None:
    pool = _pool(admin, "tank", "STRIPE", ["sda"])["result"]
    task = admin.call("pool.scrub.create", {"pool": pool["id"]})
    assert (task["pool_name"], task["threshold"], task["enabled"]) == ("tank", 35, True)
    assert admin.error("pool.scrub.create", {"pool": pool["id"]})["data"]["extra"][0][1] == (
        "A scrub with this pool already exists")
    updated = admin.call("pool.scrub.update", task["id"], {"threshold": 7, "pool": pool["id"]})
    assert updated["threshold"] == 7
    assert admin.call("pool.scrub.query", [], {"count": True}) == 1
    assert admin.call("pool.scrub.delete", task["id"]) is True


def test_datasets(admin: RpcClient) -> None:
    _pool(admin, "tank", "MIRROR", ["sda", "sdb"])
    media = admin.call("pool.dataset.create", {"name": "tank/media", "compression": "ZSTD"})
    assert media["compression"]["value"] == "ZSTD" and media["compression"]["source"] == "LOCAL"
    assert media["sync"]["source"] == "INHERITED" and media["sync"]["source_info"] == "tank"
    assert media["mountpoint"] == "/mnt/tank/media" and "volsize" not in media
    admin.call("pool.dataset.create", {"name": "tank/media/photos"})
    flat = admin.call("pool.dataset.query", [], {"select": ["id", "children"]})
    assert [d["id"] for d in flat] == ["tank", "tank/media", "tank/media/photos"]
    assert [c["id"] for c in flat[0]["children"]] == ["tank/media"]
    assert [c["id"] for c in flat[0]["children"][0]["children"]] == ["tank/media/photos"]
    tree = admin.call("pool.dataset.query", [], {"extra": {"flat": False}})
    assert [d["id"] for d in tree] == ["tank"]
    bare = admin.call("pool.dataset.query", [], {"extra": {"retrieve_children": False}})
    assert all(d["children"] == [] for d in bare)
    updated = admin.call("pool.dataset.update", "tank/media", {"comments": "films",
                                                               "sync": "INHERIT",
                                                               "user_properties_update": [
                                                                   {"key": "a:b", "value": "1"}]})
    assert updated["comments"]["value"] == "films"
    assert updated["user_properties"]["a:b"]["value"] == "1"
    removed = admin.call("pool.dataset.update", "tank/media", {"user_properties_update": [
        {"key": "a:b", "remove": True}]})
    assert removed["user_properties"] == {}
    zvol = admin.call("pool.dataset.create", {"name": "tank/vm", "type": "VOLUME",
                                              "volsize": 1 << 30})
    assert zvol["volsize"]["parsed"] == 1 << 30 and zvol["mountpoint"] is None
    assert "recordsize" not in zvol
    shrink = admin.error("pool.dataset.update", "tank/vm", {"volsize": 1 << 20})
    assert shrink["data"]["extra"][0][0] == "pool_dataset_update.volsize"
    assert admin.call("pool.dataset.update", "tank/vm", {"volsize": 2 << 30})["volsize"][
        "parsed"] == 2 << 30
    assert admin.error("pool.dataset.update", "tank/none", {})["data"]["extra"] == [
        ["id", "tank/none does not exist", 2]]
    not_empty = admin.error("pool.dataset.delete", "tank/media")
    assert not_empty["data"]["errname"] == "ENOTEMPTY"
    assert admin.call("pool.dataset.delete", "tank/media", {"recursive": True}) is True
    assert [d["id"] for d in admin.call("pool.dataset.query")] == ["tank", "tank/vm"]
    assert admin.error("pool.dataset.delete", "tank", {"recursive": True})["data"][
        "errname"] == "EINVAL"
    choices = admin.call("pool.filesystem_choices", ["VOLUME"])
    assert choices == ["tank/vm"]
    assert "LZ4" in admin.call("pool.dataset.compression_choices")
    assert "SHA256" in admin.call("pool.dataset.checksum_choices")
    assert "128K" in admin.call("pool.dataset.recordsize_choices", "tank")


@pytest.mark.parametrize(("name", "message"), [
    ("tank", "You need a full name, e.g. pool/newdataset"),
    ("tank/bad*name", "Invalid dataset name"),
    ("tank/trailing ", "Trailing spaces are not permitted in dataset names"),
    ("nopool/x", "zpool (nopool) does not exist."),
    ("tank/a/b", "Parent dataset (tank/a) does not exist."),
    ("tank/vm/x", "tank/vm: parent may not be a ZFS volume"),
    ("tank/vm", "Path /mnt/tank/vm already exists"),
])
def test_dataset_validation(admin: RpcClient, name: str, message: str) -> None:
    _pool(admin, "tank", "STRIPE", ["sda"])
    admin.call("pool.dataset.create", {"name": "tank/vm", "type": "VOLUME", "volsize": 4096})
    error = admin.error("pool.dataset.create", {"name": name})
    assert error["data"]["extra"][0][:2] == ["pool_dataset_create.name", message]


def test_snapshots(sim: TrueNASSimulator, admin: RpcClient) -> None:
    _pool(admin, "tank", "STRIPE", ["sda"])
    admin.call("pool.dataset.create", {"name": "tank/a"})
    admin.call("pool.dataset.create", {"name": "tank/a/b"})
    snap = admin.call("pool.snapshot.create", {"dataset": "tank/a", "name": "s1",
                                               "recursive": True})
    assert (snap["id"], snap["type"], snap["snapshot_name"]) == ("tank/a@s1", "SNAPSHOT", "s1")
    assert admin.call("pool.dataset.snapshot_count", "tank/a/b") == 1
    assert admin.error("pool.snapshot.create", {"dataset": "tank/a", "name": "s1"})["data"][
        "errname"] == "EEXIST"
    assert admin.error("pool.snapshot.create", {"dataset": "tank/x", "name": "s1"})["code"] == (
        -32602)
    named = admin.call("pool.snapshot.create", {"dataset": "tank/a",
                                                "naming_schema": "auto-%Y"})
    assert named["snapshot_name"].startswith("auto-")
    assert admin.error("pool.snapshot.rollback", "tank/a@s1")["data"]["errname"] == "EEXIST"
    assert admin.call("pool.snapshot.rollback", "tank/a@s1", {"recursive": True}) is None
    assert [s["id"] for s in admin.call("pool.snapshot.query", [["dataset", "=", "tank/a"]])] == [
        "tank/a@s1"]
    admin.call("pool.snapshot.hold", "tank/a@s1")
    assert admin.call("pool.snapshot.get_instance", "tank/a@s1")["holds"] == {"truenas": 1}
    admin.call("pool.snapshot.release", "tank/a@s1")
    assert admin.call("pool.snapshot.clone", {"snapshot": "tank/a@s1",
                                              "dataset_dst": "tank/clone"}) is True
    clone = admin.call("pool.dataset.get_instance", "tank/clone")
    assert clone["origin"]["value"] == "tank/a@s1"
    assert admin.error("pool.snapshot.clone", {"snapshot": "tank/a@s1",
                                               "dataset_dst": "tank/clone"})["data"][
        "errname"] == "EEXIST"
    admin.call("pool.dataset.create", {"name": "tank/zv", "type": "VOLUME", "volsize": 4096})
    admin.call("pool.snapshot.create", {"dataset": "tank/zv", "name": "z"})
    admin.call("pool.snapshot.clone", {"snapshot": "tank/zv@z", "dataset_dst": "tank/zv2"})
    assert admin.call("pool.dataset.get_instance", "tank/zv2")["type"] == "VOLUME"
    assert admin.call("pool.snapshot.delete", "tank/a@s1", {"recursive": True}) is True
    assert admin.call("pool.snapshot.query", [["snapshot_name", "=", "s1"]]) == []
    admin.call("pool.dataset.delete", "tank/zv", {"recursive": True})


def test_older_release_names_its_snapshots_zfs() -> None:
    with TrueNASSimulator(version="25.04", speed=200) as sim:
        client = RpcClient(sim.url)
        client.login(sim)
        assert client.request("pool.snapshot.query")["error"]["code"] == -32601
        _pool(client, "tank", "STRIPE", ["sda"])
        client.call("core.subscribe", "zfs.snapshot.query")
        snap = client.call("zfs.snapshot.create", {"dataset": "tank", "name": "old"})
        assert snap["id"] == "tank@old"
        assert client.next_event("zfs.snapshot.query")["id"] == "tank@old"
        assert client.call("core.get_methods", "zfs.snapshot")["zfs.snapshot.query"]["filterable"]
        client.close()


def test_disk_details_and_wipe(admin: RpcClient) -> None:
    _pool(admin, "tank", "STRIPE", ["sda"])
    details = admin.call("disk.details", {})
    assert [d["name"] for d in details["used"]] == ["sda"] and len(details["unused"]) == 7
    assert [d["name"] for d in admin.call("disk.details", {"type": "USED"})] == ["sda"]
    assert [d["name"] for d in admin.call("disk.get_used")] == ["sda"]
    busy = admin.wait_job(admin.call("disk.wipe", "sda", "QUICK"))
    assert busy["error"] == "[EBUSY] sda: disk is in use by pool 'tank'"
    assert admin.wait_job(admin.call("disk.wipe", "sdb", "QUICK"))["state"] == "SUCCESS"
