"""Hostile WebSocket servers on raw sockets (127.0.0.1), free to misbehave at will.

:class:`HostileServer` accepts connections and runs a handler per connection with a
:class:`Peer`: helpers to read the upgrade request, answer it (or not), write frames
(including lying headers) and read the client's masked frames. Everything is bounded:
every socket read waits in short slices and gives up when the server stops, every
handler thread is joined (with a bound) when the server closes.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_SLICE = 0.05
TEXT, CONT, CLOSE = 0x1, 0x0, 0x8


class Stopped(Exception):
    """The server is closing (or the client went away): the handler should end."""


class Peer:
    """The server side of one client connection."""

    def __init__(self, conn: socket.socket, stop: threading.Event):
        self.conn = conn
        self.stop = stop
        conn.settimeout(_SLICE)
        self._buffer = b""

    def _fill(self, size: int, deadline: float | None = None) -> None:
        # Bounded by the server's stop event (and an optional deadline).
        while len(self._buffer) < size:
            if self.stop.is_set() or (deadline is not None and time.monotonic() > deadline):
                raise Stopped()
            try:
                chunk = self.conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                raise Stopped() from None
            if not chunk:
                raise Stopped()
            self._buffer += chunk

    def _take(self, size: int) -> bytes:
        self._fill(size)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def read_request(self) -> dict[str, str]:
        """Read the HTTP upgrade request; returns its headers (lower-case names)."""
        while b"\r\n\r\n" not in self._buffer:
            self._fill(len(self._buffer) + 1)
            if len(self._buffer) > 65536:
                raise Stopped()
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        headers = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return headers

    def accept(self) -> None:
        """Read the upgrade request and answer 101 Switching Protocols."""
        key = self.read_request()["sec-websocket-key"].encode()
        answer = base64.b64encode(hashlib.sha1(key + _GUID).digest()).decode()
        self.send_raw(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       f"Connection: Upgrade\r\nSec-WebSocket-Accept: {answer}\r\n\r\n")
                      .encode())

    def send_raw(self, data: bytes) -> None:
        """Write bytes, giving up when the server stops."""
        view = memoryview(data)
        while view:
            if self.stop.is_set():
                raise Stopped()
            try:
                sent = self.conn.send(view)
            except TimeoutError:
                continue
            except OSError:
                raise Stopped() from None
            view = view[sent:]

    @staticmethod
    def frame(opcode: int, payload: bytes, *, fin: bool = True,
              length: int | None = None) -> bytes:
        """A server frame (unmasked); ``length`` may lie about the payload's size."""
        size = len(payload) if length is None else length
        first = (0x80 if fin else 0) | opcode
        if size < 126:
            head = struct.pack("!BB", first, size)
        elif size < 1 << 16:
            head = struct.pack("!BBH", first, 126, size)
        else:
            head = struct.pack("!BBQ", first, 127, size)
        return head + payload

    def send_json(self, value: Any) -> None:
        """Send one text frame holding JSON."""
        self.send_raw(self.frame(TEXT, json.dumps(value).encode()))

    def recv_message(self, deadline: float | None = None) -> tuple[int, bytes]:
        """Read one client message (masked frames, reassembled)."""
        data, first_opcode = b"", None
        while True:
            self._fill(2, deadline)
            b1, b2 = self._take(2)
            size = b2 & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._take(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._take(8))[0]
            mask = self._take(4) if b2 & 0x80 else b"\0\0\0\0"
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._take(size))) \
                if size < 1 << 20 else self._unmask_big(self._take(size), mask)
            opcode = b1 & 0x0F
            if opcode == CLOSE:
                raise Stopped()
            first_opcode = first_opcode if first_opcode is not None else opcode
            data += payload
            if b1 & 0x80:
                return first_opcode, data

    @staticmethod
    def _unmask_big(payload: bytes, mask: bytes) -> bytes:
        key = int.from_bytes(mask * (len(payload) // 4 + 1), "big") >> (
            8 * ((4 - len(payload) % 4) % 4))
        return (int.from_bytes(payload, "big") ^ key).to_bytes(len(payload), "big")

    def recv_json(self, deadline: float | None = None) -> dict[str, Any]:
        """Read one client message as JSON."""
        value = json.loads(self.recv_message(deadline)[1])
        assert isinstance(value, dict)
        return value

    def login(self) -> None:
        """Answer the client's ``auth.login_ex`` with SUCCESS."""
        request = self.recv_json()
        self.reply(request, {"response_type": "SUCCESS"})

    def reply(self, request: dict[str, Any], result: Any) -> None:
        """Answer a request."""
        self.send_json({"jsonrpc": "2.0", "id": request["id"], "result": result})

    def serve(self, answer: Callable[[dict[str, Any]], Any] = lambda request: "pong") -> None:
        """Answer every request with ``answer(request)`` until the server stops."""
        while True:
            request = self.recv_json()
            self.reply(request, answer(request))

    def idle(self) -> None:
        """Read nothing and answer nothing until the server stops."""
        self.stop.wait(30)
        raise Stopped()

    def close(self) -> None:
        """Close the socket."""
        with contextlib.suppress(OSError):
            self.conn.shutdown(socket.SHUT_RDWR)
        self.conn.close()


Handler = Callable[[Peer], None]


class HostileServer:
    """A raw-socket server on 127.0.0.1 running ``handler(peer)`` per connection.

    Use as a context manager; leaving it stops the handlers and closes every socket.

    Args:
        handler: What the server does with each connection.
        recv_buffer: SO_RCVBUF for accepted sockets (small: a non-reading server fills
            up fast).
    """

    def __init__(self, handler: Handler, *, recv_buffer: int | None = None):
        self.handler = handler
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        if recv_buffer:
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, recv_buffer)
        self.listener.settimeout(_SLICE)
        self.port = self.listener.getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}/api/current"
        self.peers: list[Peer] = []
        self.connections = 0
        self.errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True,
                                          name="hostile-ws-accept")

    def __enter__(self) -> HostileServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        # Ends when stop is set (each accept waits at most _SLICE).
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            peer = Peer(conn, self.stop)
            self.peers.append(peer)
            thread = threading.Thread(target=self._run, args=(peer,), daemon=True,
                                      name="hostile-ws-peer")
            self._threads.append(thread)
            thread.start()

    def _run(self, peer: Peer) -> None:
        try:
            self.handler(peer)
        except Stopped:
            pass
        except BaseException as exc:  # reported to the test through .errors
            self.errors.append(exc)
        finally:
            peer.close()

    def close(self) -> None:
        """Stop every handler and close every socket (bounded)."""
        self.stop.set()
        self.listener.close()
        self._acceptor.join(5)
        for peer in self.peers:
            peer.close()
        for thread in self._threads:
            thread.join(5)


def run_bounded(action: Callable[[], Any], limit: float) -> tuple[str, Any, float]:
    """Run ``action`` in a thread and wait at most ``limit`` seconds for it.

    Returns:
        ``("ok", result, elapsed)``, ``("raised", exception, elapsed)`` or
        ``("hung", None, limit)`` when it did not return in time (the thread is left
        behind, daemonic; closing the server afterwards releases it).
    """
    outcome: list[tuple[str, Any]] = []

    def run() -> None:
        try:
            outcome.append(("ok", action()))
        except BaseException as exc:  # handed to the test
            outcome.append(("raised", exc))

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True, name="hostile-ws-caller")
    thread.start()
    thread.join(limit)
    if not outcome:
        return "hung", None, limit
    return outcome[0][0], outcome[0][1], time.monotonic() - started
