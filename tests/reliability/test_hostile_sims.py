"""Hostile clients against the simulators, which users run as servers in CI (issue 17, D).

Every test starts and stops its own simulator, talks raw sockets on 127.0.0.1 where a
well-behaved client library would hide the attack, and bounds every wait (socket
timeouts, loop counts). Limits are set small through the simulators' ``limits=`` so that
a deadline shows within seconds; each test then allows generous margins.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.truenas import TrueNASSimulator

# How long a test waits for the simulator to act on a ~1 s limit (machine-independent).
_WAIT = 15.0


def _maas(**limits: object) -> MAASSimulator:
    from maas_dyn.sim.maas.server import HttpLimits

    return MAASSimulator(machines=1, limits=HttpLimits(**limits))  # type: ignore[arg-type]


def _truenas(**limits: object) -> TrueNASSimulator:
    from maas_dyn.sim.truenas.limits import ServerLimits

    return TrueNASSimulator(limits=ServerLimits(**limits))  # type: ignore[arg-type]


@contextmanager
def _socket(port: int) -> Iterator[socket.socket]:
    with closing(socket.create_connection(("127.0.0.1", port), timeout=_WAIT)) as sock:
        yield sock


def _answer(sock: socket.socket) -> bytes:
    """Read until the server closes or a whole small answer arrived (bounded)."""
    data = b""
    deadline = time.monotonic() + _WAIT
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = [line.split(b":", 1)[1] for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:")]
        if length and len(body) >= int(length[0]):
            break
    return data


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes the connection within the wait (any bytes it sends first
    are read and dropped)."""
    deadline = time.monotonic() + _WAIT
    sock.settimeout(1.0)
    while time.monotonic() < deadline:
        try:
            if not sock.recv(4096):
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


# --- MAAS ----------------------------------------------------------------------------------


def test_maas_negative_chunk_size_is_refused_not_read_to_eof() -> None:
    with _maas() as sim, _socket(sim.port) as sock:
        sock.sendall(b"POST /MAAS/api/2.0/machines/ HTTP/1.1\r\nHost: x\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n-1\r\n" + b"x" * 1000)
        # The socket stays open for writing: a server reading to EOF would never answer.
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]


@pytest.mark.parametrize("length", [b"-5", b"+5", b"0x10", b"1_0"])
def test_maas_malformed_content_length_is_refused(length: bytes) -> None:
    with _maas() as sim, _socket(sim.port) as sock:
        sock.sendall(b"POST /MAAS/api/2.0/machines/ HTTP/1.1\r\nHost: x\r\nContent-Length: "
                     + length + b"\r\n\r\n")
        assert _answer(sock).startswith(b"HTTP/1.1 400")


def test_maas_slowloris_is_cut_off_at_the_head_deadline() -> None:
    with _maas(idle_timeout=1.0, head_timeout=1.0) as sim, _socket(sim.port) as sock:
        sock.sendall(b"GET /MAAS/api/2.0/version/ HTTP/1.1\r\nX-Slow: ")
        started = time.monotonic()
        cut = False
        for _ in range(int(_WAIT / 0.2)):  # a byte every 0.2 s: each recv would succeed
            try:
                sock.sendall(b"a")
            except OSError:
                cut = True
                break
            sock.settimeout(0.2)
            try:
                if sock.recv(4096) == b"":
                    cut = True
                    break
            except TimeoutError:
                continue
            except OSError:
                cut = True
                break
        assert cut, "the trickling connection was never closed"
        assert time.monotonic() - started < _WAIT


def test_maas_idle_connection_is_closed() -> None:
    with _maas(idle_timeout=1.0) as sim, _socket(sim.port) as sock:
        assert _closed_by_server(sock)


