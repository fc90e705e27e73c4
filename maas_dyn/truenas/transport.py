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

import contextlib
import itertools
import logging
import os.path
import queue
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import websocket
from websocket._abnf import ABNF, continuous_frame, frame_buffer
from websocket._handshake import SUPPORTED_REDIRECT_STATUSES

from maas_dyn._secrets import redact_query
from maas_dyn.errors import (
    ConnectionClosed,
    ConnectionFailed,
    LimitExceeded,
    RedirectRefused,
    Timeout,
    TooManyConcurrentCalls,
    TrueNASAPIError,
)
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
    "ConnectTimeout",
    "Connection",
    "HandshakeRejected",
    "Link",
    "WebSocketLink",
    "WireLimits",
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


@dataclass(frozen=True)
class WireLimits:
    """Size limits on what a server may send over the WebSocket.

    Each guards the process against a hostile or broken server (a frame header claiming
    terabytes, endless continuation frames, endless upgrade headers). Breaking one drops
    the connection; the calls in flight fail with
    :class:`~maas_dyn.errors.LimitExceeded` naming the limit and its keyword.

    Attributes:
        max_frame_bytes: Largest WebSocket frame accepted (checked on the frame's header,
            before its payload is read).
        max_message_bytes: Largest message, summed over its continuation frames.
        max_header_bytes: Largest answer to the WebSocket upgrade (status line, headers
            and any body), in bytes.
    """

    max_frame_bytes: int = 64 * 1024 * 1024
    max_message_bytes: int = 64 * 1024 * 1024
    max_header_bytes: int = 64 * 1024


# A blocked send checks its deadline this often: the granularity of every send
# deadline, not a deadline of its own. Plain sockets stay blocking for the reader (one
# system call, one GIL hand-off per read: a polling read halves pipelined throughput)
# and are written with MSG_DONTWAIT; TLS sockets, which take no flags, run in timeout
# mode with this slice (the reader then wakes this often when idle, and reads on).
_IO_SLICE = 0.05
_DONTWAIT: int = getattr(socket, "MSG_DONTWAIT", 0)
# A frame this small is written on the caller's thread when the socket is writable (the
# kernel then has room for it); a larger one, or one meeting a busy socket, goes to the
# connection's sender thread, so that submit() never blocks.
_NOWAIT_BYTES = 4096


class ConnectTimeout(ConnectionFailed, Timeout):
    """Opening a connection (TCP, TLS, upgrade, handshake, login) ran out of time.

    Both a :class:`~maas_dyn.errors.ConnectionFailed` (nothing of any call was sent, so
    the retry policy may try again) and a :class:`~maas_dyn.errors.Timeout`.
    """


class _LimitBroken(Exception):
    """Raised inside websocket-client's frame reading; becomes LimitExceeded."""

    def __init__(self, limit: str, value: int, seen: int, what: str):
        super().__init__(limit)
        self.limit, self.value, self.seen, self.what = limit, value, seen, what


def _limit_error(broken: _LimitBroken, url: str, method: str = "") -> LimitExceeded:
    return LimitExceeded(
        f"{url} sent {broken.what} of {broken.seen} bytes, over the client's limit of "
        f"{broken.value} bytes ({broken.limit}); the connection was dropped. If the server "
        f"is trusted and the message legitimate, raise it: Client({broken.limit}=...)",
        limit=broken.limit, value=broken.value, method=method, url=url)


class _LimitedFrames(frame_buffer):
    """websocket-client's frame reader, refusing a frame longer than the limit."""

    def __init__(self, recv: Callable[[int], bytes], limit: int):
        super().__init__(recv, True)
        self.limit = limit

    def recv_length(self) -> None:
        super().recv_length()
        if self.length is not None and self.length > self.limit:
            raise _LimitBroken("max_frame_bytes", self.limit, self.length, "a frame")


class _LimitedMessages(continuous_frame):
    """websocket-client's reassembly of fragmented messages, bounded in total."""

    def __init__(self, limit: int):
        super().__init__(False, True)
        self.limit = limit
        self.size = 0

    def add(self, frame: ABNF) -> None:
        self.size = (self.size if self.cont_data else 0) + len(frame.data)
        if self.size > self.limit:
            seen, self.size, self.cont_data, self.recving_frames = self.size, 0, None, None
            raise _LimitBroken("max_message_bytes", self.limit, seen, "a message")
        super().add(frame)


