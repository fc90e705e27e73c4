"""A raw-socket HTTP server on 127.0.0.1 that misbehaves on purpose.

``http.server`` and the simulators speak correct HTTP; the tests of
``test_hostile_maas.py`` need a server that drips bytes, lies about sizes, sends
malformed chunks, endless bodies and decompression bombs, or redirects anywhere. Each
connection is handed to a test's function with the parsed request; the function writes
whatever bytes it likes. Every loop here is bounded in count and in time, and
:meth:`HostileServer.close` (or leaving the ``with`` block) stops the server, closes every
open connection and joins its threads.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# How long a handler may run at most, whatever it does (the tests' bound of bounds).
HANDLER_TIME_LIMIT = 60.0
_MAX_REQUEST_HEAD = 256 * 1024
_MAX_REQUEST_BODY = 16 * 1024 * 1024


@dataclass
class Request:
    """What the client sent.

    Attributes:
        method: HTTP method.
        target: Request target (path and query).
        headers: Header names lowercased.
        body: The body bytes (by Content-Length).
    """

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Conn:
    """One accepted connection, for the handler to write to."""

    sock: socket.socket
    stop: threading.Event
    started: float = field(default_factory=time.monotonic)

    def send(self, data: bytes) -> bool:
        """Send bytes; ``False`` once the client went away or the server stops."""
        if self.stop.is_set() or time.monotonic() - self.started > HANDLER_TIME_LIMIT:
            return False
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def drip(self, data: bytes, interval: float, limit: int = 400) -> None:
        """Send ``data`` one byte at a time, ``interval`` seconds apart (at most ``limit``)."""
        for index in range(min(len(data), limit)):
            if not self.send(data[index:index + 1]) or self.stop.wait(interval):
                return

    def respond(self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None,
                reason: str = "X") -> bool:
        """Send a complete response with Content-Length (unless headers give one)."""
        # Connection: close, as the server closes after each answer (keep-alive not offered).
        head = {"Content-Length": str(len(body)), "Connection": "close", **(headers or {})}
        lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in head.items()]
        return self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


Handler = Callable[[Conn, Request], None]


class HostileServer:
    """Serve each connection with ``handler(conn, request)`` on 127.0.0.1.

    Keep-alive is not offered: after the handler returns, the connection is closed.

    Args:
        handler: Writes the answer (or anything else) for one request.

    Attributes:
        requests: Every request received, in order.
    """

    def __init__(self, handler: Handler):
        self.handler = handler
        self.requests: list[Request] = []
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._threads: list[threading.Thread] = []
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept, name="hostile-http", daemon=True)
        self._acceptor.start()

    @property
    def port(self) -> int:
        """The port listened on."""
        port: int = self._listener.getsockname()[1]
        return port

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The MAAS base URL this server pretends to be."""
        return f"{self.origin}/MAAS/"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._open.add(sock)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            sock.settimeout(10.0)
            request = _read_request(sock)
            if request is not None:
                self.requests.append(request)
                self.handler(Conn(sock, self._stop), request)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        """Stop accepting, cut every open connection and join the threads."""
        self._stop.set()
        self._listener.close()
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._acceptor.join(5)
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_request(sock: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk or len(data) > _MAX_REQUEST_HEAD:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = ([*lines[0].split(" "), "", ""])[:3]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    size = min(int(headers.get("content-length", "0") or 0), _MAX_REQUEST_BODY)
    while len(rest) < size:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Request(method, target, headers, rest[:size])


@contextlib.contextmanager
def serving(handler: Handler) -> Iterator[HostileServer]:
    """Run a :class:`HostileServer` for the ``with`` block."""
    server = HostileServer(handler)
    try:
        yield server
    finally:
        server.close()


def tiny_description(origin: str = "http://127.0.0.1", extra: list[Any] | None = None) \
        -> dict[str, Any]:
    """A small describe document: ``machines.read`` and ``machine.deploy/read``."""
    def handler(name: str, path: str, params: list[str], actions: list[Any]) -> dict[str, Any]:
        return {"name": name, "doc": f"{name}.", "params": params,
                "path": path, "uri": origin + path, "actions": actions}

    machines = handler("MachinesHandler", "/MAAS/api/2.0/machines/", [], [
        {"name": "read", "method": "GET", "op": None, "restful": True,
         "doc": "List machines.\n\n:param hostname: Only these.\n:type hostname: String\n"},
    ])
    machine = handler("MachineHandler", "/MAAS/api/2.0/machines/{system_id}/", ["system_id"], [
        {"name": "read", "method": "GET", "op": None, "restful": True, "doc": "Read."},
        {"name": "deploy", "method": "POST", "op": "deploy", "restful": False,
         "doc": "Deploy.\n\n:param power_pass: BMC password.\n:type power_pass: String\n"},
    ])
    resources = [{"name": "MachinesHandler", "auth": machines, "anon": None},
                 {"name": "MachineHandler", "auth": machine, "anon": None}, *(extra or [])]
    return {"doc": "MAAS API", "hash": "0" * 40, "resources": resources}


def describe_bytes() -> bytes:
    """The tiny description as the server sends it."""
    return json.dumps(tiny_description()).encode()


def gzip_bomb(inflated: int) -> bytes:
    """Gzip of ``inflated`` zero bytes (about 1/1000 of that on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(inflated >> 20)]
    parts.append(packer.flush())
    return b"".join(parts)
