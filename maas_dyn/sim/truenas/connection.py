"""One WebSocket connection: frame limits, call admission and the session's transport.

Both endpoints (JSON-RPC and legacy) share this plumbing and differ only in their
:class:`Protocol`. Calls run on a per-connection pool of ``SOFT_CALL_LIMIT`` threads;
once ``HARD_CALL_LIMIT`` calls are in flight (running or queued) further calls are
refused, as the middleware's ``SoftHardSemaphore(10, 20)`` does.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection

from maas_dyn.sim.truenas import rpc
from maas_dyn.sim.truenas.events import EventHub
from maas_dyn.sim.truenas.session import Session

__all__ = ["Connection", "EndpointProtocol"]

_log = logging.getLogger("maas_dyn.sim.truenas")

# Close code for a binary frame (the middleware accepts text only).
_CLOSE_UNSUPPORTED_DATA = 1003
# Close code for a connection that did not log in within its time.
_CLOSE_POLICY_VIOLATION = 1008


class EndpointProtocol(Protocol):
    """What an endpoint does with decoded messages."""

    def event_frame(self, params: dict[str, Any]) -> dict[str, Any]:
        """Wrap ``collection_update`` params in the endpoint's framing."""

    def on_message(self, connection: Connection, message: dict[str, Any]) -> None:
        """Handle one decoded message."""

    def on_bad_message(self, connection: Connection, error: ValueError) -> bool:
        """Handle an undecodable message; return False to end the connection."""


class Connection:
    """Serves one WebSocket connection.

    Args:
        websocket: The accepted connection.
        events: Where the session registers for events.
        protocol: The endpoint's message handling.
        auth_timeout: Seconds the connection may stay open without logging in (an
            idle anonymous socket would otherwise hold its thread forever).
    """

    def __init__(self, websocket: ServerConnection, events: EventHub,
                 protocol: EndpointProtocol, auth_timeout: float = 60.0):
        self._websocket = websocket
        self._auth_deadline = time.monotonic() + auth_timeout
        self._events = events
        self._protocol = protocol
        self._lock = threading.Lock()
        self._in_flight = 0
        self._pool = ThreadPoolExecutor(max_workers=rpc.SOFT_CALL_LIMIT,
                                        thread_name_prefix="sim-call")
        peer = websocket.remote_address
        origin = str(peer[0]) if isinstance(peer, tuple) and peer else "127.0.0.1"
        self.session = Session(transport=self, event_frame=protocol.event_frame, origin=origin)

    # --- Transport -------------------------------------------------------------------

    def send(self, message: str) -> None:
        """Send a text frame.

        Args:
            message: JSON text.
        """
        self._websocket.send(message)

    def close(self, code: int, reason: str) -> None:
        """Close with a close frame.

        Args:
            code: WebSocket close code.
            reason: Close reason.
        """
        self._websocket.close(code, reason)

    def drop(self) -> None:
        """Cut the TCP connection without a close frame (a crash, as clients see it)."""
        self.session.closed.set()
        try:
            self._websocket.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            _log.debug("socket of session %s already gone", self.session.id)

    # --- serving ---------------------------------------------------------------------

    def serve(self) -> None:
        """Read frames until the connection ends, then wait for its calls to finish."""
        self._events.attach(self.session)
        try:
            self._read_frames()
        except ConnectionClosed:
            _log.debug("session %s: connection closed", self.session.id)
        finally:
            self.session.closed.set()
            self._events.detach(self.session)
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _next_frame(self) -> str | bytes | None:
        # None: the connection stayed anonymous past its deadline (and is closed).
        if self.session.authenticated:
            return self._websocket.recv()
        try:
            return self._websocket.recv(max(0.0, self._auth_deadline - time.monotonic()))
        except TimeoutError:
            self.close(_CLOSE_POLICY_VIOLATION, "Not authenticated in time")
            return None

    def _read_frames(self) -> None:
        while (frame := self._next_frame()) is not None:
            if not isinstance(frame, str):
                self.close(_CLOSE_UNSUPPORTED_DATA,
                           "Invalid websocket message type: <WSMsgType.BINARY: 2>")
                return
            try:
                message = rpc.parse_message(frame, self.session.authenticated)
            except rpc.MessageTooBig as too_big:
                self.close(too_big.close_code, too_big.reason)
                return
            except ValueError as error:
                if not self._protocol.on_bad_message(self, error):
                    return
                continue
            self._protocol.on_message(self, message)

    def run_call(self, work: Callable[[], None], refuse: Callable[[], None]) -> None:
        """Run a call on the connection's pool, or refuse it when too many are in flight.

        Args:
            work: Runs the call and sends its reply.
            refuse: Sends the "too many concurrent calls" error.
        """
        with self._lock:
            admitted = self._in_flight < rpc.HARD_CALL_LIMIT
            if admitted:
                self._in_flight += 1
        if not admitted:
            refuse()
            return
        self._pool.submit(self._run, work)

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        finally:
            with self._lock:
                self._in_flight -= 1
