"""The WebSocket transport: one connection, one reader thread, many callers.

A :class:`Connection` sends frames from any thread and matches replies to callers by
request id, so calls from many threads are pipelined on one socket. One reader thread
receives everything: replies complete the waiting caller, events go to the client's
event hub. A keep-alive thread pings an idle connection (the official clients do every
~20 s) and cuts a connection whose ping goes unanswered, so a dead peer is noticed.

The socket itself hides behind :class:`Link` (``send``/``recv``/``close``/``abort``), a
seam tests fill with an in-memory fake; :func:`open_link` makes the real one with
websocket-client.

Calls are limited on the client side like the middleware limits them per connection
(10 running; a few more waiting): up to ``CallLimits.running`` calls are on the wire and
up to ``CallLimits.queued`` more callers wait for a slot; beyond that a call fails at
once with :class:`~maas_dyn.errors.TooManyConcurrentCalls` without being sent. The
server therefore never sees more calls than it runs.

When the connection drops, every call in flight fails with
:class:`~maas_dyn.errors.ConnectionClosed`; none is re-sent.

:meth:`Connection.submit` is the non-blocking form of :meth:`Connection.call`: it sends
and returns a :class:`concurrent.futures.Future` that the reader thread completes, so an
event loop can await replies (``asyncio.wrap_future``) without a thread per call.
"""

from __future__ import annotations

import itertools
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any, Protocol

import websocket

from maas_dyn.errors import ConnectionClosed, ConnectionFailed, Timeout, TooManyConcurrentCalls
from maas_dyn.truenas.jsonrpc import Framing
from maas_dyn.truenas.messages import (
    Event,
    Handshake,
    Incoming,
    Reply,
    ServerPing,
    SubscriptionEnded,
)

__all__ = [
    "CallLimits",
    "Connection",
    "HandshakeRejected",
    "Link",
    "WebSocketLink",
    "open_link",
]

_log = logging.getLogger("maas_dyn.truenas")

Notice = Event | SubscriptionEnded


class HandshakeRejected(ConnectionFailed):
    """The server answered the WebSocket upgrade with an HTTP error (e.g. 404).

    Attributes:
        status: The HTTP status.
    """

    def __init__(self, message: str, *, status: int, url: str = ""):
        super().__init__(message, url=url)
        self.status = status


class Link(Protocol):
    """One open WebSocket, as the connection needs it."""

    def send(self, text: str) -> None:
        """Send one text frame (safe to call from several threads).

        Raises:
            ConnectionClosed: The socket is gone.
        """

    def recv(self) -> str | bytes:
        """Block until the next frame arrives (only the reader thread calls this).

        Raises:
            ConnectionClosed: The peer closed the connection or it broke.
        """

    def close(self) -> None:
        """Send a close frame; the reader then sees the peer's close frame."""

    def abort(self) -> None:
        """Cut the socket so that a blocked :meth:`recv` returns at once."""


class WebSocketLink:
    """A :class:`Link` on a websocket-client ``WebSocket``.

    Args:
        ws: A connected socket made with ``enable_multithread=True``.
    """

    def __init__(self, ws: websocket.WebSocket):
        self._ws = ws

    def send(self, text: str) -> None:
        """Send one text frame."""
        try:
            self._ws.send(text)
        except (websocket.WebSocketException, OSError) as exc:
            raise ConnectionClosed(f"the connection broke while sending: {exc}") from None

    def recv(self) -> str | bytes:
        """Receive one frame; a close frame ends the connection."""
        try:
            data: str | bytes = self._ws.recv()
        except (websocket.WebSocketException, OSError, AttributeError) as exc:
            # AttributeError: abort() from another thread already released the socket.
            raise ConnectionClosed(f"the connection was lost: {exc or type(exc).__name__}") \
                from None
        if data == "":
            raise ConnectionClosed("the server closed the connection")
        return data

    def close(self) -> None:
        """Send a close frame (best effort)."""
        try:
            self._ws.send_close()
        except (websocket.WebSocketException, OSError):
            _log.debug("could not send a close frame; the socket is already gone")

    def abort(self) -> None:
        """Shut the socket down; a blocked ``recv`` in the reader returns at once."""
        sock = self._ws.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                _log.debug("socket already shut down")
        self._ws.shutdown()  # type: ignore[no-untyped-call]


