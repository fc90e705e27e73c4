"""The jobs engine seen through core.get_jobs, its events and core.job_abort."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.sim.truenas.events import EventHub
from maas_dyn.sim.truenas.faults import Faults
from maas_dyn.sim.truenas.jobs import Job, JobManager
from tests.conftest import TRUENAS_FIXTURES

from .conftest import TIMEOUT, RpcClient

FIXTURE = TRUENAS_FIXTURES / "wire-core.get_jobs-collection_update-api-client-ts.json"
RAIDZ = {"name": "tank", "topology": {"data": [{"type": "RAIDZ1", "disks": ["sda", "sdb", "sdc"]}]}}


def _events_until_done(client: RpcClient, job_id: int) -> list[dict[str, Any]]:
    events = []
    # Events of other jobs do not extend the wait.
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        event = client.next_event("core.get_jobs")
        if event["id"] != job_id:
            continue
        events.append(event)
        if event["fields"]["state"] in ("SUCCESS", "FAILED", "ABORTED"):
            return events
    raise AssertionError(f"job {job_id} did not finish within {TIMEOUT:g} s: {events}")


def test_success_with_progress_events(sim: TrueNASSimulator, admin: RpcClient) -> None:
    admin.call("core.subscribe", "core.get_jobs")
    job_id = admin.call("pool.create", RAIDZ)
    events = _events_until_done(admin, job_id)
    assert events[0]["msg"] == "added" and events[0]["fields"]["state"] == "WAITING"
    assert events[1]["msg"] == "changed" and events[1]["fields"]["state"] == "RUNNING"
    percents = [e["fields"]["progress"]["percent"] for e in events]
    assert percents == sorted(percents) and percents[-1] == 100
    descriptions = {e["fields"]["progress"]["description"] for e in events}
    assert {"Formatting disks (1/3)", "Creating ZFS Pool"} <= descriptions
    final = events[-1]["fields"]
    assert final["state"] == "SUCCESS" and final["result"]["name"] == "tank"
    assert final["error"] is None and final["exc_info"] is None
    assert set(final["time_finished"]) == {"$date"}
    assert final["credentials"]["type"] == "LOGIN_PASSWORD"
    assert final["credentials"]["data"]["username"] == sim.username
    wire = json.loads(FIXTURE.read_text())
    assert set(final) == set(wire["fields"])
    assert set(final["progress"]) == set(wire["fields"]["progress"])
    queried = admin.call("core.get_jobs", [["id", "=", job_id]], {"get": True})
    assert queried["state"] == "SUCCESS" and set(queried) == set(wire["fields"])
    assert admin.call("core.get_jobs", [["method", "=", "pool.create"]], {"count": True}) == 1


def test_failure_keeps_the_error(admin: RpcClient) -> None:
    admin.wait_job(admin.call("pool.create", RAIDZ))
    again = {"name": "other", "topology": RAIDZ["topology"]}
    job = admin.wait_job(admin.call("pool.create", again))
    assert job["state"] == "FAILED"
    assert "The following disks are already in use: sda,sdb,sdc." in job["error"]
    assert job["exc_info"]["type"] == "VALIDATION" and job["exc_info"]["errno"] is None
    assert job["exc_info"]["extra"] == [
        ["pool_create.topology", "The following disks are already in use: sda,sdb,sdc.", 22]]
    assert "Traceback" in job["exception"] and job["result"] is None


def test_call_error_failure_has_errno(admin: RpcClient) -> None:
    job = admin.wait_job(admin.call("disk.wipe", "nope", "QUICK"))
    assert job["state"] == "FAILED"
    assert job["exc_info"] == {"repr": job["exc_info"]["repr"], "type": "CallError",
                               "errno": 2, "extra": None}


def test_waiting_for_results_without_legacy_jobs(sim: TrueNASSimulator, admin: RpcClient) -> None:
    assert admin.call("core.set_options", {"legacy_jobs": False}) == {
        "legacy_jobs": False, "private_methods": False, "py_exceptions": False}
    pool = admin.call("pool.create", RAIDZ)
    assert pool["name"] == "tank" and pool["topology"]["data"][0]["type"] == "RAIDZ1"
    failed = admin.error("pool.create", RAIDZ)
    assert failed["code"] == -32602
    assert failed["data"]["extra"][0][:2] == ["pool_create.name",
                                              "A pool with this name already exists."]
    broken = admin.error("disk.wipe", "nope", "QUICK")
    assert broken["code"] == -32001 and broken["data"]["errname"] == "ENOENT"


@pytest.fixture
def slow_sim() -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator(speed=5.0, job_workers=1) as simulator:
        yield simulator


def test_abort_running_and_waiting_jobs(slow_sim: TrueNASSimulator) -> None:
    client = RpcClient(slow_sim.url)
    client.login(slow_sim)
    client.call("core.subscribe", "core.get_jobs")
    running = client.call("disk.wipe", "sda", "FULL")
    waiting = client.call("disk.wipe", "sdb", "FULL")
    deadline = time.monotonic() + TIMEOUT
    while client.next_event("core.get_jobs")["fields"]["state"] != "RUNNING":
        assert time.monotonic() < deadline, "no job started running"
    assert client.call("core.job_abort", waiting) is None
    assert client.call("core.job_abort", running) is None
    assert client.wait_job(running)["state"] == "ABORTED"
    aborted = client.wait_job(waiting)
    assert aborted["state"] == "ABORTED" and aborted["abortable"] is True
    assert client.error("core.job_abort", 999)["data"]["extra"] == [
        [None, "Job with id 999 does not exist", 2]]
    client.close()


def test_stopping_aborts_unfinished_jobs(slow_sim: TrueNASSimulator) -> None:
    client = RpcClient(slow_sim.url)
    client.login(slow_sim)
    running = client.call("disk.wipe", "sda", "FULL")
    queued = client.call("disk.wipe", "sdb", "FULL")
    client.close()
    slow_sim.stop()
    states = {job["id"]: job["state"] for job in slow_sim.jobs.records()}
    assert states == {running: "ABORTED", queued: "ABORTED"}


def test_job_history_is_bounded() -> None:
    manager = JobManager(EventHub(), Faults(), workers=1, keep=2)
    jobs: list[Job] = [manager.submit("core.ping", [], lambda job: "pong", inline=True)
                       for _ in range(4)]
    assert [job.state for job in jobs] == ["SUCCESS"] * 4
    assert [record["id"] for record in manager.records()] == [3, 4]
    assert manager.get(1) is None and manager.get(4) is jobs[3]
    manager.shutdown()


def test_locked_jobs_wait_their_turn() -> None:
    with TrueNASSimulator(speed=5.0) as sim:
        _take_turns(sim)


def _take_turns(sim: TrueNASSimulator) -> None:
    client = RpcClient(sim.url)
    client.login(sim)
    first = client.call("pool.create", RAIDZ)
    second = client.call("pool.create", {"name": "other", "topology": {
        "data": [{"type": "STRIPE", "disks": ["sdd"]}]}})
    assert client.call("core.get_jobs", [["id", "=", second]], {"get": True})["state"] == (
        "WAITING")
    client.call("core.job_abort", second)
    assert client.wait_job(second)["state"] == "ABORTED"
    assert client.wait_job(first)["state"] == "SUCCESS"
    client.close()
