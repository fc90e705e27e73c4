"""The HTTP side: a threading HTTP/1.1 server on 127.0.0.1 with keep-alive.

Every connection gets its own daemon thread; the server remembers the threads and
sockets so that :meth:`SimHTTPServer.close_all` can end idle keep-alive connections and
join their threads when the simulator stops.

Users run the simulator in their CI, next to other jobs: it is bounded like a server
(:class:`HttpLimits`). Connections beyond ``max_connections`` are answered 503 without a
thread; a connection gets ``idle_timeout`` to start its next request, ``head_timeout``
to finish the request line and headers once started (a slowloris client trickling a
byte at a time is cut off), ``body_timeout`` for the body; a body is at most
``max_body_bytes`` (chunk sizes are checked, not trusted), and all bodies being read at
once at most ``max_inflight_body_bytes``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from maas_dyn._secrets import redact_query
from maas_dyn.sim.maas.request import MAX_BODY_BYTES, ApiRequest, Params, parse_body, parse_query
from maas_dyn.sim.maas.responses import ApiError, Response

log = logging.getLogger("maas_dyn.sim.maas")

LOOPBACK = "127.0.0.1"
# Idle keep-alive connections are closed after this many seconds.
IDLE_TIMEOUT = 30.0
# A chunked body may not have more chunks than this (each at least one byte).
_MAX_CHUNKS = 1 << 20
_MAX_TRAILERS = 100
# A chunk size is hex digits only: int(x, 16) would also take "-1", "+1", "0x1" and "1_0".
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,15}")
_CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class HttpLimits:
    """Limits of the simulator's HTTP server, per connection and in total.

    Attributes:
        max_connections: Connections open at once; more are answered 503 and closed.
        idle_timeout: Seconds a connection may wait before its next request starts.
        head_timeout: Seconds to receive the rest of the request line and headers once
            their first byte arrived.
        body_timeout: Seconds to receive a request body.
        max_body_bytes: Largest request body.
        max_inflight_body_bytes: Bytes of all request bodies being received at once;
            a body that would exceed it is answered 503.
    """

    max_connections: int = 64
    idle_timeout: float = IDLE_TIMEOUT
    head_timeout: float = 10.0
    body_timeout: float = 120.0
    max_body_bytes: int = MAX_BODY_BYTES
    max_inflight_body_bytes: int = 4 * MAX_BODY_BYTES


class _DeadlineIO(socket.SocketIO):
    """The connection's raw reader: every receive ends at the current phase's deadline.

    A socket timeout alone bounds each ``recv``; a client sending one byte just before
    each timeout would hold the connection (and its thread) forever.
    """

    def __init__(self, sock: socket.socket, limits: HttpLimits):
        super().__init__(sock, "rb")
        self._limits = limits
        self._socket = sock
        self.phase = "idle"
        self.deadline = math.inf

    def expect(self, phase: str, seconds: float) -> None:
        """Start a phase (idle, head, body, busy) that must end within ``seconds``."""
        self.phase = phase
        self.deadline = time.monotonic() + seconds

    def readinto(self, buffer: Any) -> int:
        """Receive, giving up when the phase's deadline has passed."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"{self.phase} deadline passed")
        # An unbounded phase still gets a finite socket timeout (settimeout rejects inf).
        self._socket.settimeout(min(remaining, self._limits.idle_timeout))
        count = super().readinto(buffer)
        if count and self.phase == "idle":
            self.expect("head", self._limits.head_timeout)
        return count or 0

App = Callable[[ApiRequest, str], "Response | None"]
HashSource = Callable[[], str]
Clock = Callable[[], float]


class SimHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that tracks its connections.

    Args:
        port: TCP port on 127.0.0.1; 0 picks a free one.
        app: Turns a decoded request into a response (None = drop the connection).
        api_hash: Returns the hash for the ``X-MAAS-API-Hash`` header.
        clock: Returns the Unix time the ``Date`` header shows (the simulated clock, so
            that clients judging event ages by the server's clock see simulated time).
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, app: App, api_hash: HashSource,
                 clock: Clock = time.time, limits: HttpLimits | None = None) -> None:
        self.app = app
        self.api_hash = api_hash
        self.clock = clock
        self.limits = limits or HttpLimits()
        self._live: dict[threading.Thread, socket.socket] = {}
        self._live_lock = threading.Lock()
        self._inflight_body = 0
        super().__init__((LOOPBACK, port), _Handler)

    @property
    def port(self) -> int:
        """The bound TCP port."""
        return int(self.server_address[1])

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{LOOPBACK}:{self.port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve a new connection on its own tracked daemon thread (503 beyond the cap)."""
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"maas-sim-conn-{client_address[1]}",
            daemon=True,
        )
        with self._live_lock:
            admitted = len(self._live) < self.limits.max_connections
            if admitted:
                self._live[thread] = request
        if not admitted:
            self._refuse(request)
            return
        thread.start()

    def _refuse(self, request: socket.socket) -> None:
        # On the accepting thread: a short, bounded write, then the socket is gone.
        body = b"Too many connections to the MAAS simulator."
        head = (f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n")
        with contextlib.suppress(OSError):
            request.settimeout(1.0)
            request.sendall(head.encode("ascii") + body)
        self.shutdown_request(request)

    def reserve_body(self, size: int) -> bool:
        """Count ``size`` bytes against the in-flight body budget.

        Args:
            size: Bytes about to be received.

        Returns:
            False (nothing counted) when the budget would be exceeded.
        """
        with self._live_lock:
            if self._inflight_body + size > self.limits.max_inflight_body_bytes:
                return False
            self._inflight_body += size
            return True

    def release_body(self, size: int) -> None:
        """Give back what :meth:`reserve_body` counted.

        Args:
            size: The bytes reserved.
        """
        with self._live_lock:
            self._inflight_body -= size

    def close_all(self, timeout: float = 5.0) -> None:
        """Shut every open connection and join the connection threads.

        Args:
            timeout: Seconds to wait for each thread.
        """
        with self._live_lock:
            live = dict(self._live)
        for connection in live.values():
            # The peer may have closed it already.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in live:
            thread.join(timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log errors of a connection instead of printing them to stderr."""
        log.debug("connection from %s failed", client_address, exc_info=True)

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._live_lock:
                self._live.pop(threading.current_thread(), None)


class _Handler(BaseHTTPRequestHandler):
    """Decodes one HTTP request at a time and writes the simulator's answer."""

    protocol_version = "HTTP/1.1"
    server_version = "maas-dyn-sim"
    timeout = IDLE_TIMEOUT
    # Headers and body leave in separate writes; without TCP_NODELAY the second one
    # waits for the client's delayed ACK (~40 ms per request on Linux).
    disable_nagle_algorithm = True
    server: SimHTTPServer

    def do_GET(self) -> None:
        """Answer a GET request."""
        self._answer()

    def do_POST(self) -> None:
        """Answer a POST request."""
        self._answer()

    def do_PUT(self) -> None:
        """Answer a PUT request."""
        self._answer()

    def do_DELETE(self) -> None:
        """Answer a DELETE request."""
        self._answer()

    def do_PATCH(self) -> None:
        """Answer a PATCH request (MAAS has none: routing answers 405)."""
        self._answer()

    def do_HEAD(self) -> None:
        """Answer a HEAD request (MAAS has none: routing answers 405)."""
        self._answer()

    def end_headers(self) -> None:
        """Add the description hash to every answer, the stdlib's own errors included."""
        self.send_header("X-MAAS-API-Hash", self.server.api_hash())
        super().end_headers()

    def date_time_string(self, timestamp: float | None = None) -> str:
        """Format the ``Date`` header from the server's clock (the simulated one)."""
        return super().date_time_string(self.server.clock() if timestamp is None else timestamp)

    def setup(self) -> None:
        """Read through a deadline-keeping reader (see :class:`_DeadlineIO`)."""
        super().setup()
        self._io = _DeadlineIO(self.connection, self.server.limits)
        self.rfile = io.BufferedReader(self._io)

    def handle_one_request(self) -> None:
        """Serve one request; its head must start and finish within the deadlines."""
        self._io.expect("idle", self.server.limits.idle_timeout)
        super().handle_one_request()

    def log_message(self, format: str, *args: Any) -> None:
        """Send the access log to the ``maas_dyn.sim.maas`` logger, secrets hidden."""
        if log.isEnabledFor(logging.DEBUG):
            # The request line quotes the query string (files' ?key=, tokens).
            log.debug("%s %s", self.address_string(), redact_query(format % args))

    def _answer(self) -> None:
        try:
            self._io.expect("body", self.server.limits.body_timeout)
            request = self._decode()
            self._io.expect("busy", math.inf)
            response = self.server.app(request, self.server.origin)
        except ApiError as error:
            self.close_connection = True
            response = error.to_response()
        except TimeoutError:
            self.close_connection = True
            response = Response.text("Request body not received in time.", 408)
        except Exception:
            log.exception("unexpected error in the MAAS simulator")
            response = Response.text("Internal Server Error", 500)
        if response is None:
            # Injected fault: close the socket without a single byte of answer.
            self.close_connection = True
            return
        self._write(response)

    def _decode(self) -> ApiRequest:
        body = self._read_body()
        url = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        form = (
            parse_body(headers.get("content-type", ""), body)
            if self.command in ("POST", "PUT")
            else Params()
        )
        return ApiRequest(self.command, url.path, parse_query(url.query), form, headers, body)

    def _read_body(self) -> bytes:
        limit = self.server.limits.max_body_bytes
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked(limit)
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not _CONTENT_LENGTH.fullmatch(declared):
            raise ApiError(400, "Malformed Content-Length.")
        length = int(declared)
        if length > limit:
            raise ApiError(413, f"Request body larger than {limit} bytes.")
        if length == 0:
            return b""
        if not self.server.reserve_body(length):
            raise ApiError(503, "The simulator is receiving too many request bodies.")
        try:
            return self.rfile.read(length)
        finally:
            self.server.release_body(length)

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        try:
            for _ in range(_MAX_CHUNKS):
                text = self.rfile.readline(1024).split(b";")[0].strip()
                if not _CHUNK_SIZE.fullmatch(text):
                    raise ApiError(400, "Malformed chunk size.")
                size = int(text, 16)
                if size == 0:
                    # Skip trailers up to the blank line that ends the body.
                    for _ in range(_MAX_TRAILERS):
                        if self.rfile.readline(1024) in (b"\r\n", b"\n", b""):
                            break
                    return b"".join(chunks)
                if total + size > limit:
                    raise ApiError(413, f"Request body larger than {limit} bytes.")
                if not self.server.reserve_body(size):
                    raise ApiError(503, "The simulator is receiving too many request bodies.")
                total += size
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
            raise ApiError(400, "Too many chunks in the request body.")
        finally:
            self.server.release_body(total)

    def _write(self, response: Response) -> None:
        # A client that does not read its answer is dropped like an idle one.
        self.connection.settimeout(self.server.limits.idle_timeout)
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        if response.status != 204:
            self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Vary", "Authorization,Cookie")
        for name, value in response.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)
