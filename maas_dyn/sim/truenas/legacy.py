"""The legacy DDP-style endpoint ``/websocket`` (the middleware's ``WebSocketApplication``).

Messages: ``connect`` (version "1") answered by ``connected`` with the session id (or
``failed``); before that handshake everything else gets ``failed``. ``method`` calls
answer ``{"msg": "result", "id", "result"}`` or an ``error`` object with ``error`` (errno),
``errname``, ``type`` (``"VALIDATION"`` or null), ``reason``, ``trace`` and ``extra``; jobs
answer their id. ``sub``/``unsub`` manage subscriptions, ``sub`` answers ``ready``, and
events arrive as ``added``/``changed``/``removed`` messages. Every other ``msg``, a
``ping`` included, is ignored: ``WebSocketApplication.on_message``
(``middlewared/apps/websocket_app.py``, 25.04 to 26.0) has no branch for it, so
``midclt ping`` over this endpoint waits in vain on a real server, and must here too.
An undecodable message closes the connection with 1007.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

from maas_dyn.sim.truenas import rpc
from maas_dyn.sim.truenas.catalog import Catalog
from maas_dyn.sim.truenas.connection import Connection
from maas_dyn.sim.truenas.dispatch import ConnectionDropped, Dispatcher, method_not_found
from maas_dyn.sim.truenas.exceptions import (
    CallError,
    MethodNotFound,
    ValidationErrors,
    errname,
)

__all__ = ["LegacyProtocol"]

_CLOSE_INVALID_TEXT = 1007


def _trace(exc: BaseException) -> dict[str, Any]:
    return {**rpc.trace_of(exc), "frames": []}


def error_object(errno_: int, reason: str, exc: BaseException | None = None,
                 etype: str | None = None, extra: object = None) -> dict[str, Any]:
    """Build the legacy ``error`` object.

    Args:
        errno_: Error number.
        reason: Reason text.
        exc: The exception, for ``trace``.
        etype: ``"VALIDATION"`` or ``None``.
        extra: Extra details.

    Returns:
        ``{"error", "errname", "type", "reason", "trace", "extra"}``.
    """
    return {"error": errno_, "errname": errname(errno_), "type": etype, "reason": reason,
            "trace": _trace(exc) if exc is not None else None, "extra": extra}


class LegacyProtocol:
    """DDP-style framing for one connection.

    Args:
        dispatcher: The call funnel.
        catalog: The served description (for "method not found" wording).
    """

    def __init__(self, dispatcher: Dispatcher, catalog: Catalog):
        self._dispatcher = dispatcher
        self._catalog = catalog
        self._handshake = False
        self._handlers: dict[str, Callable[[Connection, dict[str, Any]], None]] = {
            "method": self._method,
            "sub": self._sub,
            "unsub": self._unsub,
        }

    @staticmethod
    def event_frame(params: dict[str, Any]) -> dict[str, Any]:
        """Legacy events are the params themselves (``{"msg": "added", ...}``).

        Args:
            params: ``{"msg", "collection", "id", "fields"}``.

        Returns:
            The message.
        """
        return dict(params)

    @staticmethod
    def on_bad_message(connection: Connection, error: ValueError) -> bool:
        """Close the connection on an undecodable message, as the middleware does.

        Args:
            connection: The connection.
            error: Why decoding failed.

        Returns:
            False: the connection ends.
        """
        connection.close(_CLOSE_INVALID_TEXT, str(error))
        return False

    def on_message(self, connection: Connection, message: dict[str, Any]) -> None:
        """Handle one message.

        Args:
            connection: The connection.
            message: The decoded message.
        """
        kind = message.get("msg")
        if kind == "connect":
            self._connect(connection, message)
        elif not self._handshake:
            connection.session.send({"msg": "failed", "version": "1"})
        elif isinstance(kind, str) and kind in self._handlers:
            self._handlers[kind](connection, message)

    def _connect(self, connection: Connection, message: dict[str, Any]) -> None:
        if message.get("version") != "1":
            connection.session.send({"msg": "failed", "version": "1"})
            return
        self._handshake = True
        connection.session.send({"msg": "connected", "session": connection.session.id})

    @staticmethod
    def _sub(connection: Connection, message: dict[str, Any]) -> None:
        session = connection.session
        if not session.authenticated:
            session.send({"msg": "result", "id": message.get("id"),
                          "error": error_object(errno.EACCES, "Not authorized")})
            return
        session.subscriptions[str(message.get("id"))] = str(message.get("name"))
        session.send({"msg": "ready", "subs": [message.get("id")]})

    @staticmethod
    def _unsub(connection: Connection, message: dict[str, Any]) -> None:
        connection.session.subscriptions.pop(str(message.get("id")), None)

    def _method(self, connection: Connection, message: dict[str, Any]) -> None:
        session = connection.session
        id_ = message.get("id")

        def reply_error(error: dict[str, Any]) -> None:
            session.send({"msg": "result", "id": id_, "error": error})

        if "method" not in message:
            reply_error(error_object(errno.EINVAL, "Message is malformed: 'method' is absent."))
            return
        params = message.get("params") or []
        if not isinstance(params, list):
            reply_error(error_object(errno.EINVAL, "`params` must be a list."))
            return

        def work() -> None:
            try:
                result = self._dispatcher.call(session, str(message["method"]), params,
                                               message_id=id_, job_id_only=True)
            except ConnectionDropped:
                return
            except Exception as exc:  # every failure becomes an error reply
                reply_error(self._error_for(str(message["method"]), exc))
                return
            session.send({"msg": "result", "id": id_, "result": result})

        def refuse() -> None:
            reply_error(error_object(
                errno.ETOOMANYREFS,
                f"Maximum number of concurrent calls ({rpc.HARD_CALL_LIMIT}) has exceeded."))

        connection.run_call(work, refuse)

    def _error_for(self, method: str, exc: Exception) -> dict[str, Any]:
        if isinstance(exc, MethodNotFound):
            exc = method_not_found(self._catalog, method)
        if isinstance(exc, ValidationErrors):
            return error_object(errno.EAGAIN, str(exc), exc, "VALIDATION",
                                [list(item) for item in exc.errors])
        if isinstance(exc, CallError):
            return error_object(exc.errno, str(exc), exc, extra=exc.extra)
        return error_object(errno.EINVAL, str(exc) or repr(exc), exc)
