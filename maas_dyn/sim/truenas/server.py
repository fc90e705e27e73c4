"""The listening server: ``websockets``' sync server on 127.0.0.1, one thread per connection.

Paths: ``/api/current`` and ``/api/<version>`` speak JSON-RPC 2.0, ``/websocket`` the
legacy protocol; everything else is HTTP (:mod:`maas_dyn.sim.truenas.http`).
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from websockets.sync.server import ServerConnection, serve

from maas_dyn.sim.truenas import rpc
from maas_dyn.sim.truenas.connection import Connection, EndpointProtocol
from maas_dyn.sim.truenas.dispatch import Dispatcher
from maas_dyn.sim.truenas.http import HttpEndpoints, upload_connection_class
from maas_dyn.sim.truenas.legacy import LegacyProtocol
from maas_dyn.sim.truenas.limits import Budget, ServerLimits, bounded_handler, wire_logger
from maas_dyn.sim.truenas.runtime import Runtime
from maas_dyn.sim.truenas.wsrpc import JsonRpcProtocol

__all__ = ["HOST", "Server"]

HOST = "127.0.0.1"
LEGACY_PATH = "/websocket"
# Frames are checked against the middleware's limits by rpc.parse_message; this only
# keeps websockets from buffering anything larger than the largest allowed message.
_MAX_FRAME = rpc.MAX_MESSAGE_BYTES * 4
# Seconds to wait for a client's answer to a close frame; keeps stop() and restart() quick.
_CLOSE_TIMEOUT = 1.0

_log = logging.getLogger("maas_dyn.sim.truenas")


class Server:
    """Serves the simulator on one port.

    Args:
        rt: The simulator's parts.
        dispatcher: The call funnel.
        port: TCP port; 0 picks a free one.
        stopping: Set when the simulator stops.
        limits: Connection, deadline and upload limits (defaults when None).
        tls: Serve TLS with this context, and the ``tls-server-end-point`` binding of
            its certificate (for SCRAM channel binding); ``None`` serves plain.
    """

    def __init__(self, rt: Runtime, dispatcher: Dispatcher, port: int,
                 stopping: threading.Event, limits: ServerLimits | None = None,
                 *, tls: tuple[ssl.SSLContext, bytes] | None = None):
        self._rt = rt
        self._tls = tls
        self._limits = limits = limits or ServerLimits()
        self._dispatcher = dispatcher
        self._lock = threading.Lock()
        self._connections: set[Connection] = set()
        # Every API version the release serves has its route (the middleware's
        # _add_api_route per api/ folder); all speak the served description.
        self._protocols: dict[str, Callable[[], EndpointProtocol]] = {
            "/api/current": lambda: JsonRpcProtocol(dispatcher),
            **{f"/api/{version}": lambda: JsonRpcProtocol(dispatcher)
               for version in rt.catalog.api_versions},
            LEGACY_PATH: lambda: LegacyProtocol(dispatcher, rt.catalog),
        }
        endpoints = HttpEndpoints(rt, dispatcher, frozenset(self._protocols), stopping.is_set)
        self._server = serve(
            self._handle, HOST, port, process_request=endpoints.process_request,
            create_connection=upload_connection_class(endpoints, stopping.is_set, limits),
            compression=None, open_timeout=limits.open_timeout,
            ssl=tls[0] if tls is not None else None,
            max_size=_MAX_FRAME, close_timeout=_CLOSE_TIMEOUT, logger=wire_logger())
        # One thread per connection is websockets' model; the cap bounds how many.
        self._server.handler = bounded_handler(self._server.handler,
                                               Budget(limits.max_connections))
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="sim-truenas-server", daemon=True)

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self._server.socket.getsockname()[1])

    def start(self) -> None:
        """Start accepting connections."""
        self._thread.start()

    def stop(self) -> None:
        """Close every connection, stop listening and join the server thread."""
        self._server.shutdown()
        self._thread.join()

    def drop_all(self) -> None:
        """Cut every open connection without a close frame; keep listening."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.drop()

    def _handle(self, websocket: ServerConnection) -> None:
        assert websocket.request is not None  # set by the handshake
        factory = self._protocols[urlsplit(websocket.request.path).path]
        connection = Connection(websocket, self._rt.events, factory(),
                                auth_timeout=self._limits.auth_timeout)
        if self._tls is not None:
            connection.session.tls = True
            connection.session.channel_binding = self._tls[1]
        with self._lock:
            self._connections.add(connection)
        try:
            connection.serve()
        finally:
            with self._lock:
                self._connections.discard(connection)
