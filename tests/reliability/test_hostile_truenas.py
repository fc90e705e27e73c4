"""The TrueNAS client against hostile servers: it stays bounded and raises typed errors.

Each test starts a raw-socket server (tests/reliability/hostile_ws.py) that misbehaves
in one way: redirects the upgrade, stops reading, drips headers, claims huge frames,
floods events, sends invalid UTF-8 or ids that only look like ours. Bounds asserted are
generous multiples of the configured timeouts, never tight timings.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from maas_dyn import errors
from maas_dyn.aio.truenas import AsyncClient
from maas_dyn.retry import RetryPolicy
from maas_dyn.truenas import Client
from maas_dyn.truenas.files import upload
from tests.reliability.hostile_ws import CONT, TEXT, HostileServer, Peer, run_bounded

BIG = "x" * (8 * 1024 * 1024)  # far more than the socket buffers of a non-reading peer


def _client(url: str, **options: Any) -> Client:
    # The shipped document: no get_methods round trip; connects on the first call.
    options = {"username": "admin", "password": "pw", "cache": False, "validate": False,
               "retry": RetryPolicy.never(), "ping_interval": 0, **options}
    return Client.from_release("25.10", url=url, **options)


@pytest.fixture
def serve() -> Iterator[Callable[..., HostileServer]]:
    servers: list[HostileServer] = []

    def start(handler: Callable[[Peer], None], **options: Any) -> HostileServer:
        server = HostileServer(handler, **options).__enter__()
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.close()


def _login_then(then: Callable[[Peer], None]) -> Callable[[Peer], None]:
    def handler(peer: Peer) -> None:
        peer.accept()
        peer.login()
        then(peer)
    return handler


# --- 1. redirects -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_upgrade_redirect_is_refused_and_nothing_reaches_the_target(
        serve: Callable[..., HostileServer], status: int) -> None:
    target = serve(_login_then(lambda peer: peer.serve()))

    def redirect(peer: Peer) -> None:
        peer.read_request()
        peer.send_raw(f"HTTP/1.1 {status} Moved\r\nLocation: {target.url}?k=secret\r\n"
                      "Content-Length: 0\r\n\r\n".encode())
        peer.idle()

    origin = serve(redirect)
    client = _client(origin.url, api_key="1-key", password=None)
    try:
        with pytest.raises(errors.RedirectRefused) as caught:
            client.call("core.ping", timeout=5)
        assert caught.value.status == status
        assert "secret" not in str(caught.value) and "secret" not in caught.value.location
        assert target.connections == 0  # the API key never left for the redirect target
        assert client.endpoint.url == origin.url and client.endpoint.secure is False
    finally:
        client.close()


# --- 2. deadlines -----------------------------------------------------------------------


def test_a_peer_that_stops_reading_cannot_hold_a_call_past_its_timeout(
        serve: Callable[..., HostileServer]) -> None:
    server = serve(_login_then(lambda peer: peer.idle()), recv_buffer=4096)
    client = _client(server.url, send_timeout=30)
    try:
        outcome, value, elapsed = run_bounded(
            lambda: client.call("core.echo", BIG, timeout=0.5), 10)
        assert outcome == "raised" and isinstance(value, errors.Timeout), (outcome, value)
        assert elapsed < 5
        # close() does not wait behind the stuck send.
        closed = run_bounded(client.close, 10)
        assert closed[0] == "ok" and closed[2] < 5
    finally:
        server.close()
        client.close()


def test_close_returns_while_another_thread_is_stuck_sending(
        serve: Callable[..., HostileServer]) -> None:
    server = serve(_login_then(lambda peer: peer.idle()), recv_buffer=4096)
    client = _client(server.url, call_timeout=None)
    try:
        assert run_bounded(lambda: client.call("core.ping", timeout=0.2), 10)[0] == "raised"
        stuck = threading.Thread(target=lambda: _swallow(client.call, "core.echo", BIG),
                                 daemon=True)
        stuck.start()
        # Wait (bounded) until the stuck thread holds the socket's send lock.
        lock = client._conn._link._ws.lock  # type: ignore[union-attr]
        deadline = time.monotonic() + 10
        while not lock.locked() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert lock.locked()
        outcome, _, elapsed = run_bounded(client.close, 10)
        assert outcome == "ok" and elapsed < 5
        stuck.join(10)
        assert not stuck.is_alive()
    finally:
        server.close()


def _swallow(action: Callable[..., Any], *args: Any) -> None:
    with contextlib.suppress(errors.MaasDynError):
        action(*args)


def test_async_send_to_a_non_reading_peer_never_blocks_the_loop(
        serve: Callable[..., HostileServer]) -> None:
    server = serve(_login_then(lambda peer: peer.idle()), recv_buffer=4096)
    client = _client(server.url)

    async def scenario() -> tuple[float, BaseException | None, float]:
        nas = AsyncClient(client)
        stop = asyncio.Event()
        worst = 0.0

        async def heartbeat() -> None:
            nonlocal worst
            last = time.monotonic()
            while not stop.is_set():
                await asyncio.sleep(0.02)
                now = time.monotonic()
                worst, last = max(worst, now - last), now

        beat = asyncio.create_task(heartbeat())
        started = time.monotonic()
        error: BaseException | None = None
        try:
            await asyncio.wait_for(nas.call("core.echo", BIG, timeout=0.5), 3)
        except (errors.MaasDynError, asyncio.TimeoutError) as exc:
            error = exc
        elapsed = time.monotonic() - started
        stop.set()
        await beat
        await nas.aclose()
        return worst, error, elapsed

    outcome, value, _ = run_bounded(lambda: asyncio.run(scenario()), 20)
    try:
        assert outcome == "ok", (outcome, value)
        worst, error, elapsed = value
        assert isinstance(error, errors.Timeout), error
        assert elapsed < 3
        assert worst < 1.0, f"the event loop stalled for {worst:.2f} s"
    finally:
        server.close()
        client.close()


def test_dripped_upgrade_headers_cannot_outlast_connect_timeout(
        serve: Callable[..., HostileServer]) -> None:
    def drip(peer: Peer) -> None:
        peer.read_request()
        peer.send_raw(b"HTTP/1.1 101 Switching Protocols\r\n")
        for _ in range(400):  # 400 * 0.1 s: far past the timeout, still bounded
            peer.send_raw(b"X")
            if peer.stop.wait(0.1):
                return

    server = serve(drip)
    client = _client(server.url, connect_timeout=0.5)
    try:
        outcome, value, elapsed = run_bounded(lambda: client.call("core.ping", timeout=30),
                                              15)
        assert outcome == "raised" and isinstance(value, errors.Timeout), (outcome, value)
        assert elapsed < 5
    finally:
        server.close()
        client.close()


def test_a_call_timeout_covers_the_reconnect_and_login_it_triggers(
        serve: Callable[..., HostileServer]) -> None:
    def never_logs_in(peer: Peer) -> None:
        peer.accept()
        peer.recv_json()  # auth.login_ex, never answered
        peer.idle()

    server = serve(never_logs_in)
    client = _client(server.url, call_timeout=8)
    try:
        outcome, value, elapsed = run_bounded(lambda: client.call("core.ping", timeout=0.3),
                                              20)
        assert outcome == "raised" and isinstance(value, errors.Timeout), (outcome, value)
        assert elapsed < 2.5  # 8 s (login's own call_timeout) would be far past it
    finally:
        server.close()
        client.close()


# --- 3. limits ---------------------------------------------------------------------------


def _hold_request_then(send: Callable[[Peer], None]) -> Callable[[Peer], None]:
    def handler(peer: Peer) -> None:
        peer.accept()
        peer.login()
        peer.recv_json()
        send(peer)
        peer.idle()
    return handler


def test_a_frame_header_claiming_a_terabyte_is_refused(
        serve: Callable[..., HostileServer]) -> None:
    def huge(peer: Peer) -> None:
        peer.send_raw(peer.frame(TEXT, b"", length=1 << 40))
        chunk = b"[" * 65536
        for _ in range(64):  # 4 MiB of it, then idle: bounded
            peer.send_raw(chunk)

    server = serve(_hold_request_then(huge))
    client = _client(server.url, max_frame_bytes=1 << 20)
    try:
        outcome, value, _ = run_bounded(lambda: client.call("core.ping", timeout=5), 15)
        assert outcome == "raised" and isinstance(value, errors.LimitExceeded), value
        assert value.limit == "max_frame_bytes" and "max_frame_bytes=" in str(value)
    finally:
        server.close()
        client.close()


def test_endless_continuation_frames_are_refused(serve: Callable[..., HostileServer]) -> None:
    def endless(peer: Peer) -> None:
        peer.send_raw(peer.frame(TEXT, b"[", fin=False))
        for _ in range(64):  # 64 * 64 KiB, never finished
            peer.send_raw(peer.frame(CONT, b"1," * 32768, fin=False))

    server = serve(_hold_request_then(endless))
    client = _client(server.url, max_message_bytes=1 << 20)
    try:
        outcome, value, _ = run_bounded(lambda: client.call("core.ping", timeout=5), 15)
        assert outcome == "raised" and isinstance(value, errors.LimitExceeded), value
        assert value.limit == "max_message_bytes"
        # The connection is replaced on the next call; the limit does not stick.
        assert client.connected is False
    finally:
        server.close()
        client.close()


def test_endless_upgrade_headers_are_refused(serve: Callable[..., HostileServer]) -> None:
    def headers(peer: Peer) -> None:
        peer.read_request()
        peer.send_raw(b"HTTP/1.1 101 Switching Protocols\r\n")
        for number in range(2000):  # ~1 MiB of headers, bounded
            peer.send_raw(f"X-Filler-{number}: {'a' * 500}\r\n".encode())
        peer.idle()

    server = serve(headers)
    client = _client(server.url, connect_timeout=10)
    try:
        outcome, value, _ = run_bounded(lambda: client.call("core.ping", timeout=20), 25)
        assert outcome == "raised" and isinstance(value, errors.LimitExceeded), value
        assert value.limit == "max_header_bytes"
    finally:
        server.close()
        client.close()


def test_an_event_flood_is_bounded_and_close_skips_the_backlog(
        serve: Callable[..., HostileServer]) -> None:
    flooded = threading.Event()

    def flood(peer: Peer) -> None:
        peer.accept()
        peer.login()
        request = peer.recv_json()  # core.subscribe
        peer.reply(request, "sub-1")
        event = {"jsonrpc": "2.0", "method": "collection_update",
                 "params": {"msg": "changed", "collection": "alert.list", "id": 1,
                            "fields": {"n": 0}}}
        frame = peer.frame(TEXT, json.dumps(event).encode())
        peer.send_raw(frame * 5000)
        flooded.set()
        peer.idle()

    server = serve(flood)
    client = _client(server.url, max_queued_events=100)
    release = threading.Event()
    seen: list[Any] = []

    def slow(event: Any) -> None:
        seen.append(event)
        release.wait(10)  # the first callback holds the dispatcher

    try:
        subscription = client.subscribe("alert.list", slow)
        assert flooded.wait(10)
        deadline = time.monotonic() + 10
        while subscription.dropped < 4000 and time.monotonic() < deadline:
            time.sleep(0.01)  # a wait for the reader to route the flood, bounded
        assert subscription.dropped >= 4000
        assert len(client._hub._queue) <= 100
        outcome, _, elapsed = run_bounded(client.close, 15)
        assert outcome == "ok" and elapsed < 5
        assert len(seen) <= 2  # the backlog was not run by close()
    finally:
        release.set()
        server.close()
        client.close()


# --- 4. typed errors only ------------------------------------------------------------------


def test_an_invalid_utf8_frame_does_not_kill_the_reader(
        serve: Callable[..., HostileServer]) -> None:
    def bad_then_good(peer: Peer) -> None:
        request = peer.recv_json()
        peer.send_raw(peer.frame(TEXT, b'{"jsonrpc": "2.0", "id": 99, "result": "\xff\xfe"}'))
        peer.reply(request, "pong")
        peer.serve()

    server = serve(_login_then(bad_then_good))
    client = _client(server.url)
    try:
        outcome, value, _ = run_bounded(lambda: client.call("core.ping", timeout=5), 10)
        assert (outcome, value) == ("ok", "pong"), value
        assert client.call("core.ping", timeout=5) == "pong"
    finally:
        server.close()
        client.close()


@pytest.mark.parametrize("fake_id", [True, 1.0])
def test_ids_that_only_compare_equal_are_not_ours(
        serve: Callable[..., HostileServer], fake_id: Any) -> None:
    def liar(peer: Peer) -> None:
        peer.accept()
        request = peer.recv_json()  # auth.login_ex, request 1
        assert request["id"] == 1
        peer.send_json({"jsonrpc": "2.0", "id": fake_id,
                        "result": {"response_type": "AUTH_ERR"}})
        peer.reply(request, {"response_type": "SUCCESS"})
        peer.serve()

    server = serve(liar)
    client = _client(server.url)
    try:
        outcome, value, _ = run_bounded(lambda: client.call("core.ping", timeout=5), 10)
        assert (outcome, value) == ("ok", "pong"), value
    finally:
        server.close()
        client.close()


def test_a_garbage_stream_raises_only_typed_errors(serve: Callable[..., HostileServer]) -> None:
    garbage = [b"\xff" * 10, b"null", b"[1,2", b'{"id": [1]}', b'{"id": 1, "error": 5}',
               b'{"jsonrpc": "2.0", "id": 1, "error": {"code": "x", "data": [1]}}']

    def noisy(peer: Peer) -> None:
        peer.accept()
        peer.recv_json()
        for blob in garbage:
            peer.send_raw(peer.frame(TEXT, blob))
        peer.send_raw(peer.frame(0x2, b"\x00\x01"))
        peer.send_raw(b"\x8f\x00")  # reserved opcode: a protocol error
        peer.idle()

    server = serve(noisy)
    client = _client(server.url)
    try:
        outcome, value, _ = run_bounded(lambda: client.call("core.ping", timeout=3), 10)
        assert outcome == "raised" and isinstance(value, errors.MaasDynError), value
    finally:
        server.close()
        client.close()


# --- 5. TLS verification wins over the environment ------------------------------------------


class _Capture(requests.adapters.HTTPAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.verify: list[Any] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.verify.append(kwargs.get("verify"))
        response = requests.Response()
        response.status_code = 200
        response._content = b'{"job_id": 7}'
        response.request = request
        return response


@pytest.mark.parametrize("verify", [False, "/etc/my-nas-ca.pem"])
def test_file_transfers_use_the_verify_the_user_passed(
        monkeypatch: pytest.MonkeyPatch, verify: Any) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/env/requests-ca.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/env/curl-ca.pem")
    client = _client("wss://127.0.0.1:1/api/current", verify=verify)
    try:
        session = client._session()
        capture = _Capture()
        session.mount("https://", capture)
        assert upload(session, "https://127.0.0.1:1", "token", "filesystem.put",
                      ["/tmp/x", {}], source=io.BytesIO(b"data")) == 7
        assert capture.verify == [verify]
    finally:
        client.close()
