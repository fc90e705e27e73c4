"""Framing: JSON-RPC 2.0 (``/api/...``) and the legacy DDP-style protocol (``/websocket``).

A :class:`Framing` turns calls, subscriptions and pings into text frames and decodes
what the server sends into :mod:`~maas_dyn.truenas.messages`. Error objects become
typed errors through two tables, one per protocol: :data:`JSONRPC_ERRORS` (by
JSON-RPC code) and :data:`LEGACY_ERRORS` (by errno name or error type).

Values travel as the middleware's "ejson" (datetimes as ``{"$date": <ms>}``, dates,
times, sets and IP interfaces), with the codec and the error codes shared with the
simulator in :mod:`maas_dyn.truenas.wire`. The error *mapping* stays here: the client
turns every error object into a typed exception and keeps every validation problem
(:func:`problems_of`), while the simulator words errors as the middleware's pydantic
does; the two must differ.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from maas_dyn._secrets import SecretMask
from maas_dyn.errors import (
    CallError,
    MethodNotFound,
    TooManyConcurrentCalls,
    TrueNASAPIError,
    ValidationError,
)
from maas_dyn.truenas import wire
from maas_dyn.truenas.messages import (
    Event,
    Handshake,
    Incoming,
    Reply,
    ServerPing,
    SubscriptionEnded,
)
from maas_dyn.truenas.wire import JSONRPCError, encode_extended

__all__ = [
    "CALL_ERROR",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "JSONRPC_ERRORS",
    "LEGACY_ERRORS",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "TOO_MANY_CONCURRENT_CALLS",
    "Framing",
    "JSONRPCFraming",
    "LegacyFraming",
    "MaskedFraming",
    "dumps",
    "loads",
    "problems_of",
]

# The codes are the shared table's (maas_dyn.truenas.wire.JSONRPCError), as plain ints.
PARSE_ERROR = int(JSONRPCError.INVALID_JSON)
INVALID_REQUEST = int(JSONRPCError.INVALID_REQUEST)
METHOD_NOT_FOUND = int(JSONRPCError.METHOD_NOT_FOUND)
INVALID_PARAMS = int(JSONRPCError.INVALID_PARAMS)
INTERNAL_ERROR = int(JSONRPCError.INTERNAL_ERROR)
TOO_MANY_CONCURRENT_CALLS = int(JSONRPCError.TOO_MANY_CONCURRENT_CALLS)
CALL_ERROR = int(JSONRPCError.CALL_ERROR)


# --- ejson ----------------------------------------------------------------------------
# One codec for client and simulator: maas_dyn.truenas.wire. The client keeps the
# milliseconds of datetimes it sends (the middleware's decoder reads them).


def _encode_extended(value: object) -> object:
    return encode_extended(value)


# One encoder for every frame: json.dumps() with options builds a new one per call.
_ENCODER = json.JSONEncoder(default=_encode_extended, separators=(",", ":"))


def dumps(value: object) -> str:
    """Serialise a value as ejson text.

    Args:
        value: Any JSON value, possibly holding datetimes, dates, times, sets or IP
            interfaces.

    Returns:
        Compact JSON text.
    """
    return _ENCODER.encode(value)


def loads(text: str | bytes) -> Any:
    """Parse ejson text (:func:`maas_dyn.truenas.wire.loads`).

    Args:
        text: A frame as received.

    Returns:
        The value, with ejson wrappers turned into Python values.

    Raises:
        ValueError: The text is not JSON.
    """
    return wire.loads(text)


# --- errors ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorKind:
    """How one kind of error object becomes an exception.

    Attributes:
        cls: The exception class.
        status: The JSON-RPC code carried as ``status`` (legacy errors get the code of
            the equivalent JSON-RPC error, so handlers can test one number).
        hint: What to do about it.
    """

    cls: type[TrueNASAPIError]
    status: int
    hint: str = ""


JSONRPC_ERRORS: Mapping[int, ErrorKind] = {
    PARSE_ERROR: ErrorKind(TrueNASAPIError, PARSE_ERROR,
                           "the server could not parse the request; this is a client bug"),
    INVALID_REQUEST: ErrorKind(TrueNASAPIError, INVALID_REQUEST,
                               "the server rejected the request frame; this is a client bug"),
    METHOD_NOT_FOUND: ErrorKind(
        MethodNotFound, METHOD_NOT_FOUND,
        "this server has no such method; check the name and the server's release "
        "(client.methods lists what it offers)"),
    INVALID_PARAMS: ErrorKind(ValidationError, INVALID_PARAMS,
                              "see the error's .errors for every invalid field"),
    INTERNAL_ERROR: ErrorKind(TrueNASAPIError, INTERNAL_ERROR,
                              "the middleware failed internally; see its log"),
    TOO_MANY_CONCURRENT_CALLS: ErrorKind(
        TooManyConcurrentCalls, TOO_MANY_CONCURRENT_CALLS,
        "too many calls in flight on this connection; lower Client(limits=...)"),
    CALL_ERROR: ErrorKind(CallError, CALL_ERROR),
}

# Legacy error objects carry no JSON-RPC code: their errno name or type decides.
LEGACY_ERRORS: Mapping[str, ErrorKind] = {
    "VALIDATION": JSONRPC_ERRORS[INVALID_PARAMS],
    "ENOMETHOD": JSONRPC_ERRORS[METHOD_NOT_FOUND],
}
_LEGACY_DEFAULT = JSONRPC_ERRORS[CALL_ERROR]

# Hints for call errors by errno name.
_ERRNAME_HINTS: Mapping[str, str] = {
    "ENOTAUTHENTICATED": "the session is not logged in; pass credentials to connect()",
    "EACCES": "the user lacks a role this method needs (see the method's Roles note)",
    "EPERM": "the user lacks a role this method needs (see the method's Roles note)",
    "ENOENT": "no such object; check the id or name",
    "EBUSY": "the object is busy; try again later",
}


def problems_of(extra: object) -> list[tuple[str, str, int]]:
    """Read validation problems from an error's ``extra``: ``[[attr, msg, errno], ...]``.

    Args:
        extra: The ``extra`` member of an error object or a job's ``exc_info``.

    Returns:
        ``[(attribute, message, errno), ...]``; malformed items are skipped.
    """
    found: list[tuple[str, str, int]] = []
    if isinstance(extra, Sequence) and not isinstance(extra, (str, bytes)):
        for item in extra:
            if isinstance(item, Sequence) and not isinstance(item, (str, bytes)) and item:
                attribute = item[0] if item[0] is not None else ""
                message = item[1] if len(item) > 1 else ""
                errno = item[2] if len(item) > 2 and isinstance(item[2], int) else 0
                found.append((str(attribute), str(message), errno))
    return found


def _build(kind: ErrorKind, message: str, data: Mapping[str, Any] | None, method: str,
           url: str) -> TrueNASAPIError:
    data = data if isinstance(data, Mapping) else None
    reason = str(data.get("reason") or "") if data else ""
    errname = str(data.get("errname") or "") if data else ""
    common: dict[str, Any] = {"status": kind.status, "method": method, "url": url,
                              "data": data, "hint": kind.hint}
    if issubclass(kind.cls, ValidationError):
        problems = problems_of(data.get("extra") if data else None)
        listed = "; ".join(f"{attr or '(call)'}: {text}" for attr, text, _ in problems)
        return kind.cls(f"{message}: {listed}" if listed else reason or message,
                        errors=problems, **common)
    if issubclass(kind.cls, CallError):
        common["hint"] = kind.hint or _ERRNAME_HINTS.get(errname, "")
        return kind.cls(reason or message, errname=errname, reason=reason,
                        trace=data.get("trace") if data else None, **common)
    return kind.cls(reason or message, **common)


def jsonrpc_error(error: Mapping[str, Any], method: str, url: str) -> TrueNASAPIError:
    """Turn a JSON-RPC error object into a typed error.

    Args:
        error: The reply's ``error`` member.
        method: The method that was called.
        url: The server URL (holds no secrets).

    Returns:
        The error, ready to raise.
    """
    code = error.get("code")
    code = code if isinstance(code, int) else 0
    kind = JSONRPC_ERRORS.get(code) or ErrorKind(TrueNASAPIError, code)
    return _build(kind, str(error.get("message") or ""), error.get("data"), method, url)


def legacy_error(error: Mapping[str, Any], method: str, url: str) -> TrueNASAPIError:
    """Turn a legacy (``/websocket``) error object into a typed error.

    Args:
        error: The ``error`` member: ``{error, errname, type, reason, trace, extra}``.
        method: The method that was called.
        url: The server URL.

    Returns:
        The error, ready to raise.
    """
    key = error.get("type") if error.get("type") == "VALIDATION" else error.get("errname")
    kind = LEGACY_ERRORS.get(str(key), _LEGACY_DEFAULT)
    return _build(kind, str(error.get("reason") or "Method call error"), error, method, url)


# --- framing --------------------------------------------------------------------------


class Framing(Protocol):
    """One wire protocol: how requests are framed and what replies mean."""

    name: str

    def hello(self) -> str | None:
        """Return the first frame to send after the socket opens, if the protocol has one."""

    def call(self, id_: int, method: str, params: Sequence[Any]) -> str:
        """Frame a method call."""

    def subscribe(self, id_: int, name: str) -> str:
        """Frame a subscription request; its reply is matched by ``id_``."""

    def subscription_id(self, id_: int, result: Any) -> str:
        """Return the subscription's id given the request id and the reply's result."""

    def unsubscribe(self, id_: int, subscription: str) -> str:
        """Frame the end of a subscription (no reply is awaited)."""

    def ping(self, id_: int) -> str:
        """Frame a keep-alive ping; its reply is matched by ``id_``."""

    def decode(self, text: str | bytes) -> list[Incoming]:
        """Decode one frame into messages (none for frames of no interest)."""

    def error(self, error: Mapping[str, Any], method: str, url: str) -> TrueNASAPIError:
        """Turn an error object of this protocol into a typed error."""


def _event(params: Mapping[str, Any]) -> Event:
    return Event(str(params.get("msg", "")), str(params.get("collection", "")),
                 params.get("id"), params.get("fields"))


class JSONRPCFraming:
    """JSON-RPC 2.0, as served at ``/api/current`` and ``/api/vXX.YY.Z`` (25.04+)."""

    name = "jsonrpc"

    def hello(self) -> str | None:
        """JSON-RPC needs no handshake."""
        return None

    def call(self, id_: int, method: str, params: Sequence[Any]) -> str:
        """Frame a request object (params always positional)."""
        return dumps({"jsonrpc": "2.0", "id": id_, "method": method, "params": list(params)})

    def subscribe(self, id_: int, name: str) -> str:
        """Frame ``core.subscribe(name)``."""
        return self.call(id_, "core.subscribe", [name])

    def subscription_id(self, id_: int, result: Any) -> str:
        """The server answers ``core.subscribe`` with the subscription id."""
        return str(result)

    def unsubscribe(self, id_: int, subscription: str) -> str:
        """Frame ``core.unsubscribe(id)``."""
        return self.call(id_, "core.unsubscribe", [subscription])

    def ping(self, id_: int) -> str:
        """Frame ``core.ping()``."""
        return self.call(id_, "core.ping", [])

    def decode(self, text: str | bytes) -> list[Incoming]:
        """Decode a response or a notification."""
        message = loads(text)
        if not isinstance(message, dict):
            return []
        method = message.get("method")
        if method is not None:
            params = message.get("params")
            params = params if isinstance(params, Mapping) else {}
            handler = _NOTIFICATIONS.get(str(method))
            return [handler(params)] if handler else []
        id_ = message.get("id")
        if type(id_) is not int:
            # Our ids are integers; true == 1 and 1.0 == 1 in Python, so anything else
            # (a bool, a float, text, a list) must not be matched to one of our requests.
            return []
        error = message.get("error")
        return [Reply(id_, message.get("result"),
                      error if isinstance(error, Mapping) else None)]

    def error(self, error: Mapping[str, Any], method: str, url: str) -> TrueNASAPIError:
        """See :func:`jsonrpc_error`."""
        return jsonrpc_error(error, method, url)


def _ended(params: Mapping[str, Any]) -> SubscriptionEnded:
    error = params.get("error")
    reason = error.get("reason") if isinstance(error, Mapping) else error
    return SubscriptionEnded(str(params.get("collection", "")), str(reason or ""))


_NOTIFICATIONS: Mapping[str, Callable[[Mapping[str, Any]], Incoming]] = {
    "collection_update": _event,
    "notify_unsubscribed": _ended,
}


class LegacyFraming:
    """The DDP-style protocol of ``/websocket`` (the only one before 25.04)."""

    name = "legacy"

    def hello(self) -> str | None:
        """The session starts with ``connect``; the server answers ``connected``."""
        return dumps({"msg": "connect", "version": "1", "support": ["1"]})

    def call(self, id_: int, method: str, params: Sequence[Any]) -> str:
        """Frame a ``method`` message."""
        return dumps({"msg": "method", "id": str(id_), "method": method, "params": list(params)})

    def subscribe(self, id_: int, name: str) -> str:
        """Frame a ``sub`` message; the server answers ``ready`` with the same id."""
        return dumps({"msg": "sub", "id": str(id_), "name": name})

    def subscription_id(self, id_: int, result: Any) -> str:
        """Legacy subscriptions are named by the client's id."""
        return str(id_)

    def unsubscribe(self, id_: int, subscription: str) -> str:
        """Frame an ``unsub`` message."""
        return dumps({"msg": "unsub", "id": subscription})

    def ping(self, id_: int) -> str:
        """Frame ``core.ping()`` as a ``method`` message.

        Not the DDP ``{"msg": "ping"}``: the middleware's legacy websocket app has no
        branch for it and never answers, so a keep-alive waiting for its pong would drop
        every idle connection. ``core.ping`` is answered by every release.
        """
        return self.call(id_, "core.ping", [])

    def decode(self, text: str | bytes) -> list[Incoming]:
        """Decode one legacy message."""
        message = loads(text)
        if not isinstance(message, dict):
            return []
        handler = _LEGACY_MESSAGES.get(str(message.get("msg")))
        return handler(message) if handler else []

    def error(self, error: Mapping[str, Any], method: str, url: str) -> TrueNASAPIError:
        """See :func:`legacy_error`."""
        return legacy_error(error, method, url)


