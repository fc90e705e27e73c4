"""One client session (the middleware's "app"): who is logged in and what it listens to."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from maas_dyn.sim.truenas import rpc
from maas_dyn.sim.truenas.auth import Credentials

__all__ = ["NullTransport", "PendingLogin", "PendingScram", "Session", "Transport"]

_log = logging.getLogger("maas_dyn.sim.truenas")


class Transport(Protocol):
    """Where a session's messages go (a WebSocket connection, or nowhere)."""

    def send(self, message: str) -> None:
        """Send one text message."""

    def close(self, code: int, reason: str) -> None:
        """Close with a close frame."""

    def drop(self) -> None:
        """Cut the connection without a close frame."""


class NullTransport:
    """Transport of sessions without a socket (HTTP uploads); discards everything."""

    def send(self, message: str) -> None:
        """Discard a message."""

    def close(self, code: int, reason: str) -> None:
        """Do nothing; there is no connection."""

    def drop(self) -> None:
        """Do nothing; there is no connection."""


@dataclass
class PendingLogin:
    """A password login waiting for its second factor (``OTP_REQUIRED`` was answered).

    Attributes:
        username: The user who must send an OTP.
        attempts: Wrong OTPs sent so far.
    """

    username: str
    attempts: int = 0


@dataclass
class PendingScram:
    """A SCRAM login between its two steps (``SERVER_FIRST_RESPONSE`` was answered).

    Attributes:
        username: The user named in the client-first message.
        key_id: The API key id named with it.
        keys: The key's ScramKeys (salt, iterations, StoredKey, ServerKey).
        gs2_header: The client's GS2 header, e.g. ``"n,,"`` or ``"p=tls-server-end-point,,"``.
        client_first_bare: The client-first message without its GS2 header.
        server_first: The server-first message sent.
        nonce: The combined nonce, as sent (base64).
    """

    username: str
    key_id: int
    keys: Any = field(repr=False)
    gs2_header: str
    client_first_bare: str
    server_first: str
    nonce: str


@dataclass
class Session:
    """State of one connection.

    Attributes:
        transport: Where messages go.
        event_frame: Wraps ``collection_update`` params in this protocol's framing.
        origin: Peer address (``"127.0.0.1"``), used by origin-bound tokens.
        id: Session id, sent as ``session`` by the legacy endpoint.
        credentials: Set once logged in.
        pending: A login waiting for an OTP.
        scram: A SCRAM login waiting for its client-final message.
        tls: The connection came over TLS.
        channel_binding: The ``tls-server-end-point`` value of the certificate this
            server presents (TLS only); what a channel-bound SCRAM proof must carry.
        legacy_jobs: Job methods answer the job id (True) or wait for the result.
        private_methods: Echo of ``core.set_options``.
        py_exceptions: Echo of ``core.set_options``.
        subscriptions: ``{subscription id: event name}``.
        closed: Set when the connection is gone.
    """

    transport: Transport
    event_frame: Callable[[dict[str, Any]], dict[str, Any]]
    origin: str = "127.0.0.1"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    credentials: Credentials | None = None
    pending: PendingLogin | None = None
    scram: PendingScram | None = None
    tls: bool = False
    channel_binding: bytes | None = field(default=None, repr=False)
    legacy_jobs: bool = True
    private_methods: bool = False
    py_exceptions: bool = False
    subscriptions: dict[str, str] = field(default_factory=dict)
    closed: threading.Event = field(default_factory=threading.Event)
    _send_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def authenticated(self) -> bool:
        """Whether the session has logged in."""
        return self.credentials is not None

    def send(self, message: dict[str, Any]) -> None:
        """Send one message; a closed connection silently drops it.

        Args:
            message: The message object.
        """
        if self.closed.is_set():
            return
        text = rpc.dumps(message)
        with self._send_lock:
            try:
                self.transport.send(text)
            except Exception:  # a vanished peer must not fail the sender
                _log.debug("dropping a message to closed session %s", self.id)
                self.closed.set()

    def wants(self, collection: str) -> bool:
        """Tell whether the session subscribed to an event name.

        Args:
            collection: Event name, e.g. ``"core.get_jobs"``.

        Returns:
            True when subscribed to that name or to ``"*"``.
        """
        names = set(self.subscriptions.values())
        return collection in names or "*" in names

    def send_event(self, params: dict[str, Any]) -> None:
        """Send a ``collection_update`` in this session's framing.

        Args:
            params: ``{"msg", "collection", "id", "fields"}``.
        """
        self.send(self.event_frame(params))

    def logout(self) -> None:
        """Forget the credentials and subscriptions, as ``auth.logout`` does."""
        self.credentials = None
        self.pending = None
        self.scram = None
        self.subscriptions.clear()
