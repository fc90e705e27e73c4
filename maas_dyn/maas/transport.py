"""The transport seam: how a prepared, signed request reaches the server.

:class:`RequestsTransport` sends through a pooled ``requests.Session`` (so the
``responses`` library and vcrpy work in tests). :class:`MockTransport` hands each
request to a function, like httpx's ``MockTransport``, for tests that need no HTTP at
all. Transport failures become :mod:`maas_dyn.errors` types that say whether the
request may have reached the server (the retry policy depends on it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

import requests
from requests.adapters import HTTPAdapter

from maas_dyn._secrets import protect_urllib3_logs, redact_query
from maas_dyn.errors import ConnectionClosed, ConnectionFailed, Timeout, TransportError
from maas_dyn.maas.encode import PreparedRequest

__all__ = ["MockTransport", "RawResponse", "RequestsTransport", "TimeoutSpec", "Transport"]

TimeoutSpec = float | tuple[float, float]


class RawResponse(NamedTuple):
    """What came back, before decoding.

    Attributes:
        status: HTTP status code.
        headers: Response headers (case-insensitive).
        content: Body bytes.
    """

    status: int
    headers: Mapping[str, str] = MappingProxyType({})
    content: bytes = b""


class Transport(Protocol):
    """Sends one request and returns the raw response."""

    def send(
        self, request: PreparedRequest, authorization: str | None, timeout: TimeoutSpec
    ) -> RawResponse:
        """Send ``request`` with the given ``Authorization`` header value.

        Raises:
            ConnectionFailed: Nothing was sent (refused, DNS, TLS, connect timeout).
            ConnectionClosed: The connection broke after the request may have been sent.
            Timeout: No answer within the read timeout.
        """
        ...  # pragma: no cover - protocol

    def close(self) -> None:
        """Release connections."""
        ...  # pragma: no cover - protocol


class RequestsTransport:
    """A transport on a pooled ``requests.Session``.

    Args:
        verify: TLS verification: ``True`` (default), ``False``, or a CA bundle path.
        cert: Client certificate, as ``requests`` takes it.
        proxies: Proxies by scheme, as ``requests`` takes them.
        pool_maxsize: Connections kept per host (bulk operations run in parallel).
        session: A session to use instead of a new one.
    """

    def __init__(
        self,
        *,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: Mapping[str, str] | None = None,
        pool_maxsize: int = 32,
        session: requests.Session | None = None,
    ):
        self.session = session or requests.Session()
        protect_urllib3_logs()
        if session is None:
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_maxsize)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
        self.session.verify = verify
        if cert is not None:
            self.session.cert = cert
        if proxies:
            self.session.proxies.update(proxies)

    def send(
        self, request: PreparedRequest, authorization: str | None, timeout: TimeoutSpec
    ) -> RawResponse:
        """Send one request through the session (see :class:`Transport`)."""
        headers = dict(request.headers)
        if authorization is not None:
            headers["Authorization"] = authorization
        where = {"method": request.method, "url": request.url}
        handling = sys.exc_info()[1]  # the caller's own exception, if it calls from except:
        try:
            reply = self.session.request(
                request.method, request.url, data=request.body, headers=headers,
                timeout=timeout,
            )
        except requests.exceptions.RequestException as exc:
            _release_references(exc, stop=handling)
            error = _transport_error(exc, timeout, where)
            if error.url != request.url:
                # The cause's text quotes the secret the URL carries; a traceback would
                # print it. Ours says everything the cause does, redacted.
                raise error from None
            raise error from exc
        return RawResponse(reply.status_code, reply.headers, reply.content)

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()


def _transport_error(exc: requests.exceptions.RequestException, timeout: TimeoutSpec,
                     where: Mapping[str, str]) -> TransportError:
    method, url = where["method"], redact_query(where["url"])
    # requests' text quotes the path and query: a file key must not reach the message.
    detail = redact_query(str(exc))
    if isinstance(exc, requests.exceptions.SSLError):
        return ConnectionFailed(
            f"TLS handshake with the server failed: {detail}; pass verify='/path/to/ca.pem' "
            "for a private CA (verify=False only for testing)", method=method, url=url)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return ConnectionFailed(f"timed out connecting to the server: {detail}",
                                method=method, url=url)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        # urllib3's text names only host and port: say which request timed out (MAAS
        # URLs carry no secrets), so a bulk run's error names its machine.
        return Timeout(f"{method} {url} got no answer within {timeout} s; it may still "
                       f"have run on the server: {detail}", method=method, url=url)
    if isinstance(exc, requests.exceptions.ConnectionError) and _not_sent(exc):
        return ConnectionFailed(
            f"cannot connect to the server: {detail}; check the URL and that the "
            "server is running", method=method, url=url)
    if isinstance(exc, requests.exceptions.InvalidURL):
        return ConnectionFailed(f"invalid URL: {detail}", method=method, url=url)
    broken = (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError,
              requests.exceptions.ContentDecodingError)
    if isinstance(exc, broken):
        # Reset, closed or cut off mid-answer: the request may have reached the server.
        return ConnectionClosed(f"the connection broke before {method} {url} was answered; "
                                f"it may have run on the server: {detail}",
                                method=method, url=url)
    # Anything else requests raises: typed, and (not being ConnectionFailed) not re-sent
    # unless the method is idempotent.
    return TransportError(f"{method} {url} failed: {detail}", method=method, url=url)


# Attributes of requests/urllib3 errors that reach a connection pool or a response.
_HEAVY_ATTRIBUTES = ("pool", "response")


def _release_references(exc: BaseException, stop: BaseException | None) -> None:
    # The error is kept as the cause of ours, and callers keep errors (a bulk run keeps
    # one per failed machine). Its traceback frames and its pool/response attributes
    # keep the connection pool, and so its sockets, open for as long as that: drop them,
    # keeping types and messages. ``stop`` is the exception the caller was handling
    # (requests' errors chain to it as their context): it and what it holds are theirs.
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen or current is stop:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        attributes = vars(current)  # instance attributes only: not urllib3's alias properties
        for name in _HEAVY_ATTRIBUTES:
            if attributes.get(name) is not None:
                attributes[name] = None
        # urllib3 nests errors in args (MaxRetryError in a ConnectionError) and .reason.
        pending.extend((current.__cause__, current.__context__, getattr(current, "reason", None),
                        *current.args))


def _not_sent(exc: requests.exceptions.ConnectionError) -> bool:
    # urllib3 wraps "could not open a connection" in NewConnectionError (refused,
    # DNS); anything else (reset, remote closed) may have happened after sending.
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    reason: Any = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", reason)
    return isinstance(inner, NewConnectionError | NameResolutionError)


class MockTransport:
    """A transport that hands every request to a function (for tests).

    Args:
        handler: Called as ``handler(request, authorization)``; returns a
            :class:`RawResponse` or raises a transport error.

    Attributes:
        requests: Every ``(request, authorization)`` sent, in order.
    """

    def __init__(self, handler: Callable[[PreparedRequest, str | None], RawResponse]):
        self.handler = handler
        self.requests: list[tuple[PreparedRequest, str | None]] = []

    def send(
        self, request: PreparedRequest, authorization: str | None, timeout: TimeoutSpec
    ) -> RawResponse:
        """Record the request and return the handler's response."""
        self.requests.append((request, authorization))
        return self.handler(request, authorization)

    def close(self) -> None:
        """Nothing to release."""