def _legacy_id(value: object) -> object:
    # Our ids are integers sent as text; answers echo the text. An unhashable id cannot be
    # one of ours; it becomes one that matches no request instead of breaking the lookup.
    # isdigit() alone accepts "²" (int() refuses it) and digit strings too long to convert.
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 20:
        return int(value)
    if type(value) is int or isinstance(value, str):
        return value
    return None  # true == 1 and 1.0 == 1 in Python: only a real integer may match


def _legacy_result(message: Mapping[str, Any]) -> list[Incoming]:
    error = message.get("error")
    return [Reply(_legacy_id(message.get("id")), message.get("result"),
                  error if isinstance(error, Mapping) else None)]


def _legacy_ready(message: Mapping[str, Any]) -> list[Incoming]:
    subs = message.get("subs")
    return [Reply(_legacy_id(sub), None) for sub in subs] if isinstance(subs, list) else []


def _legacy_nosub(message: Mapping[str, Any]) -> list[Incoming]:
    error = message.get("error")
    return [Reply(_legacy_id(message.get("id")), None,
                  error if isinstance(error, Mapping) else None)]


def _legacy_ping(message: Mapping[str, Any]) -> list[Incoming]:
    answer = {"msg": "pong", "id": message["id"]} if "id" in message else {"msg": "pong"}
    return [ServerPing(dumps(answer))]