def test_maas_connections_beyond_the_cap_get_503() -> None:
    with _maas(max_connections=2) as sim, _socket(sim.port) as first, \
            _socket(sim.port) as second:
        # Both held open (each has its thread); the third must be refused at once.
        first.sendall(b"GET /MAAS/api/2.0/version/ HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _answer(first).startswith(b"HTTP/1.1 200")
        second.sendall(b"GET /MAAS/api/2.0/version/ HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _answer(second).startswith(b"HTTP/1.1 200")
        with _socket(sim.port) as third:
            assert _answer(third).startswith(b"HTTP/1.1 503")


def test_maas_bodies_beyond_the_in_flight_budget_get_503() -> None:
    with _maas(max_inflight_body_bytes=1000) as sim, _socket(sim.port) as sock:
        sock.sendall(b"POST /MAAS/api/2.0/machines/ HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 5000\r\n\r\n")
        assert _answer(sock).startswith(b"HTTP/1.1 503")


def test_maas_debug_log_hides_query_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="maas_dyn.sim")
    with _maas() as sim, _socket(sim.port) as sock:
        sock.sendall(b"GET /MAAS/api/2.0/files/?op=get_by_key&key=SeKrEtFiLeKeY HTTP/1.1\r\n"
                     b"Host: x\r\nConnection: close\r\n\r\n")
        _answer(sock)
    assert "get_by_key" in caplog.text
    assert "SeKrEtFiLeKeY" not in caplog.text


# --- TrueNAS -------------------------------------------------------------------------------


def test_truenas_upload_is_refused_before_its_body_is_read() -> None:
    with _truenas() as sim, _socket(sim.port) as sock:
        # 60 MB announced, none sent: an anonymous upload must be answered from its head.
        sock.sendall(b"POST /_upload HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: multipart/form-data; boundary=b\r\n"
                     b"Content-Length: 62914560\r\n\r\n")
        assert _answer(sock).startswith(b"HTTP/1.1 401")


def test_truenas_uploads_beyond_the_in_flight_budget_get_503() -> None:
    with _truenas(max_inflight_upload_bytes=1000) as sim, _socket(sim.port) as sock:
        sock.sendall(b"POST /_upload HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
                     + _basic(sim.username, sim.password)
                     + b"\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                       b"Content-Length: 5000\r\n\r\n")
        assert _answer(sock).startswith(b"HTTP/1.1 503")


def _basic(username: str, password: str) -> bytes:
    import base64

    return base64.b64encode(f"{username}:{password}".encode())


def test_truenas_deep_json_gets_an_error_reply_and_the_connection_lives() -> None:
    with _truenas() as sim, ws_connect(sim.url, open_timeout=_WAIT) as ws:
        ws.send("[" * 4000 + "]" * 4000)  # under the 8 kB anonymous limit
        reply = json.loads(ws.recv(timeout=_WAIT))
        assert reply["error"]["code"] == -32700
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "core.ping", "params": []}))
        assert json.loads(ws.recv(timeout=_WAIT))["id"] == 1


@pytest.mark.parametrize("path", ["/_download/a1", "/_download/1a1", "/_download/%31"])
def test_truenas_download_of_a_malformed_id_is_404(path: str) -> None:
    with _truenas() as sim, _socket(sim.port) as sock:
        sock.sendall(f"GET {path}?auth_token=x HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert _answer(sock).startswith(b"HTTP/1.1 404")


def test_truenas_idle_anonymous_websocket_is_closed() -> None:
    with _truenas(auth_timeout=1.0) as sim, ws_connect(sim.url, open_timeout=_WAIT) as ws, \
            pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=_WAIT)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_truenas_logged_in_websocket_outlives_the_auth_deadline() -> None:
    with _truenas(auth_timeout=1.0) as sim, ws_connect(sim.url, open_timeout=_WAIT) as ws:
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "auth.login",
                            "params": [sim.username, sim.password]}))
        assert json.loads(ws.recv(timeout=_WAIT))["result"] is True
        deadline = time.monotonic() + 3.0  # past the 1 s auth deadline
        for call in range(2, 100):
            ws.send(json.dumps({"jsonrpc": "2.0", "id": call, "method": "core.ping"}))
            assert json.loads(ws.recv(timeout=_WAIT))["id"] == call
            if time.monotonic() > deadline:
                break


def test_truenas_connections_beyond_the_cap_get_503() -> None:
    with _truenas(max_connections=2) as sim, ws_connect(sim.url, open_timeout=_WAIT), \
            ws_connect(sim.url, open_timeout=_WAIT), _socket(sim.port) as third:
        third.sendall(b"GET /api/versions HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _answer(third).startswith(b"HTTP/1.1 503")


def test_truenas_slow_request_head_is_cut_off() -> None:
    with _truenas(open_timeout=1.0) as sim, _socket(sim.port) as sock:
        sock.sendall(b"GET /api/versions HTTP/1.1\r\nX-Slow: ")
        assert _closed_by_server(sock)


def test_truenas_debug_log_hides_frames_and_credentials(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="maas_dyn")
    with _truenas() as sim:
        with ws_connect(sim.url, open_timeout=_WAIT) as ws:
            ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "auth.login",
                                "params": [sim.username, sim.password]}))
            ws.recv(timeout=_WAIT)
        with _socket(sim.port) as sock:
            sock.sendall(b"GET /_download/1?auth_token=SeKrEtToKeN HTTP/1.1\r\n"
                         b"Authorization: Bearer SeKrEtBeArEr\r\nHost: x\r\n\r\n")
            _answer(sock)
        password = sim.password
    wire = [r for r in caplog.records if r.name.startswith("maas_dyn.sim")]
    assert wire, "the simulator logged nothing at DEBUG"
    for secret in (password, "SeKrEtToKeN", "SeKrEtBeArEr"):
        assert secret not in caplog.text
