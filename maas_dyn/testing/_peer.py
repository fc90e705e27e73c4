"""An in-process peer behind a TrueNAS client's ``Link`` seam (no socket, no server).

The client's real connection, reader thread, framing, login and event hub all run; only
the socket is replaced. Each JSON-RPC request the client sends is handed, on the
sending thread, to the peer's ``answer`` function, which pushes replies and
notifications back for the client's reader thread to receive. The stubber and the
cassette replayer are such peers.
"""

from __future__ import annotations

import json
import queue
from collections.abc import Callable, Mapping
from typing import Any

from maas_dyn.errors import ConfigurationError, ConnectionClosed
from maas_dyn.truenas.endpoint import parse_endpoint
from maas_dyn.truenas.jsonrpc import dumps

__all__ = ["Answer", "PeerLink", "require_jsonrpc"]

Answer = Callable[["PeerLink", Any, str, list[Any]], None]
"""``answer(link, request id, method, params)``, called for every request sent."""


def require_jsonrpc(url: str, what: str) -> None:
    """Refuse the legacy ``/websocket`` protocol, whose frames are not JSON-RPC.

    Args:
        url: The URL the client opens.
        what: What refuses it, for the message.

    Raises:
        ConfigurationError: ``url`` is the legacy endpoint.
    """
    if parse_endpoint(url).protocol != "jsonrpc":
        raise ConfigurationError(f"{what} speaks JSON-RPC 2.0 (/api/current), not the legacy "
                                 f"protocol of {url}; connect with protocol='jsonrpc'")


class PeerLink:
    """A :class:`~maas_dyn.truenas.transport.Link` whose other end is a Python function.

    Args:
        answer: Called for each request the client sends (see :data:`Answer`); what it
            raises reaches the caller.
    """

    def __init__(self, answer: Answer):
        self._answer = answer
        # None is the sentinel that ends the reader's recv().
        self._inbox: queue.Queue[str | None] = queue.Queue()
        self.closed = False

    # -- the Link protocol ------------------------------------------------------------------

    def send(self, text: str) -> None:
        """Hand one request frame to the peer.

        Raises:
            ConnectionClosed: The link was closed.
        """
        if self.closed:
            raise ConnectionClosed("the in-process peer's link is closed")
        message = json.loads(text)
        self._answer(self, message.get("id"), str(message.get("method")),
                     list(message.get("params") or ()))

    def recv(self) -> str:
        """Return the next frame the peer pushed (blocks; only the reader calls this).

        Raises:
            ConnectionClosed: The link was closed.
        """
        item = self._inbox.get()
        if item is None:
            self.closed = True
            raise ConnectionClosed("the in-process peer's link was closed")
        return item

    def close(self) -> None:
        """End the link; the reader's ``recv`` returns at once."""
        self.closed = True
        self._inbox.put(None)

    abort = close

    # -- what the peer sends ----------------------------------------------------------------

    def reply(self, request_id: Any, result: Any) -> None:
        """Answer a request with a result."""
        self._push({"jsonrpc": "2.0", "id": request_id, "result": result})

    def fail(self, request_id: Any, error: Mapping[str, Any]) -> None:
        """Answer a request with a JSON-RPC error object."""
        self._push({"jsonrpc": "2.0", "id": request_id, "error": dict(error)})

    def notify(self, method: str, params: Any) -> None:
        """Send a notification (an event)."""
        self._push({"jsonrpc": "2.0", "method": method, "params": params})

    def _push(self, message: Mapping[str, Any]) -> None:
        # ejson, as the middleware sends it: datetimes and sets in stubbed results travel.
        self._inbox.put(dumps(message))
