"""Event subscriptions and ``collection_update`` fan-out.

A session subscribes to an event name with ``core.subscribe`` (or a legacy ``sub``
message); :meth:`EventHub.publish` sends each change to every session subscribed to that
name or to ``"*"``. The params follow the middleware's ``send_event``: ``msg`` is the
lower-cased event type, ``id`` is present when given, ``fields`` only for added and changed.
"""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from maas_dyn.sim.truenas.session import Session

__all__ = ["EventHub", "event_params"]


def event_params(collection: str, msg: str, item_id: object = None,
                 fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the params of one ``collection_update``.

    Args:
        collection: Event name, e.g. ``"pool.query"``.
        msg: ``ADDED``, ``CHANGED`` or ``REMOVED`` (any case).
        item_id: Id of the object that changed.
        fields: The object (sent for added and changed only).

    Returns:
        ``{"msg", "collection", "id", "fields"}`` as the middleware builds it.
    """
    params: dict[str, Any] = {"msg": msg.lower(), "collection": collection}
    if item_id is not None:
        params["id"] = item_id
    if msg.upper() in ("ADDED", "CHANGED") and fields is not None:
        params["fields"] = fields
    return params


class EventHub:
    """Knows every live session and delivers events to subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: list[Session] = []

    def attach(self, session: Session) -> None:
        """Start delivering to a session.

        Args:
            session: A new session.
        """
        with self._lock:
            self._sessions.append(session)

    def detach(self, session: Session) -> None:
        """Stop delivering to a session (it closed).

        Args:
            session: The session.
        """
        with self._lock:
            if session in self._sessions:
                self._sessions.remove(session)

    def sessions(self) -> list[Session]:
        """List the live sessions.

        Returns:
            A copy of the list.
        """
        with self._lock:
            return list(self._sessions)

    @staticmethod
    def subscribe(session: Session, name: str) -> str:
        """Subscribe a session to an event name.

        Args:
            session: The subscriber.
            name: Event name (``"*"`` for every event).

        Returns:
            The subscription id.
        """
        ident = str(uuid.uuid4())
        session.subscriptions[ident] = name
        return ident

    @staticmethod
    def unsubscribe(session: Session, ident: str) -> None:
        """Cancel a subscription; unknown ids are ignored, as by the middleware.

        Args:
            session: The subscriber.
            ident: The subscription id.
        """
        session.subscriptions.pop(ident, None)

    def publish(self, collection: str, msg: str, *, item_id: object = None,
                fields: dict[str, Any] | None = None) -> None:
        """Send a change to every subscribed, logged-in session.

        Args:
            collection: Event name.
            msg: ``ADDED``, ``CHANGED`` or ``REMOVED``.
            item_id: Id of the object.
            fields: The object.
        """
        params = event_params(collection, msg, item_id, fields)
        for session in self.sessions():
            if session.authenticated and session.wants(collection):
                session.send_event(params)
