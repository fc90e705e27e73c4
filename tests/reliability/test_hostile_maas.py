"""The MAAS client against hostile or broken servers (issue 17).

Each test runs a raw-socket server (tests/reliability/hostile_http.py) that breaks one
rule of HTTP or of good manners, and checks that the client stays bounded in time and
memory, never sends what it must not, and raises only ``maas_dyn.errors`` types.
Time bounds are generous (a loaded CI machine passes); what they catch is "hangs for as
long as the server likes", not "is slow".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from maas_dyn import errors
from maas_dyn._cache import DescriptionCache
from maas_dyn.maas import Client
from maas_dyn.maas.encode import PreparedRequest
from maas_dyn.maas.transport import RequestsTransport
from maas_dyn.retry import RetryPolicy
from tests.reliability.hostile_http import (
    Conn,
    HostileServer,
    Request,
    describe_bytes,
    gzip_bomb,
    serving,
    tiny_description,
)

KEY = "consumer:token:secret"
SECRET = "hunter2-power-pass"
GENEROUS = 30.0  # seconds: "returned at all", not "was fast"
JSON = {"Content-Type": "application/json"}


def client_for(server: HostileServer, **options: Any) -> Client:
    """A client of the tiny description whose calls go to ``server``."""
    options.setdefault("retry", RetryPolicy.never())
    options.setdefault("cache", False)
    return Client(server.url, KEY, description=tiny_description(), **options)


def ok(conn: Conn, request: Request) -> None:
    conn.respond(200, b'{"ok": true}', JSON)


@pytest.fixture
def other() -> Iterator[HostileServer]:
    with serving(ok) as server:
        yield server


# --- 1. redirects ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [307, 308])
def test_a_redirect_to_another_origin_gets_neither_body_nor_credentials(
        other: HostileServer, status: int) -> None:
    def redirect(conn: Conn, request: Request) -> None:
        location = other.origin.replace("//", f"//admin:{SECRET}@") + "/steal/?password=" + SECRET
        conn.respond(status, headers={"Location": location})

    with serving(redirect) as server, client_for(server) as client, \
            pytest.raises(errors.RedirectRefused) as caught:
        client.machine.deploy("abc123", power_pass=SECRET)
    assert not [r for r in other.requests if r.body or "authorization" in r.headers]
    assert caught.value.status == status and "/steal/" in caught.value.location
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(("status", "location"), [(302, None), (301, None), (304, None),
                                                  (300, "/MAAS/elsewhere/")])
def test_a_3xx_that_is_not_followed_is_an_error(status: int, location: str | None) -> None:
    headers = {"Location": location} if location else {}

    def answer(conn: Conn, request: Request) -> None:
        conn.respond(status, b'{"not": "the answer"}', {**JSON, **headers})

    with serving(answer) as server, client_for(server) as client, \
            pytest.raises(errors.RedirectRefused) as caught:
        client.machines.read()
    assert caught.value.status == status


def test_a_same_origin_redirect_is_followed_and_signed_afresh() -> None:
    def answer(conn: Conn, request: Request) -> None:
        if request.target.startswith("/MAAS/api/2.0/machines/abc123/"):
            conn.respond(307, headers={"Location": "/MAAS/api/2.0/moved/abc123/?op=deploy"})
        else:
            conn.respond(200, b'{"deployed": true}', JSON)

    with serving(answer) as server, client_for(server) as client:
        assert client.machine.deploy("abc123", power_pass=SECRET) == {"deployed": True}
        first, second = server.requests
    assert second.target == "/MAAS/api/2.0/moved/abc123/?op=deploy"
    assert second.method == "POST" and SECRET.encode() in second.body
    nonces = [_nonce(r.headers["authorization"]) for r in (first, second)]
    assert nonces[0] != nonces[1]  # the server refuses a nonce seen before


def test_a_redirect_loop_stops() -> None:
    def loop(conn: Conn, request: Request) -> None:
        conn.respond(302, headers={"Location": request.target})

    with serving(loop) as server, client_for(server, max_redirects=3) as client, \
            pytest.raises(errors.RedirectRefused, match="max_redirects"):
        client.machines.read()
    assert len(server.requests) == 4


def _nonce(header: str) -> str:
    return next(part.split("=", 1)[1] for part in header.split(",") if "oauth_nonce" in part)


# --- 2. deadlines ---------------------------------------------------------------------


def test_a_describe_dripped_one_byte_at_a_time_ends_at_the_deadline() -> None:
    body = describe_bytes()

    def drip(conn: Conn, request: Request) -> None:
        if conn.send(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode()):
            conn.drip(body, 0.2)

    with serving(drip) as server:
        started = time.monotonic()
        with pytest.raises(errors.Timeout, match="deadline"):
            Client(server.url, timeout=(2, 5), deadline=1.5, retry=RetryPolicy.never(),
                   cache=False)
        assert time.monotonic() - started < GENEROUS


def test_headers_dripped_one_byte_at_a_time_end_at_the_deadline() -> None:
    def drip(conn: Conn, request: Request) -> None:
        conn.drip(b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 1000 + b"\r\n\r\n", 0.2)

    with serving(drip) as server, client_for(server, timeout=(2, 5), deadline=1.5) as client:
        started = time.monotonic()
        with pytest.raises(errors.Timeout, match="deadline"):
            client.machines.read()
        assert time.monotonic() - started < GENEROUS


def test_the_aio_client_keeps_the_loop_running_and_ends_at_the_deadline() -> None:
    from maas_dyn.aio.maas import AsyncClient

    def drip(conn: Conn, request: Request) -> None:
        if conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100000\r\n\r\n"):
            conn.drip(b"[" * 1000, 0.2)

    async def main(server: HostileServer) -> tuple[int, BaseException | None]:
        ticks = 0
        done = asyncio.Event()

        async def heartbeat() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        beat = asyncio.ensure_future(heartbeat())
        aio = AsyncClient(client_for(server, timeout=(2, 5), deadline=1.5))
        caught = None
        try:
            await asyncio.wait_for(aio.machines.read(), GENEROUS)
        except errors.Timeout as exc:
            caught = exc
        finally:
            done.set()
            await beat
            await aio.aclose()
        return ticks, caught

    with serving(drip) as server:
        ticks, caught = asyncio.run(main(server))
    assert isinstance(caught, errors.Timeout)
    assert ticks > 5  # the loop ran while the call waited


def test_every_limit_and_deadline_is_in_the_limits_table() -> None:
    table = (Path(__file__).resolve().parents[2] / "docs" / "limits.md").read_text()
    maas = table.split("## MAAS", 1)[1].split("## ", 1)[0]
    for keyword in ("deadline", "max_body_bytes", "max_header_bytes", "max_redirects",
                    "max_entries", "timeout"):
        assert f"{keyword}=" in maas, keyword


# --- 3. size limits -------------------------------------------------------------------


def test_an_endless_body_stops_at_max_body_bytes() -> None:
    def endless(conn: Conn, request: Request) -> None:
        if not conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n"):
            return
        chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
        for _ in range(2048):  # at most 128 MiB, far past the limit under test
            if not conn.send(chunk):
                return

    with serving(endless) as server, \
            client_for(server, max_body_bytes=4 << 20) as client, \
            pytest.raises(errors.LimitExceeded) as caught:
        client.machines.read()
    assert caught.value.limit == "max_body_bytes"
    assert "max_body_bytes=" in str(caught.value)  # says how to raise it
    assert len(server.requests) == 1  # not retried: the same answer would come back


def test_a_gzip_bomb_stops_at_max_body_bytes() -> None:
    bomb = gzip_bomb(1 << 30)  # about 1 MB on the wire, 1 GiB inflated

    def answer(conn: Conn, request: Request) -> None:
        conn.respond(200, bomb, {**JSON, "Content-Encoding": "gzip"})

    with serving(answer) as server, \
            client_for(server, max_body_bytes=8 << 20, retry=RetryPolicy()) as client, \
            pytest.raises(errors.LimitExceeded) as caught:
        client.machines.read()
    assert caught.value.limit == "max_body_bytes"
    assert len(server.requests) == 1


def test_an_announced_huge_body_is_refused_before_reading() -> None:
    def answer(conn: Conn, request: Request) -> None:
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 99999999999\r\n\r\n{")

    with serving(answer) as server, client_for(server) as client, \
            pytest.raises(errors.LimitExceeded, match="max_body_bytes"):
        client.machines.read()


@pytest.mark.parametrize("shape", ["many", "long line", "too many lines"])
def test_oversized_headers_are_a_limit(shape: str) -> None:
    headers = {
        "many": b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 4000) for i in range(30)),
        "long line": b"X-Long: " + b"v" * 100_000 + b"\r\n",
        "too many lines": b"".join(b"X-%d: v\r\n" % i for i in range(200)),
    }[shape]

    def answer(conn: Conn, request: Request) -> None:
        conn.send(b"HTTP/1.1 200 OK\r\n" + headers + b"Content-Length: 2\r\n\r\n{}")

    with serving(answer) as server, client_for(server) as client, \
            pytest.raises(errors.LimitExceeded) as caught:
        client.machines.read()
    assert caught.value.limit == "max_header_bytes"


def test_the_description_cache_keeps_at_most_max_entries_per_server(tmp_path: Path) -> None:
    cache = DescriptionCache("maas", root=tmp_path, max_entries=3)
    url = "http://region:5240/MAAS/"
    for index in range(10):
        cache.store(url, f"hash{index:02d}", b"{}" + b" " * index)
    folder = next((tmp_path / "maas").iterdir())
    assert len(list(folder.glob("*.json"))) == 3
    assert cache.load(url) == ("hash09", b"{}" + b" " * 9)
    assert DescriptionCache("maas", root=tmp_path).max_entries >= 1  # a default exists


# --- 5. typed errors only -------------------------------------------------------------


@pytest.mark.parametrize("charset", ["rot13", "hex", "base64", "zlib", "bz2", "uu", "idna",
                                     "no-such-codec", "utf-16"])
def test_any_charset_decodes_or_falls_back(charset: str) -> None:
    def answer(conn: Conn, request: Request) -> None:
        conn.respond(200, b"plain text", {"Content-Type": f"text/plain; charset={charset}"})

    with serving(answer) as server, client_for(server) as client:
        assert isinstance(client.machines.read(), str)


RAW_ANSWERS = {
    "negative chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                           b"Content-Type: application/json\r\n\r\n-5\r\nabc\r\n0\r\n\r\n",
    "junk chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "junk status line": b"HTTTP/9 two hundred\r\n\r\n",
    "no status line": b"\r\n\r\n",
    "status 999": b"HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n",
    "status 000": b"HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n",
    "negative length": b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n{}",
    "two lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\n{}",
    "short body": b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{}",
    "bad gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope",
    "bad deflate": b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n"
                   b"Content-Length: 4\r\n\r\nnope",
    "unknown encoding": b"HTTP/1.1 200 OK\r\nContent-Encoding: br, zstd, x\r\n"
                        b"Content-Length: 2\r\n\r\n{}",
    "deep json": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                 b"100000\r\n\r\n" + b"[" * 100_000,
    "nul in headers": b"HTTP/1.1 200 OK\r\nX-A\x00: \x00\r\nContent-Length: 0\r\n\r\n",
    "latin-1 location": b"HTTP/1.1 302 Found\r\nLocation: /\xe9\xff\x00/\r\n"
                        b"Content-Length: 0\r\n\r\n",
    "header folding": b"HTTP/1.1 200 OK\r\n X-Folded: x\r\nContent-Length: 0\r\n\r\n",
    "hang up": b"",
}


@pytest.mark.parametrize("name", sorted(RAW_ANSWERS))
def test_whatever_the_server_sends_only_maas_dyn_errors_escape(name: str) -> None:
    def answer(conn: Conn, request: Request) -> None:
        conn.send(RAW_ANSWERS[name])

    with serving(answer) as server, client_for(server) as client:
        with contextlib.suppress(errors.MaasDynError):
            client.machines.read()
        try:
            client.machine.deploy("abc", power_pass=SECRET)
        except errors.MaasDynError as exc:
            assert SECRET not in str(exc)


def test_a_nul_in_a_resource_name_is_usable_and_stays_usable() -> None:
    document = tiny_description(extra=[{"name": "Ev\x00ilHandler", "auth": {
        "name": "Ev\x00ilHandler", "doc": "", "params": [], "path": "/MAAS/api/2.0/evil/",
        "actions": [{"name": "read", "method": "GET", "op": None, "restful": True,
                     "doc": ""}]}, "anon": None}])
    client = Client.from_description(document, cache=False)
    names = [name for name in client.handlers if name not in ("machine", "machines")]
    for _ in range(2):  # the second access used to raise KeyError
        handler = client.handlers[names[0]]
        assert callable(handler.read)


@pytest.mark.parametrize("via", ["served as JSON", "served as text", "description=",
                                 "the cache"])
def test_a_deeply_nested_description_is_a_description_error(via: str, tmp_path: Path) -> None:
    deep = b"[" * 100_000
    media = "text/plain" if via == "served as text" else "application/json"

    def answer(conn: Conn, request: Request) -> None:
        conn.respond(200, deep, {"Content-Type": media})

    with serving(answer) as server:
        if via == "description=":
            with pytest.raises(errors.DescriptionError):
                Client(server.url, description=deep, cache=False)
        elif via == "the cache":
            cache = DescriptionCache("maas", root=tmp_path)
            cache.store(server.url, "0" * 40, deep)
            # The corrupt entry is ignored and the (equally bad) server asked instead.
            with pytest.raises(errors.DescriptionError):
                Client(server.url, cache=cache, retry=RetryPolicy.never())
        else:
            with pytest.raises(errors.DescriptionError):
                Client(server.url, cache=False, retry=RetryPolicy.never())


# --- 6. TLS: what the user passes as verify wins ----------------------------------------


class _RecordingAdapter(requests.adapters.BaseAdapter):
    """Records the ``verify`` requests hands to the adapter after merging settings."""

    def __init__(self) -> None:
        super().__init__()
        self.verify: list[Any] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.verify.append(kwargs.get("verify"))
        response = requests.Response()
        response.status_code, response.request = 200, request
        response.headers["Content-Type"] = "application/json"
        response.raw = __import__("io").BytesIO(b"{}")
        return response

    def close(self) -> None:
        """Nothing to close."""


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
@pytest.mark.parametrize("verify", [False, "/path/to/private-ca.pem"])
def test_verify_given_by_the_user_wins_over_the_environment(
        monkeypatch: pytest.MonkeyPatch, variable: str, verify: bool | str) -> None:
    monkeypatch.setenv(variable, "/etc/some/other-bundle.pem")
    transport = RequestsTransport(verify=verify)
    adapter = _RecordingAdapter()
    transport.session.mount("https://", adapter)
    transport.send(PreparedRequest("GET", "https://region/MAAS/api/2.0/machines/"), None, 5)
    assert adapter.verify == [verify]


def test_verify_true_lets_the_environment_name_the_bundle(monkeypatch: pytest.MonkeyPatch) \
        -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/corporate-ca.pem")
    transport = RequestsTransport()
    adapter = _RecordingAdapter()
    transport.session.mount("https://", adapter)
    transport.send(PreparedRequest("GET", "https://region/MAAS/api/2.0/machines/"), None, 5)
    assert adapter.verify == ["/etc/corporate-ca.pem"]


def test_json_for_the_record() -> None:
    # The tiny description really is a valid one (a broken fixture would make the
    # hostile tests pass for the wrong reason).
    assert Client.from_description(json.loads(describe_bytes()), cache=False).machine.deploy
