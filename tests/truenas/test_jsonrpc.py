"""Framing of both protocols, ejson, and the error-object -> typed error tables."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from maas_dyn import errors
from maas_dyn.truenas import jsonrpc
from maas_dyn.truenas.jsonrpc import JSONRPCFraming, LegacyFraming
from maas_dyn.truenas.messages import Event, Handshake, Reply, ServerPing, SubscriptionEnded

URL = "wss://nas/api/current"


# -- ejson ----------------------------------------------------------------------------------

def test_ejson_round_trip() -> None:
    moment = datetime(2025, 7, 8, 18, 55, 29, tzinfo=timezone.utc)
    text = jsonrpc.dumps({"when": moment, "day": date(2025, 1, 2), "tags": {"a"}})
    assert json.loads(text) == {"when": {"$date": 1752000929000},
                                "day": {"$type": "date", "$value": "2025-01-02"},
                                "tags": {"$set": ["a"]}}
    back = jsonrpc.loads(text)
    assert back == {"when": moment, "day": date(2025, 1, 2), "tags": {"a"}}
    assert jsonrpc.loads(text.encode()) == back


def test_ejson_naive_datetime_is_utc_and_odd_objects_stay() -> None:
    assert json.loads(jsonrpc.dumps(datetime(1970, 1, 1, 0, 0, 1))) == {"$date": 1000}
    odd = '{"a": {"$set": [[1]]}, "b": {"$type": "date", "$value": "nope"}, "c": {"$x": 1}}'
    assert jsonrpc.loads(odd) == {"a": {"$set": [[1]]}, "b": {"$type": "date", "$value": "nope"},
                                  "c": {"$x": 1}}
    with pytest.raises(TypeError):
        jsonrpc.dumps(object())


def test_ejson_decodes_the_real_job_event(doc_fixture_event: dict[str, object]) -> None:
    decoded = jsonrpc.loads(json.dumps(doc_fixture_event))
    assert isinstance(decoded["fields"]["time_started"], datetime)


@pytest.fixture
def doc_fixture_event() -> dict[str, object]:
    from tests.conftest import TRUENAS_FIXTURES

    path = TRUENAS_FIXTURES / "wire-core.get_jobs-collection_update-api-client-ts.json"
    return json.loads(path.read_text())  # type: ignore[no-any-return]


# -- JSON-RPC framing -------------------------------------------------------------------------

def test_jsonrpc_frames() -> None:
    f = JSONRPCFraming()
    assert f.hello() is None
    assert json.loads(f.call(7, "pool.query", ([["name", "=", "tank"]],))) == {
        "jsonrpc": "2.0", "id": 7, "method": "pool.query", "params": [[["name", "=", "tank"]]]}
    assert json.loads(f.subscribe(1, "alert.list"))["params"] == ["alert.list"]
    assert f.subscription_id(1, "abc") == "abc"
    assert json.loads(f.unsubscribe(2, "abc"))["method"] == "core.unsubscribe"
    assert json.loads(f.ping(3))["method"] == "core.ping"


def test_jsonrpc_decode() -> None:
    f = JSONRPCFraming()
    assert f.decode('{"jsonrpc":"2.0","id":1,"result":5}') == [Reply(1, 5)]
    error = {"code": -32601, "message": "Method does not exist"}
    assert f.decode(json.dumps({"jsonrpc": "2.0", "id": 2, "error": error})) == [
        Reply(2, None, error)]
    event = {"jsonrpc": "2.0", "method": "collection_update",
             "params": {"msg": "added", "collection": "alert.list", "id": 1, "fields": {"a": 1}}}
    assert f.decode(json.dumps(event)) == [Event("added", "alert.list", 1, {"a": 1})]
    ended = {"jsonrpc": "2.0", "method": "notify_unsubscribed",
             "params": {"collection": "x", "error": {"reason": "gone"}}}
    assert f.decode(json.dumps(ended)) == [SubscriptionEnded("x", "gone")]
    assert f.decode('{"jsonrpc":"2.0","method":"notify_unsubscribed","params":{"collection":"y",'
                    '"error":null}}') == [SubscriptionEnded("y", "")]
    assert f.decode('{"jsonrpc":"2.0","method":"unknown","params":[]}') == []
    assert f.decode("[1, 2]") == []
    assert f.decode('{"jsonrpc":"2.0"}') == []
    with pytest.raises(ValueError):
        f.decode("not json")


# -- legacy framing ---------------------------------------------------------------------------

def test_legacy_frames() -> None:
    f = LegacyFraming()
    assert json.loads(f.hello() or "") == {"msg": "connect", "version": "1", "support": ["1"]}
    assert json.loads(f.call(4, "core.ping", [])) == {"msg": "method", "id": "4",
                                                      "method": "core.ping", "params": []}
    assert json.loads(f.subscribe(5, "alert.list")) == {"msg": "sub", "id": "5",
                                                        "name": "alert.list"}
    assert f.subscription_id(5, None) == "5"
    assert json.loads(f.unsubscribe(6, "5")) == {"msg": "unsub", "id": "5"}
    # core.ping, not DDP's ping, which the middleware never answers
    assert json.loads(f.ping(7)) == {"msg": "method", "id": "7", "method": "core.ping",
                                     "params": []}


def test_legacy_decode() -> None:
    f = LegacyFraming()
    assert f.decode('{"msg":"connected","session":"x"}') == [Handshake(True)]
    assert f.decode('{"msg":"failed"}') == [Handshake(False)]
    assert f.decode('{"msg":"result","id":"3","result":1}') == [Reply(3, 1)]
    assert f.decode('{"msg":"result","id":"x","error":{"reason":"r"}}') == [
        Reply("x", None, {"reason": "r"})]
    assert f.decode('{"msg":"pong","id":"9"}') == [Reply(9, "pong")]
    assert f.decode('{"msg":"ready","subs":["5","6"]}') == [Reply(5, None), Reply(6, None)]
    assert f.decode('{"msg":"nosub","id":"5"}') == [Reply(5, None)]
    assert f.decode('{"msg":"changed","collection":"c","id":1,"fields":{}}') == [
        Event("changed", "c", 1, {})]
    assert f.decode('{"msg":"removed","collection":"c","id":1}') == [Event("removed", "c", 1)]
    assert f.decode('{"msg":"added","collection":"c","id":1}') == [Event("added", "c", 1)]
    [ping] = f.decode('{"msg":"ping","id":"p1"}')
    assert isinstance(ping, ServerPing) and json.loads(ping.answer) == {"msg": "pong", "id": "p1"}
    [ping] = f.decode('{"msg":"ping"}')
    assert isinstance(ping, ServerPing) and json.loads(ping.answer) == {"msg": "pong"}
    assert f.decode('{"msg":"whatever"}') == []
    assert f.decode('"text"') == []


# -- error tables -----------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "cls"), [
    (-32700, errors.TrueNASAPIError), (-32600, errors.TrueNASAPIError),
    (-32601, errors.MethodNotFound), (-32602, errors.ValidationError),
    (-32603, errors.TrueNASAPIError), (-32000, errors.TooManyConcurrentCalls),
    (-32001, errors.CallError), (-1, errors.TrueNASAPIError),
])
def test_every_code_maps_to_its_class(code: int, cls: type[Exception]) -> None:
    error = jsonrpc.jsonrpc_error({"code": code, "message": "msg"}, "pool.query", URL)
    assert type(error) is cls
    assert error.status == code
    assert error.method == "pool.query" and error.url == URL


def test_the_table_covers_the_standard_codes() -> None:
    assert set(jsonrpc.JSONRPC_ERRORS) == {-32700, -32600, -32601, -32602, -32603, -32000,
                                           -32001}


def test_validation_error_lists_every_field() -> None:
    data = {"error": 22, "errname": "EINVAL", "reason": "x", "trace": None,
            "extra": [["data.name", "Field required", 22], ["data.topology", "Bad", 22],
                      [None, "Instance not found", 2], "junk", []]}
    error = jsonrpc.jsonrpc_error({"code": -32602, "message": "Invalid params", "data": data},
                                  "pool.create", URL)
    assert isinstance(error, errors.ValidationError)
    assert error.errors == [("data.name", "Field required", 22), ("data.topology", "Bad", 22),
                            ("", "Instance not found", 2)]
    assert "data.name: Field required" in str(error) and "(call): Instance" in str(error)
    assert error.data == data
    assert "every invalid field" in error.hint


def test_validation_error_without_details() -> None:
    error = jsonrpc.jsonrpc_error({"code": -32602, "message": "Invalid params"}, "m", URL)
    assert isinstance(error, errors.ValidationError) and error.errors == []
    assert error.message == "Invalid params"


def test_call_error_attributes_and_hints() -> None:
    data = {"error": 2, "errname": "ENOENT", "reason": "[ENOENT] pool 7 not found",
            "trace": {"formatted": "Traceback"}, "extra": None}
    error = jsonrpc.jsonrpc_error({"code": -32001, "message": "Method call error", "data": data},
                                  "pool.get_instance", URL)
    assert isinstance(error, errors.CallError)
    assert error.errname == "ENOENT" and error.reason == data["reason"]
    assert error.trace == {"formatted": "Traceback"}
    assert str(error).startswith("-32001: [ENOENT] pool 7 not found (pool.get_instance")
    assert "check the id" in error.hint
    auth = jsonrpc.jsonrpc_error({"code": -32001, "message": "x", "data": {
        "errname": "ENOTAUTHENTICATED", "reason": "Not authenticated"}}, "m", URL)
    assert "not logged in" in auth.hint


def test_error_with_garbage_data() -> None:
    error = jsonrpc.jsonrpc_error({"code": "nope", "message": "x", "data": [1]}, "m", URL)
    assert type(error) is errors.TrueNASAPIError and error.status == 0 and error.data is None


@pytest.mark.parametrize(("error", "cls", "status"), [
    ({"type": "VALIDATION", "reason": "bad", "extra": [["a", "b", 22]]}, errors.ValidationError,
     -32602),
    ({"errname": "ENOMETHOD", "error": 201, "reason": "Method x not found"},
     errors.MethodNotFound, -32601),
    ({"errname": "EACCES", "error": 13, "reason": "Not allowed"}, errors.CallError, -32001),
    ({}, errors.CallError, -32001),
])
def test_legacy_errors(error: dict[str, object], cls: type[errors.TrueNASAPIError],
                       status: int) -> None:
    built = jsonrpc.legacy_error(error, "m", URL)
    assert type(built) is cls and built.status == status
    if cls is errors.ValidationError:
        assert built.errors == [("a", "b", 22)]  # type: ignore[attr-defined]


def test_framings_route_errors_through_their_table() -> None:
    assert isinstance(JSONRPCFraming().error({"code": -32601}, "m", URL), errors.MethodNotFound)
    assert isinstance(LegacyFraming().error({"errname": "ENOMETHOD"}, "m", URL),
                      errors.MethodNotFound)


def test_problems_of_skips_malformed_items() -> None:
    assert jsonrpc.problems_of("nope") == []
    assert jsonrpc.problems_of([["a"], ["b", "m", "x"]]) == [("a", "", 0), ("b", "m", 0)]
