"""The Connection: one reader thread, pipelining, limits, timeouts, keep-alive, closing."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websocket

from maas_dyn import errors
from maas_dyn.truenas import transport
from maas_dyn.truenas.jsonrpc import JSONRPCFraming, LegacyFraming
from maas_dyn.truenas.messages import Event, SubscriptionEnded
from maas_dyn.truenas.transport import CallLimits, Connection
from tests.truenas.fakes import DROP, NO_REPLY, FakeLink, FakeServer, call_error

URL = "wss://nas.test/api/current"


@pytest.fixture
def fake() -> FakeServer:
    return FakeServer({})


@pytest.fixture
def opened(fake: FakeServer) -> Iterator[list[Connection]]:
    made: list[Connection] = []
    yield made
    for conn in made:
        conn.close()


def connect(fake: FakeServer, opened: list[Connection], url: str = URL, **options: Any
            ) -> Connection:
    link = fake.opener(url, True, 1.0)
    framing = LegacyFraming() if url.endswith("/websocket") else JSONRPCFraming()
    options.setdefault("ping_interval", 0)
    conn = Connection(link, framing, url=url, **options)
    opened.append(conn)
    conn.start(timeout=2)
    return conn


def test_call_and_error(fake: FakeServer, opened: list[Connection]) -> None:
    fake.handlers["x.fail"] = lambda: (_ for _ in ()).throw(call_error("boom", "EIO", 5))
    conn = connect(fake, opened)
    assert conn.call("core.ping", []) == "pong"
    with pytest.raises(errors.CallError, match="boom") as caught:
        conn.call("x.fail", [])
    assert caught.value.method == "x.fail" and caught.value.url == URL
    with pytest.raises(errors.MethodNotFound):
        conn.call("no.such", [])
    assert repr(conn) == f"<Connection {URL} jsonrpc open>"


def test_pipelining_from_many_threads(fake: FakeServer, opened: list[Connection]) -> None:
    # Replies come back in reverse order of the requests: each must reach its caller.
    held: list[tuple[FakeLink, Any]] = []
    gate = threading.Event()

    def echo(value: int) -> Any:
        held.append(value)
        if len(held) == 8:
            gate.set()
        return NO_REPLY

    fake.handlers["echo"] = echo
    conn = connect(fake, opened)
    results: dict[int, Any] = {}

    def worker(n: int) -> None:
        results[n] = conn.call("echo", [n], timeout=5)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    assert gate.wait(5)
    for text in reversed(fake.link.sent[-8:]):
        import json

        message = json.loads(text)
        fake.link.push({"jsonrpc": "2.0", "id": message["id"], "result": message["params"][0] * 10})
    for t in threads:
        t.join(5)
    assert results == {n: n * 10 for n in range(8)}


def test_timeout_then_late_reply_is_ignored(fake: FakeServer, opened: list[Connection],
                                            caplog: pytest.LogCaptureFixture) -> None:
    fake.handlers["slow"] = lambda: NO_REPLY
    conn = connect(fake, opened)
    with pytest.raises(errors.Timeout, match="may still run"):
        conn.call("slow", [], timeout=0.05)
    import json

    late_id = json.loads(fake.link.sent[-1])["id"]
    with caplog.at_level(logging.DEBUG, "maas_dyn.truenas"):
        fake.link.push({"jsonrpc": "2.0", "id": late_id, "result": 1})
        assert conn.call("core.ping", []) == "pong"  # the connection still works
    assert "nobody waits" in caplog.text


def test_undecodable_frames_are_skipped(fake: FakeServer, opened: list[Connection],
                                        caplog: pytest.LogCaptureFixture) -> None:
    conn = connect(fake, opened)
    fake.link.push("this is not json")
    assert conn.call("core.ping", []) == "pong"
    assert "not JSON" in caplog.text


def expect_failure(conn: Connection) -> None:
    with pytest.raises(errors.TransportError):
        conn.call("slow", [], 2)


def test_client_side_limits(fake: FakeServer, opened: list[Connection]) -> None:
    fake.handlers["slow"] = lambda: NO_REPLY
    conn = connect(fake, opened, limits=CallLimits(running=2, queued=1))
    threads = [threading.Thread(target=expect_failure, args=(conn,)) for _ in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 2
    while conn._limiter._waiting < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    sent_before = len(fake.link.sent)
    with pytest.raises(errors.TooManyConcurrentCalls, match="was not sent"):
        conn.call("core.ping", [])
    assert len(fake.link.sent) == sent_before
    assert sum(1 for m, _ in fake.calls if m == "slow") == 2  # only `running` on the wire
    conn.close()
    for t in threads:
        t.join(5)


def test_waiting_for_a_slot_times_out(fake: FakeServer, opened: list[Connection]) -> None:
    fake.handlers["slow"] = lambda: NO_REPLY
    conn = connect(fake, opened, limits=CallLimits(running=1, queued=5))
    blocker = threading.Thread(target=expect_failure, args=(conn,))
    blocker.start()
    deadline = time.monotonic() + 5
    while not fake.calls and time.monotonic() < deadline:
        time.sleep(0.005)
    assert fake.calls
    with pytest.raises(errors.Timeout, match="free call slot"):
        conn.call("core.ping", [], timeout=0.05)
    conn.close()
    blocker.join(5)


def test_drop_fails_calls_in_flight_and_they_are_not_resent(fake: FakeServer,
                                                            opened: list[Connection]) -> None:
    fake.handlers["slow"] = lambda: NO_REPLY
    closed: list[str] = []
    conn = connect(fake, opened, on_close=closed.append)
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            conn.call("slow", [], timeout=5)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while len(fake.calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    fake.link.drop()
    for t in threads:
        t.join(5)
    assert len(failures) == 3
    assert all(isinstance(f, errors.ConnectionClosed) for f in failures)
    assert "not re-sent" in str(failures[0]) and failures[0].method == "slow"
    # on_close runs on the reader thread after the callers are failed: wait a bounded time.
    deadline = time.monotonic() + 5
    while not closed and time.monotonic() < deadline:
        time.sleep(0.005)
    assert conn.closed and closed and "closed the connection" in closed[0]
    with pytest.raises(errors.ConnectionClosed):
        conn.call("core.ping", [])
    assert [m for m, _ in fake.calls].count("slow") == 3


def test_handler_drop_mid_call(fake: FakeServer, opened: list[Connection]) -> None:
    fake.handlers["die"] = lambda: DROP
    conn = connect(fake, opened)
    with pytest.raises(errors.ConnectionClosed):
        conn.call("die", [], timeout=5)


def test_send_on_a_dead_link(fake: FakeServer, opened: list[Connection]) -> None:
    conn = connect(fake, opened)
    fake.link.closed = True  # writes fail, the reader has not noticed yet
    with pytest.raises(errors.ConnectionClosed):
        conn.call("core.ping", [])
    conn.unsubscribe("sub-1")  # best effort: no error


def test_notices_reach_the_listener_and_a_failing_listener_is_contained(
        fake: FakeServer, opened: list[Connection], caplog: pytest.LogCaptureFixture) -> None:
    seen: list[Any] = []

    def listener(notice: Any) -> None:
        seen.append(notice)
        if len(seen) == 1:
            raise RuntimeError("listener bug")

    conn = connect(fake, opened, on_notice=listener)
    sub = conn.subscribe("alert.list", timeout=2)
    assert sub.startswith("sub-")
    fake.emit("alert.list", "added", 1, {"a": 1})
    fake.emit("alert.list", "changed", 1, {"a": 2})
    fake.link.push({"jsonrpc": "2.0", "method": "notify_unsubscribed",
                    "params": {"collection": "alert.list", "error": None}})
    assert conn.call("core.ping", []) == "pong"
    assert seen == [Event("added", "alert.list", 1, {"a": 1}),
                    Event("changed", "alert.list", 1, {"a": 2}),
                    SubscriptionEnded("alert.list", "")]
    assert "listener failed" in caplog.text
    conn.unsubscribe(sub)
    assert conn.call("core.ping", []) == "pong"
    assert sub not in fake.subscriptions


def test_legacy_protocol(fake: FakeServer, opened: list[Connection]) -> None:
    seen: list[Any] = []
    conn = connect(fake, opened, url="wss://nas.test/websocket", on_notice=seen.append)
    assert conn.call("core.ping", []) == "pong"
    with pytest.raises(errors.MethodNotFound):
        conn.call("no.such", [])
    sub = conn.subscribe("alert.list", timeout=2)
    fake.emit("alert.list", "added", 3, {"x": 1})
    conn.ping(timeout=2)
    assert seen == [Event("added", "alert.list", 3, {"x": 1})]
    fake.link.push({"msg": "ping", "id": "srv"})
    conn.ping(timeout=2)
    assert '{"msg":"pong","id":"srv"}' in fake.link.sent
    conn.unsubscribe(sub)
    conn.ping(timeout=2)
    assert sub not in fake.subscriptions


def test_legacy_handshake_refused_or_silent(fake: FakeServer, opened: list[Connection]) -> None:
    link = fake.opener("wss://nas.test/websocket", True, 1)
    link.server = type("Refuse", (), {"receive": staticmethod(
        lambda lk, text: lk.push({"msg": "failed", "version": "1"}))})()  # type: ignore[assignment]
    conn = Connection(link, LegacyFraming(), url=URL, ping_interval=0)
    with pytest.raises(errors.ConnectionFailed, match="refused the protocol handshake"):
        conn.start(timeout=2)
    assert conn.closed
    silent = fake.opener("wss://nas.test/websocket", True, 1)
    silent.server = type("Mute", (), {"receive": staticmethod(lambda lk, text: None)})()  # type: ignore[assignment]
    conn = Connection(silent, LegacyFraming(), url=URL, ping_interval=0)
    with pytest.raises(errors.ConnectionFailed, match="did not answer"):
        conn.start(timeout=0.05)
    dead = fake.opener("wss://nas.test/websocket", True, 1)
    dead.closed = True
    conn = Connection(dead, LegacyFraming(), url=URL, ping_interval=0)
    with pytest.raises(errors.ConnectionFailed, match="at once"):
        conn.start(timeout=1)


def test_keepalive_pings_an_idle_connection(fake: FakeServer, opened: list[Connection]) -> None:
    conn = connect(fake, opened, ping_interval=0.05)
    deadline = time.monotonic() + 3
    while not any(m == "core.ping" for m, _ in fake.calls) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert any(m == "core.ping" for m, _ in fake.calls)
    assert not conn.closed


def test_keepalive_cuts_a_dead_peer(fake: FakeServer, opened: list[Connection],
                                    caplog: pytest.LogCaptureFixture) -> None:
    fake.handlers["core.ping"] = lambda: NO_REPLY
    conn = connect(fake, opened, ping_interval=0.05)
    deadline = time.monotonic() + 3
    while not conn.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert conn.closed
    assert "did not answer a keep-alive ping" in caplog.text


def test_keepalive_stops_when_the_connection_drops(fake: FakeServer,
                                                   opened: list[Connection]) -> None:
    fake.handlers["core.ping"] = lambda: DROP
    conn = connect(fake, opened, ping_interval=0.05)
    deadline = time.monotonic() + 3
    while not conn.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    conn.close()
    assert not conn._pinger.is_alive()


def test_close_joins_threads_and_is_idempotent(fake: FakeServer,
                                               opened: list[Connection]) -> None:
    conn = connect(fake, opened, ping_interval=10)
    conn.close()
    assert not conn._reader.is_alive() and not conn._pinger.is_alive()
    assert conn.closed and conn.close_reason == "closed by the client"
    conn.close()


def test_close_before_start(fake: FakeServer) -> None:
    closed: list[str] = []
    conn = Connection(fake.opener(URL, True, 1), JSONRPCFraming(), url=URL, ping_interval=0,
                      on_close=closed.append)
    conn.close()
    assert conn.closed and closed == ["closed by the client"]


# -- the real websocket-client link ---------------------------------------------------------

def test_open_link_failures() -> None:
    with pytest.raises(errors.ConnectionFailed, match="could not connect"):
        transport.open_link("ws://127.0.0.1:9/api/current", timeout=1)


def test_open_link_maps_handshake_and_tls_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import ssl

    left, right = socket.socketpair()
    try:
        monkeypatch.setattr(transport.socket, "create_connection", lambda *a, **k: left)

        def rejected(*a: Any, **k: Any) -> Any:
            raise websocket.WebSocketBadStatusException("Handshake status %d %s", 404,
                                                        "Not Found")

        monkeypatch.setattr(websocket.WebSocket, "connect", rejected)
        with pytest.raises(transport.HandshakeRejected) as caught:
            transport.open_link("ws://nas/api/current")
        assert caught.value.status == 404

        class Untrusted:
            def wrap_socket(self, *a: Any, **k: Any) -> Any:
                error = ssl.SSLCertVerificationError("certificate verify failed")
                error.verify_message = "self-signed certificate"
                raise error

        monkeypatch.setattr(transport, "_ssl_context", lambda verify: Untrusted())
        with pytest.raises(errors.ConnectionFailed, match="verify=False"):
            transport.open_link("wss://nas/api/current")
    finally:
        left.close()
        right.close()


@pytest.mark.parametrize(("verify", "mode", "hostname"), [
    (True, 2, True), (False, 0, False), (__file__, 2, True),
])
def test_tls_options(verify: Any, mode: int, hostname: bool,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    loaded: list[Any] = []
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations",
                        lambda self, *a, **k: loaded.append((a, k)))
    context = transport._ssl_context(verify)
    assert context.verify_mode == mode and context.check_hostname is hostname
    if isinstance(verify, str):
        assert any(verify in (list(a) + list(k.values())) for a, k in loaded)


class _FakeWS:
    def __init__(self, frames: list[Any]):
        self.frames = frames
        self.sock: Any = None
        self.closed = False
        self.lock = threading.Lock()
        self._recv: Any = None

    def recv_data(self) -> Any:
        item = self.frames.pop(0)
        if isinstance(item, Exception):
            raise item
        if item is None:
            return websocket.ABNF.OPCODE_CLOSE, b""
        return websocket.ABNF.OPCODE_TEXT, item

    def shutdown(self) -> None:
        self.closed = True


def test_websocket_link_maps_errors() -> None:
    ws = _FakeWS([b"hello", None, OSError("reset")])
    link = transport.WebSocketLink(ws)  # type: ignore[arg-type]
    assert link.recv() == b"hello"
    with pytest.raises(errors.ConnectionClosed, match="closed the connection"):
        link.recv()
    with pytest.raises(errors.ConnectionClosed, match="lost"):
        link.recv()
    with pytest.raises(errors.ConnectionClosed, match="closed"):
        link.send("x")
    link.close()  # best effort

    class Sock:
        def shutdown(self, how: int) -> None:
            raise OSError("not connected")

    ws.sock = Sock()
    link.abort()
    assert ws.closed
