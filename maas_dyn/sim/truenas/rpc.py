"""JSON-RPC 2.0 framing and error shapes of the middleware's ``/api/...`` endpoints.

Mirrors ``api/base/server/ws_handler/rpc.py`` and ``utils/limits.py`` of the middleware:
the same size limits and close codes, the same request checks and messages, and the same
``error.data`` object (``error``, ``errname``, ``reason``, ``trace``, ``extra``).

The ejson codec and the error code table are the client's own
(:mod:`maas_dyn.truenas.wire`), so both sides read each other's values the same way.
The error *shapes* stay here: the server words errors as the middleware does, one
exception class per shape (:data:`_ERROR_SHAPES`), where the client maps them back.
"""

from __future__ import annotations

import enum
import json
import traceback
from collections.abc import Callable
from typing import Any

from maas_dyn.sim.truenas.exceptions import (
    EINVAL,
    CallError,
    MethodNotFound,
    ValidationErrors,
    errname,
)
from maas_dyn.truenas.wire import JSONRPCError, encode_extended, loads

__all__ = [
    "HARD_CALL_LIMIT",
    "MAX_MESSAGE_BYTES",
    "SOFT_CALL_LIMIT",
    "JSONRPCError",
    "MessageTooBig",
    "TooManyConcurrentCalls",
    "check_request",
    "dumps",
    "error_data",
    "error_reply",
    "failure",
    "notification",
    "parse_message",
    "success",
    "trace_of",
]

# Per-connection call limits of the middleware's SoftHardSemaphore(10, 20): 10 calls run,
# and calls are refused once 20 are in flight (running plus waiting).
SOFT_CALL_LIMIT = 10
HARD_CALL_LIMIT = 20


class _SizeLimit(enum.IntEnum):
    UNAUTHENTICATED = 8192
    AUTHENTICATED = 65536
    EXTENDED = 2097152


# Methods that carry file contents and so may exceed the authenticated limit.
_EXTENDED_METHODS = frozenset({"filesystem.file_receive", "failover.datastore.sql"})

# WebSocket close codes the middleware sends when a message is too long.
_CLOSE_INVALID_TEXT = 1007
_CLOSE_MESSAGE_TOO_BIG = 1009

MAX_MESSAGE_BYTES = _SizeLimit.EXTENDED.value


class MessageTooBig(Exception):
    """A message exceeded the session's limit; the connection must be closed.

    Attributes:
        close_code: WebSocket close code to send.
        reason: Close reason to send.
    """

    def __init__(self, close_code: int, reason: str):
        super().__init__(reason)
        self.close_code = close_code
        self.reason = reason


class TooManyConcurrentCalls(Exception):
    """The connection already has the maximum number of calls in flight."""

    def __init__(self) -> None:
        super().__init__(f"Maximum number of concurrent calls ({HARD_CALL_LIMIT}) has exceeded")


def parse_message(text: str, authenticated: bool) -> dict[str, Any]:
    """Decode one text frame, enforcing the middleware's size limits.

    Args:
        text: The frame as received.
        authenticated: Whether the session has logged in (raises the limit).

    Returns:
        The decoded JSON object.

    Raises:
        MessageTooBig: The frame is longer than allowed for this session.
        ValueError: The frame is not JSON, or not a single JSON object.
    """
    length = len(text)
    if not authenticated and length > _SizeLimit.UNAUTHENTICATED:
        raise MessageTooBig(_CLOSE_INVALID_TEXT, "Anonymous connection max message length is 8 kB")
    if length > _SizeLimit.EXTENDED:
        raise MessageTooBig(_CLOSE_MESSAGE_TOO_BIG, "Max message length is 64 kB")
    # ejson both ways: {"$date": ms} in params arrives as a datetime, as in the middleware
    # (utils/limits.py parses every frame with truenas_api_client.ejson.loads). Nesting
    # deeper than the parser's stack is an error reply, not 1011.
    message = loads(text)
    if not isinstance(message, dict):
        if isinstance(message, list):
            raise ValueError("Batch messages are not supported at this time")
        raise ValueError("Invalid Message Format")
    if message.get("method") not in _EXTENDED_METHODS and length > _SizeLimit.AUTHENTICATED:
        raise MessageTooBig(_CLOSE_MESSAGE_TOO_BIG, "Max message length is 64 kB")
    return message


