"""JSON-RPC framing on the wire: error codes, shapes, size limits and call limits."""

from __future__ import annotations

import json
import struct
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import websocket

from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.sim.truenas.rpc import dumps, error_reply

from .conftest import TIMEOUT, RpcClient


def _raw(sim: TrueNASSimulator) -> websocket.WebSocket:
    return websocket.create_connection(sim.url, timeout=TIMEOUT)


def _next(ws: websocket.WebSocket) -> dict[str, Any]:
    return json.loads(ws.recv())


def _close_frame(ws: websocket.WebSocket) -> tuple[int, str]:
    for _ in range(10):
        opcode, frame = ws.recv_data_frame(True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = struct.unpack("!H", frame.data[:2])[0]
            ws.shutdown()
            return code, frame.data[2:].decode()
    raise AssertionError("no close frame")


@pytest.mark.parametrize(("payload", "message"), [
    ({"id": 1, "method": "core.ping"}, "Missing 'jsonrpc' member"),
    ({"jsonrpc": "1.0", "id": 1, "method": "core.ping"},
     "'jsonrpc' member must be of type string and must be exactly '2.0'"),
    ({"jsonrpc": "2.0", "id": [1], "method": "core.ping"},
     "'id' member must be of type null, string or number"),
    ({"jsonrpc": "2.0", "id": True, "method": "core.ping"},
     "'id' member must be of type null, string or number"),
    ({"jsonrpc": "2.0", "id": 1}, "Missing 'method' member"),
    ({"jsonrpc": "2.0", "id": 1, "method": ""}, "'method' member must be of type string"),
    ({"jsonrpc": "2.0", "id": 1, "method": "core.ping", "params": {}},
     "'params' member must be of type array"),
])
def test_invalid_request(sim: TrueNASSimulator, payload: dict[str, Any], message: str) -> None:
    ws = _raw(sim)
    ws.send(json.dumps(payload))
    reply = _next(ws)
    assert reply == {"jsonrpc": "2.0", "id": payload["id"],
                     "error": {"code": -32600, "message": message}}
    ws.close()


def test_invalid_request_without_id_is_silent(sim: TrueNASSimulator) -> None:
    ws = _raw(sim)
    ws.send(json.dumps({"jsonrpc": "1.0", "method": "core.ping"}))
    ws.send(json.dumps({"jsonrpc": "2.0", "id": "after", "method": "core.ping"}))
    assert _next(ws) == {"jsonrpc": "2.0", "id": "after", "result": "pong"}
    ws.close()


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "Expecting property name enclosed in double quotes"),
    ("[]", "Batch messages are not supported at this time"),
    ("5", "Invalid Message Format"),
])
def test_parse_errors_keep_the_connection(sim: TrueNASSimulator, text: str, message: str) -> None:
    ws = _raw(sim)
    ws.send(text)
    reply = _next(ws)
    assert reply["id"] is None and reply["error"]["code"] == -32700
    assert reply["error"]["message"].startswith(message)
    ws.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "core.ping"}))
    assert _next(ws)["result"] == "pong"
    ws.close()


def test_notification_gets_no_reply_but_runs(sim: TrueNASSimulator) -> None:
    ws = _raw(sim)
    ws.send(json.dumps({"jsonrpc": "2.0", "method": "core.ping"}))
    ws.send(json.dumps({"jsonrpc": "2.0", "method": "nope.nope"}))
    ws.send(json.dumps({"jsonrpc": "2.0", "id": 7, "method": "core.ping"}))
    assert _next(ws)["id"] == 7
    assert sim.call_counts["core.ping"] == 2
    ws.close()


