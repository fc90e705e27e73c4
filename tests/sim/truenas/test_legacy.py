"""The legacy DDP-style ``/websocket`` endpoint."""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websocket

from maas_dyn.sim.truenas import TrueNASSimulator

from .conftest import TIMEOUT


class Ddp:
    def __init__(self, sim: TrueNASSimulator):
        self.ws = websocket.create_connection(sim.legacy_url, timeout=TIMEOUT)
        self.counter = 0
        self.backlog: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def recv(self) -> dict[str, Any]:
        if self.backlog:
            return self.backlog.pop(0)
        return json.loads(self.ws.recv())

    def connect(self) -> dict[str, Any]:
        self.send({"msg": "connect", "version": "1", "support": ["1"]})
        return self.recv()

    def call(self, method: str, *params: Any) -> dict[str, Any]:
        self.counter += 1
        ident = f"c{self.counter}"
        self.send({"msg": "method", "id": ident, "method": method, "params": list(params)})
        # Other messages (events) are kept for recv(); they do not extend the wait.
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("msg") == "result" and message.get("id") == ident:
                return message
            self.backlog.append(message)
        raise AssertionError(f"no result for {method} ({ident}) within {TIMEOUT:g} s")


@pytest.fixture
def ddp(sim: TrueNASSimulator) -> Iterator[Ddp]:
    client = Ddp(sim)
    yield client
    client.ws.close()


def test_handshake(sim: TrueNASSimulator, ddp: Ddp) -> None:
    ddp.send({"msg": "method", "id": "early", "method": "core.ping"})
    assert ddp.recv() == {"msg": "failed", "version": "1"}
    ddp.send({"msg": "connect", "version": "2"})
    assert ddp.recv() == {"msg": "failed", "version": "1"}
    connected = ddp.connect()
    assert connected["msg"] == "connected" and isinstance(connected["session"], str)
    # WebSocketApplication.on_message has no "ping" branch: a ping, like any unknown
    # message, gets no answer at all; the next frame is the call's result.
    ddp.send({"msg": "ping", "id": "p1"})
    ddp.send({"msg": "ping"})
    ddp.send({"msg": "unknown"})
    assert ddp.call("core.ping") == {"msg": "result", "id": "c1", "result": "pong"}


def test_method_errors(sim: TrueNASSimulator, ddp: Ddp) -> None:
    ddp.connect()
    error = ddp.call("pool.query")["error"]
    assert set(error) == {"error", "errname", "type", "reason", "trace", "extra"}
    assert (error["error"], error["errname"], error["type"], error["reason"]) == (
        207, "ENOTAUTHENTICATED", None, "[ENOTAUTHENTICATED] Not authenticated")
    assert set(error["trace"]) == {"class", "frames", "formatted", "repr"}
    assert ddp.call("auth.login", sim.username, sim.password)["result"] is True
    cases = {
        "nosuchthing": (74, "EBADMSG", "[EBADMSG] Invalid method name"),
        "nosuch.thing": (201, "ENOMETHOD", "[ENOMETHOD] Service 'nosuch' not found"),
        "pool.nosuch": (201, "ENOMETHOD", "[ENOMETHOD] Method 'nosuch' not found in 'pool'"),
    }
    for method, expected in cases.items():
        error = ddp.call(method)["error"]
        assert (error["error"], error["errname"], error["reason"]) == expected
    invalid = ddp.call("pool.create", {"name": 1})["error"]
    assert (invalid["error"], invalid["errname"], invalid["type"]) == (11, "EAGAIN", "VALIDATION")
    assert invalid["extra"][0] == ["data.name", "Input should be a valid string", 22]
    unmodelled = ddp.call("boot.get_state")["error"]
    assert (unmodelled["error"], unmodelled["type"]) == (95, None)
    generic = ddp.call("filesystem.put", "/x")["error"]
    assert (generic["error"], generic["reason"]) == (22, "Pipe 'input' is not open")


def test_malformed_method_messages(sim: TrueNASSimulator, ddp: Ddp) -> None:
    ddp.connect()
    ddp.send({"msg": "method", "id": "m"})
    assert ddp.recv()["error"]["reason"] == "Message is malformed: 'method' is absent."
    ddp.send({"msg": "method", "id": "p", "method": "core.ping", "params": {"a": 1}})
    assert ddp.recv()["error"]["reason"] == "`params` must be a list."


def test_jobs_answer_their_id_and_events_arrive(sim: TrueNASSimulator, ddp: Ddp) -> None:
    ddp.connect()
    ddp.send({"msg": "sub", "id": "s0", "name": "core.get_jobs"})
    refused = ddp.recv()
    assert refused["error"]["reason"] == "Not authorized"
    ddp.call("auth.login", sim.username, sim.password)
    ddp.call("core.set_options", {"legacy_jobs": False})
    ddp.send({"msg": "sub", "id": "s1", "name": "core.get_jobs"})
    assert ddp.recv() == {"msg": "ready", "subs": ["s1"]}
    job_id = ddp.call("core.bulk", "core.ping", [[]], None)["result"]
    assert isinstance(job_id, int)
    added = ddp.recv()
    assert (added["msg"], added["collection"], added["id"]) == ("added", "core.get_jobs", job_id)
    assert added["fields"]["state"] == "WAITING"
    seen = [added]
    deadline = time.monotonic() + TIMEOUT
    while seen[-1].get("fields", {}).get("state") != "SUCCESS" and time.monotonic() < deadline:
        seen.append(ddp.recv())
    assert seen[-1].get("fields", {}).get("state") == "SUCCESS", seen[-1]
    assert seen[-1]["fields"]["result"] == [{"job_id": None, "result": "pong", "error": None}]
    ddp.send({"msg": "unsub", "id": "s1"})
    ddp.call("core.bulk", "core.ping", [[]], None)
    assert ddp.call("core.ping")["result"] == "pong"


def test_too_many_calls(sim: TrueNASSimulator, ddp: Ddp) -> None:
    ddp.connect()
    sim.faults.slow_replies(0.3, method="core.ping")
    for index in range(22):
        ddp.send({"msg": "method", "id": index, "method": "core.ping"})
    replies = [ddp.recv() for _ in range(22)]
    refused = [r for r in replies if "error" in r]
    assert len(refused) == 2
    assert refused[0]["error"]["errname"] == "ETOOMANYREFS"
    assert refused[0]["error"]["reason"] == (
        "Maximum number of concurrent calls (20) has exceeded.")


def test_bad_json_closes_the_connection(sim: TrueNASSimulator, ddp: Ddp) -> None:
    ddp.ws.send("{broken")
    opcode, frame = ddp.ws.recv_data_frame(True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert struct.unpack("!H", frame.data[:2])[0] == 1007
    ddp.ws.shutdown()