def _sslopt(verify: bool | str) -> dict[str, Any]:
    if verify is False:
        return {"cert_reqs": ssl.CERT_NONE, "check_hostname": False}
    if verify is True:
        return {"cert_reqs": ssl.CERT_REQUIRED}
    return {"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": verify}


def open_link(url: str, *, verify: bool | str = True, timeout: float = 10.0) -> WebSocketLink:
    """Open a WebSocket to ``url``.

    Args:
        url: ``ws://`` or ``wss://`` URL (holds no secrets).
        verify: TLS verification: ``True`` (default), ``False``, or a CA bundle path.
        timeout: Seconds to connect and finish the upgrade.

    Returns:
        The open link; its reads then block without a timeout.

    Raises:
        HandshakeRejected: The server answered the upgrade with an HTTP error.
        ConnectionFailed: No connection could be made (refused, DNS, TLS, timeout).
    """
    try:
        ws = websocket.create_connection(
            url, timeout=timeout, sslopt=_sslopt(verify), enable_multithread=True,
            skip_utf8_validation=True,
        )
    except websocket.WebSocketBadStatusException as exc:
        raise HandshakeRejected(
            f"{url} refused the WebSocket upgrade with HTTP {exc.status_code}",
            status=exc.status_code, url=url,
        ) from None
    except ssl.SSLCertVerificationError as exc:
        raise ConnectionFailed(
            f"the TLS certificate of {url} could not be verified ({exc.verify_message}); "
            "pass verify='/path/to/ca.pem', or verify=False for a self-signed appliance",
            url=url,
        ) from None
    except (websocket.WebSocketException, OSError) as exc:
        raise ConnectionFailed(f"could not connect to {url}: {exc}", url=url) from None
    ws.settimeout(None)  # the reader blocks; liveness is the keep-alive's job
    return WebSocketLink(ws)


@dataclass(frozen=True)
class CallLimits:
    """How many calls a connection carries at once.

    Attributes:
        running: Calls on the wire at once (the middleware runs 10 per connection).
        queued: Further callers that wait for a slot; one more fails at once.
    """

    running: int = 10
    queued: int = 20


class _Limiter:
    """Slots for calls on the wire; a bounded number of callers may wait for one."""

    def __init__(self, limits: CallLimits):
        self._free = limits.running
        self._queued = limits.queued
        self._waiting = 0
        # A plain lock for the fast path (no waiting); the condition only when waiting.
        self._lock = threading.Lock()
        self._available = threading.Condition(self._lock)

    def acquire(self, timeout: float | None, method: str, url: str) -> None:
        with self._lock:
            if self._free > 0:
                self._free -= 1
                return
            if self._waiting >= self._queued:
                raise TooManyConcurrentCalls(
                    f"all call slots of this connection are busy and {self._waiting} callers "
                    f"wait already; {method} was not sent", method=method, url=url,
                    hint="use fewer threads per client or raise Client(limits=...)")
            self._waiting += 1
            try:
                if not self._available.wait_for(lambda: self._free > 0, timeout):
                    raise Timeout(f"{method} waited {timeout:g} s for a free call slot and was "
                                  "not sent", method=method, url=url)
                self._free -= 1
            finally:
                self._waiting -= 1

    def try_acquire(self) -> bool:
        """Take a free slot without waiting; False when none is free."""
        with self._lock:
            if self._free > 0:
                self._free -= 1
                return True
            return False

    def release(self) -> None:
        with self._lock:
            self._free += 1
            if self._waiting:
                self._available.notify()