class _HeaderTooLarge(Exception):
    pass


class _UpgradeSocket:
    """The socket during the WebSocket upgrade: one total deadline, a size budget.

    websocket-client reads the upgrade's answer a byte at a time, each read with the
    socket's own timeout; a server dripping a byte just inside that timeout would hold
    the client for ever. This wrapper gives every read only what is left of the
    deadline, and counts what was read against ``max_header_bytes``.
    """

    def __init__(self, sock: socket.socket, deadline: float, budget: int):
        self._sock = sock
        self._deadline = deadline
        self._left = budget

    def _remaining(self) -> float:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the WebSocket upgrade did not finish in time")
        return remaining

    def gettimeout(self) -> float:
        return max(self._deadline - time.monotonic(), 0.001)

    def settimeout(self, timeout: float | None) -> None:
        """The deadline rules; websocket-client's own timeouts are ignored."""

    def recv(self, size: int) -> bytes:
        self._sock.settimeout(self._remaining())
        # A claimed Content-Length would otherwise allocate that much at once.
        data = self._sock.recv(max(1, min(size, self._left + 1)))
        self._left -= len(data)
        if self._left < 0:
            raise _HeaderTooLarge()
        return data

    def send(self, data: bytes) -> int:
        self._sock.settimeout(self._remaining())
        return self._sock.send(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class WebSocketLink:
    """A :class:`Link` on a websocket-client ``WebSocket``.

    Every write has a deadline: a server that stops reading cannot hold a sender, the
    keep-alive or :meth:`close` past it. A frame that could not be written whole before
    its deadline leaves the stream unusable, so the link is then cut.

    Args:
        ws: A connected socket made with ``enable_multithread=True``, its socket in
            timeout mode (see :func:`open_link`).
        limits: Size limits on frames and messages.
        send_timeout: Seconds a plain :meth:`send` may take.
    """

    def __init__(self, ws: websocket.WebSocket, limits: WireLimits | None = None,
                 send_timeout: float = 30.0):
        limits = limits or WireLimits()
        self._ws = ws
        self._lock: threading.Lock = ws.lock
        self._send_timeout = send_timeout
        sock = ws.sock
        # Non-blocking writes on a blocking plain socket; TLS: the socket's time slice.
        self._flags = _DONTWAIT if sock is not None and sock.gettimeout() is None else 0
        ws.frame_buffer = _LimitedFrames(ws._recv, limits.max_frame_bytes)
        ws.cont_frame = _LimitedMessages(limits.max_message_bytes)

    def send(self, text: str) -> None:
        """Send one text frame within the link's ``send_timeout``."""
        self.send_until(text, time.monotonic() + self._send_timeout)

    def send_until(self, text: str, deadline: float | None) -> None:
        """Send one text frame, giving up at ``deadline`` (``time.monotonic()``).

        Raises:
            Timeout: The frame could not be written in time (the link is cut if part of
                it was written).
            ConnectionClosed: The socket is gone.
        """
        data = ABNF.create_frame(text, ABNF.OPCODE_TEXT).format()
        lock = self._lock
        wait = -1.0 if deadline is None else max(deadline - time.monotonic(), 0.0)
        if not lock.acquire(timeout=wait):
            raise Timeout("another frame was still being written to the server (it is not "
                          "reading); this one was not sent")
        try:
            sock = self._ws.sock
            if sock is None:
                raise ConnectionClosed("the connection is closed")
            sent = self._send_once(sock, data)
            if sent < len(data):
                self._write(sock, memoryview(data)[sent:], deadline, sent > 0)
        except Timeout:
            raise  # a TimeoutError, so an OSError too: ours, not a broken socket
        except OSError as exc:
            raise ConnectionClosed(f"the connection broke while sending: {exc}") from None
        finally:
            lock.release()

    def try_send(self, text: str) -> bool:
        """Send one small frame at once if that cannot block; False if nothing was sent.

        A frame cut short after all (rare) is finished by a helper thread.

        Raises:
            ConnectionClosed: The socket is gone.
        """
        if len(text) > _NOWAIT_BYTES:
            return False
        lock = self._lock
        if not lock.acquire(blocking=False):
            return False
        handed = False
        try:
            sock = self._ws.sock
            if sock is None:
                raise ConnectionClosed("the connection is closed")
            if not self._flags and not select.select((), (sock,), (), 0)[1]:
                return False
            data = ABNF.create_frame(text, ABNF.OPCODE_TEXT).format()
            sent = self._send_once(sock, data)
            if sent == 0 and self._flags:
                return False  # nothing went out: the caller's thread may try another way
            if sent < len(data):
                handed = True
                threading.Thread(target=self._finish, args=(sock, memoryview(data)[sent:]),
                                 daemon=True, name="maas_dyn-truenas-send").start()
            return True
        except Timeout:
            raise  # a TimeoutError, so an OSError too: ours, not a broken socket
        except OSError as exc:
            raise ConnectionClosed(f"the connection broke while sending: {exc}") from None
        finally:
            if not handed:
                lock.release()

    def _finish(self, sock: socket.socket, rest: memoryview) -> None:
        try:
            self._write(sock, rest, time.monotonic() + self._send_timeout, True)
        except (Timeout, OSError):
            _log.debug("could not finish a frame; the link was cut")
        finally:
            self._lock.release()

    def _send_once(self, sock: socket.socket, data: bytes | memoryview) -> int:
        try:
            return sock.send(data, self._flags) if self._flags else sock.send(data)
        except (TimeoutError, BlockingIOError, ssl.SSLWantWriteError):
            return 0

    def _write(self, sock: socket.socket, rest: memoryview, deadline: float | None,
               started: bool) -> None:
        # Ends when the frame is written or at the deadline; each turn waits at most
        # _IO_SLICE, so the deadline is checked that often.
        started = started or isinstance(sock, ssl.SSLSocket)  # TLS may have buffered part
        flags = self._flags
        while rest:
            if deadline is not None and time.monotonic() >= deadline:
                if started:
                    self.abort()
                    raise Timeout("the server stopped reading while a frame was being "
                                  "written; the connection was dropped")
                raise Timeout("the server is not reading (its receive window is full); "
                              "the frame was not sent")
            sent = self._send_once(sock, rest)
            if sent:
                started = True
                rest = rest[sent:]
            elif flags:
                select.select((), (sock,), (), _IO_SLICE)

    def recv(self) -> str | bytes:
        """Receive one message (text frames as UTF-8 bytes); a close frame ends the link.

        Raises:
            ConnectionClosed: The peer closed the connection or it broke.
            LimitExceeded: The server broke one of :class:`WireLimits`.
        """
        ws = self._ws
        # Each turn returns, raises, or waits at most _IO_SLICE for data: idle wake-ups
        # (a timeout between or inside frames; the frame reader keeps partial data).
        while True:
            try:
                opcode, data = ws.recv_data()
            except websocket.WebSocketTimeoutException:
                continue
            except _LimitBroken as exc:
                self.abort()
                raise _limit_error(exc, "the server") from None
            except (websocket.WebSocketException, OSError, AttributeError, ValueError) as exc:
                # AttributeError: abort() from another thread already released the socket.
                raise ConnectionClosed(
                    f"the connection was lost: {exc or type(exc).__name__}") from None
            if opcode in (ABNF.OPCODE_TEXT, ABNF.OPCODE_BINARY):
                return data  # type: ignore[no-any-return]
            if opcode == ABNF.OPCODE_CLOSE:
                raise ConnectionClosed("the server closed the connection")

    def close(self, timeout: float = 1.0) -> None:
        """Send a close frame (best effort, within ``timeout`` seconds)."""
        try:
            self.send_close_until(time.monotonic() + timeout)
        except (Timeout, ConnectionClosed):
            _log.debug("could not send a close frame; the socket is gone or not reading")

    def send_close_until(self, deadline: float) -> None:
        """Send a close frame, giving up at ``deadline``."""
        lock = self._lock
        if not lock.acquire(timeout=max(deadline - time.monotonic(), 0.0)):
            raise Timeout("a frame is still being written")
        try:
            sock = self._ws.sock
            if sock is None:
                raise ConnectionClosed("the connection is closed")
            frame = ABNF.create_frame(b"\x03\xe8", ABNF.OPCODE_CLOSE).format()
            self._write(sock, memoryview(frame), deadline, False)
        except Timeout:
            raise  # a TimeoutError, so an OSError too: ours, not a broken socket
        except OSError as exc:
            raise ConnectionClosed(f"the connection broke while closing: {exc}") from None
        finally:
            lock.release()

    def peer_certificate(self) -> bytes | None:
        """The certificate the server presented (DER), or ``None`` without TLS.

        Read from the TLS session itself, so it is there with ``verify=False`` too: SCRAM
        channel binding proves that the server holding the key presented this certificate.
        """
        sock = self._ws.sock
        if isinstance(sock, ssl.SSLSocket):
            return sock.getpeercert(binary_form=True)
        return None

    def abort(self) -> None:
        """Shut the socket down; a blocked ``recv`` in the reader returns at once."""
        sock = self._ws.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                _log.debug("socket already shut down")
        self._ws.shutdown()  # type: ignore[no-untyped-call]


def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    # Built here from what the user passed, nothing else: no environment variable
    # (WEBSOCKET_CLIENT_CA_BUNDLE, REQUESTS_CA_BUNDLE) overrides verify=.
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if verify is True:
        return ssl.create_default_context()
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


def _left(deadline: float, url: str, timeout: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise ConnectTimeout(f"could not connect to {url} within {timeout:g} s", url=url)
    return remaining


def open_link(url: str, *, verify: bool | str = True, timeout: float = 10.0,
              limits: WireLimits | None = None, send_timeout: float = 30.0) -> WebSocketLink:
    """Open a WebSocket to ``url``, refusing redirects.

    Connecting (TCP), the TLS handshake and the WebSocket upgrade share one deadline of
    ``timeout`` seconds, however slowly the server answers. An upgrade answered with a
    redirect (301, 302, 307, 308) is refused with
    :class:`~maas_dyn.errors.RedirectRefused`: the client talks to the URL it was given
    (and checked for TLS and API-key safety), never to one a server names. HTTP proxies
    from the environment are not used.

    Args:
        url: ``ws://`` or ``wss://`` URL (holds no secrets).
        verify: TLS verification: ``True`` (default: the system's trust store),
            ``False``, or a CA bundle path (file or directory). Environment variables
            never override it.
        timeout: Seconds to connect and finish the upgrade, in total.
        limits: Size limits on the upgrade's answer, frames and messages.
        send_timeout: Seconds a frame sent without a deadline of its own may take.

    Returns:
        The open link.

    Raises:
        HandshakeRejected: The server answered the upgrade with an HTTP error.
        RedirectRefused: The server answered the upgrade with a redirect.
        LimitExceeded: The upgrade's answer is larger than ``limits.max_header_bytes``.
        ConnectTimeout: ``timeout`` ran out.
        ConnectionFailed: No connection could be made (refused, DNS, TLS).
    """
    limits = limits or WireLimits()
    deadline = time.monotonic() + timeout
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    sock: socket.socket | None = None
    ws: websocket.WebSocket | None = None
    try:
        host = parts.hostname or ""
        port = parts.port or (443 if secure else 80)
        sock = socket.create_connection((host, port), timeout=_left(deadline, url, timeout))
        try:  # as websocket-client does: small frames go out at once
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            _log.debug("TCP_NODELAY not available on this socket")
        if secure:
            sock = _ssl_context(verify).wrap_socket(sock, server_hostname=host,
                                                    do_handshake_on_connect=False)
            # do_handshake() applies the socket's timeout to the whole handshake.
            sock.settimeout(_left(deadline, url, timeout))
            sock.do_handshake()
        ws = websocket.WebSocket(enable_multithread=True, skip_utf8_validation=True)
        upgrade = _UpgradeSocket(sock, deadline, limits.max_header_bytes)
        ws.connect(url, socket=upgrade, redirect_limit=0)  # type: ignore[no-untyped-call]
    except ConnectTimeout:
        _close_quietly(sock)
        raise
    except _HeaderTooLarge:
        _close_quietly(sock)
        raise LimitExceeded(
            f"{url} answered the WebSocket upgrade with more than {limits.max_header_bytes} "
            "bytes of headers; raise Client(max_header_bytes=...) if that is legitimate",
            limit="max_header_bytes", value=limits.max_header_bytes, url=url) from None
    except websocket.WebSocketBadStatusException as exc:
        _close_quietly(sock)
        raise HandshakeRejected(
            f"{url} refused the WebSocket upgrade with HTTP {exc.status_code}",
            status=exc.status_code, url=url) from None
    except ssl.SSLCertVerificationError as exc:
        _close_quietly(sock)
        raise ConnectionFailed(
            f"the TLS certificate of {url} could not be verified ({exc.verify_message}); "
            "pass verify='/path/to/ca.pem', or verify=False for a self-signed appliance",
            url=url) from None
    except (TimeoutError, websocket.WebSocketTimeoutException):
        _close_quietly(sock)
        raise ConnectTimeout(f"could not connect to {url} within {timeout:g} s "
                             "(connection, TLS and WebSocket upgrade)", url=url) from None
    except (websocket.WebSocketException, OSError, ValueError, UnicodeError) as exc:
        _close_quietly(sock)
        response = ws.handshake_response if ws is not None else None
        status = getattr(response, "status", None)
        if status in SUPPORTED_REDIRECT_STATUSES:
            location = str((getattr(response, "headers", None) or {}).get("location") or "")
            # Only where it points: its query may carry anything (a token, a key).
            base, query, _ = location.partition("?")
            shown = redact_query(base) + ("?…" if query else "")
            raise RedirectRefused(
                f"{url} answered the WebSocket upgrade with a redirect (HTTP {status}) to "
                f"{shown or 'nowhere'}; the client does not follow redirects (credentials "
                "would go where the server says, perhaps without TLS). Connect to the "
                "final URL yourself after checking it", status=int(status), location=shown,
                url=url) from None
        raise ConnectionFailed(f"could not connect to {url}: {exc}", url=url) from None
    ws.sock = sock
    sock.settimeout(_IO_SLICE if secure or not _DONTWAIT else None)
    return WebSocketLink(ws, limits, send_timeout)


def _close_quietly(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()


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


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


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
        send_timeout: Seconds any frame may take to be written (a call's own deadline
            may end it sooner); a server that reads nothing for this long is dropped.
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
        send_timeout: float = 30.0,
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
        self._send_timeout = send_timeout
        # Links that can bound a write (WebSocketLink) get deadlines; test fakes need none.
        self._send_until: Callable[[str, float | None], None] | None = \
            getattr(link, "send_until", None)
        self._try_send: Callable[[str], bool] | None = getattr(link, "try_send", None)
        # Why the connection ended, as the error calls in flight get (a broken limit).
        self._fatal: LimitExceeded | None = None
        self._outbox: queue.SimpleQueue[tuple[int, str, float] | None] = queue.SimpleQueue()
        self._sender: threading.Thread | None = None
        number = self._number = next(_thread_numbers)
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
            self._send(hello, time.monotonic() + timeout)
        except (ConnectionClosed, Timeout):
            self.close()
            raise ConnectionFailed(f"{self.url} closed the connection at once",
                                   url=self.url) from None
        answered = handshake.done.acquire(timeout=timeout)
        if not answered or not handshake.result:
            self.close()
            why = "did not answer" if not answered else "refused the protocol handshake"
            raise ConnectionFailed(f"{self.url} {why}", url=self.url)

    # -- calls ------------------------------------------------------------------------------

    def peer_certificate(self) -> bytes | None:
        """The server's TLS certificate (DER) when the link can tell (for channel binding)."""
        getter = getattr(self._link, "peer_certificate", None)
        return getter() if callable(getter) else None

    def call(self, method: str, params: Sequence[Any], timeout: float | None = None, *,
             deadline: float | None = None) -> Any:
        """Call a method and wait for its reply.

        Args:
            method: Dotted method name.
            params: Positional parameters.
            timeout: Seconds for the whole call: a free slot, sending, and the reply;
                ``None`` waits as long as the connection lives (sending is still bounded
                by ``send_timeout``).
            deadline: Instead of ``timeout``, a ``time.monotonic()`` instant to finish by.

        Returns:
            The method's result.

        Raises:
            TrueNASAPIError: The server answered with an error (a typed subclass).
            ConnectionClosed: The connection dropped before the reply; not re-sent.
            Timeout: No reply in time (the call may still run on the server).
            TooManyConcurrentCalls: Too many callers on this connection; not sent.
        """
        if deadline is None and timeout is not None:
            deadline = time.monotonic() + timeout
        limiter = self._limiter
        limiter.acquire(_remaining(deadline), method, self.url)
        try:
            request_id = next(self._ids)
            return self._exchange(request_id, method,
                                  self.framing.call(request_id, method, params), deadline)
        finally:
            limiter.release()

    def submit(self, method: str, params: Sequence[Any], *,
               deadline: float | None = None) -> Future[Any]:
        """Send a call and return at once; the reader thread completes the future.

        It never blocks on the socket: a small frame is written at once when the
        socket has room, anything else is handed to the connection's sender thread
        (which fails the future with :class:`~maas_dyn.errors.Timeout` if the frame
        cannot be written by ``deadline``, or within ``send_timeout``).

        The caller bounds its own calls in flight (the async facade uses a semaphore):
        a submitted call never waits for a slot, it fails at once when none is free.
        Cancelling the future (e.g. on the caller's timeout) frees the slot; a reply
        that arrives later is dropped.

        Args:
            method: Dotted method name.
            params: Positional parameters.
            deadline: A ``time.monotonic()`` instant after which the call is not sent.

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
        text = self.framing.call(request_id, method, params)
        try:
            try_send = self._try_send
            if try_send is None:
                self._link.send(text)
            elif not try_send(text):
                self._send_later(request_id, text, deadline)
        except ConnectionClosed:
            if waiting.pop(request_id, None) is not None:
                future.set_exception(self._lost(method))
        return future

    def _send_later(self, request_id: int, text: str, deadline: float | None) -> None:
        with self._lock:
            if self._sender is None:
                self._sender = threading.Thread(
                    target=self._send_queued, daemon=True,
                    name=f"maas_dyn-truenas-sender-{self._number}")
                self._sender.start()
        self._outbox.put((request_id, text, self._send_deadline(deadline)))

    def _send_queued(self) -> None:
        # Ends at the None that close() queues; each frame is bounded by its deadline.
        while True:
            item = self._outbox.get()
            if item is None:
                return
            request_id, text, deadline = item
            pending = self._pending.get(request_id)
            if pending is None:
                continue  # cancelled (its caller timed out) before its turn: never sent
            try:
                self._send(text, deadline)
            except (ConnectionClosed, Timeout) as exc:
                if self._pending.pop(request_id, None) is not None:
                    pending.error = Timeout(f"{pending.method} could not be sent to "
                                            f"{self.url}: {exc}", method=pending.method,
                                            url=self.url) \
                        if isinstance(exc, Timeout) else self._lost(pending.method)
                    pending.settle()

    def _send_deadline(self, deadline: float | None) -> float:
        limit = time.monotonic() + self._send_timeout
        return limit if deadline is None or deadline > limit else deadline

    def _send(self, text: str, deadline: float | None) -> None:
        send_until = self._send_until
        if send_until is None:
            self._link.send(text)
        else:
            send_until(text, self._send_deadline(deadline))

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
                                self.framing.subscribe(request_id, name), _deadline(timeout))
        return self.framing.subscription_id(request_id, result)

    def unsubscribe(self, subscription: str) -> None:
        """End a subscription; the answer is not awaited.

        Args:
            subscription: The id :meth:`subscribe` returned.
        """
        try:
            self._send(self.framing.unsubscribe(next(self._ids), subscription), None)
        except (ConnectionClosed, Timeout):
            _log.debug("unsubscribe %s not sent: the connection is gone", subscription)

    def ping(self, timeout: float | None = None) -> None:
        """Send a protocol ping and wait for the answer.

        Args:
            timeout: Seconds to wait.
        """
        request_id = next(self._ids)
        self._exchange(request_id, "ping", self.framing.ping(request_id), _deadline(timeout))

    def _exchange(self, request_id: int, method: str, text: str,
                  deadline: float | None) -> Any:
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
            send_until = self._send_until
            if send_until is None:
                self._link.send(text)
            else:
                limit = time.monotonic() + self._send_timeout
                send_until(text, limit if deadline is None or deadline > limit else deadline)
        except ConnectionClosed:
            if waiting.pop(request_id, None) is not None:
                raise self._lost(method) from None
        except Timeout as exc:
            # Ours to report even if a cut link already failed the waiter: the send is
            # what ran out of time.
            waiting.pop(request_id, None)
            raise Timeout(f"{method} could not be sent to {self.url} in time: {exc}",
                          method=method, url=self.url) from None
        wait = -1.0 if deadline is None else max(deadline - time.monotonic(), 0.0)
        if not pending.done.acquire(timeout=wait):
            if waiting.pop(request_id, None) is not None:
                raise Timeout(
                    f"{method} got no answer from {self.url} in time; "
                    "it may still run on the server", method=method, url=self.url)
            pending.done.acquire()  # the reply raced the timeout: it is being delivered
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _lost(self, method: str) -> TrueNASAPIError | ConnectionClosed | LimitExceeded:
        fatal = self._fatal
        if fatal is not None:
            return LimitExceeded(str(fatal), limit=fatal.limit, value=fatal.value,
                                 method=method, url=self.url)
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
                except ValueError:  # also invalid UTF-8 (UnicodeDecodeError)
                    _log.warning("ignoring a frame from %s that is not JSON", self.url)
                    continue
                for message in messages:
                    self._route(message)
        except ConnectionClosed as exc:
            if not self._closing:
                reason = str(exc)
        except LimitExceeded as exc:
            self._fatal = LimitExceeded(str(exc).replace("the server", self.url, 1),
                                        limit=exc.limit, value=exc.value, url=self.url)
            reason = str(self._fatal)
        except Exception as exc:  # whatever broke, callers learn the real cause
            _log.exception("the reader of %s failed", self.url)
            reason = f"the client could not handle what {self.url} sent: {exc!r}"
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
                try:
                    pending.error = self.framing.error(message.error, pending.method, self.url)
                except Exception:  # a malformed error object still fails the call, typed
                    pending.error = TrueNASAPIError(
                        f"{self.url} answered {pending.method} with a malformed error",
                        method=pending.method, url=self.url)
            else:
                pending.result = message.result
            pending.settle()
        elif isinstance(message, Handshake):
            if self._handshake is not None:
                self._handshake.result = message.ok
                self._handshake.done.release()
        elif isinstance(message, ServerPing):
            try:
                self._send(message.answer, None)
            except (ConnectionClosed, Timeout):
                _log.debug("could not answer a ping from %s", self.url)
        else:
            try:
                self._on_notice(message)
            except Exception:  # a listener must never stop the reader
                _log.exception("an event listener failed on %s", self.url)

    def _shutdown(self, reason: str) -> None:
        with self._lock:
            if self._closed:
                return  # once: the reader, or close() when the reader would not end
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
        """Close the connection and join its threads, within about ``2 * grace`` seconds.

        Calls still in flight fail with :class:`~maas_dyn.errors.ConnectionClosed`.
        Whatever the peer does (not reading, not answering), this returns in bounded
        time: the close frame gets ``grace`` seconds, the threads another ``grace``
        (a thread still running then is left behind, daemonic, and logged).

        Args:
            grace: Seconds to wait for the server's close frame before cutting the socket.
        """
        with self._lock:
            self._closing = True
        self._stop.set()
        current = threading.current_thread()
        ends = time.monotonic() + grace
        if self._reader.is_alive():
            send_close = getattr(self._link, "send_close_until", None)
            if send_close is None:
                self._link.close()
            else:
                try:
                    send_close(ends)
                except (Timeout, ConnectionClosed):
                    _log.debug("no close frame to %s: the socket is gone or not reading",
                               self.url)
            if current is not self._reader:
                self._reader.join(max(ends - time.monotonic(), 0.0))
        self._link.abort()
        self._outbox.put(None)
        ends = time.monotonic() + grace
        for thread in (self._reader, self._pinger, self._sender):
            if thread is not None and thread is not current and thread.ident is not None:
                thread.join(max(ends - time.monotonic(), 0.0))
                if thread.is_alive():
                    _log.warning("%s did not end within %g s of closing %s", thread.name,
                                 grace, self.url)
        self._shutdown("closed by the client")  # no-op if the reader already did

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Connection {self.url} {self.framing.name} {state}>"
