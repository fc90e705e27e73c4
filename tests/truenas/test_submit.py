"""The non-blocking seam: Connection.submit and Client.submit / submit_operation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from typing import Any

import pytest

from maas_dyn import errors
from maas_dyn.truenas import Client
from maas_dyn.truenas.jsonrpc import JSONRPCFraming
from maas_dyn.truenas.transport import CallLimits, Connection
from tests.truenas.fakes import DROP, NO_REPLY, FakeServer, call_error

URL = "wss://nas.test/api/current"


@pytest.fixture
def fake() -> FakeServer:
    return FakeServer({})


@pytest.fixture
def conn(fake: FakeServer) -> Iterator[Connection]:
    connection = Connection(fake.opener(URL, True, 1.0), JSONRPCFraming(), url=URL,
                            ping_interval=0, limits=CallLimits(running=2, queued=0))
    connection.start(timeout=2)
    yield connection
    connection.close()


def test_submit_completes_futures_with_results_and_typed_errors(
        fake: FakeServer, conn: Connection) -> None:
    fake.handlers["x.fail"] = lambda: (_ for _ in ()).throw(call_error("boom"))
    assert conn.submit("core.ping", []).result(5) == "pong"
    with pytest.raises(errors.CallError, match="boom"):
        conn.submit("x.fail", []).result(5)


def test_submit_never_waits_for_a_slot_and_cancelling_frees_it(
        fake: FakeServer, conn: Connection) -> None:
    fake.handlers["slow"] = lambda: NO_REPLY
    first, second = conn.submit("slow", []), conn.submit("slow", [])
    with pytest.raises(errors.TooManyConcurrentCalls, match="not sent"):
        conn.submit("core.ping", [])
    assert first.cancel() and second.cancel()
    with pytest.raises(CancelledError):
        first.result(0)
    assert conn.submit("core.ping", []).result(5) == "pong"


def test_submit_on_a_dropped_or_dead_connection(fake: FakeServer, conn: Connection) -> None:
    fake.handlers["die"] = lambda: DROP
    with pytest.raises(errors.ConnectionClosed, match="not re-sent"):
        conn.submit("die", []).result(5)
    with pytest.raises(errors.ConnectionClosed):
        conn.submit("core.ping", []).result(5)


def test_submit_when_sending_fails(fake: FakeServer, conn: Connection) -> None:
    fake.link.closed = True  # writes fail; the reader has not noticed yet
    with pytest.raises(errors.ConnectionClosed):
        conn.submit("core.ping", []).result(5)


@pytest.fixture
def client(server: FakeServer, make_client: Callable[..., Client]) -> Client:
    return make_client()


def test_client_submit_runs_hooks_and_checks_parameters(server: FakeServer,
                                                        client: Client) -> None:
    server.handlers["pool.dataset.query"] = lambda *params: [{"name": "tank/x"}]
    seen: list[tuple[str, Any, Any]] = []
    client.hooks.register("after-call", lambda method, result, error:
                          seen.append((method, result, error)))
    assert client.submit("core.ping").result(5) == "pong"
    operation = client.operation("pool.dataset.query")
    assert client.submit_operation(operation, ([["name", "=", "tank/x"]],), {}).result(5) == \
        [{"name": "tank/x"}]
    with pytest.raises(errors.MethodNotFound):
        client.submit("no.such").result(5)
    with pytest.raises(errors.InvalidParametersError):
        client.submit_operation(operation, ("not a list",), {})
    assert [(m, type(e).__name__ if e else None) for m, _, e in seen] == [
        ("core.ping", None), ("pool.dataset.query", None), ("no.such", "MethodNotFound")]


def test_client_submit_reports_refused_and_cancelled_calls(
        server: FakeServer, make_client: Callable[..., Client]) -> None:
    server.handlers["slow"] = lambda: NO_REPLY
    client = make_client(limits=CallLimits(running=1, queued=0))
    errors_seen: list[Any] = []
    client.hooks.register("after-call", lambda method, result, error: errors_seen.append(error))
    pending = client.submit("slow")
    with pytest.raises(errors.TooManyConcurrentCalls):
        client.submit("core.ping")
    assert pending.cancel()
    assert isinstance(errors_seen[-1], errors.TooManyConcurrentCalls) and len(errors_seen) == 1
