"""The health fault switches of the TrueNAS simulator (conditions.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.truenas import Client, connect
from tests.sim.truenas.conftest import RpcClient


@pytest.fixture
def sim() -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator(speed=200.0) as running:
        yield running


@pytest.fixture
def nas(sim: TrueNASSimulator) -> Iterator[Client]:
    with connect(sim.url, username=sim.username, password=sim.password, cache=False) as client:
        client.pool.create({"name": "tank", "topology": {
            "data": [{"type": "RAIDZ1", "disks": ["sda", "sdb", "sdc"]}]}}).wait(timeout=30)
        yield client


def test_switches_change_what_the_api_shows(sim: TrueNASSimulator, nas: Client) -> None:
    sim.conditions.degrade_pool("tank", "FAULTED")
    sim.conditions.disk_errors("sdc", write=7)
    sim.conditions.last_scrub("tank", days_ago=3)
    (pool,) = nas.pool.query()
    assert (pool["status"], pool["healthy"], pool["status_code"]) == ("FAULTED", False,
                                                                     "DEGRADED")
    disk = next(d for d in pool["topology"]["data"][0]["children"] if d["disk"] == "sdc")
    assert disk["stats"]["write_errors"] == 7
    assert pool["scan"]["state"] == "FINISHED" and pool["scan"]["function"] == "SCRUB"
    sim.conditions.degrade_pool("tank", "ONLINE", healthy=True)
    assert nas.pool.query()[0]["status_detail"] is None
    sim.conditions.fill_dataset("tank", quota=10, used=5)
    dataset = nas.pool.dataset.query([["name", "=", "tank"]])[0]
    assert (dataset["quota"]["parsed"], dataset["used"]["parsed"]) == (10, 5)
    sim.conditions.stop_service("nfs")
    nfs = nas.service.query([["service", "=", "nfs"]])[0]
    assert (nfs["enable"], nfs["state"]) == (True, "STOPPED")
    job = sim.conditions.fail_job("cloudsync.sync", "bucket gone", minutes_ago=5)
    (record,) = nas.core.get_jobs([["id", "=", job.id]])
    assert record["state"] == "FAILED" and "bucket gone" in record["error"]


def test_switches_refuse_what_does_not_exist(sim: TrueNASSimulator) -> None:
    with pytest.raises(KeyError, match="no pool 'tank'"):
        sim.conditions.degrade_pool("tank")
    with pytest.raises(KeyError, match="no pool uses disk 'sda'"):
        sim.conditions.disk_errors("sda", read=1)
    with pytest.raises(KeyError, match="no dataset"):
        sim.conditions.fill_dataset("tank/x", 1, 1)
    with pytest.raises(KeyError, match="no service"):
        sim.conditions.stop_service("telnet")


def test_a_degraded_pool_raises_its_alert(sim: TrueNASSimulator, admin: RpcClient) -> None:
    job = admin.call("pool.create", {"name": "tank", "topology": {
        "data": [{"type": "MIRROR", "disks": ["sda", "sdb"]}]}})
    assert admin.wait_job(job)["state"] == "SUCCESS"
    admin.call("core.subscribe", "alert.list")
    sim.conditions.degrade_pool("tank")
    event = admin.next_event("alert.list")
    assert event["msg"] == "added" and event["fields"]["klass"] == "VolumeStatus"
    assert event["fields"]["level"] == "CRITICAL"
    assert event["fields"]["formatted"].startswith("Pool tank state is DEGRADED: ")