_LEGACY_MESSAGES: Mapping[str, Callable[[Mapping[str, Any]], list[Incoming]]] = {
    "result": _legacy_result,
    "pong": lambda m: [Reply(_legacy_id(m.get("id")), "pong")],
    "ping": _legacy_ping,
    "connected": lambda m: [Handshake(True)],
    "failed": lambda m: [Handshake(False)],
    "ready": _legacy_ready,
    "nosub": _legacy_nosub,
    "added": lambda m: [_event(m)],
    "changed": lambda m: [_event(m)],
    "removed": lambda m: [_event(m)],
}


class MaskedFraming:
    """A framing whose errors hide the client's own secrets.

    A server may echo a call back in its error (the login parameters, a password given
    to ``user.create``): every error a connection builds passes through here, so the
    client's secret values never reach an exception, a log line or the CLI's stderr.

    Args:
        inner: The protocol spoken.
        mask: The client's secrets.
    """

    def __init__(self, inner: Framing, mask: SecretMask):
        self._inner = inner
        self._mask = mask
        self.name = inner.name

    def hello(self) -> str | None:
        """See :meth:`Framing.hello`."""
        return self._inner.hello()

    def call(self, id_: int, method: str, params: Sequence[Any]) -> str:
        """See :meth:`Framing.call`."""
        return self._inner.call(id_, method, params)

    def subscribe(self, id_: int, name: str) -> str:
        """See :meth:`Framing.subscribe`."""
        return self._inner.subscribe(id_, name)

    def subscription_id(self, id_: int, result: Any) -> str:
        """See :meth:`Framing.subscription_id`."""
        return self._inner.subscription_id(id_, result)

    def unsubscribe(self, id_: int, subscription: str) -> str:
        """See :meth:`Framing.unsubscribe`."""
        return self._inner.unsubscribe(id_, subscription)

    def ping(self, id_: int) -> str:
        """See :meth:`Framing.ping`."""
        return self._inner.ping(id_)

    def decode(self, text: str | bytes) -> list[Incoming]:
        """See :meth:`Framing.decode`."""
        return self._inner.decode(text)

    def error(self, error: Mapping[str, Any], method: str, url: str) -> TrueNASAPIError:
        """The inner framing's typed error, with the secrets hidden."""
        return self._mask.error(self._inner.error(error, method, url))
