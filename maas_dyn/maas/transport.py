"""The transport seam: how a prepared, signed request reaches the server.

:class:`RequestsTransport` sends through a pooled ``requests.Session`` (so the
``responses`` library and vcrpy work in tests). :class:`MockTransport` hands each
request to a function, like httpx's ``MockTransport``, for tests that need no HTTP at
all. Transport failures become :mod:`maas_dyn.errors` types that say whether the
request may have reached the server (the retry policy depends on it).
"""

from __future__ import annotations

import http.client
import sys
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

import requests

from maas_dyn._secrets import protect_urllib3_logs, redact_query
from maas_dyn.errors import (
    ConnectionClosed,
    ConnectionFailed,
    LimitExceeded,
    Timeout,
    TransportError,
)
from maas_dyn.maas import _deadline
from maas_dyn.maas.encode import PreparedRequest

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_HEADER_BYTES",
    "MockTransport",
    "RawResponse",
    "RequestsTransport",
    "TimeoutSpec",
    "Transport",
]

TimeoutSpec = float | tuple[float, float]

# Seconds one exchange (connect + status + headers + the whole body) may take. A
# describe document of ~1 MB takes well under a second on a LAN; a slow WAN link and a
# busy region stay far below this.
DEFAULT_DEADLINE = 300.0
# Bytes of a body after decompression. A machines listing of a large region runs to
# tens of MB; a gzip bomb (1 MB on the wire, 1 GB inflated) is refused at this size.
DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024
# Bytes of all response header names and values together (real MAAS answers carry
# under 2 KiB). http.client also refuses any line over 64 KiB and over 100 headers.
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
_CHUNK = 64 * 1024


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

    Redirects are not followed here: the client's funnel decides, so that a redirect
    is signed afresh and never carries a body or credentials to another origin.

    Every exchange is bounded (see ``docs/limits.md``): a total deadline for connect,
    headers and the whole body, a header size and a body size after decompression.

    Args:
        verify: TLS verification: ``True`` (default), ``False``, or a CA bundle path.
            ``False`` or a path wins over ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``;
            with ``True`` those variables (if set) name the trusted CAs, as in requests.
        cert: Client certificate, as ``requests`` takes it.
        proxies: Proxies by scheme, as ``requests`` takes them.
        pool_maxsize: Connections kept per host (bulk operations run in parallel).
        session: A session to use instead of a new one (its adapters are kept, so the
            deadline then cuts only the body phase, checked between reads).
        deadline: Seconds one exchange may take in total.
        max_body_bytes: Largest body accepted, after decompression.
        max_header_bytes: Largest total size of the response headers.
    """

    def __init__(
        self,
        *,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: Mapping[str, str] | None = None,
        pool_maxsize: int = 32,
        session: requests.Session | None = None,
        deadline: float = DEFAULT_DEADLINE,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    ):
        self.session = session or requests.Session()
        protect_urllib3_logs()
        if session is None:
            adapter = _deadline.WatchedAdapter(pool_connections=4, pool_maxsize=pool_maxsize)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
        self.session.verify = verify
        self.verify = verify
        self.deadline = deadline
        self.max_body_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes
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
        ticket = _deadline.arm(self.deadline)
        try:
            # verify= per request: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE win
            # over session.verify (trust_env), but not over an explicit argument.
            # stream=True: the body is read here, bounded in size and time.
            reply = self.session.request(
                request.method, request.url, data=request.body, headers=headers,
                timeout=timeout, allow_redirects=False, stream=True, verify=self.verify,
            )
            try:
                self._check_headers(reply, where)
                content = self._read_body(reply, ticket, where)
            finally:
                reply.close()
        except requests.exceptions.RequestException as exc:
            _release_references(exc, stop=handling)
            error = _transport_error(exc, timeout, where, self._limits(ticket))
            if error.url != request.url:
                # The cause's text quotes the secret the URL carries; a traceback would
                # print it. Ours says everything the cause does, redacted.
                raise error from None
            raise error from exc
        except TransportError:
            raise
        except (ValueError, LookupError, OSError, http.client.HTTPException) as exc:
            # What urllib3/http.client let through on a malformed answer (a negative
            # chunk size is a ValueError): typed, without the library's traceback.
            _release_references(exc, stop=handling)
            error = _transport_error(exc, timeout, where, self._limits(ticket))
            raise error from None
        finally:
            _deadline.disarm(ticket)
        return RawResponse(reply.status_code, reply.headers, content)

    def _limits(self, ticket: _deadline.Ticket) -> dict[str, float | bool]:
        return {"expired": ticket.expired, "deadline": self.deadline,
                "max_header_bytes": self.max_header_bytes}

    def _check_headers(self, reply: requests.Response, where: Mapping[str, str]) -> None:
        size = sum(len(k) + len(v) + 4 for k, v in reply.headers.items())
        if size > self.max_header_bytes:
            raise _limit("max_header_bytes", self.max_header_bytes,
                         f"the response headers are {size} bytes", where)

    def _read_body(self, reply: requests.Response, ticket: _deadline.Ticket,
                   where: Mapping[str, str]) -> bytes:
        limit = self.max_body_bytes
        declared = reply.headers.get("Content-Length", "")
        if declared.isdigit() and "Content-Encoding" not in reply.headers \
                and int(declared) > limit:
            raise _limit("max_body_bytes", limit,
                         f"the server announced a body of {declared} bytes", where)
        parts: list[bytes] = []
        size = 0
        # urllib3 (>= 2.6) inflates at most about one chunk per read, so a compressed
        # bomb is stopped here at the limit, not after inflating all of it; requests'
        # iter_content turns urllib3's errors into its own, which are mapped below.
        for chunk in reply.iter_content(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise _limit("max_body_bytes", limit,
                             f"the body (after decompression) exceeds {limit} bytes", where)
            parts.append(chunk)
            if ticket.expired:  # the watchdog cut the socket; a late chunk still counts
                break
        if ticket.expired:
            raise Timeout(_deadline_message(where, self.deadline),
                          method=where["method"], url=redact_query(where["url"]))
        return b"".join(parts)

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()


def _limit(name: str, value: int, what: str, where: Mapping[str, str]) -> LimitExceeded:
    method, url = where["method"], redact_query(where["url"])
    return LimitExceeded(
        f"{method} {url}: {what}, over the limit {name}={value}; if the server is "
        f"trusted and the answer legitimately larger, raise it: Client(..., {name}=N)",
        limit=name, value=value, method=method, url=url)


def _deadline_message(where: Mapping[str, str], deadline: float) -> str:
    return (f"{where['method']} {redact_query(where['url'])} did not complete within the "
            f"deadline of {deadline} s (connect, headers and body together); it may have "
            "run on the server. For a slow link raise it: Client(..., deadline=SECONDS)")


def _header_overflow(exc: BaseException) -> bool:
    # http.client refuses a line over 64 KiB (LineTooLong) and more than 100 headers.
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, http.client.LineTooLong) or (
                isinstance(current, http.client.HTTPException)
                and "more than" in str(current) and "headers" in str(current)):
            return True
        pending.extend((current.__cause__, current.__context__,
                        getattr(current, "reason", None), *current.args))
    return False


def _transport_error(exc: BaseException, timeout: TimeoutSpec,
                     where: Mapping[str, str],
                     limits: Mapping[str, float | bool] | None = None) -> TransportError:
    method, url = where["method"], redact_query(where["url"])
    # requests' text quotes the path and query: a file key must not reach the message.
    detail = redact_query(str(exc))
    if limits is not None and limits["expired"]:
        return Timeout(_deadline_message(where, float(limits["deadline"])),
                       method=method, url=url)
    if limits is not None and _header_overflow(exc):
        return _limit("max_header_bytes", int(limits["max_header_bytes"]),
                      f"the response headers are too large ({detail})", where)
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
    # Not requests' (whose errors are OSErrors too): what http.client lets through.
    unwrapped = (ValueError, OSError, http.client.HTTPException)
    if isinstance(exc, broken) or (
            isinstance(exc, unwrapped)
            and not isinstance(exc, requests.exceptions.RequestException)):
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