class _Pending:
    """A caller waiting for its reply; ``done`` is released by the reader.

    A call made with :meth:`Connection.submit` also has a ``future``, completed at the
    same moment.
    """

    __slots__ = ("done", "error", "future", "method", "result")

    def __init__(self, method: str, future: Future[Any] | None = None):
        self.method = method
        self.done = threading.Lock()
        self.done.acquire()
        self.result: Any = None
        self.error: BaseException | None = None
        self.future = future

    def settle(self) -> None:
        """Wake the waiting caller, and complete the future of a submitted call."""
        self.done.release()
        future = self.future
        if future is None:
            return
        try:
            if self.error is not None:
                future.set_exception(self.error)
            else:
                future.set_result(self.result)
        except InvalidStateError:
            pass  # its caller cancelled it (a timeout); nobody waits for the reply


_thread_numbers = itertools.count(1)


class Connection:
    """One live session: framing, pipelined calls, events and keep-alive.

    Args:
        link: The open socket.
        framing: The protocol spoken on it.
        url: The server URL, for messages (holds no secrets).
        limits: Client-side call limits (default: :class:`CallLimits`).
        ping_interval: Seconds of silence before a keep-alive ping; ``0`` disables it.
        on_notice: Receives events and ended subscriptions, on the reader thread; it
            must not block or make calls.
        on_close: Called once, with the reason, when the connection is gone.
    """

    def __init__(
        self,
        link: Link,
        framing: Framing,
        *,
        url: str,
        limits: CallLimits | None = None,
        ping_interval: float = 20.0,
        on_notice: Callable[[Notice], None] = lambda notice: None,
        on_close: Callable[[str], None] = lambda reason: None,
    ):
        self.url = url
        self.framing = framing
        self._link = link
        self._limiter = _Limiter(limits or CallLimits())
        self._ping_interval = ping_interval
        self._on_notice = on_notice
        self._on_close = on_close
        self._ids = itertools.count(1)
        self._pending: dict[object, _Pending] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._closing = False
        self.close_reason = ""
        self._stop = threading.Event()
        self._handshake: _Pending | None = None
        self._last_seen = time.monotonic()
        number = next(_thread_numbers)
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name=f"maas_dyn-truenas-reader-{number}")
        self._pinger = threading.Thread(target=self._keepalive, daemon=True,
                                        name=f"maas_dyn-truenas-keepalive-{number}")

    @property
    def closed(self) -> bool:
        """Whether the connection is gone (dropped or closed)."""
        return self._closed

    def start(self, timeout: float = 10.0) -> None:
        """Start the reader (and keep-alive) and finish the protocol's handshake.

        Args:
            timeout: Seconds to wait for the handshake.

        Raises:
            ConnectionFailed: The server refused or did not answer the handshake.
        """
        hello = self.framing.hello()
        handshake = self._handshake = _Pending("connect") if hello is not None else None
        self._reader.start()
        if self._ping_interval > 0:
            self._pinger.start()
        if handshake is None or hello is None:
            return
        try:
            self._link.send(hello)
        except ConnectionClosed:
            self.close()
            raise ConnectionFailed(f"{self.url} closed the connection at once",
                                   url=self.url) from None
        answered = handshake.done.acquire(timeout=timeout)
        if not answered or not handshake.result:
            self.close()
            why = "did not answer" if not answered else "refused the protocol handshake"
            raise ConnectionFailed(f"{self.url} {why}", url=self.url)

    # -- calls ------------------------------------------------------------------------------

    def call(self, method: str, params: Sequence[Any], timeout: float | None = None) -> Any:
        """Call a method and wait for its reply.

        Args:
            method: Dotted method name.
            params: Positional parameters.
            timeout: Seconds to wait for the reply (and for a free slot); ``None`` waits
                as long as the connection lives.

        Returns:
            The method's result.

        Raises:
            TrueNASAPIError: The server answered with an error (a typed subclass).
            ConnectionClosed: The connection dropped before the reply; not re-sent.
            Timeout: No reply in time (the call may still run on the server).
            TooManyConcurrentCalls: Too many callers on this connection; not sent.
        """
        limiter = self._limiter
        limiter.acquire(timeout, method, self.url)
        try:
            request_id = next(self._ids)
            return self._exchange(request_id, method,
                                  self.framing.call(request_id, method, params), timeout)
        finally:
            limiter.release()

    def submit(self, method: str, params: Sequence[Any]) -> Future[Any]:
        """Send a call and return at once; the reader thread completes the future.

        The caller bounds its own calls in flight (the async facade uses a semaphore):
        a submitted call never waits for a slot, it fails at once when none is free.
        Cancelling the future (e.g. on the caller's timeout) frees the slot; a reply
        that arrives later is dropped.

        Args:
            method: Dotted method name.
            params: Positional parameters.

        Returns:
            A future of the method's result; its exception is the typed error the
            blocking :meth:`call` would raise.

        Raises:
            TooManyConcurrentCalls: Every call slot is busy; nothing was sent.
        """
        limiter = self._limiter
        if not limiter.try_acquire():
            raise TooManyConcurrentCalls(
                f"all call slots of this connection are busy; {method} was not sent",
                method=method, url=self.url,
                hint="keep the calls in flight at or below Client(limits=...).running")
        future: Future[Any] = Future()
        request_id = next(self._ids)
        waiting = self._pending

        def finished(_: Future[Any]) -> None:
            # Runs once, whoever completes the future (reply, drop, or cancellation).
            waiting.pop(request_id, None)
            limiter.release()

        future.add_done_callback(finished)
        pending = _Pending(method, future)
        waiting[request_id] = pending
        if self._closed and waiting.pop(request_id, None) is not None:
            future.set_exception(self._lost(method))
            return future
        try:
            self._link.send(self.framing.call(request_id, method, params))
        except ConnectionClosed:
            if waiting.pop(request_id, None) is not None:
                future.set_exception(self._lost(method))
        return future

    def subscribe(self, name: str, timeout: float | None = None) -> str:
        """Subscribe to an event name.

        Args:
            name: Event name, e.g. ``"core.get_jobs"``.
            timeout: Seconds to wait for the server's answer.

        Returns:
            The subscription id, for :meth:`unsubscribe`.
        """
        request_id = next(self._ids)
        result = self._exchange(request_id, f"subscribe {name}",
                                self.framing.subscribe(request_id, name), timeout)
        return self.framing.subscription_id(request_id, result)

    def unsubscribe(self, subscription: str) -> None:
        """End a subscription; the answer is not awaited.

        Args:
            subscription: The id :meth:`subscribe` returned.
        """
        try:
            self._link.send(self.framing.unsubscribe(next(self._ids), subscription))
        except ConnectionClosed:
            _log.debug("unsubscribe %s not sent: the connection is gone", subscription)

    def ping(self, timeout: float | None = None) -> None:
        """Send a protocol ping and wait for the answer.

        Args:
            timeout: Seconds to wait.
        """
        request_id = next(self._ids)
        self._exchange(request_id, "ping", self.framing.ping(request_id), timeout)

    def _exchange(self, request_id: int, method: str, text: str, timeout: float | None) -> Any:
        # The hot path takes no lock: dict insert and pop are atomic, and whoever pops a
        # waiter (the reader with the reply, the shutdown, or the waiter itself on a
        # timeout or a closed connection) owns it. The closed flag is read after
        # registering; the shutdown sets it before collecting waiters, so none is missed.
        pending = _Pending(method)
        waiting = self._pending
        waiting[request_id] = pending
        if self._closed and waiting.pop(request_id, None) is not None:
            raise self._lost(method)
        try:
            self._link.send(text)
        except ConnectionClosed:
            if waiting.pop(request_id, None) is not None:
                raise self._lost(method) from None
        if not pending.done.acquire(timeout=-1 if timeout is None else timeout):
            if waiting.pop(request_id, None) is not None:
                raise Timeout(
                    f"{method} got no answer from {self.url} within {timeout:g} s; "
                    "it may still run on the server", method=method, url=self.url)
            pending.done.acquire()  # the reply raced the timeout: it is being delivered
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _lost(self, method: str) -> ConnectionClosed:
        reason = f" ({self.close_reason})" if self.close_reason else ""
        return ConnectionClosed(
            f"the connection to {self.url} is gone{reason}; {method} was not completed "
            "and was not re-sent", method=method, url=self.url)

    # -- the reader -------------------------------------------------------------------------

    def _read(self) -> None:
        reason = "closed by the client"
        try:
            # Runs for the life of the socket: recv() fails once it closes or is aborted.
            while True:
                text = self._link.recv()
                self._last_seen = time.monotonic()
                try:
                    messages = self.framing.decode(text)
                except ValueError:
                    _log.warning("ignoring a frame from %s that is not JSON", self.url)
                    continue
                for message in messages:
                    self._route(message)
        except ConnectionClosed as exc:
            if not self._closing:
                reason = str(exc)
        finally:
            self._shutdown(reason)

    def _route(self, message: Incoming) -> None:
        if isinstance(message, Reply):
            pending = self._pending.pop(message.id, None)
            if pending is None:
                _log.debug("%s answered request %r, which nobody waits for (timed out?)",
                           self.url, message.id)
                return
            if message.error is not None:
                pending.error = self.framing.error(message.error, pending.method, self.url)
            else:
                pending.result = message.result
            pending.settle()
        elif isinstance(message, Handshake):
            if self._handshake is not None:
                self._handshake.result = message.ok
                self._handshake.done.release()
        elif isinstance(message, ServerPing):
            try:
                self._link.send(message.answer)
            except ConnectionClosed:
                _log.debug("could not answer a ping from %s", self.url)
        else:
            try:
                self._on_notice(message)
            except Exception:  # a listener must never stop the reader
                _log.exception("an event listener failed on %s", self.url)

    def _shutdown(self, reason: str) -> None:
        with self._lock:
            self.close_reason = reason
            self._closed = True
        self._stop.set()
        for request_id in list(self._pending):
            waiter = self._pending.pop(request_id, None)
            if waiter is not None:
                waiter.error = self._lost(waiter.method)
                waiter.settle()
        if self._handshake is not None and self._handshake.done.locked():
            self._handshake.done.release()
        if not self._closing:
            _log.warning("connection to %s lost: %s", self.url, reason)
        self._on_close(reason)

    # -- keep-alive -------------------------------------------------------------------------

    def _keepalive(self) -> None:
        # Ends with the connection: _stop is set by close() and by the reader's shutdown.
        while not self._stop.wait(self._ping_interval):
            if time.monotonic() - self._last_seen < self._ping_interval:
                continue
            try:
                self.ping(timeout=self._ping_interval)
            except Timeout:
                _log.warning("%s did not answer a keep-alive ping within %g s; dropping the "
                             "connection", self.url, self._ping_interval)
                self._link.abort()
                return
            except ConnectionClosed:
                return

    # -- closing ----------------------------------------------------------------------------

    def close(self, grace: float = 1.0) -> None:
        """Close the connection and join its threads.

        Calls still in flight fail with :class:`~maas_dyn.errors.ConnectionClosed`.

        Args:
            grace: Seconds to wait for the server's close frame before cutting the socket.
        """
        with self._lock:
            self._closing = True
        self._stop.set()
        current = threading.current_thread()
        if self._reader.is_alive():
            self._link.close()
            if current is not self._reader:
                self._reader.join(grace)
        self._link.abort()
        for thread in (self._reader, self._pinger):
            if thread is not current and thread.ident is not None:
                thread.join()
        if not self._reader.is_alive() and not self._closed:
            self._shutdown("closed by the client")  # the reader never started

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Connection {self.url} {self.framing.name} {state}>"
