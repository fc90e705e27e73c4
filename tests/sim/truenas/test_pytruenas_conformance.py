"""Conformance: pytruenas (PyPI), a third-party client, used as its README shows.

Nothing here works around the simulator: if pytruenas needs something the simulator
does not do as the middleware does, these tests fail. pytruenas is pure Python and
resolves on Python 3.10 to 3.13 (``pip download --python-version 3.1x pytruenas``).
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pytruenas import TrueNASClient

from maas_dyn.sim.truenas import TrueNASSimulator

TIMEOUT = 10.0


@pytest.fixture
def sim() -> Iterator[TrueNASSimulator]:
    with TrueNASSimulator(version="25.10", speed=200.0, seed=0) as simulator:
        yield simulator


@pytest.fixture
def nas(sim: TrueNASSimulator, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[TrueNASClient]:
    # pytruenas caches API definitions per host; keep that cache inside the test.
    monkeypatch.setenv("PYTRUENAS_CACHE", str(tmp_path))
    client = TrueNASClient(sim.url, credentials=sim.api_key, verify=False)
    try:
        assert client.login()
        yield client
    finally:
        client.close()


def _pool(nas: TrueNASClient) -> dict[str, Any]:
    created = nas.api.pool.create({"name": "tank", "topology": {
        "data": [{"type": "MIRROR", "disks": ["sda", "sdb"]}]}}, job=True)
    assert isinstance(created, dict)
    return created


def test_login_with_password_and_login_ex(sim: TrueNASSimulator, tmp_path: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTRUENAS_CACHE", str(tmp_path))
    client = TrueNASClient(sim.url, credentials=(sim.username, sim.password), verify=False)
    try:
        client.login(login_ex=True)
        assert client.me()["pw_name"] == sim.username
        assert client.ping() == "pong"
    finally:
        client.close()


def test_query_with_options(nas: TrueNASClient, sim: TrueNASSimulator) -> None:
    users = nas.api.user.query([["uid", ">=", 950]], {"order_by": ["-uid"],
                                                      "select": ["username", "uid"]})
    assert users == [{"username": sim.otp_username, "uid": 3000},
                     {"username": sim.username, "uid": 950}]
    assert nas.api.user.query([], {"count": True}) == 3
    root = nas.api.user._get(username="root")
    assert root["uid"] == 0
    assert nas.api.disk.query([["name", "^", "sd"]], {"limit": 2, "offset": 1,
                                                      "select": ["name"]}) == [
        {"name": "sdb"}, {"name": "sdc"}]


def test_jobs_with_progress(nas: TrueNASClient) -> None:
    seen: queue.Queue[Any] = queue.Queue()
    with nas.api.core.get_jobs.subscribe(seen.put):
        pool = _pool(nas)
        records: list[dict[str, Any]] = []
        result = nas.api.pool.scrub.scrub("tank", job=True)
        assert result is None
        job_id = nas.api.pool.scrub.scrub("tank", job="RETURN")
        assert nas.wait(job_id, callback=records.append) is None
    assert pool["name"] == "tank" and pool["status"] == "ONLINE"
    assert records[-1]["state"] == "SUCCESS"
    assert records[-1]["progress"]["percent"] == 100
    events = []
    while not seen.empty():
        events.append(seen.get_nowait())
    mine = [e for e in events if e.id == job_id]
    assert mine[0].msg == "added"
    states = [e.fields["state"] for e in mine]
    assert "RUNNING" in states and states[-1] == "SUCCESS"
    assert any(e.fields["progress"]["description"].startswith("Scrubbing") for e in mine)


def test_events(nas: TrueNASClient, sim: TrueNASSimulator) -> None:
    with nas.api.alert.list.subscribe() as subscription:
        sim.raise_alert("PoolDegraded", "Pool tank state is DEGRADED")
        event = next(subscription.events(timeout=TIMEOUT))
    assert event.collection == "alert.list" and event.msg == "added"
    assert event.fields["klass"] == "PoolDegraded"
    assert event.fields["datetime"].tzinfo is not None  # ejson {"$date": ...} decoded
    assert [a["klass"] for a in nas.api.alert.list()] == ["PoolDegraded"]


def test_upload_and_download(nas: TrueNASClient) -> None:
    nas.upload(b"hello from pytruenas\n", "filesystem.put", "/root/hello.txt", {})
    assert nas.download("filesystem.get", "/root/hello.txt") == b"hello from pytruenas\n"
    database = nas.download("config.save", {})
    assert database.startswith(b"SQLite format 3\x00")


def test_a_failed_job_raises(nas: TrueNASClient) -> None:
    from pytruenas.connection import JobFailed

    started = time.monotonic()
    with pytest.raises(JobFailed) as failed:
        nas.api.pool.scrub.scrub("missing", job=True)
    assert failed.value.job["state"] == "FAILED"
    assert time.monotonic() - started < TIMEOUT * 6
