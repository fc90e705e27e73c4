"""The JSON-RPC 2.0 endpoint (``/api/current`` and ``/api/vXX.YY.Z``).

Message handling of the middleware's ``RpcWebSocketHandler``: an undecodable message gets
-32700 with a null id and the connection goes on; an invalid request gets -32600 when it
has an id (and nothing otherwise); every call runs concurrently and a call without ``id``
(a notification) runs without a reply.
"""

from __future__ import annotations

from typing import Any

from maas_dyn.sim.truenas import rpc
from maas_dyn.sim.truenas.connection import Connection
from maas_dyn.sim.truenas.dispatch import ConnectionDropped, Dispatcher

__all__ = ["JsonRpcProtocol"]


class JsonRpcProtocol:
    """JSON-RPC framing for one connection.

    Args:
        dispatcher: The call funnel.
    """

    def __init__(self, dispatcher: Dispatcher):
        self._dispatcher = dispatcher

    @staticmethod
    def event_frame(params: dict[str, Any]) -> dict[str, Any]:
        """Wrap event params in a ``collection_update`` notification.

        Args:
            params: ``{"msg", "collection", "id", "fields"}``.

        Returns:
            The notification.
        """
        return rpc.notification("collection_update", params)

    @staticmethod
    def on_bad_message(connection: Connection, error: ValueError) -> bool:
        """Answer -32700 to an undecodable message and keep the connection.

        Args:
            connection: The connection.
            error: Why decoding failed.

        Returns:
            True: the connection goes on.
        """
        connection.session.send(rpc.failure(None, rpc.JSONRPCError.INVALID_JSON, str(error)))
        return True

    def on_message(self, connection: Connection, message: dict[str, Any]) -> None:
        """Check a request and run it.

        Args:
            connection: The connection.
            message: The decoded message.
        """
        session = connection.session
        has_id = "id" in message
        try:
            rpc.check_request(message)
        except ValueError as error:
            if has_id:
                session.send(rpc.failure(message["id"], rpc.JSONRPCError.INVALID_REQUEST,
                                         str(error)))
            return
        id_ = message.get("id")

        def work() -> None:
            try:
                result = self._dispatcher.call(session, message["method"], message["params"],
                                               message_id=id_)
            except ConnectionDropped:
                return
            except Exception as exc:  # every failure becomes an error reply
                if has_id:
                    session.send(rpc.error_reply(id_, exc))
                return
            else:
                if has_id:
                    session.send(rpc.success(id_, result))
            finally:
                self._dispatcher.reply_sent(session, id_)

        def refuse() -> None:
            if has_id:
                session.send(rpc.error_reply(id_, rpc.TooManyConcurrentCalls()))

        connection.run_call(work, refuse)
