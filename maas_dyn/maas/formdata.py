"""Reading MAAS request bodies the way the region reads them: one parser for both sides.

The MAAS region is a Django application; whatever a client sends in a POST or PUT body
is read by Django's ``MultiPartParser`` (``django/http/multipartparser.py``) or, for
``application/x-www-form-urlencoded``, by ``QueryDict``. This module follows those
rules, so that the simulator accepts exactly the bodies a real region accepts and the
client's stubber and cassette matcher (:func:`maas_dyn.maas.encode.decode_fields`)
read a recorded body the way the server would:

* a part without a ``Content-Disposition`` header, or whose disposition has no
  ``name``, is skipped (python-libmaas sends one headerless part when there are no
  parameters);
* ``Content-Transfer-Encoding: base64`` is decoded (python-libmaas base64-encodes every
  value); a field whose base64 does not decode is kept as sent, a file whose base64
  does not decode is an error;
* a part whose disposition carries ``filename`` (even empty) is a file, else a field;
* field values and names are decoded with the request's charset (the ``charset``
  parameter of the request's ``Content-Type`` when Python knows it, else UTF-8) with
  undecodable bytes replaced; a part's own ``Content-Type`` charset is not used for
  fields.

What stays apart on purpose: *encoding* a request is the client's business
(:mod:`maas_dyn.maas.encode`, the official CLI's format), and only the server side is
lenient across transfer encodings; a client never sends base64.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import email.message
import email.utils
from dataclasses import dataclass, field
from urllib.parse import parse_qs, parse_qsl

__all__ = ["FormData", "FormDataError", "parse_form", "split_content_type"]

_DEFAULT_CHARSET = "utf-8"


class FormDataError(ValueError):
    """A body Django's parser refuses (it answers 400 Bad Request)."""


@dataclass(frozen=True)
class FormData:
    """Decoded form fields and files, each name mapping to its values in arrival order.

    Attributes:
        values: Field name -> text values.
        files: Field name -> contents of the parts that carried a ``filename``.
        items: Every (name, value) in body order; file contents are ``bytes``.
    """

    values: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[bytes]] = field(default_factory=dict)
    items: tuple[tuple[str, str | bytes], ...] = ()


def split_content_type(value: str) -> tuple[str, dict[str, str]]:
    """Split a ``Content-Type`` header into its media type and parameters.

    Args:
        value: The header value ("" when absent).

    Returns:
        ``(media type in lower case, {parameter name in lower case: value})``.
    """
    message = email.message.Message()
    message["content-type"] = value or "application/octet-stream"
    params = {
        key.lower(): email.utils.collapse_rfc2231_value(val)
        for key, val in message.get_params(failobj=[])[1:]
    }
    return message.get_content_type(), params


def _charset(params: dict[str, str]) -> str:
    # Django's HttpRequest takes the charset of the request's Content-Type only when
    # codecs knows it (HttpRequest._set_content_type_params), else DEFAULT_CHARSET.
    charset = params.get("charset")
    if charset:
        try:
            codecs.lookup(charset)
        except LookupError:
            return _DEFAULT_CHARSET
        return charset
    return _DEFAULT_CHARSET


def parse_form(content_type: str, body: bytes) -> FormData:
    """Decode a POST or PUT body as the MAAS region's Django does.

    Args:
        content_type: The request's ``Content-Type`` ("" when absent).
        body: The raw body.

    Returns:
        The fields and files; empty for a body that is neither form type.

    Raises:
        FormDataError: A multipart body without a boundary, or a file part whose base64
            cannot be decoded.
    """
    media, params = split_content_type(content_type)
    encoding = _charset(params)
    if media == "multipart/form-data":
        boundary = params.get("boundary")
        if not boundary:
            raise FormDataError("Invalid boundary in multipart: None")
        return _parse_multipart(body, boundary.encode("latin-1"), encoding)
    if media == "application/x-www-form-urlencoded":
        text = body.decode(encoding, errors="replace")
        pairs = parse_qsl(text, keep_blank_values=True, encoding=encoding, errors="replace")
        return FormData(parse_qs(text, keep_blank_values=True, encoding=encoding,
                                 errors="replace"), {}, tuple(pairs))
    return FormData()


def _parse_multipart(body: bytes, boundary: bytes, encoding: str) -> FormData:
    values: dict[str, list[str]] = {}
    files: dict[str, list[bytes]] = {}
    items: list[tuple[str, str | bytes]] = []
    separator = b"--" + boundary
    # Django's BoundaryIter ends a part at the separator, backing over one CRLF (or LF)
    # before it; the text before the first separator and after the last is a headerless
    # part like any other and is skipped for the same reason.
    for raw in body.split(separator)[1:]:
        part = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1] if raw.endswith(b"\n") else raw
        header_end = part.find(b"\r\n\r\n")
        if header_end == -1:
            continue
        headers = _headers(part[:header_end])
        disposition = headers.get("content-disposition")
        if disposition is None:
            continue
        name = disposition.get_param("name", header="content-disposition")
        if name is None:
            continue
        field_name = email.utils.collapse_rfc2231_value(name).strip()
        content = part[header_end + 4:]
        transfer = (headers.get("content-transfer-encoding") or email.message.Message()).get(
            "content-transfer-encoding", "").strip()
        filename = disposition.get_param("filename", header="content-disposition")
        if filename is None:
            if transfer == "base64":
                # Django keeps a field whose base64 does not decode as sent.
                with contextlib.suppress(binascii.Error):
                    content = base64.b64decode(content)
            text = content.decode(encoding, errors="replace")
            values.setdefault(field_name, []).append(text)
            items.append((field_name, text))
        else:
            if transfer == "base64":
                try:
                    content = base64.b64decode(b"".join(content.split()))
                except binascii.Error as exc:
                    raise FormDataError("Could not decode base64 data.") from exc
            files.setdefault(field_name, []).append(content)
            items.append((field_name, content))
    return FormData(values, files, tuple(items))


def _headers(block: bytes) -> dict[str, email.message.Message]:
    # One Message per header name keeps get_param's quoting and RFC 2231 handling;
    # lines that are not "name: value" are skipped, as Django skips invalid headers.
    found: dict[str, email.message.Message] = {}
    for line in block.decode("utf-8", errors="replace").split("\r\n"):
        key, colon, value = line.partition(":")
        if not colon or not key.strip():
            continue
        name = key.strip().lower()
        message = email.message.Message()
        message[name] = value.strip()
        found[name] = message
    return found
