"""File transfers over HTTP: ``POST /_upload`` and ``GET /_download/...``.

An upload is a multipart POST whose first part, ``data``, is
``{"method": ..., "params": [...]}`` and whose second part is the file; it is
authenticated with a short-lived token (``Authorization: Token ...``) and answers
``{"job_id": N}``. A download URL comes from ``core.download`` and carries its own
``auth_token`` query parameter, a secret: it is never logged, and errors show the URL
with the token redacted (urllib3's debug log of request lines is filtered too).

TLS: every request passes the session's ``verify`` explicitly, so a CA bundle path or
``False`` that the user gave is not replaced by ``REQUESTS_CA_BUNDLE`` or
``CURL_CA_BUNDLE`` (requests lets those override a session's setting). Redirects are not
followed (the token would go where the server says): a 3xx answer raises
:class:`~maas_dyn.errors.RedirectRefused`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import requests

from maas_dyn._secrets import REDACTED, protect_urllib3_logs, redact_query
from maas_dyn.errors import (
    AuthenticationError,
    ConnectionFailed,
    RedirectRefused,
    Timeout,
    TransportError,
    TrueNASAPIError,
)

__all__ = ["FileSource", "FileTarget", "download", "upload"]

_log = logging.getLogger("maas_dyn.truenas")

FileSource = str | os.PathLike[str] | IO[bytes]
FileTarget = str | os.PathLike[str] | IO[bytes]

CHUNK = 64 * 1024


def _failed(what: str, url: str, exc: requests.RequestException) -> TransportError:
    # Built from the text only: the original exception holds the secret URL.
    safe = redact_query(url)
    reason = _mask(str(exc), _secrets_of(url))
    if isinstance(exc, requests.Timeout):
        return Timeout(f"{what} {safe} timed out: {reason}", method=what, url=safe)
    return ConnectionFailed(f"{what} {safe} failed: {reason}", method=what, url=safe)


def _secrets_of(url: str) -> list[str]:
    return [v for values in parse_qs(urlsplit(url).query).values() for v in values if v]


def _mask(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return redact_query(text)


def _check(response: requests.Response, what: str, url: str, secrets: list[str]) -> None:
    if response.status_code < 300:
        return
    safe = redact_query(url)
    if response.status_code < 400:
        location = _mask(response.headers.get("Location", ""), secrets + _secrets_of(url))
        raise RedirectRefused(
            f"{what} {safe} answered with a redirect (HTTP {response.status_code}) to "
            f"{location or 'nowhere'}; file transfers do not follow redirects",
            status=response.status_code, location=location, method=what, url=safe)
    # A server may echo what it refused: mask the secrets in its answer too.
    text = _mask(response.text[:500].strip(), secrets + _secrets_of(url)) or response.reason
    if response.status_code in (401, 403):
        raise AuthenticationError(text, status=response.status_code, method=what, url=safe,
                                  hint="the transfer token was refused (expired or used)")
    raise TrueNASAPIError(text, status=response.status_code, method=what, url=safe)


@contextmanager
def _opened(source: FileSource, mode: str) -> Iterator[IO[bytes]]:
    if isinstance(source, (str, os.PathLike)):
        with open(source, mode) as handle:
            yield handle
    else:
        yield source


def upload(session: requests.Session, base: str, token: str, method: str,
           params: list[Any], *, source: FileSource, filename: str | None = None,
           timeout: float | None = None) -> int:
    """Upload a file for a method that takes one (``filesystem.put``, ...).

    Args:
        session: The HTTP session.
        base: ``https://host[:port]``.
        token: A token from ``auth.generate_token`` (sent in a header, never logged).
        method: The method to run with the file.
        params: Its parameters.
        source: A path or a binary file object.
        filename: Name sent for the file part (default: the path's name).
        timeout: Seconds for the request.

    Returns:
        The id of the job the server started.

    Raises:
        AuthenticationError: The token was refused.
        TrueNASAPIError: The server answered with an HTTP error.
        ConnectionFailed: The server could not be reached.
    """
    url = f"{base}/_upload"
    if filename is None:
        filename = Path(source).name if isinstance(source, (str, os.PathLike)) \
            else Path(str(getattr(source, "name", "upload"))).name
    data = json.dumps({"method": method, "params": params})
    error: TransportError | None = None
    with _opened(source, "rb") as handle:
        try:
            response = session.post(
                url, headers={"Authorization": f"Token {token}"}, timeout=timeout,
                verify=session.verify, allow_redirects=False,
                files=[("data", (None, data, "application/json")),
                       ("file", (filename, handle, "application/octet-stream"))])
        except requests.RequestException as exc:
            error = _failed("POST", url, exc)
    if error is not None:
        raise error
    _check(response, "POST", url, [token])
    try:
        job_id = response.json()["job_id"]
    except (ValueError, KeyError, TypeError):
        text = _mask(response.text[:200], [token])
        raise TrueNASAPIError(f"unexpected answer to an upload: {text!r}",
                              method="POST", url=url) from None
    _log.debug("uploaded %s for %s: job %s", filename, method, job_id)
    return int(job_id)


def download(session: requests.Session, base: str, path: str, target: FileTarget, *,
             timeout: float | None = None) -> int:
    """Stream a download URL from ``core.download`` into a file.

    Args:
        session: The HTTP session.
        base: ``https://host[:port]``.
        path: The ``/_download/...?auth_token=...`` path the server gave (secret).
        target: A path, or a binary file object to write to.
        timeout: Seconds for the connection and each read.

    Returns:
        The number of bytes written.

    Raises:
        AuthenticationError: The token was refused.
        TrueNASAPIError: The server answered with an HTTP error.
        ConnectionFailed: The server could not be reached.
    """
    protect_urllib3_logs()
    url = path if "://" in path else base + path
    written = 0
    error: TransportError | None = None
    try:
        with session.get(url, stream=True, timeout=timeout, verify=session.verify,
                         allow_redirects=False) as response:
            _check(response, "GET", url, [])
            with _opened(target, "wb") as handle:
                for chunk in response.iter_content(CHUNK):
                    handle.write(chunk)
                    written += len(chunk)
    except requests.RequestException as exc:
        error = _failed("GET", url, exc)
    if error is not None:
        raise error
    _log.debug("downloaded %d bytes from %s", written, redact_query(url))
    return written
