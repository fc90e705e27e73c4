"""Responses: decoding by Content-Type, and the status -> error table.

Bodies are decoded by what the server says they are, not by action name: JSON to Python
objects, ``text/*`` to ``str``, anything else to ``bytes``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from maas_dyn._secrets import SecretMask
from maas_dyn.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    GatewayTimeoutError,
    GoneError,
    MAASAPIError,
    MachineNotFoundError,
    NotAServerError,
    NotFoundError,
    ServiceUnavailableError,
    UnauthorizedError,
)
from maas_dyn.maas.transport import RawResponse

__all__ = ["Response", "decode_body", "error_for"]

# Status -> (error class, what the user can do about it when nothing more specific fits).
_ERRORS: dict[int, tuple[type[MAASAPIError], str]] = {
    400: (BadRequestError, "the server rejected the parameters named"),
    401: (UnauthorizedError,
          "check the API key (consumer:token:secret) and that it was not revoked"),
    403: (ForbiddenError, "this user may not do this; an admin key may be needed"),
    404: (NotFoundError, "no such object, or no such endpoint on this MAAS release"),
    409: (ConflictError, "the object is busy or in a state that does not allow this; "
                         "check its status"),
    410: (GoneError, "this endpoint was removed in the server's MAAS release"),
    503: (ServiceUnavailableError, "the region is busy or starting; retry later"),
    504: (GatewayTimeoutError, "a proxy or the region timed out; retry later"),
}

# (status, what the server said) -> the hint: the first row whose pattern is found in
# the server's message wins over the status's own hint. MAAS's wording, from
# maasserver's NodeStateViolation, NodeActionError and lock checks.
_HINTS_BY_MESSAGE: tuple[tuple[int, re.Pattern[str], str], ...] = (
    (409, re.compile(r"\block(ed)?\b", re.IGNORECASE),
     "the machine is locked against changes; unlock it first (`machine unlock`)"),
    (409, re.compile(r"in (the )?'?[\w -]+'? state|state of|cannot be .* while|is (not )?in",
                     re.IGNORECASE),
     "its current status does not allow this action; check status_name (e.g. release "
     "a Deployed machine first)"),
    (409, re.compile(r"retry|busy|in progress", re.IGNORECASE),
     "the region is busy with this object; retry later"),
    (400, re.compile(r"\bunknown\b|not a valid|invalid", re.IGNORECASE),
     "the server rejected the parameters named; check them with -h"),
)

# A 404 from these handlers (CLI names) means "no such object of this kind".
_NOT_FOUND_BY_HANDLER: dict[str, type[NotFoundError]] = {
    "machine": MachineNotFoundError,
}

_TAGS = re.compile(r"<[^>]+>")
_TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_MAX_MESSAGE = 2000


def _media_type(headers: Mapping[str, str]) -> tuple[str, str]:
    value = headers.get("Content-Type", "") or ""
    media, _, params = value.partition(";")
    charset = "utf-8"
    for param in params.split(";"):
        key, _, val = param.strip().partition("=")
        if key.lower() == "charset" and val:
            charset = val.strip('"')
    return media.strip().lower(), charset


def decode_body(raw: RawResponse) -> Any:
    """Decode a body by its Content-Type.

    Args:
        raw: The response.

    Returns:
        Python objects for JSON, ``str`` for ``text/*``, else ``bytes``; ``None`` for
        an empty JSON body.

    Raises:
        NotAServerError: The server said JSON but sent something else.
    """
    media, charset = _media_type(raw.headers)
    if media == "application/json" or media.endswith("+json"):
        if not raw.content.strip():
            return None
        try:
            return json.loads(raw.content)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise NotAServerError(
                f"the server said JSON but sent a malformed body ({exc}); "
                "a proxy may be answering instead of MAAS"
            ) from exc
    if media.startswith("text/"):
        try:
            return raw.content.decode(charset if _text_codec(charset) else "utf-8", "replace")
        except (UnicodeError, LookupError, ValueError, TypeError):
            # A codec without "replace" support (idna), or one that fails on this input.
            return raw.content.decode("utf-8", "replace")
    return raw.content


def _text_codec(name: str) -> bool:
    import codecs

    try:
        info = codecs.lookup(name)
    except LookupError:
        return False
    # rot13, hex, base64, zlib... are codecs too, but not text encodings: bytes.decode
    # refuses them with LookupError. CodecInfo marks them (CPython's own flag).
    return bool(getattr(info, "_is_text_encoding", True))


def _message(raw: RawResponse) -> tuple[str, dict[str, list[str]]]:
    media, _ = _media_type(raw.headers)
    text = raw.content.decode("utf-8", "replace").strip()
    if media == "application/json":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # a proxy's junk, or a hostile nesting depth
            data = None
        if isinstance(data, Mapping):
            fields = {
                str(k): [str(m) for m in (v if isinstance(v, list) else [v])]
                for k, v in data.items()
            }
            return "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()), fields
    if media == "text/html":
        title = _TITLE.search(text)
        text = title.group(1) if title else _TAGS.sub(" ", text)
        text = " ".join(text.split())
    return text[:_MAX_MESSAGE], {}


def error_for(raw: RawResponse, method: str, url: str, handler: str = "",
              secrets: Iterable[str] = ()) -> MAASAPIError:
    """Build the typed error for a non-2xx response.

    Args:
        raw: The response.
        method: HTTP method of the request.
        url: Request URL, secret query values already hidden.
        handler: CLI name of the handler called, to pick a more specific 404 class.
        secrets: The client's own secret values (its API key's parts); a server may
            echo the request (its OAuth header) back in the message, headers or body.
            Values under secret names are hidden even without them.

    Returns:
        An instance of the class the status table names (``MAASAPIError`` otherwise),
        with the secrets hidden from its message, fields, headers and content.
    """
    cls, hint = _ERRORS.get(raw.status, (MAASAPIError, ""))
    if raw.status == 404:
        cls = _NOT_FOUND_BY_HANDLER.get(handler, cls)
    message, fields = _message(raw)
    hint = next((text for status, pattern, text in _HINTS_BY_MESSAGE
                 if status == raw.status and pattern.search(message)), hint)
    common: dict[str, Any] = {
        "status": raw.status, "method": method, "url": url, "hint": hint,
        "headers": dict(raw.headers), "content": raw.content,
    }
    error = BadRequestError(message, field_errors=fields, **common) \
        if cls is BadRequestError else cls(message, **common)
    return SecretMask(secrets).error(error)


class Response(NamedTuple):
    """A decoded response, for when status and headers matter.

    Attributes:
        status: HTTP status code.
        headers: Response headers.
        content: Body bytes.
        data: The decoded body (see :func:`decode_body`).
        method: HTTP method of the request.
        url: Request URL.
    """

    status: int
    headers: Mapping[str, str]
    content: bytes
    data: Any
    method: str
    url: str
