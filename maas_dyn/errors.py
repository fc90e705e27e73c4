"""One exception tree for both servers.

Every error maas_dyn raises on purpose derives from :class:`MaasDynError`. Errors that
the server answered derive from :class:`APIError` and carry the HTTP status (MAAS) or the
JSON-RPC code (TrueNAS), the server's own message, and the request that failed with its
secrets removed. Names a user of the original specification looks for exist here:
:class:`MAASAPIError`, :class:`AuthenticationError`, :class:`MachineNotFoundError` and
:class:`TrueNASAPIError`.

Where a Python built-in exception describes the situation too, the error also derives
from it (``AttributeError`` for unknown names so ``hasattr`` works, ``TimeoutError``,
``ConnectionError``, ``ValueError`` for bad configuration), so generic handlers keep
working.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "CallError",
    "Cancelled",
    "ConfigurationError",
    "ConflictError",
    "ConnectionClosed",
    "ConnectionFailed",
    "DescriptionError",
    "ForbiddenError",
    "GatewayTimeoutError",
    "GoneError",
    "InvalidAPIKeyError",
    "InvalidParametersError",
    "InvalidURLError",
    "JobFailed",
    "JobValidationFailed",
    "LimitExceeded",
    "MAASAPIError",
    "MaasDynError",
    "MachineNotFoundError",
    "MethodNotFound",
    "NotAServerError",
    "NotFoundError",
    "RedirectRefused",
    "ServiceUnavailableError",
    "Timeout",
    "TooManyConcurrentCalls",
    "TransportError",
    "TrueNASAPIError",
    "UnauthorizedError",
    "UnknownActionError",
    "UnknownHandlerError",
    "UnknownMethodError",
    "UnknownNameError",
    "UnsafeSelectionError",
    "ValidationError",
    "WaiterError",
    "WaiterTimeoutError",
]


class MaasDynError(Exception):
    """Base of every error maas_dyn raises on purpose."""


# --- configuration and description ---------------------------------------------------


class ConfigurationError(MaasDynError, ValueError):
    """The client was given something it cannot work with (before any request)."""


class InvalidURLError(ConfigurationError):
    """The server URL cannot be used (no scheme, unsupported scheme, no host)."""


class InvalidAPIKeyError(ConfigurationError):
    """An API key is malformed; MAAS keys look like ``consumer:token:secret``."""


class DescriptionError(MaasDynError):
    """A server description (describe document, get_methods reply) cannot be used."""


class NotAServerError(DescriptionError):
    """The URL answered, but not like the expected server (e.g. an HTML page)."""


class UnknownNameError(MaasDynError, AttributeError):
    """A name the server's description does not contain (``hasattr`` sees it as missing).

    Attributes:
        name: The name asked for.
        suggestions: Close valid names, best first.
    """

    def __init__(self, message: str, *, name: str = "", suggestions: Sequence[str] = ()):
        super().__init__(message)
        self.name = name
        self.suggestions = tuple(suggestions)


class UnknownHandlerError(UnknownNameError):
    """A MAAS handler name that the server's description does not contain."""


class UnknownActionError(UnknownNameError):
    """An action name that the handler does not have in this server's description."""


class UnknownMethodError(UnknownNameError):
    """A TrueNAS method or namespace name that ``core.get_methods`` did not list."""


class InvalidParametersError(MaasDynError, TypeError):
    """Parameters rejected on the client side, before anything was sent.

    Attributes:
        errors: Every problem found, as ``{parameter: [message, ...]}``.
    """

    def __init__(self, message: str, *, errors: Mapping[str, Sequence[str]] | None = None):
        super().__init__(message)
        self.errors = {key: list(value) for key, value in (errors or {}).items()}


# --- transport -------------------------------------------------------------------------


class TransportError(MaasDynError):
    """The request could not be completed on the network.

    Attributes:
        method: HTTP method or JSON-RPC method name, when known.
        url: The target URL with secrets removed, when known.
    """

    def __init__(self, message: str, *, method: str = "", url: str = ""):
        super().__init__(message)
        self.method = method
        self.url = url


class ConnectionFailed(TransportError, ConnectionError):
    """No connection could be made (refused, DNS failure, TLS failure)."""


