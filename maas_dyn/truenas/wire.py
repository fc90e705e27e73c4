"""The TrueNAS wire format both sides agree on: ejson and the JSON-RPC error codes.

The client (:mod:`maas_dyn.truenas.jsonrpc`) and the simulator
(:mod:`maas_dyn.sim.truenas.rpc`) both import this module, so that a value the one
encodes is the value the other decodes. It follows ``truenas_api_client/ejson.py``
(which the middleware itself uses to parse and serialise every frame, see
``middlewared/utils/limits.py``) and ``truenas_api_client/jsonrpc.py``:

=====================  ==============================================================
Python                 JSON
=====================  ==============================================================
``datetime``           ``{"$date": <milliseconds since the epoch>}``
``date``               ``{"$type": "date", "$value": "YYYY-MM-DD"}``
``time``               ``{"$time": "HH:MM:SS[.ffffff]"}``
``set``/``frozenset``  ``{"$set": [...]}``
``IPv4Interface``      ``{"$ipv4_interface": "192.0.2.1/24"}``
``IPv6Interface``      ``{"$ipv6_interface": "2001:db8::1/64"}``
=====================  ==============================================================

What stays apart on purpose: the middleware encodes datetimes in whole seconds (its
encoder goes through ``timetuple()``), and the simulator does too
(``whole_seconds=True``); the client keeps milliseconds, which the middleware's decoder
reads. Decoding is lenient on both sides: a wrapper whose value does not parse stays
the plain object it was, rather than failing the whole frame.
"""

from __future__ import annotations

import calendar
import enum
import json
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from ipaddress import IPv4Interface, IPv6Interface
from typing import Any

__all__ = ["JSONRPCError", "decode_extended", "encode_extended", "loads"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class JSONRPCError(enum.IntEnum):
    """JSON-RPC error codes of the middleware (``truenas_api_client.jsonrpc.JSONRPCError``)."""

    INVALID_JSON = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    TOO_MANY_CONCURRENT_CALLS = -32000
    CALL_ERROR = -32001


def encode_extended(value: object, *, whole_seconds: bool = False) -> object:
    """Turn one non-JSON value into its ejson wrapper (a ``json`` ``default`` hook).

    Args:
        value: The value ``json`` could not encode.
        whole_seconds: Drop the milliseconds of datetimes, as the middleware does.

    Returns:
        The wrapper object.

    Raises:
        TypeError: The value has no ejson form.
    """
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        if whole_seconds:
            return {"$date": calendar.timegm(moment.utctimetuple()) * 1000}
        return {"$date": int(moment.timestamp() * 1000)}
    if isinstance(value, date):
        return {"$type": "date", "$value": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, (set, frozenset)):
        return {"$set": list(value)}
    if isinstance(value, IPv4Interface):
        return {"$ipv4_interface": str(value)}
    if isinstance(value, IPv6Interface):
        return {"$ipv6_interface": str(value)}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _hashable(value: object) -> bool:
    return not isinstance(value, (list, dict, set))


def _date_ms(value: object) -> object:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError(value)
    # From the epoch plus a timedelta: exact to the millisecond, negative values too.
    return _EPOCH + timedelta(milliseconds=value)


def _set(value: object) -> object:
    if not isinstance(value, list) or not all(_hashable(item) for item in value):
        raise ValueError(value)
    return set(value)


def _text(parse: Callable[[str], object]) -> Callable[[object], object]:
    def decode(value: object) -> object:
        if not isinstance(value, str):
            raise ValueError(value)
        return parse(value)
    return decode


# Single-key wrappers: key -> decoder of its value.
_SINGLE: dict[str, Callable[[object], object]] = {
    "$date": _date_ms,
    "$time": _text(time.fromisoformat),
    "$set": _set,
    "$ipv4_interface": _text(IPv4Interface),
    "$ipv6_interface": _text(IPv6Interface),
}
# ``{"$type": name, "$value": text}`` wrappers: name -> decoder of the text.
_TYPED: dict[str, Callable[[object], object]] = {"date": _text(date.fromisoformat)}


def decode_extended(obj: dict[str, Any]) -> Any:
    """Turn an ejson wrapper back into its value (a ``json`` ``object_hook``).

    Args:
        obj: A decoded JSON object.

    Returns:
        The value, or ``obj`` itself when it is no wrapper or its value does not parse.
    """
    decoder: Callable[[object], object] | None = None
    if len(obj) == 1:
        key = next(iter(obj))
        decoder, raw = _SINGLE.get(key), obj[key]
    elif len(obj) == 2 and "$value" in obj and isinstance(obj.get("$type"), str):
        decoder, raw = _TYPED.get(obj["$type"]), obj["$value"]
    if decoder is None:
        return obj
    try:
        return decoder(raw)
    except (ValueError, TypeError, OverflowError, OSError):
        return obj


def loads(text: str | bytes) -> Any:
    """Parse ejson text.

    Args:
        text: A frame as received.

    Returns:
        The value, with ejson wrappers turned into Python values.

    Raises:
        ValueError: The text is not JSON, or nests too deeply to parse.
    """
    # The object hook costs a Python call per object; most frames have no "$" keys at all
    # (a get_methods document is ~5 MB of them), so it is only used where needed.
    needle = b'"$' if isinstance(text, bytes) else '"$'
    try:
        if needle in text:  # type: ignore[operator]
            return json.loads(text, object_hook=decode_extended)
        return json.loads(text)
    except RecursionError:
        # A hostile frame of deeply nested arrays would otherwise kill the reader thread.
        raise ValueError("JSON nested too deeply") from None
