"""Fixtures for the maas-dyn CLI tests: a stored 3.7 profile, a recording transport,
in-process runs, and a real HTTP server on 127.0.0.1 for subprocess runs."""

from __future__ import annotations

import io
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from maas_dyn.cli._common.profiles import Profile, ProfileStore
from maas_dyn.cli.maas import main
from maas_dyn.maas import MockTransport, RawResponse
from maas_dyn.maas.encode import PreparedRequest

ROOT = Path(__file__).resolve().parents[2]
API = "http://127.0.0.1:5240/MAAS/api/2.0"
KEY = "consumerKEY123:tokenKEY456789:secretSECRET0123456789"
JSON_HEADERS = {"Content-Type": "application/json"}

Reply = RawResponse | Callable[[PreparedRequest], RawResponse]


def json_reply(data: Any, status: int = 200, headers: dict[str, str] | None = None
               ) -> RawResponse:
    return RawResponse(status, {**JSON_HEADERS, **(headers or {})}, json.dumps(data).encode())


def text_reply(status: int, text: str) -> RawResponse:
    return RawResponse(status, {"Content-Type": "text/plain"}, text.encode())


class Recorder(MockTransport):
    """A MockTransport answering from a queue of replies (then a default)."""

    def __init__(self, default: Reply | None = None) -> None:
        super().__init__(self._answer)
        self.queue: list[Reply] = []
        self.default: Reply = default or json_reply({})

    def _answer(self, request: PreparedRequest, authorization: str | None) -> RawResponse:
        reply = self.queue.pop(0) if self.queue else self.default
        return reply(request) if callable(reply) else reply

    @property
    def last(self) -> PreparedRequest:
        return self.requests[-1][0]


@dataclass
class Result:
    code: int
    out: str
    err: str
    transport: Recorder = field(repr=False, default_factory=Recorder)


@pytest.fixture
def store(doc37: Any) -> ProfileStore:
    profiles = ProfileStore()
    profiles.save(Profile("admin", API + "/", KEY, doc37))
    return profiles


@pytest.fixture
def cli(store: ProfileStore, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run main() in-process; returns code, stdout, stderr and the transport used."""

    def run(*argv: str, transport: Recorder | None = None) -> Result:
        used = transport or Recorder()
        code = main(list(argv), transport=used)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err, used)

    return run


def multipart(request: PreparedRequest) -> list[tuple[str, str | None, bytes]]:
    """(name, filename, content) of each part of a multipart body, in order."""
    assert request.body is not None
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    return [
        (part.get_param("name", header="content-disposition"), part.get_filename(),
         part.get_payload(decode=True))
        for part in message.iter_parts()
    ]


class FakeTTY(io.StringIO):
    """A text stream that says it is a terminal, with a bytes buffer beside it."""

    def __init__(self) -> None:
        super().__init__()
        self.buffer = io.BytesIO()

    def isatty(self) -> bool:
        return True


# -- a real HTTP server on 127.0.0.1, for subprocess runs ----------------------------------


@dataclass
class Served:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalServer:
    url: str
    routes: dict[str, Callable[[Served], tuple[int, dict[str, str], bytes]]]
    seen: list[Served]


@pytest.fixture
def local_server(doc37: Any) -> Iterator[LocalServer]:
    """A tiny region on 127.0.0.1: describe, whoami, and anything else from `routes`."""
    yield from _serve(doc37)


@dataclass
class TLSServer:
    server: LocalServer
    ca_pem: Path


@pytest.fixture
def tls_server(doc37: Any, tmp_path: Path) -> Iterator[TLSServer]:
    """The tiny region over HTTPS, with a certificate from a private CA (trustme)."""
    import ssl

    import trustme

    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_pem = tmp_path / "private-ca.pem"
    authority.cert_pem.write_to_path(str(ca_pem))
    for served in _serve(doc37, context):
        yield TLSServer(served, ca_pem)


def _serve(doc37: Any, context: Any = None) -> Iterator[LocalServer]:
    described = json.dumps(doc37).encode()
    api_hash = {"X-MAAS-API-Hash": doc37["hash"]}
    routes: dict[str, Callable[[Served], tuple[int, dict[str, str], bytes]]] = {
        "/MAAS/api/2.0/describe/": lambda r: (200, {**JSON_HEADERS, **api_hash}, described),
        "/MAAS/api/2.0/users/": lambda r: (200, {**JSON_HEADERS, **api_hash},
                                           b'{"username": "admin", "is_superuser": true}'),
    }
    seen: list[Served] = []

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            served = Served(self.command, self.path, dict(self.headers),
                            self.rfile.read(length) if length else b"")
            seen.append(served)
            route = routes.get(self.path.split("?")[0])
            status, headers, body = route(served) if route else (404, {}, b"no such path")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _reply  # noqa: N815 - http.server's names

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "http" if context is None else "https"
    try:
        yield LocalServer(f"{scheme}://127.0.0.1:{server.server_address[1]}/MAAS/", routes,
                          seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def run_subprocess(*argv: str, stdin: str = "", env: dict[str, str] | None = None
                   ) -> tuple[int, str, str]:
    import subprocess

    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    done = subprocess.run([sys.executable, "-m", "maas_dyn.cli.maas", *argv], input=stdin,
                          capture_output=True, text=True, env=environment, cwd=ROOT,
                          timeout=60, check=False)
    return done.returncode, done.stdout, done.stderr


# -- a simulated region for command runs, and Ctrl-C sent to a real maas-dyn process --------


@pytest.fixture
def region() -> Iterator[Any]:
    """A fast simulated region of 10 machines (its clock 20,000 times real time)."""
    from maas_dyn.sim.maas import MAASSimulator

    with MAASSimulator(machines=10, speed=20_000.0) as simulator:
        yield simulator


@pytest.fixture
def region_cli(region: Any, doc37: Any, capsys: pytest.CaptureFixture[str]
               ) -> Callable[..., Result]:
    """Run ``maas-dyn`` in-process against :func:`region`, stored as the profile ``region``."""
    ProfileStore().save(Profile("region", f"{region.url}api/2.0/", region.api_key, doc37))

    def run(*argv: str) -> Result:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def counted(sim: Any, handler: str, op: str) -> int:
    """Requests the simulator received for a handler's action (any HTTP method)."""
    return sum(n for (_, name, action), n in sim.request_counts.items()
               if (name, action) == (handler, op))


def wait_until(predicate: Callable[[], bool], seconds: float = 60.0) -> bool:
    """Poll ``predicate`` until it holds or ``seconds`` pass; whether it held."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def interrupt_cli(argv: list[str], ready: Callable[[], bool]) -> tuple[int, str, str]:
    """Run ``maas-dyn ARGV`` as a process and press Ctrl-C once ``ready()`` holds.

    Returns:
        ``(exit code, stdout, stderr)``; the process is killed if it outlives the bounds.
    """
    import signal
    import subprocess

    process = subprocess.Popen([sys.executable, "-m", "maas_dyn.cli.maas", *argv],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert wait_until(ready), "the command never reached the point to interrupt"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, out, err
