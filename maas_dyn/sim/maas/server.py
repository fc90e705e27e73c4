"""The HTTP side: a threading HTTP/1.1 server on 127.0.0.1 with keep-alive.

Every connection gets its own daemon thread; the server remembers the threads and
sockets so that :meth:`SimHTTPServer.close_all` can end idle keep-alive connections and
join their threads when the simulator stops.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from maas_dyn.sim.maas.request import MAX_BODY_BYTES, ApiRequest, Params, parse_body, parse_query
from maas_dyn.sim.maas.responses import ApiError, Response

log = logging.getLogger("maas_dyn.sim.maas")

LOOPBACK = "127.0.0.1"
# Idle keep-alive connections are closed after this many seconds.
IDLE_TIMEOUT = 30.0
# A chunked body may not have more chunks than this (each at least one byte).
_MAX_CHUNKS = 1 << 20
_MAX_TRAILERS = 100

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
                 clock: Clock = time.time) -> None:
        self.app = app
        self.api_hash = api_hash
        self.clock = clock
        self._live: dict[threading.Thread, socket.socket] = {}
        self._live_lock = threading.Lock()
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
        """Serve a new connection on its own tracked daemon thread."""
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"maas-sim-conn-{client_address[1]}",
            daemon=True,
        )
        with self._live_lock:
            self._live[thread] = request
        thread.start()

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

    def log_message(self, format: str, *args: Any) -> None:
        """Send the access log to the ``maas_dyn.sim.maas`` logger."""
        log.debug("%s " + format, self.address_string(), *args)

    def _answer(self) -> None:
        try:
            request = self._decode()
            response = self.server.app(request, self.server.origin)
        except ApiError as error:
            self.close_connection = True
            response = error.to_response()
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
        try:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return self._read_chunked()
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError(400, "Malformed Content-Length or chunk size.") from None
        if length > MAX_BODY_BYTES:
            raise ApiError(413, f"Request body larger than {MAX_BODY_BYTES} bytes.")
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        for _ in range(_MAX_CHUNKS):
            size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                # Skip trailers up to the blank line that ends the body.
                for _ in range(_MAX_TRAILERS):
                    if self.rfile.readline(1024) in (b"\r\n", b"\n", b""):
                        break
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise ApiError(413, f"Request body larger than {MAX_BODY_BYTES} bytes.")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)
        raise ApiError(400, "Too many chunks in the request body.")

    def _write(self, response: Response) -> None:
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
