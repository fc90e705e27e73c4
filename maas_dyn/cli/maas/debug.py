"""``--debug``: each request and response on stderr, with secrets redacted.

Attached to the client's funnel hooks, so it shows what is really sent, retries
included. The ``Authorization`` header is shown as ``OAuth <redacted>``; values of
fields whose names look secret (passwords, tokens, keys) are redacted; file parts show
their size only; and as a last guard every part of the profile's API key is replaced
wherever it would appear.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TextIO

from maas_dyn._secrets import REDACTED, is_secret_name, redact_query
from maas_dyn.maas.client import Client
from maas_dyn.maas.encode import PreparedRequest
from maas_dyn.maas.response import Response

__all__ = ["DebugPrinter"]

_MAX_VALUE = 200
_MIN_SECRET = 6  # MAAS key parts are 18 and 32 characters
_NAME = re.compile(rb'\bname="([^"]*)"')
_FILENAME = re.compile(rb'\bfilename="([^"]*)"')
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?')


def _field(name: str, value: str) -> str:
    if is_secret_name(name):
        return f"{name}={REDACTED}"
    short = value if len(value) <= _MAX_VALUE else value[:_MAX_VALUE] + "…"
    return f"{name}={short}"


def _multipart_fields(body: bytes, content_type: str) -> list[str]:
    match = _BOUNDARY.search(content_type)
    if match is None:
        return [f"({len(body)} bytes)"]
    fields = []
    for part in body.split(b"--" + match.group(1).encode("ascii"))[1:-1]:
        head, _, payload = part.partition(b"\r\n\r\n")
        payload = payload.removesuffix(b"\r\n")
        name_match, file_match = _NAME.search(head), _FILENAME.search(head)
        name = name_match.group(1).decode("utf-8", "replace") if name_match else "?"
        if file_match is not None:
            fields.append(f"{name}=<file {file_match.group(1).decode('utf-8', 'replace')!r}, "
                          f"{len(payload)} bytes>")
        else:
            fields.append(_field(name, payload.decode("utf-8", "replace")))
    return fields


class DebugPrinter:
    """Prints requests (``>``) and responses (``<``) to a stream.

    Args:
        stream: Normally stderr.
        signed: Whether requests are signed (the profile has a key).
        secrets: Strings that must never be printed (the key and its parts).
    """

    def __init__(self, stream: TextIO, *, signed: bool, secrets: Sequence[str] = ()):
        self.stream = stream
        self.signed = signed
        # One pass, longest first, so a secret inside another is not half-replaced;
        # strings shorter than a real key part would only garble the output.
        real = sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True)
        self._secrets = re.compile("|".join(map(re.escape, real))) if real else None

    def attach(self, client: Client) -> None:
        """Print every request and response of ``client`` from now on."""
        client.hooks.register("before-send", self.on_request)
        client.hooks.register("after-receive", self.on_response)

    def _print(self, prefix: str, lines: Sequence[str]) -> None:
        for line in lines:
            text = line if self._secrets is None else self._secrets.sub(REDACTED, line)
            print(f"{prefix} {text}".rstrip(), file=self.stream)

    def on_request(self, *, request: PreparedRequest, attempt: int) -> None:
        """Hook for ``before-send``."""
        retry = f"  (attempt {attempt})" if attempt > 1 else ""
        lines = [f"{request.method} {redact_query(request.url)}{retry}"]
        if self.signed and not request.unsigned:
            lines.append(f"Authorization: OAuth {REDACTED}")
        lines += [f"{name}: {value}" for name, value in request.headers.items()]
        content_type = request.headers.get("Content-Type", "")
        if request.body is not None and content_type.startswith("multipart/form-data"):
            lines += ["", *_multipart_fields(request.body, content_type)]
        elif request.body is not None:
            lines += ["", f"({len(request.body)} bytes)"]
        self._print(">", lines)

    def on_response(self, *, response: Response) -> None:
        """Hook for ``after-receive``."""
        lines = [f"HTTP {response.status}  ({len(response.content)} bytes)"]
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        self._print("<", lines)
