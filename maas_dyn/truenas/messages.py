"""What the server sends, once decoded: the few message kinds the transport routes.

Both protocols (JSON-RPC 2.0 on ``/api/...`` and the legacy DDP-style ``/websocket``)
decode into these, so everything above the framing layer is protocol-neutral.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Event", "Handshake", "Incoming", "Reply", "ServerPing", "SubscriptionEnded"]


@dataclass
class Reply:
    """The answer to one request (not frozen: one is made per reply, cheaply).

    Attributes:
        id: The id of the request it answers.
        result: The result, when the call succeeded.
        error: The raw error object, when it failed (decoded by the framing).
    """

    id: object
    result: Any = None
    error: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Event:
    """One event of a subscription (a ``collection_update``).

    Attributes:
        msg: ``"added"``, ``"changed"`` or ``"removed"`` (lower case, as sent).
        collection: The event name, e.g. ``"core.get_jobs"`` or ``"alert.list"``.
        id: The id of the object that changed, when the server sends one.
        fields: The object's fields (for ``removed`` usually ``None``).
    """

    msg: str
    collection: str
    id: Any = None
    fields: Any = None


@dataclass(frozen=True)
class SubscriptionEnded:
    """The server ended a subscription on its own (``notify_unsubscribed``).

    Attributes:
        collection: The event name.
        reason: Why, when the server says.
    """

    collection: str
    reason: str = ""


@dataclass(frozen=True)
class Handshake:
    """The legacy protocol's answer to ``connect``.

    Attributes:
        ok: ``True`` for ``connected``, ``False`` for ``failed``.
    """

    ok: bool


@dataclass(frozen=True)
class ServerPing:
    """A legacy ``ping`` from the server, which expects a ``pong`` with the same id.

    Attributes:
        answer: The frame to send back.
    """

    answer: str


Incoming = Reply | Event | SubscriptionEnded | Handshake | ServerPing
