"""Wire details a real client can tell apart, each as the middleware's source has it.

Sources (truenas/middleware): ``job.py`` (job events and timing), ``apps/websocket_app.py``
(legacy messages), ``utils/limits.py`` + ``truenas_api_client/ejson.py`` (ejson),
``main.py`` (``/api/<version>`` routes, ``/api/versions``), ``plugins/filesystem.py``,
``plugins/config.py``, ``plugins/pool_/scrub.py``, ``api/base/server/ws_handler/rpc.py``.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket

from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.sim.truenas.jobs import MIN_JOB_SECONDS
from tests.sim.truenas.conftest import TIMEOUT, RpcClient


def _job_events(admin: RpcClient, job_id: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while not events or events[-1].get("fields", {}).get("state") not in (
            "SUCCESS", "FAILED", "ABORTED") or len(
            [e for e in events if e["fields"]["state"] == "SUCCESS"]) < 2:
        event = admin.next_event("core.get_jobs")
        if event["id"] == job_id:
            events.append(event)
    return events


def test_new_style_job_events_come_in_the_middlewares_order(admin: RpcClient) -> None:
    admin.call("core.set_options", {"legacy_jobs": False})
    admin.call("core.subscribe", "core.get_jobs")
    started = time.monotonic()
    call_id = admin.send("core.bulk", "core.ping", [[], []], None)
    reply = admin.reply(call_id)
    elapsed = time.monotonic() - started
    assert [row["result"] for row in reply["result"]] == ["pong", "pong"]
    job_id = admin.call("core.get_jobs", [["message_ids", "rin", call_id]], {"get": True})["id"]
    events = _job_events(admin, job_id)
    # ADDED (WAITING), RUNNING, progress, SUCCESS at 100 %, then - after the reply - the
    # final CHANGED: a client that attaches its job callback once it has the job id still
    # sees an event (the official client's core.bulk callback).
    assert events[0]["msg"] == "added" and events[0]["fields"]["state"] == "WAITING"
    assert events[0]["fields"]["message_ids"] == [call_id]
    assert events[1]["fields"]["state"] == "RUNNING"
    assert [e["fields"]["state"] for e in events[-2:]] == ["SUCCESS", "SUCCESS"]
    assert events[-1]["fields"]["progress"]["percent"] == 100
    assert any(e["fields"]["progress"]["description"] == "1 / 2" for e in events)
    # No job is over within a millisecond of its call: it lasts MIN_JOB_SECONDS on the
    # simulated clock at least (a lower bound: real time passes at least this fast).
    assert elapsed >= MIN_JOB_SECONDS / 200.0


def test_final_job_event_follows_the_reply(admin: RpcClient) -> None:
    admin.call("core.set_options", {"legacy_jobs": False})
    admin.call("core.subscribe", "core.get_jobs")
    call_id = admin.send("core.bulk", "core.ping", [[]], None)
    admin.reply(call_id)
    # The reply is in; the job's last CHANGED is still to come (or just came).
    finals = []
    deadline = time.monotonic() + TIMEOUT
    while len(finals) < 2 and time.monotonic() < deadline:
        event = admin.next_event("core.get_jobs")
        if event.get("fields", {}).get("state") == "SUCCESS":
            finals.append(event)
    assert len(finals) == 2


def test_pool_scrub_scrub_is_a_job(admin: RpcClient) -> None:
    created = admin.wait_job(admin.call("pool.create", {"name": "tank", "topology": {
        "data": [{"type": "MIRROR", "disks": ["sda", "sdb"]}]}}))
    assert created["state"] == "SUCCESS"
    job = admin.wait_job(admin.call("pool.scrub.scrub", "tank"))
    assert job["state"] == "SUCCESS", job
    assert job["progress"] == {"percent": 100, "description": "Scrub finished", "extra": None}
    pool = admin.call("pool.query", [["name", "=", "tank"]], {"get": True})
    assert pool["scan"]["function"] == "SCRUB" and pool["scan"]["state"] == "FINISHED"
    missing = admin.wait_job(admin.call("pool.scrub.scrub", "nope", "STOP"))
    assert missing["state"] == "FAILED" and missing["exc_info"]["errno"] == 2


def test_ejson_in_params_is_decoded(admin: RpcClient) -> None:
    admin.wait_job(admin.call("core.bulk", "core.ping", [[]], None))
    future = {"$date": int((time.time() + 3600) * 1000)}
    past = {"$date": 0}
    assert admin.call("core.get_jobs", [["time_started", ">", future]]) == []
    assert len(admin.call("core.get_jobs", [["time_started", ">", past]])) == 1
    # A set travels as {"$set": [...]} and arrives as a set: "in" works on it.
    assert admin.call("user.query", [["username", "in", {"$set": ["root"]}]],
                      {"select": ["username"]}) == [{"username": "root"}]


@pytest.mark.parametrize("version", ["v25.10.5", "v25.10.0", "v25.04.2", "v24.10"])
def test_every_served_api_version_has_a_route(sim: TrueNASSimulator, version: str) -> None:
    rpc = RpcClient(f"ws://127.0.0.1:{sim.port}/api/{version}")
    try:
        assert rpc.call("core.ping") == "pong"
    finally:
        rpc.close()


def test_unserved_api_version_is_404(sim: TrueNASSimulator) -> None:
    reply = requests.get(f"{sim.base_url}/api/v25.10.9", timeout=TIMEOUT)
    assert reply.status_code == 404
    assert "v24.10" not in requests.get(f"{sim.base_url}/api/versions", timeout=TIMEOUT).json()


def _download(sim: TrueNASSimulator, admin: RpcClient, method: str, *args: Any) -> bytes:
    job_id, url = admin.call("core.download", method, list(args), "out")
    reply = requests.get(sim.base_url + url, timeout=TIMEOUT)
    assert reply.status_code == 200 and admin.wait_job(job_id)["state"] == "SUCCESS"
    return reply.content


def test_config_save_is_a_sqlite_database(sim: TrueNASSimulator, admin: RpcClient) -> None:
    data = _download(sim, admin, "config.save", {})
    assert data.startswith(b"SQLite format 3\x00") and len(data) > 1024
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "freenas-v1.db"
        path.write_bytes(data)
        database = sqlite3.connect(path)
        try:
            names = {row[0] for row in database.execute(
                "SELECT bsdusr_username FROM account_bsdusers")}
        finally:
            database.close()
    assert {"root", sim.username} <= names


def test_config_save_with_secret_seed_is_a_tar(sim: TrueNASSimulator, admin: RpcClient) -> None:
    data = _download(sim, admin, "config.save", {"secretseed": True})
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        assert sorted(archive.getnames()) == ["freenas-v1.db", "pwenc_secret"]


def _raw(sim: TrueNASSimulator) -> websocket.WebSocket:
    return websocket.create_connection(sim.url, timeout=TIMEOUT)


def test_malformed_requests_as_the_middleware_answers(sim: TrueNASSimulator) -> None:
    ws = _raw(sim)
    try:
        # process_message: an invalid request echoes the id it carries...
        ws.send(json.dumps({"id": 7, "method": "core.ping"}))
        reply = json.loads(ws.recv())
        assert reply["id"] == 7 and reply["error"]["code"] == -32600
        assert reply["error"]["message"] == "Missing 'jsonrpc' member"
        # ...and nothing at all without one; a call without id (a notification) runs
        # without a reply; undecodable text gets -32700 with id null.
        ws.send(json.dumps({"method": "core.ping"}))
        ws.send(json.dumps({"jsonrpc": "2.0", "method": "core.ping"}))
        ws.send("{not json")
        reply = json.loads(ws.recv())
        assert reply["id"] is None and reply["error"]["code"] == -32700
    finally:
        ws.close()


def test_credentials_are_stable_per_seed() -> None:
    with TrueNASSimulator(seed=3) as first:
        key, otp = first.api_key, first.otp_secret
    with TrueNASSimulator(seed=3) as again:
        assert (again.api_key, again.otp_secret) == (key, otp)
    with TrueNASSimulator(seed=4) as other:
        assert other.api_key != key