class ConnectionClosed(TransportError, ConnectionError):
    """The connection was lost while a call was in flight; the call was not re-sent."""


class Timeout(TransportError, TimeoutError):
    """No answer arrived within the timeout."""


class LimitExceeded(TransportError):
    """A reply broke one of the client's documented limits (size, count or depth).

    The limits guard the process against a hostile or broken server: an endless body, a
    decompression bomb, a frame that claims terabytes, an event flood. Each has a default
    and a keyword that raises it (see the manual's "Limits and deadlines" table).

    Attributes:
        limit: The limit's name, as the keyword that sets it (e.g. ``max_body_bytes``).
        value: The limit in force.
    """

    def __init__(self, message: str, *, limit: str, value: float, method: str = "",
                 url: str = ""):
        super().__init__(message, method=method, url=url)
        self.limit = limit
        self.value = value


class RedirectRefused(TransportError):
    """The server redirected where the client will not follow with the user's credentials.

    Raised for a redirect that would downgrade ``https``/``wss`` to clear text, change
    origin with a body or credentials, or lacks a usable ``Location``.

    Attributes:
        status: The redirect's HTTP status.
        location: Where it pointed, with secrets removed ("" when absent).
    """

    def __init__(self, message: str, *, status: int, location: str = "", method: str = "",
                 url: str = ""):
        super().__init__(message, method=method, url=url)
        self.status = status
        self.location = location



# --- answers from the server -------------------------------------------------------------


class APIError(MaasDynError):
    """The server answered with an error.

    Attributes:
        status: HTTP status (MAAS) or JSON-RPC error code (TrueNAS).
        message: The server's own message, as text.
        method: HTTP method or JSON-RPC method name.
        url: Request URL with secrets removed.
        hint: What to do about it, when there is something to say.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        method: str = "",
        url: str = "",
        hint: str = "",
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.method = method
        self.url = url
        self.hint = hint

    def __str__(self) -> str:
        where = f" ({self.method} {self.url})" if self.method or self.url else ""
        code = f"{self.status}: " if self.status else ""
        hint = f"; {self.hint}" if self.hint else ""
        return f"{code}{self.message or 'no message'}{where}{hint}"


class AuthenticationError(APIError):
    """The server refused the credentials (MAAS 401, TrueNAS login failure)."""


class MAASAPIError(APIError):
    """Base of every error a MAAS region answered.

    Attributes:
        headers: Response headers (a plain dict).
        content: Raw response body, as bytes.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        method: str = "",
        url: str = "",
        hint: str = "",
        headers: Mapping[str, str] | None = None,
        content: bytes = b"",
    ):
        super().__init__(message, status=status, method=method, url=url, hint=hint)
        self.headers = dict(headers or {})
        self.content = content


class BadRequestError(MAASAPIError):
    """HTTP 400: the server rejected the parameters.

    Attributes:
        field_errors: ``{field: [message, ...]}`` when the server sent JSON, else ``{}``.
    """

    def __init__(self, message: str, *, field_errors: Mapping[str, Sequence[str]] | None = None,
                 **kwargs: Any):
        super().__init__(message, **kwargs)
        self.field_errors = {key: list(value) for key, value in (field_errors or {}).items()}


class UnauthorizedError(MAASAPIError, AuthenticationError):
    """HTTP 401: the API key is unknown, revoked, or its signature was rejected."""


class ForbiddenError(MAASAPIError):
    """HTTP 403: the user may not do this (e.g. an admin-only action)."""


class NotFoundError(MAASAPIError):
    """HTTP 404: no such object (or no such path on this release)."""


class MachineNotFoundError(NotFoundError):
    """HTTP 404 from a machine handler: no machine with that system_id."""


class ConflictError(MAASAPIError):
    """HTTP 409: the object is locked or busy; ``retry_after`` says when to retry."""

    @property
    def retry_after(self) -> str | None:
        """The server's ``Retry-After`` header, if it sent one."""
        return self.headers.get("Retry-After")


class GoneError(MAASAPIError):
    """HTTP 410: this endpoint was removed in the server's release."""


