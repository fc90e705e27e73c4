"""Request encoding exactly as the official ``maas`` CLI does it.

- The ``op`` of a non-RESTful action is always first in the query string.
- GET and DELETE send parameters in the query string, in call order, repeated keys
  repeated, ``quote_plus``-encoded; a file value sends its content.
- POST and PUT send ``multipart/form-data`` with one part per value; a file part's
  filename is the field name. No parameters: no body and no Content-Type.
- Values: ``True``/``False`` -> ``true``/``false``, numbers -> text, mappings -> JSON,
  lists/tuples/sets -> repeated keys, file objects, ``pathlib`` paths and ``bytes`` ->
  file parts.
- An action that takes its body raw (an upload chunk, see
  :data:`maas_dyn.maas.describe.RAW_BODY_RULES`) sends its one value as the body itself,
  ``application/octet-stream``: :func:`encode_raw_request`.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePath
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import quote, quote_plus, urlencode

from urllib3.filepost import encode_multipart_formdata

from maas_dyn.errors import InvalidParametersError
from maas_dyn.maas.formdata import FormDataError, parse_form

__all__ = [
    "PreparedRequest", "decode_fields", "encode_raw_request", "encode_request", "expand_path",
]

_QUERY_METHODS = frozenset({"GET", "DELETE"})
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_FILE_TYPE = "application/octet-stream"
# RFC 3986 pchar minus "/": a path parameter must stay one segment.
_PATH_SAFE = "-._~!$&'()*+,;=:@"


class PreparedRequest(NamedTuple):
    """A request ready to be signed and sent.

    Attributes:
        method: HTTP method.
        url: Full URL including the query string.
        headers: Headers to send (without ``Authorization``).
        body: Body bytes, or ``None``.
        unsigned: Send without OAuth (anonymous-only actions).
    """

    method: str
    url: str
    headers: Mapping[str, str] = MappingProxyType({})
    body: bytes | None = None
    unsigned: bool = False


def _is_file(value: Any) -> bool:
    return isinstance(value, PurePath | bytes | bytearray) or callable(getattr(value, "read", None))


def _read(value: Any) -> bytes:
    if isinstance(value, PurePath):
        return Path(value).read_bytes()
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    data = value.read()
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return json.dumps(value)
    return str(value)


def _flatten(fields: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    flat: list[tuple[str, Any]] = []
    for name, value in fields:
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            flat.extend((name, item) for item in value if item is not None)
        else:
            flat.append((name, value))
    return flat


def expand_path(template: str, values: Mapping[str, Any]) -> str:
    """Substitute path parameters into a handler's path template.

    Args:
        template: e.g. ``/MAAS/api/2.0/fabrics/{fabric_id}/vlans/{vid}/``.
        values: Values by placeholder name.

    Returns:
        The path with every placeholder replaced by its percent-encoded value.

    Raises:
        InvalidParametersError: A placeholder has no value.
    """
    missing = [name for name in _PLACEHOLDER.findall(template) if values.get(name) is None]
    if missing:
        raise InvalidParametersError(
            f"missing path parameter(s) {', '.join(missing)} for {template}",
            errors={name: ["missing required path parameter"] for name in missing},
        )
    return _PLACEHOLDER.sub(lambda m: quote(_text(values[m.group(1)]), safe=_PATH_SAFE), template)


def encode_request(
    method: str,
    url: str,
    op: str | None,
    fields: Iterable[tuple[str, Any]],
    *,
    unsigned: bool = False,
) -> PreparedRequest:
    """Encode one API call.

    Args:
        method: HTTP method of the action.
        url: Full URL of the handler, path parameters already substituted.
        op: The action's ``op``, or ``None`` for RESTful actions.
        fields: ``(name, value)`` pairs in call order; see the module doc for values.
        unsigned: Mark the request to be sent without OAuth.

    Returns:
        The prepared request.

    Raises:
        InvalidParametersError: A file could not be read.
    """
    query: list[tuple[str, Any]] = [] if op is None else [("op", op)]
    try:
        flat = [
            (name, _read(value) if _is_file(value) else _text(value))
            for name, value in _flatten(fields)
        ]
    except OSError as exc:
        raise InvalidParametersError(
            f"cannot read the file given for upload: {exc}", errors={"file": [str(exc)]}
        ) from exc
    body: bytes | None = None
    headers: Mapping[str, str] = MappingProxyType({})
    if method in _QUERY_METHODS:
        query.extend(flat)
    elif flat:
        parts = [
            (name, (name, value, _FILE_TYPE)) if isinstance(value, bytes) else (name, value)
            for name, value in flat
        ]
        body, content_type = encode_multipart_formdata(parts)
        headers = {"Content-Type": content_type}
    if query:
        url = f"{url}?{urlencode(query, quote_via=quote_plus)}"
    return PreparedRequest(method, url, headers, body, unsigned)


def encode_raw_request(method: str, url: str, op: str | None,
                       fields: Iterable[tuple[str, Any]], *,
                       unsigned: bool = False) -> PreparedRequest:
    """Encode a call whose body is the data itself (a chunk of an upload), not a form.

    Args:
        method: HTTP method of the action.
        url: Full URL of the handler, path parameters already substituted.
        op: The action's ``op``, or ``None``.
        fields: Exactly one ``(name, value)``: the data, as bytes, a path or a file
            object (text is sent UTF-8 encoded); its name is not sent.
        unsigned: Mark the request to be sent without OAuth.

    Returns:
        The prepared request, ``Content-Type: application/octet-stream``.

    Raises:
        InvalidParametersError: Not exactly one value, or a file that cannot be read.
    """
    flat = _flatten(fields)
    if len(flat) != 1:
        names = ", ".join(name for name, _ in flat) or "none"
        raise InvalidParametersError(
            f"this action takes the request body itself: give exactly one file or bytes "
            f"value (e.g. content@=FILE on the command line), not {len(flat)} ({names})",
            errors={"body": ["exactly one value needed"]})
    value = flat[0][1]
    try:
        body = _read(value) if _is_file(value) else _text(value).encode("utf-8")
    except OSError as exc:
        raise InvalidParametersError(
            f"cannot read the file given for upload: {exc}", errors={"file": [str(exc)]}
        ) from exc
    if op is not None:
        url = f"{url}?{urlencode([('op', op)], quote_via=quote_plus)}"
    return PreparedRequest(method, url, {"Content-Type": _FILE_TYPE}, body, unsigned)


def decode_fields(url: str, headers: Mapping[str, str],
                  body: bytes | None) -> tuple[str | None, list[tuple[str, str | bytes]]]:
    """Decode a request's ``op`` and parameters: the inverse of :func:`encode_request`.

    Used by the stubber and the cassette matcher to compare requests by meaning
    rather than by bytes (multipart boundaries and OAuth nonces differ every time).

    Args:
        url: The request URL.
        headers: The request headers.
        body: The request body, if any.

    Returns:
        ``(op or None, [(name, value), ...])`` in order; file parts are ``bytes``.
    """
    from urllib.parse import parse_qsl, urlsplit

    pairs: list[tuple[str, str | bytes]] = list(
        parse_qsl(urlsplit(url).query, keep_blank_values=True)
    )
    op = None
    if pairs and pairs[0][0] == "op":
        op = str(pairs.pop(0)[1])
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if body and content_type.startswith("multipart/form-data"):
        # The region's own reading (Django's), shared with the simulator; a body the
        # region would refuse (no boundary, undecodable base64 file) carries no fields.
        with contextlib.suppress(FormDataError):
            pairs.extend(parse_form(content_type, body).items)
    return op, pairs
