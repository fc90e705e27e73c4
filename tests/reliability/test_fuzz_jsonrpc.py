"""Fuzz JSON-RPC and legacy frames: the decoder, the error mapping and a live reader.

``Framing.decode`` is documented to raise only ``ValueError`` (the reader skips such a
frame); every other outcome is a list of messages. Error objects always become a
:class:`~maas_dyn.errors.TrueNASAPIError`. End to end, hostile frames pushed at a
connected client must leave its reader alive: the next call still succeeds.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maas_dyn._shipped import load_shipped
from maas_dyn.errors import TrueNASAPIError
from maas_dyn.truenas import Client
from maas_dyn.truenas.jsonrpc import JSONRPCFraming, LegacyFraming
from maas_dyn.truenas.messages import Reply
from tests.reliability.fuzzing import fuzz_settings, json_values, record
from tests.truenas.fakes import FakeServer

_ids = st.integers() | st.text(max_size=5) | st.none() | st.lists(st.integers(), max_size=2) \
    | st.dictionaries(st.text(max_size=2), st.integers(), max_size=1) | st.floats() \
    | st.sampled_from(["1", "²", "9" * 40, "-1", "٣"])

_errors = st.fixed_dictionaries({}, optional={
    "code": st.integers() | json_values | st.sampled_from([-32601, -32602, -32001, -32000]),
    "message": json_values, "data": json_values | st.fixed_dictionaries({}, optional={
        "reason": json_values, "errname": json_values, "extra": json_values,
        "trace": json_values, "error": json_values})}) | json_values

_messages = st.fixed_dictionaries({}, optional={
    "jsonrpc": st.sampled_from(["2.0", "1.0", ""]) | json_values,
    "id": _ids, "result": json_values, "error": _errors,
    "method": st.sampled_from(["collection_update", "notify_unsubscribed", "unknown.thing",
                               "", "core.ping"]) | json_values,
    "params": json_values | st.fixed_dictionaries({}, optional={
        "msg": json_values, "collection": json_values, "id": json_values,
        "fields": json_values, "error": json_values}),
    "msg": st.sampled_from(["result", "pong", "ping", "connected", "failed", "ready",
                            "nosub", "added", "changed", "removed", "other"]) | json_values,
    "subs": json_values | st.lists(_ids, max_size=3),
    "$date": st.floats() | st.integers(), "$set": json_values, "$type": st.just("date"),
    "$value": st.text(max_size=12),
})

_special = st.sampled_from([
    b"\xff\xfe\x00", b'{"id": 1, "result": "\xc3\x28"}', "[" * 5000 + "]" * 5000,
    '{"a":' * 3000 + "1" + "}" * 3000, '{"id": 1, "result": ' + '"x' * 1 + "y" * 200_000 + '"}',
    "", "null", "[]", "1e400", '{"id": NaN}', '{"$date": 1e300}', '{"$date": -1e20}',
    '{"msg": "ready", "subs": 5}', '{"msg": "result", "id": ["x"]}', '{"id": {"a": 1}}',
])


def _frames() -> st.SearchStrategy[str | bytes]:
    return (_messages.map(json.dumps) | _special | st.binary(max_size=40)
            | st.text(max_size=40) | _messages.map(lambda m: json.dumps(m).encode()[:-1]))


@fuzz_settings
@given(_frames())
def test_decoders_raise_only_value_error(frame: str | bytes) -> None:
    record("truenas frames (decode + error mapping)")
    for framing in (JSONRPCFraming(), LegacyFraming()):
        try:
            messages = framing.decode(frame)
        except ValueError:
            continue  # the reader's documented "not JSON, skip it"
        for message in messages:
            if isinstance(message, Reply):
                hash(message.id)  # the reader looks replies up by id
                if message.error is not None:
                    error = framing.error(message.error, "pool.query", "wss://nas/api")
                    assert isinstance(error, TrueNASAPIError)
                    str(error)
                    repr(error)


@pytest.fixture
def live() -> Iterator[tuple[Client, FakeServer]]:
    full = load_shipped("truenas", "25.10")
    server = FakeServer(copy.deepcopy({n: full[n] for n in ("core.ping", "pool.query")}))
    client = Client("wss://nas.test/api/current", username="admin", password="pw",
                    opener=server.opener, cache=False, ping_interval=0, call_timeout=5.0)
    try:
        yield client, server
    finally:
        client.close()


@fuzz_settings
@given(frames=st.lists(_frames(), min_size=1, max_size=4))
def test_hostile_frames_leave_the_reader_alive(live: tuple[Client, FakeServer],
                                               frames: list[str | bytes]) -> None:
    record("truenas frames (live reader)")
    client, server = live
    connection = client._connection()
    link = server.link
    for frame in frames:
        link.push(frame if isinstance(frame, str) else frame.decode("latin-1"))
    assert client.call("core.ping") == "pong"
    # Same connection: a dead reader would have been replaced by a silent reconnect.
    assert client._connection() is connection
