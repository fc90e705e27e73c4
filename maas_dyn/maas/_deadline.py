"""A total deadline for one HTTP exchange: connect, headers and the whole body.

``requests``/``urllib3`` timeouts bound each socket operation, not the exchange: a
server that sends one byte every half second never trips a 5 s read timeout and keeps
a call open for as long as it likes (urllib3's ``Timeout(total=)`` is computed once per
read too). Neither library offers a deadline, so this module adds the smallest one
that works for blocking sockets: one daemon thread keeps the deadlines of requests in
flight and, when one passes, shuts the request's socket down. The blocked read then
returns at once and the transport reports :class:`~maas_dyn.errors.Timeout`.

The request's connection is found through :class:`WatchedPoolManagerAdapter`, whose
pools note the connection they hand to the calling thread. One shared thread (not a
``threading.Timer`` per request) keeps the cost per call to a lock and a heap push.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import ProxyManager

__all__ = ["Ticket", "WatchedAdapter", "arm", "disarm"]

_current = threading.local()


class Ticket:
    """One exchange under watch.

    Attributes:
        deadline: ``time.monotonic()`` value at which the exchange is cut.
        expired: Set (by the watchdog) once the deadline passed and the socket was cut.
    """

    __slots__ = ("active", "connection", "deadline", "expired")

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.active = True
        self.expired = False
        self.connection: Any = None


# Seconds the watchdog thread waits with nothing to watch before it ends.
_IDLE_EXIT = 1.0


class _Watchdog:
    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, Ticket]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, ticket: Ticket) -> None:
        with self._cond:
            heapq.heappush(self._heap, (ticket.deadline, next(self._order), ticket))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="maas_dyn-deadline",
                                                daemon=True)
                self._thread.start()
            elif self._heap[0][2] is ticket:
                self._cond.notify()  # the new deadline is the earliest: wake up sooner

    def disarm(self, ticket: Ticket) -> None:
        with self._cond:
            ticket.active = False
            ticket.connection = None
            # Drop finished tickets from the top now: the watchdog sleeps until the top's
            # deadline, so leaving them to it kept every call's ticket for a whole deadline
            # (the soak's memory bound caught it).
            while self._heap and not self._heap[0][2].active:
                heapq.heappop(self._heap)
            if not self._heap:
                self._cond.notify()  # it sleeps until the last deadline: let it go idle

    def attach(self, connection: Any) -> None:
        ticket: Ticket | None = getattr(_current, "ticket", None)
        if ticket is None:
            return
        with self._cond:
            if ticket.active:
                ticket.connection = connection
                if ticket.expired:
                    _cut(connection)

    def _run(self) -> None:
        while True:
            with self._cond:
                # Finished exchanges are dropped lazily: disarming is then O(1).
                while self._heap and not self._heap[0][2].active:
                    heapq.heappop(self._heap)
                if not self._heap:
                    # Idle: end soon, and start again with the next call. A thread that
                    # outlives the client's calls by long looks like a leak to whoever
                    # counts threads after closing their clients (the chaos runs do).
                    self._cond.wait(_IDLE_EXIT)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                deadline, _, ticket = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                ticket.expired = True
                if ticket.connection is not None:
                    _cut(ticket.connection)


def _cut(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    # shutdown (not close) wakes a recv() blocked in another thread; OSError: closed.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


_WATCHDOG = _Watchdog()


def arm(seconds: float) -> Ticket:
    """Start watching the calling thread's next exchange.

    Args:
        seconds: Time allowed for connect, headers and the whole body.

    Returns:
        The ticket; pass it to :func:`disarm` when the exchange is over.
    """
    ticket = Ticket(time.monotonic() + seconds)
    _current.ticket = ticket
    _WATCHDOG.arm(ticket)
    return ticket


def disarm(ticket: Ticket) -> None:
    """Stop watching an exchange (its socket is no longer cut)."""
    _current.ticket = None
    _WATCHDOG.disarm(ticket)


class _WatchedHTTPPool(HTTPConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)
        _WATCHDOG.attach(connection)
        return connection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)
        _WATCHDOG.attach(connection)
        return connection


class WatchedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose pools let the deadline watchdog find the socket.

    Only ``_get_conn`` is extended (the connection class stays urllib3's, so vcrpy and
    other libraries that patch it keep working).
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Build the pool manager with watched pool classes."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """Return the proxy's pool manager, with watched pools for an HTTP(S) proxy."""
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        # A SOCKS manager brings its own pool classes (their connections tunnel); left as is.
        if type(manager) is ProxyManager:
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