class ServiceUnavailableError(MAASAPIError):
    """HTTP 503: the region is busy or starting; retry after ``Retry-After`` seconds."""


class GatewayTimeoutError(MAASAPIError):
    """HTTP 504: a proxy or the region timed out."""


# --- TrueNAS -----------------------------------------------------------------------------


class TrueNASAPIError(APIError):
    """Base of every error a TrueNAS middleware answered over JSON-RPC.

    Attributes:
        data: The ``error.data`` object of the reply, if any.
    """

    def __init__(self, message: str, *, data: Any = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.data = data


class MethodNotFound(TrueNASAPIError):
    """JSON-RPC -32601: the server has no such method."""


class TooManyConcurrentCalls(TrueNASAPIError):
    """JSON-RPC -32000: more calls in flight than the server accepts per connection."""


class ValidationError(TrueNASAPIError):
    """JSON-RPC -32602 (or a failed job's validation): invalid parameters.

    Attributes:
        errors: ``[(attribute, message, errno), ...]``, every invalid field.
    """

    def __init__(self, message: str, *, errors: Sequence[tuple[str, str, int]] = (),
                 **kwargs: Any):
        super().__init__(message, **kwargs)
        self.errors = [tuple(item) for item in errors]


class CallError(TrueNASAPIError):
    """JSON-RPC -32001: the method ran and failed.

    Attributes:
        errname: Symbolic errno name, e.g. ``ENOENT``.
        reason: The server's reason text.
        trace: The server's traceback, kept but not printed by default.
    """

    def __init__(self, message: str, *, errname: str = "", reason: str = "",
                 trace: Any = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.errname = errname
        self.reason = reason
        self.trace = trace


class JobFailed(CallError):
    """A TrueNAS job ended FAILED or ABORTED.

    Attributes:
        job_id: The job's id.
        state: ``FAILED`` or ``ABORTED``.
    """

    def __init__(self, message: str, *, job_id: int = 0, state: str = "FAILED", **kwargs: Any):
        super().__init__(message, **kwargs)
        self.job_id = job_id
        self.state = state


class JobValidationFailed(JobFailed, ValidationError):
    """A TrueNAS job ended FAILED because its parameters were invalid (``errors`` lists them)."""


# --- selecting and stopping bulk work ----------------------------------------------------


class UnsafeSelectionError(MaasDynError):
    """A selection by filters cannot be trusted, so nothing was done with it.

    The server returned objects that do not match the filters sent (it ignored a filter or
    read it differently), or a filter it does not document cannot be checked on them.

    Attributes:
        filters: The filters, as ``{key: [value, ...]}``.
    """

    def __init__(self, message: str, *, filters: Mapping[str, Sequence[str]] | None = None):
        super().__init__(message)
        self.filters = {key: list(value) for key, value in (filters or {}).items()}


class Cancelled(MaasDynError):
    """Work on one target stopped before it finished because the run was interrupted.

    Attributes:
        sent: Whether the request that changes the target went out: ``True`` when it was
            accepted or its outcome is unknown (do not repeat it blindly), ``False`` when
            nothing was sent.
        last_state: The target's state when last seen ("" when never seen).
    """

    def __init__(self, message: str, *, sent: bool = False, last_state: str = ""):
        super().__init__(message)
        self.sent = sent
        self.last_state = last_state


# --- waiting ----------------------------------------------------------------------------


class WaiterError(MaasDynError):
    """A waiter stopped before success: a failure state or its timeout.

    Attributes:
        last_state: The last state the object was seen in.
        reason: ``"failure"`` or ``"timeout"``.
        result: The last result polled (e.g. the machine), if any.
        elapsed: Seconds waited.
    """

    def __init__(self, message: str, *, last_state: str = "", reason: str = "failure",
                 result: Any = None, elapsed: float = 0.0):
        super().__init__(message)
        self.last_state = last_state
        self.reason = reason
        self.result = result
        self.elapsed = elapsed


class WaiterTimeoutError(WaiterError, TimeoutError):
    """A waiter's timeout passed before success (``reason == "timeout"``).

    Also a ``TimeoutError``, so ``except TimeoutError`` catches a wait that ran out as it
    catches a network timeout.
    """
