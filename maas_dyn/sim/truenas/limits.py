"""What the simulator's server holds per connection and in total, and its quiet wire log.

Users run the simulator in their CI, next to other jobs: it is bounded like a server.
:class:`ServerLimits` lists the limits (docs/simulators.md, "Limits", has the table);
:func:`wire_logger` is the logger ``websockets`` writes to, with secrets kept out of it.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from maas_dyn._secrets import REDACTED, is_secret_name, redact_query

__all__ = ["ServerLimits", "bounded_handler", "refuse_if_over_capacity", "wire_logger"]

_MiB = 1024 * 1024


@dataclass(frozen=True)
class ServerLimits:
    """Limits of the simulator's listening server.

    Attributes:
        max_connections: Connections open at once (WebSocket and HTTP alike); more are
            answered 503 and closed at once.
        open_timeout: Seconds for a request head to arrive and, for a WebSocket, for the
            opening handshake to finish.
        auth_timeout: Seconds a WebSocket may stay open without logging in; it is then
            closed with code 1008.
        max_upload_bytes: Largest ``POST /_upload`` body.
        max_inflight_upload_bytes: Bytes of all upload bodies being received at once; an
            upload beyond it is answered 503.
        upload_timeout: Seconds to receive an upload body.
    """

    max_connections: int = 64
    open_timeout: float = 10.0
    auth_timeout: float = 60.0
    max_upload_bytes: int = 64 * _MiB
    max_inflight_upload_bytes: int = 128 * _MiB
    upload_timeout: float = 120.0


class Budget:
    """A count of bytes (or slots) that may be reserved up to a total.

    Args:
        total: What may be reserved at once.
    """

    def __init__(self, total: int):
        self.total = total
        self._used = 0
        self._lock = threading.Lock()

    def reserve(self, amount: int) -> bool:
        """Reserve ``amount``; False (nothing reserved) when it does not fit."""
        with self._lock:
            if self._used + amount > self.total:
                return False
            self._used += amount
            return True

    def release(self, amount: int) -> None:
        """Give back what :meth:`reserve` took."""
        with self._lock:
            self._used -= amount


_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
         b"Content-Length: 21\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
         b"Too many connections.")


# Set on a connection's thread when it came in beyond the cap.
_over_capacity = threading.local()


def bounded_handler(handler: Callable[[socket.socket, Any], None], slots: Budget
                    ) -> Callable[[socket.socket, Any], None]:
    """Wrap ``websockets``' per-connection handler with a cap on open connections.

    The handler still runs for a connection beyond the cap (it does ``websockets``' own
    bookkeeping of its threads); :func:`refuse_if_over_capacity`, called where the
    connection is created, answers it 503 at once.

    Args:
        handler: The server's ``handler(sock, addr)``; it runs a whole connection.
        slots: One slot per open connection.

    Returns:
        The wrapped handler.
    """
    def bounded(sock: socket.socket, addr: Any) -> None:
        admitted = slots.reserve(1)
        _over_capacity.value = not admitted
        try:
            handler(sock, addr)
        finally:
            _over_capacity.value = False
            if admitted:
                slots.release(1)

    return bounded


def refuse_if_over_capacity(sock: socket.socket) -> bool:
    """Answer 503 on ``sock`` when its connection came in beyond the cap.

    Args:
        sock: The connection's socket (the caller closes it).

    Returns:
        Whether the connection was refused.
    """
    if not getattr(_over_capacity, "value", False):
        return False
    try:
        sock.settimeout(1.0)
        sock.sendall(_BUSY)
    except OSError:
        pass  # the peer is gone already: nothing to tell it
    return True


_SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})


class _WireFilter(logging.Filter):
    """Keeps frames, credentials and secret query values out of ``websockets``' DEBUG log.

    ``websockets`` logs each frame (``< TEXT '{"method": "auth.login_ex", ...}'``), the
    request line with its query string (``/_download/1?auth_token=...``) and every
    header (``Authorization``) at DEBUG.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        if args and hasattr(args[0], "opcode") and hasattr(args[0], "data"):
            frame = args[0]
            name = getattr(frame.opcode, "name", str(frame.opcode))
            record.args = (f"{name} [{len(frame.data)} bytes]", *args[1:])
        elif len(args) == 2 and isinstance(args[0], str) and (
                args[0].lower() in _SECRET_HEADERS or is_secret_name(args[0])):
            record.args = (args[0], REDACTED)
        elif args:
            record.args = tuple(redact_query(a) if isinstance(a, str) else a for a in args)
        elif isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        return True


_FILTER = _WireFilter()


def wire_logger() -> logging.Logger:
    """The logger handed to ``websockets``: ``maas_dyn.sim.truenas.wire``, secrets hidden.

    Returns:
        The logger (its filter is added once).
    """
    logger = logging.getLogger("maas_dyn.sim.truenas.wire")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