def check_request(message: dict[str, Any]) -> None:
    """Check a decoded message against the JSON-RPC 2.0 request object rules.

    Sets ``params`` to ``[]`` when absent, as the middleware does.

    Args:
        message: The decoded message.

    Raises:
        ValueError: The message is not a valid request; the text is the middleware's.
    """
    if "jsonrpc" not in message:
        raise ValueError("Missing 'jsonrpc' member")
    if message["jsonrpc"] != "2.0":
        raise ValueError("'jsonrpc' member must be of type string and must be exactly '2.0'")
    if "id" in message and (
        isinstance(message["id"], bool) or not isinstance(message["id"], (int, str, type(None)))
    ):
        raise ValueError("'id' member must be of type null, string or number")
    if "method" not in message:
        raise ValueError("Missing 'method' member")
    if not isinstance(message["method"], str) or not message["method"]:
        raise ValueError("'method' member must be of type string")
    params = message.setdefault("params", [])
    if not isinstance(params, list):
        raise ValueError("'params' member must be of type array")


def _encode_extended(obj: object) -> object:
    # Whole seconds, as the middleware's encoder (truenas_api_client.ejson) sends them.
    return encode_extended(obj, whole_seconds=True)


def dumps(obj: object) -> str:
    """Serialise a reply the way the middleware does (ejson).

    Args:
        obj: Any JSON value, possibly containing datetimes or sets.

    Returns:
        The JSON text.
    """
    return json.dumps(obj, default=_encode_extended)


def trace_of(exc: BaseException) -> dict[str, Any]:
    """Describe an exception like the middleware's ``truenas_error_traceback``.

    Args:
        exc: The exception that ended the call.

    Returns:
        ``{"class", "formatted", "repr"}``.
    """
    return {
        "class": type(exc).__name__,
        "formatted": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        "repr": repr(exc),
    }


def error_data(
    errno: int, reason: str, exc: BaseException | None = None, extra: object = None
) -> dict[str, Any]:
    """Build the ``error.data`` object of a TrueNAS error.

    Args:
        errno: Error number.
        reason: Human-readable reason.
        exc: The exception, for the ``trace`` member (``None`` leaves it null).
        extra: The ``extra`` member (validation details or method-specific data).

    Returns:
        ``{"error", "errname", "reason", "trace", "extra"}``.
    """
    return {
        "error": errno,
        "errname": errname(errno),
        "reason": reason,
        "trace": trace_of(exc) if exc is not None else None,
        "extra": extra,
    }


def success(id_: object, result: object) -> dict[str, Any]:
    """Build a result reply.

    Args:
        id_: The request id.
        result: The method's return value.

    Returns:
        The reply object.
    """
    return {"jsonrpc": "2.0", "result": result, "id": id_}


def failure(id_: object, code: int, message: str, data: object = None) -> dict[str, Any]:
    """Build an error reply; ``data`` is omitted when ``None``, as the middleware does.

    Args:
        id_: The request id (``None`` for parse errors).
        code: JSON-RPC error code.
        message: The error message.
        data: Optional ``error.data``.

    Returns:
        The reply object.
    """
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "error": error, "id": id_}


def notification(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """Build a server notification (a message without ``id``).

    Args:
        method: e.g. ``"collection_update"``.
        params: The notification's parameters.

    Returns:
        The notification object.
    """
    return {"jsonrpc": "2.0", "method": method, "params": params}


def _validation(exc: BaseException) -> tuple[int, str, object]:
    assert isinstance(exc, ValidationErrors)
    extra = [list(item) for item in exc.errors]
    return JSONRPCError.INVALID_PARAMS, "Invalid params", error_data(EINVAL, str(exc), exc, extra)


def _call_error(exc: BaseException) -> tuple[int, str, object]:
    assert isinstance(exc, CallError)
    data = error_data(exc.errno, str(exc), exc, exc.extra)
    return JSONRPCError.CALL_ERROR, "Method call error", data


def _not_found(exc: BaseException) -> tuple[int, str, object]:
    return JSONRPCError.METHOD_NOT_FOUND, "Method does not exist", None


def _too_many(exc: BaseException) -> tuple[int, str, object]:
    return JSONRPCError.TOO_MANY_CONCURRENT_CALLS, str(exc), None


def _unexpected(exc: BaseException) -> tuple[int, str, object]:
    # Any other exception is reported as EINVAL with its text, like the middleware.
    reason = str(exc) or repr(exc)
    return JSONRPCError.CALL_ERROR, "Method call error", error_data(EINVAL, reason, exc)


_ERROR_SHAPES: tuple[tuple[type[BaseException], Callable[[BaseException], tuple[int, str, object]]],
                     ...] = (
    (ValidationErrors, _validation),
    (CallError, _call_error),
    (MethodNotFound, _not_found),
    (TooManyConcurrentCalls, _too_many),
    (Exception, _unexpected),
)


def error_reply(id_: object, exc: Exception) -> dict[str, Any]:
    """Shape the reply for a call that raised.

    Args:
        id_: The request id.
        exc: What the call raised.

    Returns:
        The error reply object.
    """
    # The table ends with Exception, so a shape is always found.
    shape = next(shape for kind, shape in _ERROR_SHAPES if isinstance(exc, kind))
    code, message, data = shape(exc)
    return failure(id_, code, message, data)