def test_error_shapes(sim: TrueNASSimulator, client: RpcClient) -> None:
    assert client.request("no.such_method") == {
        "jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "Method does not exist"}}
    error = client.error("pool.query")
    assert error["code"] == -32001 and error["message"] == "Method call error"
    data = error["data"]
    assert set(data) == {"error", "errname", "reason", "trace", "extra"}
    assert (data["error"], data["errname"], data["reason"], data["extra"]) == (
        207, "ENOTAUTHENTICATED", "[ENOTAUTHENTICATED] Not authenticated", None)
    assert set(data["trace"]) == {"class", "formatted", "repr"}
    assert data["trace"]["class"] == "CallError"
    client.login(sim)
    invalid = client.error("pool.create", {"name": 5, "bogus": 1})
    assert invalid["code"] == -32602 and invalid["message"] == "Invalid params"
    assert invalid["data"]["error"] == 22 and invalid["data"]["errname"] == "EINVAL"
    assert invalid["data"]["extra"] == [["data.name", "Input should be a valid string", 22],
                                        ["data.topology", "Field required", 22],
                                        ["data.bogus", "Extra inputs are not permitted", 22]]
    too_many = client.error("core.ping", 1)
    assert too_many["data"]["extra"] == [["", "Too many arguments (expected 0, found 1)", 22]]
    bad_filter = client.error("pool.query", [["name", "!!", "x"]])
    assert bad_filter["data"]["extra"] == [
        ["filters", "Value error, Invalid operation: !!", 22]]
    bad_options = client.error("pool.query", [], {"get": True, "limit": 5})
    assert bad_options["data"]["extra"][0][0] == "options"
    missing = client.error("pool.query", [["id", "=", 99]], {"get": True})
    assert (missing["code"], missing["data"]["errname"], missing["data"]["reason"]) == (
        -32001, "EINVAL", "MatchNotFound()")
    gone = client.error("user.get_instance", 999)
    assert gone["code"] == -32602
    assert gone["data"]["extra"] == [[None, "User 999 does not exist", 2]]


def test_unmodelled_method_answers_enotsup(admin: RpcClient) -> None:
    data = admin.error("boot.get_state")["data"]
    assert (data["error"], data["errname"], data["reason"]) == (
        95, "ENOTSUP", "[ENOTSUP] boot.get_state is not modelled by the maas_dyn simulator")


def test_unexpected_exceptions_are_einval() -> None:
    reply = error_reply(3, KeyError("k"))
    assert reply["error"]["code"] == -32001
    assert reply["error"]["data"]["error"] == 22 and reply["error"]["data"]["reason"] == "'k'"
    assert error_reply(4, ValueError())["error"]["data"]["reason"] == "ValueError()"


def test_dumps_speaks_ejson() -> None:
    stamp = datetime(2025, 7, 8, 19, 55, 29, tzinfo=timezone(timedelta(hours=1)))
    assert json.loads(dumps({"t": stamp})) == {"t": {"$date": 1752000929000}}
    assert json.loads(dumps(date(2025, 1, 2))) == {"$type": "date", "$value": "2025-01-02"}
    assert json.loads(dumps({1})) == {"$set": [1]}
    with pytest.raises(TypeError):
        dumps(object())


def test_message_limit_before_login(sim: TrueNASSimulator) -> None:
    ws = _raw(sim)
    ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "core.ping",
                        "params": ["x" * 8200]}))
    assert _close_frame(ws) == (1007, "Anonymous connection max message length is 8 kB")


def test_message_limit_after_login(sim: TrueNASSimulator) -> None:
    client = RpcClient(sim.url)
    client.login(sim)
    small = client.request("core.ping", "x" * 9000)
    assert small["error"]["code"] == -32602  # allowed size, wrong arity
    client.ws.send(json.dumps({"jsonrpc": "2.0", "id": 9, "method": "core.ping",
                               "params": ["x" * 70000]}))
    assert client.closed.wait(TIMEOUT)
    client.close()
    ws = _raw(sim)
    ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "auth.login_ex",
                        "params": [{"mechanism": "PASSWORD_PLAIN", "username": sim.username,
                                    "password": sim.password}]}))
    assert _next(ws)["result"]["response_type"] == "SUCCESS"
    ws.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "core.ping",
                        "params": ["x" * 70000]}))
    assert _close_frame(ws) == (1009, "Max message length is 64 kB")
    extended = _raw(sim)
    extended.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "filesystem.file_receive",
                              "params": ["x" * 9000]}))
    assert _close_frame(extended)[0] == 1007  # still anonymous: 8 kB applies


def test_binary_frames_close_the_connection(sim: TrueNASSimulator) -> None:
    ws = _raw(sim)
    ws.send_binary(b"\x00\x01")
    assert _close_frame(ws) == (1003, "Invalid websocket message type: <WSMsgType.BINARY: 2>")


def test_concurrency_limit(sim: TrueNASSimulator, client: RpcClient) -> None:
    sim.faults.slow_replies(0.4, method="core.ping")
    ids = [client.send("core.ping") for _ in range(25)]
    replies = [client.reply(id_) for id_ in ids]
    refused = [r for r in replies if "error" in r]
    assert len(refused) == 5
    assert refused[0]["error"] == {"code": -32000, "message":
                                   "Maximum number of concurrent calls (20) has exceeded"}
    assert sum(1 for r in replies if r.get("result") == "pong") == 20


def test_calls_run_concurrently(sim: TrueNASSimulator, client: RpcClient) -> None:
    sim.faults.slow_replies(0.3, count=1, method="core.ping")
    slow = client.send("core.ping")
    started = time.monotonic()
    fast = client.send("system.ready")
    assert client.reply(fast)["error"]["code"] == -32001  # not logged in, but answered first
    assert time.monotonic() - started < 0.3
    assert client.reply(slow)["result"] == "pong"


def test_pinned_version_endpoint(sim: TrueNASSimulator) -> None:
    ws = websocket.create_connection(sim.url.replace("current", sim.api_version),
                                     timeout=TIMEOUT)
    ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "core.ping"}))
    assert _next(ws)["result"] == "pong"
    ws.close()
